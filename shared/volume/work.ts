// The work-queue steps of volumes and snapshots. Each step looks at the record and at ARM, submits
// what is missing (never waiting on a long-running operation) and comes back later ('again') until ARM
// is done; then it moves the record on under its ETag. Steps are idempotent, so a retried message
// repeats nothing harmful. Records are removed last, after their disk or snapshot is gone, so a crash
// midway leaves a record still marked 'deleting' that the retry finishes.
import type { Services } from '../services';
import type { JacketConfig } from '../config';
import { registerWork, type WorkItem, type WorkResult } from '../work/queue';
import { log } from '../log';
import { cinderTime } from './common';
import { backupById, dependentsOf, diskNameOf, jacketTags, snapshotNameOf, volumeTables, type VolumeRecord } from './model';
import { statusOf, volumeDisks, type DiskSource } from './azureDisks';
import { backupBlob } from './diskCopy';
import { imageBlob } from '../image/vhdBlob';
import { SNAPSHOT_CREATE, SNAPSHOT_DELETE, VOLUME_CREATE, VOLUME_DELETE, VOLUME_EXTEND } from './workKinds';

const POLL = 2;
/** After this many polls without ARM showing the change, a submission is sent again. */
const RESUBMIT_AFTER = 30;
export const SIZE_NOTE_KEY = 'jacket:size_note';

export const armId = (cfg: JacketConfig, type: 'disks' | 'snapshots', name: string) =>
  `/subscriptions/${cfg.azure.subscriptionId}/resourceGroups/${cfg.azure.resourceGroup}/providers/Microsoft.Compute/${type}/${name}`;

export const again = (item: WorkItem, step?: string): WorkResult => ({ status: 'again', delaySeconds: POLL, item: { ...item, step: step ?? item.step } });
const project = (item: WorkItem) => String(item.data?.project ?? '');
export const isClientError = (e: unknown) => {
  const s = statusOf(e);
  return s !== undefined && s >= 400 && s < 500 && s !== 429 && s !== 404;
};
export const messageOf = (e: unknown) => (e instanceof Error ? e.message : String(e));

/**
 * The ARM source of a new volume's disk and the size it has: a snapshot or volume (Copy), a backup's
 * blob or a Jacket image's VHD blob (Import), a marketplace image (FromImage).
 */
async function sourceOf(s: Services, v: VolumeRecord): Promise<{ id: string; size: number; source: DiskSource } | undefined | 'gone'> {
  const t = volumeTables(s);
  if (v.backup_id) {
    const b = await backupById(s, v.backup_id);
    if (!b) return 'gone';
    return { id: b.rowKey, size: b.value.size, source: { importUri: (await backupBlob(s.config, b.value.blob.name)).url } };
  }
  const img = v.image_source;
  if (img?.kind === 'blob') return { id: img.image_id, size: v.size, source: { importUri: (await imageBlob(s.config, img.blob_name)).url } };
  if (img?.kind === 'managed') return { id: img.image_id, size: v.size, source: { imageReferenceId: img.managed_image_id } };
  if (img?.kind === 'marketplace') {
    const ref = await volumeDisks(s.config).marketplaceVersionId(img.publisher, img.offer, img.sku, img.version);
    return { id: img.image_id, size: v.size, source: { imageReferenceId: ref } };
  }
  if (v.snapshot_id) {
    const p = (await t.index.get('snapshot', v.snapshot_id))?.value.project_id;
    const snap = p ? await t.snapshots.get(p, v.snapshot_id) : undefined;
    return snap ? { id: snap.rowKey, size: snap.value.size, source: { sourceId: armId(s.config, 'snapshots', snapshotNameOf(snap.rowKey)) } } : 'gone';
  }
  if (v.source_volid) {
    const p = (await t.index.get('volume', v.source_volid))?.value.project_id;
    const src = p ? await t.volumes.get(p, v.source_volid) : undefined;
    // The disk's current name: a restore over a volume moves it to a new disk.
    return src ? { id: src.rowKey, size: src.value.size, source: { sourceId: armId(s.config, 'disks', src.value.disk.name) } } : 'gone';
  }
  return undefined;
}

