// os-reset_status on a backup (cinder/api/contrib/admin_actions.py BackupAdminController, backup/
// manager.py reset_status): admins set `available` or `error`. docs/volumes.md, "Admin actions".
import type { RequestContext } from '../../http/router';
import { accepted } from '../../http/respond';
import { badRequest } from '../../http/errors';
import { validateBody } from '../../api/validation';
import { cinderTime } from '../common';
import { findBackup, volumeTables, type BackupRecord } from '../model';

/** admin_actions.reset_status_backup; the 'backup_status' format is checked below with its own message. */
const schema = {
  type: 'object',
  required: ['os-reset_status'],
  additionalProperties: false,
  properties: { 'os-reset_status': { type: 'object', required: ['status'], additionalProperties: false, properties: { status: { type: 'string' } } } },
};
const VALID = ['available', 'error'];

/**
 * The record's status only, under its ETag. A copy, delete or restore running for the backup stops at
 * its next step (each step acts only on the status it expects), so nothing a record still needs is
 * removed: a reset `deleting` backup keeps its blob. A backup reset while `creating` leaves its volume
 * `backing-up` until the admin resets it too, as in Cinder; its temporary Azure snapshot is no longer
 * claimed and the snapshot sweep removes it (Cinder's manager cleans it at once).
 */
export async function resetBackupStatus(ctx: RequestContext) {
  const status = validateBody<{ 'os-reset_status': { status: string } }>(schema, ctx.body)['os-reset_status'].status;
  // validators.py _validate_backup_status: InvalidParameterValue, whose message is the text alone.
  if (!status || !VALID.includes(status.toLowerCase())) throw badRequest(`Backup status: ${status} is invalid, valid statuses are: ['available', 'error'].`);
  const cur = await findBackup(ctx, ctx.params.backup_id);
  await volumeTables(ctx.services).backups.update(cur.partitionKey, cur.rowKey, (b) => ({ ...b, status: status.toLowerCase() as BackupRecord['status'], updated_at: cinderTime() }));
  return accepted();
}
