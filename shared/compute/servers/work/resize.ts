// The resize work step (server-resize): PATCH the VM's size once, then poll until Azure reports the
// VM on the target size and Succeeded. A resize ends in VERIFY_RESIZE (vm_state resized, the new flavor
// shown), a revert back in the old vm_state with the old flavor. Azure refusing the PATCH (quota, SKU)
// leaves the VM as it was: the server returns to its state with the action's event in Error, as Nova's
// prep_resize failures do (a refused revert: back to VERIFY_RESIZE, the resize still confirmable); a PATCH that fails on Azure ends the server in ERROR with Azure's message.
import type { Services } from '../../../services';
import type { WorkItem, WorkKind, WorkResult } from '../../../work/types';
import { again, done } from '../../../work/types';
import { pollDelay } from '../../../work/pace';
import { azureFailure } from '../../../azure/errors';
import { BUSY_STATES } from '../../../azure/vms';
import { log } from '../../../log';
import { getServerAny, updateServer, POWER, type ServerRecord, type VmState } from '../model';
import { actionRef as ref, failServer, faultOf, refused } from './common';
import { finishAction, startAction } from '../instanceActions';
import type { Stored } from '../../../store/tables';
import { K2_ACTION } from '../actions/taskStart';
import { rollbackUpsize, settleFlavorChange } from '../../quotas/engine';
import { IN_PROGRESS, setMigrationStatus } from '../../migrations/model';

export const RESIZE_KIND = 'server-resize';

export type ServerFlavor = ServerRecord['flavor'];

/** Nova's migration record, reduced to what a revert needs. PK = server id, RK = 'resize'. */
export interface ResizeRecord {
  old_flavor: ServerFlavor;
  new_flavor: ServerFlavor;
  /** active or stopped: where confirm and revert return to. */
  old_vm_state: VmState;
  /** Nova's migration status: pre-migrating, finished, reverting. */
  status: 'pre-migrating' | 'finished' | 'reverting';
  /** Whether the resize's growth is held in the quota ledger (quotas/engine.ts resizeKey). */
  quota_held?: boolean;
  /** The resize's record in the migrations table (absent on rows written before it was kept). */
  migration_id?: number;
}
export const resizeRepo = (s: Services) => s.tables.repository<ResizeRecord>('serverresizes');
export const RESIZE_RK = 'resize';

/**
 * Confirming a resize, for the confirmResize action and the resize_confirm_window timer alike: Azure
 * runs the new size already, so it only ends the RESIZED state and drops the migration row. Records
 * the instance action; returns false (and changes nothing) if the server left VERIFY_RESIZE meanwhile.
 */
export async function completeResizeConfirm(s: Services, cur: Stored<ServerRecord>, row: Stored<ResizeRecord>, requestId: string, userId: string): Promise<boolean> {
  const action = await startAction(s, cur.value, K2_ACTION.CONFIRM_RESIZE, requestId, userId, 'compute_confirm_resize');
  let applied = false;
  await updateServer(s, cur, (v) => {
    if (v.vm_state !== 'resized' || v.task_state !== null) return undefined;
    applied = true;
    return { ...v, vm_state: row.value.old_vm_state };
  });
  if (applied) {
    await setMigrationStatus(s, row.value.migration_id, 'confirmed');
    await resizeRepo(s)
      .delete(cur.value.id, RESIZE_RK, row.etag)
      .catch(() => undefined);
  }
  await finishAction(s, action, applied, applied ? undefined : 'The server changed state before the resize was confirmed.');
  return applied;
}

const flavorFields = (f: ServerFlavor) => ({ flavor: f, flavor_id: f.id, vcpus: f.vcpus, memory_mb: f.ram });

