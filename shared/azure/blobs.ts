// Jacket's page blobs in its storage account: image VHDs, backup VHDs, listing for the blob sweep.
import type { DriverContext } from './driver';

export interface BlobDriver {}

export function blobDriver(_ctx: DriverContext): BlobDriver {
  return {};
}
