// The long actions of backups (Cinder's chunked backup driver, cinder/backup/chunkeddriver.py, on
// Azure). Create:
//   1. an incremental snapshot backup-<id> of the volume's disk (so an attached volume backs up too,
//      as Cinder's force allows: Azure exports a snapshot of an attached disk, never the disk itself);
//   2. a read SAS on that snapshot, and the target blob backup-<id>.vhd (an incremental starts as a
//      server-side copy of its parent's blob);
//   3. one chunk of config.work.copyChunkBytes per step, the next offset recorded in the backup's
//      record (blob.progress) after each, so a retried or resumed step starts from the last chunk
//      written; chunks with no data are skipped;
//   4. the VHD footer last (a blob with a footer is whole), the backup available, the volume back;
//   5. the grant revoked and the snapshot deleted.
// Delete removes the blob, then the records. Restore over an existing volume imports the backup into a
// new disk, swaps it into the volume's record once ready (the id stays), then removes the old disk.
// Given up: create → error with fail_reason, delete → error_deleting, restore → error_restoring with
// the backup available again (docs/volumes.md).
import type { Services } from '../../services';
import { log } from '../../log';
import { seal, unseal } from '../../work/seal';
import { again, done, type WorkItem, type WorkKind, type WorkResult } from '../../work/types';
import type { CopyProgress } from '../../azure/diskCopy';
import type { ArmState } from '../../azure/disks';
import { absentOn404 } from '../../azure/errors';
import { cinderTime } from '../common';
import { backupById, jacketTags, restoredVolumeMeta, volumeTables, type BackupRecord } from '../model';
import { backupBlobRef } from '../diskCopy';
import { otherBlobUsers, ownerOfBackupBlobName } from '../blobClaims';
import { messageOf, oldDiskDeleted, poll, projectOf, refuse, releaseBackup, sharingOf, submitted, terminal, throwIfFailed } from '../volumes/work';
import { BACKUP_CREATE, BACKUP_DELETE, BACKUP_RESTORE } from '../workKinds';
import { backupDeltas, volumeLedger } from '../quotas/engine';
import { messageForWork } from '../messages/service';

/** How long an export SAS lives; a copy step re-grants when less than SAS_RENEW_SECONDS is left. */
const SAS_SECONDS = 4 * 3600;
const SAS_RENEW_SECONDS = 1800;

/** Blob metadata naming the backup's owner (Azure blob metadata keys are identifiers). */
/**
 * The export SAS is a secret (read access to the volume's data for hours): between steps it travels
 * in the work item sealed like a password (shared/work/seal.ts), never in clear in the queue or the
 * ledger. A grant that cannot be unsealed (the token key rotated) or is near its end is taken again.
 */
function carry(s: Services, g: { sas: string; sasUntil: number }): Record<string, unknown> {
  return { sealedSas: seal(s.config, g.sas), sasUntil: g.sasUntil };
}
function carriedGrant(s: Services, item: WorkItem): { sas: string; sasUntil: number } | undefined {
  const sealed = item.data?.sealedSas;
  const until = Number(item.data?.sasUntil);
  if (typeof sealed !== 'string' || !(until - Date.now() > SAS_RENEW_SECONDS * 1000)) return undefined;
  try {
    return { sas: unseal(s.config, sealed), sasUntil: until };
  } catch {
    return undefined;
  }
}

export const backupBlobMetadata = (b: BackupRecord) => ({ jacket: 'backup', jacket_backup_id: b.id, jacket_project_id: b.project_id });
/** The temporary snapshot a backup copies from; its tags say whose it is. */
export const backupSnapshotName = (backupId: string) => `backup-${backupId}`;
const snapshotTags = (b: BackupRecord) => ({ jacket: 'backup', 'jacket-backup-id': b.id, 'jacket-volume-id': b.volume_id, 'jacket-project-id': b.project_id });

const START: CopyProgress = { next: 0, copiedBytes: 0, changedBytes: 0, chunks: 0 };

async function backupIn(s: Services, item: WorkItem, status: BackupRecord['status']) {
  const cur = await volumeTables(s).backups.get(projectOf(item), item.id);
  return cur && cur.value.status === status ? cur : undefined;
}

