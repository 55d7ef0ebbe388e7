// Generic volume groups (cinder/group/api.py, 3.13) on Azure: a group is a Jacket record — Azure has
// nothing to make for it, so a create lands `available` at once (Cinder's scheduler and manager would
// only pick the one backend Jacket has). Membership is each volume's group_id, written under the
// volume's ETag; a group with volumes is deleted by its volumes' own delete work and then the group's
// (GROUP_DELETE, on the one work engine: docs/long-actions.md).
import { randomUUID } from 'node:crypto';
import type { RequestContext } from '../../http/router';
import type { Services } from '../../services';
import { badRequest, notFound } from '../../http/errors';
import { isAdmin } from '../../api/policy';
import { startWork } from '../../work/ledger';
import { done, type WorkItem, type WorkKind } from '../../work/types';
import { log } from '../../log';
import type { Stored } from '../../store/tables';
import { cinderTime, projectOf } from '../common';
import { dependentsOf, volumeById, volumeTables, type GroupRecord, type GroupSnapshotRecord, type VolumeRecord } from '../model';
import { GROUP_DELTAS, reserveGroup, volumeLedger } from '../quotas/engine';
import { typeByNameOrId } from '../types/store';
import { DEFAULT_CGSNAPSHOT_TYPE, groupTypeStore, type GroupTypeRecord } from '../groupTypes/store';
import { GROUP_DELETE, VOLUME_DELETE } from '../workKinds';
import { VOLUME_AZ } from '../volumes/service';
import { poll, projectOf as itemProject, refuse } from '../volumes/work';

const VALID_REMOVE = ['available', 'in-use', 'error', 'error_deleting'];
const VALID_ADD = ['available', 'in-use'];
const UUID_RE = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

/** groups.py _check_default_cgsnapshot_type: the migration type's groups are the CG API's. */
export function checkNotCgsnapshotType(t: Pick<GroupTypeRecord, 'id' | 'name'> | undefined): void {
  if (t && t.name === DEFAULT_CGSNAPSHOT_TYPE) {
    throw badRequest(`Group_type ${t.id} is reserved for migrating CGs to groups. Migrated group can only be operated by CG APIs.`);
  }
}

/** db group_type_get / group_type_get_by_name as group/api.py create calls them (a uuid that names no type is tried as a name). */
async function groupTypeFor(ctx: RequestContext, ref: string): Promise<GroupTypeRecord> {
  const store = groupTypeStore(ctx.services);
  const visible = (t: Stored<GroupTypeRecord> | undefined) => (t && (t.value.is_public || isAdmin(ctx.auth!)) ? t.value : undefined);
  if (UUID_RE.test(ref)) {
    const t = visible(await store.get(ref)) ?? visible(await store.byName(ref));
    if (!t) throw notFound(`Group type ${ref} could not be found.`);
    return t;
  }
  const t = visible(await store.byName(ref));
  if (!t) throw notFound(`Group type with name ${ref} could not be found.`);
  return t;
}

export interface GroupCreate {
  name?: string | null;
  description?: string | null;
  group_type: string;
  volume_types: string[];
  availability_zone?: string | null;
}

const strip = (v: string | null | undefined) => (v ? v.trim() : (v ?? null));

/** groups.py create then group/api.py create: the type (404), the volume types (404), the zone (400), the quota (413), the record. */
export async function createGroup(ctx: RequestContext, b: GroupCreate): Promise<GroupRecord> {
  const type = await groupTypeFor(ctx, b.group_type);
  checkNotCgsnapshotType(type);
  const volumeTypes = [];
  for (const v of b.volume_types) volumeTypes.push(await typeByNameOrId(ctx, v));
  const az = b.availability_zone ?? VOLUME_AZ;
  if (az !== VOLUME_AZ) throw badRequest(`Invalid input received: Availability zone '${az}' is invalid.`);
  const s = ctx.services;
  const project = projectOf(ctx);
  const id = randomUUID();
  await reserveGroup(s, project, id);
  const t = volumeTables(s);
  const g: GroupRecord = {
    id,
    project_id: project,
    user_id: ctx.auth!.userId,
    name: strip(b.name),
    description: strip(b.description),
    status: 'available',
    availability_zone: az,
    group_type_id: type.id,
    volume_type_ids: [...new Set(volumeTypes.map((x) => x.id))],
    created_at: cinderTime(),
    updated_at: null,
  };
  try {
    // The type rows first: a type delete that raced us sees them, or we see the type gone.
    for (const typeId of [g.group_type_id, ...g.volume_type_ids]) await t.groupUse.upsert(typeId, id, { project_id: project });
    await t.index.upsert('group', id, { project_id: project });
    await t.groups.create(project, id, g);
  } catch (e) {
    await volumeLedger(s).rollback(project, [id]);
    throw e;
  }
  await volumeLedger(s).commit(project, [id]);
  return g;
}

