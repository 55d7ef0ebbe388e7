// ARM calls per server action, counted from the ARM emulator's request log, and what persistent
// Azure faults end in. The stack runs small engine budgets (3 failures in a row, polls capped at 2 s)
// so a given-up action lands within seconds. The numbers measured here are in docs/servers.md.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startArmStack, waitFor, type ArmStack } from '../support/armStack';
import { imageId as imageNamed, networkId as networkNamed, type ProjectUser } from '../support/fixtures';
import type { RecordedRequest } from '../../emulator/control';

let env: ArmStack;
let alice: ProjectUser;
let tAlice: string;
let imageId: string, networkId: string;
const RG = 'ops_resource_group';
const FLAVOR = '3';

const http = (method: string, p: string, body?: unknown) => env.stack.http(method, `/compute/v2.1${p}`, { token: tAlice, body });
const cinder = (method: string, p: string, body?: unknown) => env.stack.http(method, `/volume/v3/${alice.projectId}${p}`, { token: tAlice, body });
const createBody = (name: string) => ({ server: { name, flavorRef: FLAVOR, imageRef: imageId, networks: [{ uuid: networkId }] } });

async function show(id: string) {
  const r = await http('GET', `/servers/${id}`);
  assert.equal(r.status, 200, r.text);
  return r.body.server;
}
const waitStatus = (id: string, status: string, timeoutMs = 60000) =>
  waitFor(
    `server ${id} ${status}`,
    async () => {
      const s = await show(id);
      return s.status === status && s['OS-EXT-STS:task_state'] === null ? s : undefined;
    },
    timeoutMs,
  );
const gone = (id: string) => waitFor(`server ${id} gone`, async () => ((await http('GET', `/servers/${id}`)).status === 404 ? true : undefined));
const lastSeq = async () => (await env.control.requests()).reduce((m, r) => Math.max(m, r.seq), 0);

/** The ARM requests since `seq` about this server's VM, NICs or the given disk. */
async function callsSince(seq: number, id: string, disk?: string): Promise<{ writes: string[]; polls: number; nicGets: number; all: RecordedRequest[] }> {
  const all = (await env.control.requests(seq)).filter((r) => r.path.includes(`/virtualMachines/${id}`) || r.path.includes(`/networkInterfaces/${id}`) || (disk && r.path.includes(disk)));
  const writes = all.filter((r) => r.method !== 'GET').map((r) => `${r.method} ${r.path.split('/providers/')[1] ?? r.path}`);
  return {
    writes,
    polls: all.filter((r) => r.method === 'GET' && r.path.includes('/virtualMachines/')).length,
    nicGets: all.filter((r) => r.method === 'GET' && r.path.includes('/networkInterfaces/')).length,
    all,
  };
}

before(async () => {
  env = await startArmStack({ settings: { JACKET_WORK_RETRY_FAILURES: '3', JACKET_WORK_POLL_CAP_SECONDS: '2' } });
  alice = await env.stack.makeProjectUser('calls-a', 'alice');
  tAlice = await env.stack.token(alice);
  [imageId, networkId] = await Promise.all([imageNamed(env.stack, tAlice), networkNamed(env.stack, tAlice)]);
  // The project's own `default` security group is made at its first look at its groups (an ASG and an
  // NSG PUT, once per project: docs/network.md), here, so the counts below are every later create's.
  const groups = await env.stack.http('GET', '/network/v2.0/security-groups', { token: tAlice });
  assert.ok(groups.body.security_groups.some((g: { name: string }) => g.name === 'default'));
});
after(() => env?.stop());

