// Backup export/import records (cinder/api/contrib/backups.py export_record/import_record, backup/
// api.py, backup/manager.py): `GET /backups/{id}/export_record` and `POST /backups/import_record`, both
// admin only (backup:export-import, backup:backup-import). The record is Cinder's: backup_service names
// the backup driver, backup_url is base64 of the backup's fields as JSON (Backup.encode_record) with the
// driver's `driver_info` — here the backup's page blob. An import makes a backup record, under the
// record's own id, pointing at that blob once it is found and is Jacket's (name, metadata, page blob).
// A record imported under another id than the blob's backup shares the blob: a `blob-share` dependency
// row keeps it until the last record using it is deleted (work.ts backupDelete, blobClaims.ts).
import type { RequestContext, Route } from '../../http/router';
import { json } from '../../http/respond';
import { badRequest } from '../../http/errors';
import { validateBody } from '../../api/validation';
import { cinderRoute, cinderTime, projectOf } from '../common';
import { findBackup, volumeTables, type BackupRecord, type BackupVolumeMeta } from '../model';
import { BACKUPS_CONTAINER } from '../diskCopy';
import { backupIdOfBlob, ownerOfBackupBlobName } from '../blobClaims';
import { reserveBackup, volumeLedger } from '../quotas/engine';
import { backupSummary } from './api';

/** What Jacket's cinder-backup calls its driver (Cinder's backup.service: the driver's class path). */
export const JACKET_BACKUP_SERVICE = 'jacket.backup.drivers.azure_page_blob.AzurePageBlobBackupDriver';
/** backup/api.py IMPORT_VOLUME_ID: the volume id an imported backup has until its record says otherwise. */
const IMPORT_VOLUME_ID = '00000000-0000-0000-0000-000000000000';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** export_record (backup/api.py): an available backup only. */
export async function exportRecord(ctx: RequestContext) {
  const cur = await findBackup(ctx, ctx.params.backup_id);
  const b = cur.value;
  if (b.status !== 'available') throw badRequest(`Invalid backup: Backup status must be available and not ${b.status}.`);
  // Backup.encode_record: the object's fields (Cinder's names), then the driver's info.
  const record = {
    id: b.id,
    user_id: b.user_id,
    project_id: b.project_id,
    volume_id: b.volume_id,
    host: 'jacket',
    availability_zone: b.availability_zone,
    container: b.container,
    parent_id: b.parent_id,
    status: b.status,
    fail_reason: b.fail_reason,
    size: b.size,
    display_name: b.name,
    display_description: b.description,
    service_metadata: b.blob.name,
    service: JACKET_BACKUP_SERVICE,
    object_count: 0,
    temp_volume_id: null,
    temp_snapshot_id: null,
    num_dependent_backups: 0,
    snapshot_id: b.snapshot_id,
    data_timestamp: b.data_timestamp,
    restore_volume_id: null,
    created_at: b.created_at,
    updated_at: b.updated_at,
    deleted_at: null,
    deleted: false,
    metadata: { ...(b.metadata ?? {}) },
    encryption_key_id: null,
    driver_info: { container: BACKUPS_CONTAINER, blob: b.blob.name, data_bytes: b.blob.dataBytes, ...(b.volume_meta ? { volume_meta: b.volume_meta } : {}) },
  };
  return json({ 'backup-record': { backup_service: JACKET_BACKUP_SERVICE, backup_url: Buffer.from(JSON.stringify(record)).toString('base64') } });
}

/** The backup's own metadata in an exported record (3.43), when it is a dict of strings with keys in it. */
function importedMetadata(m: unknown): Record<string, string> | undefined {
  if (typeof m !== 'object' || m === null || Array.isArray(m)) return undefined;
  const entries = Object.entries(m).filter((e): e is [string, string] => typeof e[1] === 'string');
  return entries.length > 0 ? Object.fromEntries(entries) : undefined;
}

/** backups.import_record with parameter_types.backup_service / backup_url. */
const importSchema = {
  type: 'object',
  required: ['backup-record'],
  additionalProperties: false,
  properties: {
    'backup-record': {
      type: 'object',
      required: ['backup_service', 'backup_url'],
      additionalProperties: false,
      properties: { backup_service: { type: 'string', minLength: 0, maxLength: 255 }, backup_url: { type: 'string', minLength: 1, pattern: '^[A-Za-z0-9+/]*={0,2}$' } },
    },
  },
};

/** Backup.decode_record: base64 then JSON; a record that is not an object cannot be read either. */
function decodeRecord(url: string): Record<string, any> {
  let r: unknown;
  try {
    r = JSON.parse(Buffer.from(url, 'base64').toString('utf8'));
  } catch {
    throw badRequest("Invalid input received: Can't parse backup record.");
  }
  if (!r || typeof r !== 'object' || Array.isArray(r)) throw badRequest("Invalid input received: Can't parse backup record.");
  return r as Record<string, any>;
}

