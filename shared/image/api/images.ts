// /image/v2/images: Glance's image API (list with filters, sorting and pagination; show; create;
// JSON-patch update; delete). Bytes are handled in ./data.ts.
import { randomUUID } from 'node:crypto';
import type { RequestContext, Route } from '../../http/router';
import { json, noContent } from '../../http/respond';
import { ApiError, badRequest, conflict, forbidden } from '../../http/errors';
import { authorize, isAdmin } from '../../api/policy';
import { AlreadyExistsError, ConcurrencyError } from '../../store/tables';
import { imageStore, canModify, glanceTime, newImageRecord, type ImageRecord, type Visibility } from '../model';
import { imageView } from '../view';
import { DELETE_KIND } from '../managedImage';
import { startWork } from '../../work/ledger';
import { imageRoute, imageNotFound, notAuthorized, visibleImage } from './common';

import { CONTAINER_FORMATS, DISK_FORMATS } from '../schemas';
export { CONTAINER_FORMATS, DISK_FORMATS };
const VISIBILITIES: Visibility[] = ['public', 'private', 'shared', 'community'];
const READ_ONLY = ['checksum', 'created_at', 'os_hash_algo', 'os_hash_value', 'size', 'status', 'updated_at', 'virtual_size', 'direct_url', 'self', 'file', 'schema', 'stores'];
const RESERVED = ['location', 'deleted', 'deleted_at', 'locations'];
/** Core attributes a client may write (everything else is an extra property). */
const CORE = ['id', 'name', 'visibility', 'protected', 'os_hidden', 'owner', 'container_format', 'disk_format', 'min_disk', 'min_ram', 'tags'];
export const MAX_PROPERTIES = 128;
const UUID = /^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$/;

/** Glance's schema failure (glance/api/v2/images.py: InvalidObject -> 400). */
const schemaError = (reason: string) => badRequest(`Provided object does not match schema 'image': ${reason}`);
const py = (v: unknown) => (typeof v === 'string' ? `'${v}'` : JSON.stringify(v));
const oneOf = (v: unknown, allowed: readonly string[]) => `${py(v)} is not one of [${allowed.map((a) => `'${a}'`).join(', ')}]`;

/** Checks one writable attribute against Glance's image schema; throws 400/403 as Glance does. */
function checkAttribute(key: string, value: unknown): void {
  if (READ_ONLY.includes(key)) throw forbidden(`Attribute '${key}' is read-only.`);
  if (RESERVED.includes(key) || key.startsWith('os_glance')) throw forbidden(`Attribute '${key}' is reserved.`);
  const isInt = (v: unknown) => Number.isInteger(v) && (v as number) >= 0;
  switch (key) {
    case 'id':
      if (typeof value !== 'string' || !UUID.test(value)) throw schemaError(`${py(value)} does not match '^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$'`);
      return;
    case 'name':
      if (value !== null && (typeof value !== 'string' || value.length > 255))
        throw schemaError(typeof value === 'string' ? `${py(value)} is too long` : `${py(value)} is not of type 'null', 'string'`);
      return;
    case 'visibility':
      if (!VISIBILITIES.includes(value as Visibility)) throw schemaError(oneOf(value, VISIBILITIES));
      return;
    case 'protected':
    case 'os_hidden':
      if (typeof value !== 'boolean') throw schemaError(`${py(value)} is not of type 'boolean'`);
      return;
    case 'container_format':
      if (value !== null && !CONTAINER_FORMATS.includes(value as string)) throw schemaError(oneOf(value, [...CONTAINER_FORMATS, 'None']));
      return;
    case 'disk_format':
      if (value !== null && !DISK_FORMATS.includes(value as string)) throw schemaError(oneOf(value, [...DISK_FORMATS, 'None']));
      return;
    case 'min_disk':
    case 'min_ram':
      if (!isInt(value)) throw schemaError(`${py(value)} is not of type 'integer'`);
      return;
    case 'owner':
      if (value !== null && (typeof value !== 'string' || value.length > 255)) throw schemaError(`${py(value)} is not of type 'null', 'string'`);
      return;
    case 'tags':
      if (!Array.isArray(value) || value.some((t) => typeof t !== 'string' || t.length > 255)) throw schemaError(`${py(value)} is not of type 'array' of strings`);
      if (new Set(value).size !== value.length) throw schemaError(`${py(value)} has non-unique elements`);
      return;
    default:
      if (key.length > 255) throw schemaError(`${py(key)} is too long`);
      if (typeof value !== 'string') throw schemaError(`${py(value)} is not of type 'string'`);
  }
}