test('ARM writes per action are at the floor: create NIC PUT + VM PUT (POST /servers itself none), delete 1 DELETE, power 1 POST, attach/detach 1 POST', async (t) => {
  const table: string[] = [];
  const record = (action: string, c: { writes: string[]; polls: number; nicGets: number }) =>
    table.push(`${action}: writes ${c.writes.length} [${c.writes.join(', ')}], VM polls ${c.polls}${c.nicGets ? `, NIC GETs ${c.nicGets}` : ''}`);

  // create: the request makes no ARM call (a slowed NIC PUT keeps the build's first call out of the window)
  await env.control.addFault({ method: 'PUT', path: '/networkInterfaces/', latencyMs: 1500 });
  let seq = await lastSeq();
  const c = await http('POST', '/servers', createBody('floor'));
  assert.equal(c.status, 202, c.text);
  const id = c.body.server.id;
  assert.deepEqual(
    (await env.control.requests(seq)).map((r) => `${r.method} ${r.path}`),
    [],
    'POST /servers made no ARM call',
  );
  await waitStatus(id, 'ACTIVE');
  let calls = await callsSince(seq, id);
  record('create', calls);
  assert.deepEqual(
    calls.writes.map((w) => w.replace(id, '{id}')),
    ['PUT Microsoft.Network/networkInterfaces/{id}', 'PUT Microsoft.Compute/virtualMachines/{id}'],
  );
  assert.ok(calls.polls >= 1);

  for (const [name, body, op, status] of [
    ['reboot', { reboot: { type: 'SOFT' } }, 'restart', 'ACTIVE'],
    ['stop', { 'os-stop': null }, 'deallocate', 'SHUTOFF'],
    ['start', { 'os-start': null }, 'start', 'ACTIVE'],
  ] as const) {
    seq = await lastSeq();
    const r = await http('POST', `/servers/${id}/action`, body);
    assert.equal(r.status, 202, r.text);
    await waitStatus(id, status);
    calls = await callsSince(seq, id);
    record(name, calls);
    assert.deepEqual(
      calls.writes.map((w) => w.replace(id, '{id}')),
      [`POST Microsoft.Compute/virtualMachines/{id}/${op}`],
      name,
    );
  }

  // attach and detach: one POST attachDetachDataDisks each
  const v = await cinder('POST', '/volumes', { volume: { size: 1, name: 'floor-vol' } });
  assert.equal(v.status, 202, v.text);
  const volId = v.body.volume.id;
  await waitFor('volume available', async () => ((await cinder('GET', `/volumes/${volId}`)).body.volume.status === 'available' ? true : undefined));
  seq = await lastSeq();
  assert.equal((await http('POST', `/servers/${id}/os-volume_attachments`, { volumeAttachment: { volumeId: volId } })).status, 200);
  await waitFor('volume in-use', async () => ((await cinder('GET', `/volumes/${volId}`)).body.volume.status === 'in-use' ? true : undefined));
  calls = await callsSince(seq, id);
  record('attach', calls);
  assert.deepEqual(
    calls.writes.map((w) => w.replace(id, '{id}')),
    ['POST Microsoft.Compute/virtualMachines/{id}/attachDetachDataDisks'],
  );
  seq = await lastSeq();
  assert.equal((await http('DELETE', `/servers/${id}/os-volume_attachments/${volId}`)).status, 202);
  await waitFor('volume available again', async () => ((await cinder('GET', `/volumes/${volId}`)).body.volume.status === 'available' ? true : undefined));
  calls = await callsSince(seq, id);
  record('detach', calls);
  assert.deepEqual(
    calls.writes.map((w) => w.replace(id, '{id}')),
    ['POST Microsoft.Compute/virtualMachines/{id}/attachDetachDataDisks'],
  );

  // delete: one DELETE (deleteOption=Delete cascades to the NIC and OS disk), no GET before
  seq = await lastSeq();
  assert.equal((await http('DELETE', `/servers/${id}`)).status, 204);
  await gone(id);
  calls = await callsSince(seq, id);
  record('delete', calls);
  assert.deepEqual(
    calls.writes.map((w) => w.replace(id, '{id}')),
    ['DELETE Microsoft.Compute/virtualMachines/{id}'],
  );
  assert.equal(calls.all[0].method, 'DELETE', 'no GET before the DELETE');
  assert.equal(calls.nicGets, 0, 'no NIC read after the delete');
  await assert.rejects(env.network.networkInterfaces.get(RG, id), (e: { statusCode?: number }) => e.statusCode === 404);
  await assert.rejects(env.compute.disks.get(RG, id), (e: { statusCode?: number }) => e.statusCode === 404);
  for (const line of table) t.diagnostic(line);
});

test('a NIC PUT that takes 90 s does not delay POST /servers; the server becomes ACTIVE', { timeout: 240000 }, async () => {
  await env.control.addFault({ method: 'PUT', path: '/networkInterfaces/', latencyMs: 90000 });
  const started = Date.now();
  const c = await http('POST', '/servers', createBody('slow-nic'));
  const ms = Date.now() - started;
  assert.equal(c.status, 202, c.text);
  assert.ok(ms < 3000, `POST /servers answered in ${ms} ms`);
  const id = c.body.server.id;
  assert.equal((await show(id)).status, 'BUILD');
  const srv = await waitStatus(id, 'ACTIVE', 180000);
  assert.equal(srv.fault, undefined);
  assert.ok(Date.now() - started >= 90000, 'the build waited for the NIC');
  assert.equal((await http('DELETE', `/servers/${id}`)).status, 204);
  await gone(id);
});

