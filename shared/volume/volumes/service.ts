// The volumes service (cinder/volume/api.py create and delete): the business rules the controller
// (./api.ts) calls once it has validated a request, and that other services reuse (a backup restored
// to a new volume goes through createVolumeRecord). Returns records; the controller renders them.
import { randomUUID } from 'node:crypto';
import { startWork } from '../../work/ledger';
import type { RequestContext } from '../../http/router';
import { ApiError, badRequest, notFound } from '../../http/errors';
import type { Stored } from '../../store/tables';
import { boolParam, cinderTime, projectOf } from '../common';
import {
  dependentsOf,
  assertNotFrozen,
  diskNameOf,
  findBackup,
  findGroup,
  findSnapshot,
  findVolume,
  isMigrating,
  volumeTables,
  type BackupRecord,
  type ImageSource,
  type SnapshotRecord,
  type VolumeRecord,
} from '../model';
import { imageStore, type ImageRecord } from '../../image/model';
import { reserveVolume, volumeLedger } from '../quotas/engine';
import { defaultType, isMultiattach, skuOf, typeByNameOrId, typeStore, type VolumeTypeRecord } from '../types/store';
import { typePerformance } from '../qos/performance';
import { VOLUME_CREATE, VOLUME_DELETE, SNAPSHOT_DELETE } from '../workKinds';

/** Azure's largest managed disk, in GiB. */
export const MAX_DISK_GB = 32767;
/** Cinder's default availability zone name, which Jacket's volumes live in. */
export const VOLUME_AZ = 'nova';

export interface CreateBody {
  name?: string | null;
  display_name?: string | null;
  description?: string | null;
  display_description?: string | null;
  size?: number | string | null;
  snapshot_id?: string | null;
  source_volid?: string | null;
  volume_type?: string | null;
  availability_zone?: string | null;
  metadata?: Record<string, string> | null;
  multiattach?: boolean | string | null;
  imageRef?: string | null;
  image_id?: string | null;
  consistencygroup_id?: string | null;
  backup_id?: unknown;
  group_id?: unknown;
}

export const trimmed = (v: string | null | undefined) => (typeof v === 'string' ? v.trim() : (v ?? null));

/** Cinder's size rules for a create: from the request, else the source's; never below the source. */
function sizeFor(b: CreateBody, snap?: SnapshotRecord, src?: VolumeRecord): number {
  let size: number | undefined;
  if (b.size !== undefined && b.size !== null) {
    size = Number(b.size);
    if (!Number.isInteger(size) || size <= 0) {
      throw badRequest(
        `Invalid input received: Invalid volume size provided for create request: ${b.size} (size argument must be an integer (or string representation of an integer) and greater than zero).`,
      );
    }
  } else size = snap?.size ?? src?.size;
  if (size === undefined) throw badRequest(`Invalid input received: Volume size 'None' must be an integer and greater than 0`);
  if (snap && size < snap.size) {
    throw badRequest(`Invalid input received: Volume size '${size}'GB cannot be smaller than the snapshot size ${snap.size}GB. They must be >= original snapshot size.`);
  }
  if (src && size < src.size) {
    throw badRequest(`Invalid input received: Volume size '${size}'GB cannot be smaller than original volume size  ${src.size}GB. They must be >= original volume size.`);
  }
  if (size > MAX_DISK_GB) throw badRequest(`Invalid input received: Volume size '${size}'GB is larger than the largest Azure managed disk (${MAX_DISK_GB}GB).`);
  return size;
}

/** Cinder's default for a volume made from an image: the image's virtual size (GiB, rounded up) or its min_disk. */
function imageSize(img: ImageRecord): number {
  const bytes = img.virtual_size ?? img.size ?? 0;
  return Math.max(Math.ceil(bytes / 1024 ** 3), img.min_disk ?? 0, 1);
}

/** The Glance metadata a volume made from `img` keeps (Cinder's volume_glance_metadata); a reimage (3.68) writes it too. */
export function glanceMetadataOf(img: ImageRecord): Record<string, string> {
  const core: Record<string, string | number | null> = {
    image_id: img.id,
    image_name: img.name,
    checksum: img.checksum,
    container_format: img.container_format,
    disk_format: img.disk_format,
    min_disk: img.min_disk,
    min_ram: img.min_ram,
    size: img.size,
  };
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(core)) if (v !== null && v !== undefined) out[k] = String(v);
  for (const [k, v] of Object.entries(img.properties)) if (!k.startsWith('azure_uri')) out[k] = v;
  return out;
}

