// Project security groups and rules on NSGs Jacket owns, and Neutron's quotas, end to end (issue 13):
// through the real `openstack` CLI (quota show, security group create, rule create --dst-port 22,
// server create --security-group) against the ARM emulator, whose NSG and NIC are checked with the
// real @azure/arm-network client; Neutron's errors for bad rules and duplicates, with nothing changed in
// Azure; racing creates against a quota with two left admit exactly two; no project sees or changes
// another's groups.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startArmStack, waitFor, type ArmStack } from '../support/armStack';
import type { Creds } from '../support/stack';
import { randomUUID } from 'node:crypto';
import { sweepNics } from '../../shared/timers/nics';

const RG = 'ops_resource_group';
let arm: ArmStack;
let alice: Creds & { projectId: string; userId: string };
let bob: Creds & { projectId: string; userId: string };
let tAlice: string;
let tBob: string;
let tAdmin: string;

before(async () => {
  arm = await startArmStack({ asyncDelayMs: 0 });
  alice = await arm.stack.makeProjectUser('sg-a', 'sgalice');
  bob = await arm.stack.makeProjectUser('sg-b', 'sgbob');
  [tAlice, tBob, tAdmin] = await Promise.all([arm.stack.token(alice), arm.stack.token(bob), arm.stack.token()]);
});
after(async () => {
  arm?.control.close();
  await arm?.stop();
});

const net = (token: string, method: string, p: string, body?: unknown) => arm.stack.http(method, `/network/v2.0${p}`, { token, body });

/** The NSG's custom rules as Azure has them (name -> rule). */
async function nsgRules(nsg: string) {
  const g = await arm.network.networkSecurityGroups.get(RG, nsg);
  return new Map((g.securityRules ?? []).map((r) => [r.name!, r]));
}

test('openstack quota show answers with Neutron quotas, and --usage counts what the project made', async () => {
  const rows = await arm.stack.oscJson<{ Resource: string; Limit: number | null }[]>(['quota', 'show'], alice);
  const q = new Map(rows.map((r) => [r.Resource, r.Limit]));
  // Compute, volume and network rows in one table; these come from Neutron's answer (rbac_policies and
  // subnet_pools exist nowhere else).
  for (const [k, v] of Object.entries({
    security_groups: 10,
    security_group_rules: 100,
    ports: 500,
    networks: 100,
    floating_ips: 50,
    routers: 10,
    subnets: 100,
    rbac_policies: 10,
    subnet_pools: -1,
  })) {
    assert.equal(q.get(k), v, `${k}: ${JSON.stringify(rows)}`);
  }
  const r = await net(tAlice, 'GET', `/quotas/${alice.projectId}/details`);
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.body.quota.security_group, { limit: 10, used: 0, reserved: 0 });
  // Another project's quota is not a member's to read.
  assert.equal((await net(tBob, 'GET', `/quotas/${alice.projectId}`)).status, 403);
  const ext = (await net(tAlice, 'GET', '/extensions')).body.extensions.map((e: { alias: string }) => e.alias);
  for (const a of ['quotas', 'quota_details']) assert.ok(ext.includes(a), a);
});

