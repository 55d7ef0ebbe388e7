// Floating IPs on Azure public IPs and routers as records, end to end (issue 13): through the real
// `openstack` CLI against the ARM emulator — floating ip create public, server add floating ip (the
// public IP on the NIC's IP configuration, the address in server show as `floating`), server remove
// floating ip, floating ip delete; a server's delete dissociates; Neutron's errors; races against the
// quota; no project sees or changes another's; the sweep removes an orphaned public IP after two passes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { startArmStack, waitFor, type ArmStack } from '../support/armStack';
import type { Creds } from '../support/stack';
import { aliceAndBob, countAll, imageId, networkId, race, type ProjectUser } from '../support/fixtures';
import { sweepNics } from '../../shared/timers/nics';

const RG = 'ops_resource_group';
let arm: ArmStack;
let alice: ProjectUser, bob: ProjectUser;
let tAlice: string, tBob: string, tAdmin: string;
let image: string, privateNet: string, publicNet: string;

before(async () => {
  arm = await startArmStack({ asyncDelayMs: 0 });
  ({ alice, bob, tAlice, tBob, tAdmin } = await aliceAndBob(arm.stack, ['fip-a', 'fipalice'], ['fip-b', 'fipbob']));
  [image, privateNet, publicNet] = await Promise.all([imageId(arm.stack, tAlice), networkId(arm.stack, tAlice), networkId(arm.stack, tAlice, 'public')]);
});
after(() => arm?.stop());

function net(token: string, method: string, p: string, body?: unknown) {
  return arm.stack.http(method, `/network/v2.0${p}`, { token, body });
}

async function boot(who: Creds, token: string, name: string): Promise<string> {
  const r = await arm.stack.http('POST', '/compute/v2.1/servers', { token, body: { server: { name, flavorRef: '3', imageRef: image, networks: [{ uuid: privateNet }] } } });
  assert.equal(r.status, 202, r.text);
  const id = r.body.server.id as string;
  await waitFor(`${name} ACTIVE`, async () => ((await arm.stack.http('GET', `/compute/v2.1/servers/${id}`, { token })).body.server?.status === 'ACTIVE' ? true : undefined), 120000);
  void who;
  return id;
}

const nicPublicIp = async (nic: string) => (await arm.network.networkInterfaces.get(RG, nic)).ipConfigurations?.[0]?.publicIPAddress?.id;

test('the external network, routers as records, and openstack router list', async () => {
  const ext = (await net(tAlice, 'GET', `/networks/${publicNet}`)).body.network;
  assert.equal(ext['router:external'], true);
  assert.deepEqual(await arm.stack.oscJson(['router', 'list'], alice), []);
  const r = await arm.stack.oscJson<{ id: string; name: string }>(['router', 'create', 'r1'], alice);
  await arm.stack.oscOk(['router', 'set', '--external-gateway', 'public', 'r1'], alice);
  await arm.stack.oscOk(['router', 'add', 'subnet', 'r1', 'private-subnet'], alice);
  const shown = (await net(tAlice, 'GET', `/routers/${r.id}`)).body.router;
  // The operator's subnet: no NAT gateway is made for it (snat.ts), so no gateway address.
  assert.deepEqual(shown.external_gateway_info, { network_id: publicNet, enable_snat: true, external_fixed_ips: [] });
  assert.equal(shown.status, 'ACTIVE');
  const listed = await arm.stack.oscJson<{ ID: string; Name: string }[]>(['router', 'list'], alice);
  assert.deepEqual(
    listed.map((x) => x.Name),
    ['r1'],
  );
  // Still has an interface: Neutron's 409; the gateway must be an external network.
  const inUse = await net(tAlice, 'DELETE', `/routers/${r.id}`);
  assert.equal(inUse.status, 409, inUse.text);
  assert.equal(inUse.body.NeutronError.type, 'RouterInUse');
  const badGw = await net(tAlice, 'PUT', `/routers/${r.id}`, { router: { external_gateway_info: { network_id: privateNet } } });
  assert.equal(badGw.status, 400, badGw.text);
  assert.equal((await net(tBob, 'GET', `/routers/${r.id}`)).status, 404);
  await arm.stack.oscOk(['router', 'remove', 'subnet', 'r1', 'private-subnet'], alice);
  await arm.stack.oscOk(['router', 'delete', 'r1'], alice);
  assert.deepEqual(await arm.stack.oscJson(['router', 'list'], alice), []);
  const ext2 = (await net(tAlice, 'GET', '/extensions')).body.extensions.map((e: { alias: string }) => e.alias);
  for (const a of ['router', 'floatingip-pools']) assert.ok(ext2.includes(a), a);
  const pools = (await net(tAlice, 'GET', '/floatingip_pools')).body.floatingip_pools;
  assert.deepEqual(
    pools.map((p: { network_id: string }) => p.network_id),
    [publicNet],
  );
});

