// Ports a project makes, as Azure NICs, and servers booted on them, end to end (issue 13): `openstack
// port create` makes the NIC (checked with @azure/arm-network), `server create --port` boots on it,
// the server's delete leaves the port (unbound, as Nova keeps a port the user made) and `port delete`
// removes the NIC; Neutron's errors; cross-project; the sweep removes an orphaned port NIC.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { startArmStack, waitFor, type ArmStack } from '../support/armStack';
import { aliceAndBob, countAll, imageId, networkId, race, type ProjectUser } from '../support/fixtures';
import { sweepNics } from '../../shared/timers/nics';

const RG = 'ops_resource_group';
let arm: ArmStack;
let alice: ProjectUser;
let tAlice: string, tBob: string;
let image: string, privateNet: string;

const net = (token: string, method: string, p: string, body?: unknown) => arm.stack.http(method, `/network/v2.0${p}`, { token, body });

before(async () => {
  arm = await startArmStack({ asyncDelayMs: 0 });
  ({ alice, tAlice, tBob } = await aliceAndBob(arm.stack, ['port-a', 'portalice'], ['port-b', 'portbob']));
  [image, privateNet] = await Promise.all([imageId(arm.stack, tAlice), networkId(arm.stack, tAlice)]);
});
after(() => arm?.stop());

