import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { armRequest, computeClient, createLinuxVm, startHarness, Harness } from './harness';
import { checkAndStop } from './specCheck';

let h: Harness;
before(async () => {
  h = await startHarness();
  await createLinuxVm(h, 'vm1');
});
after(() => checkAndStop(h));

const vmPathRe = '/virtualMachines/vm1$';

describe('fault injection through the control API', () => {
  it('fails the next N matching requests with a status and code (the SDK retries 503 and gets through)', async () => {
    await h.control.clearRequests();
    await h.control.addFault({ method: 'GET', path: vmPathRe, count: 2, status: 503, code: 'ServiceUnavailable', message: 'try later' });
    const vm = await h.compute.virtualMachines.get(h.resourceGroup, 'vm1');
    assert.equal(vm.name, 'vm1');
    const recs = (await h.control.requests()).filter((r) => r.method === 'GET' && /virtualMachines\/vm1$/.test(r.path));
    assert.deepEqual(
      recs.map((r) => r.status),
      [503, 503, 200],
    );
    assert.equal(await h.control.countRequests('GET', vmPathRe), 3);
    assert.deepEqual(await h.control.listFaults(), []);
  });

  it('an injected non-retryable error reaches the caller in ARM shape', async () => {
    await h.control.addFault({ method: 'PUT', path: '/disks/faulty$', status: 409, code: 'OperationNotAllowed', message: 'injected' });
    await assert.rejects(
      h.compute.disks.createOrUpdate(h.resourceGroup, 'faulty', { location: h.location, creationData: { createOption: 'Empty' }, diskSizeGB: 1 }),
      (e: any) => e.statusCode === 409 && e.code === 'OperationNotAllowed' && e.message === 'injected',
    );
    const d = await h.compute.disks.createOrUpdate(h.resourceGroup, 'faulty', { location: h.location, creationData: { createOption: 'Empty' }, diskSizeGB: 1 });
    assert.equal(d.provisioningState, 'Succeeded', 'only the next request failed');
  });

  it('injects Compute throttling: 409 OperationNotAllowed with TooManyRequests details and Retry-After', async () => {
    const noRetry = computeClient(h.emu, { maxRetries: 0 });
    await h.control.addFault({
      method: 'POST',
      path: '/virtualMachines/vm1/restart$',
      status: 409,
      code: 'OperationNotAllowed',
      message: 'The server rejected the request because too many requests have been received for this subscription.',
      details: [
        {
          code: 'TooManyRequests',
          target: 'PutVM3Min',
          message: '{"operationGroup":"PutVM3Min","startTime":"2026-01-01T00:00:00+00:00","endTime":"2026-01-01T00:03:00+00:00","allowedRequestCount":1,"measuredRequestCount":2}',
        },
      ],
      headers: { 'Retry-After': '1' },
    });
    await assert.rejects(noRetry.virtualMachines.restart(h.resourceGroup, 'vm1'), (e: any) => e.statusCode === 409 && e.code === 'OperationNotAllowed');
    const last = (await h.control.requests()).filter((r) => /restart$/.test(r.path)).pop()!;
    assert.equal((last.responseBody as any).error.details[0].code, 'TooManyRequests');
  });

  it('adds latency', async () => {
    await h.control.addFault({ method: 'GET', path: vmPathRe, latencyMs: 300 });
    const t0 = Date.now();
    await h.compute.virtualMachines.get(h.resourceGroup, 'vm1');
    assert.ok(Date.now() - t0 >= 290, `took ${Date.now() - t0} ms`);
  });

  it('drops the connection (the SDK retries; without retries the caller sees a network error)', async () => {
    await h.control.clearRequests();
    await h.control.addFault({ method: 'GET', path: vmPathRe, drop: true });
    const vm = await h.compute.virtualMachines.get(h.resourceGroup, 'vm1');
    assert.equal(vm.name, 'vm1');
    const statuses = (await h.control.requests()).filter((r) => /virtualMachines\/vm1$/.test(r.path)).map((r) => r.status);
    assert.deepEqual(statuses, [0, 200]);
    const noRetry = computeClient(h.emu, { maxRetries: 0 });
    await h.control.addFault({ method: 'GET', path: vmPathRe, drop: true });
    await assert.rejects(noRetry.virtualMachines.get(h.resourceGroup, 'vm1'), (e: any) => /socket hang up|ECONNRESET/i.test(`${e.code} ${e.message}`));
  });

  it('makes the next matching async operation end Failed with AllocationFailed', async () => {
    await h.control.addFault({ method: 'PUT', path: '/virtualMachines/vm-alloc$', failAsync: true, code: 'AllocationFailed' });
    // The SDK's LRO error carries the code in its message only.
    await assert.rejects(createLinuxVm(h, 'vm-alloc'), (e: any) => /AllocationFailed/.test(e.message));
    const vm = await h.compute.virtualMachines.get(h.resourceGroup, 'vm-alloc', { expand: 'instanceView' });
    assert.equal(vm.provisioningState, 'Failed');
    const codes = vm.instanceView!.statuses!.map((s) => s.code);
    assert.ok(codes.includes('ProvisioningState/failed/AllocationFailed'), codes.join());
    assert.ok(codes.includes('PowerState/deallocated'));
    // a start that fails allocation leaves the VM deallocated
    await h.control.addFault({ method: 'POST', path: '/virtualMachines/vm-alloc/start$', failAsync: true });
    await assert.rejects(h.compute.virtualMachines.start(h.resourceGroup, 'vm-alloc'), (e: any) => /AllocationFailed/.test(e.message));
    await h.compute.virtualMachines.start(h.resourceGroup, 'vm-alloc');
    const ok = await h.compute.virtualMachines.get(h.resourceGroup, 'vm-alloc', { expand: 'instanceView' });
    assert.equal(ok.provisioningState, 'Succeeded');
    assert.ok(ok.instanceView!.statuses!.some((s) => s.code === 'PowerState/running'));
    await h.compute.virtualMachines.delete(h.resourceGroup, 'vm-alloc');
  });
});

