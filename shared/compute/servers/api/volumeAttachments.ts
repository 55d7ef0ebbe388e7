// /servers/{server_id}/os-volume_attachments (nova/api/openstack/compute/volume_attachments.py):
// list, attach, show, detach, and PUT: below 2.85 always a swap, answered as Nova answers it for a
// driver without swap_volume; from 2.85 an update of the attachment's delete_on_termination, then a
// swap only when volumeId names another volume. Attach and detach are checked and recorded here (the
// server's mapping with its LUN, the volume attaching/detaching), then the Azure side runs on the work
// queue (volumeAttachWork.ts).
import type { RequestContext, Route } from '../../../http/router';
import { accepted, json } from '../../../http/respond';
import { badRequest, forbidden, notFound } from '../../../http/errors';
import { schemaAt, validateBody, type SchemaByVersion } from '../../../api/validation';
import { computeRoute } from '../../common';
import { checkInstanceLock, checkInstanceState, getServerAny, serverRepo, updateServer, visibleServer, type ServerRecord, type VmState } from '../model';
import { finishAction, startAction } from '../instanceActions';
import { deviceForLun, freeLun, volumesOf, withVolumes, type ServerVolume } from '../volumes';
import { ATTACH_KIND, DETACH_KIND } from '../work/volumeAttach';
import { startWork } from '../../../work/ledger';
import { checkMultiattachVersion } from '../bootVolume';
import { volumeApi } from '../../../volume/computeApi';
import { strictQuery } from '../../../http/router';
import { booleanLike, truthy } from '../schemas';
import { nameBasedUuid } from '../../../servicegroup/registry';
import { randomUUID } from 'node:crypto';
import type { Services } from '../../../services';
import type { Stored } from '../../../store/tables';

const DEVICE = { type: ['string', 'null'], pattern: '(^/dev/x{0,1}[a-z]{0,1}d{0,1})([a-z]+)[0-9]*$' };

/** volume_attachments.create (2.0–2.48). */
const createSchema = {
  type: 'object',
  required: ['volumeAttachment'],
  additionalProperties: false,
  properties: {
    volumeAttachment: {
      type: 'object',
      required: ['volumeId'],
      additionalProperties: false,
      properties: { volumeId: { type: 'string', format: 'uuid' }, device: DEVICE },
    },
  },
};

/** Nova's device tag (2.49): 1-60 characters, no '/' or ','. */
const TAG = { type: 'string', minLength: 1, maxLength: 60, pattern: '^[^,/]*$' };

/** volume_attachments.create_v249 (2.49–2.78): `tag`. */
const createV249Schema = {
  ...createSchema,
  properties: {
    volumeAttachment: { ...createSchema.properties.volumeAttachment, properties: { ...createSchema.properties.volumeAttachment.properties, tag: TAG } },
  },
};

/** volume_attachments.create_v279 (2.79 on): `delete_on_termination`. */
const createV279Schema = {
  ...createV249Schema,
  properties: {
    volumeAttachment: {
      ...createV249Schema.properties.volumeAttachment,
      properties: { ...createV249Schema.properties.volumeAttachment.properties, delete_on_termination: booleanLike },
    },
  },
};

const createSchemas: SchemaByVersion = [
  ['2.1', createSchema],
  ['2.49', createV249Schema],
  ['2.79', createV279Schema],
];

/** volume_attachments.update (2.0–2.84). */
const updateSchema = {
  type: 'object',
  required: ['volumeAttachment'],
  additionalProperties: false,
  properties: {
    volumeAttachment: { type: 'object', required: ['volumeId'], additionalProperties: false, properties: { volumeId: { type: 'string', format: 'uuid' } } },
  },
};

/**
 * volume_attachments.update_v285 (2.85 on): what the show answer carries may be sent back (`id`, `serverId`,
 * `device`, `tag`), though only `delete_on_termination` may change (the others must equal the attachment's).
 */
