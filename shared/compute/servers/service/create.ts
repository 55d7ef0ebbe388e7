// The servers service's create (nova/compute/api.py create at 2.1); the controller is ../api/servers.ts.
// Everything that can be refused is checked first: body, flavor, image, key pair, networks, security
// groups, zone, adminPass (Azure's rules), Nova quotas. Then, per server: the record (BUILD), its port
// records, the instance action and the build on the work queue — and the answer, 202, with no Azure
// call at all. The NIC and VM PUTs run as the build's steps (build.ts); Azure's own refusals (its
// regional vCPU quota, capacity) become the server's fault. The admin password travels sealed in the
// work item (shared/work/seal.ts) to the VM PUT, and is never written to a table.
import { randomBytes, randomUUID } from 'node:crypto';
import type { RequestContext } from '../../../http/router';
import type { Services } from '../../../services';
import { badRequest, conflict, forbidden } from '../../../http/errors';
import { OverQuota } from '../../../quota/ledger';
import { networkLedger, networkQuota } from '../../../network/quotas';
import { isAdmin } from '../../../api/policy';
import { projectOf } from '../../common';
import { computeHost } from '../../../servicegroup/registry';
import { getFlavor, visibleTo, vmSizeOf, type FlavorRecord } from '../../flavors/store';
import { checkAbsolute, commitServers, reserveInstances, rollbackServers } from '../../quotas/engine';
import { availabilityZones, zoneByName, type AvailabilityZone } from '../../zones/api';
import { imageStore, type ImageRecord } from '../../../image/model';
import { defaultNetworks, ipv4ToInt, parseCidr, type NetworkDef, type SecurityGroupDef } from '../../../network/catalog';
import { allNetworks } from '../../../network/projectNetworkStore';
import { portStore, type PortRecord } from '../../../network/ports';
import { usableSecurityGroups } from '../../../network/securityGroupStore';
import { checkSet, nicSecurity, type NicSecurity } from '../../../network/securityGroupSets';
import { portNicName } from '../../../network/portService';
import { canonicalIpv6, truthy, type CreateServerBody } from '../schemas';
import { insertServer, novaTime, removeServer, getServerAny, POWER, type ServerRecord, type ServerNic } from '../model';
import { adminUsername, checkAdminPass, generatePassword, type OsType } from '../passwords';
import { nicName, osDiskName, type ImageReference } from '../../../azure/vms';
import { seal } from '../../../work/seal';
import { startWork } from '../../../work/ledger';
import { ACTION, startAction, type ActionRef } from '../instanceActions';
import { isSnapshotImage } from '../../../image/snapshotImage';
import { BUILD_KIND, type BuildData } from '../work/build';
import { recordUsageStart } from '../../usage/api';
import {
  bootVolumeRequest,
  checkVolumeTypes,
  checkImageVolumeSize,
  imageVolumeRequest,
  reserveBootVolume,
  makeVolumesAtBoot,
  releaseMadeVolumes,
  reserveExtraVolumes,
  resolveBootVolume,
  resolveExtraVolumes,
  resolveSnapshotBoot,
  snapshotVolumeRequest,
  splitExtraVolumes,
  unreserveBootVolume,
  unreserveExtraVolumes,
  withBootVolume,
  withExtraVolumes,
  type BootVolume,
  type SnapshotBoot,
} from '../bootVolume';
import { BOOT_VOLUME_KIND } from '../work/volumeAttach';
import { withVolumes } from '../volumes';
import { volumeApi, type VolumeRecord } from '../../../volume/computeApi';
import { saveUserData } from '../userData';
import { computerName } from '../../../azure/vms';
import { novaImageProperties } from '../imageMeta';
import { joinGroup, leaveGroup, resolveGroupHint } from '../../serverGroups/service';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

// ---- flavor, image, key pair ----

async function resolveFlavor(ctx: RequestContext, ref: string): Promise<FlavorRecord & { vm_size: string }> {
  const f = await getFlavor(ctx.services, ref);
  if (!f || !visibleTo(f.value, ctx.auth) || f.value.disabled) throw badRequest(`Flavor ${ref} could not be found.`);
  const size = vmSizeOf(f.value);
  if (!size) throw badRequest(`Flavor ${ref} has no azure:vm_size extra spec and cannot boot a server on Azure.`);
  return { ...f.value, vm_size: size };
}

export interface ResolvedImage {
  image: ImageRecord;
  reference: ImageReference;
  os: OsType;
  /** A server snapshot image: the Azure snapshot whose copy becomes the OS disk (build.ts disk steps). */
  snapshot?: string;
}

const GiB = 1024 ** 3;

