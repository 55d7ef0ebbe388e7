// os-interface end to end (issue 13): `openstack server add port` / `server remove port` through the
// real CLI, and attach by network through the HTTP API, against the ARM emulator, which (as Azure)
// changes a VM's NICs only while it is deallocated: the change deallocates, patches and starts the VM,
// the server shows it in its task_state, and the VM ends with the NICs asked for. Responses are checked
// against Nova's own schemas; Nova's refusals change nothing.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { startArmStack, waitFor, type ArmStack } from '../support/armStack';
import { aliceAndBob, imageId, networkId, type ProjectUser } from '../support/fixtures';
import { assertNovaResponse } from '../support/oracle';

const RG = 'ops_resource_group';
let arm: ArmStack;
let alice: ProjectUser;
let tAlice: string, tBob: string;
let image: string, privateNet: string;

const nova = (token: string, method: string, p: string, body?: unknown) => arm.stack.http(method, `/compute/v2.1${p}`, { token, body });
const net = (token: string, method: string, p: string, body?: unknown) => arm.stack.http(method, `/network/v2.0${p}`, { token, body });
const vmNics = async (id: string) => ((await arm.compute.virtualMachines.get(RG, id)).networkProfile?.networkInterfaces ?? []).map((n) => [n.id!.split('/').pop(), n.primary]);
const settled = (id: string) =>
  waitFor(
    'the interface change settled',
    async () => {
      const s = (await nova(tAlice, 'GET', `/servers/${id}`)).body.server;
      return s['OS-EXT-STS:task_state'] === null ? s : undefined;
    },
    120000,
  );

before(async () => {
  arm = await startArmStack({ asyncDelayMs: 0 });
  ({ alice, tAlice, tBob } = await aliceAndBob(arm.stack, ['if-a', 'ifalice'], ['if-b', 'ifbob']));
  [image, privateNet] = await Promise.all([imageId(arm.stack, tAlice), networkId(arm.stack, tAlice)]);
});
after(() => arm?.stop());

