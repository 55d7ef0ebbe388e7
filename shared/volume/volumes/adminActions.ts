// Volume actions of Cinder's admin_actions.py and volume_actions.py that change a volume's record
// beyond the owner's own checks: os-force_delete (admins; volume/api.py delete with force) and
// os-update_readonly_flag (the readonly admin metadata), os-force_detach (admins; volume/api.py detach
// after terminate_connection). docs/volumes.md, "Admin actions".
import type { RequestContext } from '../../http/router';
import { accepted } from '../../http/respond';
import { badRequest, conflict } from '../../http/errors';
import { startWork } from '../../work/ledger';
import { attachmentById, attachmentsOf, beginForceDetach, finishForceDetach } from '../attachments/service';
import { FORCE_DETACH_KIND } from '../computeApi';
import { validateBody } from '../../api/validation';
import { authorize } from '../../api/policy';
import { booleanSchema, cinderTime } from '../common';
import { findVolume, volumeTables } from '../model';
import { deleteVolume } from './service';

/** admin_actions.force_delete_volume: the key with any value (`{}` or null). */
const forceDeleteSchema = { type: 'object', required: ['os-force_delete'], additionalProperties: false, properties: { 'os-force_delete': {} } };

/** os-force_delete: a delete without the status condition (the attachment, migration and snapshot ones stay). */
export async function forceDeleteVolume(ctx: RequestContext) {
  validateBody(forceDeleteSchema, ctx.body);
  await deleteVolume(ctx, await findVolume(ctx, ctx.params.volume_id), false, true);
  return accepted();
}

/** volume_actions.volume_readonly_update: `readonly` one of Cinder's boolean strings (strict). */
const readonlySchema = {
  type: 'object',
  required: ['os-update_readonly_flag'],
  additionalProperties: false,
  properties: { 'os-update_readonly_flag': { type: 'object', required: ['readonly'], additionalProperties: false, properties: { readonly: booleanSchema } } },
};
const TRUE = [true, 'True', 'TRUE', 'true', '1', 'ON', 'On', 'on', 'YES', 'Yes', 'yes', 'y', 't'];

/**
 * os-update_readonly_flag (volume/api.py update_readonly_flag): only an `available` volume, the flag
 * kept as Cinder's admin metadata `readonly` ('True'/'False', str() of the boolean), which the volume's
 * views show among its metadata. Azure attaches a managed data disk read-write whatever the flag
 * (docs/volumes.md): the flag is a record, as with a Cinder backend whose connector ignores access_mode.
 */
export async function updateReadonlyFlag(ctx: RequestContext) {
  const raw = validateBody<{ 'os-update_readonly_flag': { readonly: boolean | string } }>(readonlySchema, ctx.body)['os-update_readonly_flag'].readonly;
  const flag = TRUE.includes(raw) ? 'True' : 'False';
  const cur = await findVolume(ctx, ctx.params.volume_id);
  const refuse = (status: string) => badRequest(`Invalid volume: Volume ${cur.value.id} status must be available to update readonly flag, but current status is: ${status}.`);
  // Read-modify-write under the ETag: a volume that stopped being available meanwhile is refused too.
  await volumeTables(ctx.services).volumes.update(cur.partitionKey, cur.rowKey, (v) => {
    if (v.status !== 'available') throw refuse(v.status);
    return { ...v, admin_metadata: { ...v.admin_metadata, readonly: flag }, updated_at: cinderTime() };
  });
  return accepted();
}

/** admin_actions.force_detach: both keys optional, connector any string/object/null. */
const forceDetachSchema = {
  type: 'object',
  required: ['os-force_detach'],
  additionalProperties: false,
  properties: {
    'os-force_detach': {
      type: 'object',
      additionalProperties: false,
      properties: { connector: { type: ['string', 'object', 'null'] }, attachment_id: { type: ['string', 'null'] } },
    },
  },
};

/** volume/api.py attachment_deletion_allowed (Bug #2004555) for an attachment id the volume does not carry. */
const notDeletable = () => conflict('Detach volume from instance  using the Compute API');

/**
 * os-force_detach (admin_actions.py _force_detach: terminate_connection, then volume/api.py detach and
 * the manager's detach_volume). The connector is accepted and not used (a managed disk has no export
 * per host). An `attachment_id` the volume does not carry is 409 as attachment_deletion_allowed answers
 * it (nothing changed); without one, the volume's only attachment (a multiattach volume with several:
 * the manager's 400 `Detach volume failed: More than one attachment, but no attachment_id provided.`,
 * InvalidVolume, nothing changed). A volume with no attachment ends
 * available and detached (the manager's "not attached" branch). An attachment to a server: the volume is
 * detaching and compute takes the disk off the VM (Nova's detach, FORCE_DETACH_KIND), after which the
 * volume is available and the server's mapping gone; a host attachment (os-attach with host_name) is a
 * record only and is dropped at once. Azure cannot detach a VM's OS disk: a server's root volume is 400.
 */