export async function resolveImage(ctx: RequestContext, id: string, flavor: Pick<FlavorRecord, 'root_gb' | 'memory_mb'>): Promise<ResolvedImage> {
  const found = await imageStore(ctx.services).visible(ctx.auth!, id);
  if (!found) throw badRequest('Can not find requested image');
  const img = found.image;
  if (img.status !== 'active') throw badRequest(`Image ${id} is not active.`);
  const p = img.properties;
  let reference: ImageReference;
  if (p.azure_type === 'marketplace' && p.azure_publisher && p.azure_offer && p.azure_sku) {
    reference = { publisher: p.azure_publisher, offer: p.azure_offer, sku: p.azure_sku, version: p.azure_version || 'latest' };
  } else if (img.managedImageId) {
    reference = { id: img.managedImageId };
  } else if (isSnapshotImage(img)) {
    reference = { id: p.azure_uri };
  } else {
    throw badRequest(`Image ${id} cannot boot a server on Azure: it has no marketplace reference or managed image.`);
  }
  // nova/compute/api.py _validate_flavor_image_nostatus
  if (flavor.root_gb > 0 && img.min_disk > flavor.root_gb) {
    throw badRequest(`Flavor's disk is too small for requested image. Flavor disk is ${flavor.root_gb * GiB} bytes, minimum size is ${img.min_disk * GiB} bytes.`);
  }
  if (img.min_ram > flavor.memory_mb) throw badRequest("Flavor's memory is too small for requested image.");
  const os = (p.azure_os_type ?? p.os_type ?? 'linux').toLowerCase() === 'windows' ? 'windows' : 'linux';
  return { image: img, reference, os, ...(isSnapshotImage(img) ? { snapshot: p.azure_uri } : {}) };
}

/**
 * The caller's key pair (os-keypairs keeps them per user: table 'keypairs', partition = user id): its
 * OpenSSH key for the VM. An x509 key pair (2.2) is a WinRM client certificate, which Nova only hands to
 * the guest through its metadata service; Azure takes SSH keys only, so the server boots without it.
 */
export async function keypairPublicKey(s: Services, userId: string, name: string): Promise<string | undefined> {
  const row = await s.tables.repository<{ public_key: string; type?: string }>('keypairs').get(encodeURIComponent(userId), name);
  if (!row) throw badRequest('Invalid key_name provided.');
  return row.value.type === 'x509' ? undefined : row.value.public_key;
}

// ---- networks and security groups ----

interface RequestedNic {
  network: NetworkDef;
  fixedIp?: string;
  /** A port the user made (networks: [{port}]): its NIC is taken as it is. */
  port?: PortRecord;
}

/** A fixed IP must be an address the subnet hands out (inside an allocation pool: Azure reserves the rest). */
function checkFixedIp(net: NetworkDef, ip: string): void {
  const c = parseCidr(net.subnet.cidr);
  const n = ipv4ToInt(ip);
  const inPool = c && n !== undefined && net.subnet.allocation_pools.some((p) => n >= ipv4ToInt(p.start)! && n <= ipv4ToInt(p.end)!);
  if (!inPool) throw badRequest(`IP address ${ip} is not a valid IP for the specified subnet.`);
}

/**
 * The NICs to make or take. Empty only for `networks: "none"` (2.37): the server then gets no port, and
 * the NIC an Azure VM needs is an isolated one outside Neutron (launch).
 */
async function resolveNetworks(ctx: RequestContext, requested: CreateServerBody['server']['networks'], maxCount: number): Promise<RequestedNic[]> {
  const projectId = projectOf(ctx);
  // The operator's networks and the project networks the caller may use (shared/network/projectNetworkStore.ts).
  const all = await allNetworks(ctx.services, { projectId, admin: isAdmin(ctx.auth!) });
  const usable = (n: NetworkDef) => n.shared || n.project_id === projectId || isAdmin(ctx.auth!);
  if (requested === 'none') return [];
  if (!requested || requested === 'auto' || requested.length === 0) {
    // neutron.py _ports_needed_per_instance: the one network available to the project, as when omitted.
    const nets = defaultNetworks(all, projectId);
    if (nets.length > 1) throw conflict('Multiple possible networks found, use a Network ID to be more specific.');
    // None and "auto": Nova would have Neutron's auto-allocated-topology make one; Jacket's Neutron has
    // no such extension, so _can_auto_allocate_network is false (UnableToAutoAllocateNetwork, 400).
    if (nets.length === 0 && requested === 'auto') throw badRequest(`Unable to automatically allocate a network for project ${projectId}`);
    if (nets.length === 0) throw badRequest('No network is available to this project: a server on Azure needs one.');
    return [{ network: nets[0] }];
  }
  const out: RequestedNic[] = [];
  for (const r of requested) {
    if (r.port) {
      if (maxCount > 1) {
        throw badRequest('Failed to launch instances: Unable to launch multiple instances with a single configured port ID. Please launch your instance one by one with different ports.');
      }
      const port = await portStore(ctx.services).get(projectId, r.port.toLowerCase());
      if (!port) throw badRequest(`Port ${r.port} could not be found.`);
      if (port.device_id || !port.user_made || !port.azureNicId) throw conflict(`Port ${r.port} is still in use.`);
      if (out.some((o) => o.port?.id === port.id)) throw badRequest(`Port ${r.port} is requested twice.`);
      const net = all.find((n) => n.id === port.network_id);
      if (!net) throw badRequest(`Network ${port.network_id} could not be found.`);
      out.push({ network: net, port });
      continue;
    }
    const id = r.uuid;
    if (!id || !UUID.test(id)) throw badRequest(`Bad networks format: network uuid is not in proper format (${id ?? ''})`);
    const net = all.find((n) => n.id === id.toLowerCase());
    // Nova boots on an external network only where it is shared; on Azure it has no subnet at all.
    if (net?.['router:external']) throw badRequest(`Network ${id} is an external network (Azure's public addresses): boot on an internal network and add a floating IP.`);
    if (!net || !usable(net)) throw badRequest(`Network ${id} could not be found.`);
    if (r.fixed_ip) {
      if (maxCount > 1) throw badRequest('Failed to launch instances: max_count cannot be greater than 1 if an fixed_ip is specified.');
      checkFixedIp(net, r.fixed_ip);
      const taken = (await portStore(ctx.services).listAll({ network_id: [net.id] }, 1000)).find((p) => p.fixed_ips.some((f) => f.ip_address === r.fixed_ip));
      if (taken) throw badRequest(`Fixed IP address ${r.fixed_ip} is already in use on instance ${taken.device_id}.`);
      if (out.some((o) => o.fixedIp === r.fixed_ip)) throw badRequest(`Fixed IP address ${r.fixed_ip} is already in use on instance (this request).`);
    }
    out.push({ network: net, fixedIp: r.fixed_ip });
  }
  return out;
}

