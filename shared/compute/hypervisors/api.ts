// /os-hypervisors (admin) as Nova 2.1, over Azure: one "hypervisor" per availability zone (the
// region, or each Azure zone of it; the same hosts /os-availability-zone/detail shows). Its figures
// come from the available-resource update (Nova's update_available_resource periodic task), a timer
// that reads the subscription's regional Compute usages and quotas (compute.usage.list) and Jacket's
// server records and stores one row per hypervisor; the API only reads those rows (a handful), so a
// request never scans the servers. How each figure is reasoned: docs/reconciliation.md.
import type { RequestContext, Route } from '../../http/router';
import type { Services } from '../../services';
import { json } from '../../http/respond';
import { badRequest, notFound, notImplemented } from '../../http/errors';
import { isUuidLike, validateQuery } from '../../api/validation';
import { computeRoute, computeUrl, QUERY_PARAM } from '../common';
import { nextLinks, novaPageQuery, pageOf } from '../../api/pagination';
import { availabilityZones } from '../zones/api';
import { regionalUsageOf } from '../quotas/limits';
import { serverRepo } from '../servers/model';
import { runPeriodic, type PeriodicReport } from '../../timers/periodic';
import { computeHost, listServices, nameBasedUuid, serviceDefs, type ServiceStatus } from '../../servicegroup/registry';

export const HYPERVISORS_TASK = 'update-hypervisors';

export interface HypervisorRow {
  id: number;
  hypervisor_hostname: string;
  /** The Nova zone it stands for. */
  zone: string;
  vcpus: number;
  vcpus_used: number;
  memory_mb: number;
  memory_mb_used: number;
  local_gb: number;
  local_gb_used: number;
  running_vms: number;
  current_workload: number;
  updated_at: string;
  /**
   * Placement's resource provider generation (shared/placement): bumped whenever the inventory or usage
   * figures change, as Placement bumps it on every inventory or allocation write. Absent on old rows: 0.
   */
  generation?: number;
  /**
   * The part of the *_used figures that is not Jacket's servers (other VMs of the subscription in the
   * region): Placement shows it as the inventory's `reserved`, and usage as the rest. Absent on old rows: 0.
   */
  other?: { vcpus: number; memory_mb: number; local_gb: number };
}

/**
 * The hypervisor's compute node uuid, which is also its Placement resource provider's: stable, derived
 * from the hostname (an RFC 4122 name-based layout over SHA-1, as uuid5), so every process agrees.
 */
export function hypervisorUuid(hostname: string): string {
  return nameBasedUuid(`jacket-compute-node:${hostname}`);
}

const FIGURES = ['vcpus', 'vcpus_used', 'memory_mb', 'memory_mb_used', 'local_gb', 'local_gb_used'] as const;

const repo = (s: Services) => s.tables.repository<HypervisorRow>('hypervisors');
const PK = 'region';
const rk = (id: number) => String(id).padStart(6, '0');
/** Rows older than this are recomputed by the request that finds them (the timer normally keeps them fresh). */
const FRESH_MS = 15 * 60 * 1000;
/** The shape of capacity when no server exists yet to learn it from: Azure's general-purpose ratio. */
const DEFAULT_MB_PER_VCPU = 4096;
const DEFAULT_GB_PER_VCPU = 32;
const MAX_SERVERS = 100_000;

/** n parts of total, the first ones one larger when it does not divide. */
const share = (total: number, n: number, i: number) => Math.floor(total / n) + (i < total % n ? 1 : 0);

/** The servers' figures per Nova zone (servers on a host: not shelved-offloaded, not being built). */
async function recordFigures(s: Services) {
  const by = new Map<string, { vcpus: number; ram: number; disk: number; vms: number; busy: number }>();
  for (const r of await serverRepo(s).queryAll("PartitionKey gt ''", MAX_SERVERS)) {
    const v = r.value;
    if (!v.host) continue;
    const f = by.get(v.availability_zone) ?? { vcpus: 0, ram: 0, disk: 0, vms: 0, busy: 0 };
    f.vcpus += v.flavor.vcpus;
    f.ram += v.flavor.ram;
    f.disk += v.flavor.disk + v.flavor.ephemeral;
    f.vms += 1;
    if (v.task_state) f.busy += 1;
    by.set(v.availability_zone, f);
  }
  return by;
}

