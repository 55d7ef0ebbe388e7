// /group_types and /group_types/{id}/group_specs (cinder/api/v3/group_types.py, group_specs.py,
// views/group_types.py; microversion 3.11 GROUP_TYPE). Below 3.11 every route is Cinder's 404 for a
// method the version lacks, before any policy. Writes and the specs are admin (cinder/policies/
// group_types.py); list and show need no policy of their own, and only admins see group_specs in them
// (group:access_group_types_specs). A type generic groups (3.13) use is not deleted.
// The default group type is Cinder's `default_group_type` option, unset by default: GET
// /group_types/default is 404 `Default group type can not be found.` as a Cinder with it unset answers.
import { randomUUID } from 'node:crypto';
import type { RequestContext, Route } from '../../http/router';
import { accepted, json } from '../../http/respond';
import { badRequest, notFound } from '../../http/errors';
import { validateBody } from '../../api/validation';
import { allowed } from '../../api/policy';
import { pageRequest, nextLinks } from '../../api/pagination';
import { publicFilter } from '../namedStore';
import { booleanSchema, boolParam, cinderRoute, cinderTime, collectionUrl, compareBy, descriptionSchema, offsetParam, pageAfter, sortParams } from '../common';
import type { VolumePolicy } from '../policy';
import { volumeTables } from '../model';
import { groupTypeStore, visibleGroupType, type GroupTypeRecord } from './store';

const GROUP_TYPE = '3.11';

const specsSchema = { type: 'object', additionalProperties: false, patternProperties: { '^[a-zA-Z0-9-_:.]{1,255}$': { type: ['string', 'null'], maxLength: 255 } } };

/** cinder/api/schemas/group_types.py create / update; group_specs.py create / update. */
const createSchema = {
  type: 'object',
  required: ['group_type'],
  additionalProperties: false,
  properties: {
    group_type: {
      type: 'object',
      required: ['name'],
      additionalProperties: false,
      properties: {
        name: { type: 'string', format: 'name', minLength: 1, maxLength: 255 },
        description: descriptionSchema,
        is_public: booleanSchema,
        group_specs: { type: ['object', 'null'], additionalProperties: false, patternProperties: { '^[a-zA-Z0-9-_:. /]{1,255}$': { type: 'string', maxLength: 255 } } },
      },
    },
  },
};
const updateSchema = {
  type: 'object',
  required: ['group_type'],
  additionalProperties: false,
  properties: {
    group_type: {
      type: 'object',
      additionalProperties: false,
      properties: { name: { type: ['string', 'null'], minLength: 0, maxLength: 255 }, description: descriptionSchema, is_public: booleanSchema },
    },
  },
};
const specsCreateSchema = { type: 'object', required: ['group_specs'], additionalProperties: false, properties: { group_specs: specsSchema } };
const specUpdateSchema = { ...specsSchema, minProperties: 1, maxProperties: 1 };

const supported = (ctx: RequestContext) => ctx.microversion?.atLeast(GROUP_TYPE) ?? false;
/** The route's policy only where the method exists: below 3.11 the 404 comes first. */
const from311 =
  (p: VolumePolicy | 'authenticated') =>
  (_b: unknown, ctx: RequestContext): VolumePolicy | 'authenticated' =>
    supported(ctx) ? p : 'authenticated';
const versioned = (h: (ctx: RequestContext) => Promise<ReturnType<typeof json>>) => async (ctx: RequestContext) => {
  if (!supported(ctx)) throw notFound('The resource could not be found.');
  return h(ctx);
};

/** views/group_types.py show: group_specs only for those group:access_group_types_specs allows. */
function view(ctx: RequestContext, t: GroupTypeRecord) {
  return {
    id: t.id,
    name: t.name,
    description: t.description,
    is_public: t.is_public,
    ...(allowed(ctx, 'group:access_group_types_specs') ? { group_specs: t.group_specs } : {}),
  };
}

async function list(ctx: RequestContext) {
  const page = pageRequest(ctx.query);
  const sort = sortParams(ctx.query, ['id', 'name', 'is_public', 'description', 'created_at', 'updated_at']);
  const all = publicFilter(ctx, await groupTypeStore(ctx.services).list());
  all.sort(compareBy<GroupTypeRecord>(sort, (t, k) => (t as unknown as Record<string, unknown>)[k]));
  const items = pageAfter(all, page.marker, page.limit, (m) => notFound(`Marker ${m} could not be found.`), offsetParam(ctx.query));
  const links = nextLinks(collectionUrl(ctx, '/group_types'), ctx.query, items, page);
  return json({ group_types: items.map((t) => view(ctx, t)), ...(links ? { group_type_links: links } : {}) });
}

async function show(ctx: RequestContext) {
  if (ctx.params.group_type_id === 'default') throw notFound('Default group type can not be found.');
  return json({ group_type: view(ctx, (await visibleGroupType(ctx, ctx.params.group_type_id)).value) });
}

async function create(ctx: RequestContext) {
  const b = validateBody<{ group_type: { name: string; description?: string | null; is_public?: boolean | string; group_specs?: Record<string, string> | null } }>(createSchema, ctx.body).group_type;
  const t: GroupTypeRecord = {
    id: randomUUID(),
    name: b.name,
    description: b.description ?? null,
    is_public: b.is_public === undefined ? true : boolParam(b.is_public, 'is_public'),
    group_specs: b.group_specs ?? {},
    created_at: cinderTime(),
    updated_at: null,
  };
  await groupTypeStore(ctx.services).create(t, (n) => `Group Type ${n} already exists.`);
  return accepted({ group_type: view(ctx, t) });
}

