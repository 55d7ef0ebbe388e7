// os-volume_upload_image: a volume's data becomes a Jacket image. The action creates the image record
// (queued, owned by the project, as Cinder asks Glance to) and turns the volume `uploading`; the step
// exports the disk (read SAS), writes the fixed VHD page blob image-<id>.vhd in the images container
// with Glance's checksums, marks the image `saving` with its blob and hands it to the images module's
// managed-image step, which makes it `active` (docs/images.md).
import { randomUUID } from 'node:crypto';
import type { RequestContext } from '../../http/router';
import type { Services } from '../../services';
import { accepted } from '../../http/respond';
import { badRequest } from '../../http/errors';
import { validateBody } from '../../api/validation';
import { done, type WorkItem, type WorkKind } from '../../work/types';
import { startWork } from '../../work/ledger';
import { log } from '../../log';
import { imageStore, glanceTime, newImageRecord, type Visibility } from '../../image/model';
import { blobNameOf, IMAGES_CONTAINER } from '../../image/vhdBlob';
import { MANAGE_KIND } from '../../image/managedImage';
import { DISK_FORMATS } from '../../image/api/images';
import { VHD_FOOTER_SIZE } from '../../storage/vhd';
import { booleanSchema, boolParam, cinderTime } from '../common';
import { authorize } from '../../api/policy';
import { findVolume, volumeTables } from '../model';
import { typeStore } from '../types/store';
import { messageOf, projectOf } from '../volumes/work';
import { VOLUME_UPLOAD_IMAGE } from '../workKinds';
import { messageForWork } from '../messages/service';

/** volume_actions.volume_upload_image (3.0). */
const uploadSchema = {
  type: 'object',
  required: ['os-volume_upload_image'],
  additionalProperties: false,
  properties: {
    'os-volume_upload_image': {
      type: 'object',
      required: ['image_name'],
      additionalProperties: false,
      properties: {
        container_format: { type: ['string', 'null'], minLength: 0, maxLength: 255 },
        disk_format: { type: 'string' },
        force: { type: ['boolean', 'string'] },
        image_name: { type: 'string', minLength: 1, maxLength: 255 },
      },
    },
  },
};

/** volume_actions.volume_upload_image_v31 (3.1, UPLOAD_IMAGE_PARAMS): adds visibility and protected. */
const uploadSchemaV31 = {
  ...uploadSchema,
  properties: {
    'os-volume_upload_image': {
      ...uploadSchema.properties['os-volume_upload_image'],
      properties: {
        ...uploadSchema.properties['os-volume_upload_image'].properties,
        visibility: { type: 'string', enum: ['community', 'public', 'private', 'shared'] },
        protected: booleanSchema,
      },
    },
  },
};

type UploadBody = { image_name: string; disk_format?: string; container_format?: string | null; force?: boolean | string; visibility?: Visibility; protected?: boolean | string };

export async function uploadToImage(ctx: RequestContext) {
  const v31 = ctx.microversion?.atLeast('3.1') ?? false;
  const b = validateBody<{ 'os-volume_upload_image': UploadBody }>(v31 ? uploadSchemaV31 : uploadSchema, ctx.body)['os-volume_upload_image'];
  const force = b.force === undefined ? false : boolParam(b.force, 'force');
  // Before 3.1 Cinder asks Glance for its defaults (private, unprotected); from 3.1 the caller chooses.
  const visibility: Visibility = v31 ? (b.visibility ?? 'private') : 'private';
  const isProtected = v31 && b.protected !== undefined ? boolParam(b.protected, 'protected') : false;
  const diskFormat = b.disk_format ?? 'raw';
  const containerFormat = b.container_format ?? 'bare';
  if (!DISK_FORMATS.includes(diskFormat)) {
    throw badRequest(`Invalid disk-format '${diskFormat}' is specified. Allowed disk-formats are ${DISK_FORMATS.join(', ')}.`);
  }
  if (containerFormat !== 'bare') throw badRequest(`Invalid container-format '${containerFormat}' is specified. Allowed container-formats are bare.`);
  const cur = await findVolume(ctx, ctx.params.volume_id);
  if (visibility === 'public') authorize(ctx, 'volume_extension:volume_actions:upload_public');
  const v = cur.value;
  const allowed = force ? ['available', 'in-use'] : ['available'];
  if (!allowed.includes(v.status)) {
    throw badRequest(`Invalid volume: Volume ${v.id} status must be available or in-use, but current status is: ${v.status}.`);
  }
  const imageId = randomUUID();
  const img = newImageRecord({
    id: imageId,
    name: b.image_name,
    owner: cur.partitionKey,
    visibility,
    protected: isProtected,
    disk_format: diskFormat,
    container_format: containerFormat,
    min_disk: v.size,
    // The source volume's own image properties carry over, as Cinder copies them to Glance.
    properties: Object.fromEntries(
      Object.entries(v.image_metadata ?? {}).filter(([k]) => !['image_id', 'image_name', 'checksum', 'container_format', 'disk_format', 'min_disk', 'min_ram', 'size'].includes(k)),
    ),
  });
  const t = volumeTables(ctx.services);
  await t.volumes
    .replace(cur.partitionKey, cur.rowKey, { ...v, status: 'uploading', previous_status: v.status, upload: { image_id: imageId, disk_format: diskFormat, force }, updated_at: cinderTime() }, cur.etag)
    .catch(() => {
      throw badRequest(`Invalid volume: Volume ${v.id} status must be available or in-use, but current status is: changing.`);
    });
  await imageStore(ctx.services).create(img);
  await startWork(ctx.services, { kind: VOLUME_UPLOAD_IMAGE, id: v.id, data: { project: cur.partitionKey }, requestId: ctx.requestId });
  const type = await typeStore(ctx.services).get(v.volume_type_id);
  return accepted({
    'os-volume_upload_image': {
      container_format: containerFormat,
      disk_format: diskFormat,
      display_description: v.description,
      id: v.id,
      image_id: imageId,
      image_name: b.image_name,
      protected: isProtected,
      size: v.size,
      status: 'uploading',
      updated_at: cinderTime(),
      visibility,
      volume_type: type ? type.value.name : null,
    },
  });
}

