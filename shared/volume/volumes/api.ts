// /volumes: Cinder's volume API at 3.0 — create (empty, from a snapshot, from another volume), list,
// list detailed (filters, sort, marker/limit), show, update, delete. Each volume is a managed disk
// volume-<id>; the ARM work runs on the work queue (./work.ts), the API records intent and answers 202.
// The controller: parse, validate, render; the rules of create and delete are ./service.ts.
import type { RequestContext, Route } from '../../http/router';
import { json, accepted } from '../../http/respond';
import { badRequest, notFound } from '../../http/errors';
import { schemaAt, validateBody, type SchemaByVersion } from '../../api/validation';
import { authorize, isAdmin } from '../../api/policy';
import { pageRequest, nextLinks } from '../../api/pagination';
import { odata } from '../../store/tables';
import {
  boolParam,
  booleanSchema,
  cinderRoute,
  cinderTime,
  collectionUrl,
  compareBy,
  getBoolParam,
  metadataSchema,
  optionalTextSchema,
  pageAfter,
  offsetParam,
  parseMetadataFilter,
  projectOf,
  sortParams,
} from '../common';
import { ensureVolumeCopies, findVolume, volumeOrderKey, volumeTables, type VolumeRecord } from '../model';
import { createVolume, deleteVolume, trimmed, type CreateBody } from './service';
import { typeStore } from '../types/store';
import { COMMON_LIKE_COLUMNS, PAGE_KEYS, consumesQuota, generalFiltering, likeColumn, likeMatches, queryFilters, timeFilter, withCount, type TimeFilter } from '../filters';
import { volumeDetail, volumeSummary } from '../views';

const uuidOrNull = { oneOf: [{ type: 'null' }, { type: 'string', format: 'uuid' }] };

/** volumes.create (Cinder 3.0–3.12): extra keys inside "volume" are tolerated, as upstream. */
const createSchema = {
  type: 'object',
  required: ['volume'],
  additionalProperties: false,
  properties: {
    'OS-SCH-HNT:scheduler_hints': { type: ['object', 'null'] },
    volume: {
      type: 'object',
      additionalProperties: true,
      properties: {
        availability_zone: { type: ['string', 'null'], minLength: 1, maxLength: 255 },
        consistencygroup_id: uuidOrNull,
        description: optionalTextSchema,
        display_description: optionalTextSchema,
        display_name: optionalTextSchema,
        imageRef: { type: ['string', 'null'], minLength: 0, maxLength: 255 },
        image_id: { type: ['string', 'null'], minLength: 0, maxLength: 255 },
        metadata: { ...metadataSchema(), type: ['object', 'null'] },
        multiattach: { oneOf: [{ type: 'null' }, booleanSchema] },
        name: optionalTextSchema,
        size: { type: ['integer', 'string', 'null'], pattern: '^[0-9]+$', minimum: 1, maximum: 2147483647 },
        snapshot_id: uuidOrNull,
        source_volid: uuidOrNull,
        volume_type: { type: ['string', 'null'], minLength: 0, maxLength: 255 },
      },
    },
  },
};

/** create_volume_v313 (3.13 GROUP_VOLUME): group_id; create_volume_v347 (3.47 VOLUME_CREATE_FROM_BACKUP): backup_id. */
const withVolumeProps = (base: typeof createSchema, props: Record<string, object>) => ({
  ...base,
  properties: { ...base.properties, volume: { ...base.properties.volume, properties: { ...base.properties.volume.properties, ...props } } },
});
const createSchema313 = withVolumeProps(createSchema, { group_id: { type: ['string', 'null'], minLength: 0, maxLength: 255 } });
const createSchema347 = withVolumeProps(createSchema313, { backup_id: uuidOrNull });
/** SUPPORT_VOLUME_SCHEMA_CHANGES (3.53): create_volume_v353 refuses keys it does not name. */
export const SUPPORT_VOLUME_SCHEMA_CHANGES = '3.53';
const createSchema353 = { ...createSchema347, properties: { ...createSchema347.properties, volume: { ...createSchema347.properties.volume, additionalProperties: false } } };
const CREATE_SCHEMAS: SchemaByVersion = [
  ['3.0', createSchema],
  ['3.13', createSchema313],
  ['3.47', createSchema347],
  [SUPPORT_VOLUME_SCHEMA_CHANGES, createSchema353],
];

