// reset_status of generic groups (3.20, GROUP_VOLUME_RESET_STATUS) and group snapshots (3.19,
// GROUP_SNAPSHOT_RESET_STATUS): v3/groups.py and v3/group_snapshots.py _reset_status. The body's status
// is checked as Cinder's format checkers check it (both against GroupSnapshotStatus.ALL — the group's
// checker prints GroupStatus.ALL but tests the snapshot list, so 'in-use' is refused for groups too),
// then the record is found (404), then the policy (admin) is asked — Cinder authorizes inside
// group/api.py, after the lookup — and the status is written with updated_at under the record's ETag.
// Nothing else changes: the members, their volumes and snapshots keep theirs, as in Cinder.
import type { RequestContext } from '../../http/router';
import { accepted } from '../../http/respond';
import { badRequest } from '../../http/errors';
import { validateBody } from '../../api/validation';
import { authorize } from '../../api/policy';
import { cinderTime } from '../common';
import { findGroup, findGroupSnapshot, volumeTables, type GroupRecord, type GroupSnapshotRecord } from '../model';

const GROUP_SNAPSHOT_STATUS_ALL = ['error', 'available', 'creating', 'deleting', 'deleted', 'updating', 'error_deleting'];
const GROUP_STATUS_ALL = ['error', 'available', 'creating', 'deleting', 'deleted', 'updating', 'in-use', 'error_deleting'];
const pyTuple = (xs: string[]) => `(${xs.map((x) => `'${x}'`).join(', ')})`;

const schema = {
  type: 'object',
  required: ['reset_status'],
  additionalProperties: false,
  properties: { reset_status: { type: 'object', required: ['status'], additionalProperties: false, properties: { status: { type: 'string' } } } },
};

/** The body's status, lower-cased, or Cinder's 400 (InvalidGroupStatus / InvalidGroupSnapshotStatus). */
function statusOf(ctx: RequestContext, kind: 'group' | 'group_snapshot'): string {
  const status = validateBody<{ reset_status: { status: string } }>(schema, ctx.body).reset_status.status;
  const prefix = kind === 'group' ? 'Invalid Group Status: ' : 'Invalid GroupSnapshot Status: ';
  if (status.trim() === '') throw badRequest(`${prefix}The 'status' can not be empty.`);
  if (!GROUP_SNAPSHOT_STATUS_ALL.includes(status.toLowerCase())) {
    throw badRequest(
      kind === 'group'
        ? `${prefix}Group status: ${status} is invalid, valid status are: ${pyTuple(GROUP_STATUS_ALL)}.`
        : `${prefix}Group snapshot status: ${status} is invalid, valid statuses are: ${pyTuple(GROUP_SNAPSHOT_STATUS_ALL)}.`,
    );
  }
  return status.toLowerCase();
}

/** POST /groups/{id}/action {"reset_status": {"status"}} (3.20): 202. */
export async function resetGroupStatus(ctx: RequestContext) {
  const status = statusOf(ctx, 'group');
  const cur = await findGroup(ctx, ctx.params.group_id);
  authorize(ctx, 'group:reset_status', { projectId: cur.value.project_id });
  await volumeTables(ctx.services).groups.update(cur.partitionKey, cur.rowKey, (g) => ({ ...g, status: status as GroupRecord['status'], updated_at: cinderTime() }));
  return accepted();
}

/** POST /group_snapshots/{id}/action {"reset_status": {"status"}} (3.19): 202. */
export async function resetGroupSnapshotStatus(ctx: RequestContext) {
  const status = statusOf(ctx, 'group_snapshot');
  const cur = await findGroupSnapshot(ctx, ctx.params.group_snapshot_id);
  authorize(ctx, 'group:reset_group_snapshot_status', { projectId: cur.value.project_id });
  await volumeTables(ctx.services).groupSnapshots.update(cur.partitionKey, cur.rowKey, (g) => ({ ...g, status: status as GroupSnapshotRecord['status'], updated_at: cinderTime() }));
  return accepted();
}
