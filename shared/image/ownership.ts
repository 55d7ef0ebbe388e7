// The images' answer to the blob sweep (shared/timers/blobs.ts): does an image record still own the
// blob image-<id>.vhd? Read-only, over the images' own store.
import type { Services } from '../services';
import { imageStore } from './model';

/** Why image-<id>.vhd is kept: any record of the image (queued, saving, active, killed, or being deleted, whose step deletes the blob before the record). */
export async function imageOwnsBlob(s: Services, id: string): Promise<string | undefined> {
  return (await imageStore(s).getAny(id)) ? 'image-record' : undefined;
}
