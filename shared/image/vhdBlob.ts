// Image bytes as Azure wants them: a fixed VHD page blob `image-<uuid>.vhd` in the `images` container.
// The blob operations (upload, download, delete) are the driver's (shared/azure/blobs.ts, reached as
// s.azure.blobs); this file names the blobs and keeps the names other modules import.
import type { JacketConfig } from '../config';
import { createAzureDriver } from '../azure/driver';
import type { BlobDriver } from '../azure/blobs';

export { IMAGES_CONTAINER, ImageDataError, type WrittenImage } from '../azure/blobs';

export const blobNameOf = (imageId: string) => `image-${imageId}.vhd`;

/**
 * The image's page blob client, for code that holds a config rather than Services (the volume module's
 * image upload and image-backed volumes). Prefer s.azure.blobs.imageBlob(name).
 */
export function imageBlob(cfg: JacketConfig, name: string): ReturnType<BlobDriver['imageBlob']> {
  return createAzureDriver(cfg).blobs.imageBlob(name);
}
