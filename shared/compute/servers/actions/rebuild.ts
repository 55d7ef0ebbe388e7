// rebuild (nova/api/openstack/compute/servers.py _rebuild; compute/api.py rebuild) at 2.1 on Azure.
// Same image as the VM was made from: Azure's reimage, with the new admin password in its osProfile,
// sent by the rebuild's first step. Another image (or a server that already had its OS disk swapped, or one
// booted from a snapshot): a new OS disk made from the image (disks FromImage: the marketplace image
// version or the managed image; Copy of a snapshot image), swapped in with the VM deallocated
// (storageProfile.osDisk.managedDisk.id and name, azure-facts.md), the VM started, then the password set
// by the VMAccess extension (Azure provisions nothing on a swapped-in disk). Those steps run on the work
// queue; the password travels sealed in the work item (see rebuildWork.ts). adminPass is Nova's: the
// given one, else a generated one, returned in the response.
import type { RequestContext } from '../../../http/router';
import { json } from '../../../http/respond';
import { badRequest } from '../../../http/errors';
import { checkAbsolute } from '../../quotas/engine';
import { imageStore } from '../../../image/model';
import { checkInstanceLock, checkInstanceState, visibleServer } from '../model';
import { rootVolumeOf } from '../volumes';
import { adminUsername, checkAdminPass, generatePassword } from '../passwords';
import { keypairPublicKey, resolveImage } from '../service/create';
import { loadUserData, replaceUserData, userDataFields } from '../userData';
import { fullView, hostStatusFor, loadFlavorSpecs, serverGroupsOf } from '../views';
import { seal } from '../../../work/seal';
import { startWork } from '../../../work/ledger';
import { registerServerAction } from './registry';
import { startTask, K2_ACTION } from './taskStart';
import { REBUILD_KIND, type RebuildData, type RebuildSource } from '../work/rebuild';
import { canonicalIpv6, description, fqdn, hostname, trustedCerts, withoutProperties, withProperties } from '../schemas';
import { novaImageProperties } from '../imageMeta';
import { authorize } from '../../../api/policy';
import { randomUUID } from 'node:crypto';
import { volumeApi } from '../../../volume/computeApi';
import { zoneByName } from '../../zones/api';

const metadataSchema = { type: 'object', patternProperties: { '^[a-zA-Z0-9-_:. ]{1,255}$': { type: 'string', maxLength: 255 } }, additionalProperties: false };
const BOOLEANS = [true, 'True', 'TRUE', 'true', '1', 'ON', 'On', 'on', 'YES', 'Yes', 'yes', false, 'False', 'FALSE', 'false', '0', 'OFF', 'Off', 'off', 'NO', 'No', 'no'];

/** Nova's servers.rebuild schema (2.1 - 2.18). */
const rebuildSchema = {
  type: 'object',
  properties: {
    rebuild: {
      type: 'object',
      properties: {
        name: { type: 'string', format: 'name', minLength: 1, maxLength: 255 },
        imageRef: { type: 'string', format: 'uuid' },
        adminPass: { type: 'string' },
        metadata: metadataSchema,
        preserve_ephemeral: { type: ['boolean', 'string'], enum: BOOLEANS },
        'OS-DCF:diskConfig': { type: 'string', enum: ['AUTO', 'MANUAL'] },
        accessIPv4: { type: 'string', format: 'ipv4' },
        accessIPv6: { type: 'string', format: 'ipv6' },
        personality: {
          type: 'array',
          items: { type: 'object', properties: { path: { type: 'string' }, contents: { type: 'string', format: 'base64' } }, additionalProperties: false },
        },
      },
      required: ['imageRef'],
      additionalProperties: false,
    },
  },
  required: ['rebuild'],
  additionalProperties: false,
};

