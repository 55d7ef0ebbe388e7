// Security groups and rules a project makes, on NSGs Jacket owns (issue 13). The rules follow Neutron's
// (neutron/db/securitygroups_db.py, neutron/extensions/securitygroup.py): validation, duplicates,
// quotas and their errors; each becomes one Allow rule of the group's NSG with a priority Jacket
// allocates under the group record's ETag.
//
// Order of writes, so that nothing is lost or leaked: a group's NSG is made before its record (a crash
// between leaves an NSG tagged jacket=security-group that no record owns — what a sweep removes); a
// rule is recorded (its priority taken) before its NSG rule is written, and taken out of the record
// again if Azure refuses it; a rule or group is removed from Azure before its record.
import { randomUUID } from 'node:crypto';
import type { Services } from '../services';
import type { NsgRuleSpec } from '../azure/network';
import { azureFailure } from '../azure/errors';
import { ConcurrencyError } from '../store/tables';
import { badRequest, isUuid, neutronError, neutronTime } from './common';
import { log } from '../log';
import { asgInUse } from '../azure/network';
import { allGroups, asgNameOf, azureRuleName, createGroupRecord, deleteGroupRecord, getGroup, groupTags, nsgNameOf, updateGroupRecord, type GroupRecord, type RuleRecord } from './securityGroupStore';
import { networkLedger, reserveNetwork } from './quotas';
import { normalizeCidr, stableUuid } from './catalog';
import { checkRuleFits, inCombination, rewriteCombinations } from './securityGroupSets';

export const sgNotFound = (id: string) => neutronError(404, 'SecurityGroupNotFound', `Security group ${id} does not exist`);
export const ruleNotFound = (id: string) => neutronError(404, 'SecurityGroupRuleNotFound', `Security group rule ${id} does not exist`);
/** Neutron's timestamps: ISO 8601 to the second, Z. */
const invalid = (field: string, reason: string) => badRequest(`Invalid input for ${field}. Reason: ${reason}.`);

/** Azure's NSG priorities for custom rules; each direction has its own sequence. */
const PRIORITY_MIN = 100;
const PRIORITY_MAX = 4096;

// ---- rules: validation (neutron's _validate_*), then Azure's form ----

/** Neutron's protocol names, and what an NSG rule can filter on (Azure: Tcp, Udp, Icmp, Esp, Ah, *). */
const AZURE_PROTOCOL: Record<string, string> = {
  tcp: 'Tcp',
  udp: 'Udp',
  icmp: 'Icmp',
  icmpv6: 'Icmp',
  'ipv6-icmp': 'Icmp',
  esp: 'Esp',
  ah: 'Ah',
  '6': 'Tcp',
  '17': 'Udp',
  '1': 'Icmp',
  '58': 'Icmp',
  '50': 'Esp',
  '51': 'Ah',
};
const NEUTRON_PROTOCOLS = [
  'ah',
  'dccp',
  'egp',
  'esp',
  'gre',
  'hopopt',
  'icmp',
  'igmp',
  'ip',
  'ipip',
  'ipv6-encap',
  'ipv6-frag',
  'ipv6-icmp',
  'icmpv6',
  'ipv6-nonxt',
  'ipv6-opts',
  'ipv6-route',
  'ospf',
  'pgm',
  'rsvp',
  'sctp',
  'tcp',
  'udp',
  'udplite',
  'vrrp',
];
const PORTED = ['tcp', 'udp', '6', '17'];

export interface RuleRequest {
  security_group_id?: unknown;
  direction?: unknown;
  ethertype?: unknown;
  protocol?: unknown;
  port_range_min?: unknown;
  port_range_max?: unknown;
  remote_ip_prefix?: unknown;
  remote_group_id?: unknown;
  remote_address_group_id?: unknown;
  description?: unknown;
}

const RULE_KEYS = [
  'security_group_id',
  'direction',
  'ethertype',
  'protocol',
  'port_range_min',
  'port_range_max',
  'remote_ip_prefix',
  'remote_group_id',
  'remote_address_group_id',
  'description',
  'project_id',
  'tenant_id',
];

