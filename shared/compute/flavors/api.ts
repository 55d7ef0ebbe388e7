// /flavors: Nova's flavor API (flavors.py, with flavor_manage merged in): list, list details, show for
// everyone (private flavors only to projects given access, and to admins); create and delete for admins.
import { randomUUID } from 'node:crypto';
import type { RequestContext, Route } from '../../http/router';
import { json } from '../../http/respond';
import { badRequest } from '../../http/errors';
import { schemaAt, validateBody, type SchemaByVersion } from '../../api/validation';
import { allowed, isAdmin } from '../../api/policy';
import { nextLinks, MAX_LIMIT } from '../../api/pagination';
import type { Microversion } from '../../api/microversion';
import { odata } from '../../store/tables';
import { computeRoute, computeUrl } from '../common';
import { description } from '../servers/schemas';
import { ensureSeeded, flavorRepo, getFlavor, getVisibleFlavor, accessibleFlavorIds, insertFlavor, deleteFlavor, flavorNotFound, updateFlavor, visibleTo, PK_FLAVOR, type FlavorRecord } from './store';
import { strictQuery } from '../../http/router';

const MAX_INT = 2147483647;
const intOrDigits = (min: number) => ({ type: ['integer', 'string'], pattern: '^[0-9]+$', minimum: min, maximum: MAX_INT });
const BOOLEAN_STRINGS = [true, 'True', 'TRUE', 'true', '1', 'ON', 'On', 'on', 'YES', 'Yes', 'yes', false, 'False', 'FALSE', 'false', '0', 'OFF', 'Off', 'off', 'NO', 'No', 'no'];

/** flavors.create at 2.1-2.54 (nova/api/openstack/compute/schemas/flavors.py). */
export const createSchema = {
  type: 'object',
  properties: {
    flavor: {
      type: 'object',
      properties: {
        name: { type: 'string', format: 'name', minLength: 1, maxLength: 255 },
        id: { type: ['string', 'number', 'null'], minLength: 1, maxLength: 255, pattern: '^(?! )[a-zA-Z0-9. _-]+(?<! )$' },
        ram: intOrDigits(1),
        vcpus: intOrDigits(1),
        disk: intOrDigits(0),
        'OS-FLV-EXT-DATA:ephemeral': intOrDigits(0),
        swap: intOrDigits(0),
        rxtx_factor: { type: ['number', 'string'], pattern: '^[0-9]+(\\.[0-9]+)?$', exclusiveMinimum: 0, maximum: 3.40282e38 },
        'os-flavor-access:is_public': { type: ['boolean', 'string'], enum: BOOLEAN_STRINGS },
      },
      required: ['name', 'ram', 'vcpus', 'disk'],
      additionalProperties: false,
    },
  },
  required: ['flavor'],
  additionalProperties: false,
};

/** A flavor's description (2.55): parameter_types.description's printable rule, up to 65535 characters. */
const flavorDescription = { ...description, maxLength: 65535 };

/** flavors.create by microversion: create_v255 adds the description. */
const createSchemas: SchemaByVersion = [
  ['2.1', createSchema],
  ['2.55', { ...createSchema, properties: { flavor: { ...createSchema.properties.flavor, properties: { ...createSchema.properties.flavor.properties, description: flavorDescription } } } }],
];

/** flavors.update (2.55): the description only, and it is required. */
const updateSchema = {
  type: 'object',
  properties: { flavor: { type: 'object', properties: { description: flavorDescription }, required: ['description'], additionalProperties: false } },
  required: ['flavor'],
  additionalProperties: false,
};

const SORT_KEYS = [
  'created_at',
  'description',
  'disabled',
  'ephemeral_gb',
  'flavorid',
  'id',
  'is_public',
  'memory_mb',
  'name',
  'root_gb',
  'rxtx_factor',
  'swap',
  'updated_at',
  'vcpu_weight',
  'vcpus',
] as const;
type SortKey = (typeof SORT_KEYS)[number];

// oslo.utils strutils.bool_from_string(strict=True)
const TRUE_STRINGS = ['1', 't', 'true', 'on', 'y', 'yes'];
const FALSE_STRINGS = ['0', 'f', 'false', 'off', 'n', 'no'];
export function boolFromString(v: string | boolean): boolean | undefined {
  if (typeof v === 'boolean') return v;
  const s = v.trim().toLowerCase();
  if (TRUE_STRINGS.includes(s)) return true;
  if (FALSE_STRINGS.includes(s)) return false;
  return undefined;
}

const pyList = (xs: readonly string[]) => `[${xs.map((x) => `'${x}'`).join(', ')}]`;
const queryError = (name: string, value: string, message: string) => badRequest(`Invalid input for query parameters ${name}. Value: ${value}. ${message}`);

