// Compute 2.37 (docs/microversions.md, docs/servers.md): `networks` required at create, "auto" (the one
// network available to the project; 409 with several, Nova's 400 with none, as Nova with a Neutron
// without auto-allocated-topology) and "none" (no port: the VM's one NIC sits in Jacket's isolated
// subnet under a deny-all NSG). Through the HTTP API, bodies checked against Nova's schemas, the ARM
// emulator's resources read back, and the real `openstack` CLI (`--nic none` / `--nic auto`).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startArmStack, waitFor, type ArmStack } from '../support/armStack';
import { assertNovaResponse } from '../support/oracle';
import type { Creds } from '../support/stack';

const RG = 'ops_resource_group';

let arm: ArmStack;
let alice: Creds & { projectId: string; userId: string };
let tAlice: string;
let image: string;
let net: string;

before(async () => {
  arm = await startArmStack({ asyncDelayMs: 0 });
  alice = await arm.stack.makeProjectUser('mv237-a', 'mv237alice');
  tAlice = await arm.stack.token(alice);
  image = (await arm.stack.http('GET', '/image/v2/images?name=ubuntu-22.04', { token: tAlice })).body.images[0].id;
  net = (await arm.stack.http('GET', '/network/v2.0/networks?name=private', { token: tAlice })).body.networks[0].id;
});
after(async () => {
  arm?.control.close();
  await arm?.stop();
});

const nova = (a: ArmStack, token: string, mv: string) => (method: string, p: string, body?: unknown) =>
  a.stack.http(method, `/compute/v2.1${p}`, { token, body, headers: { 'OpenStack-API-Version': `compute ${mv}` } });
const msg = (body: unknown) => Object.values(body as Record<string, { message: string }>)[0].message;
const exists = (p: Promise<unknown>) =>
  p.then(
    () => true,
    (e: { statusCode?: number }) => {
      if (e.statusCode === 404) return false;
      throw e;
    },
  );

async function active(id: string) {
  return waitFor(
    `server ${id} ACTIVE`,
    async () => {
      const s = (await nova(arm, tAlice, '2.37')('GET', `/servers/${id}`)).body?.server;
      if (s?.status === 'ERROR') throw new Error(`server ${id} went ERROR: ${JSON.stringify(s.fault)}`);
      return s?.status === 'ACTIVE' && s['OS-EXT-STS:task_state'] === null ? s : undefined;
    },
    120000,
  );
}

async function gone(id: string) {
  assert.equal((await nova(arm, tAlice, '2.37')('DELETE', `/servers/${id}`)).status, 204);
  await waitFor(`server ${id} gone`, async () => ((await nova(arm, tAlice, '2.37')('GET', `/servers/${id}`)).status === 404 ? true : undefined), 120000);
}

const server = (name: string, networks?: unknown) => ({ server: { name, flavorRef: '1', imageRef: image, ...(networks === undefined ? {} : { networks }) } });

test('2.37: networks is required; below it an omitted networks boots on the project network', async () => {
  const old = await nova(arm, tAlice, '2.36')('POST', '/servers', server('mv236'));
  assert.equal(old.status, 202, old.text);
  const s = await active(old.body.server.id);
  assert.deepEqual(Object.keys(s.addresses), ['private']);
  await gone(s.id);

  const none = await nova(arm, tAlice, '2.37')('POST', '/servers', server('mv237'));
  assert.equal(none.status, 400, none.text);
  assert.match(msg(none.body), /^Invalid input for field\/attribute server\. Value: .*'networks' is a required property$/);
  // At 2.37 the list items have no tag (Nova's schema; back at 2.42), and only these two strings.
  const tagged = await nova(arm, tAlice, '2.37')('POST', '/servers', server('t', [{ uuid: net, tag: 'x' }]));
  assert.equal(tagged.status, 400, tagged.text);
  const other = await nova(arm, tAlice, '2.37')('POST', '/servers', server('o', 'some'));
  assert.equal(other.status, 400, other.text);
  assert.match(msg(other.body), /^Invalid input for field\/attribute networks/);
  const list = (await nova(arm, tAlice, '2.37')('GET', '/servers')).body.servers as { name: string }[];
  assert.deepEqual(
    list.filter((x) => ['mv237', 't', 'o'].includes(x.name)),
    [],
  );
});

test('2.37: networks "auto" boots on the one network available to the project', async () => {
  const r = await nova(arm, tAlice, '2.37')('POST', '/servers', server('auto', 'auto'));
  assert.equal(r.status, 202, r.text);
  assertNovaResponse('servers', 'ServersController', 'create', '2.37', r.body);
  const s = await active(r.body.server.id);
  assert.deepEqual(Object.keys(s.addresses), ['private']);
  const ports = (await arm.stack.http('GET', `/network/v2.0/ports?device_id=${s.id}`, { token: tAlice })).body.ports;
  assert.equal(ports.length, 1);
  assert.equal(ports[0].network_id, net);
  await gone(s.id);
});

