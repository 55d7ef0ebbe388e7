// The images' answer to the blob sweep (shared/timers/blobs.ts): does an image record still own the
// blob image-<id>.vhd? Read-only, over the images' own store.
import type { Services } from '../services';
import { imageStore } from './model';

/** Why image-<id>.vhd is kept: any record of the image (queued, saving, active, killed, or being deleted, whose step deletes the blob before the record). */
export async function imageOwnsBlob(s: Services, id: string): Promise<string | undefined> {
  return (await imageStore(s).getAny(id)) ? 'image-record' : undefined;
}

/**
 * The same answer for one sweep pass, read in batches: the image index and the records' keys once, on
 * first use, instead of two GETs per blob. The batch only proves ownership; an id it does not find is
 * asked again with imageOwnsBlob (fresh, after the blob was listed), as before batching.
 */
export function imageOwnerView(s: Services) {
  let owned: Promise<Set<string>> | undefined;
  return {
    async blob(id: string): Promise<string | undefined> {
      owned ??= imageStore(s).idsWithRecords();
      return (await owned).has(id) ? 'image-record' : imageOwnsBlob(s, id);
    },
  };
}
