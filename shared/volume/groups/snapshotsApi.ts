// /group_snapshots (cinder/api/v3/group_snapshots.py, views/group_snapshots.py; microversion 3.14
// GROUP_SNAPSHOTS): create, list, detail, show, delete. Below 3.14 every route is Cinder's 404 for a
// method the version lacks, before any policy. Lists take no filters, sorting or paging before 3.29
// (GROUP_SNAPSHOT_PAGINATION: Cinder passes no filters, so all_tenants widens nothing either; see
// listing); the reset_status action is 3.19's.
import type { RequestContext, Route } from '../../http/router';
import { accepted, json } from '../../http/respond';
import { badRequest, notFound } from '../../http/errors';
import { isUuidLike, validateBody } from '../../api/validation';
import { allowed, isAdmin } from '../../api/policy';
import { nextLinks } from '../../api/pagination';
import { actionName, cinderRoute, collectionUrl, compareBy, descriptionSchema, getSortParams, limitParam, offsetParam, processSortParams, projectOf, type SortKey } from '../common';
import type { VolumePolicy } from '../policy';
import { findGroupSnapshot, volumeTables, type GroupSnapshotRecord } from '../model';
import { groupTypeStore } from '../groupTypes/store';
import { resetGroupSnapshotStatus } from './resetStatus';
import { checkNotCgsnapshotSnapType, createGroupSnapshot, deleteGroupSnapshot } from './snapshots';
import { generalFiltering, likeMatches, queryFilters } from '../filters';

export const GROUP_SNAPSHOTS = '3.14';

/** oslo uuidutils.is_uuid_like, Cinder's `uuid` format (shared with Nova's checks: shared/api/validation.ts). */
export { isUuidLike };

/** cinder/api/schemas/group_snapshots.py create. */
const createSchema = {
  type: 'object',
  required: ['group_snapshot'],
  additionalProperties: false,
  properties: {
    group_snapshot: {
      type: 'object',
      required: ['group_id'],
      additionalProperties: false,
      properties: {
        description: descriptionSchema,
        // format uuid, checked by isUuidLike (Cinder's checker, laxer than JSON Schema's).
        group_id: { type: 'string' },
        name: { type: ['string', 'null'], minLength: 0, maxLength: 255 },
      },
    },
  },
};

const supported = (ctx: RequestContext) => ctx.microversion?.atLeast(GROUP_SNAPSHOTS) ?? false;
const from314 =
  (p: VolumePolicy) =>
  (_b: unknown, ctx: RequestContext): VolumePolicy | 'authenticated' =>
    supported(ctx) ? p : 'authenticated';
const versioned = (h: (ctx: RequestContext) => Promise<ReturnType<typeof json>>) => async (ctx: RequestContext) => {
  if (!supported(ctx)) throw notFound('The resource could not be found.');
  return h(ctx);
};

/** views/group_snapshots.py summary (create's answer; lists drop group_type_id). */
const summary = (g: GroupSnapshotRecord) => ({ id: g.id, name: g.name, group_type_id: g.group_type_id });

/** views/group_snapshots.py detail (project_id is 3.58's). */
/** views/group_snapshots.py detail; from 3.58 (GROUP_GROUPSNAPSHOT_PROJECT_ID) the project for callers passing group:group_snapshot_project_attribute (admins). */
const detail = (ctx: RequestContext, g: GroupSnapshotRecord) => ({
  id: g.id,
  group_id: g.group_id,
  group_type_id: g.group_type_id,
  status: g.status,
  created_at: g.created_at,
  name: g.name,
  description: g.description,
  ...(ctx.microversion?.atLeast(GROUP_GROUPSNAPSHOT_PROJECT_ID) && allowed(ctx, 'group:group_snapshot_project_attribute') ? { project_id: g.project_id } : {}),
});

export const GROUP_GROUPSNAPSHOT_PROJECT_ID = '3.58';

export const GROUP_SNAPSHOT_PAGINATION = '3.29';

