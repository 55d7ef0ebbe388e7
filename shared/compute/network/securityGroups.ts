// Nova's security group proxies over Neutron (nova/api/openstack/compute/security_groups.py with
// nova/network/security_group_api.py; deprecated at 2.36, served because Jacket's Compute max is 2.1):
// os-security-groups, os-security-group-rules, GET /servers/{id}/os-security-groups, and the server
// actions addSecurityGroup / removeSecurityGroup. The groups are Neutron's (the operator's mapped NSGs,
// read-only, and the project's own: shared/network/securityGroupService.ts); this renders them in
// Nova's shape, ingress rules only, as Nova's _convert_to_nova_security_group_format does.
import type { RequestContext, Route } from '../../http/router';
import { json, accepted } from '../../http/respond';
import { ApiError, badRequest, conflict, forbidden, notFound } from '../../http/errors';
import { isAdmin } from '../../api/policy';
import { PROXY_API, computeRoute } from '../common';
import { isUuid, type Body } from '../../network/common';
import type { NeutronRule } from '../../network/nsgRules';
import { recordGroupBody, recordRuleBody, visibleGroupBodies } from '../../network/securityGroups';
import { createGroup, createRule, deleteGroup, deleteRule, findRule, updateGroup } from '../../network/securityGroupService';
import { usableSecurityGroups, visibleGroupRecords } from '../../network/securityGroupStore';
import { portStore } from '../../network/ports';
import { noteServerGroups } from '../../network/portService';
import { dropIfUnused, groupSetId, nicSecurity } from '../../network/securityGroupSets';
import { registerServerAction } from '../servers/actions/registry';
import { checkInstanceLock, visibleServer } from '../servers/model';

/** A Neutron rule as Nova shows it (_convert_to_nova_security_group_rule_format + _format_security_group_rule). */
function ruleView(r: NeutronRule, known: Body[] = []) {
  const p = r.protocol;
  const noPorts = r.port_range_min === null && r.port_range_max === null;
  const [from, to] = p && noPorts ? (['tcp', 'udp'].includes(p.toLowerCase()) ? [1, 65535] : [-1, -1]) : [r.port_range_min, r.port_range_max];
  return {
    id: r.id,
    parent_group_id: r.security_group_id,
    ip_protocol: p,
    from_port: from,
    to_port: to,
    // A rule from a remote group names that group (Nova's group_id branch) and no address range.
    ...(r.remote_group_id
      ? { group: { name: (known.find((g) => g.id === r.remote_group_id)?.name as string | undefined) ?? null, tenant_id: r.project_id }, ip_range: {} }
      : { group: {}, ip_range: { cidr: r.remote_ip_prefix ?? '0.0.0.0/0' } }),
  };
}

function groupView(g: Body, known: Body[] = [g]) {
  const rules = ((g.security_group_rules as NeutronRule[]) ?? []).filter((r) => r.direction === 'ingress');
  return { id: g.id, name: g.name, description: g.description, tenant_id: g.project_id, rules: rules.map((r) => ruleView(r, known)) };
}

const sgIdCheck = (id: string) => {
  if (!isUuid(id)) throw badRequest('Security group id should be uuid');
};

async function find(ctx: RequestContext, id: string): Promise<Body> {
  sgIdCheck(id);
  const g = (await visibleGroupBodies(ctx)).find((x) => x.id === id.toLowerCase());
  if (!g) throw notFound(`Security group ${id} not found.`);
  return g;
}

/** Neutron's answers in Nova's words: 404 stays, over-quota is 403 (SecurityGroupLimitExceeded), the rest 400. */
function asNova(e: unknown): Error {
  if (!(e instanceof ApiError)) return e as Error;
  if (e.status === 404) return notFound(e.message);
  if (e.status === 409 && /Quota exceeded/.test(e.message)) return forbidden(e.message);
  if (e.status >= 400 && e.status < 500) return badRequest(e.message);
  return e;
}

async function index(ctx: RequestContext) {
  const all = isAdmin(ctx.auth!) && ctx.query.has('all_tenants');
  const groups = (await visibleGroupBodies(ctx)).filter((g) => all || g.project_id === ctx.auth!.projectId || !isAdmin(ctx.auth!));
  return json({ security_groups: groups.map((g) => groupView(g, groups)) });
}

