// Helpers every Neutron resource module uses: routes, Neutron's policy wording and errors, visibility,
// and the list semantics of neutron/api/api_common.py (filters, fields=, sort_key/sort_dir,
// limit/marker/page_reverse with <collection>_links).
import type { Method, Route, RequestContext } from '../http/router';
import type { ApiResponse } from '../http/types';
import { isAdmin, type AuthContext } from '../api/policy';
import type { NetworkPolicy } from './policy';
import { ApiError } from '../http/errors';
import { json } from '../http/respond';
import { log } from '../log';

export const NETWORK_PREFIX = '/network/v2.0';

/** A Neutron error: {"NeutronError": {"type": <exception name>, "message", "detail": ""}}. */
export const neutronError = (status: number, type: string, message: string) => new ApiError(status, message, {}, type);
export const badRequest = (message: string) => neutronError(400, 'HTTPBadRequest', message);

/**
 * A Neutron route: path below /network/v2.0 and Neutron's policy name (network/policy.ts), which the
 * pipeline enforces (its refusal reads as oslo.policy words it: PolicyNotAuthorized). Neutron has no
 * microversions. Failures that are not API errors answer in Neutron's words.
 */
export function networkRoute(name: string, method: Method, path: string, policy: NetworkPolicy | 'authenticated', handler: (ctx: RequestContext) => Promise<ApiResponse>): Route {
  return {
    name: `network-${name}`,
    method,
    path: NETWORK_PREFIX + path,
    service: 'network',
    policy,
    handler: async (ctx) => {
      try {
        return await handler(ctx);
      } catch (e) {
        if (e instanceof ApiError) throw e;
        // An invalid catalog section or an ARM failure: logged, and answered in Neutron's words.
        log.error('network request failed', { requestId: ctx.requestId, route: name, error: e instanceof Error ? e.message : String(e) });
        throw neutronError(500, 'HTTPInternalServerError', 'Request Failed: internal server error while processing your request.');
      }
    },
  };
}

/** Shared resources and the caller's own are visible; admins see everything (neutron's get_* policies). */
export function visibleTo(auth: AuthContext, owner: string, shared: boolean): boolean {
  return isAdmin(auth) || shared || (owner !== '' && owner === auth.projectId);
}

export function networkUrl(ctx: RequestContext, path: string): string {
  return `${ctx.services.config.publicUrl}${NETWORK_PREFIX}${path}`;
}

/** Now, as Neutron's API shows created_at/updated_at: ISO 8601 to the second, UTC ("2024-01-02T03:04:05Z"). */
export const neutronTime = () => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');

/** A UUID in its canonical hyphenated form, either case (what Neutron's validate_uuid accepts as an id here). */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isUuid = (x: unknown): x is string => typeof x === 'string' && UUID.test(x);

export type Body = Record<string, unknown>;

/** The body's single resource object, e.g. {"port": {...}} (Neutron: 400 "Resource body required" without it). */
export function resourceBody(ctx: RequestContext, key: string): Body {
  const b = ctx.body as Body | undefined;
  const r = b && typeof b === 'object' && !Array.isArray(b) ? b[key] : undefined;
  if (!r || typeof r !== 'object' || Array.isArray(r)) throw badRequest('Resource body required');
  return r as Body;
}
type Convert = (raw: string) => unknown;

/** neutron_lib converters: convert_to_boolean and convert_to_int, with their 400 wording. */
export const asBool: Convert = (raw) => {
  const v = raw.toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(v)) return true;
  if (['false', '0', 'no', 'off'].includes(v)) return false;
  throw neutronError(400, 'InvalidInput', `Invalid input for operation: '${raw}' cannot be converted to boolean.`);
};
export const asInt: Convert = (raw) => {
  if (!/^-?\d+$/.test(raw.trim())) throw neutronError(400, 'InvalidInput', `Invalid input for operation: '${raw}' is not an integer.`);
  return Number(raw);
};
export const asString: Convert = (raw) => raw;