/** Public images are the admin's to publish (Glance's publicize_image policy). */
function checkVisibility(ctx: RequestContext, v: unknown): void {
  if (v === 'public') authorize(ctx, 'publicize_image');
}

function checkPropertyCount(img: ImageRecord): void {
  const n = Object.keys(img.properties).length;
  if (n > MAX_PROPERTIES) throw new ApiError(413, `Maximum number of properties exceeded. Attempted: ${n}, Maximum: ${MAX_PROPERTIES}`);
}

async function create(ctx: RequestContext) {
  const b = ctx.body;
  if (typeof b !== 'object' || b === null || Array.isArray(b)) throw badRequest('Body expected in request.');
  const body = b as Record<string, unknown>;
  for (const [k, v] of Object.entries(body)) checkAttribute(k, v);
  checkVisibility(ctx, body.visibility);
  const a = ctx.auth!;
  const owner = body.owner === undefined ? (a.projectId ?? null) : (body.owner as string | null);
  if (owner !== (a.projectId ?? null) && !isAdmin(a)) throw forbidden(`You are not permitted to create images owned by '${String(owner)}'.`);
  const id = ((body.id as string | undefined) ?? randomUUID()).toLowerCase();
  const properties: Record<string, string> = {};
  for (const [k, v] of Object.entries(body)) if (!CORE.includes(k)) properties[k] = v as string;
  const img = newImageRecord({
    id,
    name: (body.name as string | null | undefined) ?? null,
    owner,
    visibility: (body.visibility as Visibility | undefined) ?? 'shared',
    disk_format: (body.disk_format as string | null | undefined) ?? null,
    container_format: (body.container_format as string | null | undefined) ?? null,
    min_disk: (body.min_disk as number | undefined) ?? 0,
    min_ram: (body.min_ram as number | undefined) ?? 0,
    protected: (body.protected as boolean | undefined) ?? false,
    os_hidden: (body.os_hidden as boolean | undefined) ?? false,
    tags: (body.tags as string[] | undefined) ?? [],
    properties,
  });
  checkPropertyCount(img);
  const store = imageStore(ctx.services);
  const duplicate = () => conflict(`Image with identifier ${id} already exists!`);
  if (await store.exists(id)) throw duplicate();
  try {
    await store.create(img);
  } catch (e) {
    if (e instanceof AlreadyExistsError) throw duplicate();
    throw e;
  }
  return json(imageView(img), 201, { Location: `${ctx.services.config.publicUrl}/image/v2/images/${id}` });
}

async function show(ctx: RequestContext) {
  return json(imageView((await visibleImage(ctx)).image));
}

// ---- list -------------------------------------------------------------------------------------
const SORT_KEYS = ['name', 'status', 'container_format', 'disk_format', 'size', 'id', 'created_at', 'updated_at'];
const MEMBER_STATUSES = ['accepted', 'pending', 'rejected', 'all'];
const DEFAULT_LIMIT = 25;
const MAX_LIMIT = 1000;
/** Query parameters that are not property filters. */
const NON_FILTERS = ['limit', 'marker', 'sort_key', 'sort_dir', 'sort', 'member_status', 'visibility', 'tag', 'size_min', 'size_max', 'protected', 'os_hidden'];

type SortSpec = { key: string; dir: 'asc' | 'desc' }[];

