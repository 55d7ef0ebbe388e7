// Group snapshots and groups made from a source (cinder/group/api.py create_group_snapshot,
// delete_group_snapshot, create_from_src; microversion 3.14 GROUP_SNAPSHOTS) on Azure. A group
// snapshot is a Jacket record; its members are ordinary snapshot records naming it in
// group_snapshot_id, one incremental Azure snapshot `snapshot-<id>` per member volume, each made and
// removed by the snapshot's own SNAPSHOT_CREATE / SNAPSHOT_DELETE work. Cinder's generic group
// snapshot (a driver without consistent group snapshots) takes them one by one the same way, so the
// member snapshots are each crash-consistent, not consistent with each other. GROUP_SNAPSHOT_CREATE
// and GROUP_SNAPSHOT_DELETE wait for the members and land the group snapshot (available or error;
// gone, or error when a member's delete gave up). A group made from a group snapshot or a source
// group has one volume per member snapshot or source volume, each made by its VOLUME_CREATE (a copy
// of the snapshot or the disk), and GROUP_CREATE_FROM_SRC lands the group available or error.
import { randomUUID } from 'node:crypto';
import type { RequestContext } from '../../http/router';
import type { Services } from '../../services';
import { badRequest } from '../../http/errors';
import { startWork } from '../../work/ledger';
import { done, type WorkItem, type WorkKind } from '../../work/types';
import { log } from '../../log';
import type { Stored } from '../../store/tables';
import { cinderTime, projectOf } from '../common';
import {
  findGroup,
  findGroupSnapshot,
  snapshotNameOf,
  snapshotById,
  snapshotRefusal,
  volumeTables,
  type GroupRecord,
  type GroupSnapshotRecord,
  type SnapshotRecord,
  type VolumeRecord,
} from '../model';
import { reserveGroup, reserveSnapshot, volumeLedger } from '../quotas/engine';
import { typeStore } from '../types/store';
import { groupTypeStore } from '../groupTypes/store';
import { GROUP_CREATE_FROM_SRC, GROUP_DELETE, GROUP_SNAPSHOT_CREATE, GROUP_SNAPSHOT_DELETE, SNAPSHOT_CREATE, SNAPSHOT_DELETE, VOLUME_DELETE } from '../workKinds';
import { createVolumeRecord } from '../volumes/service';
import { poll, projectOf as itemProject, refuse } from '../volumes/work';
import { checkNotCgsnapshotType, creatingFrom, groupVolumes } from './service';

/** group_snapshots.py _check_default_cgsnapshot_type (its own message, naming the type id). */
export async function checkNotCgsnapshotSnapType(s: Services, groupTypeId: string): Promise<void> {
  const t = (await groupTypeStore(s).get(groupTypeId))?.value;
  if (t?.name === 'default_cgsnapshot_type') {
    throw badRequest(`Group_type ${groupTypeId} is reserved for migrating CGs to groups. Migrated group snapshots can only be operated by CG snapshot APIs.`);
  }
}

/**
 * The member snapshots of a group snapshot (Cinder's SnapshotList.get_all_for_group_snapshot), by id
 * wherever they are now: a transfer of a member volume (Cinder refuses only consistency group members)
 * moves its snapshots to the taker's project.
 */
export async function groupSnapshotMembers(s: Services, gs: Pick<GroupSnapshotRecord, 'id' | 'snapshot_ids'>): Promise<Stored<SnapshotRecord>[]> {
  const out: Stored<SnapshotRecord>[] = [];
  for (const id of gs.snapshot_ids) {
    const r = await snapshotById(s, id);
    if (r && r.value.group_snapshot_id === gs.id) out.push(r);
  }
  return out;
}

const strip = (v: string | null | undefined) => (v ? v.trim() : (v ?? null));

/**
 * group/api.py create_group_snapshot with volume/api.py create_snapshots_in_db: each member volume
 * is checked (error, maintenance), the snapshots' quota reserved together (413), then the group
 * snapshot record, each member's dependency row and record, and the work.
 */
