// The interface attach/detach work step (server-interface, for os-interface in ../api/interfaces.ts).
// Azure adds or removes a VM's NICs only while the VM is deallocated, so one change is: deallocate
// (if it is not), PATCH the VM's networkProfile with the new NIC list, start it again if it was
// running, then record the result. Each pass reads the VM and does the next thing its state calls for,
// so a crash or a retry resumes where it was. The server shows the change in its task_state
// (interface-attaching / interface-detaching: Nova attaches synchronously and has none, but a change
// that stops the VM for minutes must say so, and must keep other actions out meanwhile).
//
// Azure refusing the PATCH (a NIC limit of the size, a NIC in use) leaves the NICs as they were: the
// step starts the VM again if it ran, undoes the port's binding and ends the instance action in Error,
// with the server back in its state and Azure's message as its fault.
import type { Services } from '../../../services';
import type { WorkItem, WorkKind, WorkResult } from '../../../work/types';
import { again, done } from '../../../work/types';
import { pollDelay } from '../../../work/pace';
import { azureFailure } from '../../../azure/errors';
import { BUSY_STATES } from '../../../azure/vms';
import { log } from '../../../log';
import { getServerAny, updateServer, POWER, type ServerNic, type ServerRecord } from '../model';
import { actionRef, faultOf, failServer } from './common';
import { finishAction } from '../instanceActions';
import { portStore } from '../../../network/ports';
import { deletePort } from '../../../network/portService';

export const INTERFACE_KIND = 'server-interface';

export interface InterfaceWork {
  action: string;
  op: 'attach' | 'detach';
  /** The NIC being added or removed (the server's nics entry it becomes or was). */
  nic: ServerNic;
  /** The VM ran when the change began: it is started again afterwards. */
  wasRunning: boolean;
  /** Set once Azure refused the change: the step only restores the power state, then ends in Error. */
  refusal?: { code: string; message: string };
  /** Set once the NIC list on Azure is as asked. */
  changed?: boolean;
}

const TASK = { attach: 'interface-attaching', detach: 'interface-detaching' } as const;

async function interfaceStep(item: WorkItem, s: Services): Promise<WorkResult> {
  const w = item.data as unknown as InterfaceWork;
  const cur = await getServerAny(s, item.id);
  if (!cur || cur.value.task_state !== TASK[w.op]) return done();
  const vms = s.azure.vms;
  const vm = await vms.vm(cur.value.azure.vm);
  if (!vm) return fail(s, item, { code: 'ResourceNotFound', message: 'The virtual machine is missing on Azure.' });
  if (BUSY_STATES.includes(vm.provisioningState) || ['deallocating', 'starting', 'stopping'].includes(vm.powerState ?? '')) return again(item, pollDelay(s));
  const nicId = vms.nicId(w.nic.nic_name).toLowerCase();
  const has = vm.nicIds.some((id) => id.toLowerCase() === nicId);
  const asked = w.op === 'attach' ? has : !has;
  if (!w.refusal && !asked) {
    if (vm.powerState !== 'deallocated') {
      const r = await vms.power(cur.value.azure.vm, 'deallocate');
      return again(item, pollDelay(s, r.retryAfterSeconds));
    }
    // The primary NIC stays first and primary (the API refuses to detach it).
    const ids = w.op === 'attach' ? [...vm.nicIds, vms.nicId(w.nic.nic_name)] : vm.nicIds.filter((id) => id.toLowerCase() !== nicId);
    try {
      const r = await vms.setNics(cur.value.azure.vm, ids);
      return again(item, pollDelay(s, r.retryAfterSeconds));
    } catch (e) {
      const f = azureFailure(e);
      if (f.kind !== 'client') throw e; // the engine retries
      log.warn('server interface change refused by Azure', { server: item.id, op: w.op, code: f.code, requestId: item.requestId });
      return again(item, 0, { data: { ...item.data, refusal: { code: f.code, message: f.message } } });
    }
  }
  // The NIC list is settled (changed, or refused): the VM runs again if it ran.
  if (w.wasRunning && vm.powerState !== 'running') {
    const r = await vms.power(cur.value.azure.vm, 'start');
    return again(item, pollDelay(s, r.retryAfterSeconds));
  }
  const running = vm.powerState === 'running';
  const ports = portStore(s);
  const a = actionRef(item);
  if (w.refusal) {
    // Nothing changed on Azure: the port goes back to how it was.
    if (w.op === 'attach') await releasePort(s, cur.value, w.nic);
    await updateServer(s, cur, (v) => (v.task_state === TASK[w.op] ? { ...v, task_state: null, fault: faultOf(w.refusal!) } : undefined));
    if (a) await finishAction(s, a, false, `Azure error ${w.refusal.code}`, w.refusal.message);
    return done();
  }
  const mac = running ? await vms.nicMac(w.nic.nic_name) : undefined;
  if (w.op === 'attach') {
    await ports.markStatus(cur.value.project_id, w.nic.port_id, running ? 'ACTIVE' : 'DOWN', mac);
  } else {
    // A port the user gave stays, unbound; one made for the attach goes (its NIC and record), as Nova's.
    await releasePort(s, cur.value, w.nic);
  }
  await updateServer(s, cur, (v) => {
    if (v.task_state !== TASK[w.op]) return undefined;
    const nics = v.nics.filter((n) => n.port_id !== w.nic.port_id);
    if (w.op === 'attach') nics.push({ ...w.nic, ...(mac ? { mac } : {}) });
    return { ...v, nics, task_state: null, power_state: running ? POWER.RUNNING : POWER.SHUTDOWN };
  });
  if (a) await finishAction(s, a, true);
  return done();
}

/** A port leaving the server: the user's is unbound; one made for the attach is deleted. */
export async function releasePort(s: Services, srv: ServerRecord, nic: ServerNic): Promise<void> {
  const ports = portStore(s);
  await ports.unbind(srv.project_id, nic.port_id, srv.id);
  if (nic.preexisting) return;
  const port = await ports.get(srv.project_id, nic.port_id);
  if (port) await deletePort(s, port);
}

async function fail(s: Services, item: WorkItem, f: { code: string; message: string }): Promise<WorkResult> {
  await failServer(s, item.id, actionRef(item), f);
  return done();
}

export const interfaceKind: WorkKind = {
  kind: INTERFACE_KIND,
  run: interfaceStep,
  deadlineSeconds: 3600,
  giveUp: async (item, s, f) => failServer(s, item.id, actionRef(item), f),
};
