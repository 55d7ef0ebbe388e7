// os-server-groups (nova/api/openstack/compute/server_groups.py): parse, validate (Nova's schema for
// the request's microversion: soft policies from 2.15, policy and rules from 2.64), authorize (Nova's
// policies), render (project_id and user_id from 2.13; policy and rules from 2.64). The business rules
// are ./service.ts.
import type { RequestContext, Route } from '../../http/router';
import { json } from '../../http/respond';
import { badRequest } from '../../http/errors';
import { schemaAt, validateBody, type SchemaByVersion } from '../../api/validation';
import type { Microversion } from '../../api/microversion';
import { computeRoute } from '../common';
import { createGroup, deleteGroup, groupsFor, visibleGroup } from './service';
import type { GroupPolicy, ServerGroupRecord } from './model';
import { strictQuery } from '../../http/router';

const createSchemaFor = (policies: GroupPolicy[]) => ({
  type: 'object',
  properties: {
    server_group: {
      type: 'object',
      properties: {
        name: { type: 'string', format: 'name', minLength: 1, maxLength: 255 },
        policies: {
          type: 'array',
          items: [{ type: 'string', enum: policies }],
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
});
/** server_groups.create (2.1-2.14): one policy, affinity or anti-affinity. */
export const createServerGroupSchema = createSchemaFor(['anti-affinity', 'affinity']);
/** server_groups.create_v215 (2.15-2.63): and the soft ones. */
export const createServerGroupSchemaV215 = createSchemaFor(['anti-affinity', 'affinity', 'soft-anti-affinity', 'soft-affinity']);
/** server_groups.create_v264: `policy` (a string) and `rules` instead of `policies`. */
export const createServerGroupSchemaV264 = {
  type: 'object',
  properties: {
    server_group: {
      type: 'object',
      properties: {
        name: { type: 'string', format: 'name', minLength: 1, maxLength: 255 },
        policy: { type: 'string', enum: ['anti-affinity', 'affinity', 'soft-anti-affinity', 'soft-affinity'] },
        // parameter_types.positive_integer: an integer >= 1 or a string of digits.
        rules: {
          type: 'object',
          properties: { max_server_per_host: { type: ['integer', 'string'], pattern: '^[0-9]*$', minimum: 1, minLength: 1 } },
          additionalProperties: false,
        },
      },
      required: ['name', 'policy'],
      additionalProperties: false,
    },
  },
  required: ['server_group'],
  additionalProperties: false,
};
const createSchemas: SchemaByVersion = [
  ['2.1', createServerGroupSchema],
  ['2.15', createServerGroupSchemaV215],
  ['2.64', createServerGroupSchemaV264],
];

/**
 * Nova's _format_server_group: members the servers not deleted; project_id and user_id from 2.13. Below
 * 2.64 `policies` ([the policy]) and `metadata` (always {}); from 2.64 `policy` and `rules` ({} for none).
 */
export function groupView(g: ServerGroupRecord, mv?: Microversion) {
  const v264 = mv?.atLeast('2.64');
  return {
    id: g.id,
    name: g.name,
    ...(v264 ? { policy: g.policy, rules: g.rules ?? {} } : { policies: [g.policy] }),
    members: g.members.map((m) => m.id),
    ...(v264 ? {} : { metadata: {} }),
    ...(mv?.atLeast('2.13') ? { project_id: g.project_id, user_id: g.user_id } : {}),
  };
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
  return json({ server_groups: groups.slice(offset, offset + limit).map((g) => groupView(g, ctx.microversion)) });
}

async function create(ctx: RequestContext) {
  const b = validateBody<{ server_group: { name: string; policies?: GroupPolicy[]; policy?: GroupPolicy; rules?: { max_server_per_host?: number | string } } }>(
    schemaAt(ctx.microversion, createSchemas),
    ctx.body,
  ).server_group;
  // Nova keeps rules as strings and reads max_server_per_host back as an int: "3" and 3 are both 3.
  const rules = b.rules?.max_server_per_host !== undefined ? { max_server_per_host: Number(b.rules.max_server_per_host) } : b.rules ? {} : undefined;
  const g = await createGroup(ctx, { name: b.name, policy: b.policy ?? b.policies![0], rules });
  return json({ server_group: groupView(g, ctx.microversion) });
}

async function show(ctx: RequestContext) {
  const cur = await visibleGroup(ctx, 'os_compute_api:os-server-groups:show');
  return json({ server_group: groupView(cur.value, ctx.microversion) });
}

async function remove(ctx: RequestContext) {
  await deleteGroup(ctx);
  return { status: 204, headers: {} };
}

export const serverGroupRoutes: Route[] = [
  computeRoute('server-groups-list', 'GET', '/os-server-groups', 'os_compute_api:os-server-groups:index', index, { strictQuery: strictQuery(['all_projects', 'limit', 'offset']) }),
  computeRoute('server-groups-create', 'POST', '/os-server-groups', 'os_compute_api:os-server-groups:create', create),
  computeRoute('server-groups-show', 'GET', '/os-server-groups/{id}', 'os_compute_api:os-server-groups:show', show),
  computeRoute('server-groups-delete', 'DELETE', '/os-server-groups/{id}', 'os_compute_api:os-server-groups:delete', remove),
];
