// Several security groups per server and per port (issue 13), end to end through the real `openstack`
// CLI against the ARM emulator: a server booted in two groups carries their combination NSG (the union
// of both groups' rules) and joins both ASGs; a rule added to a member reaches the combination; `server
// add/remove security group` and `port create/set/unset --security-group` move NICs between a group's
// own NSG and the combination of the set, which every port with that set shares and which goes when no
// NIC holds it (at once, or by the network sweep after two passes); a group in a combination in use
// cannot be deleted; another project's groups cannot be used.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startArmStack, waitFor, type ArmStack } from '../support/armStack';
import type { Creds } from '../support/stack';
import { race } from '../support/fixtures';
import { sweepNics } from '../../shared/timers/nics';
import { combinationNsgName } from '../../shared/network/securityGroupSets';

const RG = 'ops_resource_group';
let arm: ArmStack;
let alice: Creds & { projectId: string; userId: string };
let bob: Creds & { projectId: string; userId: string };
let tAlice: string;
let tBob: string;

before(async () => {
  arm = await startArmStack({ asyncDelayMs: 0 });
  alice = await arm.stack.makeProjectUser('sgs-a', 'sgsalice');
  bob = await arm.stack.makeProjectUser('sgs-b', 'sgsbob');
  [tAlice, tBob] = await Promise.all([arm.stack.token(alice), arm.stack.token(bob)]);
});
after(async () => {
  arm?.control.close();
  await arm?.stop();
});

const net = (token: string, method: string, p: string, body?: unknown) => arm.stack.http(method, `/network/v2.0${p}`, { token, body });
const nova = (token: string, method: string, p: string, body?: unknown) => arm.stack.http(method, `/compute/v2.1${p}`, { token, body });
const last = (id: string | undefined) => id?.split('/').pop() ?? '';
const gone = (p: Promise<unknown>) => assert.rejects(p, (e: { statusCode?: number }) => e.statusCode === 404);

/** The NSG a NIC carries and the ASGs it joins, by name. */
async function nicSecurity(nic: string) {
  const n = await arm.network.networkInterfaces.get(RG, nic);
  return { nsg: last(n.networkSecurityGroup?.id), asgs: (n.ipConfigurations?.[0].applicationSecurityGroups ?? []).map((a) => last(a.id)).sort() };
}
async function nsgRuleNames(nsg: string) {
  return new Set(((await arm.network.networkSecurityGroups.get(RG, nsg)).securityRules ?? []).map((r) => r.name!));
}

