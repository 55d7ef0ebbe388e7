// resize, confirmResize, revertResize (nova/api/openstack/compute/servers.py, compute/api.py) on Azure:
// a resize is a PATCH of the VM's hardwareProfile.vmSize (Azure restarts a running VM). Nova keeps the
// old flavor until the resize is confirmed; so does Jacket, in a per-server 'serverresizes' row (Nova's
// migration record): revert PATCHes the old size back, confirm just forgets it (Azure keeps nothing of
// the old size to clean up). Each resize also writes Nova's migration record (migrations/model.ts),
// which outlives the row: GET /os-migrations lists it.
import type { RequestContext } from '../../../http/router';
import type { Services } from '../../../services';
import { accepted, noContent } from '../../../http/respond';
import { badRequest, conflict, forbidden } from '../../../http/errors';
import { getFlavor, visibleTo, vmSizeOf } from '../../flavors/store';
import { checkVmSizeOffered } from '../../flavors/vmSizes';
import { reserveUpsize, rollbackUpsize, tooManyInstancesMessage } from '../../quotas/engine';
import { regionalUsageOf } from '../../quotas/limits';
import { checkInstanceLock, checkInstanceState, visibleServer, type ServerRecord } from '../model';
import { registerServerAction } from './registry';
import { startTask, K2_ACTION } from './taskStart';
import { RESIZE_KIND, RESIZE_RK, completeResizeConfirm, resizeRepo, type ServerFlavor } from '../work/resize';
import { startWork } from '../../../work/ledger';
import { createMigration, setMigrationStatus } from '../../migrations/model';

const resizeSchema = {
  type: 'object',
  properties: {
    resize: {
      type: 'object',
      properties: {
        flavorRef: { type: ['string', 'integer'], minLength: 1 },
        'OS-DCF:diskConfig': { type: 'string', enum: ['AUTO', 'MANUAL'] },
      },
      required: ['flavorRef'],
      additionalProperties: false,
    },
  },
  required: ['resize'],
  additionalProperties: false,
};
// Nova's confirm_resize / revert_resize schemas: the key with any value.
const confirmSchema = { type: 'object', properties: { confirmResize: {} }, required: ['confirmResize'], additionalProperties: false };
const revertSchema = { type: 'object', properties: { revertResize: {} }, required: ['revertResize'], additionalProperties: false };

/**
 * nova/compute/api.py _check_quota_for_upsize: only growth counts; Nova's 403 TooManyInstances. The
 * growth is held in the quota ledger until the resize applies the new flavor (or gives up), so two
 * racing resizes cannot both take the last cores. Returns whether anything was held.
 */
async function reserveGrowth(s: Services, srv: ServerRecord, from: ServerFlavor, to: ServerFlavor): Promise<boolean> {
  const deltas: { cores?: number; ram?: number } = {};
  if (to.vcpus > from.vcpus) deltas.cores = to.vcpus - from.vcpus;
  if (to.ram > from.ram) deltas.ram = to.ram - from.ram;
  if (!deltas.cores && !deltas.ram) return false;
  await reserveUpsize(s, srv, deltas);
  // Azure's regional vCPU quota, in the same words (Azure would refuse the PATCH otherwise).
  const q = deltas.cores ? (await regionalUsageOf(s).read())?.cores : undefined;
  if (q && deltas.cores && q.current + deltas.cores > q.limit) {
    await rollbackUpsize(s, srv);
    throw forbidden(tooManyInstancesMessage(['cores'], [String(deltas.cores)], [String(q.current)], [String(q.limit)]));
  }
  return true;
}

