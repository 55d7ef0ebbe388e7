// /backups: Cinder's backup API at 3.0 (cinder/api/contrib/backups.py, cinder/backup/api.py) — create
// (full or incremental), list, list detailed, show, delete, os-force_delete (admins), restore to a new
// volume or over an existing detached one. A backup is the page blob backup-<id>.vhd in the backups
// container (diskCopy.ts), apart from the disk and its snapshots; the copies run on the work queue
// (work.ts). The controller; the create, delete and restore rules are ./service.ts.
import type { RequestContext, Route } from '../../http/router';
import { json, accepted } from '../../http/respond';
import { badRequest, notFound } from '../../http/errors';
import { schemaAt, validateBody, type SchemaByVersion } from '../../api/validation';
import { actionPolicy, allowed, isAdmin } from '../../api/policy';
import { BACKUP_ACTION_POLICIES } from '../policy';
import { pageRequest, nextLinks } from '../../api/pagination';
import { actionName, boolParam, booleanSchema, cinderRoute, collectionUrl, compareBy, descriptionSchema, pageAfter, offsetParam, projectOf, resourceLinks, sortParams } from '../common';
import { COMMON_LIKE_COLUMNS, PAGE_KEYS, generalFiltering, likeColumn, likeMatches, queryFilters, withCount } from '../filters';
import { findBackup, volumeTables, type BackupRecord } from '../model';
import { resetBackupStatus } from './resetStatus';
import { childrenOf, createBackup, deleteBackup, restoreBackup, type CreateBackupBody, type RestoreBody } from './service';

/** BACKUP_METADATA (cinder/api/microversions.py). */
export const BACKUP_METADATA = '3.43';
/** BACKUP_SORT_NAME: the list's sort key `name` is the backup's name (display_name). */
const BACKUP_SORT_NAME = '3.37';

const text255 = { type: ['string', 'null'], minLength: 0, maxLength: 255 };
const uuidOrNull = { oneOf: [{ type: 'string', format: 'uuid' }, { type: 'null' }] };

/** parameter_types.extra_specs: the keys and values of a backup's metadata (3.43). */
export const backupMetadataSchema = { type: 'object', patternProperties: { '^[a-zA-Z0-9-_:. /]{1,255}$': { type: 'string', maxLength: 255 } }, additionalProperties: false };

/** backups.create (3.0–3.42). */
const createSchema = {
  type: 'object',
  required: ['backup'],
  additionalProperties: false,
  properties: {
    backup: {
      type: 'object',
      required: ['volume_id'],
      additionalProperties: false,
      properties: {
        container: text255,
        description: descriptionSchema,
        force: booleanSchema,
        incremental: booleanSchema,
        name: text255,
        snapshot_id: uuidOrNull,
        volume_id: { type: 'string', format: 'uuid' },
      },
    },
  },
};

/** backups.create_backup_v343: `metadata` too (metadata_allows_null). */
const createSchema343 = structuredClone(createSchema);
(createSchema343.properties.backup.properties as Record<string, unknown>).metadata = { ...backupMetadataSchema, type: ['object', 'null'] };
/** backups.create_backup_v351 (3.51 BACKUP_AZ): `availability_zone`, a string or null. */
export const BACKUP_AZ = '3.51';
const createSchema351 = structuredClone(createSchema343);
(createSchema351.properties.backup.properties as Record<string, unknown>).availability_zone = { type: ['string', 'null'] };
const CREATE_SCHEMAS: SchemaByVersion = [
  ['3.0', createSchema],
  [BACKUP_METADATA, createSchema343],
  [BACKUP_AZ, createSchema351],
];

/** backups.restore. */
const restoreSchema = {
  type: 'object',
  required: ['restore'],
  additionalProperties: false,
  properties: { restore: { type: ['object', 'null'], additionalProperties: false, properties: { name: text255, volume_id: uuidOrNull } } },
};

export function backupSummary(ctx: RequestContext, b: BackupRecord) {
  return { id: b.id, links: resourceLinks(ctx, 'backups', b.id), name: b.name };
}

