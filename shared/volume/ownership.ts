// The volumes' answers to the sweeps (shared/timers): does a volume, snapshot or backup record still
// own this disk, Azure snapshot or blob? Each answer is the reason it is kept ('volume-record',
// 'snapshot-source', ...) or undefined when nothing owns it. Read-only, over the volumes' own tables;
// the sweeps call these instead of reading Cinder's tables, and apply the two-pass rule themselves.
import type { Services } from '../services';
import { volumeTables, dependentsOf, recordDiskNames } from './model';
import { backupBlobClaim, backupIdOfBlob } from './blobClaims';

export { backupBlobClaim as backupOwnsBlob };
export { BACKUPS_CONTAINER } from './diskCopy';

/**
 * Why the volume `id` keeps the disk `name` (its first disk volume-<id>, or volume-<id>-<8hex> made by a
 * restore over it or a revert to snapshot). While the volume's index row exists (written before the
 * record and the disk, removed only after the disk is gone) the disk is kept if the record names it: as
 * its disk, as the disk a restore or revert is writing, or as the old disk one is about to delete; a
 * record not written yet (or moving between projects) keeps every disk of the volume. A disk the record
 * no longer names is a restore's or revert's leftover. Without an index row, a disk that is the source of a snapshot or copy is kept.
 */
export async function volumeOwnsDisk(s: Services, id: string, name: string): Promise<string | undefined> {
  const t = volumeTables(s);
  const ix = await t.index.get('volume', id);
  if (ix) {
    const rec = (await t.volumes.get(ix.value.project_id, id))?.value;
    if (!rec || recordDiskNames(rec).includes(name)) return 'volume-record';
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

/**
 * The same answers for one sweep pass, read in batches: each owner table the pass needs is read once,
 * on first use (so after the sweep's listing has begun), in queries of 1000 rows that select only the
 * keys and the columns the answer needs — instead of one or two GETs per resource. A batch only ever
 * proves that something is owned; whatever it cannot prove (no index row in the batch, no record, a
 * record that does not name the disk, a row written before its column existed) is asked again with the
 * per-resource functions above, read after the resource was listed, exactly as before batching. So a
 * candidate is still decided on fresh reads, and a batch that has gone stale can only keep a resource
 * one pass longer (the safe direction); the sweep re-checks a confirmed candidate before deleting it.
 */
export function volumeOwnerView(s: Services) {
  const t = volumeTables(s);
  // kind -> id -> project, from the id index (one partition per kind)
  const indexes = new Map<string, Promise<Map<string, string | undefined>>>();
  // project/id -> the disks the record names (undefined: a row without the column)
  let diskNames: Promise<Map<string, string[] | undefined>> | undefined;
  const indexed = (kind: 'volume' | 'snapshot' | 'backup', id: string) => {
    let p = indexes.get(kind);
    if (!p) indexes.set(kind, (p = t.index.columns(['doc'], { partition: kind }).then((rows) => new Map(rows.map((r) => [r.rowKey, projectOf(r.doc)])))));
    return p.then((m) => ({ has: m.has(id), project: m.get(id) }));
  };
  const namesOf = async (project: string, id: string) => {
    diskNames ??= t.volumes.columns(['disk_names']).then((rows) => new Map(rows.map((r) => [`${r.partitionKey}/${r.rowKey}`, typeof r.disk_names === 'string' ? r.disk_names.split(' ') : undefined])));
    return (await diskNames).get(`${project}/${id}`);
  };
  return {
    /** As volumeOwnsDisk. */
    async disk(id: string, name: string): Promise<string | undefined> {
      const { project } = await indexed('volume', id);
      if (project !== undefined && (await namesOf(project, id))?.includes(name)) return 'volume-record';
      return volumeOwnsDisk(s, id, name);
    },
    /** As snapshotOwnsAzureSnapshot. */
    async azureSnapshot(id: string): Promise<string | undefined> {
      return (await indexed('snapshot', id)).has ? 'snapshot-record' : snapshotOwnsAzureSnapshot(s, id);
    },
    /** As backupOwnsBlob. */
    async backupBlob(name: string, metadata: Record<string, string> | undefined): Promise<string | undefined> {
      const id = backupIdOfBlob(name, metadata);
      if (!id) return 'not-jacket';
      return (await indexed('backup', id)).has ? 'backup-record' : backupBlobClaim(s, name, metadata);
    },
  };
}

function projectOf(doc: unknown): string | undefined {
  try {
    return typeof doc === 'string' ? (JSON.parse(doc) as { project_id?: string }).project_id : undefined;
  } catch {
    return undefined;
  }
}
