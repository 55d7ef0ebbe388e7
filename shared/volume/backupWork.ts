// The work-queue steps of backups: create (export the disk with a read SAS, copy it into
// backup-<id>.vhd), delete (the blob, then the records) and restore over an existing volume (a new
// disk imported from the blob, swapped into the volume's record once ready, the old disk removed
// after). Every step re-reads its records and is safe to repeat: a retried copy overwrites the blob
// from the start; a retried restore finds the new disk or the swap already made.
import type { Services } from '../services';
import { registerWork, type WorkItem, type WorkResult } from '../work/queue';
import { log } from '../log';
import { cinderTime } from './common';
import { backupById, jacketTags, volumeTables, type BackupRecord } from './model';
import { volumeDisks } from './azureDisks';
import { backupBlob, copyDiskToBlob } from './diskCopy';
import { again, isClientError, messageOf, releaseBackup } from './work';
import { BACKUP_CREATE, BACKUP_DELETE, BACKUP_RESTORE } from './workKinds';

/** How long the export SAS of a copy lives. */
const SAS_SECONDS = 4 * 3600;

/** Blob metadata naming the backup's owner (Azure blob metadata keys are identifiers). */
export const backupBlobMetadata = (b: BackupRecord) => ({ jacket: 'backup', jacket_backup_id: b.id, jacket_project_id: b.project_id });

const project = (item: WorkItem) => String(item.data?.project ?? '');

async function backupCreate(item: WorkItem, s: Services): Promise<WorkResult> {
  const t = volumeTables(s);
  const cur = await t.backups.get(project(item), item.id);
  if (!cur || cur.value.status !== 'creating') return { status: 'done' };
  const b = cur.value;
  const vol = await t.volumes.get(b.volume_project_id, b.volume_id);
  const restoreVolume = async () => {
    if (vol) await t.volumes.update(vol.partitionKey, vol.rowKey, (x) => (x.status !== 'backing-up' ? undefined : { ...x, status: x.previous_status ?? 'available', previous_status: undefined, updated_at: cinderTime() }));
  };
  const finish = async (status: 'available' | 'error', extra: Partial<BackupRecord>) => {
    await t.backups.update(cur.partitionKey, cur.rowKey, (x) => (x.status !== 'creating' ? undefined : { ...x, ...extra, status, updated_at: cinderTime() }));
    await restoreVolume();
    return { status: 'done' } as WorkResult;
  };
  if (!vol) return finish('error', { fail_reason: 'The volume was deleted before the backup ran.' });
  const arm = volumeDisks(s.config);
  let sas: string;
  try {
    sas = await arm.grantRead(vol.value.disk.name, SAS_SECONDS);
  } catch (e) {
    if (!isClientError(e)) throw e;
    log.warn('backup export refused by Azure', { backup: b.id, error: messageOf(e) });
    return finish('error', { fail_reason: `Azure refused to export the disk: ${messageOf(e)}`.slice(0, 255) });
  }
  try {
    const target = await backupBlob(s.config, b.blob.name);
    const parent = b.parent_id ? await backupById(s, b.parent_id) : undefined;
    if (b.parent_id && !parent) return finish('error', { fail_reason: 'The parent backup is gone.' });
    const r = await copyDiskToBlob(sas, target, {
      dataBytes: b.blob.dataBytes,
      metadata: backupBlobMetadata(b),
      ...(parent ? { parent: await backupBlob(s.config, parent.value.blob.name) } : {}),
    });
    log.info('backup copied', { backup: b.id, incremental: !!parent, readBytes: r.copiedBytes, writtenBytes: r.changedBytes });
    return await finish('available', { blob: { ...b.blob, copiedBytes: r.copiedBytes, changedBytes: r.changedBytes }, fail_reason: null });
  } finally {
    await arm.revokeAccess(vol.value.disk.name).catch((e) => log.warn('revoke access failed', { disk: vol.value.disk.name, error: messageOf(e) }));
  }
}

async function backupDelete(item: WorkItem, s: Services): Promise<WorkResult> {
  const t = volumeTables(s);
  const cur = await t.backups.get(project(item), item.id);
  if (!cur || cur.value.status !== 'deleting') return { status: 'done' };
  const b = cur.value;
  await (await backupBlob(s.config, b.blob.name)).deleteIfExists();
  if (b.parent_id) await t.deps.delete(b.parent_id, b.id);
  await t.index.delete('backup', b.id);
  await t.backups.delete(cur.partitionKey, cur.rowKey);
  return { status: 'done' };
}

/**
 * Restore over an existing volume: import the backup into a new disk; when it is ready, point the
 * volume's record at it (the id stays), then remove the old disk, then make the volume available.
 */
async function backupRestore(item: WorkItem, s: Services): Promise<WorkResult> {
  const t = volumeTables(s);
  const cur = await t.volumes.get(project(item), item.id);
  if (!cur || cur.value.status !== 'restoring-backup' || !cur.value.restore) return { status: 'done' };
  const v = cur.value;
  const r = v.restore!;
  const arm = volumeDisks(s.config);
  const done = async (status: 'available' | 'error_restoring') => {
    await t.volumes.update(cur.partitionKey, cur.rowKey, (x) => (x.status !== 'restoring-backup' ? undefined : { ...x, status, restore: undefined, updated_at: cinderTime() }));
    await releaseBackup(s, r.backup_id, v.id);
    return { status: 'done' } as WorkResult;
  };
  if (r.old_disk) {
    // Swapped already: the old disk goes, then the volume is whole again.
    if (await arm.disk(r.old_disk)) {
      if (item.step !== 'old-deleted') await arm.deleteDisk(r.old_disk);
      return again(item, 'old-deleted');
    }
    return done('available');
  }
  const st = await arm.disk(r.disk_name);
  if (!st) {
    const b = await backupById(s, r.backup_id);
    if (!b) return done('error_restoring');
    try {
      const uri = (await backupBlob(s.config, b.value.blob.name)).url;
      await arm.createDisk(r.disk_name, v.size, v.disk.sku, jacketTags('volume', v.id, v.project_id, v.id), { importUri: uri });
    } catch (e) {
      if (!isClientError(e)) throw e;
      log.warn('restore refused by Azure', { volume: v.id, error: messageOf(e) });
      return done('error_restoring');
    }
    return again(item);
  }
  if (st.provisioningState === 'Failed' || st.provisioningState === 'Canceled') {
    await arm.deleteDisk(r.disk_name);
    return done('error_restoring');
  }
  if (st.provisioningState !== 'Succeeded') return again(item);
  const old = v.disk.name;
  await t.volumes.update(cur.partitionKey, cur.rowKey, (x) =>
    x.restore?.disk_name !== r.disk_name ? undefined : { ...x, disk: { ...x.disk, name: r.disk_name, armId: st.id }, restore: { ...r, old_disk: old } },
  );
  return again(item);
}

registerWork(BACKUP_CREATE, backupCreate);
registerWork(BACKUP_DELETE, backupDelete);
registerWork(BACKUP_RESTORE, backupRestore);
