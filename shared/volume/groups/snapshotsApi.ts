// /group_snapshots (cinder/api/v3/group_snapshots.py, views/group_snapshots.py; microversion 3.14
// GROUP_SNAPSHOTS): create, list, detail, show, delete. Below 3.14 every route is Cinder's 404 for a
// method the version lacks, before any policy. Lists take no filters, sorting or paging before 3.29
// (GROUP_SNAPSHOT_PAGINATION: Cinder passes no filters, so all_tenants widens nothing either); the
// reset_status action is 3.19's (404 here).
import type { RequestContext, Route } from '../../http/router';
import { accepted, json } from '../../http/respond';
import { badRequest, notFound } from '../../http/errors';
import { isUuidLike, validateBody } from '../../api/validation';
import { actionName, cinderRoute, descriptionSchema, projectOf } from '../common';
import type { VolumePolicy } from '../policy';
import { findGroupSnapshot, volumeTables, type GroupSnapshotRecord } from '../model';
import { groupTypeStore } from '../groupTypes/store';
import { resetGroupSnapshotStatus } from './resetStatus';
import { checkNotCgsnapshotSnapType, createGroupSnapshot, deleteGroupSnapshot } from './snapshots';

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
const detail = (g: GroupSnapshotRecord) => ({
  id: g.id,
  group_id: g.group_id,
  group_type_id: g.group_type_id,
  status: g.status,
  created_at: g.created_at,
  name: g.name,
  description: g.description,
});

async function listing(ctx: RequestContext, detailed: boolean) {
  const t = volumeTables(ctx.services);
  const all = (await t.groupSnapshots.list(projectOf(ctx))).map((r) => r.value);
  // The db default order: created_at desc, then id desc.
  all.sort((a, b) => (a.created_at === b.created_at ? b.id.localeCompare(a.id) : b.created_at.localeCompare(a.created_at)));
  const types = groupTypeStore(ctx.services);
  const out = [];
  for (const g of all) {
    // A CG-migration group snapshot is left out (the controller's _check_default_cgsnapshot_type).
    if ((await types.get(g.group_type_id))?.value.name === 'default_cgsnapshot_type') continue;
    out.push(detailed ? detail(g) : { id: g.id, name: g.name });
  }
  return json({ group_snapshots: out });
}

async function show(ctx: RequestContext) {
  const g = (await findGroupSnapshot(ctx, ctx.params.group_snapshot_id)).value;
  await checkNotCgsnapshotSnapType(ctx.services, g.group_type_id);
  return json({ group_snapshot: detail(g) });
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
