// Lifecycle actions at 2.1, each with Nova's policy, state guard and instance action:
//   suspend / resume        Azure hibernation (deallocate hibernate=true) / start. A VM made without
//                           hibernation (flavor without azure:hibernation=true) cannot hibernate: as
//                           Nova with a driver lacking suspend, 202, the action's event ends Error and
//                           the server stays ACTIVE (the check runs in the work step, like the compute
//                           manager's).
//   shelve                  deallocate: with Nova's default shelved_offload_time=0 a shelved server is
//                           offloaded at once (SHELVED_OFFLOADED, no host); the OS disk is kept, so no
//                           '<name>-shelved' snapshot image is made. shelveOffload (admin) from SHELVED.
//   unshelve                start (the VM keeps its disk and NICs).
//   migrate                 Azure redeploy (a cold move to another Azure host). Azure's move is done and
//                           cannot be reverted, so the server returns to ACTIVE (or SHUTOFF) rather than
//                           VERIFY_RESIZE: nothing is left to confirm or revert (docs/servers.md). Its
//                           migration record (type 'migration') goes to 'confirmed' when Azure is done.
//                           2.56's `host` (admin: migrate:host) names a compute host: Jacket's one host
//                           is the server's own, so it is Nova's 400 for the same host or an unknown one.
//   os-resetState (admin)   vm_state active|error, task_state None; an action without events.
//   lock / unlock           instance.locked, locked_by owner|admin, enforced by checkInstanceLock.
import { registerServerAction } from './registry';
import { beginPowerAction, stopOp, POWER, type PowerPlan } from '../work/power';
import { ACTION, finishAction, startAction } from '../instanceActions';
import { checkInstanceLock, checkInstanceState, updateServer, visibleServer, type VmState } from '../model';
import { availabilityZones, zoneByName } from '../../zones/api';
import { accepted } from '../../../http/respond';
import { authorize } from '../../../api/policy';
import { badRequest, conflict } from '../../../http/errors';
import { computeHost } from '../../../servicegroup/registry';

const emptyActionSchema = (name: string) => ({ type: 'object', properties: { [name]: {} }, required: [name], additionalProperties: false });
// migrate_server.migrate applies from 2.56 only: at 2.1 the body's value is not validated.
const anyValueSchema = (name: string) => ({ type: 'object', required: [name] });
const resetStateSchema = {
  type: 'object',
  properties: {
    'os-resetState': {
      type: 'object',
      properties: { state: { type: 'string', enum: ['active', 'error'] } },
      required: ['state'],
      additionalProperties: false,
    },
  },
  required: ['os-resetState'],
  additionalProperties: false,
};

registerServerAction({
  name: 'suspend',
  policy: 'os_compute_api:os-suspend-server:suspend',
  schema: emptyActionSchema('suspend'),
  handler: (ctx) =>
    beginPowerAction(ctx, { method: 'suspend', vm: ['active'] }, ACTION.SUSPEND, 'compute_suspend_instance', {
      ops: ['hibernate'],
      task: 'suspending',
      final: { vm_state: 'suspended', power_state: POWER.SUSPENDED },
      needsHibernation: true,
    }),
});

registerServerAction({
  name: 'resume',
  policy: 'os_compute_api:os-suspend-server:resume',
  schema: emptyActionSchema('resume'),
  handler: (ctx) =>
    beginPowerAction(ctx, { method: 'resume', vm: ['suspended'] }, ACTION.RESUME, 'compute_resume_instance', {
      ops: ['start'],
      task: 'resuming',
      final: { vm_state: 'active', power_state: POWER.RUNNING },
    }),
});

const SHELVABLE: VmState[] = ['active', 'stopped', 'paused', 'suspended'];

