import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AnonymousCredential, PageBlobClient } from '@azure/storage-blob';
import { vhdFooter } from '../../emulator/storage/vhd';
import { createLinuxVm, startHarness, Harness } from './harness';
import { checkAndStop } from './specCheck';

let h: Harness;
before(async () => {
  h = await startHarness();
});
after(() => checkAndStop(h));

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

function pattern(len: number, seed: number): Buffer {
  const b = Buffer.alloc(len);
  for (let i = 0; i < len; i++) b[i] = (i * 31 + seed) & 0xff;
  return b;
}

async function readSas(url: string, offset: number, count: number): Promise<Buffer> {
  return new PageBlobClient(url, new AnonymousCredential()).downloadToBuffer(offset, count);
}

async function sasSize(url: string): Promise<number> {
  return (await new PageBlobClient(url, new AnonymousCredential()).getProperties()).contentLength!;
}

/** Uploads `data` into a new Upload disk through its write SAS, as Jacket's volume upload does. */
async function uploadDisk(name: string, data: Buffer): Promise<void> {
  const dataSize = 20 * MiB;
  await h.compute.disks.createOrUpdate(h.resourceGroup, name, {
    location: h.location,
    sku: { name: 'Standard_LRS' },
    creationData: { createOption: 'Upload', uploadSizeBytes: dataSize + 512 },
  });
  const d0 = await h.compute.disks.get(h.resourceGroup, name);
  assert.equal(d0.diskState, 'ReadyToUpload');
  const { accessSAS } = await h.compute.disks.grantAccess(h.resourceGroup, name, { access: 'Write', durationInSeconds: 600 });
  assert.equal((await h.compute.disks.get(h.resourceGroup, name)).diskState, 'ActiveUpload');
  const pb = new PageBlobClient(accessSAS!, new AnonymousCredential());
  await pb.uploadPages(data, 0, data.length);
  await pb.uploadPages(vhdFooter(dataSize), dataSize, 512);
  await h.compute.disks.revokeAccess(h.resourceGroup, name);
  await assert.rejects(pb.uploadPages(data, 0, data.length), 'the write SAS stops working after revoke');
  assert.equal((await h.compute.disks.get(h.resourceGroup, name)).diskState, 'Unattached');
}

