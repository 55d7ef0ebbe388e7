// /types and /types/{id}/extra_specs: Cinder's volume type API (types_manage, types_extra_specs).
// Reading is for every project reader; changes are the admins'. Extra specs of a type that volumes
// use cannot change (Cinder's "Volume Type is currently in use."), which keeps a volume's SKU honest.
import { randomUUID } from 'node:crypto';
import type { RequestContext, Route } from '../../http/router';
import { json, accepted } from '../../http/respond';
import { ApiError, badRequest, notFound } from '../../http/errors';
import { validateBody } from '../../api/validation';
import { allowed, isAdmin } from '../../api/policy';
import { likeMatches, queryFilters, rejectInvalidFilters } from '../filters';
import { publicFilter } from '../namedStore';
import { booleanSchema, boolParam, cinderRoute, cinderTime, descriptionSchema, collectionUrl, compareBy, pageAfter, parseMetadataFilter, sortParams } from '../common';
import { pageRequest, nextLinks } from '../../api/pagination';
import { volumeTables } from '../model';
import { defaultTypeStore } from '../defaultTypes/store';
import { checkSpecs, defaultType, typeStore, typeView, visibleType, USER_VISIBLE_SPECS, type VolumeTypeRecord } from './store';

const specKey = '^[a-zA-Z0-9-_:.]{1,255}$';
const specsSchema = { type: 'object', patternProperties: { [specKey]: { type: ['string', 'null'], minLength: 0, maxLength: 255 } }, additionalProperties: false };

const createSchema = {
  type: 'object',
  required: ['volume_type'],
  additionalProperties: false,
  properties: {
    volume_type: {
      type: 'object',
      required: ['name'],
      additionalProperties: false,
      properties: {
        name: { type: 'string', format: 'name', minLength: 1, maxLength: 255 },
        description: descriptionSchema,
        extra_specs: { ...specsSchema, patternProperties: { '^[a-zA-Z0-9-_:. /]{1,255}$': { type: ['string', 'null'], maxLength: 255 } } },
        'os-volume-type-access:is_public': booleanSchema,
      },
    },
  },
};

const updateSchema = {
  type: 'object',
  required: ['volume_type'],
  additionalProperties: false,
  properties: {
    volume_type: {
      type: 'object',
      additionalProperties: false,
      properties: { name: { type: ['string', 'null'], minLength: 1, maxLength: 255 }, description: descriptionSchema, is_public: booleanSchema },
    },
  },
};

const specsCreateSchema = { type: 'object', required: ['extra_specs'], additionalProperties: false, properties: { extra_specs: specsSchema } };
const specUpdateSchema = { ...specsSchema, minProperties: 1, maxProperties: 1 };

async function inUse(ctx: RequestContext, typeId: string): Promise<boolean> {
  return (await volumeTables(ctx.services).typeUse.page(typeId, { limit: 1 })).length > 0;
}

/** db volume_type_destroy: groups that name the type (group_volume_type_mapping) keep it too. */
async function inUseByGroups(ctx: RequestContext, typeId: string): Promise<boolean> {
  return (await volumeTables(ctx.services).groupUse.page(typeId, { limit: 1 })).length > 0;
}

export const SUPPORT_VOLUME_TYPE_FILTER = '3.52';
/** VolumeType columns an admin's filter may name (db _process_volume_types_filters: another key lists nothing). */
const TYPE_COLUMNS: (keyof VolumeTypeRecord)[] = ['id', 'name', 'description', 'qos_specs_id', 'created_at', 'updated_at'];

/**
 * v3/types.py _get_volume_types' filters: from 3.52 (SUPPORT_VOLUME_TYPE_FILTER) the generic resource
 * filters ('volume_type': a member's key other than is_public and extra_specs is a 400), below it a
 * member's keys other than is_public dropped. is_public: an admin's (publicFilter), a member's forced
 * true. extra_specs (a dict, as ast.literal_eval reads it): every pair must be the type's (the
 * availability-zones spec a LIKE); a member who may not read sensitive specs gets nothing when the
 * filter names one. An admin's other key is an exact column filter, an unknown column nothing.
 */
