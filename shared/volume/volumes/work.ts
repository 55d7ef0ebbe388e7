// The long actions of volumes and snapshots (shared/work/engine.ts runs them): create, delete and
// extend a volume's disk, create and delete a snapshot. A step submits one ARM write and answers
// 'again' paced by the write's Retry-After (pollDelay); the next step reads the resource once and
// moves the record on under its ETag. No step looks before it writes (a PUT or DELETE is idempotent:
// its answer says what is there), so each action costs one write plus its polls.
// When the engine gives an action up (Azure refused it, or its retry budget is spent), giveUp lands
// the record in Cinder's stable error state: create → error, delete → error_deleting, extend →
// error_extending (docs/volumes.md). Records are removed last, after their disk or snapshot is gone.
import type { Services } from '../../services';
import { log } from '../../log';
import { again, done, type WorkItem, type WorkKind, type WorkResult } from '../../work/types';
import { AzureFailureError, azureFailure } from '../../azure/errors';
import { maxSharesFor, SHAREABLE_SKUS, type ArmState, type DiskSource, type Submission } from '../../azure/disks';
import { IMAGES_CONTAINER } from '../../image/vhdBlob';
import { cinderTime } from '../common';
import { backupById, dependentsOf, snapshotById, volumeById, jacketTags, restoredVolumeMeta, volumeTables, type ImageSource, type SnapshotRecord, type VolumeRecord } from '../model';
import { backupBlobRef } from '../diskCopy';
import { SNAPSHOT_CREATE, SNAPSHOT_DELETE, VOLUME_CREATE, VOLUME_DELETE, VOLUME_EXTEND } from '../workKinds';
import { extendKey, snapshotDeltas, typeNameOf, volumeDeltas, volumeLedger } from '../quotas/engine';
import { volumeBackendSchedulable } from '../../servicegroup/registry';
import { messageForWork } from '../messages/service';
import { startWork } from '../../work/ledger';
import { attachmentsOf } from '../attachments/service';
import { VOLUME_EXTENDED_EVENT_KIND } from '../computeApi';

export const SIZE_NOTE_KEY = 'jacket:size_note';
/** Deletes and extends that keep polling without ARM finishing are given up after this long. */
const POLL_DEADLINE_SECONDS = 2 * 3600;

export const projectOf = (item: WorkItem) => String(item.data?.project ?? '');
export const messageOf = (e: unknown) => azureFailure(e).message;

// Pacing: a poll waits what the submission's Retry-After said (kept in the item), else the floor; the
// engine clamps every 'again' to [pollFloorSeconds, pollCapSeconds] — what pollDelay computes. (Volume
// steps do not import the engine: it imports the list of kinds, which imports these steps.)
const paced = (retryAfter: unknown) => (typeof retryAfter === 'number' ? retryAfter : 0);

/** The IOPS and MB/s the volume's record holds (its type's QoS at create), for the disk's PUT. */
/** A multiattach volume's disk is shared: as many VMs as Azure lets a disk of its SKU and size take. */
export const sharingOf = (v: VolumeRecord, sizeGB: number) => (v.multiattach ? { maxShares: maxSharesFor(v.disk.sku, sizeGB) } : {});

export const performanceOf = (v: VolumeRecord) => (v.disk.iops !== undefined || v.disk.mbps !== undefined ? { performance: { iops: v.disk.iops, mbps: v.disk.mbps } } : {});

/** Poll again at the pace the last submission asked for. */
export const poll = (_s: Services, item: WorkItem, step = item.step): WorkResult => again(item, paced(item.data?.retryAfter), { step });

/** After a write: the next step, paced by what the write's answer said. */
export const submitted = (_s: Services, item: WorkItem, step: string, sub: Submission): WorkResult =>
  again(item, paced(sub.retryAfterSeconds), { step, data: { ...item.data, retryAfter: sub.retryAfterSeconds } });