/** The volume goes back to what it was before backing-up (available or in-use). */
async function releaseVolume(s: Services, b: BackupRecord) {
  await volumeTables(s).volumes.update(b.volume_project_id, b.volume_id, (x) =>
    x.status !== 'backing-up' ? undefined : { ...x, status: x.previous_status ?? 'available', previous_status: undefined, updated_at: cinderTime() },
  );
}

/** Revokes the grant and deletes the temporary snapshot (one DELETE; Azure finishes it on its own). */
async function dropSnapshot(s: Services, backupId: string) {
  const name = backupSnapshotName(backupId);
  await s.azure.disks.revokeAccess('snapshots', name);
  await s.azure.disks.deleteSnapshot(name);
}

const backupCreate: WorkKind = {
  kind: BACKUP_CREATE,
  // A large disk takes many chunks; each step is bounded and a stuck one is caught by the stale-work
  // timer, so the deadline only stops a copy that never ends (32 TiB at 1 GiB per step is ~33k steps).
  deadlineSeconds: 7 * 24 * 3600,
  async run(item, s) {
    if (item.step === 'cleanup') {
      await dropSnapshot(s, item.id);
      return done();
    }
    const cur = await backupIn(s, item, 'creating');
    if (!cur) return done();
    const b = cur.value;
    const t = volumeTables(s);
    const arm = s.azure.disks;
    const snapName = backupSnapshotName(b.id);
    const next = (step: string, data: Record<string, unknown> = {}) => again(item, 0, { step, data: { ...item.data, ...data } });

    // 1. The snapshot to copy from.
    if (!item.step || item.step === 'snapshot') {
      const settle = (st: ArmState | undefined): WorkResult | undefined => {
        if (!st) return undefined;
        throwIfFailed(st, "The backup's snapshot of the volume");
        return st.provisioningState === 'Succeeded' ? next('export') : poll(s, item, 'snapshot');
      };
      if (item.step === 'snapshot') {
        const r = settle(await arm.snapshot(snapName));
        if (r) return r;
      }
      const vol = await t.volumes.get(b.volume_project_id, b.volume_id);
      if (!vol) throw refuse('VolumeGone', 'The volume was deleted before the backup ran.');
      const sub = await arm.createSnapshot(snapName, vol.value.disk.name, snapshotTags(b));
      return settle(terminal(sub.state)) ?? submitted(s, item, 'snapshot', sub);
    }

    const parent = b.parent_id ? await backupById(s, b.parent_id) : undefined;
    if (b.parent_id && !parent) throw refuse('ParentGone', 'The parent backup is gone.');
    const copy = {
      target: backupBlobRef(b.blob.name),
      dataBytes: b.blob.dataBytes,
      chunkBytes: s.config.work.copyChunkBytes,
      ...(parent ? { parent: backupBlobRef(parent.value.blob.name) } : {}),
    };
    // A snapshot gone (a clean-up of an earlier run, or deleted behind our back) is taken again, and
    // the copy starts over from it: chunks of two points in time must not mix.
    const grant = async () => {
      const sas = await absentOn404(() => arm.grantRead('snapshots', snapName, SAS_SECONDS));
      return sas ? { sas, sasUntil: Date.now() + SAS_SECONDS * 1000 } : undefined;
    };

    // 2. Export the snapshot and start the blob (again from the start when a retry comes back here).
    if (item.step === 'export') {
      const g = await grant();
      if (!g) return next('snapshot');
      await arm.copy.prepare(copy.target, copy.dataBytes, backupBlobMetadata(b), copy.parent);
      await t.backups.update(cur.partitionKey, cur.rowKey, (x) => (x.status !== 'creating' ? undefined : { ...x, blob: { ...x.blob, progress: START } }));
      return next('copy', carry(s, g));
    }

    // 3. One chunk per step, from the offset the record holds.
    if (item.step === 'copy') {
      const progress = b.blob.progress;
      if (!progress) return next('export');
      const g = carriedGrant(s, item) ?? (await grant());
      if (!g) return next('snapshot');
      const r = await absentOn404(() => arm.copy.copyChunk({ ...copy, sasUrl: g.sas }, progress));
      if (!r) return next('snapshot'); // the snapshot (or the target) went: start over
      // Recorded only if no duplicate step recorded this chunk first (then both wrote the same bytes).
      await t.backups.update(cur.partitionKey, cur.rowKey, (x) =>
        x.status !== 'creating' || x.blob.progress?.next !== progress.next ? undefined : { ...x, blob: { ...x.blob, progress: r.progress } },
      );
      log.info('backup chunk', { backup: b.id, next: r.progress.next, chunks: r.progress.chunks, done: r.done });
      return next(r.done ? 'footer' : 'copy', carry(s, g));
    }

    // 4. The footer last: the blob is whole; the backup is available and the volume released.
    if (item.step === 'footer') {
      const progress = b.blob.progress;
      if (!progress) return next('export');
      await arm.copy.writeFooter(copy.target, copy.dataBytes);
      const { progress: _p, ...blob } = b.blob;
      void _p;
      log.info('backup copied', { backup: b.id, incremental: !!parent, chunks: progress.chunks, readBytes: progress.copiedBytes, writtenBytes: progress.changedBytes });
      await t.backups.update(cur.partitionKey, cur.rowKey, (x) =>
        x.status !== 'creating'
          ? undefined
          : {
              ...x,
              status: 'available',
              fail_reason: null,
              blob: { ...blob, copiedBytes: progress.copiedBytes, changedBytes: progress.changedBytes, chunks: progress.chunks },
              updated_at: cinderTime(),
            },
      );
      await releaseVolume(s, b);
      // 5. The snapshot goes (a step of its own: its failures no longer concern the backup).
      return again(item, 0, { step: 'cleanup', data: { project: item.data?.project } });
    }
    throw refuse('UnknownStep', `backup-create has no step ${item.step}`);
  },
  async giveUp(item, s, f) {
    const cur = await volumeTables(s).backups.get(projectOf(item), item.id);
    if (cur?.value.status === 'creating') {
      const reason = `${f.message}`.slice(0, 255);
      log.warn('backup failed', { backup: item.id, code: f.code, reason });
      await volumeTables(s).backups.update(cur.partitionKey, cur.rowKey, (x) => (x.status !== 'creating' ? undefined : { ...x, status: 'error', fail_reason: reason, updated_at: cinderTime() }));
      await releaseVolume(s, cur.value);
      // backup/manager.py create_backup: the driver's failure, about the backup.
      await messageForWork(s, item, cur.partitionKey, { action: 'BACKUP_CREATE', detail: 'BACKUP_CREATE_DRIVER_ERROR', resourceType: 'VOLUME_BACKUP', resourceUuid: item.id });
    }
    // Best effort: a snapshot left behind is named and tagged for its backup (docs/volumes.md).
    await dropSnapshot(s, item.id).catch((e) => log.warn('backup snapshot not removed', { backup: item.id, error: messageOf(e) }));
  },
};

