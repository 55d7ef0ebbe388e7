// os-server-groups at 2.1 (nova/api/openstack/compute/server_groups.py): parse, validate (Nova's 2.1
// schema), authorize (Nova's policies), render. The business rules are ./service.ts.
import type { RequestContext, Route } from '../../http/router';
import { json } from '../../http/respond';
import { badRequest } from '../../http/errors';
import { validateBody } from '../../api/validation';
import { computeRoute } from '../common';
import { createGroup, deleteGroup, groupsFor, visibleGroup } from './service';
import type { GroupPolicy, ServerGroupRecord } from './model';

/** server_groups.create (2.1-2.14): one policy, affinity or anti-affinity (the soft ones are 2.15). */
export const createServerGroupSchema = {
  type: 'object',
  properties: {
    server_group: {
      type: 'object',
      properties: {
        name: { type: 'string', format: 'name', minLength: 1, maxLength: 255 },
        policies: {
          type: 'array',
          items: [{ type: 'string', enum: ['anti-affinity', 'affinity'] }],
          uniqueItems: true,
          additionalItems: false,
          minItems: 1,
          maxItems: 1,
        },
      },
      required: ['name', 'policies'],
      additionalProperties: false,
    },
  },
  required: ['server_group'],
  additionalProperties: false,
};

/** Nova's _format_server_group below 2.13: no project/user; `metadata` always {}; members the servers not deleted. */
export function groupView(g: ServerGroupRecord) {
  return { id: g.id, name: g.name, policies: [g.policy], members: g.members.map((m) => m.id), metadata: {} };
}

/** Nova's common.get_limit_and_offset under the 2.1 query schema (digits only), limit capped at 1000. */
function limitOffset(ctx: RequestContext): { limit: number; offset: number } {
  const num = (name: string) => {
    const v = ctx.query.getAll(name).pop();
    if (v === undefined) return undefined;
    if (!/^[0-9]+$/.test(v)) throw badRequest(`Invalid input for query parameters ${name}. Value: ${v}. '${v}' does not match '^[0-9]*$'`);
    return Number(v);
  };
  const offset = num('offset') ?? 0;
  const limit = Math.min(num('limit') ?? 1000, 1000);
  return { limit, offset };
}

async function index(ctx: RequestContext) {
  const { limit, offset } = limitOffset(ctx);
  const groups = await groupsFor(ctx);
  return json({ server_groups: groups.slice(offset, offset + limit).map(groupView) });
}

async function create(ctx: RequestContext) {
  const b = validateBody<{ server_group: { name: string; policies: GroupPolicy[] } }>(createServerGroupSchema, ctx.body).server_group;
  const g = await createGroup(ctx, b);
  return json({ server_group: groupView(g) });
}

async function show(ctx: RequestContext) {
  const cur = await visibleGroup(ctx, 'os_compute_api:os-server-groups:show');
  return json({ server_group: groupView(cur.value) });
}

async function remove(ctx: RequestContext) {
  await deleteGroup(ctx);
  return { status: 204, headers: {} };
}

export const serverGroupRoutes: Route[] = [
  computeRoute('server-groups-list', 'GET', '/os-server-groups', 'os_compute_api:os-server-groups:index', index),
  computeRoute('server-groups-create', 'POST', '/os-server-groups', 'os_compute_api:os-server-groups:create', create),
  computeRoute('server-groups-show', 'GET', '/os-server-groups/{id}', 'os_compute_api:os-server-groups:show', show),
  computeRoute('server-groups-delete', 'DELETE', '/os-server-groups/{id}', 'os_compute_api:os-server-groups:delete', remove),
];