async function finishCreate(s: Services, v: VolumeRecord, status: 'available' | 'error', armDiskId?: string): Promise<WorkResult> {
  const t = volumeTables(s);
  await t.volumes.update(v.project_id, v.id, (x) =>
    x.status !== 'creating' ? undefined : { ...x, status, disk: { ...x.disk, ...(armDiskId ? { armId: armDiskId } : {}) }, updated_at: cinderTime() },
  );
  // Once the copy exists it no longer needs its source.
  const source = v.snapshot_id ?? v.source_volid;
  if (source) await t.deps.delete(source, v.id);
  if (v.backup_id) await releaseBackup(s, v.backup_id, v.id);
  return { status: 'done' };
}

/** A restore is over: the backup is available again (only if it was restoring to this volume). */
export async function releaseBackup(s: Services, backupId: string, volumeId: string): Promise<void> {
  const b = await backupById(s, backupId);
  if (!b) return;
  await volumeTables(s).backups.update(b.partitionKey, b.rowKey, (x) =>
    x.status !== 'restoring' || x.restore_volume_id !== volumeId ? undefined : { ...x, status: 'available', restore_volume_id: undefined, updated_at: cinderTime() },
  );
}

async function volumeCreate(item: WorkItem, s: Services): Promise<WorkResult> {
  const t = volumeTables(s);
  const cur = await t.volumes.get(project(item), item.id);
  if (!cur || cur.value.status !== 'creating') return { status: 'done' };
  const v = cur.value;
  const arm = volumeDisks(s.config);
  const st = await arm.disk(v.disk.name);
  if (!st) {
    const src = await sourceOf(s, v);
    if (src === 'gone') {
      log.warn('volume source vanished', { volume: v.id });
      return finishCreate(s, v, 'error');
    }
    const tags = jacketTags('volume', v.id, v.project_id, v.id);
    try {
      await arm.createDisk(v.disk.name, v.size, v.disk.sku, tags, src ? src.source : undefined);
    } catch (e) {
      if (!isClientError(e)) throw e;
      if (src && 'sourceId' in src.source && v.size > src.size) {
        // Azure would not grow this copy: make it at the source's size and say why (docs/volumes.md).
        const note = `created at ${src.size} GiB instead of ${v.size} GiB: Azure refused to grow the copy (${messageOf(e)})`;
        log.warn('volume size not honoured', { volume: v.id, requested: v.size, created: src.size, reason: messageOf(e) });
        await arm.createDisk(v.disk.name, src.size, v.disk.sku, tags, src.source);
        await t.volumes.update(v.project_id, v.id, (x) => ({ ...x, size: src.size, metadata: { ...x.metadata, [SIZE_NOTE_KEY]: note.slice(0, 255) } }));
        return again(item);
      }
      log.warn('volume create refused by Azure', { volume: v.id, error: messageOf(e) });
      return finishCreate(s, v, 'error');
    }
    return again(item);
  }
  if (st.provisioningState === 'Succeeded') return finishCreate(s, v, 'available', st.id);
  if (st.provisioningState === 'Failed' || st.provisioningState === 'Canceled') {
    log.warn('volume disk failed', { volume: v.id, state: st.provisioningState });
    return finishCreate(s, v, 'error', st.id);
  }
  return again(item);
}

async function volumeDelete(item: WorkItem, s: Services): Promise<WorkResult> {
  const t = volumeTables(s);
  const cur = await t.volumes.get(project(item), item.id);
  if (!cur || cur.value.status !== 'deleting') return { status: 'done' };
  const v = cur.value;
  // Snapshots being deleted (cascade) and copies still being made keep the disk.
  if ((await dependentsOf(s, v.id)).length > 0) return again(item);
  const arm = volumeDisks(s.config);
  const st = await arm.disk(v.disk.name);
  if (st) {
    if (item.step !== 'submitted' || (item.polls ?? 0) % RESUBMIT_AFTER === RESUBMIT_AFTER - 1) {
      await arm.deleteDisk(v.disk.name);
      return again(item, 'submitted');
    }
    return again(item);
  }
  const source = v.snapshot_id ?? v.source_volid;
  if (source) await t.deps.delete(source, v.id);
  if (v.backup_id) await releaseBackup(s, v.backup_id, v.id);
  await t.typeUse.delete(v.volume_type_id, v.id);
  await t.index.delete('volume', v.id);
  await t.volumes.delete(cur.partitionKey, cur.rowKey);
  return { status: 'done' };
}

