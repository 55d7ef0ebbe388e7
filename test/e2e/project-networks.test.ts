// Networks and subnets projects make (issue 13), end to end through the real `openstack` CLI: a network
// is a record, its first subnet makes the virtual network net-<id> (checked with @azure/arm-network),
// servers and ports go on it, routers join its subnets, deletes are refused while in use and then leave
// nothing in Azure; Neutron's IPAM errors; quotas under racing creates; cross-project isolation; the
// sweep removes a virtual network no record owns after two passes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { startArmStack, waitFor, type ArmStack } from '../support/armStack';
import { absentOnAzure, aliceAndBob, imageId, race, type ProjectUser } from '../support/fixtures';
import { REFERENCE } from '../support/paths';
import { sweepNics } from '../../shared/timers/nics';
import { countTableCalls } from '../support/tableCalls';

const RG = 'ops_resource_group';
const SAMPLES = path.join(REFERENCE, 'openstack/neutron-v2-samples');
let arm: ArmStack;
let alice: ProjectUser, bob: ProjectUser;
let tAlice: string, tBob: string, tAdmin: string;
let image: string;

const net = (token: string, method: string, p: string, body?: unknown) => arm.stack.http(method, `/network/v2.0${p}`, { token, body });

/** Every field we return exists in Neutron's API reference sample with a compatible JSON type. */
function assertNeutronShape(sample: string, key: string, body: Record<string, unknown>): void {
  const doc = JSON.parse(readFileSync(path.join(SAMPLES, sample), 'utf8'));
  const ref = Array.isArray(doc[key]) ? doc[key][0] : doc[key];
  const ours = Array.isArray(body[key]) ? (body[key] as Record<string, unknown>[]) : [body[key] as Record<string, unknown>];
  const kind = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);
  for (const item of ours) {
    for (const [k, v] of Object.entries(item)) {
      assert.ok(k in ref, `${key}.${k} is not a Neutron field (${sample})`);
      assert.ok(kind(v) === kind(ref[k]) || kind(v) === 'null' || kind(ref[k]) === 'null', `${key}.${k}: ${kind(v)} where Neutron has ${kind(ref[k])}`);
    }
  }
}

before(async () => {
  arm = await startArmStack({ asyncDelayMs: 0 });
  ({ alice, bob, tAlice, tBob, tAdmin } = await aliceAndBob(arm.stack, ['pn-a', 'pnalice'], ['pn-b', 'pnbob']));
  image = await imageId(arm.stack, tAlice);
});
after(() => arm?.stop());

