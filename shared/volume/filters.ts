// Cinder's generic resource filters (3.31 RESOURCE_FILTER, 3.33 RESOURCE_FILTER_CONFIG, 3.34 LIKE_FILTER):
// which query keys a member may filter each list by, the 400 for any other key from 3.31, and the
// LIKE (`key~`) match the database layer applies. The configuration is the operator's, as Cinder's
// resource_query_filters_file is: config.catalog.resource_filters, defaulting to the file Cinder ships;
// GET /resource_filters (3.33) shows it.
import type { JacketConfig } from '../config';
import { ConfigError } from '../config';
import type { RequestContext, Route } from '../http/router';
import { json } from '../http/respond';
import { isAdmin } from '../api/policy';
import { badRequest } from '../http/errors';
import { cinderRoute, getBoolParam } from './common';

export const RESOURCE_FILTER = '3.31';
export const RESOURCE_FILTER_CONFIG = '3.33';
export const LIKE_FILTER = '3.34';

/** etc/cinder/resource_filters.json as Cinder ships it: the filters members may use, per resource. */
export const DEFAULT_RESOURCE_FILTERS: Readonly<Record<string, readonly string[]>> = {
  volume: ['name', 'status', 'metadata', 'bootable', 'migration_status', 'availability_zone', 'group_id', 'size', 'created_at', 'updated_at', 'consumes_quota'],
  backup: ['name', 'status', 'volume_id'],
  snapshot: ['name', 'status', 'volume_id', 'metadata', 'availability_zone', 'consumes_quota'],
  group: ['name'],
  group_snapshot: ['name', 'status', 'group_id'],
  attachment: ['volume_id', 'status', 'instance_id', 'attach_status'],
  message: ['resource_uuid', 'resource_type', 'event_id', 'request_id', 'message_level'],
  pool: ['name', 'volume_type'],
  volume_type: ['is_public', 'extra_specs'],
};

/** The resources a list filters as (reject_invalid_filters' `resource` argument). */
export type FilterResource = 'volume' | 'backup' | 'snapshot' | 'group' | 'group_snapshot' | 'attachment' | 'message' | 'pool' | 'volume_type';

const parsed = new WeakMap<JacketConfig, Record<string, string[]>>();

/**
 * The configured filters (get_enabled_resource_filters): config.catalog.resource_filters, an object of
 * resource -> filter keys that replaces Cinder's file whole (as a deployment's own file does); absent,
 * Cinder's shipped file. A resource the configuration leaves out has no member filters at all.
 */
export function resourceFilters(cfg: JacketConfig): Record<string, string[]> {
  const hit = parsed.get(cfg);
  if (hit) return hit;
  const raw = cfg.catalog.resource_filters;
  let out: Record<string, string[]>;
  if (raw === undefined) {
    out = Object.fromEntries(Object.entries(DEFAULT_RESOURCE_FILTERS).map(([k, v]) => [k, [...v]]));
  } else {
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ConfigError('catalog.resource_filters must be an object of resource -> filter keys');
    out = {};
    for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
      if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw new ConfigError(`catalog.resource_filters.${k} must be an array of strings`);
      out[k] = v as string[];
    }
  }
  parsed.set(cfg, out);
  return out;
}

/** The keys get_pagination_params and get_sort_params take out of a list's query before its filters. */
export const PAGE_KEYS = ['limit', 'marker', 'offset', 'sort', 'sort_key', 'sort_dir'];

/** The columns volumes, snapshots and backups share, as a `key~` names them, and the record's field for each (likeColumn). */
export const COMMON_LIKE_COLUMNS = { display_name: 'name', display_description: 'description', status: 'status', project_id: 'project_id', user_id: 'user_id', id: 'id' } as const;

/**
 * A list's `filters` dict: the query without the paging and sort keys and the list's own `drop` keys,
 * each key at its last value (webob's MultiDict reads the last).
 */
export function queryFilters(q: URLSearchParams, drop: readonly string[] = []): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, v] of q.entries()) if (!PAGE_KEYS.includes(k) && !drop.includes(k)) out.set(k, v);
  return out;
}

