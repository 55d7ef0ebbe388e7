// Helpers every Cinder resource module uses: routes under /volume/v3/{project_id}, Cinder's project
// check, timestamps, links, boolean and sort parameters, and the schema fragments Cinder repeats.
import type { Method, Route, RequestContext, RoutePolicy } from '../http/router';
import type { ApiResponse } from '../http/types';
import type { VolumePolicy } from './policy';
import { VOLUME } from '../api/microversion';
import { badRequest } from '../http/errors';
import { MAX_LIMIT } from '../api/pagination';

export const VOLUME_PREFIX = '/volume/v3';

/**
 * A Cinder route: path below /volume/v3/{project_id}, with its upstream policy name (volume/policy.ts).
 * Cinder checks that the URL's project is the token's ("Malformed request url", 400, for everyone,
 * admins included) before the controller's policy check; the pipeline does both, in that order.
 */
export function cinderRoute(
  name: string,
  method: Method,
  path: string,
  policy: RoutePolicy<VolumePolicy | 'authenticated'>,
  handler: (ctx: RequestContext) => Promise<ApiResponse>,
  extra: Partial<Pick<Route, 'versions'>> = {},
): Route {
  return {
    ...extra,
    name: `volume-${name}`,
    method,
    path: `${VOLUME_PREFIX}/{project_id}${path}`,
    service: 'volume',
    versioned: VOLUME,
    policy,
    projectParam: 'project_id',
    // 3.67 PROJECT_ID_OPTIONAL_IN_URL: /volume/v3/X too, at every microversion (cinder/api/v3/router.py).
    projectOptional: true,
    handler,
  };
}

/** The project a request acts on (the URL's, which cinderRoute has matched to the token's; the token's when the URL has none, 3.67). */
export function projectOf(ctx: RequestContext): string {
  return ctx.params.project_id;
}

/** Cinder's timestamps: ISO 8601 with microseconds and no zone ("2018-11-28T06:21:12.715987"). */
export function cinderTime(d = new Date()): string {
  return d.toISOString().replace('Z', '000');
}

/**
 * The project segment links carry: "/<project>", or none when the request's URL had none (cinder/api/
 * common.py _get_project_id_in_url: links include the project only if the request does).
 */
function linkProject(ctx: RequestContext): string {
  return ctx.projectless ? '' : `/${projectOf(ctx)}`;
}

/** self and bookmark links as Cinder builds them (the bookmark drops the version). */
export function resourceLinks(ctx: RequestContext, collection: string, id: string) {
  const base = ctx.services.config.publicUrl;
  const p = linkProject(ctx);
  return [
    { href: `${base}${VOLUME_PREFIX}${p}/${collection}/${id}`, rel: 'self' },
    { href: `${base}/volume${p}/${collection}/${id}`, rel: 'bookmark' },
  ];
}

export function collectionUrl(ctx: RequestContext, path: string): string {
  return `${ctx.services.config.publicUrl}${VOLUME_PREFIX}${linkProject(ctx)}${path}`;
}

const TRUE = ['true', 't', 'yes', 'y', 'on', '1'];
const FALSE = ['false', 'f', 'no', 'n', 'off', '0'];
/** utils.get_bool_param: a query parameter as a strict boolean (absent: `dflt`), else 400 in Cinder's words. */
export function getBoolParam(q: URLSearchParams, name: string, dflt = false): boolean {
  const raw = q.get(name);
  if (raw === null) return dflt;
  const s = raw.toLowerCase();
  if (!TRUE.includes(s) && !FALSE.includes(s)) throw badRequest(`Value '${raw}' for '${name}' is not a boolean.`);
  return TRUE.includes(s);
}

/** oslo's strict bool_from_string, as Cinder's get_bool_param uses it (400 on anything else). */
export function boolParam(v: unknown, name: string): boolean {
  if (typeof v === 'boolean') return v;
  const s = String(v).trim().toLowerCase();
  if (TRUE.includes(s)) return true;
  if (FALSE.includes(s)) return false;
  throw badRequest(`Invalid input received: Invalid value '${String(v)}' for ${name}`);
}

/** Cinder's boolean enum (parameter_types.boolean) for request schemas. */
export const booleanSchema = {
  type: ['boolean', 'string'],
  enum: [true, 'True', 'TRUE', 'true', '1', 'ON', 'On', 'on', 'YES', 'Yes', 'yes', 'y', 't', false, 'False', 'FALSE', 'false', '0', 'OFF', 'Off', 'off', 'NO', 'No', 'no', 'n', 'f'],
};