test('2.37: networks "none" boots with no port: addresses {}, no interface, the NIC isolated under a deny-all NSG', async () => {
  const r = await nova(arm, tAlice, '2.37')('POST', '/servers', server('none', 'none'));
  assert.equal(r.status, 202, r.text);
  assertNovaResponse('servers', 'ServersController', 'create', '2.37', r.body);
  const s = await active(r.body.server.id);
  assertNovaResponse('servers', 'ServersController', 'show', '2.37', { server: s });
  assert.deepEqual(s.addresses, {});
  const ifs = await nova(arm, tAlice, '2.37')('GET', `/servers/${s.id}/os-interface`);
  assert.equal(ifs.status, 200, ifs.text);
  assert.deepEqual(ifs.body.interfaceAttachments, []);
  assert.deepEqual((await arm.stack.http('GET', `/network/v2.0/ports?device_id=${s.id}`, { token: tAlice })).body.ports, []);

  // On Azure: the VM's one NIC, named by the server id, in the isolated subnet, with the deny-all NSG.
  const vm = await arm.compute.virtualMachines.get(RG, s.id);
  const nicIds = (vm.networkProfile?.networkInterfaces ?? []).map((n) => n.id!.split('/').pop());
  assert.deepEqual(nicIds, [s.id]);
  const nic = await arm.network.networkInterfaces.get(RG, s.id);
  assert.equal(nic.tags?.jacket, 'server');
  assert.equal(nic.tags?.['jacket-server-id'], s.id);
  const ipc = nic.ipConfigurations![0];
  assert.match(ipc.subnet!.id!, /\/virtualNetworks\/jacket-isolated\/subnets\/no-network$/);
  assert.equal(ipc.publicIPAddress, undefined);
  assert.match(nic.networkSecurityGroup!.id!, /\/networkSecurityGroups\/jacket-isolated-deny-all$/);
  const nsg = await arm.network.networkSecurityGroups.get(RG, 'jacket-isolated-deny-all');
  assert.equal(nsg.tags?.jacket, 'isolation');
  const rules = (nsg.securityRules ?? []).map((x) => [x.direction, x.access, x.priority, x.protocol, x.sourceAddressPrefix, x.destinationAddressPrefix, x.destinationPortRange]);
  assert.deepEqual(rules.sort(), [
    ['Inbound', 'Deny', 100, '*', '*', '*', '*'],
    ['Outbound', 'Deny', 100, '*', '*', '*', '*'],
  ]);
  const subnet = await arm.network.subnets.get(RG, 'jacket-isolated', 'no-network');
  assert.equal(subnet.defaultOutboundAccess, false);
  assert.match(subnet.networkSecurityGroup!.id!, /jacket-isolated-deny-all$/);

  // A port attached later is an ordinary interface, and can be detached again (the isolated NIC stays primary).
  const att = await nova(arm, tAlice, '2.37')('POST', `/servers/${s.id}/os-interface`, { interfaceAttachment: { net_id: net } });
  assert.equal(att.status, 200, att.text);
  const withPort = await active(s.id);
  assert.deepEqual(Object.keys(withPort.addresses), ['private']);
  const vmNics = async () => ((await arm.compute.virtualMachines.get(RG, s.id)).networkProfile?.networkInterfaces ?? []).map((n) => [n.id!.split('/').pop(), n.primary]);
  assert.deepEqual(await vmNics(), [
    [s.id, true],
    [`port-${att.body.interfaceAttachment.port_id}`, false],
  ]);
  assert.equal((await nova(arm, tAlice, '2.37')('DELETE', `/servers/${s.id}/os-interface/${att.body.interfaceAttachment.port_id}`)).status, 202);
  const detached = await active(s.id);
  assert.deepEqual(detached.addresses, {});
  assert.deepEqual(await vmNics(), [[s.id, true]]);

  // Delete leaves nothing of the server on Azure; the shared isolated network stays for the next one.
  await gone(s.id);
  await waitFor('the isolated NIC deleted', async () => ((await exists(arm.network.networkInterfaces.get(RG, s.id))) ? undefined : true), 30000);
  assert.equal(await exists(arm.compute.virtualMachines.get(RG, s.id)), false);
  assert.equal(await exists(arm.network.subnets.get(RG, 'jacket-isolated', 'no-network')), true);
});