/**
 * The last move of a disk swap (backup restore, revert): the old disk, which the record no longer
 * names, is deleted; undefined once it is gone, else the result to return (submitted, or poll).
 */
export async function oldDiskDeleted(s: Services, item: WorkItem, name: string): Promise<WorkResult | undefined> {
  if (item.step !== 'old-deleted') {
    const sub = await s.azure.disks.deleteDisk(name);
    if (!sub.gone) return submitted(s, item, 'old-deleted', sub);
  } else if (await s.azure.disks.disk(name)) return poll(s, item);
  return undefined;
}

/** A stop no retry can change (the step decided it, not Azure): the engine gives the action up at once. */
export const refuse = (code: string, message: string) => new AzureFailureError({ kind: 'client', code, message });

/** ARM ended the resource Failed or Canceled: no retry changes that, so the action is given up. */
export function throwIfFailed(st: ArmState, what: string): void {
  if (st.provisioningState === 'Failed' || st.provisioningState === 'Canceled') throw refuse(`Provisioning${st.provisioningState}`, `${what} ended ${st.provisioningState} in Azure.`);
}

/** The resource's state when ARM is done with it (Succeeded, Failed, Canceled). */
export const terminal = (st: ArmState | undefined) => (st && ['Succeeded', 'Failed', 'Canceled'].includes(st.provisioningState) ? st : undefined);

/** The ARM source of a disk made from an image: its VHD blob (Import), its managed or marketplace image (FromImage). */
export async function imageDiskSource(s: Services, img: ImageSource): Promise<DiskSource> {
  if (img.kind === 'blob') return { blob: { container: IMAGES_CONTAINER, name: img.blob_name } };
  if (img.kind === 'managed') return { imageReferenceId: img.managed_image_id };
  return { imageReferenceId: await s.azure.disks.marketplaceVersionId(img.publisher, img.offer, img.sku, img.version) };
}

/**
 * The ARM source of a new volume's disk and the size it has: a snapshot or volume (Copy), a backup's
 * blob or a Jacket image's VHD blob (Import), a marketplace image (FromImage).
 */
async function sourceOf(s: Services, v: VolumeRecord): Promise<{ id: string; size: number; source: DiskSource } | undefined | 'gone'> {
  const arm = s.azure.disks;
  if (v.backup_id) {
    const b = await backupById(s, v.backup_id);
    if (!b) return 'gone';
    return { id: b.rowKey, size: b.value.size, source: { blob: backupBlobRef(b.value.blob.name) } };
  }
  const img = v.image_source;
  if (img) return { id: img.image_id, size: v.size, source: await imageDiskSource(s, img) };
  if (v.snapshot_id) {
    const snap = await snapshotById(s, v.snapshot_id);
    return snap ? { id: snap.rowKey, size: snap.value.size, source: { sourceId: arm.snapshotId(snap.value.azure.name) } } : 'gone';
  }
  if (v.source_volid) {
    const src = await volumeById(s, v.source_volid);
    // The disk's current name: a restore over a volume moves it to a new disk.
    return src ? { id: src.rowKey, size: src.value.size, source: { sourceId: arm.diskId(src.value.disk.name) } } : 'gone';
  }
  return undefined;
}

async function finishCreate(s: Services, v: VolumeRecord, status: 'available' | 'error', armDiskId?: string): Promise<WorkResult> {
  const t = volumeTables(s);
  // A volume restored from a backup gets the source volume's metadata (BackupMetadataAPI.put).
  const meta = status === 'available' && v.backup_id ? (await backupById(s, v.backup_id))?.value.volume_meta : undefined;
  await t.volumes.update(v.project_id, v.id, (x) =>
    x.status !== 'creating' ? undefined : { ...x, ...restoredVolumeMeta(x, meta), status, disk: { ...x.disk, ...(armDiskId ? { armId: armDiskId } : {}) }, updated_at: cinderTime() },
  );
  // Once the copy exists (or failed) it no longer needs its source.
  const source = v.snapshot_id ?? v.source_volid;
  if (source) await t.deps.delete(source, v.id);
  if (v.backup_id) await releaseBackup(s, v.backup_id, v.id);
  return done();
}

