// The backups service (cinder/backup/api.py create, delete, restore): the rules the controller
// (./api.ts) calls after validating a request. Returns records; the controller renders.
import { randomUUID } from 'node:crypto';
import { startWork } from '../../work/ledger';
import type { RequestContext } from '../../http/router';
import { badRequest } from '../../http/errors';
import { odata, type Stored } from '../../store/tables';
import { boolParam, cinderTime, projectOf } from '../common';
import { findVolume, volumeTables, type BackupRecord } from '../model';
import { backupBlobName, BACKUPS_CONTAINER } from '../diskCopy';
import { reserveBackup, volumeLedger } from '../quotas/engine';
import { createVolumeRecord, VOLUME_AZ } from '../volumes/service';
import { createMessage } from '../messages/service';
import { typeStore } from '../types/store';
import { BACKUP_CREATE, BACKUP_DELETE, BACKUP_RESTORE } from '../workKinds';

export type CreateBackupBody = {
  name?: string | null;
  description?: string | null;
  container?: string | null;
  volume_id: string;
  incremental?: boolean | string;
  force?: boolean | string;
  snapshot_id?: string | null;
  /** From 3.43 (the schema admits it only there). */
  metadata?: Record<string, string> | null;
  /** From 3.51 (BACKUP_AZ; the schema admits it only there): the zone of the backup service to use. */
  availability_zone?: string | null;
};
export type RestoreBody = { name?: string | null; volume_id?: string | null };

export const invalidBackup = (reason: string) => badRequest(`Invalid backup: ${reason}`);
export const invalidVolume = (reason: string) => badRequest(`Invalid volume: ${reason}`);

/** How many incremental backups depend on this one. */
export async function childrenOf(ctx: RequestContext, b: Stored<BackupRecord>): Promise<number> {
  return (await volumeTables(ctx.services).deps.list(b.rowKey)).filter((d) => d.value.kind === 'backup').length;
}

/**
 * backup/api.py create: the volume's state (in-use needs force), quota, the parent of an incremental,
 * the volume turned backing-up under its ETag, the record, the work. Returns the record.
 */
export async function createBackup(ctx: RequestContext, b: CreateBackupBody): Promise<BackupRecord> {
  const incremental = b.incremental === undefined ? false : boolParam(b.incremental, 'incremental');
  const force = b.force === undefined ? false : boolParam(b.force, 'force');
  const vol = await findVolume(ctx, b.volume_id);
  if (b.snapshot_id) throw badRequest('Invalid input received: Backups of snapshots are not supported by Jacket; back up the volume.');
  const v = vol.value;
  if (!['available', 'in-use'].includes(v.status)) throw invalidVolume(`Volume to be backed up must be available or in-use, but the current status is "${v.status}".`);
  if (v.status === 'in-use' && !force) throw invalidVolume('Backing up an in-use volume must use the force flag.');
  const project = projectOf(ctx);
  const id = randomUUID();
  const ledger = volumeLedger(ctx.services);
  await reserveBackup(ctx.services, project, id, v.size);
  try {
    return await makeBackup();
  } catch (e) {
    // Refused after the reservation (no parent, the volume changed): the reservation goes.
    await ledger.rollback(project, [id]).catch(() => undefined);
    throw e;
  }

  async function makeBackup(): Promise<BackupRecord> {
    const t = volumeTables(ctx.services);
    let parent: BackupRecord | undefined;
    if (incremental) {
      const mine = (await t.backups.list(project, odata`volume_id eq ${v.id}`)).map((r) => r.value);
      if (mine.length === 0) throw invalidBackup('No backups available to do an incremental backup.');
      parent = mine.reduce((a, x) => (x.data_timestamp > a.data_timestamp ? x : a));
      if (parent.status !== 'available') throw invalidBackup('The parent backup must be available for incremental backup.');
    }
    const now = cinderTime();
    // 3.51 (BACKUP_AZ): the backup service must be in the zone asked. Jacket's backups run beside its
    // volumes, in their one zone; for another the scheduler finds no cinder-backup (ServiceNotFound):
    // the backup ends `error` at once, the volume keeps its status, and the user is told why
    // (scheduler/manager.py create_backup). The backup counts against quota until it is deleted.
    const az = b.availability_zone || null;
    const unschedulable = az !== null && az !== VOLUME_AZ;
    const rec: BackupRecord = {
      id,
      project_id: project,
      user_id: ctx.auth!.userId,
      volume_id: v.id,
      volume_project_id: vol.partitionKey,
      name: b.name ?? null,
      description: b.description ?? null,
      container: b.container ?? BACKUPS_CONTAINER,
      size: v.size,
      status: unschedulable ? 'error' : 'creating',
      fail_reason: unschedulable ? 'Service not found for creating backup.' : null,
      parent_id: parent?.id ?? null,
      snapshot_id: null,
      availability_zone: az,
      created_at: now,
      updated_at: now,
      data_timestamp: now,
      blob: { name: backupBlobName(id), dataBytes: v.size * 1024 ** 3 },
      ...(b.metadata ? { metadata: { ...b.metadata } } : {}),
      // What the backup driver saves beside the data (BackupMetadataAPI.get), for the restore to put back.
      volume_meta: { name: v.name, description: v.description, metadata: { ...v.metadata }, ...(v.image_metadata ? { image_metadata: { ...v.image_metadata } } : {}) },
    };
    // The volume turns backing-up under its ETag: a racing delete, extend or second backup loses.
    if (!unschedulable) {
      await t.volumes.replace(vol.partitionKey, vol.rowKey, { ...v, status: 'backing-up', previous_status: v.status, updated_at: now }, vol.etag).catch(() => {
        throw invalidVolume(`Volume to be backed up must be available or in-use, but the current status is "changing".`);
      });
    }
    if (parent) await t.deps.upsert(parent.id, id, { kind: 'backup', project_id: project });
    await t.index.upsert('backup', id, { project_id: project });
    await t.backups.create(project, id, rec);
    await ledger.commit(project, [id]);
    if (unschedulable) {
      await createMessage(
        ctx.services,
        { project, action: 'BACKUP_CREATE', detail: 'BACKUP_SCHEDULE_ERROR', resourceType: 'VOLUME_BACKUP', resourceUuid: id, requestId: ctx.requestId },
        `backup-schedule:${id}`,
      );
      return rec;
    }
    await startWork(ctx.services, { kind: BACKUP_CREATE, id, data: { project }, requestId: ctx.requestId });
    return rec;
  }
}