test('security group create, rule create --dst-port 22, server create --security-group: the rule is in the NIC’s NSG', async () => {
  const g = await arm.stack.oscJson<{ id: string; name: string; rules: unknown[] }>(['security', 'group', 'create', 'web', '--description', 'web servers'], alice);
  assert.equal(g.name, 'web');
  const nsg = `sg-${g.id}`;
  const azure = await arm.network.networkSecurityGroups.get(RG, nsg);
  assert.equal(azure.tags?.jacket, 'security-group');
  assert.equal(azure.tags?.['jacket-project-id'], alice.projectId);
  // Neutron's two default egress rules, as Allow Outbound rules.
  assert.equal((azure.securityRules ?? []).filter((r) => r.direction === 'Outbound' && r.access === 'Allow').length, 2);

  const rule = await arm.stack.oscJson<{ id: string; port_range_min: number; port_range_max: number; protocol: string; direction: string }>(
    ['security', 'group', 'rule', 'create', '--dst-port', '22', '--protocol', 'tcp', 'web'],
    alice,
  );
  assert.equal(rule.port_range_min, 22);
  assert.equal(rule.port_range_max, 22);
  assert.equal(rule.direction, 'ingress');
  const inAzure = (await nsgRules(nsg)).get(`jacket-${rule.id}`);
  assert.ok(inAzure, 'the rule is an NSG security rule');
  assert.equal(inAzure.direction, 'Inbound');
  assert.equal(inAzure.access, 'Allow');
  assert.equal(inAzure.protocol, 'Tcp');
  assert.equal(inAzure.destinationPortRange, '22');
  assert.equal(inAzure.sourceAddressPrefix, '0.0.0.0/0');

  // A range and a CIDR; priorities Jacket allocates are distinct per direction.
  const r2 = await arm.stack.oscJson<{ id: string }>(['security', 'group', 'rule', 'create', '--dst-port', '8000:8080', '--protocol', 'tcp', '--remote-ip', '10.1.0.0/16', 'web'], alice);
  const azureRules = await nsgRules(nsg);
  assert.equal(azureRules.get(`jacket-${r2.id}`)?.destinationPortRange, '8000-8080');
  assert.equal(azureRules.get(`jacket-${r2.id}`)?.sourceAddressPrefix, '10.1.0.0/16');
  const inbound = [...azureRules.values()].filter((r) => r.direction === 'Inbound').map((r) => r.priority);
  assert.equal(new Set(inbound).size, inbound.length, `distinct priorities: ${inbound}`);

  const listed = await arm.stack.oscJson<{ ID: string; 'Port Range': string }[]>(['security', 'group', 'rule', 'list', 'web'], alice);
  assert.equal(listed.length, 4);
  assert.ok(listed.some((l) => l.ID === rule.id && l['Port Range'] === '22:22'));

  // The server's NIC carries the group's NSG.
  const image = (await arm.stack.http('GET', '/image/v2/images?name=ubuntu-22.04', { token: tAlice })).body.images[0].id;
  const network = (await net(tAlice, 'GET', '/networks?name=private')).body.networks[0].id;
  const srv = await arm.stack.oscJson<{ id: string }>(['server', 'create', '--flavor', '3', '--image', image, '--network', network, '--security-group', 'web', 'sg-vm'], alice);
  await waitFor('server ACTIVE', async () => ((await arm.stack.http('GET', `/compute/v2.1/servers/${srv.id}`, { token: tAlice })).body.server.status === 'ACTIVE' ? true : undefined), 120000);
  const nic = await arm.network.networkInterfaces.get(RG, srv.id);
  assert.equal(nic.networkSecurityGroup?.id?.toLowerCase(), azure.id?.toLowerCase());
  const shown = await arm.stack.http('GET', `/compute/v2.1/servers/${srv.id}`, { token: tAlice });
  assert.deepEqual(shown.body.server.security_groups, [{ name: 'web' }]);
  const ports = (await net(tAlice, 'GET', `/ports?device_id=${srv.id}`)).body.ports;
  assert.deepEqual(ports[0].security_groups, [g.id]);

  // A group in use cannot go (Azure refuses to delete an NSG a NIC uses): Neutron's 409.
  const inUse = await net(tAlice, 'DELETE', `/security-groups/${g.id}`);
  assert.equal(inUse.status, 409, inUse.text);
  assert.equal(inUse.body.NeutronError.type, 'SecurityGroupInUse');

  // Rule delete takes it out of Azure.
  await arm.stack.oscOk(['security', 'group', 'rule', 'delete', r2.id], alice);
  assert.equal((await nsgRules(nsg)).has(`jacket-${r2.id}`), false);

  await arm.stack.oscOk(['server', 'delete', '--wait', srv.id], alice);
  await arm.stack.oscOk(['security', 'group', 'delete', 'web'], alice);
  await assert.rejects(arm.network.networkSecurityGroups.get(RG, nsg), (e: { statusCode?: number }) => e.statusCode === 404);
  // What is left is the project's `default` group (made at the CLI's first look at the groups) and
  // its four rules, counted as Neutron counts them.
  const details = (await net(tAlice, 'GET', `/quotas/${alice.projectId}/details`)).body.quota;
  assert.deepEqual(details.security_group, { limit: 10, used: 1, reserved: 0 });
  assert.deepEqual(details.security_group_rule, { limit: 100, used: 4, reserved: 0 });
});

test('bad rules get Neutron’s errors and change nothing in Azure', async () => {
  const g = (await net(tAlice, 'POST', '/security-groups', { security_group: { name: 'strict' } })).body.security_group;
  assert.equal(g.security_group_rules.length, 2);
  const nsg = `sg-${g.id}`;
  const before = [...(await nsgRules(nsg)).keys()].sort();
  const cases: [Record<string, unknown>, number, string][] = [
    [{ direction: 'ingress', protocol: 'tcp', port_range_min: 90, port_range_max: 80 }, 400, 'SecurityGroupInvalidPortRange'],
    [{ direction: 'ingress', port_range_min: 22, port_range_max: 22 }, 400, 'SecurityGroupProtocolRequiredWithPorts'],
    [{ direction: 'ingress', protocol: 'tcp', remote_ip_prefix: '10.0.0.300/8' }, 400, 'HTTPBadRequest'],
    [{ direction: 'ingress', protocol: 'tcp', ethertype: 'IPv6', remote_ip_prefix: '10.0.0.0/8' }, 400, 'SecurityGroupRuleParameterConflict'],
    [{ direction: 'sideways' }, 400, 'HTTPBadRequest'],
    [{ direction: 'ingress', protocol: 'tcp', port_range_min: 70000, port_range_max: 70000 }, 400, 'SecurityGroupInvalidPortValue'],
    [{ direction: 'ingress', protocol: 'bogus' }, 400, 'SecurityGroupRuleInvalidProtocol'],
    // Neutron's default egress rule again: a duplicate.
    [{ direction: 'egress', ethertype: 'IPv4' }, 409, 'SecurityGroupRuleExists'],
  ];
  for (const [rule, status, type] of cases) {
    const r = await net(tAlice, 'POST', '/security-group-rules', { security_group_rule: { security_group_id: g.id, ...rule } });
    assert.equal(r.status, status, `${JSON.stringify(rule)}: ${r.text}`);
    assert.equal(r.body.NeutronError.type, type, JSON.stringify(rule));
  }
  // A CIDR with host bits set is normalised, as Neutron does.
  const ok = await net(tAlice, 'POST', '/security-group-rules', {
    security_group_rule: { security_group_id: g.id, direction: 'ingress', protocol: 'udp', port_range_min: 53, port_range_max: 53, remote_ip_prefix: '192.168.7.9/24' },
  });
  assert.equal(ok.status, 201, ok.text);
  assert.equal(ok.body.security_group_rule.remote_ip_prefix, '192.168.7.0/24');
  const after = [...(await nsgRules(nsg)).keys()].sort();
  assert.deepEqual(after, [...before, `jacket-${ok.body.security_group_rule.id}`].sort());
  // A second `default` is refused; names are otherwise free.
  const dflt = await net(tAlice, 'POST', '/security-groups', { security_group: { name: 'default' } });
  assert.equal(dflt.status, 409);
  assert.equal(dflt.body.NeutronError.type, 'SecurityGroupDefaultAlreadyExists');
  assert.equal((await net(tAlice, 'DELETE', `/security-groups/${g.id}`)).status, 204);
});