/** volumes.update (3.0–3.52). */
const updateSchema = {
  type: 'object',
  required: ['volume'],
  additionalProperties: false,
  properties: {
    volume: {
      type: 'object',
      additionalProperties: false,
      properties: {
        description: optionalTextSchema,
        display_description: optionalTextSchema,
        display_name: optionalTextSchema,
        metadata: metadataSchema(),
        name: optionalTextSchema,
      },
    },
  },
};
/** update_v353: at least one of the keys (an empty `volume` is 400). */
const updateSchema353 = {
  ...updateSchema,
  properties: {
    volume: {
      ...updateSchema.properties.volume,
      anyOf: ['name', 'description', 'display_name', 'display_description', 'metadata'].map((k) => ({ required: [k] })),
    },
  },
};
const UPDATE_SCHEMAS: SchemaByVersion = [
  ['3.0', updateSchema],
  [SUPPORT_VOLUME_SCHEMA_CHANGES, updateSchema353],
];

async function typeNames(ctx: RequestContext): Promise<Map<string, string>> {
  return new Map((await typeStore(ctx.services).list()).map((t) => [t.id, t.name]));
}

async function create(ctx: RequestContext) {
  const b = validateBody<{ volume: CreateBody }>(schemaAt(ctx.microversion, CREATE_SCHEMAS), ctx.body).volume;
  const { volume, typeName } = await createVolume(ctx, b);
  return accepted({ volume: volumeDetail(ctx, volume, typeName, false) });
}

const FILTERS = ['name', 'status', 'metadata', 'bootable', 'migration_status', 'availability_zone', 'group_id', 'size', 'created_at', 'updated_at', 'consumes_quota'];
const SORT_KEYS = ['id', 'name', 'size', 'status', 'created_at', 'updated_at', 'availability_zone', 'bootable', 'display_name'];

/**
 * Filters Cinder pops before the version that brings them (cinder/api/v3/volumes.py _MV_ADDED_FILTERS):
 * below it the key is ignored, for admins too. From 3.31 these pops are skipped (the generic filters
 * take their place), so created_at, updated_at and consumes_quota filter from 3.31 on.
 */
const MV_ADDED_FILTERS: [string, string][] = [
  ['glance_metadata', '3.4'],
  ['group_id', '3.10'],
  ['created_at', '3.60'],
  ['updated_at', '3.60'],
  ['consumes_quota', '3.65'],
];

/** Volume columns a `key~` (LIKE) filter may name, and the record's field for each (filters.ts likeColumn). */
const LIKE_COLUMNS: Record<string, keyof VolumeRecord> = {
  ...COMMON_LIKE_COLUMNS,
  attach_status: 'attach_status',
  migration_status: 'migration_status',
  availability_zone: 'availability_zone',
  volume_type_id: 'volume_type_id',
  snapshot_id: 'snapshot_id',
  source_volid: 'source_volid',
  group_id: 'group_id',
};

/**
 * The query the list reads: below 3.31 without the filters this microversion does not know yet; from
 * 3.31 checked by the generic resource filters (a member's unknown key is a 400, all_tenants dropped).
 * `with_count` is the count's switch from 3.45, a filter (an unknown column) below.
 */
function versionedQuery(ctx: RequestContext): { q: URLSearchParams; general: boolean } {
  const q = new URLSearchParams(ctx.query);
  if (withCount(ctx) !== undefined) q.delete('with_count');
  const filters = queryFilters(q);
  const general = generalFiltering(ctx, filters, 'volume');
  if (general) {
    if (!filters.has('all_tenants')) q.delete('all_tenants');
  } else {
    for (const [key, since] of MV_ADDED_FILTERS) if (!ctx.microversion?.atLeast(since)) q.delete(key);
  }
  return { q, general };
}

