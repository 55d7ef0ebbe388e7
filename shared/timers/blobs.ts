// The blob sweep: page blobs Jacket wrote that no record owns.
//   backups/backup-<id>.vhd  metadata {jacket: backup, jacket_backup_id: <id>}: owned while the backup's
//                            index row exists (shared/volume/blobClaims.ts);
//   images/image-<id>.vhd    owned while any record of the image exists (an image being uploaded,
//                            saving or being deleted owns its blob; owners.ts).
// Nothing else is looked at: other containers (the platform's 'vhds' above all) are never listed, and a
// blob whose name is not one of these, or that is not a page blob, is 'not-jacket'. A leased blob is
// 'busy'. Candidates of two passes in a row are re-read (properties, then the record) and deleted on
// the ETag just read, so a blob rewritten in between is kept ('changed').
import { BlobServiceClient, type ContainerClient } from '@azure/storage-blob';
import type { Services } from '../services';
import { blobService } from '../azure/clients';
import { log } from '../log';
import { runSweep, type SweepReport, type Outcome } from './sweep';
import { imageBlobClaim } from './owners';
import { backupBlobClaim } from '../volume/blobClaims';
import { BACKUPS_CONTAINER } from '../volume/diskCopy';
import { IMAGES_CONTAINER } from '../image/vhdBlob';

export const BLOB_SWEEP = 'sweep-blobs';

const IMAGE_NAME = /^image-([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.vhd$/;

/** What the sweep needs of a blob (from the listing or a fresh properties read). */
interface BlobState {
  name: string;
  blobType?: string;
  leaseState?: string;
  metadata?: Record<string, string>;
  etag?: string;
}

type Container = { name: string; claim(s: Services, b: BlobState): Promise<string | undefined> };

const CONTAINERS: readonly Container[] = [
  { name: BACKUPS_CONTAINER, claim: (s, b) => backupBlobClaim(s, b.name, b.metadata) },
  {
    name: IMAGES_CONTAINER,
    claim: (s, b) => {
      const m = IMAGE_NAME.exec(b.name);
      return m ? imageBlobClaim(s, m[1]) : Promise.resolve('not-jacket');
    },
  },
];

async function whyNot(s: Services, c: Container, b: BlobState): Promise<string | undefined> {
  if (b.blobType !== 'PageBlob') return 'not-jacket';
  const why = await c.claim(s, b);
  if (why) return why;
  return b.leaseState === 'leased' ? 'busy' : undefined;
}

async function* listed(client: ContainerClient): AsyncIterable<BlobState> {
  if (!(await client.exists())) return;
  for await (const b of client.listBlobsFlat({ includeMetadata: true })) {
    yield { name: b.name, blobType: b.properties.blobType, leaseState: b.properties.leaseState, metadata: b.metadata, etag: b.properties.etag };
  }
}

const statusOf = (e: unknown) => (e as { statusCode?: number }).statusCode;

export function sweepBlobs(s: Services, now: Date = new Date()): Promise<SweepReport> {
  const service = blobService(s.config.storage);
  return runSweep(s, BLOB_SWEEP, now, async (run) => {
    for (const c of CONTAINERS) {
      const client = service.getContainerClient(c.name);
      await run.over(listed(client), {
        kind: `blob-${c.name}`,
        name: (b) => b.name,
        evaluate: (b) => whyNot(s, c, b),
        async remove(b): Promise<Outcome> {
          const blob = client.getBlobClient(b.name);
          let cur: BlobState;
          try {
            const p = await blob.getProperties();
            cur = { name: b.name, blobType: p.blobType, leaseState: p.leaseState, metadata: p.metadata, etag: p.etag };
          } catch (e) {
            if (statusOf(e) === 404) return 'gone';
            throw e;
          }
          const why = await whyNot(s, c, cur);
          if (why) return why;
          try {
            await blob.delete({ deleteSnapshots: 'include', conditions: { ifMatch: cur.etag } });
            return 'deleted';
          } catch (e) {
            const status = statusOf(e);
            if (status === 404) return 'gone';
            if (status === 412) return 'changed';
            log.warn('sweep could not delete', { sweep: BLOB_SWEEP, kind: 'blob', container: c.name, name: b.name, status, error: e instanceof Error ? e.message : String(e) });
            return 'delete-failed';
          }
        },
      });
    }
  });
}
