// Lifecycle actions end to end (suspend/resume by Azure hibernation, shelve/unshelve, migrate by
// redeploy) and the actions Azure cannot do, answered as Nova answers for a driver without them: the
// real `openstack` CLI and plain HTTP against the app, the app against the ARM emulator.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startArmStack, waitFor, type ArmStack } from '../support/armStack';
import { imageId, networkId, settledServer, type ProjectUser } from '../support/fixtures';
import { assertNovaResponse } from '../support/oracle';

let arm: ArmStack;
let alice: ProjectUser;
let tAlice: string, tAdmin: string;
/** made with the flavor's azure:hibernation=true */
let srvH: string;
/** made without it */
let srvN: string;
const RG = 'ops_resource_group';

const http = (method: string, path: string, token: string, body?: unknown, headers?: Record<string, string>) => arm.stack.http(method, `/compute/v2.1${path}`, { token, body, headers });
const action = (id: string, token: string, body: unknown) => http('POST', `/servers/${id}/action`, token, body);

async function server(id: string) {
  const r = await http('GET', `/servers/${id}`, tAdmin);
  assert.equal(r.status, 200, r.text);
  return r.body.server;
}
const waitStatus = (id: string, status: string) => settledServer(server, id, status);
async function azureVm(id: string) {
  const v = await arm.compute.virtualMachines.instanceView(RG, id);
  const codes = (v.statuses ?? []).map((s) => s.code ?? '');
  return { power: codes.find((c) => c.startsWith('PowerState/'))?.slice('PowerState/'.length), hibernated: codes.includes('HibernationState/Hibernated') };
}
async function vmPosts(id: string) {
  return (await arm.control.requests())
    .filter((r) => r.method === 'POST' && r.path.includes(`/virtualMachines/${id}/`))
    .map((r) => `${r.path.split('/').pop()}${r.query.includes('hibernate=true') ? '?hibernate' : ''}`);
}

before(async () => {
  arm = await startArmStack();
  const stack = arm.stack;
  alice = await stack.makeProjectUser('lc-a', 'alice');
  [tAlice, tAdmin] = await Promise.all([stack.token(alice), stack.token()]);
  const [image, net] = await Promise.all([imageId(stack, tAlice), networkId(stack, tAlice)]);
  const body = (name: string) => ({ server: { name, flavorRef: '3', imageRef: image, networks: [{ uuid: net }] } });
  const n = await http('POST', '/servers', tAlice, body('lc-plain'));
  assert.equal(n.status, 202, n.text);
  srvN = n.body.server.id;
  // The operator says the flavor's size can hibernate: VMs made from now on get hibernationEnabled.
  const spec = await http('POST', '/flavors/3/os-extra_specs', tAdmin, { extra_specs: { 'azure:hibernation': 'true' } });
  assert.equal(spec.status, 200, spec.text);
  const h = await http('POST', '/servers', tAlice, body('lc-hib'));
  assert.equal(h.status, 202, h.text);
  srvH = h.body.server.id;
  await Promise.all([waitStatus(srvN, 'ACTIVE'), waitStatus(srvH, 'ACTIVE')]);
});
after(() => arm?.stop());

test('suspend hibernates the VM (deallocate hibernate=true), resume starts it', async () => {
  const put = (await arm.control.requests()).find((r) => r.method === 'PUT' && r.path.endsWith(`/virtualMachines/${srvH}`));
  assert.deepEqual((put?.requestBody as any).properties.additionalCapabilities, { hibernationEnabled: true });
  await arm.control.clearRequests();
  await arm.stack.oscOk(['server', 'suspend', srvH], alice);
  const s = await waitStatus(srvH, 'SUSPENDED');
  assertNovaResponse('servers', 'ServersController', 'show', '2.1', { server: s });
  assert.equal(s['OS-EXT-STS:vm_state'], 'suspended');
  assert.deepEqual(await azureVm(srvH), { power: 'deallocated', hibernated: true });
  const again = await action(srvH, tAlice, { suspend: null });
  assert.equal(again.status, 409);
  assert.equal(again.body.conflictingRequest.message, `Cannot 'suspend' instance ${srvH} while it is in vm_state suspended`);
  await arm.stack.oscOk(['server', 'resume', srvH], alice);
  await waitStatus(srvH, 'ACTIVE');
  assert.deepEqual(await azureVm(srvH), { power: 'running', hibernated: false });
  assert.deepEqual(await vmPosts(srvH), ['deallocate?hibernate', 'start']);
  const resume = await action(srvH, tAlice, { resume: null });
  assert.equal(resume.status, 409);
  assert.equal(resume.body.conflictingRequest.message, `Cannot 'resume' instance ${srvH} while it is in vm_state active`);
});

