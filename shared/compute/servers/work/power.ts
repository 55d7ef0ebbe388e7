// The work kind behind the power and lifecycle actions (power.ts, lifecycle.ts): a short list of ARM
// VM power operations, each one POST sent with no GET before (Azure's own answer is the state guard:
// a VM busy with another operation answers 409 Conflict, which the engine retries; a VM that cannot
// hibernate answers OperationNotAllowed), then GETs of the VM, paced by the POST's Retry-After, until
// Azure shows the power state the operation leads to; then the server gets the action's final Nova
// state and the instance action its Success. The step marker says which operation is current and
// whether it was sent, so a crash or a retry resumes where it was. Given up, the server ends in ERROR
// with Azure's fault.
import type { Services } from '../../../services';
import type { WorkItem, WorkKind, WorkResult } from '../../../work/types';
import { again, done } from '../../../work/types';
import { pollDelay } from '../../../work/pace';
import { startWork } from '../../../work/ledger';
import { azureFailure } from '../../../azure/errors';
import { BUSY_STATES, type VmPowerOp } from '../../../azure/vms';
import { log } from '../../../log';
import type { RequestContext } from '../../../http/router';
import { accepted } from '../../../http/respond';
import type { ApiResponse } from '../../../http/types';
import { conflict } from '../../../http/errors';
import {
  checkInstanceLock,
  checkInstanceState,
  getServerAny,
  instanceNotFound,
  updateServer,
  visibleServer,
  novaTime,
  POWER,
  type PowerState,
  type ServerRecord,
  type TaskState,
  type VmState,
} from '../model';
import { giveUpServer, refused } from './common';
import { finishAction, startAction, type ActionRef } from '../instanceActions';
import { createMigration, setMigrationStatus } from '../../migrations/model';

export const POWER_KIND = 'server-power';

/** What the server becomes once every operation succeeded. */
export interface FinalState {
  vm_state: VmState;
  power_state: PowerState;
  /** Nova's instance.host: null once shelved-offloaded, set again by unshelve. */
  host?: 'keep' | 'clear' | 'set';
}

export interface PowerPlan {
  ops: VmPowerOp[];
  /** The task_state the API set; a record no longer in it (reset, deleted) ends the work. */
  task: TaskState;
  final: FinalState;
  /** The first operation needs a VM that can hibernate (suspend): Azure's refusal is "not supported". */
  needsHibernation?: boolean;
  /** A cold migration (migrate): Nova's migration record is written as the action starts. */
  migration?: boolean;
  /** Its id (set by beginPowerAction): 'migrating' once the first operation is sent, 'confirmed' at the end, 'error' if it fails. */
  migration_id?: number;
}

/** The Azure power states an operation leads to. */
const REACHES: Record<VmPowerOp, string[]> = {
  start: ['running'],
  restart: ['running'],
  redeploy: ['running'],
  powerOff: ['stopped', 'deallocated'],
  powerOffSkipShutdown: ['stopped', 'deallocated'],
  deallocate: ['deallocated'],
  hibernate: ['deallocated'],
};

/** The power operation os-stop sends: deallocate by default (no compute billing), or power off. */
export const stopOp = (s: Services): VmPowerOp => (s.config.azure.stopDeallocates ? 'deallocate' : 'powerOff');

/** Starts the plan for a server whose record already carries the plan's task_state. */
export async function enqueuePower(s: Services, serverId: string, action: ActionRef, plan: PowerPlan, requestId: string): Promise<void> {
  await startWork(s, { kind: POWER_KIND, id: serverId, step: '0', data: { action: action.rowKey, plan: plan as unknown as Record<string, unknown> }, requestId });
}

const refOf = (item: WorkItem): ActionRef => ({ serverId: item.id, rowKey: String(item.data?.action) });

/** Nova's reverts_task_state + a failed action event: the driver cannot do it, nothing changed. */
async function notSupported(s: Services, item: WorkItem, plan: PowerPlan, why: string): Promise<WorkResult> {
  const cur = await getServerAny(s, item.id);
  if (cur) await updateServer(s, cur, (v) => (v.task_state === plan.task ? { ...v, task_state: null } : undefined));
  await finishAction(s, refOf(item), false, why);
  return done();
}

async function finish(s: Services, item: WorkItem, plan: PowerPlan): Promise<WorkResult> {
  const cur = await getServerAny(s, item.id);
  if (!cur) return done();
  const f = plan.final;
  let applied = false;
  await updateServer(s, cur, (v): ServerRecord | undefined => {
    applied = v.task_state === plan.task;
    if (!applied) return undefined;
    return {
      ...v,
      vm_state: f.vm_state,
      task_state: null,
      power_state: f.power_state,
      host: f.host === 'clear' ? null : f.host === 'set' ? `azure-${s.config.azure.location}` : v.host,
      ...(f.vm_state === 'active' && !v.launched_at ? { launched_at: novaTime() } : {}),
    };
  });
  // Azure's redeploy is complete and cannot be reverted: the migration is confirmed at once (docs/servers.md).
  await setMigrationStatus(s, plan.migration_id, applied ? 'confirmed' : 'error', ['pre-migrating', 'migrating']);
  await finishAction(s, refOf(item), true);
  return done();
}