/** GroupSnapshot's columns (cinder/db/models.py with CinderBase): the keys a filter or a sort may name. */
const COLUMNS = ['id', 'group_id', 'user_id', 'project_id', 'name', 'description', 'status', 'group_type_id', 'created_at', 'updated_at', 'deleted_at', 'deleted'];

/** A column's value as filter_by and order_by see it (a listed record is never deleted). */
function column(g: GroupSnapshotRecord, k: string): unknown {
  if (k === 'deleted') return false;
  if (k === 'deleted_at') return null;
  return (g as unknown as Record<string, unknown>)[k] ?? null;
}

/** filter_by(key=value), or with a trailing `~` apply_like_filters' LIKE (filters.ts likeMatches). */
function matches(g: GroupSnapshotRecord, key: string, value: string): boolean {
  if (key.endsWith('~')) return likeMatches(column(g, key.replace(/~+$/, '')), value);
  if (key === 'deleted') return ['0', 'false'].includes(value.trim().toLowerCase());
  const x = column(g, key);
  return x !== null && String(x) === value;
}

/**
 * _get_group_snapshots. Below 3.29 no filters, sort or paging reach the database: the caller's project,
 * created_at desc then id desc. From 3.29 (GROUP_SNAPSHOT_PAGINATION), in Cinder's order: limit, marker,
 * offset and the sort parameters read (400s); an admin's `all_tenants` (any value) widens to every
 * project; every other key is an exact filter on a GroupSnapshot column (`key~` a LIKE), and a key
 * that is none answers an empty list before anything else is checked; then the sort directions (400),
 * the marker (any project's: Cinder looks it up elevated; 404), the sort keys (400). The page follows
 * the marker's place in the order. Either way the view's next link is computed from the request's
 * `limit` (so below 3.29 a bad one is 400 and a full list gets a link), before CG-migration group
 * snapshots are left out of the page.
 */
async function listing(ctx: RequestContext, detailed: boolean) {
  const q = ctx.query;
  const t = volumeTables(ctx.services);
  const paged = ctx.microversion?.atLeast(GROUP_SNAPSHOT_PAGINATION) ?? false;
  let all: GroupSnapshotRecord[];
  if (!paged) {
    all = (await t.groupSnapshots.list(projectOf(ctx))).map((r) => r.value);
    all.sort(compareBy<GroupSnapshotRecord>(DEFAULT_SORT, column));
  } else {
    const limit = limitParam(q);
    const marker = q.get('marker') ?? undefined;
    const offset = offsetParam(q);
    const rawSort = getSortParams(q);
    const admin = isAdmin(ctx.auth!);
    // Filters as filter_by reads the MultiDict: a key's last value; from 3.31 the generic resource
    // filters first (a member's key outside the configured ones is a 400). A member's all_tenants is
    // dropped as Jacket's group list drops it (the SDK sends all_tenants=False on every list; see docs/volumes.md).
    const filters = queryFilters(q);
    generalFiltering(ctx, filters, 'group_snapshot');
    const wide = admin && filters.has('all_tenants');
    filters.delete('all_tenants');
    if (!wide) filters.set('project_id', projectOf(ctx));
    if (![...filters.keys()].every((k) => COLUMNS.includes(k.replace(/~+$/, '')))) return json({ group_snapshots: [] });
    const sort = processSortParams(rawSort);
    let markerRec: GroupSnapshotRecord | undefined;
    if (marker !== undefined) {
      const p = (await t.index.get('group_snapshot', marker))?.value.project_id;
      markerRec = p ? (await t.groupSnapshots.get(p, marker))?.value : undefined;
      if (!markerRec) throw notFound(`GroupSnapshot ${marker} could not be found.`);
    }
    if (sort.some((k) => !COLUMNS.includes(k.key))) throw badRequest('Invalid input received: Invalid sort key');
    const projects = wide ? [...new Set((await t.index.list('group_snapshot')).map((r) => r.value.project_id))] : [projectOf(ctx)];
    all = [];
    for (const p of projects) for (const r of await t.groupSnapshots.list(p)) all.push(r.value);
    const cmp = compareBy<GroupSnapshotRecord>(sort, column);
    all = all.filter((g) => [...filters].every(([k, v]) => matches(g, k, v))).sort(cmp);
    if (markerRec) all = all.filter((g) => cmp(g, markerRec) > 0);
    all = all.slice(offset, offset + limit);
  }
  const links = nextLinks(collectionUrl(ctx, '/group_snapshots'), q, all, { limit: limitParam(q) });
  const types = groupTypeStore(ctx.services);
  const out = [];
  for (const g of all) {
    // A CG-migration group snapshot is left out (the controller's _check_default_cgsnapshot_type).
    if ((await types.get(g.group_type_id))?.value.name === 'default_cgsnapshot_type') continue;
    out.push(detailed ? detail(ctx, g) : { id: g.id, name: g.name });
  }
  return json({ group_snapshots: out, ...(links ? { group_snapshot_links: links } : {}) });
}

