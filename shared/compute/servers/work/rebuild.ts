// The rebuild work step (server-rebuild).
//   reimage: polls the VM until Azure's reimage ends (Succeeded -> the server's old state, Failed -> ERROR).
//   swap:    deallocate -> new OS disk from the image -> swap it in -> delete the old disk -> start ->
//            VMAccess sets the admin password -> (deallocate again when the server was SHUTOFF) -> done.
//            Each pass looks at what Azure shows and does the next missing thing, so a retry resumes.
// The password travels in the work item sealed (shared/work/seal.ts): a reimage sends it in its first
// step, a swap once the VM runs on the new disk.
import type { Services } from '../../../services';
import type { WorkItem, WorkKind, WorkResult } from '../../../work/types';
import { again as againWith, done } from '../../../work/types';
import { pollDelay } from '../../../work/pace';
import { unseal } from '../../../work/seal';
import { azureFailure } from '../../../azure/errors';
import { BUSY_STATES, vmAccessExtension, VMACCESS_NAME } from '../../../azure/vms';
import { log } from '../../../log';
import { getServerAny, updateServer, POWER, type VmState } from '../model';
import { actionRef as ref, giveUpServer, refused } from './common';
import { finishAction } from '../instanceActions';

export const REBUILD_KIND = 'server-rebuild';

export type RebuildSource = { kind: 'snapshot'; id: string } | { kind: 'image'; id: string } | { kind: 'marketplace'; publisher: string; offer: string; sku: string; version: string };

async function finish(s: Services, item: WorkItem, powerRunning: boolean): Promise<WorkResult> {
  const final = (item.data?.final === 'stopped' ? 'stopped' : 'active') as VmState;
  const cur = await getServerAny(s, item.id);
  if (cur) {
    await updateServer(s, cur, (v) =>
      v.task_state !== 'rebuilding'
        ? undefined
        : { ...v, vm_state: final, task_state: null, progress: 100, power_state: powerRunning ? POWER.RUNNING : POWER.SHUTDOWN, launched_at: new Date().toISOString(), fault: undefined },
    );
  }
  const a = ref(item);
  if (a) await finishAction(s, a, true);
  return { status: 'done' };
}

/** The disk the new OS comes from (a marketplace image needs its exact version's id). */
async function diskSource(s: Services, src: RebuildSource): Promise<Record<string, unknown>> {
  if (src.kind === 'snapshot') return { createOption: 'Copy', sourceResourceId: src.id };
  if (src.kind === 'image') return { createOption: 'FromImage', imageReference: { id: src.id } };
  const cfg = s.config;
  const version = src.version === 'latest' ? await s.azure.vms.latestImageVersion(src.publisher, src.offer, src.sku) : src.version;
  const id = `/Subscriptions/${cfg.azure.subscriptionId}/Providers/Microsoft.Compute/Locations/${cfg.azure.location}/Publishers/${src.publisher}/ArtifactTypes/VMImage/Offers/${src.offer}/Skus/${src.sku}/Versions/${version}`;
  return { createOption: 'FromImage', imageReference: { id } };
}

