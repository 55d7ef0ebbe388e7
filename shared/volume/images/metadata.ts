// Volume image metadata (os-vol-image-meta): the Glance properties of the image a volume was made
// from, shown in volume show/list as `volume_image_metadata`, and the volume actions
// os-show_image_metadata, os-set_image_metadata and os-unset_image_metadata
// (cinder/api/contrib/volume_image_metadata.py). Writes go through the record's ETag.
import type { RequestContext } from '../../http/router';
import { json } from '../../http/respond';
import { badRequest, notFound } from '../../http/errors';
import { validateBody } from '../../api/validation';
import { cinderTime } from '../common';
import { findVolume, volumeTables } from '../model';

const keyPattern = '^[a-zA-Z0-9-_:. /]{1,255}$';
// mysql_text: at most 65535 bytes.
const setSchema = {
  type: 'object',
  required: ['os-set_image_metadata'],
  additionalProperties: false,
  properties: {
    'os-set_image_metadata': {
      type: 'object',
      required: ['metadata'],
      additionalProperties: false,
      properties: { metadata: { type: 'object', additionalProperties: false, patternProperties: { [keyPattern]: { type: 'string', maxLength: 65535 } } } },
    },
  },
};
const unsetSchema = {
  type: 'object',
  required: ['os-unset_image_metadata'],
  additionalProperties: false,
  properties: { 'os-unset_image_metadata': { type: 'object', required: ['key'], additionalProperties: false, properties: { key: { type: 'string', minLength: 1, maxLength: 255 } } } },
};
const showSchema = { type: 'object', required: ['os-show_image_metadata'], additionalProperties: false, properties: { 'os-show_image_metadata': {} } };

/** Statuses in which Cinder refuses metadata changes. */
const BUSY = ['maintenance', 'uploading'];

export async function showImageMetadata(ctx: RequestContext) {
  validateBody(showSchema, ctx.body);
  const v = (await findVolume(ctx, ctx.params.volume_id)).value;
  return json({ metadata: v.image_metadata ?? {} });
}

export async function setImageMetadata(ctx: RequestContext) {
  const meta = validateBody<{ 'os-set_image_metadata': { metadata: Record<string, string> } }>(setSchema, ctx.body)['os-set_image_metadata'].metadata;
  const cur = await findVolume(ctx, ctx.params.volume_id);
  if (BUSY.includes(cur.value.status)) throw badRequest(`Invalid volume: Volume status must be available or in-use, but current status is: ${cur.value.status}.`);
  const stored = await volumeTables(ctx.services).volumes.update(cur.partitionKey, cur.rowKey, (v) => ({
    ...v,
    image_metadata: { ...(v.image_metadata ?? {}), ...meta },
    updated_at: cinderTime(),
  }));
  return json({ metadata: stored?.value.image_metadata ?? {} });
}

export async function unsetImageMetadata(ctx: RequestContext) {
  const key = validateBody<{ 'os-unset_image_metadata': { key: string } }>(unsetSchema, ctx.body)['os-unset_image_metadata'].key;
  const cur = await findVolume(ctx, ctx.params.volume_id);
  const missing = () => notFound('Metadata item was not found');
  if (!(key in (cur.value.image_metadata ?? {}))) throw missing();
  if (BUSY.includes(cur.value.status)) throw badRequest(`Invalid volume: Volume status must be available or in-use, but current status is: ${cur.value.status}.`);
  await volumeTables(ctx.services).volumes.update(cur.partitionKey, cur.rowKey, (v) => {
    const next = { ...(v.image_metadata ?? {}) };
    if (!(key in next)) throw missing();
    delete next[key];
    return { ...v, image_metadata: Object.keys(next).length ? next : undefined, updated_at: cinderTime() };
  });
  return json(undefined);
}