test('racing group and rule creates against a quota with two left admit exactly two', async () => {
  assert.equal((await net(tAdmin, 'PUT', `/quotas/${bob.projectId}`, { quota: { security_group: 2, security_group_rule: 8 } })).status, 200);
  const race = async <T>(n: number, f: (i: number) => Promise<T>) => {
    let release!: () => void;
    const barrier = new Promise<void>((r) => (release = r));
    const all = Array.from({ length: n }, async (_, i) => {
      await barrier;
      return f(i);
    });
    release();
    return Promise.all(all);
  };
  const groups = await race(6, (i) => net(tBob, 'POST', '/security-groups', { security_group: { name: `g${i}` } }));
  const made = groups.filter((r) => r.status === 201);
  assert.equal(made.length, 2, groups.map((r) => `${r.status} ${r.text}`).join('\n'));
  for (const r of groups.filter((x) => x.status !== 201)) {
    assert.equal(r.status, 409, r.text);
    assert.deepEqual(r.body.NeutronError, { type: 'OverQuota', message: "Quota exceeded for resources: ['security_group'].", detail: '' });
  }
  // Two groups hold 4 default rules; 4 more fit under 8.
  const gid = made[0].body.security_group.id;
  const rules = await race(8, (i) =>
    net(tBob, 'POST', '/security-group-rules', { security_group_rule: { security_group_id: gid, direction: 'ingress', protocol: 'tcp', port_range_min: 1000 + i, port_range_max: 1000 + i } }),
  );
  assert.equal(rules.filter((r) => r.status === 201).length, 4, rules.map((r) => `${r.status} ${r.text}`).join('\n'));
  assert.ok(rules.filter((r) => r.status !== 201).every((r) => r.status === 409 && r.body.NeutronError.type === 'OverQuota'));
  // Every admitted rule is in Azure, with a distinct priority; the refused ones are not.
  const azure = [...(await nsgRules(`sg-${gid}`)).values()].filter((r) => r.direction === 'Inbound');
  assert.equal(azure.length, 4);
  assert.equal(new Set(azure.map((r) => r.priority)).size, 4);
  const details = (await net(tBob, 'GET', `/quotas/${bob.projectId}/details`)).body.quota;
  assert.deepEqual(details.security_group, { limit: 2, used: 2, reserved: 0 });
  assert.deepEqual(details.security_group_rule, { limit: 8, used: 8, reserved: 0 });
  // The Azure resources left behind by the refused ones: none (only the two groups' NSGs exist for bob).
  const bobs = [];
  for await (const n of arm.network.networkSecurityGroups.list(RG)) if (n.tags?.['jacket-project-id'] === bob.projectId) bobs.push(n.name);
  assert.equal(bobs.length, 2);
});

test('no project sees or changes another project’s groups and rules', async () => {
  const mine = (await net(tAlice, 'POST', '/security-groups', { security_group: { name: 'private-sg' } })).body.security_group;
  const ruleId = mine.security_group_rules[0].id;
  const seen = (await net(tBob, 'GET', '/security-groups')).body.security_groups.map((g: { id: string }) => g.id);
  assert.ok(!seen.includes(mine.id));
  assert.equal((await net(tBob, 'GET', `/security-groups/${mine.id}`)).status, 404);
  assert.equal((await net(tBob, 'PUT', `/security-groups/${mine.id}`, { security_group: { name: 'x' } })).status, 404);
  assert.equal((await net(tBob, 'DELETE', `/security-groups/${mine.id}`)).status, 404);
  assert.equal((await net(tBob, 'GET', `/security-group-rules/${ruleId}`)).status, 404);
  assert.equal((await net(tBob, 'DELETE', `/security-group-rules/${ruleId}`)).status, 404);
  const foreign = await net(tBob, 'POST', '/security-group-rules', { security_group_rule: { security_group_id: mine.id, direction: 'ingress' } });
  assert.equal(foreign.status, 404, foreign.text);
  // Bob cannot boot into it either.
  const image = (await arm.stack.http('GET', '/image/v2/images?name=ubuntu-22.04', { token: tBob })).body.images[0].id;
  const network = (await net(tBob, 'GET', '/networks?name=private')).body.networks[0].id;
  const boot = await arm.stack.http('POST', '/compute/v2.1/servers', {
    token: tBob,
    body: { server: { name: 'x', flavorRef: '3', imageRef: image, networks: [{ uuid: network }], security_groups: [{ name: mine.id }] } },
  });
  assert.equal(boot.status, 400, boot.text);
  // Still whole for its owner; the admin sees it.
  const still = await net(tAlice, 'GET', `/security-groups/${mine.id}`);
  assert.equal(still.body.security_group.name, 'private-sg');
  assert.equal(still.body.security_group.security_group_rules.length, 2);
  assert.ok((await net(tAdmin, 'GET', '/security-groups')).body.security_groups.some((g: { id: string }) => g.id === mine.id));
});