async function resize(ctx: RequestContext, args: unknown) {
  const body = args as { flavorRef: string | number; 'OS-DCF:diskConfig'?: 'AUTO' | 'MANUAL' };
  const s = ctx.services;
  const cur = await visibleServer(ctx);
  const srv = cur.value;
  // The decorators run first in Nova: lock, then state.
  checkInstanceLock(srv, ctx.auth!);
  checkInstanceState(srv, 'resize', { vm: ['active', 'stopped'], task: [null] });
  const ref = String(body.flavorRef);
  const f = await getFlavor(s, ref);
  if (!f || !visibleTo(f.value, ctx.auth) || f.value.disabled) throw badRequest(`Flavor ${ref} could not be found.`);
  if (f.value.flavorid === srv.flavor.id) throw badRequest('When resizing, instances must change flavor!');
  const size = vmSizeOf(f.value);
  if (!size) throw badRequest(`Flavor ${ref} has no azure:vm_size extra spec and cannot run a server on Azure.`);
  await checkVmSizeOffered(s, size);
  if (f.value.root_gb === 0 && srv.flavor.disk !== 0) throw badRequest('Server disk was unable to be resized because: Resize to zero disk flavor is not allowed.');
  const to: ServerFlavor = {
    id: f.value.flavorid,
    name: f.value.name,
    vcpus: f.value.vcpus,
    ram: f.value.memory_mb,
    disk: f.value.root_gb,
    ephemeral: f.value.ephemeral_gb,
    swap: f.value.swap,
    vm_size: size,
    extra_specs: { ...f.value.extra_specs },
  };
  const held = await reserveGrowth(s, srv, srv.flavor, to);
  let started: Awaited<ReturnType<typeof startTask>>;
  try {
    started = await startTask(ctx, cur, {
      method: 'resize',
      vm: ['active', 'stopped'],
      lock: true,
      set: (v) => ({ ...v, task_state: 'resize_prep', progress: 0, ...(body['OS-DCF:diskConfig'] ? { disk_config: body['OS-DCF:diskConfig'] } : {}) }),
      action: K2_ACTION.RESIZE,
      event: 'compute_resize_instance',
    });
  } catch (e) {
    if (held) await rollbackUpsize(s, srv);
    throw e;
  }
  const { server, action } = started;
  // Nova's conductor writes the migration record before the compute host sees the resize.
  const migration = await createMigration(s, srv, 'resize', to.id, { userId: ctx.auth!.userId, projectId: ctx.auth!.projectId ?? srv.project_id });
  await resizeRepo(s).upsert(server.id, RESIZE_RK, { old_flavor: srv.flavor, new_flavor: to, old_vm_state: srv.vm_state, status: 'pre-migrating', quota_held: held, migration_id: migration.id });
  await startWork(s, { kind: RESIZE_KIND, id: server.id, data: { action: action.rowKey, direction: 'resize' }, requestId: ctx.requestId });
  return accepted();
}

async function confirmResize(ctx: RequestContext) {
  const s = ctx.services;
  const cur = await visibleServer(ctx);
  checkInstanceLock(cur.value, ctx.auth!);
  checkInstanceState(cur.value, 'confirmResize', { vm: ['resized'], task: [null] });
  const row = await resizeRepo(s).get(cur.value.id, RESIZE_RK);
  if (!row || row.value.status !== 'finished') throw badRequest('Instance has not been resized.');
  if (!(await completeResizeConfirm(s, cur, row, ctx.requestId, ctx.auth!.userId))) {
    throw conflict(`Cannot 'confirmResize' instance ${cur.value.id} while it is in task_state ${(await visibleServer(ctx)).value.task_state}`);
  }
  return noContent();
}

async function revertResize(ctx: RequestContext) {
  const s = ctx.services;
  const cur = await visibleServer(ctx);
  checkInstanceLock(cur.value, ctx.auth!);
  checkInstanceState(cur.value, 'revertResize', { vm: ['resized'], task: [null] });
  const row = await resizeRepo(s).get(cur.value.id, RESIZE_RK);
  if (!row || row.value.status !== 'finished') throw badRequest('Instance has not been resized.');
  // Going back to a bigger flavor needs the room again (Nova checks the revert as an upsize).
  const held = await reserveGrowth(s, cur.value, cur.value.flavor, row.value.old_flavor);
  let started: Awaited<ReturnType<typeof startTask>>;
  try {
    started = await startTask(ctx, cur, {
      method: 'revertResize',
      vm: ['resized'],
      lock: true,
      set: (v) => ({ ...v, task_state: 'resize_reverting' }),
      action: K2_ACTION.REVERT_RESIZE,
      event: 'compute_revert_resize',
    });
  } catch (e) {
    if (held) await rollbackUpsize(s, cur.value);
    throw e;
  }
  const { server, action } = started;
  await resizeRepo(s).replace(server.id, RESIZE_RK, { ...row.value, status: 'reverting', quota_held: held }, row.etag);
  await setMigrationStatus(s, row.value.migration_id, 'reverting');
  await startWork(s, { kind: RESIZE_KIND, id: server.id, data: { action: action.rowKey, direction: 'revert' }, requestId: ctx.requestId });
  return accepted();
}

registerServerAction({ name: 'resize', policy: 'os_compute_api:servers:resize', schema: resizeSchema, handler: resize });
registerServerAction({ name: 'confirmResize', policy: 'os_compute_api:servers:confirm_resize', schema: confirmSchema, handler: confirmResize });
registerServerAction({ name: 'revertResize', policy: 'os_compute_api:servers:revert_resize', schema: revertSchema, handler: revertResize });
