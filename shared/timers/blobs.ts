// The blob sweep: page blobs Jacket wrote that no record owns.
//   backups/backup-<id>.vhd  metadata {jacket: backup, jacket_backup_id: <id>}: owned while the backup's
//                            index row exists (shared/volume/ownership.ts);
//   images/image-<id>.vhd    owned while any record of the image exists (an image being uploaded,
//                            saving or being deleted owns its blob; shared/image/ownership.ts).
// Listing, re-reading and deleting go through s.azure.blobs.
// Nothing else is looked at: other containers (the platform's 'vhds' above all) are never listed, and a
// blob whose name is not one of these, or that is not a page blob, is 'not-jacket'. A leased blob is
// 'busy'. Candidates of two passes in a row are re-read (properties, then the record) and deleted on
// the ETag just read, so a blob rewritten in between is kept ('changed').
import type { Services } from '../services';
import type { BlobState } from '../azure/blobs';
import { azureFailure } from '../azure/errors';
import { log } from '../log';
import { runSweep, type SweepReport, type Outcome } from './sweep';
import { imageOwnsBlob } from '../image/ownership';
import { IMAGES_CONTAINER } from '../image/vhdBlob';
import { backupOwnsBlob, BACKUPS_CONTAINER } from '../volume/ownership';

export const BLOB_SWEEP = 'sweep-blobs';

const IMAGE_NAME = /^image-([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.vhd$/;

type Container = { name: string; claim(s: Services, b: BlobState): Promise<string | undefined> };

const CONTAINERS: readonly Container[] = [
  { name: BACKUPS_CONTAINER, claim: (s, b) => backupOwnsBlob(s, b.name, b.metadata) },
  {
    name: IMAGES_CONTAINER,
    claim: (s, b) => {
      const m = IMAGE_NAME.exec(b.name);
      return m ? imageOwnsBlob(s, m[1]) : Promise.resolve('not-jacket');
    },
  },
];

async function whyNot(s: Services, c: Container, b: BlobState): Promise<string | undefined> {
  if (b.blobType !== 'PageBlob') return 'not-jacket';
  const why = await c.claim(s, b);
  if (why) return why;
  return b.leaseState === 'leased' ? 'busy' : undefined;
}

export function sweepBlobs(s: Services, now: Date = new Date()): Promise<SweepReport> {
  const blobs = s.azure.blobs;
  return runSweep(s, BLOB_SWEEP, now, async (run) => {
    for (const c of CONTAINERS) {
      await run.over(blobs.list(c.name), {
        kind: `blob-${c.name}`,
        name: (b) => b.name,
        evaluate: (b) => whyNot(s, c, b),
        async remove(b): Promise<Outcome> {
          const cur = await blobs.state(c.name, b.name);
          if (!cur) return 'gone';
          const why = await whyNot(s, c, cur);
          if (why) return why;
          try {
            return await blobs.deleteIfUnchanged(c.name, b.name, cur.etag);
          } catch (e) {
            const f = azureFailure(e);
            log.warn('sweep could not delete', { sweep: BLOB_SWEEP, kind: 'blob', container: c.name, name: b.name, status: f.status, code: f.code, error: f.message });
            return 'delete-failed';
          }
        },
      });
    }
  });
}