const updateV285Schema = {
  ...updateSchema,
  properties: {
    volumeAttachment: {
      ...updateSchema.properties.volumeAttachment,
      properties: {
        volumeId: { type: 'string', format: 'uuid' },
        device: DEVICE,
        tag: TAG,
        delete_on_termination: booleanLike,
        serverId: { type: 'string', format: 'uuid' },
        id: { type: 'string', format: 'uuid' },
      },
    },
  },
};

const updateSchemas: SchemaByVersion = [
  ['2.1', updateSchema],
  ['2.85', updateV285Schema],
];

interface UpdateBody {
  volumeId: string;
  device?: string | null;
  tag?: string;
  delete_on_termination?: boolean | string;
  serverId?: string;
  id?: string;
}

/** compute/api.py attach_volume / detach_volume / swap_volume: @check_instance_state vm_states, task_state None. */
const ATTACH_VM_STATES: VmState[] = ['active', 'paused', 'stopped', 'resized', 'soft-delete', 'shelved', 'shelved_offloaded'];

function checkAttachState(ctx: RequestContext, srv: ServerRecord, method: string) {
  // Below 2.20 Nova refuses shelved servers in the API (_check_request_version) with the same 409.
  if ((srv.vm_state === 'shelved' || srv.vm_state === 'shelved_offloaded') && !ctx.microversion?.atLeast('2.20')) {
    checkInstanceState(srv, method, { vm: ATTACH_VM_STATES.filter((s) => !s.startsWith('shelved')) });
  }
  checkInstanceState(srv, method, { vm: ATTACH_VM_STATES, task: [null] });
}

/**
 * Nova's volumeAttachment view. From 2.70 it has the attachment's device `tag`: always null on Jacket,
 * which refuses tagged attaches (2.49, below) and whose builds abort on tagged mappings (2.32/2.42).
 * From 2.89 (list and show only, as Nova: the attach answer keeps 2.79's shape) `id` goes and the
 * Cinder attachment's id and the mapping's own uuid come (`ids`, from attachmentIds).
 */
function view(ctx: RequestContext, srv: ServerRecord, m: ServerVolume, ids?: { attachment_id: string; bdm_uuid: string }) {
  return {
    ...(ids ? {} : { id: m.volume_id }),
    serverId: srv.id,
    volumeId: m.volume_id,
    device: m.device,
    ...(ctx.microversion?.atLeast('2.70') ? { tag: null } : {}),
    // 2.79: whether deleting the server deletes the volume (set at boot, or by the attach from 2.79).
    ...(ctx.microversion?.atLeast('2.79') ? { delete_on_termination: m.delete_on_termination } : {}),
    ...(ids ?? {}),
  };
}

/**
 * Nova's bdm.uuid (2.89): each mapping gets a random one when made (attach, boot). A mapping written
 * before 2.89 was served has none stored: its uuid is derived from the server and the volume (a server
 * holds a volume once), so it is the same at every read, and distinct for each mapping alive.
 */
const bdmUuidOf = (srv: ServerRecord, m: ServerVolume): string => m.bdm_uuid ?? nameBasedUuid(`jacket-bdm:${srv.id}:${m.volume_id}`);

/**
 * Nova's bdm.attachment_id (2.89): the Cinder attachment the mapping holds. The attach stores it on the
 * mapping; a mapping made at boot (or before 2.89 was served) has it on the volume's record, as the
 * volume's attachment to this server. None found (Cinder let it go, e.g. os-force_detach): undefined,
 * and Nova leaves such a mapping out of the list and answers its show 404 (no null attachment_id).
 */
async function attachmentIds(s: Services, srv: ServerRecord, m: ServerVolume): Promise<{ attachment_id: string; bdm_uuid: string } | undefined> {
  let id = m.attachment_id;
  if (!id) {
    const v = await volumeApi.getIn(s, m.volume_project_id, m.volume_id);
    id = v ? volumeApi.attachmentOn(v.value, srv.id)?.id : undefined;
  }
  return id ? { attachment_id: id, bdm_uuid: bdmUuidOf(srv, m) } : undefined;
}

