// How resize, rebuild, snapshot/backup and changePassword begin (nova/compute/api.py): Nova's lock and
// state checks, then the task_state written conditionally on the record still being in an allowed state
// (instance.save(expected_task_state=[None])), then the instance action with its first event.
import type { RequestContext } from '../../../http/router';
import type { Stored } from '../../../store/tables';
import { checkInstanceLock, checkInstanceState, updateServer, type ServerRecord, type TaskState, type VmState } from '../model';
import { startAction, type ActionRef } from '../instanceActions';

export interface TaskStart {
  /** The method named in Nova's 409 (the API action name). */
  method: string;
  vm: VmState[];
  task?: TaskState[];
  /** Nova checks the lock for most actions (not for snapshots and backups). */
  lock: boolean;
  /** The task_state to set, and any other change of the record. */
  set: (v: ServerRecord) => ServerRecord;
  /** Nova's instance action name and its first event. */
  action: string;
  event: string;
}

export async function startTask(ctx: RequestContext, cur: Stored<ServerRecord>, t: TaskStart): Promise<{ server: ServerRecord; action: ActionRef }> {
  const allowed = { vm: t.vm, task: t.task ?? [null] };
  if (t.lock) checkInstanceLock(cur.value, ctx.auth!);
  checkInstanceState(cur.value, t.method, allowed);
  const stored = await updateServer(ctx.services, cur, (v) => {
    // A concurrent request may have changed the state since it was read: Nova's expected_task_state.
    checkInstanceState(v, t.method, allowed);
    return t.set(v);
  });
  if (!stored) throw new Error(`server ${cur.value.id} vanished`);
  const action = await startAction(ctx.services, stored.value, t.action, ctx.requestId, ctx.auth!.userId, t.event);
  return { server: stored.value, action };
}

/** Nova's instance action names (nova/compute/instance_actions.py) for these actions. */
export const K2_ACTION = {
  RESIZE: 'resize',
  CONFIRM_RESIZE: 'confirmResize',
  REVERT_RESIZE: 'revertResize',
  REBUILD: 'rebuild',
  CREATE_IMAGE: 'createImage',
  BACKUP: 'createBackup',
  CHANGE_PASSWORD: 'changePassword',
} as const;
