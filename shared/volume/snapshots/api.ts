// /snapshots: Cinder's snapshot API at 3.0 — create (an incremental managed snapshot snapshot-<id> of
// the volume's disk), list, list detailed, show, update, delete. The controller; the create and delete
// rules are ./service.ts.
import { startWork } from '../../work/ledger';
import type { RequestContext, Route } from '../../http/router';
import { json, accepted } from '../../http/respond';
import { badRequest, notFound } from '../../http/errors';
import { validateBody } from '../../api/validation';
import { actionPolicy, isAdmin } from '../../api/policy';
import { SNAPSHOT_ACTION_POLICIES } from '../policy';
import { pageRequest, nextLinks } from '../../api/pagination';
import { odata } from '../../store/tables';
import {
  actionName,
  boolParam,
  booleanSchema,
  cinderRoute,
  cinderTime,
  collectionUrl,
  compareBy,
  descriptionSchema,
  metadataSchema,
  pageAfter,
  offsetParam,
  parseMetadataFilter,
  projectOf,
  sortParams,
} from '../common';
import { findSnapshot, volumeTables, type SnapshotRecord } from '../model';
import { COMMON_LIKE_COLUMNS, PAGE_KEYS, consumesQuota, generalFiltering, likeColumn, likeMatches, queryFilters, withCount } from '../filters';
import { snapshotDetail, snapshotSummary } from '../views';
import { updateSnapshotStatus } from './actions';
import { SNAPSHOT_DELETE } from '../workKinds';
import { unmanageSnapshotAction } from '../manage/api';
import { createSnapshot, deleteSnapshot, type CreateSnapshotBody } from './service';

const text255 = { type: ['string', 'null'], minLength: 0, maxLength: 255 };

const createSchema = {
  type: 'object',
  required: ['snapshot'],
  additionalProperties: false,
  properties: {
    snapshot: {
      type: 'object',
      required: ['volume_id'],
      additionalProperties: false,
      properties: {
        name: text255,
        display_name: text255,
        description: descriptionSchema,
        volume_id: { oneOf: [{ type: 'string', format: 'uuid' }, { type: 'null' }] },
        force: booleanSchema,
        metadata: { ...metadataSchema(), type: ['object', 'null'] },
      },
    },
  },
};

const updateSchema = {
  type: 'object',
  required: ['snapshot'],
  additionalProperties: false,
  properties: {
    snapshot: {
      type: 'object',
      additionalProperties: false,
      anyOf: [{ required: ['name'] }, { required: ['description'] }, { required: ['display_name'] }, { required: ['display_description'] }],
      properties: { name: text255, display_name: text255, description: descriptionSchema, display_description: descriptionSchema },
    },
  },
};

/**
 * Create: the volume learns of its snapshot (dependency row) before its status is read, so a racing
 * volume delete either sees the row or we see 'deleting'.
 */
async function create(ctx: RequestContext) {
  const b = validateBody<{ snapshot: CreateSnapshotBody }>(createSchema, ctx.body).snapshot;
  const s = await createSnapshot(ctx, b);
  return accepted({ snapshot: v3Detail(ctx, snapshotSummary(s), s) });
}

/**
 * v3/views/snapshots.py detail, which create, update, show and the detailed list answer with (not the
 * summary list): group_snapshot_id from 3.14 (GROUP_SNAPSHOTS), user_id from 3.41 (SNAPSHOT_LIST_USER_ID;
 * snapshot.get('user_id'): null on a record without one), consumes_quota from 3.65 (USE_QUOTA: every
 * Jacket snapshot counts against quota, filters.ts consumesQuota).
 */
function v3Detail<T extends object>(ctx: RequestContext, view: T, s: SnapshotRecord): T & { group_snapshot_id?: string | null; user_id?: string | null; consumes_quota?: boolean } {
  const mv = ctx.microversion;
  return {
    ...view,
    ...(mv?.atLeast('3.14') ? { group_snapshot_id: s.group_snapshot_id ?? null } : {}),
    ...(mv?.atLeast(SNAPSHOT_LIST_USER_ID) ? { user_id: s.user_id ?? null } : {}),
    ...(mv?.atLeast(USE_QUOTA) ? { consumes_quota: true } : {}),
  };
}

const SNAPSHOT_LIST_USER_ID = '3.41';
const USE_QUOTA = '3.65';

export const SNAPSHOT_SORT = '3.30';

const FILTERS = ['name', 'status', 'volume_id', 'metadata', 'availability_zone', 'consumes_quota'];
/** Snapshot columns a `key~` (LIKE) filter may name, and the record's field for each (filters.ts likeColumn). */
const LIKE_COLUMNS: Record<string, keyof SnapshotRecord> = {
  ...COMMON_LIKE_COLUMNS,
  volume_id: 'volume_id',
  volume_type_id: 'volume_type_id',
  group_snapshot_id: 'group_snapshot_id',
};

