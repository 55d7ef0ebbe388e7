// os-aggregates (admin; nova/api/openstack/compute/aggregates.py): parse, validate (Nova's schemas),
// authorize (Nova's policies, enforced by the pipeline), render (Nova's _marshall_aggregate: `uuid`
// from 2.41; create leaves out hosts and metadata). The rules are ./service.ts, the records ./model.ts.
// 2.81's POST /os-aggregates/{id}/images asks each host's virt driver to pre-cache images; Jacket's
// driver has no image cache (Azure copies an image into each managed disk), so, as Nova answers for such
// a driver, the request is accepted (202) and nothing is cached.
import type { RequestContext, Route } from '../../http/router';
import type { ApiResponse } from '../../http/types';
import type { Microversion } from '../../api/microversion';
import { accepted, json } from '../../http/respond';
import { badRequest } from '../../http/errors';
import { validateBody } from '../../api/validation';
import { actionPolicy } from '../../api/policy';
import { computeRoute } from '../common';
import { AGGREGATE_ACTION_POLICIES } from '../policy';
import { listAggregates, type AggregateRecord } from './model';
import * as svc from './service';

const zone = { oneOf: [{ type: 'string', format: 'az_name', minLength: 1, maxLength: 255 }, { type: 'null' }] };
/** aggregates.create (2.1). */
export const createSchema = {
  type: 'object',
  properties: {
    aggregate: {
      type: 'object',
      properties: { name: { type: 'string', format: 'name', minLength: 1, maxLength: 255 }, availability_zone: zone },
      required: ['name'],
      additionalProperties: false,
    },
  },
  required: ['aggregate'],
  additionalProperties: false,
};
/** aggregates.update (2.1). */
export const updateSchema = {
  type: 'object',
  properties: {
    aggregate: {
      type: 'object',
      properties: { name: { type: 'string', format: 'name_with_leading_trailing_spaces', minLength: 1, maxLength: 255 }, availability_zone: zone },
      anyOf: [{ required: ['name'] }, { required: ['availability_zone'] }],
      additionalProperties: false,
    },
  },
  required: ['aggregate'],
  additionalProperties: false,
};
const hostBody = (key: string) => ({
  type: 'object',
  properties: {
    [key]: {
      type: 'object',
      properties: { host: { type: 'string', minLength: 1, maxLength: 255, pattern: '^[a-zA-Z0-9-._]*$' } },
      required: ['host'],
      additionalProperties: false,
    },
  },
  required: [key],
  additionalProperties: false,
});
const setMetadataSchema = {
  type: 'object',
  properties: {
    set_metadata: {
      type: 'object',
      properties: {
        metadata: { type: 'object', patternProperties: { '^[a-zA-Z0-9-_:. ]{1,255}$': { type: ['string', 'null'], maxLength: 255 } }, additionalProperties: false },
      },
      required: ['metadata'],
      additionalProperties: false,
    },
  },
  required: ['set_metadata'],
  additionalProperties: false,
};
/** aggregate_images.aggregate_images (2.81). */
const imagesSchema = {
  type: 'object',
  properties: {
    cache: { type: ['array'], minItems: 1, items: { type: 'object', properties: { id: { type: 'string', format: 'uuid' } }, required: ['id'], additionalProperties: false } },
  },
  required: ['cache'],
  additionalProperties: false,
};

/** Nova's _marshall_aggregate: the object's fields (no soft-deleted ones are ever shown), `uuid` from 2.41. */
export function aggregateView(a: AggregateRecord, mv?: Microversion, create = false) {
  return {
    availability_zone: a.metadata.availability_zone ?? null,
    created_at: a.created_at,
    deleted: false,
    deleted_at: null,
    ...(create ? {} : { hosts: a.hosts, metadata: a.metadata }),
    id: a.id,
    name: a.name,
    updated_at: a.updated_at,
    ...(mv?.atLeast('2.41') ? { uuid: a.uuid } : {}),
  };
}

/** Nova's utils.validate_integer(id, 'id'): Python's int() of the string, else 400. */
function aggregateId(ctx: RequestContext): number {
  const raw = ctx.params.id;
  if (!/^\s*[+-]?\d+(_\d+)*\s*$/.test(raw)) throw badRequest('Invalid input received: id must be an integer');
  return Number(raw.replace(/_/g, '').trim());
}