function sortSpec(q: URLSearchParams): SortSpec {
  const checkKey = (k: string) => {
    if (!SORT_KEYS.includes(k)) throw badRequest(`Invalid sort key: ${k}. It must be one of the following: ${SORT_KEYS.join(', ')}.`);
  };
  const checkDir = (d: string): 'asc' | 'desc' => {
    if (d !== 'asc' && d !== 'desc') throw badRequest(`Invalid sort direction: ${d}`);
    return d;
  };
  let spec: SortSpec;
  if (q.has('sort')) {
    if (q.has('sort_key') || q.has('sort_dir')) throw badRequest('Old and new sorting syntax cannot be combined');
    spec = q
      .getAll('sort')
      .join(',')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)
      .map((s) => {
        const [key, dir] = s.split(':');
        checkKey(key);
        return { key, dir: checkDir(dir ?? 'desc') };
      });
  } else {
    const keys = q.getAll('sort_key');
    const dirs = q.getAll('sort_dir').map(checkDir);
    if (dirs.length > 1 && dirs.length !== keys.length) throw badRequest('Number of sort dirs does not match the number of sort keys');
    spec = (keys.length ? keys : ['created_at']).map((key, i) => {
      checkKey(key);
      return { key, dir: dirs[i] ?? dirs[0] ?? 'desc' };
    });
  }
  // Glance always ends on the id, so the order (and the marker) is total.
  if (!spec.some((s) => s.key === 'id')) spec.push({ key: 'id', dir: spec[spec.length - 1]?.dir ?? 'desc' });
  return spec;
}

function compare(spec: SortSpec) {
  return (x: ImageRecord, y: ImageRecord) => {
    for (const { key, dir } of spec) {
      const a = (x as unknown as Record<string, unknown>)[key] as string | number | null;
      const b = (y as unknown as Record<string, unknown>)[key] as string | number | null;
      if (a === b) continue;
      const c = a === null ? -1 : b === null ? 1 : a < b ? -1 : 1;
      return dir === 'asc' ? c : -c;
    }
    return 0;
  };
}

/** "in:a,b" or a plain value, as Glance's filters accept for these keys. */
function valuesOf(raw: string): string[] {
  return raw.startsWith('in:')
    ? raw
        .slice(3)
        .split(',')
        .map((s) => s.trim())
    : [raw];
}

/** An OData string literal (quotes doubled). */
const quoted = (v: string) => `'${v.replace(/'/g, "''")}'`;

/** Boolean filters, read as oslo's bool_from_string(strict=True) reads them. */
function boolFilter(q: URLSearchParams, key: string): boolean | undefined {
  const raw = q.get(key);
  if (raw === null) return undefined;
  const v = raw.trim().toLowerCase();
  if (['1', 't', 'true', 'on', 'y', 'yes'].includes(v)) return true;
  if (['0', 'f', 'false', 'off', 'n', 'no'].includes(v)) return false;
  throw badRequest(`Invalid value '${raw}' for '${key}' filter. Valid values are 'true' or 'false'.`);
}

function intFilter(q: URLSearchParams, key: string): number | undefined {
  const raw = q.get(key);
  if (raw === null) return undefined;
  if (!/^\d+$/.test(raw)) throw badRequest(`Invalid value for ${key}: ${raw}`);
  return Number(raw);
}

