// resize / confirmResize / revertResize end to end: the real CLI and HTTP against the app, the app
// against the ARM emulator; the VM's size is read back from the emulator through the SDK.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startArmStack, waitFor, type ArmStack } from '../support/armStack';
import { assertNovaResponse } from '../support/oracle';
import { listActions } from '../../shared/compute/servers/instanceActions';
import { aliceAndBob, type ProjectUser } from '../support/fixtures';

let env: ArmStack;
let alice: ProjectUser;
let tAlice: string, tBob: string, tAdmin: string;
let serverId: string;
const RG = 'ops_resource_group';

const show = async (id: string, token = tAlice) => (await env.stack.http('GET', `/compute/v2.1/servers/${id}`, { token })).body.server;
const action = (id: string, body: unknown, token = tAlice) => env.stack.http('POST', `/compute/v2.1/servers/${id}/action`, { token, body });
const vmSize = async (id: string) => (await env.compute.virtualMachines.get(RG, id)).hardwareProfile?.vmSize;

before(async () => {
  env = await startArmStack();
  ({ alice, tAlice, tBob, tAdmin } = await aliceAndBob(env.stack, ['rs-a', 'alice'], ['rs-b', 'bob']));
  const srv = await env.stack.oscJson(['server', 'create', '--flavor', 'm1.medium', '--image', 'ubuntu-22.04', '--network', 'private', '--wait', 'rs1'], alice);
  assert.equal(srv.status, 'ACTIVE');
  serverId = srv.id;
});
after(() => env?.stop());

test('openstack server resize --wait: Azure runs the new size, the server waits in VERIFY_RESIZE; confirm keeps it', async () => {
  assert.equal(await vmSize(serverId), 'Standard_B2s');
  await env.control.clearRequests();
  const out = await env.stack.osc(['server', 'resize', '--flavor', 'm1.large', '--wait', serverId], alice);
  assert.equal(out.code, 0, out.stderr);
  const s = await show(serverId);
  assert.equal(s.status, 'VERIFY_RESIZE');
  assert.equal(s.flavor.id, '4');
  assertNovaResponse('servers', 'ServersController', 'show', '2.1', { server: s });
  assert.equal(await vmSize(serverId), 'Standard_D2s_v3');
  const patches = (await env.control.requests()).filter((r) => r.method === 'PATCH' && r.path.endsWith(`/virtualMachines/${serverId}`));
  assert.equal(patches.length, 1, 'one PATCH of the VM');
  assert.deepEqual((patches[0].requestBody as any).properties.hardwareProfile, { vmSize: 'Standard_D2s_v3' });

  // A second resize while VERIFY_RESIZE: Nova's 409.
  const again = await action(serverId, { resize: { flavorRef: '5' } });
  assert.equal(again.status, 409);
  assert.equal(again.body.conflictingRequest.message, `Cannot 'resize' instance ${serverId} while it is in vm_state resized`);

  const c = await env.stack.osc(['server', 'resize', 'confirm', serverId], alice);
  assert.equal(c.code, 0, c.stderr);
  const after = await show(serverId);
  assert.equal(after.status, 'ACTIVE');
  assert.equal(after.flavor.id, '4');
  assert.equal(await vmSize(serverId), 'Standard_D2s_v3');
  const names = (await listActions(env.stack.cloud.services, serverId)).map((a) => a.action);
  assert.ok(names.includes('resize') && names.includes('confirmResize'), names.join(','));
  // Confirm again: not resized any more.
  const twice = await action(serverId, { confirmResize: null });
  assert.equal(twice.status, 409);
});

test('openstack server resize revert: Azure goes back to the old size and the server to ACTIVE with the old flavor', async () => {
  const r = await action(serverId, { resize: { flavorRef: '3' } });
  assert.equal(r.status, 202, r.text);
  assert.equal(r.text, '');
  await waitFor('VERIFY_RESIZE', async () => ((await show(serverId)).status === 'VERIFY_RESIZE' ? true : undefined));
  assert.equal(await vmSize(serverId), 'Standard_B2s');
  const out = await env.stack.osc(['server', 'resize', 'revert', serverId], alice);
  assert.equal(out.code, 0, out.stderr);
  const s = await waitFor('ACTIVE after revert', async () => {
    const v = await show(serverId);
    return v.status === 'ACTIVE' ? v : undefined;
  });
  assert.equal(s.flavor.id, '4');
  assert.equal(await vmSize(serverId), 'Standard_D2s_v3');
  const acts = await listActions(env.stack.cloud.services, serverId);
  const revert = acts.find((a) => a.action === 'revertResize')!;
  assert.equal(revert.events[0].result, 'Success');
});