interface ListQuery {
  sortKey: SortKey;
  sortDir: 'asc' | 'desc';
  limit: number;
  explicitLimit: boolean;
  marker?: string;
  /** true: public (plus shared); false: private only; null: all (admin only). */
  isPublic: boolean | null;
  minRam?: number;
  minDisk?: number;
}

/** flavors.index_query (2.1-2.74): every value of a repeated parameter is checked; the last one counts. */
function parseListQuery(ctx: RequestContext): ListQuery {
  const q = ctx.query;
  for (const v of q.getAll('sort_key')) if (!(SORT_KEYS as readonly string[]).includes(v)) throw queryError('sort_key', v, `'${v}' is not one of ${pyList(SORT_KEYS)}`);
  for (const v of q.getAll('sort_dir')) if (v !== 'asc' && v !== 'desc') throw queryError('sort_dir', v, `'${v}' is not one of ['asc', 'desc']`);
  for (const v of q.getAll('limit')) {
    if (v.length === 0) throw queryError('limit', v, `'' is too short`);
    if (!/^[0-9]*$/.test(v)) throw queryError('limit', v, `'${v}' does not match '^[0-9]*$'`);
  }
  const last = (k: string) => {
    const all = q.getAll(k);
    return all.length ? all[all.length - 1] : undefined;
  };
  const rawLimit = last('limit');
  // Nova: limit = min(max_limit, limit); 0 means no limit in the flavor query.
  const limit = rawLimit === undefined || Number(rawLimit) === 0 ? MAX_LIMIT : Math.min(Number(rawLimit), MAX_LIMIT);
  const out: ListQuery = {
    sortKey: (last('sort_key') || 'flavorid') as SortKey,
    sortDir: (last('sort_dir') || 'asc') as 'asc' | 'desc',
    limit,
    explicitLimit: rawLimit !== undefined && Number(rawLimit) > 0,
    marker: last('marker'),
    isPublic: true,
  };
  const admin = ctx.auth !== undefined && isAdmin(ctx.auth);
  const isPublic = last('is_public');
  if (admin && isPublic !== undefined) {
    if (isPublic.toLowerCase() === 'none') out.isPublic = null;
    else {
      const b = boolFromString(isPublic);
      if (b === undefined) throw badRequest(`Invalid is_public filter [${isPublic}]`);
      out.isPublic = b;
    }
  }
  for (const [param, key] of [
    ['minRam', 'minRam'],
    ['minDisk', 'minDisk'],
  ] as const) {
    const v = last(param);
    if (v === undefined) continue;
    // Python's int(): optional sign and surrounding blanks
    if (!/^\s*[-+]?\d+\s*$/.test(v)) throw badRequest(`Invalid ${param} filter [${v}]`);
    out[key] = Number(v.trim());
  }
  return out;
}

// ---- views (nova/api/openstack/compute/views/flavors.py) ----

function links(ctx: RequestContext, id: string) {
  const base = ctx.services.config.publicUrl;
  return [
    { rel: 'self', href: computeUrl(ctx, `/flavors/${encodeURIComponent(id)}`) },
    { rel: 'bookmark', href: `${base}/compute/flavors/${encodeURIComponent(id)}` },
  ];
}

export function basicView(ctx: RequestContext, f: FlavorRecord) {
  const v: Record<string, unknown> = { id: f.flavorid, name: f.name, links: links(ctx, f.flavorid) };
  if (ctx.microversion?.atLeast('2.55')) v.description = f.description;
  return v;
}

/** The full flavor view at the request's microversion (extra_specs from 2.61, integer swap from 2.75). */
export function flavorView(ctx: RequestContext, f: FlavorRecord) {
  const mv: Microversion | undefined = ctx.microversion;
  const v: Record<string, unknown> = {
    id: f.flavorid,
    name: f.name,
    ram: f.memory_mb,
    disk: f.root_gb,
    swap: mv?.atLeast('2.75') ? f.swap : f.swap || '',
    'OS-FLV-EXT-DATA:ephemeral': f.ephemeral_gb,
    'OS-FLV-DISABLED:disabled': f.disabled,
    vcpus: f.vcpus,
    'os-flavor-access:is_public': f.is_public,
    rxtx_factor: mv?.atLeast('2.75') ? f.rxtx_factor : f.rxtx_factor || '',
    links: links(ctx, f.flavorid),
  };
  if (mv?.atLeast('2.55')) v.description = f.description;
  // 2.61: the extra specs, for callers passing os-flavor-extra-specs:index on their own project (Nova's
  // context.can(..., fatal=False) with the default target); the key is left out for everyone else.
  if (mv?.atLeast('2.61') && allowed(ctx, 'os_compute_api:os-flavor-extra-specs:index')) v.extra_specs = { ...f.extra_specs };
  return v;
}

// ---- listing ----