export interface CollectionSpec {
  /** The collection key, e.g. networks (links go under networks_links). */
  collection: string;
  /** Filterable attributes and how a query value converts to the attribute's type. */
  filters: Record<string, Convert>;
  /** Custom matchers for filters that are not plain equality (e.g. ports' fixed_ips). */
  matchers?: Record<string, (item: Body, values: string[]) => boolean>;
  sortKeys: string[];
  /** The 404 for a marker that does not name a visible item. */
  notFound: (id: string) => ApiError;
}

/** Query keys that are never filters (neutron's skips plus pagination/sorting parameters). */
const RESERVED = new Set(['fields', 'limit', 'marker', 'page_reverse', 'sort_key', 'sort_dir']);

/** fields=a&fields=b: only those keys (unknown ones are ignored, as Neutron does). */
export function selectFields(q: URLSearchParams, item: Body): Body {
  const fields = q.getAll('fields').filter((f) => f);
  if (fields.length === 0) return item;
  const out: Body = {};
  for (const f of fields) if (f in item) out[f] = item[f];
  return out;
}

/** True when the caller asked for `field` (no fields= means every field). */
export function wantsField(q: URLSearchParams, field: string): boolean {
  const fields = q.getAll('fields').filter((f) => f);
  return fields.length === 0 || fields.includes(field);
}

function compareValues(a: unknown, b: unknown): number {
  if (a === b) return 0;
  if (a === null || a === undefined) return -1;
  if (b === null || b === undefined) return 1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'boolean' && typeof b === 'boolean') return Number(a) - Number(b);
  return String(a) < String(b) ? -1 : 1;
}

function sorts(q: URLSearchParams, spec: CollectionSpec): [string, boolean][] {
  const keys = q.getAll('sort_key').filter((k) => k);
  const dirs = q.getAll('sort_dir').filter((d) => d);
  if (keys.length !== dirs.length) throw badRequest('The number of sort_keys and sort_dirs must be same');
  const absent = keys.filter((k) => !spec.sortKeys.includes(k));
  if (absent.length) throw badRequest(`${pyList(absent)} is invalid attribute for sort_keys`);
  const badDirs = dirs.filter((d) => d !== 'asc' && d !== 'desc');
  if (badDirs.length) throw badRequest(`${pyList(badDirs)} is invalid value for sort_dirs, valid value is 'asc' and 'desc'`);
  const out = keys.map((k, i) => [k, dirs[i] === 'asc'] as [string, boolean]);
  // Neutron's paginated queries always end with the primary key, so the order is total.
  if (!keys.includes('id')) out.push(['id', true]);
  return out;
}

/** Python's repr of a list of strings, as Neutron's messages print them. */
const pyList = (xs: string[]) => `[${xs.map((x) => `'${x}'`).join(', ')}]`;

function parseFilters(q: URLSearchParams, spec: CollectionSpec): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const invalid: string[] = [];
  for (const key of new Set(q.keys())) {
    if (RESERVED.has(key)) continue;
    if (!(key in spec.filters) && !spec.matchers?.[key]) {
      invalid.push(key);
      continue;
    }
    const values = q.getAll(key).filter((v) => v !== '');
    if (values.length) out.set(key, values);
  }
  // filter-validation: unknown attributes are a 400, not silently ignored.
  if (invalid.length) throw badRequest(`${pyList(invalid)} is invalid attribute for filtering`);
  return out;
}

function matches(item: Body, filters: Map<string, string[]>, spec: CollectionSpec): boolean {
  for (const [key, values] of filters) {
    const custom = spec.matchers?.[key];
    if (custom) {
      if (!custom(item, values)) return false;
      continue;
    }
    const conv = spec.filters[key];
    const v = item[key];
    if (!values.some((raw) => conv(raw) === v)) return false;
  }
  return true;
}

function limitOf(q: URLSearchParams): number {
  const raw = q.get('limit');
  if (raw === null || raw === '') return 0;
  if (!/^\d+$/.test(raw.trim())) throw neutronError(400, 'BadRequest', `Bad limit request: Limit must be an integer 0 or greater and not '${raw}'.`);
  return Number(raw);
}

function link(ctx: RequestContext, path: string, params: URLSearchParams): string {
  return `${networkUrl(ctx, path)}?${params.toString()}`;
}