/** The project's volumes that belong to the group (a group's members live in its project). */
export async function groupVolumes(s: Services, g: GroupRecord): Promise<Stored<VolumeRecord>[]> {
  return (await volumeTables(s).volumes.list(g.project_id)).filter((r) => r.value.group_id === g.id);
}

/** Every group snapshot of a group, in any project (Cinder's group.group_snapshots, read as admin). */
export async function groupSnapshotsOf(s: Services, groupId: string): Promise<Stored<GroupSnapshotRecord>[]> {
  const t = volumeTables(s);
  const projects = [...new Set((await t.index.list('group_snapshot')).map((r) => r.value.project_id))];
  const out: Stored<GroupSnapshotRecord>[] = [];
  for (const p of projects) for (const r of await t.groupSnapshots.list(p)) if (r.value.group_id === groupId) out.push(r);
  return out;
}

/** Groups of this project being made from `src` (db group_creating_from_src). */
export async function creatingFrom(s: Services, project: string, src: { group_snapshot_id?: string; source_group_id?: string }): Promise<boolean> {
  const groups = await volumeTables(s).groups.list(project);
  return groups.some(
    (g) =>
      g.value.status === 'creating' && ((src.group_snapshot_id && g.value.group_snapshot_id === src.group_snapshot_id) || (src.source_group_id && g.value.source_group_id === src.source_group_id)),
  );
}

export interface GroupUpdate {
  name?: string | null;
  description?: string | null;
  add_volumes?: string | null;
  remove_volumes?: string | null;
}

const idList = (v: string | null | undefined) => (v ? v.replace(/^,+|,+$/g, '').split(',') : []);

/** A volume by id as group/api.py's objects.Volume.get_by_id sees it (the caller's project, or any for admins). */
async function visibleVolume(ctx: RequestContext, id: string): Promise<Stored<VolumeRecord> | undefined> {
  const own = await volumeTables(ctx.services).volumes.get(projectOf(ctx), id);
  return own || !isAdmin(ctx.auth!) ? own : volumeById(ctx.services, id);
}

/**
 * group/api.py update: name and description, and membership. Every check comes before any write (a
 * refused update changes nothing); then the group turns `updating` under its ETag (Cinder's
 * conditional update on `available`), each volume's group_id is written under the volume's ETag
 * and the status it was checked in, and the group is `available` again (the manager's end state).
 */
