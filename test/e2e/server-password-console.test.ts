// changePassword, os-getConsoleOutput and server diagnostics end to end: the real CLI and HTTP against
// the app, the app against the ARM emulator; the guest's accounts (VMAccess) and the serial log (boot
// diagnostics) are read back from the emulator.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startArmStack, waitFor, type ArmStack } from '../support/armStack';
import { assertNovaResponse } from '../support/oracle';
import { listActions } from '../../shared/compute/servers/instanceActions';
import type { Creds } from '../support/stack';

let env: ArmStack;
let alice: Creds & { projectId: string; userId: string };
let tAlice: string;
let tBob: string;
let tAdmin: string;
let serverId: string;
let vmId: string;
const RG = 'ops_resource_group';
const NEW_PASSWORD = 'N3w-Passw0rd!x';

const action = (body: unknown, token = tAlice) => env.stack.http('POST', `/compute/v2.1/servers/${serverId}/action`, { token, body });
const passwordDone = (n: number) =>
  waitFor('changePassword finished', async () => {
    const acts = (await listActions(env.stack.cloud.services, serverId)).filter((a) => a.action === 'changePassword' && a.events[0].finish_time);
    return acts.length >= n ? acts : undefined;
  });

before(async () => {
  env = await startArmStack();
  alice = await env.stack.makeProjectUser('pc-a', 'alice');
  const bob = await env.stack.makeProjectUser('pc-b', 'bob');
  [tAlice, tBob, tAdmin] = await Promise.all([env.stack.token(alice), env.stack.token(bob), env.stack.token()]);
  const srv = await env.stack.oscJson(['server', 'create', '--flavor', 'm1.medium', '--image', 'ubuntu-22.04', '--network', 'private', '--wait', 'pc1'], alice);
  assert.equal(srv.status, 'ACTIVE');
  serverId = srv.id;
  vmId = (await env.compute.virtualMachines.get(RG, serverId)).id!;
});
after(async () => {
  env?.control.close();
  await env?.stop();
});

test('openstack server set --password: the VMAccessForLinux extension sets it in the guest; it is never stored or shown', async () => {
  await env.control.clearRequests();
  const out = await env.stack.osc(['server', 'set', '--password', NEW_PASSWORD, serverId], alice);
  assert.equal(out.code, 0, out.stderr);
  const [act] = await passwordDone(1);
  assert.equal(act.events[0].event, 'compute_set_admin_password');
  assert.equal(act.events[0].result, 'Success');
  const put = (await env.control.requests()).find((r) => r.method === 'PUT' && /\/extensions\/enablevmaccess$/.test(r.path))!;
  const props = (put.requestBody as any).properties;
  assert.equal(props.publisher, 'Microsoft.OSTCExtensions');
  assert.equal(props.type, 'VMAccessForLinux');
  assert.equal(props.typeHandlerVersion, '1.5');
  assert.deepEqual(props.protectedSettings, { username: 'azureuser', password: NEW_PASSWORD });
  const vm = await env.control.getResource(vmId);
  assert.equal(vm.guestUsers.azureuser.password, true);
  const s = (await env.stack.http('GET', `/compute/v2.1/servers/${serverId}`, { token: tAlice })).body.server;
  assert.equal(s.status, 'ACTIVE');
  // The password is nowhere but in that PUT: not in the server, its actions or Azure's answers.
  const seen = JSON.stringify([s, await listActions(env.stack.cloud.services, serverId), (await env.control.requests()).map((r) => r.responseBody)]);
  assert.ok(!seen.includes(NEW_PASSWORD));
});

test('changePassword refusals: Nova 409s in its words (weak password, locked, agent not ready), 400 bodies, 404 — nothing reaches Azure', async () => {
  await env.control.clearRequests();
  const weak = await action({ changePassword: { adminPass: 'short' } });
  assert.equal(weak.status, 409);
  assert.match(weak.body.conflictingRequest.message, new RegExp(`^Failed to set admin password on ${serverId} because the password must be 6 to 72 characters`));
  assert.ok(!weak.text.includes('"short"'));
  assert.equal((await action({ changePassword: {} })).status, 400);
  assert.equal((await action({ changePassword: { adminPass: 5 } })).status, 400);
  assert.equal((await action({ changePassword: { adminPass: NEW_PASSWORD } }, tBob)).status, 404);
  assert.equal((await action({ lock: null })).status, 202);
  const locked = await action({ changePassword: { adminPass: NEW_PASSWORD } });
  assert.equal(locked.status, 409);
  assert.equal(locked.body.conflictingRequest.message, `Instance ${serverId} is locked`);
  assert.equal((await action({ unlock: null })).status, 202);
  // Stopped behind Jacket's back: the VM agent does not answer.
  await env.control.setPowerState(vmId, 'stopped');
  const agent = await action({ changePassword: { adminPass: NEW_PASSWORD } });
  assert.equal(agent.status, 409);
  assert.match(agent.body.conflictingRequest.message, /because the Azure VM agent is not ready/);
  const diag = await env.stack.http('GET', `/compute/v2.1/servers/${serverId}/diagnostics`, { token: tAdmin });
  assert.equal(diag.status, 409);
  assert.equal(diag.body.conflictingRequest.message, `Cannot 'get_diagnostics' instance ${serverId} while it is in power_state shutdown`);
  await env.control.setPowerState(vmId, 'running');
  const writes = (await env.control.requests()).filter((r) => r.method !== 'GET');
  assert.deepEqual(
    writes.map((r) => r.path),
    [],
  );
  // Azure refusing the password in the guest: the action ends in Error, the server ACTIVE again.
  await env.control.addFault({ method: 'PUT', path: 'extensions/enablevmaccess$', failAsync: true, code: 'VMExtensionProvisioningError' });
  const r = await action({ changePassword: { adminPass: NEW_PASSWORD } });
  assert.equal(r.status, 202, r.text);
  assert.equal(r.text, '');
  const acts = await passwordDone(2);
  assert.equal(acts.find((a) => a.events[0].result === 'Error')?.message, 'Error');
  await waitFor('ACTIVE', async () => ((await env.stack.http('GET', `/compute/v2.1/servers/${serverId}`, { token: tAlice })).body.server.status === 'ACTIVE' ? true : undefined));
});

