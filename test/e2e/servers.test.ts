// Servers end to end: the real `openstack` CLI and plain HTTP against the app, the app against the ARM
// emulator (real Azure SDK clients), and the emulator inspected through its control API and SDK GETs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Stack } from '../support/stack';
import { startArmStack, waitFor as poll } from '../support/armStack';
import { assertNovaResponse } from '../support/oracle';
import type { EmulatorControl } from '../../emulator/control';
import { testSshKey } from '../emulator/harness';
import type { ComputeManagementClient } from '@azure/arm-compute';
import type { NetworkManagementClient } from '@azure/arm-network';
import { listActions } from '../../shared/compute/servers/instanceActions';
import { getServerAny } from '../../shared/compute/servers/model';
import { absentOnAzure as armAbsent, aliceAndBob, imageId as imageNamed, networkId as networkNamed, type ProjectUser } from '../support/fixtures';

let stack: Stack;
let control: EmulatorControl;
let compute: ComputeManagementClient;
let network: NetworkManagementClient;
let alice: ProjectUser, bob: ProjectUser;
let tAlice: string, tBob: string, tAdmin: string;
let imageId: string, networkId: string;
const RG = 'ops_resource_group';
const FLAVOR = '3'; // m1.medium: Standard_B2s, 40 GB (the Ubuntu image wants 30)

const waitFor = <T>(what: string, f: () => Promise<T | undefined>, timeoutMs = 30000) => poll(what, f, timeoutMs);

const serverStatus = async (token: string, id: string, status: string) =>
  waitFor(`server ${id} ${status}`, async () => {
    const r = await stack.http('GET', `/compute/v2.1/servers/${id}`, { token });
    return r.status === 200 && r.body.server.status === status ? r.body.server : undefined;
  });

const serverGone = async (token: string, id: string) =>
  waitFor(`server ${id} gone`, async () => ((await stack.http('GET', `/compute/v2.1/servers/${id}`, { token })).status === 404 ? true : undefined));