test('suspend of a VM that cannot hibernate: as Nova with a driver lacking suspend (202, the event fails, still ACTIVE)', async () => {
  await arm.control.clearRequests();
  const r = await action(srvN, tAlice, { suspend: {} });
  assert.equal(r.status, 202);
  const act = await waitFor('the failed suspend', async () => {
    const list = await http('GET', `/servers/${srvN}/os-instance-actions`, tAdmin);
    const a = list.body.instanceActions.find((x: { action: string }) => x.action === 'suspend');
    if (!a || a.message !== 'Error') return undefined;
    return (await http('GET', `/servers/${srvN}/os-instance-actions/${a.request_id}`, tAdmin)).body.instanceAction;
  });
  assert.equal(act.events[0].event, 'compute_suspend_instance');
  assert.equal(act.events[0].result, 'Error');
  assert.match(act.events[0].traceback, /hibernation/);
  const s = await waitStatus(srvN, 'ACTIVE');
  assert.equal(s['OS-EXT-STS:vm_state'], 'active');
  // No GET before the POST: Azure's refusal (409 OperationNotAllowed: hibernation not enabled) is the
  // guard, and the VM is left as it was.
  assert.deepEqual(await vmPosts(srvN), ['deallocate?hibernate'], 'one POST, refused by Azure');
});

test('shelve deallocates (SHELVED_OFFLOADED, no host), unshelve starts; shelveOffload is admin-only and needs SHELVED', async () => {
  await arm.control.clearRequests();
  await arm.stack.oscOk(['server', 'shelve', '--wait', srvN], alice);
  const s = await server(srvN);
  assert.equal(s.status, 'SHELVED_OFFLOADED');
  assert.equal(s['OS-EXT-SRV-ATTR:host'], null);
  assert.equal((await azureVm(srvN)).power, 'deallocated');
  assert.equal((await action(srvN, tAlice, { shelveOffload: null })).status, 403);
  const off = await action(srvN, tAdmin, { shelveOffload: null });
  assert.equal(off.status, 409);
  assert.equal(off.body.conflictingRequest.message, `Cannot 'shelveOffload' instance ${srvN} while it is in vm_state shelved_offloaded`);
  // no host: Nova's check_instance_host answers before the state check
  const start = await action(srvN, tAlice, { 'os-start': null });
  assert.equal(start.status, 409);
  assert.equal(start.body.conflictingRequest.message, `Instance ${srvN} is not ready`);
  await arm.stack.oscOk(['server', 'unshelve', '--wait', srvN], alice);
  const u = await server(srvN);
  assert.equal(u.status, 'ACTIVE');
  assert.equal(u['OS-EXT-SRV-ATTR:host'], 'azure-eastus');
  assert.equal((await azureVm(srvN)).power, 'running');
  assert.deepEqual(await vmPosts(srvN), ['deallocate', 'start']);
});

test('migrate (admin) is an Azure redeploy; the server is back ACTIVE, nothing to confirm', async () => {
  const member = await arm.stack.osc(['server', 'migrate', srvN], alice);
  assert.notEqual(member.code, 0);
  assert.match(member.stderr, /os_compute_api:os-migrate-server:migrate/);
  await arm.control.clearRequests();
  await arm.stack.oscOk(['server', 'migrate', '--wait', srvN]);
  assert.equal((await server(srvN)).status, 'ACTIVE');
  assert.deepEqual(await vmPosts(srvN), ['redeploy']);
  assert.equal((await azureVm(srvN)).power, 'running');
  const list = await http('GET', `/servers/${srvN}/os-instance-actions`, tAdmin);
  assert.equal(list.body.instanceActions[0].action, 'migrate');
});