const notAttached = (serverId: string, volumeId: string) => notFound(`Instance ${serverId} is not attached to volume ${volumeId}`);

/** Nova's common.limited: offset and limit (at most 1000) over the whole list. */
function limited<T>(ctx: RequestContext, items: T[]): T[] {
  const num = (name: string) => {
    const v = ctx.query.getAll(name).pop();
    if (v === undefined) return undefined;
    if (!/^[0-9]+$/.test(v)) throw badRequest(`Invalid input for query parameters ${name}. Value: ${v}. '${v}' does not match '^[0-9]*$'`);
    return Number(v);
  };
  const offset = num('offset') ?? 0;
  const limit = Math.min(num('limit') ?? 1000, 1000);
  return items.slice(offset, offset + limit);
}

async function index(ctx: RequestContext) {
  const srv = (await visibleServer(ctx)).value;
  const page = limited(ctx, volumesOf(srv));
  if (!ctx.microversion?.atLeast('2.89')) return json({ volumeAttachments: page.map((m) => view(ctx, srv, m)) });
  // 2.89: a mapping without a Cinder attachment is left out (after the paging, as Nova's loop skips it).
  const ids = await Promise.all(page.map((m) => attachmentIds(ctx.services, srv, m)));
  return json({ volumeAttachments: page.flatMap((m, i) => (ids[i] ? [view(ctx, srv, m, ids[i])] : [])) });
}

async function show(ctx: RequestContext) {
  const srv = (await visibleServer(ctx)).value;
  const m = volumesOf(srv).find((x) => x.volume_id === ctx.params.volume_id);
  if (!m) throw notAttached(srv.id, ctx.params.volume_id);
  if (!ctx.microversion?.atLeast('2.89')) return json({ volumeAttachment: view(ctx, srv, m) });
  const ids = await attachmentIds(ctx.services, srv, m);
  if (!ids) throw notAttached(srv.id, ctx.params.volume_id);
  return json({ volumeAttachment: view(ctx, srv, m, ids) });
}

