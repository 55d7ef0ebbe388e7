// The Azure side of volume attachments, as work-queue steps (shared/work/queue.ts). Each step reads the
// server record, the volume record and the VM, does the next idempotent thing and comes back later:
//   volume-attach       attachDetachDataDisks with the volume's managed disk at the LUN the API chose,
//                       then polls the VM until Azure has it (volume in-use) or refused it (volume
//                       available again, the mapping gone, the instance action in error);
//   volume-detach       attachDetachDataDisks detaching the disk, then polls until it is off the VM;
//   server-boot-volume  a server booted from a volume: once the server is ACTIVE the volume is in-use;
//                       a build that ended in ERROR gives the volume back (the mapping stays until the
//                       server is deleted, which then honours delete_on_termination).
// releaseServerVolumes runs in the server's delete teardown, once Azure has deleted the VM.
import type { JacketConfig } from '../config';
import type { Services } from '../services';
import { createAzureClients, type AzureClients } from '../azure/clients';
import { registerWork, type WorkItem, type WorkResult } from '../work/queue';
import { log } from '../log';
import { getServerAny, updateServer, type ServerRecord } from './servers/model';
import { armFailure, isNotFound, type vmBody } from './servers/azureVm';
import { finishAction } from './servers/instanceActions';
import { volumesOf, withVolumes, type ServerVolume } from './serverVolumes';
import { markAttached, releaseFromServer, rollDetaching, volumeAt, attachmentOf } from '../volume/attachments';
import { volumeTables } from '../volume/model';
import { cinderTime } from '../volume/common';
import { VOLUME_DELETE } from '../volume/workKinds';

export const ATTACH_KIND = 'volume-attach';
export const DETACH_KIND = 'volume-detach';
export const BOOT_VOLUME_KIND = 'server-boot-volume';

const POLL_SECONDS = 1;
const TRANSITIONAL = ['Creating', 'Updating', 'Deleting', 'Migrating'];

// ---- ARM ----

const clientCache = new WeakMap<JacketConfig, AzureClients>();
function clients(cfg: JacketConfig): AzureClients {
  let c = clientCache.get(cfg);
  if (!c) {
    c = createAzureClients(cfg);
    clientCache.set(cfg, c);
  }
  return c;
}

/** The ARM id of a volume's managed disk (known from its name: Jacket names and places every disk). */
export const diskArmId = (cfg: JacketConfig, diskName: string) =>
  `/subscriptions/${cfg.azure.subscriptionId}/resourceGroups/${cfg.azure.resourceGroup}/providers/Microsoft.Compute/disks/${diskName}`;

const sameId = (a?: string, b?: string) => !!a && !!b && a.toLowerCase() === b.toLowerCase();

interface VmDisks {
  provisioningState: string;
  dataDisks: { lun: number; id?: string }[];
}

async function vmDisks(cfg: JacketConfig, vm: string): Promise<VmDisks | undefined> {
  try {
    const v = await clients(cfg).compute.virtualMachines.get(cfg.azure.resourceGroup, vm);
    return { provisioningState: v.provisioningState ?? 'Unknown', dataDisks: (v.storageProfile?.dataDisks ?? []).map((d) => ({ lun: d.lun, id: d.managedDisk?.id })) };
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw e;
  }
}

async function submitAttachDetach(cfg: JacketConfig, vm: string, body: { dataDisksToAttach?: { diskId: string; lun: number; caching: 'None'; deleteOption: 'Detach' }[]; dataDisksToDetach?: { diskId: string }[] }) {
  await clients(cfg).compute.virtualMachines.attachDetachDataDisks(cfg.azure.resourceGroup, vm, body).submitted();
}

/** maxDataDiskCount of the region's VM sizes (ARM vmSizes), read once per process and kept. */
const sizeLimits = new WeakMap<JacketConfig, Promise<Map<string, number>>>();
export async function maxDataDisks(cfg: JacketConfig, vmSize: string): Promise<number | undefined> {
  let p = sizeLimits.get(cfg);
  if (!p) {
    p = (async () => {
      const m = new Map<string, number>();
      for await (const size of clients(cfg).compute.virtualMachineSizes.list(cfg.azure.location)) {
        if (size.name && size.maxDataDiskCount !== undefined) m.set(size.name.toLowerCase(), size.maxDataDiskCount);
      }
      return m;
    })();
    sizeLimits.set(cfg, p);
    p.catch(() => sizeLimits.delete(cfg));
  }
  return (await p).get(vmSize.toLowerCase());
}