test('floating ip create public, server add floating ip, server show, server remove floating ip, floating ip delete', async () => {
  const fip = await arm.stack.oscJson<{ id: string; floating_ip_address: string; status: string; port_id: string | null }>(['floating', 'ip', 'create', 'public'], alice);
  assert.match(fip.floating_ip_address, /^\d+\.\d+\.\d+\.\d+$/);
  assert.equal(fip.port_id, null);
  const pip = await arm.network.publicIPAddresses.get(RG, `fip-${fip.id}`);
  assert.equal(pip.ipAddress, fip.floating_ip_address);
  assert.equal(pip.sku?.name, 'Standard');
  assert.equal(pip.publicIPAllocationMethod, 'Static');
  assert.equal(pip.tags?.jacket, 'floating-ip');

  const srv = await boot(alice, tAlice, 'fip-vm');
  await arm.stack.oscOk(['server', 'add', 'floating', 'ip', srv, fip.floating_ip_address], alice);
  assert.equal((await nicPublicIp(srv))?.toLowerCase(), pip.id?.toLowerCase(), 'the public IP is on the NIC');
  const show = await arm.stack.http('GET', `/compute/v2.1/servers/${srv}`, { token: tAlice });
  const addrs = show.body.server.addresses.private as { addr: string; 'OS-EXT-IPS:type': string }[];
  assert.deepEqual(
    addrs.map((a) => a['OS-EXT-IPS:type']),
    ['fixed', 'floating'],
  );
  assert.equal(addrs[1].addr, fip.floating_ip_address);
  const cli = await arm.stack.oscJson<{ addresses: Record<string, string[]> | string }>(['server', 'show', srv], alice);
  assert.match(JSON.stringify(cli.addresses), new RegExp(fip.floating_ip_address.replace(/\./g, '\\.')));
  const port = (await net(tAlice, 'GET', `/ports?device_id=${srv}`)).body.ports[0];
  const listed = await arm.stack.oscJson<{ ID: string; Port: string; 'Fixed IP Address': string }[]>(['floating', 'ip', 'list'], alice);
  assert.equal(listed.find((x) => x.ID === fip.id)?.Port, port.id);
  const shown = (await net(tAlice, 'GET', `/floatingips/${fip.id}`)).body.floatingip;
  assert.equal(shown.status, 'ACTIVE');
  assert.equal(shown.fixed_ip_address, port.fixed_ips[0].ip_address);

  // A second floating IP on the same port: Neutron's 409, and Azure unchanged.
  const second = (await net(tAlice, 'POST', '/floatingips', { floatingip: { floating_network_id: publicNet } })).body.floatingip;
  const taken = await net(tAlice, 'PUT', `/floatingips/${second.id}`, { floatingip: { port_id: port.id } });
  assert.equal(taken.status, 409, taken.text);
  assert.equal(taken.body.NeutronError.type, 'FloatingIPPortAlreadyAssociated');
  assert.equal((await nicPublicIp(srv))?.toLowerCase(), pip.id?.toLowerCase());
  // A public IP on a NIC cannot go: deleting the floating IP takes it off first.
  await arm.stack.oscOk(['server', 'remove', 'floating', 'ip', srv, fip.floating_ip_address], alice);
  assert.equal(await nicPublicIp(srv), undefined, 'off the NIC');
  const after1 = await arm.stack.http('GET', `/compute/v2.1/servers/${srv}`, { token: tAlice });
  assert.deepEqual(
    after1.body.server.addresses.private.map((a: { 'OS-EXT-IPS:type': string }) => a['OS-EXT-IPS:type']),
    ['fixed'],
  );
  assert.equal((await net(tAlice, 'GET', `/floatingips/${fip.id}`)).body.floatingip.status, 'DOWN');

  // The second one now goes on; the server's delete dissociates it and the public IP stays.
  const moved = await net(tAlice, 'PUT', `/floatingips/${second.id}`, { floatingip: { port_id: port.id } });
  assert.equal(moved.status, 200, moved.text);
  assert.equal(moved.body.floatingip.port_id, port.id);
  await arm.stack.oscOk(['server', 'delete', '--wait', srv], alice);
  const orphaned = (await net(tAlice, 'GET', `/floatingips/${second.id}`)).body.floatingip;
  assert.equal(orphaned.port_id, null);
  assert.equal(orphaned.status, 'DOWN');
  assert.ok(await arm.network.publicIPAddresses.get(RG, `fip-${second.id}`));

  await arm.stack.oscOk(['floating', 'ip', 'delete', fip.floating_ip_address, second.floating_ip_address], alice);
  for (const id of [fip.id, second.id]) await assert.rejects(arm.network.publicIPAddresses.get(RG, `fip-${id}`), (e: { statusCode?: number }) => e.statusCode === 404);
  assert.deepEqual((await net(tAlice, 'GET', `/quotas/${alice.projectId}/details`)).body.quota.floatingip, { limit: 50, used: 0, reserved: 0 });
});

