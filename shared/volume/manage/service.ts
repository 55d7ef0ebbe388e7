// Managing existing Azure disks (Cinder's manage_existing / unmanage, cinder/volume/api.py) and the
// manageable list (get_manageable_volumes): the disks of Jacket's resource group that Jacket did not
// make. A managed volume keeps its disk's own name: Azure cannot rename a disk, and every volume path
// already reads the record's disk.name (only a new volume derives volume-<id>), so adopting in place
// needs no copy, and nothing is deleted to manage or unmanage. The sweeps delete only disks named and
// tagged as Jacket's (shared/timers/disks.ts: volume-<id> with jacket-volume-id=<id>), so an adopted
// disk under another name is never a sweep candidate, and unmanage strips Jacket's tags.
import { randomUUID } from 'node:crypto';
import type { Services } from '../../services';
import type { RequestContext } from '../../http/router';
import { ApiError, badRequest } from '../../http/errors';
import { startWork } from '../../work/ledger';
import type { InventoryItem } from '../../azure/inventory';
import { VOLUME_HOST, listServices, volumeBackendSchedulable } from '../../servicegroup/registry';
import { cinderTime, projectOf } from '../common';
import { dependentsOf, diskNameOf, findVolume, isMigrating, snapshotNameOf, volumeTables, type SnapshotRecord, type VolumeRecord } from '../model';
import type { Stored } from '../../store/tables';
import { defaultType, skuOf, typeByNameOrId, typeStore, type VolumeTypeRecord } from '../types/store';
import { reserveSnapshot, reserveVolume, volumeLedger } from '../quotas/engine';
import { VOLUME_AZ } from '../volumes/service';
import { SNAPSHOT_MANAGE, SNAPSHOT_UNMANAGE, VOLUME_MANAGE, VOLUME_UNMANAGE } from '../workKinds';

const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
/** Jacket's tag keys on the disks and snapshots it makes (model.ts jacketTags). */
export const JACKET_TAG_KEYS = ['jacket', 'jacket-volume-id', 'jacket-project-id', 'jacket-snapshot-id'];

/**
 * A disk Jacket made or holds: any `jacket` tag (volumes, rebuilt OS disks, backups' snapshots), or a
 * server's OS disk, which Azure names by the server UUID without copying the VM's tags.
 */
export function isJacketDisk(name: string, tags: Record<string, string>): boolean {
  return tags.jacket !== undefined || new RegExp(`^${UUID}(-r[0-9a-z]+)?$`).test(name);
}

/** Disk states in which something is using the disk (as the disk sweep reads them). */
const BUSY = ['Attached', 'Reserved', 'ActiveSAS', 'ActiveSASFrozen', 'ActiveUpload', 'ReadyToUpload', 'Frozen'];

export interface ManageableVolume {
  reference: { 'source-name': string };
  size: number;
  safe_to_manage: boolean;
  reason_not_safe: string | null;
  cinder_id: string | null;
  extra_info: null;
}

/** One manageable entry, as Cinder's drivers describe a backend volume (e.g. rbd.py get_manageable_volumes). */
function entryOf(d: InventoryItem): ManageableVolume {
  const inUse = !!d.heldBy || (d.alsoHeldBy?.length ?? 0) > 0 || (d.diskState !== undefined && BUSY.includes(d.diskState));
  const ready = d.provisioningState === undefined || d.provisioningState === 'Succeeded';
  return {
    reference: { 'source-name': d.name },
    size: d.sizeGB ?? 0,
    safe_to_manage: !inUse && ready,
    reason_not_safe: inUse ? 'volume in use' : ready ? null : 'volume not ready',
    cinder_id: null,
    extra_info: null,
  };
}

/** The resource group's disks that Jacket did not make (one paged listing). */
export async function manageableVolumes(s: Services): Promise<ManageableVolume[]> {
  const out: ManageableVolume[] = [];
  for await (const d of s.azure.inventory.list('disk')) if (!isJacketDisk(d.name, d.tags)) out.push(entryOf(d));
  return out;
}

