// Several security groups on one port (issue 13). An Azure NIC carries one NSG, and a group Jacket
// makes is an NSG (`sg-<id>`), so:
// - a port with exactly one group carries that group's own NSG (as before: nothing to migrate);
// - a port with several groups carries a **combination NSG** Jacket owns, `sgs-<set id>`, one per
//   distinct set of groups (the set id is a name-based UUID of the sorted group ids, so every port
//   with that set shares it and racing requests PUT the same one), holding the union of the members'
//   rules (every Neutron rule is an Allow, so their order among themselves does not matter: Jacket
//   numbers them from 100 per direction), tagged jacket=security-group-set and one
//   `jacket-sg-<group id>` tag per member;
// - a port with no group carries the deny-all NSG `sgs-<id of the empty set>` (Neutron: a port with
//   port security and no group passes nothing; a NIC without an NSG would pass everything).
// The NIC joins the ASG of every member group, so remote_group_id rules naming any of them reach it.
//
// The port records are the truth of which combinations are in use: a rule change on a group rewrites
// (full, idempotent PUT from the group records) every combination holding the group that a port of the
// group's project uses. A crash between the group's own NSG write and a combination's rewrite leaves
// that combination behind by one rule until the next rule change of any member, or the next port or
// server that joins the set (every join PUTs the whole combination again). An unused combination is
// deleted when its last port leaves it (Azure refuses while a NIC holds it: kept), and the network
// sweep deletes any it finds unattached in two passes (a server's delete drops its NICs, not the NSG).
//
// The operator's mapped NSGs are not combined: their rules are the operator's, read from Azure and
// changed outside Jacket, so a copy would drift. A set naming one answers 400.
import type { Services } from '../services';
import type { NsgRuleSpec } from '../azure/network';
import { azureFailure } from '../azure/errors';
import { log } from '../log';
import { badRequest } from './common';
import { stableUuid, type SecurityGroupDef } from './catalog';
import { getGroup, type GroupRecord } from './securityGroupStore';
import { azureRule } from './securityGroupService';
import { portStore } from './ports';

/** Azure's limits (azure-subscription-service-limits, networking): rules per NSG, ASGs per IP configuration, ASGs across one NSG's rules. */
export const AZURE_RULES_PER_NSG = 1000;
export const AZURE_ASGS_PER_IP_CONFIGURATION = 20;
export const AZURE_ASGS_PER_NSG = 100;
const FIRST_PRIORITY = 100;

/** The set's id: name-based on the sorted, lower-cased group ids. */
export const groupSetId = (groupIds: string[]) => stableUuid(`security-group-set:${[...new Set(groupIds.map((g) => g.toLowerCase()))].sort().join(',')}`);
export const combinationNsgName = (groupIds: string[]) => `sgs-${groupSetId(groupIds)}`;

/** What a NIC carries for a set of groups: its NSG and the ASGs it joins (ARM ids). */
export interface NicSecurity {
  nsgId: string;
  asgIds: string[];
}

/** A set of groups as one NIC would carry it: the groups' definitions, each found by the caller among its usable groups. */
export type GroupSet = Pick<SecurityGroupDef, 'id' | 'name' | 'project_id' | 'azure'>[];

const tagsOf = (ids: string[], projectId: string): Record<string, string> => ({
  jacket: 'security-group-set',
  'jacket-security-group-set': groupSetId(ids),
  ...(projectId ? { 'jacket-project-id': projectId } : {}),
  ...Object.fromEntries(ids.map((id) => [`jacket-sg-${id}`, 'member'])),
});

/** The deny-all rules of the empty set: below them, Azure's own default rules would let the VNet in. */
const DENY_ALL: NsgRuleSpec[] = (['Inbound', 'Outbound'] as const).map((direction) => ({
  name: `jacket-deny-all-${direction.toLowerCase()}`,
  description: 'No security group: Neutron passes nothing',
  direction,
  protocol: '*',
  priority: 4096,
  sourceAddressPrefix: '*',
  destinationAddressPrefix: '*',
  destinationPortRange: '*',
  access: 'Deny',
}));

