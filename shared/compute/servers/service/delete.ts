// DELETE /servers/{id} (compute/api.py delete: allowed in any vm_state and task_state at 2.1). The
// record is marked task_state=deleting and stays until Azure confirms the VM is gone (the teardown in
// build.ts: one DELETE that cascades to the NICs and OS disk, then removes the record); a repeated
// delete answers 204 again. A delete Azure kept failing leaves the server in ERROR with the fault and
// task_state cleared: a later DELETE runs the delete again.
// With JACKET_RECLAIM_INSTANCE_INTERVAL > 0 (Nova's reclaim_instance_interval) a server that has
// launched is soft-deleted instead (softDelete below; restore and forceDelete are actions/deferredDelete.ts): its VM deallocated, SOFT_DELETED until
// restored, force-deleted, or reclaimed by the timer (shared/timers/reclaim.ts).
import type { RequestContext } from '../../../http/router';
import type { Stored } from '../../../store/tables';
import { checkInstanceLock, checkInstanceState, updateServer, POWER, type ServerRecord } from '../model';
import { ACTION, startAction } from '../instanceActions';
import { startTeardown } from '../work/build';
import { beginPowerAction } from '../work/power';

/** The servers service's delete (compute/api.py delete / soft_delete): the controller answers 204. */
export async function deleteServer(ctx: RequestContext, cur: Stored<ServerRecord>): Promise<void> {
  if (ctx.services.config.periodic.reclaimInstanceInterval > 0 && cur.value.task_state !== 'deleting') {
    // Nova's servers.py _delete: soft_delete, or delete when it never launched (InstanceInvalidState).
    if (cur.value.vm_state === 'soft-delete' || cur.value.task_state === 'soft-deleting') return;
    if (cur.value.launched_at) return softDelete(ctx, cur);
  }
  return hardDelete(ctx, cur);
}

/** The delete itself (also forceDelete's): task_state deleting, then the teardown step. */
export async function hardDelete(ctx: RequestContext, cur: Stored<ServerRecord>): Promise<void> {
  const s = ctx.services;
  if (cur.value.task_state === 'deleting') return;
  checkInstanceState(cur.value, 'delete', {});
  const stored = await updateServer(s, cur, (v) => (v.task_state === 'deleting' ? undefined : { ...v, task_state: 'deleting' }));
  if (!stored) return;
  const action = await startAction(s, cur.value, ACTION.DELETE, ctx.requestId, ctx.auth!.userId, 'compute_terminate_instance');
  await startTeardown(s, cur.value.id, ctx.requestId, action.rowKey);
}

/**
 * DELETE as a soft delete (compute/api.py soft_delete: lock checked, any vm_state and task_state, must
 * have launched; deleteServer falls back to the real delete otherwise): deallocate, then SOFT_DELETED.
 */
export async function softDelete(ctx: RequestContext, cur: Stored<ServerRecord>): Promise<void> {
  checkInstanceLock(cur.value, ctx.auth!);
  await beginPowerAction(ctx, { method: 'soft_delete', vm: [cur.value.vm_state], task: [cur.value.task_state], lock: true }, ACTION.DELETE, 'compute_soft_delete_instance', {
    ops: ['deallocate'],
    task: 'soft-deleting',
    final: { vm_state: 'soft-delete', power_state: POWER.SHUTDOWN },
  });
}
