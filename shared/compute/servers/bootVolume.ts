// Boot from volume (servers/create.ts): a block_device_mapping_v2 whose boot device is an existing
// Jacket volume (source_type=volume, destination_type=volume, boot_index 0, as `openstack server create
// --volume` sends it). The volume's managed disk becomes the VM's OS disk (volumeAttachWork.ts
// bootVolumeVmBody); the volume's Glance metadata stands in for the image, as Nova reads a volume-backed
// server's image properties from volume_image_metadata.
import { randomUUID } from 'node:crypto';
import type { RequestContext } from '../../http/router';
import type { Services } from '../../services';
import type { Stored } from '../../store/tables';
import type { ImageRecord } from '../../image/model';
import { ApiError, badRequest } from '../../http/errors';
import { deviceForLun, volumesOf, withVolumes } from './volumes';
import type { ServerRecord } from './model';
import type { ResolvedImage } from './service/create';
import { volumeApi, type VolumeRecord } from '../../volume/computeApi';

export interface BootVolumeRequest {
  volumeId: string;
  deleteOnTermination: boolean;
}

interface Bdm {
  source_type?: string;
  destination_type?: string;
  boot_index?: unknown;
  uuid?: string;
  delete_on_termination?: unknown;
  volume_size?: unknown;
  /** 2.67: the Cinder type of a volume the create makes (a name once checkVolumeTypes resolved it). */
  volume_type?: string | null;
}

const TRUE = ['1', 't', 'true', 'on', 'y', 'yes'];

/** A mapping's volume type (2.67) as a request field; null and '' are no type, as in Nova. */
const pick = (volumeType: string | null | undefined) => (volumeType ? { volumeType } : {});
const typeOf = (b: Bdm) => pick(b.volume_type);

/**
 * 2.67's volume_type on block_device_mapping_v2 (the schema admits it from 2.67 only). Nova's rules:
 * BlockDeviceDict.from_api refuses it on a local disk and on an existing volume (InvalidBDMFormat);
 * compute/api.py _validate_bdm looks it up among the types Cinder lists for the project, by id or
 * name, and keeps the name (VolumeTypeNotFound, 400 from servers.create). Returns the body with each
 * type replaced by its name: Cinder's create then finds it as Nova's call does.
 */
export async function checkVolumeTypes<B extends { block_device_mapping_v2?: unknown[] }>(ctx: RequestContext, body: B): Promise<B> {
  const bdms = (body.block_device_mapping_v2 ?? []) as Bdm[];
  if (!bdms.some((b) => b.volume_type)) return body;
  for (const b of bdms) {
    if (!b.volume_type) continue;
    if (b.destination_type === 'local') throw badRequest('Block Device Mapping is Invalid: Specifying a volume_type with destination_type=local is not supported.');
    if (b.source_type === 'volume') throw badRequest('Block Device Mapping is Invalid: Specifying volume type to existing volume is not supported.');
  }
  const named: Bdm[] = [];
  for (const b of bdms) {
    if (!b.volume_type) {
      named.push(b);
      continue;
    }
    const name = await volumeApi.volumeTypeName(ctx, b.volume_type);
    if (name === undefined) throw badRequest(`Volume type ${b.volume_type} could not be found.`);
    named.push({ ...b, volume_type: name });
  }
  return { ...body, block_device_mapping_v2: named };
}

/** The volume to boot from, when the mappings are exactly one existing volume as the boot device. */
export function bootVolumeRequest(body: { block_device_mapping_v2?: unknown[]; block_device_mapping?: unknown[] }): BootVolumeRequest | undefined {
  const bdms = (body.block_device_mapping_v2 ?? []) as Bdm[];
  if (body.block_device_mapping?.length || bdms.length !== 1) return undefined;
  const b = bdms[0];
  if (b.source_type !== 'volume' || b.destination_type !== 'volume' || String(b.boot_index) !== '0' || !b.uuid) return undefined;
  return { volumeId: b.uuid, deleteOnTermination: TRUE.includes(String(b.delete_on_termination ?? false).toLowerCase()) };
}

/** Boot from a new volume made from an image (`openstack server create --image X --boot-from-volume N`). */
export interface ImageVolumeRequest {
  imageId: string;
  size: number;
  deleteOnTermination: boolean;
  /** 2.67: the new volume's type (its name); absent: Cinder's default. */
  volumeType?: string;
}