export async function forceDetachVolume(ctx: RequestContext) {
  const b = validateBody<{ 'os-force_detach': { connector?: unknown; attachment_id?: string | null } }>(forceDetachSchema, ctx.body)['os-force_detach'];
  const cur = await findVolume(ctx, ctx.params.volume_id);
  const v = cur.value;
  if (v.status === 'maintenance') throw badRequest('Invalid volume: The volume cannot be detached in maintenance mode.');
  const wanted = b.attachment_id ?? null;
  if (wanted === null && attachmentsOf(v).length > 1) throw badRequest('Invalid volume: Detach volume failed: More than one attachment, but no attachment_id provided.');
  const a = wanted === null ? attachmentsOf(v)[0] : attachmentById(v, wanted);
  if (wanted !== null && !a) throw notDeletable();
  const s = ctx.services;
  if (!a) {
    if (!(await finishForceDetach(s, cur.partitionKey, v.id, null))) throw notDeletable();
    return accepted();
  }
  // A host attachment, or one made through Cinder's API (os-attach, the attachments API): no VM holds the disk.
  if (!a.server_id || a.origin === 'cinder') {
    if (!(await finishForceDetach(s, cur.partitionKey, v.id, a.id))) throw notDeletable();
    return accepted();
  }
  if (a.device === '/dev/sda') throw badRequest(`Invalid volume: Volume ${v.id} is the root disk of server ${a.server_id}; Azure cannot detach a VM's OS disk.`);
  if (!(await beginForceDetach(s, cur.partitionKey, v.id, a.id))) throw notDeletable();
  await startWork(s, { kind: FORCE_DETACH_KIND, id: v.id, data: { project: cur.partitionKey, server: a.server_id, attachment: a.id }, requestId: ctx.requestId });
  return accepted();
}

/** admin_actions.extend_volume_completion: `error` a string, null or a boolean, nothing else. */
const extendCompletionSchema = {
  type: 'object',
  required: ['os-extend_volume_completion'],
  additionalProperties: false,
  properties: {
    'os-extend_volume_completion': { type: 'object', additionalProperties: false, properties: { error: { type: ['string', 'null', 'boolean'] } } },
  },
};

/**
 * os-extend_volume_completion (3.71, EXTEND_VOLUME_COMPLETION; admin_actions.py _extend_volume_completion,
 * volume/api.py extend_volume_completion): Nova's word on an attached extend that a Cinder driver left
 * to Nova, its new size and quota reservations in the volume's admin metadata (extend_new_size,
 * extend_reservations). Upstream gates it on no microversion (Nova asks for 3.71 before it calls), so
 * neither does Jacket. Jacket grows an attached disk itself (Azure expands it under the VM) and never
 * waits for Nova, so it never writes those keys: a call is refused by upstream's checks, in upstream's
 * order — not extending, then the metadata missing. A volume whose keys pass (none Jacket makes) only
 * loses them, as upstream does before its manager finishes; Jacket's own extend work finishes it.
 */
export async function extendVolumeCompletion(ctx: RequestContext) {
  validateBody(extendCompletionSchema, ctx.body);
  const cur = await findVolume(ctx, ctx.params.volume_id);
  authorize(ctx, 'volume_extension:volume_admin_actions:extend_volume_completion', { projectId: cur.value.project_id });
  const v = cur.value;
  if (v.status !== 'extending') throw badRequest('Invalid volume: Volume is not being extended.');
  const meta = v.admin_metadata ?? {};
  const missing = badRequest('Invalid volume: Required volume admin metadata is malformed or missing.');
  // Python's int() of the string (surrounding blanks allowed) and json.loads of the reservations.
  const sizeText = meta.extend_new_size;
  if (sizeText === undefined || meta.extend_reservations === undefined || !/^\s*[+-]?\d+\s*$/.test(sizeText)) throw missing;
  let reservations: unknown;
  try {
    reservations = JSON.parse(meta.extend_reservations);
  } catch {
    throw missing;
  }
  // Upstream formats this message with `%` on a bare string, a TypeError its resource handler answers
  // with webob's plain 400.
  if (Number.parseInt(sizeText, 10) <= v.size) throw badRequest('The server could not comply with the request since it is either malformed or otherwise incapable of performing it.');
  if (!Array.isArray(reservations)) throw badRequest('Invalid volume: The stored quota reservations for extending the volume must be in a list format.');
  await volumeTables(ctx.services).volumes.update(cur.partitionKey, cur.rowKey, (x) => {
    const rest = { ...x.admin_metadata };
    delete rest.extend_new_size;
    delete rest.extend_reservations;
    return { ...x, admin_metadata: rest, updated_at: cinderTime() };
  });
  return accepted();
}
