// os-update_snapshot_status (cinder/api/contrib/snapshot_actions.py): how Nova's assisted snapshots
// report a snapshot's progress to Cinder. The caller moves a `creating` snapshot to creating/available/
// error, a `deleting` one to deleting/error_deleting, with an optional progress percentage; the record
// changes under its ETag. docs/volumes.md, "Admin actions".
import type { RequestContext } from '../../http/router';
import { accepted } from '../../http/respond';
import { badRequest } from '../../http/errors';
import { validateBody } from '../../api/validation';
import { cinderTime } from '../common';
import { findSnapshot, volumeTables, type SnapshotRecord } from '../model';

const schema = {
  type: 'object',
  required: ['os-update_snapshot_status'],
  additionalProperties: false,
  properties: {
    'os-update_snapshot_status': {
      type: 'object',
      required: ['status'],
      additionalProperties: false,
      // progress: Cinder's 'progress' format (checked below, after the schema: its own messages).
      properties: { status: { type: 'string' }, progress: {} },
    },
  },
};

/** The allowed transitions (snapshot_actions.py status_map). */
const STATUS_MAP: Record<string, string[]> = { creating: ['creating', 'available', 'error'], deleting: ['deleting', 'error_deleting'] };

/** validators.py _validate_progress: an integer percentage from 0 to 100 ("50%"); empty or absent is none. */
function checkProgress(progress: unknown): string | undefined {
  if (progress == null || progress === '' || progress === false || progress === 0) return undefined;
  const s = typeof progress === 'string' ? progress : undefined;
  const digits = s?.slice(0, -1).trim().replace(/_/g, '');
  if (s === undefined || !/^[+-]?\d+$/.test(digits ?? '')) throw badRequest('Invalid input received: progress must be an integer percentage');
  const n = Number(digits);
  if (n < 0 || n > 100 || !s.endsWith('%')) throw badRequest('Invalid input received: progress must be an integer percentage between 0 and 100');
  return s;
}

export async function updateSnapshotStatus(ctx: RequestContext) {
  const b = validateBody<{ 'os-update_snapshot_status': { status: string; progress?: unknown } }>(schema, ctx.body)['os-update_snapshot_status'];
  const progress = checkProgress(b.progress);
  const cur = await findSnapshot(ctx, ctx.params.snapshot_id);
  const check = (current: string) => {
    if (!(current in STATUS_MAP)) throw badRequest(`Snapshot status ${current} not allowed for update_snapshot_status`);
    if (!STATUS_MAP[current].includes(b.status)) throw badRequest(`Provided snapshot status ${b.status} not allowed for snapshot with status ${current}.`);
  };
  check(cur.value.status);
  // Read-modify-write under the ETag: a snapshot whose status moved meanwhile is judged by its new one.
  await volumeTables(ctx.services).snapshots.update(cur.partitionKey, cur.rowKey, (x) => {
    check(x.status);
    return { ...x, status: b.status as SnapshotRecord['status'], ...(progress ? { progress } : {}), updated_at: cinderTime() };
  });
  return accepted();
}