async function rebuildStep(item: WorkItem, s: Services): Promise<WorkResult> {
  const cur = await getServerAny(s, item.id);
  if (!cur || cur.value.task_state !== 'rebuilding') return done();
  const srv = cur.value;
  const vms = s.azure.vms;
  // Poll again after `retryAfter` (what Azure said of the operation just sent), else the floor.
  const again = (next: WorkItem = item, retryAfter?: number) => againWith(next, pollDelay(s, retryAfter));
  if (item.step === 'reimage') {
    const sub = await vms.reimage(srv.azure.vm, unseal(s.config, String(item.data?.sealed)));
    const { sealed: _sent, ...data } = item.data ?? {};
    return again({ ...item, step: 'poll', data }, sub.retryAfterSeconds);
  }
  const vm = await vms.vm(srv.azure.vm);
  if (!vm) refused('ResourceNotFound', 'The virtual machine is missing on Azure.');
  if (BUSY_STATES.includes(vm.provisioningState)) return again();
  if (vm.provisioningState === 'Failed') refused(vm.error?.code ?? 'ProvisioningFailed', vm.error?.message ?? 'The rebuild failed on Azure.');
  if (item.data?.mode === 'reimage') return finish(s, item, vm.powerState === 'running');

  const d = item.data as { disk: string; source: RebuildSource; sealed: string; final: string; extension?: boolean; started?: boolean };
  // 1. A new OS disk, made while the old one still runs the VM.
  const disk = await vms.osDisk(d.disk);
  if (!disk) return again(item, (await vms.putOsDisk(d.disk, srv, await diskSource(s, d.source))).retryAfterSeconds);
  if (disk.provisioningState === 'Failed') refused('DiskCreationFailed', 'The new OS disk could not be made from the image.');
  if (disk.provisioningState !== 'Succeeded') return again();
  if (vm.osDisk.name !== d.disk) {
    // 2. Deallocated, then the swap.
    if (vm.powerState !== 'deallocated') return again(item, vm.powerState !== 'deallocating' ? (await vms.power(srv.azure.vm, 'deallocate')).retryAfterSeconds : undefined);
    return again(item, (await vms.swapOsDisk(srv.azure.vm, disk.id, d.disk)).retryAfterSeconds);
  }
  // 3. The record follows Azure; the old disk is deleted (it left the VM with the swap).
  const old = srv.azure.os_disk;
  if (old !== d.disk) {
    await updateServer(s, cur, (v) => (v.task_state === 'rebuilding' ? { ...v, azure: { ...v.azure, os_disk: d.disk } } : undefined));
    const od = await vms.osDisk(old);
    if (od && !od.managedBy) await vms.deleteOsDisk(old);
  }
  // 4. Running, the agent ready, then the password.
  if (!d.extension) {
    if (vm.powerState !== 'running') return again(item, vm.powerState !== 'starting' ? (await vms.power(srv.azure.vm, 'start')).retryAfterSeconds : undefined);
    if (!vm.agentReady) {
      if ((item.polls ?? 0) < 120) return again();
      refused('VMAgentNotReady', 'The Azure VM agent did not become ready after the rebuild.');
    }
    const sub = await vms.putExtension(srv.azure.vm, vmAccessExtension(s.config.azure.location, srv.os_type, srv.azure.admin_username, unseal(s.config, d.sealed), `${item.requestId ?? ''}-rebuild`));
    return again({ ...item, data: { ...d, extension: true } }, sub.retryAfterSeconds);
  }
  const ext = await vms.extension(srv.azure.vm, VMACCESS_NAME);
  if (!ext || (ext.provisioningState !== 'Succeeded' && ext.provisioningState !== 'Failed')) return again();
  if (ext.provisioningState === 'Failed') refused('VMExtensionProvisioningError', (ext.message ?? 'The admin password could not be set.').slice(0, 255));
  // 5. Nova powers a rebuilt SHUTOFF server off again.
  if (d.final === 'stopped' && vm.powerState !== 'deallocated') return again(item, vm.powerState !== 'deallocating' ? (await vms.power(srv.azure.vm, 'deallocate')).retryAfterSeconds : undefined);
  return finish(s, item, vm.powerState === 'running');
}

/**
 * Given up (Azure refused, or the budget is spent): ERROR with Azure's fault, as Nova leaves a failed
 * rebuild. A new OS disk that never made it into the VM is nobody's: it is deleted now (sweep-disks
 * would take it two passes later, once no rebuild is in progress for the server).
 */
export const rebuildKind: WorkKind = {
  kind: REBUILD_KIND,
  run: rebuildStep,
  deadlineSeconds: 3 * 3600,
  async giveUp(item, s, f) {
    log.warn('server rebuild failed', { server: item.id, code: f.code, message: f.message, requestId: item.requestId });
    const srv = await giveUpServer(s, item, f, (v) => v.task_state === 'rebuilding');
    const fresh = typeof item.data?.disk === 'string' ? item.data.disk : undefined;
    if (srv && fresh && fresh !== srv.azure.os_disk) {
      const vms = s.azure.vms;
      const disk = await vms.osDisk(fresh).catch((e) => (azureFailure(e).kind === 'notFound' ? undefined : { managedBy: 'unknown' }));
      if (disk && !disk.managedBy) await vms.deleteOsDisk(fresh).catch(() => undefined);
    }
  },
};
