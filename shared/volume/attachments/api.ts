// /v3/{project_id}/attachments (cinder/api/v3/attachments.py, 3.27 NEW_ATTACH): Cinder's attachment
// records. A volume's attachments live on the volume record (service.ts; several for a multiattach
// volume); these routes read and write them there.
//   - An attachment Jacket's Nova made (server volume attach, boot from volume) is listed and shown
//     with the connection info its attach used; it is Nova's to remove: a DELETE here is Cinder's 409
//     ConflictNovaUsingAttachment (Bug #2004555: a user deleting the attachment of a connected volume),
//     and an update hands back its connection info without changing it (the disk is on the VM already).
//   - An attachment made here is what Cinder makes: a record (reserved; with a connector, attaching),
//     for a consumer that connects the volume itself. On Azure nothing but a VM can connect a managed
//     disk, so no VM gets the disk from it; Jacket's Nova attaches through its own API. DELETE removes
//     it and the volume is available again; os-complete (3.44) marks it attached and the volume in-use.
import { randomUUID } from 'node:crypto';
import type { RequestContext, Route } from '../../http/router';
import type { Services } from '../../services';
import { json, noContent } from '../../http/respond';
import { badRequest, conflict, notFound } from '../../http/errors';
import { schemaAt, validateBody, type SchemaByVersion } from '../../api/validation';
import { authorize, isAdmin } from '../../api/policy';
import { pageRequest } from '../../api/pagination';
import type { Stored } from '../../store/tables';
import { actionName, cinderRoute, cinderTime, compareBy, offsetParam, pageAfter, projectOf, sortParams } from '../common';
import { findVolume, volumeTables, type VolumeRecord } from '../model';
import { STORAGE_PROTOCOL } from '../pools/api';
import {
  attachmentById,
  attachmentsOf,
  attachStatusOf,
  completeAttachment,
  connectionData,
  dropAttachment,
  transition,
  withAttachments,
  type AttachableVolume,
  type VolumeAttachment,
} from './service';
import { generalFiltering, likeMatches, queryFilters } from '../filters';

export const NEW_ATTACH = '3.27';
const since = { versions: { min: NEW_ATTACH } };

/** schemas/attachments.py create (3.27-3.53) */
const createSchema = {
  type: 'object',
  properties: {
    attachment: {
      type: 'object',
      properties: { instance_uuid: { type: 'string', format: 'uuid' }, connector: { type: ['object', 'null'] }, volume_uuid: { type: 'string', format: 'uuid' } },
      required: ['volume_uuid'],
      additionalProperties: false,
    },
  },
  required: ['attachment'],
  additionalProperties: false,
};

/** ATTACHMENT_CREATE_MODE_ARG (3.54): create_v354 takes the attach `mode`. */
export const ATTACHMENT_CREATE_MODE_ARG = '3.54';
const createSchema354 = structuredClone(createSchema);
(createSchema354.properties.attachment.properties as Record<string, unknown>).mode = { type: 'string', enum: ['rw', 'ro'] };
const CREATE_SCHEMAS: SchemaByVersion = [
  ['3.0', createSchema],
  [ATTACHMENT_CREATE_MODE_ARG, createSchema354],
];

/** schemas/attachments.py update */
const updateSchema = {
  type: 'object',
  properties: {
    attachment: { type: 'object', properties: { connector: { type: 'object', minProperties: 1 } }, required: ['connector'], additionalProperties: false },
  },
  required: ['attachment'],
  additionalProperties: false,
};

interface Found {
  volume: Stored<AttachableVolume>;
  attachment: VolumeAttachment;
}

const statusOf = attachStatusOf;

/** views/attachments.py summary */
const summary = ({ volume, attachment: a }: Found) => ({ id: a.id, status: statusOf(volume.value, a), instance: a.server_id, volume_id: volume.value.id });

/** views/attachments.py detail: times as normalize_time gives them ('' when unset); Nova's carry their connection. */
function detail(f: Found) {
  const { volume, attachment: a } = f;
  const connected = a.origin !== 'cinder' || a.connector !== undefined;
  return {
    ...summary(f),
    attached_at: a.attached_at ?? '',
    detached_at: '',
    attach_mode: a.attach_mode ?? 'rw',
    connection_info: connected ? { driver_volume_type: STORAGE_PROTOCOL, attachment_id: a.id, ...connectionData(volume.value) } : {},
  };
}