/** The image a create names (imageRef / image_id): visible, active, and where its data is. */
async function imageFor(ctx: RequestContext, ref: string): Promise<{ img: ImageRecord; source: ImageSource }> {
  const found = await imageStore(ctx.services).visible(ctx.auth!, ref);
  if (!found) throw badRequest('Invalid image identifier or unable to access requested image.');
  const img = found.image;
  if (img.status !== 'active') throw badRequest(`Invalid input received: Image ${img.id} is not active.`);
  const source = imageSourceOf(img);
  if (!source) throw badRequest(`Invalid input received: Image ${img.id} has no data.`);
  return { img, source };
}

/** Where an image's data is for a disk made from it (a create, a reimage); undefined when it has none. */
export function imageSourceOf(img: ImageRecord): ImageSource | undefined {
  if (img.marketplace) {
    const p = img.properties;
    return { kind: 'marketplace', image_id: img.id, publisher: p.azure_publisher, offer: p.azure_offer, sku: p.azure_sku, version: p.azure_version };
  }
  if (img.blob) return { kind: 'blob', image_id: img.id, blob_name: img.blob.name };
  if (img.managedImageId) return { kind: 'managed', image_id: img.id, managed_image_id: img.managedImageId };
  return undefined;
}

export const SUPPORT_NOVA_IMAGE = '3.46';

/**
 * v3/volumes.py _get_image_snapshot, asked of every imageRef at every version: the image (400 when the
 * caller cannot see it, as for any image source) and, when its `block_device_mapping` property (JSON,
 * as Nova's createImage of a volume-backed server writes it) has a boot entry (boot_index 0) of
 * source_type snapshot, that snapshot — 404 `Nova specific image is found, but boot volume snapshot
 * id:<id> not found.` when the caller cannot see it. Otherwise undefined.
 */
async function novaImageSnapshot(ctx: RequestContext, ref: string): Promise<SnapshotRecord | undefined> {
  const found = await imageStore(ctx.services).visible(ctx.auth!, ref);
  if (!found) throw badRequest('Invalid image identifier or unable to access requested image.');
  let bdms: unknown;
  try {
    bdms = JSON.parse(found.image.properties.block_device_mapping ?? '[]');
  } catch {
    return undefined;
  }
  const boot = Array.isArray(bdms) ? (bdms as Record<string, unknown>[]).find((d) => d && d.source_type === 'snapshot' && d.boot_index === 0) : undefined;
  if (!boot) return undefined;
  const id = String(boot.snapshot_id);
  try {
    return (await findSnapshot(ctx, id)).value;
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) throw notFound(`Nova specific image is found, but boot volume snapshot id:${id} not found.`);
    throw e;
  }
}

export interface NewVolume {
  name: string | null;
  description: string | null;
  size: number;
  /** Absent: the source's type, else the default. */
  type?: VolumeTypeRecord;
  snap?: SnapshotRecord;
  src?: VolumeRecord;
  image?: { img: ImageRecord; source: ImageSource };
  backupId?: string;
  metadata?: Record<string, string>;
  availabilityZone?: string;
  /** Runs after the record exists and before the work is queued (a restore marks its backup). */
  beforeEnqueue?: (id: string) => Promise<void>;
  /**
   * The boot volume of this server, made from the image by the server's own VM (boot from volume,
   * block_device_mapping_v2 image -> volume): the record is written reserved for the server at
   * /dev/sda (attaching) and no create work is queued — the build's VM PUT makes the disk.
   */
  bootOf?: string;
  /** Where the server maps it (bootOf): /dev/sda when absent (the boot disk), /dev/sdb.. for a blank volume at boot. */
  bootDevice?: string;
  /** The generic group the volume is made in (3.13). */
  groupId?: string;
}

/**
 * Records a new volume and queues its disk: quota first (Cinder's 413s), then the source learns of
 * its dependent, then the index row and the record (the sweep's proof of ownership), then the work.
 */