/** Cinder's printable-description pattern (no control or format characters), 0-255 long. */
export const descriptionSchema = { type: ['string', 'null'], minLength: 0, maxLength: 255, pattern: '^[^\\p{C}\\u2028\\u2029]*$' };
/** name_non_mandatory_remove_white_spaces / description_non_mandatory_remove_white_spaces. */
export const optionalTextSchema = { type: ['string', 'null'], maxLength: 255 };
/** Metadata maps (volumes, snapshots): keys of [a-zA-Z0-9-_:. /], values up to 255. */
export const metadataSchema = (keyPattern = '^[a-zA-Z0-9-_:. /]{1,255}$') => ({
  type: 'object',
  patternProperties: { [keyPattern]: { type: 'string', maxLength: 255 } },
  additionalProperties: false,
});

export interface SortKey {
  key: string;
  dir: 'asc' | 'desc';
}

/**
 * Cinder's get_sort_params: `sort=k1:dir,k2` or the legacy sort_key/sort_dir (not both); the default
 * is created_at desc then id desc. Keys outside `allowed` answer 400 as the DB layer does.
 */
export function sortParams(q: URLSearchParams, allowed: string[]): SortKey[] {
  const out: SortKey[] = [];
  const sort = q.get('sort');
  if (sort !== null) {
    if (q.has('sort_key') || q.has('sort_dir')) {
      throw badRequest("The 'sort_key' and 'sort_dir' parameters are deprecated and cannot be used with the 'sort' parameter.");
    }
    for (const part of sort.split(',')) {
      const [k, d] = part.split(':').map((s) => s.trim());
      out.push({ key: k, dir: parseDir(d ?? 'desc') });
    }
  } else if (q.has('sort_key') || q.has('sort_dir')) {
    out.push({ key: q.get('sort_key') ?? 'created_at', dir: parseDir(q.get('sort_dir') ?? 'desc') });
  } else {
    out.push({ key: 'created_at', dir: 'desc' });
  }
  for (const s of out) if (!allowed.includes(s.key)) throw badRequest(`Invalid input received: Invalid sort key ${s.key}`);
  if (!out.some((s) => s.key === 'id')) out.push({ key: 'id', dir: out[0].dir });
  return out;
}

function parseDir(d: string): 'asc' | 'desc' {
  const v = d.toLowerCase();
  if (v !== 'asc' && v !== 'desc') throw badRequest(`Invalid input received: Unknown sort direction, must be 'desc' or 'asc'`);
  return v;
}

export function compareBy<T>(keys: SortKey[], get: (item: T, key: string) => unknown): (a: T, b: T) => number {
  return (a, b) => {
    for (const { key, dir } of keys) {
      const x = get(a, key);
      const y = get(b, key);
      if (x === y) continue;
      if (x === null || x === undefined) return dir === 'asc' ? -1 : 1;
      if (y === null || y === undefined) return dir === 'asc' ? 1 : -1;
      const c = x < y ? -1 : 1;
      return dir === 'asc' ? c : -c;
    }
    return 0;
  };
}

/**
 * Marker/limit over an already sorted list: the marker must be an item of the list (Cinder's
 * MarkerNotFound is a 404), the page starts after it.
 */
export function pageAfter<T extends { id: string }>(sorted: T[], marker: string | undefined, limit: number, notFound: (m: string) => Error, offset = 0): T[] {
  let start = 0;
  if (marker !== undefined) {
    const i = sorted.findIndex((x) => x.id === marker);
    if (i < 0) throw notFound(marker);
    start = i + 1;
  }
  // Cinder's database query applies the offset after the marker (sqlalchemy query.offset).
  start += offset;
  return sorted.slice(start, start + limit);
}

/**
 * The `offset` list parameter (cinder/api/common.py _get_offset_param → utils.validate_integer):
 * 0 when absent; 400 in Cinder's words when not a whole number or below 0.
 */
export function offsetParam(q: URLSearchParams): number {
  const raw = q.get('offset');
  if (raw === null) return 0;
  if (!/^\s*[+-]?\d+\s*$/.test(raw)) throw badRequest('offset must be an integer.');
  const n = Number(raw);
  if (n < 0) throw badRequest('offset must be >= 0');
  if (n > 2147483647) throw badRequest('offset must be <= 2147483647');
  return n;
}