/**
 * _get_service_by_host_cluster: the host names Jacket's one cinder-volume (jacket@azure, with or
 * without a #pool; a bare "jacket" matches its backends as Cinder's host filter does). `onMissing`
 * is the caller's answer: the lists let ServiceNotFound through (404), manage turns it into 400 (Cinder's ServiceUnavailable is an Invalid: code 400).
 */
export async function volumeServiceFor(s: Services, host: string, onMissing: () => Error): Promise<void> {
  const backend = host.split('#')[0];
  const known = (await listServices(s, 'volume')).some((v) => v.binary === 'cinder-volume' && (v.host === backend || (!backend.includes('@') && v.host.startsWith(`${backend}@`))));
  if (!known || !VOLUME_HOST.startsWith(backend)) throw onMissing();
  // A disabled or down service: Cinder's ServiceUnavailable.
  if (!(await volumeBackendSchedulable(s))) throw new ApiError(400, 'Service is unavailable at this time.');
}

export interface ManageBody {
  host?: string | null;
  cluster?: string | null;
  ref: Record<string, unknown> | string;
  name?: string | null;
  description?: string | null;
  volume_type?: string | null;
  metadata?: Record<string, string> | null;
  availability_zone?: string | null;
  bootable?: boolean | string;
}

const TRUE = ['true', 't', 'yes', 'y', 'on', '1'];

/**
 * volume/api.py manage_existing and the manage flow's API half: the record in status managing (size 0
 * until the disk is read), then the manage work (./work.ts). A ref whose source-name is the disk of a
 * volume Jacket has is refused at once, as check_already_managed_volume does; any other bad ref ends
 * in error_managing, as the driver's refusal does in Cinder.
 */
export async function manageVolume(ctx: RequestContext, b: ManageBody, where: { host?: string; cluster?: string }): Promise<{ volume: VolumeRecord; typeName: string }> {
  const s = ctx.services;
  const t = volumeTables(s);
  let type: VolumeTypeRecord;
  if (b.volume_type) {
    try {
      type = await typeByNameOrId(ctx, b.volume_type);
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) throw badRequest(`Invalid volume type: Cannot find requested '${b.volume_type}' volume type`);
      throw e;
    }
  } else type = await defaultType(ctx);
  const sourceName = typeof b.ref === 'object' && typeof b.ref['source-name'] === 'string' ? b.ref['source-name'] : undefined;
  const m = sourceName ? new RegExp(`^volume-(${UUID})$`).exec(sourceName) : null;
  if (m && (await t.index.get('volume', m[1]))) throw badRequest('Invalid volume: Unable to manage existing volume. The volume is already managed');
  // ServiceNotFound, as volume_manage.py words it: Jacket's cinder-volume is in no cluster (3.16).
  if (where.cluster !== undefined) throw new ApiError(400, `Cluster '${where.cluster}' not found`);
  const host = where.host!;
  await volumeServiceFor(s, host, () => new ApiError(400, `Host '${host}' not found`));
  const az = b.availability_zone ?? VOLUME_AZ;
  if (az !== VOLUME_AZ) throw badRequest(`Invalid input received: Availability zone '${az}' is invalid.`);
  const project = projectOf(ctx);
  const id = randomUUID();
  // The record counts as one volume of 0 GiB until the disk's size is known; the work holds the size.
  await reserveVolume(s, project, id, type.name, 0);
  const now = cinderTime();
  const v: VolumeRecord = {
    id,
    project_id: project,
    user_id: ctx.auth!.userId,
    name: b.name ? b.name.trim() : null,
    description: b.description ? b.description.trim() : null,
    size: 0,
    status: 'managing',
    attach_status: 'detached',
    migration_status: null,
    availability_zone: az,
    bootable: b.bootable === true || (typeof b.bootable === 'string' && TRUE.includes(b.bootable.toLowerCase())),
    volume_type_id: type.id,
    metadata: b.metadata ?? {},
    snapshot_id: null,
    source_volid: null,
    created_at: now,
    updated_at: null,
    // Not the adopted disk yet (see VolumeRecord.manage_ref): a name no disk has.
    disk: { name: diskNameOf(id), sku: skuOf(type) },
    // A ref without a source-name (or not an object) is kept empty: the work refuses it (error_managing).
    manage_ref: { source_name: sourceName ?? '' },
  };
  try {
    await t.typeUse.upsert(type.id, id, { project_id: project });
    await t.index.upsert('volume', id, { project_id: project });
    await t.volumes.create(project, id, v);
  } catch (e) {
    await volumeLedger(s)
      .rollback(project, [id])
      .catch(() => undefined);
    throw e;
  }
  await volumeLedger(s).commit(project, [id]);
  try {
    await startWork(s, { kind: VOLUME_MANAGE, id, data: { project }, requestId: ctx.requestId });
  } catch (e) {
    await t.volumes.update(project, id, (x) => (x.status === 'managing' ? { ...x, status: 'error_managing' } : undefined));
    throw e;
  }
  return { volume: v, typeName: type.name };
}