/**
 * A list response over items already narrowed to what the caller may see: filters, sorting, marker/limit
 * (page_reverse too), links as get_pagination_links builds them, then field selection.
 */
export function listResponse(ctx: RequestContext, path: string, items: Body[], spec: CollectionSpec): ApiResponse {
  const q = ctx.query;
  const filters = parseFilters(q, spec);
  const order = sorts(q, spec);
  const sorted = [...items].sort((a, b) => {
    for (const [k, asc] of order) {
      const c = compareValues(a[k], b[k]);
      if (c !== 0) return asc ? c : -c;
    }
    return 0;
  });
  const limit = limitOf(q);
  const marker = limit ? q.get('marker') || undefined : undefined;
  const reverse = (q.get('page_reverse') ?? 'false').toLowerCase() === 'true';
  let candidates = sorted;
  if (marker !== undefined) {
    const i = sorted.findIndex((x) => x.id === marker);
    if (i < 0) throw spec.notFound(marker);
    candidates = reverse ? sorted.slice(0, i) : sorted.slice(i + 1);
  }
  let page = candidates.filter((x) => matches(x, filters, spec));
  if (limit) page = reverse ? page.slice(Math.max(0, page.length - limit)) : page.slice(0, limit);
  const body: Body = { [spec.collection]: page.map((x) => selectFields(q, x)) };
  if (limit) {
    const links: { rel: string; href: string }[] = [];
    if (!(page.length < limit && !reverse)) {
      const p = new URLSearchParams(q);
      p.delete('marker');
      if (page.length) p.set('marker', String(page[page.length - 1].id));
      p.delete('page_reverse');
      links.push({ rel: 'next', href: link(ctx, path, p) });
    }
    if (!(page.length < limit && reverse)) {
      const p = new URLSearchParams(q);
      p.delete('marker');
      if (page.length) p.set('marker', String(page[0].id));
      p.set('page_reverse', 'True');
      links.push({ rel: 'previous', href: link(ctx, path, p) });
    }
    body[`${spec.collection}_links`] = links;
  }
  return json(body);
}

/**
 * Write calls on the core resources Jacket maps rather than owns. Jacket's "plugin" lacks these
 * methods, and Neutron turns a plugin's NotImplementedError into 501 with the body keyed
 * NotImplementedError (neutron/api/api_common.py convert_exception_to_http_exc).
 */
export function notImplemented(what: string): (ctx: RequestContext) => Promise<ApiResponse> {
  return async () =>
    json(
      {
        NotImplementedError: {
          type: 'NotImplementedError',
          message: `${what} is not supported: Jacket maps the operator's existing Azure networks and network security groups.`,
          detail: '',
        },
      },
      501,
    );
}

/**
 * The project a create is for: the body's project_id (or tenant_id) when given, else the token's project.
 * Only admins may name another project (Neutron: 403).
 */
export function ownerFor(ctx: RequestContext, body: Body): string {
  const asked = (body.project_id ?? body.tenant_id) as string | undefined;
  if (asked !== undefined && asked !== ctx.auth!.projectId && !isAdmin(ctx.auth!)) throw neutronError(403, 'HTTPForbidden', 'Only admins may create a resource in another project.');
  return asked ?? ctx.auth!.projectId ?? '';
}

const operatorProjects = new WeakMap<object, Promise<string>>();

/**
 * The owner shown for catalog entries without a project_id: the bootstrap admin project (Neutron
 * resources always have an owner, and the operator's are the admin's), or '' when there is none.
 */
export function ownerOf(ctx: RequestContext, projectId: string): Promise<string> {
  if (projectId) return Promise.resolve(projectId);
  const s = ctx.services;
  let p = operatorProjects.get(s);
  if (!p) {
    const name = s.config.bootstrap?.projectName;
    p = name ? s.identity.findProjectByName(name, 'default').then((x) => x?.id ?? '') : Promise.resolve('');
    // not cached when missing or failed: bootstrap may not have run yet
    p.then(
      (id) => id || operatorProjects.delete(s),
      () => operatorProjects.delete(s),
    );
    operatorProjects.set(s, p);
  }
  return p;
}