/**
 * The new volume to boot from, when the mappings are exactly one image as the boot device with a
 * volume destination (openstacksdk's boot_from_volume, Terraform's block_device, the CLI's
 * --boot-from-volume). Nova's API rules for it (compute/api.py _validate_bdm): a size is required.
 */
export function imageVolumeRequest(body: { imageRef?: string; block_device_mapping_v2?: unknown[]; block_device_mapping?: unknown[] }): ImageVolumeRequest | undefined {
  const bdms = (body.block_device_mapping_v2 ?? []) as Bdm[];
  if (body.block_device_mapping?.length || bdms.length !== 1) return undefined;
  const b = bdms[0];
  if (b.source_type !== 'image' || b.destination_type !== 'volume' || String(b.boot_index) !== '0' || !b.uuid) return undefined;
  const size = Number(b.volume_size ?? 0);
  if (!Number.isInteger(size) || size <= 0) throw badRequest("Images with destination_type 'volume' need to have a non-zero size specified");
  return { imageId: b.uuid, size, deleteOnTermination: TRUE.includes(String(b.delete_on_termination ?? false).toLowerCase()), ...typeOf(b) };
}

/** Boot from a new volume made from a volume snapshot (Terraform's block_device with source_type snapshot, boot_index 0). */
export interface SnapshotVolumeRequest {
  snapshotId: string;
  /** The mapping's volume_size; absent or 0: the snapshot's (_validate_bdm: `volume_size or snap.size`). */
  size?: number;
  deleteOnTermination: boolean;
  /** 2.67: the new volume's type (its name); absent: Cinder's default. */
  volumeType?: string;
}

/** The new volume to boot from, when the mappings are exactly one volume snapshot as the boot device with a volume destination. */
export function snapshotVolumeRequest(body: { block_device_mapping_v2?: unknown[]; block_device_mapping?: unknown[] }): SnapshotVolumeRequest | undefined {
  const bdms = (body.block_device_mapping_v2 ?? []) as Bdm[];
  if (body.block_device_mapping?.length || bdms.length !== 1) return undefined;
  const b = bdms[0];
  if (b.source_type !== 'snapshot' || b.destination_type !== 'volume' || String(b.boot_index) !== '0' || !b.uuid) return undefined;
  const size = Number(b.volume_size ?? 0) || undefined;
  return { snapshotId: b.uuid, ...(size ? { size } : {}), deleteOnTermination: TRUE.includes(String(b.delete_on_termination ?? false).toLowerCase()), ...typeOf(b) };
}

/** The snapshot a boot volume is made from, resolved: its Azure id, the new volume's size, the image it stands in for. */
export type SnapshotBoot = ResolvedImage & { snapshotId: string; armId: string; size: number; deleteOnTermination: boolean };

/**
 * nova/compute/api.py _validate_bdm (the snapshot found, else InvalidBDMSnapshot; the size) and
 * _get_bdm_image_metadata (the snapshot's volume's Glance metadata stands in for the image: the OS type,
 * min_ram) for a snapshot boot device.
 */
export async function resolveSnapshotBoot(ctx: RequestContext, req: SnapshotVolumeRequest, flavor: { memory_mb: number }, maxCount: number): Promise<SnapshotBoot> {
  if (maxCount > 1) throw badRequest('Cannot attach one or more volumes to multiple instances');
  const snap = await volumeApi.getSnapshot(ctx, req.snapshotId).catch((e) => {
    if (e instanceof ApiError && e.status === 404) throw badRequest(`Block Device Mapping is Invalid: failed to get snapshot ${req.snapshotId}.`);
    throw e;
  });
  const meta = await volumeApi.snapshotImageMetadata(ctx.services, snap.value);
  if (Number(meta.min_ram ?? 0) > flavor.memory_mb) throw badRequest("Flavor's memory is too small for requested image.");
  const armId = await volumeApi.snapshotArmId(ctx.services, snap.value.id);
  if (!armId) throw badRequest(`Block Device Mapping is Invalid: failed to get snapshot ${req.snapshotId}.`);
  return {
    ...imageOfVolumeMetadata(meta),
    snapshotId: snap.value.id,
    armId,
    size: req.size ?? snap.value.size,
    deleteOnTermination: req.deleteOnTermination,
  };
}

