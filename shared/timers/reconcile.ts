// Keeping server records and Azure in agreement (Nova's _sync_power_states and
// _cleanup_running_deleted_instances, docs/reconciliation.md):
//   reconcile-servers  every server at rest (task_state null) gets the power state its VM has on Azure;
//                      a VM stopped or started behind Jacket's back (the portal, the CLI) moves the
//                      server to SHUTOFF / ACTIVE; a VM whose provisioning Failed puts it in ERROR; a VM
//                      deleted behind Jacket's back makes it ERROR or deletes it (JACKET_MISSING_VM).
//   sweep-vms          VMs tagged as Jacket's servers that no record owns (deleted in Jacket, still on
//                      Azure) are deleted with the sweeps' two-pass rule (their NICs and OS disks go with
//                      them: deleteOption=Delete; anything left is the NIC and disk sweeps' business).
//                      Listed and deleted through s.azure.inventory; ownership is the servers' answer
//                      (shared/compute/ownership.ts).
// Azure is taken as the truth for power: Nova re-stops a STOPPED instance found running, Jacket
// instead shows it ACTIVE, since on Azure the portal is a legitimate way to start a VM.
import type { Services } from '../services';
import { log } from '../log';
import { odata, type Stored } from '../store/tables';
import { serverRepo, updateServer, novaTime, POWER, type PowerState, type ServerRecord, type VmState } from '../compute/servers/model';
import { BUSY_STATES, type VmState as AzureVm } from '../azure/vms';
import { startTeardown } from '../compute/servers/work/build';
import { runPeriodic, eachRecord, type PeriodicReport } from './periodic';
import { runSweep, type SweepReport, type Outcome } from './sweep';
import { recheckAndDelete, UUID } from './arm';
import { serverOwnsVm } from '../compute/ownership';
import type { InventoryItem } from '../azure/inventory';

export const RECONCILE_TASK = 'reconcile-servers';
export const VM_SWEEP = 'sweep-vms';

/** Servers looked at per pass (the rest wait for the next pass; the query is in RowKey order). */
const PER_PASS = 2000;

/**
 * VMs missing from the pass's list that are confirmed with a GET before their server is changed (a list
 * may lag a VM created a moment earlier). The rest wait for the next pass, so a mass deletion outside
 * Jacket cannot turn one pass into thousands of reads against the subscription's ARM budget.
 */
const CONFIRMS_PER_PASS = 50;

/** The vm_states whose VM should exist and can be compared (building and deleting belong to their work). */
const SYNCED: VmState[] = ['active', 'stopped', 'suspended', 'paused', 'rescued', 'resized', 'shelved', 'shelved_offloaded', 'soft-delete', 'error'];

export const MISSING_VM_MESSAGE = 'The virtual machine of this server no longer exists on Azure.';

/** Nova's power_state for an Azure power state (starting counts as running, as the build does). */
export function powerOf(vm: AzureVm): PowerState {
  if (vm.hibernated) return POWER.SUSPENDED;
  switch (vm.powerState) {
    case 'running':
    case 'starting':
      return POWER.RUNNING;
    case 'stopped':
    case 'stopping':
    case 'deallocated':
    case 'deallocating':
      return POWER.SHUTDOWN;
    default:
      return POWER.NOSTATE;
  }
}

const fault = (message: string, code: string) => ({ code: 500, message: message.slice(0, 255), details: `Azure error ${code}`, created: novaTime() });

/** The record as Azure says it should be, or undefined when it already agrees (and the outcome). */
export function reconciled(v: ServerRecord, vm: AzureVm, location: string): { next?: ServerRecord; outcome: string } {
  if (vm.provisioningState === 'Failed' && v.vm_state !== 'error') {
    const e = vm.error ?? { code: 'ProvisioningFailed', message: 'The virtual machine provisioning failed on Azure.' };
    return { next: { ...v, vm_state: 'error', power_state: powerOf(vm), fault: fault(e.message, e.code) }, outcome: 'error' };
  }
  const power = powerOf(vm);
  if (power === POWER.SHUTDOWN && v.vm_state === 'active') return { next: { ...v, vm_state: 'stopped', power_state: power }, outcome: 'shutoff' };
  if (power === POWER.RUNNING && ['stopped', 'suspended', 'shelved', 'shelved_offloaded'].includes(v.vm_state)) {
    // Started outside Jacket: running again, on a host (shelve offload had cleared it).
    return { next: { ...v, vm_state: 'active', power_state: power, host: v.host ?? `azure-${location}`, launched_at: v.launched_at ?? novaTime() }, outcome: 'running' };
  }
  if (power !== v.power_state && power !== POWER.NOSTATE) return { next: { ...v, power_state: power }, outcome: 'power-state' };
  return { outcome: 'in-sync' };
}

