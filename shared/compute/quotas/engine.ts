// Nova's quota engine: what other modules call (limits, usage, reservations, checks); the
// os-quota-sets / os-quota-class-sets APIs are ./api.ts (nova/quota.py DbQuotaDriver, api/.../quota_sets.py and
// quota_classes.py). Limits live in Table Storage: one partition per project holding the project's own
// limits and its per-user limits; quota classes in their own table (only 'default' has an effect).
// Server usage (instances, cores, ram) is a ledger of counters with reservations (shared/quota/ledger.ts),
// kept per project and per user in it ('cores@<user>'), so a create's check is one point read and one
// conditional write, whatever the project holds, and racing creates cannot both take the last unit.
import type { Services } from '../../services';
import type { JacketConfig } from '../../config';
import { forbidden } from '../../http/errors';
import { AlreadyExistsError, ConcurrencyError, type Repository, type Stored } from '../../store/tables';
import { OverQuota, QuotaLedger, type Counted, type Deltas } from '../../quota/ledger';
import { serverRepo } from '../servers/model';

/** Nova's quota resources at 2.1, sorted as QUOTAS.resources is (the network ones are deprecated, always -1 by default). */
export const QUOTA_RESOURCES = [
  'cores',
  'fixed_ips',
  'floating_ips',
  'injected_file_content_bytes',
  'injected_file_path_bytes',
  'injected_files',
  'instances',
  'key_pairs',
  'metadata_items',
  'ram',
  'security_group_rules',
  'security_groups',
  'server_group_members',
  'server_groups',
] as const;
export type QuotaResource = (typeof QUOTA_RESOURCES)[number];
export type Limits = Record<QuotaResource, number>;

/** Resources whose usage is counted from records (CountableResource upstream). */
export type CountedResource = 'instances' | 'cores' | 'ram' | 'key_pairs' | 'server_groups' | 'server_group_members';

/** nova.conf [quota] defaults; the deprecated nova-network resources have no option and default to -1. */
export const NOVA_DEFAULTS: Limits = {
  cores: 20,
  fixed_ips: -1,
  floating_ips: -1,
  injected_file_content_bytes: 10240,
  injected_file_path_bytes: 255,
  injected_files: 5,
  instances: 10,
  key_pairs: 100,
  metadata_items: 128,
  ram: 51200,
  security_group_rules: -1,
  security_groups: -1,
  server_group_members: 10,
  server_groups: 10,
};

export const MAX_LIMIT = 2147483647;
export const isResource = (k: string): k is QuotaResource => (QUOTA_RESOURCES as readonly string[]).includes(k);

// ---------------------------------------------------------------------------------------------
// Defaults: the operator catalog section `quotas` ({resource: limit}) over Nova's defaults.

const catalogDefaults = new WeakMap<JacketConfig, Limits>();

/** The configured defaults (nova.conf's role): catalog.quotas over NOVA_DEFAULTS; a bad section is a config error. */
export function configuredDefaults(cfg: JacketConfig): Limits {
  let d = catalogDefaults.get(cfg);
  if (d) return d;
  d = { ...NOVA_DEFAULTS };
  const section = cfg.catalog.quotas;
  if (section !== undefined) {
    if (typeof section !== 'object' || section === null || Array.isArray(section)) throw new Error('catalog.quotas must be an object of resource -> limit');
    for (const [k, v] of Object.entries(section)) {
      if (!isResource(k)) throw new Error(`catalog.quotas: unknown quota resource "${k}" (known: ${QUOTA_RESOURCES.join(', ')})`);
      if (!Number.isInteger(v) || (v as number) < -1 || (v as number) > MAX_LIMIT) throw new Error(`catalog.quotas.${k} must be an integer from -1 (unlimited) to ${MAX_LIMIT}`);
      d[k] = v as number;
    }
  }
  catalogDefaults.set(cfg, d);
  return d;
}

// ---------------------------------------------------------------------------------------------
// Records.

export interface QuotaRecord {
  /** 'project' for the project's limits, 'user' for one user's limits inside the project. */
  kind: 'project' | 'user';
  project_id: string;
  user_id?: string;
  limits: Partial<Limits>;
}
export interface QuotaClassRecord {
  name: string;
  limits: Partial<Limits>;
}