async function volumeExtend(item: WorkItem, s: Services): Promise<WorkResult> {
  const t = volumeTables(s);
  const cur = await t.volumes.get(project(item), item.id);
  if (!cur || cur.value.status !== 'extending') return { status: 'done' };
  const v = cur.value;
  const target = Number(item.data?.size ?? v.extend_to);
  const fail = async (why: string) => {
    log.warn('volume extend failed', { volume: v.id, target, reason: why });
    await t.volumes.update(v.project_id, v.id, (x) => (x.status !== 'extending' ? undefined : { ...x, status: 'error_extending', extend_to: undefined, updated_at: cinderTime() }));
    return { status: 'done' } as WorkResult;
  };
  const arm = volumeDisks(s.config);
  const st = await arm.disk(v.disk.name);
  if (!st) return fail('the disk is missing');
  if (st.sizeGB >= target && st.provisioningState === 'Succeeded') {
    await t.volumes.update(v.project_id, v.id, (x) => (x.status !== 'extending' ? undefined : { ...x, status: 'available', size: target, extend_to: undefined, updated_at: cinderTime() }));
    return { status: 'done' };
  }
  if (st.provisioningState === 'Failed') return fail('the resize failed');
  if (item.step !== 'submitted') {
    try {
      await arm.resizeDisk(v.disk.name, target);
    } catch (e) {
      if (isClientError(e)) return fail(messageOf(e));
      throw e;
    }
    return again(item, 'submitted');
  }
  return again(item);
}

async function snapshotCreate(item: WorkItem, s: Services): Promise<WorkResult> {
  const t = volumeTables(s);
  const cur = await t.snapshots.get(project(item), item.id);
  if (!cur || cur.value.status !== 'creating') return { status: 'done' };
  const snap = cur.value;
  const set = async (status: 'available' | 'error', armSnapId?: string) => {
    await t.snapshots.update(snap.project_id, snap.id, (x) =>
      x.status !== 'creating' ? undefined : { ...x, status, azure: { ...x.azure, ...(armSnapId ? { armId: armSnapId } : {}) }, updated_at: cinderTime() },
    );
    return { status: 'done' } as WorkResult;
  };
  const arm = volumeDisks(s.config);
  const st = await arm.snapshot(snap.azure.name);
  if (!st) {
    try {
      const vol = await t.volumes.get(snap.volume_project_id, snap.volume_id);
      const diskName = vol?.value.disk.name ?? diskNameOf(snap.volume_id);
      await arm.createSnapshot(snap.azure.name, armId(s.config, 'disks', diskName), jacketTags('snapshot', snap.id, snap.project_id, snap.volume_id));
    } catch (e) {
      if (!isClientError(e)) throw e;
      log.warn('snapshot refused by Azure', { snapshot: snap.id, error: messageOf(e) });
      return set('error');
    }
    return again(item);
  }
  if (st.provisioningState === 'Succeeded') return set('available', st.id);
  if (st.provisioningState === 'Failed' || st.provisioningState === 'Canceled') return set('error', st.id);
  return again(item);
}

async function snapshotDelete(item: WorkItem, s: Services): Promise<WorkResult> {
  const t = volumeTables(s);
  const cur = await t.snapshots.get(project(item), item.id);
  if (!cur || cur.value.status !== 'deleting') return { status: 'done' };
  const snap = cur.value;
  // Volumes still being copied from this snapshot keep it.
  if ((await dependentsOf(s, snap.id, 'clone')).length > 0) return again(item);
  const arm = volumeDisks(s.config);
  const st = await arm.snapshot(snap.azure.name);
  if (st) {
    if (item.step !== 'submitted' || (item.polls ?? 0) % RESUBMIT_AFTER === RESUBMIT_AFTER - 1) {
      await arm.deleteSnapshot(snap.azure.name);
      return again(item, 'submitted');
    }
    return again(item);
  }
  await t.deps.delete(snap.volume_id, snap.id);
  await t.index.delete('snapshot', snap.id);
  await t.snapshots.delete(cur.partitionKey, cur.rowKey);
  return { status: 'done' };
}

registerWork(VOLUME_CREATE, volumeCreate);
registerWork(VOLUME_DELETE, volumeDelete);
registerWork(VOLUME_EXTEND, volumeExtend);
registerWork(SNAPSHOT_CREATE, snapshotCreate);
registerWork(SNAPSHOT_DELETE, snapshotDelete);

// The backup, restore and upload steps live beside their APIs; importing them here registers them.
import './backupWork';
import './imageUpload';
