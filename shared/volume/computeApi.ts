// The volume service's API for compute — the only module of shared/volume that shared/compute may
// import (test/unit/compute-volume-boundary.test.ts). Nova reaches Cinder through a narrow client
// (nova/volume/cinder.py API: get, reserve, attach, begin_detaching, roll_detaching, detach, delete);
// in Jacket both run in one app, so the client is this module of calls into the volume service's own
// rules (attachments/service.ts, the volume delete work). Compute never writes Cinder's tables.
import type { Services } from '../services';
import type { RequestContext } from '../http/router';
import type { Stored } from '../store/tables';
import { startWork } from '../work/ledger';
import { cinderTime } from './common';
import { dependentsOf, findSnapshot, findVolume, jacketTags, snapshotById, volumeById, volumeTables, type SnapshotRecord, type VolumeRecord } from './model';
import { VOLUME_DELETE } from './workKinds';
import { createVolume, glanceMetadataOf, imageSourceOf } from './volumes/service';
import type { ImageRecord } from '../image/model';
import { typeByNameOrId } from './types/store';
import { ApiError } from '../http/errors';
import {
  attachmentById,
  attachmentOn,
  attachmentsOf,
  beginDetaching,
  markAttached,
  markBootDiskMade,
  releaseBootVolume,
  notAvailable,
  releaseFromServer,
  reserveForServer,
  rollDetaching,
  volumeAt,
  withAttachments,
  type AttachableVolume,
  type VolumeAttachment,
} from './attachments/service';

export type { VolumeRecord, AttachableVolume, VolumeAttachment };

/**
 * Cinder's os-force_detach of a volume attached to a server (shared/volume/volumes/adminActions.ts):
 * the volume is detaching and this work kind, run by compute (item id: the volume; data: its project,
 * the server and the attachment), takes the disk off the VM through Nova's detach and drops the
 * server's mapping — as Cinder's terminate_connection takes the backend's export away from the host.
 */
export const FORCE_DETACH_KIND = 'volume-force-detach';

/**
 * Cinder's manager after an attached volume grew (volume/manager.py extend_volume -> compute
 * nova.API.extend_volume): the os-server-external-events `volume-extended` event (tag: the volume) for
 * each server it is attached to. This work kind, run by compute (item id: the server; data: the
 * volume, the user who asked for the extend), takes the event as Nova's API and compute manager do.
 */
export const VOLUME_EXTENDED_EVENT_KIND = 'volume-extended-event';