export const PROJECT_ROW = 'project';
// Keys come from URLs and tokens; encoding keeps them within Table Storage's key rules.
export const key = (s: string) => encodeURIComponent(s);
export const userRow = (userId: string) => `user-${key(userId)}`;

export const quotaRepo = (s: Services) => s.tables.repository<QuotaRecord>('quotas');
export const classRepo = (s: Services) => s.tables.repository<QuotaClassRecord>('quotaclasses');
export const CLASS_PARTITION = 'class';

/** Merges `changes` into a record's limits with ETag-conditional writes (creating it when absent). */
export async function writeLimits<T extends { limits: Partial<Limits> }>(repo: Repository<T>, pk: string, rk: string, fresh: T, changes: Partial<Limits>): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    const cur = await repo.get(pk, rk);
    const next = { ...(cur?.value ?? fresh), limits: { ...(cur?.value.limits ?? {}), ...changes } } as T;
    try {
      if (cur) await repo.replace(pk, rk, next, cur.etag);
      else await repo.create(pk, rk, next);
      return;
    } catch (e) {
      if (!(e instanceof ConcurrencyError || e instanceof AlreadyExistsError) || attempt >= 4) throw e;
    }
  }
}

/** The limits of quota class `name`: its stored values over the configured defaults (get_class_quotas). */
export async function classLimits(s: Services, name: string): Promise<Limits> {
  const rec = await classRepo(s).get(CLASS_PARTITION, key(name));
  return { ...configuredDefaults(s.config), ...(rec?.value.limits ?? {}) };
}

/** The defaults every project starts from: the 'default' quota class over the configured defaults (get_defaults). */
export const defaultLimits = (s: Services): Promise<Limits> => classLimits(s, 'default');

/** Everything stored for one project: its own limits and each user's, from one partition read. */
export interface ProjectQuotaState {
  defaults: Limits;
  project: Partial<Limits>;
  users: Map<string, Partial<Limits>>;
}

export async function loadProject(s: Services, projectId: string): Promise<ProjectQuotaState> {
  const [defaults, rows] = await Promise.all([defaultLimits(s), quotaRepo(s).list(key(projectId))]);
  const state: ProjectQuotaState = { defaults, project: {}, users: new Map() };
  for (const r of rows as Stored<QuotaRecord>[]) {
    if (r.value.kind === 'project') state.project = r.value.limits;
    else if (r.value.user_id !== undefined) state.users.set(r.value.user_id, r.value.limits);
  }
  return state;
}

export const projectLimitsOf = (st: ProjectQuotaState): Limits => ({ ...st.defaults, ...st.project });
/** A user's limits fall back to the project's, then the defaults (get_user_quotas). */
export const userLimitsOf = (st: ProjectQuotaState, userId: string): Limits => ({ ...projectLimitsOf(st), ...(st.users.get(userId) ?? {}) });

/** The limits in force for a project, or for one user in it. */
export async function effectiveLimits(s: Services, projectId: string, userId?: string): Promise<Limits> {
  const st = await loadProject(s, projectId);
  return userId ? userLimitsOf(st, userId) : projectLimitsOf(st);
}

// ---------------------------------------------------------------------------------------------
// Usage counters: modules that own records register how to count them.

/** Counts a resource for a project, or for one user within it when userId is given. */
export type UsageCounter = (projectId: string, userId: string | undefined, services: Services) => Promise<number>;
/** The resources other modules count from their records; the server ones are the ledger's. */
type RegisteredResource = Exclude<CountedResource, ServerResource>;
const counters = new Map<RegisteredResource, UsageCounter>();

/** Registers how `resource` is counted (keypairs: key_pairs; ...). Until then it counts 0. */
export function registerUsageCounter(resource: RegisteredResource, counter: UsageCounter): void {
  counters.set(resource, counter);
}

// ---- the server ledger ----

type ServerResource = 'instances' | 'cores' | 'ram';
const SERVER_RESOURCES: ServerResource[] = ['instances', 'cores', 'ram'];
const isServerResource = (r: string): r is ServerResource => (SERVER_RESOURCES as string[]).includes(r);
/** The ledger key of a user's own usage of `r` inside the project. */
const userKey = (r: ServerResource, userId: string) => `${r}@${userId}`;