test('openstack console log show --lines 5: the last lines of the serial log from boot diagnostics, as Nova tails it', async () => {
  const full = await action({ 'os-getConsoleOutput': {} });
  assert.equal(full.status, 200, full.text);
  assertNovaResponse('console_output', 'ConsoleOutputController', 'get_console_output', '2.1', full.body);
  const text: string = full.body.output;
  assert.match(text, /cloud-init/);
  assert.match(text, /VMAccess/, 'the password reset is in the log');
  const out = await env.stack.oscOk(['console', 'log', 'show', '--lines', '5', serverId], alice);
  const last5 = text.split('\n').slice(-5).join('\n');
  assert.equal(out.trimEnd(), last5.trimEnd());
  const two = await action({ 'os-getConsoleOutput': { length: '2' } });
  assert.equal(two.body.output, text.split('\n').slice(-2).join('\n'));
  assert.equal((await action({ 'os-getConsoleOutput': { length: 0 } })).body.output, '');
  assert.equal((await action({ 'os-getConsoleOutput': { length: -2 } })).status, 400);
  assert.equal((await action({ 'os-getConsoleOutput': { length: 'x' } })).status, 400);
  assert.equal((await action({ 'os-getConsoleOutput': {} }, tBob)).status, 404);
  // What Azure was asked: the boot diagnostics data of this VM.
  const asked = (await env.control.requests()).filter((r) => r.method === 'POST' && r.path.endsWith(`/virtualMachines/${serverId}/retrieveBootDiagnosticsData`));
  assert.ok(asked.length >= 1);
});

test('server diagnostics: admins get the Azure instance view (HTTP and openstack server show --diagnostics); members 403', async () => {
  const r = await env.stack.http('GET', `/compute/v2.1/servers/${serverId}/diagnostics`, { token: tAdmin });
  assert.equal(r.status, 200, r.text);
  assertNovaResponse('server_diagnostics', 'ServerDiagnosticsController', 'index', '2.1', r.body);
  assert.equal(r.body.driver, 'azure');
  assert.equal(r.body.state, 'running');
  assert.equal(r.body.num_cpus, 2);
  assert.equal(r.body.memory, 4096 * 1024);
  assert.equal(r.body.vm_size, 'Standard_B2s');
  assert.equal(r.body.vm_agent_status, 'Ready');
  assert.equal(r.body.disk0_name, serverId);
  assert.match(r.body.nic0_mac_address, /^00:0d:3a(:[0-9a-f]{2}){3}$/);
  const member = await env.stack.http('GET', `/compute/v2.1/servers/${serverId}/diagnostics`, { token: tAlice });
  assert.equal(member.status, 403);
  assert.equal(member.body.forbidden.message, "Policy doesn't allow os_compute_api:os-server-diagnostics to be performed.");
  // Pinned below 2.48: from it the standardized form has no Azure driver and Nova's answer is 501.
  const cli = await env.stack.oscJson(['--os-compute-api-version', '2.47', 'server', 'show', '--diagnostics', serverId]);
  assert.equal(cli.driver, 'azure');
  assert.equal(cli.num_cpus, 2);
});

test('2.48 diagnostics: past the same checks, 501 as Nova for a driver without get_instance_diagnostics', async () => {
  const at = (mv: string) => env.stack.http('GET', `/compute/v2.1/servers/${serverId}/diagnostics`, { token: tAdmin, headers: { 'OpenStack-API-Version': `compute ${mv}` } });
  const old = await at('2.47');
  assert.equal(old.status, 200, old.text);
  assert.equal(old.body.driver, 'azure');
  const now = await at('2.48');
  assert.equal(now.status, 501, now.text);
  assert.equal(now.body.notImplemented.message, 'The requested functionality is not supported.');
  const unknown = await env.stack.http('GET', '/compute/v2.1/servers/00000000-0000-0000-0000-000000000000/diagnostics', { token: tAdmin, headers: { 'OpenStack-API-Version': 'compute 2.48' } });
  assert.equal(unknown.status, 404);
});