/**
 * The VM PUT of a server booted from a volume: the volume's managed disk is the OS disk (Attach,
 * osType, no imageReference and no osProfile: Azure provisions nothing on an existing disk). Its
 * deleteOption is Detach: the volume outlives the VM and delete_on_termination is Cinder's delete.
 */
export function bootVolumeVmBody(cfg: JacketConfig, srv: ServerRecord, diskName: string, body: ReturnType<typeof vmBody>): ReturnType<typeof vmBody> {
  const { osProfile: _none, storageProfile: _image, ...rest } = body;
  const osType = srv.os_type === 'windows' ? 'Windows' : 'Linux';
  return {
    ...rest,
    storageProfile: { osDisk: { name: diskName, createOption: 'Attach', osType, managedDisk: { id: diskArmId(cfg, diskName) }, deleteOption: 'Detach', caching: 'ReadWrite' } },
  } as unknown as ReturnType<typeof vmBody>;
}

// ---- steps ----

const volumeId = (item: WorkItem) => String(item.data?.volume ?? '');

async function setMapping(s: Services, srv: ServerRecord, id: string, change: (m: ServerVolume) => ServerVolume | undefined): Promise<void> {
  const cur = await getServerAny(s, srv.id);
  if (!cur) return;
  await updateServer(s, cur, (v) => {
    const list = volumesOf(v);
    if (!list.some((m) => m.volume_id === id)) return undefined;
    return withVolumes(v, list.flatMap((m) => (m.volume_id === id ? [change(m)].filter((x): x is ServerVolume => !!x) : [m])));
  });
}

const actionOf = (srv: ServerRecord, m: ServerVolume) => (m.action ? { serverId: srv.id, rowKey: m.action } : undefined);

async function attachStep(item: WorkItem, s: Services): Promise<WorkResult> {
  const cur = await getServerAny(s, item.id);
  const m = cur && volumesOf(cur.value).find((x) => x.volume_id === volumeId(item));
  if (!cur || !m || m.status !== 'attaching' || m.lun === null) return { status: 'done' };
  const srv = cur.value;
  const vol = await volumeAt(s, m.volume_project_id, m.volume_id);
  if (!vol) return { status: 'done' };
  const diskId = vol.value.disk.armId ?? diskArmId(s.config, vol.value.disk.name);
  const fail = async (code: string, message: string) => {
    log.warn('volume attach failed on Azure', { server: srv.id, volume: m.volume_id, code, requestId: item.requestId });
    await releaseFromServer(s, m.volume_project_id, m.volume_id, srv.id);
    await setMapping(s, srv, m.volume_id, () => undefined);
    const ref = actionOf(srv, m);
    if (ref) await finishAction(s, ref, false, `Azure error ${code}: ${message}`);
    return { status: 'done' } as const;
  };
  const vm = await vmDisks(s.config, srv.azure.vm);
  if (!vm) return fail('VMNotFound', 'The virtual machine does not exist.');
  const there = vm.dataDisks.find((d) => sameId(d.id, diskId));
  if (there) {
    if (vm.provisioningState === 'Failed') return fail('ProvisioningFailed', 'The virtual machine update failed.');
    if (vm.provisioningState !== 'Succeeded') return { status: 'again', delaySeconds: POLL_SECONDS };
    await markAttached(s, m.volume_project_id, m.volume_id, srv.id, srv.host);
    await setMapping(s, srv, m.volume_id, ({ action: _a, ...x }) => ({ ...x, status: 'attached', lun: there.lun, device: x.device }));
    const ref = actionOf(srv, m);
    if (ref) await finishAction(s, ref, true);
    return { status: 'done' };
  }
  // Azure refuses an operation while another runs on the VM: wait for it to end.
  if (TRANSITIONAL.includes(vm.provisioningState)) return { status: 'again', delaySeconds: POLL_SECONDS };
  try {
    await submitAttachDetach(s.config, srv.azure.vm, { dataDisksToAttach: [{ diskId, lun: m.lun, caching: 'None', deleteOption: 'Detach' }] });
  } catch (e) {
    const f = armFailure(e);
    if (f.status === 409 && f.code !== 'OperationNotAllowed') return { status: 'again', delaySeconds: POLL_SECONDS };
    if (f.status !== undefined && f.status >= 400 && f.status < 500) return fail(f.code, f.message);
    throw e;
  }
  return { status: 'again', delaySeconds: POLL_SECONDS };
}