/**
 * Security groups by name or id (the CLI sends ids in the name field), any number of them: the NICs the
 * server makes carry their union (one group's own NSG, or the combination NSG of the set:
 * network/securityGroupSets.ts).
 */
function resolveSecurityGroups(groups: SecurityGroupDef[], requested: { name?: string }[] | undefined, projectId: string): SecurityGroupDef[] {
  const names = [...new Set((requested ?? []).map((g) => g.name).filter((n): n is string => !!n))];
  // Without a group: the project's `default` (its own, or the one the catalog maps to it), as Nova.
  if (names.length === 0) {
    const dflt = groups.find((g) => g.name === 'default' && g.project_id === projectId) ?? groups.find((g) => g.name === 'default' && !g.project_id);
    return dflt ? [dflt] : [];
  }
  const found = names.map((n) => {
    const byId = groups.find((g) => g.id === n.toLowerCase());
    const byName = groups.filter((g) => g.name === n);
    if (!byId && byName.length > 1) throw conflict(`Multiple security groups found matching '${n}'. Use an ID to be more specific.`);
    const g = byId ?? byName[0];
    if (!g) throw badRequest(`Security group ${n} not found.`);
    return g;
  });
  return [...new Map(found.map((g) => [g.id, g])).values()];
}

/**
 * 2.74's host / hypervisor_hostname (servers.py _process_hosts_for_create, then compute/api.py
 * _validate_host_or_node; the controller checked compute:servers:create:requested_destination): the host must
 * be a compute host and the node one of its nodes, else 400 ComputeHostNotFound. Jacket has one
 * compute host, whose node has its name, so a request that passes lands where it asked.
 */
function requestedDestination(ctx: RequestContext, body: CreateServerBody['server']): void {
  if (!ctx.microversion?.atLeast('2.74') || !(body.host || body.hypervisor_hostname)) return;
  const ours = computeHost(ctx.services.config);
  if (body.host && body.host !== ours) throw badRequest(`Compute host ${body.host} could not be found.`);
  // A node of another name: ComputeHostNotFound names the host when one was given, else the node.
  if (body.hypervisor_hostname && body.hypervisor_hostname !== ours) throw badRequest(`Compute host ${body.host || body.hypervisor_hostname} could not be found.`);
}

/**
 * The server's hostname and the VM's computer name. Nova keeps a given hostname as it is (the guest reads
 * it from the metadata service, an FQDN whole); Azure takes the computer name once, at create, and it must
 * be a host name within the OS's limit (Linux 64, Windows 15 characters and not all digits): the first
 * label of the hostname, made as Nova makes a hostname from a name and cut to that limit (Windows cuts
 * its NetBIOS name to 15 too, as Nova's sanitize_hostname notes); the domain is Azure's DNS suffix.
 */
function hostnames(given: string | undefined, name: string, os: 'linux' | 'windows', id: string): { hostname: string; computer_name: string } {
  if (!given) {
    const made = computerName(name, os, id);
    return { hostname: made, computer_name: made };
  }
  return { hostname: given, computer_name: computerName(given.split('.')[0], os, id) };
}

/** Python's str() of a JSON value, as oslo's String field coerces a hint's values. */
const pyStr = (v: unknown): string => (typeof v === 'string' ? v : typeof v === 'boolean' ? (v ? 'True' : 'False') : v === null ? 'None' : typeof v === 'number' ? String(v) : JSON.stringify(v));

/**
 * Nova's RequestSpec._from_hints: each hint's value a list (a single value wrapped), its items strings
 * (DictOfListOfStringsField). Nova fails on an object value (the `query` hint given as an object);
 * Jacket keeps its JSON text rather than answer a 500.
 */
function requestSpecHints(hints: Record<string, unknown>): Record<string, string[]> {
  return Object.fromEntries(Object.entries(hints).map(([k, v]) => [k, (Array.isArray(v) ? v : [v]).map(pyStr)]));
}

