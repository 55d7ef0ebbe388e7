// Nova's deferred delete (os-deferred-delete, compute/api.py soft_delete / restore / force_delete) on
// Azure. With reclaim_instance_interval > 0, DELETE soft-deletes (delete.ts calls softDelete): the VM
// is deallocated (no compute billing, disks and NICs kept), the server is SOFT_DELETED until
//   restore      starts the VM again -> ACTIVE (the power work step, like os-start);
//   forceDelete  deletes it at once (the ordinary delete; Nova allows it in any state);
//   the timer    reclaims it after the interval (shared/timers/reclaim.ts).
// A soft-deleted server keeps counting against the project's quota until it is reclaimed (Jacket's
// usage counts every record), so restore has no quota check to fail; see docs/reconciliation.md.
import type { RequestContext } from '../../../http/router';
import { accepted } from '../../../http/respond';
import { checkInstanceLock, visibleServer, POWER } from '../model';

import { hardDelete } from '../service/delete';
import { registerServerAction } from './registry';
import { beginPowerAction } from '../work/power';

/** Nova's instance action names these add (nova/compute/instance_actions.py). */
export const DEFERRED_ACTION = { RESTORE: 'restore', FORCE_DELETE: 'forceDelete' } as const;

// Nova's deferred_delete schemas: the key with any value.
const restoreSchema = { type: 'object', properties: { restore: {} }, required: ['restore'], additionalProperties: false };
const forceDeleteSchema = { type: 'object', properties: { forceDelete: {} }, required: ['forceDelete'], additionalProperties: false };

/** restore: SOFT_DELETED only, lock checked, then the VM is started (RESTORING -> ACTIVE). */
async function restore(ctx: RequestContext) {
  return beginPowerAction(ctx, { method: 'restore', vm: ['soft-delete'] }, DEFERRED_ACTION.RESTORE, 'compute_restore_instance', {
    ops: ['start'],
    task: 'restoring',
    final: { vm_state: 'active', power_state: POWER.RUNNING, host: 'set' },
  });
}

/** forceDelete: the delete, in any state (a locked server is Nova's 409 for non-admins). */
async function forceDelete(ctx: RequestContext) {
  const cur = await visibleServer(ctx);
  checkInstanceLock(cur.value, ctx.auth!);
  await hardDelete(ctx, cur);
  return accepted();
}

registerServerAction({ name: 'restore', policy: 'os_compute_api:os-deferred-delete:restore', schema: restoreSchema, handler: restore });
registerServerAction({ name: 'forceDelete', policy: 'os_compute_api:os-deferred-delete:force', schema: forceDeleteSchema, handler: forceDelete });
