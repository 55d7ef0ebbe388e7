// Nova's quota engine: what other modules call (limits, usage counters, checks); the
// os-quota-sets / os-quota-class-sets APIs are ./api.ts (nova/quota.py DbQuotaDriver, api/.../quota_sets.py and
// quota_classes.py). Limits live in Table Storage: one partition per project holding the project's own
// limits and its per-user limits; quota classes in their own table (only 'default' has an effect).
import type { Services } from '../../services';
import type { JacketConfig } from '../../config';
import { forbidden } from '../../http/errors';
import { AlreadyExistsError, ConcurrencyError, type Repository, type Stored } from '../../store/tables';

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
const counters = new Map<CountedResource, UsageCounter>();

/** Registers how `resource` is counted (servers: instances/cores/ram; keypairs: key_pairs; ...). Until then it counts 0. */
export function registerUsageCounter(resource: CountedResource, counter: UsageCounter): void {
  counters.set(resource, counter);
}

async function count(s: Services, resource: CountedResource, projectId: string, userId?: string): Promise<number> {
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
  await Promise.all(
    (['instances', 'cores', 'ram', 'server_groups'] as const).map(async (r) => {
      u[r] = await count(s, r, projectId, userId);
    }),
  );
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
  await Promise.all(
    resources.map(async (r) => {
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
