// /v2.0/security-groups and /v2.0/security-group-rules: the operator's NSGs as security groups, their
// rules read from the NSG (nsgRules.ts). The NSG is only read when the rules are asked for.
import type { RequestContext, Route } from '../http/router';
import { json } from '../http/respond';
import { log } from '../log';
import { networkCatalog, type SecurityGroupDef } from './catalog';
import { asInt, asString, listResponse, networkRoute, neutronError, ownerOf, selectFields, visibleTo, wantsField, type Body, type CollectionSpec } from './common';
import { translateRules, type NeutronRule } from './nsgRules';

const sgNotFound = (id: string) => neutronError(404, 'SecurityGroupNotFound', `Security group ${id} does not exist`);
const ruleNotFound = (id: string) => neutronError(404, 'SecurityGroupRuleNotFound', `Security group rule ${id} does not exist`);

export function visibleSecurityGroups(ctx: RequestContext): SecurityGroupDef[] {
  // A group without an owner is the operator's, offered to every project.
  return networkCatalog(ctx.services.config).securityGroups.filter((s) => visibleTo(ctx.auth!, s.project_id, s.project_id === ''));
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

async function listGroups(ctx: RequestContext) {
  const withRules = wantsField(ctx.query, 'security_group_rules');
  const items = await Promise.all(visibleSecurityGroups(ctx).map((sg) => groupBody(ctx, sg, withRules)));
  return listResponse(ctx, '/security-groups', items, groupsSpec);
}

async function showGroup(ctx: RequestContext) {
  const sg = visibleSecurityGroups(ctx).find((s) => s.id === ctx.params.security_group_id);
  if (!sg) throw sgNotFound(ctx.params.security_group_id);
  return json({ security_group: selectFields(ctx.query, await groupBody(ctx, sg, wantsField(ctx.query, 'security_group_rules'))) });
}

/** Rules of the visible groups (only the groups a security_group_id filter names, when given). */
async function visibleRules(ctx: RequestContext): Promise<NeutronRule[]> {
  const only = ctx.query.getAll('security_group_id').filter((v) => v);
  const groups = visibleSecurityGroups(ctx).filter((s) => only.length === 0 || only.includes(s.id));
  return (await Promise.all(groups.map((sg) => rulesOf(ctx, sg)))).flat();
}

async function listRules(ctx: RequestContext) {
  return listResponse(ctx, '/security-group-rules', (await visibleRules(ctx)) as unknown as Body[], rulesSpec);
}

async function showRule(ctx: RequestContext) {
  const id = ctx.params.rule_id;
  const all = await Promise.all(visibleSecurityGroups(ctx).map((sg) => rulesOf(ctx, sg)));
  const rule = all.flat().find((r) => r.id === id);
  if (!rule) throw ruleNotFound(id);
  return json({ security_group_rule: selectFields(ctx.query, rule as unknown as Body) });
}

export const securityGroupReadRoutes: Route[] = [
  networkRoute('security-groups-list', 'GET', '/security-groups', 'get_security_group', listGroups),
  networkRoute('security-groups-show', 'GET', '/security-groups/{security_group_id}', 'get_security_group', showGroup),
  networkRoute('security-group-rules-list', 'GET', '/security-group-rules', 'get_security_group_rule', listRules),
  networkRoute('security-group-rules-show', 'GET', '/security-group-rules/{rule_id}', 'get_security_group_rule', showRule),
];