/** The manager's checks, as it makes them: the driver, the driver's info (the blob), the required fields. */
async function importFailure(ctx: RequestContext, service: string, rec: Record<string, any>): Promise<string | undefined> {
  if (service !== JACKET_BACKUP_SERVICE) return `Import record failed, cannot find backup service to perform the import. Request service ${service}.`;
  const info = rec.driver_info as { container?: unknown; blob?: unknown } | undefined;
  const blob = typeof info?.blob === 'string' ? info.blob : undefined;
  if (!blob || info?.container !== BACKUPS_CONTAINER) return 'The backup record has no Jacket backup blob (driver_info.container, driver_info.blob).';
  const state = await ctx.services.azure.blobs.state(BACKUPS_CONTAINER, blob);
  if (!state) return `Backup blob ${BACKUPS_CONTAINER}/${blob} not found.`;
  if (state.blobType !== 'PageBlob' || !backupIdOfBlob(blob, state.metadata)) return `Blob ${BACKUPS_CONTAINER}/${blob} is not a Jacket backup.`;
  const missing = ['display_name', 'display_description', 'container', 'size', 'service_metadata', 'object_count', 'id'].filter((k) => !(k in rec));
  if (missing.length) return `Driver successfully decoded imported backup data, but there are missing fields (${missing.join(', ')}).`;
  return undefined;
}

/**
 * import_record: 201 with the summary view. Refusals before anything is written (400): an unreadable
 * record, no id or size, an id a backup already has (in any project). Then the quota (413) and the
 * record: `available` pointing at the blob, or `error` with the manager's reason (no such driver, no
 * such blob, missing fields) as Cinder's manager leaves it.
 */
export async function importRecord(ctx: RequestContext) {
  const body = validateBody<{ 'backup-record': { backup_service: string; backup_url: string } }>(importSchema, ctx.body)['backup-record'];
  const rec = decodeRecord(body.backup_url);
  if (!('id' in rec)) throw badRequest('Invalid input received: Provided backup record is missing an id');
  if (!('size' in rec)) throw badRequest('Invalid input received: Provided backup record is missing size attribute');
  // Jacket's ids are UUIDs (they name Azure resources and Table keys); so is every id Cinder makes.
  if (typeof rec.id !== 'string' || !UUID.test(rec.id)) throw badRequest(`Invalid input received: Backup id ${String(rec.id)} is not a UUID.`);
  const size = Number(rec.size);
  if (!Number.isInteger(size) || size < 1) throw badRequest(`Invalid input received: Backup size ${String(rec.size)} is not a positive integer.`);
  const id: string = rec.id;
  const t = volumeTables(ctx.services);
  if (await t.index.get('backup', id)) throw badRequest('Invalid backup: Backup already exists in database.');
  const project = projectOf(ctx);
  await reserveBackup(ctx.services, project, id, size);
  try {
    const failure = await importFailure(ctx, body.backup_service, rec);
    const blob: string | undefined = failure ? undefined : rec.driver_info.blob;
    const owner = blob ? ownerOfBackupBlobName(blob) : undefined;
    const now = cinderTime();
    const str = (v: unknown) => (typeof v === 'string' ? v : null);
    const meta = rec.driver_info?.volume_meta as BackupVolumeMeta | undefined;
    const record: BackupRecord = {
      id,
      project_id: project,
      user_id: ctx.auth!.userId,
      volume_id: typeof rec.volume_id === 'string' ? rec.volume_id : IMPORT_VOLUME_ID,
      volume_project_id: project,
      name: str(rec.display_name),
      description: str(rec.display_description),
      container: str(rec.container),
      size,
      status: failure ? 'error' : 'available',
      fail_reason: failure ?? null,
      // The blob is whole (an incremental's blob holds its parent's data too): the import stands alone.
      parent_id: null,
      snapshot_id: str(rec.snapshot_id),
      availability_zone: null,
      created_at: str(rec.created_at) ?? now,
      updated_at: now,
      data_timestamp: str(rec.data_timestamp) ?? now,
      blob: { name: blob ?? `backup-${id}.vhd`, dataBytes: typeof rec.driver_info?.data_bytes === 'number' ? rec.driver_info.data_bytes : size * 1024 ** 3 },
      ...(meta && typeof meta === 'object' ? { volume_meta: meta } : {}),
      ...(importedMetadata(rec.metadata) ? { metadata: importedMetadata(rec.metadata) } : {}),
    };
    // Another backup's blob: the share is recorded before the record, so no delete misses it.
    if (owner && owner !== id) await t.deps.upsert(owner, id, { kind: 'blob-share', project_id: project });
    await t.index.upsert('backup', id, { project_id: project });
    await t.backups.create(project, id, record);
    await volumeLedger(ctx.services).commit(project, [id]);
    return json({ backup: backupSummary(ctx, record) }, 201);
  } catch (e) {
    await volumeLedger(ctx.services)
      .rollback(project, [id])
      .catch(() => undefined);
    throw e;
  }
}

export const backupRecordRoutes: Route[] = [
  cinderRoute('backups-export-record', 'GET', '/backups/{backup_id}/export_record', 'backup:export-import', exportRecord),
  cinderRoute('backups-import-record', 'POST', '/backups/import_record', 'backup:backup-import', importRecord),
];