/**
 * _items: paging and sort read (400s), `with_count` from 3.45, then the filters: from 3.31 the generic
 * resource filters (a member's unknown key is a 400), below it a member's unknown keys dropped and
 * `metadata` popped below 3.22; an admin's unknown key matches nothing (no such column), `key~` a LIKE.
 */
async function listing(ctx: RequestContext, detailed: boolean) {
  const q = new URLSearchParams(ctx.query);
  const admin = isAdmin(ctx.auth!);
  const t = volumeTables(ctx.services);
  const page = pageRequest(q);
  const sort = sortParams(q, ['id', 'name', 'size', 'status', 'created_at', 'updated_at', 'volume_id', 'display_name']);
  const count = withCount(ctx);
  if (count !== undefined) q.delete('with_count');
  const general = generalFiltering(ctx, queryFilters(q), 'snapshot');
  if (general && !admin) q.delete('all_tenants');
  const useQuota = consumesQuota(q, general);
  let unknownAdminFilter = false;
  for (const k of q.keys()) {
    if (FILTERS.includes(k) || PAGE_KEYS.includes(k) || (admin && (k === 'all_tenants' || k === 'project_id'))) continue;
    if (k.endsWith('~') && likeColumn(k, general, LIKE_COLUMNS)) continue;
    if (admin) unknownAdminFilter = true;
  }
  let all: SnapshotRecord[] = [];
  if (!unknownAdminFilter && useQuota !== false) {
    // SNAPSHOT_SORT (3.30) maps the sort key `name` to display_name; below it `name` reaches the database
    // as is, where it is the Snapshot model's Python property, not a column: paginate_query's 400 (not
    // reached when a filter key is no column: that list is empty first).
    if (!ctx.microversion?.atLeast(SNAPSHOT_SORT) && sort.some((k) => k.key === 'name')) throw badRequest('Invalid input received: Invalid sort key');
    const f: string[] = [];
    if (q.has('status')) f.push(odata`status eq ${q.get('status')!}`);
    if (q.has('name')) f.push(odata`name eq ${q.get('name')!}`);
    if (q.has('volume_id')) f.push(odata`volume_id eq ${q.get('volume_id')!}`);
    let projects = [projectOf(ctx)];
    if (admin && q.has('all_tenants') && boolParam(q.get('all_tenants'), 'all_tenants')) {
      projects = q.has('project_id') ? [q.get('project_id')!] : [...new Set((await t.index.list('snapshot')).map((r) => r.value.project_id))];
    }
    for (const p of projects) for (const r of await t.snapshots.list(p, f.length ? f.join(' and ') : undefined)) all.push(r.value);
    // SNAPSHOT_LIST_METADATA_FILTER (3.22): below it Cinder pops `metadata` for everyone (MV_ADDED_FILTERS).
    if (q.has('metadata') && (general || ctx.microversion?.atLeast('3.22'))) {
      const want = parseMetadataFilter(q.get('metadata')!);
      all = all.filter((s) => Object.entries(want).every(([k, v]) => s.metadata[k] === v));
    }
    if (q.has('availability_zone') && q.get('availability_zone') !== 'nova') all = [];
    for (const [k, x] of q.entries()) {
      const col = k.endsWith('~') ? likeColumn(k, general, LIKE_COLUMNS) : undefined;
      if (col && col !== 'skip') all = all.filter((s) => likeMatches(s[col], x));
    }
  }
  all.sort(compareBy<SnapshotRecord>(sort, (s, k) => (k === 'display_name' || k === 'name' ? s.name : (s as unknown as Record<string, unknown>)[k])));
  const items = pageAfter(all, page.marker, page.limit, (m) => notFound(`Marker ${m} could not be found.`), offsetParam(ctx.query));
  const body: Record<string, unknown> = { snapshots: items.map((s) => (detailed ? v3Detail(ctx, snapshotDetail(s), s) : snapshotSummary(s))) };
  const links = nextLinks(collectionUrl(ctx, detailed ? '/snapshots/detail' : '/snapshots'), ctx.query, items, page);
  if (links) body.snapshots_links = links;
  if (count) body.count = all.length;
  return json(body);
}

async function show(ctx: RequestContext) {
  const s = (await findSnapshot(ctx, ctx.params.snapshot_id)).value;
  return json({ snapshot: v3Detail(ctx, snapshotDetail(s), s) });
}