async function create(ctx: RequestContext) {
  const s = ctx.services;
  const b = validateBody<{ volumeAttachment: { volumeId: string; device?: string | null; tag?: string; delete_on_termination?: boolean | string } }>(
    schemaAt(ctx.microversion, createSchemas),
    ctx.body,
  ).volumeAttachment;
  // 2.79: the attachment's delete_on_termination (default false, as below 2.79).
  const deleteOnTermination = truthy(b.delete_on_termination);
  const cur = await visibleServer(ctx);
  const srv = cur.value;
  checkInstanceLock(srv, ctx.auth!);
  checkAttachState(ctx, srv, 'attach_volume');
  // The caller's volume (admins: any project's), else Nova's VolumeNotFound (404).
  const vol = await volumeApi.get(ctx, b.volumeId);
  const v = vol.value;
  if (volumesOf(srv).some((m) => m.volume_id === v.id)) throw badRequest(`Invalid volume: volume ${v.id} already attached`);
  // 2.49: Azure cannot tag a data disk for the guest (no metadata service or config drive with device
  // metadata), so a tag gets Nova's answer for a driver without supports_tagged_attach_volume: the
  // compute API's own refusal for a shelved offloaded server, else reserve_block_device_name's (a
  // synchronous call, before the volume is reserved); nothing is recorded.
  if (b.tag !== undefined) {
    if (srv.vm_state === 'shelved_offloaded') throw badRequest('Tagged volume attachment is not supported for shelved-offloaded instances.');
    throw badRequest('Tagged volume attachment is not supported for this server instance.');
  }
  // compute/api.py attach_volume: a multiattach volume is not attached to a shelved-offloaded server
  // (MultiattachToShelvedNotSupported); then check_attach_and_reserve_volume's microversion check.
  if (v.multiattach && srv.vm_state === 'shelved_offloaded') throw badRequest('Attaching multiattach volumes is not supported for shelved-offloaded instances.');
  checkMultiattachVersion(ctx, v);
  // Cinder's reserve: available; a multiattach volume, in-use on other servers too (2.60).
  const reservable = (v.status === 'available' && v.attach_status === 'detached') || (v.multiattach === true && v.status === 'in-use');
  if (!reservable) throw volumeApi.notAvailable(v);
  const max = (await s.azure.vms.maxDataDisks(srv.flavor.vm_size)) ?? 0;
  const tooMany = () => forbidden(`The maximum allowed number of disk devices (${max}) to attach to a single instance has been exceeded.`);
  const lun = freeLun(srv, max);
  if (lun === undefined) throw tooMany();
  // The requested device name is not honoured (as libvirt since Queens): Azure places disks by LUN.
  const device = deviceForLun(lun);
  const reserved = await volumeApi.reserve(s, vol.partitionKey, v.id, srv.id, device);
  if (!reserved) throw volumeApi.notAvailable((await volumeApi.get(ctx, b.volumeId)).value);
  const attachmentId = volumeApi.attachmentOn(reserved.value, srv.id)?.id;
  // The LUN is taken under the server's ETag: a concurrent attach or a state change refuses this one.
  let refusal: Error | undefined;
  let mapping: ServerVolume | undefined;
  const action = await startAction(s, srv, 'attach_volume', ctx.requestId, ctx.auth!.userId, 'compute_attach_volume');
  const stored = await updateServer(s, cur, (x) => {
    refusal = undefined;
    mapping = undefined;
    try {
      checkAttachState(ctx, x, 'attach_volume');
    } catch (e) {
      refusal = e as Error;
      return undefined;
    }
    if (volumesOf(x).some((m) => m.volume_id === v.id)) {
      refusal = badRequest(`Invalid volume: volume ${v.id} already attached`);
      return undefined;
    }
    const l = freeLun(x, max);
    if (l === undefined) {
      refusal = tooMany();
      return undefined;
    }
    mapping = {
      volume_id: v.id,
      volume_project_id: vol.partitionKey,
      lun: l,
      device: deviceForLun(l),
      status: 'attaching',
      delete_on_termination: deleteOnTermination,
      action: action.rowKey,
      // 2.89: Nova's bdm uuid, and the Cinder attachment the reserve made (attachment_create).
      bdm_uuid: randomUUID(),
      ...(attachmentId ? { attachment_id: attachmentId } : {}),
    };
    return withVolumes(x, [...volumesOf(x), mapping]);
  });
  if (!stored || refusal || !mapping) {
    await volumeApi.detach(s, vol.partitionKey, v.id, srv.id);
    await finishAction(s, action, false);
    throw refusal ?? ((await getServerAny(s, srv.id)) ? badRequest(`Invalid volume: volume ${v.id} already attached`) : notFound(`Instance ${srv.id} could not be found.`));
  }
  await startWork(s, { kind: ATTACH_KIND, id: srv.id, key: v.id, data: { volume: v.id }, requestId: ctx.requestId });
  // 2.20: Nova attaches to a shelved offloaded server without a host and answers device null
  // (_attach_volume_shelved_offloaded); Azure takes the disk on the deallocated VM at its LUN.
  if (srv.vm_state === 'shelved_offloaded') return json({ volumeAttachment: { ...view(ctx, srv, mapping), device: null } });
  return json({ volumeAttachment: view(ctx, srv, mapping) });
}

