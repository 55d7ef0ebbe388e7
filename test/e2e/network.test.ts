// The Neutron v2 read subset under /network, through the real `openstack` CLI and plain HTTP. Security
// group rules are read from NSGs served by the ARM emulator through the real @azure/arm-network client.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { startStack, type Stack, type Creds } from '../support/stack';
import { REFERENCE } from '../support/paths';
import { startHarness, type Harness } from '../emulator/harness';
import { defaultSeed } from '../../emulator/server';
import { portStore, type PortRecord } from '../../shared/network/ports';
import { parseNetworkCatalog, stableUuid } from '../../shared/network/catalog';
import { ConfigError } from '../../shared/config';

const SAMPLES = path.join(REFERENCE, 'openstack/neutron-v2-samples');

/**
 * Neutron has no response schemas upstream; its API reference samples are the oracle: every field we
 * return must exist in the sample (which shows every extension's fields) with a compatible JSON type.
 */
function assertNeutronShape(sample: string, key: string, body: Record<string, unknown>, alsoSeenIn?: Record<string, unknown>): void {
  const doc = JSON.parse(readFileSync(path.join(SAMPLES, sample), 'utf8'));
  const ref = { ...alsoSeenIn, ...(Array.isArray(doc[key]) ? doc[key][0] : doc[key]) };
  const ours = Array.isArray(body[key]) ? (body[key] as Record<string, unknown>[]) : [body[key] as Record<string, unknown>];
  assert.ok(ours.length > 0, `${key}: nothing to check`);
  const kind = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);
  for (const item of ours) {
    for (const [k, v] of Object.entries(item)) {
      assert.ok(k in ref, `${key}.${k} is not a Neutron field (${sample})`);
      const a = kind(v);
      const b = kind(ref[k]);
      assert.ok(a === b || a === 'null' || b === 'null', `${key}.${k}: ${a} where Neutron has ${b}`);
    }
  }
}

let stack: Stack;
let arm: Harness;
let alice: Creds & { projectId: string; userId: string };
let bob: Creds & { projectId: string; userId: string };
let tAlice: string;
let tBob: string;
let tAdmin: string;
const teamNetId = randomUUID();

before(async () => {
  arm = await startHarness({
    seed: {
      ...defaultSeed(),
      networkSecurityGroups: [
        { resourceGroup: 'ops_resource_group', name: 'jacket-nsg' },
        { resourceGroup: 'ops_resource_group', name: 'team-nsg' },
      ],
    },
  });
  stack = await startStack({
    settings: { JACKET_ARM_ENDPOINT: arm.emu.url, JACKET_AZURE_CREDENTIAL: 'static', JACKET_ARM_CA_CERT: arm.emu.caCertPath },
  });
  alice = await stack.makeProjectUser('net-a', 'alice');
  bob = await stack.makeProjectUser('net-b', 'bob');
  // The operator's catalog names project ids, known only now: set it before the first network call
  // (the section is read once per config).
  stack.cloud.services.config.catalog.networks = [
    {
      name: 'private',
      shared: true,
      subnet: { name: 'private-subnet', cidr: '10.0.0.0/24', dns_nameservers: ['168.63.129.16'] },
      azure: { vnet: 'jacket-vnet', subnet: 'default' },
    },
    {
      id: teamNetId,
      name: 'team-net',
      project_id: alice.projectId,
      subnet: { name: 'team-subnet', cidr: '10.0.1.0/24', gateway_ip: '10.0.1.1' },
      azure: { vnet: 'jacket-vnet', subnet: 'team' },
    },
  ];
  stack.cloud.services.config.catalog.securityGroups = [
    // The operator's `default` mapped to alice's project is her default (Jacket makes her none of its
    // own: docs/network.md); bob, whom the catalog does not name, gets his own `default`.
    { name: 'default', description: 'Default security group', project_id: alice.projectId, azure: { nsg: 'jacket-nsg' } },
    { name: 'team-sg', project_id: alice.projectId, azure: { nsg: 'team-nsg' } },
  ];
  // Rules on the NSG, written through ARM as the operator would.
  const rule = (name: string, priority: number, p: Record<string, unknown>) => ({
    name,
    protocol: 'Tcp',
    access: 'Allow',
    direction: 'Inbound',
    priority,
    sourcePortRange: '*',
    sourceAddressPrefix: '*',
    destinationAddressPrefix: '*',
    destinationPortRange: '*',
    ...p,
  });
  await arm.network.networkSecurityGroups.beginCreateOrUpdateAndWait(arm.resourceGroup, 'jacket-nsg', {
    location: arm.location,
    securityRules: [
      rule('ssh', 100, { destinationPortRange: '22', sourceAddressPrefix: '203.0.113.0/24', description: 'ssh from the office' }),
      rule('web', 110, { destinationPortRange: undefined, destinationPortRanges: ['80', '443'] }),
      rule('ping', 120, { protocol: 'Icmp', sourceAddressPrefix: '10.0.0.5' }),
      rule('dns-out', 130, { protocol: '*', direction: 'Outbound', destinationAddressPrefix: '0.0.0.0/0', destinationPortRange: '53' }),
      rule('deny-telnet', 140, { access: 'Deny', destinationPortRange: '23' }),
      rule('from-lb', 150, { sourceAddressPrefix: 'AzureLoadBalancer', destinationPortRange: '8080' }),
    ],
  });
  [tAlice, tBob, tAdmin] = await Promise.all([stack.token(alice), stack.token(bob), stack.token()]);
});
after(async () => {
  await stack?.stop();
  await arm?.stop();
});