function typeFilters(ctx: RequestContext): ((t: VolumeTypeRecord) => boolean) | null {
  const filters = queryFilters(ctx.query);
  if (ctx.microversion?.atLeast(SUPPORT_VOLUME_TYPE_FILTER)) rejectInvalidFilters(ctx, filters, 'volume_type', true);
  const admin = isAdmin(ctx.auth!);
  filters.delete('is_public');
  if (!admin && !ctx.microversion?.atLeast(SUPPORT_VOLUME_TYPE_FILTER)) for (const k of [...filters.keys()]) filters.delete(k);
  const raw = filters.get('extra_specs');
  filters.delete('extra_specs');
  const specs = raw === undefined ? undefined : parseMetadataFilter(raw);
  if (specs && !allowed(ctx, 'volume_extension:types_extra_specs:read_sensitive') && Object.keys(specs).some((k) => !USER_VISIBLE_SPECS.includes(k))) return null;
  if (![...filters.keys()].every((k) => (TYPE_COLUMNS as string[]).includes(k))) return null;
  return (t) =>
    [...filters].every(([k, v]) => String(t[k as keyof VolumeTypeRecord] ?? '') === v) &&
    Object.entries(specs ?? {}).every(([k, v]) => (k === 'RESKEY:availability_zones' ? likeMatches(t.extra_specs[k], v) : t.extra_specs[k] === v));
}

async function list(ctx: RequestContext) {
  const page = pageRequest(ctx.query);
  const sort = sortParams(ctx.query, ['id', 'name', 'is_public', 'description', 'created_at']);
  const test = typeFilters(ctx);
  const all = test ? publicFilter(ctx, await typeStore(ctx.services).list()).filter(test) : [];
  all.sort(compareBy<VolumeTypeRecord>(sort, (t, k) => (t as unknown as Record<string, unknown>)[k]));
  const items = pageAfter(all, page.marker, page.limit, (m) => notFound(`Marker ${m} could not be found.`));
  const links = nextLinks(collectionUrl(ctx, '/types'), ctx.query, items, page);
  return json({ volume_types: items.map((t) => typeView(ctx, t, 'index')), ...(links ? { volume_type_links: links } : {}) });
}

async function show(ctx: RequestContext) {
  const id = ctx.params.type_id;
  const t = id === 'default' ? await defaultType(ctx) : (await visibleType(ctx, id)).value;
  return json({ volume_type: typeView(ctx, t, id === 'default' ? 'default' : 'show') });
}

async function create(ctx: RequestContext) {
  const b = validateBody<{ volume_type: { name: string; description?: string | null; extra_specs?: Record<string, string | null>; 'os-volume-type-access:is_public'?: boolean | string } }>(
    createSchema,
    ctx.body,
  ).volume_type;
  const specs = b.extra_specs ?? {};
  checkSpecs(specs);
  const pub = b['os-volume-type-access:is_public'];
  const t: VolumeTypeRecord = {
    id: randomUUID(),
    name: b.name,
    description: b.description ?? null,
    is_public: pub === undefined ? true : boolParam(pub, 'is_public'),
    extra_specs: Object.fromEntries(Object.entries(specs).map(([k, v]) => [k, v ?? ''])),
    qos_specs_id: null,
    created_at: cinderTime(),
    updated_at: null,
  };
  await typeStore(ctx.services).create(t, (n) => `Volume Type ${n} already exists.`);
  return json({ volume_type: typeView(ctx, t, 'create') });
}

async function update(ctx: RequestContext) {
  const b = validateBody<{ volume_type: { name?: string | null; description?: string | null; is_public?: boolean | string } }>(updateSchema, ctx.body).volume_type;
  if (b.name && b.name.trim().length === 0) throw badRequest('Volume type name can not be empty.');
  if ((b.name === undefined || b.name === null) && (b.description === undefined || b.description === null) && b.is_public === undefined) {
    throw badRequest('Specify volume type name, description, is_public or a combination thereof.');
  }
  const store = typeStore(ctx.services);
  const cur = await visibleType(ctx, ctx.params.type_id);
  const next: VolumeTypeRecord = {
    ...cur.value,
    ...(b.name ? { name: b.name } : {}),
    ...(b.description !== undefined && b.description !== null ? { description: b.description } : {}),
    ...(b.is_public !== undefined ? { is_public: boolParam(b.is_public, 'is_public') } : {}),
    updated_at: cinderTime(),
  };
  // Volumes fall back to the default type by name: renaming it fails as Cinder's update does.
  if (cur.value.name === store.defaultName() && next.name !== cur.value.name) throw new ApiError(500, `Cannot update volume_type ${cur.value.id}`);
  const stored = await store.update(cur, next, (n) => `Volume Type ${n} already exists.`);
  return json({ volume_type: typeView(ctx, stored.value, 'update') });
}