/**
 * The bootable filter as check_volume_filters reads it (cinder/volume/api.py _check_boolean_filter_value):
 * before 3.2 only False/false/FALSE is false and any other non-empty value true; from 3.2 (VOLUME_LIST_BOOTABLE)
 * oslo's strict bool_from_string, anything else 400 `Invalid input received: 'bootable = <value>'`.
 */
function bootableFilter(ctx: RequestContext, raw: string): boolean {
  if (ctx.microversion?.atLeast('3.2')) {
    const s = raw.trim().toLowerCase();
    if (['1', 't', 'true', 'on', 'y', 'yes'].includes(s)) return true;
    if (['0', 'f', 'false', 'off', 'n', 'no'].includes(s)) return false;
    throw badRequest(`Invalid input received: 'bootable = ${raw}'`);
  }
  if (['False', 'false', 'FALSE'].includes(raw)) return false;
  return raw !== '';
}

/** A dict filter (glance_metadata) as ast.literal_eval reads it; anything but a dict matches nothing (cinder/db/api.py). */
function dictFilter(raw: string): Record<string, string> | undefined {
  try {
    return parseMetadataFilter(raw);
  } catch {
    return undefined;
  }
}

/** The records a list call covers: the project's partition; admins may name another project. */
async function listRecords(ctx: RequestContext, f: VolumeFilters): Promise<VolumeRecord[] | undefined> {
  const q = f.q;
  const admin = isAdmin(ctx.auth!);
  const t = volumeTables(ctx.services);
  const filters: string[] = [];
  for (const k of q.keys()) {
    if (FILTERS.includes(k) || PAGE_KEYS.includes(k)) continue;
    // glance_metadata is not among the filters members may use (resource_filters.json), so it is dropped
    // for them; an admin's reaches the database.
    if (k === 'glance_metadata') continue;
    if (admin && (k === 'all_tenants' || k === 'project_id')) continue;
    if (k.endsWith('~') && likeColumn(k, f.general, LIKE_COLUMNS)) continue;
    // Non-admins' unknown filters are dropped (remove_invalid_filter_options; from 3.31 they are a 400
    // before this); an admin's reach the database, where an unknown column matches nothing.
    if (admin) return undefined;
  }
  if (q.has('status')) filters.push(odata`status eq ${q.get('status')!}`);
  if (q.has('name')) filters.push(odata`name eq ${q.get('name')!}`);
  const filter = filters.length ? filters.join(' and ') : undefined;
  let projects = [projectOf(ctx)];
  if (admin && q.has('all_tenants') && boolParam(q.get('all_tenants'), 'all_tenants')) {
    if (q.has('project_id')) projects = [q.get('project_id')!];
    else projects = [...new Set((await t.index.list('volume')).map((r) => r.value.project_id))];
  }
  const out: VolumeRecord[] = [];
  for (const p of projects) for (const r of await t.volumes.list(p, filter)) out.push(r.value);
  return out;
}

/** The parsed filters of a list call (checked before anything is read, as Cinder checks them first). */
interface VolumeFilters {
  q: URLSearchParams;
  /** From 3.31: the generic resource filters applied (volumes.py's general branch). */
  general: boolean;
  bootable?: boolean;
  glanceMetadata?: Record<string, string> | null;
  /** created_at / updated_at comparisons (from 3.31, see MV_ADDED_FILTERS). */
  times: [field: 'created_at' | 'updated_at', TimeFilter][];
  /** consumes_quota, read as use_quota (filters.ts consumesQuota). */
  useQuota?: boolean;
}

function volumeFilters(ctx: RequestContext): VolumeFilters {
  const { q, general } = versionedQuery(ctx);
  const f: VolumeFilters = { q, general, times: [] };
  for (const field of ['created_at', 'updated_at'] as const) if (q.get(field)) f.times.push([field, timeFilter(q.get(field)!)]);
  f.useQuota = consumesQuota(q, general);
  if (q.has('bootable')) f.bootable = bootableFilter(ctx, q.get('bootable')!);
  if (q.has('glance_metadata') && isAdmin(ctx.auth!)) f.glanceMetadata = dictFilter(q.get('glance_metadata')!) ?? null;
  return f;
}

