// Neutron's quotas (neutron/quota, the `quotas` and `quota_details` extensions): limits per project over
// neutron.conf's [quotas] defaults, in table `netquotas`. Usage of what projects make through this API
// (security groups and their rules, floating IPs) lives in the quota ledger (shared/quota/ledger.ts, partition
// 'network'): a create reserves under the new record's id with one ETag-conditional write, so racing
// creates cannot pass the limit together (Neutron's own reservations do the same); ports too, whoever
// makes them (POST /ports, a server create's NICs, an interface attach), given back when a port record
// goes (PortStore.remove); routers, and the networks and subnets projects make (projectNetworks.ts),
// are held the same way; the operator's catalog networks count for no project. `openstack quota show` reads GET /v2.0/quotas/{project_id} (and
// /details with --usage).
import type { RequestContext, Route } from '../http/router';
import type { Services } from '../services';
import { json, noContent } from '../http/respond';
import { isAdmin } from '../api/policy';
import { badRequest, networkRoute, neutronError } from './common';
import { isValidKey } from '../store/tables';
import { OverQuota, QuotaLedger, type Counted, type Deltas } from '../quota/ledger';
import { portStore } from './ports';
import { projectGroups } from './securityGroupStore';
import { listFloatingIps } from './floatingIpStore';
import { projectRouters } from './routerStore';
import { listProjectNetworks } from './projectNetworkStore';

/** neutron.conf [quotas] defaults (quota_network, quota_subnet, ...), in Neutron's key order. */
export const NEUTRON_DEFAULTS = {
  floatingip: 50,
  network: 100,
  port: 500,
  rbac_policy: 10,
  router: 10,
  security_group: 10,
  security_group_rule: 100,
  subnet: 100,
  subnetpool: -1,
} as const;
export type NetworkQuotaResource = keyof typeof NEUTRON_DEFAULTS;
type Limits = Record<NetworkQuotaResource, number>;
const RESOURCES = Object.keys(NEUTRON_DEFAULTS) as NetworkQuotaResource[];

const repo = (s: Services) => s.tables.repository<{ limits: Partial<Limits> }>('netquotas');
const PK = 'quota';

/** The project's limits: its own values over the defaults. */
export async function networkQuota(s: Services, projectId: string): Promise<Limits> {
  const row = await repo(s).get(PK, projectId);
  return { ...NEUTRON_DEFAULTS, ...(row?.value.limits ?? {}) };
}

/** The ledger's count of one project, from the records (first use, and the hourly repair). */
async function countNetwork(s: Services, projectId: string): Promise<Counted> {
  const [groups, fips, routers, ports, nets] = await Promise.all([
    projectGroups(s, projectId),
    listFloatingIps(s, projectId),
    projectRouters(s, projectId),
    portStore(s).listProject(projectId),
    listProjectNetworks(s, { projectId, admin: false }),
  ]);
  const own = nets.filter((n) => n.project_id === projectId);
  const subnets = own.flatMap((n) => n.subnets);
  const ids = new Set<string>([...fips.map((f) => f.id), ...routers.map((r) => r.id), ...ports.map((p) => p.id), ...own.map((n) => n.id), ...subnets.map((x) => x.id)]);
  for (const g of groups) {
    ids.add(g.value.id);
    for (const r of g.value.rules) ids.add(r.id);
  }
  return {
    used: {
      security_group: groups.length,
      security_group_rule: groups.reduce((a, g) => a + g.value.rules.length, 0),
      floatingip: fips.length,
      router: routers.length,
      port: ports.length,
      network: own.length,
      subnet: subnets.length,
    },
    ids,
  };
}

/** Neutron's usage ledger (partition 'network' of the `quotausage` table). */
export const networkLedger = (s: Services) => new QuotaLedger(s, 'network', countNetwork);

/** Neutron's answer for a quota the request would exceed (neutron_lib.exceptions.OverQuota, 409). */
export const overQuota = (resources: string[]) => neutronError(409, 'OverQuota', `Quota exceeded for resources: [${resources.map((r) => `'${r}'`).join(', ')}].`);

/**
 * Holds `deltas` for the record `id` against the project's limits, or throws Neutron's 409. An
 * unlimited (-1) resource is still counted (usage is shown), but checks nothing.
 */
