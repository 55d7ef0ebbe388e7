// The combination NSG of several security groups (shared/network/securityGroupSets.ts): the union of the
// members' rules with Jacket's priorities, and Azure's limits refused as Neutron's 400 before anything is
// written (the e2e file security-group-sets.test.ts drives the rest through the API).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { Services } from '../../shared/services';
import type { GroupRecord, RuleRecord } from '../../shared/network/securityGroupStore';
import { checkSet, combinationNsgName, combinationRules, groupSetId, nicSecurity, AZURE_RULES_PER_NSG } from '../../shared/network/securityGroupSets';
import { jacketCombinationNsg, jacketGroupOfNsg } from '../../shared/timers/nsgs';
import { ApiError } from '../../shared/http/errors';

/** Services enough for the set logic: group records by id, ARM ids by name, the NSG PUTs recorded. */
function fakeServices(records: GroupRecord[] = []) {
  const puts: string[] = [];
  const s = {
    config: { azure: { resourceGroup: 'rg' } },
    tables: { repository: () => ({ get: async (_pk: string, id: string) => records.filter((g) => g.id === id).map((value) => ({ value, etag: '*' }))[0] }) },
    azure: {
      vms: { asgId: (n: string) => `asg:${n}`, nsgId: (g: { nsg: string }) => `nsg:${g.nsg}` },
      network: { putNsg: async (name: string) => void puts.push(name) },
    },
  } as unknown as Services;
  return { s, puts };
}

const rule = (direction: RuleRecord['direction'], priority: number, extra: Partial<RuleRecord> = {}): RuleRecord => ({
  id: randomUUID(),
  direction,
  ethertype: 'IPv4',
  protocol: 'tcp',
  port_range_min: priority,
  port_range_max: priority,
  remote_ip_prefix: null,
  description: '',
  priority,
  created_at: '',
  ...extra,
});
const group = (rules: RuleRecord[]): GroupRecord => {
  const id = randomUUID();
  return { id, name: id.slice(0, 8), description: '', project_id: 'p', created_at: '', updated_at: '', rules, nsg: `sg-${id}`, asg: `asg-${id}` };
};
const def = (g: GroupRecord) => ({ id: g.id, name: g.name, project_id: g.project_id, azure: { nsg: g.nsg, resourceGroup: 'rg', asg: g.asg } });
const status400 = (re: RegExp) => (e: unknown) => e instanceof ApiError && e.status === 400 && re.test(e.message);

test('the union keeps every rule, once, with distinct priorities per direction from 100', () => {
  const { s } = fakeServices();
  const a = group([rule('ingress', 100), rule('egress', 100), rule('ingress', 105)]);
  const b = group([rule('ingress', 100), rule('egress', 100), rule('egress', 101, { remote_group_id: a.id })]);
  const out = combinationRules(s, [b, a]);
  assert.deepEqual(out.map((r) => r.name).sort(), [...a.rules, ...b.rules].map((r) => `jacket-${r.id}`).sort());
  for (const d of ['Inbound', 'Outbound']) {
    const ps = out.filter((r) => r.direction === d).map((r) => r.priority);
    assert.deepEqual(
      [...ps].sort((x, y) => x - y),
      ps.map((_, i) => 100 + i),
      d,
    );
  }
  // The same input in another order gives the same NSG (racing writers PUT the same body).
  assert.deepEqual(combinationRules(s, [a, b]), out);
  assert.equal(out.find((r) => r.destinationAsgId)?.destinationAsgId, `asg:asg-${a.id}`);
});

test('Azure’s limits are Neutron’s 400 before any write: rules per NSG, ASGs per IP configuration', async () => {
  const half = Math.ceil((AZURE_RULES_PER_NSG + 1) / 2);
  const big = [group(Array.from({ length: half }, (_, i) => rule('ingress', 100 + i))), group(Array.from({ length: half }, (_, i) => rule('egress', 100 + i)))];
  const { s, puts } = fakeServices(big);
  await assert.rejects(nicSecurity(s, big.map(def), 'p'), status400(/at most 1000 rules/));
  // One rule more than fits, counted before a member takes it.
  const fits = [group(Array.from({ length: 500 }, (_, i) => rule('ingress', 100 + i))), group(Array.from({ length: 500 }, (_, i) => rule('egress', 100 + i)))];
  assert.equal(combinationRules(s, fits).length, 1000);
  assert.throws(() => combinationRules(s, fits, 1), status400(/1001 rules/));
  const many = Array.from({ length: 21 }, () => group([]));
  await assert.rejects(nicSecurity(fakeServices(many).s, many.map(def), 'p'), status400(/at most 20 security groups/));
  assert.deepEqual(puts, []);
});

test('the operator’s mapped NSG is not combined (400); alone it is its own NSG; no group is the deny-all', async () => {
  const own = group([rule('ingress', 100)]);
  const { s, puts } = fakeServices([own]);
  const mapped = { id: randomUUID(), name: 'ops', project_id: '', azure: { nsg: 'operators-nsg', resourceGroup: 'ops' } };
  await assert.rejects(checkSet(s, [def(own), mapped]), status400(/operator's network security groups/));
  assert.deepEqual(await nicSecurity(s, [mapped], 'p'), { nsgId: 'nsg:operators-nsg', asgIds: [] });
  assert.deepEqual(await nicSecurity(s, [def(own)], 'p'), { nsgId: `nsg:sg-${own.id}`, asgIds: [`asg:asg-${own.id}`] });
  assert.deepEqual(puts, [], 'one group needs no NSG of its own');
  const none = await nicSecurity(s, [], 'p');
  assert.match(none.nsgId, /^nsg:sgs-/);
  assert.deepEqual(none.asgIds, []);
  assert.equal(puts.length, 1);
});

test('combination NSGs: tagged as a set and named by its id, whatever the order and case; the sweep tells them from groups’ NSGs', () => {
  const id = randomUUID();
  const groups = [randomUUID(), id];
  const set = groupSetId(groups);
  const tags = { jacket: 'security-group-set', 'jacket-security-group-set': set };
  assert.equal(combinationNsgName(groups), `sgs-${set}`);
  assert.equal(combinationNsgName([...groups].reverse().map((g) => g.toUpperCase())), `sgs-${set}`);
  assert.notEqual(groupSetId([id]), set);
  assert.equal(jacketCombinationNsg({ name: `sgs-${set}`, tags }), true);
  assert.equal(jacketCombinationNsg({ name: `sgs-${randomUUID()}`, tags }), false, 'tag names another set');
  assert.equal(jacketCombinationNsg({ name: `sgs-${set}`, tags: { jacket: 'security-group', 'jacket-security-group-set': set } }), false);
  assert.equal(jacketCombinationNsg({ name: `sg-${id}`, tags: { jacket: 'security-group', 'jacket-security-group-id': id } }), false);
  assert.equal(jacketGroupOfNsg({ name: `sgs-${set}`, tags }), undefined);
});