/** A restore is over: the backup is available again (only if it was restoring to this volume). */
export async function releaseBackup(s: Services, backupId: string, volumeId: string): Promise<void> {
  const b = await backupById(s, backupId);
  if (!b) return;
  await volumeTables(s).backups.update(b.partitionKey, b.rowKey, (x) =>
    x.status !== 'restoring' || x.restore_volume_id !== volumeId ? undefined : { ...x, status: 'available', restore_volume_id: undefined, updated_at: cinderTime() },
  );
}

/**
 * The volume the item names, when it is still in `status` (another action or a reset moved it on
 * otherwise). Every volume work kind reads its record through this (manage, retype too).
 */
export async function volumeIn(s: Services, item: WorkItem, status: VolumeRecord['status']) {
  const cur = await volumeTables(s).volumes.get(projectOf(item), item.id);
  return cur && cur.value.status === status ? cur : undefined;
}

/**
 * Lands a volume that is still in `from` in `to` (a give-up's stable error state; `to` may be read
 * from the record, as a failed retype goes back to its previous status), under the record's ETag.
 */
export async function landVolume(
  s: Services,
  item: WorkItem,
  from: VolumeRecord['status'],
  to: VolumeRecord['status'] | ((x: VolumeRecord) => VolumeRecord['status']),
  patch: Partial<VolumeRecord> = {},
) {
  await volumeTables(s).volumes.update(projectOf(item), item.id, (x) => (x.status !== from ? undefined : { ...x, ...patch, status: typeof to === 'function' ? to(x) : to, updated_at: cinderTime() }));
}

const volumeCreate: WorkKind = {
  kind: VOLUME_CREATE,
  async run(item, s) {
    const cur = await volumeIn(s, item, 'creating');
    if (!cur) return done();
    const v = cur.value;
    const arm = s.azure.disks;
    const settle = (st: ArmState) => {
      throwIfFailed(st, "The volume's disk");
      if (st.provisioningState === 'Succeeded') return finishCreate(s, v, 'available', st.id);
      return poll(s, item, 'wait');
    };
    if (item.step === 'wait') {
      const st = await arm.disk(v.disk.name);
      // Present: wait for it. Absent after an accepted PUT (it never took): submit again below.
      if (st) return settle(st);
    }
    // Cinder's scheduler: a disabled cinder-volume leaves no backend, and the volume ends in error.
    if (!item.step && !(await volumeBackendSchedulable(s))) throw refuse('NoValidBackend', 'No valid backend was found. No weighed backends available');
    // A multiattach type on a SKU Azure cannot share: no pool reports multiattach (the capabilities
    // filter leaves no backend), as Cinder's scheduler answers a backend without the capability.
    if (v.multiattach && !SHAREABLE_SKUS.includes(v.disk.sku)) throw refuse('NoValidBackend', 'No valid backend was found. No weighed backends available');
    const src = await sourceOf(s, v);
    if (src === 'gone') throw refuse('SourceGone', 'The volume, snapshot or backup this volume was to be made from is gone.');
    const tags = jacketTags('volume', v.id, v.project_id, v.id);
    let sub: Submission;
    try {
      sub = await arm.createDisk(v.disk.name, { sizeGB: v.size, sku: v.disk.sku, tags, source: src?.source, ...performanceOf(v), ...sharingOf(v, v.size) });
    } catch (e) {
      if (!(azureFailure(e).kind === 'client' && src && 'sourceId' in src.source && v.size > src.size)) throw e;
      // Azure would not grow this copy: make it at the source's size and say why (docs/volumes.md).
      const note = `created at ${src.size} GiB instead of ${v.size} GiB: Azure refused to grow the copy (${messageOf(e)})`;
      log.warn('volume size not honoured', { volume: v.id, requested: v.size, created: src.size, reason: messageOf(e) });
      sub = await arm.createDisk(v.disk.name, { sizeGB: src.size, sku: v.disk.sku, tags, source: src.source, ...performanceOf(v), ...sharingOf(v, src.size) });
      await volumeTables(s).volumes.update(v.project_id, v.id, (x) => ({ ...x, size: src.size, metadata: { ...x.metadata, [SIZE_NOTE_KEY]: note.slice(0, 255) } }));
      // The volume holds less than it reserved: the difference goes back.
      await volumeLedger(s).release(v.project_id, volumeDeltas(await typeNameOf(s, v.volume_type_id), v.size - src.size, 0));
    }
    const st = terminal(sub.state);
    return st ? settle(st) : submitted(s, item, 'wait', sub);
  },
  async giveUp(item, s, f) {
    const cur = await volumeIn(s, item, 'creating');
    if (!cur) return;
    log.warn('volume create failed', { volume: item.id, code: f.code, reason: f.message.slice(0, 300) });
    await finishCreate(s, cur.value, 'error');
    // The scheduler's NoValidBackend (scheduler/flows/create_volume.py), else the driver's failure (flows/manager/create_volume.py).
    const scheduling = f.code === 'NoValidBackend';
    await messageForWork(s, item, cur.partitionKey, {
      action: scheduling ? 'SCHEDULE_ALLOCATE_VOLUME' : 'CREATE_VOLUME_FROM_BACKEND',
      detail: scheduling ? 'NO_BACKEND_AVAILABLE' : 'DRIVER_FAILED_CREATE',
      resourceType: 'VOLUME',
      resourceUuid: item.id,
    });
  },
};