const one = (ctx: RequestContext, a: AggregateRecord) => json({ aggregate: aggregateView(a, ctx.microversion) });

async function index(ctx: RequestContext) {
  return json({ aggregates: (await listAggregates(ctx.services)).map((a) => aggregateView(a, ctx.microversion)) });
}

async function create(ctx: RequestContext) {
  const b = validateBody<{ aggregate: { name: string; availability_zone?: string | null } }>(createSchema, ctx.body).aggregate;
  const a = await svc.create(ctx.services, b.name.trim(), b.availability_zone ? b.availability_zone.trim() : b.availability_zone);
  return json({ aggregate: aggregateView(a, ctx.microversion, true) });
}

async function show(ctx: RequestContext) {
  return one(ctx, await svc.show(ctx.services, aggregateId(ctx)));
}

async function update(ctx: RequestContext) {
  const b = validateBody<{ aggregate: { name?: string; availability_zone?: string | null } }>(updateSchema, ctx.body).aggregate;
  if (b.name !== undefined) b.name = b.name.trim();
  return one(ctx, await svc.update(ctx.services, aggregateId(ctx), b));
}

async function remove(ctx: RequestContext): Promise<ApiResponse> {
  await svc.remove(ctx.services, aggregateId(ctx));
  // Nova answers 200 with no body.
  return { status: 200, headers: {} };
}

/** POST /os-aggregates/{id}/action: add_host, remove_host, set_metadata (each its own policy), the first key Nova knows. */
async function action(ctx: RequestContext) {
  const body = ctx.body;
  if (typeof body !== 'object' || body === null || Array.isArray(body) || Object.keys(body).length === 0) throw badRequest('Malformed request body');
  const key = Object.keys(body).find((k) => k in AGGREGATE_ACTION_POLICIES);
  switch (key) {
    case 'add_host': {
      const host = validateBody<{ add_host: { host: string } }>(hostBody('add_host'), body).add_host.host;
      return one(ctx, await svc.addHost(ctx.services, aggregateId(ctx), host));
    }
    case 'remove_host': {
      const host = validateBody<{ remove_host: { host: string } }>(hostBody('remove_host'), body).remove_host.host;
      return one(ctx, await svc.removeHost(ctx.services, aggregateId(ctx), host));
    }
    case 'set_metadata': {
      const meta = validateBody<{ set_metadata: { metadata: Record<string, string | null> } }>(setMetadataSchema, body).set_metadata.metadata;
      return one(ctx, await svc.setMetadata(ctx.services, aggregateId(ctx), meta));
    }
    default:
      throw badRequest(`There is no such action: ${Object.keys(body)[0]}`);
  }
}

/** POST /os-aggregates/{id}/images (2.81; below it the pipeline's bare 404, as Nova's dispatch): see the header. */
async function images(ctx: RequestContext) {
  const ids = validateBody<{ cache: { id: string }[] }>(imagesSchema, ctx.body).cache.map((c) => c.id);
  const id = aggregateId(ctx);
  if (new Set(ids).size !== ids.length) throw badRequest('Duplicate images in request');
  await svc.show(ctx.services, id);
  return accepted();
}

export const aggregateRoutes: Route[] = [
  computeRoute('aggregates-list', 'GET', '/os-aggregates', 'os_compute_api:os-aggregates:index', index),
  computeRoute('aggregates-create', 'POST', '/os-aggregates', 'os_compute_api:os-aggregates:create', create),
  computeRoute('aggregates-show', 'GET', '/os-aggregates/{id}', 'os_compute_api:os-aggregates:show', show),
  computeRoute('aggregates-update', 'PUT', '/os-aggregates/{id}', 'os_compute_api:os-aggregates:update', update),
  computeRoute('aggregates-delete', 'DELETE', '/os-aggregates/{id}', 'os_compute_api:os-aggregates:delete', remove),
  computeRoute('aggregates-action', 'POST', '/os-aggregates/{id}/action', actionPolicy(AGGREGATE_ACTION_POLICIES), action),
  computeRoute('aggregates-images', 'POST', '/os-aggregates/{id}/images', 'compute:aggregates:images', images, { versions: { min: '2.81' } }),
];