/** `deltas` for the project and, the same, for the user (Nova's user quotas count the user's servers). */
function withUser(deltas: Partial<Record<ServerResource, number>>, userId: string): Deltas {
  const out: Deltas = {};
  for (const [r, v] of Object.entries(deltas) as [ServerResource, number][]) {
    if (!v) continue;
    out[r] = v;
    out[userKey(r, userId)] = v;
  }
  return out;
}

/** What one server record holds: every record counts until Azure has confirmed its deletion. */
export const serverUsage = (rec: { vcpus: number; memory_mb: number }) => ({ instances: 1, cores: rec.vcpus, ram: rec.memory_mb });

/** The source of truth the ledger counts once (migration) and at its hourly recount. */
async function countServers(s: Services, projectId: string): Promise<Counted> {
  const used: Deltas = { instances: 0, cores: 0, ram: 0 };
  const ids = new Set<string>();
  for (const { value: v } of await serverRepo(s).list(projectId)) {
    ids.add(v.id);
    for (const [k, n] of Object.entries(withUser(serverUsage(v), v.user_id))) used[k] = (used[k] ?? 0) + n;
  }
  return { used, ids };
}

/** The compute service's usage ledger (partition 'compute' of the `quotausage` table). */
export const computeLedger = (s: Services) => new QuotaLedger(s, 'compute', countServers);

/** Committed server usage of the project (or of one user in it), as the quota APIs show it. */
async function serverUse(s: Services, projectId: string, userId?: string): Promise<Record<ServerResource, number>> {
  const { used } = await computeLedger(s).usage(projectId);
  return Object.fromEntries(SERVER_RESOURCES.map((r) => [r, used[userId ? userKey(r, userId) : r] ?? 0])) as Record<ServerResource, number>;
}

/** A registered counter's count (the server resources are read from the ledger by their callers). */
async function count(s: Services, resource: RegisteredResource, projectId: string, userId?: string): Promise<number> {
  const c = counters.get(resource);
  return c ? c(projectId, userId, s) : 0;
}

/**
 * In-use figures as the quota APIs and /limits show them (DbQuotaDriver._get_usages): counted
 * resources from their counters; key_pairs and server_group_members are per-user and always shown
 * as 0, as upstream does; absolute resources are 0.
 */
export async function displayedUsage(s: Services, projectId: string, userId?: string): Promise<Limits> {
  const u = Object.fromEntries(QUOTA_RESOURCES.map((r) => [r, 0])) as Limits;
  // Committed usage, as Nova counts records; a reservation lives only while its create writes them.
  const [servers, groups] = await Promise.all([serverUse(s, projectId, userId), count(s, 'server_groups', projectId, userId)]);
  Object.assign(u, servers, { server_groups: groups });
  return u;
}

// ---------------------------------------------------------------------------------------------
// Enforcement (nova/objects/quotas.py check_deltas + compute/utils.py check_num_instances_quota).
// At v2.1 every API answers an exceeded quota with 403 (the controllers turn OverQuota into
// HTTPForbidden), in the wording of the upstream exception for that resource.

const unlimited = (limit: number) => limit < 0;
const over = (limit: number, value: number) => !unlimited(limit) && value > limit;

const ONE_LINE: Partial<Record<CountedResource, string>> = {
  key_pairs: 'Quota exceeded, too many key pairs.',
  server_groups: 'Quota exceeded, too many server groups.',
  server_group_members: 'Quota exceeded, too many servers in group',
};

/** TooManyInstances' message: "Quota exceeded for cores: Requested 4, but already used 18 of 20 cores". */
export function tooManyInstancesMessage(overs: string[], requested: string[], used: string[], allowed: string[]): string {
  const o = overs.join(', ');
  return `Quota exceeded for ${o}: Requested ${requested.join(', ')}, but already used ${used.join(', ')} of ${allowed.join(', ')} ${o}`;
}

interface Measured {
  /** Usage and limits of the scope that was exceeded (the user's when a user limit was hit). */
  usage: Partial<Record<CountedResource, number>>;
  limits: Limits;
  overs: CountedResource[];
}

/** Resources counted only per user (Nova checks them against the tighter of the user and project limit). */
const PER_USER: CountedResource[] = ['key_pairs', 'server_group_members'];

