// /v2.0/security-groups and /v2.0/security-group-rules, the controllers: the operator's NSGs as
// security groups (read-only, their rules read from the NSG: nsgRules.ts; the NSG is only read when the
// rules are asked for), and the groups projects make, on NSGs Jacket owns (securityGroupService.ts).
import type { RequestContext, Route } from '../http/router';
import { json, noContent } from '../http/respond';
import { isAdmin } from '../api/policy';
import { log } from '../log';
import { networkCatalog, type SecurityGroupDef } from './catalog';
import { asInt, asString, listResponse, networkRoute, neutronError, ownerFor, ownerOf, resourceBody, selectFields, visibleTo, wantsField, type Body, type CollectionSpec } from './common';
import { translateRules, type NeutronRule } from './nsgRules';
import { sharedDefaultHidden, visibleGroupRecords, type GroupRecord, type RuleRecord } from './securityGroupStore';
import { createGroup, createRule, deleteGroup, deleteRule, findRule, ruleNotFound, sgNotFound, updateGroup, type RuleRequest } from './securityGroupService';

export function visibleSecurityGroups(ctx: RequestContext): SecurityGroupDef[] {
  // A group without an owner is the operator's, offered to every project.
  // The shared `default` gives way to the project's own (securityGroupStore.ts); admins still see it.
  return networkCatalog(ctx.services.config).securityGroups.filter(
    (s) => visibleTo(ctx.auth!, s.project_id, s.project_id === '') && (isAdmin(ctx.auth!) || !sharedDefaultHidden(ctx.services, s, ctx.auth!.projectId)),
  );
}

async function rulesOf(ctx: RequestContext, sg: SecurityGroupDef): Promise<NeutronRule[]> {
  const azure = await ctx.services.azure.network.nsgRules(sg.azure.resourceGroup, sg.azure.nsg);
  if (!azure) {
    // A catalog entry naming a missing NSG is an operator error: show the group with no rules, and say so.
    log.warn('security group maps to a missing NSG', { securityGroup: sg.id, nsg: sg.azure.nsg, resourceGroup: sg.azure.resourceGroup });
    return [];
  }
  return translateRules(sg, await ownerOf(ctx, sg.project_id), azure);
}

async function groupBody(ctx: RequestContext, sg: SecurityGroupDef, withRules: boolean): Promise<Body> {
  const owner = await ownerOf(ctx, sg.project_id);
  return {
    id: sg.id,
    name: sg.name,
    description: sg.description,
    security_group_rules: withRules ? await rulesOf(ctx, sg) : [],
    project_id: owner,
    tenant_id: owner,
  };
}

/** A rule of a project's group, as Neutron renders it. */
export function recordRuleBody(g: GroupRecord, r: RuleRecord): NeutronRule {
  return {
    id: r.id,
    security_group_id: g.id,
    direction: r.direction,
    ethertype: r.ethertype,
    protocol: r.protocol,
    port_range_min: r.port_range_min,
    port_range_max: r.port_range_max,
    remote_ip_prefix: r.remote_ip_prefix,
    remote_group_id: r.remote_group_id ?? null,
    description: r.description,
    project_id: g.project_id,
    tenant_id: g.project_id,
  };
}

export function recordGroupBody(g: GroupRecord, withRules = true): Body {
  return {
    id: g.id,
    name: g.name,
    description: g.description,
    security_group_rules: withRules ? g.rules.map((r) => recordRuleBody(g, r)) : [],
    project_id: g.project_id,
    tenant_id: g.project_id,
  };
}

const common = { id: asString, name: asString, description: asString, project_id: asString, tenant_id: asString };

const groupsSpec: CollectionSpec = {
  collection: 'security_groups',
  filters: common,
  sortKeys: ['id', 'name', 'description', 'project_id', 'tenant_id'],
  notFound: sgNotFound,
};

const rulesSpec: CollectionSpec = {
  collection: 'security_group_rules',
  filters: {
    ...common,
    security_group_id: asString,
    direction: asString,
    ethertype: asString,
    protocol: asString,
    port_range_min: asInt,
    port_range_max: asInt,
    remote_ip_prefix: asString,
    remote_group_id: asString,
  },
  sortKeys: ['id', 'security_group_id', 'direction', 'ethertype', 'protocol', 'port_range_min', 'port_range_max', 'remote_ip_prefix', 'project_id', 'tenant_id'],
  notFound: ruleNotFound,
};

/**
 * Every group the caller sees, with its rules, as Neutron renders them (the operator's mapped ones,
 * then the project's own). Nova's os-security-groups proxy renders these in its own shape.
 */
export async function visibleGroupBodies(ctx: RequestContext): Promise<Body[]> {
  const mapped = await Promise.all(visibleSecurityGroups(ctx).map((sg) => groupBody(ctx, sg, true)));
  const own = (await visibleGroupRecords(ctx.services, ctx.auth!)).map((g) => recordGroupBody(g, true));
  return [...mapped, ...own];
}

async function listGroups(ctx: RequestContext) {
  const withRules = wantsField(ctx.query, 'security_group_rules');
  const mapped = await Promise.all(visibleSecurityGroups(ctx).map((sg) => groupBody(ctx, sg, withRules)));
  const own = (await visibleGroupRecords(ctx.services, ctx.auth!)).map((g) => recordGroupBody(g, withRules));
  return listResponse(ctx, '/security-groups', [...mapped, ...own], groupsSpec);
}