test('network create, subnet create (a virtual network in Azure), server and port on it, router interface and gateway, deletes refused in use then clean', async () => {
  const n1 = await arm.stack.oscJson<{ id: string; status: string; shared: boolean; subnets: unknown }>(['network', 'create', 'n1'], alice);
  assert.equal(n1.status, 'ACTIVE');
  assert.equal(n1.shared, false);
  // No subnet yet: no virtual network either (Azure needs an address space).
  assert.ok(await absentOnAzure(arm.network.virtualNetworks.get(RG, `net-${n1.id}`)));
  const s1 = await arm.stack.oscJson<{ id: string; cidr: string; gateway_ip: string; allocation_pools: unknown; network_id: string }>(
    ['subnet', 'create', '--network', 'n1', '--subnet-range', '10.9.0.0/24', 's1'],
    alice,
  );
  assert.equal(s1.cidr, '10.9.0.0/24');
  assert.equal(s1.gateway_ip, '10.9.0.1');
  const shownSubnet = await net(tAlice, 'GET', `/subnets/${s1.id}`);
  assertNeutronShape('subnets/subnet-show-response.json', 'subnet', shownSubnet.body);
  // Azure reserves the first four addresses and the last: the default pool lies between.
  assert.deepEqual(shownSubnet.body.subnet.allocation_pools, [{ start: '10.9.0.4', end: '10.9.0.254' }]);
  const vnet = await arm.network.virtualNetworks.get(RG, `net-${n1.id}`);
  assert.deepEqual(vnet.addressSpace?.addressPrefixes, ['10.9.0.0/24']);
  assert.deepEqual(
    vnet.subnets?.map((x) => [x.name, x.addressPrefix]),
    [[`subnet-${s1.id}`, '10.9.0.0/24']],
  );
  assert.equal(vnet.tags?.jacket, 'network');
  assert.equal(vnet.tags?.['jacket-project-id'], alice.projectId);
  const shown = await net(tAlice, 'GET', `/networks/${n1.id}`);
  assertNeutronShape('networks/network-show-response.json', 'network', shown.body);
  assert.deepEqual(shown.body.network.subnets, [s1.id]);
  // A second subnet grows the address space; an overlapping one is Neutron's 400, Azure unchanged.
  const s2 = (await net(tAlice, 'POST', '/subnets', { subnet: { network_id: n1.id, cidr: '10.9.1.0/24', ip_version: 4, name: 's2' } })).body.subnet;
  assert.deepEqual((await arm.network.virtualNetworks.get(RG, `net-${n1.id}`)).addressSpace?.addressPrefixes, ['10.9.0.0/24', '10.9.1.0/24']);
  const overlap = await net(tAlice, 'POST', '/subnets', { subnet: { network_id: n1.id, cidr: '10.9.0.128/25', ip_version: 4 } });
  assert.equal(overlap.status, 400, overlap.text);
  assert.equal(overlap.body.NeutronError.message, `Invalid input for operation: Requested subnet with cidr: 10.9.0.128/25 for network: ${n1.id} overlaps with another subnet.`);
  assert.equal((await arm.network.virtualNetworks.get(RG, `net-${n1.id}`)).subnets?.length, 2);
  assert.equal((await net(tAlice, 'DELETE', `/subnets/${s2.id}`)).status, 204);
  assert.deepEqual((await arm.network.virtualNetworks.get(RG, `net-${n1.id}`)).addressSpace?.addressPrefixes, ['10.9.0.0/24']);

  // A server and a port on it, addresses from its pool.
  const srv = await arm.stack.oscJson<{ id: string }>(['server', 'create', '--flavor', '3', '--image', image, '--network', 'n1', 'on-n1'], alice);
  await waitFor('server ACTIVE', async () => ((await arm.stack.http('GET', `/compute/v2.1/servers/${srv.id}`, { token: tAlice })).body.server?.status === 'ACTIVE' ? true : undefined), 120000);
  const server = (await arm.stack.http('GET', `/compute/v2.1/servers/${srv.id}`, { token: tAlice })).body.server;
  assert.deepEqual(
    server.addresses.n1.map((a: { addr: string }) => a.addr),
    ['10.9.0.4'],
  );
  const port = await arm.stack.oscJson<{ id: string }>(['port', 'create', '--network', 'n1', '--fixed-ip', 'ip-address=10.9.0.20', 'p1'], alice);
  const nic = await arm.network.networkInterfaces.get(RG, `port-${port.id}`);
  assert.equal(nic.ipConfigurations?.[0].subnet?.id?.toLowerCase(), vnet.subnets?.[0].id?.toLowerCase());
  assert.equal(nic.ipConfigurations?.[0].privateIPAddress, '10.9.0.20');
  const outside = await net(tAlice, 'POST', '/ports', { port: { network_id: n1.id, fixed_ips: [{ ip_address: '10.9.0.2' }] } });
  assert.equal(outside.status, 400, outside.text);
  // A floating IP on the port.
  const fip = await arm.stack.oscJson<{ id: string; floating_ip_address: string }>(['floating', 'ip', 'create', '--port', port.id, 'public'], alice);
  assert.ok((await arm.network.networkInterfaces.get(RG, `port-${port.id}`)).ipConfigurations?.[0].publicIPAddress?.id);

  // A router joining the subnet, with the external gateway.
  await arm.stack.oscOk(['router', 'create', 'r1'], alice);
  await arm.stack.oscOk(['router', 'add', 'subnet', 'r1', 's1'], alice);
  await arm.stack.oscOk(['router', 'set', '--external-gateway', 'public', 'r1'], alice);
  const r1 = await arm.stack.oscJson<{ id: string; interfaces_info: { port_id: string; ip_address: string; subnet_id: string }[]; external_gateway_info: unknown }>(['router', 'show', 'r1'], alice);
  assert.match(JSON.stringify(r1.external_gateway_info), /network_id/);
  // The interface's port, as Neutron makes it: the subnet's gateway address, the router as its device.
  assert.equal(r1.interfaces_info.length, 1, JSON.stringify(r1.interfaces_info));
  const [iface] = r1.interfaces_info;
  assert.deepEqual([iface.subnet_id, iface.ip_address], [s1.id, '10.9.0.1']);
  const rPorts = (await net(tAlice, 'GET', `/ports?device_id=${r1.id}`)).body.ports;
  assert.deepEqual(
    rPorts.map((p: Record<string, unknown>) => [p.id, p.device_owner, p.network_id, p.status, p.fixed_ips]),
    [[iface.port_id, 'network:router_interface', n1.id, 'ACTIVE', [{ subnet_id: s1.id, ip_address: '10.9.0.1' }]]],
  );
  assertNeutronShape('ports/port-show-response.json', 'port', { port: rPorts[0] });
  assert.equal((await net(tAlice, 'GET', `/ports/${iface.port_id}`)).body.port.device_id, r1.id);
  assert.equal((await net(tAlice, 'GET', `/ports?device_owner=compute:nova&device_id=${r1.id}`)).body.ports.length, 0);
  assert.equal((await net(tBob, 'GET', `/ports/${iface.port_id}`)).status, 404);
  assert.equal((await net(tAdmin, 'GET', `/ports?device_id=${r1.id}`)).body.ports.length, 1);
  // Neutron's l3: not deleted through the port API; no record to change either; the router keeps it.
  const delIface = await net(tAlice, 'DELETE', `/ports/${iface.port_id}`);
  assert.equal(delIface.status, 409, delIface.text);
  assert.equal(delIface.body.NeutronError.type, 'ServicePortInUse');
  assert.equal(delIface.body.NeutronError.message, `Port ${iface.port_id} cannot be deleted directly via the port API: has device owner network:router_interface.`);
  assert.equal((await net(tAlice, 'PUT', `/ports/${iface.port_id}`, { port: { name: 'x' } })).status, 400);
  assert.equal((await arm.stack.oscJson<{ interfaces_info: unknown[] }>(['router', 'show', 'r1'], alice)).interfaces_info.length, 1);
  const twice = await arm.stack.osc(['router', 'add', 'subnet', 'r1', 's1'], alice);
  assert.notEqual(twice.code, 0);

  // In use: the network (ports) and the subnet (ports, the router's interface) are 409, Azure unchanged.
  const inUse = await arm.stack.osc(['network', 'delete', 'n1'], alice);
  assert.notEqual(inUse.code, 0);
  assert.match(inUse.stderr, /There are one or more ports still in use on the network/);
  const h = await net(tAlice, 'DELETE', `/networks/${n1.id}`);
  assert.equal(h.status, 409);
  assert.equal(h.body.NeutronError.type, 'NetworkInUse');
  const sIn = await net(tAlice, 'DELETE', `/subnets/${s1.id}`);
  assert.equal(sIn.status, 409);
  assert.equal(sIn.body.NeutronError.type, 'SubnetInUse');
  assert.ok(await arm.network.virtualNetworks.get(RG, `net-${n1.id}`));

  await arm.stack.oscOk(['floating', 'ip', 'delete', fip.id], alice);
  await arm.stack.oscOk(['server', 'delete', '--wait', srv.id], alice);
  await arm.stack.oscOk(['port', 'delete', port.id], alice);
  // The router's interface still holds the subnet.
  assert.equal((await net(tAlice, 'DELETE', `/networks/${n1.id}`)).status, 409);
  await arm.stack.oscOk(['router', 'remove', 'subnet', 'r1', 's1'], alice);
  await arm.stack.oscOk(['router', 'delete', 'r1'], alice);
  await arm.stack.oscOk(['network', 'delete', 'n1'], alice);
  assert.ok(await absentOnAzure(arm.network.virtualNetworks.get(RG, `net-${n1.id}`)));
  assert.equal((await net(tAlice, 'GET', `/networks/${n1.id}`)).status, 404);
  assert.equal((await net(tAlice, 'GET', `/subnets/${s1.id}`)).status, 404);
  const usage = (await net(tAlice, 'GET', `/quotas/${alice.projectId}/details`)).body.quota;
  assert.deepEqual([usage.network.used, usage.subnet.used, usage.router.used], [0, 0, 0]);
});