async function measure(s: Services, projectId: string, userId: string, deltas: Partial<Record<CountedResource, number>>, current: Partial<Record<CountedResource, number>>): Promise<Measured> {
  const st = await loadProject(s, projectId);
  const pLimits = projectLimitsOf(st);
  const uLimits = userLimitsOf(st, userId);
  const resources = Object.keys(deltas) as CountedResource[];
  // Counting per user only matters when the user has limits of their own: otherwise the user's
  // limits equal the project's and their usage is part of the project's.
  const userScoped = st.users.has(userId);
  const pUse: Partial<Record<CountedResource, number>> = {};
  const uUse: Partial<Record<CountedResource, number>> = {};
  // The server resources come from one ledger read (the row holds the per-user counters too).
  const ledger = resources.some(isServerResource) ? await computeLedger(s).usage(projectId) : undefined;
  const fromLedger = (r: ServerResource, user?: string) => {
    const k = user ? userKey(r, user) : r;
    return (ledger!.used[k] ?? 0) + (ledger!.reserved[k] ?? 0);
  };
  await Promise.all(
    resources.map(async (r) => {
      if (isServerResource(r)) {
        pUse[r] = current[r] ?? fromLedger(r);
        if (userScoped) uUse[r] = fromLedger(r, userId);
        return;
      }
      if (PER_USER.includes(r)) {
        uUse[r] = current[r] ?? (await count(s, r, projectId, userId));
        return;
      }
      pUse[r] = current[r] ?? (await count(s, r, projectId));
      if (userScoped) uUse[r] = await count(s, r, projectId, userId);
    }),
  );
  const userOvers: CountedResource[] = [];
  const projectOvers: CountedResource[] = [];
  for (const r of resources) {
    const d = deltas[r] ?? 0;
    if (PER_USER.includes(r)) {
      // The tighter of the two limits (-1 meaning unlimited on either side).
      if (over(pLimits[r], uUse[r]! + d) || over(uLimits[r], uUse[r]! + d)) userOvers.push(r);
    } else if (over(pLimits[r], pUse[r]! + d)) projectOvers.push(r);
    else if (userScoped && over(uLimits[r], uUse[r]! + d)) userOvers.push(r);
  }
  const userHit = userOvers.length > 0;
  const overs = [...projectOvers, ...userOvers].sort();
  if (userHit) {
    const tighter = { ...uLimits };
    for (const r of PER_USER) if (unlimited(tighter[r]) || (!unlimited(pLimits[r]) && pLimits[r] < tighter[r])) tighter[r] = pLimits[r];
    return { usage: { ...pUse, ...uUse }, limits: tighter, overs };
  }
  return { usage: pUse, limits: pLimits, overs };
}

function overQuotaError(m: Measured, requested: Partial<Record<CountedResource, number | string>>): Error {
  const instanceOvers = m.overs.filter((r) => r === 'instances' || r === 'cores' || r === 'ram');
  if (instanceOvers.length > 0) {
    return forbidden(
      tooManyInstancesMessage(
        instanceOvers,
        instanceOvers.map((r) => String(requested[r])),
        instanceOvers.map((r) => String(m.usage[r] ?? 0)),
        instanceOvers.map((r) => String(m.limits[r])),
      ),
    );
  }
  return forbidden(ONE_LINE[m.overs[0]] ?? `Quota exceeded for resources: ['${m.overs.join("', '")}']`);
}

/**
 * Checks that adding `deltas` keeps the project (and the user, where they have limits of their own)
 * within quota; throws Nova's 403 otherwise. `current` overrides a counter for this call (e.g. the
 * members of one server group for server_group_members). A delta of 0 re-checks after a write.
 */
export async function checkQuota(
  s: Services,
  projectId: string,
  userId: string,
  deltas: Partial<Record<CountedResource, number>>,
  current: Partial<Record<CountedResource, number>> = {},
): Promise<void> {
  const m = await measure(s, projectId, userId, deltas, current);
  if (m.overs.length > 0) throw overQuotaError(m, deltas);
}

/**
 * Server create's check (check_num_instances_quota): how many of min..max instances of a flavor fit;
 * throws 403 TooManyInstances when not even minCount fit.
 */
