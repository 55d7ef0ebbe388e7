// Cinder's reimage (3.68, SUPPORT_REIMAGE_VOLUME): POST /volumes/{id}/action {"os-reimage": {"image_id",
// "reimage_reserved"}} (cinder/api/contrib/volume_actions.py _reimage, volume/api.py reimage, the manager's
// reimage) on Azure. The API answers in Cinder's order: below 3.68 a bare 404 (a versioned action); the
// schema; the volume (404); the image (404 `Image <id> could not be found.` when the caller cannot see
// it); a Nova image of a volume-backed server (its block_device_mapping's boot snapshot): its volume_size
// no larger than the volume (400) and the snapshot visible (404); then the policy — volume:reimage_reserved
// for a reserved volume, else volume:reimage (asked inside volume/api.py, after the lookups); more than
// one attachment is 409; then the volume available or error (or reserved, with reimage_reserved) ->
// downloading, its status kept in previous_status, one conditional update under the record's ETag (400
// Invalid volume otherwise); then the image's checks (check_image_metadata: active, its size and min_disk
// and virtual size within the volume; and on Azure, data to make a disk from), each 400 Invalid input
// with the volume as it was (upstream rolls the status back). The manager's work is the long action
// volume-reimage. (For a reserved volume the manager then tells Nova, volume-reimaged, for Nova's rebuild
// of a volume-backed server, 2.93; Jacket's Compute has no such rebuild, so there is no one to tell.)
//
// A managed disk cannot be rewritten from an image in place, so the work does what a revert does
// (./revert.ts): a new disk volume-<id>-<8hex> from the image (Import of its VHD blob, FromImage of its
// managed or marketplace image; a Copy of the boot snapshot for a Nova image), with the volume's SKU,
// size, IOPS/MB/s, sharing and tags; swapped into the record once Azure has it (the record names the new
// disk and keeps the old one's name in reimage.old_disk); then the old disk deleted, once no copy is
// still being made from it. The old data goes only once the record points at the new data. Success
// (manager.py reimage, _refresh_volume_glance_meta) replaces the volume's Glance metadata with the image's,
// makes it bootable, and puts back its previous status; the volume keeps its id, size, type and metadata.
// Given up before the swap: the volume error (the manager's except branch), the new disk removed (best
// effort; the disk sweep removes it otherwise, as the record no longer names it); given up after the
// swap the data is the image's, so the volume lands as a success does (the old disk left to the sweep).
import { randomUUID } from 'node:crypto';
import type { RequestContext } from '../../http/router';
import type { Services } from '../../services';
import { accepted } from '../../http/respond';
import { ApiError, badRequest, conflict, notFound } from '../../http/errors';
import { validateBody } from '../../api/validation';
import { authorize } from '../../api/policy';
import { startWork } from '../../work/ledger';
import { again, done, type WorkItem, type WorkKind, type WorkResult } from '../../work/types';
import { log } from '../../log';
import type { ArmState, DiskSource } from '../../azure/disks';
import { imageStore, type ImageRecord } from '../../image/model';
import { booleanSchema, boolParam, cinderTime } from '../common';
import { dependentsOf, findSnapshot, findVolume, jacketTags, snapshotById, volumeTables, type VolumeRecord } from '../model';
import { VOLUME_REIMAGE } from '../workKinds';
import { attachmentsOf } from '../attachments/service';
import { glanceMetadataOf, imageSourceOf } from './service';
import { imageDiskSource, messageOf, oldDiskDeleted, performanceOf, poll, projectOf, refuse, sharingOf, submitted, terminal, throwIfFailed } from './work';

/** mv.SUPPORT_REIMAGE_VOLUME. */
export const REIMAGE_VERSION = '3.68';

/** cinder/api/schemas/volume_actions.py reimage: image_id a uuid, reimage_reserved Cinder's boolean. */
const reimageSchema = {
  type: 'object',
  required: ['os-reimage'],
  additionalProperties: false,
  properties: {
    'os-reimage': {
      type: 'object',
      required: ['image_id'],
      additionalProperties: false,
      properties: { image_id: { type: 'string', format: 'uuid' }, reimage_reserved: booleanSchema },
    },
  },
};

const GiB = 1024 ** 3;
type Reimage = NonNullable<VolumeRecord['reimage']>;

/**
 * volume_actions.py _get_image_snapshot_and_check_size: a Nova image of a volume-backed server (its
 * `block_device_mapping` property, JSON, has a boot entry of source_type snapshot): its volume_size must
 * fit the volume (400), and the snapshot must be one the caller sees (404). Otherwise undefined.
 */
