// The rebuild work step (server-rebuild).
//   reimage: polls the VM until Azure's reimage ends (Succeeded -> the server's old state, Failed -> ERROR).
//   swap:    deallocate -> new OS disk from the image -> swap it in -> delete the old disk -> start ->
//            VMAccess sets the admin password -> (deallocate again when the server was SHUTOFF) -> done.
//            Each pass looks at what Azure shows and does the next missing thing, so a retry resumes.
// The password of a swap rebuild must outlive the request (the guest can take it only once the VM runs
// on the new disk): it travels in the work item sealed with AES-256-GCM under a key derived from the
// deployment's token key (JACKET_TOKEN_KEYS), the way Nova passes it to nova-compute over RPC; it is
// never written to a table, and the item is gone once the step is done.
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import type { Services } from '../../../services';
import type { JacketConfig } from '../../../config';
import { registerWork, type WorkItem, type WorkResult } from '../../../work/queue';
import { log } from '../../../log';
import { getServerAny, updateServer, POWER, type VmState } from '../model';
import { armFailure, serverTags } from '../azureVm';
import { failServer } from '../build';
import { finishAction, type ActionRef } from '../instanceActions';
import { serverActionsArm, BUSY } from './azureActions';
import { vmAccessExtension, VMACCESS_NAME } from './password';

export const REBUILD_KIND = 'server-rebuild';
const POLL_SECONDS = 1;

export type RebuildSource = { kind: 'snapshot'; id: string } | { kind: 'image'; id: string } | { kind: 'marketplace'; publisher: string; offer: string; sku: string; version: string };

function sealKey(cfg: JacketConfig): Buffer {
  return Buffer.from(hkdfSync('sha256', cfg.auth.tokenKeys[0], 'jacket', 'work-item-secret', 32));
}

export function seal(cfg: JacketConfig, secret: string): string {
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', sealKey(cfg), iv);
  const data = Buffer.concat([c.update(secret, 'utf8'), c.final()]);
  return Buffer.concat([iv, c.getAuthTag(), data]).toString('base64');
}

export function unseal(cfg: JacketConfig, sealed: string): string {
  const b = Buffer.from(sealed, 'base64');
  const d = createDecipheriv('aes-256-gcm', sealKey(cfg), b.subarray(0, 12));
  d.setAuthTag(b.subarray(12, 28));
  return Buffer.concat([d.update(b.subarray(28)), d.final()]).toString('utf8');
}

const ref = (item: WorkItem): ActionRef | undefined => (typeof item.data?.action === 'string' ? { serverId: item.id, rowKey: item.data.action } : undefined);
const again = (item?: WorkItem): WorkResult => ({ status: 'again', delaySeconds: POLL_SECONDS, ...(item ? { item } : {}) });

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
  const version = src.version === 'latest' ? await serverActionsArm(cfg).latestImageVersion(src.publisher, src.offer, src.sku) : src.version;
  const id = `/Subscriptions/${cfg.azure.subscriptionId}/Providers/Microsoft.Compute/Locations/${cfg.azure.location}/Publishers/${src.publisher}/ArtifactTypes/VMImage/Offers/${src.offer}/Skus/${src.sku}/Versions/${version}`;
  return { createOption: 'FromImage', imageReference: { id } };
}

