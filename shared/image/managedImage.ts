// The image's long actions, on the one engine (shared/work/engine.ts, docs/images.md):
//   image-managed-create  makes the managed image (Microsoft.Compute/images) from the uploaded VHD blob,
//                         so an upload answers without waiting on ARM: a PUT, then GETs paced by
//                         Retry-After until it has finished; the image goes saving -> active.
//                         Given up (Azure refused it, a failure that outlasted the retry budget, or
//                         Azure's operation Failed): the image goes to Glance's `killed`.
//   image-delete          removes the managed image (or a server snapshot image's Azure snapshot), then
//                         the blob, then the record. The record was hidden first (deleting=true, status
//                         deleted), so given up it stays hidden and marked, and the image sweep
//                         (shared/timers/images.ts) runs the step again on each pass until it finishes.
// Started with startWork (shared/work/ledger.ts). Steps are idempotent: each reads the record and
// Azure and does the next thing.
import type { Services } from '../services';
import { log } from '../log';
import { again, done, type WorkFailure, type WorkItem, type WorkKind, type WorkResult } from '../work/types';
import { pollDelay } from '../work/pace';
import { imageStore, glanceTime, type ImageRecord } from './model';
import { blobNameOf } from './vhdBlob';
import { isSnapshotImage } from './snapshotImage';

export const MANAGE_KIND = 'image-managed-create';
export const DELETE_KIND = 'image-delete';

/** A managed image (and a server snapshot image's Azure snapshot) is named image-<id>. */
export const managedImageName = (imageId: string) => `image-${imageId}`;

function osTypeOf(img: ImageRecord): 'Linux' | 'Windows' {
  const t = (img.properties.azure_os_type ?? img.properties.os_type ?? 'linux').toLowerCase();
  return t === 'windows' ? 'Windows' : 'Linux';
}

/** Operations still running on the managed image: look again later. */
const BUSY = ['Creating', 'Updating', 'Deleting', 'Migrating', 'Accepted', 'Running'];

async function createStep(item: WorkItem, s: Services): Promise<WorkResult> {
  const store = imageStore(s);
  const cur = await store.getAny(item.id);
  if (!cur || cur.value.deleting || cur.value.status !== 'saving' || !cur.value.blob) return done();
  const img = cur.value;
  const name = managedImageName(img.id);
  if (item.step !== 'poll') {
    // No GET before the PUT: the PUT is idempotent, and its answer says when to look.
    const blob = await s.azure.blobs.imageBlob(img.blob!.name);
    const gen = img.properties.hw_machine_type === 'q35' || img.properties.azure_hyper_v_generation === 'V2' ? 'V2' : 'V1';
    const submitted = await s.azure.images.submitCreate(name, { blobUri: blob.url, osType: osTypeOf(img), hyperVGeneration: gen, tags: { 'jacket-image': name } });
    return again(item, pollDelay(s, submitted.retryAfterSeconds), { step: 'poll' });
  }
  const st = await s.azure.images.get(name);
  // Not there after an accepted PUT (Azure dropped it): submit it again.
  if (!st) return again(item, pollDelay(s), { step: 'submit' });
  if (st.provisioningState === 'Succeeded') {
    await store.update(img, (v) =>
      v.status !== 'saving' || v.deleting
        ? undefined
        : {
            ...v,
            status: 'active',
            managedImageId: st.id,
            properties: { ...v.properties, azure_type: 'image', azure_uri: st.id, azure_os_type: osTypeOf(v).toLowerCase() },
            updated_at: glanceTime(),
          },
    );
    return done();
  }
  if (BUSY.includes(st.provisioningState)) return again(item, pollDelay(s));
  // Failed or Canceled: Azure's operation ended; the managed image is kept for the delete to remove.
  await kill(s, img.id, `The managed image ended ${st.provisioningState} on Azure.`, st.id);
  return done();
}

