// The long halves of manage and unmanage (Cinder's manage_existing flow and delete_volume with
// unmanage_only), on the work engine. Each run is one idempotent pass over the record and the disk:
//   manage    read the disk named by the ref; refuse (→ error_managing, as the driver's refusal or a
//             quota failure does in Cinder) a disk that is missing, Jacket's, in use, not Succeeded, or
//             of a SKU other than the volume type's azure:sku; hold its size against the quota; add
//             Jacket's tags beside the disk's own; then, under the record's ETag, name the disk in the
//             record with its size and SKU and make it available. A give-up strips the tags again.
//   unmanage  strip Jacket's tags from the disk (the disk stays), then remove the record and give
//             back its usage. The sweeps never delete an adopted disk (not named volume-<id>), and an
//             unmanaged one carries no Jacket tag either.
import { log } from '../../log';
import { done, type WorkKind } from '../../work/types';
import { ApiError } from '../../http/errors';
import { cinderTime } from '../common';
import { jacketTags, volumeTables } from '../model';
import { extendKey, reserveExtend, snapshotDeltas, typeNameOf, volumeDeltas, volumeLedger } from '../quotas/engine';
import { typeStore, SKU_SPEC } from '../types/store';
import { SNAPSHOT_MANAGE, SNAPSHOT_UNMANAGE, VOLUME_MANAGE, VOLUME_UNMANAGE } from '../workKinds';
import { landSnapshot, landVolume, projectOf, refuse, snapshotIn, volumeIn } from '../volumes/work';
import { isJacketDisk, JACKET_TAG_KEYS } from './service';

const BUSY = ['Attached', 'Reserved', 'ActiveSAS', 'ActiveSASFrozen', 'ActiveUpload', 'ReadyToUpload', 'Frozen'];

const withoutJacketTags = (tags: Record<string, string>) => Object.fromEntries(Object.entries(tags).filter(([k]) => !JACKET_TAG_KEYS.includes(k)));

const volumeManage: WorkKind = {
  kind: VOLUME_MANAGE,
  async run(item, s) {
    const cur = await volumeIn(s, item, 'managing');
    if (!cur) return done();
    const v = cur.value;
    const name = v.manage_ref?.source_name ?? '';
    if (!name) throw refuse('ManageExistingInvalidReference', "Manage existing volume failed due to invalid backend reference: the ref needs a 'source-name'.");
    const arm = s.azure.disks;
    const st = await arm.disk(name);
    if (!st) throw refuse('ManageExistingInvalidReference', `Manage existing volume failed due to invalid backend reference: disk ${name} not found.`);
    const tags = st.tags ?? {};
    // Jacket's own disk, unless it is this volume's (a pass that tagged it and then died).
    if (isJacketDisk(name, tags) && tags['jacket-volume-id'] !== v.id) throw refuse('ManageExistingAlreadyManaged', `Disk ${name} is Jacket's.`);
    if (st.managedBy || (st.diskState && BUSY.includes(st.diskState))) throw refuse('VolumeIsBusy', `Disk ${name} is in use (${st.diskState ?? st.managedBy}).`);
    if (st.provisioningState !== 'Succeeded') throw refuse('ManageExistingVolumeNotReady', `Disk ${name} is ${st.provisioningState}.`);
    const type = (await typeStore(s).get(v.volume_type_id))?.value;
    const wanted = type?.extra_specs[SKU_SPEC];
    if (wanted && st.sku && wanted !== st.sku) throw refuse('ManageExistingVolumeTypeMismatch', `Disk ${name} is ${st.sku}; volume type ${type?.name} asks for ${wanted}.`);
    // The size, held like an extend's growth until the record has it (a pass that died re-reserves the same key).
    try {
      await reserveExtend(s, cur.partitionKey, v.id, type?.name ?? '', st.sizeGB, st.sizeGB);
    } catch (e) {
      if (e instanceof ApiError) throw refuse('QuotaError', e.message);
      throw e;
    }
    if (tags['jacket-volume-id'] !== v.id) await arm.setTags('disks', name, { ...tags, ...jacketTags('volume', v.id, cur.partitionKey, v.id) });
    const t = volumeTables(s);
    const moved = await t.volumes.update(cur.partitionKey, v.id, (x) =>
      x.status !== 'managing' ? undefined : { ...x, status: 'available', size: st.sizeGB, disk: { name, sku: st.sku ?? x.disk.sku, armId: st.id }, manage_ref: undefined, updated_at: cinderTime() },
    );
    if (moved && moved.value.status === 'available' && moved.value.disk.name === name) await volumeLedger(s).commit(cur.partitionKey, [extendKey(v.id)]);
    else await volumeLedger(s).rollback(cur.partitionKey, [extendKey(v.id)]);
    return done();
  },
  async giveUp(item, s, f) {
    log.warn('volume manage failed', { volume: item.id, code: f.code, reason: f.message.slice(0, 300) });
    const t = volumeTables(s);
    const cur = await t.volumes.get(projectOf(item), item.id);
    await volumeLedger(s).rollback(projectOf(item), [extendKey(item.id)]);
    if (!cur || cur.value.status !== 'managing') return;
    // The disk goes back as it was: only the tags this manage added are taken off.
    const name = cur.value.manage_ref?.source_name;
    const st = name ? await s.azure.disks.disk(name).catch(() => undefined) : undefined;
    if (name && st?.tags?.['jacket-volume-id'] === item.id) await s.azure.disks.setTags('disks', name, withoutJacketTags(st.tags)).catch(() => undefined);
    await landVolume(s, item, 'managing', 'error_managing');
  },
};