function resolveZone(ctx: RequestContext, requested: string | undefined): AvailabilityZone {
  if (requested === undefined) return availabilityZones(ctx.services.config)[0];
  const z = zoneByName(ctx.services.config, requested);
  if (!z) throw badRequest('The requested availability zone is not available');
  return z;
}

/**
 * The image to boot. The CLI also describes an image boot as a block device mapping (the image as the
 * local boot disk, boot_index 0): that one is the same as imageRef. Booting from one existing volume is
 * ../bootVolume.ts, and so is an image or a volume snapshot to a new volume (volumes attached at boot
 * are taken apart before this); any other mapping (images as extra disks, local blank devices) is not
 * supported.
 */
function bootImage(body: CreateServerBody['server']): string | undefined {
  const bdms = (body.block_device_mapping_v2 ?? []) as { source_type?: string; destination_type?: string; boot_index?: unknown; uuid?: string; volume_size?: unknown }[];
  const imageBoot = (b: (typeof bdms)[number]) =>
    b.source_type === 'image' && (b.destination_type ?? 'local') === 'local' && String(b.boot_index) === '0' && b.volume_size === undefined && !!b.uuid && (!body.imageRef || b.uuid === body.imageRef);
  if (body.block_device_mapping?.length || !bdms.every(imageBoot)) {
    throw badRequest(
      'Block device mappings other than an image, a new volume from an image or a volume snapshot, or one existing volume as the boot disk, with existing, blank or snapshot volumes attached at boot (images as extra disks, local blank devices) are not supported by Jacket.',
    );
  }
  return body.imageRef || bdms[0]?.uuid;
}

function count(v: number | string | undefined): number | undefined {
  return v === undefined ? undefined : Number(v);
}

// ---- the service ----

/** What a create made: the records (BUILD, their builds on the queue), the password, the reservation. */
export interface CreatedServers {
  servers: ServerRecord[];
  /** The admin password as asked or generated (shown once, in the 202; never stored). */
  password: string;
  reservationId: string;
}

/**
 * compute/api.py create: the business rules of a validated create body (./../schemas.ts) — resolve
 * and check everything that can be refused, reserve quota, write the records, enqueue each build.
 * The controller (../api/servers.ts) validated the body and renders the answer.
 */
