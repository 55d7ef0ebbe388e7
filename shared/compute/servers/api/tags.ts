// /servers/{server_id}/tags (nova/api/openstack/compute/server_tags.py, from 2.26; a bare 404 below it).
// Nova finds the server through its instance mapping, which ignores projects and outlives the instance:
// another project's server is 403 (the policy's project target), an id never seen is 404 "has no
// mapping to a cell", a deleted one 404 "could not be found". The rules are in ../service/tags.ts.
import type { RequestContext, Route } from '../../../http/router';
import { json, noContent } from '../../../http/respond';
import { notFound } from '../../../http/errors';
import { validateBody } from '../../../api/validation';
import { computeRoute, computeUrl } from '../../common';
import { mappedServer } from './mapping';
import { addTag, removeAllTags, removeTag, replaceTags, tagsOf, TAG_SCHEMA, MAX_TAG_COUNT } from '../service/tags';

/** server_tags.update_all */
const updateAllSchema = {
  type: 'object',
  properties: { tags: { type: 'array', items: TAG_SCHEMA, maxItems: MAX_TAG_COUNT } },
  required: ['tags'],
  additionalProperties: false,
};

const tagLocation = (ctx: RequestContext, serverId: string, tag: string) => computeUrl(ctx, `/servers/${serverId}/tags/${encodeURIComponent(tag)}`);

async function index(ctx: RequestContext) {
  const cur = await mappedServer(ctx, 'os_compute_api:os-server-tags:index');
  return json({ tags: tagsOf(cur.value) });
}

async function show(ctx: RequestContext) {
  const cur = await mappedServer(ctx, 'os_compute_api:os-server-tags:show');
  if (!tagsOf(cur.value).includes(ctx.params.tag)) throw notFound(`Server ${ctx.params.server_id} has no tag '${ctx.params.tag}'`);
  return noContent();
}

async function update(ctx: RequestContext) {
  validateBody({ type: 'null' }, ctx.body ?? null);
  const cur = await mappedServer(ctx, 'os_compute_api:os-server-tags:update');
  const tag = ctx.params.tag;
  if (!(await addTag(ctx.services, cur, tag))) return noContent();
  return { status: 201, headers: { Location: tagLocation(ctx, cur.value.id, tag) } };
}

async function updateAll(ctx: RequestContext) {
  const b = validateBody<{ tags: string[] }>(updateAllSchema, ctx.body);
  const cur = await mappedServer(ctx, 'os_compute_api:os-server-tags:update_all');
  return json({ tags: await replaceTags(ctx.services, cur, b.tags) });
}

async function remove(ctx: RequestContext) {
  const cur = await mappedServer(ctx, 'os_compute_api:os-server-tags:delete');
  await removeTag(ctx.services, cur, ctx.params.tag);
  return noContent();
}

async function removeAll(ctx: RequestContext) {
  const cur = await mappedServer(ctx, 'os_compute_api:os-server-tags:delete_all');
  await removeAllTags(ctx.services, cur);
  return noContent();
}

const v226 = { versions: { min: '2.26' } };
export const serverTagRoutes: Route[] = [
  computeRoute('server-tags-list', 'GET', '/servers/{server_id}/tags', 'os_compute_api:os-server-tags:index', index, v226),
  computeRoute('server-tags-replace', 'PUT', '/servers/{server_id}/tags', 'os_compute_api:os-server-tags:update_all', updateAll, v226),
  computeRoute('server-tags-clear', 'DELETE', '/servers/{server_id}/tags', 'os_compute_api:os-server-tags:delete_all', removeAll, v226),
  computeRoute('server-tags-show', 'GET', '/servers/{server_id}/tags/{tag}', 'os_compute_api:os-server-tags:show', show, v226),
  computeRoute('server-tags-add', 'PUT', '/servers/{server_id}/tags/{tag}', 'os_compute_api:os-server-tags:update', update, v226),
  computeRoute('server-tags-delete', 'DELETE', '/servers/{server_id}/tags/{tag}', 'os_compute_api:os-server-tags:delete', remove, v226),
];