/** Removes a volume's records once its disk is gone. */
async function forgetVolume(s: Services, v: VolumeRecord, rec: { partitionKey: string; rowKey: string }) {
  const t = volumeTables(s);
  const source = v.snapshot_id ?? v.source_volid;
  if (source) await t.deps.delete(source, v.id);
  if (v.backup_id) await releaseBackup(s, v.backup_id, v.id);
  await t.typeUse.delete(v.volume_type_id, v.id);
  await t.index.delete('volume', v.id);
  // Its usage is given back before the record goes, once per volume (a retry after a crash between
  // the two does not give it again), so no reader sees the volume gone while it still counts.
  const ledger = volumeLedger(s);
  await ledger.releaseOnce(rec.partitionKey, v.id, volumeDeltas(await typeNameOf(s, v.volume_type_id), v.size));
  await t.volumes.delete(rec.partitionKey, rec.rowKey);
  await ledger.forget(rec.partitionKey, v.id);
}

/**
 * What keeps a volume's disk: snapshots being deleted (a cascade) and copies still being made. A
 * snapshot that is not being deleted any more (its delete was given up: error_deleting) never lets
 * go, so the volume's delete is given up too instead of waiting for ever.
 */
async function blockers(s: Services, volumeId: string): Promise<number> {
  const t = volumeTables(s);
  let waiting = 0;
  for (const d of await dependentsOf(s, volumeId)) {
    if (d.value.kind !== 'snapshot') {
      waiting++;
      continue;
    }
    const snap = await t.snapshots.get(d.value.project_id, d.rowKey);
    if (!snap) {
      await t.deps.delete(volumeId, d.rowKey); // a row its snapshot's delete did not get to remove
      continue;
    }
    if (snap.value.status !== 'deleting') throw refuse('SnapshotNotDeleted', `Snapshot ${d.rowKey} of the volume is ${snap.value.status}, not deleting.`);
    waiting++;
  }
  return waiting;
}

