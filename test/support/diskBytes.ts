// Bytes in and out of the ARM emulator's managed disks, for tests that check data end to end: writes go
// straight into the disk's page blob in Azurite (where the emulator keeps disk data); reads go through a
// real read SAS (grant access), revoked after.
import assert from 'node:assert/strict';
import type { ComputeManagementClient } from '@azure/arm-compute';
import type { BlobServiceClient } from '@azure/storage-blob';
import type { EmulatorControl } from '../../emulator/control';

const RG = 'ops_resource_group';

export function diskBytes(compute: ComputeManagementClient, control: EmulatorControl, blobs: BlobServiceClient) {
  return {
    async writeDisk(diskName: string, offset: number, data: Buffer): Promise<void> {
      const diskId = (await compute.disks.get(RG, diskName)).id!;
      const rec = await control.getResource<{ blobName: string }>(diskId);
      await blobs.getContainerClient('emulator-disks').getPageBlobClient(rec.blobName).uploadPages(data, offset, data.length);
    },
    async readDisk(diskName: string, offset: number, length: number): Promise<Buffer> {
      const { accessSAS } = await compute.disks.grantAccess(RG, diskName, { access: 'Read', durationInSeconds: 300 });
      try {
        const got = await fetch(accessSAS!, { headers: { Range: `bytes=${offset}-${offset + length - 1}` } });
        assert.ok(got.ok, `SAS read ${got.status}`);
        return Buffer.from(await got.arrayBuffer());
      } finally {
        await compute.disks.revokeAccess(RG, diskName);
      }
    },
  };
}