test("IPAM: Neutron's errors for a bad CIDR, pools, gateway and IPv6; nothing made", async () => {
  const n = (await net(tAlice, 'POST', '/networks', { network: { name: 'ipam' } })).body.network;
  const bad = async (subnet: Record<string, unknown>, status: number, message: string | RegExp) => {
    const r = await net(tAlice, 'POST', '/subnets', { subnet: { network_id: n.id, ip_version: 4, ...subnet } });
    assert.equal(r.status, status, r.text);
    if (typeof message === 'string') assert.equal(r.body.NeutronError.message, message);
    else assert.match(r.body.NeutronError.message, message);
  };
  await bad({ cidr: '10.9.0.0/33' }, 400, "Invalid input for cidr. Reason: '10.9.0.0/33' is not a valid IP subnet.");
  await bad({ cidr: '10.9.0.1/24' }, 400, "Invalid input for cidr. Reason: '10.9.0.1/24' isn't a recommended IP subnet. '10.9.0.0/24' is recommended.");
  await bad({ cidr: '10.9.0.0/30' }, 400, /smallest subnet is a \/29/);
  await bad({ cidr: 'fd00::/64', ip_version: 6 }, 400, /IPv6 subnets are not supported/);
  await bad({ cidr: '10.9.0.0/24', allocation_pools: [{ start: '10.9.0.2', end: '10.9.0.20' }] }, 400, /includes addresses Azure reserves/);
  await bad({ cidr: '10.9.0.0/24', allocation_pools: [{ start: '10.9.0.10', end: '10.9.1.20' }] }, 400, 'The allocation pool 10.9.0.10-10.9.1.20 spans beyond the subnet cidr 10.9.0.0/24.');
  await bad(
    {
      cidr: '10.9.0.0/24',
      allocation_pools: [
        { start: '10.9.0.10', end: '10.9.0.20' },
        { start: '10.9.0.15', end: '10.9.0.30' },
      ],
    },
    409,
    'Found overlapping allocation pools: 10.9.0.10-10.9.0.20 and 10.9.0.15-10.9.0.30 for subnet 10.9.0.0/24.',
  );
  await bad({ cidr: '10.9.0.0/24', gateway_ip: '10.9.0.9' }, 400, /always its first host address 10\.9\.0\.1/);
  await bad({ cidr: '10.9.0.0/24', dns_nameservers: ['8.8.8.8'] }, 400, /dns_nameservers cannot be set/);
  const cli = await arm.stack.osc(['subnet', 'create', '--network', n.id, '--subnet-range', '10.9.0.0/33', 'x'], alice);
  assert.notEqual(cli.code, 0);
  assert.match(cli.stderr, /is not a valid IP subnet/);
  assert.deepEqual((await net(tAlice, 'GET', `/networks/${n.id}`)).body.network.subnets, []);
  assert.ok(await absentOnAzure(arm.network.virtualNetworks.get(RG, `net-${n.id}`)));
  // Chosen pools are kept; two networks may use the same CIDR (two virtual networks).
  const s = (await net(tAlice, 'POST', '/subnets', { subnet: { network_id: n.id, ip_version: 4, cidr: '10.9.0.0/24', allocation_pools: [{ start: '10.9.0.100', end: '10.9.0.110' }] } })).body.subnet;
  assert.deepEqual(s.allocation_pools, [{ start: '10.9.0.100', end: '10.9.0.110' }]);
  const port = (await net(tAlice, 'POST', '/ports', { port: { network_id: n.id } })).body.port;
  assert.equal(port.fixed_ips[0].subnet_id, s.id);
  assert.equal((await net(tAlice, 'DELETE', `/ports/${port.id}`)).status, 204);
  assert.equal((await net(tAlice, 'DELETE', `/networks/${n.id}`)).status, 204);
  // Admin-only attributes: Neutron's attribute policy.
  const shared = await net(tAlice, 'POST', '/networks', { network: { name: 'x', shared: true } });
  assert.equal(shared.status, 403);
  assert.deepEqual(shared.body.NeutronError, { type: 'PolicyNotAuthorized', message: '(rule:create_network and rule:create_network:shared) is disallowed by policy', detail: '' });
});

