// Nova's os-simple-tenant-usage (nova/api/openstack/compute/simple_tenant_usage.py): hours, vCPU-,
// RAM- and disk-hours per project over a period, from the servers' lifetimes; paged by limit/marker
// over the servers from 2.40.
//
// Nova keeps deleted instances (with terminated_at) in its database; Jacket removes a server's record
// once Azure confirms the delete, so lifetimes are kept in a usage ledger of their own:
//   table 'serverusage'  PartitionKey = project id, RowKey = server id: flavor snapshot, created_at, and
//                        once deleted launched_at and terminated_at (live = false).
// recordUsageStart runs when create has written the record; recordUsageEnd in the delete teardown,
// just before the record goes. A live server's name, state, flavor and launched_at are read from its
// record at report time (they change over its life); a terminated one's from its ledger row.
import type { RequestContext, Route } from '../../http/router';
import type { Services } from '../../services';
import { json } from '../../http/respond';
import { badRequest } from '../../http/errors';
import { authorize } from '../../api/policy';
import { odata } from '../../store/tables';
import { nextLinks, novaPageQuery, type PageRequest } from '../../api/pagination';
import { computeRoute, computeUrl } from '../common';
import { getServerAny, type ServerRecord } from '../servers/model';
import { strictQuery } from '../../http/router';

interface UsageRow {
  instance_id: string;
  project_id: string;
  name: string;
  flavor: { name: string; vcpus: number; memory_mb: number; local_gb: number };
  created_at: string;
  launched_at: string | null;
  /** Set when the server's deletion completed. */
  terminated_at?: string;
  vm_state?: string;
  /** Indexed: live rows and rows terminated after a period's start are the ones a report reads. */
  live: boolean;
}

const ledger = (s: Services) => s.tables.repository<UsageRow>('serverusage', ['live', 'terminated_at']);

function flavorOf(srv: ServerRecord): UsageRow['flavor'] {
  return { name: srv.flavor.name, vcpus: srv.flavor.vcpus, memory_mb: srv.flavor.ram, local_gb: srv.flavor.disk + srv.flavor.ephemeral };
}

/** The server now exists (create, after its record is written). */
export async function recordUsageStart(s: Services, srv: ServerRecord): Promise<void> {
  await ledger(s).upsert(srv.project_id, srv.id, {
    instance_id: srv.id,
    project_id: srv.project_id,
    name: srv.name,
    flavor: flavorOf(srv),
    created_at: srv.created_at,
    launched_at: srv.launched_at,
    live: true,
  });
}

/** The server's deletion completed (teardown, before its record is removed); a retried step keeps the first time. */
export async function recordUsageEnd(s: Services, srv: ServerRecord): Promise<void> {
  const prev = await ledger(s).get(srv.project_id, srv.id);
  if (prev?.value.terminated_at) return;
  await ledger(s).upsert(srv.project_id, srv.id, {
    instance_id: srv.id,
    project_id: srv.project_id,
    name: srv.name,
    flavor: flavorOf(srv),
    created_at: srv.created_at,
    launched_at: srv.launched_at,
    terminated_at: new Date().toISOString(),
    vm_state: srv.vm_state,
    live: false,
  });
}

// ---- times: Nova parses and prints naive UTC datetimes with microseconds; kept here as epoch µs ----

const US_PER_MS = 1000;
const toMicros = (iso: string) => Date.parse(iso) * US_PER_MS;

/** Python's datetime.isoformat() of a naive UTC time: the fraction only when not zero. */
function pyIso(us: number): string {
  const ms = Math.floor(us / US_PER_MS);
  const base = new Date(ms).toISOString().slice(0, 19);
  const frac = us - Math.floor(us / 1e6) * 1e6;
  return frac ? `${base}.${String(frac).padStart(6, '0')}` : base;
}

const FORMATS = [
  /^(\d{4})-(\d{1,2})-(\d{1,2})T(\d{1,2}):(\d{1,2}):(\d{1,2})()$/,
  /^(\d{4})-(\d{1,2})-(\d{1,2})T(\d{1,2}):(\d{1,2}):(\d{1,2})\.(\d{1,6})$/,
  /^(\d{4})-(\d{1,2})-(\d{1,2}) (\d{1,2}):(\d{1,2}):(\d{1,2})\.(\d{1,6})$/,
];

