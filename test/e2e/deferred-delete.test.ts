// Nova's deferred delete end to end, with reclaim_instance_interval set (JACKET_RECLAIM_INSTANCE_INTERVAL):
// DELETE soft-deletes (the VM deallocated on the ARM emulator, SOFT_DELETED), `openstack server restore`
// starts it again, the reclaim timer deletes it for good after the interval, `openstack server delete
// --force` (forceDelete) deletes at once; Nova's 404/409/400 answers; bodies checked against Nova's.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { powerState, startArmStack, waitFor, type ArmStack } from '../support/armStack';
import { aliceAndBob, imageId, networkId, settledServer, type ProjectUser } from '../support/fixtures';
import { assertNovaResponse } from '../support/oracle';
import type { Services } from '../../shared/services';
import { reclaimServers } from '../../shared/timers/reclaim';

let arm: ArmStack;
let s: Services;
let alice: ProjectUser;
let tAlice: string, tBob: string, tAdmin: string;
let image: string, net: string;
const RG = 'ops_resource_group';
const INTERVAL = 3600;
const http = (method: string, path: string, token: string, body?: unknown) => arm.stack.http(method, `/compute/v2.1${path}`, { token, body });
const action = (id: string, token: string, body: unknown) => http('POST', `/servers/${id}/action`, token, body);

async function show(id: string, token = tAdmin) {
  const r = await http('GET', `/servers/${id}`, token);
  assert.equal(r.status, 200, r.text);
  assertNovaResponse('servers', 'ServersController', 'show', '2.1', r.body);
  return r.body.server;
}
const waitStatus = (id: string, status: string) => settledServer(show, id, status);
const waitGone = (id: string) => waitFor(`server ${id} gone`, async () => ((await http('GET', `/servers/${id}`, tAdmin)).status === 404 ? true : undefined));
const azurePower = (id: string) => powerState(arm, id, RG);
async function createServer(name: string): Promise<string> {
  const r = await http('POST', '/servers', tAlice, { server: { name, flavorRef: '3', imageRef: image, networks: [{ uuid: net }] } });
  assert.equal(r.status, 202, r.text);
  return r.body.server.id;
}

before(async () => {
  arm = await startArmStack({ settings: { JACKET_RECLAIM_INSTANCE_INTERVAL: String(INTERVAL) } });
  s = arm.stack.cloud.services;
  ({ alice, tAlice, tBob, tAdmin } = await aliceAndBob(arm.stack, ['dd-a', 'alice'], ['dd-b', 'bob']));
  [image, net] = await Promise.all([imageId(arm.stack, tAlice), networkId(arm.stack, tAlice)]);
});
after(() => arm?.stop());

test('delete soft-deletes (VM deallocated, SOFT_DELETED); openstack server restore brings it back ACTIVE', async () => {
  const id = await createServer('dd-1');
  await waitStatus(id, 'ACTIVE');
  await arm.stack.oscOk(['server', 'delete', id], alice);
  const soft = await waitStatus(id, 'SOFT_DELETED');
  assert.equal(soft['OS-EXT-STS:vm_state'], 'soft-delete');
  assert.equal(soft['OS-EXT-STS:power_state'], 4);
  assert.equal(await azurePower(id), 'deallocated');
  // a second DELETE of a soft-deleted server changes nothing
  assert.equal((await http('DELETE', `/servers/${id}`, tAlice)).status, 204);
  assert.equal((await show(id)).status, 'SOFT_DELETED');

  // another project's server is 404; a bad body 400; forceDelete is refused the same way
  const other = await action(id, tBob, { restore: null });
  assert.equal(other.status, 404);
  assert.equal(other.body.itemNotFound.message, `Instance ${id} could not be found.`);
  const bad = await action(id, tAlice, { restore: null, extra: 1 });
  assert.equal(bad.status, 400);
  assert.equal((await action(id, tBob, { forceDelete: null })).status, 404);

  await arm.stack.oscOk(['server', 'restore', id], alice);
  const back = await waitStatus(id, 'ACTIVE');
  assert.equal(back['OS-EXT-STS:power_state'], 1);
  assert.equal(await azurePower(id), 'running');
  const again = await action(id, tAlice, { restore: {} });
  assert.equal(again.status, 409);
  assert.equal(again.body.conflictingRequest.message, `Cannot 'restore' instance ${id} while it is in vm_state active`);
  const acts = await http('GET', `/servers/${id}/os-instance-actions`, tAlice);
  const names = acts.body.instanceActions.map((a: { action: string }) => a.action);
  assert.ok(names.includes('delete') && names.includes('restore'), names.join(','));
});

test('the reclaim timer deletes a soft-deleted server after reclaim_instance_interval, not before', async () => {
  const id = await createServer('dd-2');
  await waitStatus(id, 'ACTIVE');
  assert.equal((await http('DELETE', `/servers/${id}`, tAlice)).status, 204);
  await waitStatus(id, 'SOFT_DELETED');
  const early = await reclaimServers(s);
  assert.equal(early.ran, true);
  assert.equal(early.ids.includes(id), false);
  assert.equal((await show(id)).status, 'SOFT_DELETED');
  const due = await reclaimServers(s, new Date(Date.now() + (INTERVAL + 60) * 1000));
  assert.deepEqual(due.ids, [id]);
  assert.equal(due.outcomes.reclaimed, 1);
  await waitGone(id);
  assert.equal(await azurePower(id), undefined);
  const cli = await arm.stack.osc(['server', 'show', id], alice);
  assert.notEqual(cli.code, 0);
});

test('openstack server delete --force (forceDelete) deletes a soft-deleted server at once; a locked one is 409', async () => {
  const id = await createServer('dd-3');
  await waitStatus(id, 'ACTIVE');
  await arm.stack.oscOk(['server', 'delete', id], alice);
  await waitStatus(id, 'SOFT_DELETED');
  // admin lock: the owner's forceDelete is Nova's 409 InstanceIsLocked
  assert.equal((await action(id, tAdmin, { lock: null })).status, 202);
  const locked = await action(id, tAlice, { forceDelete: null });
  assert.equal(locked.status, 409);
  assert.equal(locked.body.conflictingRequest.message, `Instance ${id} is locked`);
  assert.equal((await action(id, tAdmin, { unlock: null })).status, 202);
  await arm.stack.oscOk(['server', 'delete', '--force', id], alice);
  await waitGone(id);
  assert.equal(await azurePower(id), undefined);
});