test('the network sweep deletes a Jacket NSG whose group record is gone, after two passes, and nothing else', async () => {
  const s = arm.stack.cloud.services;
  // An NSG left by a create that died before its record (or a delete that died after Azure): tagged, no record.
  const orphanId = randomUUID();
  const tags = { jacket: 'security-group', 'jacket-security-group-id': orphanId, 'jacket-project-id': alice.projectId };
  await arm.network.networkSecurityGroups.beginCreateOrUpdateAndWait(RG, `sg-${orphanId}`, { location: arm.emu.location, tags }, { updateIntervalInMs: 50 });
  // A tagged NSG whose name does not match its tag, and an untagged one: not Jacket's to judge.
  const otherId = randomUUID();
  await arm.network.networkSecurityGroups.beginCreateOrUpdateAndWait(
    RG,
    'sg-imposter',
    { location: arm.emu.location, tags: { ...tags, 'jacket-security-group-id': otherId } },
    { updateIntervalInMs: 50 },
  );
  await arm.network.networkSecurityGroups.beginCreateOrUpdateAndWait(RG, 'operators-nsg', { location: arm.emu.location }, { updateIntervalInMs: 50 });
  // The same for application security groups: a Jacket one no record owns, an imposter, the operator's.
  await arm.network.applicationSecurityGroups.beginCreateOrUpdateAndWait(RG, `asg-${orphanId}`, { location: arm.emu.location, tags }, { updateIntervalInMs: 50 });
  await arm.network.applicationSecurityGroups.beginCreateOrUpdateAndWait(RG, 'asg-imposter', { location: arm.emu.location, tags }, { updateIntervalInMs: 50 });
  await arm.network.applicationSecurityGroups.beginCreateOrUpdateAndWait(RG, 'operators-asg', { location: arm.emu.location }, { updateIntervalInMs: 50 });
  // And an orphaned one a NIC still names: Azure refuses its delete, so it stays.
  const heldId = randomUUID();
  const held = await arm.network.applicationSecurityGroups.beginCreateOrUpdateAndWait(
    RG,
    `asg-${heldId}`,
    { location: arm.emu.location, tags: { ...tags, 'jacket-security-group-id': heldId } },
    { updateIntervalInMs: 50 },
  );
  const subnet = (await arm.network.subnets.get(RG, 'jacket-vnet', 'default')).id;
  await arm.network.networkInterfaces.beginCreateOrUpdateAndWait(
    RG,
    'operators-nic',
    { location: arm.emu.location, ipConfigurations: [{ name: 'ipconfig1', subnet: { id: subnet }, applicationSecurityGroups: [{ id: held.id }] }] },
    { updateIntervalInMs: 50 },
  );
  const live = (await net(tAlice, 'POST', '/security-groups', { security_group: { name: 'live' } })).body.security_group;

  const first = await sweepNics(s);
  assert.ok(!first.deletedNames.includes(`sg-${orphanId}`), 'one pass never deletes');
  assert.ok((first.skipped['first-pass'] ?? 0) >= 1, JSON.stringify(first));
  const second = await sweepNics(s);
  assert.ok(second.deletedNames.includes(`sg-${orphanId}`), JSON.stringify(second));
  const left = [];
  for await (const n of arm.network.networkSecurityGroups.list(RG)) left.push(n.name);
  assert.ok(!left.includes(`sg-${orphanId}`));
  for (const kept of ['sg-imposter', 'operators-nsg', `sg-${live.id}`]) assert.ok(left.includes(kept), `${kept} kept`);
  assert.ok((second.skipped.owned ?? 0) >= 1 && (second.skipped['not-jacket'] ?? 0) >= 2, JSON.stringify(second));
  assert.ok(!first.deletedNames.includes(`asg-${orphanId}`));
  assert.ok(second.deletedNames.includes(`asg-${orphanId}`), JSON.stringify(second));
  const asgs = [];
  for await (const a of arm.network.applicationSecurityGroups.list(RG)) asgs.push(a.name);
  assert.ok(!asgs.includes(`asg-${orphanId}`));
  for (const kept of ['asg-imposter', 'operators-asg', `asg-${live.id}`, `asg-${heldId}`]) assert.ok(asgs.includes(kept), `${kept} kept`);
  assert.ok((second.skipped.attached ?? 0) >= 1, JSON.stringify(second));
  await arm.network.networkInterfaces.beginDeleteAndWait(RG, 'operators-nic', { updateIntervalInMs: 50 });
});