/** _parse_datetime: absent means now; else one of Nova's three strptime formats, as UTC. */
function parseTime(raw: string | null, nowUs: number): number {
  if (!raw) return nowUs;
  for (const f of FORMATS) {
    const m = f.exec(raw);
    if (!m) continue;
    const [y, mo, d, h, mi, sec] = m.slice(1, 7).map(Number);
    const ms = Date.UTC(y, mo - 1, d, h, mi, sec);
    const t = new Date(ms);
    if (t.getUTCFullYear() !== y || t.getUTCMonth() !== mo - 1 || t.getUTCDate() !== d || h > 23 || mi > 59 || sec > 59) break;
    return ms * US_PER_MS + Number((m[7] ?? '').padEnd(6, '0') || 0);
  }
  throw badRequest('Invalid datetime string: Datetime is in invalid format');
}

function period(ctx: RequestContext): { start: number; stop: number } {
  const now = Date.now() * US_PER_MS;
  const start = parseTime(ctx.query.get('start'), now);
  // Nova reads utcnow() for each bound left out, the end's a moment after the start's: with neither
  // given the period is empty, not refused.
  let stop = parseTime(ctx.query.get('end'), now + 1);
  if (!(start < stop)) throw badRequest('Invalid start time. The start time cannot occur after the end time.');
  if (stop > now) stop = now;
  return { start, stop };
}

// ---- the report ----

/** CONF.api.max_limit: Nova reads at most this many instances per report at 2.1. */
const MAX_INSTANCES = 1000;

interface Lifetime {
  row: UsageRow;
  name: string;
  state: string;
  flavor: UsageRow['flavor'];
  launched: number;
  terminated: number | null;
}

/**
 * The OData clause of the rows after a 2.40 marker in Nova's paging order (project_id, uuid ascending:
 * the ledger's own key order). The marker is any server the ledger knows, of any project, deleted or
 * not (Nova looks it up with read_deleted=yes); unknown, 400 as Nova's MarkerNotFound.
 */
async function afterMarker(s: Services, marker: string): Promise<string> {
  const [row] = await ledger(s).queryAll(odata`RowKey eq ${marker}`, 1);
  if (!row) throw badRequest(`Marker ${marker} could not be found.`);
  const p = row.value.project_id;
  return `(${odata`PartitionKey gt ${p}`} or (${odata`PartitionKey eq ${p}`} and ${odata`RowKey gt ${marker}`}))`;
}

/**
 * Servers alive at some point of [start, stop): Nova's instance_get_active_by_window_joined, in its
 * paging order, at most page.limit of them (2.40; CONF.api.max_limit before).
 */
async function lifetimes(s: Services, start: number, stop: number, page: PageRequest, projectId?: string): Promise<Lifetime[]> {
  const window = odata`live eq true or terminated_at gt ${new Date(Math.floor(start / US_PER_MS)).toISOString()}`;
  const clauses = [`(${window})`];
  if (projectId) clauses.unshift(odata`PartitionKey eq ${projectId}`);
  if (page.marker !== undefined) clauses.push(await afterMarker(s, page.marker));
  if (page.limit === 0) return [];
  const rows = (await ledger(s).queryAll(clauses.join(' and '), MAX_INSTANCES)).map((r) => r.value);
  // Live servers' current records, read in parallel (point reads by id).
  const records = await Promise.all(rows.map((row) => (row.live ? getServerAny(s, row.instance_id) : undefined)));
  const out: Lifetime[] = [];
  for (const [i, row] of rows.entries()) {
    let l: Lifetime | undefined;
    if (row.live) {
      // A live row whose record is gone was never completed (a create refused after its record) or
      // lost its end: no lifetime to bill.
      const srv = records[i]?.value;
      if (srv?.launched_at) {
        l = { row, name: srv.name, state: srv.vm_state, flavor: flavorOf(srv), launched: toMicros(srv.launched_at), terminated: null };
      }
    } else if (row.launched_at && row.terminated_at) {
      const terminated = toMicros(row.terminated_at);
      if (terminated > start) l = { row, name: row.name, state: 'terminated', flavor: row.flavor, launched: toMicros(row.launched_at), terminated };
    }
    if (l && l.launched < stop) out.push(l);
    // Nova's database query filters before it limits: the page holds `limit` billable servers.
    if (out.length >= page.limit) break;
  }
  return out;
}

/** _hours_for: the part of [launched, terminated) inside the period, in hours. */
function hoursFor(l: Lifetime, start: number, stop: number): number {
  const from = Math.max(l.launched, start);
  const to = l.terminated === null ? stop : Math.min(stop, l.terminated);
  return (to - from) / 3.6e9;
}

