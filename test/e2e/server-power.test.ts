// Power actions, locks, reset state and os-instance-actions end to end: the real `openstack` CLI and
// plain HTTP against the app, the app against the ARM emulator; what reached Azure is read back from
// the emulator's recorded requests and the VM's instance view.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { powerState, startArmStack, type ArmStack } from '../support/armStack';
import { aliceAndBob, imageId, networkId, settledServer, type ProjectUser } from '../support/fixtures';
import { assertNovaResponse } from '../support/oracle';

let arm: ArmStack;
let alice: ProjectUser;
let tAlice: string, tBob: string, tAdmin: string;
let srvId: string;
const RG = 'ops_resource_group';

const http = (method: string, path: string, token: string, body?: unknown) => arm.stack.http(method, `/compute/v2.1${path}`, { token, body });
const action = (id: string, token: string, body: unknown) => http('POST', `/servers/${id}/action`, token, body);

async function server(id: string, token = tAdmin) {
  const r = await http('GET', `/servers/${id}`, token);
  assert.equal(r.status, 200, r.text);
  return r.body.server;
}
const waitStatus = (id: string, status: string) => settledServer(server, id, status);
const azurePower = (id: string) => powerState(arm, id, RG);
async function vmPosts(id: string) {
  return (await arm.control.requests())
    .filter((r) => r.method === 'POST' && r.path.includes(`/virtualMachines/${id}/`))
    .map((r) => `${r.path.split('/').pop()}${r.query.includes('skipShutdown=true') ? '?skipShutdown' : ''}${r.query.includes('hibernate=true') ? '?hibernate' : ''}`);
}

before(async () => {
  arm = await startArmStack();
  ({ alice, tAlice, tBob, tAdmin } = await aliceAndBob(arm.stack, ['pw-a', 'alice'], ['pw-b', 'bob']));
  const [image, net] = await Promise.all([imageId(arm.stack, tAlice), networkId(arm.stack, tAlice)]);
  const r = await http('POST', '/servers', tAlice, { server: { name: 'pw1', flavorRef: '3', imageRef: image, networks: [{ uuid: net }] } });
  assert.equal(r.status, 202, r.text);
  srvId = r.body.server.id;
  await waitStatus(srvId, 'ACTIVE');
});
after(() => arm?.stop());

test('reboot: SOFT is an Azure restart, --hard a power off without shutdown then a start; bad bodies are 400', async () => {
  await arm.control.clearRequests();
  await arm.stack.oscOk(['server', 'reboot', '--wait', srvId], alice);
  assert.deepEqual(await vmPosts(srvId), ['restart']);
  await arm.control.clearRequests();
  await arm.stack.oscOk(['server', 'reboot', '--hard', '--wait', srvId], alice);
  assert.deepEqual(await vmPosts(srvId), ['powerOff?skipShutdown', 'start']);
  assert.equal(await azurePower(srvId), 'running');
  const s = await server(srvId, tAlice);
  assertNovaResponse('servers', 'ServersController', 'show', '2.1', { server: s });
  assert.equal(s.status, 'ACTIVE');
  assert.equal(s['OS-EXT-STS:power_state'], 1);

  const bad = await action(srvId, tAlice, { reboot: { type: 'WARM' } });
  assert.equal(bad.status, 400);
  assert.match(bad.body.badRequest.message, /^Invalid input for field\/attribute type\. Value: WARM\. 'WARM' is not one of \['HARD', 'Hard', 'hard', 'SOFT', 'Soft', 'soft'\]$/);
  const missing = await action(srvId, tAlice, { reboot: {} });
  assert.equal(missing.status, 400);
  assert.match(missing.body.badRequest.message, /'type' is a required property/);
  // another project's server is 404, as Nova
  const other = await action(srvId, tBob, { reboot: { type: 'SOFT' } });
  assert.equal(other.status, 404);
  assert.equal(other.body.itemNotFound.message, `Instance ${srvId} could not be found.`);
});