function sortValue(f: FlavorRecord, k: SortKey): string | number | boolean | null {
  switch (k) {
    case 'flavorid':
      return f.flavorid;
    case 'id':
    case 'created_at':
      return f.created_at;
    case 'memory_mb':
    case 'vcpus':
    case 'swap':
    case 'rxtx_factor':
    case 'disabled':
    case 'is_public':
    case 'name':
    case 'description':
    case 'updated_at':
      return f[k];
    case 'root_gb':
      return f.root_gb;
    case 'ephemeral_gb':
      return f.ephemeral_gb;
    case 'vcpu_weight':
      return null;
  }
}

/** Orders as Nova's paginate_query with [sort_key, id] in one direction; NULL sorts first, as in MySQL. */
function comparator(key: SortKey, dir: 'asc' | 'desc') {
  const cmp = (a: unknown, b: unknown): number => {
    if (a === b) return 0;
    if (a === null || a === undefined) return -1;
    if (b === null || b === undefined) return 1;
    if (typeof a === 'boolean' || typeof a === 'number') return Number(a) - Number(b);
    return String(a) < String(b) ? -1 : 1;
  };
  const sign = dir === 'asc' ? 1 : -1;
  return (x: FlavorRecord, y: FlavorRecord) => sign * (cmp(sortValue(x, key), sortValue(y, key)) || cmp(x.created_at, y.created_at) || cmp(x.flavorid, y.flavorid));
}

async function listFlavors(ctx: RequestContext, q: ListQuery): Promise<FlavorRecord[]> {
  const s = ctx.services;
  await ensureSeeded(s);
  const repo = flavorRepo(s);
  const admin = ctx.auth !== undefined && isAdmin(ctx.auth);
  const projectId = ctx.auth?.projectId;
  const order = comparator(q.sortKey, q.sortDir);

  let marker: FlavorRecord | undefined;
  if (q.marker !== undefined) {
    const m = await repo.get(PK_FLAVOR, q.marker);
    if (!m || !visibleTo(m.value, ctx.auth)) throw badRequest(`marker [${q.marker}] not found`);
    marker = m.value;
  }

  // Filters that run in the table query; the same predicate re-checks rows fetched by key.
  const parts: string[] = [];
  if (q.isPublic !== null) parts.push(odata`is_public eq ${q.isPublic}`);
  if (!admin) parts.push(odata`disabled eq ${false}`);
  if (q.minRam !== undefined) parts.push(odata`memory_mb ge ${q.minRam}`);
  if (q.minDisk !== undefined) parts.push(odata`root_gb ge ${q.minDisk}`);
  const matches = (f: FlavorRecord) => (admin || !f.disabled) && (q.minRam === undefined || f.memory_mb >= q.minRam) && (q.minDisk === undefined || f.root_gb >= q.minDisk);

  // The default order (flavorid ascending) is the table's RowKey order: read just one page after the marker.
  const tableOrder = q.sortKey === 'flavorid' && q.sortDir === 'asc';
  const filter = parts.length ? parts.join(' and ') : undefined;
  const rows = tableOrder ? await repo.page(PK_FLAVOR, { filter, limit: q.limit, afterRowKey: marker?.flavorid }) : await repo.list(PK_FLAVOR, filter);
  const found = new Map(rows.map((r) => [r.value.flavorid, r.value]));

  // Public listings also show private flavors shared with the caller's project (Nova's is_public OR access).
  if (q.isPublic === true && projectId) {
    for (const id of await accessibleFlavorIds(s, projectId)) {
      if (found.has(id) || (tableOrder && marker && id <= marker.flavorid)) continue;
      const f = (await repo.get(PK_FLAVOR, id))?.value;
      if (f && !f.is_public && f.projects.includes(projectId) && matches(f)) found.set(id, f);
    }
  }
  let all = [...found.values()].sort(order);
  if (marker) all = all.filter((f) => order(f, marker!) > 0);
  return all.slice(0, q.limit);
}

async function listResponse(ctx: RequestContext, detail: boolean) {
  const q = parseListQuery(ctx);
  const flavors = await listFlavors(ctx, q);
  const body: Record<string, unknown> = { flavors: flavors.map((f) => (detail ? flavorView(ctx, f) : basicView(ctx, f))) };
  const next = q.explicitLimit
    ? nextLinks(
        computeUrl(ctx, detail ? '/flavors/detail' : '/flavors'),
        ctx.query,
        flavors.map((f) => ({ id: f.flavorid })),
        { limit: q.limit, marker: q.marker },
      )
    : undefined;
  if (next) body.flavors_links = next;
  return json(body);
}

const index = (ctx: RequestContext) => listResponse(ctx, false);
const detail = (ctx: RequestContext) => listResponse(ctx, true);

async function show(ctx: RequestContext) {
  const f = await getVisibleFlavor(ctx, ctx.params.id);
  return json({ flavor: flavorView(ctx, f.value) });
}