function portValue(field: string, v: unknown): number | null {
  if (v === null || v === undefined) return null;
  const n = typeof v === 'string' && /^\d+$/.test(v.trim()) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n)) throw invalid(field, `'${String(v)}' is not an integer`);
  if (n < 0 || n > 65535) throw neutronError(400, 'SecurityGroupInvalidPortValue', `Invalid value for port ${n}.`);
  return n;
}

/** The rule as Neutron would store it, or its 400. */
export function validateRule(body: RuleRequest): Omit<RuleRecord, 'id' | 'priority' | 'created_at'> {
  for (const k of Object.keys(body)) if (!RULE_KEYS.includes(k)) throw badRequest(`Unrecognized attribute(s) '${k}'`);
  if (body.direction !== 'ingress' && body.direction !== 'egress') throw invalid('direction', `'${String(body.direction)}' is not in ['ingress', 'egress']`);
  const etRaw = body.ethertype ?? 'IPv4';
  const ethertype = typeof etRaw === 'string' ? ({ ipv4: 'IPv4', ipv6: 'IPv6' } as const)[etRaw.toLowerCase() as 'ipv4' | 'ipv6'] : undefined;
  if (!ethertype) throw invalid('ethertype', `'${String(etRaw)}' is not in ['IPv4', 'IPv6']`);
  let protocol: string | null = null;
  if (body.protocol !== null && body.protocol !== undefined && body.protocol !== 'any') {
    const p = String(body.protocol).toLowerCase();
    const numeric = /^\d+$/.test(p) && Number(p) <= 255;
    if (!NEUTRON_PROTOCOLS.includes(p) && !numeric) {
      throw neutronError(
        400,
        'SecurityGroupRuleInvalidProtocol',
        `Security group rule protocol ${String(body.protocol)} not supported. Only protocol values [None, ${NEUTRON_PROTOCOLS.map((x) => `'${x}'`).join(', ')}] and integer representations [0 to 255] are supported.`,
      );
    }
    if (!(p in AZURE_PROTOCOL)) {
      throw neutronError(
        400,
        'SecurityGroupRuleInvalidProtocol',
        `Security group rule protocol ${p} cannot be applied on Azure: network security groups filter tcp, udp, icmp, esp, ah or any protocol.`,
      );
    }
    protocol = p;
  }
  const min = portValue('port_range_min', body.port_range_min);
  const max = portValue('port_range_max', body.port_range_max);
  if ((min !== null || max !== null) && protocol === null) throw neutronError(400, 'SecurityGroupProtocolRequiredWithPorts', 'Must also specify protocol if port range is given.');
  if (protocol !== null && PORTED.includes(protocol)) {
    if (min === 0 || max === 0) throw neutronError(400, 'SecurityGroupInvalidPortValue', 'Invalid value for port 0.');
    if (min !== null && max !== null && min > max) throw neutronError(400, 'SecurityGroupInvalidPortRange', 'For TCP/UDP protocols, port_range_min must be <= port_range_max');
  } else if (min !== null || max !== null) {
    // Neutron reads them as ICMP type and code; an NSG rule cannot filter on either.
    throw badRequest(`Azure network security groups do not filter ${protocol} by type, code or port: leave port_range_min and port_range_max unset for protocol ${protocol}.`);
  }
  if (body.remote_group_id !== undefined && body.remote_group_id !== null && body.remote_ip_prefix !== undefined && body.remote_ip_prefix !== null) {
    throw neutronError(400, 'SecurityGroupRemoteGroupAndRemoteIpPrefix', 'Only remote_ip_prefix or remote_group_id may be provided.');
  }
  let remoteGroup: string | null = null;
  if (body.remote_group_id !== undefined && body.remote_group_id !== null) {
    if (!isUuid(body.remote_group_id)) throw invalid('remote_group_id', `'${String(body.remote_group_id)}' is not a valid UUID`);
    remoteGroup = body.remote_group_id.toLowerCase();
  }
  if (body.remote_address_group_id !== undefined && body.remote_address_group_id !== null) throw badRequest('remote_address_group_id is not supported by Jacket.');
  let remote: string | null = null;
  if (body.remote_ip_prefix !== undefined && body.remote_ip_prefix !== null) {
    const c = typeof body.remote_ip_prefix === 'string' ? normalizeCidr(body.remote_ip_prefix) : undefined;
    if (!c) throw invalid('remote_ip_prefix', `'${String(body.remote_ip_prefix)}' is not a valid IP subnet`);
    if ((c.version === 4) !== (ethertype === 'IPv4')) {
      throw neutronError(400, 'SecurityGroupRuleParameterConflict', `Conflicting value ethertype ${ethertype} for CIDR ${String(body.remote_ip_prefix)}`);
    }
    // Any address of the ethertype is no prefix at all, as Neutron stores it.
    remote = c.cidr === '0.0.0.0/0' || c.cidr === '::/0' ? null : c.cidr;
  }
  const description = body.description ?? '';
  if (typeof description !== 'string' || description.length > 255) throw invalid('description', `'${String(description)}' is not a valid string`);
  return {
    direction: body.direction,
    ethertype,
    protocol,
    port_range_min: min,
    // One port given: Neutron keeps both ends as given; a range needs both. A lone max is kept too.
    port_range_max: max,
    remote_ip_prefix: remote,
    remote_group_id: remoteGroup,
    description,
  };
}

