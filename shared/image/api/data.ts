// /image/v2/images/{id}/file: upload (PUT, streamed into a fixed VHD page blob) and download (GET).
// Status goes queued -> saving (upload running, then the managed image being made) -> active.
import type { Readable } from 'node:stream';
import type { RequestContext, Route } from '../../http/router';
import type { ApiResponse } from '../../http/types';
import { noContent } from '../../http/respond';
import { ApiError, badRequest, conflict, forbidden } from '../../http/errors';
import { isAdmin } from '../../api/policy';
import { ConcurrencyError } from '../../store/tables';
import { log } from '../../log';
import { imageStore, canModify, glanceTime, type ImageRecord } from '../model';
import { MANAGE_KIND } from '../managedImage';
import { blobNameOf, ImageDataError } from '../vhdBlob';
import { startWork } from '../../work/ledger';
import { imageRoute, notAuthorized, visibleImage } from './common';

/** Glance's image_size_cap default (1 TiB). */
export const IMAGE_SIZE_CAP = 1024 ** 4;

async function upload(ctx: RequestContext): Promise<ApiResponse> {
  const ct = (ctx.req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  if (ct !== 'application/octet-stream') throw new ApiError(415, 'Content-Type must be application/octet-stream');
  const found = await visibleImage(ctx);
  const img = found.image;
  if (!canModify(ctx.auth!, img)) throw notAuthorized('upload_image');
  if (!img.disk_format || !img.container_format) throw badRequest('Properties disk_format, container_format must be set prior to saving data.');
  const transition = () => conflict(`Image status transition from ${img.status} to saving is not allowed`);
  if (img.status !== 'queued') throw transition();
  const length = ctx.req.headers['content-length'] === undefined ? undefined : Number(ctx.req.headers['content-length']);
  if (length !== undefined && length > IMAGE_SIZE_CAP) throw new ApiError(413, 'The provided image is too large.');
  if (!ctx.req.stream) throw badRequest('No image data could be found');

  const store = imageStore(ctx.services);
  const name = blobNameOf(img.id);
  let saving: ImageRecord;
  try {
    saving = { ...img, status: 'saving', updated_at: glanceTime() };
    await store.replace(saving, found.etag!);
  } catch (e) {
    if (e instanceof ConcurrencyError) throw transition();
    throw e;
  }
  const blobs = ctx.services.azure.blobs;
  let w;
  try {
    w = await blobs.uploadImage(name, ctx.req.stream, {
      format: img.disk_format === 'vhd' ? 'vhd' : 'raw',
      expectedBytes: length && length > 0 ? length : undefined,
      maxBytes: IMAGE_SIZE_CAP,
    });
  } catch (e) {
    // Glance puts a failed upload back to queued, so it can be tried again; the partial blob goes.
    await blobs.deleteImage(name).catch(() => undefined);
    await store.update(saving, (v) => (v.status === 'saving' ? { ...v, status: 'queued', updated_at: glanceTime() } : undefined));
    if (e instanceof ImageDataError) throw new ApiError(e.status, e.message);
    throw e;
  }
  const done = await store.update(saving, (v) =>
    v.deleting
      ? undefined
      : {
          ...v,
          size: w.uploadedBytes,
          virtual_size: w.dataBytes,
          checksum: w.md5,
          os_hash_algo: 'sha512',
          os_hash_value: w.sha512,
          blob: { name, dataBytes: w.dataBytes, blobBytes: w.blobBytes, ...(w.originalFooter ? { originalFooter: w.originalFooter } : {}) },
          updated_at: glanceTime(),
        },
  );
  if (!done || done.value.deleting) {
    // Deleted while uploading: the bytes are nobody's.
    await blobs.deleteImage(name);
    return noContent();
  }
  // Active once the managed image exists (the work step moves it on).
  await startWork(ctx.services, { kind: MANAGE_KIND, id: img.id, requestId: ctx.requestId });
  log.info('image uploaded', { image: img.id, bytes: w.uploadedBytes, blobBytes: w.blobBytes });
  return noContent();
}

async function download(ctx: RequestContext): Promise<ApiResponse> {
  const { image } = await visibleImage(ctx);
  // glance/api/v2/image_data.py download: a deactivated image's data is for admins only.
  if (image.status === 'deactivated' && !isAdmin(ctx.auth!)) throw forbidden('The requested image has been deactivated. Image data download is forbidden.');
  // Glance answers 204 when an image has no data to give (queued, marketplace, not yet active).
  if (!['active', 'deactivated'].includes(image.status) || !image.blob) return noContent();
  const body: Readable = await ctx.services.azure.blobs.downloadImage(image.blob.name, image.blob, image.disk_format);
  return {
    status: 200,
    headers: {
      'Content-Type': 'application/octet-stream',
      'Content-Length': String(image.size),
      ...(image.checksum ? { 'Content-MD5': image.checksum } : {}),
    },
    body,
  };
}

export const glanceDataRoutes: Route[] = [
  imageRoute('images-upload', 'PUT', '/v2/images/{image_id}/file', 'upload_image', upload, { streamBody: true }),
  imageRoute('images-download', 'GET', '/v2/images/{image_id}/file', 'download_image', download),
];
