// DELETE /servers/{id} (compute/api.py delete: allowed in any vm_state and task_state at 2.1). The
// record is marked task_state=deleting and stays until Azure confirms the VM, NIC and OS disk are
// gone (the teardown step in build.ts removes it); a repeated delete answers 204 again.
import type { RequestContext } from '../../http/router';
import { noContent } from '../../http/respond';
import { checkInstanceState, updateServer, visibleServer } from './model';
import { ACTION, startAction } from './instanceActions';
import { TEARDOWN_KIND } from './build';

export async function deleteServer(ctx: RequestContext) {
  const s = ctx.services;
  const cur = await visibleServer(ctx);
  if (cur.value.task_state === 'deleting') return noContent();
  checkInstanceState(cur.value, 'delete', {});
  const stored = await updateServer(s, cur, (v) => (v.task_state === 'deleting' ? undefined : { ...v, task_state: 'deleting' }));
  if (!stored) return noContent();
  const action = await startAction(s, cur.value, ACTION.DELETE, ctx.requestId, ctx.auth!.userId, 'compute_terminate_instance');
  await s.work.enqueue({ kind: TEARDOWN_KIND, id: cur.value.id, data: { purpose: 'delete', action: action.rowKey }, requestId: ctx.requestId });
  return noContent();
}