export async function createServers(ctx: RequestContext, whole: CreateServerBody['server'], hints: Record<string, unknown> = {}): Promise<CreatedServers> {
  const s = ctx.services;
  // Existing volumes attached at boot (../bootVolume.ts) apart; the rest of the mappings is the boot device.
  const { boot: body, extra: extraRequested } = splitExtraVolumes(await checkVolumeTypes(ctx, whole));
  const projectId = projectOf(ctx);
  const userId = ctx.auth!.userId;
  const minCount = count(body.min_count) ?? 1;
  const maxCount = count(body.max_count) ?? minCount;
  if (minCount > maxCount) throw badRequest('min_count must be <= max_count');
  if (body.personality?.length) throw badRequest('Personality files are not supported: a server on Azure receives user_data (custom data) only.');
  const imageVolume = imageVolumeRequest(body);
  const bootVolume = imageVolume ? undefined : bootVolumeRequest(body);
  const snapshotVolume = imageVolume || bootVolume ? undefined : snapshotVolumeRequest(body);
  const imageRef = bootVolume || snapshotVolume ? '' : (imageVolume?.imageId ?? bootImage(body));
  if (!imageRef && !bootVolume && !snapshotVolume) throw badRequest('Missing imageRef attribute');

  const flavor = await resolveFlavor(ctx, String(body.flavorRef));
  // 2.90: one hostname cannot name several servers (compute/api.py _create_instance, AmbiguousHostnameForMultipleInstances).
  if (body.hostname && maxCount > 1) throw badRequest('Unable to allocate a single hostname to multiple instances');
  // 2.63, compute/api.py _create_instance: no imageRef (a boot from a volume) cannot have its image
  // verified. With an image the request is taken and the build aborts (build.ts), as on any Nova
  // compute whose driver lacks supports_trusted_certs.
  if (whole.trusted_image_certificates?.length && !whole.imageRef) throw badRequest('Image certificate validation is not supported when booting from volume');
  const volumeBoot: BootVolume | undefined = bootVolume ? await resolveBootVolume(ctx, bootVolume, flavor, maxCount) : undefined;
  const snapshotBoot: SnapshotBoot | undefined = snapshotVolume ? await resolveSnapshotBoot(ctx, snapshotVolume, flavor, maxCount) : undefined;
  const extraVolumes = extraRequested.length ? await resolveExtraVolumes(ctx, extraRequested, maxCount, await s.azure.vms.maxDataDisks(flavor.vm_size)) : [];
  // A volume-backed server's root disk is the volume, not the flavor's: Nova checks the image's
  // min_disk against the volume's size instead of the flavor's root_gb.
  const image = volumeBoot ?? snapshotBoot ?? (await resolveImage(ctx, imageRef as string, imageVolume ? { root_gb: 0, memory_mb: flavor.memory_mb } : flavor));
  if (imageVolume) {
    if (maxCount > 1) throw badRequest('Cannot attach one or more volumes to multiple instances');
    if (image.snapshot) throw badRequest(`Image ${imageRef} is a snapshot of a server's disk: boot it without a new volume (Azure copies the snapshot into the OS disk).`);
    checkImageVolumeSize(imageVolume, image.image);
  }
  const publicKey = body.key_name !== undefined ? await keypairPublicKey(s, userId, body.key_name) : undefined;
  const nics = await resolveNetworks(ctx, body.networks, maxCount);
  // The project's groups, read once: the requested one is found among them, and so are the groups of
  // the ports it boots on.
  const usable = await usableSecurityGroups(s, ctx.auth!);
  const sgs = resolveSecurityGroups(usable, body.security_groups, projectId);
  const makesNics = nics.some((n) => !n.port);
  // A set Azure cannot hold (the operator's NSG combined, over a limit) is refused before anything is made.
  if (makesNics) await checkSet(s, sgs);
  // The groups the server shows: the one its own NICs get, and those of the ports it boots on (Nova
  // reads them from the ports; requested groups apply only to the ports it makes).
  const portGroupIds = [...new Set(nics.flatMap((n) => n.port?.security_groups ?? []))];
  const shownGroups = [...(makesNics ? sgs.map((g) => ({ id: g.id, name: g.name })) : []), ...portGroupIds.flatMap((id) => usable.filter((g) => g.id === id).map((g) => ({ id: g.id, name: g.name })))];
  const zone = resolveZone(ctx, body.availability_zone);
  requestedDestination(ctx, body);
  // Scheduler hint `group` (Nova's _get_requested_instance_group): unknown → 400 before anything is made.
  const group = await resolveGroupHint(ctx, hints.group);
  if (image.snapshot && (body.adminPass !== undefined || body.key_name !== undefined || body.user_data)) {
    throw badRequest(`Image ${imageRef} is a snapshot of a server's disk: Azure boots it as it is (specialized), so adminPass, key_name and user_data cannot be applied to it.`);
  }
  const username = adminUsername(image.image.properties, image.os);
  const password = body.adminPass ?? generatePassword();
  if (body.adminPass !== undefined) checkAdminPass(body.adminPass, image.os);
  if (volumeBoot && (body.adminPass !== undefined || body.key_name !== undefined || body.user_data)) {
    throw badRequest(`Volume ${volumeBoot.volume.value.id} becomes the OS disk as it is: Azure provisions nothing on an existing disk, so adminPass, key_name and user_data cannot be applied to it.`);
  }
  if (snapshotBoot && (body.adminPass !== undefined || body.key_name !== undefined || body.user_data)) {
    throw badRequest(`Snapshot ${snapshotBoot.snapshotId} becomes the OS disk as it is: Azure provisions nothing on a copied disk, so adminPass, key_name and user_data cannot be applied to it.`);
  }
  const metadata = body.metadata ?? {};
  await checkAbsolute(s, projectId, userId, { metadata_items: Object.keys(metadata).length });
  // Held under the ids of the servers to be made: exact under concurrency (the ledger's row ETag),
  // so no recheck after the records exist is needed, unlike Nova's count-then-recheck.
  const ids = Array.from({ length: maxCount }, () => randomUUID());
  const n = await reserveInstances(s, projectId, userId, { vcpus: flavor.vcpus, ram: flavor.memory_mb }, minCount, ids);
  const held = ids.slice(0, n);

  const reservationId = `r-${randomBytes(6)
    .toString('base64url')
    .toLowerCase()
    .replace(/[^a-z0-9]/g, '0')
    .slice(0, 8)}`;
  const now = new Date();
  const servers: ServerRecord[] = [];
  for (let i = 0; i < n; i++) {
    const id = ids[i];
    const created = novaTime(now);
    const serverNics: ServerNic[] = nics.map((r, k) =>
      r.port
        ? {
            network_id: r.network.id,
            network_name: r.network.name,
            subnet_id: r.network.subnet.id,
            port_id: r.port.id,
            nic_name: portNicName(r.port.id),
            version: r.network.subnet.ip_version,
            preexisting: true,
            ...(r.port.fixed_ips.length > 1 ? { more_addrs: r.port.fixed_ips.slice(1).map((f) => f.ip_address) } : {}),
          }
        : {
            network_id: r.network.id,
            network_name: r.network.name,
            subnet_id: r.network.subnet.id,
            port_id: randomUUID(),
            nic_name: nicName(id, k),
            version: r.network.subnet.ip_version,
            ...(r.fixedIp ? { fixed_ip: r.fixedIp } : {}),
          },
    );
    servers.push({
      id,
      project_id: projectId,
      user_id: userId,
      // multi_instance_display_name_template '%(name)s-%(count)d'
      name: n > 1 ? `${body.name}-${i + 1}` : body.name,
      reservation_id: reservationId,
      launch_index: i,
      created_at: created,
      updated_at: created,
      launched_at: null,
      vm_state: 'building',
      task_state: 'scheduling',
      power_state: POWER.NOSTATE,
      flavor: {
        id: flavor.flavorid,
        name: flavor.name,
        vcpus: flavor.vcpus,
        ram: flavor.memory_mb,
        disk: flavor.root_gb,
        ephemeral: flavor.ephemeral_gb,
        swap: flavor.swap,
        vm_size: flavor.vm_size,
        extra_specs: { ...flavor.extra_specs },
      },
      // A volume-backed server has no image of its own (Nova's image_ref ''), the new volume carries it.
      image_id: imageVolume ? '' : image.image.id,
      os_type: image.os,
      key_name: body.key_name ?? null,
      // servers.py create: display_description is the name below 2.19, the given one (or null) from it.
      description: ctx.microversion?.atLeast('2.19') ? (body.description ?? null) : body.name,
      // 2.52: the server's tags, each instance its own copy (Nova's _transform_tags), unique and sorted as
      // the tags table returns them; stored with the record, so shown from the first read.
      ...(ctx.microversion?.atLeast('2.52') && body.tags?.length ? { tags: [...new Set(body.tags)].sort() } : {}),
      // Nova's instance.hostname: the one asked for (2.90; an FQDN from 2.94), else made from the name.
      ...hostnames(body.hostname, n > 1 ? `${body.name}-${i + 1}` : body.name, image.os, id),
      // 2.96: Nova's request_spec.availability_zone, the zone the create named (default_schedule_zone
      // being unset: null when it named none, though Jacket places the server in its first zone).
      pinned_availability_zone: body.availability_zone !== undefined ? zone.name : null,
      // 2.100: the hints as Nova's request spec keeps them.
      scheduler_hints: requestSpecHints(hints),
      // 2.98: the image's properties as Nova's system_metadata keeps them (a volume's Glance metadata
      // stands in for a volume-backed server's, whose image is shown as '').
      image_properties: novaImageProperties(image.image.properties ?? {}),
      ...(await saveUserData(s, id, body.user_data)),
      metadata,
      security_groups: shownGroups,
      nics: serverNics,
      // networks "none" (2.37): the one NIC, isolated, named as a server's first NIC (build.ts makes it).
      ...(nics.length === 0 ? { isolated_nic: nicName(id, 0) } : {}),
      accessIPv4: body.accessIPv4 ?? '',
      accessIPv6: canonicalIpv6(body.accessIPv6 ?? ''),
      availability_zone: zone.name,
      config_drive: truthy(body.config_drive) ? 'True' : '',
      disk_config: body['OS-DCF:diskConfig'] ?? 'MANUAL',
      host: null,
      progress: 0,
      azure: { vm: id, os_disk: osDiskName(id), admin_username: username },
      flavor_id: flavor.flavorid,
      vcpus: flavor.vcpus,
      memory_mb: flavor.memory_mb,
      ...(group ? { server_group: { id: group.id, policy: group.policy } } : {}),
      ...(whole.trusted_image_certificates?.length ? { trusted_certs: whole.trusted_image_certificates } : {}),
    });
  }
  let bootReserved = false;
  let extraReserved = false;
  let madeVolume: VolumeRecord | undefined;
  let joined = false;
  // Neutron's port quota for the NICs Jacket makes (ports the user made are counted already), held
  // before any record is written and committed once the port records exist (launch).
  const portIds = servers.flatMap((srv) => srv.nics.filter((n) => !n.preexisting).map((n) => n.port_id));
  let portsHeld = false;
  let security: NicSecurity | undefined;
  try {
    if (portIds.length) {
      await reservePorts(s, projectId, portIds);
      portsHeld = true;
    }
    // Members are added under the group record's ETag with server_group_members checked in the same
    // write (Nova's check_deltas for each instance, then add_members): racing creates cannot overfill it.
    if (group) {
      await joinGroup(s, group, projectId, userId, held);
      joined = true;
    }
    if (volumeBoot) {
      servers[0] = withBootVolume(servers[0], volumeBoot);
      await reserveBootVolume(s, volumeBoot, servers[0].id);
      bootReserved = true;
    }
    if (extraVolumes.length) {
      await reserveExtraVolumes(s, extraVolumes, servers[0].id);
      extraReserved = true;
    }
    // Ports the user made are bound before the record exists (one server per port, under the port's ETag).
    for (const n of nics) if (n.port) await portStore(s).bind(projectId, n.port.id, servers[0].id, `compute:${zone.name}`);
    // Last before the records: a refusal above leaves no volume behind.
    const newBoot = imageVolume ?? snapshotBoot;
    if (newBoot) {
      // Cinder's rules and quotas for the new volume (its 400s and 413s answer this create); the record
      // is reserved for the server, and the build makes its disk: the VM from the image
      // (computeApi createBootVolume), or the disk step from the snapshot (createVolumeAtBoot).
      madeVolume = imageVolume
        ? await volumeApi.createBootVolume(ctx, imageVolume.imageId, imageVolume.size, servers[0].id, imageVolume.volumeType)
        : await volumeApi.createVolumeAtBoot(ctx, snapshotBoot!.size, snapshotBoot!.snapshotId, servers[0].id, '/dev/sda', snapshotVolume!.volumeType);
      servers[0] = withVolumes({ ...servers[0], azure: { ...servers[0].azure, os_disk: madeVolume.disk.name } }, [
        {
          volume_id: madeVolume.id,
          volume_project_id: madeVolume.project_id,
          lun: null,
          device: '/dev/sda',
          status: 'attaching',
          delete_on_termination: newBoot.deleteOnTermination,
          bdm_uuid: randomUUID(),
        },
      ]);
    }
    await makeVolumesAtBoot(ctx, extraVolumes, servers[0].id);
    servers[0] = withExtraVolumes(servers[0], extraVolumes);
    // The NICs' NSG: a combination of several groups is PUT now (whole: also its repair), before the
    // builds that make NICs naming it. Left unused by a failure below, the network sweep removes it.
    if (makesNics && sgs.length) security = await nicSecurity(s, sgs, projectId);
    for (const srv of servers) await insertServer(s, srv);
  } catch (e) {
    // Refused (the boot volume was taken) or failed part way: nothing stays, the quota is given back.
    for (const srv of servers) {
      const cur = await getServerAny(s, srv.id);
      if (cur) await removeServer(s, cur);
    }
    if (bootReserved && volumeBoot) await unreserveBootVolume(s, volumeBoot, servers[0].id);
    if (extraReserved) await unreserveExtraVolumes(s, extraVolumes, servers[0].id);
    await releaseMadeVolumes(s, extraVolumes, servers[0].id);
    // The new boot volume has no disk yet: it goes to error, for the user to delete (as a volume Nova
    // made for a build that failed stays with Cinder).
    if (madeVolume) await volumeApi.releaseBootVolume(s, madeVolume.project_id, madeVolume.id, servers[0].id);
    if (joined && group) await leaveGroup(s, { id: group.id, policy: group.policy, project_id: group.project_id }, held, ctx.requestId);
    for (const n of nics) if (n.port) await portStore(s).unbind(projectId, n.port.id, servers[0].id);
    if (portsHeld) await networkLedger(s).rollback(projectId, portIds);
    await rollbackServers(s, projectId, held);
    throw e;
  }
  await commitServers(s, projectId, held);
  for (const srv of servers) await recordUsageStart(s, srv);
  if (volumeBoot) await startWork(s, { kind: BOOT_VOLUME_KIND, id: servers[0].id, data: { volume: volumeBoot.volume.value.id }, requestId: ctx.requestId }, 2);
  if (madeVolume) await startWork(s, { kind: BOOT_VOLUME_KIND, id: servers[0].id, data: { volume: madeVolume.id, made: true }, requestId: ctx.requestId }, 2);
  // One step per extra volume (keyed by it: several run on one server), as for a boot volume.
  for (const { volume: v, make } of extraVolumes) {
    if (v) await startWork(s, { kind: BOOT_VOLUME_KIND, id: servers[0].id, key: v.value.id, data: { volume: v.value.id, ...(make ? { made: true } : {}) }, requestId: ctx.requestId }, 2);
  }
  const customData = body.user_data?.replace(/\s+/g, '') || undefined;
  await Promise.all(
    servers.map(async (srv) => {
      const action = await startAction(s, srv, ACTION.CREATE, ctx.requestId, userId, 'compute__do_build_and_run_instance');
      await launch(s, srv, action, {
        reference: image.reference,
        password,
        publicKey,
        customData,
        zone,
        nics,
        sgIds: sgs.map((g) => g.id),
        security,
        requestId: ctx.requestId,
        snapshot: snapshotBoot?.armId ?? image.snapshot,
        bootDisk: volumeBoot?.volume.value.disk.name ?? (snapshotBoot ? madeVolume!.disk.name : undefined),
        volumeDisk: madeVolume && srv.id === servers[0].id ? { sizeGB: madeVolume.size, sku: madeVolume.disk.sku, ...(snapshotBoot ? { tags: volumeApi.diskTags(madeVolume) } : {}) } : undefined,
        hibernation: flavor.extra_specs['azure:hibernation'] === 'true',
        tagged: deviceTagged(whole),
      });
    }),
  );
  // The port records exist (launch wrote them): their reservations become usage.
  if (portIds.length) await networkLedger(s).commit(projectId, portIds);
  return { servers, password, reservationId };
}