function matches(v: VolumeRecord, f: VolumeFilters): boolean {
  const q = f.q;
  if (q.has('metadata')) {
    const want = parseMetadataFilter(q.get('metadata')!);
    if (!Object.entries(want).every(([k, x]) => v.metadata[k] === x)) return false;
  }
  if (f.bootable !== undefined && v.bootable !== f.bootable) return false;
  if (f.glanceMetadata !== undefined) {
    const want = f.glanceMetadata;
    if (want === null || !Object.entries(want).every(([k, x]) => v.image_metadata?.[k] !== undefined && String(v.image_metadata[k]) === x)) return false;
  }
  if (q.has('availability_zone') && v.availability_zone !== q.get('availability_zone')) return false;
  if (q.has('size') && String(v.size) !== q.get('size')) return false;
  if (q.has('migration_status') && (v.migration_status ?? '') !== q.get('migration_status')) return false;
  // group_id=None (literal_eval's None, IS NULL) names the volumes in no group.
  if (q.has('group_id') && (q.get('group_id') === 'None' ? !!v.group_id : v.group_id !== q.get('group_id'))) return false;
  if (f.useQuota === false) return false;
  if (!f.times.every(([field, t]) => t(v[field]))) return false;
  for (const [k, x] of q.entries()) {
    const col = k.endsWith('~') ? likeColumn(k, f.general, LIKE_COLUMNS) : undefined;
    if (col && col !== 'skip' && !likeMatches(v[col], x)) return false;
  }
  return true;
}

/** Query keys the ordered page serves; any other (a filter, all_tenants, with_count) takes the full read. */
const ORDERED_KEYS = ['limit', 'marker', 'offset', 'sort', 'sort_key', 'sort_dir'];
const markerNotFound = (m: string) => notFound(`Marker ${m} could not be found.`);

/**
 * The page in Cinder's default order (created_at desc, id desc) from the volumes' ordered copies
 * (model.ts): one range query after the marker's key, whole records. Reads offset + limit volumes,
 * whatever the project holds.
 */
async function orderedPage(ctx: RequestContext, limit: number, marker: string | undefined, offset: number): Promise<VolumeRecord[]> {
  const s = ctx.services;
  const t = volumeTables(s);
  const project = projectOf(ctx);
  await ensureVolumeCopies(s);
  let after: string | undefined;
  if (marker !== undefined) {
    const m = await t.volumes.get(project, marker);
    if (!m) throw markerNotFound(marker);
    after = volumeOrderKey(m.value);
  }
  const rows = await t.volumes.copyPage(project, { limit: offset + limit, after });
  return rows.slice(offset).map((r) => r.value);
}

async function listing(ctx: RequestContext, detailed: boolean) {
  const page = pageRequest(ctx.query);
  const sort = sortParams(ctx.query, SORT_KEYS);
  const offset = offsetParam(ctx.query);
  const defaultOrder = sort.length === 2 && sort[0].key === 'created_at' && sort[0].dir === 'desc' && sort[1].key === 'id' && sort[1].dir === 'desc';
  let items: VolumeRecord[];
  const count = withCount(ctx);
  const filters = volumeFilters(ctx);
  let total: number | undefined;
  if (defaultOrder && !count && [...filters.q.keys()].every((k) => ORDERED_KEYS.includes(k))) {
    items = await orderedPage(ctx, page.limit, page.marker, offset);
  } else {
    // Other sort keys, filters, all_tenants and with_count: the project's (or projects')
    // records read whole, filtered, sorted and sliced here.
    const all = ((await listRecords(ctx, filters)) ?? []).filter((v) => matches(v, filters));
    all.sort(compareBy<VolumeRecord>(sort, (v, k) => (k === 'display_name' ? v.name : (v as unknown as Record<string, unknown>)[k])));
    items = pageAfter(all, page.marker, page.limit, markerNotFound, offset);
    // calculate_resource_count: the filtered records, before the page.
    if (count) total = all.length;
  }
  const names = detailed ? await typeNames(ctx) : undefined;
  const body: Record<string, unknown> = {
    volumes: items.map((v) => (detailed ? volumeDetail(ctx, v, names!.get(v.volume_type_id) ?? v.volume_type_id) : volumeSummary(ctx, v))),
  };
  const links = nextLinks(collectionUrl(ctx, detailed ? '/volumes/detail' : '/volumes'), ctx.query, items, page);
  if (links) body.volumes_links = links;
  if (total !== undefined) body.count = total;
  return json(body);
}