const sameRule = (a: Omit<RuleRecord, 'id' | 'priority' | 'created_at' | 'description'>, b: RuleRecord) =>
  a.direction === b.direction &&
  a.ethertype === b.ethertype &&
  (a.protocol ?? null) === (b.protocol ?? null) &&
  a.port_range_min === b.port_range_min &&
  a.port_range_max === b.port_range_max &&
  a.remote_ip_prefix === b.remote_ip_prefix &&
  (a.remote_group_id ?? null) === (b.remote_group_id ?? null);

/**
 * The NSG rule of a Neutron rule. A remote group is its application security group (`asgId` gives the
 * ARM id of an ASG by name) on the remote side — the source of an ingress rule, the destination of an
 * egress one — and the other side stays any address, as for a prefix.
 */
export function azureRule(r: RuleRecord, asgId: (name: string) => string): NsgRuleSpec {
  const any = r.ethertype === 'IPv4' ? '0.0.0.0/0' : '::/0';
  const remote = r.remote_ip_prefix ?? any;
  const ports =
    r.port_range_min === null && r.port_range_max === null
      ? '*'
      : r.port_range_min === r.port_range_max || r.port_range_max === null
        ? String(r.port_range_min ?? r.port_range_max)
        : `${r.port_range_min ?? 1}-${r.port_range_max}`;
  return {
    name: azureRuleName(r.id),
    description: r.description,
    direction: r.direction === 'ingress' ? 'Inbound' : 'Outbound',
    protocol: r.protocol === null ? '*' : AZURE_PROTOCOL[r.protocol],
    priority: r.priority,
    sourceAddressPrefix: r.direction === 'ingress' ? remote : '*',
    destinationAddressPrefix: r.direction === 'ingress' ? '*' : remote,
    destinationPortRange: ports,
    ...(r.remote_group_id ? (r.direction === 'ingress' ? { sourceAsgId: asgId(asgNameOf(r.remote_group_id)) } : { destinationAsgId: asgId(asgNameOf(r.remote_group_id)) }) : {}),
  };
}

function freePriority(rules: RuleRecord[], direction: RuleRecord['direction']): number {
  const taken = new Set(rules.filter((r) => r.direction === direction).map((r) => r.priority));
  for (let p = PRIORITY_MIN; p <= PRIORITY_MAX; p++) if (!taken.has(p)) return p;
  throw neutronError(409, 'OverQuota', "Quota exceeded for resources: ['security_group_rule'].");
}