describe('managed disks and snapshots hold real bytes in Azurite', () => {
  const data = pattern(64 * 1024, 7);

  it('creates an empty disk as a fixed VHD page blob and exports it with a read SAS', async () => {
    const d = await h.compute.disks.createOrUpdate(h.resourceGroup, 'empty1', { location: h.location, sku: { name: 'Premium_LRS' }, creationData: { createOption: 'Empty' }, diskSizeGB: 1 });
    assert.equal(d.provisioningState, 'Succeeded');
    assert.equal(d.diskState, 'Unattached');
    assert.equal(d.tier, 'P1');
    const { accessSAS } = await h.compute.disks.grantAccess(h.resourceGroup, 'empty1', { access: 'Read', durationInSeconds: 300 });
    assert.equal((await h.compute.disks.get(h.resourceGroup, 'empty1')).diskState, 'ActiveSAS');
    assert.equal(await sasSize(accessSAS!), GiB + 512);
    const footer = await readSas(accessSAS!, GiB, 512);
    assert.equal(footer.subarray(0, 8).toString(), 'conectix');
    await h.compute.disks.revokeAccess(h.resourceGroup, 'empty1');
    await assert.rejects(readSas(accessSAS!, 0, 512), 'the read SAS stops working after revoke');
  });

  it('direct upload: Upload disk, write SAS, pages, revoke; bytes readable afterwards', async () => {
    await uploadDisk('up1', data);
    const { accessSAS } = await h.compute.disks.grantAccess(h.resourceGroup, 'up1', { access: 'Read', durationInSeconds: 300 });
    assert.deepEqual(await readSas(accessSAS!, 0, data.length), data);
    await h.compute.disks.revokeAccess(h.resourceGroup, 'up1');
  });

  it('copies a disk, snapshots it (full and incremental) and restores a disk from the snapshot', async () => {
    const src = await h.compute.disks.get(h.resourceGroup, 'up1');
    const copy = await h.compute.disks.createOrUpdate(h.resourceGroup, 'copy1', { location: h.location, creationData: { createOption: 'Copy', sourceResourceId: src.id } });
    assert.equal(copy.creationData?.sourceUniqueId, src.uniqueId);
    const snap = await h.compute.snapshots.createOrUpdate(h.resourceGroup, 'snap1', { location: h.location, creationData: { createOption: 'Copy', sourceResourceId: copy.id }, incremental: true });
    assert.equal(snap.incremental, true);
    assert.ok(snap.incrementalSnapshotFamilyId);
    const full = await h.compute.snapshots.createOrUpdate(h.resourceGroup, 'snap2', { location: h.location, creationData: { createOption: 'Copy', sourceResourceId: copy.id } });
    assert.equal(full.incremental, false);
    const restored = await h.compute.disks.createOrUpdate(h.resourceGroup, 'restored1', { location: h.location, creationData: { createOption: 'Copy', sourceResourceId: snap.id }, diskSizeGB: 2 });
    assert.equal(restored.diskSizeGB, 2);
    const { accessSAS } = await h.compute.disks.grantAccess(h.resourceGroup, 'restored1', { access: 'Read', durationInSeconds: 300 });
    assert.deepEqual(await readSas(accessSAS!, 0, data.length), data);
    assert.equal(await sasSize(accessSAS!), 2 * GiB + 512);
    await h.compute.disks.revokeAccess(h.resourceGroup, 'restored1');
    const snapAccess = await h.compute.snapshots.grantAccess(h.resourceGroup, 'snap1', { access: 'Read', durationInSeconds: 60 });
    assert.deepEqual(await readSas(snapAccess.accessSAS!, 0, data.length), data);
    await h.compute.snapshots.revokeAccess(h.resourceGroup, 'snap1');
  });

  it('imports a VHD page blob by URI (from a container Jacket owns)', async () => {
    const container = h.blob.getContainerClient('vhds');
    await container.createIfNotExists();
    const pb = container.getPageBlobClient('import.vhd');
    const size = 4 * MiB;
    await pb.create(size + 512);
    await pb.uploadPages(data, 0, data.length);
    await pb.uploadPages(vhdFooter(size), size, 512);
    const d = await h.compute.disks.createOrUpdate(h.resourceGroup, 'imported1', {
      location: h.location,
      creationData: {
        createOption: 'Import',
        sourceUri: pb.url,
        storageAccountId: `/subscriptions/${h.subscriptionId}/resourceGroups/${h.resourceGroup}/providers/Microsoft.Storage/storageAccounts/devstoreaccount1`,
      },
    });
    assert.equal(d.diskSizeGB, 1);
    const { accessSAS } = await h.compute.disks.grantAccess(h.resourceGroup, 'imported1', { access: 'Read', durationInSeconds: 300 });
    assert.deepEqual(await readSas(accessSAS!, 0, data.length), data);
    await h.compute.disks.revokeAccess(h.resourceGroup, 'imported1');
    const snap = await h.compute.snapshots.createOrUpdate(h.resourceGroup, 'snapimp', { location: h.location, creationData: { createOption: 'Import', sourceUri: pb.url, storageAccountId: 'x' } });
    assert.equal(snap.provisioningState, 'Succeeded');
  });

  it('refuses to import what is not a fixed VHD page blob', async () => {
    const container = h.blob.getContainerClient('vhds');
    const block = container.getBlockBlobClient('not-a-page-blob.vhd');
    await block.upload('hello', 5);
    const raw = container.getPageBlobClient('no-footer.vhd');
    await raw.create(2 * MiB);
    const odd = container.getPageBlobClient('odd-size.vhd');
    await odd.create(MiB + 1024);
    await odd.uploadPages(vhdFooter(MiB + 512), MiB + 512, 512);
    for (const [blob, why] of [
      [block.url, /only page blobs/],
      [raw.url, /not a fixed VHD/],
      [odd.url, /whole number/],
      [`${container.url}/missing.vhd`, /not accessible/],
    ] as const) {
      await assert.rejects(
        h.compute.disks.createOrUpdate(h.resourceGroup, 'bad-import', { location: h.location, creationData: { createOption: 'Import', sourceUri: blob } }),
        (e: any) => e.statusCode === 400 && e.code === 'InvalidParameter' && why.test(e.message),
      );
    }
    await assert.rejects(h.compute.disks.get(h.resourceGroup, 'bad-import'), (e: any) => e.statusCode === 404);
  });

  it('grows a disk (the footer moves to the new end) and refuses to shrink it', async () => {
    const d = await h.compute.disks.update(h.resourceGroup, 'copy1', { diskSizeGB: 3 });
    assert.equal(d.diskSizeGB, 3);
    const { accessSAS } = await h.compute.disks.grantAccess(h.resourceGroup, 'copy1', { access: 'Read', durationInSeconds: 300 });
    assert.equal(await sasSize(accessSAS!), 3 * GiB + 512);
    assert.equal((await readSas(accessSAS!, 3 * GiB, 512)).subarray(0, 8).toString(), 'conectix');
    assert.deepEqual(await readSas(accessSAS!, 0, data.length), data);
    await h.compute.disks.revokeAccess(h.resourceGroup, 'copy1');
    await assert.rejects(h.compute.disks.update(h.resourceGroup, 'copy1', { diskSizeGB: 1 }), (e: any) => e.statusCode === 400 && e.code === 'BadRequest');
  });

  it('creates a disk FromImage (marketplace image version id)', async () => {
    const versions = await h.compute.virtualMachineImages.list(h.location, 'Canonical', '0001-com-ubuntu-server-jammy', '22_04-lts-gen2');
    const d = await h.compute.disks.createOrUpdate(h.resourceGroup, 'fromimg', {
      location: h.location,
      creationData: { createOption: 'FromImage', imageReference: { id: versions[versions.length - 1].id } },
    });
    assert.equal(d.osType, 'Linux');
    assert.equal(d.diskSizeGB, 30);
    const img = await h.compute.virtualMachineImages.get(h.location, 'Canonical', '0001-com-ubuntu-server-jammy', '22_04-lts-gen2', versions[0].name);
    assert.equal(img.osDiskImage?.operatingSystem, 'Linux');
  });

  it('managed images from a snapshot, a disk and a blob; a VM from the image gets the bytes', async () => {
    const fromSnap = await h.compute.images.createOrUpdate(h.resourceGroup, 'img-snap', {
      location: h.location,
      storageProfile: { osDisk: { osType: 'Linux', osState: 'Generalized', snapshot: { id: h.id('Microsoft.Compute', 'snapshots', 'snap2') } } },
      hyperVGeneration: 'V2',
    });
    assert.equal(fromSnap.provisioningState, 'Succeeded');
    const fromDisk = await h.compute.images.createOrUpdate(h.resourceGroup, 'img-disk', {
      location: h.location,
      storageProfile: { osDisk: { osType: 'Linux', osState: 'Generalized', managedDisk: { id: h.id('Microsoft.Compute', 'disks', 'up1') } } },
    });
    assert.equal(fromDisk.storageProfile?.osDisk?.managedDisk?.id?.toLowerCase(), h.id('Microsoft.Compute', 'disks', 'up1').toLowerCase());
    const blobUri = h.blob.getContainerClient('vhds').getPageBlobClient('import.vhd').url;
    const fromBlob = await h.compute.images.createOrUpdate(h.resourceGroup, 'img-blob', {
      location: h.location,
      storageProfile: { osDisk: { osType: 'Linux', osState: 'Generalized', blobUri } },
    });
    assert.equal(fromBlob.storageProfile?.osDisk?.blobUri, blobUri);
    const { vm } = await createLinuxVm(h, 'vmimg', {
      storageProfile: { imageReference: { id: fromSnap.id }, osDisk: { createOption: 'FromImage', deleteOption: 'Delete' } },
    });
    assert.equal(vm.storageProfile?.imageReference?.id, fromSnap.id);
    await h.compute.virtualMachines.deallocate(h.resourceGroup, 'vmimg');
    const osName = vm.storageProfile!.osDisk!.name!;
    const { accessSAS } = await h.compute.disks.grantAccess(h.resourceGroup, osName, { access: 'Read', durationInSeconds: 300 });
    assert.deepEqual(await readSas(accessSAS!, 0, data.length), data);
    await h.compute.disks.revokeAccess(h.resourceGroup, osName);
    const names: string[] = [];
    for await (const i of h.compute.images.listByResourceGroup(h.resourceGroup)) names.push(i.name!);
    assert.deepEqual(names.sort(), ['img-blob', 'img-disk', 'img-snap']);
    await h.compute.images.delete(h.resourceGroup, 'img-blob');
  });

  it('image from a VM requires generalize, which requires the VM stopped', async () => {
    await h.compute.virtualMachines.start(h.resourceGroup, 'vmimg');
    await assert.rejects(h.compute.virtualMachines.generalize(h.resourceGroup, 'vmimg'), (e: any) => e.statusCode === 409 && e.code === 'OperationNotAllowed');
    const vmId = h.id('Microsoft.Compute', 'virtualMachines', 'vmimg');
    await assert.rejects(
      h.compute.images.createOrUpdate(h.resourceGroup, 'img-vm', { location: h.location, sourceVirtualMachine: { id: vmId } }),
      (e: any) => e.statusCode === 409 && e.code === 'OperationNotAllowed',
    );
    await h.compute.virtualMachines.powerOff(h.resourceGroup, 'vmimg');
    await h.compute.virtualMachines.generalize(h.resourceGroup, 'vmimg');
    const img = await h.compute.images.createOrUpdate(h.resourceGroup, 'img-vm', { location: h.location, sourceVirtualMachine: { id: vmId } });
    assert.equal(img.sourceVirtualMachine?.id, vmId);
    assert.equal(img.storageProfile?.osDisk?.osState, 'Generalized');
    await assert.rejects(h.compute.virtualMachines.start(h.resourceGroup, 'vmimg'), (e: any) => e.statusCode === 409 && e.code === 'OperationNotAllowed');
  });

  it('lists disks and snapshots, deletes them', async () => {
    const disks: string[] = [];
    for await (const d of h.compute.disks.list()) disks.push(d.name!);
    assert.ok(disks.includes('empty1') && disks.includes('up1'));
    const snaps: string[] = [];
    for await (const s of h.compute.snapshots.listByResourceGroup(h.resourceGroup)) snaps.push(s.name!);
    assert.deepEqual(snaps.sort(), ['snap1', 'snap2', 'snapimp']);
    await h.compute.snapshots.delete(h.resourceGroup, 'snap1');
    await h.compute.disks.delete(h.resourceGroup, 'empty1');
    await assert.rejects(h.compute.disks.get(h.resourceGroup, 'empty1'), (e: any) => e.statusCode === 404 && e.code === 'ResourceNotFound');
  });
});