test('Nova’s proxies: os-security-groups, os-security-group-rules, server os-security-groups, add/removeSecurityGroup', async () => {
  const nova = (method: string, p: string, body?: unknown) => arm.stack.http(method, `/compute/v2.1${p}`, { token: tAlice, body });
  const made = await nova('POST', '/os-security-groups', { security_group: { name: 'nova-web', description: 'via nova' } });
  assert.equal(made.status, 200, made.text);
  const g = made.body.security_group;
  assert.deepEqual(Object.keys(g).sort(), ['description', 'id', 'name', 'rules', 'tenant_id']);
  assert.deepEqual(g.rules, [], 'egress rules are not shown by Nova');
  assert.equal((await net(tAlice, 'GET', `/security-groups/${g.id}`)).body.security_group.name, 'nova-web');
  const rule = await nova('POST', '/os-security-group-rules', { security_group_rule: { parent_group_id: g.id, ip_protocol: 'tcp', from_port: 22, to_port: 22, cidr: '10.0.0.0/24' } });
  assert.equal(rule.status, 200, rule.text);
  assert.deepEqual(rule.body.security_group_rule, {
    id: rule.body.security_group_rule.id,
    parent_group_id: g.id,
    ip_protocol: 'tcp',
    from_port: 22,
    to_port: 22,
    group: {},
    ip_range: { cidr: '10.0.0.0/24' },
  });
  assert.equal((await nsgRules(`sg-${g.id}`)).get(`jacket-${rule.body.security_group_rule.id}`)?.destinationPortRange, '22');
  const dup = await nova('POST', '/os-security-group-rules', { security_group_rule: { parent_group_id: g.id, ip_protocol: 'tcp', from_port: 22, to_port: 22, cidr: '10.0.0.0/24' } });
  assert.equal(dup.status, 400, dup.text);
  assert.equal(dup.body.badRequest.message, `This rule already exists in group ${g.id}`);
  assert.equal((await nova('POST', '/os-security-group-rules', { security_group_rule: { parent_group_id: g.id, ip_protocol: 'tcp', from_port: 90, to_port: 80 } })).status, 400);
  assert.equal((await nova('GET', '/os-security-groups/not-a-uuid')).status, 400);
  const listed = (await nova('GET', '/os-security-groups')).body.security_groups;
  assert.ok(listed.some((x: { id: string; rules: unknown[] }) => x.id === g.id && x.rules.length === 1));
  assert.ok(
    listed.some((x: { name: string; tenant_id: string }) => x.name === 'default' && x.tenant_id === alice.projectId),
    'the project’s default is listed',
  );
  // Its ingress rules come from the group itself: Nova's `group` branch, no address range.
  const own = listed.find((x: { name: string; tenant_id: string }) => x.name === 'default' && x.tenant_id === alice.projectId);
  assert.deepEqual(
    own.rules.map((r: { group: unknown; ip_range: unknown; ip_protocol: unknown }) => [r.group, r.ip_range, r.ip_protocol]),
    [
      [{ name: 'default', tenant_id: alice.projectId }, {}, null],
      [{ name: 'default', tenant_id: alice.projectId }, {}, null],
    ],
  );

  // A server on the project's default: swap it for nova-web through the actions.
  const image = (await arm.stack.http('GET', '/image/v2/images?name=ubuntu-22.04', { token: tAlice })).body.images[0].id;
  const network = (await net(tAlice, 'GET', '/networks?name=private')).body.networks[0].id;
  const srv = (await nova('POST', '/servers', { server: { name: 'sg-actions', flavorRef: '3', imageRef: image, networks: [{ uuid: network }] } })).body.server.id;
  await waitFor('server ACTIVE', async () => ((await nova('GET', `/servers/${srv}`)).body.server.status === 'ACTIVE' ? true : undefined), 120000);
  // Without a group the server is in the project's own `default` (not the operator's jacket-nsg):
  // its NIC carries the default group's NSG and is in its ASG.
  const dflt = (await net(tAlice, 'GET', '/security-groups?name=default')).body.security_groups;
  assert.equal(dflt.length, 1, JSON.stringify(dflt));
  assert.equal(dflt[0].project_id, alice.projectId);
  const before = await arm.network.networkInterfaces.get(RG, srv);
  assert.equal(before.networkSecurityGroup?.id?.toLowerCase().endsWith(`/sg-${dflt[0].id}`), true, before.networkSecurityGroup?.id);
  assert.deepEqual(
    before.ipConfigurations?.[0].applicationSecurityGroups?.map((a) => a.id?.split('/').pop()),
    [`asg-${dflt[0].id}`],
  );
  // A second group: the NIC carries the combination of both (securityGroupSets.ts), in both ASGs.
  const one = await nova('POST', `/servers/${srv}/action`, { addSecurityGroup: { name: 'nova-web' } });
  assert.equal(one.status, 202, one.text);
  const both = await arm.network.networkInterfaces.get(RG, srv);
  const combo = both.networkSecurityGroup?.id?.split('/').pop() ?? '';
  assert.match(combo, /^sgs-/);
  assert.deepEqual(both.ipConfigurations?.[0].applicationSecurityGroups?.map((a) => a.id?.split('/').pop()).sort(), [`asg-${dflt[0].id}`, `asg-${g.id}`].sort());
  assert.equal((await nova('POST', `/servers/${srv}/action`, { removeSecurityGroup: { name: 'nova-web' } })).status, 202);
  assert.equal((await arm.network.networkInterfaces.get(RG, srv)).networkSecurityGroup?.id?.toLowerCase().endsWith(`/sg-${dflt[0].id}`), true);
  await assert.rejects(arm.network.networkSecurityGroups.get(RG, combo), (e: { statusCode?: number }) => e.statusCode === 404);
  assert.equal((await nova('POST', `/servers/${srv}/action`, { removeSecurityGroup: { name: 'nova-web' } })).status, 400);
  // No group at all: Neutron passes nothing, so the NIC carries the deny-all NSG, in no ASG.
  assert.equal((await nova('POST', `/servers/${srv}/action`, { removeSecurityGroup: { name: 'default' } })).status, 202);
  const none = await arm.network.networkInterfaces.get(RG, srv);
  const denyAll = none.networkSecurityGroup?.id?.split('/').pop() ?? '';
  assert.deepEqual((await arm.network.networkSecurityGroups.get(RG, denyAll)).securityRules?.map((r) => [r.access, r.direction, r.priority]).sort(), [
    ['Deny', 'Inbound', 4096],
    ['Deny', 'Outbound', 4096],
  ]);
  assert.equal(none.ipConfigurations?.[0].applicationSecurityGroups, undefined);
  assert.equal((await nova('POST', `/servers/${srv}/action`, { addSecurityGroup: { name: 'nova-web' } })).status, 202);
  const after = await arm.network.networkInterfaces.get(RG, srv);
  assert.equal(after.networkSecurityGroup?.id?.toLowerCase().endsWith(`/sg-${g.id}`), true);
  assert.deepEqual(
    after.ipConfigurations?.[0].applicationSecurityGroups?.map((a) => a.id?.split('/').pop()),
    [`asg-${g.id}`],
  );
  assert.deepEqual((await nova('GET', `/servers/${srv}`)).body.server.security_groups, [{ name: 'nova-web' }]);
  assert.deepEqual(
    (await nova('GET', `/servers/${srv}/os-security-groups`)).body.security_groups.map((x: { id: string }) => x.id),
    [g.id],
  );
  assert.equal((await nova('POST', `/servers/${srv}/action`, { addSecurityGroup: { name: 'nowhere' } })).status, 404);
  // In use: Nova's 400 (Neutron's 409 in Nova's words).
  assert.equal((await nova('DELETE', `/os-security-groups/${g.id}`)).status, 400);
  await arm.stack.oscOk(['server', 'delete', '--wait', srv], alice);
  assert.equal((await nova('DELETE', `/os-security-group-rules/${rule.body.security_group_rule.id}`)).status, 202);
  assert.equal((await nova('DELETE', `/os-security-groups/${g.id}`)).status, 202);
  assert.equal((await nova('GET', `/os-security-groups/${g.id}`)).status, 404);
});

