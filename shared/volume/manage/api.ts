// Managing existing Azure disks as volumes (cinder/api/contrib/volume_manage.py at every version as
// /os-volume-manage, cinder/api/v3/volume_manage.py as /manageable_volumes from 3.8,
// MANAGE_EXISTING_LIST; resource_common_manage.py; views/manageable_volumes.py), and os-unmanage
// (contrib/volume_unmanage.py, dispatched from volumes/actions.ts). Admin only, as Cinder's
// policies. The rules are ./service.ts, the long halves ./work.ts; docs/volumes.md "Manage".
import type { RequestContext, Route } from '../../http/router';
import { accepted, json } from '../../http/respond';
import { badRequest, notFound } from '../../http/errors';
import { validateBody } from '../../api/validation';
import { booleanSchema, cinderRoute, clusterOrHost, descriptionSchema, getSortParams, limitParam, metadataSchema, offsetParam } from '../common';
import type { VolumePolicy } from '../policy';
import { findSnapshot, findVolume } from '../model';
import { snapshotSummary, volumeDetail } from '../views';
import {
  manageableSnapshots,
  manageableVolumes,
  manageSnapshot,
  manageVolume,
  unmanageSnapshot,
  unmanageVolume,
  volumeServiceFor,
  type ManageBody,
  type ManageableSnapshot,
  type ManageableVolume,
  type SnapshotManageBody,
} from './service';

const MANAGE_EXISTING_LIST = '3.8';
/** The manageable lists take a cluster instead of the host from here (common.get_cluster_host). */
const MANAGE_EXISTING_CLUSTER = '3.17';

/** cinder/api/schemas/volume_manage.py volume_manage_create (3.0-3.15). */
const manageSchema = {
  type: 'object',
  required: ['volume'],
  additionalProperties: false,
  properties: {
    volume: {
      type: 'object',
      required: ['ref'],
      additionalProperties: false,
      properties: {
        description: descriptionSchema,
        availability_zone: { type: ['string', 'null'], minLength: 0, maxLength: 255 },
        bootable: booleanSchema,
        volume_type: { type: ['string', 'null'], minLength: 0, maxLength: 255 },
        name: { type: ['string', 'null'], minLength: 0, maxLength: 255 },
        host: { type: ['string', 'null'], minLength: 1, maxLength: 255, pattern: '^[a-zA-Z0-9-._#@:/+\\[\\]]*$' },
        ref: { type: ['object', 'string'] },
        metadata: { ...metadataSchema(), type: ['object', 'null'] },
      },
    },
  },
};

/** cinder/api/schemas/snapshot_manage.py create. */
const snapshotManageSchema = {
  type: 'object',
  required: ['snapshot'],
  additionalProperties: false,
  properties: {
    snapshot: {
      type: 'object',
      required: ['ref', 'volume_id'],
      additionalProperties: false,
      properties: {
        description: descriptionSchema,
        metadata: { ...metadataSchema(), type: ['object', 'null'] },
        name: { type: ['string', 'null'], minLength: 0, maxLength: 255 },
        ref: { type: ['object', 'null', 'string'] },
        volume_id: { type: 'string', format: 'uuid' },
      },
    },
  },
};

/** Cinder's answer for a method the requested version lacks (VersionNotFoundForAPIMethod). */
const noMethod = () => notFound('The resource could not be found.');
const listable = (ctx: RequestContext) => ctx.microversion?.atLeast(MANAGE_EXISTING_LIST) ?? false;
/** /manageable_volumes: the policy only where the method exists (below 3.8 the 404 comes first). */
const from38 =
  (p: VolumePolicy) =>
  (_b: unknown, ctx: RequestContext): VolumePolicy | 'authenticated' =>
    listable(ctx) ? p : 'authenticated';

/** get_sort_params(default_key='reference'), each direction defaulting to desc; then the lists' own key and direction checks. */
function sortParams(q: URLSearchParams): { key: 'reference' | 'size'; dir: 'asc' | 'desc' }[] {
  const { keys, dirs } = getSortParams(q, 'reference');
  const badKeys = [...new Set(keys.filter((k) => k !== 'reference' && k !== 'size'))];
  if (badKeys.length) throw badRequest(`Invalid sort keys passed: ${badKeys.join(', ')}`);
  const badDirs = [...new Set(dirs.filter((d) => d !== 'asc' && d !== 'desc'))];
  if (badDirs.length) throw badRequest(`Invalid sort dirs passed: ${badDirs.join(', ')}`);
  return keys.map((k, i) => ({ key: k as 'reference' | 'size', dir: dirs[i] as 'asc' | 'desc' }));
}

