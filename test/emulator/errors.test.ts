import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { armRequest, createLinuxVm, createNic, startHarness, Harness } from './harness';
import { checkAndStop } from './specCheck';

let h: Harness;
before(async () => {
  h = await startHarness({ retry: { maxRetries: 0 } });
  await createLinuxVm(h, 'vm1');
});
after(() => checkAndStop(h));

const API = 'api-version=2024-11-01';
const vmPath = (name: string) => `/subscriptions/${h.subscriptionId}/resourceGroups/${h.resourceGroup}/providers/Microsoft.Compute/virtualMachines/${name}`;

function isArmError(status: number, code: string) {
  return (e: any) => {
    assert.equal(e.statusCode, status, `status of ${e.code}: ${e.message}`);
    assert.equal(e.code, code, e.message);
    return true;
  };
}

/** Rejects as ARM would, and the answer on the wire (as recorded) names `target`. */
async function expectArmError(p: Promise<unknown>, status: number, code: string, target: string, what?: string): Promise<void> {
  await assert.rejects(p, isArmError(status, code), what);
  const recs = await h.control.requests();
  const last = [...recs].reverse().find((r) => r.status === status);
  assert.equal((last?.responseBody as any)?.error?.target, target, what);
}

/** The VM body createLinuxVm sends, with overrides (for negative cases). */
function vmBody(nicId: string, over: Record<string, any> = {}): any {
  return {
    location: h.location,
    hardwareProfile: { vmSize: 'Standard_B1s' },
    storageProfile: {
      imageReference: { publisher: 'Canonical', offer: '0001-com-ubuntu-server-jammy', sku: '22_04-lts-gen2', version: 'latest' },
      osDisk: { createOption: 'FromImage' },
    },
    osProfile: { computerName: 'x', adminUsername: 'jacket', adminPassword: 'Jacket-Pass-123' },
    networkProfile: { networkInterfaces: [{ id: nicId }] },
    ...over,
  };
}

describe('ARM protocol errors', () => {
  it('401 AuthenticationFailed without a bearer token', async () => {
    const r = await armRequest(h, 'GET', `${vmPath('vm1')}?${API}`, undefined, {});
    assert.equal(r.status, 401);
    assert.equal(r.body.error.code, 'AuthenticationFailed');
  });

  it('400 MissingApiVersionParameter without api-version; unsupported api-version refused', async () => {
    const r = await armRequest(h, 'GET', vmPath('vm1'));
    assert.equal(r.status, 400);
    assert.equal(r.body.error.code, 'MissingApiVersionParameter');
    const r2 = await armRequest(h, 'GET', `${vmPath('vm1')}?api-version=2015-06-15`);
    assert.equal(r2.status, 400);
    assert.equal(r2.body.error.code, 'NoRegisteredProviderFound');
  });

  it('404 ResourceNotFound, ResourceGroupNotFound, InvalidResourceType for an unknown route', async () => {
    await assert.rejects(h.compute.virtualMachines.get(h.resourceGroup, 'nope'), isArmError(404, 'ResourceNotFound'));
    await assert.rejects(h.compute.disks.get('no_such_rg', 'd'), isArmError(404, 'ResourceGroupNotFound'));
    const r = await armRequest(h, 'POST', `${vmPath('vm1')}/runCommand?${API}`, {});
    assert.equal(r.status, 404);
    assert.equal(r.body.error.code, 'InvalidResourceType');
  });
});

describe('ARM request checks', () => {
  it('405 for a method a known path does not serve; 404 SubscriptionNotFound; 400 InvalidRequestContent', async () => {
    const r = await armRequest(h, 'PATCH', `/subscriptions/${h.subscriptionId}/providers/Microsoft.Compute/locations/${h.location}/usages?${API}`, {});
    assert.equal(r.status, 405);
    assert.equal(r.body.error.code, 'MethodNotAllowed');
    const s = await armRequest(h, 'GET', `/subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/x/providers/Microsoft.Compute/disks?api-version=2025-01-02`);
    assert.equal(s.status, 404);
    assert.equal(s.body.error.code, 'SubscriptionNotFound');
    const https = await import('node:https');
    const fs = await import('node:fs');
    const bad = await new Promise<{ status: number; body: any }>((resolve, reject) => {
      const req = https.request(
        new URL(`${vmPath('x')}?${API}`, h.emu.url),
        { method: 'PUT', ca: fs.readFileSync(h.emu.caCertPath), headers: { Authorization: 'Bearer t', 'Content-Type': 'application/json' } },
        (res) => {
          let t = '';
          res.on('data', (c) => (t += c));
          res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(t) }));
        },
      );
      req.on('error', reject);
      req.end('{"location": ');
    });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.code, 'InvalidRequestContent');
  });
});