test('two groups on server create and port create: one combination NSG with the union, kept in step, shared, gone when unused', async () => {
  const a = await arm.stack.oscJson<{ id: string }>(['security', 'group', 'create', 'set-a'], alice);
  const b = await arm.stack.oscJson<{ id: string }>(['security', 'group', 'create', 'set-b'], alice);
  const ra = await arm.stack.oscJson<{ id: string }>(['security', 'group', 'rule', 'create', '--dst-port', '22', '--protocol', 'tcp', 'set-a'], alice);
  const rb = await arm.stack.oscJson<{ id: string }>(['security', 'group', 'rule', 'create', '--dst-port', '80', '--protocol', 'tcp', '--remote-group', 'set-a', 'set-b'], alice);
  const ruleIds = async (id: string) => ((await net(tAlice, 'GET', `/security-group-rules?security_group_id=${id}`)).body.security_group_rules as { id: string }[]).map((r) => `jacket-${r.id}`);
  const combo = combinationNsgName([a.id, b.id]);

  const image = (await arm.stack.http('GET', '/image/v2/images?name=ubuntu-22.04', { token: tAlice })).body.images[0].id;
  const network = (await net(tAlice, 'GET', '/networks?name=private')).body.networks[0].id;
  const srv = await arm.stack.oscJson<{ id: string }>(
    ['server', 'create', '--flavor', '3', '--image', image, '--network', network, '--security-group', 'set-a', '--security-group', 'set-b', 'sets-vm'],
    alice,
  );
  await waitFor('server ACTIVE', async () => ((await nova(tAlice, 'GET', `/servers/${srv.id}`)).body.server.status === 'ACTIVE' ? true : undefined), 120000);

  // The NIC carries the combination, holding every rule of both groups, and is in both ASGs.
  assert.deepEqual(await nicSecurity(srv.id), { nsg: combo, asgs: [`asg-${a.id}`, `asg-${b.id}`].sort() });
  const held = await arm.network.networkSecurityGroups.get(RG, combo);
  assert.equal(held.tags?.jacket, 'security-group-set');
  assert.equal(held.tags?.[`jacket-sg-${a.id}`], 'member');
  assert.equal(held.tags?.[`jacket-sg-${b.id}`], 'member');
  const union = [...(await ruleIds(a.id)), ...(await ruleIds(b.id))];
  assert.deepEqual([...(await nsgRuleNames(combo))].sort(), union.sort());
  assert.ok(union.includes(`jacket-${ra.id}`) && union.includes(`jacket-${rb.id}`));
  // The remote-group rule keeps naming set-a's ASG in the combination; priorities are distinct per direction.
  const rules = held.securityRules ?? [];
  assert.equal(last(rules.find((r) => r.name === `jacket-${rb.id}`)?.sourceApplicationSecurityGroups?.[0].id), `asg-${a.id}`);
  for (const d of ['Inbound', 'Outbound']) {
    const ps = rules.filter((r) => r.direction === d).map((r) => r.priority);
    assert.equal(new Set(ps).size, ps.length, d);
  }

  // Nova shows both (server show through the CLI, and os-security-groups).
  const shown = await arm.stack.oscJson<{ security_groups: { name: string }[] | string }>(['server', 'show', srv.id], alice);
  const names = JSON.stringify(shown.security_groups);
  assert.ok(names.includes('set-a') && names.includes('set-b'), names);
  assert.deepEqual((await nova(tAlice, 'GET', `/servers/${srv.id}/os-security-groups`)).body.security_groups.map((g: { id: string }) => g.id).sort(), [a.id, b.id].sort());
  const ports = (await net(tAlice, 'GET', `/ports?device_id=${srv.id}`)).body.ports;
  assert.deepEqual([...ports[0].security_groups].sort(), [a.id, b.id].sort());

  // A rule added to one member reaches the combination; one deleted leaves it.
  const r443 = await arm.stack.oscJson<{ id: string }>(['security', 'group', 'rule', 'create', '--dst-port', '443', '--protocol', 'tcp', 'set-b'], alice);
  assert.ok((await nsgRuleNames(combo)).has(`jacket-${r443.id}`));
  await arm.stack.oscOk(['security', 'group', 'rule', 'delete', ra.id], alice);
  assert.ok(!(await nsgRuleNames(combo)).has(`jacket-${ra.id}`));

  // A group in a combination in use cannot go (Neutron's 409), and nothing changes.
  const del = await net(tAlice, 'DELETE', `/security-groups/${a.id}`);
  assert.equal(del.status, 409, del.text);
  assert.equal(del.body.NeutronError.type, 'SecurityGroupInUse');
  assert.equal((await nicSecurity(srv.id)).nsg, combo);

  // A port made with the same two groups shares the combination.
  const port = await arm.stack.oscJson<{ id: string; security_group_ids: string[] | string }>(
    ['port', 'create', '--network', network, '--security-group', 'set-a', '--security-group', 'set-b', 'sets-port'],
    alice,
  );
  assert.deepEqual([...(await net(tAlice, 'GET', `/ports/${port.id}`)).body.port.security_groups].sort(), [a.id, b.id].sort());
  assert.deepEqual(await nicSecurity(`port-${port.id}`), { nsg: combo, asgs: [`asg-${a.id}`, `asg-${b.id}`].sort() });

  // The server leaves set-b: back on set-a's own NSG; the port still holds the combination, so it stays.
  await arm.stack.oscOk(['server', 'remove', 'security', 'group', srv.id, 'set-b'], alice);
  assert.deepEqual(await nicSecurity(srv.id), { nsg: `sg-${a.id}`, asgs: [`asg-${a.id}`] });
  assert.deepEqual((await nova(tAlice, 'GET', `/servers/${srv.id}`)).body.server.security_groups, [{ name: 'set-a' }]);
  assert.ok((await nsgRuleNames(combo)).size > 0);
  // The port leaves set-b too: no NIC holds the combination any more, and it is gone.
  await arm.stack.oscOk(['port', 'unset', '--security-group', 'set-b', port.id], alice);
  assert.deepEqual((await net(tAlice, 'GET', `/ports/${port.id}`)).body.port.security_groups, [a.id]);
  assert.deepEqual(await nicSecurity(`port-${port.id}`), { nsg: `sg-${a.id}`, asgs: [`asg-${a.id}`] });
  await gone(arm.network.networkSecurityGroups.get(RG, combo));

  // And back, through the CLI on the running server and the port.
  await arm.stack.oscOk(['server', 'add', 'security', 'group', srv.id, 'set-b'], alice);
  assert.deepEqual(await nicSecurity(srv.id), { nsg: combo, asgs: [`asg-${a.id}`, `asg-${b.id}`].sort() });
  assert.ok((await nsgRuleNames(combo)).has(`jacket-${r443.id}`), 'rebuilt from the records');
  // The server's own port, changed through Neutron: its NIC follows, and so does what Nova shows.
  await arm.stack.oscOk(['port', 'unset', '--security-group', 'set-b', ports[0].id], alice);
  assert.deepEqual(await nicSecurity(srv.id), { nsg: `sg-${a.id}`, asgs: [`asg-${a.id}`] });
  assert.deepEqual((await nova(tAlice, 'GET', `/servers/${srv.id}`)).body.server.security_groups, [{ name: 'set-a' }]);
  await arm.stack.oscOk(['port', 'set', '--security-group', 'set-b', ports[0].id], alice);
  assert.equal((await nicSecurity(srv.id)).nsg, combo);
  assert.deepEqual((await nova(tAlice, 'GET', `/servers/${srv.id}`)).body.server.security_groups.map((g: { name: string }) => g.name).sort(), ['set-a', 'set-b']);
  await arm.stack.oscOk(['port', 'set', '--security-group', 'set-b', port.id], alice);
  assert.equal((await nicSecurity(`port-${port.id}`)).nsg, combo);
  assert.equal((await nova(tAlice, 'GET', `/servers/${srv.id}`)).body.server.status, 'ACTIVE');

  // A rewrite lost after a rule change (a crash between the group's NSG and the combination): the
  // network sweep finds the combination in use with other rules than its groups' and PUTs it again.
  await arm.network.securityRules.beginDeleteAndWait(RG, combo, `jacket-${r443.id}`, { updateIntervalInMs: 50 });
  assert.ok(!(await nsgRuleNames(combo)).has(`jacket-${r443.id}`));
  const repair = await sweepNics(arm.stack.cloud.services);
  assert.equal(repair.skipped.repaired, 1, JSON.stringify(repair));
  assert.deepEqual([...(await nsgRuleNames(combo))].sort(), [...(await ruleIds(a.id)), ...(await ruleIds(b.id))].sort());
  assert.ok(!(await sweepNics(arm.stack.cloud.services)).skipped.repaired, 'in line: nothing to repair');

  // The server's delete drops its NIC, not the combination (the port still holds it); after the port's
  // delete, the network sweep removes it in two passes.
  await arm.stack.oscOk(['server', 'delete', '--wait', srv.id], alice);
  await arm.stack.oscOk(['port', 'delete', port.id], alice);
  await gone(arm.network.networkSecurityGroups.get(RG, combo));
  await arm.network.networkSecurityGroups.beginCreateOrUpdateAndWait(RG, combo, { location: arm.emu.location, tags: { ...held.tags } }, { updateIntervalInMs: 50 });
  const first = await sweepNics(arm.stack.cloud.services);
  assert.ok(!first.deletedNames.includes(combo), 'one pass never deletes');
  const second = await sweepNics(arm.stack.cloud.services);
  assert.ok(second.deletedNames.includes(combo), JSON.stringify(second));
  assert.ok(!second.deletedNames.includes(`sg-${a.id}`) && !second.deletedNames.includes(`sg-${b.id}`));
  // Unused now, the groups can go.
  await arm.stack.oscOk(['security', 'group', 'delete', 'set-a', 'set-b'], alice);
});