const volumeUnmanage: WorkKind = {
  kind: VOLUME_UNMANAGE,
  async run(item, s) {
    const cur = await volumeIn(s, item, 'unmanaging');
    if (!cur) return done();
    const v = cur.value;
    const st = await s.azure.disks.disk(v.disk.name);
    // Only a disk this volume tagged loses its tags (a disk of another name, or none, is left alone).
    if (st?.tags && st.tags['jacket-volume-id'] === v.id) await s.azure.disks.setTags('disks', v.disk.name, withoutJacketTags(st.tags));
    const t = volumeTables(s);
    await t.typeUse.delete(v.volume_type_id, v.id);
    await t.index.delete('volume', v.id);
    // Only the pass that removed the record gives its usage back (a retried pass finds it gone).
    if (await t.volumes.delete(cur.partitionKey, cur.rowKey)) await volumeLedger(s).release(cur.partitionKey, volumeDeltas(await typeNameOf(s, v.volume_type_id), v.size));
    return done();
  },
  async giveUp(item, s, f) {
    log.warn('volume unmanage failed', { volume: item.id, code: f.code, reason: f.message.slice(0, 300) });
    // Cinder's delete_volume lands error_unmanaging (an admin's os-reset_status moves it on).
    await landVolume(s, item, 'unmanaging', 'error_unmanaging');
  },
};

/**
 * Snapshot manage (manage_existing_snapshot flow): the Azure snapshot named by the ref must exist, not
 * be Jacket's, be Succeeded and have been taken of the volume's disk; then Jacket's tags are added beside
 * its own and, under the record's ETag, the record names it with its size (the quota held for the
 * volume's size at the request gives back the difference). Refused or given up: error, as Cinder's flow.
 */