type Summary = Record<string, unknown> & {
  total_local_gb_usage: number;
  total_vcpus_usage: number;
  total_memory_mb_usage: number;
  total_hours: number;
  server_usages?: Record<string, unknown>[];
};

/** The summaries per project, and the ids of every server read (the 2.40 links page over them). */
async function usagesFor(s: Services, start: number, stop: number, detailed: boolean, page: PageRequest, projectId?: string): Promise<{ usages: Summary[]; ids: { id: string }[] }> {
  const byProject = new Map<string, Summary>();
  const now = Date.now() * US_PER_MS;
  const read = await lifetimes(s, start, stop, page, projectId);
  for (const l of read) {
    const hours = hoursFor(l, start, stop);
    const p = l.row.project_id;
    let sum = byProject.get(p);
    if (!sum) {
      sum = {
        tenant_id: p,
        ...(detailed ? { server_usages: [] } : {}),
        total_local_gb_usage: 0,
        total_vcpus_usage: 0,
        total_memory_mb_usage: 0,
        total_hours: 0,
        start: pyIso(start),
        stop: pyIso(stop),
      };
      byProject.set(p, sum);
    }
    sum.total_local_gb_usage += l.flavor.local_gb * hours;
    sum.total_vcpus_usage += l.flavor.vcpus * hours;
    sum.total_memory_mb_usage += l.flavor.memory_mb * hours;
    sum.total_hours += hours;
    sum.server_usages?.push({
      hours,
      flavor: l.flavor.name,
      instance_id: l.row.instance_id,
      name: l.name,
      tenant_id: p,
      memory_mb: l.flavor.memory_mb,
      local_gb: l.flavor.local_gb,
      vcpus: l.flavor.vcpus,
      started_at: pyIso(l.launched),
      ended_at: l.terminated === null ? null : pyIso(l.terminated),
      state: l.state,
      uptime: Math.trunc(((l.terminated ?? now) - l.launched) / 1e6),
    });
  }
  return { usages: [...byProject.values()], ids: read.map((l) => ({ id: l.row.instance_id })) };
}

/**
 * 2.40: limit and marker page over the servers (index_query_v240 / show_query_v240: limit digits only),
 * and a full page carries a next link; before it, at most CONF.api.max_limit servers and no links.
 */
function pageOf(ctx: RequestContext): PageRequest | undefined {
  return ctx.microversion?.atLeast('2.40') ? novaPageQuery(ctx.query) : undefined;
}

/** GET /os-simple-tenant-usage (admin): every project; per-server rows with detailed=1. */
async function index(ctx: RequestContext) {
  const { start, stop } = period(ctx);
  const detailed = ctx.query.get('detailed') === '1';
  const page = pageOf(ctx);
  const { usages, ids } = await usagesFor(ctx.services, start, stop, detailed, page ?? { limit: MAX_INSTANCES });
  const links = page && nextLinks(computeUrl(ctx, '/os-simple-tenant-usage'), ctx.query, ids, page);
  return json({ tenant_usages: usages, ...(links ? { tenant_usages_links: links } : {}) });
}

/** GET /os-simple-tenant-usage/{tenant_id}: one project (its readers, or admins), always detailed. */
async function show(ctx: RequestContext) {
  const projectId = ctx.params.tenant_id;
  authorize(ctx, 'os_compute_api:os-simple-tenant-usage:show', { projectId });
  const { start, stop } = period(ctx);
  const page = pageOf(ctx);
  const { usages, ids } = await usagesFor(ctx.services, start, stop, true, page ?? { limit: MAX_INSTANCES }, projectId);
  const links = page && nextLinks(computeUrl(ctx, `/os-simple-tenant-usage/${projectId}`), ctx.query, ids, page);
  return json({ tenant_usage: usages[0] ?? {}, ...(links ? { tenant_usage_links: links } : {}) });
}

const P = 'os_compute_api:os-simple-tenant-usage:';

export const simpleTenantUsageRoutes: Route[] = [
  computeRoute('tenant-usage-list', 'GET', '/os-simple-tenant-usage', `${P}list`, index, { strictQuery: strictQuery(['start', 'end', 'detailed', 'limit', 'marker']) }),
  computeRoute('tenant-usage-show', 'GET', '/os-simple-tenant-usage/{tenant_id}', `${P}show`, show, { strictQuery: strictQuery(['start', 'end', 'limit', 'marker']) }),
];