async function remove(ctx: RequestContext) {
  const s = ctx.services;
  const volumeId = ctx.params.volume_id;
  const cur = await visibleServer(ctx);
  const srv = cur.value;
  if (srv.vm_state === 'shelved' || srv.vm_state === 'shelved_offloaded') checkAttachState(ctx, srv, 'detach_volume');
  const vol = await volumeApi.get(ctx, volumeId);
  const m = volumesOf(srv).find((x) => x.volume_id === vol.value.id);
  if (!m) throw notAttached(srv.id, volumeId);
  if (m.lun === null) throw badRequest('Cannot detach a root device volume');
  checkInstanceLock(srv, ctx.auth!);
  checkAttachState(ctx, srv, 'detach_volume');
  const detaching = await volumeApi.beginDetaching(s, m.volume_project_id, m.volume_id, srv.id);
  if (!detaching) throw badRequest("Invalid volume: Unable to detach volume. Volume status must be 'in-use' and attach_status must be 'attached' to detach.");
  const action = await startAction(s, srv, 'detach_volume', ctx.requestId, ctx.auth!.userId, 'compute_detach_volume');
  await updateServer(s, cur, (x) =>
    withVolumes(
      x,
      volumesOf(x).map((y) => (y.volume_id === m.volume_id ? { ...y, status: 'detaching', action: action.rowKey } : y)),
    ),
  );
  await startWork(s, { kind: DETACH_KIND, id: srv.id, key: m.volume_id, data: { volume: m.volume_id }, requestId: ctx.requestId });
  return accepted();
}

/**
 * The swap (Nova's _update_volume_swap; every PUT below 2.85, one naming another volume from it):
 * checked as Nova's API and compute API check it; Azure has no in-place swap, so the compute side fails
 * as a driver without swap_volume does (NotImplementedError): the answer is 202, nothing changes and
 * the instance action records the error.
 */
async function swap(ctx: RequestContext, srv: ServerRecord, oldId: string, newId: string) {
  const s = ctx.services;
  const oldVol = await volumeApi.get(ctx, oldId);
  const newVol = await volumeApi.get(ctx, newId).catch((e) => {
    throw badRequest((e as Error).message);
  });
  checkInstanceLock(srv, ctx.auth!);
  checkInstanceState(srv, 'swap_volume', { vm: ['active', 'paused', 'resized'], task: [null] });
  const m = volumesOf(srv).find((x) => x.volume_id === oldVol.value.id);
  if (!m) throw bdmNotFound(oldId);
  if (!volumeApi.attachmentOn(oldVol.value, srv.id)) throw badRequest('Invalid volume: Old volume is attached to a different instance.');
  if (newVol.value.attach_status === 'attached') throw badRequest('Invalid volume: New volume must be detached in order to swap.');
  if (newVol.value.size < oldVol.value.size) throw badRequest('Invalid volume: New volume must be the same size or larger.');
  // compute/api.py swap_volume: a multiattach volume with more than one read/write attachment is not swapped
  // (counted after the sizes, as Nova counts after begin_detaching).
  if (oldVol.value.multiattach && volumeApi.attachmentsOf(oldVol.value).length > 1) {
    throw badRequest('Swapping multi-attach volumes with more than one read/write attachment is not supported.');
  }
  const action = await startAction(s, srv, 'swap_volume', ctx.requestId, ctx.auth!.userId, 'compute_swap_volume');
  await finishAction(s, action, false, 'NotImplementedError: Swap only supports host devices');
}

const bdmNotFound = (volumeId: string) => notFound(`No volume Block Device Mapping with id ${volumeId}.`);

/**
 * 2.85, Nova's _update_volume_regular: the mapping of the volume in the path (404), the keys that cannot
 * change compared with it (400 each), then delete_on_termination written. No lock or state check, as
 * Nova's (a bdm.save); the server's updated_at stays, as the instance row is not touched.
 */