test('stop deallocates (no compute billing), start starts; wrong states are 409 in Nova words', async () => {
  await arm.control.clearRequests();
  await arm.stack.oscOk(['server', 'stop', srvId], alice);
  // the task_state is set at once: a second stop meets Nova's 409
  const again = await action(srvId, tAlice, { 'os-stop': null });
  assert.equal(again.status, 409);
  assert.match(again.body.conflictingRequest.message, new RegExp(`^Cannot 'stop' instance ${srvId} while it is in (task_state powering-off|vm_state stopped)$`));
  const stopped = await waitStatus(srvId, 'SHUTOFF');
  assert.equal(stopped['OS-EXT-STS:power_state'], 4);
  assert.equal(await azurePower(srvId), 'deallocated');
  assert.deepEqual(await vmPosts(srvId), ['deallocate']);

  const soft = await action(srvId, tAlice, { reboot: { type: 'SOFT' } });
  assert.equal(soft.status, 409);
  assert.equal(soft.body.conflictingRequest.message, `Cannot 'reboot' instance ${srvId} while it is in vm_state stopped`);
  const stop2 = await action(srvId, tAlice, { 'os-stop': {} });
  assert.equal(stop2.status, 409);
  assert.equal(stop2.body.conflictingRequest.message, `Cannot 'stop' instance ${srvId} while it is in vm_state stopped`);

  await arm.control.clearRequests();
  await arm.stack.oscOk(['server', 'start', srvId], alice);
  await waitStatus(srvId, 'ACTIVE');
  assert.equal(await azurePower(srvId), 'running');
  assert.deepEqual(await vmPosts(srvId), ['start']);
  const start2 = await action(srvId, tAlice, { 'os-start': null });
  assert.equal(start2.status, 409);
  assert.equal(start2.body.conflictingRequest.message, `Cannot 'start' instance ${srvId} while it is in vm_state active`);
});

test("an Azure failure ends the action in ERROR with Azure's message; admin reset-state (server set --state) repairs it", async () => {
  await arm.control.addFault({ method: 'POST', path: `/virtualMachines/${srvId}/restart`, failAsync: true, code: 'AllocationFailed' });
  const r = await action(srvId, tAlice, { reboot: { type: 'SOFT' } });
  assert.equal(r.status, 202);
  assert.equal(r.text, '');
  const err = await waitStatus(srvId, 'ERROR');
  assert.equal(err.fault.code, 500);
  assert.ok(err.fault.message.length > 0);
  // members may not reset state
  const denied = await action(srvId, tAlice, { 'os-resetState': { state: 'active' } });
  assert.equal(denied.status, 403);
  assert.equal(denied.body.forbidden.message, "Policy doesn't allow os_compute_api:os-admin-actions:reset_state to be performed.");
  const badState = await action(srvId, tAdmin, { 'os-resetState': { state: 'stopped' } });
  assert.equal(badState.status, 400);
  await arm.stack.oscOk(['server', 'set', '--auto-approve', '--state', 'active', srvId]);
  const s = await server(srvId);
  assert.equal(s.status, 'ACTIVE');
  assert.equal(s['OS-EXT-STS:task_state'], null);
  await arm.stack.oscOk(['server', 'set', '--auto-approve', '--state', 'error', srvId]);
  assert.equal((await server(srvId)).status, 'ERROR');
  await arm.stack.oscOk(['server', 'set', '--auto-approve', '--state', 'active', srvId]);
});