test('port create makes a NIC; server create --port boots on it; the server’s delete leaves the port; port delete removes the NIC', async () => {
  const sg = await arm.stack.oscJson<{ id: string }>(['security', 'group', 'create', 'port-web'], alice);
  const port = await arm.stack.oscJson<{ id: string; mac_address: string; fixed_ips: { ip_address: string }[] | string; status: string; device_id: string }>(
    ['port', 'create', '--network', privateNet, '--fixed-ip', 'ip-address=10.0.0.50', '--security-group', 'port-web', 'p1'],
    alice,
  );
  assert.equal(port.status, 'DOWN');
  assert.equal(port.device_id, '');
  const nic = await arm.network.networkInterfaces.get(RG, `port-${port.id}`);
  assert.equal(nic.tags?.jacket, 'port');
  assert.equal(nic.ipConfigurations?.[0].privateIPAddress, '10.0.0.50');
  assert.equal(nic.networkSecurityGroup?.id?.toLowerCase(), (await arm.network.networkSecurityGroups.get(RG, `sg-${sg.id}`)).id?.toLowerCase());
  const shown = (await net(tAlice, 'GET', `/ports/${port.id}`)).body.port;
  assert.deepEqual(
    shown.fixed_ips.map((f: { ip_address: string }) => f.ip_address),
    ['10.0.0.50'],
  );
  assert.deepEqual(shown.security_groups, [sg.id]);
  // Azure gives a NIC its MAC when a VM runs on it: until then the port shows none.
  assert.equal(shown.mac_address, '');

  // The address is taken: a second port asking for it is refused, Azure unchanged.
  const dup = await net(tAlice, 'POST', '/ports', { port: { network_id: privateNet, fixed_ips: [{ ip_address: '10.0.0.50' }] } });
  assert.equal(dup.status, 409, dup.text);
  assert.equal(dup.body.NeutronError.type, 'IpAddressAlreadyAllocated');

  const srv = await arm.stack.oscJson<{ id: string }>(['server', 'create', '--flavor', '3', '--image', image, '--port', port.id, 'on-port'], alice);
  await waitFor('server ACTIVE', async () => ((await arm.stack.http('GET', `/compute/v2.1/servers/${srv.id}`, { token: tAlice })).body.server?.status === 'ACTIVE' ? true : undefined), 120000);
  const vm = await arm.compute.virtualMachines.get(RG, srv.id);
  const vmNics = vm.networkProfile?.networkInterfaces ?? [];
  assert.deepEqual(
    vmNics.map((n) => [n.id?.split('/').pop(), n.deleteOption]),
    [[`port-${port.id}`, 'Detach']],
  );
  const server = (await arm.stack.http('GET', `/compute/v2.1/servers/${srv.id}`, { token: tAlice })).body.server;
  assert.deepEqual(
    server.addresses.private.map((a: { addr: string }) => a.addr),
    ['10.0.0.50'],
  );
  assert.deepEqual(server.security_groups, [{ name: 'port-web' }]);
  const bound = (await net(tAlice, 'GET', `/ports/${port.id}`)).body.port;
  assert.equal(bound.device_id, srv.id);
  assert.equal(bound.status, 'ACTIVE');
  assert.match(bound.mac_address, /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
  // In use: neither another server nor a delete may take it.
  const again = await arm.stack.http('POST', '/compute/v2.1/servers', { token: tAlice, body: { server: { name: 'x', flavorRef: '3', imageRef: image, networks: [{ port: port.id }] } } });
  assert.equal(again.status, 409, again.text);
  const inUse = await net(tAlice, 'DELETE', `/ports/${port.id}`);
  assert.equal(inUse.status, 409, inUse.text);
  assert.equal(inUse.body.NeutronError.type, 'PortInUse');

  await arm.stack.oscOk(['server', 'delete', '--wait', srv.id], alice);
  const left = (await net(tAlice, 'GET', `/ports/${port.id}`)).body.port;
  assert.equal(left.device_id, '');
  assert.equal(left.status, 'DOWN');
  assert.ok(await arm.network.networkInterfaces.get(RG, `port-${port.id}`), 'the NIC stays with its port');

  await arm.stack.oscOk(['port', 'delete', port.id], alice);
  await assert.rejects(arm.network.networkInterfaces.get(RG, `port-${port.id}`), (e: { statusCode?: number }) => e.statusCode === 404);
  assert.equal((await net(tAlice, 'GET', `/ports/${port.id}`)).status, 404);
});

test('bad port requests get Neutron’s errors and make no NIC; another project cannot see or use a port', async () => {
  const count = () => countAll(arm.network.networkInterfaces.list(RG));
  const before = await count();
  const publicNet = await networkId(arm.stack, tAlice, 'public');
  const cases: [Record<string, unknown>, number, string][] = [
    [{ network_id: randomUUID() }, 404, 'NetworkNotFound'],
    [{ network_id: 'x' }, 400, 'HTTPBadRequest'],
    [{ network_id: publicNet }, 400, 'HTTPBadRequest'],
    [{ network_id: privateNet, fixed_ips: [{ ip_address: '10.9.9.9' }] }, 400, 'HTTPBadRequest'],
    [{ network_id: privateNet, fixed_ips: [{ ip_address: '10.0.0.1' }] }, 400, 'HTTPBadRequest'],
    [{ network_id: privateNet, security_groups: [randomUUID()] }, 404, 'SecurityGroupNotFound'],
    [{ network_id: privateNet, port_security_enabled: 'maybe' }, 400, 'HTTPBadRequest'],
    [{ network_id: privateNet, port_security_enabled: false, security_groups: [randomUUID()] }, 404, 'SecurityGroupNotFound'],
    [{ network_id: privateNet, port_security_enabled: false, allowed_address_pairs: [{ ip_address: '10.0.0.200' }] }, 409, 'AddressPairAndPortSecurityRequired'],
    [{ network_id: privateNet, allowed_address_pairs: Array.from({ length: 11 }, (_, i) => ({ ip_address: `10.0.1.${i}` })) }, 400, 'AllowedAddressPairExhausted'],
    [{ network_id: privateNet, allowed_address_pairs: [{ mac_address: 'fa:16:3e:00:00:01' }] }, 400, 'AllowedAddressPairsMissingIP'],
    [{ network_id: privateNet, allowed_address_pairs: [{ ip_address: '10.0.0.9' }, { ip_address: '10.0.0.9' }] }, 400, 'DuplicateAddressPairInRequest'],
    [{ network_id: privateNet, allowed_address_pairs: [{ ip_address: '10.0.0.9/24' }] }, 400, 'HTTPBadRequest'],
    [{ network_id: privateNet, allowed_address_pairs: [{ ip_address: '10.0.0.300' }] }, 400, 'HTTPBadRequest'],
    [{ network_id: privateNet, allowed_address_pairs: [{ ip_address: '10.0.0.9', colour: 'red' }] }, 400, 'HTTPBadRequest'],
    [{ network_id: privateNet, allowed_address_pairs: 'x' }, 400, 'HTTPBadRequest'],
    [{ network_id: privateNet, colour: 'red' }, 400, 'HTTPBadRequest'],
  ];
  for (const [body, status, type] of cases) {
    const r = await net(tAlice, 'POST', '/ports', { port: body });
    assert.equal(r.status, status, `${JSON.stringify(body)}: ${r.text}`);
    assert.equal(r.body.NeutronError.type, type, JSON.stringify(body));
  }
  assert.equal(await count(), before);

  const mine = (await net(tAlice, 'POST', '/ports', { port: { network_id: privateNet, name: 'mine' } })).body.port;
  assert.equal((await net(tBob, 'GET', `/ports/${mine.id}`)).status, 404);
  assert.equal((await net(tBob, 'PUT', `/ports/${mine.id}`, { port: { name: 'x' } })).status, 404);
  assert.equal((await net(tBob, 'DELETE', `/ports/${mine.id}`)).status, 404);
  const boot = await arm.stack.http('POST', '/compute/v2.1/servers', { token: tBob, body: { server: { name: 'x', flavorRef: '3', imageRef: image, networks: [{ port: mine.id }] } } });
  assert.equal(boot.status, 400, boot.text);
  const renamed = await net(tAlice, 'PUT', `/ports/${mine.id}`, { port: { name: 'renamed' } });
  assert.equal(renamed.body.port.name, 'renamed');
  assert.equal((await net(tAlice, 'PUT', `/ports/${mine.id}`, { port: { fixed_ips: [] } })).status, 400);
  assert.equal((await net(tAlice, 'DELETE', `/ports/${mine.id}`)).status, 204);
});

test('allowed address pairs and port security off: Azure IP forwarding on the NIC, no NSG without port security; Neutron’s checks', async () => {
  // A VIP shared by two ports (keepalived's pattern): the pair turns the NIC's IP forwarding on; its
  // security groups' NSG still filters.
  const vip = await arm.stack.oscJson<{ id: string; mac_address: string; allowed_address_pairs: unknown; port_security_enabled: boolean }>(
    ['port', 'create', '--network', privateNet, '--allowed-address', 'ip-address=10.0.0.200', '--allowed-address', 'ip-address=10.0.5.0/24,mac-address=fa:16:3e:11:22:33', 'vip-a'],
    alice,
  );
  const shown = (await net(tAlice, 'GET', `/ports/${vip.id}`)).body.port;
  assert.deepEqual(shown.allowed_address_pairs, [
    { ip_address: '10.0.0.200', mac_address: shown.mac_address },
    { ip_address: '10.0.5.0/24', mac_address: 'fa:16:3e:11:22:33' },
  ]);
  assert.equal(shown.port_security_enabled, true);
  let nic = await arm.network.networkInterfaces.get(RG, `port-${vip.id}`);
  assert.equal(nic.enableIPForwarding, true, 'Azure forwards for the pairs');
  assert.ok(nic.networkSecurityGroup?.id, 'the security groups still filter');
  // Neutron refuses to turn port security off under pairs (409) or groups the port keeps (409).
  const withPairs = await net(tAlice, 'PUT', `/ports/${vip.id}`, { port: { port_security_enabled: false, security_groups: [] } });
  assert.equal(withPairs.status, 409, withPairs.text);
  assert.equal(withPairs.body.NeutronError.type, 'AddressPairAndPortSecurityRequired');
  await arm.stack.oscOk(['port', 'set', '--no-allowed-address', vip.id], alice);
  nic = await arm.network.networkInterfaces.get(RG, `port-${vip.id}`);
  assert.equal(nic.enableIPForwarding, false, 'no pairs, no forwarding');
  assert.deepEqual((await net(tAlice, 'GET', `/ports/${vip.id}`)).body.port.allowed_address_pairs, []);
  const hasGroups = await net(tAlice, 'PUT', `/ports/${vip.id}`, { port: { port_security_enabled: false } });
  assert.equal(hasGroups.status, 409, hasGroups.text);
  assert.equal(hasGroups.body.NeutronError.type, 'PortSecurityPortHasSecurityGroup');
  const groupsOff = await net(tAlice, 'PUT', `/ports/${vip.id}`, { port: { port_security_enabled: false, security_groups: [randomUUID()] } });
  assert.equal(groupsOff.status, 404, groupsOff.text);
  // Both at once, as `port set --disable-port-security --no-security-group` sends it: the NSG goes.
  await arm.stack.oscOk(['port', 'set', '--disable-port-security', '--no-security-group', vip.id], alice);
  nic = await arm.network.networkInterfaces.get(RG, `port-${vip.id}`);
  assert.equal(nic.networkSecurityGroup, undefined, 'no NSG: Neutron filters nothing on such a port');
  assert.equal(nic.enableIPForwarding, true);
  const off = (await net(tAlice, 'GET', `/ports/${vip.id}?fields=port_security_enabled&fields=security_groups`)).body.port;
  assert.deepEqual(off, { port_security_enabled: false, security_groups: [] });
  assert.equal((await net(tAlice, 'GET', `/ports?port_security_enabled=false&name=vip-a`)).body.ports.length, 1);
  const named = await net(tAlice, 'PUT', `/ports/${vip.id}`, { port: { security_groups: [(await arm.stack.oscJson<{ id: string }>(['security', 'group', 'show', 'default'], alice)).id] } });
  assert.equal(named.status, 400, named.text);
  assert.equal(named.body.NeutronError.type, 'PortSecurityAndIPRequiredForSecurityGroups');

  // Made without port security: no groups (not even default), no NSG, forwarding on; a server boots on
  // it, and Nova's addSecurityGroup is refused as Nova refuses it for such a port.
  const open = await arm.stack.oscJson<{ id: string }>(['port', 'create', '--network', privateNet, '--disable-port-security', 'open-a'], alice);
  const openShown = (await net(tAlice, 'GET', `/ports/${open.id}`)).body.port;
  assert.deepEqual([openShown.port_security_enabled, openShown.security_groups], [false, []]);
  nic = await arm.network.networkInterfaces.get(RG, `port-${open.id}`);
  assert.deepEqual([nic.networkSecurityGroup, nic.enableIPForwarding], [undefined, true]);
  const srv = await arm.stack.oscJson<{ id: string }>(['server', 'create', '--flavor', '3', '--image', image, '--port', open.id, '--wait', 'open-srv'], alice);
  const add = await arm.stack.http('POST', `/compute/v2.1/servers/${srv.id}/action`, { token: tAlice, body: { addSecurityGroup: { name: 'default' } } });
  assert.equal(add.status, 400, add.text);
  assert.match(add.body.badRequest.message, /requires port_security_enabled/);
  // Turned back on: the port has no groups, so Azure gets the deny-all NSG and forwarding goes off.
  await arm.stack.oscOk(['port', 'set', '--enable-port-security', open.id], alice);
  nic = await arm.network.networkInterfaces.get(RG, `port-${open.id}`);
  assert.ok(nic.networkSecurityGroup?.id, 'a port with security and no groups passes nothing');
  assert.equal(nic.enableIPForwarding, false);
  await arm.stack.oscOk(['server', 'delete', '--wait', srv.id], alice);
  await arm.stack.oscOk(['port', 'delete', open.id, vip.id], alice);
});

test('several fixed IPs on a port: one Azure IP configuration each; a server booted on it shows them all; Neutron’s checks', async () => {
  const port = await arm.stack.oscJson<{ id: string }>(
    [
      'port',
      'create',
      '--network',
      privateNet,
      '--fixed-ip',
      'ip-address=10.0.0.60',
      '--fixed-ip',
      `subnet=${(await net(tAlice, 'GET', '/subnets')).body.subnets.find((x: { network_id: string }) => x.network_id === privateNet).id}`,
      '--fixed-ip',
      'ip-address=10.0.0.62',
      'multi',
    ],
    alice,
  );
  const shown = (await net(tAlice, 'GET', `/ports/${port.id}`)).body.port;
  const addrs = (shown.fixed_ips as { ip_address: string }[]).map((f) => f.ip_address);
  assert.equal(addrs.length, 3);
  assert.equal(addrs[0], '10.0.0.60');
  assert.equal(addrs[2], '10.0.0.62');
  const nic = await arm.network.networkInterfaces.get(RG, `port-${port.id}`);
  assert.deepEqual(
    nic.ipConfigurations?.map((c) => [c.name, c.primary, c.privateIPAddress, c.privateIPAllocationMethod]),
    [
      ['ipconfig1', true, '10.0.0.60', 'Static'],
      ['ipconfig2', false, addrs[1], 'Dynamic'],
      ['ipconfig3', false, '10.0.0.62', 'Static'],
    ],
  );
  // Filtering by any of them finds the port.
  assert.equal((await net(tAlice, 'GET', `/ports?fixed_ips=ip_address=10.0.0.62`)).body.ports[0]?.id, port.id);
  // An address another port holds, or one named twice: nothing made.
  const taken = await net(tAlice, 'POST', '/ports', { port: { network_id: privateNet, fixed_ips: [{ ip_address: '10.0.0.70' }, { ip_address: '10.0.0.62' }] } });
  assert.equal(taken.status, 409, taken.text);
  assert.equal(taken.body.NeutronError.type, 'IpAddressAlreadyAllocated');
  const twice = await net(tAlice, 'POST', '/ports', { port: { network_id: privateNet, fixed_ips: [{ ip_address: '10.0.0.71' }, { ip_address: '10.0.0.71' }] } });
  assert.equal(twice.status, 400, twice.text);
  assert.match(twice.body.NeutronError.message, /Duplicate IP address '10.0.0.71'/);

  const srv = await arm.stack.oscJson<{ id: string }>(['server', 'create', '--flavor', '3', '--image', image, '--port', port.id, '--wait', 'multi-srv'], alice);
  const server = (await arm.stack.http('GET', `/compute/v2.1/servers/${srv.id}`, { token: tAlice })).body.server;
  assert.deepEqual(
    server.addresses.private.map((a: { addr: string; 'OS-EXT-IPS:type': string }) => [a.addr, a['OS-EXT-IPS:type']]),
    addrs.map((a) => [a, 'fixed']),
  );
  // A floating IP goes on the first address only (the NIC's primary IP configuration).
  const fip = await arm.stack.oscJson<{ id: string }>(['floating', 'ip', 'create', 'public'], alice);
  const second = await net(tAlice, 'PUT', `/floatingips/${fip.id}`, { floatingip: { port_id: port.id, fixed_ip_address: addrs[1] } });
  assert.equal(second.status, 400, second.text);
  await arm.stack.oscOk(['floating', 'ip', 'delete', fip.id], alice);
  await arm.stack.oscOk(['server', 'delete', '--wait', srv.id], alice);
  await arm.stack.oscOk(['port', 'delete', port.id], alice);
});

test('two servers racing for one port: exactly one boots on it, the other gets Nova’s 409 and nothing is left of it', async () => {
  const port = (await net(tAlice, 'POST', '/ports', { port: { network_id: privateNet } })).body.port;
  const answers = await race(4, (i) =>
    arm.stack.http('POST', '/compute/v2.1/servers', { token: tAlice, body: { server: { name: `race-${i}`, flavorRef: '3', imageRef: image, networks: [{ port: port.id }] } } }),
  );
  const won = answers.filter((r) => r.status === 202);
  assert.equal(won.length, 1, answers.map((r) => `${r.status} ${r.text}`).join('\n'));
  for (const r of answers.filter((x) => x.status !== 202)) assert.equal(r.status, 409, r.text);
  const servers = (await arm.stack.http('GET', '/compute/v2.1/servers?name=race-', { token: tAlice })).body.servers;
  assert.deepEqual(
    servers.map((x: { id: string }) => x.id),
    [won[0].body.server.id],
  );
  assert.equal((await net(tAlice, 'GET', `/ports/${port.id}`)).body.port.device_id, won[0].body.server.id);
  await arm.stack.oscOk(['server', 'delete', '--wait', won[0].body.server.id], alice);
  assert.equal((await net(tAlice, 'DELETE', `/ports/${port.id}`)).status, 204);
});

test('the NIC sweep deletes a port NIC whose record is gone, after two passes, and keeps one with a record', async () => {
  const s = arm.stack.cloud.services;
  const live = (await net(tAlice, 'POST', '/ports', { port: { network_id: privateNet } })).body.port;
  const orphan = randomUUID();
  const subnet = (await arm.network.networkInterfaces.get(RG, `port-${live.id}`)).ipConfigurations![0].subnet!.id!;
  await arm.network.networkInterfaces.beginCreateOrUpdateAndWait(
    RG,
    `port-${orphan}`,
    { location: arm.emu.location, tags: { jacket: 'port', 'jacket-port-id': orphan, 'jacket-project-id': alice.projectId }, ipConfigurations: [{ name: 'ipconfig1', subnet: { id: subnet } }] },
    { updateIntervalInMs: 50 },
  );
  const first = await sweepNics(s);
  assert.ok(!first.deletedNames.includes(`port-${orphan}`));
  const second = await sweepNics(s);
  assert.ok(second.deletedNames.includes(`port-${orphan}`), JSON.stringify(second));
  assert.ok(!second.deletedNames.includes(`port-${live.id}`));
  assert.ok((second.skipped['port-record'] ?? 0) >= 1, JSON.stringify(second));
});

test('the port quota holds under racing creates (POST /ports, server create, interface attach) and usage shows the true count', async () => {
  const carol = await arm.stack.makeProjectUser('port-q', 'portcarol');
  const tCarol = await arm.stack.token(carol);
  const tAdmin = await arm.stack.token();
  const used = async () => (await net(tCarol, 'GET', `/quotas/${carol.projectId}/details`)).body.quota.port;
  assert.deepEqual(await used(), { limit: 500, used: 0, reserved: 0 });
  assert.equal((await net(tAdmin, 'PUT', `/quotas/${carol.projectId}`, { quota: { port: 2 } })).status, 200);
  // Six racing creates with two left: exactly two ports, the others Neutron's 409 and no NIC.
  const answers = await race(6, (i) => net(tCarol, 'POST', '/ports', { port: { network_id: privateNet, name: `q${i}` } }));
  assert.deepEqual(answers.map((a) => a.status).sort(), [201, 201, 409, 409, 409, 409], answers.map((a) => a.text.slice(0, 160)).join(' | '));
  for (const a of answers.filter((x) => x.status === 409)) {
    assert.equal(a.body.NeutronError.type, 'OverQuota');
    assert.equal(a.body.NeutronError.message, "Quota exceeded for resources: ['port'].");
  }
  const made = answers.filter((a) => a.status === 201).map((a) => a.body.port.id as string);
  const nics: string[] = [];
  for await (const n of arm.network.networkInterfaces.list(RG)) if (n.tags?.['jacket-project-id'] === carol.projectId) nics.push(n.name!);
  assert.deepEqual(nics.sort(), made.map((id) => `port-${id}`).sort(), 'the refused creates made no NIC');
  assert.deepEqual(await used(), { limit: 2, used: 2, reserved: 0 });
  // A server needs a port for its NIC: Nova's 403, and nothing is made.
  const srv = await arm.stack.http('POST', '/compute/v2.1/servers', { token: tCarol, body: { server: { name: 'q-srv', flavorRef: '3', imageRef: image, networks: [{ uuid: privateNet }] } } });
  assert.equal(srv.status, 403, srv.text);
  assert.equal(srv.body.forbidden.message, 'Maximum number of ports exceeded');
  assert.equal((await arm.stack.http('GET', '/compute/v2.1/servers', { token: tCarol })).body.servers.length, 0);
  // A deleted port gives its place back; the server then boots and its port counts.
  assert.equal((await net(tCarol, 'DELETE', `/ports/${made[0]}`)).status, 204);
  assert.deepEqual(await used(), { limit: 2, used: 1, reserved: 0 });
  const ok = await arm.stack.http('POST', '/compute/v2.1/servers', { token: tCarol, body: { server: { name: 'q-srv', flavorRef: '3', imageRef: image, networks: [{ uuid: privateNet }] } } });
  assert.equal(ok.status, 202, ok.text);
  await waitFor(
    'server ACTIVE',
    async () => ((await arm.stack.http('GET', `/compute/v2.1/servers/${ok.body.server.id}`, { token: tCarol })).body.server?.status === 'ACTIVE' ? true : undefined),
    120000,
  );
  assert.deepEqual(await used(), { limit: 2, used: 2, reserved: 0 });
  // An interface attach on a new network port is over quota too (Nova relays Neutron's refusal).
  const att = await arm.stack.http('POST', `/compute/v2.1/servers/${ok.body.server.id}/os-interface`, { token: tCarol, body: { interfaceAttachment: { net_id: privateNet } } });
  assert.equal(att.status, 403, att.text);
  assert.equal(att.body.forbidden.message, 'Maximum number of ports exceeded');
  assert.equal((await arm.stack.http('GET', `/compute/v2.1/servers/${ok.body.server.id}`, { token: tCarol })).body.server['OS-EXT-STS:task_state'], null);
  // The server's delete gives its port back; the count agrees with the records.
  assert.equal((await arm.stack.http('DELETE', `/compute/v2.1/servers/${ok.body.server.id}`, { token: tCarol })).status, 204);
  await waitFor('server gone', async () => ((await arm.stack.http('GET', `/compute/v2.1/servers/${ok.body.server.id}`, { token: tCarol })).status === 404 ? true : undefined), 120000);
  assert.deepEqual(await used(), { limit: 2, used: 1, reserved: 0 });
  assert.equal((await net(tCarol, 'GET', '/ports')).body.ports.length, 1);
  assert.equal((await net(tCarol, 'DELETE', `/ports/${made[1]}`)).status, 204);
  assert.deepEqual(await used(), { limit: 2, used: 0, reserved: 0 });
});
