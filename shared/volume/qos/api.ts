// /qos-specs: Cinder's QoS specs (cinder/api/contrib/qos_specs_manage.py over volume/qos_specs.py),
// admin only: list, create, show, set keys (PUT), delete (?force), delete_keys, and the volume type
// associations (associations, associate, disassociate, disassociate_all — GETs, as Cinder routes
// them). Records in ./store.ts; a type's association is its qos_specs_id. What Azure does with a
// spec: docs/volumes.md, "QoS specs".
import { randomUUID } from 'node:crypto';
import type { RequestContext, Route } from '../../http/router';
import { json } from '../../http/respond';
import { badRequest, conflict, notFound } from '../../http/errors';
import { validateBody } from '../../api/validation';
import { pageRequest, nextLinks } from '../../api/pagination';
import { AlreadyExistsError } from '../../store/tables';
import { boolParam, cinderRoute, cinderTime, collectionUrl, compareBy, offsetParam, pageAfter, resourceLinks, sortParams } from '../common';
import { typeStore } from '../types/store';
import { QOS_CONSUMERS, qosStore, type QosSpecsRecord } from './store';

const createSchema = {
  type: 'object',
  required: ['qos_specs'],
  additionalProperties: false,
  properties: { qos_specs: { type: 'object', required: ['name'], additionalProperties: true, properties: { name: { type: 'string', minLength: 1, maxLength: 255 } } } },
};
/** parameter_types.extra_specs_with_null. */
const setSchema = {
  type: 'object',
  required: ['qos_specs'],
  additionalProperties: false,
  properties: {
    qos_specs: {
      type: 'object',
      patternProperties: { '^[a-zA-Z0-9-_:. /]{1,255}$': { type: ['string', 'null'], maxLength: 255 } },
      additionalProperties: false,
    },
  },
};
const unsetSchema = {
  type: 'object',
  required: ['keys'],
  additionalProperties: false,
  properties: { keys: { type: 'array', items: { type: 'string', minLength: 1, maxLength: 255 }, uniqueItems: true } },
};

const notFoundSpecs = (id: string) => notFound(`No such QoS spec ${id}.`);
const view = (ctx: RequestContext, q: QosSpecsRecord) => ({ qos_specs: { id: q.id, name: q.name, consumer: q.consumer, specs: q.specs }, links: resourceLinks(ctx, 'qos-specs', q.id) });

async function found(ctx: RequestContext, id: string) {
  const r = await qosStore(ctx.services).get(id);
  if (!r) throw notFoundSpecs(id);
  return r;
}

/** utils.validate_dictionary_string_length: string keys of 1-255, string values of 0-255 (null allowed). */
function checkStrings(specs: Record<string, unknown>): void {
  for (const [k, v] of Object.entries(specs)) {
    if (k.length < 1 || k.length > 255) throw badRequest(`Invalid input received: QoS specs key has ${k.length < 1 ? 'a minimum character requirement of 1' : 'more than 255 characters'}.`);
    if (v === null) continue;
    if (typeof v !== 'string') throw badRequest('Invalid input received: QoS specs value is not a string or unicode');
    if (v.length > 255) throw badRequest('Invalid input received: QoS specs value has more than 255 characters.');
  }
}

/** QualityOfServiceSpecs' consumer field (its message names Cinder's values). */
function consumerOf(v: unknown, wrap: (m: string) => string): QosSpecsRecord['consumer'] {
  if (typeof v === 'string' && (QOS_CONSUMERS as readonly string[]).includes(v)) return v as QosSpecsRecord['consumer'];
  throw badRequest(wrap(`Invalid qos specs: Valid consumer of QoS specs are: ${QOS_CONSUMERS.join(', ')}`));
}

async function listing(ctx: RequestContext) {
  const q = ctx.query;
  const page = pageRequest(q);
  const sort = sortParams(q, ['id', 'name', 'consumer', 'created_at']);
  // remove_invalid_filter_options: only id, name and consumer filter (the paging keys are read above).
  const filters = ['id', 'name', 'consumer'].filter((k) => q.has(k));
  const all = (await qosStore(ctx.services).list()).filter((r) => filters.every((k) => String((r as unknown as Record<string, unknown>)[k]) === q.get(k)));
  all.sort(compareBy<QosSpecsRecord>(sort.length ? sort : [{ key: 'created_at', dir: 'desc' }], (r, k) => (r as unknown as Record<string, unknown>)[k]));
  const items = pageAfter(all, page.marker, page.limit, (m) => notFoundSpecs(m), offsetParam(q));
  const body: Record<string, unknown> = { qos_specs: items.map((r) => view(ctx, r).qos_specs) };
  const links = nextLinks(collectionUrl(ctx, '/qos-specs'), q, items, page);
  if (links) body.qos_specs_links = links;
  return json(body);
}

