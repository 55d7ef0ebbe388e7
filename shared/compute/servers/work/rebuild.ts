// The rebuild work step (server-rebuild).
//   reimage: Azure's reimage with the password and, when the rebuild gave one (2.57), the user_data as
//            custom data; polls the VM until it ends (Succeeded -> the server's old state, Failed -> ERROR).
//            A rebuild with a key pair (2.54) of a Linux server goes on as a swap's step 4: Azure's
//            reimage provisions the VM's create-time keys only.
//   swap:    deallocate -> new OS disk from the image -> swap it in -> delete the old disk -> start ->
//            VMAccess sets the admin password (and adds the key pair's key) -> (deallocate again when
//            the server was SHUTOFF) -> done.
//            2.93, a volume-backed server: the new disk is its root volume's new disk (Nova reimages the
//            volume through Cinder), and the volume's record names it once swapped in.
//            Each pass looks at what Azure shows and does the next missing thing, so a retry resumes.
// The password travels in the work item sealed (shared/work/seal.ts): a reimage sends it in its first
// step, a swap once the VM runs on the new disk. The key pair's public key travels as it is (it is public).
import type { Services } from '../../../services';
import type { WorkItem, WorkKind, WorkResult } from '../../../work/types';
import { again as againWith, done } from '../../../work/types';
import { pollDelay } from '../../../work/pace';
import { unseal } from '../../../work/seal';
import { azureFailure } from '../../../azure/errors';
import { BUSY_STATES, vmAccessExtension, VMACCESS_NAME } from '../../../azure/vms';
import { log } from '../../../log';
import { getServerAny, updateServer, POWER, type VmState } from '../model';
import { actionRef as ref, giveUpServer, refused, TRUSTED_CERTS_ABORT } from './common';
import { finishAction } from '../instanceActions';
import { loadUserData } from '../userData';
import { volumeApi } from '../../../volume/computeApi';

export const REBUILD_KIND = 'server-rebuild';

