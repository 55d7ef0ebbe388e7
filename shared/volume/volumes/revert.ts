// Cinder's revert to snapshot (3.40, VOLUME_REVERT): POST /volumes/{id}/action {"revert": {"snapshot_id"}}
// (cinder/api/v3/volumes.py revert, volume/api.py revert_to_snapshot, the manager's revert_to_snapshot) on
// Azure. The API answers in Cinder's order: below 3.40 a bare 404 (a versioned action); the schema; the
// volume (404); its latest snapshot (created_at, the caller's project unless admin: 400 when it has none);
// the body's snapshot_id must be that one (400) and the volume's size its size (400); then the policy
// volume:revert_to_snapshot (asked inside volume/api.py, after the lookups); then the volume available ->
// reverting and the snapshot available -> restoring, each a conditional update under the record's ETag
// (409 Invalid volume / Invalid snapshot). The manager's work is the long action volume-revert.
//
// A managed disk cannot be rewritten from a snapshot in place, so the work makes a new disk
// volume-<id>-<8hex> from the snapshot (Copy, with the volume's SKU, size, IOPS/MB/s and tags), swaps it
// into the volume's record once Azure has it (the record names the new disk and keeps the old one's name
// in revert.old_disk), then deletes the old disk: the old data goes only once the record points at the
// new data, as a restore over a volume does (backups/work.ts). Success ends the volume available and the
// snapshot available; given up before the swap, the volume error and the snapshot available (the
// manager's except branch), the new disk removed (best effort; the disk sweep removes it otherwise, as the
// record no longer names it); given up after the swap the data is reverted, so the volume is available.
import { randomUUID } from 'node:crypto';
import type { RequestContext } from '../../http/router';
import type { Services } from '../../services';
import { accepted } from '../../http/respond';
import { badRequest, conflict, notFound } from '../../http/errors';
import { validateBody } from '../../api/validation';
import { authorize, isAdmin } from '../../api/policy';
import { startWork } from '../../work/ledger';
import { again, done, type WorkItem, type WorkKind, type WorkResult } from '../../work/types';
import { log } from '../../log';
import type { ArmState } from '../../azure/disks';
import type { Stored } from '../../store/tables';
import { cinderTime } from '../common';
import { dependentsOf, findVolume, jacketTags, snapshotById, volumeTables, type SnapshotRecord, type VolumeRecord } from '../model';
import { VOLUME_REVERT } from '../workKinds';
import { messageOf, oldDiskDeleted, performanceOf, sharingOf, poll, projectOf, refuse, submitted, terminal, throwIfFailed } from './work';

/** mv.VOLUME_REVERT. */
export const VOLUME_REVERT_VERSION = '3.40';

/** cinder/api/schemas/volumes.py revert: snapshot_id a string or null, other keys allowed. */
const revertSchema = {
  type: 'object',
  required: ['revert'],
  additionalProperties: false,
  properties: {
    revert: { type: 'object', additionalProperties: true, properties: { snapshot_id: { type: ['string', 'null'] } } },
  },
};

/**
 * Volume.get_latest_snapshot (db snapshot_get_latest_for_volume): the volume's snapshot with the latest
 * created_at, any status, in the caller's project (project_only) unless the caller is an admin. Equal
 * times (Cinder leaves their order to the database) go to the higher id, Cinder's list tie-break.
 */
async function latestSnapshot(ctx: RequestContext, volumeId: string): Promise<Stored<SnapshotRecord> | undefined> {
  const t = volumeTables(ctx.services);
  const admin = isAdmin(ctx.auth!);
  let best: Stored<SnapshotRecord> | undefined;
  for (const d of await dependentsOf(ctx.services, volumeId, 'snapshot')) {
    if (!admin && d.value.project_id !== ctx.auth!.projectId) continue;
    const snap = await t.snapshots.get(d.value.project_id, d.rowKey);
    if (!snap || snap.value.volume_id !== volumeId) continue; // a dependency row written before its record
    const a = snap.value;
    const b = best?.value;
    if (!b || a.created_at > b.created_at || (a.created_at === b.created_at && a.id > b.id)) best = snap;
  }
  return best;
}