interface RebuildBody {
  imageRef: string;
  name?: string;
  adminPass?: string;
  metadata?: Record<string, string>;
  personality?: unknown[];
  'OS-DCF:diskConfig'?: 'AUTO' | 'MANUAL';
  accessIPv4?: string;
  accessIPv6?: string;
  /** 2.19: null removes it. */
  description?: string | null;
  /** 2.54: a key pair of the caller's, or null for none. */
  key_name?: string | null;
  /** 2.57: base64 user data, or null for none. */
  user_data?: string | null;
  /** 2.63: certificate ids, or null to unset them. */
  trusted_image_certificates?: string[] | null;
  /** 2.90 (an FQDN from 2.94): the new instance.hostname. */
  hostname?: string;
}

/** A new OS disk's name: the server id and a per-rebuild suffix (Azure names must differ from the old disk). */
const newDiskName = (serverId: string) => `${serverId}-r${Date.now().toString(36)}`;

async function rebuild(ctx: RequestContext, args: unknown) {
  const b = args as RebuildBody;
  const s = ctx.services;
  const cur = await visibleServer(ctx);
  const srv = cur.value;
  // 2.63: given (null included, which unsets them), the ids need rebuild:trusted_certs, checked by
  // Nova's controller before compute/api.py's lock and state checks.
  const certsGiven = 'trusted_image_certificates' in b;
  if (certsGiven) authorize(ctx, 'os_compute_api:servers:rebuild:trusted_certs', { projectId: srv.project_id });
  checkInstanceLock(srv, ctx.auth!);
  checkInstanceState(srv, 'rebuild', { vm: ['active', 'stopped', 'error'], task: [null] });
  // 2.54: the key pair is the requesting user's (users own key pairs, projects own servers: another
  // user of the project may rebuild the server), looked up first as compute/api.py rebuild does.
  const sshKey = typeof b.key_name === 'string' ? await keypairPublicKey(s, ctx.auth!.userId, b.key_name) : undefined;
  // 2.63: compute/api.py rebuild refuses certificates for a volume-backed server first (an empty
  // list or null is none: _retrieve_trusted_certs_object, without configured defaults).
  const certs = b.trusted_image_certificates?.length ? b.trusted_image_certificates : null;
  const root = rootVolumeOf(srv);
  if (root && certs) throw badRequest('Image certificate validation is not supported for volume-backed servers.');
  // A volume-backed server's OS disk is the volume's own disk. Below 2.93 Nova refuses a different image
  // for it (a rebuild with the root volume's own image, which Nova takes and which keeps the disk, is
  // refused alike here: Jacket has no rebuild that keeps the OS disk). From 2.93 Nova reimages the root
  // volume (reimage_boot_volume), whatever the image: below, the volume's new disk is swapped in.
  if (root && !ctx.microversion?.atLeast('2.93')) {
    throw badRequest(`Image ${b.imageRef} is unacceptable: Unable to rebuild with a different image for a volume-backed server.`);
  }
  if (b.personality?.length) throw badRequest('Personality files are not supported: a server on Azure receives user_data (custom data) only.');
  if (!(await imageStore(s).visible(ctx.auth!, b.imageRef))) throw badRequest('Cannot find image for rebuild');
  const image = await resolveImage(ctx, b.imageRef, { root_gb: srv.flavor.disk, memory_mb: srv.flavor.ram });
  if (image.os !== srv.os_type) {
    throw badRequest(`Image ${b.imageRef} is a ${image.os} image and the server runs ${srv.os_type}: Azure keeps a VM's OS type, so it cannot be rebuilt with it.`);
  }
  if (b.metadata) await checkAbsolute(s, srv.project_id, srv.user_id, { metadata_items: Object.keys(b.metadata).length });
  const username = adminUsername(image.image.properties, image.os);
  if (b.adminPass !== undefined) checkAdminPass(b.adminPass, image.os);
  const password = b.adminPass ?? generatePassword();
  // Azure reimages from the VM's own image reference: only while the OS disk is still the one made from it.
  const reimage = image.image.id === srv.image_id && !image.snapshot && srv.azure.os_disk === srv.id;
  // 2.57: Azure takes custom data only when it provisions the OS disk (create, reimage); a swapped-in
  // disk is not provisioned, so the guest would never see it.
  if (typeof b.user_data === 'string' && !reimage) {
    throw badRequest(`Image ${b.imageRef} gives the server a new OS disk, which Azure does not provision: user_data can be given only when rebuilding with the image the server was made from.`);
  }
  // 2.93: a Nova image of a server's disk (an Azure snapshot) cannot become a volume, as at create.
  if (root && image.snapshot) throw badRequest(`Image ${b.imageRef} is a snapshot of a server's disk: a volume-backed server cannot be rebuilt from it.`);
  const diskName = root ? `volume-${root.volume_id}-${randomUUID().slice(0, 8)}` : newDiskName(srv.id);
  let rootVolume: RebuildData['volume'];
  if (root) {
    // compute/api.py _check_volume_status (InvalidVolume, 400 on rebuild), then Cinder's reimage marks the volume.
    const vol = await volumeApi.getIn(s, root.volume_project_id, root.volume_id);
    if (!vol) throw badRequest(`Invalid volume: volume '${root.volume_id}' status must be 'in-use'. Currently in 'deleted' status`);
    const no = await volumeApi.beginRootReimage(s, root.volume_project_id, root.volume_id, image.image, diskName);
    // Cinder's reimage would fail on an image without data (Nova's rebuild then ends in ERROR): refused first.
    if (no === 'no-data') throw badRequest(`Invalid input received: Image ${b.imageRef} has no data.`);
    if (no) throw badRequest(`Invalid volume: volume '${root.volume_id}' status must be 'in-use'. Currently in '${no.status}' status`);
    const zone = zoneByName(s.config, srv.availability_zone)?.azureZone;
    rootVolume = { id: root.volume_id, project: root.volume_project_id, sku: vol.value.disk.sku, sizeGB: vol.value.size, tags: volumeApi.diskTags(vol.value), ...(zone ? { zone } : {}) };
  }
  const vmState = srv.vm_state;
  const begin = () =>
    startTask(ctx, cur, {
      method: 'rebuild',
      vm: ['active', 'stopped', 'error'],
      lock: true,
      set: (v) => ({
        ...v,
        task_state: 'rebuilding',
        progress: 0,
        // An empty image_ref marks a volume-backed server: Nova keeps it over a rebuild.
        image_id: root ? v.image_id : image.image.id,
        // 2.98: Nova's rebuild resets the image_* system_metadata to the new image's properties.
        image_properties: novaImageProperties(image.image.properties),
        // 2.90: Nova's rebuild sets instance.hostname, which the guest reads from the metadata service. Azure
        // keeps the computer name given at create (a reimage or a swapped-in disk does not rename the
        // guest), so, as Nova, only the record's hostname changes.
        ...(b.hostname !== undefined ? { hostname: b.hostname, computer_name: v.computer_name ?? v.hostname } : {}),
        azure: { ...v.azure, admin_username: reimage ? v.azure.admin_username : username },
        ...(b.name !== undefined ? { name: b.name } : {}),
        ...(b.metadata !== undefined ? { metadata: b.metadata } : {}),
        ...(b.accessIPv4 !== undefined ? { accessIPv4: b.accessIPv4 } : {}),
        ...(b.accessIPv6 !== undefined ? { accessIPv6: canonicalIpv6(b.accessIPv6) } : {}),
        ...(b['OS-DCF:diskConfig'] !== undefined ? { disk_config: b['OS-DCF:diskConfig'] } : {}),
        ...(b.description !== undefined ? { description: b.description } : {}),
        ...(b.key_name !== undefined ? { key_name: b.key_name } : {}),
        ...(b.user_data !== undefined ? userDataFields(b.user_data) : {}),
        ...(certsGiven ? { trusted_certs: certs } : {}),
      }),
      action: K2_ACTION.REBUILD,
      event: 'compute_rebuild_instance',
    });
  let started: Awaited<ReturnType<typeof begin>>;
  try {
    started = await begin();
  } catch (e) {
    // Refused (the state changed meanwhile): the root volume goes back as it was.
    if (rootVolume) await volumeApi.rootReimageAbandoned(s, rootVolume.project, rootVolume.id, diskName);
    throw e;
  }
  const { server, action } = started;
  // The rebuild holds the task now, so the long user_data's rows are rewritten by it alone.
  if (b.user_data !== undefined) await replaceUserData(s, server.id, b.user_data);
  const finalState = vmState === 'stopped' ? 'stopped' : 'active';
  const guest = { ...(sshKey ? { sshKey } : {}), ...(typeof b.user_data === 'string' ? { userData: true } : {}) };
  if (reimage) {
    const data: RebuildData = { mode: 'reimage', final: finalState, sealed: seal(s.config, password), ...guest };
    await startWork(s, { kind: REBUILD_KIND, id: server.id, step: 'reimage', data: { action: action.rowKey, ...data }, requestId: ctx.requestId });
  } else {
    const p = image.image.properties;
    const source: RebuildSource = image.snapshot
      ? { kind: 'snapshot', id: image.snapshot }
      : image.image.managedImageId
        ? { kind: 'image', id: image.image.managedImageId }
        : { kind: 'marketplace', publisher: p.azure_publisher, offer: p.azure_offer, sku: p.azure_sku, version: p.azure_version || 'latest' };
    const data: RebuildData = { mode: 'swap', final: finalState, disk: diskName, source, sealed: seal(s.config, password), ...guest, ...(rootVolume ? { volume: rootVolume } : {}) };
    await startWork(s, { kind: REBUILD_KIND, id: server.id, data: { action: action.rowKey, ...data }, requestId: ctx.requestId });
  }
  // From 2.75 the answer is the whole server as show renders it, but for OS-EXT-SRV-ATTR:user_data
  // (Nova's show_user_data=False: 2.57's user_data below stands for it).
  const whole = ctx.microversion?.atLeast('2.75') ?? false;
  const view = fullView(ctx, server, whole, {
    flavorSpecs: await loadFlavorSpecs(ctx, [server]),
    serverGroups: await serverGroupsOf(ctx, server),
    ...(whole ? { hostStatus: await hostStatusFor(ctx, server) } : {}),
  });
  delete view['OS-EXT-SRV-ATTR:user_data'];
  // Nova's rebuild view: key_name from 2.54, the instance's user_data from 2.57.
  if (ctx.microversion?.atLeast('2.54')) view.key_name = server.key_name;
  if (ctx.microversion?.atLeast('2.57')) view.user_data = b.user_data !== undefined ? b.user_data : ((await loadUserData(s, [server])).get(server.id) ?? null);
  return json({ server: { ...view, adminPass: password } }, 202);
}