async function putCount(): Promise<number> {
  return (await control.requests()).filter((r) => r.method === 'PUT' && /(virtualMachines|networkInterfaces)\//i.test(r.path)).length;
}

before(async () => {
  // Small engine budgets: a persistent fault is given up within seconds (docs/servers.md).
  ({ stack, control, compute, network } = await startArmStack({ settings: { JACKET_WORK_RETRY_FAILURES: '3', JACKET_WORK_POLL_CAP_SECONDS: '2' } }));
  ({ alice, bob, tAlice, tBob, tAdmin } = await aliceAndBob(stack, ['srv-a', 'alice'], ['srv-b', 'bob']));
  [imageId, networkId] = await Promise.all([imageNamed(stack, tAlice), networkNamed(stack, tAlice)]);
  const kp = await stack.http('POST', '/compute/v2.1/os-keypairs', { token: tAlice, body: { keypair: { name: 'k1', public_key: testSshKey() } } });
  assert.equal(kp.status, 200, kp.text);
});
after(async () => {
  control?.close();
  await stack?.stop();
});

const createBody = (extra: Record<string, unknown> = {}) => ({ server: { name: 'h', flavorRef: FLAVOR, imageRef: imageId, networks: [{ uuid: networkId }], ...extra } });

test('openstack server create --wait builds the VM on Azure (NIC first, then VM) and shows it ACTIVE', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'jacket-ud-'));
  const userData = path.join(dir, 'user-data.sh');
  writeFileSync(userData, '#!/bin/sh\necho hello from jacket\n');
  await control.clearRequests();
  const created = await stack.oscJson(
    [
      'server',
      'create',
      '--flavor',
      'm1.medium',
      '--image',
      'ubuntu-22.04',
      '--network',
      'private',
      '--key-name',
      'k1',
      '--security-group',
      'default',
      '--user-data',
      userData,
      '--property',
      'role=web',
      '--wait',
      'srv1',
    ],
    alice,
  );
  assert.equal(created.status, 'ACTIVE');
  assert.equal(created.name, 'srv1');
  const id = created.id as string;
  assert.match(JSON.stringify(created.addresses), /private.*10\.0\.0\.\d+/);

  // What reached Azure: NIC PUT before VM PUT, names and tags from the OpenStack ids, deleteOption=Delete.
  const reqs = await control.requests();
  const nicPut = reqs.findIndex((r) => r.method === 'PUT' && r.path.endsWith(`/networkInterfaces/${id}`));
  const vmPut = reqs.findIndex((r) => r.method === 'PUT' && r.path.endsWith(`/virtualMachines/${id}`));
  assert.ok(nicPut >= 0 && vmPut > nicPut, 'the NIC is created before the VM');
  const vmBody = reqs[vmPut].requestBody as any;
  assert.equal(vmBody.properties.osProfile.customData, Buffer.from('#!/bin/sh\necho hello from jacket\n').toString('base64'));
  assert.ok(vmBody.properties.osProfile.adminPassword.length >= 12, 'a generated password is sent to Azure');
  assert.equal(vmBody.properties.osProfile.linuxConfiguration.ssh.publicKeys[0].keyData, testSshKey());
  assert.equal(vmBody.properties.diagnosticsProfile.bootDiagnostics.enabled, true);
  const vm = await compute.virtualMachines.get(RG, id);
  assert.equal(vm.hardwareProfile?.vmSize, 'Standard_B2s');
  assert.equal(vm.storageProfile?.imageReference?.publisher, 'Canonical');
  assert.equal(vm.storageProfile?.imageReference?.sku, '22_04-lts-gen2');
  assert.equal(vm.storageProfile?.osDisk?.name, id);
  assert.equal(vm.storageProfile?.osDisk?.deleteOption, 'Delete');
  assert.equal(vm.networkProfile?.networkInterfaces?.[0].deleteOption, 'Delete');
  assert.deepEqual(vm.tags, { jacket: 'server', 'jacket-server-id': id, 'jacket-project-id': alice.projectId });
  assert.equal(vm.location, 'eastus');
  const nic = await network.networkInterfaces.get(RG, id);
  assert.match(nic.ipConfigurations![0].subnet!.id!, /virtualNetworks\/jacket-vnet\/subnets\/default$/);
  // Without --security-group the server is in its project's own `default` group (docs/network.md).
  const dflt = (await stack.http('GET', '/network/v2.0/security-groups?name=default', { token: tAlice })).body.security_groups;
  assert.equal(dflt.length, 1);
  assert.match(nic.networkSecurityGroup!.id!, new RegExp(`networkSecurityGroups/sg-${dflt[0].id}$`));
  assert.match(nic.ipConfigurations![0].applicationSecurityGroups![0].id!, new RegExp(`applicationSecurityGroups/asg-${dflt[0].id}$`));
  assert.equal(nic.tags?.['jacket-server-id'], id);

  // Nova's views, checked against Nova's own response schemas.
  const show = await stack.http('GET', `/compute/v2.1/servers/${id}`, { token: tAlice });
  assertNovaResponse('servers', 'ServersController', 'show', '2.1', show.body);
  const srv = show.body.server;
  assert.equal(srv['OS-EXT-STS:vm_state'], 'active');
  assert.equal(srv['OS-EXT-STS:power_state'], 1);
  assert.equal(srv['OS-EXT-STS:task_state'], null);
  assert.equal(srv.key_name, 'k1');
  assert.deepEqual(srv.metadata, { role: 'web' });
  assert.deepEqual(srv.security_groups, [{ name: 'default' }]);
  assert.equal(srv.image.id, imageId);
  assert.equal(srv.flavor.id, FLAVOR);
  assert.equal(srv.tenant_id, alice.projectId);
  assert.equal(srv.addresses.private[0]['OS-EXT-IPS-MAC:mac_addr'], nic.macAddress!.toLowerCase().replace(/-/g, ':'));
  assert.equal(srv.addresses.private[0].addr, nic.ipConfigurations![0].privateIPAddress);
  assert.ok(!('OS-EXT-SRV-ATTR:host' in srv), 'extended server attributes are for admins');
  const asAdmin = await stack.http('GET', `/compute/v2.1/servers/${id}`, { token: tAdmin });
  assertNovaResponse('servers', 'ServersController', 'show', '2.1', asAdmin.body);
  assert.equal(asAdmin.body.server['OS-EXT-SRV-ATTR:instance_name'], id);
  // the port Neutron shows for the NIC
  const ports = await stack.http('GET', `/network/v2.0/ports?device_id=${id}`, { token: tAlice });
  assert.equal(ports.body.ports.length, 1);
  assert.equal(ports.body.ports[0].status, 'ACTIVE');
  assert.equal(ports.body.ports[0].fixed_ips[0].ip_address, srv.addresses.private[0].addr);
  const actions = await listActions(stack.cloud.services, id);
  assert.deepEqual(
    actions.map((a) => [a.action, a.events[0].result]),
    [['create', 'Success']],
  );
});

