// The snapshots service (cinder/volume/api.py create_snapshot, delete_snapshot): the rules the
// controller (./api.ts) calls after validating a request. Returns records; the controller renders.
import { randomUUID } from 'node:crypto';
import { startWork } from '../../work/ledger';
import type { RequestContext } from '../../http/router';
import { badRequest } from '../../http/errors';
import type { Stored } from '../../store/tables';
import { boolParam, cinderTime, projectOf } from '../common';
import { assertNotFrozen, findVolume, snapshotNameOf, snapshotRefusal, volumeTables, type SnapshotRecord } from '../model';
import { SNAPSHOT_CREATE, SNAPSHOT_DELETE } from '../workKinds';
import { reserveSnapshot, volumeLedger } from '../quotas/engine';
import { typeStore } from '../types/store';

export type CreateSnapshotBody = {
  name?: string | null;
  display_name?: string | null;
  description?: string | null;
  volume_id: string | null;
  force?: boolean | string;
  metadata?: Record<string, string> | null;
};

export const SNAPSHOT_IN_USE = '3.66';
/** v3/snapshots.py's words, its spelling kept. */
const SNAPSHOT_IN_USE_FLAG_MSG =
  "Since microversion 3.66 the 'force' flag is invalid for this request.  For backward compatability, however, when the 'force' flag is passed with a value evaluating to True, it is silently ignored.";

/**
 * volume/api.py create_snapshot: the volume's state (available, or in-use with force), quota, the
 * dependency row the volume's delete checks, the record, the work. Returns the record.
 */
export async function createSnapshot(ctx: RequestContext, b: CreateSnapshotBody): Promise<SnapshotRecord> {
  if (!b.volume_id) throw badRequest("Invalid input received: 'volume_id' must be specified");
  const force = b.force === undefined || b.force === null ? undefined : boolParam(b.force, 'force');
  const vol = await findVolume(ctx, b.volume_id);
  // 3.66 (SNAPSHOT_IN_USE): an in-use volume is snapshotted without `force`; a false `force` is refused
  // (a true one is silently ignored, for older clients).
  const inUseAllowed = ctx.microversion?.atLeast(SNAPSHOT_IN_USE) ?? false;
  if (inUseAllowed && force === false) throw badRequest(SNAPSHOT_IN_USE_FLAG_MSG);
  await assertNotFrozen(ctx.services);
  const allowed = force || inUseAllowed ? ['available', 'in-use'] : ['available'];
  const refuse = (status: string) => badRequest(`Invalid volume: Volume ${vol.value.id} status must be ${allowed.join(', ')}, but current status is: ${status}.`);
  const why = snapshotRefusal(vol.value);
  if (why) throw badRequest(why);
  if (!allowed.includes(vol.value.status)) throw refuse(vol.value.status);
  const t = volumeTables(ctx.services);
  const project = projectOf(ctx);
  const typeName = (await typeStore(ctx.services).get(vol.value.volume_type_id))?.value.name ?? '';
  const id = randomUUID();
  const ledger = volumeLedger(ctx.services);
  await reserveSnapshot(ctx.services, project, id, typeName, vol.value.size);
  await t.deps.create(vol.value.id, id, { kind: 'snapshot', project_id: project });
  const again = await t.volumes.get(vol.partitionKey, vol.rowKey);
  if (!again || !allowed.includes(again.value.status)) {
    await t.deps.delete(vol.value.id, id);
    await ledger.rollback(project, [id]);
    throw refuse(again?.value.status ?? 'deleting');
  }
  const now = cinderTime();
  const s: SnapshotRecord = {
    id,
    project_id: project,
    user_id: ctx.auth!.userId,
    volume_id: vol.value.id,
    volume_project_id: vol.partitionKey,
    name: b.name ?? b.display_name ?? null,
    description: b.description ?? null,
    size: vol.value.size,
    volume_type_id: vol.value.volume_type_id,
    status: 'creating',
    metadata: b.metadata ?? {},
    created_at: now,
    updated_at: null,
    azure: { name: snapshotNameOf(id) },
  };
  await t.index.upsert('snapshot', id, { project_id: project });
  await t.snapshots.create(project, id, s);
  await ledger.commit(project, [id]);
  try {
    await startWork(ctx.services, { kind: SNAPSHOT_CREATE, id, data: { project }, requestId: ctx.requestId });
  } catch (e) {
    await t.snapshots.update(project, id, (x) => ({ ...x, status: 'error' }));
    throw e;
  }
  return s;
}

/** volume/api.py delete_snapshot: available/error (and error_deleting, retried) → deleting, then the work. */
export async function deleteSnapshot(ctx: RequestContext, cur: Stored<SnapshotRecord>): Promise<void> {
  await assertNotFrozen(ctx.services);
  const refused = badRequest(`Invalid snapshot: Snapshot status must be available or error and must not be part of a group.`);
  // error_deleting too: a later DELETE retries a delete that was given up (Cinder wants reset-status first).
  if (!['available', 'error', 'error_deleting'].includes(cur.value.status)) throw refused;
  // Claimed by an accepted transfer of its volume, which is moving it to another project.
  if (cur.value.moving_to) throw refused;
  // A group snapshot's member goes with its group snapshot (3.14).
  if (cur.value.group_snapshot_id) throw refused;
  await volumeTables(ctx.services)
    .snapshots.replace(cur.partitionKey, cur.rowKey, { ...cur.value, status: 'deleting', updated_at: cinderTime() }, cur.etag)
    .catch(() => {
      throw refused;
    });
  await startWork(ctx.services, { kind: SNAPSHOT_DELETE, id: cur.rowKey, data: { project: cur.partitionKey }, requestId: ctx.requestId });
}