test('another project neither sees nor changes a network; a shared one it sees but cannot change', async () => {
  const n = (await net(tAlice, 'POST', '/networks', { network: { name: 'alice-only' } })).body.network;
  const s = (await net(tAlice, 'POST', '/subnets', { subnet: { network_id: n.id, ip_version: 4, cidr: '192.168.5.0/24' } })).body.subnet;
  const show = await arm.stack.osc(['network', 'show', 'alice-only'], bob);
  assert.notEqual(show.code, 0);
  assert.equal((await net(tBob, 'GET', `/networks/${n.id}`)).status, 404);
  assert.equal((await net(tBob, 'GET', `/subnets/${s.id}`)).status, 404);
  assert.ok(!(await net(tBob, 'GET', '/subnets')).body.subnets.some((x: { id: string }) => x.id === s.id));
  const del = await net(tBob, 'DELETE', `/networks/${n.id}`);
  assert.equal(del.status, 404);
  assert.equal(del.body.NeutronError.type, 'NetworkNotFound');
  assert.equal((await net(tBob, 'DELETE', `/subnets/${s.id}`)).status, 404);
  assert.equal((await net(tBob, 'POST', '/subnets', { subnet: { network_id: n.id, ip_version: 4, cidr: '10.1.0.0/24' } })).status, 404);
  assert.equal((await net(tBob, 'POST', '/ports', { port: { network_id: n.id } })).status, 404);
  // Admins see it; making it shared (admin) shows it to bob, who still cannot change it.
  assert.equal((await net(tAdmin, 'GET', `/networks/${n.id}`)).status, 200);
  assert.equal((await net(tAdmin, 'PUT', `/networks/${n.id}`, { network: { shared: true } })).body.network.shared, true);
  assert.equal((await net(tBob, 'GET', `/networks/${n.id}`)).status, 200);
  const refused = await net(tBob, 'DELETE', `/networks/${n.id}`);
  assert.equal(refused.status, 403);
  assert.equal(refused.body.NeutronError.message, 'rule:delete_network is disallowed by policy');
  assert.ok(await arm.network.virtualNetworks.get(RG, `net-${n.id}`));
  // Bob uses the shared network: his port keeps it shared (Neutron's InvalidSharedSetting) and in use,
  // and his router's interface on its subnet keeps it in use after the port is gone.
  const bobPort = (await net(tBob, 'POST', '/ports', { port: { network_id: n.id } })).body.port;
  assert.equal(bobPort.fixed_ips[0].subnet_id, s.id);
  const unshare = await net(tAdmin, 'PUT', `/networks/${n.id}`, { network: { shared: false } });
  assert.equal(unshare.status, 409, unshare.text);
  assert.equal(unshare.body.NeutronError.type, 'InvalidSharedSetting');
  assert.equal((await net(tAlice, 'DELETE', `/networks/${n.id}`)).body.NeutronError.type, 'NetworkInUse');
  assert.equal((await net(tBob, 'DELETE', `/ports/${bobPort.id}`)).status, 204);
  const rb = (await net(tBob, 'POST', '/routers', { router: { name: 'bob-r' } })).body.router;
  assert.equal((await net(tBob, 'PUT', `/routers/${rb.id}/add_router_interface`, { subnet_id: s.id })).status, 200);
  assert.equal((await net(tAlice, 'DELETE', `/networks/${n.id}`)).status, 409);
  assert.equal((await net(tBob, 'PUT', `/routers/${rb.id}/remove_router_interface`, { subnet_id: s.id })).status, 200);
  assert.equal((await net(tBob, 'DELETE', `/routers/${rb.id}`)).status, 204);
  assert.equal((await net(tAlice, 'DELETE', `/networks/${n.id}`)).status, 204);
  assert.ok(await absentOnAzure(arm.network.virtualNetworks.get(RG, `net-${n.id}`)));
});

test('racing subnet creates with one CIDR on one network: exactly one is made, in the record and in Azure', async () => {
  const n = (await net(tAlice, 'POST', '/networks', { network: { name: 'race' } })).body.network;
  const answers = await race(5, () => net(tAlice, 'POST', '/subnets', { subnet: { network_id: n.id, ip_version: 4, cidr: '10.50.0.0/24' } }));
  assert.deepEqual(answers.map((r) => r.status).sort(), [201, 400, 400, 400, 400]);
  const made = answers.find((r) => r.status === 201)!.body.subnet;
  assert.deepEqual((await net(tAlice, 'GET', `/networks/${n.id}`)).body.network.subnets, [made.id]);
  assert.deepEqual(
    (await arm.network.virtualNetworks.get(RG, `net-${n.id}`)).subnets?.map((x) => x.name),
    [`subnet-${made.id}`],
  );
  assert.equal((await net(tAlice, 'GET', `/quotas/${alice.projectId}/details`)).body.quota.subnet.reserved, 0);
  assert.equal((await net(tAlice, 'DELETE', `/networks/${n.id}`)).status, 204);
});

test('a network without a subnet takes no server or port; admins cannot make project networks external', async () => {
  const n = (await net(tAlice, 'POST', '/networks', { network: { name: 'empty' } })).body.network;
  const srv = await arm.stack.http('POST', '/compute/v2.1/servers', { token: tAlice, body: { server: { name: 'x', flavorRef: '3', imageRef: image, networks: [{ uuid: n.id }] } } });
  assert.equal(srv.status, 400, srv.text);
  const port = await net(tAlice, 'POST', '/ports', { port: { network_id: n.id } });
  assert.equal(port.status, 404, port.text);
  assert.equal((await net(tAlice, 'DELETE', `/networks/${n.id}`)).status, 204);
  const ext = await net(tAdmin, 'POST', '/networks', { network: { name: 'ext', 'router:external': true } });
  assert.equal(ext.status, 400);
  assert.match(ext.body.NeutronError.message, /router:external cannot be set on a project network/);
  // The operator's catalog networks stay read-only whatever the setting: Neutron's 501 for the plugin.
  const priv = (await net(tAdmin, 'GET', '/networks?name=private')).body.networks[0];
  const catalogDelete = await net(tAdmin, 'DELETE', `/networks/${priv.id}`);
  assert.equal(catalogDelete.status, 501);
  assert.equal(catalogDelete.body.NotImplementedError.type, 'NotImplementedError');
  assert.equal((await net(tAdmin, 'PUT', `/subnets/${priv.subnets[0]}`, { subnet: { name: 'x' } })).status, 501);
  assert.ok(await arm.network.virtualNetworks.get(RG, 'jacket-vnet'));
  const asMember = await net(tAlice, 'POST', '/networks', { network: { name: 'ext', 'router:external': true } });
  assert.equal(asMember.status, 403);
  assert.equal(asMember.body.NeutronError.message, '(rule:create_network and rule:create_network:router:external) is disallowed by policy');
});