export async function createGroupSnapshot(ctx: RequestContext, groupRef: string, name: string | null | undefined, description: string | null | undefined): Promise<GroupSnapshotRecord> {
  const s = ctx.services;
  const group = await findGroup(ctx, groupRef);
  await checkNotCgsnapshotSnapType(s, group.value.group_type_id);
  const members = await groupVolumes(s, group.value);
  for (const m of members) {
    const why = snapshotRefusal(m.value);
    if (why) throw badRequest(why);
  }
  const t = volumeTables(s);
  const project = projectOf(ctx);
  const ledger = volumeLedger(s);
  const ids = members.map(() => randomUUID());
  const reserved: string[] = [];
  try {
    for (let i = 0; i < members.length; i++) {
      const v = members[i].value;
      await reserveSnapshot(s, project, ids[i], (await typeStore(s).get(v.volume_type_id))?.value.name ?? '', v.size);
      reserved.push(ids[i]);
    }
  } catch (e) {
    await ledger.rollback(project, reserved);
    throw e;
  }
  const now = cinderTime();
  const gs: GroupSnapshotRecord = {
    id: randomUUID(),
    project_id: project,
    user_id: ctx.auth!.userId,
    group_id: group.value.id,
    group_type_id: group.value.group_type_id,
    name: name ?? null,
    description: description ?? null,
    status: 'creating',
    created_at: now,
    updated_at: null,
    snapshot_ids: ids,
  };
  const written: string[] = [];
  try {
    await t.index.upsert('group_snapshot', gs.id, { project_id: project });
    await t.groupSnapshots.create(project, gs.id, gs);
    // A group delete that raced us sees the record (it checks again after turning deleting), or we see it deleting.
    const again = await t.groups.get(group.partitionKey, group.rowKey);
    if (!again || again.value.status === 'deleting') throw badRequest('Invalid group: Group status must be available or error, but current status is: deleting');
    for (let i = 0; i < members.length; i++) {
      const v = members[i].value;
      await t.deps.create(v.id, ids[i], { kind: 'snapshot', project_id: project });
      const snap: SnapshotRecord = {
        id: ids[i],
        project_id: project,
        user_id: ctx.auth!.userId,
        volume_id: v.id,
        volume_project_id: members[i].partitionKey,
        name: gs.name,
        description: gs.description,
        size: v.size,
        volume_type_id: v.volume_type_id,
        status: 'creating',
        metadata: {},
        created_at: now,
        updated_at: null,
        azure: { name: snapshotNameOf(ids[i]) },
        group_snapshot_id: gs.id,
      };
      await t.index.upsert('snapshot', ids[i], { project_id: project });
      await t.snapshots.create(project, ids[i], snap);
      written.push(ids[i]);
      await ledger.commit(project, [ids[i]]);
    }
  } catch (e) {
    // Undone as Cinder destroys what it made: the records written, their rows, the reservations left.
    for (let i = 0; i < members.length; i++) {
      await t.deps.delete(members[i].value.id, ids[i]).catch(() => undefined);
      if (written.includes(ids[i])) {
        await t.index.delete('snapshot', ids[i]).catch(() => undefined);
        await t.snapshots.update(project, ids[i], (x) => ({ ...x, status: 'deleting' })).catch(() => undefined);
        await startWork(s, { kind: SNAPSHOT_DELETE, id: ids[i], data: { project }, requestId: ctx.requestId }).catch(() => undefined);
      }
    }
    await ledger.rollback(
      project,
      ids.filter((id) => !written.includes(id)),
    );
    await t.groupSnapshots.delete(project, gs.id).catch(() => undefined);
    await t.index.delete('group_snapshot', gs.id).catch(() => undefined);
    throw e;
  }
  for (const id of ids) await startWork(s, { kind: SNAPSHOT_CREATE, id, data: { project }, requestId: ctx.requestId });
  await startWork(s, { kind: GROUP_SNAPSHOT_CREATE, id: gs.id, data: { project }, requestId: ctx.requestId });
  return gs;
}

/** group/api.py delete_group_snapshot: available or error and no group being made from it → deleting, each member deleting, the work. */
export async function deleteGroupSnapshot(ctx: RequestContext, cur: Stored<GroupSnapshotRecord>): Promise<void> {
  const s = ctx.services;
  const refused = badRequest('Invalid GroupSnapshot: GroupSnapshot status must be available or error, and no Group can be currently using it as source for its creation.');
  if (!['available', 'error'].includes(cur.value.status) || (await creatingFrom(s, cur.partitionKey, { group_snapshot_id: cur.rowKey }))) throw refused;
  const t = volumeTables(s);
  await t.groupSnapshots.replace(cur.partitionKey, cur.rowKey, { ...cur.value, status: 'deleting', updated_at: cinderTime() }, cur.etag).catch(() => {
    throw refused;
  });
  for (const m of await groupSnapshotMembers(s, cur.value)) {
    const moved = await t.snapshots.update(m.partitionKey, m.rowKey, (x) => (x.status === 'deleting' ? undefined : { ...x, status: 'deleting', updated_at: cinderTime() }));
    if (moved?.value.status === 'deleting') await startWork(s, { kind: SNAPSHOT_DELETE, id: m.rowKey, data: { project: m.partitionKey }, requestId: ctx.requestId });
  }
  await startWork(s, { kind: GROUP_SNAPSHOT_DELETE, id: cur.rowKey, data: { project: cur.partitionKey }, requestId: ctx.requestId });
}