/** rebuild_v219 (2.19-2.53): the description. */
const rebuildSchemaV219 = withProperties(rebuildSchema, 'rebuild', { description });
/** rebuild_v254 (2.54-2.56): key_name, null to remove the key pair. */
const rebuildSchemaV254 = withProperties(rebuildSchemaV219, 'rebuild', { key_name: { oneOf: [{ type: 'string', minLength: 1, maxLength: 255 }, { type: 'null' }] } });
/** rebuild_v257: user_data (null to remove it); personality files left the API. */
const rebuildSchemaV257 = withProperties(withoutProperties(rebuildSchemaV254, 'rebuild', ['personality']), 'rebuild', { user_data: { type: ['string', 'null'], format: 'base64', maxLength: 65535 } });
/** rebuild_v263: trusted_image_certificates (null to unset them). */
const rebuildSchemaV263 = withProperties(rebuildSchemaV257, 'rebuild', { trusted_image_certificates: trustedCerts });
/** rebuild_v290: hostname (parameter_types.hostname); rebuild_v294: parameter_types.fqdn. */
const rebuildSchemaV290 = withProperties(rebuildSchemaV263, 'rebuild', { hostname });
const rebuildSchemaV294 = withProperties(rebuildSchemaV263, 'rebuild', { hostname: fqdn });

registerServerAction({
  name: 'rebuild',
  policy: 'os_compute_api:servers:rebuild',
  schema: [
    ['2.1', rebuildSchema],
    ['2.19', rebuildSchemaV219],
    ['2.54', rebuildSchemaV254],
    ['2.57', rebuildSchemaV257],
    ['2.63', rebuildSchemaV263],
    ['2.90', rebuildSchemaV290],
    ['2.94', rebuildSchemaV294],
  ],
  handler: rebuild,
});