async function update(ctx: RequestContext) {
  const b = validateBody<{ group_type: { name?: string | null; description?: string | null; is_public?: boolean | string } }>(updateSchema, ctx.body).group_type;
  const isPublic = b.is_public === undefined || b.is_public === null ? undefined : boolParam(b.is_public, 'is_public');
  if (b.name && b.name.trim().length === 0) throw badRequest('Group type name can not be empty.');
  if ((b.name === undefined || b.name === null) && (b.description === undefined || b.description === null) && isPublic === undefined) {
    throw badRequest('Specify group type name, description or a combination thereof.');
  }
  const store = groupTypeStore(ctx.services);
  const cur = await visibleGroupType(ctx, ctx.params.group_type_id);
  const next: GroupTypeRecord = {
    ...cur.value,
    ...(b.name ? { name: b.name } : {}),
    ...(b.description !== undefined && b.description !== null ? { description: b.description } : {}),
    ...(isPublic !== undefined ? { is_public: isPublic } : {}),
    updated_at: cinderTime(),
  };
  const stored = await store.update(cur, next, (n) => `Group Type ${n} already exists.`);
  return json({ group_type: view(ctx, stored.value) });
}

/** A type groups use stays (Cinder's GroupTypeInUse answered as `Target group type is still in use.`). */
async function remove(ctx: RequestContext) {
  const cur = await visibleGroupType(ctx, ctx.params.group_type_id);
  if ((await volumeTables(ctx.services).groupUse.page(cur.value.id, { limit: 1 })).length > 0) throw badRequest('Target group type is still in use.');
  await groupTypeStore(ctx.services).remove(cur);
  return accepted();
}

/** The specs: the type first (404), then the specs, read-modify-written under the type's ETag. */
async function specsIndex(ctx: RequestContext) {
  return json({ group_specs: (await visibleGroupType(ctx, ctx.params.group_type_id)).value.group_specs });
}

async function writeSpecs(ctx: RequestContext, specs: Record<string, string | null>) {
  const store = groupTypeStore(ctx.services);
  for (let i = 0; ; i++) {
    const cur = await visibleGroupType(ctx, ctx.params.group_type_id);
    try {
      return await store.replace(cur, { ...cur.value, group_specs: { ...cur.value.group_specs, ...specs }, updated_at: cinderTime() });
    } catch (e) {
      if (i >= 4) throw e;
    }
  }
}

async function specsCreate(ctx: RequestContext) {
  const b = validateBody<{ group_specs: Record<string, string | null> }>(specsCreateSchema, ctx.body);
  await writeSpecs(ctx, b.group_specs);
  return accepted(b);
}

async function specUpdate(ctx: RequestContext) {
  const b = validateBody<Record<string, string | null>>(specUpdateSchema, ctx.body);
  await visibleGroupType(ctx, ctx.params.group_type_id);
  if (!(ctx.params.spec_id in b)) throw badRequest('Request body and URI mismatch');
  await writeSpecs(ctx, b);
  return json(b);
}

async function specShow(ctx: RequestContext) {
  const t = (await visibleGroupType(ctx, ctx.params.group_type_id)).value;
  const key = ctx.params.spec_id;
  if (!(key in t.group_specs)) throw notFound(`Group Type ${t.id} has no extra spec with key ${key}.`);
  return json({ [key]: t.group_specs[key] });
}

async function specDelete(ctx: RequestContext) {
  const store = groupTypeStore(ctx.services);
  const key = ctx.params.spec_id;
  for (let i = 0; ; i++) {
    const cur = await visibleGroupType(ctx, ctx.params.group_type_id);
    if (!(key in cur.value.group_specs)) throw notFound(`Group Type ${cur.value.id} has no specs with key ${key}.`);
    const specs = { ...cur.value.group_specs };
    delete specs[key];
    try {
      await store.replace(cur, { ...cur.value, group_specs: specs, updated_at: cinderTime() });
      return accepted();
    } catch (e) {
      if (i >= 4) throw e;
    }
  }
}

export const groupTypeRoutes: Route[] = [
  cinderRoute('group-types-list', 'GET', '/group_types', from311('authenticated'), versioned(list)),
  cinderRoute('group-types-show', 'GET', '/group_types/{group_type_id}', from311('authenticated'), versioned(show)),
  cinderRoute('group-types-create', 'POST', '/group_types', from311('group:group_types:create'), versioned(create)),
  cinderRoute('group-types-update', 'PUT', '/group_types/{group_type_id}', from311('group:group_types:update'), versioned(update)),
  cinderRoute('group-types-delete', 'DELETE', '/group_types/{group_type_id}', from311('group:group_types:delete'), versioned(remove)),
  cinderRoute('group-specs-list', 'GET', '/group_types/{group_type_id}/group_specs', from311('group:group_types_specs:get_all'), versioned(specsIndex)),
  cinderRoute('group-specs-create', 'POST', '/group_types/{group_type_id}/group_specs', from311('group:group_types_specs:create'), versioned(specsCreate)),
  cinderRoute('group-specs-show', 'GET', '/group_types/{group_type_id}/group_specs/{spec_id}', from311('group:group_types_specs:get'), versioned(specShow)),
  cinderRoute('group-specs-update', 'PUT', '/group_types/{group_type_id}/group_specs/{spec_id}', from311('group:group_types_specs:update'), versioned(specUpdate)),
  cinderRoute('group-specs-delete', 'DELETE', '/group_types/{group_type_id}/group_specs/{spec_id}', from311('group:group_types_specs:delete'), versioned(specDelete)),
];