export interface CreateFromSrc {
  name?: string | null;
  description?: string | null;
  group_snapshot_id?: string;
  source_group_id?: string;
}

/**
 * groups.py create_from_src then group/api.py create_from_src: the source (404s), the group quota
 * (413), the group `creating`, then one volume per member snapshot or source volume in it (their
 * quota, their sources' states); a refusal part way deletes the volumes made and the group (as
 * Cinder's rollback does) and answers the refusal.
 */
export async function createGroupFromSrc(ctx: RequestContext, b: CreateFromSrc): Promise<GroupRecord> {
  const s = ctx.services;
  const t = volumeTables(s);
  let srcGroup: GroupRecord;
  let snaps: SnapshotRecord[] = [];
  let vols: VolumeRecord[] = [];
  if (b.group_snapshot_id) {
    const gs = (await findGroupSnapshot(ctx, b.group_snapshot_id)).value;
    checkNotCgsnapshotType((await groupTypeStore(s).get(gs.group_type_id))?.value);
    srcGroup = (await findGroup(ctx, gs.group_id)).value;
    snaps = (await groupSnapshotMembers(s, gs)).map((r) => r.value);
  } else {
    srcGroup = (await findGroup(ctx, b.source_group_id!)).value;
    checkNotCgsnapshotType((await groupTypeStore(s).get(srcGroup.group_type_id))?.value);
    vols = (await groupVolumes(s, srcGroup)).map((r) => r.value);
  }
  const project = projectOf(ctx);
  const id = randomUUID();
  await reserveGroup(s, project, id);
  const g: GroupRecord = {
    id,
    project_id: project,
    user_id: ctx.auth!.userId,
    name: strip(b.name),
    description: strip(b.description),
    status: 'creating',
    availability_zone: srcGroup.availability_zone,
    group_type_id: srcGroup.group_type_id,
    volume_type_ids: [...srcGroup.volume_type_ids],
    created_at: cinderTime(),
    updated_at: null,
    group_snapshot_id: b.group_snapshot_id ?? null,
    source_group_id: b.group_snapshot_id ? null : (b.source_group_id ?? null),
  };
  try {
    for (const typeId of [g.group_type_id, ...g.volume_type_ids]) await t.groupUse.upsert(typeId, id, { project_id: project });
    await t.index.upsert('group', id, { project_id: project });
    await t.groups.create(project, id, g);
  } catch (e) {
    await volumeLedger(s).rollback(project, [id]);
    throw e;
  }
  await volumeLedger(s).commit(project, [id]);
  try {
    if (b.group_snapshot_id && !snaps.length) throw badRequest('Invalid group: Group snapshot is empty. No group will be created.');
    if (!b.group_snapshot_id && !vols.length) throw badRequest('Invalid group: Source Group is empty. No group will be created.');
    for (const snap of snaps) {
      const type = (await typeStore(s).get(snap.volume_type_id))?.value;
      await createVolumeRecord(ctx, { name: null, description: null, size: snap.size, type, snap, groupId: id, availabilityZone: g.availability_zone });
    }
    for (const src of vols) {
      const type = (await typeStore(s).get(src.volume_type_id))?.value;
      await createVolumeRecord(ctx, { name: null, description: null, size: src.size, type, src, groupId: id, availabilityZone: g.availability_zone });
    }
  } catch (e) {
    // The volumes made are deleted (their create work stops at their status) and the group with them.
    for (const v of await groupVolumes(s, g)) {
      const moved = await t.volumes.update(v.partitionKey, v.rowKey, (x) => (x.status === 'deleting' ? undefined : { ...x, status: 'deleting', updated_at: cinderTime() }));
      if (moved?.value.status === 'deleting') await startWork(s, { kind: VOLUME_DELETE, id: v.rowKey, data: { project }, requestId: ctx.requestId });
    }
    await t.groups.update(project, id, (x) => ({ ...x, status: 'deleting', updated_at: cinderTime() }));
    await startWork(s, { kind: GROUP_DELETE, id, data: { project }, requestId: ctx.requestId });
    throw e;
  }
  await startWork(s, { kind: GROUP_CREATE_FROM_SRC, id, data: { project }, requestId: ctx.requestId });
  return g;
}

