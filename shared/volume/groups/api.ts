// /groups (cinder/api/v3/groups.py, views/groups.py; microversion 3.13 GROUP_VOLUME): create, list,
// detail, show, update (name, description, add_volumes/remove_volumes) and the delete action. Below
// 3.13 every route is Cinder's 404 for a method the version lacks, before any policy. Actions of later
// versions (reset_status 3.20, replication 3.38: replication.ts) are that 404 too; create-from-src is 3.14's (that 404 at 3.13).
import type { RequestContext, Route } from '../../http/router';
import { accepted, json } from '../../http/respond';
import { badRequest, notFound } from '../../http/errors';
import { validateBody } from '../../api/validation';
import { allowed, isAdmin } from '../../api/policy';
import { pageRequest, nextLinks } from '../../api/pagination';
import { actionName, booleanSchema, boolParam, cinderRoute, collectionUrl, compareBy, descriptionSchema, getBoolParam, offsetParam, pageAfter, projectOf, sortParams } from '../common';
import type { VolumePolicy } from '../policy';
import { findGroup, volumeTables, type GroupRecord } from '../model';
import { groupTypeStore } from '../groupTypes/store';
import { createGroup, deleteGroup, updateGroup, type GroupCreate, type GroupUpdate } from './service';
import { createGroupFromSrc, type CreateFromSrc } from './snapshots';
import { resetGroupStatus } from './resetStatus';
import { GROUP_GROUPSNAPSHOT_PROJECT_ID, GROUP_SNAPSHOTS, isUuidLike } from './snapshotsApi';
import { generalFiltering, likeMatches, queryFilters } from '../filters';
import { GROUP_REPLICATION, REPLICATION_ACTIONS, groupReplication, type ReplicationAction } from './replication';

export const GROUP_VOLUME = '3.13';

/** parameter_types.name_allow_zero_min_length. */
const nameSchema = { type: ['string', 'null'], minLength: 0, maxLength: 255 };

/** cinder/api/schemas/groups.py create, update, delete. */
const createSchema = {
  type: 'object',
  required: ['group'],
  additionalProperties: false,
  properties: {
    group: {
      type: 'object',
      required: ['group_type', 'volume_types'],
      additionalProperties: false,
      properties: {
        description: descriptionSchema,
        group_type: { type: 'string', minLength: 1, maxLength: 255 },
        name: nameSchema,
        volume_types: { type: 'array', minItems: 1, items: { type: 'string', maxLength: 255 }, uniqueItems: true },
        availability_zone: { type: ['string', 'null'], minLength: 1, maxLength: 255 },
      },
    },
  },
};
const updateSchema = {
  type: 'object',
  required: ['group'],
  additionalProperties: false,
  properties: {
    group: {
      type: 'object',
      additionalProperties: false,
      properties: { description: descriptionSchema, name: nameSchema, add_volumes: descriptionSchema, remove_volumes: descriptionSchema },
      anyOf: [{ required: ['name'] }, { required: ['description'] }, { required: ['add_volumes'] }, { required: ['remove_volumes'] }],
    },
  },
};
/** cinder/api/schemas/groups.py create_from_source (the uuid format checked by isUuidLike). */
const fromSrcSchema = {
  type: 'object',
  required: ['create-from-src'],
  additionalProperties: false,
  properties: {
    'create-from-src': {
      type: 'object',
      additionalProperties: false,
      properties: { description: descriptionSchema, group_snapshot_id: { type: 'string' }, name: nameSchema, source_group_id: { type: 'string' } },
      oneOf: [{ required: ['group_snapshot_id'] }, { required: ['source_group_id'] }],
    },
  },
};
const deleteSchema = {
  type: 'object',
  required: ['delete'],
  additionalProperties: false,
  properties: { delete: { type: 'object', additionalProperties: false, properties: { 'delete-volumes': booleanSchema } } },
};

const supported = (ctx: RequestContext) => ctx.microversion?.atLeast(GROUP_VOLUME) ?? false;
const from313 =
  (p: VolumePolicy) =>
  (_b: unknown, ctx: RequestContext): VolumePolicy | 'authenticated' =>
    supported(ctx) ? p : 'authenticated';
const versioned = (h: (ctx: RequestContext) => Promise<ReturnType<typeof json>>) => async (ctx: RequestContext) => {
  if (!supported(ctx)) throw notFound('The resource could not be found.');
  return h(ctx);
};

const summary = (g: GroupRecord) => ({ id: g.id, name: g.name });

export const GROUP_VOLUME_LIST = '3.25';

/**
 * The member volume ids per group, when the detail view lists them (3.25 with ?list_volume=true,
 * utils.get_bool_param: 400 on a value that is not a boolean), else undefined. One read per project.
 */