test('router interfaces by port: the port becomes the router’s (device network:router_interface), removing the interface deletes it; Neutron’s checks', async () => {
  const n = (await net(tAlice, 'POST', '/networks', { network: { name: 'rp' } })).body.network;
  const s = (await net(tAlice, 'POST', '/subnets', { subnet: { network_id: n.id, ip_version: 4, cidr: '10.40.0.0/24' } })).body.subnet;
  const port = (await net(tAlice, 'POST', '/ports', { port: { network_id: n.id, fixed_ips: [{ ip_address: '10.40.0.9' }] } })).body.port;
  const r = await arm.stack.oscJson<{ id: string }>(['router', 'create', 'rp1'], alice);
  const both = await net(tAlice, 'PUT', `/routers/${r.id}/add_router_interface`, { subnet_id: s.id, port_id: port.id });
  assert.equal(both.status, 400);
  assert.equal(both.body.NeutronError.message, 'Bad router request: Cannot specify both subnet-id and port-id.');
  assert.equal((await net(tAlice, 'PUT', `/routers/${r.id}/add_router_interface`, { port_id: randomUUID() })).body.NeutronError.type, 'PortNotFound');
  await arm.stack.oscOk(['router', 'add', 'port', 'rp1', port.id], alice);
  const bound = (await net(tAlice, 'GET', `/ports/${port.id}`)).body.port;
  assert.deepEqual([bound.device_id, bound.device_owner, bound.status], [r.id, 'network:router_interface', 'ACTIVE']);
  const shown = (await net(tAlice, 'GET', `/routers/${r.id}`)).body.router;
  assert.equal(shown.id, r.id);
  // The CLI's interfaces_info: the port once (its own record, not a second one from the router's).
  const info = (await arm.stack.oscJson<{ interfaces_info: { port_id: string; ip_address: string; subnet_id: string }[] }>(['router', 'show', 'rp1'], alice)).interfaces_info;
  assert.deepEqual(info, [{ port_id: port.id, ip_address: '10.40.0.9', subnet_id: s.id }]);
  // The same subnet again (by subnet) is Neutron's 400; a second router cannot take the port.
  const again = await net(tAlice, 'PUT', `/routers/${r.id}/add_router_interface`, { subnet_id: s.id });
  assert.equal(again.status, 400);
  const r2 = (await net(tAlice, 'POST', '/routers', { router: { name: 'rp2' } })).body.router;
  const taken = await net(tAlice, 'PUT', `/routers/${r2.id}/add_router_interface`, { port_id: port.id });
  assert.equal(taken.status, 409, taken.text);
  assert.equal(taken.body.NeutronError.type, 'PortInUse');
  // In use by the router: the subnet and the network stay.
  assert.equal((await net(tAlice, 'DELETE', `/subnets/${s.id}`)).status, 409);
  assert.equal((await net(tAlice, 'DELETE', `/networks/${n.id}`)).status, 409);
  // Bob cannot add his router to alice's subnet or port.
  const rb = (await net(tBob, 'POST', '/routers', { router: { name: 'rb' } })).body.router;
  assert.equal((await net(tBob, 'PUT', `/routers/${rb.id}/add_router_interface`, { subnet_id: s.id })).status, 404);
  assert.equal((await net(tBob, 'PUT', `/routers/${rb.id}/add_router_interface`, { port_id: port.id })).status, 404);
  await arm.stack.oscOk(['router', 'remove', 'port', 'rp1', port.id], alice);
  // Neutron deletes the router's port with the interface: the record and its NIC.
  assert.equal((await net(tAlice, 'GET', `/ports/${port.id}`)).status, 404);
  assert.ok(await absentOnAzure(arm.network.networkInterfaces.get(RG, `port-${port.id}`)));
  for (const id of [r.id, r2.id]) assert.equal((await net(tAlice, 'DELETE', `/routers/${id}`)).status, 204);
  assert.equal((await net(tBob, 'DELETE', `/routers/${rb.id}`)).status, 204);
  assert.equal((await net(tAlice, 'DELETE', `/networks/${n.id}`)).status, 204);
});