async function powerStep(item: WorkItem, s: Services): Promise<WorkResult> {
  const plan = item.data?.plan as unknown as PowerPlan | undefined;
  if (!plan) return done();
  const cur = await getServerAny(s, item.id);
  // Deleted, reset by an admin, or taken over by a delete: this action is over.
  if (!cur || cur.value.task_state !== plan.task) {
    await setMigrationStatus(s, plan.migration_id, 'error', ['pre-migrating', 'migrating']);
    await finishAction(s, refOf(item), false, 'The server changed state while the action ran.').catch(() => undefined);
    return done();
  }
  const [idxRaw, sentRaw] = (item.step ?? '0').split(':');
  const idx = Number(idxRaw) || 0;
  if (idx >= plan.ops.length) return finish(s, item, plan);
  const op = plan.ops[idx];
  const vms = s.azure.vms;
  if (sentRaw !== 'sent') {
    let retryAfter: number | undefined;
    try {
      retryAfter = (await vms.power(cur.value.azure.vm, op)).retryAfterSeconds;
    } catch (e) {
      const f = azureFailure(e);
      if (op === 'hibernate' && plan.needsHibernation && f.kind === 'client') {
        return notSupported(
          s,
          item,
          plan,
          `NotImplementedError: the VM was not created with hibernation enabled (the flavor has no azure:hibernation=true), so Azure cannot suspend it. (${f.message})`.slice(0, 255),
        );
      }
      if (f.kind === 'client') log.warn('server power operation refused by Azure', { server: item.id, op, code: f.code, requestId: item.requestId });
      throw e; // the engine retries conflicts, throttling and 5xx; a refusal is given up (ERROR)
    }
    if (idx === 0) await setMigrationStatus(s, plan.migration_id, 'migrating', ['pre-migrating']);
    return again(item, pollDelay(s, retryAfter), { step: `${idx}:sent` });
  }
  const vm = await vms.vm(cur.value.azure.vm);
  if (!vm) refused('ResourceNotFound', 'The virtual machine of this server no longer exists on Azure.');
  if (vm.provisioningState === 'Failed') refused(vm.error?.code ?? 'OperationFailed', vm.error?.message ?? `The Azure ${op} operation failed.`);
  if (BUSY_STATES.includes(vm.provisioningState) || !REACHES[op].includes(vm.powerState ?? '')) return again(item, pollDelay(s));
  // This operation is done: send the next one (or finish) at once.
  const next = { ...item, step: String(idx + 1) };
  const r = await powerStep(next, s);
  return r.status === 'again' && !r.item ? { ...r, item: next } : r;
}

export const powerKind: WorkKind = {
  kind: POWER_KIND,
  run: powerStep,
  deadlineSeconds: 3600,
  async giveUp(item, s, f) {
    const plan = item.data?.plan as unknown as PowerPlan | undefined;
    // Only the action's own task is failed: a record reset or taken over meanwhile is left alone.
    await giveUpServer(s, item, f, (v) => !!plan && v.task_state === plan.task);
    await setMigrationStatus(s, plan?.migration_id, 'error', ['pre-migrating', 'migrating']);
  },
};

/** Nova's state guard for an action (compute/api.py check_instance_state; task_state None unless said). */
export interface StateGuard {
  /** The action's name in Nova's 409 message ('reboot', 'stop', 'shelveOffload', ...). */
  method: string;
  vm: VmState[];
  task?: TaskState[];
  /** Nova's check_instance_lock (most actions). */
  lock?: boolean;
  /** Nova's check_instance_host (stop, start, migrate): no host (shelved offloaded) is 409 InstanceNotReady. */
  host?: boolean;
  /** A check of the found server before the guard (a controller's second policy, e.g. migrate:host). */
  before?: (srv: ServerRecord) => void;
}

/** The guard as Nova runs it: lock first (outer decorator), then vm_state, task_state, launched_at. */
export function guard(ctx: RequestContext, srv: ServerRecord, g: StateGuard): void {
  if (g.lock !== false) checkInstanceLock(srv, ctx.auth!);
  if (g.host && !srv.host) throw conflict(`Instance ${srv.id} is not ready`);
  checkInstanceState(srv, g.method, { vm: g.vm, task: g.task ?? [null] });
  if (!srv.launched_at) throw conflict(`Cannot '${g.method}' instance ${srv.id} while it is in launched_at None`);
}

/**
 * The common shape of a power/lifecycle action: guard, set the task_state (ETag-conditional: a
 * concurrent change re-runs the guard and answers 409 as Nova's expected_task_state does), record the
 * instance action, enqueue the Azure work, answer 202 with no body.
 */
export async function beginPowerAction(ctx: RequestContext, g: StateGuard, action: string, event: string, plan: PowerPlan | ((srv: ServerRecord) => PowerPlan)): Promise<ApiResponse> {
  const s = ctx.services;
  const cur = await visibleServer(ctx);
  g.before?.(cur.value);
  guard(ctx, cur.value, g);
  let p = typeof plan === 'function' ? plan(cur.value) : plan;
  const stored = await updateServer(s, cur, (v) => {
    guard(ctx, v, g);
    return { ...v, task_state: p.task, progress: 0 };
  });
  if (!stored) throw instanceNotFound(cur.value.id);
  const ref = await startAction(s, cur.value, action, ctx.requestId, ctx.auth!.userId, event);
  if (p.migration) {
    // A cold migration keeps the flavor: old and new instance type are the same.
    const m = await createMigration(s, cur.value, 'migration', cur.value.flavor.id, { userId: ctx.auth!.userId, projectId: ctx.auth!.projectId ?? cur.value.project_id });
    p = { ...p, migration_id: m.id };
  }
  await enqueuePower(s, cur.value.id, ref, p, ctx.requestId);
  return accepted();
}

export { POWER };
