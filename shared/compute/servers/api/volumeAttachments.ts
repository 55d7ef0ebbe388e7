// /servers/{server_id}/os-volume_attachments (nova/api/openstack/compute/volume_attachments.py at 2.1):
// list, attach, show, detach, and swap (PUT) answered as Nova answers it for a driver without
// swap_volume. Attach and detach are checked and recorded here (the server's mapping with its LUN, the
// volume attaching/detaching), then the Azure side runs on the work queue (volumeAttachWork.ts).
import type { RequestContext, Route } from '../../../http/router';
import { accepted, json } from '../../../http/respond';
import { badRequest, forbidden, notFound } from '../../../http/errors';
import { schemaAt, validateBody, type SchemaByVersion } from '../../../api/validation';
import { computeRoute } from '../../common';
import { checkInstanceLock, checkInstanceState, getServerAny, updateServer, visibleServer, type ServerRecord, type VmState } from '../model';
import { finishAction, startAction } from '../instanceActions';
import { deviceForLun, freeLun, volumesOf, withVolumes, type ServerVolume } from '../volumes';
import { ATTACH_KIND, DETACH_KIND } from '../work/volumeAttach';
import { startWork } from '../../../work/ledger';
import { checkMultiattachVersion } from '../bootVolume';
import { volumeApi } from '../../../volume/computeApi';
import { strictQuery } from '../../../http/router';

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

/** parameter_types.boolean: a JSON boolean or one of oslo's spellings of one. */
const BOOLEAN = {
  type: ['boolean', 'string'],
  enum: [true, 'True', 'TRUE', 'true', '1', 'ON', 'On', 'on', 'YES', 'Yes', 'yes', false, 'False', 'FALSE', 'false', '0', 'OFF', 'Off', 'off', 'NO', 'No', 'no'],
};

/** volume_attachments.create_v279 (2.79 on): `delete_on_termination`. */
const createV279Schema = {
  ...createV249Schema,
  properties: {
    volumeAttachment: {
      ...createV249Schema.properties.volumeAttachment,
      properties: { ...createV249Schema.properties.volumeAttachment.properties, delete_on_termination: BOOLEAN },
    },
  },
};

const createSchemas: SchemaByVersion = [
  ['2.1', createSchema],
  ['2.49', createV249Schema],
  ['2.79', createV279Schema],
];

/** oslo strutils.bool_from_string of a value parameter_types.boolean admitted. */
const truthy = (v: boolean | string | undefined) => v === true || (typeof v === 'string' && ['true', '1', 'on', 'yes'].includes(v.toLowerCase()));

/** volume_attachments.update (2.0–2.84). */
const updateSchema = {
  type: 'object',
  required: ['volumeAttachment'],
  additionalProperties: false,
  properties: {
    volumeAttachment: { type: 'object', required: ['volumeId'], additionalProperties: false, properties: { volumeId: { type: 'string', format: 'uuid' } } },
  },
};

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
 */
function view(ctx: RequestContext, srv: ServerRecord, m: ServerVolume) {
  return {
    id: m.volume_id,
    serverId: srv.id,
    volumeId: m.volume_id,
    device: m.device,
    ...(ctx.microversion?.atLeast('2.70') ? { tag: null } : {}),
    // 2.79: whether deleting the server deletes the volume (set at boot, or by the attach from 2.79).
    ...(ctx.microversion?.atLeast('2.79') ? { delete_on_termination: m.delete_on_termination } : {}),
  };
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
  return json({ volumeAttachments: limited(ctx, volumesOf(srv)).map((m) => view(ctx, srv, m)) });
}

async function show(ctx: RequestContext) {
  const srv = (await visibleServer(ctx)).value;
  const m = volumesOf(srv).find((x) => x.volume_id === ctx.params.volume_id);
  if (!m) throw notAttached(srv.id, ctx.params.volume_id);
  return json({ volumeAttachment: view(ctx, srv, m) });
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
    mapping = { volume_id: v.id, volume_project_id: vol.partitionKey, lun: l, device: deviceForLun(l), status: 'attaching', delete_on_termination: deleteOnTermination, action: action.rowKey };
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
 * PUT (swap_volume): checked as Nova's API and compute API check it; Azure has no in-place swap, so the
 * compute side fails as a driver without swap_volume does (NotImplementedError): the answer is 202,
 * nothing changes and the instance action records the error.
 */
async function swap(ctx: RequestContext) {
  const s = ctx.services;
  const oldId = ctx.params.volume_id;
  const b = validateBody<{ volumeAttachment: { volumeId: string } }>(updateSchema, ctx.body).volumeAttachment;
  const oldVol = await volumeApi.get(ctx, oldId);
  const newVol = await volumeApi.get(ctx, b.volumeId).catch((e) => {
    throw badRequest((e as Error).message);
  });
  const srv = (await visibleServer(ctx)).value;
  checkInstanceLock(srv, ctx.auth!);
  checkInstanceState(srv, 'swap_volume', { vm: ['active', 'paused', 'resized'], task: [null] });
  const m = volumesOf(srv).find((x) => x.volume_id === oldVol.value.id);
  if (!m) throw notFound(`No volume Block Device Mapping with id ${oldId}.`);
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
  return accepted();
}

export const volumeAttachmentRoutes: Route[] = [
  computeRoute('volume-attachments-list', 'GET', '/servers/{server_id}/os-volume_attachments', 'os_compute_api:os-volumes-attachments:index', index, { strictQuery: strictQuery(['limit', 'offset']) }),
  computeRoute('volume-attachments-create', 'POST', '/servers/{server_id}/os-volume_attachments', 'os_compute_api:os-volumes-attachments:create', create),
  computeRoute('volume-attachments-show', 'GET', '/servers/{server_id}/os-volume_attachments/{volume_id}', 'os_compute_api:os-volumes-attachments:show', show),
  computeRoute('volume-attachments-swap', 'PUT', '/servers/{server_id}/os-volume_attachments/{volume_id}', 'os_compute_api:os-volumes-attachments:swap', swap),
  computeRoute('volume-attachments-delete', 'DELETE', '/servers/{server_id}/os-volume_attachments/{volume_id}', 'os_compute_api:os-volumes-attachments:delete', remove),
];