test('bad floating IP requests get Neutron’s errors and make nothing in Azure', async () => {
  const count = () => countAll(arm.network.publicIPAddresses.list(RG));
  const before = await count();
  const cases: [Record<string, unknown>, number, string][] = [
    [{ floating_network_id: privateNet }, 400, 'HTTPBadRequest'],
    [{ floating_network_id: randomUUID() }, 404, 'NetworkNotFound'],
    [{ floating_network_id: 'nope' }, 400, 'HTTPBadRequest'],
    [{ floating_network_id: publicNet, floating_ip_address: '20.1.2.3' }, 400, 'HTTPBadRequest'],
    [{ floating_network_id: publicNet, port_id: randomUUID() }, 404, 'PortNotFound'],
    [{ floating_network_id: publicNet, colour: 'red' }, 400, 'HTTPBadRequest'],
  ];
  for (const [body, status, type] of cases) {
    const r = await net(tAlice, 'POST', '/floatingips', { floatingip: body });
    assert.equal(r.status, status, `${JSON.stringify(body)}: ${r.text}`);
    assert.equal(r.body.NeutronError.type, type, JSON.stringify(body));
  }
  const internal = await net(tAlice, 'POST', '/floatingips', { floatingip: { floating_network_id: privateNet } });
  assert.equal(internal.body.NeutronError.message, `Bad floatingip request: Network ${privateNet} is not a valid external network.`);
  // A server cannot boot on the external network.
  const onPublic = await arm.stack.http('POST', '/compute/v2.1/servers', { token: tAlice, body: { server: { name: 'x', flavorRef: '3', imageRef: image, networks: [{ uuid: publicNet }] } } });
  assert.equal(onPublic.status, 400, onPublic.text);
  assert.equal(await count(), before);
});

test('racing creates against a floating IP quota with two left admit exactly two', async () => {
  assert.equal((await net(tAdmin, 'PUT', `/quotas/${bob.projectId}`, { quota: { floatingip: 2 } })).status, 200);
  const answers = await race(6, () => net(tBob, 'POST', '/floatingips', { floatingip: { floating_network_id: publicNet } }));
  assert.equal(answers.filter((r) => r.status === 201).length, 2, answers.map((r) => `${r.status} ${r.text}`).join('\n'));
  for (const r of answers.filter((x) => x.status !== 201)) assert.deepEqual(r.body.NeutronError, { type: 'OverQuota', message: "Quota exceeded for resources: ['floatingip'].", detail: '' });
  let bobs = 0;
  for await (const p of arm.network.publicIPAddresses.list(RG)) if (p.tags?.['jacket-project-id'] === bob.projectId) bobs++;
  assert.equal(bobs, 2, 'the refused ones made no public IP');
  assert.deepEqual((await net(tBob, 'GET', `/quotas/${bob.projectId}/details`)).body.quota.floatingip, { limit: 2, used: 2, reserved: 0 });
});