test('2.37: a server with networks "none" keeps its isolated NIC through resize, shelve/unshelve, rebuild and stop/start', async () => {
  const r = await nova(arm, tAlice, '2.37')('POST', '/servers', server('none-life', 'none'));
  assert.equal(r.status, 202, r.text);
  const id = r.body.server.id as string;
  await active(id);
  const call = (body: unknown) => nova(arm, tAlice, '2.37')('POST', `/servers/${id}/action`, body);
  const status = (want: string) =>
    waitFor(
      `server ${id} ${want}`,
      async () => {
        const x = (await nova(arm, tAlice, '2.37')('GET', `/servers/${id}`)).body?.server;
        if (x?.status === 'ERROR') throw new Error(`server ${id} went ERROR: ${JSON.stringify(x.fault)}`);
        return x?.status === want && x['OS-EXT-STS:task_state'] === null ? x : undefined;
      },
      120000,
    );
  const isolated = async () => {
    const vm = await arm.compute.virtualMachines.get(RG, id);
    assert.deepEqual(
      (vm.networkProfile?.networkInterfaces ?? []).map((n) => n.id!.split('/').pop()),
      [id],
    );
    assert.match((await arm.network.networkInterfaces.get(RG, id)).ipConfigurations![0].subnet!.id!, /\/jacket-isolated\/subnets\/no-network$/);
  };
  assert.equal((await call({ resize: { flavorRef: '2' } })).status, 202);
  await status('VERIFY_RESIZE');
  assert.equal((await call({ confirmResize: null })).status, 204);
  const resized = await status('ACTIVE');
  assert.equal(resized.flavor.id, '2');
  assert.deepEqual(resized.addresses, {});
  await isolated();
  assert.equal((await call({ shelve: null })).status, 202);
  await status('SHELVED_OFFLOADED');
  assert.equal((await call({ unshelve: null })).status, 202);
  assert.deepEqual((await status('ACTIVE')).addresses, {});
  await isolated();
  assert.equal((await call({ rebuild: { imageRef: image } })).status, 202);
  assert.deepEqual((await status('ACTIVE')).addresses, {});
  assert.equal((await call({ 'os-stop': null })).status, 202);
  await status('SHUTOFF');
  assert.equal((await call({ 'os-start': null })).status, 202);
  await status('ACTIVE');
  await isolated();
  await gone(id);
  await waitFor('the isolated NIC deleted', async () => ((await exists(arm.network.networkInterfaces.get(RG, id))) ? undefined : true), 30000);
});

test('2.37 CLI: openstack server create --nic none / --nic auto', async () => {
  const base = ['--os-compute-api-version', '2.37', 'server', 'create', '--flavor', '1', '--image', image, '--wait'];
  const none = await arm.stack.oscJson<{ id: string; addresses: unknown }>([...base, '--nic', 'none', 'cli-none'], alice);
  assert.deepEqual((await active(none.id)).addresses, {});
  const auto = await arm.stack.oscJson<{ id: string }>([...base, '--nic', 'auto', 'cli-auto'], alice);
  assert.deepEqual(Object.keys((await active(auto.id)).addresses), ['private']);
  await Promise.all([gone(none.id), gone(auto.id)]);
});

test('2.37: "auto" is 409 with several networks available and 400 with none (no auto-allocated-topology)', async () => {
  const NET = (name: string, extra: Record<string, unknown>) => ({ name, subnet: { name: `${name}-subnet`, cidr: '10.0.0.0/24' }, azure: { vnet: 'jacket-vnet', subnet: 'default' }, ...extra });
  const scenarios: [string, Record<string, unknown>[], number, (p: string) => string][] = [
    [
      'two shared',
      [NET('private', { shared: true }), NET('second', { shared: true, azure: { vnet: 'jacket-vnet', subnet: 'other' } })],
      409,
      () => 'Multiple possible networks found, use a Network ID to be more specific.',
    ],
    ['none available', [NET('elsewhere', { project_id: 'another-project', shared: false })], 400, (p) => `Unable to automatically allocate a network for project ${p}`],
  ];
  for (const [what, networks, status, words] of scenarios) {
    const other = await startArmStack({ asyncDelayMs: 0, settings: { JACKET_CATALOG: JSON.stringify({ networks }) } });
    try {
      const u = await other.stack.makeProjectUser('mv237-x', 'mv237x');
      const t = await other.stack.token(u);
      const img = (await other.stack.http('GET', '/image/v2/images?name=ubuntu-22.04', { token: t })).body.images[0].id;
      const r = await nova(other, t, '2.37')('POST', '/servers', { server: { name: 'x', flavorRef: '1', imageRef: img, networks: 'auto' } });
      assert.equal(r.status, status, `${what}: ${r.text}`);
      assert.equal(msg(r.body), words(u.projectId), what);
      assert.deepEqual((await nova(other, t, '2.37')('GET', '/servers')).body.servers, [], what);
      // "none" needs no network at all.
      if (what === 'none available') {
        const n = await nova(other, t, '2.37')('POST', '/servers', { server: { name: 'n', flavorRef: '1', imageRef: img, networks: 'none' } });
        assert.equal(n.status, 202, n.text);
      }
    } finally {
      other.control.close();
      await other.stop();
    }
  }
});