/** Azure refused a write: Neutron's 400 naming Azure's reason (nothing was changed). */
function azureRefusal(e: unknown): Error {
  const f = azureFailure(e);
  if (f.kind === 'client') return badRequest(`Azure refused the change (${f.code}): ${f.message}`);
  return e instanceof Error ? e : new Error(String(e));
}

// ---- groups ----

export interface GroupRequest {
  name?: unknown;
  description?: unknown;
}

function checkGroupFields(body: Record<string, unknown>, allowed: string[]): void {
  for (const k of Object.keys(body)) if (!allowed.includes(k)) throw badRequest(`Unrecognized attribute(s) '${k}'`);
  if (body.name !== undefined && (typeof body.name !== 'string' || body.name.length > 255)) throw invalid('name', `'${String(body.name)}' is not a valid string`);
  if (body.description !== undefined && (typeof body.description !== 'string' || body.description.length > 255)) throw invalid('description', `'${String(body.description)}' is not a valid string`);
}

/** A new group's Neutron default rules: egress to anywhere, IPv4 and IPv6 (and, for a project's `default`, ingress from its own members). */
function defaultRules(now: string, ids: () => string, selfId?: string): RuleRecord[] {
  const rule = (direction: RuleRecord['direction'], ethertype: RuleRecord['ethertype'], priority: number, remoteGroup: string | null): RuleRecord => ({
    id: ids(),
    direction,
    ethertype,
    protocol: null,
    port_range_min: null,
    port_range_max: null,
    remote_ip_prefix: null,
    ...(remoteGroup ? { remote_group_id: remoteGroup } : {}),
    description: '',
    priority,
    created_at: now,
  });
  return [
    rule('egress', 'IPv4', PRIORITY_MIN, null),
    rule('egress', 'IPv6', PRIORITY_MIN + 1, null),
    ...(selfId ? [rule('ingress', 'IPv4', PRIORITY_MIN, selfId), rule('ingress', 'IPv6', PRIORITY_MIN + 1, selfId)] : []),
  ];
}

/** The group's ASG, then its NSG with its rules (which may name the ASG): both PUTs are idempotent. */
async function putGroupAzure(s: Services, g: GroupRecord): Promise<void> {
  await s.azure.network.putAsg(g.asg ?? asgNameOf(g.id), groupTags(g));
  await s.azure.network.putNsg(
    g.nsg,
    groupTags(g),
    g.rules.map((r) => azureRule(r, s.azure.vms.asgId)),
  );
}

/**
 * POST /security-groups: the group's application security group (made with the group, not lazily: a
 * server or port joining the group and a rule naming it then need no Azure write or existence check of
 * their own, and a crash leaves at worst a tagged ASG the sweep removes), the NSG with Neutron's two
 * default egress rules, then the record.
 */
export async function createGroup(s: Services, projectId: string, body: Record<string, unknown>): Promise<GroupRecord> {
  checkGroupFields(body, ['name', 'description', 'project_id', 'tenant_id', 'stateful']);
  if (body.stateful === false) throw badRequest('Stateless security groups are not supported by Azure network security groups.');
  const name = (body.name as string | undefined) ?? '';
  if (name === 'default') throw neutronError(409, 'SecurityGroupDefaultAlreadyExists', 'Default security group already exists.');
  const now = neutronTime();
  const id = randomUUID();
  // The group and its two default rules, held until the record exists (quotas.ts): exact under races.
  await reserveNetwork(s, projectId, id, { security_group: 1, security_group_rule: 2 });
  const g: GroupRecord = {
    id,
    name,
    description: (body.description as string | undefined) ?? '',
    project_id: projectId,
    created_at: now,
    updated_at: now,
    rules: defaultRules(now, randomUUID),
    nsg: nsgNameOf(id),
    asg: asgNameOf(id),
  };
  const ledger = networkLedger(s);
  try {
    await putGroupAzure(s, g);
    await createGroupRecord(s, g);
  } catch (e) {
    await ledger.rollback(projectId, [id]);
    throw azureRefusal(e);
  }
  await ledger.commit(projectId, [id]);
  return g;
}