test('openstack network list/show and subnet list/show resolve the operator networks', async () => {
  const nets = await stack.oscJson<{ ID: string; Name: string; Subnets: string[] }[]>(['network', 'list'], alice);
  assert.deepEqual(nets.map((n) => n.Name).sort(), ['private', 'team-net']);
  const priv = await stack.oscJson(['network', 'show', 'private'], alice);
  assert.equal(priv.name, 'private');
  assert.equal(priv.status, 'ACTIVE');
  assert.equal(priv.shared, true);
  assert.equal(priv.mtu, 1500);
  // ids derive from the Azure names: the same on every start
  assert.equal(priv.id, stableUuid('network:ops_resource_group/jacket-vnet/default'));
  const subnets = await stack.oscJson<{ Name: string; Subnet: string; Network: string }[]>(['subnet', 'list'], alice);
  assert.deepEqual(subnets.map((s) => [s.Name, s.Subnet]).sort(), [
    ['private-subnet', '10.0.0.0/24'],
    ['team-subnet', '10.0.1.0/24'],
  ]);
  const sub = await stack.oscJson(['subnet', 'show', 'private-subnet'], alice);
  assert.equal(sub.network_id, priv.id);
  assert.equal(sub.gateway_ip, '10.0.0.1');
  // Azure reserves .0-.3 and the broadcast address
  assert.deepEqual(sub.allocation_pools, [{ start: '10.0.0.4', end: '10.0.0.254' }]);
  assert.deepEqual(sub.dns_nameservers, ['168.63.129.16']);
  assert.equal(sub.enable_dhcp, true);

  const list = await stack.http('GET', '/network/v2.0/networks', { token: tAlice });
  assert.equal(list.status, 200);
  assertNeutronShape('networks/networks-list-response.json', 'networks', list.body);
  const show = await stack.http('GET', `/network/v2.0/networks/${priv.id}`, { token: tAlice });
  assertNeutronShape('networks/network-show-response.json', 'network', show.body);
  assert.deepEqual(show.body.network.subnets, [sub.id]);
  assertNeutronShape('subnets/subnets-list-response.json', 'subnets', (await stack.http('GET', '/network/v2.0/subnets', { token: tAlice })).body);
  assertNeutronShape('subnets/subnet-show-response.json', 'subnet', (await stack.http('GET', `/network/v2.0/subnets/${sub.id}`, { token: tAlice })).body);
  // the operator's shared network belongs to the admin project
  const adminProject = (await stack.http('GET', '/identity/v3/auth/projects', { token: tAdmin })).body.projects[0].id;
  assert.equal(show.body.network.project_id, adminProject);
});