describe("behind Jacket's back", () => {
  it('changes a VM power state (stopped from the portal)', async () => {
    const vmId = h.id('Microsoft.Compute', 'virtualMachines', 'vm1');
    await h.control.setPowerState(vmId, 'stopped');
    const iv = await h.compute.virtualMachines.instanceView(h.resourceGroup, 'vm1');
    assert.ok(iv.statuses!.some((s) => s.code === 'PowerState/stopped'));
    await h.compute.virtualMachines.start(h.resourceGroup, 'vm1');
  });

  it('deletes a VM (its deleteOption=Delete NIC and OS disk go too)', async () => {
    await createLinuxVm(h, 'vm-gone');
    const vmId = h.id('Microsoft.Compute', 'virtualMachines', 'vm-gone');
    const rec = await h.control.getResource(vmId);
    assert.equal(rec.powerState, 'running');
    await h.control.deleteResource(vmId);
    await assert.rejects(h.compute.virtualMachines.get(h.resourceGroup, 'vm-gone'), (e: any) => e.statusCode === 404);
    await assert.rejects(h.network.networkInterfaces.get(h.resourceGroup, 'vm-gone-nic'), (e: any) => e.statusCode === 404);
    await assert.rejects(h.compute.disks.get(h.resourceGroup, rec.osDisk.name), (e: any) => e.statusCode === 404);
  });

  it('deletes a disk (a data disk is detached from its VM first)', async () => {
    const d = await h.compute.disks.createOrUpdate(h.resourceGroup, 'data1', { location: h.location, creationData: { createOption: 'Empty' }, diskSizeGB: 2 });
    await h.compute.virtualMachines.update(h.resourceGroup, 'vm1', { storageProfile: { dataDisks: [{ lun: 0, createOption: 'Attach', managedDisk: { id: d.id } }] } });
    assert.equal((await h.compute.disks.get(h.resourceGroup, 'data1')).diskState, 'Attached');
    await h.control.deleteResource(d.id!);
    const vm = await h.compute.virtualMachines.get(h.resourceGroup, 'vm1');
    assert.deepEqual(vm.storageProfile?.dataDisks, []);
  });
});

describe('control API housekeeping', () => {
  it('lists operations and recorded requests, and resets to the seed', async () => {
    const ops = await h.control.operations();
    assert.ok(ops.length > 0 && ops.every((o) => o.status !== 'InProgress'));
    assert.ok((await h.control.requests()).length > 0);
    await h.control.reset();
    assert.deepEqual(await h.control.requests(), []);
    await assert.rejects(h.compute.virtualMachines.get(h.resourceGroup, 'vm1'), (e: any) => e.statusCode === 404);
    const vnet = await h.network.virtualNetworks.get(h.resourceGroup, 'jacket-vnet');
    assert.equal(vnet.name, 'jacket-vnet');
    const r = await armRequest(h, 'GET', '/_emulator/health', undefined, {});
    assert.equal(r.body.ok, true);
  });
});