export async function updateGroup(ctx: RequestContext, cur: Stored<GroupRecord>, b: GroupUpdate): Promise<void> {
  const g = cur.value;
  checkNotCgsnapshotType((await groupTypeStore(ctx.services).get(g.group_type_id))?.value);
  let name = b.name ? b.name.trim() : b.name;
  let description = b.description ? b.description.trim() : b.description;
  if (name === g.name) name = undefined;
  if (description === g.description) description = undefined;
  const add = idList(b.add_volumes);
  const remove = idList(b.remove_volumes);
  const both = add.filter((u) => remove.includes(u));
  if (both.length) throw badRequest(`Invalid volume: UUIDs ${pyList(both)} are in both add and remove volume list.`);
  const members = await groupVolumes(ctx.services, g);
  const toAdd: Stored<VolumeRecord>[] = [];
  for (const id of add.filter((u) => !members.some((m) => m.value.id === u))) {
    const v = await visibleVolume(ctx, id);
    if (!v) throw badRequest(`Invalid volume: Cannot add volume ${id} to group ${g.id} because volume cannot be found.`);
    const x = v.value;
    if (x.group_id) throw badRequest(`Invalid volume: Cannot add volume ${x.id} to group ${g.id} because it is already in group ${x.group_id}.`);
    if (x.project_id !== g.project_id) throw badRequest(`Invalid volume: Cannot add volume ${x.id} to group ${g.id} as they belong to different projects.`);
    if (!g.volume_type_ids.includes(x.volume_type_id)) {
      throw badRequest(`Invalid volume: Cannot add volume ${x.id} to group ${g.id} because volume type ${x.volume_type_id} is not supported by the group.`);
    }
    if (!VALID_ADD.includes(x.status)) {
      throw badRequest(`Invalid volume: Cannot add volume ${x.id} to group ${g.id} because volume is in an invalid state: ${x.status}. Valid states are: ${pyTuple(VALID_ADD)}.`);
    }
    toAdd.push(v);
  }
  const toRemove: Stored<VolumeRecord>[] = [];
  for (const m of members) {
    if (!remove.includes(m.value.id)) continue;
    if (!VALID_REMOVE.includes(m.value.status)) {
      throw badRequest(`Invalid volume: Cannot remove volume ${m.value.id} from group ${g.id} because volume is in an invalid state: ${m.value.status}. Valid states are: ${pyTuple(VALID_REMOVE)}.`);
    }
    toRemove.push(m);
  }
  for (const id of remove) {
    if (!toRemove.some((m) => m.value.id === id)) throw badRequest(`Invalid volume: Cannot remove volume ${id} from group ${g.id} because it is not in the group.`);
  }
  if ((name === undefined || name === null) && (description === undefined || description === null) && !toAdd.length && !toRemove.length) {
    throw badRequest(`Invalid group: Cannot update group ${g.id} because no valid name, description, add_volumes, or remove_volumes were provided.`);
  }
  const membership = toAdd.length > 0 || toRemove.length > 0;
  if (membership && g.status !== 'available') throw badRequest('Invalid group: Group status must be available.');
  const t = volumeTables(ctx.services);
  const next: GroupRecord = {
    ...g,
    ...(name !== undefined && name !== null ? { name } : {}),
    ...(description !== undefined && description !== null ? { description } : {}),
    status: membership ? 'updating' : 'available',
    updated_at: cinderTime(),
  };
  const marked = await t.groups.replace(cur.partitionKey, cur.rowKey, next, cur.etag).catch(() => {
    throw badRequest('Invalid group: Group status must be available.');
  });
  if (!membership) return;
  // A volume that moved on since it was checked keeps its group (the manager's update skips it too).
  for (const v of toAdd) {
    await t.volumes.update(v.partitionKey, v.rowKey, (x) => (x.group_id || !VALID_ADD.includes(x.status) ? undefined : { ...x, group_id: g.id, updated_at: cinderTime() }));
  }
  for (const v of toRemove) {
    await t.volumes.update(v.partitionKey, v.rowKey, (x) => (x.group_id !== g.id ? undefined : { ...x, group_id: null, updated_at: cinderTime() }));
  }
  await t.groups.update(marked.partitionKey, marked.rowKey, (x) => (x.status !== 'updating' ? undefined : { ...x, status: 'available', updated_at: cinderTime() }));
}

/**
 * group/api.py delete. Without delete-volumes the group must be available or error and empty; with
 * it, no member may be attached or have snapshots. The group turns `deleting` under its ETag, each
 * member `deleting` with its own delete work, and GROUP_DELETE removes the group once no volume names it.
 */