test('network and subnet quotas hold under racing creates and show in quota show', async () => {
  const carol = await arm.stack.makeProjectUser('pn-q', 'pncarol');
  const tCarol = await arm.stack.token(carol);
  assert.equal((await net(tAdmin, 'PUT', `/quotas/${carol.projectId}`, { quota: { network: 2, subnet: 2 } })).status, 200);
  const made = await race(5, (i) => net(tCarol, 'POST', '/networks', { network: { name: `q${i}` } }));
  assert.deepEqual(made.map((r) => r.status).sort(), [201, 201, 409, 409, 409]);
  const over = made.find((r) => r.status === 409)!;
  assert.deepEqual(over.body.NeutronError, { type: 'OverQuota', message: "Quota exceeded for resources: ['network'].", detail: '' });
  const netId = made.find((r) => r.status === 201)!.body.network.id;
  const subnets = await race(4, (i) => net(tCarol, 'POST', '/subnets', { subnet: { network_id: netId, ip_version: 4, cidr: `10.20.${i}.0/24` } }));
  assert.deepEqual(subnets.map((r) => r.status).sort(), [201, 201, 409, 409]);
  // Azure has exactly the two subnets the record has.
  assert.equal((await arm.network.virtualNetworks.get(RG, `net-${netId}`)).subnets?.length, 2);
  const rows = await arm.stack.oscJson<{ Resource: string; Limit: number; 'In Use': number }[]>(['quota', 'show', '--usage', '--network'], carol);
  for (const k of ['networks', 'subnets']) {
    const row = rows.find((x) => x.Resource === k);
    assert.deepEqual([row?.Limit, row?.['In Use']], [2, 2], JSON.stringify(rows));
  }
  const details = (await net(tCarol, 'GET', `/quotas/${carol.projectId}/details`)).body.quota;
  assert.deepEqual([details.network.used, details.subnet.used], [2, 2]);
  const cli = await arm.stack.osc(['network', 'create', 'q9'], carol);
  assert.notEqual(cli.code, 0);
  assert.match(cli.stderr, /Quota exceeded for resources: \['network'\]/);
});

test('the network sweep deletes a Jacket virtual network no record owns after two passes, never the operator’s', async () => {
  const s = arm.stack.cloud.services;
  const live = (await net(tAlice, 'POST', '/networks', { network: { name: 'live' } })).body.network;
  await net(tAlice, 'POST', '/subnets', { subnet: { network_id: live.id, ip_version: 4, cidr: '10.30.0.0/24' } });
  const orphan = randomUUID();
  await arm.network.virtualNetworks.beginCreateOrUpdateAndWait(
    RG,
    `net-${orphan}`,
    {
      location: arm.emu.location,
      tags: { jacket: 'network', 'jacket-network-id': orphan, 'jacket-project-id': alice.projectId },
      addressSpace: { addressPrefixes: ['10.31.0.0/24'] },
      subnets: [{ name: 'x', addressPrefix: '10.31.0.0/24' }],
    },
    { updateIntervalInMs: 50 },
  );
  const first = await sweepNics(s);
  assert.ok(!first.deletedNames.includes(`net-${orphan}`));
  const second = await sweepNics(s);
  assert.ok(second.deletedNames.includes(`net-${orphan}`), JSON.stringify(second));
  assert.ok(!second.deletedNames.includes(`net-${live.id}`));
  assert.ok(await arm.network.virtualNetworks.get(RG, `net-${live.id}`));
  assert.ok(await arm.network.virtualNetworks.get(RG, 'jacket-vnet'));
  assert.ok(await absentOnAzure(arm.network.virtualNetworks.get(RG, `net-${orphan}`)));
});

test('a router joining two project networks peers their virtual networks both ways; a new subnet is synced to the peer; removing the interface unpeers', async () => {
  const peerings = async (vnet: string) => {
    const out: { name: string; state: string; sync: string; remote: string[] }[] = [];
    for await (const p of arm.network.virtualNetworkPeerings.list(RG, vnet)) {
      out.push({ name: p.name!, state: p.peeringState!, sync: p.peeringSyncLevel!, remote: [...(p.remoteAddressSpace?.addressPrefixes ?? [])].sort() });
    }
    return out;
  };
  const a = await arm.stack.oscJson<{ id: string }>(['network', 'create', 'peer-a'], alice);
  const b = await arm.stack.oscJson<{ id: string }>(['network', 'create', 'peer-b'], alice);
  const c = await arm.stack.oscJson<{ id: string }>(['network', 'create', 'peer-c'], alice);
  await arm.stack.oscOk(['subnet', 'create', '--network', 'peer-a', '--subnet-range', '10.61.0.0/24', 'peer-a1'], alice);
  await arm.stack.oscOk(['subnet', 'create', '--network', 'peer-b', '--subnet-range', '10.62.0.0/24', 'peer-b1'], alice);
  // c has a subnet on the router's side that is fine, and another that overlaps a's space.
  await arm.stack.oscOk(['subnet', 'create', '--network', 'peer-c', '--subnet-range', '10.63.0.0/24', 'peer-c1'], alice);
  await arm.stack.oscOk(['subnet', 'create', '--network', 'peer-c', '--subnet-range', '10.61.0.0/25', 'peer-c2'], alice);
  await arm.stack.oscOk(['router', 'create', 'peer-r'], alice);
  await arm.stack.oscOk(['router', 'add', 'subnet', 'peer-r', 'peer-a1'], alice);
  assert.deepEqual(await peerings(`net-${a.id}`), [], 'one network on the router: nothing to peer');
  // The second network joins (through the API, its Table reads counted): the project networks are read
  // twice for the interface's checks and once for the peerings (the router's networks and the ones
  // its routers want, from one read).
  const peerR = (await net(tAlice, 'GET', '/routers?name=peer-r')).body.routers[0].id;
  const peerB1 = (await net(tAlice, 'GET', '/subnets?name=peer-b1')).body.subnets[0].id;
  const { value: joined, counts } = await countTableCalls(arm.stack.cloud.services, () => net(tAlice, 'PUT', `/routers/${peerR}/add_router_interface`, { subnet_id: peerB1 }));
  assert.equal(joined.status, 200, joined.text);
  assert.equal(counts.get('projectnetworks listEntities'), 3, JSON.stringify([...counts]));
  assert.deepEqual(await peerings(`net-${a.id}`), [{ name: `jacket-${b.id}`, state: 'Connected', sync: 'FullyInSync', remote: ['10.62.0.0/24'] }]);
  assert.deepEqual(await peerings(`net-${b.id}`), [{ name: `jacket-${a.id}`, state: 'Connected', sync: 'FullyInSync', remote: ['10.61.0.0/24'] }]);

  // A second subnet on b grows its address space: a's side learns it (Azure's sync of the peering).
  await arm.stack.oscOk(['subnet', 'create', '--network', 'peer-b', '--subnet-range', '10.64.0.0/24', 'peer-b2'], alice);
  assert.deepEqual(await peerings(`net-${a.id}`), [{ name: `jacket-${b.id}`, state: 'Connected', sync: 'FullyInSync', remote: ['10.62.0.0/24', '10.64.0.0/24'] }]);

  // c's virtual network overlaps a's (peer-c2 is inside 10.61.0.0/24): Azure cannot peer them, so the
  // interface is refused and nothing changes.
  const refused = await net(tAlice, 'PUT', `/routers/${(await net(tAlice, 'GET', '/routers?name=peer-r')).body.routers[0].id}/add_router_interface`, {
    subnet_id: (await net(tAlice, 'GET', '/subnets?name=peer-c1')).body.subnets[0].id,
  });
  assert.equal(refused.status, 400, refused.text);
  assert.match(refused.body.NeutronError.message, /cannot route between networks whose address spaces overlap/);
  const notJoined = await arm.stack.osc(['router', 'remove', 'subnet', 'peer-r', 'peer-c1'], alice);
  assert.notEqual(notJoined.code, 0, 'the refused interface was not kept');
  assert.deepEqual(await peerings(`net-${c.id}`), []);
  assert.equal((await peerings(`net-${a.id}`)).length, 1);

  // Taking b's interface off the router unpeers both sides.
  await arm.stack.oscOk(['router', 'remove', 'subnet', 'peer-r', 'peer-b1'], alice);
  assert.deepEqual(await peerings(`net-${a.id}`), []);
  assert.deepEqual(await peerings(`net-${b.id}`), []);
  // And back: peered again (no side left Disconnected in between).
  await arm.stack.oscOk(['router', 'add', 'subnet', 'peer-r', 'peer-b2'], alice);
  assert.equal((await peerings(`net-${b.id}`))[0]?.state, 'Connected');
  await arm.stack.oscOk(['router', 'remove', 'subnet', 'peer-r', 'peer-b2'], alice);
  await arm.stack.oscOk(['router', 'remove', 'subnet', 'peer-r', 'peer-a1'], alice);
  await arm.stack.oscOk(['router', 'delete', 'peer-r'], alice);
  await arm.stack.oscOk(['network', 'delete', 'peer-a', 'peer-b', 'peer-c'], alice);
  assert.ok(await absentOnAzure(arm.network.virtualNetworks.get(RG, `net-${a.id}`)));
});