test("another project's network is invisible; admins see every network", async () => {
  const r = await stack.osc(['network', 'show', 'team-net'], bob);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /No Network found for team-net/);
  const h = await stack.http('GET', `/network/v2.0/networks/${teamNetId}`, { token: tBob });
  assert.equal(h.status, 404);
  assert.deepEqual(h.body, { NeutronError: { type: 'NetworkNotFound', message: `Network ${teamNetId} could not be found.`, detail: '' } });
  const bobs = await stack.http('GET', '/network/v2.0/networks', { token: tBob });
  assert.deepEqual(
    bobs.body.networks.map((n: { name: string }) => n.name),
    ['private'],
  );
  const bobSubnets = await stack.http('GET', '/network/v2.0/subnets', { token: tBob });
  assert.deepEqual(
    bobSubnets.body.subnets.map((n: { name: string }) => n.name),
    ['private-subnet'],
  );
  const own = await stack.http('GET', `/network/v2.0/networks/${teamNetId}`, { token: tAlice });
  assert.equal(own.body.network.project_id, alice.projectId);
  assert.equal(own.body.network.shared, false);
  const all = await stack.http('GET', '/network/v2.0/networks', { token: tAdmin });
  assert.equal(all.body.networks.length, 2);
  // bob cannot see alice's security group either
  const sgs = await stack.http('GET', '/network/v2.0/security-groups?fields=name&fields=project_id', { token: tBob });
  assert.deepEqual(sgs.body, { security_groups: [{ name: 'default', project_id: bob.projectId }] });
  assert.equal((await stack.http('GET', '/network/v2.0/networks', {})).status, 401);
});

test('security groups show the NSG rules translated to Neutron rules', async () => {
  const groups = await stack.oscJson<{ Name: string }[]>(['security', 'group', 'list'], alice);
  assert.deepEqual(groups.map((g) => g.Name).sort(), ['default', 'team-sg']);
  const sg = await stack.oscJson(['security', 'group', 'show', 'default'], alice);
  assert.equal(sg.description, 'Default security group');
  const http = await stack.http('GET', `/network/v2.0/security-groups/${sg.id}`, { token: tAlice });
  assertNeutronShape('security-groups/security-group-show-response.json', 'security_group', http.body);
  const rules = http.body.security_group.security_group_rules as Record<string, unknown>[];
  const summary = rules.map((r) => [r.direction, r.ethertype, r.protocol, r.port_range_min, r.port_range_max, r.remote_ip_prefix].join(' ')).sort();
  assert.deepEqual(summary, [
    // dns-out: any protocol with a port becomes tcp and udp; 0.0.0.0/0 is "any" for IPv4 only
    'egress IPv4 tcp 53 53 ',
    'egress IPv4 udp 53 53 ',
    // ping: an address becomes a /32
    'ingress IPv4 icmp   10.0.0.5/32',
    'ingress IPv4 tcp 22 22 203.0.113.0/24',
    // web: * covers both ethertypes, each port range is a rule
    'ingress IPv4 tcp 443 443 ',
    'ingress IPv4 tcp 80 80 ',
    'ingress IPv6 tcp 443 443 ',
    'ingress IPv6 tcp 80 80 ',
    // deny-telnet (Deny) and from-lb (a service tag) are not shown
  ]);
  assert.equal(rules.find((r) => r.port_range_min === 22)!.description, 'ssh from the office');
  const cliRules = await stack.oscJson<{ ID: string; 'IP Protocol': string | null }[]>(['security', 'group', 'rule', 'list'], alice);
  assert.equal(cliRules.length, rules.length);
  assert.deepEqual(cliRules.map((r) => r.ID).sort(), rules.map((r) => r.id).sort());
  // ids are stable: the same on every read
  const again = await stack.http('GET', '/network/v2.0/security-group-rules', { token: tAlice });
  assertNeutronShape('security-groups/security-group-rules-list-response.json', 'security_group_rules', again.body);
  assert.deepEqual(again.body.security_group_rules.map((r: { id: string }) => r.id).sort(), rules.map((r) => r.id).sort());
  const one = await stack.http('GET', `/network/v2.0/security-group-rules/${rules[0].id}`, { token: tAlice });
  assert.equal(one.status, 200);
  // the rule-show sample omits description, which the rules inside the group-show sample carry
  const sampleGroup = JSON.parse(readFileSync(path.join(SAMPLES, 'security-groups/security-group-show-response.json'), 'utf8'));
  assertNeutronShape('security-groups/security-group-rule-show-response.json', 'security_group_rule', one.body, sampleGroup.security_group.security_group_rules[0]);
  assert.equal(one.body.security_group_rule.security_group_id, sg.id);
  const missing = await stack.http('GET', `/network/v2.0/security-group-rules/${teamNetId}`, { token: tAlice });
  assert.equal(missing.body.NeutronError.type, 'SecurityGroupRuleNotFound');
  // a rule added to the NSG shows up on the next read
  await arm.network.securityRules.beginCreateOrUpdateAndWait(arm.resourceGroup, 'team-nsg', 'rdp', {
    protocol: 'Tcp',
    access: 'Allow',
    direction: 'Inbound',
    priority: 200,
    sourceAddressPrefix: '198.51.100.7',
    sourcePortRange: '*',
    destinationAddressPrefix: '*',
    destinationPortRange: '3389',
  });
  const team = await stack.http('GET', '/network/v2.0/security-groups?name=team-sg', { token: tAlice });
  assert.deepEqual(
    team.body.security_groups[0].security_group_rules.map((r: { port_range_min: number; remote_ip_prefix: string }) => [r.port_range_min, r.remote_ip_prefix]),
    [[3389, '198.51.100.7/32']],
  );
});