/** A volume's Glance metadata standing in for the image of a volume-backed server (no image: id ''). */
function imageOfVolumeMetadata(meta: Record<string, string>): ResolvedImage {
  const os = (meta.azure_os_type ?? meta.os_type ?? 'linux').toLowerCase() === 'windows' ? 'windows' : 'linux';
  return { image: { id: '', properties: meta } as unknown as ImageRecord, reference: { id: '' }, os };
}

/** compute/api.py _validate_bdm for an image source: the volume holds at least the image's min_disk. */
export function checkImageVolumeSize(req: ImageVolumeRequest, image: ImageRecord): void {
  const minDisk = image.min_disk ?? 0;
  if (req.size < minDisk) {
    throw badRequest(`Volume is smaller than the minimum size specified in image metadata. Volume size is ${req.size * GiB} bytes, minimum size is ${minDisk * GiB} bytes.`);
  }
}

const GiB = 1024 ** 3;

export type BootVolume = ResolvedImage & { volume: Stored<VolumeRecord>; deleteOnTermination: boolean };

/**
 * compute/utils.py check_attach_and_reserve_volume: a multiattach volume is attached (or mapped at
 * boot) only from compute API 2.60 (MultiattachNotSupportedOldMicroversion, 400).
 */
export function checkMultiattachVersion(ctx: RequestContext, v: VolumeRecord): void {
  if (v.multiattach && !ctx.microversion?.atLeast('2.60')) throw badRequest('Multiattach volumes are only supported starting with compute API version 2.60.');
}

/** nova/compute/api.py _validate_bdm / _check_attach for a mapped volume: it exists for the caller, available and detached. */
async function attachableVolume(ctx: RequestContext, volumeId: string): Promise<Stored<VolumeRecord>> {
  const vol = await volumeApi.get(ctx, volumeId).catch((e) => {
    if (e instanceof ApiError && e.status === 404) throw badRequest(`Block Device Mapping is Invalid: failed to get volume ${volumeId}.`);
    throw e;
  });
  const v = vol.value;
  // compute/utils.py check_attach_and_reserve_volume: before the volume's reserve.
  checkMultiattachVersion(ctx, v);
  // A multiattach volume another server holds is not mapped at boot: Azure shares a disk only as a
  // data disk of each VM, never as the OS disk a boot volume is (and a data volume mapped at boot is
  // reserved as the build's VM PUT takes it).
  if (v.status !== 'available') throw volumeApi.notAvailable(v);
  if (v.attach_status === 'attached') throw badRequest(`Invalid volume: volume ${v.id} already attached`);
  return vol;
}

/** nova/compute/api.py _validate_bdm / _check_attach / _get_bdm_image_metadata for the boot volume. */
export async function resolveBootVolume(ctx: RequestContext, req: BootVolumeRequest, flavor: { memory_mb: number }, maxCount: number): Promise<BootVolume> {
  if (maxCount > 1) throw badRequest('Cannot attach one or more volumes to multiple instances');
  const vol = await attachableVolume(ctx, req.volumeId);
  const v = vol.value;
  if (!v.bootable) throw badRequest(`Block Device ${v.id} is not bootable.`);
  const meta = v.image_metadata ?? {};
  if (Number(meta.min_ram ?? 0) > flavor.memory_mb) throw badRequest("Flavor's memory is too small for requested image.");
  // No image: the server's image is '' (Nova's view of a volume-backed server), its properties the volume's.
  return { ...imageOfVolumeMetadata(meta), volume: vol, deleteOnTermination: req.deleteOnTermination };
}

/** The server record of a volume-backed server: the volume's disk as its OS disk, the root mapping. */
export function withBootVolume(srv: ServerRecord, b: BootVolume): ServerRecord {
  return withVolumes({ ...srv, azure: { ...srv.azure, os_disk: b.volume.value.disk.name } }, [
    {
      volume_id: b.volume.value.id,
      volume_project_id: b.volume.partitionKey,
      lun: null,
      device: '/dev/sda',
      status: 'attaching',
      delete_on_termination: b.deleteOnTermination,
      bdm_uuid: randomUUID(),
    },
  ]);
}

/** available -> attaching for this server, under the volume's ETag (a racing attach or boot loses). */
export async function reserveBootVolume(s: Services, b: BootVolume, serverId: string): Promise<void> {
  const done = await volumeApi.reserve(s, b.volume.partitionKey, b.volume.value.id, serverId, '/dev/sda');
  if (!done) throw volumeApi.notAvailable({ id: b.volume.value.id, status: 'attaching' });
}