test('racing addSecurityGroup requests on one server: every group added stays, on the NIC as in the records', async () => {
  const names = ['race-a', 'race-b', 'race-c'];
  const ids = [];
  for (const n of names) ids.push((await arm.stack.oscJson<{ id: string }>(['security', 'group', 'create', n], alice)).id);
  const image = (await arm.stack.http('GET', '/image/v2/images?name=ubuntu-22.04', { token: tAlice })).body.images[0].id;
  const network = (await net(tAlice, 'GET', '/networks?name=private')).body.networks[0].id;
  const srv = await arm.stack.oscJson<{ id: string }>(['server', 'create', '--flavor', '3', '--image', image, '--network', network, '--security-group', 'race-a', '--wait', 'race-vm'], alice);
  // b and c added at once: each request changes the set the port record holds under its ETag, and the
  // NIC follows the record, so neither add is lost; the same group twice is Nova's 400 for one of them.
  const rs = await Promise.all([
    nova(tAlice, 'POST', `/servers/${srv.id}/action`, { addSecurityGroup: { name: 'race-b' } }),
    nova(tAlice, 'POST', `/servers/${srv.id}/action`, { addSecurityGroup: { name: 'race-c' } }),
    nova(tAlice, 'POST', `/servers/${srv.id}/action`, { addSecurityGroup: { name: 'race-c' } }),
  ]);
  assert.deepEqual(rs.map((r) => r.status).sort(), [202, 202, 400], rs.map((r) => r.text).join(' | '));
  const port = (await net(tAlice, 'GET', `/ports?device_id=${srv.id}`)).body.ports[0];
  assert.deepEqual([...port.security_groups].sort(), [...ids].sort());
  assert.deepEqual(await nicSecurity(srv.id), { nsg: combinationNsgName(ids), asgs: ids.map((id) => `asg-${id}`).sort() });
  assert.deepEqual((await nova(tAlice, 'GET', `/servers/${srv.id}`)).body.server.security_groups.map((g: { name: string }) => g.name).sort(), names);
  // And removed at once: back to race-a's own NSG.
  const out = await Promise.all(['race-b', 'race-c'].map((n) => nova(tAlice, 'POST', `/servers/${srv.id}/action`, { removeSecurityGroup: { name: n } })));
  assert.deepEqual(
    out.map((r) => r.status),
    [202, 202],
  );
  assert.deepEqual(await nicSecurity(srv.id), { nsg: `sg-${ids[0]}`, asgs: [`asg-${ids[0]}`] });
  await arm.stack.oscOk(['server', 'delete', '--wait', srv.id], alice);
  await gone(arm.network.networkSecurityGroups.get(RG, combinationNsgName(ids)));
});