const DEFAULT_SORT: SortKey[] = [
  { key: 'created_at', dir: 'desc' },
  { key: 'id', dir: 'desc' },
];

async function show(ctx: RequestContext) {
  const g = (await findGroupSnapshot(ctx, ctx.params.group_snapshot_id)).value;
  await checkNotCgsnapshotSnapType(ctx.services, g.group_type_id);
  return json({ group_snapshot: detail(ctx, g) });
}

async function create(ctx: RequestContext) {
  const b = validateBody<{ group_snapshot: { group_id: string; name?: string | null; description?: string | null } }>(createSchema, ctx.body).group_snapshot;
  if (!isUuidLike(b.group_id)) throw badRequest(`Invalid input for field/attribute group_id. Value: ${b.group_id}. '${b.group_id}' is not a 'uuid'`);
  return accepted({ group_snapshot: summary(await createGroupSnapshot(ctx, b.group_id, b.name, b.description)) });
}

async function remove(ctx: RequestContext) {
  const g = await findGroupSnapshot(ctx, ctx.params.group_snapshot_id);
  await checkNotCgsnapshotSnapType(ctx.services, g.value.group_type_id);
  await deleteGroupSnapshot(ctx, g);
  return accepted();
}

async function action(ctx: RequestContext): Promise<ReturnType<typeof json>> {
  const name = actionName(ctx);
  // reset_status is GROUP_SNAPSHOT_RESET_STATUS (3.19): Cinder's versioned-method 404 below it. Its
  // policy is asked after the group snapshot is found (resetStatus.ts), as group/api.py does.
  if (name === 'reset_status') {
    if (!ctx.microversion?.atLeast('3.19')) throw notFound('The resource could not be found.');
    return resetGroupSnapshotStatus(ctx);
  }
  throw badRequest(`There is no such action: ${name}`);
}

/** The action's own policy: none here (reset_status asks its own after the lookup; others are Cinder's 400). */
const actionPolicy = (): VolumePolicy | 'authenticated' => 'authenticated';

export const groupSnapshotRoutes: Route[] = [
  cinderRoute(
    'group-snapshots-list',
    'GET',
    '/group_snapshots',
    from314('group:get_all_group_snapshots'),
    versioned((ctx) => listing(ctx, false)),
  ),
  cinderRoute(
    'group-snapshots-detail',
    'GET',
    '/group_snapshots/detail',
    from314('group:get_all_group_snapshots'),
    versioned((ctx) => listing(ctx, true)),
  ),
  cinderRoute('group-snapshots-show', 'GET', '/group_snapshots/{group_snapshot_id}', from314('group:get_group_snapshot'), versioned(show)),
  cinderRoute('group-snapshots-create', 'POST', '/group_snapshots', from314('group:create_group_snapshot'), versioned(create)),
  cinderRoute('group-snapshots-delete', 'DELETE', '/group_snapshots/{group_snapshot_id}', from314('group:delete_group_snapshot'), versioned(remove)),
  cinderRoute('group-snapshots-action', 'POST', '/group_snapshots/{group_snapshot_id}/action', actionPolicy, versioned(action)),
];