registerServerAction({
  name: 'shelve',
  policy: 'os_compute_api:os-shelve:shelve',
  schema: emptyActionSchema('shelve'),
  handler: (ctx) =>
    beginPowerAction(ctx, { method: 'shelve', vm: SHELVABLE }, ACTION.SHELVE, 'compute_shelve_instance', {
      ops: ['deallocate'],
      task: 'shelving',
      final: { vm_state: 'shelved_offloaded', power_state: POWER.SHUTDOWN, host: 'clear' },
    }),
});

registerServerAction({
  name: 'shelveOffload',
  policy: 'os_compute_api:os-shelve:shelve_offload',
  schema: emptyActionSchema('shelveOffload'),
  handler: (ctx) =>
    beginPowerAction(ctx, { method: 'shelveOffload', vm: ['shelved'] }, ACTION.SHELVE_OFFLOAD, 'compute_shelve_offload_instance', {
      ops: ['deallocate'],
      task: 'shelving_offloading',
      final: { vm_state: 'shelved_offloaded', power_state: POWER.SHUTDOWN, host: 'clear' },
    }),
});

/** unshelve_v277: `unshelve` null or {"availability_zone": name} (an empty object is refused). */
const unshelveV277 = {
  type: 'object',
  properties: {
    unshelve: {
      type: ['object', 'null'],
      properties: { availability_zone: { type: 'string', format: 'name', minLength: 1, maxLength: 255 } },
      required: ['availability_zone'],
      additionalProperties: false,
    },
  },
  required: ['unshelve'],
  additionalProperties: false,
};

/**
 * unshelve_v291: `unshelve` null or an object with `availability_zone` (a string, or null to unpin the
 * server from its zone) and/or `host` (a compute host, admins only); an empty object is admitted by
 * Nova's schema and unshelves as null does.
 */
const unshelveV291 = {
  type: 'object',
  properties: {
    unshelve: {
      type: ['object', 'null'],
      properties: { availability_zone: { type: ['string', 'null'] }, host: { type: 'string' } },
      additionalProperties: false,
    },
  },
  required: ['unshelve'],
  additionalProperties: false,
};

const UNSHELVE_PLAN: PowerPlan = { ops: ['start'], task: 'unshelving', final: { vm_state: 'active', power_state: POWER.RUNNING, host: 'set' } };