async function detachStep(item: WorkItem, s: Services): Promise<WorkResult> {
  const cur = await getServerAny(s, item.id);
  const m = cur && volumesOf(cur.value).find((x) => x.volume_id === volumeId(item));
  if (!cur || !m || m.status !== 'detaching') return { status: 'done' };
  const srv = cur.value;
  const vol = await volumeAt(s, m.volume_project_id, m.volume_id);
  const diskId = vol ? vol.value.disk.armId ?? diskArmId(s.config, vol.value.disk.name) : undefined;
  const vm = await vmDisks(s.config, srv.azure.vm);
  const there = vm && diskId ? vm.dataDisks.find((d) => sameId(d.id, diskId)) : undefined;
  if (vm && there) {
    if (TRANSITIONAL.includes(vm.provisioningState)) return { status: 'again', delaySeconds: POLL_SECONDS };
    try {
      await submitAttachDetach(s.config, srv.azure.vm, { dataDisksToDetach: [{ diskId: diskId! }] });
    } catch (e) {
      const f = armFailure(e);
      if (f.status === 409) return { status: 'again', delaySeconds: POLL_SECONDS };
      if (f.status !== undefined && f.status >= 400 && f.status < 500) {
        // The disk stays on the VM: the volume goes back to in-use, as Cinder's roll_detaching does.
        log.warn('volume detach refused by Azure', { server: srv.id, volume: m.volume_id, code: f.code, requestId: item.requestId });
        await rollDetaching(s, m.volume_project_id, m.volume_id, srv.id);
        await setMapping(s, srv, m.volume_id, ({ action: _a, ...x }) => ({ ...x, status: 'attached' }));
        const ref = actionOf(srv, m);
        if (ref) await finishAction(s, ref, false, `Azure error ${f.code}: ${f.message}`);
        return { status: 'done' };
      }
      throw e;
    }
    return { status: 'again', delaySeconds: POLL_SECONDS };
  }
  if (vm && TRANSITIONAL.includes(vm.provisioningState)) return { status: 'again', delaySeconds: POLL_SECONDS };
  await releaseFromServer(s, m.volume_project_id, m.volume_id, srv.id);
  await setMapping(s, srv, m.volume_id, () => undefined);
  const ref = actionOf(srv, m);
  if (ref) await finishAction(s, ref, true);
  return { status: 'done' };
}

async function bootVolumeStep(item: WorkItem, s: Services): Promise<WorkResult> {
  const cur = await getServerAny(s, item.id);
  const m = cur && volumesOf(cur.value).find((x) => x.volume_id === volumeId(item));
  if (!cur || !m || m.status !== 'attaching') return { status: 'done' };
  const srv = cur.value;
  if (srv.vm_state === 'building' && srv.task_state !== 'deleting') return { status: 'again', delaySeconds: POLL_SECONDS };
  if (srv.vm_state === 'error' || srv.task_state === 'deleting') {
    await releaseFromServer(s, m.volume_project_id, m.volume_id, srv.id);
    return { status: 'done' };
  }
  await markAttached(s, m.volume_project_id, m.volume_id, srv.id, srv.host);
  await setMapping(s, srv, m.volume_id, (x) => ({ ...x, status: 'attached' }));
  return { status: 'done' };
}

/**
 * After the VM is gone: each volume of the server is released, and those with delete_on_termination
 * deleted as Cinder deletes a volume (the volume-delete work step removes the disk and the record).
 * A volume that meanwhile belongs to something else is left alone.
 */
export async function releaseServerVolumes(s: Services, srv: ServerRecord, requestId?: string): Promise<void> {
  const t = volumeTables(s);
  for (const m of volumesOf(srv)) {
    const vol = await volumeAt(s, m.volume_project_id, m.volume_id);
    if (!vol) continue;
    const a = attachmentOf(vol.value);
    if (a && a.server_id !== srv.id) continue;
    if (!a && (vol.value.status !== 'available' || !m.delete_on_termination)) continue;
    if (m.delete_on_termination) {
      let mine = false;
      await t.volumes.update(vol.partitionKey, vol.rowKey, (v) => {
        const at = attachmentOf(v);
        if ((at && at.server_id !== srv.id) || (!at && v.status !== 'available')) return undefined;
        mine = true;
        const { attachment: _gone, ...rest } = v as typeof v & { attachment?: unknown };
        return { ...rest, status: 'deleting', attach_status: 'detached', updated_at: cinderTime() };
      });
      if (mine) await s.work.enqueue({ kind: VOLUME_DELETE, id: m.volume_id, data: { project: m.volume_project_id }, requestId });
    } else {
      await releaseFromServer(s, m.volume_project_id, m.volume_id, srv.id);
    }
  }
}

registerWork(ATTACH_KIND, attachStep);
registerWork(DETACH_KIND, detachStep);
registerWork(BOOT_VOLUME_KIND, bootVolumeStep);
