// /v3/{project_id}/messages (cinder/api/v3/messages.py, views/messages.py): list, show, delete, from
// microversion 3.3 (MESSAGES); below it Cinder has no method for the route and answers 404 before any
// policy check. From 3.5 (MESSAGES_PAGINATION) the list takes limit, marker, offset and sort (default
// created_at desc, then id), and every other query parameter is an exact filter on the Message model
// (a key the model lacks matches nothing); below 3.5 the query is ignored. Members see their project's
// messages; admins see every project's, and may show or delete any (Cinder's admin context). The
// records and their writers are ./service.ts.
import type { RequestContext, Route } from '../../http/router';
import { json, noContent } from '../../http/respond';
import { notFound } from '../../http/errors';
import { isAdmin } from '../../api/policy';
import { nextLinks, pageRequest } from '../../api/pagination';
import { cinderRoute, collectionUrl, compareBy, offsetParam, projectOf, resourceLinks, sortParams, type SortKey } from '../common';
import type { VolumePolicy } from '../policy';
import { liveMessages, MESSAGE_MODEL_KEYS, messageById, messageTable, userMessage, type MessageRecord } from './service';

const COLLECTION = 'messages';
const MESSAGES = '3.3';
const MESSAGES_PAGINATION = '3.5';
const PAGING = ['limit', 'marker', 'offset', 'sort', 'sort_key', 'sort_dir'];

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
function matches(m: MessageRecord, k: string, v: string): boolean {
  if (k === 'deleted') return ['0', 'false'].includes(v.trim().toLowerCase());
  const x = field(m, k);
  return x !== null && x !== undefined && String(x) === v;
}

/** get_sort_params + process_sort_params: the requested keys, then created_at and id in the first key's direction. */
function messageSort(q: URLSearchParams): SortKey[] {
  const keys = sortParams(q, MESSAGE_MODEL_KEYS);
  if (keys.some((k) => k.key === 'created_at')) return keys;
  const asked = (q.get('sort') ?? q.get('sort_key') ?? '').split(',').map((k) => k.split(':')[0].trim());
  // sortParams appended id when it was not asked for: created_at goes before it, as Cinder's default keys come in that order.
  keys.splice(asked.includes('id') ? keys.length : keys.length - 1, 0, { key: 'created_at', dir: keys[0].dir });
  return keys;
}

async function index(ctx: RequestContext) {
  if (!supported(ctx)) throw noMethod();
  const admin = isAdmin(ctx.auth!);
  const all = (await liveMessages(ctx.services, admin ? undefined : projectOf(ctx))).map((r) => r.value);
  if (!ctx.microversion!.atLeast(MESSAGES_PAGINATION)) {
    all.sort(compareBy<MessageRecord>(messageSort(new URLSearchParams()), field));
    return json({ messages: all.map((m) => messageView(ctx, m)) });
  }
  const q = ctx.query;
  const page = pageRequest(q);
  const offset = offsetParam(q);
  const sort = messageSort(q);
  const filters = [...new Set(q.keys())].filter((k) => !PAGING.includes(k));
  // A filter on a column the model lacks: _process_messages_filters answers no query, so no messages.
  const known = filters.every((k) => MESSAGE_MODEL_KEYS.includes(k));
  const cmp = compareBy<MessageRecord>(sort, field);
  let items = known ? all.filter((m) => filters.every((k) => matches(m, k, q.get(k)!))) : [];
  items.sort(cmp);
  if (page.marker !== undefined) {
    // The marker is read as a message the caller may see (404 otherwise) and the page starts after its place in the order.
    const mk = await messageById(ctx.services, page.marker, projectOf(ctx), admin);
    if (!mk) throw messageNotFound(page.marker);
    items = items.filter((m) => cmp(m, mk.value) > 0);
  }
  items = items.slice(offset, offset + page.limit);
  const body: Record<string, unknown> = { messages: items.map((m) => messageView(ctx, m)) };
  const links = nextLinks(collectionUrl(ctx, '/messages'), q, items, page);
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