export function backupDetail(ctx: RequestContext, b: BackupRecord, hasDependents: boolean) {
  // views/backups.py (v3) detail: the backup's metadata from 3.43 (BACKUP_METADATA), {} when it has none.
  const metadata = ctx.microversion?.atLeast(BACKUP_METADATA) ? { metadata: { ...(b.metadata ?? {}) } } : {};
  return {
    availability_zone: b.availability_zone,
    container: b.container,
    created_at: b.created_at,
    data_timestamp: b.data_timestamp,
    description: b.description,
    fail_reason: b.fail_reason,
    has_dependent_backups: hasDependents,
    id: b.id,
    is_incremental: b.parent_id !== null,
    links: resourceLinks(ctx, 'backups', b.id),
    name: b.name,
    object_count: 0,
    size: b.size,
    snapshot_id: b.snapshot_id,
    status: b.status,
    updated_at: b.updated_at,
    volume_id: b.volume_id,
    ...metadata,
  };
}

export const BACKUP_PROJECT_USER_ID = '3.56';

/**
 * v3/backups.py show and detail from 3.18 (BACKUP_PROJECT): `os-backup-project-attr:project_id` for
 * callers passing backup:backup_project_attribute (admins); from 3.56 (BACKUP_PROJECT_USER_ID) the
 * creator's `user_id` too, under the same policy.
 */
function withProjectAttr(ctx: RequestContext, view: Record<string, unknown>, b: BackupRecord): Record<string, unknown> {
  if (!ctx.microversion?.atLeast('3.18') || !allowed(ctx, 'backup:backup_project_attribute')) return view;
  return { ...view, 'os-backup-project-attr:project_id': b.project_id, ...(ctx.microversion.atLeast(BACKUP_PROJECT_USER_ID) ? { user_id: b.user_id } : {}) };
}

async function create(ctx: RequestContext) {
  // contrib/backups.py create reads `metadata` from 3.43 only (the schema below it refuses the key).
  const b = validateBody<{ backup: CreateBackupBody }>(schemaAt(ctx.microversion, CREATE_SCHEMAS), ctx.body).backup;
  return accepted({ backup: backupSummary(ctx, await createBackup(ctx, b)) });
}

const FILTERS = ['name', 'status', 'volume_id'];
/** Backup columns a `key~` (LIKE) filter may name, and the record's field for each (filters.ts likeColumn). */
const LIKE_COLUMNS: Record<string, keyof BackupRecord> = {
  ...COMMON_LIKE_COLUMNS,
  volume_id: 'volume_id',
  container: 'container',
  availability_zone: 'availability_zone',
  fail_reason: 'fail_reason',
  parent_id: 'parent_id',
  snapshot_id: 'snapshot_id',
};

/**
 * _get_backups: paging and sort read (400s), `with_count` from 3.45, then the filters: from 3.31 the
 * generic resource filters (a member's unknown key is a 400), below it a member's unknown keys dropped;
 * an admin's unknown key matches nothing (no such column), `key~` a LIKE.
 */