/**
 * The copy runs in one step: Glance's checksums (md5, sha512) hash the bytes in order, which a step
 * cannot carry to the next (docs/volumes.md). Given up, the volume goes back and the image is killed.
 */
const uploadWork: WorkKind = {
  kind: VOLUME_UPLOAD_IMAGE,
  async run(item, s) {
    const t = volumeTables(s);
    const cur = await t.volumes.get(projectOf(item), item.id);
    if (!cur || cur.value.status !== 'uploading' || !cur.value.upload) return done();
    const v = cur.value;
    const up = v.upload!;
    const store = imageStore(s);
    const image = await store.getAny(up.image_id);
    if (!image || image.value.deleting || image.value.status !== 'queued') {
      await releaseUploading(s, item);
      return done();
    }
    const arm = s.azure.disks;
    const sas = await arm.grantRead('disks', v.disk.name, 4 * 3600);
    try {
      const dataBytes = v.size * 1024 ** 3;
      const blobName = blobNameOf(up.image_id);
      const r = await arm.copy.copyWhole(
        sas,
        { container: IMAGES_CONTAINER, name: blobName },
        dataBytes,
        { jacket: 'image', jacket_image_id: up.image_id, jacket_volume_id: v.id },
        up.disk_format === 'vhd' ? 'vhd' : 'raw',
      );
      await store.update(image.value, (x) =>
        x.status !== 'queued' || x.deleting
          ? undefined
          : {
              ...x,
              status: 'saving',
              blob: { name: blobName, dataBytes, blobBytes: dataBytes + VHD_FOOTER_SIZE },
              size: up.disk_format === 'vhd' ? dataBytes + VHD_FOOTER_SIZE : dataBytes,
              virtual_size: dataBytes,
              checksum: r.md5 ?? null,
              os_hash_algo: 'sha512',
              os_hash_value: r.sha512 ?? null,
              updated_at: glanceTime(),
            },
      );
      await startWork(s, { kind: MANAGE_KIND, id: up.image_id, requestId: item.requestId });
    } finally {
      await arm.revokeAccess('disks', v.disk.name).catch((e) => log.warn('revoke access failed', { disk: v.disk.name, error: messageOf(e) }));
    }
    await releaseUploading(s, item);
    return done();
  },
  async giveUp(item, s, f) {
    const cur = await volumeTables(s).volumes.get(projectOf(item), item.id);
    if (!cur || cur.value.status !== 'uploading') return;
    log.warn('upload to image failed', { volume: item.id, code: f.code, reason: f.message.slice(0, 300) });
    const imageId = cur.value.upload?.image_id;
    const image = imageId ? await imageStore(s).getAny(imageId) : undefined;
    if (image) await imageStore(s).update(image.value, (x) => (x.status !== 'queued' ? undefined : { ...x, status: 'killed', updated_at: glanceTime() }));
    await releaseUploading(s, item);
    // volume/manager.py copy_volume_to_image.
    await messageForWork(s, item, cur.partitionKey, { action: 'COPY_VOLUME_TO_IMAGE', detail: 'FAILED_TO_UPLOAD_VOLUME', resourceType: 'VOLUME', resourceUuid: item.id });
  },
};

/** The volume goes back to what it was before uploading. */
async function releaseUploading(s: Services, item: WorkItem) {
  await volumeTables(s).volumes.update(projectOf(item), item.id, (x) =>
    x.status !== 'uploading' ? undefined : { ...x, status: x.previous_status ?? 'available', previous_status: undefined, upload: undefined, updated_at: cinderTime() },
  );
}

export const UPLOAD_WORK: WorkKind[] = [uploadWork];