/** Nova's PortLimitExceeded (403) when the project's Neutron port quota cannot take these ports. */
async function reservePorts(s: Services, projectId: string, portIds: string[]): Promise<void> {
  const limits = await networkQuota(s, projectId);
  try {
    await networkLedger(s).reserve(
      projectId,
      portIds.map((id) => ({ id, deltas: { port: 1 } })),
      limits,
    );
  } catch (e) {
    if (e instanceof OverQuota) throw forbidden('Maximum number of ports exceeded');
    throw e;
  }
}

interface LaunchSpec {
  reference: ImageReference;
  password: string;
  publicKey?: string;
  customData?: string;
  zone: AvailabilityZone;
  nics: RequestedNic[];
  /** The security groups of the NICs the server makes. */
  sgIds: string[];
  /** Their NSG (the group's own or the set's combination) and the ASGs they join. */
  security?: NicSecurity;
  requestId: string;
  /** Boot a copy of this snapshot (a server snapshot image) instead of an image. */
  snapshot?: string;
  /** The flavor's azure:hibernation=true: the VM is made able to hibernate (suspend). */
  hibernation?: boolean;
  /** Boot from this volume's managed disk (attached as the OS disk). */
  bootDisk?: string;
  /** Boot from a new volume: the VM makes its OS disk from the image at this size and SKU. */
  volumeDisk?: { sizeGB: number; sku: string; tags?: Record<string, string> };
  /** Device tags were asked for (2.32): the build aborts, as on a Nova host without device tagging. */
  tagged?: boolean;
}