test('server list, list --long, filters, paging and server set --name', async () => {
  const mine = await stack.oscJson<{ ID: string; Name: string; Status: string; Networks: unknown }[]>(['server', 'list'], alice);
  const srv1 = mine.find((s) => s.Name === 'srv1');
  assert.ok(srv1, JSON.stringify(mine));
  assert.equal(srv1.Status, 'ACTIVE');
  const long = await stack.oscJson<Record<string, unknown>[]>(['server', 'list', '--long'], alice);
  const row = long.find((s) => s.Name === 'srv1')!;
  assert.ok([1, 'Running'].includes(row['Power State'] as number | string), String(row['Power State']));
  assert.equal(row['Availability Zone'], 'nova');
  // a second server, created through the API, to page over
  const c = await stack.http('POST', '/compute/v2.1/servers', {
    token: tAlice,
    body: createBody({ name: 'srv2', adminPass: 'Az-pass-123', accessIPv6: '2001:0DB8:0000:0000:0001:0000:0000:00A1', networks: [{ uuid: networkId, fixed_ip: '10.0.0.50' }] }),
  });
  assert.equal(c.status, 202, c.text);
  assertNovaResponse('servers', 'ServersController', 'create', '2.1', c.body);
  assert.equal(c.body.server.adminPass, 'Az-pass-123');
  const id2 = c.body.server.id;
  // the password went to Azure and nowhere else: not in the record, only sealed in the work item
  const rec = await getServerAny(stack.cloud.services, id2);
  assert.ok(rec && !JSON.stringify(rec.value).includes('Az-pass-123'));
  const queued = await stack.cloud.services.work.queue.peekMessages({ numberOfMessages: 32 });
  assert.ok(queued.peekedMessageItems.every((m) => !Buffer.from(m.messageText, 'base64').toString('utf8').includes('Az-pass-123')));
  // the build's step sends it to Azure in the VM PUT
  const vmPut = await waitFor('the VM PUT', async () => (await control.requests()).find((r) => r.method === 'PUT' && r.path.endsWith(`/virtualMachines/${id2}`)));
  assert.equal((vmPut!.requestBody as any).properties.osProfile.adminPassword, 'Az-pass-123');
  const index = await stack.http('GET', '/compute/v2.1/servers', { token: tAlice });
  assertNovaResponse('servers', 'ServersController', 'index', '2.1', index.body);
  assert.deepEqual(
    index.body.servers.map((s: { name: string }) => s.name),
    ['srv2', 'srv1'],
    'newest first',
  );
  const detail = await stack.http('GET', '/compute/v2.1/servers/detail', { token: tAlice });
  assertNovaResponse('servers', 'ServersController', 'detail', '2.1', detail.body);
  // created with accessIPv6 in long form: stored and shown as netaddr (inet_ntop) writes it
  assert.equal(detail.body.servers.find((s: { id: string }) => s.id === id2).accessIPv6, '2001:db8::1:0:0:a1');
  const p1 = await stack.http('GET', '/compute/v2.1/servers?limit=1', { token: tAlice });
  assert.equal(p1.body.servers[0].name, 'srv2');
  assertNovaResponse('servers', 'ServersController', 'index', '2.1', p1.body);
  const next = new URL(p1.body.servers_links[0].href);
  const p2 = await stack.http('GET', `/compute/v2.1/servers${next.search}`, { token: tAlice });
  assert.deepEqual(
    p2.body.servers.map((s: { name: string }) => s.name),
    ['srv1'],
  );
  assert.equal((await stack.http('GET', '/compute/v2.1/servers?marker=00000000-0000-0000-0000-000000000000', { token: tAlice })).status, 400);
  const byName = await stack.http('GET', '/compute/v2.1/servers/detail?name=^srv1$', { token: tAlice });
  assert.deepEqual(
    byName.body.servers.map((s: { name: string }) => s.name),
    ['srv1'],
  );
  const building = await stack.http('GET', '/compute/v2.1/servers?status=BUILD&flavor=3', { token: tAlice });
  assert.ok(building.body.servers.every((s: { name: string }) => s.name === 'srv2'));
  assert.deepEqual((await stack.http('GET', '/compute/v2.1/servers?status=NOSUCH', { token: tAlice })).body.servers, []);
  assert.deepEqual((await stack.http('GET', '/compute/v2.1/servers?changes-since=2999-01-01T00:00:00Z', { token: tAlice })).body.servers, []);
  assert.equal((await stack.http('GET', '/compute/v2.1/servers?changes-since=2000-01-01T00:00:00Z', { token: tAlice })).body.servers.length, 2);
  assert.equal((await stack.http('GET', '/compute/v2.1/servers?changes-since=yesterday', { token: tAlice })).status, 400);
  assert.equal((await stack.http('GET', `/compute/v2.1/servers?image=${imageId}`, { token: tAlice })).body.servers.length, 2);
  assert.deepEqual((await stack.http('GET', '/compute/v2.1/servers?flavor=1', { token: tAlice })).body.servers, []);
  const ip = detail.body.servers.find((s: { name: string }) => s.name === 'srv1').addresses.private[0].addr;
  const byIp = await stack.http('GET', `/compute/v2.1/servers?ip=${ip.replace(/\./g, '\\.')}$`, { token: tAlice });
  assert.deepEqual(
    byIp.body.servers.map((s: { name: string }) => s.name),
    ['srv1'],
  );
  // server set --name, and Nova's update response
  await stack.oscOk(['server', 'set', '--name', 'srv1-renamed', 'srv1'], alice);
  const shown = await stack.oscJson(['server', 'show', 'srv1-renamed'], alice);
  assert.equal(shown.status, 'ACTIVE');
  const upd = await stack.http('PUT', `/compute/v2.1/servers/${id2}`, { token: tAlice, body: { server: { name: 'srv2b', accessIPv4: '203.0.113.9' } } });
  assert.equal(upd.status, 200, upd.text);
  assertNovaResponse('servers', 'ServersController', 'update', '2.1', upd.body);
  assert.equal(upd.body.server.accessIPv4, '203.0.113.9');
  // accessIPv6 is stored as Nova stores it (netaddr's compressed lowercase form)
  const v6 = await stack.http('PUT', `/compute/v2.1/servers/${id2}`, { token: tAlice, body: { server: { accessIPv6: '2001:DB8:0:0:0:0:0:1' } } });
  assert.equal(v6.status, 200, v6.text);
  assert.equal(v6.body.server.accessIPv6, '2001:db8::1');
  assert.equal((await stack.oscJson(['server', 'show', id2], alice)).accessIPv6, '2001:db8::1');
  const mapped = await stack.http('PUT', `/compute/v2.1/servers/${id2}`, { token: tAlice, body: { server: { accessIPv6: '::FFFF:203.0.113.9' } } });
  assert.equal(mapped.body.server.accessIPv6, '::ffff:203.0.113.9', 'an IPv4-mapped address keeps its dotted tail');
  const bad = await stack.http('PUT', `/compute/v2.1/servers/${id2}`, { token: tAlice, body: { server: { name: '' } } });
  assert.equal(bad.status, 400);
  const active = await serverStatus(tAlice, id2, 'ACTIVE');
  assert.equal(active.addresses.private[0].addr, '10.0.0.50', 'the fixed IP is honoured');
  const nic = await network.networkInterfaces.get(RG, id2);
  assert.equal(nic.ipConfigurations![0].privateIPAllocationMethod, 'Static');
});