async function imageSnapshot(ctx: RequestContext, img: ImageRecord, volumeSize: number): Promise<string | undefined> {
  let bdms: unknown;
  try {
    bdms = JSON.parse(img.properties.block_device_mapping ?? '[]');
  } catch {
    return undefined;
  }
  const boot = Array.isArray(bdms) ? (bdms as Record<string, unknown>[]).find((d) => d && d.source_type === 'snapshot' && d.boot_index === 0) : undefined;
  if (!boot) return undefined;
  const snapSize = Number(boot.volume_size ?? 0);
  if (snapSize > volumeSize) throw badRequest(`Volume size must be greater than the image size. (Image: ${snapSize}, Volume: ${volumeSize}).`);
  const id = String(boot.snapshot_id);
  try {
    return (await findSnapshot(ctx, id)).value.id;
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) throw notFound(`Nova specific image is found, but boot volume snapshot id:${id} not found.`);
    throw e;
  }
}

/** volume_utils.check_image_metadata (and image_utils.check_virtual_size): the words of each refusal. */
function imageRefusal(img: ImageRecord, size: number): string | undefined {
  if (img.status !== 'active') return `Invalid input received: Image ${img.id} is not active.`;
  const imageGB = Math.ceil((img.size ?? 0) / GiB);
  if (imageGB > size) return `Invalid input received: Size of specified image ${imageGB}GB is larger than volume size ${size}GB.`;
  const minDisk = img.min_disk ?? 0;
  if (size < minDisk) return `Invalid input received: Volume size ${size}GB cannot be smaller than the image minDisk size ${minDisk}GB.`;
  const virtualGB = img.virtual_size ? Math.ceil(img.virtual_size / GiB) : 0;
  if (virtualGB > size) return `Image ${img.id} is unacceptable: Image virtual size is ${virtualGB}GB and doesn't fit in a volume of size ${size}GB.`;
  return undefined;
}

/** POST /volumes/{id}/action {"os-reimage": {"image_id", "reimage_reserved"}} (3.68): 202 with no body. */
export async function reimageVolume(ctx: RequestContext) {
  // wsgi's versioned method: below its version the action answers a bare 404.
  if (!ctx.microversion?.atLeast(REIMAGE_VERSION)) throw notFound('The resource could not be found.');
  const s = ctx.services;
  const b = validateBody<{ 'os-reimage': { image_id: string; reimage_reserved?: boolean | string } }>(reimageSchema, ctx.body)['os-reimage'];
  const cur = await findVolume(ctx, ctx.params.volume_id);
  const v = cur.value;
  const reserved = b.reimage_reserved === undefined ? false : boolParam(b.reimage_reserved, 'reimage_reserved');
  // glance.py show: an image the caller cannot see is not found.
  const img = (await imageStore(s).visible(ctx.auth!, b.image_id))?.image;
  if (!img) throw notFound(`Image ${b.image_id} could not be found.`);
  const snapshotId = await imageSnapshot(ctx, img, v.size);
  authorize(ctx, v.status === 'reserved' ? 'volume:reimage_reserved' : 'volume:reimage', { projectId: v.project_id });
  if (attachmentsOf(v).length > 1) throw conflict('Cannot re-image a volume which is attached to more than one server.');
  const expected: VolumeRecord['status'][] = reserved ? ['available', 'error', 'reserved'] : ['available', 'error'];
  // check_image_metadata (and, on Azure, data to make a disk from) runs after the status change
  // upstream, which it rolls back on a refusal: here the refusal is known first and the change is not
  // made, so no reader sees the volume downloading for it. (For a Nova image the data is the snapshot's:
  // its size is 0, its status and min_disk still count.)
  const source = snapshotId ? { kind: 'snapshot' as const, snapshot_id: snapshotId } : imageSourceOf(img);
  const refusal = imageRefusal(img, v.size) ?? (source ? undefined : `Invalid input received: Image ${img.id} has no data.`);
  const t = volumeTables(s);
  const reimage: Reimage | undefined = source && { image_id: img.id, source, image_metadata: glanceMetadataOf(img), disk_name: `volume-${v.id}-${randomUUID().slice(0, 8)}` };
  // conditional_update({'status': 'downloading', 'previous_status': status}, {'status': expected}), under the record's ETag.
  let seen = v.status;
  const marked = await t.volumes.update(cur.partitionKey, cur.rowKey, (x) => {
    seen = x.status;
    return expected.includes(x.status) && !refusal ? { ...x, status: 'downloading', previous_status: x.status, reimage, updated_at: cinderTime() } : undefined;
  });
  if (!expected.includes(seen)) throw badRequest(`Invalid volume: Volume ${v.id} status must be ${expected.join(' or ')}, but current status is ${seen}.`);
  if (refusal || !reimage) throw badRequest(refusal ?? '');
  if (marked?.value.status !== 'downloading' || marked.value.reimage?.disk_name !== reimage.disk_name) {
    throw badRequest(`Invalid volume: Volume ${v.id} status must be ${expected.join(' or ')}, but current status is ${marked?.value.status ?? seen}.`);
  }
  // Back to the previous status (only this reimage's: its new disk's name matches).
  const putBack = () =>
    t.volumes.update(cur.partitionKey, cur.rowKey, (x) =>
      x.status !== 'downloading' || x.reimage?.disk_name !== reimage.disk_name
        ? undefined
        : { ...x, status: x.previous_status ?? 'available', previous_status: undefined, reimage: undefined, updated_at: cinderTime() },
    );
  log.info('reimaging volume', { volume: v.id, image: img.id, requestId: ctx.requestId });
  try {
    await startWork(s, { kind: VOLUME_REIMAGE, id: v.id, data: { project: cur.partitionKey }, requestId: ctx.requestId });
  } catch (e) {
    // No work will run: the volume goes back to its previous status.
    await putBack();
    throw e;
  }
  return accepted();
}