/** The projects whose attachments a request sees: its own, or (an admin's all_tenants) every one. */
async function projectsOf(ctx: RequestContext, all: boolean): Promise<string[]> {
  if (!all) return [projectOf(ctx)];
  return [...new Set((await volumeTables(ctx.services).index.list('volume')).map((r) => r.value.project_id))];
}

/** Every attachment in these projects (one read of each project's volumes). */
async function attachmentsIn(s: Services, projects: string[]): Promise<Found[]> {
  const out: Found[] = [];
  for (const p of projects) {
    for (const r of await volumeTables(s).volumes.list(p)) {
      for (const a of attachmentsOf(r.value)) out.push({ volume: r as Stored<AttachableVolume>, attachment: a });
    }
  }
  return out;
}

const attachmentNotFound = (id: string) => notFound(`Volume attachment could not be found with filter: attachment_id = ${id}.`);

/** VolumeAttachment.get_by_id: the caller's project's, or for an admin any project's. */
async function findAttachment(ctx: RequestContext, id: string): Promise<Found> {
  const own = (await attachmentsIn(ctx.services, [projectOf(ctx)])).find((f) => f.attachment.id === id);
  if (own) return own;
  // An admin's: the other projects (the own one was just read).
  const others = isAdmin(ctx.auth!) ? (await projectsOf(ctx, true)).filter((p) => p !== projectOf(ctx)) : [];
  const any = (await attachmentsIn(ctx.services, others)).find((f) => f.attachment.id === id);
  if (!any) throw attachmentNotFound(id);
  return any;
}

/** The filters members may use (allowed_filters); others are dropped for them, as remove_invalid_filter_options does. */
const ALLOWED = ['volume_id', 'status', 'instance_id', 'attach_status'];
/** The VolumeAttachment columns a filter (or a sort) may name, with how Jacket reads each. */
const COLUMNS: Record<string, (f: Found) => unknown> = {
  id: (f) => f.attachment.id,
  volume_id: (f) => f.volume.value.id,
  instance_uuid: (f) => f.attachment.server_id,
  attached_host: (f) => f.attachment.host_name,
  mountpoint: (f) => f.attachment.device,
  attach_time: (f) => f.attachment.attached_at,
  attach_mode: (f) => f.attachment.attach_mode ?? 'rw',
  attach_status: (f) => statusOf(f.volume.value, f.attachment),
  created_at: (f) => f.attachment.created_at ?? f.attachment.attached_at,
  updated_at: (f) => f.volume.value.updated_at,
};

function listing(detailed: boolean) {
  return async (ctx: RequestContext) => {
    const q = ctx.query;
    const admin = isAdmin(ctx.auth!);
    const sort = sortParams(q, Object.keys(COLUMNS));
    const page = pageRequest(q);
    const offset = offsetParam(q);
    // From 3.31 the generic resource filters: a member's key outside the configured ones is a 400.
    const filters = queryFilters(q);
    generalFiltering(ctx, filters, 'attachment');
    let all = await attachmentsIn(ctx.services, await projectsOf(ctx, admin && filters.has('all_tenants')));
    for (const [key, v] of filters) {
      if (key === 'all_tenants' || (!admin && !ALLOWED.includes(key))) continue;
      const k = key === 'instance_id' ? 'instance_uuid' : key.replace(/~$/, '');
      // db is_valid_model_filters: a key that is no VolumeAttachment column (`status` among them) matches
      // nothing; `key~` is apply_like_filters' LIKE.
      const get = COLUMNS[k];
      all = get ? all.filter((f) => (key.endsWith('~') ? likeMatches(get(f), v) : String(get(f) ?? '') === v)) : [];
    }
    const rows = all.map((f) => ({ id: f.attachment.id, f }));
    rows.sort(compareBy<{ f: Found }>(sort, (r, k) => COLUMNS[k](r.f)));
    const items = pageAfter(rows, page.marker, page.limit, attachmentNotFound, offset);
    return json({ attachments: items.map((r) => (detailed ? detail(r.f) : summary(r.f))) });
  };
}

async function show(ctx: RequestContext) {
  return json({ attachment: detail(await findAttachment(ctx, ctx.params.attachment_id)) });
}

/** The volume must not be in an error state to take or change an attachment (both checks read "error" in the status). */
const inError = (v: VolumeRecord) => v.status.includes('error');