async function syncOne(s: Services, cur: Stored<ServerRecord>, listed: AzureVm | undefined, confirm: () => boolean, note: (o: string, changed: boolean) => void): Promise<void> {
  // Only a record still at rest and in the state it was read in is changed (a user's action wins).
  const atRest = (v: ServerRecord) => v.task_state === null && v.vm_state === cur.value.vm_state;
  let vm = listed;
  if (!vm) {
    // Already known missing: nothing to read or write (the list said so again).
    if (cur.value.vm_state === 'error' && cur.value.fault?.message === MISSING_VM_MESSAGE && s.config.periodic.missingVm === 'error') return note('missing', false);
    if (!confirm()) return note('unconfirmed', false);
    vm = await s.azure.vms.vm(cur.value.azure.vm);
  }
  if (!vm) {
    if (s.config.periodic.missingVm === 'delete') {
      const stored = await updateServer(s, cur, (v) => (atRest(v) ? { ...v, task_state: 'deleting' } : undefined));
      if (!stored) return note('changed-meanwhile', false);
      await startTeardown(s, cur.value.id);
      log.warn('server VM deleted outside Jacket: deleting the server', { task: RECONCILE_TASK, server: cur.value.id, project: cur.value.project_id });
      return note('deleted', true);
    }
    const stored = await updateServer(s, cur, (v) => (atRest(v) ? { ...v, vm_state: 'error', power_state: POWER.NOSTATE, fault: fault(MISSING_VM_MESSAGE, 'ResourceNotFound') } : undefined));
    if (stored) log.warn('server VM deleted outside Jacket: ERROR', { task: RECONCILE_TASK, server: cur.value.id, project: cur.value.project_id });
    return note(stored ? 'error' : 'changed-meanwhile', !!stored);
  }
  if (BUSY_STATES.includes(vm.provisioningState)) return note('busy', false);
  const { next, outcome } = reconciled(cur.value, vm, s.config.azure.location);
  if (!next) return note(outcome, false);
  const stored = await updateServer(s, cur, (v) => (atRest(v) ? reconciled(v, vm, s.config.azure.location).next : undefined));
  if (stored)
    log.info('server state synced from Azure', {
      task: RECONCILE_TASK,
      server: cur.value.id,
      project: cur.value.project_id,
      outcome,
      azurePower: vm.powerState,
      provisioningState: vm.provisioningState,
    });
  note(stored ? outcome : 'changed-meanwhile', !!stored);
}

/** The power/provisioning state sync over every server at rest. */
export function reconcileServers(s: Services, now: Date = new Date()): Promise<PeriodicReport> {
  return runPeriodic(s, RECONCILE_TASK, now, async (run) => {
    const filter = SYNCED.map((v) => odata`vm_state eq ${v}`).join(' or ');
    // Records first, then Azure: a VM that existed when its record was read is in the list.
    const atRest = (await serverRepo(s).queryAll(filter, PER_PASS)).filter((cur) => cur.value.task_state === null);
    if (atRest.length === 0) return;
    // One paged list of every VM's state per pass, not one GET per server (issue 11: reconcile by listing).
    const states = new Map([...(await s.azure.vms.vmStates())].map(([name, vm]) => [name.toLowerCase(), vm]));
    let confirms = 0;
    const confirm = () => confirms++ < CONFIRMS_PER_PASS;
    for (const cur of atRest) {
      const listed = states.get(cur.value.azure.vm.toLowerCase());
      await eachRecord(run, cur.value.id, () => syncOne(s, cur, listed, confirm, (o, changed) => run.note(cur.value.id, o, changed)));
    }
  });
}

// ---- VMs Azure runs that Jacket deleted ----

/** The server id a VM's name and tags prove it is Jacket's, or undefined. */
export function jacketServerOf(vm: Pick<InventoryItem, 'name' | 'tags'>): string | undefined {
  const { name, tags } = vm;
  return UUID.test(name) && tags.jacket === 'server' && tags['jacket-server-id'] === name ? name : undefined;
}

async function whyNot(s: Services, vm: InventoryItem): Promise<string | undefined> {
  const id = jacketServerOf(vm);
  if (!id) return 'not-jacket';
  if (vm.provisioningState && BUSY_STATES.includes(vm.provisioningState)) return 'busy';
  // A record in any state owns its VM (the servers' answer, shared/compute/ownership.ts).
  return serverOwnsVm(s, id);
}

export function sweepVms(s: Services, now: Date = new Date()): Promise<SweepReport> {
  return runSweep(s, VM_SWEEP, now, (run) =>
    run.over(s.azure.inventory.list('vm'), {
      kind: 'vm',
      name: (vm) => vm.name,
      evaluate: (vm) => whyNot(s, vm),
      remove: (vm): Promise<Outcome> => recheckAndDelete(s, VM_SWEEP, 'vm', vm.name, (fresh) => whyNot(s, fresh)),
    }),
  );
}