export async function unreserveBootVolume(s: Services, b: BootVolume, serverId: string): Promise<void> {
  await volumeApi.detach(s, b.volume.partitionKey, b.volume.value.id, serverId);
}

// ---- volumes attached at boot: existing and blank ----
// `openstack server create --block-device source_type=volume,uuid=V,destination_type=volume` (or
// `source_type=blank,…,volume_size=N`, or `source_type=snapshot,uuid=S[,volume_size=N]`; Terraform's
// extra `block_device`, Heat's block_device_mapping_v2) map more volumes than the boot device: to
// volume, boot_index absent, null or anything but 0 (Azure has no boot order). Nova attaches them before
// the guest starts; on Azure the build's VM PUT carries them as data disks (Attach an existing volume's
// disk; for a new volume the VM makes its disk: Empty, or a Copy of the snapshot), and the
// server-boot-volume step turns each in-use once the server is ACTIVE (or gives it back if the build ends
// in ERROR), as for a boot volume.

/** A volume to attach at boot: an existing one (volumeId), or a new one the create makes (`make`). */
export interface ExtraVolumeRequest {
  volumeId?: string;
  /** A new volume: blank, or from a snapshot (size: the mapping's volume_size, else the snapshot's). */
  make?: { size?: number; snapshotId?: string; volumeType?: string };
  deleteOnTermination: boolean;
}

const isExtraVolume = (b: Bdm) => ['volume', 'blank', 'snapshot'].includes(b.source_type ?? '') && b.destination_type === 'volume' && String(b.boot_index) !== '0';

/**
 * Splits a create body's mappings: the extra volumes, and the body with only the boot device's
 * mapping left (what bootImage, bootVolumeRequest and imageVolumeRequest read).
 */
export function splitExtraVolumes<B extends { block_device_mapping_v2?: unknown[] }>(body: B): { boot: B; extra: ExtraVolumeRequest[] } {
  const bdms = (body.block_device_mapping_v2 ?? []) as Bdm[];
  const extra = bdms.filter(isExtraVolume);
  if (!extra.length) return { boot: body, extra: [] };
  return {
    boot: { ...body, block_device_mapping_v2: bdms.filter((b) => !isExtraVolume(b)) },
    extra: extra.map((b) => {
      const deleteOnTermination = TRUE.includes(String(b.delete_on_termination ?? false).toLowerCase());
      if (b.source_type === 'blank') {
        // compute/api.py _validate_bdm: a blank volume needs its size.
        const size = Number(b.volume_size ?? 0);
        if (!Number.isInteger(size) || size <= 0) throw badRequest("Blank volumes (source: 'blank', dest: 'volume') need to have non-zero size");
        return { make: { size, ...typeOf(b) }, deleteOnTermination };
      }
      if (b.source_type === 'snapshot') {
        if (!b.uuid) throw badRequest('Block Device Mapping is Invalid: failed to get snapshot None.');
        // volume_size or, when absent or 0, the snapshot's (_validate_bdm: `bdm.volume_size or snap.size`).
        const size = Number(b.volume_size ?? 0) || undefined;
        return { make: { snapshotId: b.uuid, ...(size ? { size } : {}), ...typeOf(b) }, deleteOnTermination };
      }
      if (!b.uuid) throw badRequest('Block Device Mapping is Invalid: a volume mapping needs the volume id in uuid.');
      return { volumeId: b.uuid, deleteOnTermination };
    }),
  };
}

/** An existing volume resolved (`volume`), or a new one to be made at the create's end (`make`; `volume` once made). */
export type ExtraVolume = { volume?: Stored<VolumeRecord>; make?: { size: number; snapshotId?: string; volumeType?: string }; deleteOnTermination: boolean; lun: number };