test('no project sees or changes another project’s floating IPs, or uses its ports', async () => {
  const mine = (await net(tAlice, 'POST', '/floatingips', { floatingip: { floating_network_id: publicNet } })).body.floatingip;
  assert.ok(!(await net(tBob, 'GET', '/floatingips')).body.floatingips.some((f: { id: string }) => f.id === mine.id));
  assert.equal((await net(tBob, 'GET', `/floatingips/${mine.id}`)).status, 404);
  assert.equal((await net(tBob, 'PUT', `/floatingips/${mine.id}`, { floatingip: { port_id: null } })).status, 404);
  assert.equal((await net(tBob, 'DELETE', `/floatingips/${mine.id}`)).status, 404);
  // Bob's floating IP onto Alice's server's port: the port is not his to see.
  const srv = await boot(alice, tAlice, 'fip-x');
  const port = (await net(tAlice, 'GET', `/ports?device_id=${srv}`)).body.ports[0];
  const his = (await net(tBob, 'GET', '/floatingips')).body.floatingips[0];
  const cross = await net(tBob, 'PUT', `/floatingips/${his.id}`, { floatingip: { port_id: port.id } });
  assert.equal(cross.status, 404, cross.text);
  assert.equal(cross.body.NeutronError.type, 'PortNotFound');
  assert.equal(await nicPublicIp(srv), undefined);
  assert.ok((await net(tAdmin, 'GET', '/floatingips')).body.floatingips.some((f: { id: string }) => f.id === mine.id));
});

test('Nova’s proxies: os-floating-ip-pools, os-floating-ips and the addFloatingIp / removeFloatingIp actions', async () => {
  const nova = (method: string, p: string, body?: unknown) => arm.stack.http(method, `/compute/v2.1${p}`, { token: tAlice, body });
  assert.deepEqual((await nova('GET', '/os-floating-ip-pools')).body, { floating_ip_pools: [{ name: 'public' }] });
  const made = await nova('POST', '/os-floating-ips', { pool: 'public' });
  assert.equal(made.status, 200, made.text);
  const f = made.body.floating_ip;
  assert.deepEqual(Object.keys(f).sort(), ['fixed_ip', 'id', 'instance_id', 'ip', 'pool']);
  assert.equal(f.pool, 'public');
  assert.equal((await nova('POST', '/os-floating-ips', { pool: 'nowhere' })).status, 404);
  assert.ok((await nova('GET', '/os-floating-ips')).body.floating_ips.some((x: { id: string }) => x.id === f.id));
  const srv = await boot(alice, tAlice, 'fip-nova');
  assert.equal((await nova('POST', `/servers/${srv}/action`, { addFloatingIp: { address: f.ip } })).status, 202);
  const shown = (await nova('GET', `/os-floating-ips/${f.id}`)).body.floating_ip;
  assert.equal(shown.instance_id, srv);
  assert.ok(shown.fixed_ip);
  assert.ok((await nicPublicIp(srv))?.toLowerCase().endsWith(`/fip-${f.id}`));
  const other = await boot(alice, tAlice, 'fip-nova-2');
  const notHis = await nova('POST', `/servers/${other}/action`, { removeFloatingIp: { address: f.ip } });
  assert.equal(notHis.status, 409, notHis.text);
  assert.equal(notHis.body.conflictingRequest.message, `Floating IP ${f.ip} is not associated with instance ${other}.`);
  assert.equal((await nova('POST', `/servers/${srv}/action`, { removeFloatingIp: { address: f.ip } })).status, 202);
  assert.equal(await nicPublicIp(srv), undefined);
  assert.equal((await nova('DELETE', `/os-floating-ips/${f.id}`)).status, 202);
  assert.equal((await nova('GET', `/os-floating-ips/${f.id}`)).status, 404);
});

test('the network sweep deletes a Jacket public IP whose floating IP record is gone, after two passes, and nothing else', async () => {
  const s = arm.stack.cloud.services;
  const orphan = randomUUID();
  const mk = (name: string, tags?: Record<string, string>) =>
    arm.network.publicIPAddresses.beginCreateOrUpdateAndWait(RG, name, { location: arm.emu.location, sku: { name: 'Standard' }, publicIPAllocationMethod: 'Static', tags }, { updateIntervalInMs: 50 });
  await mk(`fip-${orphan}`, { jacket: 'floating-ip', 'jacket-floating-ip-id': orphan, 'jacket-project-id': alice.projectId });
  await mk('operators-ip');
  const live = (await net(tAlice, 'POST', '/floatingips', { floatingip: { floating_network_id: publicNet } })).body.floatingip;
  const first = await sweepNics(s);
  assert.ok(!first.deletedNames.includes(`fip-${orphan}`));
  const second = await sweepNics(s);
  assert.ok(second.deletedNames.includes(`fip-${orphan}`), JSON.stringify(second));
  const left: string[] = [];
  for await (const p of arm.network.publicIPAddresses.list(RG)) left.push(p.name!);
  assert.ok(!left.includes(`fip-${orphan}`));
  for (const kept of ['operators-ip', `fip-${live.id}`]) assert.ok(left.includes(kept), `${kept} kept`);
});