async function show(ctx: RequestContext) {
  sgIdCheck(ctx.params.id);
  const known = await visibleGroupBodies(ctx);
  const g = known.find((x) => x.id === ctx.params.id.toLowerCase());
  if (!g) throw notFound(`Security group ${ctx.params.id} not found.`);
  return json({ security_group: groupView(g, known) });
}

function groupFields(ctx: RequestContext): { name: string; description: string } {
  const b = ctx.body as { security_group?: { name?: unknown; description?: unknown } } | undefined;
  const g = b && typeof b === 'object' ? b.security_group : undefined;
  if (!g || typeof g !== 'object') throw badRequest('Missing parameter security_group');
  for (const k of ['name', 'description'] as const) {
    const v = g[k];
    if (typeof v !== 'string') throw badRequest(`Security group ${k} is not a string or unicode`);
    if (v.length > 255) throw badRequest(`${k} has more than 255 characters.`);
  }
  return { name: g.name as string, description: g.description as string };
}

async function create(ctx: RequestContext) {
  const f = groupFields(ctx);
  try {
    const g = await createGroup(ctx.services, ctx.auth!.projectId ?? '', f);
    return json({ security_group: groupView(recordGroupBody(g)) });
  } catch (e) {
    throw asNova(e);
  }
}

async function update(ctx: RequestContext) {
  sgIdCheck(ctx.params.id);
  const f = groupFields(ctx);
  try {
    const g = await updateGroup(ctx.services, ctx.params.id, ctx.auth!.projectId ?? '', isAdmin(ctx.auth!), f);
    return json({ security_group: groupView(recordGroupBody(g)) });
  } catch (e) {
    throw asNova(e);
  }
}

async function remove(ctx: RequestContext) {
  sgIdCheck(ctx.params.id);
  await find(ctx, ctx.params.id);
  try {
    await deleteGroup(ctx.services, ctx.params.id, ctx.auth!.projectId ?? '', isAdmin(ctx.auth!));
  } catch (e) {
    throw asNova(e);
  }
  return accepted();
}

/** POST /os-security-group-rules: an ingress rule from a CIDR (Nova's only direction). */
async function createRuleRoute(ctx: RequestContext) {
  const b = ctx.body as { security_group_rule?: Record<string, unknown> } | undefined;
  const r = b && typeof b === 'object' ? b.security_group_rule : undefined;
  if (!r || typeof r !== 'object') throw badRequest('Missing parameter security_group_rule');
  const parent = String(r.parent_group_id ?? '');
  sgIdCheck(parent);
  if (r.group_id !== undefined && r.group_id !== null) throw badRequest('group_id rules are not supported by Jacket: an NSG rule names addresses, not the members of a group. Use cidr.');
  const proto = r.ip_protocol === undefined || r.ip_protocol === null ? null : String(r.ip_protocol);
  if (!proto || r.from_port === undefined || r.to_port === undefined || r.from_port === null || r.to_port === null) throw badRequest('Not enough parameters to build a valid rule.');
  const from = Number(r.from_port);
  const to = Number(r.to_port);
  if (!Number.isInteger(from) || !Number.isInteger(to))
    throw badRequest(proto.toUpperCase() === 'ICMP' ? 'Type and Code must be integers for ICMP protocol type' : 'To and From ports must be integers');
  const P = proto.toUpperCase();
  if (!['TCP', 'UDP', 'ICMP'].includes(P)) throw badRequest(`Invalid IP protocol ${proto}.`);
  if (P !== 'ICMP' && from > to) throw badRequest(`Invalid port range ${from}:${to}. Former value cannot be greater than the later`);
  if (P !== 'ICMP' && (from < 1 || to > 65535)) throw badRequest(`Invalid port range ${from}:${to}. Valid ${P} ports should be between 1-65535`);
  const cidr = r.cidr === undefined || r.cidr === null || r.cidr === '' ? '0.0.0.0/0' : String(r.cidr);
  const icmpAny = P === 'ICMP' && from === -1 && to === -1;
  if (P === 'ICMP' && !icmpAny) throw badRequest('Azure network security groups do not filter ICMP by type or code: use from_port -1 and to_port -1.');
  const groups = await visibleGroupRecords(ctx.services, ctx.auth!);
  if (!groups.some((g) => g.id === parent.toLowerCase())) {
    if ((await visibleGroupBodies(ctx)).some((g) => g.id === parent.toLowerCase()))
      throw badRequest(`Security group ${parent} is the operator's (a mapped Azure network security group) and cannot be changed through this API.`);
    throw notFound(`Security group ${parent} not found.`);
  }
  try {
    const { group, rule } = await createRule(ctx.services, ctx.auth!.projectId ?? '', isAdmin(ctx.auth!), {
      security_group_id: parent,
      direction: 'ingress',
      ethertype: cidr.includes(':') ? 'IPv6' : 'IPv4',
      protocol: proto.toLowerCase(),
      ...(icmpAny ? {} : { port_range_min: from, port_range_max: to }),
      remote_ip_prefix: cidr,
    });
    return json({ security_group_rule: ruleView(recordRuleBody(group, rule)) });
  } catch (e) {
    if (e instanceof ApiError && e.status === 409 && /already exists/.test(e.message)) throw badRequest(`This rule already exists in group ${parent}`);
    throw asNova(e);
  }
}

