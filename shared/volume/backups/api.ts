// /backups: Cinder's backup API at 3.0 (cinder/api/contrib/backups.py, cinder/backup/api.py) — create
// (full or incremental), list, list detailed, show, delete, os-force_delete (admins), restore to a new
// volume or over an existing detached one. A backup is the page blob backup-<id>.vhd in the backups
// container (diskCopy.ts), apart from the disk and its snapshots; the copies run on the work queue
// (backupWork.ts).
import { randomUUID } from 'node:crypto';
import { startWork } from '../../work/ledger';
import type { RequestContext, Route } from '../../http/router';
import { json, accepted } from '../../http/respond';
import { badRequest, notFound } from '../../http/errors';
import { validateBody } from '../../api/validation';
import { actionPolicy, isAdmin } from '../../api/policy';
import { BACKUP_ACTION_POLICIES } from '../policy';
import { pageRequest, nextLinks } from '../../api/pagination';
import { odata, type Stored } from '../../store/tables';
import { actionName, boolParam, booleanSchema, cinderRoute, cinderTime, collectionUrl, compareBy, descriptionSchema, pageAfter, projectOf, resourceLinks, sortParams } from '../common';
import { findBackup, findVolume, volumeTables, type BackupRecord } from '../model';
import { backupBlobName, BACKUPS_CONTAINER } from '../diskCopy';
import { checkBackupQuota } from '../quotas/engine';
import { createVolumeRecord } from '../volumes/service';
import { typeStore } from '../types/store';
import { BACKUP_CREATE, BACKUP_DELETE, BACKUP_RESTORE } from '../workKinds';

const text255 = { type: ['string', 'null'], minLength: 0, maxLength: 255 };
const uuidOrNull = { oneOf: [{ type: 'string', format: 'uuid' }, { type: 'null' }] };

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

/** backups.restore. */
const restoreSchema = {
  type: 'object',
  required: ['restore'],
  additionalProperties: false,
  properties: { restore: { type: ['object', 'null'], additionalProperties: false, properties: { name: text255, volume_id: uuidOrNull } } },
};

const invalidBackup = (reason: string) => badRequest(`Invalid backup: ${reason}`);
const invalidVolume = (reason: string) => badRequest(`Invalid volume: ${reason}`);

export function backupSummary(ctx: RequestContext, b: BackupRecord) {
  return { id: b.id, links: resourceLinks(ctx, 'backups', b.id), name: b.name };
}

export function backupDetail(ctx: RequestContext, b: BackupRecord, hasDependents: boolean) {
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
  };
}

async function childrenOf(ctx: RequestContext, b: Stored<BackupRecord>): Promise<number> {
  return (await volumeTables(ctx.services).deps.list(b.rowKey)).filter((d) => d.value.kind === 'backup').length;
}

