import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { defaultSeed } from '../../emulator/server';
import { armRequest, createLinuxVm, startHarness, Harness } from './harness';
import { checkAndStop } from './specCheck';

let h: Harness;
before(async () => {
  h = await startHarness({
    seed: {
      familyQuotas: { standardDSv3Family: 4 },
      marketplaceImages: [
        ...defaultSeed().marketplaceImages,
        { publisher: 'Contoso', offer: 'linux', sku: 'stable', versions: ['1.0.0', '1.1.0'], osType: 'Linux', hyperVGeneration: 'V2', osDiskSizeGB: 16 },
      ],
    },
  });
});
after(() => checkAndStop(h));

describe('location catalog: sizes, SKUs, usages, marketplace', () => {
  it('lists the VM sizes of the location with real shapes', async () => {
    const sizes: any[] = [];
    for await (const s of h.compute.virtualMachineSizes.list(h.location)) sizes.push(s);
    const d2 = sizes.find((s) => s.name === 'Standard_D2s_v3');
    assert.deepEqual([d2.numberOfCores, d2.memoryInMB, d2.maxDataDiskCount], [2, 8192, 4]);
  });

  it('lists resource SKUs with restrictions for sizes not available here', async () => {
    const skus: any[] = [];
    for await (const s of h.compute.resourceSkus.list({ filter: `location eq '${h.location}'` })) skus.push(s);
    const b1s = skus.find((s) => s.name === 'Standard_B1s');
    assert.equal(b1s.capabilities.find((c: any) => c.name === 'vCPUs').value, '1');
    assert.deepEqual(b1s.restrictions, []);
    const nc = skus.find((s) => s.name === 'Standard_NC6s_v3');
    assert.equal(nc.restrictions[0].reasonCode, 'NotAvailableForSubscription');
    const elsewhere: any[] = [];
    for await (const s of h.compute.resourceSkus.list({ filter: "location eq 'westeurope'" })) elsewhere.push(s);
    assert.equal(elsewhere.length, 0);
  });

  it('usages count cores per region and per family; the family quota is enforced', async () => {
    await createLinuxVm(h, 'vm1', { hardwareProfile: { vmSize: 'Standard_D2s_v3' } });
    const usages: any[] = [];
    for await (const u of h.compute.usage.list(h.location)) usages.push(u);
    const by = (n: string) => usages.find((u) => u.name.value === n);
    assert.deepEqual([by('cores').currentValue, by('cores').limit], [2, 100]);
    assert.deepEqual([by('standardDSv3Family').currentValue, by('standardDSv3Family').limit], [2, 4]);
    assert.equal(by('virtualMachines').currentValue, 1);
    await assert.rejects(
      h.compute.virtualMachines.update(h.resourceGroup, 'vm1', { hardwareProfile: { vmSize: 'Standard_D8s_v3' } }),
      (e: any) => e.statusCode === 409 && e.code === 'OperationNotAllowed' && /standardDSv3Family Cores quota/.test(e.message),
    );
  });

  it('looks up marketplace publishers, offers, skus and versions', async () => {
    const pubs = await h.compute.virtualMachineImages.listPublishers(h.location);
    assert.ok(pubs.some((p) => p.name === 'Contoso'));
    const offers = await h.compute.virtualMachineImages.listOffers(h.location, 'Contoso');
    assert.deepEqual(
      offers.map((o) => o.name),
      ['linux'],
    );
    const skus = await h.compute.virtualMachineImages.listSkus(h.location, 'Contoso', 'linux');
    assert.deepEqual(
      skus.map((s) => s.name),
      ['stable'],
    );
    const versions = await h.compute.virtualMachineImages.list(h.location, 'Contoso', 'linux', 'stable', { orderby: 'name desc', top: 1 });
    assert.deepEqual(
      versions.map((v) => v.name),
      ['1.1.0'],
    );
    const v = await h.compute.virtualMachineImages.get(h.location, 'Contoso', 'linux', 'stable', '1.0.0');
    assert.equal(v.hyperVGeneration, 'V2');
    await assert.rejects(h.compute.virtualMachineImages.get(h.location, 'Contoso', 'linux', 'stable', '9.9.9'), (e: any) => e.statusCode === 404);
    const { vm } = await createLinuxVm(h, 'vm2', {
      storageProfile: { imageReference: { publisher: 'Contoso', offer: 'linux', sku: 'stable', version: '1.0.0' }, osDisk: { createOption: 'FromImage', diskSizeGB: 20 } },
    });
    assert.equal(vm.storageProfile?.imageReference?.exactVersion, '1.0.0');
    assert.equal(vm.storageProfile?.osDisk?.diskSizeGB, 20);
    await assert.rejects(
      createLinuxVm(h, 'vm3', { storageProfile: { imageReference: { publisher: 'Contoso', offer: 'linux', sku: 'nightly', version: 'latest' } } }),
      (e: any) => e.statusCode === 404 && e.code === 'PlatformImageNotFound',
    );
  });

  it('lists VMs across the subscription and by location; refuses another location', async () => {
    const all: string[] = [];
    for await (const v of h.compute.virtualMachines.listAll()) all.push(v.name!);
    assert.deepEqual(all.sort(), ['vm1', 'vm2']);
    const here: string[] = [];
    for await (const v of h.compute.virtualMachines.listByLocation(h.location)) here.push(v.name!);
    assert.equal(here.length, 2);
    const r = await armRequest(h, 'PUT', `/subscriptions/${h.subscriptionId}/resourceGroups/${h.resourceGroup}/providers/Microsoft.Compute/disks/far?api-version=2025-01-02`, {
      location: 'westeurope',
      properties: { creationData: { createOption: 'Empty' }, diskSizeGB: 1 },
    });
    assert.equal(r.status, 400);
    assert.equal(r.body.error.code, 'LocationNotAvailableForResourceType');
  });
});