async function update(ctx: RequestContext) {
  const b = validateBody<{ snapshot: { name?: string | null; display_name?: string | null; description?: string | null; display_description?: string | null } }>(updateSchema, ctx.body).snapshot;
  const cur = await findSnapshot(ctx, ctx.params.snapshot_id);
  const stored = await volumeTables(ctx.services).snapshots.update(cur.partitionKey, cur.rowKey, (s) => ({
    ...s,
    ...('name' in b || 'display_name' in b ? { name: b.name ?? b.display_name ?? null } : {}),
    ...('description' in b || 'display_description' in b ? { description: b.description ?? b.display_description ?? null } : {}),
    updated_at: cinderTime(),
  }));
  if (!stored) throw notFound(`Snapshot ${ctx.params.snapshot_id} could not be found.`);
  return json({ snapshot: v3Detail(ctx, snapshotSummary(stored.value), stored.value) });
}

async function remove(ctx: RequestContext) {
  await deleteSnapshot(ctx, await findSnapshot(ctx, ctx.params.snapshot_id));
  return accepted();
}

/** Cinder's SnapshotStatus.ALL (cinder/objects/fields.py), in its order. */
const SNAPSHOT_STATUSES = ['error', 'available', 'creating', 'deleting', 'deleted', 'updating', 'error_deleting', 'unmanaging', 'backing-up', 'restoring'];

/** admin_actions.reset_status_snapshot: status is required. */
const resetSchema = {
  type: 'object',
  required: ['os-reset_status'],
  additionalProperties: false,
  properties: { 'os-reset_status': { type: 'object', required: ['status'], additionalProperties: false, properties: { status: { type: 'string' } } } },
};

/**
 * os-reset_status (admins): the record's status only, as Cinder's SnapshotAdminController does. A
 * delete or create running for it stops at its next step (steps act only on the status they expect).
 */
async function resetStatus(ctx: RequestContext) {
  const status = validateBody<{ 'os-reset_status': { status: string } }>(resetSchema, ctx.body)['os-reset_status'].status;
  if (!status || !SNAPSHOT_STATUSES.includes(status.toLowerCase())) {
    throw badRequest(`Invalid input received: Snapshot status: ${status} is invalid, valid statuses are: (${SNAPSHOT_STATUSES.map((x) => `'${x}'`).join(', ')}).`);
  }
  const cur = await findSnapshot(ctx, ctx.params.snapshot_id);
  await volumeTables(ctx.services).snapshots.update(cur.partitionKey, cur.rowKey, (x) => ({ ...x, status: status.toLowerCase() as SnapshotRecord['status'], updated_at: cinderTime() }));
  return accepted();
}

/** os-force_delete (admins): a delete whatever the status (Cinder's delete_snapshot with force). */
async function forceDelete(ctx: RequestContext) {
  const cur = await findSnapshot(ctx, ctx.params.snapshot_id);
  if (cur.value.status !== 'deleting') {
    await volumeTables(ctx.services).snapshots.update(cur.partitionKey, cur.rowKey, (x) => ({ ...x, status: 'deleting', updated_at: cinderTime() }));
  }
  await startWork(ctx.services, { kind: SNAPSHOT_DELETE, id: cur.rowKey, data: { project: cur.partitionKey }, requestId: ctx.requestId });
  return accepted();
}

/** Dispatches on the body's single key, as Cinder's action routing does. */
async function action(ctx: RequestContext) {
  const name = actionName(ctx);
  if (name === 'os-reset_status') return resetStatus(ctx);
  if (name === 'os-force_delete') return forceDelete(ctx);
  if (name === 'os-update_snapshot_status') return updateSnapshotStatus(ctx);
  if (name === 'os-unmanage') return unmanageSnapshotAction(ctx);
  throw badRequest(`There is no such action: ${name}`);
}

export const snapshotRoutes: Route[] = [
  // Each action has its own upstream policy (SNAPSHOT_ACTION_POLICIES), which the pipeline enforces.
  cinderRoute('snapshots-action', 'POST', '/snapshots/{snapshot_id}/action', actionPolicy(SNAPSHOT_ACTION_POLICIES), action),
  cinderRoute('snapshots-create', 'POST', '/snapshots', 'volume:create_snapshot', create),
  cinderRoute('snapshots-list', 'GET', '/snapshots', 'volume:get_all_snapshots', (ctx) => listing(ctx, false)),
  cinderRoute('snapshots-detail', 'GET', '/snapshots/detail', 'volume:get_all_snapshots', (ctx) => listing(ctx, true)),
  cinderRoute('snapshots-show', 'GET', '/snapshots/{snapshot_id}', 'volume:get_snapshot', show),
  cinderRoute('snapshots-update', 'PUT', '/snapshots/{snapshot_id}', 'volume:update_snapshot', update),
  cinderRoute('snapshots-delete', 'DELETE', '/snapshots/{snapshot_id}', 'volume:delete_snapshot', remove),
];