test('list queries: filters, fields, sorting, limit/marker with links, and their errors', async () => {
  const base = '/network/v2.0/networks';
  const get = (q: string) => stack.http('GET', `${base}?${q}`, { token: tAlice });
  assert.deepEqual((await get('shared=true&fields=name')).body, { networks: [{ name: 'private' }] });
  assert.deepEqual((await get('name=team-net&name=private&fields=name&sort_key=name&sort_dir=desc')).body.networks, [{ name: 'team-net' }, { name: 'private' }]);
  assert.deepEqual(
    (await get('router:external=false&sort_key=name&sort_dir=asc&fields=name&fields=id')).body.networks.map((n: { name: string }) => n.name),
    ['private', 'team-net'],
  );
  const p1 = await get('limit=1&sort_key=name&sort_dir=asc');
  assert.equal(p1.body.networks.length, 1);
  assert.equal(p1.body.networks[0].name, 'private');
  const next = p1.body.networks_links.find((l: { rel: string }) => l.rel === 'next').href as string;
  assert.ok(next.startsWith(`${stack.url}/network/v2.0/networks?`), next);
  const p2 = await stack.http('GET', next.slice(stack.url.length), { token: tAlice });
  assert.deepEqual(
    p2.body.networks.map((n: { name: string }) => n.name),
    ['team-net'],
  );
  const p3 = await stack.http('GET', p2.body.networks_links.find((l: { rel: string }) => l.rel === 'next').href.slice(stack.url.length), { token: tAlice });
  assert.deepEqual(p3.body.networks, []);
  assert.deepEqual(
    p3.body.networks_links.map((l: { rel: string }) => l.rel),
    ['previous'],
  );
  // errors, worded as Neutron words them
  const bad = await get('colour=blue');
  assert.equal(bad.status, 400);
  assert.deepEqual(bad.body.NeutronError, { type: 'HTTPBadRequest', message: "['colour'] is invalid attribute for filtering", detail: '' });
  assert.equal((await get('sort_key=name')).body.NeutronError.message, 'The number of sort_keys and sort_dirs must be same');
  assert.equal((await get('shared=maybe')).status, 400);
  assert.equal((await get('limit=x')).status, 400);
  const marker = await get(`limit=1&marker=${randomUUID()}`);
  assert.equal(marker.status, 404);
  assert.equal(marker.body.NeutronError.type, 'NetworkNotFound');
});