async function deleteRuleRoute(ctx: RequestContext) {
  const id = ctx.params.id;
  const found = await findRule(await visibleGroupRecords(ctx.services, ctx.auth!), id);
  if (!found) throw notFound(`Security group rule ${id} not found.`);
  await deleteRule(ctx.services, found.group, found.rule);
  return accepted();
}

/** GET /servers/{id}/os-security-groups: the groups of the server's ports. */
async function serverGroups(ctx: RequestContext) {
  const cur = await visibleServer(ctx);
  const ids = new Set(cur.value.security_groups.map((g) => g.id));
  const known = await visibleGroupBodies(ctx);
  const groups = known.filter((g) => ids.has(g.id as string));
  return json({ security_groups: groups.map((g) => groupView(g, known)) });
}

export const novaSecurityGroupRoutes: Route[] = [
  computeRoute('security-groups-list', 'GET', '/os-security-groups', 'os_compute_api:os-security-groups:get', index, PROXY_API),
  computeRoute('security-groups-create', 'POST', '/os-security-groups', 'os_compute_api:os-security-groups:create', create, PROXY_API),
  computeRoute('security-groups-show', 'GET', '/os-security-groups/{id}', 'os_compute_api:os-security-groups:show', show, PROXY_API),
  computeRoute('security-groups-update', 'PUT', '/os-security-groups/{id}', 'os_compute_api:os-security-groups:update', update, PROXY_API),
  computeRoute('security-groups-delete', 'DELETE', '/os-security-groups/{id}', 'os_compute_api:os-security-groups:delete', remove, PROXY_API),
  computeRoute('security-group-rules-create', 'POST', '/os-security-group-rules', 'os_compute_api:os-security-groups:rule:create', createRuleRoute, PROXY_API),
  computeRoute('security-group-rules-delete', 'DELETE', '/os-security-group-rules/{id}', 'os_compute_api:os-security-groups:rule:delete', deleteRuleRoute, PROXY_API),
  computeRoute('server-security-groups-list', 'GET', '/servers/{server_id}/os-security-groups', 'os_compute_api:os-security-groups:list', serverGroups),
];

const nameAction = (action: string) => ({
  type: 'object',
  properties: { [action]: { type: 'object', properties: { name: { type: 'string', minLength: 1 } }, required: ['name'], additionalProperties: false } },
  required: [action],
  additionalProperties: false,
});

/**
 * add/removeSecurityGroup change the NSG on the NICs the server made (Azure changes a NIC's NSG and
 * ASGs while the VM runs): one group's own NSG, or the combination NSG of the new set
 * (network/securityGroupSets.ts), and every group's ASG; a port the user made keeps its own groups.
 * A combination no NIC holds any more is deleted.
 */