/** Whether a network or a block device of the body carries a device tag (the schema admits them from 2.32). */
const deviceTagged = (body: CreateServerBody['server']): boolean =>
  (Array.isArray(body.networks) ? body.networks : []).some((n) => n.tag !== undefined) || (body.block_device_mapping_v2 ?? []).some((b) => (b as { tag?: string }).tag !== undefined);

/**
 * The NIC of a server with networks "none": in the isolated subnet under the deny-all NSG (config
 * azure.isolated, made on demand by the build's NIC step), no public IP, no port.
 */
function isolatedNicSpec(s: Services, name: string): BuildData['nics'][number] {
  const iso = s.config.azure.isolated;
  const resourceGroup = s.config.azure.resourceGroup;
  return { name, subnetId: s.azure.vms.subnetId({ vnet: iso.vnet, subnet: iso.subnet, resourceGroup }), nsgId: s.azure.vms.nsgId({ nsg: iso.nsg, resourceGroup }), isolated: true };
}

/**
 * The port records (so `openstack port list` shows them while the NICs are made), then the build on
 * the queue (build.ts): no Azure call from the request. The admin password goes into the work item
 * sealed (shared/work/seal.ts), to Azure in the VM PUT, and nowhere else.
 */
async function launch(s: Services, srv: ServerRecord, action: ActionRef, spec: LaunchSpec): Promise<void> {
  const vms = s.azure.vms;
  const ports = portStore(s);
  const nsgId = spec.security?.nsgId;
  // The NICs join every group's application security group too, so rules naming a group reach them.
  const asgIds = spec.security?.asgIds.length ? spec.security.asgIds : undefined;
  const now = new Date().toISOString();
  for (const [k, nic] of srv.nics.entries()) {
    // A port the user made was bound at create (PortStore.bind); its NIC, address and group stay as made.
    if (spec.nics[k].port) continue;
    await ports.put({
      id: nic.port_id,
      project_id: srv.project_id,
      name: '',
      network_id: nic.network_id,
      device_id: srv.id,
      device_owner: `compute:${srv.availability_zone}`,
      mac_address: '',
      fixed_ips: nic.fixed_ip ? [{ subnet_id: nic.subnet_id, ip_address: nic.fixed_ip }] : [],
      security_groups: spec.sgIds,
      status: 'BUILD',
      created_at: now,
      updated_at: now,
    } satisfies PortRecord);
  }
  const provisioned = !spec.bootDisk && !spec.snapshot;
  const data: BuildData = {
    action: action.rowKey,
    nics: srv.isolated_nic
      ? [isolatedNicSpec(s, srv.isolated_nic)]
      : srv.nics.map((nic, k) => {
          const existing = spec.nics[k].port;
          if (existing) return { name: nic.nic_name, subnetId: vms.subnetId(spec.nics[k].network.azure), existing: { ip: existing.fixed_ips[0]?.ip_address } };
          return {
            name: nic.nic_name,
            subnetId: vms.subnetId(spec.nics[k].network.azure),
            ...(nsgId ? { nsgId } : {}),
            ...(asgIds ? { asgIds } : {}),
            ...(nic.fixed_ip ? { fixedIp: nic.fixed_ip } : {}),
          };
        }),
    ...(provisioned ? { image: spec.reference, sealed: seal(s.config, spec.password) } : {}),
    ...(spec.snapshot ? { snapshot: spec.snapshot } : {}),
    ...(spec.bootDisk ? { bootDisk: spec.bootDisk } : {}),
    ...(spec.volumeDisk ? { volumeDisk: spec.volumeDisk } : {}),
    ...(provisioned && spec.publicKey ? { sshPublicKey: spec.publicKey } : {}),
    // A long user_data stays out of the queue message (64 KiB): the build reads it where it is kept.
    ...(provisioned && spec.customData ? (srv.user_data_external ? { customDataStored: true } : { customData: spec.customData }) : {}),
    ...(spec.zone.azureZone ? { azureZone: spec.zone.azureZone } : {}),
    ...(spec.hibernation ? { hibernation: true } : {}),
    ...(spec.tagged ? { tagged: true } : {}),
  };
  await startWork(s, { kind: BUILD_KIND, id: srv.id, step: 'nic:0', data: data as unknown as Record<string, unknown>, requestId: spec.requestId });
}