async function list(ctx: RequestContext) {
  const q = ctx.query;
  let limit = DEFAULT_LIMIT;
  if (q.has('limit')) {
    const raw = q.get('limit')!;
    if (!/^-?\d+$/.test(raw)) throw badRequest('limit param must be an integer');
    if (Number(raw) < 0) throw badRequest('limit param must be positive');
    limit = Math.min(Number(raw), MAX_LIMIT);
  }
  const spec = sortSpec(q);
  const visibility = q.get('visibility') as Visibility | 'all' | null;
  if (visibility !== null && ![...VISIBILITIES, 'all'].includes(visibility)) throw badRequest(`Invalid visibility value: ${visibility}`);
  const memberStatus = q.get('member_status');
  if (memberStatus !== null && !MEMBER_STATUSES.includes(memberStatus)) throw badRequest(`Invalid status: ${memberStatus}`);
  const prot = boolFilter(q, 'protected');
  const hidden = boolFilter(q, 'os_hidden') ?? false;
  const sizeMin = intFilter(q, 'size_min');
  const sizeMax = intFilter(q, 'size_max');
  const tags = q.getAll('tag');

  // Equality filters on indexed columns go into the table query; the rest are checked below.
  const server: string[] = [];
  for (const key of ['name', 'status', 'disk_format', 'container_format'] as const) {
    const raw = q.get(key);
    if (raw === null) continue;
    server.push(
      '(' +
        valuesOf(raw)
          .map((v) => `${key} eq ${quoted(v)}`)
          .join(' or ') +
        ')',
    );
  }
  const store = imageStore(ctx.services);
  const all = await store.listVisible(ctx.auth!, server.length ? server.join(' and ') : undefined, visibility ?? undefined);
  const propFilters = [...q.keys()].filter((k) => !NON_FILTERS.includes(k) && !['name', 'status', 'disk_format', 'container_format'].includes(k));
  const rows = all.filter((img) => {
    for (const key of ['name', 'status', 'disk_format', 'container_format'] as const) {
      const raw = q.get(key);
      if (raw !== null && !valuesOf(raw).includes(String(img[key]))) return false;
    }
    if (prot !== undefined && img.protected !== prot) return false;
    if (img.os_hidden !== hidden) return false;
    if (sizeMin !== undefined && (img.size ?? -1) < sizeMin) return false;
    if (sizeMax !== undefined && (img.size === null || img.size > sizeMax)) return false;
    if (tags.some((t) => !img.tags.includes(t))) return false;
    for (const k of propFilters) {
      const want = valuesOf(q.get(k)!);
      const have = k === 'id' ? img.id : k === 'owner' ? img.owner : k === 'min_disk' || k === 'min_ram' ? String(img[k]) : img.properties[k];
      if (have === undefined || have === null || !want.includes(have)) return false;
    }
    return true;
  });
  rows.sort(compare(spec));
  let start = 0;
  const marker = q.get('marker');
  if (marker !== null) {
    const i = rows.findIndex((r) => r.id === marker);
    if (i < 0) throw badRequest(`No image found with ID ${marker}`);
    start = i + 1;
  }
  const page = rows.slice(start, start + limit);
  const params = new URLSearchParams(q);
  params.delete('marker');
  const body: Record<string, unknown> = {
    images: page.map(imageView),
    first: params.size ? `/v2/images?${params.toString()}` : '/v2/images',
    schema: '/v2/schemas/images',
  };
  if (page.length > 0 && page.length === limit) {
    params.set('marker', page[page.length - 1].id);
    body.next = `/v2/images?${params.toString()}`;
  }
  return json(body);
}

// ---- update (JSON patch) ----------------------------------------------------------------------
const PATCH_TYPES = ['application/openstack-images-v2.1-json-patch', 'application/openstack-images-v2.0-json-patch'];

interface PatchOp {
  op: string;
  path: string;
  value?: unknown;
}

function parsePatch(body: unknown): PatchOp[] {
  if (!Array.isArray(body)) throw badRequest('Request body must be a JSON array of operation objects.');
  return body.map((o) => {
    if (typeof o !== 'object' || o === null) throw badRequest('Operations must be JSON objects.');
    const op = o as Record<string, unknown>;
    if (!['add', 'replace', 'remove'].includes(op.op as string)) {
      throw badRequest(`Operation objects must contain exactly one member named "add", "remove", or "replace".`);
    }
    if (typeof op.path !== 'string' || !/^\/[^/]+$/.test(op.path)) throw badRequest(`Invalid JSON pointer for this resource: '${String(op.path)}'`);
    if (op.op !== 'remove' && !('value' in op)) throw badRequest(`Operation "${String(op.op)}" requires a member named "value".`);
    return { op: op.op as string, path: op.path.slice(1).replace(/~1/g, '/').replace(/~0/g, '~'), value: op.value };
  });
}