test('ports: the records the servers module writes, one per NIC, scoped to their project', async () => {
  assert.deepEqual((await stack.http('GET', '/network/v2.0/ports', { token: tAlice })).body, { ports: [] });
  const now = new Date().toISOString();
  const subnetId = stableUuid('subnet:ops_resource_group/jacket-vnet/default');
  const port = (project: string, device: string, ip: string): PortRecord => ({
    id: randomUUID(),
    project_id: project,
    name: '',
    network_id: stableUuid('network:ops_resource_group/jacket-vnet/default'),
    device_id: device,
    device_owner: 'compute:nova',
    mac_address: `00:0d:3a:00:00:${ip.split('.')[3].padStart(2, '0')}`,
    fixed_ips: [{ subnet_id: subnetId, ip_address: ip }],
    security_groups: [],
    status: 'ACTIVE',
    created_at: now,
    updated_at: now,
  });
  const store = portStore(stack.cloud.services);
  const a1 = port(alice.projectId, randomUUID(), '10.0.0.4');
  const a2 = port(alice.projectId, randomUUID(), '10.0.0.5');
  const b1 = port(bob.projectId, randomUUID(), '10.0.0.6');
  for (const p of [a1, a2, b1]) await store.put(p);
  const cli = await stack.oscJson<{ ID: string; 'MAC Address': string; 'Fixed IP Addresses': unknown }[]>(['port', 'list'], alice);
  assert.deepEqual(cli.map((p) => p.ID).sort(), [a1.id, a2.id].sort());
  const byDevice = await stack.http('GET', `/network/v2.0/ports?device_id=${a2.device_id}`, { token: tAlice });
  assertNeutronShape('ports/ports-list-response.json', 'ports', byDevice.body);
  assert.deepEqual(
    byDevice.body.ports.map((p: { id: string }) => p.id),
    [a2.id],
  );
  const byIp = await stack.http('GET', '/network/v2.0/ports?fixed_ips=ip_address%3D10.0.0.4', { token: tAlice });
  assert.deepEqual(
    byIp.body.ports.map((p: { id: string }) => p.id),
    [a1.id],
  );
  const show = await stack.http('GET', `/network/v2.0/ports/${a1.id}`, { token: tAlice });
  assertNeutronShape('ports/port-show-response.json', 'port', show.body);
  assert.equal(show.body.port.device_owner, 'compute:nova');
  const hidden = await stack.http('GET', `/network/v2.0/ports/${b1.id}`, { token: tAlice });
  assert.equal(hidden.status, 404);
  assert.deepEqual(hidden.body.NeutronError, { type: 'PortNotFound', message: `Port ${b1.id} could not be found.`, detail: '' });
  assert.equal((await stack.http('GET', `/network/v2.0/ports/${b1.id}`, { token: tAdmin })).body.port.project_id, bob.projectId);
  const adminAll = await stack.http('GET', '/network/v2.0/ports', { token: tAdmin });
  assert.equal(adminAll.body.ports.length, 3);
  await store.remove(alice.projectId, a1.id);
  assert.deepEqual(
    (await stack.http('GET', '/network/v2.0/ports', { token: tAlice })).body.ports.map((p: { id: string }) => p.id),
    [a2.id],
  );
});

test('with project networks off (JACKET_PROJECT_NETWORKS=false), network writes answer as Neutron does for a plugin without them; absent extensions are 404', async () => {
  // The setting is read per request; this file's other tests read catalog networks only.
  stack.cloud.services.config.azure.projectNetworks = false;
  try {
    await writesRefused();
  } finally {
    stack.cloud.services.config.azure.projectNetworks = true;
  }
});

async function writesRefused() {
  const r = await stack.osc(['network', 'create', 'x'], alice);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /HttpException: 501.*create_network is not supported/);
  const subnet = await stack.http('POST', '/network/v2.0/subnets', { token: tAlice, body: { subnet: { network_id: teamNetId, cidr: '10.9.0.0/24', ip_version: 4 } } });
  assert.equal(subnet.status, 501);
  assert.equal(subnet.body.NotImplementedError.type, 'NotImplementedError');
  assert.equal((await stack.http('DELETE', `/network/v2.0/networks/${teamNetId}`, { token: tAlice })).status, 501);
  // nothing changed
  assert.equal((await stack.http('GET', '/network/v2.0/networks', { token: tAlice })).body.networks.length, 2);
  // a reader may not even try: oslo.policy's wording (security groups are writable: security-groups.test.ts)
  const carol = await stack.makeProjectUser('net-c', 'carol', 'reader');
  const tCarol = await stack.token(carol);
  const sg = await stack.http('POST', '/network/v2.0/security-groups', { token: tCarol, body: { security_group: { name: 'web' } } });
  assert.equal(sg.status, 403);
  assert.equal(sg.body.NeutronError.message, 'rule:create_security_group is disallowed by policy');
  const denied = await stack.http('POST', '/network/v2.0/networks', { token: tCarol, body: { network: { name: 'x' } } });
  assert.equal(denied.status, 403);
  assert.deepEqual(denied.body.NeutronError, { type: 'PolicyNotAuthorized', message: 'rule:create_network is disallowed by policy', detail: '' });
  assert.equal((await stack.http('GET', '/network/v2.0/networks', { token: tCarol })).status, 200);
  for (const p of ['/network/v2.0/trunks', '/network/v2.0/qos/policies']) {
    const h = await stack.http('POST', p, { token: tAlice, body: {} });
    assert.equal(h.status, 404);
    assert.deepEqual(h.body.NeutronError, { type: 'HTTPNotFound', message: 'The resource could not be found.', detail: '' });
  }
}