/**
 * The union of the member groups' rules as one NSG's rules, or the 400 naming the Azure limit it would
 * pass (checked before anything is written). `extraRules` counts a rule about to be added to a member.
 */
export function combinationRules(s: Services, members: GroupRecord[], extraRules = 0): NsgRuleSpec[] {
  const sorted = [...members].sort((a, b) => a.id.localeCompare(b.id));
  const rules = sorted.flatMap((g) => [...g.rules].sort((a, b) => a.priority - b.priority));
  if (rules.length + extraRules > AZURE_RULES_PER_NSG) {
    throw badRequest(
      `Security groups ${sorted.map((g) => g.id).join(', ')} together have ${rules.length + extraRules} rules: a port holding them all needs one Azure network security group with their union, and Azure allows at most ${AZURE_RULES_PER_NSG} rules in one.`,
    );
  }
  const remotes = new Set(rules.map((r) => r.remote_group_id).filter((x) => !!x));
  if (remotes.size > AZURE_ASGS_PER_NSG) {
    throw badRequest(
      `Security groups ${sorted.map((g) => g.id).join(', ')} together name ${remotes.size} remote groups: Azure allows at most ${AZURE_ASGS_PER_NSG} application security groups across one network security group's rules.`,
    );
  }
  const next = { ingress: FIRST_PRIORITY, egress: FIRST_PRIORITY };
  return rules.map((r) => azureRule({ ...r, priority: next[r.direction]++ }, s.azure.vms.asgId));
}

/** The members' records, or the 400 for a group that cannot be combined (the operator's mapped NSGs). */
async function memberRecords(s: Services, set: GroupSet): Promise<GroupRecord[]> {
  const out: GroupRecord[] = [];
  for (const g of set) {
    const rec = (await getGroup(s, g.id))?.value;
    if (!rec) {
      throw badRequest(
        `Security group ${g.id} (${g.name}) is one of the operator's network security groups: Azure puts one network security group on a port, and Jacket does not combine the operator's (its rules change outside Jacket) with other groups. Use it alone.`,
      );
    }
    out.push(rec);
  }
  return out;
}

/** The ASGs a NIC in the set joins, or the 400 for Azure's limit per IP configuration. */
function setAsgs(s: Services, set: GroupSet): string[] {
  const asgs = set.filter((g) => g.azure.asg).map((g) => s.azure.vms.asgId(g.azure.asg as string));
  if (asgs.length > AZURE_ASGS_PER_IP_CONFIGURATION) {
    throw badRequest(`A port can be in at most ${AZURE_ASGS_PER_IP_CONFIGURATION} security groups on Azure (the application security groups of one IP configuration): ${asgs.length} were asked.`);
  }
  return asgs;
}

/**
 * Checks a set against Azure's limits without writing anything (the 400s come before any change).
 * Returns the members' records for `nicSecurity`.
 */
export async function checkSet(s: Services, set: GroupSet): Promise<GroupRecord[]> {
  setAsgs(s, set);
  if (set.length < 2) return [];
  const members = await memberRecords(s, set);
  combinationRules(s, members);
  return members;
}

/**
 * What a NIC in these groups carries; for several groups (or none) the combination NSG is PUT first
 * (whole, idempotent: this is also its repair). 400 before any write for a set Azure cannot hold.
 */
export async function nicSecurity(s: Services, set: GroupSet, projectId: string): Promise<NicSecurity> {
  const asgIds = setAsgs(s, set);
  if (set.length === 1) return { nsgId: s.azure.vms.nsgId(set[0].azure), asgIds };
  const members = await checkSet(s, set);
  const ids = set.map((g) => g.id);
  const name = combinationNsgName(ids);
  await s.azure.network.putNsg(name, tagsOf(ids, set.length ? projectId : ''), set.length ? combinationRules(s, members) : DENY_ALL);
  return { nsgId: s.azure.vms.nsgId({ nsg: name, resourceGroup: s.config.azure.resourceGroup }), asgIds };
}