export async function reserveNetwork(s: Services, projectId: string, id: string, deltas: Deltas): Promise<void> {
  const limits = await networkQuota(s, projectId);
  try {
    await networkLedger(s).reserve(projectId, [{ id, deltas }], limits);
  } catch (e) {
    if (e instanceof OverQuota) throw overQuota([e.resource]);
    throw e;
  }
}

async function usage(s: Services, projectId: string): Promise<{ used: Limits; reserved: Limits }> {
  // An id no project can have (not a Table key) has used nothing; asking about it is not an error.
  const ledger = !isValidKey(projectId) ? { used: {} as Deltas, reserved: {} as Deltas } : await networkLedger(s).usage(projectId);
  const zero = () => Object.fromEntries(RESOURCES.map((r) => [r, 0])) as Limits;
  const used = zero();
  const reserved = zero();
  for (const r of RESOURCES) {
    used[r] = ledger.used[r] ?? 0;
    reserved[r] = ledger.reserved[r] ?? 0;
  }
  return { used, reserved };
}

/** A member reads their own project's quota; anything else needs admin (Neutron's get_quota). */
function target(ctx: RequestContext): string {
  const id = ctx.params.project_id;
  if (!isAdmin(ctx.auth!) && id !== ctx.auth!.projectId) throw neutronError(403, 'PolicyNotAuthorized', 'rule:get_quota is disallowed by policy');
  return id;
}

async function show(ctx: RequestContext) {
  return json({ quota: await networkQuota(ctx.services, target(ctx)) });
}

async function details(ctx: RequestContext) {
  const id = target(ctx);
  const [limits, { used, reserved }] = await Promise.all([networkQuota(ctx.services, id), usage(ctx.services, id)]);
  return json({ quota: Object.fromEntries(RESOURCES.map((r) => [r, { limit: limits[r], used: used[r], reserved: reserved[r] }])) });
}

async function defaults(ctx: RequestContext) {
  target(ctx);
  return json({ quota: { ...NEUTRON_DEFAULTS } });
}

/** GET /quotas (admin): the projects with limits of their own. */
async function list(ctx: RequestContext) {
  if (!isAdmin(ctx.auth!)) throw neutronError(403, 'PolicyNotAuthorized', 'rule:get_quota is disallowed by policy');
  const rows = await repo(ctx.services).list(PK);
  return json({ quotas: rows.map((r) => ({ ...NEUTRON_DEFAULTS, ...r.value.limits, project_id: r.rowKey, tenant_id: r.rowKey })) });
}

async function update(ctx: RequestContext) {
  const id = ctx.params.project_id;
  const body = ctx.body as { quota?: Record<string, unknown> } | undefined;
  if (!body || typeof body !== 'object' || typeof body.quota !== 'object' || body.quota === null || Array.isArray(body.quota)) throw badRequest('Resource body required');
  const changes: Partial<Limits> = {};
  for (const [k, raw] of Object.entries(body.quota)) {
    if (k === 'force' || k === 'check_limit') continue;
    if (!(RESOURCES as string[]).includes(k)) throw badRequest(`Unrecognized attribute(s) '${k}'`);
    const v = typeof raw === 'string' && /^-?\d+$/.test(raw) ? Number(raw) : raw;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < -1 || v > 2147483647) throw badRequest(`Invalid input for ${k}. Reason: '${String(raw)}' is not a valid integer or -1.`);
    changes[k as NetworkQuotaResource] = v;
  }
  const cur = await repo(ctx.services).get(PK, id);
  await repo(ctx.services).upsert(PK, id, { limits: { ...(cur?.value.limits ?? {}), ...changes } });
  return json({ quota: await networkQuota(ctx.services, id) });
}

async function remove(ctx: RequestContext) {
  await repo(ctx.services).delete(PK, ctx.params.project_id);
  return noContent();
}

export const networkQuotaRoutes: Route[] = [
  networkRoute('quotas-list', 'GET', '/quotas', 'get_quota', list),
  networkRoute('quotas-show', 'GET', '/quotas/{project_id}', 'get_quota', show),
  networkRoute('quotas-details', 'GET', '/quotas/{project_id}/details', 'get_quota', details),
  networkRoute('quotas-defaults', 'GET', '/quotas/{project_id}/default', 'get_quota', defaults),
  networkRoute('quotas-update', 'PUT', '/quotas/{project_id}', 'update_quota', update),
  networkRoute('quotas-delete', 'DELETE', '/quotas/{project_id}', 'delete_quota', remove),
];