async function create(ctx: RequestContext) {
  const b = validateBody<{
    backup: { name?: string | null; description?: string | null; container?: string | null; volume_id: string; incremental?: boolean | string; force?: boolean | string; snapshot_id?: string | null };
  }>(createSchema, ctx.body).backup;
  const incremental = b.incremental === undefined ? false : boolParam(b.incremental, 'incremental');
  const force = b.force === undefined ? false : boolParam(b.force, 'force');
  const vol = await findVolume(ctx, b.volume_id);
  if (b.snapshot_id) throw badRequest('Invalid input received: Backups of snapshots are not supported by Jacket; back up the volume.');
  const v = vol.value;
  if (!['available', 'in-use'].includes(v.status)) throw invalidVolume(`Volume to be backed up must be available or in-use, but the current status is "${v.status}".`);
  if (v.status === 'in-use' && !force) throw invalidVolume('Backing up an in-use volume must use the force flag.');
  const project = projectOf(ctx);
  await checkBackupQuota(ctx.services, project, v.size);
  const t = volumeTables(ctx.services);
  let parent: BackupRecord | undefined;
  if (incremental) {
    const mine = (await t.backups.list(project, odata`volume_id eq ${v.id}`)).map((r) => r.value);
    if (mine.length === 0) throw invalidBackup('No backups available to do an incremental backup.');
    parent = mine.reduce((a, x) => (x.data_timestamp > a.data_timestamp ? x : a));
    if (parent.status !== 'available') throw invalidBackup('The parent backup must be available for incremental backup.');
  }
  const now = cinderTime();
  const id = randomUUID();
  const rec: BackupRecord = {
    id,
    project_id: project,
    user_id: ctx.auth!.userId,
    volume_id: v.id,
    volume_project_id: vol.partitionKey,
    name: b.name ?? null,
    description: b.description ?? null,
    container: b.container ?? BACKUPS_CONTAINER,
    size: v.size,
    status: 'creating',
    fail_reason: null,
    parent_id: parent?.id ?? null,
    snapshot_id: null,
    availability_zone: null,
    created_at: now,
    updated_at: now,
    data_timestamp: now,
    blob: { name: backupBlobName(id), dataBytes: v.size * 1024 ** 3 },
  };
  // The volume turns backing-up under its ETag: a racing delete, extend or second backup loses.
  await t.volumes.replace(vol.partitionKey, vol.rowKey, { ...v, status: 'backing-up', previous_status: v.status, updated_at: now }, vol.etag).catch(() => {
    throw invalidVolume(`Volume to be backed up must be available or in-use, but the current status is "changing".`);
  });
  if (parent) await t.deps.upsert(parent.id, id, { kind: 'backup', project_id: project });
  await t.index.upsert('backup', id, { project_id: project });
  await t.backups.create(project, id, rec);
  await startWork(ctx.services, { kind: BACKUP_CREATE, id, data: { project }, requestId: ctx.requestId });
  return accepted({ backup: backupSummary(ctx, rec) });
}

const FILTERS = ['name', 'status', 'volume_id'];
const PAGING = ['limit', 'marker', 'sort', 'sort_key', 'sort_dir', 'offset', 'with_count'];

async function listing(ctx: RequestContext, detailed: boolean) {
  const q = ctx.query;
  const admin = isAdmin(ctx.auth!);
  const t = volumeTables(ctx.services);
  const page = pageRequest(q);
  const sort = sortParams(q, ['id', 'name', 'size', 'status', 'created_at', 'updated_at', 'volume_id', 'display_name']);
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
  for (const k of q.keys()) if (admin && !FILTERS.includes(k) && !PAGING.includes(k) && k !== 'all_tenants') return json({ backups: [] });
  const projects = admin && allTenants ? [...new Set((await t.index.list('backup')).map((r) => r.value.project_id))] : [projectOf(ctx)];
  const all: BackupRecord[] = [];
  const parents = new Set<string>();
  for (const p of projects) {
    for (const r of await t.backups.list(p)) {
      if (r.value.parent_id) parents.add(r.value.parent_id);
      if (FILTERS.every((k) => !q.has(k) || String((r.value as unknown as Record<string, unknown>)[k]) === q.get(k))) all.push(r.value);
    }
  }
  all.sort(compareBy<BackupRecord>(sort, (b, k) => (k === 'display_name' ? b.name : (b as unknown as Record<string, unknown>)[k])));
  const items = pageAfter(all, page.marker, page.limit, (m) => notFound(`Marker ${m} could not be found.`));
  const body: Record<string, unknown> = { backups: items.map((b) => (detailed ? backupDetail(ctx, b, parents.has(b.id)) : backupSummary(ctx, b))) };
  const links = nextLinks(collectionUrl(ctx, detailed ? '/backups/detail' : '/backups'), q, items, page);
  if (links) body.backups_links = links;
  return json(body);
}

async function show(ctx: RequestContext) {
  const b = await findBackup(ctx, ctx.params.backup_id);
  return json({ backup: backupDetail(ctx, b.value, (await childrenOf(ctx, b)) > 0) });
}

/** Delete (force: any status, admins): never while incremental backups depend on it. */
async function deleteBackup(ctx: RequestContext, force: boolean) {
  const cur = await findBackup(ctx, ctx.params.backup_id);
  const refused = invalidBackup('Backup status must be available or error');
  // error_deleting too: a later DELETE retries a delete that was given up (Cinder wants force).
  if (!force && !['available', 'error', 'error_deleting'].includes(cur.value.status)) throw refused;
  if ((await childrenOf(ctx, cur)) > 0) throw invalidBackup('Incremental backups exist for this backup.');
  if (cur.value.status !== 'deleting') {
    await volumeTables(ctx.services)
      .backups.replace(cur.partitionKey, cur.rowKey, { ...cur.value, status: 'deleting', updated_at: cinderTime() }, cur.etag)
      .catch(() => {
        throw refused;
      });
  }
  await startWork(ctx.services, { kind: BACKUP_DELETE, id: cur.rowKey, data: { project: cur.partitionKey }, requestId: ctx.requestId });
  return accepted();
}