/** The distinct sets of two or more groups holding `groupId` that the project's ports use. */
async function setsHolding(s: Services, projectId: string, groupId: string): Promise<string[][]> {
  const ports = await portStore(s).listProject(projectId);
  const sets = new Map<string, string[]>();
  for (const p of ports) if (p.security_groups.length > 1 && p.security_groups.includes(groupId)) sets.set(groupSetId(p.security_groups), p.security_groups);
  return [...sets.values()];
}

/** Refuses (400) a rule that would take a combination holding the group past Azure's rule limit. */
export async function checkRuleFits(s: Services, group: GroupRecord): Promise<void> {
  for (const ids of await setsHolding(s, group.project_id, group.id)) {
    const members = (await Promise.all(ids.map((id) => getGroup(s, id)))).flatMap((m) => (m ? [m.value] : []));
    combinationRules(s, members, 1);
  }
}

/** After a rule change of `groupId`: every combination in use holding it, rewritten from the records. */
export async function rewriteCombinations(s: Services, projectId: string, groupId: string): Promise<void> {
  for (const ids of await setsHolding(s, projectId, groupId)) {
    const members = (await Promise.all(ids.map((id) => getGroup(s, id)))).flatMap((m) => (m ? [m.value] : []));
    // A member deleted meanwhile: the ports still name it; what is left is the union of the others.
    await s.azure.network.putNsg(combinationNsgName(ids), tagsOf(ids, projectId), combinationRules(s, members));
  }
}

/** Whether the project's ports use `groupId` in a combination (a group in use cannot be deleted). */
export async function inCombination(s: Services, projectId: string, groupId: string): Promise<boolean> {
  return (await setsHolding(s, projectId, groupId)).length > 0;
}

/**
 * A port left this set: its combination NSG (if it has one) goes when nothing uses it any more. A port
 * record of the project still naming the set keeps it (a server being built has its port records
 * before its NIC exists: the build's NIC PUT would find the NSG gone); otherwise Azure refuses the
 * delete while a NIC holds it, which is the answer "still used" (no count to keep in step).
 */
export async function dropIfUnused(s: Services, projectId: string, groupIds: string[]): Promise<void> {
  if (groupIds.length === 1) return;
  const set = groupSetId(groupIds);
  if ((await portStore(s).listProject(projectId)).some((p) => groupSetId(p.security_groups) === set)) return;
  const name = combinationNsgName(groupIds);
  try {
    await s.azure.network.deleteNsg(name);
  } catch (e) {
    const f = azureFailure(e);
    if (f.code !== 'InUseNetworkSecurityGroupCannotBeDeleted') log.warn('combination NSG not deleted; left to the sweep', { nsg: name, code: f.code, error: f.message });
  }
}

/**
 * The network sweep's repair of a combination a NIC holds (its tags name the set and the project): when
 * its rules are not the members' (a rewrite lost to a crash or an Azure failure after a rule change),
 * it is PUT again from the records. One NSG read per combination in use per pass; rule ids never
 * change their content, so comparing the names is enough.
 */
export async function repairCombination(s: Services, nsg: { name: string; tags: Record<string, string> }): Promise<boolean> {
  const ids = Object.keys(nsg.tags)
    .filter((k) => k.startsWith('jacket-sg-') && nsg.tags[k] === 'member')
    .map((k) => k.slice('jacket-sg-'.length));
  if (ids.length < 2 || combinationNsgName(ids) !== nsg.name) return false;
  const members = (await Promise.all(ids.map((id) => getGroup(s, id)))).flatMap((m) => (m ? [m.value] : []));
  const wanted = combinationRules(s, members);
  const have = await s.azure.network.nsgRules(s.config.azure.resourceGroup, nsg.name);
  if (!have) return false;
  const key = (names: (string | undefined)[]) => [...names].sort().join(',');
  if (key(have.map((r) => r.name)) === key(wanted.map((r) => r.name))) return false;
  await s.azure.network.putNsg(nsg.name, tagsOf(ids, nsg.tags['jacket-project-id'] ?? ''), wanted);
  log.info('combination NSG repaired from the group records', { nsg: nsg.name });
  return true;
}