describe('request bodies are checked against the spec', () => {
  const disk = (name: string) => `/subscriptions/${h.subscriptionId}/resourceGroups/${h.resourceGroup}/providers/Microsoft.Compute/disks/${name}?api-version=2025-01-02`;
  it('wrong types and values answer 400 InvalidRequestContent, missing required properties 400 InvalidParameter', async () => {
    const t = await armRequest(h, 'PUT', disk('typed'), { location: h.location, properties: { creationData: { createOption: 'Empty' }, diskSizeGB: 'ten' } });
    assert.equal(t.status, 400);
    assert.equal(t.body.error.code, 'InvalidRequestContent');
    assert.equal(t.body.error.target, 'properties.diskSizeGB');
    const m = await armRequest(h, 'PUT', disk('noloc'), { properties: { creationData: { createOption: 'Empty' }, diskSizeGB: 1 } });
    assert.equal(m.status, 400);
    assert.equal(m.body.error.code, 'InvalidParameter');
    assert.equal(m.body.error.target, 'location');
    const g = await armRequest(h, 'POST', disk('typed').replace('?', '/beginGetAccess?'), { access: 'Read' });
    assert.equal(g.status, 400);
    assert.equal(g.body.error.target, 'durationInSeconds');
    const e = await armRequest(h, 'PUT', `${vmPath('typed')}?${API}`, { location: h.location, properties: { hardwareProfile: 'Standard_B1s' } });
    assert.equal(e.status, 400);
    assert.equal(e.body.error.code, 'InvalidRequestContent');
    assert.equal(e.body.error.target, 'properties.hardwareProfile');
    // an extensible enum value the spec does not list reaches the handler, which refuses it as Azure does
    const x = await armRequest(h, 'PUT', `${vmPath('enum')}?${API}`, {
      location: h.location,
      properties: { hardwareProfile: { vmSize: 'Standard_B1s' }, storageProfile: { osDisk: { createOption: 'Bogus' } } },
    });
    assert.equal(x.status, 400);
    assert.equal(x.body.error.code, 'InvalidParameter');
  });
});

describe('conditional requests', () => {
  it('If-Match / If-None-Match answer 412 PreconditionFailed on a stale etag', async () => {
    const nicPath = `/subscriptions/${h.subscriptionId}/resourceGroups/${h.resourceGroup}/providers/Microsoft.Network/networkInterfaces/vm1-nic?api-version=2025-05-01`;
    const cur = await armRequest(h, 'GET', nicPath);
    const body = {
      location: h.location,
      tags: { a: 'b' },
      properties: { ipConfigurations: cur.body.properties.ipConfigurations.map((c: any) => ({ name: c.name, properties: { subnet: c.properties.subnet } })) },
    };
    const auth = { Authorization: 'Bearer t' };
    const stale = await armRequest(h, 'PUT', nicPath, body, { ...auth, 'If-Match': 'W/"stale"' });
    assert.equal(stale.status, 412);
    assert.equal(stale.body.error.code, 'PreconditionFailed');
    const fresh = await armRequest(h, 'PUT', nicPath, body, { ...auth, 'If-Match': cur.body.etag });
    assert.equal(fresh.status, 200);
    const exists = await armRequest(h, 'PUT', nicPath, body, { ...auth, 'If-None-Match': '*' });
    assert.equal(exists.status, 412);
    const vm = await armRequest(h, 'GET', `${vmPath('vm1')}?${API}`);
    assert.match(vm.body.etag, /^"[0-9a-f]+"$/);
    const patched = await armRequest(h, 'PATCH', `${vmPath('vm1')}?${API}`, { tags: { x: 'y' } }, { ...auth, 'If-Match': vm.body.etag });
    assert.equal(patched.status, 200);
    const again = await armRequest(h, 'PATCH', `${vmPath('vm1')}?${API}`, { tags: { x: 'z' } }, { ...auth, 'If-Match': vm.body.etag });
    assert.equal(again.status, 412);
  });
});