test('security group rule create --remote-group web2 web: the NSG rule names web2’s ASG, web2’s servers are in it; deleting web2 takes the rule with it', async () => {
  const web = await arm.stack.oscJson<{ id: string }>(['security', 'group', 'create', 'rg-web'], alice);
  const web2 = await arm.stack.oscJson<{ id: string }>(['security', 'group', 'create', 'rg-web2'], alice);
  // Each group has its ASG, tagged as Jacket's like its NSG.
  const asg2 = await arm.network.applicationSecurityGroups.get(RG, `asg-${web2.id}`);
  assert.deepEqual(asg2.tags, { jacket: 'security-group', 'jacket-security-group-id': web2.id, 'jacket-project-id': alice.projectId });

  const rule = await arm.stack.oscJson<{ id: string; remote_group_id: string; remote_ip_prefix: string | null }>(
    ['security', 'group', 'rule', 'create', '--protocol', 'tcp', '--dst-port', '5432', '--remote-group', 'rg-web2', 'rg-web'],
    alice,
  );
  assert.equal(rule.remote_group_id, web2.id);
  assert.equal(rule.remote_ip_prefix, null);
  const inAzure = (await nsgRules(`sg-${web.id}`)).get(`jacket-${rule.id}`);
  assert.ok(inAzure, 'the rule is in web’s NSG');
  assert.equal(inAzure.direction, 'Inbound');
  assert.deepEqual(
    inAzure.sourceApplicationSecurityGroups?.map((a) => a.id?.toLowerCase()),
    [asg2.id?.toLowerCase()],
  );
  assert.equal(inAzure.sourceAddressPrefix, undefined);
  assert.equal(inAzure.destinationAddressPrefix, '*');
  assert.equal(inAzure.destinationPortRange, '5432');
  // Egress: the remote group is the destination.
  const out = await net(tAlice, 'POST', '/security-group-rules', { security_group_rule: { security_group_id: web.id, direction: 'egress', protocol: 'udp', remote_group_id: web2.id } });
  assert.equal(out.status, 201, out.text);
  const outAzure = (await nsgRules(`sg-${web.id}`)).get(`jacket-${out.body.security_group_rule.id}`);
  assert.equal(outAzure?.direction, 'Outbound');
  assert.deepEqual(
    outAzure?.destinationApplicationSecurityGroups?.map((a) => a.id?.toLowerCase()),
    [asg2.id?.toLowerCase()],
  );
  // Neutron's view: the rule shows its remote group.
  const shown = await net(tAlice, 'GET', `/security-group-rules/${rule.id}`);
  assert.equal(shown.body.security_group_rule.remote_group_id, web2.id);

  // Bad input changes nothing in Azure: both remote_group_id and remote_ip_prefix (Neutron's 400), an
  // unknown remote group (Neutron's 404 naming it).
  const before = [...(await nsgRules(`sg-${web.id}`)).keys()].sort();
  const both = await net(tAlice, 'POST', '/security-group-rules', {
    security_group_rule: { security_group_id: web.id, direction: 'ingress', remote_group_id: web2.id, remote_ip_prefix: '10.0.0.0/8' },
  });
  assert.equal(both.status, 400, both.text);
  assert.deepEqual(both.body.NeutronError, { type: 'SecurityGroupRemoteGroupAndRemoteIpPrefix', message: 'Only remote_ip_prefix or remote_group_id may be provided.', detail: '' });
  const nowhere = randomUUID();
  const unknown = await net(tAlice, 'POST', '/security-group-rules', { security_group_rule: { security_group_id: web.id, direction: 'ingress', remote_group_id: nowhere } });
  assert.equal(unknown.status, 404, unknown.text);
  assert.deepEqual(unknown.body.NeutronError, { type: 'SecurityGroupNotFound', message: `Security group ${nowhere} does not exist`, detail: '' });
  const notUuid = await net(tAlice, 'POST', '/security-group-rules', { security_group_rule: { security_group_id: web.id, direction: 'ingress', remote_group_id: 'web2' } });
  assert.equal(notUuid.status, 400, notUuid.text);
  assert.deepEqual([...(await nsgRules(`sg-${web.id}`)).keys()].sort(), before);

  // A server in web2: its NIC is in web2's ASG (and carries web2's NSG).
  const image = (await arm.stack.http('GET', '/image/v2/images?name=ubuntu-22.04', { token: tAlice })).body.images[0].id;
  const network = (await net(tAlice, 'GET', '/networks?name=private')).body.networks[0].id;
  const srv = await arm.stack.oscJson<{ id: string }>(['server', 'create', '--flavor', '3', '--image', image, '--network', network, '--security-group', 'rg-web2', 'rg-vm'], alice);
  await waitFor('server ACTIVE', async () => ((await arm.stack.http('GET', `/compute/v2.1/servers/${srv.id}`, { token: tAlice })).body.server.status === 'ACTIVE' ? true : undefined), 120000);
  const nic = await arm.network.networkInterfaces.get(RG, srv.id);
  assert.deepEqual(
    nic.ipConfigurations?.[0].applicationSecurityGroups?.map((a) => a.id?.toLowerCase()),
    [asg2.id?.toLowerCase()],
  );
  assert.equal(nic.networkSecurityGroup?.id?.toLowerCase().endsWith(`/sg-${web2.id}`), true);
  // web2 in use by the server: Neutron's 409, and web's rules naming it stay.
  const inUse = await net(tAlice, 'DELETE', `/security-groups/${web2.id}`);
  assert.equal(inUse.status, 409, inUse.text);
  assert.equal((await net(tAlice, 'GET', `/security-group-rules/${rule.id}`)).status, 200);

  // Freed, web2 goes, and with it the rules of web that named it (Neutron's ON DELETE CASCADE), out
  // of Azure too, then its ASG.
  await arm.stack.oscOk(['server', 'delete', '--wait', srv.id], alice);
  const usedBefore = (await net(tAlice, 'GET', `/quotas/${alice.projectId}/details`)).body.quota.security_group_rule.used;
  await arm.stack.oscOk(['security', 'group', 'delete', 'rg-web2'], alice);
  assert.equal((await net(tAlice, 'GET', `/security-group-rules/${rule.id}`)).status, 404);
  const left = await nsgRules(`sg-${web.id}`);
  assert.equal(left.has(`jacket-${rule.id}`), false);
  assert.equal(left.has(`jacket-${out.body.security_group_rule.id}`), false);
  await assert.rejects(arm.network.applicationSecurityGroups.get(RG, `asg-${web2.id}`), (e: { statusCode?: number }) => e.statusCode === 404);
  // web2's 2 default rules and web's 2 rules naming it are given back.
  assert.equal((await net(tAlice, 'GET', `/quotas/${alice.projectId}/details`)).body.quota.security_group_rule.used, usedBefore - 4);
  await arm.stack.oscOk(['security', 'group', 'delete', 'rg-web'], alice);
  await assert.rejects(arm.network.applicationSecurityGroups.get(RG, `asg-${web.id}`), (e: { statusCode?: number }) => e.statusCode === 404);
});