/** POST /volumes/{id}/action {"revert": {"snapshot_id"}} (3.40): 202 with no body. */
export async function revertVolume(ctx: RequestContext) {
  // wsgi's versioned method: below its version the action answers a bare 404.
  if (!ctx.microversion?.atLeast(VOLUME_REVERT_VERSION)) throw notFound('The resource could not be found.');
  const s = ctx.services;
  const snapshotId = validateBody<{ revert: { snapshot_id?: string | null } }>(revertSchema, ctx.body).revert.snapshot_id ?? null;
  const cur = await findVolume(ctx, ctx.params.volume_id);
  const v = cur.value;
  const latest = await latestSnapshot(ctx, v.id);
  if (!latest) throw badRequest(`Volume ${v.id} doesn't have any snapshots.`);
  if (snapshotId === null || snapshotId !== latest.rowKey) throw badRequest(`Specified snapshot ${snapshotId ?? 'None'} is None or not the latest one of volume ${v.id}.`);
  const snap = latest.value;
  if (v.size !== snap.size) throw badRequest(`Can't revert volume ${v.id} to its latest snapshot ${snapshotId}. The volume size must be equal to the snapshot size.`);
  authorize(ctx, 'volume:revert_to_snapshot', { projectId: v.project_id });
  const t = volumeTables(s);
  const revert = { snapshot_id: snap.id, snapshot_project_id: latest.partitionKey, disk_name: `volume-${v.id}-${randomUUID().slice(0, 8)}` };
  // update_single_status_where('reverting', 'available'), under the record's ETag.
  const marked = await t.volumes.update(cur.partitionKey, cur.rowKey, (x) => (x.status !== 'available' ? undefined : { ...x, status: 'reverting', revert, updated_at: cinderTime() }));
  if (marked?.value.status !== 'reverting' || marked.value.revert?.disk_name !== revert.disk_name) {
    throw conflict(`Invalid volume: Can't revert volume ${v.id} to its latest snapshot ${snap.id}. Volume's status must be 'available'.`);
  }
  // update_single_status_where('restoring', 'available'): applied only by this request (a snapshot already
  // restoring for another revert does not pass).
  let restoring = false;
  await t.snapshots.update(latest.partitionKey, latest.rowKey, (x) => {
    restoring = x.status === 'available';
    return restoring ? { ...x, status: 'restoring', updated_at: cinderTime() } : undefined;
  });
  const putBack = () =>
    t.volumes.update(cur.partitionKey, cur.rowKey, (x) =>
      x.status !== 'reverting' || x.revert?.disk_name !== revert.disk_name ? undefined : { ...x, status: 'available', revert: undefined, updated_at: cinderTime() },
    );
  if (!restoring) {
    // Cinder leaves the volume 'reverting' here with nothing to move it on; Jacket puts it back.
    await putBack();
    throw conflict(`Invalid snapshot: Can't revert volume ${v.id} to its latest snapshot ${snap.id}. Snapshot's status must be 'available'.`);
  }
  log.info('reverting volume to snapshot', { volume: v.id, snapshot: snap.id, requestId: ctx.requestId });
  try {
    await startWork(s, { kind: VOLUME_REVERT, id: v.id, data: { project: cur.partitionKey }, requestId: ctx.requestId });
  } catch (e) {
    // No work will run: both records go back to available.
    await putBack();
    await releaseSnapshot(s, revert);
    throw e;
  }
  return accepted();
}

/** The snapshot a revert restores from goes back to available (only if it is still restoring). */
async function releaseSnapshot(s: Services, r: NonNullable<VolumeRecord['revert']>): Promise<void> {
  await volumeTables(s).snapshots.update(r.snapshot_project_id, r.snapshot_id, (x) => (x.status !== 'restoring' ? undefined : { ...x, status: 'available', updated_at: cinderTime() }));
}

/** The volume leaves reverting (only this revert's: its new disk's name matches). */
async function landRevert(s: Services, item: WorkItem, diskName: string, status: VolumeRecord['status']): Promise<void> {
  await volumeTables(s).volumes.update(projectOf(item), item.id, (x) =>
    x.status !== 'reverting' || x.revert?.disk_name !== diskName ? undefined : { ...x, status, revert: undefined, updated_at: cinderTime() },
  );
}

export const volumeRevert: WorkKind = {
  kind: VOLUME_REVERT,
  async run(item, s) {
    const t = volumeTables(s);
    const cur = await t.volumes.get(projectOf(item), item.id);
    if (!cur || cur.value.status !== 'reverting' || !cur.value.revert) return done();
    const v = cur.value;
    const r = v.revert!;
    const arm = s.azure.disks;
    if (r.old_disk) {
      // Swapped: the record names the reverted disk; the old one goes, then both records are available.
      const pending = await oldDiskDeleted(s, item, r.old_disk);
      if (pending) return pending;
      await landRevert(s, item, r.disk_name, 'available');
      await releaseSnapshot(s, r);
      log.info('volume reverted to snapshot', { volume: v.id, snapshot: r.snapshot_id, disk: r.disk_name });
      return done();
    }
    const settle = async (st: ArmState): Promise<WorkResult> => {
      throwIfFailed(st, 'The reverted disk');
      if (st.provisioningState !== 'Succeeded') return poll(s, item, 'wait');
      // The swap: one conditional write of the record; the old disk is named so the next step deletes it.
      await t.volumes.update(cur.partitionKey, cur.rowKey, (x) =>
        x.status !== 'reverting' || x.revert?.disk_name !== r.disk_name || x.revert.old_disk
          ? undefined
          : { ...x, disk: { ...x.disk, name: r.disk_name, armId: st.id }, revert: { ...r, old_disk: x.disk.name }, updated_at: cinderTime() },
      );
      return again(item, 0, { step: 'swapped' });
    };
    if (item.step === 'wait') {
      const st = await arm.disk(r.disk_name);
      if (st) return settle(st);
    }
    const snap = await snapshotById(s, r.snapshot_id);
    if (!snap) throw refuse('SnapshotGone', `The snapshot ${r.snapshot_id} to revert to is gone.`);
    const sub = await arm.createDisk(r.disk_name, {
      sizeGB: v.size,
      sku: v.disk.sku,
      tags: jacketTags('volume', v.id, v.project_id, v.id),
      source: { sourceId: arm.snapshotId(snap.value.azure.name) },
      ...performanceOf(v),
      ...sharingOf(v, v.size),
    });
    const st = terminal(sub.state);
    return st ? settle(st) : submitted(s, item, 'wait', sub);
  },
  async giveUp(item, s, f) {
    const cur = await volumeTables(s).volumes.get(projectOf(item), item.id);
    const r = cur?.value.revert;
    if (!cur || cur.value.status !== 'reverting' || !r) return;
    log.warn('volume revert failed', { volume: item.id, snapshot: r.snapshot_id, code: f.code, reason: f.message.slice(0, 300) });
    // Swapped already: the volume holds the snapshot's data; only the old disk is left over (swept).
    await landRevert(s, item, r.disk_name, r.old_disk ? 'available' : 'error');
    await releaseSnapshot(s, r);
    if (!r.old_disk) {
      await s.azure.disks.deleteDisk(r.disk_name).catch((e) => log.warn('reverted disk not removed', { volume: item.id, disk: r.disk_name, error: messageOf(e) }));
    }
  },
};
