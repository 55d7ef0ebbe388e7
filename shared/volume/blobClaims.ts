// Whether a blob in the backups container is owned by a record, for a sweep of leftovers (the timer
// sweeps in shared/timers run the two-pass rule; this is the backups' answer). A backup blob is named
// backup-<id>.vhd and carries {jacket: 'backup', jacket_backup_id: <id>} in its metadata; its backup's
// index row is written before the blob and removed after it, so a blob without one is a leftover.
import type { Services } from '../services';
import { volumeTables } from './model';

const NAME = /^backup-([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.vhd$/;

/** The backup id of a blob whose name and metadata both say Jacket wrote it for that backup. */
export function backupIdOfBlob(name: string, metadata: Record<string, string> | undefined): string | undefined {
  const m = NAME.exec(name);
  return m && metadata?.jacket === 'backup' && metadata.jacket_backup_id === m[1] ? m[1] : undefined;
}

/**
 * The backups other than `except` whose records use the blob of backup `owner` (backup-<owner>.vhd):
 * the owner's own record, and records imported under other ids (their blob-share rows, records.ts).
 */
export async function otherBlobUsers(s: Services, owner: string, except?: string): Promise<string[]> {
  const t = volumeTables(s);
  const shares = (await t.deps.list(owner)).filter((d) => d.value.kind === 'blob-share').map((d) => d.rowKey);
  const candidates = [owner, ...shares].filter((id) => id !== except);
  const alive = await Promise.all(candidates.map(async (id) => ((await t.index.get('backup', id)) ? id : undefined)));
  return alive.filter((id): id is string => id !== undefined);
}

/** Why the blob is kept ('not-jacket', 'backup-record', 'backup-import'), or undefined when nothing owns it. */
export async function backupBlobClaim(s: Services, name: string, metadata: Record<string, string> | undefined): Promise<string | undefined> {
  const id = backupIdOfBlob(name, metadata);
  if (!id) return 'not-jacket';
  if (await volumeTables(s).index.get('backup', id)) return 'backup-record';
  return (await otherBlobUsers(s, id)).length ? 'backup-import' : undefined;
}

/** The backup id a backup blob's name carries (backup-<id>.vhd), whatever its metadata. */
export const ownerOfBackupBlobName = (name: string): string | undefined => NAME.exec(name)?.[1];