const volumeDelete: WorkKind = {
  kind: VOLUME_DELETE,
  deadlineSeconds: POLL_DEADLINE_SECONDS,
  async run(item, s) {
    const cur = await volumeIn(s, item, 'deleting');
    if (!cur) return done();
    const v = cur.value;
    if ((await blockers(s, v.id)) > 0) return poll(s, item, 'blocked');
    const arm = s.azure.disks;
    if (item.step === 'submitted') {
      if (await arm.disk(v.disk.name)) return poll(s, item);
    } else {
      const sub = await arm.deleteDisk(v.disk.name);
      if (!sub.gone) return submitted(s, item, 'submitted', sub);
    }
    await forgetVolume(s, v, cur);
    return done();
  },
  async giveUp(item, s, f) {
    log.warn('volume delete failed', { volume: item.id, code: f.code, reason: f.message.slice(0, 300) });
    await landVolume(s, item, 'deleting', 'error_deleting');
  },
};

const volumeExtend: WorkKind = {
  kind: VOLUME_EXTEND,
  deadlineSeconds: POLL_DEADLINE_SECONDS,
  async run(item, s) {
    const cur = await volumeIn(s, item, 'extending');
    if (!cur) return done();
    const v = cur.value;
    const target = Number(item.data?.size ?? v.extend_to);
    const arm = s.azure.disks;
    const settle = async (st: ArmState | undefined): Promise<WorkResult> => {
      if (!st) throw refuse('DiskMissing', "The volume's disk is missing.");
      if (st.provisioningState === 'Failed') throw refuse('ResizeFailed', 'The resize failed in Azure.');
      if (st.sizeGB < target || st.provisioningState !== 'Succeeded') return poll(s, item, 'submitted');
      // The disk has grown: the growth held at the request becomes usage, then the record shows it,
      // in-use again when attached (manager.py extend_volume_completion: by its attachments).
      await volumeLedger(s).commit(projectOf(item), [extendKey(item.id)]);
      await landVolume(s, item, 'extending', (x) => (attachmentsOf(x).length > 0 ? 'in-use' : 'available'), { size: target, extend_to: undefined, previous_status: undefined });
      // Then Nova hears of it (manager.py extend_volume -> compute.API.extend_volume): volume-extended,
      // for each server it is attached to.
      for (const server of new Set(attachmentsOf(v).map((a) => a.server_id))) {
        if (!server) continue;
        await startWork(s, { kind: VOLUME_EXTENDED_EVENT_KIND, id: server, key: item.id, data: { volume: item.id, project: projectOf(item), user: item.data?.user }, requestId: item.requestId });
      }
      return done();
    };
    if (item.step === 'submitted') return settle(await arm.disk(v.disk.name));
    const sub = await arm.resizeDisk(v.disk.name, target);
    return sub.state ? settle(sub.state) : submitted(s, item, 'submitted', sub);
  },
  async giveUp(item, s, f) {
    log.warn('volume extend failed', { volume: item.id, code: f.code, reason: f.message.slice(0, 300) });
    const landed = await volumeIn(s, item, 'extending');
    await landVolume(s, item, 'extending', 'error_extending', { extend_to: undefined, previous_status: undefined });
    await volumeLedger(s).rollback(projectOf(item), [extendKey(item.id)]);
    // volume/manager.py extend_volume: the driver's failure.
    if (landed) await messageForWork(s, item, projectOf(item), { action: 'EXTEND_VOLUME', detail: 'DRIVER_FAILED_EXTEND', resourceType: 'VOLUME', resourceUuid: item.id });
  },
};

/** The snapshot the item names, when it is still in `status` (volumeIn's twin). */
export async function snapshotIn(s: Services, item: WorkItem, status: SnapshotRecord['status']) {
  const cur = await volumeTables(s).snapshots.get(projectOf(item), item.id);
  return cur && cur.value.status === status ? cur : undefined;
}

/** Lands a snapshot that is still in `from` in `to` (landVolume's twin). */
export async function landSnapshot(s: Services, item: WorkItem, from: SnapshotRecord['status'], to: SnapshotRecord['status']) {
  await volumeTables(s).snapshots.update(projectOf(item), item.id, (x) => (x.status !== from ? undefined : { ...x, status: to, updated_at: cinderTime() }));
}