/**
 * volume/api.py attachment_create: the volume (404), the policy on it, its state, then the reserve
 * (available or downloading -> reserved, under the volume's ETag); with a connector the connection is
 * made at once (the manager's attachment_update: attaching). 200 with the attachment.
 */
async function create(ctx: RequestContext) {
  const b = validateBody<{ attachment: { volume_uuid: string; instance_uuid?: string; connector?: Record<string, unknown> | null; mode?: 'rw' | 'ro' } }>(
    schemaAt(ctx.microversion, CREATE_SCHEMAS),
    ctx.body,
  ).attachment;
  const cur = await findVolume(ctx, b.volume_uuid);
  authorize(ctx, 'volume:attachment_create', { projectId: cur.value.project_id });
  const v = cur.value;
  if (inError(v)) {
    throw badRequest(`Invalid volume: Volume attachments can not be created if the volume is in an error state. The Volume ${v.id} currently has a status of: ${v.status} `);
  }
  const now = cinderTime();
  const connector = b.connector ?? undefined;
  const attachment: VolumeAttachment = {
    id: randomUUID(),
    server_id: b.instance_uuid ?? null,
    host_name: null,
    device: null,
    attached_at: null,
    origin: 'cinder',
    status: 'reserved',
    attach_mode: 'null',
    created_at: now,
    ...(connector ? connected(connector) : {}),
    // 3.54: the mode asked, which wins over the connector's — unless the volume is read-only by its admin
    // metadata (the deprecated way, which Cinder still honours first).
    ...(b.mode ? { attach_mode: v.admin_metadata?.readonly === 'True' ? 'ro' : b.mode } : {}),
  };
  // _attachment_reserve: a non-multiattach volume is reserved only from available or downloading, a
  // multiattach one from in-use too. (Cinder lets the same instance reserve an in-use volume again for
  // a live migration, which needs a second attachment; Jacket has no live migration, so that is refused.)
  const statuses = v.multiattach ? ['available', 'in-use', 'downloading'] : ['available', 'downloading'];
  const done = await transition(
    ctx.services,
    cur.partitionKey,
    cur.rowKey,
    // Jacket's only downloading volume is one being reimaged (3.68, volumes/reimage.ts): its disk is being
    // swapped, so it takes no new attachment until the swap is done (Cinder's reserve from downloading is
    // for a volume being created from an image, which Jacket's volumes do in creating).
    (x) => statuses.includes(x.status) && !x.reimage && (x.multiattach === true || attachmentsOf(x).length === 0),
    (x) => withAttachments({ ...x, status: connector ? 'attaching' : 'reserved', ...(connector ? { attach_status: 'attaching' as const } : {}) }, [...attachmentsOf(x), attachment]),
  );
  if (!done) {
    const status = (await volumeTables(ctx.services).volumes.get(cur.partitionKey, cur.rowKey))?.value.status ?? v.status;
    throw badRequest(`Invalid volume: Volume ${v.id} status must be ${statuses.join(' or ')} to reserve, but the current status is ${status}.`);
  }
  return json({ attachment: detail({ volume: done, attachment }) });
}

/** db.volume_attached(mark_attached=False) from a connector: attaching, its host, mountpoint and mode. */
function connected(connector: Record<string, unknown>): Partial<VolumeAttachment> {
  const str = (k: string, d: string | null) => (typeof connector[k] === 'string' ? (connector[k] as string) : d);
  return { connector, status: 'attaching', host_name: str('host', ''), device: str('mountpoint', 'na'), attach_mode: str('mode', 'rw') ?? 'rw', attached_at: cinderTime() };
}

/**
 * attachment_update: the policy, the volume not in error (409 ResourceConflict), then the connection.
 * Nova's own attachments are connected already: their view comes back unchanged.
 */