/** Python's repr of a decoded JSON value, as Cinder's messages show the marker. */
function pyRepr(v: unknown): string {
  if (v === null) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (typeof v === 'string') return `'${v}'`;
  if (Array.isArray(v)) return `[${v.map(pyRepr).join(', ')}]`;
  if (typeof v === 'object')
    return `{${Object.entries(v)
      .map(([k, x]) => `'${k}': ${pyRepr(x)}`)
      .join(', ')}}`;
  return String(v);
}

const sameJson = (a: unknown, b: unknown): boolean => JSON.stringify(a, Object.keys((a ?? {}) as object).sort()) === JSON.stringify(b, Object.keys((b ?? {}) as object).sort());

/** volume_utils.paginate_entries_list: sort (a dict compares by its smallest value), marker (a JSON reference), offset, limit. */
function paginate<E extends ManageableVolume | ManageableSnapshot>(entries: E[], q: URLSearchParams, limit: number, offset: number, sort: ReturnType<typeof sortParams>): E[] {
  const val = (e: E, k: 'reference' | 'size') => (k === 'size' ? e.size : Object.values(e.reference).sort()[0]);
  const sorted = [...entries].sort((a, b) => {
    for (const { key, dir } of sort) {
      const x = val(a, key);
      const y = val(b, key);
      if (x === y) continue;
      return dir === 'asc' ? (x < y ? -1 : 1) : x > y ? -1 : 1;
    }
    return 0;
  });
  let start = 0;
  const raw = q.get('marker');
  if (raw) {
    let marker: unknown;
    try {
      marker = JSON.parse(raw);
    } catch {
      throw badRequest(`Invalid input received: marker ${raw} can not be analysed, please use json like format`);
    }
    const i = sorted.findIndex((e) => sameJson(e.reference, marker));
    if (i < 0) throw badRequest(`Invalid input received: marker not found: ${pyRepr(marker)}`);
    start = i + 1;
  }
  return sorted.slice(start + offset, start + limit + offset);
}

const summary = (e: ManageableVolume | ManageableSnapshot) => ({ reference: e.reference, size: e.size, safe_to_manage: e.safe_to_manage });

/**
 * get_manageable_resources: the target (host, or from 3.17 a cluster), paging and sort checks in
 * Cinder's order, then the service (ServiceNotFound, 404; Jacket's cinder-volume is in no cluster).
 */
async function listQuery(ctx: RequestContext) {
  const q = ctx.query;
  const { host, cluster } = clusterOrHost(ctx, { host: q.get('host'), cluster: q.get('cluster') }, MANAGE_EXISTING_CLUSTER);
  const limit = limitParam(q);
  const offset = offsetParam(q);
  const sort = sortParams(q);
  if (cluster !== undefined) throw notFound('Service cinder-volume could not be found.');
  await volumeServiceFor(ctx.services, host!, () => notFound(`Service cinder-volume could not be found on host ${host}.`));
  return { q, limit, offset, sort };
}

async function list(ctx: RequestContext, detail: boolean) {
  const { q, limit, offset, sort } = await listQuery(ctx);
  const page = paginate(await manageableVolumes(ctx.services), q, limit, offset, sort);
  return json({ 'manageable-volumes': page.map((e) => (detail ? e : summary(e))) });
}

/** The same for snapshots (views/manageable_snapshots.py: source_reference in both lists). */
async function listSnapshots(ctx: RequestContext, detail: boolean) {
  const { q, limit, offset, sort } = await listQuery(ctx);
  const page = paginate(await manageableSnapshots(ctx.services), q, limit, offset, sort);
  return json({ 'manageable-snapshots': page.map((e) => (detail ? e : { ...summary(e), source_reference: e.source_reference })) });
}

/** snapshot_manage.py create: the volume first (404), then the snapshot in creating; 202 with its detail view. */
async function createSnapshot(ctx: RequestContext) {
  const b = validateBody<{ snapshot: SnapshotManageBody }>(snapshotManageSchema, ctx.body).snapshot;
  return accepted({ snapshot: snapshotSummary(await manageSnapshot(ctx, b)) });
}