const backupDelete: WorkKind = {
  kind: BACKUP_DELETE,
  async run(item, s) {
    const cur = await backupIn(s, item, 'deleting');
    if (!cur) return done();
    const b = cur.value;
    const t = volumeTables(s);
    // A blob another record still uses (an import under another id, records.ts) stays; the last user deletes it.
    const owner = ownerOfBackupBlobName(b.blob.name);
    if (!owner || (await otherBlobUsers(s, owner, b.id)).length === 0) await s.azure.disks.copy.deleteBlob(backupBlobRef(b.blob.name));
    if (owner && owner !== b.id) await t.deps.delete(owner, b.id);
    if (b.parent_id) await t.deps.delete(b.parent_id, b.id);
    await t.index.delete('backup', b.id);
    if (await t.backups.delete(cur.partitionKey, cur.rowKey)) await volumeLedger(s).release(cur.partitionKey, backupDeltas(b.size));
    return done();
  },
  async giveUp(item, s, f) {
    log.warn('backup delete failed', { backup: item.id, code: f.code, reason: f.message.slice(0, 300) });
    const landed = await backupIn(s, item, 'deleting');
    await volumeTables(s).backups.update(projectOf(item), item.id, (x) =>
      x.status !== 'deleting' ? undefined : { ...x, status: 'error_deleting', fail_reason: f.message.slice(0, 255), updated_at: cinderTime() },
    );
    // backup/manager.py delete_backup: the driver's failure.
    if (landed) await messageForWork(s, item, projectOf(item), { action: 'BACKUP_DELETE', detail: 'BACKUP_DELETE_DRIVER_ERROR', resourceType: 'VOLUME_BACKUP', resourceUuid: item.id });
  },
};