const UNMANAGEABLE = ['available', 'error', 'error_restoring', 'error_extending', 'error_managing'];
const UNMANAGE_REFUSED =
  'Invalid volume: Volume status must be available or error or error_restoring or error_extending or error_managing and must not be migrating, attached, belong to a group, have snapshots, awaiting a transfer, or be disassociated from snapshots after volume transfer.';

/**
 * volume/api.py delete(unmanage_only=True): the delete's conditions (status, not attached, no
 * snapshots), the record to unmanaging under its ETag, then the unmanage work keeps the disk, strips
 * Jacket's tags from it and removes the record.
 */
export async function unmanageVolume(ctx: RequestContext, cur: Stored<VolumeRecord>): Promise<void> {
  const v = cur.value;
  if (!UNMANAGEABLE.includes(v.status) || v.attach_status === 'attached' || isMigrating(v) || v.group_id) throw badRequest(UNMANAGE_REFUSED);
  const t = volumeTables(ctx.services);
  const marked = await t.volumes.replace(cur.partitionKey, cur.rowKey, { ...v, status: 'unmanaging', updated_at: cinderTime() }, cur.etag).catch(() => {
    throw badRequest(UNMANAGE_REFUSED);
  });
  // A snapshot create writes its dependency row before it checks the volume: one of the two sees the other.
  if ((await dependentsOf(ctx.services, v.id)).length > 0) {
    await t.volumes.replace(marked.partitionKey, marked.rowKey, v, marked.etag).catch(() => undefined);
    throw badRequest(UNMANAGE_REFUSED);
  }
  await startWork(ctx.services, { kind: VOLUME_UNMANAGE, id: v.id, data: { project: cur.partitionKey }, requestId: ctx.requestId });
}

export interface ManageableSnapshot extends Omit<ManageableVolume, 'reference'> {
  reference: { 'source-name': string };
  source_reference: { 'source-name': string | null };
}

const lastSegment = (armId: string | undefined) => (armId ? armId.slice(armId.lastIndexOf('/') + 1) : null);

/**
 * The resource group's Azure snapshots that Jacket did not make (no jacket tag), with the disk each was
 * taken of as source_reference. Only a snapshot of a Jacket volume's disk can be managed (Cinder's
 * snapshot manage names the volume): one of any other disk is not safe, 'source volume not managed'.
 */
export async function manageableSnapshots(s: Services): Promise<ManageableSnapshot[]> {
  const volumeDisks = new Set<string>();
  for await (const d of s.azure.inventory.list('disk')) if (d.tags.jacket === 'volume' && d.tags['jacket-volume-id']) volumeDisks.add(d.name.toLowerCase());
  const out: ManageableSnapshot[] = [];
  for await (const sn of s.azure.inventory.list('snapshot')) {
    if (sn.tags.jacket !== undefined) continue;
    const source = lastSegment(sn.sourceId);
    const ready = sn.provisioningState === undefined || sn.provisioningState === 'Succeeded';
    const managed = source !== null && volumeDisks.has(source.toLowerCase());
    out.push({
      reference: { 'source-name': sn.name },
      size: sn.sizeGB ?? 0,
      safe_to_manage: ready && managed,
      reason_not_safe: !ready ? 'snapshot not ready' : managed ? null : 'source volume not managed',
      cinder_id: null,
      extra_info: null,
      source_reference: { 'source-name': source },
    });
  }
  return out;
}