// ---- the project's `default` group (Neutron's _ensure_default_security_group) ----

/** A project's default group has an id of its own (name-based): racing first requests make the same one. */
export const defaultGroupId = (projectId: string) => stableUuid(`default-security-group:${projectId}`);

/**
 * The project's `default` group, made on first need as Neutron makes it: Neutron's four rules (egress
 * any IPv4 and IPv6; ingress IPv4 and IPv6 from the group's own members, i.e. its ASG). Every id is
 * name-based, so two racing first requests PUT the same ASG and NSG (idempotent) and insert the same
 * record: one insert wins, the other reads it. Made outside the quota check, as Neutron does, and
 * counted (the winner recounts the project's usage from its records).
 */
export async function ensureDefaultGroup(s: Services, projectId: string): Promise<GroupRecord> {
  const id = defaultGroupId(projectId);
  const cur = await getGroup(s, id);
  if (cur) return cur.value;
  const now = neutronTime();
  let k = 0;
  const g: GroupRecord = {
    id,
    name: 'default',
    description: 'Default security group',
    project_id: projectId,
    created_at: now,
    updated_at: now,
    rules: defaultRules(now, () => stableUuid(`default-security-group-rule:${projectId}:${k++}`), id),
    nsg: nsgNameOf(id),
    asg: asgNameOf(id),
  };
  try {
    await s.azure.network.putAsg(asgNameOf(id), groupTags(g));
    // A racer that already won may have been given more rules since: its NSG is not PUT again.
    const won = await getGroup(s, id);
    if (won) return won.value;
    await s.azure.network.putNsg(
      g.nsg,
      groupTags(g),
      g.rules.map((r) => azureRule(r, s.azure.vms.asgId)),
    );
  } catch (e) {
    throw azureRefusal(e);
  }
  try {
    await createGroupRecord(s, g);
  } catch (e) {
    const won = await getGroup(s, id);
    if (won) return won.value;
    throw e;
  }
  // Counted by the request whose insert won, from the records (the ledger's own repair, under its
  // ETag): racing first requests share one group id, so a reservation under it could be dropped by a
  // loser's rollback; a recount counts what exists, once.
  await networkLedger(s).recount(projectId);
  return g;
}

/** The caller's group (admins: any), or Neutron's 404. */
export async function ownGroup(s: Services, id: string, projectId: string, admin: boolean): Promise<GroupRecord> {
  const cur = await getGroup(s, id);
  if (!cur || (!admin && cur.value.project_id !== projectId)) throw sgNotFound(id);
  return cur.value;
}

export async function updateGroup(s: Services, id: string, projectId: string, admin: boolean, body: Record<string, unknown>): Promise<GroupRecord> {
  checkGroupFields(body, ['name', 'description', 'stateful']);
  if (body.stateful === false) throw badRequest('Stateless security groups are not supported by Azure network security groups.');
  const cur = await ownGroup(s, id, projectId, admin);
  if (body.name === 'default' && cur.name !== 'default') throw neutronError(409, 'SecurityGroupDefaultAlreadyExists', 'Default security group already exists.');
  // Neutron: a default group keeps its name (SecurityGroupCannotUpdateDefault).
  if (cur.id === defaultGroupId(cur.project_id) && body.name !== undefined && body.name !== 'default')
    throw neutronError(409, 'SecurityGroupCannotUpdateDefault', 'Updating default security group not allowed.');
  const next = await updateGroupRecord(s, id, (g) => ({
    ...g,
    ...(body.name !== undefined ? { name: body.name as string } : {}),
    ...(body.description !== undefined ? { description: body.description as string } : {}),
    updated_at: neutronTime(),
  }));
  if (!next) throw sgNotFound(id);
  return next.value;
}