test('a rule cannot name another project’s group as its remote group (404), and nothing changes in Azure', async () => {
  const dave = await arm.stack.makeProjectUser('sg-d', 'sgdave');
  const tDave = await arm.stack.token(dave);
  const alices = (await net(tAlice, 'POST', '/security-groups', { security_group: { name: 'alice-only' } })).body.security_group;
  const bobs = (await net(tDave, 'POST', '/security-groups', { security_group: { name: 'dave-web' } })).body.security_group;
  const before = [...(await nsgRules(`sg-${bobs.id}`)).keys()].sort();
  const r = await net(tDave, 'POST', '/security-group-rules', { security_group_rule: { security_group_id: bobs.id, direction: 'ingress', remote_group_id: alices.id } });
  assert.equal(r.status, 404, r.text);
  assert.deepEqual(r.body.NeutronError, { type: 'SecurityGroupNotFound', message: `Security group ${alices.id} does not exist`, detail: '' });
  assert.deepEqual([...(await nsgRules(`sg-${bobs.id}`)).keys()].sort(), before);
  assert.equal((await net(tAlice, 'DELETE', `/security-groups/${alices.id}`)).status, 204);
  assert.equal((await net(tDave, 'DELETE', `/security-groups/${bobs.id}`)).status, 204);
});