async function resizeStep(item: WorkItem, s: Services): Promise<WorkResult> {
  const revert = item.data?.direction === 'revert';
  const expected = revert ? ['resize_reverting'] : ['resize_prep', 'resize_migrating'];
  const cur = await getServerAny(s, item.id);
  const row = await resizeRepo(s).get(item.id, RESIZE_RK);
  if (!cur || !expected.includes(cur.value.task_state ?? '')) {
    // Deleted or reset meanwhile: a move still under way ends 'error' (a finished one is left as it is).
    await setMigrationStatus(s, row?.value.migration_id, 'error', IN_PROGRESS);
    return done();
  }
  if (!row) return done();
  const target = revert ? row.value.old_flavor : row.value.new_flavor;
  const vms = s.azure.vms;
  // The size Azure runs decides whether the PATCH is still to send: this step needs Azure's view.
  const vm = await vms.vm(cur.value.azure.vm);
  if (!vm) refused('ResourceNotFound', 'The virtual machine is missing on Azure.');
  if (BUSY_STATES.includes(vm.provisioningState)) return again(item, pollDelay(s));
  if (vm.provisioningState === 'Failed') {
    log.warn('server resize failed on Azure', { server: item.id, code: vm.error?.code, requestId: item.requestId });
    refused(vm.error?.code ?? 'ProvisioningFailed', vm.error?.message ?? 'The virtual machine resize failed on Azure.');
  }
  if (vm.vmSize.toLowerCase() !== target.vm_size.toLowerCase()) {
    let retryAfter: number | undefined;
    try {
      retryAfter = (await vms.resize(cur.value.azure.vm, target.vm_size)).retryAfterSeconds;
    } catch (e) {
      const f = azureFailure(e);
      if (f.kind !== 'client') throw e; // the engine retries
      // Refused outright: nothing changed on Azure; back to where the server was (Nova's rollback).
      log.warn('server resize refused by Azure', { server: item.id, code: f.code, requestId: item.requestId });
      await updateServer(s, cur, (v) => (expected.includes(v.task_state ?? '') ? { ...v, task_state: null, fault: faultOf(f) } : undefined));
      if (row.value.quota_held) await rollbackUpsize(s, cur.value);
      if (revert) {
        // A refused revert leaves the VM on the new size and the server in VERIFY_RESIZE: the resize is
        // 'finished' again, so confirm (or another revert) still finds it, as Nova's confirm and revert
        // look the migration up by that status. (Nova would put the server in ERROR; Azure changed
        // nothing, so Jacket keeps it usable.) The revert's hold was given back above.
        await resizeRepo(s).update(item.id, RESIZE_RK, (v) => (v.status === 'reverting' ? { ...v, status: 'finished', quota_held: false } : undefined));
        await setMigrationStatus(s, row.value.migration_id, 'finished', ['reverting']);
      } else {
        // Nova's errors_out_migration: the record ends 'error' whichever way the move failed.
        await setMigrationStatus(s, row.value.migration_id, 'error');
        await resizeRepo(s).delete(item.id, RESIZE_RK);
      }
      const a = ref(item);
      if (a) await finishAction(s, a, false, `Azure error ${f.code}`, f.message);
      return done();
    }
    if (!revert) {
      await updateServer(s, cur, (v) => (v.task_state === 'resize_prep' ? { ...v, task_state: 'resize_migrating' } : undefined));
      // resize_instance: the move is under way.
      await setMigrationStatus(s, row.value.migration_id, 'migrating', ['pre-migrating']);
    }
    return again(item, pollDelay(s, retryAfter));
  }
  // On the target size and Succeeded: finish_resize runs 'post-migrating' until the server is updated.
  if (!revert) await setMigrationStatus(s, row.value.migration_id, 'post-migrating', ['pre-migrating', 'migrating']);
  const running = vm.powerState === 'running' || vm.powerState === 'starting';
  const finished = await updateServer(s, cur, (v) =>
    !expected.includes(v.task_state ?? '')
      ? undefined
      : {
          ...v,
          ...flavorFields(target),
          vm_state: revert ? row.value.old_vm_state : 'resized',
          task_state: null,
          progress: 100,
          power_state: running ? POWER.RUNNING : POWER.SHUTDOWN,
        },
  );
  // The record holds the target flavor now: the quota follows (held growth committed, shrink given back).
  if (finished) await settleFlavorChange(s, cur.value, { vcpus: cur.value.vcpus, ram: cur.value.memory_mb }, target, !!row.value.quota_held);
  if (revert) await resizeRepo(s).delete(item.id, RESIZE_RK);
  else await resizeRepo(s).replace(item.id, RESIZE_RK, { ...row.value, status: 'finished' }, row.etag);
  if (finished) await setMigrationStatus(s, row.value.migration_id, revert ? 'reverted' : 'finished');
  const a = ref(item);
  if (a) await finishAction(s, a, !!finished);
  return done();
}

export const resizeKind: WorkKind = {
  kind: RESIZE_KIND,
  run: resizeStep,
  deadlineSeconds: 3600,
  giveUp: async (item, s, f) => {
    // A resize that ends in ERROR never applied its flavor: its held growth goes back (a growth
    // already committed is no longer held, so this gives back nothing then).
    const row = await resizeRepo(s).get(item.id, RESIZE_RK);
    await setMigrationStatus(s, row?.value.migration_id, 'error');
    const cur = row?.value.quota_held ? await getServerAny(s, item.id) : undefined;
    if (cur) await rollbackUpsize(s, cur.value);
    return failServer(s, item.id, ref(item), f);
  },
};