/**
 * DELETE: Azure refuses an NSG a NIC still uses, which is Neutron's SecurityGroupInUse (nothing changed
 * then). After the NSG, the rules of other groups naming this one as remote group go, as Neutron's
 * foreign key (securitygrouprules.remote_group_id, ON DELETE CASCADE) takes them; then the ASG (no NIC
 * and no rule names it any more), then the record. A project's `default` group cannot be deleted but by
 * an admin (Neutron's SecurityGroupCannotRemoveDefault).
 */
export async function deleteGroup(s: Services, id: string, projectId: string, admin: boolean): Promise<void> {
  const g = await ownGroup(s, id, projectId, admin);
  if (!admin && g.id === defaultGroupId(g.project_id)) throw neutronError(409, 'SecurityGroupCannotRemoveDefault', 'Insufficient rights for removing default security group.');
  // A port holding it with other groups carries their combination, not this group's NSG: Azure would
  // not refuse the delete, the port records do.
  if (await inCombination(s, g.project_id, g.id)) throw neutronError(409, 'SecurityGroupInUse', `Security Group ${id} in use.`);
  try {
    await s.azure.network.deleteNsg(g.nsg);
  } catch (e) {
    const f = azureFailure(e);
    if (f.code === 'InUseNetworkSecurityGroupCannotBeDeleted') throw neutronError(409, 'SecurityGroupInUse', `Security Group ${id} in use.`);
    throw azureRefusal(e);
  }
  const referring = (await allGroups(s)).filter((o) => o.id !== g.id && o.rules.some((r) => r.remote_group_id === g.id));
  for (const other of referring) for (const r of other.rules.filter((x) => x.remote_group_id === g.id)) await deleteRule(s, other, r);
  try {
    await s.azure.network.deleteAsg(g.asg ?? asgNameOf(g.id));
  } catch (e) {
    const f = azureFailure(e);
    if (!asgInUse(f.code, f.message)) throw azureRefusal(e);
    // Something still names it (a rule being made against the group meanwhile): the sweep takes it later.
    log.warn('security group ASG still in use at the group delete; left to the sweep', { securityGroup: g.id, asg: g.asg ?? asgNameOf(g.id) });
  }
  // The record as it is now (a rule may have been added since it was read), removed under its ETag, so
  // the usage given back is exactly what it held, once, whoever wins a race of deletes.
  for (;;) {
    const cur = await getGroup(s, id);
    if (!cur) return;
    try {
      if (await deleteGroupRecord(s, g.id, cur.etag)) await networkLedger(s).release(g.project_id, { security_group: 1, security_group_rule: cur.value.rules.length });
      return;
    } catch (e) {
      if (!(e instanceof ConcurrencyError)) throw e;
    }
  }
}

// ---- rules ----

/**
 * The remote group of a rule: a group of the rule's project (admins: any), else Neutron's 404 naming
 * it. A group made before ASGs gets its ASG now (idempotent PUT), recorded on the group.
 */
async function remoteGroupOf(s: Services, remoteId: string, group: GroupRecord, admin: boolean): Promise<GroupRecord> {
  const cur = await getGroup(s, remoteId);
  if (!cur || (!admin && cur.value.project_id !== group.project_id)) throw sgNotFound(remoteId);
  if (cur.value.asg) return cur.value;
  try {
    await s.azure.network.putAsg(asgNameOf(cur.value.id), groupTags(cur.value));
  } catch (e) {
    throw azureRefusal(e);
  }
  const next = await updateGroupRecord(s, cur.value.id, (g) => (g.asg ? undefined : { ...g, asg: asgNameOf(g.id) }));
  return next?.value ?? { ...cur.value, asg: asgNameOf(cur.value.id) };
}