describe('shared disks (maxShares)', () => {
  const attach = (vm: string, id: string, caching = 'None') =>
    h.compute.virtualMachines.update(h.resourceGroup, vm, { storageProfile: { dataDisks: [{ lun: 0, createOption: 'Attach', managedDisk: { id }, caching: caching as never }] } });
  const detach = (vm: string) => h.compute.virtualMachines.update(h.resourceGroup, vm, { storageProfile: { dataDisks: [] } });
  const code = (e: any) => e?.code ?? e?.details?.error?.code;

  it('only shareable SKUs, within their size limit, take maxShares > 1', async () => {
    await assert.rejects(
      h.compute.disks.createOrUpdate(h.resourceGroup, 'hdd-shared', { location: h.location, sku: { name: 'Standard_LRS' }, creationData: { createOption: 'Empty' }, diskSizeGB: 4, maxShares: 2 }),
      (e: any) => code(e) === 'InvalidParameter',
    );
    await assert.rejects(
      h.compute.disks.createOrUpdate(h.resourceGroup, 'p-four', { location: h.location, sku: { name: 'Premium_LRS' }, creationData: { createOption: 'Empty' }, diskSizeGB: 4, maxShares: 4 }),
      (e: any) => code(e) === 'InvalidParameter',
      'a P1-P20 disk takes 3 VMs at most',
    );
    const d = await h.compute.disks.createOrUpdate(h.resourceGroup, 'shared1', {
      location: h.location,
      sku: { name: 'StandardSSD_LRS' },
      creationData: { createOption: 'Empty' },
      diskSizeGB: 4,
      maxShares: 2,
    });
    assert.equal(d.maxShares, 2);
    assert.equal(await h.compute.disks.get(h.resourceGroup, 'hdd-shared').catch(() => 'none'), 'none', 'nothing was made');
  });

  it('attaches to maxShares VMs, each with caching None, listed in managedByExtended', async () => {
    await createLinuxVm(h, 'share-a');
    await createLinuxVm(h, 'share-b');
    await createLinuxVm(h, 'share-c');
    const d = await h.compute.disks.get(h.resourceGroup, 'shared1');
    await assert.rejects(attach('share-a', d.id!, 'ReadOnly'), (e: any) => code(e) === 'InvalidParameter', 'no host caching on a shared disk');
    await attach('share-a', d.id!);
    await attach('share-b', d.id!);
    const both = await h.compute.disks.get(h.resourceGroup, 'shared1');
    assert.equal(both.diskState, 'Attached');
    assert.equal(both.managedByExtended?.length, 2);
    assert.ok(both.managedByExtended!.some((x) => x.toLowerCase().endsWith('/share-a')) && both.managedByExtended!.some((x) => x.toLowerCase().endsWith('/share-b')));
    assert.ok(both.managedBy?.toLowerCase().endsWith('/share-a'), 'managedBy: the first VM');
    await assert.rejects(attach('share-c', d.id!), (e: any) => code(e) === 'OperationNotAllowed', 'a third VM is over maxShares 2');
    await assert.rejects(h.compute.disks.update(h.resourceGroup, 'shared1', { diskSizeGB: 8 }), (e: any) => code(e) === 'Conflict', 'a shared disk grows only when every VM lets go');
    await detach('share-a');
    const one = await h.compute.disks.get(h.resourceGroup, 'shared1');
    assert.deepEqual(
      one.managedByExtended?.map((x) => x.toLowerCase().split('/').pop()),
      ['share-b'],
    );
    assert.ok(one.managedBy?.toLowerCase().endsWith('/share-b'));
    await detach('share-b');
    const none = await h.compute.disks.get(h.resourceGroup, 'shared1');
    assert.equal(none.diskState, 'Unattached');
    assert.equal(none.managedBy, undefined);
    assert.deepEqual(none.managedByExtended, []);
  });

  it('a disk with maxShares 1 (or none) goes to one VM only', async () => {
    const d = await h.compute.disks.createOrUpdate(h.resourceGroup, 'single1', {
      location: h.location,
      sku: { name: 'Premium_LRS' },
      creationData: { createOption: 'Empty' },
      diskSizeGB: 4,
      maxShares: 1,
    });
    await attach('share-a', d.id!);
    await assert.rejects(attach('share-b', d.id!), (e: any) => code(e) === 'OperationNotAllowed');
    await detach('share-a');
  });
});