async function updateAttachment(ctx: RequestContext, cur: Stored<ServerRecord>, volumeId: string, att: UpdateBody) {
  const srv = cur.value;
  const m = volumesOf(srv).find((x) => x.volume_id === volumeId);
  if (!m) throw bdmNotFound(volumeId);
  // The attachment's id is its (current) volume's id.
  if (att.id !== undefined && att.id !== volumeId) throw badRequest('The id property is not mutable');
  if (att.serverId !== undefined && att.serverId !== srv.id) throw badRequest('The serverId property is not mutable');
  if (att.device !== undefined && att.device !== m.device) throw badRequest('The device property is not mutable');
  // No mapping carries a tag on Jacket (2.49/2.70), and the schema's tag is a string: any tag differs.
  if (att.tag !== undefined) throw badRequest('The tag property is not mutable');
  if (att.delete_on_termination === undefined) return;
  const deleteOnTermination = truthy(att.delete_on_termination);
  // Under the server's ETag (serverRepo.update retries on a concurrent change), without updateServer's
  // updated_at; a mapping gone meanwhile (its detach finished) is Nova's 404.
  let found = false;
  await serverRepo(ctx.services).update(cur.partitionKey, cur.rowKey, (x) => {
    found = volumesOf(x).some((y) => y.volume_id === volumeId);
    if (!found) return undefined;
    return withVolumes(
      x,
      volumesOf(x).map((y) => (y.volume_id === volumeId ? { ...y, delete_on_termination: deleteOnTermination } : y)),
    );
  });
  if (!found) throw bdmNotFound(volumeId);
}

/** PUT /servers/{id}/os-volume_attachments/{volume_id}: a swap below 2.85; from it an update, then a swap when volumeId is another volume. */
async function update(ctx: RequestContext) {
  const att = validateBody<{ volumeAttachment: UpdateBody }>(schemaAt(ctx.microversion, updateSchemas), ctx.body).volumeAttachment;
  const cur = await visibleServer(ctx);
  const srv = cur.value;
  const id = ctx.params.volume_id;
  if (ctx.microversion?.atLeast('2.85')) {
    // Written first, and kept whatever the swap then answers, as Nova saves the bdm before swapping.
    await updateAttachment(ctx, cur, id, att);
    if (att.volumeId === id) return accepted();
  }
  await swap(ctx, srv, id, att.volumeId);
  return accepted();
}

/**
 * Nova's update picks its policy by what the PUT does: below 2.85, or naming another volume, the swap's
 * (`:swap`, admin or service: Cinder's volume migration calls it); from 2.85 naming the same volume the
 * update's (`:update`, project member). A body without a volumeId string gets the update's, so a member
 * is answered the schema's 400 as Nova answers it (its schema is checked before its policy).
 */
const updatePolicy = (body: unknown, ctx: RequestContext): 'os_compute_api:os-volumes-attachments:swap' | 'os_compute_api:os-volumes-attachments:update' => {
  if (!ctx.microversion?.atLeast('2.85')) return 'os_compute_api:os-volumes-attachments:swap';
  const volumeId = (body as { volumeAttachment?: { volumeId?: unknown } } | null)?.volumeAttachment?.volumeId;
  return typeof volumeId === 'string' && volumeId !== ctx.params.volume_id ? 'os_compute_api:os-volumes-attachments:swap' : 'os_compute_api:os-volumes-attachments:update';
};

export const volumeAttachmentRoutes: Route[] = [
  computeRoute('volume-attachments-list', 'GET', '/servers/{server_id}/os-volume_attachments', 'os_compute_api:os-volumes-attachments:index', index, { strictQuery: strictQuery(['limit', 'offset']) }),
  computeRoute('volume-attachments-create', 'POST', '/servers/{server_id}/os-volume_attachments', 'os_compute_api:os-volumes-attachments:create', create),
  computeRoute('volume-attachments-show', 'GET', '/servers/{server_id}/os-volume_attachments/{volume_id}', 'os_compute_api:os-volumes-attachments:show', show),
  computeRoute('volume-attachments-update', 'PUT', '/servers/{server_id}/os-volume_attachments/{volume_id}', updatePolicy, update),
  computeRoute('volume-attachments-delete', 'DELETE', '/servers/{server_id}/os-volume_attachments/{volume_id}', 'os_compute_api:os-volumes-attachments:delete', remove),
];