async function setServerGroup(ctx: RequestContext, name: string, adding: boolean) {
  const cur = await visibleServer(ctx);
  checkInstanceLock(cur.value, ctx.auth!);
  const usable = await usableSecurityGroups(ctx.services, ctx.auth!);
  const byId = usable.find((g) => g.id === name.toLowerCase());
  const byName = usable.filter((g) => g.name === name);
  if (!byId && byName.length > 1) throw conflict(`Multiple security groups found matching '${name}'. Use an ID to be more specific.`);
  const g = byId ?? byName[0];
  if (!g) throw notFound(`Security group ${name} not found for project ${cur.value.project_id}.`);
  const has = cur.value.security_groups.some((x) => x.id === g.id);
  if (adding && has) throw badRequest(`Security group ${name} is already associated with the instance ${cur.value.id}`);
  if (!adding && !has) throw badRequest(`Security group ${name} not associated with the instance ${cur.value.id}`);
  const own = cur.value.nics.filter((n) => !n.preexisting);
  // Nova's add_to_instance: a port of the server with port security off takes no group (SecurityGroupCannotBeApplied).
  if (adding && (await portStore(ctx.services).listProject(cur.value.project_id, { device_id: [cur.value.id] })).some((p) => p.port_security_enabled === false)) {
    throw badRequest('Network requires port_security_enabled and subnet associated in order to apply security groups.');
  }
  if (own.length === 0) throw badRequest(`Instance ${cur.value.id} boots only on ports it was given: change the ports' security groups instead.`);
  const s = ctx.services;
  const ports = portStore(s);
  const project = cur.value.project_id;
  const groupOf = (id: string) => usable.find((u) => u.id === id) ?? (id === g.id ? g : undefined);
  // The server's own ports hold one set (they change together): the first one's record is where racing
  // add/remove requests meet, each changing the set it holds now under its ETag (of two adds, both
  // groups stay; the same group twice is Nova's 400 for the second).
  let refusal: Error | undefined;
  const changed = await ports.changeGroups(project, own[0].port_id, (held) => {
    if (adding === held.includes(g.id)) {
      refusal = badRequest(adding ? `Security group ${name} is already associated with the instance ${cur.value.id}` : `Security group ${name} not associated with the instance ${cur.value.id}`);
      return undefined;
    }
    const after = adding ? [...held, g.id] : held.filter((id) => id !== g.id);
    if (after.some((id) => !groupOf(id))) {
      refusal = badRequest(`Instance ${cur.value.id} holds a security group this project cannot use any more: remove it first.`);
      return undefined;
    }
    return after;
  });
  if (refusal) throw refusal;
  if (!changed) throw notFound(`Instance ${cur.value.id} could not be found.`);
  // Azure follows the record: the NICs get the set the record holds, read again after each change of
  // them, until a read finds what was applied (a racing request's set is never left half applied).
  let applied: string | undefined;
  for (let round = 0; round < 5; round++) {
    const held = (await ports.get(project, own[0].port_id))?.security_groups ?? changed.after;
    if (groupSetId(held) === applied) break;
    try {
      const sec = await nicSecurity(
        s,
        held.map(groupOf).filter((x) => x !== undefined),
        project,
      );
      for (const n of own) await s.azure.network.setNicNsg(n.nic_name, sec.nsgId, sec.asgIds);
    } catch (e) {
      // A racing request may have dropped the combination this round put on (its set left already):
      // the next round reads the set again. Azure refusing the set itself is the answer.
      if (e instanceof ApiError || round === 4) throw asNova(e);
      continue;
    }
    for (const n of own.slice(1)) await ports.changeGroups(project, n.port_id, () => held);
    applied = groupSetId(held);
  }
  // The server's copy of its groups follows its ports (a racing port update may have replaced the set).
  await noteServerGroups(s, cur.value.id, project, [...usable, g]);
  if (changed.before.length !== 1 && groupSetId(changed.before) !== groupSetId(changed.after)) await dropIfUnused(s, project, changed.before);
  return accepted();
}

registerServerAction({
  name: 'addSecurityGroup',
  policy: 'os_compute_api:os-security-groups:add',
  schema: nameAction('addSecurityGroup'),
  handler: async (ctx, args) => setServerGroup(ctx, (args as { name: string }).name, true),
});

registerServerAction({
  name: 'removeSecurityGroup',
  policy: 'os_compute_api:os-security-groups:remove',
  schema: nameAction('removeSecurityGroup'),
  handler: async (ctx, args) => setServerGroup(ctx, (args as { name: string }).name, false),
});