export async function checkInstanceQuota(s: Services, projectId: string, userId: string, flavor: { vcpus: number; ram: number }, minCount: number, maxCount: number): Promise<number> {
  const deltas = { instances: maxCount, cores: maxCount * flavor.vcpus, ram: maxCount * flavor.ram };
  const m = await measure(s, projectId, userId, deltas, {});
  if (m.overs.length === 0) return maxCount;
  const room = (r: 'instances' | 'cores' | 'ram') => m.limits[r] - (m.usage[r] ?? 0);
  const headroom = { instances: room('instances'), cores: room('cores'), ram: room('ram') };
  // An unlimited cores or ram quota leaves as much room as the instances quota does.
  if (unlimited(m.limits.cores)) headroom.cores = deltas.cores ? (headroom.instances * deltas.cores) / deltas.instances : headroom.instances;
  if (unlimited(m.limits.ram)) headroom.ram = deltas.ram ? (headroom.instances * deltas.ram) / deltas.instances : headroom.instances;
  let allowed = headroom.instances;
  if (flavor.vcpus) allowed = Math.min(allowed, Math.floor(headroom.cores / flavor.vcpus));
  if (flavor.ram) allowed = Math.min(allowed, Math.floor(headroom.ram / flavor.ram));
  if (allowed > 0 && minCount <= allowed && allowed <= maxCount) return checkInstanceQuota(s, projectId, userId, flavor, minCount, allowed);
  const requested = { instances: minCount === maxCount ? String(minCount) : `${minCount}-${maxCount}`, cores: deltas.cores, ram: deltas.ram };
  throw overQuotaError(m, requested);
}

/** Absolute limits (limit_check): metadata items and personality files, with Nova's messages (403). */
export async function checkAbsolute(
  s: Services,
  projectId: string,
  userId: string,
  values: Partial<Record<'metadata_items' | 'injected_files' | 'injected_file_content_bytes' | 'injected_file_path_bytes', number>>,
): Promise<void> {
  const st = await loadProject(s, projectId);
  const p = projectLimitsOf(st);
  const u = userLimitsOf(st, userId);
  const allowedFor = (r: QuotaResource) => (unlimited(p[r]) ? u[r] : unlimited(u[r]) ? p[r] : Math.min(p[r], u[r]));
  const exceeded = (r: keyof typeof values) => values[r] !== undefined && over(allowedFor(r), values[r]!);
  if (exceeded('metadata_items')) throw forbidden(`Maximum number of metadata items exceeds ${allowedFor('metadata_items')}`);
  if (exceeded('injected_files')) throw forbidden('Personality file limit exceeded');
  if (exceeded('injected_file_path_bytes')) throw forbidden(`Personality file path exceeds maximum ${allowedFor('injected_file_path_bytes')}`);
  if (exceeded('injected_file_content_bytes')) throw forbidden(`Personality file content exceeds maximum ${allowedFor('injected_file_content_bytes')}`);
}

// ---------------------------------------------------------------------------------------------
// Reservations (the ledger's reserve/commit/rollback, with Nova's checks and messages).

/** The ledger limits for a user in the project: the project's, and the user's own where set. */
function ledgerLimits(st: ProjectQuotaState, userId: string): Deltas {
  const p = projectLimitsOf(st);
  const out: Deltas = { instances: p.instances, cores: p.cores, ram: p.ram };
  if (st.users.has(userId)) {
    const u = userLimitsOf(st, userId);
    for (const r of SERVER_RESOURCES) out[userKey(r, userId)] = u[r];
  }
  return out;
}

/** Holds `entries` all or nothing; on a refusal, Nova's 403 in the figures the refusal saw. */
async function reserveChecked(
  s: Services,
  projectId: string,
  userId: string,
  entries: { id: string; deltas: Partial<Record<ServerResource, number>> }[],
  requested: Partial<Record<CountedResource, number | string>>,
  ttlMs?: number,
): Promise<void> {
  const total: Partial<Record<ServerResource, number>> = {};
  for (const e of entries) for (const [r, v] of Object.entries(e.deltas) as [ServerResource, number][]) total[r] = (total[r] ?? 0) + v;
  for (let attempt = 0; ; attempt++) {
    const st = await loadProject(s, projectId);
    try {
      await computeLedger(s).reserve(
        projectId,
        entries.map((e) => ({ id: e.id, deltas: withUser(e.deltas, userId) })),
        ledgerLimits(st, userId),
        ttlMs,
      );
      return;
    } catch (e) {
      if (!(e instanceof OverQuota)) throw e;
      const m = await measure(s, projectId, userId, total, {});
      if (m.overs.length > 0) throw overQuotaError(m, requested);
      // Another request's reservation went between the refusal and this read: try again.
      if (attempt >= 3) throw overQuotaError({ ...m, overs: [e.resource.split('@')[0] as CountedResource] }, requested);
    }
  }
}