test('resize refusals: Nova 400s, quota 403, another project 404, lock 409 — and nothing reaches Azure', async () => {
  await env.control.clearRequests();
  const same = await action(serverId, { resize: { flavorRef: '4' } });
  assert.equal(same.status, 400);
  assert.equal(same.body.badRequest.message, 'When resizing, instances must change flavor!');
  const missing = await action(serverId, { resize: { flavorRef: 'nope' } });
  assert.equal(missing.status, 400);
  assert.equal(missing.body.badRequest.message, 'Flavor nope could not be found.');
  const bad = await action(serverId, { resize: { flavorRef: '' } });
  assert.equal(bad.status, 400);
  const extra = await action(serverId, { resize: { flavorRef: '3', foo: 1 } });
  assert.equal(extra.status, 400);
  const notResized = await action(serverId, { revertResize: null });
  assert.equal(notResized.status, 409);
  assert.equal(notResized.body.conflictingRequest.message, `Cannot 'revertResize' instance ${serverId} while it is in vm_state active`);
  const other = await action(serverId, { resize: { flavorRef: '3' } }, tBob);
  assert.equal(other.status, 404);
  // Nova's quota check for the upsize: 4 more cores than the 2 allowed.
  const q = await env.stack.http('PUT', `/compute/v2.1/os-quota-sets/${alice.projectId}`, { token: tAdmin, body: { quota_set: { cores: 3 } } });
  assert.equal(q.status, 200, q.text);
  const over = await action(serverId, { resize: { flavorRef: '5' } });
  assert.equal(over.status, 403);
  assert.equal(over.body.forbidden.message, 'Quota exceeded for cores: Requested 2, but already used 2 of 3 cores');
  await env.stack.http('PUT', `/compute/v2.1/os-quota-sets/${alice.projectId}`, { token: tAdmin, body: { quota_set: { cores: 20 } } });
  // A locked server refuses its owner (409), not an admin.
  assert.equal((await action(serverId, { lock: null })).status, 202);
  const locked = await action(serverId, { resize: { flavorRef: '3' } });
  assert.equal(locked.status, 409);
  assert.equal(locked.body.conflictingRequest.message, `Instance ${serverId} is locked`);
  assert.equal((await action(serverId, { resize: { flavorRef: '3' } }, tBob)).status, 404);
  assert.equal((await action(serverId, { unlock: null })).status, 202);
  const writes = (await env.control.requests()).filter((r) => r.method !== 'GET');
  assert.deepEqual(writes, []);
  const s = await show(serverId);
  assert.equal(s.status, 'ACTIVE');
  assert.equal(s.flavor.id, '4');
});

test('a resize Azure refuses (quota on Azure) returns the server to ACTIVE with the action in Error', async () => {
  await env.control.addFault({
    method: 'PATCH',
    path: `virtualMachines/${serverId}$`,
    status: 409,
    code: 'OperationNotAllowed',
    message: 'Operation could not be completed as it results in exceeding approved standardDSv3Family Cores quota.',
  });
  const r = await action(serverId, { resize: { flavorRef: '5' } });
  assert.equal(r.status, 202, r.text);
  await waitFor('resize rolled back', async () => {
    const acts = await listActions(env.stack.cloud.services, serverId);
    const a = acts.find((x) => x.action === 'resize' && x.events[0].result === 'Error');
    return a ? true : undefined;
  });
  const s = await show(serverId);
  assert.equal(s.status, 'ACTIVE');
  assert.equal(s.flavor.id, '4');
  assert.equal(await vmSize(serverId), 'Standard_D2s_v3');
});

test('a revert Azure refuses leaves the server in VERIFY_RESIZE, where another revert (or confirm) still works', async () => {
  const r = await action(serverId, { resize: { flavorRef: '3' } });
  assert.equal(r.status, 202, r.text);
  await waitFor('VERIFY_RESIZE', async () => ((await show(serverId)).status === 'VERIFY_RESIZE' ? true : undefined));
  await env.control.addFault({
    method: 'PATCH',
    path: `virtualMachines/${serverId}$`,
    status: 409,
    code: 'OperationNotAllowed',
    message: 'Operation could not be completed as it results in exceeding approved standardDSv3Family Cores quota.',
  });
  assert.equal((await action(serverId, { revertResize: null })).status, 202);
  await waitFor('revert refused', async () => {
    const acts = await listActions(env.stack.cloud.services, serverId);
    return acts.find((x) => x.action === 'revertResize' && x.events[0].result === 'Error') ? true : undefined;
  });
  const s = await show(serverId);
  assert.equal(s.status, 'VERIFY_RESIZE');
  assert.equal(s.flavor.id, '3');
  assert.equal(await vmSize(serverId), 'Standard_B2s');
  // The migration is 'finished' again (Nova's confirm and revert look it up by that status).
  const migs = (await env.stack.http('GET', `/compute/v2.1/os-migrations?instance_uuid=${serverId}`, { token: tAdmin })).body.migrations as { status: string; id: number }[];
  assert.equal(migs.sort((a, b) => b.id - a.id)[0].status, 'finished');
  // The fault was for one PATCH: the revert goes through now.
  const out = await env.stack.osc(['server', 'resize', 'revert', serverId], alice);
  assert.equal(out.code, 0, out.stderr);
  const back = await waitFor('ACTIVE after the second revert', async () => {
    const v = await show(serverId);
    return v.status === 'ACTIVE' ? v : undefined;
  });
  assert.equal(back.flavor.id, '4');
  assert.equal(await vmSize(serverId), 'Standard_D2s_v3');
});
