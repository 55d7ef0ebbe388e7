// Where backups live in Jacket's storage account: the page blob backup-<id>.vhd in the backups
// container. The copy itself is the Azure driver's (shared/azure/diskCopy.ts).
import type { BlobRef } from '../azure/diskCopy';

export const BACKUPS_CONTAINER = 'backups';
export const backupBlobName = (backupId: string) => `backup-${backupId}.vhd`;
/** A backup's blob (its record's blob.name) as the driver names blobs. */
export const backupBlobRef = (name: string): BlobRef => ({ container: BACKUPS_CONTAINER, name });