/**
 * common.reject_invalid_filters: a key that is not ASCII is a 400 for everyone; an admin's keys then
 * pass (for every resource but `pool`, an admin-only API whose filters are checked for all); a member's
 * key must be configured for the resource, or with LIKE (3.34) configured as `key~`. `all_tenants` is
 * never held against a member (cinderclient always sends it, Bug #1917574): it is dropped instead.
 */
export function rejectInvalidFilters(ctx: RequestContext, filters: Map<string, string>, resource: FilterResource, like: boolean): void {
  // eslint-disable-next-line no-control-regex
  if ([...filters.keys()].some((k) => !/^[\x00-\x7f]*$/.test(k))) throw badRequest('Filter keys can only contain ASCII characters.');
  if (isAdmin(ctx.auth!) && resource !== 'pool') return;
  const configured = resourceFilters(ctx.services.config)[resource] ?? [];
  const invalid = [...filters.keys()].filter((k) => !(configured.includes(k) || (like && configured.includes(`${k}~`))));
  const rest = invalid.filter((k) => k !== 'all_tenants');
  if (rest.length < invalid.length) filters.delete('all_tenants');
  if (rest.length) throw badRequest(`Invalid filters ${rest.join(',')} are found in query options.`);
}

/**
 * process_general_filtering's test: from 3.31 a list's filters are checked by rejectInvalidFilters
 * (true is returned, and the list's older per-version rules no longer apply); below it, false.
 */
export function generalFiltering(ctx: RequestContext, filters: Map<string, string>, resource: FilterResource): boolean {
  if (!ctx.microversion?.atLeast(RESOURCE_FILTER)) return false;
  rejectInvalidFilters(ctx, filters, resource, ctx.microversion.atLeast(LIKE_FILTER));
  return true;
}

/**
 * apply_like_filters: `key~=value` is the SQL `key LIKE '%value%'`, the value's own `%` and `_` being
 * wildcards too (Cinder does not escape them), case-insensitive as the database's collation compares.
 */
export function likeMatches(x: unknown, value: string): boolean {
  if (x === null || x === undefined) return false;
  const body = [...value].map((c) => (c === '%' ? '.*' : c === '_' ? '.' : c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))).join('');
  return new RegExp(`^.*${body}.*$`, 'isu').test(String(x));
}

export const SUPPORT_COUNT_INFO = '3.45';

/**
 * `with_count` (3.45 SUPPORT_COUNT_INFO) on the volume, snapshot and backup lists: from 3.45 a present
 * key is read as a strict boolean (400 otherwise) and taken out of the filters; undefined when absent
 * or below 3.45 (where the key stays a filter, an unknown column for an admin, dropped for a member).
 */
export function withCount(ctx: RequestContext): boolean | undefined {
  if (!ctx.microversion?.atLeast(SUPPORT_COUNT_INFO) || !ctx.query.has('with_count')) return undefined;
  return getBoolParam(ctx.query, 'with_count');
}

/** A created_at / updated_at filter's test of a record's timestamp. */
export type TimeFilter = (recorded: string | null | undefined) => boolean;

const TIME_OPERATORS = ['gt', 'gte', 'eq', 'neq', 'lt', 'lte'];

/**
 * volumes.py _handle_time_comparison_filters and the database's _filter_time_comparison:
 * `op:time[,op:time…]`, each op one of gt/gte/eq/neq/lt/lte (else 400 `Invalid <op> operator`), each
 * time ISO 8601 (else 400 `Invalid <time> value`); a record matches when ANY comparison holds (the
 * database ORs them). Times compare in UTC at microsecond precision, as the database's naive UTC columns.
 */
export function timeFilter(raw: string): TimeFilter {
  const tests: ((t: string) => boolean)[] = [];
  for (const unit of raw.split(',')) {
    const parts = unit.split(':');
    const op = parts[0];
    const time = parts.length > 1 ? parts.slice(1).join(':') : parts[0];
    if (!TIME_OPERATORS.includes(op)) throw badRequest(`Invalid ${op} operator`);
    const at = isoUtc(time);
    if (at === undefined) throw badRequest(`Invalid ${time} value`);
    tests.push((t) => (op === 'gt' ? t > at : op === 'gte' ? t >= at : op === 'eq' ? t === at : op === 'neq' ? t !== at : op === 'lt' ? t < at : t <= at));
  }
  return (recorded) => {
    if (!recorded) return false;
    const t = isoUtc(recorded);
    return t !== undefined && tests.some((test) => test(t));
  };
}