async function update(ctx: RequestContext) {
  const connector = validateBody<{ attachment: { connector: Record<string, unknown> } }>(updateSchema, ctx.body).attachment.connector;
  const f = await findAttachment(ctx, ctx.params.attachment_id);
  authorize(ctx, 'volume:attachment_update', { projectId: f.volume.value.project_id });
  const v = f.volume.value;
  if (inError(v)) {
    throw conflict(`Resource conflict: Volume attachments can not be updated if the volume is in an error state. The Volume ${v.id} currently has a status of: ${v.status} `);
  }
  if (f.attachment.origin !== 'cinder') return json({ attachment: detail(f) });
  // A reserved volume being reimaged (reimage_reserved, 3.68) is connected once the reimage is done, as
  // Nova's rebuild waits for it: until then the volume stays downloading.
  if (v.reimage) throw conflict(`Invalid volume: Volume ${v.id} is being reimaged; its status is ${v.status}.`);
  let next: VolumeAttachment | undefined;
  const done = await transition(
    ctx.services,
    f.volume.partitionKey,
    f.volume.rowKey,
    (x) => attachmentById(x, f.attachment.id) !== undefined && !x.reimage,
    (x) => {
      const cur = attachmentById(x, f.attachment.id)!;
      next = { ...cur, ...connected(connector), attach_mode: cur.attach_mode !== 'null' && cur.attach_mode ? cur.attach_mode : String(connector.mode ?? 'rw') };
      return withAttachments(
        { ...x, status: 'attaching', attach_status: 'attaching' },
        attachmentsOf(x).map((a) => (a.id === next!.id ? next! : a)),
      );
    },
  );
  if (!done || !next) throw attachmentNotFound(f.attachment.id);
  return json({ attachment: detail({ volume: done, attachment: next }) });
}

/**
 * attachment_delete: the policy, then attachment_deletion_allowed — an attachment of a server's
 * connected volume is Nova's to remove (409) — then the attachment is gone: the volume available and
 * detached when it was the last, else in-use. The answer lists the volume's remaining attachments.
 */
async function remove(ctx: RequestContext) {
  const f = await findAttachment(ctx, ctx.params.attachment_id);
  authorize(ctx, 'volume:attachment_delete', { projectId: f.volume.value.project_id });
  const a = f.attachment;
  if (a.origin !== 'cinder' && a.server_id) throw conflict(`Detach volume from instance ${a.server_id} using the Compute API`);
  const done = await transition(
    ctx.services,
    f.volume.partitionKey,
    f.volume.rowKey,
    (x) => attachmentById(x, a.id) !== undefined,
    (x) => dropAttachment(x, a.id),
  );
  if (!done) throw attachmentNotFound(a.id);
  return json({ attachments: attachmentsOf(done.value).map((left) => summary({ volume: done, attachment: left })) });
}

/** mv.NEW_ATTACH_COMPLETION */
export const NEW_ATTACH_COMPLETION = '3.44';

/** schemas/attachments.py complete: the key, with any value. */
const completeSchema = { type: 'object', properties: { 'os-complete': {} }, required: ['os-complete'], additionalProperties: false };

/**
 * POST /attachments/{id}/action, whose one action is os-complete (3.44): Cinder's wsgi reads the action
 * from the body first (400 for a malformed body or another action, at any version); the versioned
 * method then answers a bare 404 below 3.44; then the schema, the attachment (404), the policy on its
 * volume's project, and the change (completeAttachment). 204 with no body.
 */
async function action(ctx: RequestContext) {
  const name = actionName(ctx);
  if (name !== 'os-complete') throw badRequest(`There is no such action: ${name}`);
  if (!ctx.microversion?.atLeast(NEW_ATTACH_COMPLETION)) throw notFound('The resource could not be found.');
  validateBody(completeSchema, ctx.body);
  const f = await findAttachment(ctx, ctx.params.attachment_id);
  authorize(ctx, 'volume:attachment_complete', { projectId: f.volume.value.project_id });
  if (!(await completeAttachment(ctx.services, f.volume.partitionKey, f.volume.rowKey, f.attachment.id))) throw attachmentNotFound(f.attachment.id);
  return noContent();
}

/** The bodies' schemas come before the policies (Cinder's decorators), and the lookups before them too. */
export const attachmentRoutes: Route[] = [
  cinderRoute('attachments-create', 'POST', '/attachments', 'authenticated', create, since),
  cinderRoute('attachments-list', 'GET', '/attachments', 'authenticated', listing(false), since),
  cinderRoute('attachments-detail', 'GET', '/attachments/detail', 'authenticated', listing(true), since),
  cinderRoute('attachments-show', 'GET', '/attachments/{attachment_id}', 'authenticated', show, since),
  cinderRoute('attachments-update', 'PUT', '/attachments/{attachment_id}', 'authenticated', update, since),
  cinderRoute('attachments-delete', 'DELETE', '/attachments/{attachment_id}', 'authenticated', remove, since),
  // The action route itself is not versioned upstream (an unknown action is 400 at any version); os-complete is (action).
  cinderRoute('attachments-action', 'POST', '/attachments/{attachment_id}/action', 'authenticated', action),
];