test('a router with an external gateway SNATs its project subnets through a NAT gateway; enable_snat is admin-only; the NAT gateway goes with the last subnet', async () => {
  const natOf = async (vnet: string, subnet: string) => (await arm.network.subnets.get(RG, vnet, subnet)).natGateway?.id?.split('/').pop();
  const n = await arm.stack.oscJson<{ id: string }>(['network', 'create', 'snat-n'], alice);
  const sub = await arm.stack.oscJson<{ id: string }>(['subnet', 'create', '--network', 'snat-n', '--subnet-range', '10.71.0.0/24', 'snat-s'], alice);
  const r = await arm.stack.oscJson<{ id: string }>(['router', 'create', 'snat-r'], alice);
  const nat = `snat-${r.id}`;
  await arm.stack.oscOk(['router', 'set', '--external-gateway', 'public', 'snat-r'], alice);
  // A gateway alone makes nothing (a NAT gateway is billed by the hour): no project subnet yet.
  assert.ok(await absentOnAzure(arm.network.natGateways.get(RG, nat)));
  let gw = (await net(tAlice, 'GET', `/routers/${r.id}`)).body.router.external_gateway_info;
  assert.deepEqual(gw, { network_id: (await net(tAlice, 'GET', '/networks?name=public')).body.networks[0].id, enable_snat: true, external_fixed_ips: [] });

  await arm.stack.oscOk(['router', 'add', 'subnet', 'snat-r', 'snat-s'], alice);
  const made = await arm.network.natGateways.get(RG, nat);
  assert.equal(made.sku?.name, 'Standard');
  const pip = await arm.network.publicIPAddresses.get(RG, nat);
  assert.equal(made.publicIpAddresses?.[0]?.id?.toLowerCase(), pip.id?.toLowerCase());
  assert.equal(pip.tags?.jacket, 'router-snat');
  assert.equal(await natOf(`net-${n.id}`, `subnet-${sub.id}`), nat);
  const shown = await arm.stack.oscJson<{ external_gateway_info: { enable_snat: boolean; external_fixed_ips: { subnet_id: string; ip_address: string }[] } }>(['router', 'show', 'snat-r'], alice);
  assert.equal(shown.external_gateway_info.enable_snat, true);
  assert.equal(shown.external_gateway_info.external_fixed_ips[0]?.ip_address, pip.ipAddress);
  const extSubnet = (await net(tAlice, 'GET', '/subnets?name=public-subnet')).body.subnets[0]?.id;
  assert.equal(shown.external_gateway_info.external_fixed_ips[0]?.subnet_id, extSubnet);

  // enable_snat is admin-only (Neutron's create/update_router:external_gateway_info:enable_snat).
  const member = await arm.stack.osc(['router', 'set', '--external-gateway', 'public', '--disable-snat', 'snat-r'], alice);
  assert.notEqual(member.code, 0);
  const refused = await net(tAlice, 'PUT', `/routers/${r.id}`, { router: { external_gateway_info: { network_id: gw.network_id, enable_snat: false } } });
  assert.equal(refused.status, 403, refused.text);
  assert.equal(refused.body.NeutronError.type, 'PolicyNotAuthorized');
  assert.equal(await natOf(`net-${n.id}`, `subnet-${sub.id}`), nat, 'a refused request changes nothing');
  const badFlag = await net(tAdmin, 'PUT', `/routers/${r.id}`, { router: { external_gateway_info: { network_id: gw.network_id, enable_snat: 'maybe' } } });
  assert.equal(badFlag.status, 400, badFlag.text);
  assert.match(badFlag.body.NeutronError.message, /'maybe' cannot be converted to boolean/);

  // An admin turns SNAT off: the subnet leaves the NAT gateway, which goes with its public IP.
  await arm.stack.oscOk(['router', 'set', '--external-gateway', 'public', '--disable-snat', r.id]);
  assert.equal(await natOf(`net-${n.id}`, `subnet-${sub.id}`), undefined);
  assert.ok(await absentOnAzure(arm.network.natGateways.get(RG, nat)));
  assert.ok(await absentOnAzure(arm.network.publicIPAddresses.get(RG, nat)));
  gw = (await net(tAlice, 'GET', `/routers/${r.id}`)).body.router.external_gateway_info;
  assert.equal(gw.enable_snat, false);
  assert.deepEqual(gw.external_fixed_ips, []);
  // Neutron converts the flag with oslo's strict bool_from_string: ' Off ' is false, as it was.
  const off = await net(tAdmin, 'PUT', `/routers/${r.id}`, { router: { external_gateway_info: { network_id: gw.network_id, enable_snat: ' Off ' } } });
  assert.equal(off.status, 200, off.text);
  assert.equal(off.body.router.external_gateway_info.enable_snat, false);
  await arm.stack.oscOk(['router', 'set', '--external-gateway', 'public', '--enable-snat', r.id]);
  assert.equal(await natOf(`net-${n.id}`, `subnet-${sub.id}`), nat);

  // The last project subnet leaves: the NAT gateway and its public IP go; so on a cleared gateway.
  await arm.stack.oscOk(['router', 'remove', 'subnet', 'snat-r', 'snat-s'], alice);
  assert.equal(await natOf(`net-${n.id}`, `subnet-${sub.id}`), undefined);
  assert.ok(await absentOnAzure(arm.network.natGateways.get(RG, nat)));
  assert.ok(await absentOnAzure(arm.network.publicIPAddresses.get(RG, nat)));
  await arm.stack.oscOk(['router', 'add', 'subnet', 'snat-r', 'snat-s'], alice);
  assert.equal(await natOf(`net-${n.id}`, `subnet-${sub.id}`), nat);
  await arm.stack.oscOk(['router', 'unset', '--external-gateway', 'snat-r'], alice);
  assert.equal(await natOf(`net-${n.id}`, `subnet-${sub.id}`), undefined);
  assert.ok(await absentOnAzure(arm.network.natGateways.get(RG, nat)));
  assert.equal((await net(tAlice, 'GET', `/routers/${r.id}`)).body.router.external_gateway_info, null);
  await arm.stack.oscOk(['router', 'remove', 'subnet', 'snat-r', 'snat-s'], alice);
  await arm.stack.oscOk(['router', 'delete', 'snat-r'], alice);
  await arm.stack.oscOk(['network', 'delete', 'snat-n'], alice);
  assert.ok(await absentOnAzure(arm.network.virtualNetworks.get(RG, `net-${n.id}`)));
});