test('bad requests are refused as Nova does, before any Azure call', async () => {
  const before = await putCount();
  const post = (body: unknown, token = tAlice) => stack.http('POST', '/compute/v2.1/servers', { token, body });
  const expect = async (body: unknown, status: number, message: RegExp) => {
    const r = await post(body);
    assert.equal(r.status, status, r.text);
    const fault = Object.values(r.body)[0] as { code: number; message: string };
    assert.equal(fault.code, status);
    assert.match(fault.message, message);
  };
  await expect(createBody({ flavorRef: 'nope' }), 400, /^Flavor nope could not be found\.$/);
  await expect(createBody({ imageRef: '11111111-2222-3333-4444-555555555555' }), 400, /^Can not find requested image$/);
  await expect(createBody({ networks: [{ uuid: '11111111-2222-3333-4444-555555555555' }] }), 400, /^Network 11111111-2222-3333-4444-555555555555 could not be found\.$/);
  await expect(createBody({ networks: [{ uuid: 'not-a-uuid' }] }), 400, /^Bad networks format: network uuid is not in proper format \(not-a-uuid\)$/);
  await expect(createBody({ key_name: 'nokey' }), 400, /^Invalid key_name provided\.$/);
  await expect(createBody({ adminPass: 'password' }), 400, /^Invalid adminPass: the password must be 6 to 72 characters long for a Linux image/);
  await expect(createBody({ adminPass: 'P@ssw0rd' }), 400, /commonly used password/);
  await expect(createBody({ security_groups: [{ name: 'nosuch' }] }), 400, /^Security group nosuch not found\.$/);
  // A flavor whose root disk is smaller than the image (the defaults are sized for Azure's images).
  const small = await stack.http('POST', '/compute/v2.1/flavors', { token: tAdmin, body: { flavor: { name: 'disk-1', id: 'disk-1', ram: 1024, vcpus: 1, disk: 1 } } });
  assert.equal(small.status, 200, small.text);
  await stack.http('POST', '/compute/v2.1/flavors/disk-1/os-extra_specs', { token: tAdmin, body: { extra_specs: { 'azure:vm_size': 'Standard_B1s' } } });
  await expect(createBody({ flavorRef: 'disk-1' }), 400, /^Flavor's disk is too small for requested image\./);
  await expect(createBody({ min_count: 3, max_count: 2 }), 400, /^min_count must be <= max_count$/);
  await expect(
    createBody({ max_count: 2, networks: [{ uuid: networkId, fixed_ip: '10.0.0.50' }] }),
    400,
    /^Failed to launch instances: max_count cannot be greater than 1 if an fixed_ip is specified\.$/,
  );
  await expect(createBody({ networks: [{ uuid: networkId, fixed_ip: '10.0.0.1' }] }), 400, /is not a valid IP for the specified subnet/);
  await expect(createBody({ bogus: 1 }), 400, /^Invalid input for field\/attribute server.*Additional properties are not allowed \('bogus' was unexpected\)/);
  await expect(
    createBody({ max_count: 11, min_count: 11 }),
    403,
    /^Quota exceeded for cores, instances, ram: Requested 22, 11, 45056, but already used \d+, \d+, \d+ of 20, 10, 51200 cores, instances, ram$/,
  );
  await expect({ server: { name: 'h', flavorRef: FLAVOR } }, 400, /^Missing imageRef attribute$/);
  // the CLI reports a bad flavor as Nova does
  const cli = await stack.osc(['server', 'create', '--flavor', 'no-such-flavor', '--image', 'ubuntu-22.04', '--network', 'private', 'x'], alice);
  assert.notEqual(cli.code, 0);
  assert.match(cli.stderr, /No Flavor found for no-such-flavor|no-such-flavor/);
  assert.equal(await putCount(), before, 'nothing reached Azure');
  const list = await stack.http('GET', '/compute/v2.1/servers?name=^h$', { token: tAlice });
  assert.deepEqual(list.body.servers, [], 'and nothing was recorded');
});

test("a project never sees another project's servers; all_tenants is for admins", async () => {
  const list = await stack.http('GET', '/compute/v2.1/servers/detail', { token: tAlice });
  const id = list.body.servers[0].id;
  for (const [method, body] of [
    ['GET', undefined],
    ['PUT', { server: { name: 'x' } }],
    ['DELETE', undefined],
  ] as const) {
    const r = await stack.http(method, `/compute/v2.1/servers/${id}`, { token: tBob, body });
    assert.equal(r.status, 404, `${method} ${r.text}`);
    assert.equal(r.body.itemNotFound.message, `Instance ${id} could not be found.`);
  }
  const shown = await stack.osc(['server', 'show', id], bob);
  assert.notEqual(shown.code, 0);
  assert.match(shown.stderr, /No Server found for/);
  assert.deepEqual((await stack.http('GET', '/compute/v2.1/servers', { token: tBob })).body.servers, []);
  const denied = await stack.http('GET', '/compute/v2.1/servers?all_tenants=1', { token: tBob });
  assert.equal(denied.status, 403);
  assert.equal(denied.body.forbidden.message, "Policy doesn't allow os_compute_api:servers:index:get_all_tenants to be performed.");
  const all = await stack.http('GET', '/compute/v2.1/servers/detail?all_tenants=1', { token: tAdmin });
  assertNovaResponse('servers', 'ServersController', 'detail', '2.1', all.body);
  assert.ok(all.body.servers.some((s: { id: string }) => s.id === id));
  const one = await stack.http('GET', `/compute/v2.1/servers?all_tenants=1&tenant_id=${bob.projectId}`, { token: tAdmin });
  assert.deepEqual(one.body.servers, []);
  const adminOwn = await stack.http('GET', '/compute/v2.1/servers', { token: tAdmin });
  assert.deepEqual(adminOwn.body.servers, [], 'without all_tenants an admin lists their own project');
  // host (exact) and node (regex) filter for admins (allow_all_filters); others' are dropped unread
  const host = all.body.servers.find((s: { id: string }) => s.id === id)['OS-EXT-SRV-ATTR:host'];
  assert.match(host, /^azure-/);
  const aliceIds = list.body.servers.map((s: { id: string }) => s.id).sort();
  const ids = async (query: string, token = tAdmin) => {
    const r = await stack.http('GET', `/compute/v2.1/servers${query}`, { token });
    assert.equal(r.status, 200, r.text);
    return r.body.servers.map((s: { id: string }) => s.id).sort();
  };
  assert.ok((await ids(`?all_tenants=1&host=${host}`)).includes(id));
  assert.deepEqual(await ids('?all_tenants=1&host=compute-elsewhere'), []);
  assert.deepEqual(await ids(`?all_tenants=1&host=${host.slice(0, -1)}`), [], 'host is an exact match');
  assert.deepEqual(await ids('?all_tenants=1&host=compute-elsewhere&host=' + host), await ids(`?all_tenants=1&host=${host}`), 'the last of repeated values');
  assert.ok((await ids('?all_tenants=1&node=^azure-')).includes(id));
  assert.deepEqual(await ids('?all_tenants=1&node=^elsewhere'), []);
  assert.deepEqual(await ids('?host=compute-elsewhere&node=nothing', tAlice), aliceIds, "a member's host and node filters are ignored");
  const cli = await stack.oscJson<{ ID: string }[]>(['server', 'list', '--all-projects', '--host', 'compute-elsewhere']);
  assert.deepEqual(cli, []);
  const cliHost = await stack.oscJson<{ ID: string }[]>(['server', 'list', '--all-projects', '--host', host]);
  assert.ok(cliHost.some((s) => s.ID === id));
});

test("multiple create: each server its own VM, named by Nova's template", async () => {
  const out = await stack.oscJson(['server', 'create', '--flavor', 'm1.medium', '--image', 'ubuntu-22.04', '--network', 'private', '--min', '2', '--max', '2', 'multi'], alice);
  assert.ok(out.id);
  const r = await stack.http('POST', '/compute/v2.1/servers', { token: tAlice, body: createBody({ name: 'resv', min_count: 2, max_count: '2', return_reservation_id: 'True' }) });
  assert.equal(r.status, 202, r.text);
  assertNovaResponse('servers', 'ServersController', 'create', '2.1', r.body);
  assert.match(r.body.reservation_id, /^r-[a-z0-9]{8}$/);
  const byResv = await stack.http('GET', `/compute/v2.1/servers?reservation_id=${r.body.reservation_id}`, { token: tAlice });
  assert.deepEqual(byResv.body.servers.map((s: { name: string }) => s.name).sort(), ['resv-1', 'resv-2']);
  const multi = (await stack.http('GET', '/compute/v2.1/servers/detail?name=^multi-', { token: tAlice })).body.servers;
  assert.deepEqual(multi.map((s: { name: string }) => s.name).sort(), ['multi-1', 'multi-2']);
  const ids = [...multi, ...byResv.body.servers].map((s: { id: string }) => s.id);
  for (const id of ids) await serverStatus(tAlice, id, 'ACTIVE');
  const vms = await Promise.all(ids.map((id) => compute.virtualMachines.get(RG, id)));
  assert.equal(new Set(vms.map((v) => v.id)).size, 4);
  for (const id of ids) assert.equal((await stack.http('DELETE', `/compute/v2.1/servers/${id}`, { token: tAlice })).status, 204);
  for (const id of ids) await serverGone(tAlice, id);
});

test('Azure failures: AllocationFailed and a refused PUT end in ERROR with a fault, leaving nothing; throttling is retried', async () => {
  // the VM's operation fails after the PUT was accepted
  await control.addFault({ method: 'PUT', path: '/virtualMachines/', failAsync: true, code: 'AllocationFailed' });
  const a = await stack.http('POST', '/compute/v2.1/servers', { token: tAlice, body: createBody({ name: 'alloc' }) });
  assert.equal(a.status, 202, a.text);
  const failed = await serverStatus(tAlice, a.body.server.id, 'ERROR');
  assert.match(failed.fault.message, /^Allocation failed/);
  assert.equal(failed.fault.code, 500);
  assert.ok(!('details' in failed.fault), 'details of a 500 fault are for admins');
  const shown = await stack.http('GET', `/compute/v2.1/servers/${a.body.server.id}`, { token: tAdmin });
  assertNovaResponse('servers', 'ServersController', 'show', '2.1', shown.body);
  assert.equal(shown.body.server.fault.details, 'Azure error AllocationFailed');
  await waitFor('failed VM and NIC cleaned up', async () =>
    (await armAbsent(compute.virtualMachines.get(RG, a.body.server.id))) && (await armAbsent(network.networkInterfaces.get(RG, a.body.server.id))) ? true : undefined,
  );
  // Azure refuses the VM PUT itself: the NIC made for it is deleted
  await control.addFault({
    method: 'PUT',
    path: '/virtualMachines/',
    status: 409,
    code: 'OperationNotAllowed',
    message: 'Operation could not be completed as it results in exceeding approved standardBSFamily Cores quota.',
  });
  const q = await stack.http('POST', '/compute/v2.1/servers', { token: tAlice, body: createBody({ name: 'quota' }) });
  assert.equal(q.status, 202, q.text);
  const qs = await serverStatus(tAlice, q.body.server.id, 'ERROR');
  assert.match(qs.fault.message, /exceeding approved standardBSFamily Cores quota/);
  await waitFor('NIC of the refused VM deleted', async () => ((await armAbsent(network.networkInterfaces.get(RG, q.body.server.id))) ? true : undefined));
  // one 429 on the VM PUT: the engine retries it after its Retry-After and the server still builds
  await control.addFault({ method: 'PUT', path: '/virtualMachines/', status: 429, code: 'TooManyRequests', message: 'throttled', headers: { 'Retry-After': '1' } });
  const t = await stack.http('POST', '/compute/v2.1/servers', { token: tAlice, body: createBody({ name: 'throttled' }) });
  await serverStatus(tAlice, t.body.server.id, 'ACTIVE');
  assert.equal((await control.listFaults()).length, 0, 'every injected fault was hit');
  for (const id of [a.body.server.id, q.body.server.id, t.body.server.id]) {
    assert.equal((await stack.http('DELETE', `/compute/v2.1/servers/${id}`, { token: tAlice })).status, 204);
    await serverGone(tAlice, id);
  }
});

test('openstack server delete --wait removes the VM, its NIC and OS disk, then the record', async () => {
  const list = (await stack.http('GET', '/compute/v2.1/servers/detail?name=^srv1-renamed$', { token: tAlice })).body.servers;
  const id = list[0].id;
  const nicId = (await network.networkInterfaces.get(RG, id)).id!;
  assert.ok(await compute.disks.get(RG, id));
  await stack.oscOk(['server', 'delete', '--wait', 'srv1-renamed'], alice);
  assert.ok(await armAbsent(compute.virtualMachines.get(RG, id)), 'VM gone');
  assert.ok(await armAbsent(network.networkInterfaces.get(RG, id)), `NIC ${nicId} gone`);
  assert.ok(await armAbsent(compute.disks.get(RG, id)), 'OS disk gone');
  assert.equal((await stack.http('GET', `/network/v2.0/ports?device_id=${id}`, { token: tAlice })).body.ports.length, 0);
  const actions = await listActions(stack.cloud.services, id);
  assert.deepEqual(
    actions.map((a) => [a.action, a.events[0].result]),
    [
      ['delete', 'Success'],
      ['create', 'Success'],
    ],
  );
  // a server deleted while it is still building, with the first VM DELETE failing (a transient 500):
  // the engine runs the step again, and it carries on where it was
  const c = await stack.http('POST', '/compute/v2.1/servers', { token: tAlice, body: createBody({ name: 'early' }) });
  await control.addFault({ method: 'DELETE', path: `/virtualMachines/${c.body.server.id}$`, status: 500, code: 'InternalServerError', message: 'injected' });
  assert.equal((await stack.http('DELETE', `/compute/v2.1/servers/${c.body.server.id}`, { token: tAlice })).status, 204);
  assert.equal((await stack.http('DELETE', `/compute/v2.1/servers/${c.body.server.id}`, { token: tAlice })).status, 204, 'a repeated delete is accepted');
  const during = await stack.http('GET', `/compute/v2.1/servers/${c.body.server.id}`, { token: tAlice });
  if (during.status === 200) assert.equal(during.body.server['OS-EXT-STS:task_state'], 'deleting');
  await serverGone(tAlice, c.body.server.id);
  assert.ok(await armAbsent(compute.virtualMachines.get(RG, c.body.server.id)));
  assert.equal((await control.listFaults()).length, 0, 'the injected failure was hit');
  // The NIC may be the build's to remove: a NIC PUT in flight when the delete came is deleted by the
  // build step that made it, once it sees the record deleting or gone (an asynchronous DELETE on
  // Azure), so it can outlive the record by a moment. It must not outlive it for good.
  await waitFor('the early server NIC gone', async () => ((await armAbsent(network.networkInterfaces.get(RG, c.body.server.id))) ? true : undefined));
  assert.ok(await armAbsent(compute.disks.get(RG, c.body.server.id)));
  assert.equal((await stack.http('GET', `/network/v2.0/ports?device_id=${c.body.server.id}`, { token: tAlice })).body.ports.length, 0, 'no port record comes back');
  // what remains: srv2b only
  const left = await stack.oscJson<{ Name: string }[]>(['server', 'list'], alice);
  assert.deepEqual(
    left.map((s) => s.Name),
    ['srv2b'],
  );
});

test('a custom Windows image boots from its managed image; Windows password rules apply', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'jacket-img-'));
  const file = path.join(dir, 'disk.raw');
  writeFileSync(file, Buffer.alloc(1024 * 1024, 1));
  const img = await stack.oscJson(['image', 'create', '--disk-format', 'raw', '--container-format', 'bare', '--property', 'os_type=windows', '--file', file, 'win-custom'], alice);
  const active = await waitFor('image active', async () => {
    const r = await stack.http('GET', `/image/v2/images/${img.id}`, { token: tAlice });
    return r.body.status === 'active' ? r.body : undefined;
  });
  const short = await stack.http('POST', '/compute/v2.1/servers', { token: tAlice, body: createBody({ name: 'win', imageRef: img.id, adminPass: 'Ab1defg' }) });
  assert.equal(short.status, 400, 'a 7-character password is too short for Windows');
  assert.match(short.body.badRequest.message, /8 to 123 characters long for a Windows image/);
  const c = await stack.http('POST', '/compute/v2.1/servers', { token: tAlice, body: createBody({ name: 'Windows Server Box', imageRef: img.id }) });
  assert.equal(c.status, 202, c.text);
  const srv = await serverStatus(tAlice, c.body.server.id, 'ACTIVE');
  assert.equal(srv.image.id, img.id);
  const vm = await compute.virtualMachines.get(RG, srv.id);
  assert.equal(vm.storageProfile?.imageReference?.id?.toLowerCase(), String(active.azure_uri).toLowerCase());
  assert.equal(vm.storageProfile?.osDisk?.osType, 'Windows');
  assert.equal(vm.osProfile?.computerName, 'windows-server', 'a Windows computer name has at most 15 characters');
  assert.equal(vm.osProfile?.adminUsername, 'azureuser');
  assert.equal((await stack.http('DELETE', `/compute/v2.1/servers/${srv.id}`, { token: tAlice })).status, 204);
  await serverGone(tAlice, srv.id);
});