test('port updates racing add/removeSecurityGroup on one server: the port record and the NIC end the same (no change lost to a stale copy)', async () => {
  const names = ['pr-a', 'pr-b', 'pr-c', 'pr-d'];
  const ids: string[] = [];
  for (const n of names) ids.push((await arm.stack.oscJson<{ id: string }>(['security', 'group', 'create', n], alice)).id);
  const [a, b, c, d] = ids;
  const image = (await arm.stack.http('GET', '/image/v2/images?name=ubuntu-22.04', { token: tAlice })).body.images[0].id;
  const network = (await net(tAlice, 'GET', '/networks?name=private')).body.networks[0].id;
  const srv = await arm.stack.oscJson<{ id: string }>(['server', 'create', '--flavor', '3', '--image', image, '--network', network, '--security-group', 'pr-a', '--wait', 'pr-vm'], alice);
  const portId = (await net(tAlice, 'GET', `/ports?device_id=${srv.id}`)).body.ports[0].id;
  const groupName = (id: string) => names[ids.indexOf(id)];
  const seenSets = new Set<string>();
  for (let round = 0; round < 3; round++) {
    // Two port updates naming different sets, an add and a remove, all at once.
    const rs = await race(4, (i) =>
      i === 0
        ? net(tAlice, 'PUT', `/ports/${portId}`, { port: { security_groups: [a, b], name: `r${round}` } })
        : i === 1
          ? net(tAlice, 'PUT', `/ports/${portId}`, { port: { security_groups: [a, c] } })
          : i === 2
            ? nova(tAlice, 'POST', `/servers/${srv.id}/action`, { addSecurityGroup: { name: 'pr-d' } })
            : nova(tAlice, 'POST', `/servers/${srv.id}/action`, { removeSecurityGroup: { name: 'pr-a' } }),
    );
    const statuses = rs.map((r) => r.status);
    assert.deepEqual(statuses.slice(0, 2), [200, 200], rs.map((r) => r.text).join(' | '));
    // Nova's 400 when the set held at that moment already has (or lacks) the group: never a 5xx.
    for (const st of statuses.slice(2)) assert.ok(st === 202 || st === 400, rs.map((r) => `${r.status} ${r.text}`).join(' | '));
    const port = (await net(tAlice, 'GET', `/ports/${portId}`)).body.port;
    const held = [...port.security_groups].sort() as string[];
    assert.equal(port.name, `r${round}`);
    assert.ok(held.length > 0 && held.every((id) => ids.includes(id)), JSON.stringify(held));
    seenSets.add(held.join(','));
    // The NIC carries exactly what the record holds: its NSG (own or the combination) and every ASG.
    assert.deepEqual(await nicSecurity(srv.id), {
      nsg: held.length === 1 ? `sg-${held[0]}` : combinationNsgName(held),
      asgs: held.map((id) => `asg-${id}`).sort(),
    });
    // And the server shows the port's groups.
    assert.deepEqual((await nova(tAlice, 'GET', `/servers/${srv.id}`)).body.server.security_groups.map((g: { name: string }) => g.name).sort(), held.map(groupName).sort());
    // Back to pr-a alone for the next round.
    assert.equal((await net(tAlice, 'PUT', `/ports/${portId}`, { port: { security_groups: [a] } })).status, 200);
    assert.deepEqual(await nicSecurity(srv.id), { nsg: `sg-${a}`, asgs: [`asg-${a}`] });
  }
  // No combination is left that no port holds (the record went back to one group each round).
  for (const set of [
    [a, b],
    [a, c],
    [a, d],
    [b, d],
    [c, d],
    [a, b, d],
    [a, c, d],
  ])
    await gone(arm.network.networkSecurityGroups.get(RG, combinationNsgName(set)));
  await arm.stack.oscOk(['server', 'delete', '--wait', srv.id], alice);
  await arm.stack.oscOk(['security', 'group', 'delete', ...names], alice);
});