/** Restore over an existing volume (see the file's head). */
const backupRestore: WorkKind = {
  kind: BACKUP_RESTORE,
  async run(item, s) {
    const t = volumeTables(s);
    const cur = await t.volumes.get(projectOf(item), item.id);
    if (!cur || cur.value.status !== 'restoring-backup' || !cur.value.restore) return done();
    const v = cur.value;
    const r = v.restore!;
    const arm = s.azure.disks;
    if (r.old_disk) {
      // Swapped already: the old disk goes, then the volume is whole again.
      const pending = await oldDiskDeleted(s, item, r.old_disk);
      if (pending) return pending;
      // The source volume's metadata goes onto the target with the data (BackupMetadataAPI.put).
      const meta = (await backupById(s, r.backup_id))?.value.volume_meta;
      await t.volumes.update(cur.partitionKey, cur.rowKey, (x) =>
        x.status !== 'restoring-backup' ? undefined : { ...x, ...restoredVolumeMeta(x, meta), status: 'available', restore: undefined, updated_at: cinderTime() },
      );
      await releaseBackup(s, r.backup_id, v.id);
      return done();
    }
    const settle = async (st: ArmState): Promise<WorkResult> => {
      throwIfFailed(st, 'The restored disk');
      if (st.provisioningState !== 'Succeeded') return poll(s, item, 'wait');
      const old = v.disk.name;
      await t.volumes.update(cur.partitionKey, cur.rowKey, (x) =>
        x.restore?.disk_name !== r.disk_name ? undefined : { ...x, disk: { ...x.disk, name: r.disk_name, armId: st.id }, restore: { ...r, old_disk: old } },
      );
      return again(item, 0, { step: 'swapped' });
    };
    if (item.step === 'wait') {
      const st = await arm.disk(r.disk_name);
      if (st) return settle(st);
    }
    const b = await backupById(s, r.backup_id);
    if (!b) throw refuse('BackupGone', 'The backup is gone.');
    const sub = await arm.createDisk(r.disk_name, {
      sizeGB: v.size,
      sku: v.disk.sku,
      tags: jacketTags('volume', v.id, v.project_id, v.id),
      source: { blob: backupBlobRef(b.value.blob.name) },
      ...sharingOf(v, v.size),
    });
    const st = terminal(sub.state);
    return st ? settle(st) : submitted(s, item, 'wait', sub);
  },
  async giveUp(item, s, f) {
    const t = volumeTables(s);
    const cur = await t.volumes.get(projectOf(item), item.id);
    if (!cur || cur.value.status !== 'restoring-backup') return;
    const r = cur.value.restore;
    log.warn('restore failed', { volume: item.id, code: f.code, reason: f.message.slice(0, 300) });
    // Swapped already: the volume holds the backup's data; only the old disk is left over.
    const status = r?.old_disk ? 'available' : 'error_restoring';
    await t.volumes.update(cur.partitionKey, cur.rowKey, (x) => (x.status !== 'restoring-backup' ? undefined : { ...x, status, restore: undefined, updated_at: cinderTime() }));
    if (r) await releaseBackup(s, r.backup_id, item.id);
    // backup/manager.py restore_backup: the driver's failure, about the backup (not once the data is in place).
    if (status === 'error_restoring' && r)
      await messageForWork(s, item, cur.partitionKey, { action: 'BACKUP_RESTORE', detail: 'BACKUP_RESTORE_ERROR', resourceType: 'VOLUME_BACKUP', resourceUuid: r.backup_id });
  },
};

export const BACKUP_WORK: WorkKind[] = [backupCreate, backupDelete, backupRestore];
