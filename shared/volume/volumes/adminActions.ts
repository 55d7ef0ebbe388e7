// Volume actions of Cinder's admin_actions.py and volume_actions.py that change a volume's record
// beyond the owner's own checks: os-force_delete (admins; volume/api.py delete with force) and
// os-update_readonly_flag (the readonly admin metadata). docs/volumes.md, "Admin actions".
import type { RequestContext } from '../../http/router';
import { accepted } from '../../http/respond';
import { badRequest } from '../../http/errors';
import { validateBody } from '../../api/validation';
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