export async function createVolumeRecord(ctx: RequestContext, n: NewVolume): Promise<VolumeRecord> {
  const t = volumeTables(ctx.services);
  const { snap, src } = n;
  let type = n.type;
  if (!type) {
    const inherited = snap?.volume_type_id ?? src?.volume_type_id;
    type = (inherited && (await typeStore(ctx.services).get(inherited))?.value) || (await defaultType(ctx));
  }
  const project = projectOf(ctx);
  const id = randomUUID();
  // Quota first (Cinder's 413s): held for this id until the record exists (commit) or the create is
  // refused (rollback) — exact under concurrency (quotas/engine.ts).
  await reserveVolume(ctx.services, project, id, type.name, n.size);
  const ledger = volumeLedger(ctx.services);
  let written = false;
  try {
    const now = cinderTime();
    const v: VolumeRecord = {
      id,
      project_id: project,
      user_id: ctx.auth!.userId,
      name: n.name,
      description: n.description,
      size: n.size,
      status: n.bootOf ? 'attaching' : 'creating',
      attach_status: n.bootOf ? 'attaching' : 'detached',
      ...(n.bootOf ? { attachments: [{ id: randomUUID(), server_id: n.bootOf, host_name: null, device: n.bootDevice ?? '/dev/sda', attached_at: null }] } : {}),
      migration_status: null,
      availability_zone: n.availabilityZone ?? VOLUME_AZ,
      bootable: n.image ? true : (src?.bootable ?? false),
      volume_type_id: type.id,
      metadata: n.metadata ?? {},
      snapshot_id: snap?.id ?? null,
      source_volid: src?.id ?? null,
      created_at: now,
      updated_at: null,
      // create_volume.py: multiattach from the type (the body's flag is refused, volumes.py create).
      ...(isMultiattach(type) ? { multiattach: true } : {}),
      disk: { name: diskNameOf(id), sku: skuOf(type), ...(await typePerformance(ctx.services, type, skuOf(type), n.size)) },
      ...(n.image ? { image_metadata: glanceMetadataOf(n.image.img), image_source: n.image.source } : src?.image_metadata ? { image_metadata: src.image_metadata } : {}),
      ...(n.backupId ? { backup_id: n.backupId } : {}),
      ...(n.groupId ? { group_id: n.groupId } : {}),
    };
    // The source learns of its new dependent before we look at it again: a delete that raced us
    // either sees this row or we see its status (see model.ts).
    const sourceId = snap?.id ?? src?.id;
    if (sourceId) {
      await t.deps.create(sourceId, id, { kind: 'clone', project_id: project });
      const again = snap ? (await t.snapshots.get(snap.project_id, snap.id))?.value : (await t.volumes.get(src!.project_id, src!.id))?.value;
      const ok = snap ? again?.status === 'available' : again && ['available', 'in-use'].includes(again.status);
      if (!ok) {
        await t.deps.delete(sourceId, id);
        throw snap
          ? badRequest("Invalid snapshot: Originating snapshot status must be one of 'available' values")
          : badRequest("Invalid volume: Originating source volume status must be one of 'available, in-use' values");
      }
    }
    await t.typeUse.upsert(type.id, id, { project_id: project });
    await t.index.upsert('volume', id, { project_id: project });
    await t.volumes.create(project, id, v);
    written = true;
    await ledger.commit(project, [id]);
    if (n.bootOf) return v;
    try {
      if (n.beforeEnqueue) await n.beforeEnqueue(id);
      await startWork(ctx.services, { kind: VOLUME_CREATE, id, data: { project }, requestId: ctx.requestId });
    } catch (e) {
      // The record stays (in error, counted against quota as Cinder counts it).
      await t.volumes.update(project, id, (x) => ({ ...x, status: 'error' }));
      throw e;
    }
    return v;
  } catch (e) {
    if (!written) await ledger.rollback(project, [id]).catch(() => undefined);
    throw e;
  }
}

/**
 * volume/api.py create: the rules of a validated create body — the source (snapshot, volume, image
 * or, from 3.47, backup) and its state, the size rules, the zone — then the record and its work.
 */