/** Computes every hypervisor's row from Azure's regional usage and the records, and stores them. */
export async function computeHypervisors(s: Services, now = new Date()): Promise<HypervisorRow[]> {
  const cfg = s.config;
  const zones = availabilityZones(cfg);
  const regional = (await regionalUsageOf(s).read())?.cores;
  const figures = await recordFigures(s);
  const all = [...figures.values()].reduce((a, f) => ({ vcpus: a.vcpus + f.vcpus, ram: a.ram + f.ram, disk: a.disk + f.disk }), { vcpus: 0, ram: 0, disk: 0 });
  const mbPerVcpu = all.vcpus > 0 ? all.ram / all.vcpus : DEFAULT_MB_PER_VCPU;
  const gbPerVcpu = all.vcpus > 0 ? all.disk / all.vcpus : DEFAULT_GB_PER_VCPU;
  // vCPUs Azure counts in the region that are not Jacket's servers' (other VMs of the subscription).
  const outside = regional ? Math.max(0, regional.current - all.vcpus) : 0;
  const n = zones.length;
  const rows = zones.map((z, i): HypervisorRow => {
    const f = figures.get(z.name) ?? { vcpus: 0, ram: 0, disk: 0, vms: 0, busy: 0 };
    const other = share(outside, n, i);
    const vcpusUsed = f.vcpus + other;
    const vcpus = regional ? share(regional.limit, n, i) : vcpusUsed;
    const free = Math.max(0, vcpus - vcpusUsed);
    const memUsed = f.ram + Math.round(other * mbPerVcpu);
    const diskUsed = f.disk + Math.round(other * gbPerVcpu);
    return {
      id: i + 1,
      hypervisor_hostname: z.azureZone ? `${cfg.azure.location}-${z.azureZone}` : cfg.azure.location,
      zone: z.name,
      vcpus,
      vcpus_used: vcpusUsed,
      memory_mb: memUsed + Math.round(free * mbPerVcpu),
      memory_mb_used: memUsed,
      local_gb: diskUsed + Math.round(free * gbPerVcpu),
      local_gb_used: diskUsed,
      running_vms: f.vms,
      current_workload: f.busy,
      updated_at: now.toISOString(),
      other: { vcpus: other, memory_mb: memUsed - f.ram, local_gb: diskUsed - f.disk },
    };
  });
  const r = repo(s);
  const before = new Map((await r.list(PK)).map((x) => [x.rowKey, x.value]));
  for (const row of rows) {
    const old = before.get(rk(row.id));
    const same = old !== undefined && old.hypervisor_hostname === row.hypervisor_hostname && FIGURES.every((k) => old[k] === row[k]);
    row.generation = (old?.generation ?? 0) + (same ? 0 : 1);
    await r.upsert(PK, rk(row.id), row);
  }
  // Zones removed from the catalog lose their row.
  for (const old of await r.list(PK)) if (!rows.some((x) => rk(x.id) === old.rowKey)) await r.delete(PK, old.rowKey, old.etag).catch(() => undefined);
  return rows;
}

/** The timer: Nova's update_available_resource. */
export function updateHypervisors(s: Services, now: Date = new Date()): Promise<PeriodicReport> {
  return runPeriodic(s, HYPERVISORS_TASK, now, async (run) => {
    for (const row of await computeHypervisors(s, now)) {
      run.seen();
      run.note(row.hypervisor_hostname, 'updated', true);
    }
  });
}

/** The hypervisors' rows, recomputed when stale (os-hosts reads the first as its compute node). */
export async function hypervisorRows(s: Services): Promise<HypervisorRow[]> {
  const rows = (await repo(s).list(PK)).map((r) => r.value);
  const zones = availabilityZones(s.config);
  if (rows.length !== zones.length || rows.some((r) => Date.now() - Date.parse(r.updated_at) > FRESH_MS)) return computeHypervisors(s);
  return rows.sort((a, b) => a.id - b.id);
}

// ---- views (nova/api/openstack/compute/hypervisors.py _view_hypervisor, at 2.1) ----
// State and status are the nova-compute service's (shared/servicegroup/registry.ts): up from its
// heartbeats, disabled by PUT /os-services/disable; a compute service not registered yet shows down.

type ComputeService = ServiceStatus | undefined;

const computeService = async (s: Services): Promise<ComputeService> => (await listServices(s, 'compute')).find((v) => v.binary === 'nova-compute');

/** _view_hypervisor's id: the compute node's integer id before 2.53, its uuid from it. */
const idAt = (ctx: RequestContext, h: HypervisorRow) => (ctx.microversion?.atLeast('2.53') ? hypervisorUuid(h.hypervisor_hostname) : h.id);

