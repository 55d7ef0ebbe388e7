// Nova's image metadata API (nova/api/openstack/compute/image_metadata.py): the image's Glance
// properties, read and written through /compute/v2.1/images/{id}/metadata. Gone at 2.39.
import type { RequestContext, Route } from '../../http/router';
import { json, noContent } from '../../http/respond';
import { badRequest, forbidden, notFound } from '../../http/errors';
import { validateBody } from '../../api/validation';
import { ConcurrencyError } from '../../store/tables';
import { imageStore, canModify, glanceTime, type ImageRecord } from '../../image/model';
import { computeRoute } from '../common';
import { novaImage, proxyGone } from './api';

const KEY = '^[a-zA-Z0-9-_:. ]{1,255}$';
const metadata = { type: 'object', patternProperties: { [KEY]: { type: 'string', maxLength: 255 } }, additionalProperties: false };
const createSchema = { type: 'object', properties: { metadata }, required: ['metadata'], additionalProperties: false };
const updateAllSchema = createSchema;
const updateSchema = {
  type: 'object',
  properties: { meta: { ...metadata, minProperties: 1, maxProperties: 1 } },
  required: ['meta'],
  additionalProperties: false,
};

/** Nova's metadata_items quota default. */
const MAX_ITEMS = 128;
const LAST = '2.38';

function checkQuota(props: Record<string, string>): void {
  if (Object.keys(props).length > MAX_ITEMS) throw forbidden('Image metadata limit exceeded');
}

async function read(ctx: RequestContext) {
  proxyGone(ctx, LAST);
  return (await novaImage(ctx)).image;
}

/** Replaces the image's properties (ETag-conditional, retried), as Nova's purge_props update. */
async function writeProps(ctx: RequestContext, change: (props: Record<string, string>) => Record<string, string>): Promise<ImageRecord> {
  const store = imageStore(ctx.services);
  for (let attempt = 0; ; attempt++) {
    const { image, etag } = await novaImage(ctx);
    if (!canModify(ctx.auth!, image)) throw forbidden(`Not authorized for image ${image.id}.`);
    const properties = change({ ...image.properties });
    checkQuota(properties);
    const next = { ...image, properties, updated_at: glanceTime() };
    try {
      await store.replace(next, etag!);
      return next;
    } catch (e) {
      if (!(e instanceof ConcurrencyError) || attempt >= 4) throw e;
    }
  }
}

async function index(ctx: RequestContext) {
  return json({ metadata: (await read(ctx)).properties });
}

async function show(ctx: RequestContext) {
  const img = await read(ctx);
  const key = ctx.params.key;
  if (!(key in img.properties)) throw notFound('The resource could not be found.');
  return json({ meta: { [key]: img.properties[key] } });
}

async function create(ctx: RequestContext) {
  proxyGone(ctx, LAST);
  const b = validateBody<{ metadata: Record<string, string> }>(createSchema, ctx.body);
  const img = await writeProps(ctx, (p) => ({ ...p, ...b.metadata }));
  return json({ metadata: img.properties });
}

async function updateAll(ctx: RequestContext) {
  proxyGone(ctx, LAST);
  const b = validateBody<{ metadata: Record<string, string> }>(updateAllSchema, ctx.body);
  checkQuota(b.metadata);
  await writeProps(ctx, () => ({ ...b.metadata }));
  return json({ metadata: b.metadata });
}

async function update(ctx: RequestContext) {
  proxyGone(ctx, LAST);
  const b = validateBody<{ meta: Record<string, string> }>(updateSchema, ctx.body);
  const key = ctx.params.key;
  if (!(key in b.meta)) throw badRequest('Request body and URI mismatch');
  await writeProps(ctx, (p) => ({ ...p, [key]: b.meta[key] }));
  return json({ meta: b.meta });
}

async function remove(ctx: RequestContext) {
  proxyGone(ctx, LAST);
  const key = ctx.params.key;
  await writeProps(ctx, (p) => {
    if (!(key in p)) throw notFound('Invalid metadata key');
    delete p[key];
    return p;
  });
  return noContent();
}

export const imageMetadataRoutes: Route[] = [
  computeRoute('image-metadata-index', 'GET', '/images/{image_id}/metadata', 'get_image', index),
  computeRoute('image-metadata-create', 'POST', '/images/{image_id}/metadata', 'modify_image', create),
  computeRoute('image-metadata-update-all', 'PUT', '/images/{image_id}/metadata', 'modify_image', updateAll),
  computeRoute('image-metadata-show', 'GET', '/images/{image_id}/metadata/{key}', 'get_image', show),
  computeRoute('image-metadata-update', 'PUT', '/images/{image_id}/metadata/{key}', 'modify_image', update),
  computeRoute('image-metadata-delete', 'DELETE', '/images/{image_id}/metadata/{key}', 'modify_image', remove),
];
