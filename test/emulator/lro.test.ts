import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { armRequest, createNic, startHarness, Harness } from './harness';
import { checkAndStop } from './specCheck';

let h: Harness;
before(async () => {
  h = await startHarness({ asyncDelayMs: 300 });
});
after(() => checkAndStop(h));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const rel = (u: string) => {
  const x = new URL(u);
  return `${x.pathname}${x.search}`;
};

describe('long-running operations as ARM runs them', () => {
  it('DiskRP PUT: 202 with Location, Azure-AsyncOperation, Retry-After; Updating then Succeeded', async () => {
    const p = `/subscriptions/${h.subscriptionId}/resourceGroups/${h.resourceGroup}/providers/Microsoft.Compute/disks/d1?api-version=2025-01-02`;
    const r = await armRequest(h, 'PUT', p, { location: h.location, properties: { creationData: { createOption: 'Empty' }, diskSizeGB: 4 } });
    assert.equal(r.status, 202);
    assert.equal(r.body.properties.provisioningState, 'Updating');
    const asyncUrl = String(r.headers['azure-asyncoperation']);
    const location = String(r.headers['location']);
    assert.ok(asyncUrl.startsWith(h.emu.url) && location.startsWith(h.emu.url), 'absolute header URLs');
    assert.ok(Number(r.headers['retry-after']) >= 0);
    const during = await armRequest(h, 'GET', p);
    assert.equal(during.body.properties.provisioningState, 'Updating');
    const st = await armRequest(h, 'GET', rel(asyncUrl));
    assert.equal(st.body.status, 'InProgress');
    const mon = await armRequest(h, 'GET', rel(location));
    assert.equal(mon.status, 202);
    await sleep(350);
    const done = await armRequest(h, 'GET', rel(asyncUrl));
    assert.equal(done.body.status, 'Succeeded');
    assert.ok(done.body.endTime);
    const final = await armRequest(h, 'GET', rel(location));
    assert.equal(final.status, 200);
    assert.equal(final.body.properties.provisioningState, 'Succeeded');
    assert.equal((await armRequest(h, 'GET', p)).body.properties.provisioningState, 'Succeeded');
  });

  it('VM PUT: 201 Creating with Azure-AsyncOperation; DELETE: 202 Deleting then gone', async () => {
    const nic = await h.network.networkInterfaces.beginCreateOrUpdateAndWait(
      h.resourceGroup,
      'lro-nic',
      { location: h.location, ipConfigurations: [{ name: 'ipconfig1', subnet: { id: h.subnetId } }] },
      { updateIntervalInMs: 50 },
    );
    const p = `/subscriptions/${h.subscriptionId}/resourceGroups/${h.resourceGroup}/providers/Microsoft.Compute/virtualMachines/lro1?api-version=2026-03-01`;
    const r = await armRequest(h, 'PUT', p, {
      location: h.location,
      properties: {
        hardwareProfile: { vmSize: 'Standard_B1s' },
        storageProfile: { imageReference: { publisher: 'Canonical', offer: '0001-com-ubuntu-server-jammy', sku: '22_04-lts-gen2', version: 'latest' }, osDisk: { createOption: 'FromImage' } },
        osProfile: { computerName: 'lro1', adminUsername: 'jacket', adminPassword: 'Jacket-Pass-123' },
        networkProfile: { networkInterfaces: [{ id: nic.id }] },
      },
    });
    assert.equal(r.status, 201);
    assert.equal(r.body.properties.provisioningState, 'Creating');
    assert.ok(r.headers['azure-asyncoperation']);
    const iv = await armRequest(h, 'GET', p.replace('?', '/instanceView?'));
    assert.ok(iv.body.statuses.some((s: any) => s.code === 'ProvisioningState/creating'));
    await sleep(300);
    const st = await armRequest(h, 'GET', rel(String(r.headers['azure-asyncoperation'])));
    assert.equal(st.body.status, 'Succeeded');
    assert.equal((await armRequest(h, 'GET', p)).body.properties.provisioningState, 'Succeeded');
    const del = await armRequest(h, 'DELETE', p);
    assert.equal(del.status, 202);
    assert.ok(del.headers['location'] && del.headers['azure-asyncoperation']);
    assert.equal((await armRequest(h, 'GET', p)).body.properties.provisioningState, 'Deleting');
    await sleep(300);
    assert.equal((await armRequest(h, 'GET', rel(String(del.headers['azure-asyncoperation'])))).body.status, 'Succeeded');
    assert.equal((await armRequest(h, 'GET', p)).status, 404);
    assert.equal((await armRequest(h, 'DELETE', p)).status, 204);
  });

  it('the SDK pollers wait for the configured delay and return the final resource', async () => {
    const t0 = Date.now();
    const nic = await createNic(h, 'lro-nic2');
    const d = await h.compute.disks.createOrUpdate(h.resourceGroup, 'd2', { location: h.location, creationData: { createOption: 'Empty' }, diskSizeGB: 1 }, { updateIntervalInMs: 50 });
    assert.equal(d.provisioningState, 'Succeeded');
    assert.equal(nic.provisioningState, 'Succeeded');
    assert.ok(Date.now() - t0 >= 300);
  });

  it('network PUT answers 201 Updating with Azure-AsyncOperation; operation status documents', async () => {
    const p = `/subscriptions/${h.subscriptionId}/resourceGroups/${h.resourceGroup}/providers/Microsoft.Network/networkSecurityGroups/nsg-lro?api-version=2025-05-01`;
    const r = await armRequest(h, 'PUT', p, { location: h.location, properties: {} });
    assert.equal(r.status, 201);
    assert.equal(r.body.properties.provisioningState, 'Updating');
    const st = await armRequest(h, 'GET', rel(String(r.headers['azure-asyncoperation'])));
    assert.equal(st.body.status, 'InProgress');
    await sleep(350);
    assert.equal((await armRequest(h, 'GET', rel(String(r.headers['azure-asyncoperation'])))).body.status, 'Succeeded');
    assert.equal((await armRequest(h, 'GET', p)).body.properties.provisioningState, 'Succeeded');
  });
});