async function memberIds(ctx: RequestContext, groups: GroupRecord[]): Promise<Map<string, string[]> | undefined> {
  if (!ctx.microversion?.atLeast(GROUP_VOLUME_LIST) || !getBoolParam(ctx.query, 'list_volume')) return undefined;
  const out = new Map<string, string[]>(groups.map((g) => [g.id, []]));
  for (const p of new Set(groups.map((g) => g.project_id))) {
    for (const r of await volumeTables(ctx.services).volumes.list(p)) if (r.value.group_id) out.get(r.value.group_id)?.push(r.value.id);
  }
  return out;
}

/** views/groups.py detail (group_snapshot_id and source_group_id from 3.14; volumes 3.25's, with `members`; replication_status 3.38's). */
function detail(g: GroupRecord, ctx: RequestContext, members?: Map<string, string[]>) {
  return {
    id: g.id,
    status: g.status,
    availability_zone: g.availability_zone,
    created_at: g.created_at,
    name: g.name,
    description: g.description,
    group_type: g.group_type_id,
    volume_types: g.volume_type_ids,
    ...(ctx.microversion?.atLeast(GROUP_SNAPSHOTS) ? { group_snapshot_id: g.group_snapshot_id ?? null, source_group_id: g.source_group_id ?? null } : {}),
    ...(members ? { volumes: members.get(g.id) ?? [] } : {}),
    // Cinder creates every group 'disabled'; with no replication in Jacket's backend it never changes.
    ...(ctx.microversion?.atLeast(GROUP_REPLICATION) ? { replication_status: 'disabled' } : {}),
    // 3.58 (GROUP_GROUPSNAPSHOT_PROJECT_ID): the group's project, for callers passing group:group_project_attribute (admins).
    ...(ctx.microversion?.atLeast(GROUP_GROUPSNAPSHOT_PROJECT_ID) && allowed(ctx, 'group:group_project_attribute') ? { project_id: g.project_id } : {}),
  };
}

/** The group, unless it is of the CG migration type (groups.py show: 400). */
async function visibleGroup(ctx: RequestContext) {
  const g = await findGroup(ctx, ctx.params.group_id);
  const type = (await groupTypeStore(ctx.services).get(g.value.group_type_id))?.value;
  if (type?.name === 'default_cgsnapshot_type') {
    throw badRequest(`Group_type ${type.id} is reserved for migrating CGs to groups. Migrated group can only be operated by CG APIs.`);
  }
  return g;
}

/** Group model columns a filter may name (db _process_group_filters: any other key matches nothing). */
const COLUMNS: (keyof GroupRecord)[] = [
  'id',
  'name',
  'description',
  'status',
  'availability_zone',
  'group_type_id',
  'project_id',
  'user_id',
  'created_at',
  'updated_at',
  'group_snapshot_id',
  'source_group_id',
];

async function listing(ctx: RequestContext, detailed: boolean) {
  const q = ctx.query;
  const admin = isAdmin(ctx.auth!);
  const t = volumeTables(ctx.services);
  const page = pageRequest(q);
  const sort = sortParams(q, ['id', 'name', 'status', 'created_at', 'updated_at', 'availability_zone', 'description']);
  // From 3.31 the generic resource filters: a member's key outside the configured ones is a 400.
  const filters = queryFilters(q, ['list_volume']);
  generalFiltering(ctx, filters, 'group');
  let projects = [projectOf(ctx)];
  if (admin && filters.has('all_tenants')) projects = [...new Set((await t.index.list('group')).map((r) => r.value.project_id))];
  let all: GroupRecord[] = [];
  for (const p of projects) for (const r of await t.groups.list(p)) all.push(r.value);
  for (const [k, v] of filters) {
    // all_tenants is never a column filter here: the SDK sends it on every `openstack volume group list`
    // (all_tenants=False); only an admin's widens the list.
    if (k === 'all_tenants') continue;
    // A key that is no Group column matches nothing; `key~` is apply_like_filters' LIKE.
    const col = k.replace(/~$/, '') as keyof GroupRecord;
    if (!COLUMNS.includes(col)) all = [];
    else all = all.filter((g) => (k.endsWith('~') ? likeMatches(g[col], v) : String(g[col] ?? '') === v));
  }
  all.sort(compareBy<GroupRecord>(sort, (g, k) => (g as unknown as Record<string, unknown>)[k]));
  const items = pageAfter(all, page.marker, page.limit, (m) => notFound(`Marker ${m} could not be found.`), offsetParam(q));
  const links = nextLinks(collectionUrl(ctx, detailed ? '/groups/detail' : '/groups'), q, items, page);
  const members = detailed ? await memberIds(ctx, items) : undefined;
  return json({ groups: items.map((g) => (detailed ? detail(g, ctx, members) : summary(g))), ...(links ? { group_links: links } : {}) });
}

async function show(ctx: RequestContext) {
  const g = (await visibleGroup(ctx)).value;
  return json({ group: detail(g, ctx, await memberIds(ctx, [g])) });
}

async function create(ctx: RequestContext) {
  const b = validateBody<{ group: GroupCreate }>(createSchema, ctx.body).group;
  return accepted({ group: summary(await createGroup(ctx, b)) });
}