async function create(ctx: RequestContext) {
  const { name: rawName, ...rest } = validateBody<{ qos_specs: Record<string, unknown> & { name: string } }>(createSchema, ctx.body).qos_specs;
  const name = rawName.trim();
  if (!name) throw badRequest("Invalid input for field/attribute name. Value: . The 'name' can not be empty.");
  checkStrings(rest);
  const { consumer: rawConsumer, ...specs } = rest;
  const consumer = rawConsumer ? consumerOf(rawConsumer, (m) => m) : 'back-end';
  const now = cinderTime();
  const rec: QosSpecsRecord = { id: randomUUID(), name, consumer, specs: specs as Record<string, string | null>, created_at: now, updated_at: null };
  await qosStore(ctx.services)
    .create(rec)
    .catch((e) => {
      throw e instanceof AlreadyExistsError ? conflict(`QoS Specs ${name} already exists.`) : e;
    });
  return json(view(ctx, rec));
}

async function show(ctx: RequestContext) {
  return json(view(ctx, (await found(ctx, ctx.params.qos_id)).value));
}

/** update: the keys set (consumer among them), 200 with the body as given. */
async function update(ctx: RequestContext) {
  const body = validateBody<{ qos_specs: Record<string, string | null> }>(setSchema, ctx.body);
  await found(ctx, ctx.params.qos_id);
  const { consumer, ...specs } = body.qos_specs;
  // qos_specs.update wraps its InvalidInput as InvalidQoSSpecs.
  try {
    checkStrings(body.qos_specs);
  } catch (e) {
    throw badRequest(`Invalid qos specs: ${(e as Error).message}`);
  }
  const c = 'consumer' in body.qos_specs ? consumerOf(consumer, (m) => m) : undefined;
  await qosStore(ctx.services).update(ctx.params.qos_id, (r) => ({ ...r, ...(c ? { consumer: c } : {}), specs: { ...r.specs, ...specs }, updated_at: cinderTime() }));
  return json(body);
}

/** delete: refused while a type is associated (400 'Qos specs still in use.'), unless force disassociates them first. */
async function remove(ctx: RequestContext) {
  const force = ctx.query.has('force') ? boolParam(ctx.query.get('force'), 'force') : false;
  const cur = await found(ctx, ctx.params.qos_id);
  const types = await associatedTypes(ctx, cur.value.id);
  if (types.length && !force) throw badRequest('Qos specs still in use.');
  for (const t of types) await setTypeQos(ctx, t.id, cur.value.id, null);
  await qosStore(ctx.services).remove(cur.value);
  return { status: 202, headers: {}, body: undefined };
}

/** delete_keys: every key must be there (404 QoSSpecsKeyNotFound); the keys before a missing one go, as Cinder's loop saves in `finally`. */
async function deleteKeys(ctx: RequestContext) {
  const keys = validateBody<{ keys: string[] }>(unsetSchema, ctx.body).keys;
  await found(ctx, ctx.params.qos_id);
  let missing: string | undefined;
  await qosStore(ctx.services).update(ctx.params.qos_id, (r) => {
    missing = undefined;
    const specs = { ...r.specs };
    for (const k of keys) {
      if (!(k in specs)) {
        missing = k;
        break;
      }
      delete specs[k];
    }
    return { ...r, specs, updated_at: cinderTime() };
  });
  if (missing !== undefined) throw notFound(`QoS spec ${ctx.params.qos_id} has no spec with key ${missing}.`);
  return { status: 202, headers: {}, body: undefined };
}

async function associatedTypes(ctx: RequestContext, qosId: string) {
  return (await typeStore(ctx.services).list()).filter((t) => t.qos_specs_id === qosId);
}