test('a project’s default group: made at its first look, once under racing first lists, with Neutron’s four rules; it cannot be deleted', async () => {
  const carol = await arm.stack.makeProjectUser('sg-c', 'sgcarol');
  const tCarol = await arm.stack.token(carol);
  // Racing first lists make one group.
  const lists = await Promise.all(Array.from({ length: 5 }, () => net(tCarol, 'GET', '/security-groups')));
  for (const l of lists) assert.equal(l.status, 200, l.text);
  const ids = lists.map((l) => l.body.security_groups.filter((g: { name: string }) => g.name === 'default').map((g: { id: string }) => g.id));
  for (const x of ids) assert.deepEqual(x, ids[0]);
  assert.equal(ids[0].length, 1);
  const id = ids[0][0];
  const mine: string[] = [];
  for await (const n of arm.network.networkSecurityGroups.list(RG)) if (n.tags?.['jacket-project-id'] === carol.projectId) mine.push(n.name!);
  assert.deepEqual(mine, [`sg-${id}`]);
  const asgs: string[] = [];
  for await (const a of arm.network.applicationSecurityGroups.list(RG)) if (a.tags?.['jacket-project-id'] === carol.projectId) asgs.push(a.name!);
  assert.deepEqual(asgs, [`asg-${id}`]);

  // Through the CLI: `default` with Neutron's four rules (egress any v4/v6, ingress v4/v6 from itself).
  const listed = await arm.stack.oscJson<{ ID: string; Name: string }[]>(['security', 'group', 'list'], carol);
  assert.deepEqual(
    listed.filter((g) => g.Name === 'default').map((g) => g.ID),
    [id],
  );
  const rules = (await net(tCarol, 'GET', `/security-group-rules?security_group_id=${id}`)).body.security_group_rules;
  assert.deepEqual(
    rules
      .map((r: { direction: string; ethertype: string; remote_group_id: string | null; remote_ip_prefix: string | null; protocol: string | null }) => [
        r.direction,
        r.ethertype,
        r.remote_group_id,
        r.remote_ip_prefix,
        r.protocol,
      ])
      .sort(),
    [
      ['egress', 'IPv4', null, null, null],
      ['egress', 'IPv6', null, null, null],
      ['ingress', 'IPv4', id, null, null],
      ['ingress', 'IPv6', id, null, null],
    ],
  );
  const azure = [...(await nsgRules(`sg-${id}`)).values()];
  assert.equal(azure.length, 4);
  for (const r of azure.filter((x) => x.direction === 'Inbound')) assert.equal(r.sourceApplicationSecurityGroups?.[0].id?.split('/').pop(), `asg-${id}`);
  // Counted as Neutron counts it.
  const q = (await net(tCarol, 'GET', `/quotas/${carol.projectId}/details`)).body.quota;
  assert.deepEqual([q.security_group.used, q.security_group_rule.used], [1, 4]);

  // Not the member's to delete or rename (Neutron's 409s); nothing changes in Azure.
  const del = await net(tCarol, 'DELETE', `/security-groups/${id}`);
  assert.equal(del.status, 409, del.text);
  assert.deepEqual(del.body.NeutronError, { type: 'SecurityGroupCannotRemoveDefault', message: 'Insufficient rights for removing default security group.', detail: '' });
  const cli = await arm.stack.osc(['security', 'group', 'delete', 'default'], carol);
  assert.notEqual(cli.code, 0);
  const ren = await net(tCarol, 'PUT', `/security-groups/${id}`, { security_group: { name: 'other' } });
  assert.equal(ren.status, 409, ren.text);
  assert.equal(ren.body.NeutronError.type, 'SecurityGroupCannotUpdateDefault');
  await arm.network.networkSecurityGroups.get(RG, `sg-${id}`);
  await arm.network.applicationSecurityGroups.get(RG, `asg-${id}`);
  // A port made without a group is in the default group, its NIC in the default ASG.
  const network = (await net(tCarol, 'GET', '/networks?name=private')).body.networks[0].id;
  const port = (await net(tCarol, 'POST', '/ports', { port: { network_id: network, name: 'p' } })).body.port;
  assert.deepEqual(port.security_groups, [id]);
  const nic = await arm.network.networkInterfaces.get(RG, `port-${port.id}`);
  assert.equal(nic.ipConfigurations?.[0].applicationSecurityGroups?.[0].id?.split('/').pop(), `asg-${id}`);
  assert.equal((await net(tCarol, 'DELETE', `/ports/${port.id}`)).status, 204);
});