async function action(ctx: RequestContext) {
  const name = actionName(ctx);
  if (name === 'os-force_delete') return deleteBackup(ctx, true);
  throw badRequest(`There is no such action: ${name}`);
}

async function restore(ctx: RequestContext) {
  const r = validateBody<{ restore: { name?: string | null; volume_id?: string | null } | null }>(restoreSchema, ctx.body).restore ?? {};
  const cur = await findBackup(ctx, ctx.params.backup_id);
  const b = cur.value;
  if (b.status !== 'available') throw invalidBackup('Backup status must be available');
  const t = volumeTables(ctx.services);
  const markRestoring = async (volumeId: string) => {
    await t.backups.replace(cur.partitionKey, cur.rowKey, { ...b, status: 'restoring', restore_volume_id: volumeId, updated_at: cinderTime() }, cur.etag).catch(() => {
      throw invalidBackup('Backup status must be available');
    });
  };
  if (!r.volume_id) {
    // A new volume of the backup's size, whose disk is imported from the backup blob.
    const name = r.name ?? `restore_backup_${b.id}`;
    const type = (await typeStore(ctx.services).get((await t.volumes.get(b.volume_project_id, b.volume_id))?.value.volume_type_id ?? ''))?.value;
    const v = await createVolumeRecord(ctx, {
      name,
      description: 'auto-created_from_restore_from_backup',
      size: b.size,
      type,
      backupId: b.id,
      beforeEnqueue: (id) => markRestoring(id),
    });
    return accepted({ restore: { backup_id: b.id, volume_id: v.id, volume_name: v.name } });
  }
  const vol = await findVolume(ctx, r.volume_id);
  const v = vol.value;
  if (v.status !== 'available') throw invalidVolume('Volume to be restored to must be available');
  if (b.size > v.size) throw invalidVolume(`volume size ${v.size} is too small to restore backup of size ${b.size}.`);
  // The disk is replaced: a new disk imported from the backup, swapped in once it is ready.
  await t.volumes
    .replace(
      vol.partitionKey,
      vol.rowKey,
      { ...v, status: 'restoring-backup', restore: { backup_id: b.id, disk_name: `volume-${v.id}-${randomUUID().slice(0, 8)}` }, updated_at: cinderTime() },
      vol.etag,
    )
    .catch(() => {
      throw invalidVolume('Volume to be restored to must be available');
    });
  try {
    await markRestoring(v.id);
  } catch (e) {
    await t.volumes.update(vol.partitionKey, vol.rowKey, (x) => (x.status === 'restoring-backup' ? { ...x, status: 'available', restore: undefined } : undefined));
    throw e;
  }
  await startWork(ctx.services, { kind: BACKUP_RESTORE, id: v.id, data: { project: vol.partitionKey }, requestId: ctx.requestId });
  return accepted({ restore: { backup_id: b.id, volume_id: v.id, volume_name: v.name } });
}

export const backupRoutes: Route[] = [
  cinderRoute('backups-create', 'POST', '/backups', 'backup:create', create),
  cinderRoute('backups-list', 'GET', '/backups', 'backup:get_all', (ctx) => listing(ctx, false)),
  cinderRoute('backups-detail', 'GET', '/backups/detail', 'backup:get_all', (ctx) => listing(ctx, true)),
  cinderRoute('backups-show', 'GET', '/backups/{backup_id}', 'backup:get', show),
  cinderRoute('backups-delete', 'DELETE', '/backups/{backup_id}', 'backup:delete', (ctx) => deleteBackup(ctx, false)),
  cinderRoute('backups-action', 'POST', '/backups/{backup_id}/action', actionPolicy(BACKUP_ACTION_POLICIES), action),
  cinderRoute('backups-restore', 'POST', '/backups/{backup_id}/restore', 'backup:restore', restore),
];