interface CreateBody {
  flavor: {
    name: string;
    id?: string | number | null;
    ram: number | string;
    vcpus: number | string;
    disk: number | string;
    'OS-FLV-EXT-DATA:ephemeral'?: number | string;
    swap?: number | string;
    rxtx_factor?: number | string;
    'os-flavor-access:is_public'?: boolean | string;
    /** 2.55. */
    description?: string | null;
  };
}

/** nova.utils.validate_integer: digit strings are accepted by the schema and converted here. */
function integerOf(v: number | string, name: string, min: number): number {
  const n = typeof v === 'number' ? v : Number(v);
  if (!Number.isInteger(n)) throw badRequest(`Invalid input received: ${name} must be an integer`);
  if (n < min) throw badRequest(`Invalid input received: ${name} must be >= ${min}`);
  if (n > MAX_INT) throw badRequest(`Invalid input received: ${name} must be <= ${MAX_INT}`);
  return n;
}

async function create(ctx: RequestContext) {
  const b = validateBody<CreateBody>(schemaAt(ctx.microversion, createSchemas), ctx.body).flavor;
  const s = ctx.services;
  await ensureSeeded(s);
  const rxtx = Number(b.rxtx_factor ?? 1.0);
  if (!(rxtx > 0) || rxtx > 3.40282e38) throw badRequest("Invalid input received: 'rxtx_factor' argument must be a float between 0 and 3.40282e+38");
  const now = new Date().toISOString();
  const f: FlavorRecord = {
    // Nova stores the id as a string; a JSON number id becomes its decimal text.
    flavorid: b.id === undefined || b.id === null || b.id === '' ? randomUUID() : String(b.id),
    name: b.name.trim(),
    memory_mb: integerOf(b.ram, 'ram', 1),
    vcpus: integerOf(b.vcpus, 'vcpus', 1),
    root_gb: integerOf(b.disk, 'disk', 0),
    ephemeral_gb: integerOf(b['OS-FLV-EXT-DATA:ephemeral'] ?? 0, 'ephemeral', 0),
    swap: integerOf(b.swap ?? 0, 'swap', 0),
    rxtx_factor: rxtx,
    is_public: boolFromString(b['os-flavor-access:is_public'] ?? true) ?? true,
    disabled: false,
    description: b.description ?? null,
    // No azure:vm_size yet: the flavor cannot boot until an admin sets one (openstack flavor create
    // --property azure:vm_size=... does so right after this call, through os-extra_specs).
    extra_specs: {},
    // Nova does not give the creating project access to its private flavor (bug 1209101); neither do we.
    projects: [],
    created_at: now,
    updated_at: null,
  };
  await insertFlavor(s, f);
  return json({ flavor: flavorView(ctx, f) });
}

async function remove(ctx: RequestContext) {
  const s = ctx.services;
  const cur = await getFlavor(s, ctx.params.id);
  if (!cur) throw flavorNotFound(ctx.params.id);
  await deleteFlavor(s, cur);
  return { status: 202, headers: {}, body: undefined };
}

/**
 * PUT /flavors/{id} (2.55): sets the description, the only thing Nova lets change on a flavor (its other
 * fields are fixed for the servers that embed them). 200 with the flavor as show renders it.
 */
async function update(ctx: RequestContext) {
  const b = validateBody<{ flavor: { description: string | null } }>(updateSchema, ctx.body).flavor;
  const s = ctx.services;
  await ensureSeeded(s);
  const f = await updateFlavor(s, ctx.params.id, (v) => ({ ...v, description: b.description, updated_at: new Date().toISOString() }));
  return json({ flavor: flavorView(ctx, f) });
}

/** index_query_v275: the list's parameters, no other from 2.75. */
const LIST_QUERY = strictQuery(['limit', 'marker', 'is_public', 'minRam', 'minDisk', 'sort_key', 'sort_dir']);

export const flavorRoutes: Route[] = [
  computeRoute('flavors-list', 'GET', '/flavors', 'authenticated', index, { strictQuery: LIST_QUERY }),
  computeRoute('flavors-detail', 'GET', '/flavors/detail', 'authenticated', detail, { strictQuery: LIST_QUERY }),
  computeRoute('flavors-show', 'GET', '/flavors/{id}', 'authenticated', show),
  computeRoute('flavors-create', 'POST', '/flavors', 'os_compute_api:os-flavor-manage:create', create),
  computeRoute('flavors-delete', 'DELETE', '/flavors/{id}', 'os_compute_api:os-flavor-manage:delete', remove),
  // PUT exists from 2.55 (404 for everyone below, before policy, as Nova's versioned dispatch answers).
  computeRoute('flavors-update', 'PUT', '/flavors/{id}', 'os_compute_api:os-flavor-manage:update', update, { versions: { min: '2.55' } }),
];