/** The servers on a host, as a hypervisor lists them (undefined: not asked for). */
type HostServers = { name: string; uuid: string }[] | undefined;

/** `servers` when asked for: left out when there are none below 2.75, `[]` from 2.75 (Nova's _view_hypervisor). */
const serversPart = (ctx: RequestContext, servers: HostServers) => (servers && (servers.length > 0 || ctx.microversion?.atLeast('2.75')) ? { servers } : {});

function brief(ctx: RequestContext, h: HypervisorRow, svc: ComputeService, servers?: HostServers) {
  return {
    ...briefOf(ctx, h, svc),
    ...serversPart(ctx, servers),
  };
}

function briefOf(ctx: RequestContext, h: HypervisorRow, svc: ComputeService) {
  return { id: idAt(ctx, h), hypervisor_hostname: h.hypervisor_hostname, state: svc?.up ? 'up' : 'down', status: svc?.disabled ? 'disabled' : 'enabled' };
}

/** What Azure tells of a hypervisor's CPUs (Nova's compute node cpu_info, a JSON document). */
const cpuInfo = (s: Services, h: HypervisorRow) => ({ arch: 'x86_64', vendor: 'Microsoft Azure', location: s.config.azure.location, zone: h.zone });

/** _view_hypervisor's detail: cpu_info is the JSON string up to 2.27 and the object from 2.28. */
function detailed(ctx: RequestContext, h: HypervisorRow, svc: ComputeService, servers?: HostServers) {
  const s = ctx.services;
  const cpu = cpuInfo(s, h);
  // The service as /os-services shows it (its integer id, or its uuid from 2.53), registered or not.
  const def = serviceDefs(s.config).find((d) => d.api === 'compute' && d.binary === 'nova-compute')!;
  const base = {
    ...briefOf(ctx, h, svc),
    hypervisor_type: 'AzureVM',
    hypervisor_version: 1,
    host_ip: null,
    service: { id: ctx.microversion?.atLeast('2.53') ? def.uuid : def.id, host: computeHost(s.config), disabled_reason: svc?.disabled_reason ?? null },
  };
  // 2.88: the resource figures and cpu_info leave the view (placement has them) and `uptime` joins it:
  // Nova asks the host, and a driver without get_host_uptime (Azure has no host to ask) leaves it null.
  if (ctx.microversion?.atLeast('2.88')) return { ...base, uptime: null, ...serversPart(ctx, servers) };
  return {
    ...base,
    vcpus: h.vcpus,
    memory_mb: h.memory_mb,
    local_gb: h.local_gb,
    vcpus_used: h.vcpus_used,
    memory_mb_used: h.memory_mb_used,
    local_gb_used: h.local_gb_used,
    free_ram_mb: h.memory_mb - h.memory_mb_used,
    free_disk_gb: h.local_gb - h.local_gb_used,
    current_workload: h.current_workload,
    running_vms: h.running_vms,
    disk_available_least: h.local_gb - h.local_gb_used,
    cpu_info: ctx.microversion?.atLeast('2.28') ? cpu : JSON.stringify(cpu),
    ...serversPart(ctx, servers),
  };
}

/**
 * HypervisorsController._validate_id and compute_node_get: before 2.53 the id must be an integer of an
 * existing hypervisor (404 either way); from 2.53 a uuid (400 `Invalid uuid`), 404 when no hypervisor has it.
 */
async function byId(ctx: RequestContext): Promise<HypervisorRow> {
  const raw = ctx.params.hypervisor_id;
  const rows = await hypervisorRows(ctx.services);
  let h: HypervisorRow | undefined;
  if (ctx.microversion?.atLeast('2.53')) {
    if (!isUuidLike(raw)) throw badRequest(`Invalid uuid ${raw}`);
    h = rows.find((r) => hypervisorUuid(r.hypervisor_hostname) === raw.toLowerCase());
  } else h = /^-?\d+$/.test(raw) ? rows.find((r) => r.id === Number(raw)) : undefined;
  if (!h) throw notFound(`Hypervisor with ID '${raw}' could not be found.`);
  return h;
}