test('another project’s group cannot be added: port create, port update and server create answer as for an unknown group', async () => {
  const mine = (await net(tAlice, 'POST', '/security-groups', { security_group: { name: 'alice-only' } })).body.security_group;
  const bobs = (await net(tBob, 'POST', '/security-groups', { security_group: { name: 'bob-own' } })).body.security_group;
  const network = (await net(tBob, 'GET', '/networks?name=private')).body.networks[0].id;
  const nicsBefore: string[] = [];
  for await (const n of arm.network.networkInterfaces.list(RG)) nicsBefore.push(n.name!);

  const made = await net(tBob, 'POST', '/ports', { port: { network_id: network, security_groups: [bobs.id, mine.id] } });
  assert.equal(made.status, 404, made.text);
  assert.equal(made.body.NeutronError.type, 'SecurityGroupNotFound');
  assert.equal(made.body.NeutronError.message, `Security group ${mine.id} does not exist`);

  const port = (await net(tBob, 'POST', '/ports', { port: { network_id: network, security_groups: [bobs.id] } })).body.port;
  const set = await net(tBob, 'PUT', `/ports/${port.id}`, { port: { security_groups: [bobs.id, mine.id] } });
  assert.equal(set.status, 404, set.text);
  assert.deepEqual((await net(tBob, 'GET', `/ports/${port.id}`)).body.port.security_groups, [bobs.id]);
  assert.deepEqual(await nicSecurity(`port-${port.id}`), { nsg: `sg-${bobs.id}`, asgs: [`asg-${bobs.id}`] });

  const image = (await arm.stack.http('GET', '/image/v2/images?name=ubuntu-22.04', { token: tBob })).body.images[0].id;
  const boot = await nova(tBob, 'POST', '/servers', { server: { name: 'x', flavorRef: '3', imageRef: image, networks: [{ uuid: network }], security_groups: [{ name: bobs.id }, { name: mine.id }] } });
  assert.equal(boot.status, 400, boot.text);
  assert.equal((await nova(tBob, 'GET', '/servers?name=x')).body.servers.length, 0);
  // No combination was made for the refused sets.
  await gone(arm.network.networkSecurityGroups.get(RG, combinationNsgName([bobs.id, mine.id])));
  await arm.stack.oscOk(['port', 'delete', port.id], bob);
  const nicsAfter: string[] = [];
  for await (const n of arm.network.networkInterfaces.list(RG)) nicsAfter.push(n.name!);
  assert.deepEqual(nicsAfter.sort(), nicsBefore.sort());
});