test('the network sweep deletes a router SNAT NAT gateway and its public IP whose router is gone, after two passes each; never the operator’s', async () => {
  const s = arm.stack.cloud.services;
  const gone = randomUUID();
  const name = `snat-${gone}`;
  const tags = { jacket: 'router-snat', 'jacket-router-id': gone, 'jacket-project-id': alice.projectId };
  const poll = { updateIntervalInMs: 50 };
  const pip = await arm.network.publicIPAddresses.beginCreateOrUpdateAndWait(RG, name, { location: arm.emu.location, tags, sku: { name: 'Standard' }, publicIPAllocationMethod: 'Static' }, poll);
  await arm.network.natGateways.beginCreateOrUpdateAndWait(RG, name, { location: arm.emu.location, tags, sku: { name: 'Standard' }, publicIpAddresses: [{ id: pip.id }] }, poll);
  const opPip = await arm.network.publicIPAddresses.beginCreateOrUpdateAndWait(
    RG,
    'operator-nat-ip',
    { location: arm.emu.location, sku: { name: 'Standard' }, publicIPAllocationMethod: 'Static' },
    poll,
  );
  await arm.network.natGateways.beginCreateOrUpdateAndWait(RG, 'operator-nat', { location: arm.emu.location, sku: { name: 'Standard' }, publicIpAddresses: [{ id: opPip.id }] }, poll);
  // Azure refuses to delete an address a NAT gateway holds.
  await assert.rejects(arm.network.publicIPAddresses.beginDeleteAndWait(RG, name, poll), /PublicIPAddressCannotBeDeleted|can not be deleted/);

  const first = await sweepNics(s);
  assert.ok(!first.deletedNames.includes(name), JSON.stringify(first));
  const second = await sweepNics(s);
  assert.ok(second.deletedNames.includes(name), JSON.stringify(second));
  assert.ok(await absentOnAzure(arm.network.natGateways.get(RG, name)));
  assert.ok(await arm.network.publicIPAddresses.get(RG, name), 'its address is judged from the next pass');
  await sweepNics(s);
  await sweepNics(s);
  assert.ok(await absentOnAzure(arm.network.publicIPAddresses.get(RG, name)));
  assert.ok(await arm.network.natGateways.get(RG, 'operator-nat'));
  assert.ok(await arm.network.publicIPAddresses.get(RG, 'operator-nat-ip'));
  await arm.network.natGateways.beginDeleteAndWait(RG, 'operator-nat', poll);
  await arm.network.publicIPAddresses.beginDeleteAndWait(RG, 'operator-nat-ip', poll);
});