const snapshotManage: WorkKind = {
  kind: SNAPSHOT_MANAGE,
  async run(item, s) {
    const cur = await snapshotIn(s, item, 'creating');
    if (!cur?.value.manage_ref) return done();
    const snap = cur.value;
    const name = snap.manage_ref!.source_name;
    if (!name) throw refuse('ManageExistingInvalidReference', "Manage existing snapshot failed due to invalid backend reference: the ref needs a 'source-name'.");
    const arm = s.azure.disks;
    const st = await arm.snapshot(name);
    if (!st) throw refuse('ManageExistingInvalidReference', `Manage existing snapshot failed due to invalid backend reference: snapshot ${name} not found.`);
    const tags = st.tags ?? {};
    if (tags.jacket !== undefined && tags['jacket-snapshot-id'] !== snap.id) throw refuse('ManageExistingAlreadyManaged', `Snapshot ${name} is Jacket's.`);
    if (st.provisioningState !== 'Succeeded') throw refuse('ManageExistingSnapshotNotReady', `Snapshot ${name} is ${st.provisioningState}.`);
    const vol = await volumeTables(s).volumes.get(snap.volume_project_id, snap.volume_id);
    if (!vol) throw refuse('VolumeGone', 'The volume was deleted before its snapshot was managed.');
    const source = (st.sourceId ?? '').toLowerCase();
    if (source !== arm.diskId(vol.value.disk.name).toLowerCase() && source !== (vol.value.disk.armId ?? '').toLowerCase()) {
      throw refuse('ManageExistingSnapshotSourceMismatch', `Snapshot ${name} was not taken of volume ${snap.volume_id}'s disk.`);
    }
    if (tags['jacket-snapshot-id'] !== snap.id) await arm.setTags('snapshots', name, { ...tags, ...jacketTags('snapshot', snap.id, cur.partitionKey, snap.volume_id) });
    const size = Math.min(st.sizeGB, snap.size) || snap.size;
    const t = volumeTables(s);
    const moved = await t.snapshots.update(cur.partitionKey, snap.id, (x) =>
      x.status !== 'creating' || !x.manage_ref ? undefined : { ...x, status: 'available', size, azure: { name, armId: st.id }, manage_ref: undefined, updated_at: cinderTime() },
    );
    if (moved && moved.value.azure.name === name && size < snap.size) {
      const diff = snap.size - size;
      const typeName = await typeNameOf(s, snap.volume_type_id);
      await volumeLedger(s).release(cur.partitionKey, { gigabytes: diff, ...(typeName ? { [`gigabytes_${typeName}`]: diff } : {}) });
    }
    return done();
  },
  async giveUp(item, s, f) {
    log.warn('snapshot manage failed', { snapshot: item.id, code: f.code, reason: f.message.slice(0, 300) });
    const cur = await snapshotIn(s, item, 'creating');
    if (!cur?.value.manage_ref) return;
    const name = cur.value.manage_ref.source_name;
    const st = name ? await s.azure.disks.snapshot(name).catch(() => undefined) : undefined;
    if (name && st?.tags?.['jacket-snapshot-id'] === item.id) await s.azure.disks.setTags('snapshots', name, withoutJacketTags(st.tags)).catch(() => undefined);
    await landSnapshot(s, item, 'creating', 'error');
  },
};

/** Snapshot unmanage: strip Jacket's tags (the Azure snapshot stays), then the record, its dependency row and its usage go. */
const snapshotUnmanage: WorkKind = {
  kind: SNAPSHOT_UNMANAGE,
  async run(item, s) {
    const cur = await snapshotIn(s, item, 'unmanaging');
    if (!cur) return done();
    const snap = cur.value;
    const st = await s.azure.disks.snapshot(snap.azure.name);
    if (st?.tags && st.tags['jacket-snapshot-id'] === snap.id) await s.azure.disks.setTags('snapshots', snap.azure.name, withoutJacketTags(st.tags));
    const t = volumeTables(s);
    await t.deps.delete(snap.volume_id, snap.id);
    await t.index.delete('snapshot', snap.id);
    if (await t.snapshots.delete(cur.partitionKey, cur.rowKey)) await volumeLedger(s).release(cur.partitionKey, snapshotDeltas(await typeNameOf(s, snap.volume_type_id), snap.size));
    return done();
  },
  async giveUp(item, s, f) {
    log.warn('snapshot unmanage failed', { snapshot: item.id, code: f.code, reason: f.message.slice(0, 300) });
    // Cinder's delete_snapshot lands error on a failed unmanage.
    await landSnapshot(s, item, 'unmanaging', 'error');
  },
};

export const MANAGE_WORK: WorkKind[] = [volumeManage, volumeUnmanage, snapshotManage, snapshotUnmanage];
