// 2.98's image.properties: what Nova keeps of the image a server was built (or rebuilt) from. Nova copies
// every image property into the instance's system_metadata as `image_<key>` (utils.py
// get_system_metadata_from_image: str(value) cut to 255 characters, Glance's block device mappings
// skipped) and the view (views/servers.py _get_image) shows those whose key is one of ImageMetaProps'
// fields or their legacy names (objects/image_meta.py), non-null. Jacket keeps the result on the server
// record at create and rebuild, so the detail list reads no image; an older record's is read from its
// image once per image (loadImageProperties).
import type { RequestContext } from '../../http/router';
import { imageStore } from '../../image/model';
import type { ServerRecord } from './model';

// prettier-ignore
const IMAGE_META_PROPS = new Set([
  // ImageMetaProps.fields
  'hw_architecture', 'hw_emulation_architecture', 'hw_auto_disk_config', 'hw_boot_menu', 'hw_cdrom_bus', 'hw_cpu_cores', 'hw_cpu_sockets',
  'hw_cpu_max_cores', 'hw_cpu_max_sockets', 'hw_cpu_max_threads', 'hw_cpu_policy', 'hw_cpu_thread_policy', 'hw_cpu_realtime_mask', 'hw_cpu_threads',
  'hw_device_id', 'hw_disk_bus', 'hw_disk_type', 'hw_floppy_bus', 'hw_firmware_type', 'hw_firmware_stateless', 'hw_input_bus', 'hw_ipxe_boot',
  'hw_locked_memory', 'hw_machine_type', 'hw_mem_encryption', 'hw_mem_encryption_model', 'hw_mem_page_size', 'hw_numa_nodes', 'hw_numa_cpus',
  'hw_numa_mem', 'hw_pci_numa_affinity_policy', 'hw_pointer_model', 'hw_pmu', 'hw_qemu_guest_agent', 'hw_rescue_bus', 'hw_rescue_device',
  'hw_rng_model', 'hw_time_hpet', 'hw_serial_port_count', 'hw_scsi_model', 'hw_video_model', 'hw_video_ram', 'hw_vif_model', 'hw_viommu_model',
  'hw_vm_mode', 'hw_watchdog_action', 'hw_vif_multiqueue_enabled', 'hw_tpm_model', 'hw_tpm_version', 'hw_ephemeral_encryption',
  'hw_ephemeral_encryption_format', 'hw_ephemeral_encryption_secret_uuid', 'hw_virtio_packed_ring', 'hw_maxphysaddr_mode', 'hw_maxphysaddr_bits',
  'hw_sound_model', 'hw_usb_model', 'hw_redirected_usb_ports', 'img_bittorrent', 'img_bdm_v2', 'img_block_device_mapping', 'img_cache_in_nova',
  'img_compression_level', 'img_hv_requested_version', 'img_hv_type', 'img_config_drive', 'img_linked_clone', 'img_mappings', 'img_owner_id',
  'img_root_device_name', 'img_use_agent', 'img_version', 'img_signature', 'img_signature_hash_method', 'img_signature_certificate_uuid',
  'img_signature_key_type', 'img_hide_hypervisor_id', 'os_admin_user', 'os_command_line', 'os_distro', 'os_require_quiesce', 'os_secure_boot',
  'os_skip_agent_inject_files_at_boot', 'os_skip_agent_inject_ssh', 'os_type', 'traits_required',
  // ImageMetaProps._legacy_property_map
  'architecture', 'owner_id', 'vmware_disktype', 'vmware_image_version', 'vmware_ostype', 'auto_disk_config', 'ipxe_boot', 'xenapi_device_id',
  'xenapi_image_compression_level', 'vmware_linked_clone', 'xenapi_use_agent', 'xenapi_skip_agent_inject_ssh',
  'xenapi_skip_agent_inject_files_at_boot', 'cache_in_nova', 'vm_mode', 'bittorrent', 'mappings', 'block_device_mapping', 'bdm_v2',
  'root_device_name', 'hypervisor_version_requires', 'hypervisor_type',
]);

/** utils.py SM_SKIP_KEYS: Glance's structured mappings, never copied into system_metadata. */
const SKIPPED = new Set(['mappings', 'block_device_mapping', 'img_mappings', 'img_block_device_mapping']);

/** oslo's safe_truncate(value, 255): at most 255 UTF-8 bytes, whole characters only. */
function truncate255(v: string): string {
  if (Buffer.byteLength(v, 'utf8') <= 255) return v;
  let bytes = 0;
  let out = '';
  for (const ch of v) {
    bytes += Buffer.byteLength(ch, 'utf8');
    if (bytes > 255) break;
    out += ch;
  }
  return out;
}

/** The image properties 2.98 shows, from an image's Glance properties (Jacket's azure_* ones are not Nova's, so never). */
export function novaImageProperties(props: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(props)) {
    if (!IMAGE_META_PROPS.has(k) || SKIPPED.has(k) || v === null || v === undefined) continue;
    // str(value) cut to 255 (safe_truncate counts UTF-8 bytes and cuts only whole characters).
    out[k] = truncate255(typeof v === 'string' ? v : typeof v === 'boolean' ? (v ? 'True' : 'False') : JSON.stringify(v));
  }
  return out;
}

/**
 * The properties of the images of records written before Jacket kept them (no `image_properties`), by
 * image id, read once per image: Nova's system_metadata outlives the image, so a deleted image's record
 * is read too; an image gone altogether shows none.
 */
export async function loadImageProperties(ctx: RequestContext, recs: ServerRecord[]): Promise<Map<string, Record<string, string>> | undefined> {
  if (!ctx.microversion?.atLeast('2.98')) return undefined;
  const ids = [...new Set(recs.filter((r) => r.image_id && r.image_properties === undefined).map((r) => r.image_id))];
  if (ids.length === 0) return undefined;
  const store = imageStore(ctx.services);
  const found = await Promise.all(
    ids.map(async (id) => {
      const img = (await store.visible(ctx.auth!, id))?.image ?? (await store.getAny(id))?.value;
      return [id, novaImageProperties(img?.properties ?? {})] as const;
    }),
  );
  return new Map(found);
}