/** index_query_v253 and show_query_v253 (nova/api/openstack/compute/schemas/hypervisors.py). */
const BOOLEAN_LIKE = [true, 'True', 'TRUE', 'true', '1', 'ON', 'On', 'on', 'YES', 'Yes', 'yes', false, 'False', 'FALSE', 'false', '0', 'OFF', 'Off', 'off', 'NO', 'No', 'no'];
const WITH_SERVERS = { type: 'array', items: { type: ['boolean', 'string'], enum: BOOLEAN_LIKE }, maxItems: 1 };
const indexQueryV253 = {
  type: 'object',
  properties: {
    hypervisor_hostname_pattern: { type: 'array', items: { type: 'string', minLength: 1, maxLength: 255, pattern: '^[a-zA-Z0-9-._]*$' }, maxItems: 1 },
    with_servers: WITH_SERVERS,
    limit: QUERY_PARAM.limit,
    marker: QUERY_PARAM.marker,
  },
  additionalProperties: false,
};
const showQueryV253 = { type: 'object', properties: { with_servers: WITH_SERVERS }, additionalProperties: false };

/** with_servers (from 2.53): oslo's bool_from_string of the one value the schema admits. */
const withServersOf = (q: Record<string, string[]>) => ['true', '1', 'on', 'yes'].includes((q.with_servers?.[0] ?? '').toLowerCase());

/** The servers on the compute host (Nova lists the host's instances, not the node's). */
async function hostServers(s: Services): Promise<{ name: string; uuid: string }[]> {
  const host = computeHost(s.config);
  return (await serverRepo(s).queryAll("PartitionKey gt ''", MAX_SERVERS))
    .map((r) => r.value)
    .filter((v) => v.host === host)
    .map((v) => ({ name: v.name, uuid: v.id }));
}

/**
 * From 2.33 the lists page (index_query_v233; common.get_limit_and_marker): every `limit` value digits
 * only, the last one capped at 1000; the marker a hypervisor id (else 400 `marker [<m>] not found`);
 * `hypervisors_links` with a next link when the page is full. Below 2.33 both are ignored. From 2.53 the
 * marker is the uuid the list shows (an integer id is still found, as Nova's compute_node_get_all does).
 */
function hypervisorPage(ctx: RequestContext, rows: HypervisorRow[], path: string): { page: HypervisorRow[]; links?: { rel: 'next'; href: string }[] } {
  if (!ctx.microversion?.atLeast('2.33')) return { page: rows };
  const { limit, marker } = novaPageQuery(ctx.query);
  const markerId = marker !== undefined && ctx.microversion.atLeast('2.53') && isUuidLike(marker) ? rows.find((r) => hypervisorUuid(r.hypervisor_hostname) === marker.toLowerCase())?.id : undefined;
  const page = pageOf(
    rows.map((r) => ({ ...r, id: String(r.id) })),
    { limit, marker: markerId !== undefined ? String(markerId) : marker !== undefined && /^\d+$/.test(marker) ? String(Number(marker)) : marker },
    () => `marker [${marker}] not found`,
  ).map((r) => rows.find((x) => String(x.id) === r.id)!);
  const links = nextLinks(
    computeUrl(ctx, path),
    ctx.query,
    page.map((h) => ({ id: String(idAt(ctx, h)) })),
    { limit, marker },
  );
  return { page, links };
}

/**
 * _get_hypervisors: from 2.53 the query is index_query_v253, `hypervisor_hostname_pattern` lists the
 * matching hypervisors (404 when none; with `limit` or a marker 400, and no links) and `with_servers`
 * adds each one's servers.
 */
async function listed(ctx: RequestContext, path: string): Promise<{ page: HypervisorRow[]; links?: { rel: 'next'; href: string }[]; servers?: HostServers }> {
  if (!ctx.microversion?.atLeast('2.53')) return hypervisorPage(ctx, await hypervisorRows(ctx.services), path);
  const q = validateQuery(indexQueryV253, ctx.query);
  novaPageQuery(ctx.query);
  const servers = withServersOf(q) ? await hostServers(ctx.services) : undefined;
  const pattern = q.hypervisor_hostname_pattern?.[0];
  if (pattern === undefined) return { ...hypervisorPage(ctx, await hypervisorRows(ctx.services), path), servers };
  if (q.limit !== undefined || q.marker?.[0]) throw badRequest('Paging over hypervisors with the hypervisor_hostname_pattern query parameter is not supported.');
  return { page: await matching(ctx, pattern), servers };
}

async function index(ctx: RequestContext) {
  const { page, links, servers } = await listed(ctx, '/os-hypervisors');
  const svc = await computeService(ctx.services);
  return json({ hypervisors: page.map((h) => brief(ctx, h, svc, servers)), ...(links ? { hypervisors_links: links } : {}) });
}

async function detail(ctx: RequestContext) {
  const { page, links, servers } = await listed(ctx, '/os-hypervisors/detail');
  const svc = await computeService(ctx.services);
  return json({ hypervisors: page.map((h) => detailed(ctx, h, svc, servers)), ...(links ? { hypervisors_links: links } : {}) });
}