const snapshotCreate: WorkKind = {
  kind: SNAPSHOT_CREATE,
  async run(item, s) {
    const cur = await snapshotIn(s, item, 'creating');
    if (!cur) return done();
    const snap = cur.value;
    const arm = s.azure.disks;
    const settle = async (st: ArmState): Promise<WorkResult> => {
      throwIfFailed(st, 'The snapshot');
      if (st.provisioningState !== 'Succeeded') return poll(s, item, 'wait');
      await volumeTables(s).snapshots.update(snap.project_id, snap.id, (x) =>
        x.status !== 'creating' ? undefined : { ...x, status: 'available', azure: { ...x.azure, armId: st.id }, updated_at: cinderTime() },
      );
      return done();
    };
    if (item.step === 'wait') {
      const st = await arm.snapshot(snap.azure.name);
      if (st) return settle(st);
    }
    const vol = await volumeTables(s).volumes.get(snap.volume_project_id, snap.volume_id);
    if (!vol) throw refuse('VolumeGone', 'The volume was deleted before its snapshot was taken.');
    const sub = await arm.createSnapshot(snap.azure.name, vol.value.disk.name, jacketTags('snapshot', snap.id, snap.project_id, snap.volume_id));
    const st = terminal(sub.state);
    return st ? settle(st) : submitted(s, item, 'wait', sub);
  },
  async giveUp(item, s, f) {
    log.warn('snapshot create failed', { snapshot: item.id, code: f.code, reason: f.message.slice(0, 300) });
    const landed = await snapshotIn(s, item, 'creating');
    await landSnapshot(s, item, 'creating', 'error');
    if (landed) await messageForWork(s, item, projectOf(item), { action: 'SNAPSHOT_CREATE', detail: 'SNAPSHOT_CREATE_ERROR', resourceType: 'VOLUME_SNAPSHOT', resourceUuid: item.id });
  },
};

const snapshotDelete: WorkKind = {
  kind: SNAPSHOT_DELETE,
  deadlineSeconds: POLL_DEADLINE_SECONDS,
  async run(item, s) {
    const cur = await snapshotIn(s, item, 'deleting');
    if (!cur) return done();
    const snap = cur.value;
    // Volumes still being copied from this snapshot keep it.
    if ((await dependentsOf(s, snap.id, 'clone')).length > 0) return poll(s, item, 'blocked');
    const arm = s.azure.disks;
    if (item.step === 'submitted') {
      if (await arm.snapshot(snap.azure.name)) return poll(s, item);
    } else {
      const sub = await arm.deleteSnapshot(snap.azure.name);
      if (!sub.gone) return submitted(s, item, 'submitted', sub);
    }
    const t = volumeTables(s);
    await t.deps.delete(snap.volume_id, snap.id);
    await t.index.delete('snapshot', snap.id);
    // As a volume's (forgetVolume): usage given back once, before the record goes.
    const ledger = volumeLedger(s);
    await ledger.releaseOnce(cur.partitionKey, snap.id, snapshotDeltas(await typeNameOf(s, snap.volume_type_id), snap.size));
    await t.snapshots.delete(cur.partitionKey, cur.rowKey);
    await ledger.forget(cur.partitionKey, snap.id);
    return done();
  },
  async giveUp(item, s, f) {
    log.warn('snapshot delete failed', { snapshot: item.id, code: f.code, reason: f.message.slice(0, 300) });
    const landed = await snapshotIn(s, item, 'deleting');
    await landSnapshot(s, item, 'deleting', 'error_deleting');
    if (landed) await messageForWork(s, item, projectOf(item), { action: 'SNAPSHOT_DELETE', detail: 'SNAPSHOT_DELETE_ERROR', resourceType: 'VOLUME_SNAPSHOT', resourceUuid: item.id });
  },
};

export const VOLUME_WORK: WorkKind[] = [volumeCreate, volumeDelete, volumeExtend, snapshotCreate, snapshotDelete];