/** os-unmanage on a snapshot (snapshot_unmanage.py): the snapshot first (404), then delete_snapshot's rules; 202. */
export async function unmanageSnapshotAction(ctx: RequestContext) {
  validateBody({ type: 'object', required: ['os-unmanage'], additionalProperties: false, properties: { 'os-unmanage': {} } }, ctx.body);
  await unmanageSnapshot(ctx, await findSnapshot(ctx, ctx.params.snapshot_id));
  return accepted();
}

/** volume_manage_create_v316 (VOLUME_MIGRATE_CLUSTER): a cluster instead of the host. */
const manageSchemaV316 = {
  ...manageSchema,
  properties: { volume: { ...manageSchema.properties.volume, properties: { ...manageSchema.properties.volume.properties, cluster: { type: ['string', 'null'], minLength: 0, maxLength: 255 } } } },
};

async function create(ctx: RequestContext) {
  const b = validateBody<{ volume: ManageBody }>(ctx.microversion?.atLeast('3.16') ? manageSchemaV316 : manageSchema, ctx.body).volume;
  const { volume, typeName } = await manageVolume(ctx, b, clusterOrHost(ctx, b));
  return accepted({ volume: volumeDetail(ctx, volume, typeName, false) });
}

const v3 = (detail: boolean) => async (ctx: RequestContext) => {
  if (!listable(ctx)) throw noMethod();
  return list(ctx, detail);
};

/** os-unmanage (volume_unmanage.py): the volume first (404), then the delete's rules; 202 with no body. */
export async function unmanageAction(ctx: RequestContext) {
  validateBody({ type: 'object', required: ['os-unmanage'], additionalProperties: false, properties: { 'os-unmanage': {} } }, ctx.body);
  await unmanageVolume(ctx, await findVolume(ctx, ctx.params.volume_id));
  return accepted();
}

export const manageRoutes: Route[] = [
  cinderRoute('manageable-volumes-list', 'GET', '/manageable_volumes', from38('volume_extension:list_manageable'), v3(false)),
  cinderRoute('manageable-volumes-detail', 'GET', '/manageable_volumes/detail', from38('volume_extension:list_manageable'), v3(true)),
  cinderRoute('manageable-volumes-create', 'POST', '/manageable_volumes', from38('volume_extension:volume_manage'), async (ctx) => {
    if (!listable(ctx)) throw noMethod();
    return create(ctx);
  }),
  cinderRoute('os-volume-manage-list', 'GET', '/os-volume-manage', 'volume_extension:list_manageable', (ctx) => list(ctx, false)),
  cinderRoute('os-volume-manage-detail', 'GET', '/os-volume-manage/detail', 'volume_extension:list_manageable', (ctx) => list(ctx, true)),
  cinderRoute('os-volume-manage-create', 'POST', '/os-volume-manage', 'volume_extension:volume_manage', create),
  cinderRoute('manageable-snapshots-list', 'GET', '/manageable_snapshots', from38('snapshot_extension:list_manageable'), async (ctx) => {
    if (!listable(ctx)) throw noMethod();
    return listSnapshots(ctx, false);
  }),
  cinderRoute('manageable-snapshots-detail', 'GET', '/manageable_snapshots/detail', from38('snapshot_extension:list_manageable'), async (ctx) => {
    if (!listable(ctx)) throw noMethod();
    return listSnapshots(ctx, true);
  }),
  cinderRoute('manageable-snapshots-create', 'POST', '/manageable_snapshots', from38('snapshot_extension:snapshot_manage'), async (ctx) => {
    if (!listable(ctx)) throw noMethod();
    return createSnapshot(ctx);
  }),
  cinderRoute('os-snapshot-manage-list', 'GET', '/os-snapshot-manage', 'snapshot_extension:list_manageable', (ctx) => listSnapshots(ctx, false)),
  cinderRoute('os-snapshot-manage-detail', 'GET', '/os-snapshot-manage/detail', 'snapshot_extension:list_manageable', (ctx) => listSnapshots(ctx, true)),
  cinderRoute('os-snapshot-manage-create', 'POST', '/os-snapshot-manage', 'snapshot_extension:snapshot_manage', createSnapshot),
];