/** GET /os-hypervisors/{id}: from 2.53 by uuid (show_query_v253), `with_servers` adding the host's servers. */
async function show(ctx: RequestContext) {
  const q = ctx.microversion?.atLeast('2.53') ? validateQuery(showQueryV253, ctx.query) : {};
  const h = await byId(ctx);
  const servers = withServersOf(q) ? await hostServers(ctx.services) : undefined;
  return json({ hypervisor: detailed(ctx, h, await computeService(ctx.services), servers) });
}

async function statistics(ctx: RequestContext) {
  const rows = await hypervisorRows(ctx.services);
  const sum = (k: keyof HypervisorRow) => rows.reduce((a, r) => a + (r[k] as number), 0);
  return json({
    hypervisor_statistics: {
      count: rows.length,
      vcpus: sum('vcpus'),
      vcpus_used: sum('vcpus_used'),
      memory_mb: sum('memory_mb'),
      memory_mb_used: sum('memory_mb_used'),
      local_gb: sum('local_gb'),
      local_gb_used: sum('local_gb_used'),
      free_ram_mb: sum('memory_mb') - sum('memory_mb_used'),
      free_disk_gb: sum('local_gb') - sum('local_gb_used'),
      current_workload: sum('current_workload'),
      running_vms: sum('running_vms'),
      disk_available_least: sum('local_gb') - sum('local_gb_used'),
    },
  });
}

/** Nova's uptime asks the virt driver; Azure has no host uptime to give (driver NotImplementedError). */
async function uptime(ctx: RequestContext): Promise<never> {
  await byId(ctx);
  throw notImplemented('The requested functionality is not supported.');
}

/** Hypervisors whose hostname contains the pattern (Nova's LIKE %pattern%), else Nova's 404. */
async function matching(ctx: RequestContext, pattern: string): Promise<HypervisorRow[]> {
  const found = (await hypervisorRows(ctx.services)).filter((h) => h.hypervisor_hostname.toLowerCase().includes(pattern.toLowerCase()));
  if (found.length === 0) throw notFound(`No hypervisor matching '${pattern}' could be found.`);
  return found;
}

/** GET /os-hypervisors/{pattern}/search (2.1-2.52; hypervisor_hostname_pattern from 2.53). */
async function search(ctx: RequestContext) {
  const found = await matching(ctx, ctx.params.hypervisor_hostname_pattern);
  const svc = await computeService(ctx.services);
  return json({ hypervisors: found.map((h) => brief(ctx, h, svc)) });
}

/**
 * GET /os-hypervisors/{pattern}/servers (2.1-2.52; with_servers from 2.53): each matching hypervisor
 * with the servers on its host; "servers" left out when there are none.
 */
async function servers(ctx: RequestContext) {
  const found = await matching(ctx, ctx.params.hypervisor_hostname_pattern);
  const svc = await computeService(ctx.services);
  const list = await hostServers(ctx.services);
  return json({ hypervisors: found.map((h) => brief(ctx, h, svc, list)) });
}

export const hypervisorRoutes: Route[] = [
  computeRoute('hypervisors-list', 'GET', '/os-hypervisors', 'os_compute_api:os-hypervisors:list', index),
  computeRoute('hypervisors-detail', 'GET', '/os-hypervisors/detail', 'os_compute_api:os-hypervisors:list-detail', detail),
  // 2.88 removes statistics and uptime (Nova's api_version max 2.87): a bare 404 from it.
  computeRoute('hypervisors-statistics', 'GET', '/os-hypervisors/statistics', 'os_compute_api:os-hypervisors:statistics', statistics, { versions: { max: '2.87' } }),
  computeRoute('hypervisors-show', 'GET', '/os-hypervisors/{hypervisor_id}', 'os_compute_api:os-hypervisors:show', show),
  computeRoute('hypervisors-uptime', 'GET', '/os-hypervisors/{hypervisor_id}/uptime', 'os_compute_api:os-hypervisors:uptime', uptime, { versions: { max: '2.87' } }),
  computeRoute('hypervisors-search', 'GET', '/os-hypervisors/{hypervisor_hostname_pattern}/search', 'os_compute_api:os-hypervisors:search', search, { versions: { max: '2.52' } }),
  computeRoute('hypervisors-servers', 'GET', '/os-hypervisors/{hypervisor_hostname_pattern}/servers', 'os_compute_api:os-hypervisors:servers', servers, { versions: { max: '2.52' } }),
];