/** Delete (force: any status, admins): never while incremental backups depend on it. */
export async function deleteBackup(ctx: RequestContext, cur: Stored<BackupRecord>, force: boolean): Promise<void> {
  const refused = invalidBackup('Backup status must be available or error');
  // error_deleting too: a later DELETE retries a delete that was given up (Cinder wants force).
  if (!force && !['available', 'error', 'error_deleting'].includes(cur.value.status)) throw refused;
  if ((await childrenOf(ctx, cur)) > 0) throw invalidBackup('Incremental backups exist for this backup.');
  if (cur.value.status !== 'deleting') {
    await volumeTables(ctx.services)
      .backups.replace(cur.partitionKey, cur.rowKey, { ...cur.value, status: 'deleting', updated_at: cinderTime() }, cur.etag)
      .catch(() => {
        throw refused;
      });
  }
  await startWork(ctx.services, { kind: BACKUP_DELETE, id: cur.rowKey, data: { project: cur.partitionKey }, requestId: ctx.requestId });
}

/** backup/api.py restore: to a new volume of the backup's size, or over an available one big enough. */
export async function restoreBackup(ctx: RequestContext, cur: Stored<BackupRecord>, r: RestoreBody): Promise<{ backup_id: string; volume_id: string; volume_name: string | null }> {
  const b = cur.value;
  if (b.status !== 'available') throw invalidBackup('Backup status must be available');
  const t = volumeTables(ctx.services);
  const markRestoring = async (volumeId: string) => {
    await t.backups.replace(cur.partitionKey, cur.rowKey, { ...b, status: 'restoring', restore_volume_id: volumeId, updated_at: cinderTime() }, cur.etag).catch(() => {
      throw invalidBackup('Backup status must be available');
    });
  };
  if (!r.volume_id) {
    // A new volume of the backup's size, whose disk is imported from the backup blob.
    const name = r.name ?? `restore_backup_${b.id}`;
    const type = (await typeStore(ctx.services).get((await t.volumes.get(b.volume_project_id, b.volume_id))?.value.volume_type_id ?? ''))?.value;
    const v = await createVolumeRecord(ctx, {
      name,
      description: 'auto-created_from_restore_from_backup',
      size: b.size,
      type,
      backupId: b.id,
      beforeEnqueue: (id) => markRestoring(id),
    });
    return { backup_id: b.id, volume_id: v.id, volume_name: v.name };
  }
  const vol = await findVolume(ctx, r.volume_id);
  const v = vol.value;
  if (v.status !== 'available') throw invalidVolume('Volume to be restored to must be available');
  if (b.size > v.size) throw invalidVolume(`volume size ${v.size} is too small to restore backup of size ${b.size}.`);
  // The disk is replaced: a new disk imported from the backup, swapped in once it is ready.
  await t.volumes
    .replace(
      vol.partitionKey,
      vol.rowKey,
      { ...v, status: 'restoring-backup', restore: { backup_id: b.id, disk_name: `volume-${v.id}-${randomUUID().slice(0, 8)}` }, updated_at: cinderTime() },
      vol.etag,
    )
    .catch(() => {
      throw invalidVolume('Volume to be restored to must be available');
    });
  try {
    await markRestoring(v.id);
  } catch (e) {
    await t.volumes.update(vol.partitionKey, vol.rowKey, (x) => (x.status === 'restoring-backup' ? { ...x, status: 'available', restore: undefined } : undefined));
    throw e;
  }
  await startWork(ctx.services, { kind: BACKUP_RESTORE, id: v.id, data: { project: vol.partitionKey }, requestId: ctx.requestId });
  return { backup_id: b.id, volume_id: v.id, volume_name: v.name };
}
