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

/** Why the blob is kept ('not-jacket', 'backup-record'), or undefined when nothing owns it. */
export async function backupBlobClaim(s: Services, name: string, metadata: Record<string, string> | undefined): Promise<string | undefined> {
  const id = backupIdOfBlob(name, metadata);
  if (!id) return 'not-jacket';
  return (await volumeTables(s).index.get('backup', id)) ? 'backup-record' : undefined;
}