/**
 * oslo timeutils.parse_isotime (the iso8601 library) then normalize_time: a date, or a date and time
 * with optional seconds, fraction and zone (a time without one is UTC), as a sortable
 * `YYYY-MM-DDTHH:MM:SS.ffffff` UTC string; undefined when it does not parse.
 */
function isoUtc(s: string): string | undefined {
  const m = /^(\d{4})-?(\d{2})-?(\d{2})(?:[T ](\d{2}):?(\d{2})(?::?(\d{2})(?:[.,](\d+))?)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i.exec(s.trim());
  if (!m) return undefined;
  const [, y, mo, d, h = '0', mi = '0', sec = '0', frac = '', zone] = m;
  let offsetMin = 0;
  if (zone && zone.toUpperCase() !== 'Z') {
    const z = /^([+-])(\d{2}):?(\d{2})?$/.exec(zone)!;
    offsetMin = (z[1] === '-' ? -1 : 1) * (Number(z[2]) * 60 + Number(z[3] ?? 0));
  }
  if (Number(h) > 23 || Number(mi) > 59 || Number(sec) > 59) return undefined;
  const local = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(sec)));
  // Date.UTC rolls 2026-02-30 over into March: such a date does not parse.
  if (local.getUTCFullYear() !== Number(y) || local.getUTCMonth() !== Number(mo) - 1 || local.getUTCDate() !== Number(d)) return undefined;
  const date = new Date(local.getTime() - offsetMin * 60_000);
  return `${date.toISOString().slice(0, 19)}.${(frac + '000000').slice(0, 6)}`;
}

/**
 * The record field a `key~` (LIKE) filter of a volume, snapshot or backup list names, from the
 * resource's `columns` (database column -> record field): from 3.31 `name~` and `description~` are
 * first converted to the display_ columns (convert_filter_attributes). 'skip' for `name~` below 3.31,
 * where it names the model's Python property and apply_like_filters passes over it; undefined when
 * the key names no column (the database's is_valid_model_filters: the list is empty).
 */
export function likeColumn<T>(key: string, general: boolean, columns: Readonly<Record<string, keyof T>>): keyof T | 'skip' | undefined {
  let base = key.replace(/~$/, '');
  if (!general && base === 'name') return 'skip';
  if (general && (base === 'name' || base === 'description')) base = `display_${base}`;
  return Object.hasOwn(columns, base) ? columns[base] : undefined;
}

/**
 * The volume and snapshot lists' consumes_quota filter: from 3.31 convert_filter_attributes renames it
 * use_quota, which get_bool_param reads by that name (400 `Value '<v>' for 'use_quota' is not a
 * boolean.`). Every Jacket volume and snapshot counts against quota (Cinder's use_quota=false rows are a
 * migration's temporary volumes, which Jacket does not make), so false matches nothing.
 */
export function consumesQuota(q: URLSearchParams, general: boolean): boolean | undefined {
  const raw = q.get('consumes_quota');
  if (!general || raw === null) return undefined;
  return getBoolParam(new URLSearchParams({ use_quota: raw }), 'use_quota');
}

/**
 * GET /resource_filters[?resource=] (3.33 RESOURCE_FILTER_CONFIG, any authenticated caller: Cinder has
 * no policy for it): the configured filters, each resource's or one's (an unknown resource: none).
 */
async function listResourceFilters(ctx: RequestContext) {
  const all = resourceFilters(ctx.services.config);
  const only = ctx.query.get('resource');
  const entries = only ? (Object.hasOwn(all, only) ? [[only, all[only]] as const] : []) : Object.entries(all);
  return json({ resource_filters: entries.map(([resource, filters]) => ({ resource, filters })) });
}

export const resourceFilterRoutes: Route[] = [cinderRoute('resource-filters-list', 'GET', '/resource_filters', 'authenticated', listResourceFilters, { versions: { min: RESOURCE_FILTER_CONFIG } })];