export async function deleteGroup(ctx: RequestContext, cur: Stored<GroupRecord>, deleteVolumes: boolean): Promise<void> {
  const g = cur.value;
  checkNotCgsnapshotType((await groupTypeStore(ctx.services).get(g.group_type_id))?.value);
  if (!deleteVolumes && !['available', 'error'].includes(g.status)) throw badRequest(`Invalid group: Group status must be available or error, but current status is: ${g.status}`);
  // 3.14: a group with group snapshots is not deleted (group/api.py delete reads them as admin).
  if ((await groupSnapshotsOf(ctx.services, g.id)).length) throw badRequest('Invalid group: Group has existing snapshots.');
  const members = await groupVolumes(ctx.services, g);
  if (members.length && !deleteVolumes) throw badRequest(`Invalid group: Group ${g.id} still contains volumes. The delete-volumes flag is required to delete it.`);
  for (const m of members) {
    if (m.value.attach_status === 'attached') throw badRequest(`Invalid group: Volume in group ${g.id} is attached. Need to detach first.`);
    if ((await dependentsOf(ctx.services, m.value.id, 'snapshot')).length) throw badRequest('Invalid group: Volume in group still has dependent snapshots.');
  }
  const t = volumeTables(ctx.services);
  const reason = deleteVolumes
    ? 'Group status must be available or error and must not have dependent group snapshots'
    : 'Group must not have attached volumes, volumes with snapshots, or dependent group snapshots';
  const conflict = () => badRequest(`Invalid group: Cannot delete group ${g.id}. ${reason}, and it cannot be the source for an ongoing group or group snapshot creation.`);
  if (await creatingFrom(ctx.services, cur.partitionKey, { source_group_id: g.id })) throw conflict();
  const marked = await t.groups.replace(cur.partitionKey, cur.rowKey, { ...g, status: 'deleting', updated_at: cinderTime() }, cur.etag).catch(() => {
    throw conflict();
  });
  // A group snapshot create that raced us wrote its record before it read the group: seen here, the group goes back.
  if ((await groupSnapshotsOf(ctx.services, g.id)).length) {
    await t.groups.replace(marked.partitionKey, marked.rowKey, g, marked.etag).catch(() => undefined);
    throw conflict();
  }
  for (const m of members) {
    const moved = await t.volumes.update(m.partitionKey, m.rowKey, (x) => (x.group_id !== g.id || x.status === 'deleting' ? undefined : { ...x, status: 'deleting', updated_at: cinderTime() }));
    if (moved?.value.status === 'deleting') await startWork(ctx.services, { kind: VOLUME_DELETE, id: m.rowKey, data: { project: m.partitionKey }, requestId: ctx.requestId });
  }
  await startWork(ctx.services, { kind: GROUP_DELETE, id: g.id, data: { project: cur.partitionKey }, requestId: ctx.requestId });
}

/** Removes the group's record, its type rows and index row, and gives back its quota (only the pass that removed the record). */
async function forgetGroup(s: Services, g: Stored<GroupRecord>): Promise<void> {
  const t = volumeTables(s);
  for (const typeId of [g.value.group_type_id, ...g.value.volume_type_ids]) await t.groupUse.delete(typeId, g.rowKey);
  await t.index.delete('group', g.rowKey);
  if (await t.groups.delete(g.partitionKey, g.rowKey)) await volumeLedger(s).release(g.partitionKey, GROUP_DELTAS);
}

/** The group's delete (the manager's delete_group): waits for its members' delete work, then removes it. */
const groupDelete: WorkKind = {
  kind: GROUP_DELETE,
  async run(item: WorkItem, s: Services) {
    const cur = await volumeTables(s).groups.get(itemProject(item), item.id);
    if (!cur || cur.value.status !== 'deleting') return done();
    const left = await groupVolumes(s, cur.value);
    // A member whose delete gave up (error_deleting) keeps the group: it lands error_deleting too.
    if (left.some((v) => v.value.status === 'error_deleting')) throw refuse('VolumeDeleteFailed', 'A volume of the group could not be deleted.');
    if (left.length) return poll(s, item, 'wait');
    await forgetGroup(s, cur);
    return done();
  },
  async giveUp(item, s, f) {
    log.warn('group delete failed', { group: item.id, code: f.code, reason: f.message.slice(0, 300) });
    await volumeTables(s).groups.update(itemProject(item), item.id, (x) => (x.status !== 'deleting' ? undefined : { ...x, status: 'error_deleting', updated_at: cinderTime() }));
  },
};

export const GROUP_WORK: WorkKind[] = [groupDelete];

/** Python's repr of a list of strings, as Cinder's messages print them. */
const pyList = (xs: string[]) => `[${xs.map((x) => `'${x}'`).join(', ')}]`;
const pyTuple = (xs: string[]) => `(${xs.map((x) => `'${x}'`).join(', ')})`;