async function update(ctx: RequestContext) {
  const b = validateBody<{ group: GroupUpdate }>(updateSchema, ctx.body).group;
  await updateGroup(ctx, await visibleGroup(ctx), b);
  return accepted();
}

async function remove(ctx: RequestContext) {
  const b = validateBody<{ delete: { 'delete-volumes'?: boolean | string } }>(deleteSchema, ctx.body).delete;
  const deleteVolumes = b['delete-volumes'] === undefined ? false : boolParam(b['delete-volumes'], 'delete-volumes');
  await deleteGroup(ctx, await findGroup(ctx, ctx.params.group_id), deleteVolumes);
  return accepted();
}

async function createFromSrc(ctx: RequestContext) {
  const b = validateBody<{ 'create-from-src': CreateFromSrc }>(fromSrcSchema, ctx.body)['create-from-src'];
  for (const k of ['group_snapshot_id', 'source_group_id'] as const) {
    const v = b[k];
    if (v !== undefined && !isUuidLike(v)) throw badRequest(`Invalid input for field/attribute ${k}. Value: ${v}. '${v}' is not a 'uuid'`);
  }
  return accepted({ group: summary(await createGroupFromSrc(ctx, b)) });
}

/** Actions later microversions bring: Cinder's versioned-method 404 below them. */
const LATER_ACTIONS: string[] = ['reset_status', ...REPLICATION_ACTIONS];
const isReplication = (name: string | undefined): name is ReplicationAction => (REPLICATION_ACTIONS as readonly string[]).includes(name ?? '');
/** GROUP_VOLUME_RESET_STATUS. */
const GROUP_RESET_STATUS = '3.20';

async function action(ctx: RequestContext) {
  const name = actionName(ctx);
  if (name === 'delete') return remove(ctx);
  if (name === 'create-from-src' && ctx.microversion?.atLeast(GROUP_SNAPSHOTS)) return createFromSrc(ctx);
  // Its policy is asked after the group is found (resetStatus.ts), as group/api.py does.
  if (name === 'reset_status' && ctx.microversion?.atLeast(GROUP_RESET_STATUS)) return resetGroupStatus(ctx);
  // Their policies too: group/api.py asks them with the group as target.
  if (isReplication(name) && ctx.microversion?.atLeast(GROUP_REPLICATION)) return groupReplication(ctx, name);
  if (LATER_ACTIONS.includes(name) || name === 'create-from-src') throw notFound('The resource could not be found.');
  throw badRequest(`There is no such action: ${name}`);
}

async function collectionAction(ctx: RequestContext) {
  const name = actionName(ctx);
  if (name === 'create-from-src' && ctx.microversion?.atLeast(GROUP_SNAPSHOTS)) return createFromSrc(ctx);
  if (name === 'create-from-src' || name === 'delete' || LATER_ACTIONS.includes(name)) throw notFound('The resource could not be found.');
  throw badRequest(`There is no such action: ${name}`);
}

const actionPolicy = (b: unknown, ctx: RequestContext): VolumePolicy | 'authenticated' => {
  const key = b && typeof b === 'object' ? Object.keys(b)[0] : undefined;
  if (!supported(ctx)) return 'authenticated';
  if (key === 'delete') return 'group:delete';
  // group/api.py create_from_src authorizes group:create (and reading the source, its own get policies).
  if (key === 'create-from-src' && ctx.microversion?.atLeast(GROUP_SNAPSHOTS)) return 'group:create';
  return 'authenticated';
};

const collectionPolicy = (b: unknown, ctx: RequestContext): VolumePolicy | 'authenticated' => {
  const key = b && typeof b === 'object' ? Object.keys(b)[0] : undefined;
  return key === 'create-from-src' && ctx.microversion?.atLeast(GROUP_SNAPSHOTS) ? 'group:create' : 'authenticated';
};

export const groupRoutes: Route[] = [
  cinderRoute(
    'groups-list',
    'GET',
    '/groups',
    from313('group:get_all'),
    versioned((ctx) => listing(ctx, false)),
  ),
  cinderRoute(
    'groups-detail',
    'GET',
    '/groups/detail',
    from313('group:get_all'),
    versioned((ctx) => listing(ctx, true)),
  ),
  cinderRoute('groups-show', 'GET', '/groups/{group_id}', from313('group:get'), versioned(show)),
  cinderRoute('groups-create', 'POST', '/groups', from313('group:create'), versioned(create)),
  cinderRoute('groups-update', 'PUT', '/groups/{group_id}', from313('group:update'), versioned(update)),
  cinderRoute('groups-action', 'POST', '/groups/{group_id}/action', actionPolicy, versioned(action)),
  // POST /groups/action: the collection's action, where create-from-src is asked (Cinder's router maps both paths to the action dispatch).
  cinderRoute('groups-collection-action', 'POST', '/groups/action', collectionPolicy, versioned(collectionAction)),
];
