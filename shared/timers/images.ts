// The image retry sweep: images deleted through the API are marked deleting=true and cleaned up by the
// image-delete work step (managed image, then the blob in the 'images' container, then the record).
// When that step gave up (its item went to the poison queue after repeated ARM or storage failures),
// the record stays marked; this sweep runs the same step again for records that were marked in two
// passes in a row (so an in-flight deletion is left to its own work item). Only the images
// module's step deletes anything: the platform's 'vhds' container is never touched.
import type { Services } from '../services';
import { log } from '../log';
import { runWorkItem } from '../work/engine';
import { DELETE_KIND } from '../image/managedImage';
import { imageStore, type ImageRecord } from '../image/model';
import { runSweep, type SweepReport, type Outcome } from './sweep';

export const IMAGE_SWEEP = 'sweep-images';

/** The image records marked for deletion, read with the filter in the table query. */
async function* markedImages(s: Services): AsyncIterable<ImageRecord> {
  const client = await s.tables.client('images');
  for await (const e of client.listEntities<{ doc: string }>({ queryOptions: { filter: 'deleting eq true' } })) {
    yield JSON.parse(e.doc) as ImageRecord;
  }
}

export function sweepImages(s: Services, now: Date = new Date()): Promise<SweepReport> {
  const store = imageStore(s);
  return runSweep(s, IMAGE_SWEEP, now, (run) =>
    run.over(markedImages(s), {
      kind: 'image',
      name: (img) => img.id,
      evaluate: async (img) => (img.deleting && !img.marketplace ? undefined : 'not-deleting'),
      async remove(img): Promise<Outcome> {
        const cur = await store.getAny(img.id);
        if (!cur) return 'gone';
        if (!cur.value.deleting) return 'not-deleting';
        const managed = cur.value.blob !== undefined || cur.value.managedImageId !== undefined;
        try {
          const r = await runWorkItem({ kind: DELETE_KIND, id: img.id, data: { managed }, requestId: `req-${IMAGE_SWEEP}` }, s);
          // 'again': Azure is still deleting the managed image; the step was re-queued, and the next pass
          // finds the record again if it is still there.
          return r.status === 'done' && !(await store.getAny(img.id)) ? 'deleted' : 'pending';
        } catch (e) {
          log.warn('sweep could not finish an image deletion', { sweep: IMAGE_SWEEP, image: img.id, error: e instanceof Error ? e.message : String(e) });
          return 'delete-failed';
        }
      },
    }),
  );
}