async function remove(ctx: RequestContext) {
  const store = typeStore(ctx.services);
  const cur = await visibleType(ctx, ctx.params.type_id);
  // volume_types.destroy: a project's default (3.62) or the configured default cannot go, asked before
  // db volume_type_destroy's "in use".
  const isDefault = (await defaultTypeStore(ctx.services).projectsWith(cur.value.id)).length > 0 || cur.value.name === store.defaultName();
  if (isDefault) throw badRequest(`The volume type ${cur.value.id} is a default volume type and cannot be deleted.`);
  if ((await inUse(ctx, cur.value.id)) || (await inUseByGroups(ctx, cur.value.id))) throw badRequest('Target volume type is still in use.');
  await store.remove(cur);
  return accepted();
}

function shownSpecs(ctx: RequestContext, t: VolumeTypeRecord): Record<string, string> {
  if (allowed(ctx, 'volume_extension:types_extra_specs:read_sensitive')) return t.extra_specs;
  return Object.fromEntries(Object.entries(t.extra_specs).filter(([k]) => USER_VISIBLE_SPECS.includes(k)));
}

async function specsIndex(ctx: RequestContext) {
  const t = await visibleType(ctx, ctx.params.type_id);
  return json({ extra_specs: shownSpecs(ctx, t.value) });
}

async function specShow(ctx: RequestContext) {
  const t = await visibleType(ctx, ctx.params.type_id);
  const key = ctx.params.key;
  const specs = shownSpecs(ctx, t.value);
  if (!(key in specs)) throw notFound(`Volume Type ${t.value.id} has no extra specs with key ${key}.`);
  return json({ [key]: specs[key] });
}

/** Writes specs with the type's ETag; refused while volumes use the type. */
async function writeSpecs(ctx: RequestContext, change: (specs: Record<string, string>) => void) {
  const t = await visibleType(ctx, ctx.params.type_id);
  if (await inUse(ctx, t.value.id)) throw badRequest('Volume Type is currently in use.');
  const specs = { ...t.value.extra_specs };
  change(specs);
  await typeStore(ctx.services).replace(t, { ...t.value, extra_specs: specs, updated_at: cinderTime() });
}

async function specsCreate(ctx: RequestContext) {
  const b = validateBody<{ extra_specs: Record<string, string | null> }>(specsCreateSchema, ctx.body);
  checkSpecs(b.extra_specs);
  await writeSpecs(ctx, (s) => {
    for (const [k, v] of Object.entries(b.extra_specs)) s[k] = v ?? '';
  });
  return json(b);
}

async function specUpdate(ctx: RequestContext) {
  const b = validateBody<Record<string, string | null>>(specUpdateSchema, ctx.body);
  const key = ctx.params.key;
  if (!(key in b)) throw badRequest('Request body and URI mismatch');
  checkSpecs(b);
  await writeSpecs(ctx, (s) => {
    s[key] = b[key] ?? '';
  });
  return json(b);
}

async function specDelete(ctx: RequestContext) {
  const key = ctx.params.key;
  await writeSpecs(ctx, (s) => {
    if (!(key in s)) throw notFound(`Volume Type ${ctx.params.type_id} has no extra specs with key ${key}.`);
    delete s[key];
  });
  return accepted();
}

export const volumeTypeRoutes: Route[] = [
  cinderRoute('types-list', 'GET', '/types', 'volume_extension:type_get_all', list),
  cinderRoute('types-show', 'GET', '/types/{type_id}', 'volume_extension:type_get', show),
  cinderRoute('types-create', 'POST', '/types', 'volume_extension:type_create', create),
  cinderRoute('types-update', 'PUT', '/types/{type_id}', 'volume_extension:type_update', update),
  cinderRoute('types-delete', 'DELETE', '/types/{type_id}', 'volume_extension:type_delete', remove),
  cinderRoute('type-specs-list', 'GET', '/types/{type_id}/extra_specs', 'volume_extension:types_extra_specs:index', specsIndex),
  cinderRoute('type-specs-create', 'POST', '/types/{type_id}/extra_specs', 'volume_extension:types_extra_specs:create', specsCreate),
  cinderRoute('type-spec-show', 'GET', '/types/{type_id}/extra_specs/{key}', 'volume_extension:types_extra_specs:show', specShow),
  cinderRoute('type-spec-update', 'PUT', '/types/{type_id}/extra_specs/{key}', 'volume_extension:types_extra_specs:update', specUpdate),
  cinderRoute('type-spec-delete', 'DELETE', '/types/{type_id}/extra_specs/{key}', 'volume_extension:types_extra_specs:delete', specDelete),
];
