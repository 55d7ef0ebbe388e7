// OpenStack list pagination: ?limit=&marker= in, a "next" link out when the page is full
// (nova/api/openstack/common.py get_limit_and_marker / _get_collection_links; Cinder does the same).
import { badRequest } from '../http/errors';

export const MAX_LIMIT = 1000;

export interface PageRequest {
  limit: number;
  marker?: string;
}

/** Reads limit and marker. A limit above MAX_LIMIT is clipped; a bad one is 400. */
export function pageRequest(q: URLSearchParams, maxLimit = MAX_LIMIT): PageRequest {
  let limit = maxLimit;
  const raw = q.get('limit');
  if (raw !== null) {
    if (!/^\d+$/.test(raw)) throw badRequest('limit param must be an integer');
    limit = Math.min(Number(raw), maxLimit);
    if (limit < 0) throw badRequest('limit param must be positive');
  }
  const marker = q.get('marker') ?? undefined;
  return { limit, marker };
}

/**
 * The `<collection>_links` value for a page: a next link carrying the last item's id as marker when
 * the page is full, else undefined (Nova omits the key then).
 */
export function nextLinks(
  baseUrl: string,
  query: URLSearchParams,
  items: { id: string }[],
  page: PageRequest,
  idKey: (item: { id: string }) => string = (i) => i.id,
): { rel: 'next'; href: string }[] | undefined {
  if (page.limit === 0 || items.length < page.limit || items.length === 0) return undefined;
  const q = new URLSearchParams(query);
  q.set('marker', idKey(items[items.length - 1]));
  q.set('limit', String(page.limit));
  return [{ rel: 'next', href: `${baseUrl}?${q.toString()}` }];
}

/** Slices an in-memory, already sorted list by marker and limit (for small configured collections). */
export function pageOf<T extends { id: string }>(all: T[], page: PageRequest, notFoundMessage = (m: string) => `marker [${m}] not found`): T[] {
  let start = 0;
  if (page.marker !== undefined) {
    const i = all.findIndex((x) => x.id === page.marker);
    if (i < 0) throw badRequest(notFoundMessage(page.marker));
    start = i + 1;
  }
  return all.slice(start, start + page.limit);
}

/**
 * Nova's limit/marker under a query schema of `limit` digits only (hypervisors index_query_v233,
 * keypairs index_query_v235): every limit value checked (400 `Invalid input for query parameters
 * limit. …`), then common.get_limit_and_marker — the last limit capped at maxLimit, the last marker.
 */
export function novaPageQuery(q: URLSearchParams, maxLimit = MAX_LIMIT): PageRequest {
  const limits = q.getAll('limit');
  for (const v of limits) {
    if (v === '') throw badRequest(`Invalid input for query parameters limit. Value: . '' is too short`);
    if (!/^[0-9]+$/.test(v)) throw badRequest(`Invalid input for query parameters limit. Value: ${v}. '${v}' does not match '^[0-9]*$'`);
  }
  const limit = Math.min(limits.length ? Number(limits[limits.length - 1]) : maxLimit, maxLimit);
  return { limit, marker: q.getAll('marker').pop() };
}