export const volumeApi = {
  /** A volume the caller's project may see (admins: any), or Cinder's 404 `Volume <id> could not be found.` */
  get: (ctx: RequestContext, id: string): Promise<Stored<VolumeRecord>> => findVolume(ctx, id),
  /** A volume by its project and id, for work steps (no caller); undefined when it is gone. */
  getIn: volumeAt,
  /** Every attachment a volume carries (a multiattach volume: one per server). */
  attachmentsOf,
  /** The volume's attachment to this server, if any. */
  attachmentOn,
  /** The volume's attachment with this id, if any. */
  attachmentById,
  /** Cinder's 400 for a volume that is not available for attach. */
  notAvailable,
  /** os-reserve + attachment create: available → attaching for this server (under the volume's ETag). */
  reserve: reserveForServer,
  /** os-attach / attachment complete: attaching → in-use on this server. */
  attachComplete: markAttached,
  /** os-begin_detaching: in-use → detaching. */
  beginDetaching,
  /** os-roll_detaching: detaching → in-use (a detach that failed). */
  rollDetaching,
  /** os-detach / attachment delete: back to available. */
  detach: releaseFromServer,

  /**
   * Boot from volume with an image source (nova/virt/block_device.py DriverImageBlockDevice: Nova
   * creates the volume from the image through Cinder, named '', then boots from it): Cinder's own
   * rules and quotas for a volume from this image at this size, the record reserved for the server at
   * /dev/sda. On Azure the disk is the VM's OS disk made FromImage by the build (provisioned with the
   * server's osProfile), not a disk made first and attached: a disk made from a generalized image
   * cannot be booted by attaching it.
   */
  createBootVolume: async (ctx: RequestContext, imageId: string, size: number, serverId: string, volumeType?: string): Promise<VolumeRecord> =>
    // As Nova's call reaches Cinder: POST /v3/{the token's project}/volumes at Cinder's base version.
    (
      await createVolume(
        { ...ctx, params: { project_id: ctx.auth!.projectId! }, microversion: undefined },
        { size, imageRef: imageId, name: '', description: '', ...(volumeType ? { volume_type: volumeType } : {}) },
        { bootOf: serverId },
      )
    ).volume,
  /**
   * A blank volume, or one from a snapshot, mapped at boot (block_device_mapping_v2 blank|snapshot ->
   * volume): made through Cinder's rules and quotas like createBootVolume (a snapshot's state and size
   * rules too), reserved for the server at `device`; its disk is a data disk of the build's VM PUT,
   * Empty or a Copy of the snapshot.
   */
  createVolumeAtBoot: async (ctx: RequestContext, size: number, snapshotId: string | undefined, serverId: string, device: string, volumeType?: string): Promise<VolumeRecord> =>
    (
      await createVolume(
        { ...ctx, params: { project_id: ctx.auth!.projectId! }, microversion: undefined },
        { size, name: '', description: '', ...(snapshotId ? { snapshot_id: snapshotId } : {}), ...(volumeType ? { volume_type: volumeType } : {}) },
        { bootOf: serverId, bootDevice: device },
      )
    ).volume,
  /**
   * The name of the volume type `idOrName` names among those the caller's project may use, as Nova's
   * _check_requested_volume_type finds it in Cinder's type list (2.67); undefined when there is none.
   */
  async volumeTypeName(ctx: RequestContext, idOrName: string): Promise<string | undefined> {
    try {
      return (await typeByNameOrId(ctx, idOrName)).name;
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) return undefined;
      throw e;
    }
  },
  /**
   * 2.93: Nova's rebuild of a volume-backed server reimages its root volume through Cinder (os-reimage
   * with reimage_reserved, status downloading until done). Here: in-use → downloading under the record's
   * ETag, the reimage noted on the record (its new disk named there, so the disk sweep keeps it, and the
   * Glance metadata the volume takes once done). Answers why not: the status seen when the volume was not
   * in-use (Nova's _check_volume_status refuses the rebuild), or an image with no data Cinder could write
   * (`no-data`); undefined once marked.
   */
  async beginRootReimage(s: Services, project: string, volumeId: string, img: ImageRecord, diskName: string): Promise<{ status: string } | 'no-data' | undefined> {
    const source = imageSourceOf(img);
    if (!source) return 'no-data';
    let seen: string = 'deleted';
    await volumeTables(s).volumes.update(project, volumeId, (v) => {
      seen = v.status;
      if (v.status !== 'in-use') return undefined;
      return { ...v, status: 'downloading', previous_status: v.status, reimage: { image_id: img.id, source, image_metadata: glanceMetadataOf(img), disk_name: diskName }, updated_at: cinderTime() };
    });
    return seen === 'in-use' ? undefined : { status: seen };
  },
  /**
   * The rebuild swapped the new disk into the VM: the record names it, the volume takes the image's
   * Glance metadata, is bootable and in-use again (the manager's _refresh_volume_glance_meta). Only
   * this reimage's (its disk's name matches).
   */
  async rootReimageSwapped(s: Services, project: string, volumeId: string, diskName: string, armId: string): Promise<void> {
    await volumeTables(s).volumes.update(project, volumeId, (v) => {
      const r = v.reimage;
      if (v.status !== 'downloading' || r?.disk_name !== diskName) return undefined;
      return {
        ...v,
        disk: { ...v.disk, name: diskName, armId },
        status: v.previous_status ?? 'in-use',
        previous_status: undefined,
        reimage: undefined,
        image_metadata: r.image_metadata,
        bootable: true,
        updated_at: cinderTime(),
      };
    });
  },
  /** The rebuild gave up before the swap: the volume keeps its disk and data, and its previous status. */
  async rootReimageAbandoned(s: Services, project: string, volumeId: string, diskName: string): Promise<void> {
    await volumeTables(s).volumes.update(project, volumeId, (v) =>
      v.status !== 'downloading' || v.reimage?.disk_name !== diskName
        ? undefined
        : { ...v, status: v.previous_status ?? 'in-use', previous_status: undefined, reimage: undefined, updated_at: cinderTime() },
    );
  },
  /** The tags that mark a disk as this volume's (the sweeps' proof of ownership). */
  diskTags: (v: Pick<VolumeRecord, 'id' | 'project_id'>): Record<string, string> => jacketTags('volume', v.id, v.project_id, v.id),
  /**
   * The Glance metadata of the volume a snapshot was taken of (Nova's _get_bdm_image_metadata for a
   * snapshot source reads the snapshot's volume's volume_image_metadata); {} when that volume is gone.
   */
  async snapshotImageMetadata(s: Services, snap: SnapshotRecord): Promise<Record<string, string>> {
    return (await volumeById(s, snap.volume_id))?.value.image_metadata ?? {};
  },
  /** A snapshot the caller's project may see (admins: any), or Cinder's 404. */
  getSnapshot: (ctx: RequestContext, id: string): Promise<Stored<SnapshotRecord>> => findSnapshot(ctx, id),
  /** A snapshot's Azure resource id (a disk copied from it), or undefined when it is gone. */
  async snapshotArmId(s: Services, id: string): Promise<string | undefined> {
    const snap = await snapshotById(s, id);
    return snap ? s.azure.disks.snapshotId(snap.value.azure.name) : undefined;
  },
  /** The server's VM made the boot volume's disk: tagged as the volume's, then in-use. */
  bootDiskMade: markBootDiskMade,
  /** The build ended without the VM: the boot volume released, or in error when it has no disk. */
  releaseBootVolume,

  /**
   * A server went and its volume was mapped with delete_on_termination: Nova detaches, then deletes it
   * through Cinder, whose delete refuses a volume with snapshots (400) — Nova then leaves the volume.
   * Here: a volume still attached to this server (or available) is detached and, without snapshots,
   * marked deleting and its delete queued; with snapshots, or while it is being extended (3.42), it is
   * only detached (available, or extending until its extend lands), as Cinder's refusal leaves it; so
   * is a multiattach volume other servers still hold (Cinder refuses to delete an in-use volume). A
   * volume that meanwhile belongs to something else is left alone.
   */
  async deleteOnTermination(s: Services, project: string, volumeId: string, serverId: string, requestId?: string): Promise<'deleting' | 'detached' | 'left'> {
    const vol = await volumeAt(s, project, volumeId);
    if (!vol) return 'left';
    const at = attachmentOn(vol.value, serverId);
    const others = attachmentsOf(vol.value).filter((a) => a.server_id !== serverId);
    if ((!at && others.length > 0) || (!at && vol.value.status !== 'available')) return 'left';
    // Cinder's delete also refuses a volume being extended (3.42): detached only, its extend lands it.
    if (others.length > 0 || vol.value.status === 'extending' || (await dependentsOf(s, volumeId, 'snapshot')).length > 0) {
      if (at) await releaseFromServer(s, project, volumeId, serverId);
      return 'detached';
    }
    let mine = false;
    await volumeTables(s).volumes.update(vol.partitionKey, vol.rowKey, (v) => {
      const all = attachmentsOf(v);
      if (all.some((a) => a.server_id !== serverId) || (all.length === 0 && v.status !== 'available') || v.status === 'extending') return undefined;
      mine = true;
      return { ...withAttachments(v as AttachableVolume, []), status: 'deleting', attach_status: 'detached', updated_at: cinderTime() };
    });
    if (!mine) return 'left';
    await startWork(s, { kind: VOLUME_DELETE, id: volumeId, data: { project }, requestId });
    return 'deleting';
  },
};