test('version document, v2.0 index and the extensions honoured', async () => {
  const v = await stack.http('GET', '/network');
  assertNeutronShape('networks/versions-list-response.json', 'versions', v.body);
  assert.deepEqual(v.body.versions[0].links, [{ rel: 'self', href: `${stack.url}/network/v2.0/` }]);
  const idx = await stack.http('GET', '/network/v2.0/', { token: tAlice });
  assertNeutronShape('networks/version-show-response.json', 'resources', idx.body);
  assert.deepEqual(
    idx.body.resources.map((r: { collection: string }) => r.collection),
    ['subnets', 'networks', 'ports'],
  );
  const ext = await stack.http('GET', '/network/v2.0/extensions', { token: tAlice });
  const aliases = ext.body.extensions.map((e: { alias: string }) => e.alias);
  for (const a of ['security-group', 'external-net', 'pagination', 'sorting', 'filter-validation']) assert.ok(aliases.includes(a), a);
  for (const a of ['l3', 'floatingip', 'dns-integration', 'trunk']) assert.ok(!aliases.includes(a), a);
  const one = await stack.http('GET', '/network/v2.0/extensions/security-group', { token: tAlice });
  assert.deepEqual(Object.keys(one.body.extension).sort(), ['alias', 'description', 'links', 'name', 'updated']);
  const none = await stack.http('GET', '/network/v2.0/extensions/trunk', { token: tAlice });
  assert.equal(none.status, 404);
  assert.equal(none.body.NeutronError.message, 'Extension with alias trunk does not exist');
});

test('the catalog sections are validated, with defaults when absent', () => {
  const cfg = stack.cloud.services.config;
  const dflt = parseNetworkCatalog({ ...cfg, catalog: {} });
  assert.deepEqual(
    dflt.networks.map((n) => [n.name, n.shared, n['router:external'], n.azure.vnet, n.azure.subnet, n.subnet.cidr]),
    [
      ['private', true, false, 'jacket-vnet', 'default', '10.0.0.0/24'],
      // Azure's public addresses, for floating IPs: no Azure subnet.
      ['public', false, true, '', '', '0.0.0.0/0'],
    ],
  );
  assert.deepEqual(
    dflt.securityGroups.map((s) => [s.name, s.azure.nsg]),
    [['default', 'jacket-nsg']],
  );
  // same names, same ids: stable across restarts
  assert.equal(parseNetworkCatalog({ ...cfg, catalog: {} }).securityGroups[0].id, dflt.securityGroups[0].id);
  const bad = (catalog: Record<string, unknown>, re: RegExp) =>
    assert.throws(
      () => parseNetworkCatalog({ ...cfg, catalog }),
      (e: Error) => e instanceof ConfigError && re.test(e.message),
    );
  bad({ networks: [{ name: 'x', subnet: { cidr: '10.0.0.0/24' } }] }, /catalog\.networks\/0 must have required property 'azure'/);
  bad({ networks: [{ name: 'x', subnet: { cidr: '10.0.0.7/24' }, azure: { vnet: 'v', subnet: 's' } }] }, /not a network address/);
  bad({ networks: [{ name: 'x', subnet: { cidr: '10.0.0.0/24', gateway_ip: '10.9.0.1' }, azure: { vnet: 'v', subnet: 's' } }] }, /gateway_ip 10\.9\.0\.1 is not in/);
  bad({ securityGroups: [{ id: 'not-a-uuid', name: 'x', azure: { nsg: 'n' } }] }, /catalog\.securityGroups\/0\/id must match format "uuid"/);
  const v6 = parseNetworkCatalog({ ...cfg, catalog: { networks: [{ name: 'v6', subnet: { cidr: 'fd00:0:0:1::/64' }, azure: { vnet: 'v', subnet: 's' } }] } });
  assert.deepEqual([v6.networks[0].subnet.ip_version, v6.networks[0].subnet.gateway_ip], [6, 'fd00:0:0:1::1']);
});