/** nova/compute/api.py _validate_bdm / _check_attach for each extra volume; each takes the next LUN. */
export async function resolveExtraVolumes(ctx: RequestContext, reqs: ExtraVolumeRequest[], maxCount: number, maxDataDisks: number | undefined): Promise<ExtraVolume[]> {
  if (!reqs.length) return [];
  if (maxCount > 1) throw badRequest('Cannot attach one or more volumes to multiple instances');
  if (maxDataDisks !== undefined && reqs.length > maxDataDisks) {
    throw badRequest(`The maximum allowed number of disk devices (${maxDataDisks}) to attach to a single instance has been exceeded.`);
  }
  const out: ExtraVolume[] = [];
  for (const [lun, req] of reqs.entries()) {
    if (req.make?.snapshotId !== undefined) {
      // _validate_bdm: the snapshot must be found (any failure: InvalidBDMSnapshot).
      const id = req.make.snapshotId;
      const snap = await volumeApi.getSnapshot(ctx, id).catch((e) => {
        if (e instanceof ApiError && e.status === 404) throw badRequest(`Block Device Mapping is Invalid: failed to get snapshot ${id}.`);
        throw e;
      });
      out.push({ make: { size: req.make.size ?? snap.value.size, snapshotId: id, ...pick(req.make.volumeType) }, deleteOnTermination: req.deleteOnTermination, lun });
      continue;
    }
    if (req.make) {
      out.push({ make: { size: req.make.size!, ...pick(req.make.volumeType) }, deleteOnTermination: req.deleteOnTermination, lun });
      continue;
    }
    if (req.volumeId === undefined) throw badRequest('Block Device Mapping is Invalid: a volume mapping needs the volume id in uuid.');
    out.push({ volume: await attachableVolume(ctx, req.volumeId), deleteOnTermination: req.deleteOnTermination, lun });
  }
  return out;
}

/** The server's mappings of its extra volumes (blank ones made by then): attaching at their LUNs, until the build's end. */
export function withExtraVolumes(srv: ServerRecord, extra: ExtraVolume[]): ServerRecord {
  if (!extra.length) return srv;
  return withVolumes(srv, [
    ...volumesOf(srv),
    ...extra.flatMap((x) =>
      x.volume
        ? [
            {
              volume_id: x.volume.value.id,
              volume_project_id: x.volume.partitionKey,
              lun: x.lun,
              device: deviceForLun(x.lun),
              status: 'attaching' as const,
              delete_on_termination: x.deleteOnTermination,
              ...(x.make ? { made: true } : {}),
              // 2.89: Nova's bdm uuid, given as the mapping is made.
              bdm_uuid: randomUUID(),
            },
          ]
        : [],
    ),
  ]);
}

/**
 * The new volumes (blank, or from a snapshot), made last before the server records (Cinder's rules and
 * quotas: its 400s and 413s answer the create), each reserved for the server at its device; the build's
 * VM makes their disks. A refusal part way leaves the ones made to `releaseMadeVolumes`.
 */
export async function makeVolumesAtBoot(ctx: RequestContext, extra: ExtraVolume[], serverId: string): Promise<void> {
  for (const x of extra) {
    if (!x.make || x.volume) continue;
    const v = await volumeApi.createVolumeAtBoot(ctx, x.make.size, x.make.snapshotId, serverId, deviceForLun(x.lun), x.make.volumeType);
    x.volume = { partitionKey: v.project_id, rowKey: v.id, etag: '', value: v };
  }
}

/** A create refused after its new volumes were made: each goes to error (no disk), as a boot volume's. */
export async function releaseMadeVolumes(s: Services, extra: ExtraVolume[], serverId: string): Promise<void> {
  for (const x of extra) if (x.make && x.volume) await volumeApi.releaseBootVolume(s, x.volume.partitionKey, x.volume.value.id, serverId);
}

/**
 * available -> attaching for this server, each under its volume's ETag; the ones reserved are
 * returned (a refusal part way throws after giving those back). A volume named twice is refused by
 * its second reservation, as Nova's second attachment of it is.
 */
export async function reserveExtraVolumes(s: Services, extra: ExtraVolume[], serverId: string): Promise<void> {
  const taken: ExtraVolume[] = [];
  for (const x of extra) {
    if (!x.volume || x.make) continue; // new: made later, reserved as made
    const done = await volumeApi.reserve(s, x.volume.partitionKey, x.volume.value.id, serverId, deviceForLun(x.lun));
    if (!done) {
      await unreserveExtraVolumes(s, taken, serverId);
      throw volumeApi.notAvailable({ id: x.volume.value.id, status: 'attaching' });
    }
    taken.push(x);
  }
}

export async function unreserveExtraVolumes(s: Services, extra: ExtraVolume[], serverId: string): Promise<void> {
  for (const x of extra) if (x.volume && !x.make) await volumeApi.detach(s, x.volume.partitionKey, x.volume.value.id, serverId);
}