/**
 * Server create (check_num_instances_quota, then the records' reservations): how many of
 * min..max instances of `flavor` fit, held under the ids of the servers to be made (`ids`, one per
 * possible instance) until `commitServers` (the records exist) or `rollbackServers`.
 * Throws 403 TooManyInstances when not even minCount fit.
 */
export async function reserveInstances(s: Services, projectId: string, userId: string, flavor: { vcpus: number; ram: number }, minCount: number, ids: string[]): Promise<number> {
  for (let attempt = 0; ; attempt++) {
    const n = await checkInstanceQuota(s, projectId, userId, flavor, minCount, ids.length);
    const one = { instances: 1, cores: flavor.vcpus, ram: flavor.ram };
    try {
      await reserveChecked(
        s,
        projectId,
        userId,
        ids.slice(0, n).map((id) => ({ id, deltas: one })),
        { instances: minCount === ids.length ? String(minCount) : `${minCount}-${ids.length}`, cores: n * flavor.vcpus, ram: n * flavor.ram },
      );
      return n;
    } catch (e) {
      // Fewer fit than the check saw (a racing create reserved meanwhile): ask again for fewer.
      if (attempt >= 5 || n <= minCount) throw e;
    }
  }
}

export const commitServers = (s: Services, projectId: string, ids: string[]) => computeLedger(s).commit(projectId, ids);
export const rollbackServers = (s: Services, projectId: string, ids: string[]) => computeLedger(s).rollback(projectId, ids);
/**
 * A server's record is about to go (Azure confirmed the VM's deletion): its usage is given back now,
 * once per server, so no reader sees the server gone while it still counts, and a retried delete step
 * does not give it back twice. `serverRemoved` follows the record's removal.
 */
export const releaseServer = (s: Services, rec: { id: string; project_id: string; user_id: string; vcpus: number; memory_mb: number }) =>
  computeLedger(s).releaseOnce(rec.project_id, rec.id, withUser(serverUsage(rec), rec.user_id));
/** The record `releaseServer` was for is removed: the ledger forgets the release. */
export const serverRemoved = (s: Services, rec: { id: string; project_id: string }) => computeLedger(s).forget(rec.project_id, rec.id);

/** A resize's growth is held under this key from the request until the new flavor is applied. */
export const resizeKey = (serverId: string) => `resize:${serverId}`;
/** A resize's work has an hour (resizeKind.deadlineSeconds); its hold outlives that a little. */
const RESIZE_HOLD_MS = 2 * 3600 * 1000;

/** nova/compute/api.py _check_quota_for_upsize, as a reservation: only growth counts; Nova's 403. */
export async function reserveUpsize(s: Services, srv: { id: string; project_id: string; user_id: string }, growth: { cores?: number; ram?: number }): Promise<void> {
  await reserveChecked(s, srv.project_id, srv.user_id, [{ id: resizeKey(srv.id), deltas: growth }], growth, RESIZE_HOLD_MS);
}

/**
 * A server's record now holds flavor `to` instead of `from` (a resize applied, or reverted): a
 * reserved growth becomes usage, and any other change is applied as it is (a shrink gives back).
 */
export async function settleFlavorChange(
  s: Services,
  srv: { id: string; project_id: string; user_id: string },
  from: { vcpus: number; ram: number },
  to: { vcpus: number; ram: number },
  reserved: boolean,
): Promise<void> {
  const ledger = computeLedger(s);
  const change = { cores: to.vcpus - from.vcpus, ram: to.ram - from.ram };
  let rest = change;
  if (reserved) {
    await ledger.commit(srv.project_id, [resizeKey(srv.id)]);
    rest = { cores: Math.min(0, change.cores), ram: Math.min(0, change.ram) };
  }
  if (rest.cores || rest.ram) await ledger.adjust(srv.project_id, withUser(rest, srv.user_id));
}

/** A resize that will not apply its flavor gives its held growth back. */
export const rollbackUpsize = (s: Services, srv: { id: string; project_id: string }) => computeLedger(s).rollback(srv.project_id, [resizeKey(srv.id)]);