/** What a rebuild's work item carries (besides the instance action's row key). */
export interface RebuildData {
  mode: 'reimage' | 'swap';
  final: 'active' | 'stopped';
  /** The sealed admin password (a reimage drops it once sent). */
  sealed?: string;
  /** swap: the new OS disk's name and where it comes from. */
  disk?: string;
  source?: RebuildSource;
  /** 2.54: the public key of the rebuild's key pair, added by VMAccess (Linux). */
  sshKey?: string;
  /** 2.57: the rebuild gave user_data (in the record), sent as the reimage's custom data. */
  userData?: boolean;
  /** VMAccess was sent. */
  extension?: boolean;
  /**
   * 2.93, a volume-backed server: the new disk is its root volume's (the volume's SKU, size and tags, in
   * the server's Azure zone), and the volume's record follows the swap (volumeApi.rootReimageSwapped).
   */
  volume?: { id: string; project: string; sku: string; sizeGB: number; tags: Record<string, string>; zone?: string };
}

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
  // _do_rebuild_instance's _check_trusted_certs (2.63), before anything is sent to Azure: the rebuild
  // aborts and the server goes to ERROR with the fault, as Nova's _error_out_instance_on_exception.
  if (srv.trusted_certs?.length) refused('BuildAbortException', TRUSTED_CERTS_ABORT);
  const vms = s.azure.vms;
  // Poll again after `retryAfter` (what Azure said of the operation just sent), else the floor.
  const again = (next: WorkItem = item, retryAfter?: number) => againWith(next, pollDelay(s, retryAfter));
  if (item.step === 'reimage') {
    const customData = item.data?.userData ? ((await loadUserData(s, [srv])).get(srv.id) ?? undefined) : undefined;
    const sub = await vms.reimage(srv.azure.vm, unseal(s.config, String(item.data?.sealed)), customData);
    const { sealed: _sent, ...data } = item.data ?? {};
    return again({ ...item, step: 'poll', data }, sub.retryAfterSeconds);
  }
  const vm = await vms.vm(srv.azure.vm);
  if (!vm) refused('ResourceNotFound', 'The virtual machine is missing on Azure.');
  if (BUSY_STATES.includes(vm.provisioningState)) return again();
  if (vm.provisioningState === 'Failed') refused(vm.error?.code ?? 'ProvisioningFailed', vm.error?.message ?? 'The rebuild failed on Azure.');
  const d = item.data as unknown as RebuildData;
  const sshKey = srv.os_type === 'linux' ? d.sshKey : undefined;
  if (d.mode === 'reimage') {
    if (!sshKey) return finish(s, item, vm.powerState === 'running');
  } else {
    const name = d.disk!;
    // 1. A new OS disk, made while the old one still runs the VM.
    const disk = await vms.osDisk(name);
    if (!disk) {
      const vol = d.volume && { sku: d.volume.sku, sizeGB: d.volume.sizeGB, tags: d.volume.tags };
      return again(item, (await vms.putOsDisk(name, srv, await diskSource(s, d.source!), d.volume?.zone, vol)).retryAfterSeconds);
    }
    if (disk.provisioningState === 'Failed') refused('DiskCreationFailed', 'The new OS disk could not be made from the image.');
    if (disk.provisioningState !== 'Succeeded') return again();
    if (vm.osDisk.name !== name) {
      // 2. Deallocated, then the swap.
      if (vm.powerState !== 'deallocated') return again(item, vm.powerState !== 'deallocating' ? (await vms.power(srv.azure.vm, 'deallocate')).retryAfterSeconds : undefined);
      return again(item, (await vms.swapOsDisk(srv.azure.vm, disk.id, name)).retryAfterSeconds);
    }
    // 3. The record follows Azure; the old disk is deleted (it left the VM with the swap).
    const old = srv.azure.os_disk;
    if (old !== name) {
      // 2.93: the root volume names its new disk (and is in-use again, with the image's metadata) before
      // the old one goes.
      if (d.volume) await volumeApi.rootReimageSwapped(s, d.volume.project, d.volume.id, name, disk.id);
      await updateServer(s, cur, (v) => (v.task_state === 'rebuilding' ? { ...v, azure: { ...v.azure, os_disk: name } } : undefined));
      const od = await vms.osDisk(old);
      if (od && !od.managedBy) await vms.deleteOsDisk(old);
    }
  }
  // 4. Running, the agent ready, then VMAccess: a swap's password (Azure provisions nothing on a
  //    swapped-in disk) and the key pair's key.
  if (!d.extension) {
    if (vm.powerState !== 'running') return again(item, vm.powerState !== 'starting' ? (await vms.power(srv.azure.vm, 'start')).retryAfterSeconds : undefined);
    if (!vm.agentReady) {
      if ((item.polls ?? 0) < 120) return again();
      refused('VMAgentNotReady', 'The Azure VM agent did not become ready after the rebuild.');
    }
    const access = { ...(d.mode === 'swap' ? { password: unseal(s.config, d.sealed!) } : {}), ...(sshKey ? { sshKey } : {}) };
    const sub = await vms.putExtension(srv.azure.vm, vmAccessExtension(s.config.azure.location, srv.os_type, srv.azure.admin_username, access, `${item.requestId ?? ''}-rebuild`));
    return again({ ...item, data: { ...d, extension: true } as unknown as Record<string, unknown> }, sub.retryAfterSeconds);
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
      const v = item.data?.volume as RebuildData['volume'];
      if (v) await volumeApi.rootReimageAbandoned(s, v.project, v.id, fresh);
      const vms = s.azure.vms;
      const disk = await vms.osDisk(fresh).catch((e) => (azureFailure(e).kind === 'notFound' ? undefined : { managedBy: 'unknown' }));
      if (disk && !disk.managedBy) await vms.deleteOsDisk(fresh).catch(() => undefined);
    }
  },
};