test("lock: a member's actions on a locked server are 409, an admin's lock needs the override to unlock", async () => {
  await arm.stack.oscOk(['server', 'lock', srvId], alice);
  const refused = await action(srvId, tAlice, { reboot: { type: 'HARD' } });
  assert.equal(refused.status, 409);
  assert.equal(refused.body.conflictingRequest.message, `Instance ${srvId} is locked`);
  const cli = await arm.stack.osc(['server', 'stop', srvId], alice);
  assert.notEqual(cli.code, 0);
  assert.match(cli.stderr, new RegExp(`409.*Instance ${srvId} is locked`));
  // locking again as the owner changes nothing (and records nothing)
  assert.equal((await action(srvId, tAlice, { lock: null })).status, 202);
  await arm.stack.oscOk(['server', 'unlock', srvId], alice);
  // an admin's lock: the owner cannot unlock it
  assert.equal((await action(srvId, tAdmin, { lock: {} })).status, 202);
  const override = await action(srvId, tAlice, { unlock: null });
  assert.equal(override.status, 403);
  assert.equal(override.body.forbidden.message, "Policy doesn't allow os_compute_api:os-lock-server:unlock:unlock_override to be performed.");
  // admins act on locked servers (check_instance_lock lets admins through)
  await arm.control.clearRequests();
  assert.equal((await action(srvId, tAdmin, { reboot: { type: 'SOFT' } })).status, 202);
  await waitStatus(srvId, 'ACTIVE');
  assert.deepEqual(await vmPosts(srvId), ['restart']);
  await arm.stack.oscOk(['server', 'unlock', srvId]);
  assert.equal((await action(srvId, tAlice, { reboot: { type: 'SOFT' } })).status, 202);
  await waitStatus(srvId, 'ACTIVE');
});

test("os-instance-actions: newest first, Nova's 2.1 views, events for admins only (server event list/show)", async () => {
  const list = await http('GET', `/servers/${srvId}/os-instance-actions`, tAlice);
  assert.equal(list.status, 200, list.text);
  assertNovaResponse('instance_actions', 'InstanceActionsController', 'index', '2.1', list.body);
  const names = list.body.instanceActions.map((a: { action: string }) => a.action);
  assert.deepEqual(names.slice(-6).reverse(), ['create', 'reboot', 'reboot', 'stop', 'start', 'reboot']);
  assert.ok(names.includes('lock') && names.includes('unlock') && names.includes('resetState'));
  assert.equal(names.filter((n: string) => n === 'lock').length, 2, "the owner's second lock recorded nothing");
  const stop = list.body.instanceActions.find((a: { action: string }) => a.action === 'stop');

  const asMember = await http('GET', `/servers/${srvId}/os-instance-actions/${stop.request_id}`, tAlice);
  assertNovaResponse('instance_actions', 'InstanceActionsController', 'show', '2.1', asMember.body);
  assert.ok(!('events' in asMember.body.instanceAction), 'events are for admins at 2.1');
  const asAdmin = await http('GET', `/servers/${srvId}/os-instance-actions/${stop.request_id}`, tAdmin);
  assertNovaResponse('instance_actions', 'InstanceActionsController', 'show', '2.1', asAdmin.body);
  assert.deepEqual(
    asAdmin.body.instanceAction.events.map((e: { event: string; result: string }) => [e.event, e.result]),
    [['compute_stop_instance', 'Success']],
  );
  assert.match(asAdmin.body.instanceAction.start_time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/);
  const failed = list.body.instanceActions.find((a: { action: string; message: string | null }) => a.action === 'reboot' && a.message === 'Error');
  assert.ok(failed, 'the failed reboot carries Nova\'s message "Error"');
  const reset = list.body.instanceActions.find((a: { action: string }) => a.action === 'resetState');
  const resetShow = await http('GET', `/servers/${srvId}/os-instance-actions/${reset.request_id}`, tAdmin);
  assert.deepEqual(resetShow.body.instanceAction.events, []);

  const missing = await http('GET', `/servers/${srvId}/os-instance-actions/req-nope`, tAlice);
  assert.equal(missing.status, 404);
  assert.equal(missing.body.itemNotFound.message, 'Action req-nope not found');
  assert.equal((await http('GET', `/servers/${srvId}/os-instance-actions`, tBob)).status, 404);

  const events = await arm.stack.oscJson<Array<{ 'Request ID': string; Action: string }>>(['server', 'event', 'list', srvId], alice);
  assert.deepEqual(
    events.map((e) => e.Action),
    names,
  );
  const shown = await arm.stack.oscJson<{ action: string; events?: unknown[] }>(['server', 'event', 'show', srvId, stop.request_id]);
  assert.equal(shown.action, 'stop');
  assert.equal(shown.events?.length, 1);
});