async function rebuildStep(item: WorkItem, s: Services): Promise<WorkResult> {
  const cur = await getServerAny(s, item.id);
  if (!cur || cur.value.task_state !== 'rebuilding') return { status: 'done' };
  const srv = cur.value;
  const arm = serverActionsArm(s.config);
  const vm = await arm.vm(srv.azure.vm);
  const fail = async (code: string, message: string): Promise<WorkResult> => {
    log.warn('server rebuild failed', { server: srv.id, code, message, requestId: item.requestId });
    await failServer(s, srv.id, ref(item), { code, message });
    // A new OS disk that never made it into the VM is nobody's: delete it now (sweep-disks would take it
    // two passes later, once no rebuild is in progress for the server).
    const fresh = typeof item.data?.disk === 'string' ? item.data.disk : undefined;
    if (fresh && fresh !== srv.azure.os_disk && !(await arm.disk(fresh).catch(() => undefined))?.managedBy) await arm.deleteDisk(fresh).catch(() => undefined);
    return { status: 'done' };
  };
  if (!vm) return fail('ResourceNotFound', 'The virtual machine is missing on Azure.');
  if (BUSY.includes(vm.provisioningState)) return again();
  if (vm.provisioningState === 'Failed') return fail(vm.error?.code ?? 'ProvisioningFailed', vm.error?.message ?? 'The rebuild failed on Azure.');
  if (item.data?.mode === 'reimage') return finish(s, item, vm.powerState === 'running');

  const d = item.data as { disk: string; source: RebuildSource; sealed: string; final: string; extension?: boolean; started?: boolean };
  try {
    // 1. A new OS disk, made while the old one still runs the VM.
    const disk = await arm.disk(d.disk);
    if (!disk) {
      await arm.putDisk(d.disk, { location: s.config.azure.location, tags: serverTags(srv), osType: srv.os_type === 'windows' ? 'Windows' : 'Linux', creationData: await diskSource(s, d.source) });
      return again();
    }
    if (disk.provisioningState === 'Failed') return fail('DiskCreationFailed', 'The new OS disk could not be made from the image.');
    if (disk.provisioningState !== 'Succeeded') return again();
    if (vm.osDisk.name !== d.disk) {
      // 2. Deallocated, then the swap.
      if (vm.powerState !== 'deallocated') {
        if (vm.powerState !== 'deallocating') await arm.deallocate(srv.azure.vm);
        return again();
      }
      await arm.swapOsDisk(srv.azure.vm, disk.id, d.disk);
      return again();
    }
    // 3. The record follows Azure; the old disk is deleted (it left the VM with the swap).
    const old = srv.azure.os_disk;
    if (old !== d.disk) {
      await updateServer(s, cur, (v) => (v.task_state === 'rebuilding' ? { ...v, azure: { ...v.azure, os_disk: d.disk } } : undefined));
      const od = await arm.disk(old);
      if (od && !od.managedBy) await arm.deleteDisk(old);
    }
    // 4. Running, the agent ready, then the password.
    if (!d.extension) {
      if (vm.powerState !== 'running') {
        if (vm.powerState !== 'starting') await arm.start(srv.azure.vm);
        return again();
      }
      if (!vm.agentReady) return (item.polls ?? 0) < 120 ? again() : fail('VMAgentNotReady', 'The Azure VM agent did not become ready after the rebuild.');
      await arm.putExtension(srv.azure.vm, vmAccessExtension(s.config, srv, srv.azure.admin_username, unseal(s.config, d.sealed), `${item.requestId ?? ''}-rebuild`));
      return again({ ...item, data: { ...d, extension: true } });
    }
    const ext = await arm.extension(srv.azure.vm, VMACCESS_NAME);
    if (!ext || (ext.provisioningState !== 'Succeeded' && ext.provisioningState !== 'Failed')) return again();
    if (ext.provisioningState === 'Failed') return fail('VMExtensionProvisioningError', (ext.message ?? 'The admin password could not be set.').slice(0, 255));
    // 5. Nova powers a rebuilt SHUTOFF server off again.
    if (d.final === 'stopped' && vm.powerState !== 'deallocated') {
      if (vm.powerState !== 'deallocating') await arm.deallocate(srv.azure.vm);
      return again();
    }
    return finish(s, item, vm.powerState === 'running');
  } catch (e) {
    const f = armFailure(e);
    if (f.status === 409 && f.code === 'Conflict') return again();
    if (f.status === undefined || f.status >= 500 || f.status === 429) throw e;
    return fail(f.code, f.message);
  }
}

registerWork(REBUILD_KIND, rebuildStep);