export async function createVolume(ctx: RequestContext, b: CreateBody, opts: { bootOf?: string; bootDevice?: string } = {}): Promise<{ volume: VolumeRecord; typeName: string }> {
  // backup_id is read from 3.47 on; below that Cinder ignores the key (Jacket advertises 3.0).
  const backupRef = ctx.microversion?.atLeast('3.47') && typeof b.backup_id === 'string' ? b.backup_id : undefined;
  // v3/volumes.py create: a consistencygroup_id, then a group_id (which wins), is looked up as a generic
  // group the caller may see (404 `Group <id> could not be found.`), at any microversion.
  const groupRef = typeof b.group_id === 'string' ? b.group_id : typeof b.consistencygroup_id === 'string' ? b.consistencygroup_id : undefined;
  if (typeof b.consistencygroup_id === 'string' && groupRef !== b.consistencygroup_id) await findGroup(ctx, b.consistencygroup_id);
  const group = groupRef ? (await findGroup(ctx, groupRef)).value : undefined;
  if (b.multiattach !== undefined && b.multiattach !== null && boolParam(b.multiattach, 'multiattach')) {
    // v3/volumes.py create: the body's flag was removed in favour of multiattach volume types.
    throw badRequest(
      'multiattach parameter has been removed. The default behavior is to use multiattach enabled volume types. Contact your administrator to create a multiattach enabled volume type and use it to create multiattach volumes.',
    );
  }
  let snap = b.snapshot_id ? (await findSnapshot(ctx, b.snapshot_id)).value : undefined;
  const src = b.source_volid ? (await findVolume(ctx, b.source_volid)).value : undefined;
  const imageRef = b.imageRef || b.image_id || undefined;
  // A Nova image of a volume-backed server names its boot snapshot: the source from 3.46 (the image
  // itself, which holds no data, below it).
  const imageSnap = imageRef ? await novaImageSnapshot(ctx, imageRef) : undefined;
  if (imageSnap && ctx.microversion?.atLeast(SUPPORT_NOVA_IMAGE)) snap = imageSnap;
  if (snap && snap.status !== 'available') throw badRequest("Invalid snapshot: Originating snapshot status must be one of 'available' values");
  if (src && !['available', 'in-use'].includes(src.status)) throw badRequest("Invalid volume: Originating source volume status must be one of 'available, in-use' values");
  const image = imageRef && !snap && !src ? await imageFor(ctx, imageRef) : undefined;
  let backup: Stored<BackupRecord> | undefined;
  if (backupRef) {
    backup = await findBackup(ctx, backupRef);
    if (backup.value.status !== 'available') throw badRequest('Invalid backup: Backup status must be available');
  }
  const type = b.volume_type ? await typeByNameOrId(ctx, b.volume_type) : undefined;
  // volume/api.py create: a volume made in a group names its type, one the group supports.
  if (group && !type) throw badRequest('Invalid input received: volume_type must be provided when creating a volume in a group.');
  if (group && type && !group.volume_type_ids.includes(type.id)) {
    throw badRequest(`Invalid input received: Invalid volume_type provided: ${type.name} (requested type must be supported by this group).`);
  }
  let size: number;
  if (image && (b.size === undefined || b.size === null)) size = imageSize(image.img);
  else if (backup && (b.size === undefined || b.size === null)) size = backup.value.size;
  else size = sizeFor(b, snap, src);
  if (image) {
    const need = imageSize(image.img);
    const minDisk = image.img.min_disk ?? 0;
    if (size < minDisk) throw badRequest(`Invalid input received: Volume size ${size}GB cannot be smaller than the image minDisk size ${minDisk}GB.`);
    if (size < need) throw badRequest(`Invalid input received: Size of specified image ${need}GB is larger than volume size ${size}GB.`);
  }
  if (backup && size < backup.value.size) throw badRequest(`Invalid volume: volume size ${size} is too small to restore backup of size ${backup.value.size}.`);
  if (size > MAX_DISK_GB) throw badRequest(`Invalid input received: Volume size '${size}'GB is larger than the largest Azure managed disk (${MAX_DISK_GB}GB).`);
  const az = b.availability_zone ?? VOLUME_AZ;
  if (az !== VOLUME_AZ) throw badRequest(`Invalid input received: Availability zone '${az}' is invalid.`);
  const t = volumeTables(ctx.services);
  const v = await createVolumeRecord(ctx, {
    name: trimmed(b.name ?? b.display_name),
    description: trimmed(b.description ?? b.display_description),
    size,
    type,
    snap,
    src,
    image,
    backupId: backup?.rowKey,
    metadata: b.metadata ?? {},
    availabilityZone: az,
    ...(group ? { groupId: group.id } : {}),
    ...(opts.bootOf ? { bootOf: opts.bootOf, ...(opts.bootDevice ? { bootDevice: opts.bootDevice } : {}) } : {}),
    beforeEnqueue: backup
      ? (id) =>
          t.backups.replace(backup!.partitionKey, backup!.rowKey, { ...backup!.value, status: 'restoring', restore_volume_id: id, updated_at: cinderTime() }, backup!.etag).then(
            () => undefined,
            () => {
              throw badRequest('Invalid backup: Backup status must be available');
            },
          )
      : undefined,
  });
  const typeName = (await typeStore(ctx.services).get(v.volume_type_id))?.value.name ?? v.volume_type_id;
  return { volume: v, typeName };
}

