// /v3/{project_id}/messages (cinder/api/v3/messages.py, views/messages.py): list, show, delete, from
// microversion 3.3 (MESSAGES); below it Cinder has no method for the route and answers 404 before any
// policy check. From 3.5 (MESSAGES_PAGINATION) the list takes limit, marker, offset and sort (default
// created_at desc, then id), and every other query parameter is an exact filter on the Message model
// (a key the model lacks matches nothing); below 3.5 the query is ignored. Members see their project's
// messages; admins see every project's, and may show or delete any (Cinder's admin context). The
// records and their writers are ./service.ts.
import type { RequestContext, Route } from '../../http/router';
import { json, noContent } from '../../http/respond';
import { badRequest, notFound } from '../../http/errors';
import { isAdmin } from '../../api/policy';
import { nextLinks } from '../../api/pagination';
import { cinderRoute, collectionUrl, compareBy, getSortParams, limitParam, offsetParam, processSortParams, projectOf, resourceLinks, type SortKey } from '../common';
import type { VolumePolicy } from '../policy';
import { liveMessages, MESSAGE_MODEL_KEYS, messageById, messageTable, userMessage, type MessageRecord } from './service';
import { generalFiltering, likeMatches, queryFilters } from '../filters';

const COLLECTION = 'messages';
const MESSAGES = '3.3';
const MESSAGES_PAGINATION = '3.5';

const supported = (ctx: RequestContext) => ctx.microversion?.atLeast(MESSAGES) ?? false;
/** Cinder's answer for a route with no method at the requested version (VersionNotFoundForAPIMethod). */
const noMethod = () => notFound('The resource could not be found.');
/** The route's policy only where the method exists: below 3.3 the 404 comes first. */
const from33 =
  (p: VolumePolicy) =>
  (_b: unknown, ctx: RequestContext): VolumePolicy | 'authenticated' =>
    supported(ctx) ? p : 'authenticated';

const messageNotFound = (id: string) => notFound(`Message ${id} could not be found.`);

/** views/messages.py detail: resource_type and resource_uuid only when set. */
export function messageView(ctx: RequestContext, m: MessageRecord) {
  return {
    id: m.id,
    event_id: m.event_id,
    user_message: userMessage(m),
    message_level: m.message_level,
    created_at: m.created_at,
    guaranteed_until: m.expires_at,
    request_id: m.request_id,
    links: resourceLinks(ctx, COLLECTION, m.id),
    ...(m.resource_type ? { resource_type: m.resource_type } : {}),
    ...(m.resource_uuid ? { resource_uuid: m.resource_uuid } : {}),
  };
}

function field(m: MessageRecord, k: string): unknown {
  if (k === 'updated_at' || k === 'deleted_at') return null;
  if (k === 'deleted') return false;
  return (m as unknown as Record<string, unknown>)[k];
}

/** filter_by(key=value) on a string query value: the model's columns compared as their text. */
/** filter_by(key=value), or with a trailing `~` apply_like_filters' LIKE (filters.ts likeMatches). */
function matches(m: MessageRecord, k: string, v: string): boolean {
  if (k.endsWith('~')) return likeMatches(field(m, k.slice(0, -1)), v);
  if (k === 'deleted') return ['0', 'false'].includes(v.trim().toLowerCase());
  const x = field(m, k);
  return x !== null && x !== undefined && String(x) === v;
}

const DEFAULT_SORT: SortKey[] = [
  { key: 'created_at', dir: 'desc' },
  { key: 'id', dir: 'desc' },
];

async function index(ctx: RequestContext) {
  if (!supported(ctx)) throw noMethod();
  const admin = isAdmin(ctx.auth!);
  if (!ctx.microversion!.atLeast(MESSAGES_PAGINATION)) {
    const all = (await liveMessages(ctx.services, admin ? undefined : projectOf(ctx))).map((r) => r.value);
    all.sort(compareBy<MessageRecord>(DEFAULT_SORT, field));
    return json({ messages: all.map((m) => messageView(ctx, m)) });
  }
  // In Cinder's order: limit, marker, offset, sort parameters; then the directions; then the filters
  // (a key the Message model lacks: no query, no messages); then the marker (404); then the sort keys.
  const q = ctx.query;
  const limit = limitParam(q);
  const marker = q.get('marker') ?? undefined;
  const offset = offsetParam(q);
  const sort = processSortParams(getSortParams(q));
  // From 3.31 the generic resource filters first: a member's key outside the configured ones is a 400.
  const filters = queryFilters(q);
  generalFiltering(ctx, filters, 'message');
  if (![...filters.keys()].every((k) => MESSAGE_MODEL_KEYS.includes(k.replace(/~$/, '')))) return json({ messages: [] });
  let markerRec: MessageRecord | undefined;
  if (marker !== undefined) {
    const mk = await messageById(ctx.services, marker, projectOf(ctx), admin);
    if (!mk) throw messageNotFound(marker);
    markerRec = mk.value;
  }
  if (sort.some((k) => !MESSAGE_MODEL_KEYS.includes(k.key))) throw badRequest('Invalid input received: Invalid sort key');
  const cmp = compareBy<MessageRecord>(sort, field);
  const all = (await liveMessages(ctx.services, admin ? undefined : projectOf(ctx))).map((r) => r.value);
  let items = all.filter((m) => [...filters].every(([k, v]) => matches(m, k, v))).sort(cmp);
  // The page starts after the marker's place in the order (the marker itself need not pass the filters).
  if (markerRec) items = items.filter((m) => cmp(m, markerRec) > 0);
  items = items.slice(offset, offset + limit);
  const body: Record<string, unknown> = { messages: items.map((m) => messageView(ctx, m)) };
  const links = nextLinks(collectionUrl(ctx, '/messages'), q, items, { limit, marker });
  if (links) body.messages_links = links;
  return json(body);
}

async function found(ctx: RequestContext) {
  const id = ctx.params.message_id;
  const m = await messageById(ctx.services, id, projectOf(ctx), isAdmin(ctx.auth!));
  if (!m) throw messageNotFound(id);
  return m;
}

async function show(ctx: RequestContext) {
  if (!supported(ctx)) throw noMethod();
  return json({ message: messageView(ctx, (await found(ctx)).value) });
}

async function remove(ctx: RequestContext) {
  if (!supported(ctx)) throw noMethod();
  const m = await found(ctx);
  await messageTable(ctx.services).delete(m.partitionKey, m.rowKey);
  return noContent();
}

export const messageRoutes: Route[] = [
  cinderRoute('messages-list', 'GET', '/messages', from33('message:get_all'), index),
  cinderRoute('messages-show', 'GET', '/messages/{message_id}', from33('message:get'), show),
  cinderRoute('messages-delete', 'DELETE', '/messages/{message_id}', from33('message:delete'), remove),
];
