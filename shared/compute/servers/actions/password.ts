// changePassword (nova/api/openstack/compute/admin_password.py; compute/api.py set_admin_password) on
// Azure: the VMAccess extension resets the admin account's password in the guest — Linux
// Microsoft.OSTCExtensions/VMAccessForLinux 1.5 (protected settings username + password), Windows
// Microsoft.Compute/VMAccessAgent 2.4 (public UserName, protected Password) — azure-facts.md.
// The password goes to Azure in the extension PUT sent from this request, and nowhere else (protected
// settings are never returned by Azure). What can be refused is refused first, in Nova's 409
// InstancePasswordSetFailed words: a password Azure would refuse, or a VM whose agent is not Ready
// (extensions need it; images built without the agent never get there).
import type { RequestContext } from '../../../http/router';
import type { Services } from '../../../services';
import { accepted } from '../../../http/respond';
import { conflict } from '../../../http/errors';
import { log } from '../../../log';
import type { WorkItem, WorkKind, WorkResult } from '../../../work/types';
import { again, done } from '../../../work/types';
import { pollDelay } from '../../../work/pace';
import { startWork } from '../../../work/ledger';
import { azureFailure } from '../../../azure/errors';
import { vmAccessExtension, VMACCESS_NAME } from '../../../azure/vms';
import { checkInstanceLock, checkInstanceState, getServerAny, updateServer, visibleServer, type ServerRecord } from '../model';
import { finishAction, type ActionRef } from '../instanceActions';
import { passwordProblem } from '../passwords';
import { registerServerAction } from './registry';
import { startTask, K2_ACTION } from './taskStart';

export const PASSWORD_KIND = 'server-password';

const changePasswordSchema = {
  type: 'object',
  properties: {
    changePassword: { type: 'object', properties: { adminPass: { type: 'string' } }, required: ['adminPass'], additionalProperties: false },
  },
  required: ['changePassword'],
  additionalProperties: false,
};

const setFailed = (id: string, reason: string) => conflict(`Failed to set admin password on ${id} because ${reason}`);

/** Checks that the guest can take a password now: Azure's rules for it, and a Ready VM agent. */
export async function checkPasswordSettable(s: Services, srv: ServerRecord, password: string): Promise<void> {
  const problem = passwordProblem(password, srv.os_type);
  if (problem) throw setFailed(srv.id, `the password ${problem}`);
  const vm = await s.azure.vms.vm(srv.azure.vm);
  if (!vm) throw setFailed(srv.id, 'the virtual machine is missing on Azure');
  if (!vm.agentReady) throw setFailed(srv.id, `the Azure VM agent is not ready (${vm.agentStatus ?? `power state ${vm.powerState ?? 'unknown'}`})`);
}

async function changePassword(ctx: RequestContext, args: unknown) {
  const password = (args as { adminPass: string }).adminPass;
  const s = ctx.services;
  const cur = await visibleServer(ctx);
  checkInstanceLock(cur.value, ctx.auth!);
  checkInstanceState(cur.value, 'changePassword', { vm: ['active'], task: [null] });
  await checkPasswordSettable(s, cur.value, password);
  const { server, action } = await startTask(ctx, cur, {
    method: 'changePassword',
    vm: ['active'],
    lock: true,
    set: (v) => ({ ...v, task_state: 'updating_password' }),
    action: K2_ACTION.CHANGE_PASSWORD,
    event: 'compute_set_admin_password',
  });
  let retryAfter: number | undefined;
  try {
    retryAfter = (await s.azure.vms.putExtension(server.azure.vm, vmAccessExtension(s.config.azure.location, server.os_type, server.azure.admin_username, { password }, ctx.requestId)))
      .retryAfterSeconds;
  } catch (e) {
    const f = azureFailure(e);
    log.warn('password extension refused by Azure', { server: server.id, code: f.code, requestId: ctx.requestId });
    await endPassword(s, { serverId: server.id, rowKey: action.rowKey }, false, `Azure error ${f.code}`);
    throw setFailed(server.id, `Azure refused it: ${f.message}`);
  }
  await startWork(s, { kind: PASSWORD_KIND, id: server.id, data: { action: action.rowKey }, requestId: ctx.requestId }, pollDelay(s, retryAfter));
  return accepted();
}

async function endPassword(s: Services, a: ActionRef, ok: boolean, traceback?: string): Promise<void> {
  const cur = await getServerAny(s, a.serverId);
  if (cur) await updateServer(s, cur, (v) => (v.task_state === 'updating_password' ? { ...v, task_state: null } : undefined));
  await finishAction(s, a, ok, traceback);
}

/** Polls the extension until Azure says Succeeded or Failed (a refused password ends Failed). */
async function passwordStep(item: WorkItem, s: Services): Promise<WorkResult> {
  const cur = await getServerAny(s, item.id);
  if (!cur || cur.value.task_state !== 'updating_password') return done();
  const a = passwordAction(item);
  const ext = await s.azure.vms.extension(cur.value.azure.vm, VMACCESS_NAME);
  if (!ext) {
    if ((item.polls ?? 0) < 30) return again(item, pollDelay(s));
    await endPassword(s, a, false, 'The VMAccess extension did not reach Azure.');
    return done();
  }
  if (ext.provisioningState === 'Succeeded') {
    await endPassword(s, a, true);
    return done();
  }
  if (ext.provisioningState === 'Failed' || ext.provisioningState === 'Canceled') {
    log.warn('password extension failed on Azure', { server: item.id, requestId: item.requestId });
    await endPassword(s, a, false, (ext.message ?? 'VMAccess failed').slice(0, 255));
    return done();
  }
  return again(item, pollDelay(s));
}

const passwordAction = (item: WorkItem): ActionRef => ({ serverId: item.id, rowKey: String(item.data?.action) });

/** Given up, as Nova's failed set_admin_password: the task cleared, the action in Error (the server keeps its state). */
export const passwordKind: WorkKind = {
  kind: PASSWORD_KIND,
  run: passwordStep,
  deadlineSeconds: 3600,
  giveUp: (item, s, f) => endPassword(s, passwordAction(item), false, `Azure error ${f.code}`),
};
registerServerAction({ name: 'changePassword', policy: 'os_compute_api:os-admin-password', schema: changePasswordSchema, handler: changePassword });
