// Nova's image proxy (nova/api/openstack/compute/images.py): GET /images, /images/detail,
// /images/{id}, DELETE /images/{id}, over the same image records Glance serves under /image.
// Nova removed the proxy at 2.36 (MAX_PROXY_API_SUPPORT_VERSION = 2.35); above that it answers 404.
import type { RequestContext, Route } from '../../http/router';
import { json, noContent } from '../../http/respond';
import { forbidden, notFound } from '../../http/errors';
import { pageRequest, nextLinks, pageOf } from '../../api/pagination';
import { ConcurrencyError } from '../../store/tables';
import { imageStore, canModify, glanceTime, type ImageRecord } from '../../image/model';
import { DELETE_KIND } from '../../image/managedImage';
import { startWork } from '../../work/ledger';
import { PROXY_API, computeRoute, computeUrl } from '../common';

export const imageNotFound = () => notFound('Image not found.');

/** The proxy (and image metadata, up to 2.38) is gone at later microversions: 404 as Nova's router. */
export function proxyGone(ctx: RequestContext, lastVersion: string): void {
  const [maj, min] = lastVersion.split('.').map(Number);
  if (ctx.microversion?.atLeast(`${maj}.${min + 1}`)) throw notFound('The resource could not be found.');
}

/** The image as Nova may show it to the caller (deleted ones are gone), or Nova's 404. */
export async function novaImage(ctx: RequestContext, id = ctx.params.image_id): Promise<{ image: ImageRecord; etag?: string }> {
  const found = await imageStore(ctx.services).visible(ctx.auth!, id);
  if (!found) throw imageNotFound();
  return found;
}

// nova/api/openstack/compute/views/images.py: Glance status -> Nova status and progress.
const STATUS: Record<string, string> = { active: 'ACTIVE', queued: 'SAVING', saving: 'SAVING', deleted: 'DELETED', pending_delete: 'DELETED', killed: 'ERROR' };
const PROGRESS: Record<string, number> = { queued: 25, saving: 50, active: 100 };

function links(ctx: RequestContext, id: string) {
  const base = ctx.services.config.publicUrl;
  return [
    { rel: 'self', href: computeUrl(ctx, `/images/${id}`) },
    { rel: 'bookmark', href: `${base}/compute/images/${id}` },
    { rel: 'alternate', type: 'application/vnd.openstack.image', href: `${base}/image/images/${id}` },
  ];
}

const basic = (ctx: RequestContext, img: ImageRecord) => ({ id: img.id, name: img.name, links: links(ctx, img.id) });

export function novaImageView(ctx: RequestContext, img: ImageRecord): Record<string, unknown> {
  const v: Record<string, unknown> = {
    id: img.id,
    name: img.name,
    minRam: img.min_ram,
    minDisk: img.min_disk,
    metadata: { ...img.properties },
    created: img.created_at,
    updated: img.updated_at,
    status: STATUS[img.status] ?? 'UNKNOWN',
    progress: PROGRESS[img.status] ?? 0,
    links: links(ctx, img.id),
    'OS-EXT-IMG-SIZE:size': img.size ?? 0,
  };
  const serverId = img.properties.instance_uuid;
  if (serverId) {
    v.server = {
      id: serverId,
      links: [
        { rel: 'self', href: computeUrl(ctx, `/servers/${serverId}`) },
        { rel: 'bookmark', href: `${ctx.services.config.publicUrl}/compute/servers/${serverId}` },
      ],
    };
  }
  const adc = img.properties.auto_disk_config;
  if (adc !== undefined) v['OS-DCF:diskConfig'] = ['true', '1', 'yes', 'on'].includes(adc.toLowerCase()) ? 'AUTO' : 'MANUAL';
  return v;
}

/** Nova's list filters (images.py _get_filters): name, status, changes-since, minDisk, minRam, server, type, property-*. */
function matches(img: ImageRecord, q: URLSearchParams): boolean {
  if (q.has('name') && img.name !== q.get('name')) return false;
  if (q.has('status') && (STATUS[img.status] ?? 'UNKNOWN') !== q.get('status')!.toUpperCase()) return false;
  if (q.has('changes-since')) {
    const t = Date.parse(q.get('changes-since')!);
    if (!Number.isNaN(t) && Date.parse(img.updated_at) < t) return false;
  }
  if (q.has('minDisk') && img.min_disk < Number(q.get('minDisk'))) return false;
  if (q.has('minRam') && img.min_ram < Number(q.get('minRam'))) return false;
  if (q.has('server') && !(img.properties.instance_uuid ?? '').endsWith(q.get('server')!.split('/').pop()!)) return false;
  if (q.has('type') && img.properties.image_type !== q.get('type')) return false;
  for (const [k, v] of q) if (k.startsWith('property-') && img.properties[k.slice(9)] !== v) return false;
  return true;
}

async function listing(ctx: RequestContext, detail: boolean) {
  proxyGone(ctx, '2.35');
  const page = pageRequest(ctx.query);
  const all = (await imageStore(ctx.services).listVisible(ctx.auth!, undefined, undefined))
    .filter((i) => !i.os_hidden && matches(i, ctx.query))
    // Glance's default order, which Nova passes through: newest first.
    .sort((a, b) => (a.created_at === b.created_at ? (a.id < b.id ? 1 : -1) : a.created_at < b.created_at ? 1 : -1));
  const items = pageOf(all, page);
  const body: Record<string, unknown> = { images: items.map((i) => (detail ? novaImageView(ctx, i) : basic(ctx, i))) };
  const next = nextLinks(computeUrl(ctx, detail ? '/images/detail' : '/images'), ctx.query, items, page);
  if (next) body.images_links = next;
  return json(body);
}

async function show(ctx: RequestContext) {
  proxyGone(ctx, '2.35');
  return json({ image: novaImageView(ctx, (await novaImage(ctx)).image) });
}

async function remove(ctx: RequestContext) {
  proxyGone(ctx, '2.35');
  const { image, etag } = await novaImage(ctx);
  if (image.marketplace || image.protected || !canModify(ctx.auth!, image)) throw forbidden('You are not allowed to delete the image.');
  try {
    await imageStore(ctx.services).replace({ ...image, deleting: true, status: 'deleted', updated_at: glanceTime() }, etag!);
  } catch (e) {
    if (e instanceof ConcurrencyError) throw imageNotFound();
    throw e;
  }
  await startWork(ctx.services, { kind: DELETE_KIND, id: image.id, requestId: ctx.requestId, data: { managed: image.blob !== undefined } });
  return noContent();
}

export const imageRoutes: Route[] = [
  computeRoute('images-list', 'GET', '/images', 'get_images', (ctx) => listing(ctx, false), PROXY_API),
  computeRoute('images-detail', 'GET', '/images/detail', 'get_images', (ctx) => listing(ctx, true), PROXY_API),
  computeRoute('images-show', 'GET', '/images/{image_id}', 'get_image', show, PROXY_API),
  computeRoute('images-delete', 'DELETE', '/images/{image_id}', 'delete_image', remove, PROXY_API),
];