/**
 * A metadata filter value as clients send it: cinderclient and the SDK put a Python dict repr in the
 * query ("{'k': 'v'}"); JSON is accepted too.
 */
export function parseMetadataFilter(raw: string): Record<string, string> {
  const attempts = [raw, raw.replace(/'/g, '"')];
  for (const a of attempts) {
    try {
      const v = JSON.parse(a) as unknown;
      if (v && typeof v === 'object' && !Array.isArray(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, String(x)]));
    } catch {
      // next form
    }
  }
  throw badRequest(`Invalid input received: Invalid metadata filter ${raw}`);
}

/**
 * The one action a POST .../action body names (Cinder's action routing): a body of exactly one key,
 * else Cinder's 400s.
 */
export function actionName(ctx: RequestContext): string {
  const body = ctx.body;
  if (!body || typeof body !== 'object' || Array.isArray(body) || Object.keys(body).length === 0) throw badRequest('Malformed request body');
  const keys = Object.keys(body);
  if (keys.length > 1) throw badRequest('Malformed message body: too many body keys');
  return keys[0];
}

/**
 * common.get_cluster_host: from `since` (3.16 for migrate and manage, VOLUME_MIGRATE_CLUSTER; 3.17 for
 * the manageable lists, MANAGE_EXISTING_CLUSTER) exactly one of cluster and host; below it the host
 * (an empty one is "missing"; a cluster is not read).
 */
export function clusterOrHost(ctx: Pick<RequestContext, 'microversion'>, params: { host?: string | null; cluster?: string | null }, since = '3.16'): { host?: string; cluster?: string } {
  const withCluster = ctx.microversion?.atLeast(since) ?? false;
  const cluster = withCluster ? params.cluster || undefined : undefined;
  const host = params.host || undefined;
  if (Boolean(cluster) === Boolean(host)) {
    throw badRequest(`Invalid input received: ${withCluster ? 'One and only one of cluster and host must be set.' : 'Host field is missing.'}`);
  }
  return { host, cluster };
}

/** _get_limit_param: Python's int() of the value (400 otherwise), not negative, at most osapi_max_limit. */
export function limitParam(q: URLSearchParams): number {
  const raw = q.get('limit');
  if (raw === null) return MAX_LIMIT;
  if (!/^\s*[+-]?\d+\s*$/.test(raw)) throw badRequest('limit param must be an integer');
  const n = Number(raw.trim());
  if (n < 0) throw badRequest('limit param must be positive');
  return Math.min(n, MAX_LIMIT);
}

/**
 * api/common.py get_sort_params as it is: `sort=k1:dir,k2` or the legacy sort_key/sort_dir (not both:
 * 400); each key's direction defaults to desc. Nothing is checked yet (processSortParams does).
 */
export function getSortParams(q: URLSearchParams, defaultKey = 'created_at'): { keys: string[]; dirs: string[] } {
  const keys: string[] = [];
  const dirs: string[] = [];
  const sort = q.get('sort');
  if (sort !== null && (q.has('sort_key') || q.has('sort_dir'))) {
    throw badRequest("The 'sort_key' and 'sort_dir' parameters are deprecated and cannot be used with the 'sort' parameter.");
  }
  if (sort !== null) {
    for (const part of sort.trim().split(',')) {
      const at = part.indexOf(':');
      keys.push((at < 0 ? part : part.slice(0, at)).trim());
      dirs.push((at < 0 || at === part.length - 1 ? 'desc' : part.slice(at + 1)).trim());
    }
  } else {
    keys.push((q.get('sort_key') ?? defaultKey).trim());
    dirs.push((q.get('sort_dir') ?? 'desc').trim());
  }
  return { keys, dirs };
}

/**
 * The database's process_sort_params: directions exactly asc or desc (400 otherwise), and created_at
 * and id appended in the first key's direction when absent. The keys themselves are checked by the
 * caller against its model's columns (paginate_query: 400 `Invalid input received: Invalid sort key`).
 */
export function processSortParams({ keys, dirs }: { keys: string[]; dirs: string[] }): SortKey[] {
  for (const d of dirs) if (d !== 'asc' && d !== 'desc') throw badRequest("Invalid input received: Unknown sort direction, must be 'desc' or 'asc'.");
  const out = keys.map((key, i) => ({ key, dir: dirs[i] as 'asc' | 'desc' }));
  for (const key of ['created_at', 'id']) if (!keys.includes(key)) out.push({ key, dir: out[0].dir });
  return out;
}