/** The type's qos_specs_id from `from` (or anything when undefined) to `to`, under the type's ETag. */
async function setTypeQos(ctx: RequestContext, typeId: string, from: string | undefined, to: string | null): Promise<void> {
  const store = typeStore(ctx.services);
  for (let i = 0; ; i++) {
    const t = await store.get(typeId);
    if (!t) return;
    if (from !== undefined && t.value.qos_specs_id !== from) return;
    try {
      await store.replace(t, { ...t.value, qos_specs_id: to, updated_at: cinderTime() });
      return;
    } catch (e) {
      if (i >= 4) throw e;
    }
  }
}

async function associations(ctx: RequestContext) {
  const cur = await found(ctx, ctx.params.qos_id);
  return json({ qos_associations: (await associatedTypes(ctx, cur.value.id)).map((t) => ({ association_type: 'volume_type', name: t.name, id: t.id })) });
}

function typeIdParam(ctx: RequestContext): string {
  const id = ctx.query.get('vol_type_id');
  if (!id) throw badRequest('Volume Type id must not be None.');
  return id;
}

/** associate_qos_with_type: the type must exist, and carry no other spec (400 InvalidVolumeType). */
async function associate(ctx: RequestContext) {
  const typeId = typeIdParam(ctx);
  const cur = await found(ctx, ctx.params.qos_id);
  const store = typeStore(ctx.services);
  for (let i = 0; ; i++) {
    const t = await store.get(typeId);
    if (!t) throw notFound(`Volume type ${typeId} could not be found.`);
    const other = t.value.qos_specs_id;
    if (other === cur.value.id) break;
    if (other) throw badRequest(`Invalid volume type: Type ${typeId} is already associated with another qos specs: ${other}`);
    try {
      await store.replace(t, { ...t.value, qos_specs_id: cur.value.id, updated_at: cinderTime() });
      break;
    } catch (e) {
      if (i >= 4) throw e;
    }
  }
  return { status: 202, headers: {}, body: undefined };
}

/** qos_specs_disassociate: the type must exist (404); a type not associated with this spec is left as it is. */
async function disassociate(ctx: RequestContext) {
  const typeId = typeIdParam(ctx);
  const cur = await found(ctx, ctx.params.qos_id);
  if (!(await typeStore(ctx.services).get(typeId))) throw notFound(`Volume type ${typeId} could not be found.`);
  await setTypeQos(ctx, typeId, cur.value.id, null);
  return { status: 202, headers: {}, body: undefined };
}

async function disassociateAll(ctx: RequestContext) {
  const cur = await found(ctx, ctx.params.qos_id);
  for (const t of await associatedTypes(ctx, cur.value.id)) await setTypeQos(ctx, t.id, cur.value.id, null);
  return { status: 202, headers: {}, body: undefined };
}

export const qosSpecsRoutes: Route[] = [
  cinderRoute('qos-specs-list', 'GET', '/qos-specs', 'volume_extension:qos_specs_manage:get_all', listing),
  cinderRoute('qos-specs-create', 'POST', '/qos-specs', 'volume_extension:qos_specs_manage:create', create),
  cinderRoute('qos-specs-show', 'GET', '/qos-specs/{qos_id}', 'volume_extension:qos_specs_manage:get', show),
  cinderRoute('qos-specs-update', 'PUT', '/qos-specs/{qos_id}', 'volume_extension:qos_specs_manage:update', update),
  cinderRoute('qos-specs-delete', 'DELETE', '/qos-specs/{qos_id}', 'volume_extension:qos_specs_manage:delete', remove),
  cinderRoute('qos-specs-delete-keys', 'PUT', '/qos-specs/{qos_id}/delete_keys', 'volume_extension:qos_specs_manage:delete', deleteKeys),
  cinderRoute('qos-specs-associations', 'GET', '/qos-specs/{qos_id}/associations', 'volume_extension:qos_specs_manage:get_all', associations),
  cinderRoute('qos-specs-associate', 'GET', '/qos-specs/{qos_id}/associate', 'volume_extension:qos_specs_manage:update', associate),
  cinderRoute('qos-specs-disassociate', 'GET', '/qos-specs/{qos_id}/disassociate', 'volume_extension:qos_specs_manage:update', disassociate),
  cinderRoute('qos-specs-disassociate-all', 'GET', '/qos-specs/{qos_id}/disassociate_all', 'volume_extension:qos_specs_manage:update', disassociateAll),
];