describe('Azure refusals', () => {
  it('NicInUse when deleting a NIC attached to a VM, or attaching it to a second VM', async () => {
    await assert.rejects(h.network.networkInterfaces.beginDeleteAndWait(h.resourceGroup, 'vm1-nic'), isArmError(400, 'NicInUse'));
    await assert.rejects(h.compute.virtualMachines.createOrUpdate(h.resourceGroup, 'second', vmBody(h.id('Microsoft.Network', 'networkInterfaces', 'vm1-nic'))), isArmError(400, 'NicInUse'));
  });

  it('OperationNotAllowed when deleting a disk attached to a VM', async () => {
    const vm = await h.compute.virtualMachines.get(h.resourceGroup, 'vm1');
    await assert.rejects(h.compute.disks.delete(h.resourceGroup, vm.storageProfile!.osDisk!.name!), isArmError(409, 'OperationNotAllowed'));
  });

  it('Conflict when growing the OS disk of a running VM; allowed once deallocated', async () => {
    const vm = await h.compute.virtualMachines.get(h.resourceGroup, 'vm1');
    const name = vm.storageProfile!.osDisk!.name!;
    await expectArmError(h.compute.disks.update(h.resourceGroup, name, { diskSizeGB: 64 }), 409, 'Conflict', 'diskSizeGB');
    const recs = await h.control.requests();
    assert.equal(([...recs].reverse().find((r) => r.status === 409)?.responseBody as any)?.error?.message, 'Disk resizing is allowed only when creating a VM or when the VM is deallocated.');
    await h.compute.virtualMachines.deallocate(h.resourceGroup, 'vm1');
    const d = await h.compute.disks.update(h.resourceGroup, name, { diskSizeGB: 64 });
    assert.equal(d.diskSizeGB, 64);
    assert.equal((await h.compute.virtualMachines.get(h.resourceGroup, 'vm1')).storageProfile?.osDisk?.diskSizeGB, 64);
    await h.compute.virtualMachines.start(h.resourceGroup, 'vm1');
  });

  it('Expand without downtime: a data disk of a running VM grows; not Premium SSD v2 or Ultra, not from 4 TiB or less to beyond', async () => {
    const disk = async (name: string, sku: string, gb: number) =>
      h.compute.disks.beginCreateOrUpdateAndWait(h.resourceGroup, name, { location: h.location, sku: { name: sku }, creationData: { createOption: 'Empty' }, diskSizeGB: gb });
    const [std, pv2, big] = await Promise.all([disk('grow-std', 'StandardSSD_LRS', 8), disk('grow-pv2', 'PremiumV2_LRS', 8), disk('grow-4t', 'Standard_LRS', 4096)]);
    // Standard_B1s holds two data disks: the 4 TiB disk takes the Premium SSD v2 disk's place below.
    const attach = (second: string, lun: number) =>
      h.compute.virtualMachines.beginUpdateAndWait(h.resourceGroup, 'vm1', {
        storageProfile: {
          dataDisks: [
            { lun: 0, createOption: 'Attach', managedDisk: { id: std.id } },
            { lun, createOption: 'Attach', managedDisk: { id: second } },
          ],
        },
      });
    await attach(pv2.id!, 1);
    const grown = await h.compute.disks.beginUpdateAndWait(h.resourceGroup, 'grow-std', { diskSizeGB: 16 });
    assert.equal(grown.diskSizeGB, 16);
    assert.equal(grown.diskState, 'Attached');
    const vm = await h.compute.virtualMachines.get(h.resourceGroup, 'vm1', { expand: 'instanceView' });
    assert.equal(vm.storageProfile?.dataDisks?.find((d) => d.lun === 0)?.diskSizeGB, 16);
    assert.ok(vm.instanceView?.statuses?.some((st) => st.code === 'PowerState/running'));
    await expectArmError(h.compute.disks.update(h.resourceGroup, 'grow-pv2', { diskSizeGB: 16 }), 409, 'Conflict', 'diskSizeGB', 'Premium SSD v2');
    await attach(big.id!, 2);
    await expectArmError(h.compute.disks.update(h.resourceGroup, 'grow-4t', { diskSizeGB: 4097 }), 409, 'Conflict', 'diskSizeGB', '4 TiB to beyond');
    await h.compute.virtualMachines.beginUpdateAndWait(h.resourceGroup, 'vm1', { storageProfile: { dataDisks: [] } });
  });

  it('Conflict when exporting a disk attached to a running VM', async () => {
    const vm = await h.compute.virtualMachines.get(h.resourceGroup, 'vm1');
    await assert.rejects(h.compute.disks.grantAccess(h.resourceGroup, vm.storageProfile!.osDisk!.name!, { access: 'Read', durationInSeconds: 60 }), isArmError(409, 'Conflict'));
  });

  it('InvalidParameter for passwords that break the complexity rules or are common, and reserved usernames', async () => {
    const nic = await createNic(h, 'bad-nic');
    for (const pw of ['Ab1-x', 'alllowercase1', 'P@ssw0rd', 'Password1']) {
      await expectArmError(
        h.compute.virtualMachines.createOrUpdate(h.resourceGroup, 'badpw', vmBody(nic.id!, { osProfile: { computerName: 'x', adminUsername: 'jacket', adminPassword: pw } })),
        400,
        'InvalidParameter',
        'adminPassword',
        pw,
      );
    }
    await expectArmError(
      h.compute.virtualMachines.createOrUpdate(h.resourceGroup, 'badpw', vmBody(nic.id!, { osProfile: { computerName: 'x', adminUsername: 'admin', adminPassword: 'Jacket-Pass-123' } })),
      400,
      'InvalidParameter',
      'adminUsername',
    );
    const win = {
      storageProfile: {
        imageReference: { publisher: 'MicrosoftWindowsServer', offer: 'WindowsServer', sku: '2022-datacenter-azure-edition', version: 'latest' },
        osDisk: { createOption: 'FromImage' },
      },
    };
    await expectArmError(
      h.compute.virtualMachines.createOrUpdate(h.resourceGroup, 'badpw', vmBody(nic.id!, { ...win, osProfile: { computerName: 'win', adminUsername: 'jacket', adminPassword: 'Ab1-xyz' } })),
      400,
      'InvalidParameter',
      'adminPassword',
      'Windows needs 8 characters',
    );
    await assert.rejects(h.compute.virtualMachines.get(h.resourceGroup, 'badpw'), isArmError(404, 'ResourceNotFound'), 'nothing was created');
  });

  it('SkuNotAvailable for a restricted size; InvalidParameter for an unknown one', async () => {
    await assert.rejects(
      h.compute.virtualMachines.createOrUpdate(h.resourceGroup, 'big', vmBody(h.id('Microsoft.Network', 'networkInterfaces', 'bad-nic'), { hardwareProfile: { vmSize: 'Standard_NC6s_v3' } })),
      isArmError(409, 'SkuNotAvailable'),
    );
    await assert.rejects(
      h.compute.virtualMachines.createOrUpdate(h.resourceGroup, 'big', vmBody(h.id('Microsoft.Network', 'networkInterfaces', 'bad-nic'), { hardwareProfile: { vmSize: 'Standard_Imaginary_v9' } })),
      isArmError(400, 'InvalidParameter'),
    );
  });

  it('quota: OperationNotAllowed with QuotaExceeded details when a create would pass the cores quota (usages API agrees)', async () => {
    await h.control.setConfig({ coresQuota: 2 });
    try {
      const usages: any[] = [];
      for await (const u of h.compute.usage.list(h.location)) usages.push(u);
      const cores = usages.find((u) => u.name.value === 'cores');
      assert.equal(cores.currentValue, 1);
      assert.equal(cores.limit, 2);
      let caught: any;
      await h.compute.virtualMachines
        .createOrUpdate(h.resourceGroup, 'big', vmBody(h.id('Microsoft.Network', 'networkInterfaces', 'bad-nic'), { hardwareProfile: { vmSize: 'Standard_D2s_v3' } }))
        .catch((e: any) => (caught = e));
      assert.ok(caught, 'create must fail');
      assert.equal(caught.statusCode, 409);
      assert.equal(caught.code, 'OperationNotAllowed');
      const recs = await h.control.requests();
      const body: any = [...recs].reverse().find((r) => r.status === 409)?.responseBody;
      assert.equal(body.error.details[0].code, 'QuotaExceeded');
      assert.match(body.error.message, /exceeding approved Total Regional Cores quota/);
    } finally {
      await h.control.setConfig({ coresQuota: 100 });
    }
  });

  it('PropertyChangeNotAllowed when a PUT changes osProfile.adminPassword', async () => {
    const vm = await h.compute.virtualMachines.get(h.resourceGroup, 'vm1');
    await assert.rejects(
      h.compute.virtualMachines.createOrUpdate(h.resourceGroup, 'vm1', { location: h.location, osProfile: { ...vm.osProfile, adminPassword: 'Other-Pass-456' } }),
      isArmError(409, 'PropertyChangeNotAllowed'),
    );
  });

  it('Conflict for a second operation on a VM while one is running', async () => {
    await h.control.setConfig({ asyncDelayMs: 400 });
    try {
      const first = await armRequest(h, 'POST', `${vmPath('vm1')}/restart?${API}`);
      assert.equal(first.status, 202);
      const second = await armRequest(h, 'POST', `${vmPath('vm1')}/powerOff?${API}`);
      assert.equal(second.status, 409);
      assert.equal(second.body.error.code, 'Conflict');
      await assert.rejects(h.compute.virtualMachines.deallocate(h.resourceGroup, 'vm1'), isArmError(409, 'Conflict'));
    } finally {
      await h.control.setConfig({ asyncDelayMs: 0 });
      await new Promise((r) => setTimeout(r, 450));
    }
  });

  it('OperationNotAllowed for restart of a stopped VM; hibernate needs hibernationEnabled', async () => {
    await h.compute.virtualMachines.powerOff(h.resourceGroup, 'vm1');
    await assert.rejects(h.compute.virtualMachines.restart(h.resourceGroup, 'vm1'), isArmError(409, 'OperationNotAllowed'));
    await h.compute.virtualMachines.start(h.resourceGroup, 'vm1');
    await assert.rejects(h.compute.virtualMachines.deallocate(h.resourceGroup, 'vm1', { hibernate: true }), isArmError(409, 'OperationNotAllowed'));
  });

  it('NicReservedForAnotherVm: a NIC of a deleted VM is held for it', async () => {
    await h.control.setConfig({ nicReservationMs: 60_000 });
    const nic = await createNic(h, 'held-nic');
    await h.compute.virtualMachines.createOrUpdate(h.resourceGroup, 'holder', vmBody(nic.id!));
    await h.compute.virtualMachines.delete(h.resourceGroup, 'holder');
    await assert.rejects(h.compute.virtualMachines.createOrUpdate(h.resourceGroup, 'other', vmBody(nic.id!)), isArmError(400, 'NicReservedForAnotherVm'));
    await h.control.setConfig({ nicReservationMs: 0 });
  });

  it('429 SubscriptionRequestsThrottled with Retry-After when the request budget is spent', async () => {
    await h.control.setConfig({ throttle: { reads: { capacity: 3, refillPerSecond: 0.5 } } });
    try {
      const statuses: number[] = [];
      let last: any;
      for (let i = 0; i < 5; i++) {
        last = await armRequest(h, 'GET', `${vmPath('vm1')}?${API}`);
        statuses.push(last.status);
      }
      assert.deepEqual(statuses.slice(0, 3), [200, 200, 200]);
      assert.equal(statuses[4], 429);
      assert.equal(last.body.error.code, 'SubscriptionRequestsThrottled');
      assert.ok(Number(last.headers['retry-after']) >= 1);
      assert.equal(last.headers['x-ms-ratelimit-remaining-subscription-reads'], '0');
    } finally {
      await h.control.setConfig({ throttle: { reads: { capacity: 250, refillPerSecond: 25 } } });
    }
  });
});