function applyOp(img: ImageRecord, o: PatchOp, ctx: RequestContext): void {
  const key = o.path;
  // owner too: records are partitioned by owner, and Jacket does not move them (docs/images.md).
  if (READ_ONLY.includes(key) || key === 'id' || key === 'owner') throw forbidden(`Attribute '${key}' is read-only.`);
  if (RESERVED.includes(key) || key.startsWith('os_glance')) throw forbidden(`Attribute '${key}' is reserved.`);
  const core = CORE.includes(key);
  if (o.op === 'remove') {
    if (core) throw forbidden(`Attribute '${key}' is read-only.`);
    if (!(key in img.properties)) throw conflict(`Property ${key} does not exist.`);
    delete img.properties[key];
    return;
  }
  checkAttribute(key, o.value);
  if (!core) {
    if (o.op === 'replace' && !(key in img.properties)) throw conflict(`Property ${key} does not exist.`);
    img.properties[key] = o.value as string;
    return;
  }
  if ((key === 'disk_format' || key === 'container_format') && img.status !== 'queued') {
    throw forbidden(`Attribute ${key} can be only replaced for a queued image.`);
  }
  if (key === 'visibility') checkVisibility(ctx, o.value);
  (img as unknown as Record<string, unknown>)[key] = o.value;
}

async function update(ctx: RequestContext) {
  const ct = (ctx.req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  if (!PATCH_TYPES.includes(ct)) {
    throw new ApiError(415, `Unsupported Content-Type`, { 'Accept-Patch': PATCH_TYPES.join(', ') });
  }
  const ops = parsePatch(ctx.body);
  const found = await visibleImage(ctx);
  if (!canModify(ctx.auth!, found.image)) throw notAuthorized('modify_image');
  const store = imageStore(ctx.services);
  for (let attempt = 0; ; attempt++) {
    const cur = attempt === 0 ? found : await visibleImage(ctx);
    const next = structuredClone(cur.image);
    for (const o of ops) applyOp(next, o, ctx);
    checkPropertyCount(next);
    next.updated_at = glanceTime();
    try {
      await store.replace(next, cur.etag!);
      return json(imageView(next));
    } catch (e) {
      if (!(e instanceof ConcurrencyError) || attempt >= 4) throw e;
    }
  }
}

async function remove(ctx: RequestContext) {
  const { image, etag } = await visibleImage(ctx);
  if (image.marketplace || image.protected) throw forbidden(`Image ${image.id} is protected and cannot be deleted.`);
  if (!canModify(ctx.auth!, image)) throw notAuthorized('delete_image');
  const store = imageStore(ctx.services);
  // Hide it first (conditional on what we read), then let the cleanup step remove the managed image,
  // the blob and the record; until then the record marks what is left to clean up.
  try {
    await store.replace({ ...image, deleting: true, status: 'deleted', updated_at: glanceTime() }, etag!);
  } catch (e) {
    if (e instanceof ConcurrencyError) throw imageNotFound(image.id);
    throw e;
  }
  await startWork(ctx.services, { kind: DELETE_KIND, id: image.id, requestId: ctx.requestId, data: { managed: image.blob !== undefined } });
  return noContent();
}

export const glanceImageRoutes: Route[] = [
  imageRoute('images-list', 'GET', '/v2/images', 'get_images', list),
  imageRoute('images-create', 'POST', '/v2/images', 'add_image', create),
  imageRoute('images-show', 'GET', '/v2/images/{image_id}', 'get_image', show),
  imageRoute('images-update', 'PATCH', '/v2/images/{image_id}', 'modify_image', update),
  imageRoute('images-delete', 'DELETE', '/v2/images/{image_id}', 'delete_image', remove),
];