async function showGroup(ctx: RequestContext) {
  const id = ctx.params.security_group_id;
  const withRules = wantsField(ctx.query, 'security_group_rules');
  const sg = visibleSecurityGroups(ctx).find((s) => s.id === id);
  if (sg) return json({ security_group: selectFields(ctx.query, await groupBody(ctx, sg, withRules)) });
  const own = (await visibleGroupRecords(ctx.services, ctx.auth!)).find((g) => g.id === id.toLowerCase());
  if (!own) throw sgNotFound(id);
  return json({ security_group: selectFields(ctx.query, recordGroupBody(own, withRules)) });
}

/** Rules of the visible groups (only the groups a security_group_id filter names, when given). */
async function visibleRules(ctx: RequestContext): Promise<NeutronRule[]> {
  const only = ctx.query.getAll('security_group_id').filter((v) => v);
  const groups = visibleSecurityGroups(ctx).filter((s) => only.length === 0 || only.includes(s.id));
  const mapped = (await Promise.all(groups.map((sg) => rulesOf(ctx, sg)))).flat();
  const own = (await visibleGroupRecords(ctx.services, ctx.auth!)).filter((g) => only.length === 0 || only.includes(g.id)).flatMap((g) => g.rules.map((r) => recordRuleBody(g, r)));
  return [...mapped, ...own];
}

async function listRules(ctx: RequestContext) {
  return listResponse(ctx, '/security-group-rules', (await visibleRules(ctx)) as unknown as Body[], rulesSpec);
}

async function showRule(ctx: RequestContext) {
  const id = ctx.params.rule_id;
  const rule = (await visibleRules(ctx)).find((r) => r.id === id);
  if (!rule) throw ruleNotFound(id);
  return json({ security_group_rule: selectFields(ctx.query, rule as unknown as Body) });
}

// ---- writes (the project's own groups; the operator's mapped groups are read-only) ----

/** The operator's mapped groups cannot be changed here: Neutron's answer for a group the caller may read but not write. */
function refuseMapped(ctx: RequestContext, id: string): void {
  if (visibleSecurityGroups(ctx).some((s) => s.id === id))
    throw neutronError(403, 'HTTPForbidden', `Security group ${id} is the operator's (a mapped Azure network security group) and cannot be changed through this API.`);
}

async function createGroupRoute(ctx: RequestContext) {
  const body = resourceBody(ctx, 'security_group');
  const g = await createGroup(ctx.services, ownerFor(ctx, body), body);
  return json({ security_group: recordGroupBody(g) }, 201);
}

async function updateGroupRoute(ctx: RequestContext) {
  const id = ctx.params.security_group_id;
  refuseMapped(ctx, id);
  const g = await updateGroup(ctx.services, id, ctx.auth!.projectId ?? '', isAdmin(ctx.auth!), resourceBody(ctx, 'security_group'));
  return json({ security_group: recordGroupBody(g) });
}

async function deleteGroupRoute(ctx: RequestContext) {
  const id = ctx.params.security_group_id;
  refuseMapped(ctx, id);
  await deleteGroup(ctx.services, id, ctx.auth!.projectId ?? '', isAdmin(ctx.auth!));
  return noContent();
}

async function createRuleRoute(ctx: RequestContext) {
  const body = resourceBody(ctx, 'security_group_rule') as RuleRequest & Record<string, unknown>;
  if (typeof body.security_group_id === 'string') refuseMapped(ctx, body.security_group_id);
  const { group, rule } = await createRule(ctx.services, ctx.auth!.projectId ?? '', isAdmin(ctx.auth!), body);
  return json({ security_group_rule: recordRuleBody(group, rule) }, 201);
}

async function deleteRuleRoute(ctx: RequestContext) {
  const id = ctx.params.rule_id;
  const found = await findRule(await visibleGroupRecords(ctx.services, ctx.auth!), id);
  if (!found) {
    if ((await visibleRules(ctx)).some((r) => r.id === id)) refuseMapped(ctx, (await visibleRules(ctx)).find((r) => r.id === id)!.security_group_id);
    throw ruleNotFound(id);
  }
  await deleteRule(ctx.services, found.group, found.rule);
  return noContent();
}

export const securityGroupReadRoutes: Route[] = [
  networkRoute('security-groups-list', 'GET', '/security-groups', 'get_security_group', listGroups),
  networkRoute('security-groups-show', 'GET', '/security-groups/{security_group_id}', 'get_security_group', showGroup),
  networkRoute('security-group-rules-list', 'GET', '/security-group-rules', 'get_security_group_rule', listRules),
  networkRoute('security-group-rules-show', 'GET', '/security-group-rules/{rule_id}', 'get_security_group_rule', showRule),
];

export const securityGroupWriteRoutes: Route[] = [
  networkRoute('security-groups-create', 'POST', '/security-groups', 'create_security_group', createGroupRoute),
  networkRoute('security-groups-update', 'PUT', '/security-groups/{security_group_id}', 'update_security_group', updateGroupRoute),
  networkRoute('security-groups-delete', 'DELETE', '/security-groups/{security_group_id}', 'delete_security_group', deleteGroupRoute),
  networkRoute('security-group-rules-create', 'POST', '/security-group-rules', 'create_security_group_rule', createRuleRoute),
  networkRoute('security-group-rules-delete', 'DELETE', '/security-group-rules/{rule_id}', 'delete_security_group_rule', deleteRuleRoute),
];
