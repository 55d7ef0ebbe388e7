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
import { imageOwnerView, imageOwnsBlob } from '../image/ownership';
import { IMAGES_CONTAINER } from '../image/vhdBlob';
import { volumeOwnerView, backupOwnsBlob, BACKUPS_CONTAINER } from '../volume/ownership';

export const BLOB_SWEEP = 'sweep-blobs';

const IMAGE_NAME = /^image-([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.vhd$/;

/** claim: the pass's answer (batched); fresh: the per-blob answer, read again before a delete. */
type Container = { name: string; claim(b: BlobState): Promise<string | undefined>; fresh(b: BlobState): Promise<string | undefined> };

const imageId = (b: BlobState) => IMAGE_NAME.exec(b.name)?.[1];

/**
 * The containers and their owners' answers, for one pass: the owners are read in batches (the backup
 * index, the image index and records, once each on first use) and only what a batch cannot prove owned
 * is read per blob (shared/volume/ownership.ts, shared/image/ownership.ts).
 */
function containers(s: Services): Container[] {
  const volumes = volumeOwnerView(s);
  const images = imageOwnerView(s);
  return [
    { name: BACKUPS_CONTAINER, claim: (b) => volumes.backupBlob(b.name, b.metadata), fresh: (b) => backupOwnsBlob(s, b.name, b.metadata) },
    {
      name: IMAGES_CONTAINER,
      claim: async (b) => {
        const id = imageId(b);
        return id ? images.blob(id) : 'not-jacket';
      },
      fresh: async (b) => {
        const id = imageId(b);
        return id ? imageOwnsBlob(s, id) : 'not-jacket';
      },
    },
  ];
}

async function whyNot(claim: Container['claim'], b: BlobState): Promise<string | undefined> {
  if (b.blobType !== 'PageBlob') return 'not-jacket';
  const why = await claim(b);
  if (why) return why;
  return b.leaseState === 'leased' ? 'busy' : undefined;
}

export function sweepBlobs(s: Services, now: Date = new Date()): Promise<SweepReport> {
  const blobs = s.azure.blobs;
  return runSweep(s, BLOB_SWEEP, now, async (run) => {
    for (const c of containers(s)) {
      await run.over(blobs.list(c.name), {
        kind: `blob-${c.name}`,
        name: (b) => b.name,
        evaluate: (b) => whyNot(c.claim, b),
        async remove(b): Promise<Outcome> {
          const cur = await blobs.state(c.name, b.name);
          if (!cur) return 'gone';
          const why = await whyNot(c.fresh, cur);
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
