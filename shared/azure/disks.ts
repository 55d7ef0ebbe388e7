// Managed disks and snapshots: create (empty, copy, import, from image), resize, delete, grant/revoke access, incremental snapshots; the chunked disk-to-blob copy of backups and uploads. Owned by block storage.
import type { DriverContext } from './driver';

export interface DiskDriver {}

export function diskDriver(_ctx: DriverContext): DiskDriver {
  return {};
}