/** The manager's create_group_snapshot: waits for the member snapshots; any in error makes it (and them) error. */
const groupSnapshotCreate: WorkKind = {
  kind: GROUP_SNAPSHOT_CREATE,
  async run(item: WorkItem, s: Services) {
    const t = volumeTables(s);
    const cur = await t.groupSnapshots.get(itemProject(item), item.id);
    if (!cur || cur.value.status !== 'creating') return done();
    const members = await groupSnapshotMembers(s, cur.value);
    if (members.some((m) => m.value.status === 'creating')) return poll(s, item, 'wait');
    const failed = members.some((m) => m.value.status !== 'available');
    if (failed) {
      for (const m of members) await t.snapshots.update(m.partitionKey, m.rowKey, (x) => (x.status !== 'available' ? undefined : { ...x, status: 'error', updated_at: cinderTime() }));
    }
    await t.groupSnapshots.update(cur.partitionKey, cur.rowKey, (x) => (x.status !== 'creating' ? undefined : { ...x, status: failed ? 'error' : 'available', updated_at: cinderTime() }));
    return done();
  },
  async giveUp(item, s, f) {
    log.warn('group snapshot create failed', { group_snapshot: item.id, code: f.code, reason: f.message.slice(0, 300) });
    await volumeTables(s).groupSnapshots.update(itemProject(item), item.id, (x) => (x.status !== 'creating' ? undefined : { ...x, status: 'error', updated_at: cinderTime() }));
  },
};

/** The manager's delete_group_snapshot: waits for the member snapshots' deletes, then removes the record. */
const groupSnapshotDelete: WorkKind = {
  kind: GROUP_SNAPSHOT_DELETE,
  async run(item: WorkItem, s: Services) {
    const t = volumeTables(s);
    const cur = await t.groupSnapshots.get(itemProject(item), item.id);
    if (!cur || cur.value.status !== 'deleting') return done();
    const left = await groupSnapshotMembers(s, cur.value);
    if (left.some((m) => m.value.status === 'error_deleting')) throw refuse('SnapshotDeleteFailed', 'A snapshot of the group snapshot could not be deleted.');
    if (left.length) return poll(s, item, 'wait');
    await t.index.delete('group_snapshot', cur.rowKey);
    await t.groupSnapshots.delete(cur.partitionKey, cur.rowKey);
    return done();
  },
  async giveUp(item, s, f) {
    log.warn('group snapshot delete failed', { group_snapshot: item.id, code: f.code, reason: f.message.slice(0, 300) });
    // The manager's failure status: error, from which a delete may be asked again.
    await volumeTables(s).groupSnapshots.update(itemProject(item), item.id, (x) => (x.status !== 'deleting' ? undefined : { ...x, status: 'error', updated_at: cinderTime() }));
  },
};

/** The manager's create_group_from_src: waits for the new volumes; any in error makes the group error. */
const groupCreateFromSrc: WorkKind = {
  kind: GROUP_CREATE_FROM_SRC,
  async run(item: WorkItem, s: Services) {
    const t = volumeTables(s);
    const cur = await t.groups.get(itemProject(item), item.id);
    if (!cur || cur.value.status !== 'creating') return done();
    const members = await groupVolumes(s, cur.value);
    if (members.some((m) => m.value.status === 'creating')) return poll(s, item, 'wait');
    const failed = members.some((m) => m.value.status !== 'available');
    await t.groups.update(cur.partitionKey, cur.rowKey, (x) => (x.status !== 'creating' ? undefined : { ...x, status: failed ? 'error' : 'available', updated_at: cinderTime() }));
    return done();
  },
  async giveUp(item, s, f) {
    log.warn('group create from source failed', { group: item.id, code: f.code, reason: f.message.slice(0, 300) });
    await volumeTables(s).groups.update(itemProject(item), item.id, (x) => (x.status !== 'creating' ? undefined : { ...x, status: 'error', updated_at: cinderTime() }));
  },
};

export const GROUP_SNAPSHOT_WORK: WorkKind[] = [groupSnapshotCreate, groupSnapshotDelete, groupCreateFromSrc];