export async function createRule(s: Services, projectId: string, admin: boolean, body: RuleRequest): Promise<{ group: GroupRecord; rule: RuleRecord }> {
  if (typeof body.security_group_id !== 'string') throw invalid('security_group_id', `'${String(body.security_group_id)}' is not a valid UUID`);
  const wanted = validateRule(body);
  const group = await ownGroup(s, body.security_group_id, projectId, admin);
  if (wanted.remote_group_id) await remoteGroupOf(s, wanted.remote_group_id, group, admin);
  // Duplicates first (Neutron checks them before the quota), then the hold on the quota.
  const dup = group.rules.find((r) => sameRule(wanted, r));
  if (dup) throw neutronError(409, 'SecurityGroupRuleExists', `Security group rule already exists. Rule id is ${dup.id}.`);
  // The combinations holding the group take the rule too: one past Azure's limit is refused now.
  await checkRuleFits(s, group);
  const ruleId = randomUUID();
  const ledger = networkLedger(s);
  await reserveNetwork(s, group.project_id, ruleId, { security_group_rule: 1 });
  let rule: RuleRecord | undefined;
  // Recorded first: the priority is taken under the record's ETag, so racing creates get distinct ones.
  let stored: Awaited<ReturnType<typeof updateGroupRecord>>;
  try {
    stored = await updateGroupRecord(s, group.id, (g) => {
      const again = g.rules.find((r) => sameRule(wanted, r));
      if (again) throw neutronError(409, 'SecurityGroupRuleExists', `Security group rule already exists. Rule id is ${again.id}.`);
      rule = { ...wanted, id: ruleId, priority: freePriority(g.rules, wanted.direction), created_at: neutronTime() };
      return { ...g, rules: [...g.rules, rule], updated_at: neutronTime() };
    });
  } catch (e) {
    await ledger.rollback(group.project_id, [ruleId]);
    throw e;
  }
  if (!stored || !rule) {
    await ledger.rollback(group.project_id, [ruleId]);
    throw sgNotFound(group.id);
  }
  try {
    await s.azure.network.putNsgRule(stored.value.nsg, azureRule(rule, s.azure.vms.asgId));
  } catch (e) {
    await updateGroupRecord(s, group.id, (g) => ({ ...g, rules: g.rules.filter((r) => r.id !== ruleId) }));
    await ledger.rollback(group.project_id, [ruleId]);
    throw azureRefusal(e);
  }
  await ledger.commit(group.project_id, [ruleId]);
  await syncCombinations(s, stored.value);
  return { group: stored.value, rule };
}

/** The group holding rule `ruleId` among the caller's groups. */
export async function findRule(groups: GroupRecord[], ruleId: string): Promise<{ group: GroupRecord; rule: RuleRecord } | undefined> {
  for (const g of groups) {
    const rule = g.rules.find((r) => r.id === ruleId.toLowerCase());
    if (rule) return { group: g, rule };
  }
  return undefined;
}

export async function deleteRule(s: Services, group: GroupRecord, rule: RuleRecord): Promise<void> {
  try {
    await s.azure.network.deleteNsgRule(group.nsg, azureRuleName(rule.id));
  } catch (e) {
    throw azureRefusal(e);
  }
  let removed = false;
  await updateGroupRecord(s, group.id, (g) => {
    removed = g.rules.some((r) => r.id === rule.id);
    return removed ? { ...g, rules: g.rules.filter((r) => r.id !== rule.id), updated_at: neutronTime() } : undefined;
  });
  // Released only by the request that took the rule out of the record (a racing delete finds it gone).
  if (removed) await networkLedger(s).release(group.project_id, { security_group_rule: 1 });
  await syncCombinations(s, group);
}

/**
 * The combination NSGs holding the group (ports with several groups), rewritten from the records after
 * a rule change. The rule itself stands (record and the group's NSG): a combination left behind by a
 * failure here is brought in line by the next rule change of any member or the next port joining its
 * set (securityGroupSets.ts), so the failure is logged, not answered.
 */
async function syncCombinations(s: Services, group: GroupRecord): Promise<void> {
  try {
    await rewriteCombinations(s, group.project_id, group.id);
  } catch (e) {
    const f = azureFailure(e);
    log.warn('combination NSGs not rewritten after a rule change', { securityGroup: group.id, code: f.code, error: f.message });
  }
}