registerServerAction({
  name: 'unshelve',
  policy: 'os_compute_api:os-shelve:unshelve',
  // shelve.unshelve at 2.1: {"unshelve": null} (any value, not read); 2.77 may name the zone; 2.91 a
  // host, and a null zone (unpin).
  schema: [
    ['2.1', emptyActionSchema('unshelve')],
    ['2.77', unshelveV277],
    ['2.91', unshelveV291],
  ],
  handler: async (ctx, args) => {
    const body = (ctx.microversion?.atLeast('2.77') ? args : null) as { availability_zone?: string | null; host?: string } | null;
    // Nova's new_az sentinel: not given keeps the pin; null (2.91) removes it.
    const azPassed = body !== null && 'availability_zone' in body;
    const newAz = body?.availability_zone ?? null;
    const host = ctx.microversion?.atLeast('2.91') ? body?.host : undefined;
    if (!azPassed && !host) return beginPowerAction(ctx, { method: 'unshelve', vm: ['shelved', 'shelved_offloaded'] }, ACTION.UNSHELVE, 'compute_unshelve_instance', UNSHELVE_PLAN);
    // compute/api.py unshelve with new_az or host: lock and state as always, then only a
    // SHELVED_OFFLOADED server (409 UnshelveInstanceInvalidState), then a zone that exists (400).
    const cfg = ctx.services.config;
    const cur = await visibleServer(ctx);
    checkInstanceLock(cur.value, ctx.auth!);
    checkInstanceState(cur.value, 'unshelve', { vm: ['shelved', 'shelved_offloaded'] });
    if (cur.value.vm_state !== 'shelved_offloaded') {
      throw conflict(
        `Specifying an availability zone or a host when unshelving server "${cur.value.id}" with status "${cur.value.vm_state}" is not supported. The server status must be SHELVED_OFFLOADED.`,
      );
    }
    if (azPassed && newAz && !zoneByName(cfg, newAz)) throw badRequest('The requested availability zone is not available');
    // The zone the server is pinned to after the unshelve (Nova's request_spec.availability_zone).
    const expectedAz = azPassed ? newAz : (cur.value.pinned_availability_zone ?? null);
    if (host) {
      authorize(ctx, 'os_compute_api:os-shelve:unshelve_to_host', { projectId: cur.value.project_id, userId: cur.value.user_id });
      if (host !== computeHost(cfg)) throw badRequest(`Compute host ${host} could not be found.`);
      // _ensure_host_in_az: the host's zone as get_host_availability_zone words it, its zones joined by
      // commas (Jacket's one host serves every zone), must be the pinned one.
      const hostAz = availabilityZones(cfg)
        .map((z) => z.name)
        .join(',');
      if (expectedAz !== null && hostAz !== expectedAz) throw conflict(`Host "${host}" is not in the availability zone "${expectedAz}".`);
    }
    // Nova saves the request spec's zone before scheduling: it stays even when no host is found.
    if (azPassed) await updateServer(ctx.services, cur, (v) => ({ ...v, pinned_availability_zone: newAz }));
    if (!expectedAz || expectedAz === cur.value.availability_zone) {
      return beginPowerAction(ctx, { method: 'unshelve', vm: ['shelved_offloaded'] }, ACTION.UNSHELVE, 'compute_unshelve_instance', UNSHELVE_PLAN);
    }
    // Another zone: an Azure VM's zone is fixed when it is made and its disks are zonal, so no host can
    // take it there. As Nova when the scheduler finds none (the conductor's unshelve_instance), the
    // request is accepted, its action ends in Error with NoValidHost and the server stays SHELVED_OFFLOADED.
    const ref = await startAction(ctx.services, cur.value, ACTION.UNSHELVE, ctx.requestId, ctx.auth!.userId, 'compute_unshelve_instance');
    await finishAction(
      ctx.services,
      ref,
      false,
      `NoValidHost: No valid host was found. The server's disks are in availability zone ${cur.value.availability_zone}; Azure cannot move them to ${expectedAz}.`,
    );
    return accepted();
  },
});

/** migrate_server.migrate (2.56): an optional target `host`; below 2.56 the body is not read. */
const migrateSchemaV256 = {
  type: 'object',
  properties: {
    migrate: {
      type: ['object', 'null'],
      properties: { host: { type: ['string', 'null'], minLength: 1, maxLength: 255, pattern: '^[a-zA-Z0-9-._]*$' } },
      additionalProperties: false,
    },
  },
  required: ['migrate'],
  additionalProperties: false,
};

registerServerAction({
  name: 'migrate',
  policy: 'os_compute_api:os-migrate-server:migrate',
  schema: [
    ['2.1', anyValueSchema('migrate')],
    ['2.56', migrateSchemaV256],
  ],
  handler: (ctx, args) => {
    const host = ctx.microversion?.atLeast('2.56') ? ((args as { host?: string | null } | null)?.host ?? undefined) : undefined;
    const guard = {
      method: 'migrate',
      vm: ['active', 'stopped'] as VmState[],
      host: true,
      // Nova checks migrate:host once the server is found, before resize's lock and state checks.
      before: (srv: { project_id: string }) => (host ? authorize(ctx, 'os_compute_api:os-migrate-server:migrate:host', { projectId: srv.project_id }) : undefined),
    };
    return beginPowerAction(ctx, guard, ACTION.MIGRATE, 'compute_resize_instance', (srv) => {
      // _validate_host_for_cold_migrate: the server's own host, then a compute node by that name (only one exists).
      if (host !== undefined && host === srv.host) throw badRequest('Cannot migrate to the host where the server exists.');
      if (host !== undefined) throw badRequest(`Compute host ${host} could not be found.`);
      return srv.vm_state === 'stopped'
        ? // Azure's redeploy boots the VM on its new host: a stopped server is stopped again.
          { ops: ['redeploy', stopOp(ctx.services)], task: 'resize_migrating', final: { vm_state: 'stopped', power_state: POWER.SHUTDOWN }, migration: true }
        : { ops: ['redeploy'], task: 'resize_migrating', final: { vm_state: 'active', power_state: POWER.RUNNING }, migration: true };
    });
  },
});

