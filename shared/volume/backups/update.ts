// PUT /backups/{id} (cinder/api/v3/backups.py update, microversion 3.9 BACKUP_UPDATE): a backup's name
// and description, and from 3.43 (BACKUP_METADATA, schema update_backup_v343) its metadata, which
// replaces the backup's (objects/backup.py save: backup_metadata_update with delete=True). Below 3.9 Cinder has no method for the
// route and answers 404 before any policy check; at 3.9 the schema `backups.update` (400), the backup
// (404 for another project's, admins reach any), then backup:update (project member or admin). The
// answer is the summary view, as Cinder's. Its own module so the backups controller stays as it was.
import type { RequestContext, Route } from '../../http/router';
import { json } from '../../http/respond';
import { notFound } from '../../http/errors';
import { validateBody } from '../../api/validation';
import { cinderRoute, cinderTime, descriptionSchema } from '../common';
import { findBackup, volumeTables } from '../model';
import type { VolumePolicy } from '../policy';
import { BACKUP_METADATA, backupMetadataSchema, backupSummary } from './api';

const BACKUP_UPDATE = '3.9';

/** cinder/api/schemas/backups.py update. */
const updateSchema = {
  type: 'object',
  required: ['backup'],
  additionalProperties: false,
  properties: {
    backup: {
      type: ['object', 'null'],
      additionalProperties: false,
      properties: {
        name: { type: ['string', 'null'], minLength: 0, maxLength: 255 },
        description: descriptionSchema,
      },
    },
  },
};

/** update_backup_v343: `metadata` too (parameter_types.extra_specs: not null). */
const updateSchema343 = structuredClone(updateSchema);
(updateSchema343.properties.backup.properties as Record<string, unknown>).metadata = backupMetadataSchema;

const supported = (ctx: RequestContext) => ctx.microversion?.atLeast(BACKUP_UPDATE) ?? false;
const from39 =
  (p: VolumePolicy) =>
  (_b: unknown, ctx: RequestContext): VolumePolicy | 'authenticated' =>
    supported(ctx) ? p : 'authenticated';

/** clean_name_and_description: strings stripped; then only the keys the body names change. */
async function update(ctx: RequestContext) {
  if (!supported(ctx)) throw notFound('The resource could not be found.');
  const schema = ctx.microversion?.atLeast(BACKUP_METADATA) ? updateSchema343 : updateSchema;
  const b = validateBody<{ backup: { name?: string | null; description?: string | null; metadata?: Record<string, string> } | null }>(schema, ctx.body).backup ?? {};
  const clean = (v: string | null | undefined) => (typeof v === 'string' ? v.trim() : v);
  const cur = await findBackup(ctx, ctx.params.backup_id);
  const saved = await volumeTables(ctx.services).backups.update(cur.partitionKey, cur.rowKey, (x) => ({
    ...x,
    ...('name' in b ? { name: clean(b.name) ?? null } : {}),
    ...('description' in b ? { description: clean(b.description) ?? null } : {}),
    ...(b.metadata ? { metadata: { ...b.metadata } } : {}),
    updated_at: cinderTime(),
  }));
  if (!saved) throw notFound(`Backup ${cur.rowKey} could not be found.`);
  return json({ backup: backupSummary(ctx, saved.value) });
}

export const backupUpdateRoutes: Route[] = [cinderRoute('backups-update', 'PUT', '/backups/{backup_id}', from39('backup:update'), update)];