/** Glance's `killed`: the image's data could not be made usable; only deleting it remains. */
async function kill(s: Services, id: string, reason: string, managedImageId?: string): Promise<void> {
  const store = imageStore(s);
  const cur = await store.getAny(id);
  if (!cur) return;
  const stored = await store.update(cur.value, (v) =>
    v.status !== 'saving' || v.deleting ? undefined : { ...v, status: 'killed', ...(managedImageId ? { managedImageId } : {}), updated_at: glanceTime() },
  );
  if (stored) log.warn('image killed: the managed image could not be made', { image: id, reason: reason.slice(0, 300) });
}

export const IMAGE_MANAGED_CREATE: WorkKind = {
  kind: MANAGE_KIND,
  run: createStep,
  giveUp: (item: WorkItem, s: Services, f: WorkFailure) => kill(s, item.id, `${f.code}: ${f.message}`),
  // A managed image from a blob takes minutes; an hour means Azure is not going to finish it.
  deadlineSeconds: 3600,
};

/**
 * One Azure resource of the image to delete (the managed image, or a snapshot image's snapshot): a
 * DELETE (no GET first: Azure answers 404 when it is already gone), then GETs paced by Retry-After
 * until it is gone; a resource that stopped Deleting without going (the delete failed) gets its DELETE
 * again. Entered at `<step>-wait` (as the image sweep does) it looks before it deletes. undefined when
 * it is gone and the step can move on.
 */
async function deleteAzure(
  item: WorkItem,
  s: Services,
  step: string,
  ops: { submit(): Promise<{ retryAfterSeconds?: number } | undefined>; state(): Promise<{ provisioningState: string } | undefined> },
): Promise<WorkResult | undefined> {
  const waiting = `${step}-wait`;
  if (item.step === waiting) {
    const st = await ops.state();
    if (!st) return undefined;
    if (st.provisioningState === 'Deleting') return again(item, pollDelay(s));
    // Still there and not being deleted: the delete failed on Azure's side; send it again now.
  }
  const submitted = await ops.submit();
  if (!submitted) return undefined;
  return again(item, pollDelay(s, submitted.retryAfterSeconds), { step: waiting });
}

/** Removes the managed image (waiting until ARM has), or a snapshot image's snapshot, then the blob, then the record. */
async function deleteStep(item: WorkItem, s: Services): Promise<WorkResult> {
  const store = imageStore(s);
  const cur = await store.getAny(item.id);
  if (!cur) return done();
  const img = cur.value;
  const name = managedImageName(img.id);
  const stage = item.step?.startsWith('snapshot') ? 'snapshot' : 'managed';
  if (stage === 'managed' && (img.managedImageId || item.data?.managed === true)) {
    const r = await deleteAzure(item, s, 'managed', { submit: () => s.azure.images.submitDelete(name), state: () => s.azure.images.get(name) });
    if (r) return r;
  }
  // A server snapshot image (snapshotImage.ts): its Azure snapshot goes first.
  if (isSnapshotImage(img)) {
    // Entered looking first (managed-wait, as the sweep does), it looks first at the snapshot too.
    const r = await deleteAzure(stage === 'snapshot' ? item : { ...item, step: item.step === 'managed-wait' ? 'snapshot-wait' : 'snapshot' }, s, 'snapshot', {
      submit: () => s.azure.images.submitSnapshotDelete(name),
      state: () => s.azure.images.snapshotState(name),
    });
    if (r) return r;
  }
  await s.azure.blobs.deleteImage(img.blob?.name ?? blobNameOf(img.id));
  await store.remove(img);
  return done();
}

export const IMAGE_DELETE: WorkKind = {
  kind: DELETE_KIND,
  run: deleteStep,
  // The record stays hidden and marked (deleting=true, Glance's `deleted`): the image sweep
  // (sweep-images) runs this step again on each pass until Azure lets it finish.
  giveUp: async (item: WorkItem, _s: Services, f: WorkFailure) => {
    log.warn('image deletion given up: left to the image sweep', { image: item.id, step: item.step, code: f.code, reason: f.message.slice(0, 300) });
  },
};

/** The image module's long actions (listed in shared/work/handlers.ts). */
export const IMAGE_WORK_KINDS: WorkKind[] = [IMAGE_MANAGED_CREATE, IMAGE_DELETE];