async function listing(ctx: RequestContext, detailed: boolean) {
  const q = new URLSearchParams(ctx.query);
  const admin = isAdmin(ctx.auth!);
  const t = volumeTables(ctx.services);
  const page = pageRequest(q);
  const sort = sortParams(q, ['id', 'name', 'size', 'status', 'created_at', 'updated_at', 'volume_id', 'display_name']);
  const count = withCount(ctx);
  if (count !== undefined) q.delete('with_count');
  const general = generalFiltering(ctx, queryFilters(q), 'backup');
  if (general && !admin) q.delete('all_tenants');
  let allTenants = false;
  if (q.has('all_tenants')) {
    const raw = q.get('all_tenants')!;
    try {
      allTenants = boolParam(raw, 'all_tenants');
    } catch {
      throw badRequest(`Invalid input received: all_tenants must be a boolean, got '${raw}'.`);
    }
  }
  // An admin's unknown filter reaches Cinder's database, where it matches nothing (members' are dropped).
  const known = (k: string) => FILTERS.includes(k) || PAGE_KEYS.includes(k) || k === 'all_tenants' || (k.endsWith('~') && likeColumn(k, general, LIKE_COLUMNS) !== undefined);
  if (admin && ![...q.keys()].every(known)) return json({ backups: [], ...(count ? { count: 0 } : {}) });
  const like = [...q.entries()].flatMap(([k, x]) => {
    const col = k.endsWith('~') ? likeColumn(k, general, LIKE_COLUMNS) : undefined;
    return col && col !== 'skip' ? [[col, x] as const] : [];
  });
  const projects = admin && allTenants ? [...new Set((await t.index.list('backup')).map((r) => r.value.project_id))] : [projectOf(ctx)];
  const all: BackupRecord[] = [];
  const parents = new Set<string>();
  for (const p of projects) {
    for (const r of await t.backups.list(p)) {
      if (r.value.parent_id) parents.add(r.value.parent_id);
      if (!FILTERS.every((k) => !q.has(k) || String((r.value as unknown as Record<string, unknown>)[k]) === q.get(k))) continue;
      if (like.every(([col, x]) => likeMatches(r.value[col], x))) all.push(r.value);
    }
  }
  // BACKUP_SORT_NAME (3.37) maps the sort key `name` to display_name; below it `name` reaches the database
  // as is, where it is the Backup model's Python property, not a column: paginate_query's 400 (not
  // reached when an admin's unknown filter has emptied the list first).
  if (!ctx.microversion?.atLeast(BACKUP_SORT_NAME) && sort.some((k) => k.key === 'name')) throw badRequest('Invalid input received: Invalid sort key');
  all.sort(compareBy<BackupRecord>(sort, (b, k) => (k === 'display_name' || k === 'name' ? b.name : (b as unknown as Record<string, unknown>)[k])));
  const items = pageAfter(all, page.marker, page.limit, (m) => notFound(`Marker ${m} could not be found.`), offsetParam(ctx.query));
  const body: Record<string, unknown> = { backups: items.map((b) => (detailed ? withProjectAttr(ctx, backupDetail(ctx, b, parents.has(b.id)), b) : backupSummary(ctx, b))) };
  const links = nextLinks(collectionUrl(ctx, detailed ? '/backups/detail' : '/backups'), ctx.query, items, page);
  if (links) body.backups_links = links;
  if (count) body.count = all.length;
  return json(body);
}

async function show(ctx: RequestContext) {
  const b = await findBackup(ctx, ctx.params.backup_id);
  return json({ backup: withProjectAttr(ctx, backupDetail(ctx, b.value, (await childrenOf(ctx, b)) > 0), b.value) });
}

async function remove(ctx: RequestContext, force: boolean) {
  await deleteBackup(ctx, await findBackup(ctx, ctx.params.backup_id), force);
  return accepted();
}

async function action(ctx: RequestContext) {
  const name = actionName(ctx);
  if (name === 'os-force_delete') return remove(ctx, true);
  if (name === 'os-reset_status') return resetBackupStatus(ctx);
  throw badRequest(`There is no such action: ${name}`);
}

async function restore(ctx: RequestContext) {
  const r = validateBody<{ restore: RestoreBody | null }>(restoreSchema, ctx.body).restore ?? {};
  return accepted({ restore: await restoreBackup(ctx, await findBackup(ctx, ctx.params.backup_id), r) });
}

export const backupRoutes: Route[] = [
  cinderRoute('backups-create', 'POST', '/backups', 'backup:create', create),
  cinderRoute('backups-list', 'GET', '/backups', 'backup:get_all', (ctx) => listing(ctx, false)),
  cinderRoute('backups-detail', 'GET', '/backups/detail', 'backup:get_all', (ctx) => listing(ctx, true)),
  cinderRoute('backups-show', 'GET', '/backups/{backup_id}', 'backup:get', show),
  cinderRoute('backups-delete', 'DELETE', '/backups/{backup_id}', 'backup:delete', (ctx) => remove(ctx, false)),
  cinderRoute('backups-action', 'POST', '/backups/{backup_id}/action', actionPolicy(BACKUP_ACTION_POLICIES), action),
  cinderRoute('backups-restore', 'POST', '/backups/{backup_id}/restore', 'backup:restore', restore),
];