export interface SnapshotManageBody {
  volume_id: string;
  ref: Record<string, unknown> | string | null;
  name?: string | null;
  description?: string | null;
  metadata?: Record<string, string> | null;
}

/**
 * volume/api.py manage_existing_snapshot: the volume (404), its service up, then create_snapshot_in_db
 * with force (the volume available or in-use; quota for the volume's size) in status creating, then the
 * work adopts the Azure snapshot (./work.ts). A bad ref ends the snapshot in error, as Cinder's flow.
 */
export async function manageSnapshot(ctx: RequestContext, b: SnapshotManageBody): Promise<SnapshotRecord> {
  const s = ctx.services;
  const vol = await findVolume(ctx, b.volume_id);
  await volumeServiceFor(s, VOLUME_HOST, () => new ApiError(400, 'Service is unavailable at this time.'));
  const allowed = ['available', 'in-use'];
  const refuse = (status: string) => badRequest(`Invalid volume: Volume ${vol.value.id} status must be ${allowed.join(', ')}, but current status is: ${status}.`);
  if (!allowed.includes(vol.value.status)) throw refuse(vol.value.status);
  const t = volumeTables(s);
  const project = projectOf(ctx);
  const typeName = (await typeStore(s).get(vol.value.volume_type_id))?.value.name ?? '';
  const id = randomUUID();
  const ledger = volumeLedger(s);
  await reserveSnapshot(s, project, id, typeName, vol.value.size);
  // The volume learns of its snapshot before we look at it again (its delete checks these rows).
  await t.deps.create(vol.value.id, id, { kind: 'snapshot', project_id: project });
  const again = await t.volumes.get(vol.partitionKey, vol.rowKey);
  if (!again || !allowed.includes(again.value.status)) {
    await t.deps.delete(vol.value.id, id);
    await ledger.rollback(project, [id]);
    throw refuse(again?.value.status ?? 'deleting');
  }
  const sourceName = b.ref && typeof b.ref === 'object' && typeof b.ref['source-name'] === 'string' ? b.ref['source-name'] : '';
  const snap: SnapshotRecord = {
    id,
    project_id: project,
    user_id: ctx.auth!.userId,
    volume_id: vol.value.id,
    volume_project_id: vol.partitionKey,
    name: b.name ?? null,
    description: b.description ?? null,
    size: vol.value.size,
    volume_type_id: vol.value.volume_type_id,
    status: 'creating',
    metadata: b.metadata ?? {},
    created_at: cinderTime(),
    updated_at: null,
    // Not the adopted snapshot until the manage succeeds (a failed one's delete reaches nothing).
    azure: { name: snapshotNameOf(id) },
    manage_ref: { source_name: sourceName },
  };
  await t.index.upsert('snapshot', id, { project_id: project });
  await t.snapshots.create(project, id, snap);
  await ledger.commit(project, [id]);
  try {
    await startWork(s, { kind: SNAPSHOT_MANAGE, id, data: { project }, requestId: ctx.requestId });
  } catch (e) {
    await t.snapshots.update(project, id, (x) => (x.status === 'creating' ? { ...x, status: 'error' } : undefined));
    throw e;
  }
  return snap;
}

/** volume/api.py delete_snapshot(unmanage_only=True): available or error → unmanaging, then the work. */
export async function unmanageSnapshot(ctx: RequestContext, cur: Stored<SnapshotRecord>): Promise<void> {
  const refused = badRequest('Invalid snapshot: Snapshot status must be available or error and must not be part of a group.');
  // A group snapshot's member (3.14) is refused as delete_snapshot's group_snapshot_id condition refuses it.
  if (!['available', 'error'].includes(cur.value.status) || cur.value.moving_to || cur.value.group_snapshot_id) throw refused;
  await volumeTables(ctx.services)
    .snapshots.replace(cur.partitionKey, cur.rowKey, { ...cur.value, status: 'unmanaging', updated_at: cinderTime() }, cur.etag)
    .catch(() => {
      throw refused;
    });
  await startWork(ctx.services, { kind: SNAPSHOT_UNMANAGE, id: cur.rowKey, data: { project: cur.partitionKey }, requestId: ctx.requestId });
}