test('server add port / server remove port: the VM is deallocated, given or rid of the NIC, and started again; Nova refusals change nothing', async () => {
  const port = await arm.stack.oscJson<{ id: string }>(['port', 'create', '--network', privateNet, '--fixed-ip', 'ip-address=10.0.0.60', 'if-p1'], alice);
  const srv = await arm.stack.oscJson<{ id: string }>(['server', 'create', '--flavor', '3', '--image', image, '--network', privateNet, '--wait', 'if-srv'], alice);
  const first = (await vmNics(srv.id))[0][0] as string;
  assert.deepEqual(await vmNics(srv.id), [[first, true]]);

  await arm.stack.oscOk(['server', 'add', 'port', srv.id, port.id], alice);
  const during = (await nova(tAlice, 'GET', `/servers/${srv.id}`)).body.server;
  assert.ok(['interface-attaching', null].includes(during['OS-EXT-STS:task_state']), during['OS-EXT-STS:task_state']);
  const after1 = await settled(srv.id);
  assert.equal(after1.status, 'ACTIVE');
  assert.deepEqual(await vmNics(srv.id), [
    [first, true],
    [`port-${port.id}`, false],
  ]);
  assert.equal((await arm.compute.virtualMachines.instanceView(RG, srv.id)).statuses?.find((x) => x.code?.startsWith('PowerState/'))?.code, 'PowerState/running');
  assert.ok(after1.addresses.private.some((a: { addr: string }) => a.addr === '10.0.0.60'));
  const bound = (await net(tAlice, 'GET', `/ports/${port.id}`)).body.port;
  assert.equal(bound.device_id, srv.id);
  assert.equal(bound.status, 'ACTIVE');
  assert.match(bound.mac_address, /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
  const list = await nova(tAlice, 'GET', `/servers/${srv.id}/os-interface`);
  assert.equal(list.status, 200, list.text);
  assertNovaResponse('attach_interfaces', 'InterfaceAttachmentController', 'index', '2.1', list.body);
  assert.equal(list.body.interfaceAttachments.length, 2);
  assert.ok(list.body.interfaceAttachments.some((a: { port_id: string }) => a.port_id === port.id));
  const one = await nova(tAlice, 'GET', `/servers/${srv.id}/os-interface/${port.id}`);
  assertNovaResponse('attach_interfaces', 'InterfaceAttachmentController', 'show', '2.1', one.body);
  assert.deepEqual(
    one.body.interfaceAttachment.fixed_ips.map((f: { ip_address: string }) => f.ip_address),
    ['10.0.0.60'],
  );
  const actions = (await nova(tAlice, 'GET', `/servers/${srv.id}/os-instance-actions`)).body.instanceActions.map((a: { action: string }) => a.action);
  assert.ok(actions.includes('attach_interface'), JSON.stringify(actions));

  // Nova's refusals, each changing nothing.
  const primaryPort = list.body.interfaceAttachments.find((a: { port_id: string }) => a.port_id !== port.id).port_id;
  const again = await nova(tAlice, 'POST', `/servers/${srv.id}/os-interface`, { interfaceAttachment: { port_id: port.id } });
  assert.equal(again.status, 409, again.text);
  assert.equal(again.body.conflictingRequest.message, `Port ${port.id} is still in use.`);
  const missing = randomUUID();
  const nf = await nova(tAlice, 'POST', `/servers/${srv.id}/os-interface`, { interfaceAttachment: { port_id: missing } });
  assert.equal(nf.status, 404, nf.text);
  assert.equal(nf.body.itemNotFound.message, `Port id ${missing} could not be found.`);
  const both = await nova(tAlice, 'POST', `/servers/${srv.id}/os-interface`, { interfaceAttachment: { port_id: port.id, net_id: privateNet } });
  assert.equal(both.status, 400, both.text);
  const bad = await nova(tAlice, 'POST', `/servers/${srv.id}/os-interface`, { interfaceAttachment: { port_id: 'nope' } });
  assert.equal(bad.status, 400, bad.text);
  const prim = await nova(tAlice, 'DELETE', `/servers/${srv.id}/os-interface/${primaryPort}`);
  assert.equal(prim.status, 400, prim.text);
  const notAttached = await nova(tAlice, 'DELETE', `/servers/${srv.id}/os-interface/${missing}`);
  assert.equal(notAttached.status, 404, notAttached.text);
  assert.equal((await nova(tAlice, 'GET', `/servers/${srv.id}/os-interface/${missing}`)).status, 404);
  // Another project sees no server at all.
  assert.equal((await nova(tBob, 'GET', `/servers/${srv.id}/os-interface`)).status, 404);
  assert.equal((await nova(tBob, 'DELETE', `/servers/${srv.id}/os-interface/${port.id}`)).status, 404);
  // A locked server refuses before anything else (Nova's check_instance_lock: admins only).
  assert.equal((await nova(tAlice, 'POST', `/servers/${srv.id}/action`, { lock: null })).status, 202);
  const locked = await nova(tAlice, 'DELETE', `/servers/${srv.id}/os-interface/${port.id}`);
  assert.equal(locked.status, 409, locked.text);
  assert.equal(locked.body.conflictingRequest.message, `Instance ${srv.id} is locked`);
  assert.equal((await nova(tAlice, 'POST', `/servers/${srv.id}/action`, { unlock: null })).status, 202);
  assert.equal((await vmNics(srv.id)).length, 2, 'nothing changed');
  // Detached through the HTTP API.
  assert.equal((await nova(tAlice, 'DELETE', `/servers/${srv.id}/os-interface/${port.id}`)).status, 202);
  await settled(srv.id);
  assert.deepEqual(await vmNics(srv.id), [[first, true]]);
  assert.deepEqual(await nova(tAlice, 'GET', `/servers/${srv.id}`).then((r) => r.body.server.status), 'ACTIVE');
  const unbound = (await net(tAlice, 'GET', `/ports/${port.id}`)).body.port;
  assert.equal(unbound.device_id, '');
  assert.equal(unbound.status, 'DOWN');

  // Through the CLI again: add, then remove.
  await arm.stack.oscOk(['server', 'add', 'port', srv.id, port.id], alice);
  await settled(srv.id);
  assert.equal((await vmNics(srv.id)).length, 2);
  await arm.stack.oscOk(['server', 'remove', 'port', srv.id, port.id], alice);
  const after2 = await settled(srv.id);
  assert.equal(after2.status, 'ACTIVE');
  assert.deepEqual(await vmNics(srv.id), [[first, true]]);
  assert.ok(!after2.addresses.private.some((a: { addr: string }) => a.addr === '10.0.0.60'));
  assert.equal((await net(tAlice, 'GET', `/ports/${port.id}`)).body.port.device_id, '');
  // The user's port outlives it all; its NIC is free for another server.
  assert.ok(await arm.network.networkInterfaces.get(RG, `port-${port.id}`));

  // Attach by network: Nova makes the port, and the detach deletes it with its NIC.
  const byNet = await nova(tAlice, 'POST', `/servers/${srv.id}/os-interface`, { interfaceAttachment: { net_id: privateNet } });
  assert.equal(byNet.status, 200, byNet.text);
  const made = byNet.body.interfaceAttachment.port_id as string;
  assert.equal(byNet.body.interfaceAttachment.net_id, privateNet);
  await settled(srv.id);
  assert.deepEqual(await vmNics(srv.id), [
    [first, true],
    [`port-${made}`, false],
  ]);
  assertNovaResponse('attach_interfaces', 'InterfaceAttachmentController', 'show', '2.1', (await nova(tAlice, 'GET', `/servers/${srv.id}/os-interface/${made}`)).body);
  assert.equal((await nova(tAlice, 'DELETE', `/servers/${srv.id}/os-interface/${made}`)).status, 202);
  await settled(srv.id);
  assert.deepEqual(await vmNics(srv.id), [[first, true]]);
  assert.equal((await net(tAlice, 'GET', `/ports/${made}`)).status, 404, 'the port made for the attach went with the detach');
  await assert.rejects(arm.network.networkInterfaces.get(RG, `port-${made}`), (e: { statusCode?: number }) => e.statusCode === 404);

  // A stopped server stays stopped: the VM is changed while deallocated and not started.
  await arm.stack.oscOk(['server', 'stop', srv.id], alice);
  await waitFor('SHUTOFF', async () => ((await nova(tAlice, 'GET', `/servers/${srv.id}`)).body.server.status === 'SHUTOFF' ? true : undefined), 120000);
  await arm.stack.oscOk(['server', 'add', 'port', srv.id, port.id], alice);
  const stopped = await settled(srv.id);
  assert.equal(stopped.status, 'SHUTOFF');
  assert.equal((await vmNics(srv.id)).length, 2);
  assert.equal((await net(tAlice, 'GET', `/ports/${port.id}`)).body.port.status, 'DOWN');

  await arm.stack.oscOk(['server', 'delete', '--wait', srv.id], alice);
  // The server's delete leaves the user's port, unbound (Nova keeps a port the user made).
  assert.equal((await net(tAlice, 'GET', `/ports/${port.id}`)).body.port.device_id, '');

  // A server deleted while an attach is under way (or just after): the port ends unbound either way.
  const srv2 = await arm.stack.oscJson<{ id: string }>(['server', 'create', '--flavor', '3', '--image', image, '--network', privateNet, '--wait', 'if-srv2'], alice);
  const att = await nova(tAlice, 'POST', `/servers/${srv2.id}/os-interface`, { interfaceAttachment: { port_id: port.id } });
  assert.equal(att.status, 200, att.text);
  assert.equal((await nova(tAlice, 'DELETE', `/servers/${srv2.id}`)).status, 204);
  await waitFor('server gone', async () => ((await nova(tAlice, 'GET', `/servers/${srv2.id}`)).status === 404 ? true : undefined), 120000);
  await waitFor('port unbound', async () => ((await net(tAlice, 'GET', `/ports/${port.id}`)).body.port.device_id === '' ? true : undefined), 60000);
  assert.equal((await net(tAlice, 'DELETE', `/ports/${port.id}`)).status, 204);
});