registerServerAction({
  name: 'os-resetState',
  policy: 'os_compute_api:os-admin-actions:reset_state',
  schema: resetStateSchema,
  handler: async (ctx, args) => {
    const s = ctx.services;
    const state = (args as { state: 'active' | 'error' }).state;
    const cur = await visibleServer(ctx);
    const ref = await startAction(s, cur.value, ACTION.RESET_STATE, ctx.requestId, ctx.auth!.userId, null);
    // No lock or state check (an admin's repair tool); a running work step sees its task_state gone.
    await updateServer(s, cur, (v) => ({ ...v, vm_state: state, task_state: null }));
    await finishAction(s, ref, true);
    return accepted();
  },
});

/** lock_v273: `lock` null or an object with only `locked_reason` (1-255 characters). */
const lockV273 = {
  type: 'object',
  properties: { lock: { type: ['object', 'null'], properties: { locked_reason: { type: 'string', minLength: 1, maxLength: 255 } }, additionalProperties: false } },
  required: ['lock'],
  additionalProperties: false,
};

registerServerAction({
  name: 'lock',
  policy: 'os_compute_api:os-lock-server:lock',
  // Below 2.73 `lock` may be anything and is not read; from 2.73 it may carry the reason.
  schema: [
    ['2.1', emptyActionSchema('lock')],
    ['2.73', lockV273],
  ],
  handler: async (ctx, args) => {
    const s = ctx.services;
    const cur = await visibleServer(ctx);
    const isOwner = cur.value.project_id === ctx.auth!.projectId;
    const reason = ctx.microversion?.atLeast('2.73') ? (args as { locked_reason?: string } | null)?.locked_reason : undefined;
    // compute/api.py lock: the owner re-locking changes nothing (an admin may take the lock over).
    if (cur.value.locked && isOwner) return accepted();
    const ref = await startAction(s, cur.value, ACTION.LOCK, ctx.requestId, ctx.auth!.userId, 'api_lock');
    // The reason is kept as Nova keeps it in system_metadata: a lock without one leaves an earlier one.
    await updateServer(s, cur, (v) => ({ ...v, locked: true, locked_by: isOwner ? 'owner' : 'admin', ...(reason ? { locked_reason: reason } : {}) }));
    await finishAction(s, ref, true);
    return accepted();
  },
});

registerServerAction({
  name: 'unlock',
  policy: 'os_compute_api:os-lock-server:unlock',
  // Nova's unlock schema ends at 2.72 (schema.unlock, "2.1", "2.72"): from 2.73 the body is not checked.
  schema: [
    ['2.1', emptyActionSchema('unlock')],
    ['2.73', {}],
  ],
  handler: async (ctx) => {
    const s = ctx.services;
    const cur = await visibleServer(ctx);
    const expected = cur.value.project_id === ctx.auth!.projectId ? 'owner' : 'admin';
    // A lock taken by the other side (an admin's lock, for the owner) needs the override policy.
    if (cur.value.locked_by && cur.value.locked_by !== expected) {
      authorize(ctx, 'os_compute_api:os-lock-server:unlock:unlock_override');
    }
    const ref = await startAction(s, cur.value, ACTION.UNLOCK, ctx.requestId, ctx.auth!.userId, 'api_unlock');
    await updateServer(s, cur, (v) => ({ ...v, locked: false, locked_by: null, locked_reason: null }));
    await finishAction(s, ref, true);
    return accepted();
  },
});