test('pause and console url show answer 501 as Nova for a driver without them; the other unsupported actions as Nova does', async () => {
  const pause = await arm.stack.osc(['server', 'pause', srvH], alice);
  assert.notEqual(pause.code, 0);
  assert.match(pause.stderr, /The requested functionality is not supported\./);
  const url = await arm.stack.osc(['console', 'url', 'show', srvH], alice);
  assert.notEqual(url.code, 0);
  assert.match(url.stderr, /The requested functionality is not supported\./);

  const expect = async (body: unknown, status: number, message: string, token = tAlice, path = `/servers/${srvH}/action`) => {
    const r = await http('POST', path, token, body);
    assert.equal(r.status, status, `${JSON.stringify(body)}: ${r.text}`);
    const fault = Object.values(r.body as Record<string, { code: number; message: string }>)[0];
    assert.equal(fault.code, status);
    assert.equal(fault.message, message);
  };
  const NS = 'The requested functionality is not supported.';
  await expect({ pause: null }, 501, NS);
  await expect({ unpause: null }, 409, `Cannot 'unpause' instance ${srvH} while it is in vm_state active`);
  await expect({ rescue: { adminPass: 'x' } }, 501, NS);
  await expect({ rescue: { bogus: 1 } }, 400, "Invalid input for field/attribute rescue. Value: {'bogus': 1}. Additional properties are not allowed ('bogus' was unexpected)");
  await expect({ unrescue: null }, 409, `Cannot 'unrescue' instance ${srvH} while it is in vm_state active`);
  await expect({ 'os-getVNCConsole': { type: 'novnc' } }, 501, NS);
  await expect({ 'os-getSPICEConsole': { type: 'spice-html5' } }, 501, NS);
  await expect({ 'os-getSerialConsole': { type: 'serial' } }, 501, NS);
  await expect({ 'os-getRDPConsole': { type: 'rdp-html5' } }, 400, 'The server could not comply with the request since it is either malformed or otherwise incorrect.');
  await expect({ trigger_crash_dump: null }, 404, 'The resource could not be found.');
  await expect({ addFloatingIp: { address: '20.51.0.9' } }, 404, 'floating IP not found');
  await expect({ removeFloatingIp: { address: '20.51.0.9' } }, 404, 'Floating IP not found for address 20.51.0.9.');
  await expect({ addFixedIp: { networkId: 'n1' } }, 400, 'No fixed IP addresses available for network: n1');
  await expect({ removeFixedIp: { address: '10.9.9.9' } }, 400, `Instance ${srvH} does not have fixed IP '10.9.9.9'.`);
  await expect({ injectNetworkInfo: null }, 403, "Policy doesn't allow os_compute_api:os-admin-actions:inject_network_info to be performed.");
  assert.equal((await action(srvH, tAdmin, { injectNetworkInfo: null })).status, 202);
  await expect({ resetNetwork: null }, 410, 'This resource is no longer available.  No forwarding address is given.', tAdmin);
  await expect({ evacuate: { onSharedStorage: false } }, 400, 'Compute service of azure-eastus is still in use.', tAdmin);
  await expect({ evacuate: { onSharedStorage: false, host: 'elsewhere' } }, 404, 'Compute host elsewhere not found.', tAdmin);
  await expect(
    { 'os-migrateLive': { host: null, block_migration: false, disk_over_commit: false } },
    400,
    'Migration pre-check error: Azure does not live-migrate a virtual machine on request (use migrate, a cold move).',
    tAdmin,
  );
  await expect({ remote_console: { protocol: 'vnc', type: 'novnc' } }, 404, 'The resource could not be found.', tAlice, `/servers/${srvH}/remote-consoles`);
  // a locked server refuses before the feature check, as Nova's decorators run
  assert.equal((await action(srvH, tAdmin, { lock: null })).status, 202);
  await expect({ pause: null }, 409, `Instance ${srvH} is locked`);
  assert.equal((await action(srvH, tAdmin, { unlock: null })).status, 202);
  // nothing reached Azure for any of them, and the server is as it was
  assert.equal((await server(srvH)).status, 'ACTIVE');
});