test('a VM DELETE failing persistently (500 x20): ERROR with a fault within the budget; once Azure recovers, a later DELETE deletes it', async () => {
  const c = await http('POST', '/servers', createBody('undeletable'));
  const id = c.body.server.id;
  await waitStatus(id, 'ACTIVE');
  await env.control.addFault({ method: 'DELETE', path: `/virtualMachines/${id}$`, status: 500, code: 'InternalServerError', message: 'Azure is having a bad day.', count: 20 });
  const started = Date.now();
  assert.equal((await http('DELETE', `/servers/${id}`)).status, 204);
  const failed = await waitStatus(id, 'ERROR', 60000);
  assert.ok(Date.now() - started < 60000);
  assert.equal(failed.fault.code, 500);
  assert.equal(failed.fault.message, 'Azure is having a bad day.');
  assert.equal(failed['OS-EXT-STS:task_state'], null);
  const actions = await http('GET', `/servers/${id}/os-instance-actions`);
  assert.deepEqual(actions.body.instanceActions.map((a: { action: string; message: string | null }) => [a.action, a.message]).slice(0, 1), [['delete', 'Error']]);
  // the VM is still there: nothing was lost
  assert.ok(await env.compute.virtualMachines.get(RG, id));
  await env.control.clearFaults();
  await env.stack.oscOk(['server', 'delete', '--wait', id], alice);
  await assert.rejects(env.compute.virtualMachines.get(RG, id), (e: { statusCode?: number }) => e.statusCode === 404);
  assert.equal((await http('GET', `/servers/${id}`)).status, 404);
});

test("a VM PUT failing persistently (500 x20): ERROR with Azure's fault, the NIC cleaned up; a VM found in Azure when the build step runs is adopted", async () => {
  await env.control.addFault({ method: 'PUT', path: '/virtualMachines/', status: 500, code: 'InternalServerError', message: 'The VM PUT keeps failing.', count: 20 });
  const c = await http('POST', '/servers', createBody('put-fails'));
  const id = c.body.server.id;
  const failed = await waitStatus(id, 'ERROR', 60000);
  assert.equal(failed.fault.code, 500);
  assert.equal(failed.fault.message, 'The VM PUT keeps failing.');
  await waitFor('the NIC of the failed build deleted', async () => {
    try {
      await env.network.networkInterfaces.get(RG, id);
      return undefined;
    } catch (e) {
      return (e as { statusCode?: number }).statusCode === 404 ? true : undefined;
    }
  });
  await env.control.clearFaults();
  assert.equal((await http('DELETE', `/servers/${id}`)).status, 204);
  await gone(id);

  // Adoption: the VM exists (with this server's tags) before the build's VM PUT runs — here made
  // directly on Azure while the build waits on a slow NIC PUT, with another password so that Jacket's
  // PUT is refused (Azure does not change an admin password by PUT): the build adopts the VM.
  // (only Jacket's NIC is slowed: its name is the server's UUID, the one made here is not)
  await env.control.addFault({ method: 'PUT', path: '/networkInterfaces/[0-9a-f-]{36}$', latencyMs: 6000 });
  const a = await http('POST', '/servers', createBody('adopted'));
  const aid = a.body.server.id;
  // The subnet Jacket used for the NIC of the failed build (its recorded PUT), the image's marketplace reference.
  const log = await env.control.requests();
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const body = (re: RegExp) => log.filter((r) => r.method === 'PUT' && re.test(r.path) && r.status < 300).pop()!.requestBody as any;
  const subnetId = body(/\/networkInterfaces\//).properties.ipConfigurations[0].properties.subnet.id;
  const img = (await env.stack.http('GET', `/image/v2/images/${imageId}`, { token: tAlice })).body;
  const imageReference = { publisher: img.azure_publisher, offer: img.azure_offer, sku: img.azure_sku, version: img.azure_version || 'latest' };
  const nic = await env.network.networkInterfaces.beginCreateOrUpdateAndWait(RG, `${aid}-preexisting`, { location: 'eastus', ipConfigurations: [{ name: 'ipconfig1', subnet: { id: subnetId } }] });
  await env.compute.virtualMachines.beginCreateOrUpdateAndWait(RG, aid, {
    location: 'eastus',
    tags: { jacket: 'server', 'jacket-server-id': aid, 'jacket-project-id': alice.projectId },
    hardwareProfile: { vmSize: 'Standard_B2s' },
    storageProfile: { imageReference, osDisk: { name: aid, createOption: 'FromImage', deleteOption: 'Delete' } },
    osProfile: { computerName: 'adopted', adminUsername: 'azureuser', adminPassword: 'Other-pass-987' },
    networkProfile: { networkInterfaces: [{ id: nic.id, primary: true, deleteOption: 'Delete' }] },
  });
  const seq = await lastSeq();
  const adopted = await waitStatus(aid, 'ACTIVE', 60000);
  assert.equal(adopted.fault, undefined);
  const puts = (await env.control.requests(seq)).filter((r) => r.method === 'PUT' && r.path.endsWith(`/virtualMachines/${aid}`));
  assert.equal(puts.length, 1, 'one VM PUT, refused, then the VM adopted');
  assert.equal(puts[0].status, 409);
  assert.equal((await http('DELETE', `/servers/${aid}`)).status, 204);
  await gone(aid);
});