/**
 * The volume leaves downloading (only this reimage's: its new disk's name matches): a success takes the
 * image's Glance metadata, is bootable, and has its previous status back (_refresh_volume_glance_meta,
 * `volume.status = volume.previous_status`); a failure is error.
 */
async function landReimage(s: Services, item: WorkItem, r: Reimage, ok: boolean): Promise<void> {
  await volumeTables(s).volumes.update(projectOf(item), item.id, (x) => {
    if (x.status !== 'downloading' || x.reimage?.disk_name !== r.disk_name) return undefined;
    const base = { ...x, previous_status: undefined, reimage: undefined, updated_at: cinderTime() };
    return ok ? { ...base, status: x.previous_status ?? 'available', image_metadata: r.image_metadata, bootable: true } : { ...base, status: 'error' };
  });
}

/** The ARM source of the new disk: the image's data, or the Nova image's boot snapshot. */
async function sourceFor(s: Services, r: Reimage): Promise<DiskSource> {
  if (r.source.kind !== 'snapshot') return imageDiskSource(s, r.source);
  const snap = r.source.snapshot_id ? await snapshotById(s, r.source.snapshot_id) : undefined;
  if (!snap) throw refuse('SnapshotGone', `The snapshot ${r.source.snapshot_id} of image ${r.image_id} is gone.`);
  return { sourceId: s.azure.disks.snapshotId(snap.value.azure.name) };
}

export const volumeReimage: WorkKind = {
  kind: VOLUME_REIMAGE,
  async run(item, s) {
    const t = volumeTables(s);
    const cur = await t.volumes.get(projectOf(item), item.id);
    if (!cur || cur.value.status !== 'downloading' || !cur.value.reimage) return done();
    const v = cur.value;
    const r = v.reimage!;
    const arm = s.azure.disks;
    if (r.old_disk) {
      // Swapped: the record names the new disk. A copy still being made from the old one (a clone of
      // this volume) keeps it until the copy is done; then it goes, and the volume lands.
      if (item.step !== 'old-deleted' && (await dependentsOf(s, v.id, 'clone')).length > 0) return poll(s, item, 'swapped');
      const pending = await oldDiskDeleted(s, item, r.old_disk);
      if (pending) return pending;
      await landReimage(s, item, r, true);
      log.info('volume reimaged', { volume: v.id, image: r.image_id, disk: r.disk_name });
      return done();
    }
    const settle = async (st: ArmState): Promise<WorkResult> => {
      throwIfFailed(st, 'The reimaged disk');
      if (st.provisioningState !== 'Succeeded') return poll(s, item, 'wait');
      // The swap: one conditional write of the record; the old disk is named so the next step deletes it.
      await t.volumes.update(cur.partitionKey, cur.rowKey, (x) =>
        x.status !== 'downloading' || x.reimage?.disk_name !== r.disk_name || x.reimage.old_disk
          ? undefined
          : { ...x, disk: { ...x.disk, name: r.disk_name, armId: st.id }, reimage: { ...r, old_disk: x.disk.name }, updated_at: cinderTime() },
      );
      return again(item, 0, { step: 'swapped' });
    };
    if (item.step === 'wait') {
      const st = await arm.disk(r.disk_name);
      if (st) return settle(st);
    }
    const sub = await arm.createDisk(r.disk_name, {
      sizeGB: v.size,
      sku: v.disk.sku,
      tags: jacketTags('volume', v.id, v.project_id, v.id),
      source: await sourceFor(s, r),
      ...performanceOf(v),
      ...sharingOf(v, v.size),
    });
    const st = terminal(sub.state);
    return st ? settle(st) : submitted(s, item, 'wait', sub);
  },
  async giveUp(item, s, f) {
    const cur = await volumeTables(s).volumes.get(projectOf(item), item.id);
    const r = cur?.value.reimage;
    if (!cur || cur.value.status !== 'downloading' || !r) return;
    log.warn('volume reimage failed', { volume: item.id, image: r.image_id, code: f.code, reason: f.message.slice(0, 300) });
    // Swapped already: the volume holds the image's data; only the old disk is left over (swept).
    await landReimage(s, item, r, !!r.old_disk);
    if (!r.old_disk) {
      await s.azure.disks.deleteDisk(r.disk_name).catch((e) => log.warn('reimaged disk not removed', { volume: item.id, disk: r.disk_name, error: messageOf(e) }));
    }
  },
};