const DELETABLE = ['available', 'error', 'error_restoring', 'error_extending', 'error_managing', 'error_deleting'];
const STATUS_DELETE_REFUSED =
  'Invalid volume: Volume status must be available or error or error_restoring or error_extending or error_managing and must not be migrating, attached, belong to a group, have snapshots, awaiting a transfer, or be disassociated from snapshots after volume transfer.';
const FORCE_DELETE_REFUSED =
  'Invalid volume: Volume  must not be migrating, attached, belong to a group, have snapshots, awaiting a transfer, or be disassociated from snapshots after volume transfer.';

/**
 * Delete: the record turns 'deleting' under its ETag first, then the snapshots are counted (a
 * snapshot create writes its dependency row before it checks the volume, so one of the two sees the
 * other). With snapshots the status goes back and Cinder's 400 answers; cascade=true deletes them.
 */
export async function deleteVolume(ctx: RequestContext, cur: Stored<VolumeRecord>, cascade: boolean, force = false): Promise<void> {
  const v = cur.value;
  await assertNotFrozen(ctx.services);
  // os-force_delete (volume/api.py delete with force): no status condition, so its message names none;
  // an offered transfer still refuses (its record would point at nothing).
  const DELETE_REFUSED = force ? FORCE_DELETE_REFUSED : STATUS_DELETE_REFUSED;
  const statusRefused = force ? v.status === 'awaiting-transfer' : !DELETABLE.includes(v.status);
  // A group's member is deleted by the group's delete (delete-volumes), or removed from it first.
  if (statusRefused || v.attach_status === 'attached' || isMigrating(v) || v.group_id) throw badRequest(DELETE_REFUSED);
  const t = volumeTables(ctx.services);
  const marked: Stored<VolumeRecord> = await t.volumes.replace(cur.partitionKey, cur.rowKey, { ...v, status: 'deleting', updated_at: cinderTime() }, cur.etag).catch(() => {
    throw badRequest(DELETE_REFUSED);
  });
  const snaps = await dependentsOf(ctx.services, v.id, 'snapshot');
  if (snaps.length > 0) {
    const rollback = () => t.volumes.replace(marked.partitionKey, marked.rowKey, v, marked.etag).catch(() => undefined);
    if (!cascade) {
      await rollback();
      throw badRequest(DELETE_REFUSED);
    }
    const records = await Promise.all(snaps.map((d) => t.snapshots.get(d.value.project_id, d.rowKey)));
    if (records.some((r) => r && !['available', 'error', 'error_deleting', 'deleting'].includes(r.value.status))) {
      await rollback();
      throw badRequest(DELETE_REFUSED);
    }
    for (const r of records) {
      if (!r || r.value.status === 'deleting') continue;
      await t.snapshots.replace(r.partitionKey, r.rowKey, { ...r.value, status: 'deleting', updated_at: cinderTime() }, r.etag);
      await startWork(ctx.services, { kind: SNAPSHOT_DELETE, id: r.rowKey, data: { project: r.partitionKey }, requestId: ctx.requestId });
    }
  }
  await startWork(ctx.services, { kind: VOLUME_DELETE, id: v.id, data: { project: cur.partitionKey }, requestId: ctx.requestId });
}