async function show(ctx: RequestContext) {
  const v = (await findVolume(ctx, ctx.params.volume_id)).value;
  const type = await typeStore(ctx.services).get(v.volume_type_id);
  return json({ volume: volumeDetail(ctx, v, type?.value.name ?? v.volume_type_id) });
}

async function update(ctx: RequestContext) {
  const b = validateBody<{ volume: { name?: string | null; display_name?: string | null; description?: string | null; display_description?: string | null; metadata?: Record<string, string> } }>(
    schemaAt(ctx.microversion, UPDATE_SCHEMAS),
    ctx.body,
  ).volume;
  const cur = await findVolume(ctx, ctx.params.volume_id);
  const t = volumeTables(ctx.services);
  const stored = await t.volumes.update(cur.partitionKey, cur.rowKey, (v) => ({
    ...v,
    ...('name' in b || 'display_name' in b ? { name: trimmed(b.name ?? b.display_name) } : {}),
    ...('description' in b || 'display_description' in b ? { description: trimmed(b.description ?? b.display_description) } : {}),
    ...(b.metadata ? { metadata: b.metadata } : {}),
    updated_at: cinderTime(),
  }));
  if (!stored) throw notFound(`Volume ${ctx.params.volume_id} could not be found.`);
  const type = await typeStore(ctx.services).get(stored.value.volume_type_id);
  return json({ volume: volumeDetail(ctx, stored.value, type?.value.name ?? stored.value.volume_type_id, false) });
}

// Cinder's list, plus error_deleting: a delete given up (its retry budget spent) is retried by a later
// DELETE, where Cinder wants os-reset_status or os-force_delete first (docs/volumes.md).
/**
 * DELETE /volumes/{id}[?cascade=true][&force=true]: 202 once the delete is queued (rules in ./service.ts).
 * `force` from 3.23 (VOLUME_DELETE_FORCE): no status condition, as os-force_delete, for callers passing
 * volume:force_delete (admin), asked once the volume is found.
 */
async function remove(ctx: RequestContext) {
  const cascade = getBoolParam(ctx.query, 'cascade');
  const force = ctx.microversion?.atLeast('3.23') ? getBoolParam(ctx.query, 'force') : false;
  const cur = await findVolume(ctx, ctx.params.volume_id);
  if (force) authorize(ctx, 'volume:force_delete', { projectId: cur.value.project_id });
  await deleteVolume(ctx, cur, cascade, force);
  return accepted();
}

export const volumeRoutes: Route[] = [
  cinderRoute('volumes-create', 'POST', '/volumes', 'volume:create', create),
  cinderRoute('volumes-list', 'GET', '/volumes', 'volume:get_all', (ctx) => listing(ctx, false)),
  cinderRoute('volumes-detail', 'GET', '/volumes/detail', 'volume:get_all', (ctx) => listing(ctx, true)),
  cinderRoute('volumes-show', 'GET', '/volumes/{volume_id}', 'volume:get', show),
  cinderRoute('volumes-update', 'PUT', '/volumes/{volume_id}', 'volume:update', update),
  cinderRoute('volumes-delete', 'DELETE', '/volumes/{volume_id}', 'volume:delete', remove),
];
