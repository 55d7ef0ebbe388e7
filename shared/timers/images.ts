// The image retry sweep: images deleted through the API are marked deleting=true and cleaned up by the
// image-delete work kind (managed image, then the blob in the 'images' container, then the record).
// When the engine gave that action up (its retry budget spent on ARM or storage failures, or its
// message lost too often), the record stays marked; this sweep runs the same step again for records
// that were marked in two passes in a row (so an in-flight deletion is left to its own work item), and
// hands a step that must wait on Azure back to the engine (startWork). Only the images module's step
// deletes anything: the platform's 'vhds' container is never touched.
import type { Services } from '../services';
import { log } from '../log';
import { startWork } from '../work/ledger';
import { DELETE_KIND, IMAGE_DELETE } from '../image/managedImage';
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
          // Look before deleting again (step managed-wait: GET, then DELETE only if the managed image is
          // neither gone nor already Deleting): a DELETE sent on each pass would restart Azure's.
          const r = await IMAGE_DELETE.run({ kind: DELETE_KIND, id: img.id, step: 'managed-wait', data: { managed }, requestId: `req-${IMAGE_SWEEP}` }, s);
          // 'again': Azure is deleting the managed image; the engine follows it from here, and the next
          // pass finds the record again if it is still there.
          if (r.status === 'again') await startWork(s, r.item!, r.delaySeconds);
          return r.status === 'done' && !(await store.getAny(img.id)) ? 'deleted' : 'pending';
        } catch (e) {
          log.warn('sweep could not finish an image deletion', { sweep: IMAGE_SWEEP, image: img.id, error: e instanceof Error ? e.message : String(e) });
          return 'delete-failed';
        }
      },
    }),
  );
}
