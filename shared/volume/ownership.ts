// The volumes' answers to the sweeps (shared/timers): does a volume, snapshot or backup record still
// own this disk, Azure snapshot or blob? Each answer is the reason it is kept ('volume-record',
// 'snapshot-source', ...) or undefined when nothing owns it. Read-only, over the volumes' own tables;
// the sweeps call these instead of reading Cinder's tables, and apply the two-pass rule themselves.
import type { Services } from '../services';
import { volumeTables, dependentsOf } from './model';

export { backupBlobClaim as backupOwnsBlob } from './blobClaims';
export { BACKUPS_CONTAINER } from './diskCopy';

/**
 * Why the volume `id` keeps the disk `name` (its first disk volume-<id>, or volume-<id>-<8hex> made by a
 * restore over it). While the volume's index row exists (written before the record and the disk,
 * removed only after the disk is gone) the disk is kept if the record names it: as its disk, as the
 * disk a restore is writing, or as the old disk a restore is about to delete; a record not written yet
 * (or moving between projects) keeps every disk of the volume. A disk the record no longer names is a
 * restore's leftover. Without an index row, a disk that is the source of a snapshot or copy is kept.
 */
export async function volumeOwnsDisk(s: Services, id: string, name: string): Promise<string | undefined> {
  const t = volumeTables(s);
  const ix = await t.index.get('volume', id);
  if (ix) {
    const rec = (await t.volumes.get(ix.value.project_id, id))?.value;
    if (!rec || [rec.disk.name, rec.restore?.disk_name, rec.restore?.old_disk].includes(name)) return 'volume-record';
    return undefined;
  }
  if ((await dependentsOf(s, id)).length > 0) return 'snapshot-source';
  return undefined;
}

/** Why the volume snapshot `id` keeps its Azure snapshot (snapshot-<id>): its index row exists. */
export async function snapshotOwnsAzureSnapshot(s: Services, id: string): Promise<string | undefined> {
  return (await volumeTables(s).index.get('snapshot', id)) ? 'snapshot-record' : undefined;
}

/**
 * Why the backup `id` keeps its temporary Azure snapshot (backup-<id>, the copy's source): while the
 * backup is being made (status creating; its index row is written before the record, so a record not
 * written yet keeps it too). The backup's work deletes the snapshot when the copy ends; one left behind
 * by a worker that died, or a delete that failed, is owned by nothing and swept.
 */
export async function backupOwnsAzureSnapshot(s: Services, id: string): Promise<string | undefined> {
  const t = volumeTables(s);
  const ix = await t.index.get('backup', id);
  if (!ix) return undefined;
  const rec = (await t.backups.get(ix.value.project_id, id))?.value;
  if (!rec) return 'backup-record';
  return rec.status === 'creating' ? 'backup-copy' : undefined;
}
