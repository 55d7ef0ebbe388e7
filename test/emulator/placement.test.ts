// Availability sets and proximity placement groups (emulator/compute/placement.ts) through the real SDK:
// synchronous PUT/GET/DELETE, a VM's references set at creation and never changed, the VMs each lists,
// and Azure's refusals (a zoned VM in a set, a missing set, moving a VM, deleting one in use).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createLinuxVm, startHarness, type Harness } from './harness';
import { checkAndStop } from './specCheck';

let h: Harness;
before(async () => {
  h = await startHarness();
});
after(() => checkAndStop(h));

const errorOf = async (p: Promise<unknown>) => {
  try {
    await p;
  } catch (e) {
    const x = e as { statusCode?: number; code?: string };
    return { status: x.statusCode, code: x.code };
  }
  assert.fail('expected a refusal');
};

describe('availability sets and proximity placement groups', () => {
  it('an aligned availability set spreads its VMs over fault and update domains and lists them', async () => {
    const a = await h.compute.availabilitySets.createOrUpdate(h.resourceGroup, 'as1', {
      location: h.location,
      tags: { jacket: 'server-group' },
      sku: { name: 'Aligned' },
      platformFaultDomainCount: 2,
      platformUpdateDomainCount: 20,
    });
    assert.equal(a.sku?.name, 'Aligned');
    assert.deepEqual(a.virtualMachines, []);
    const { vm: v1 } = await createLinuxVm(h, 'asvm1', { availabilitySet: { id: a.id } });
    const { vm: v2 } = await createLinuxVm(h, 'asvm2', { availabilitySet: { id: a.id } });
    assert.equal(v1.availabilitySet?.id?.toLowerCase(), a.id?.toLowerCase());
    const got = await h.compute.availabilitySets.get(h.resourceGroup, 'as1');
    assert.deepEqual(
      got.virtualMachines?.map((v) => v.id?.toLowerCase()),
      [v1.id, v2.id].map((x) => x?.toLowerCase()),
    );
    const views = await Promise.all(['asvm1', 'asvm2'].map((n) => h.compute.virtualMachines.get(h.resourceGroup, n, { expand: 'instanceView' })));
    assert.deepEqual(
      views.map((v) => [v.instanceView?.platformFaultDomain, v.instanceView?.platformUpdateDomain]),
      [
        [0, 0],
        [1, 1],
      ],
    );
    // In use: Azure refuses the delete, and a changed domain count.
    assert.deepEqual(await errorOf(h.compute.availabilitySets.delete(h.resourceGroup, 'as1')), { status: 409, code: 'OperationNotAllowed' });
    assert.deepEqual(
      await errorOf(h.compute.availabilitySets.createOrUpdate(h.resourceGroup, 'as1', { location: h.location, sku: { name: 'Aligned' }, platformFaultDomainCount: 3, platformUpdateDomainCount: 20 })),
      { status: 409, code: 'PropertyChangeNotAllowed' },
    );
    // A VM cannot move into another set after creation.
    const other = await h.compute.availabilitySets.createOrUpdate(h.resourceGroup, 'as2', { location: h.location, sku: { name: 'Aligned' } });
    const cur = await h.compute.virtualMachines.get(h.resourceGroup, 'asvm1');
    assert.deepEqual(await errorOf(h.compute.virtualMachines.createOrUpdate(h.resourceGroup, 'asvm1', { ...cur, availabilitySet: { id: other.id } })), {
      status: 409,
      code: 'PropertyChangeNotAllowed',
    });
    // Its VMs gone, the set can go (DELETE is synchronous; a second one answers 204).
    await h.compute.virtualMachines.delete(h.resourceGroup, 'asvm1');
    await h.compute.virtualMachines.delete(h.resourceGroup, 'asvm2');
    assert.deepEqual((await h.compute.availabilitySets.get(h.resourceGroup, 'as1')).virtualMachines, []);
    await h.compute.availabilitySets.delete(h.resourceGroup, 'as1');
    await h.compute.availabilitySets.delete(h.resourceGroup, 'as1');
    assert.equal((await errorOf(h.compute.availabilitySets.get(h.resourceGroup, 'as1'))).status, 404);
    await h.compute.availabilitySets.delete(h.resourceGroup, 'as2');
  });

  it("refuses what Azure refuses: a zoned VM in a set, a missing set, another group's fault domain count", async () => {
    const a = await h.compute.availabilitySets.createOrUpdate(h.resourceGroup, 'as3', { location: h.location, sku: { name: 'Aligned' } });
    assert.deepEqual(await errorOf(createLinuxVm(h, 'zoned', { availabilitySet: { id: a.id }, zones: ['1'] })), { status: 400, code: 'InvalidParameter' });
    assert.deepEqual(await errorOf(createLinuxVm(h, 'lost', { availabilitySet: { id: `${a.id}-missing` } })), { status: 404, code: 'NotFound' });
    assert.deepEqual(await errorOf(h.compute.availabilitySets.createOrUpdate(h.resourceGroup, 'as4', { location: h.location, sku: { name: 'Aligned' }, platformFaultDomainCount: 4 })), {
      status: 400,
      code: 'InvalidParameter',
    });
    await h.compute.availabilitySets.delete(h.resourceGroup, 'as3');
  });

  it('a proximity placement group holds its VMs and cannot be deleted while it does', async () => {
    const g = await h.compute.proximityPlacementGroups.createOrUpdate(h.resourceGroup, 'ppg1', { location: h.location, proximityPlacementGroupType: 'Standard', tags: { jacket: 'server-group' } });
    assert.equal(g.proximityPlacementGroupType, 'Standard');
    const { vm } = await createLinuxVm(h, 'ppgvm', { proximityPlacementGroup: { id: g.id } });
    assert.equal(vm.proximityPlacementGroup?.id?.toLowerCase(), g.id?.toLowerCase());
    assert.deepEqual(
      (await h.compute.proximityPlacementGroups.get(h.resourceGroup, 'ppg1')).virtualMachines?.map((v) => v.id?.toLowerCase()),
      [vm.id?.toLowerCase()],
    );
    assert.deepEqual(await errorOf(h.compute.proximityPlacementGroups.delete(h.resourceGroup, 'ppg1')), { status: 409, code: 'OperationNotAllowed' });
    await h.compute.virtualMachines.delete(h.resourceGroup, 'ppgvm');
    await h.compute.proximityPlacementGroups.delete(h.resourceGroup, 'ppg1');
    assert.equal((await errorOf(h.compute.proximityPlacementGroups.get(h.resourceGroup, 'ppg1'))).status, 404);
    assert.deepEqual(await errorOf(createLinuxVm(h, 'noppg', { proximityPlacementGroup: { id: g.id } })), { status: 404, code: 'NotFound' });
  });
});
