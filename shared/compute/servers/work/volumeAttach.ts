// The Azure side of volume attachments, as work kinds of the long-action engine (shared/work/engine.ts).
// Each step reads the server record, the volume record (and, when polling, the VM), does the next
// idempotent thing and comes back later:
//   volume-attach       one POST attachDetachDataDisks with the volume's managed disk at the LUN the API
//                       chose, then GETs of the VM (paced by the POST's Retry-After) until Azure has it
//                       (volume in-use) or refused it (volume available again, the mapping gone, the
//                       instance action in error — also when the engine gives up);
//   volume-detach       one POST detaching the disk, then GETs until it is off the VM; given up, the
//                       volume goes back to in-use (roll_detaching);
//   volume-force-detach Cinder's os-force_detach of a volume attached to a server (item id: the volume):
//                       the server's mapping turns detaching (an attach still running stops, its
//                       instance action in error) and the volume-detach above takes the disk off; with
//                       no server or no mapping behind the attachment the volume is simply released;
//   server-boot-volume  a server booted from a volume: once the server is ACTIVE the volume is in-use;
//                       a build that ended in ERROR gives the volume back (the mapping stays until the
//                       server is deleted, which then honours delete_on_termination).
// releaseServerVolumes runs in the server's delete teardown, once Azure has deleted the VM.
import type { Services } from '../../../services';
import type { WorkItem, WorkKind, WorkResult } from '../../../work/types';
import { again, done } from '../../../work/types';
import { pollDelay } from '../../../work/pace';
import { startWork } from '../../../work/ledger';
import { azureFailure } from '../../../azure/errors';
import { BUSY_STATES } from '../../../azure/vms';
import { log } from '../../../log';
import { getServerAny, updateServer, type ServerRecord } from '../model';
import { finishAction } from '../instanceActions';
import { volumesOf, withVolumes, type ServerVolume } from '../volumes';
import { FORCE_DETACH_KIND, volumeApi } from '../../../volume/computeApi';

export const ATTACH_KIND = 'volume-attach';
export const DETACH_KIND = 'volume-detach';
export const BOOT_VOLUME_KIND = 'server-boot-volume';

const sameId = (a?: string, b?: string) => !!a && !!b && a.toLowerCase() === b.toLowerCase();

/** The ARM id of a volume's managed disk (its recorded id, else known from its name). */
export const diskIdOf = (s: Services, disk: { armId?: string; name: string }) => disk.armId ?? s.azure.vms.diskId(disk.name);

// ---- steps ----

const volumeId = (item: WorkItem) => String(item.data?.volume ?? '');

/** The server and its mapping of the item's volume, while the mapping is in `status`. */
async function pending(s: Services, item: WorkItem, status: ServerVolume['status']): Promise<{ srv: ServerRecord; m: ServerVolume } | undefined> {
  const cur = await getServerAny(s, item.id);
  const m = cur && volumesOf(cur.value).find((x) => x.volume_id === volumeId(item));
  return cur && m && m.status === status ? { srv: cur.value, m } : undefined;
}

async function setMapping(s: Services, srv: ServerRecord, id: string, change: (m: ServerVolume) => ServerVolume | undefined): Promise<void> {
  const cur = await getServerAny(s, srv.id);
  if (!cur) return;
  await updateServer(s, cur, (v) => {
    const list = volumesOf(v);
    if (!list.some((m) => m.volume_id === id)) return undefined;
    return withVolumes(
      v,
      list.flatMap((m) => (m.volume_id === id ? [change(m)].filter((x): x is ServerVolume => !!x) : [m])),
    );
  });
}

const actionOf = (srv: ServerRecord, m: ServerVolume) => (m.action ? { serverId: srv.id, rowKey: m.action } : undefined);

/** The attach failed: the volume available again, the mapping gone, the instance action in Error. */
async function failAttach(s: Services, item: WorkItem, code: string, message: string): Promise<void> {
  const p = await pending(s, item, 'attaching');
  if (!p) return;
  const { srv, m } = p;
  log.warn('volume attach failed on Azure', { server: item.id, volume: m.volume_id, code, requestId: item.requestId });
  await volumeApi.detach(s, m.volume_project_id, m.volume_id, item.id);
  await setMapping(s, srv, m.volume_id, () => undefined);
  const ref = actionOf(srv, m);
  if (ref) await finishAction(s, ref, false, `Azure error ${code}: ${message}`);
}

/**
 * step send: one POST attachDetachDataDisks (no GET before: a VM busy with another operation answers
 * 409, which the engine retries); step poll: GETs of the VM until the disk is on it and Succeeded.
 */
async function attachStep(item: WorkItem, s: Services): Promise<WorkResult> {
  const p = await pending(s, item, 'attaching');
  if (!p || p.m.lun === null) return done();
  const { srv, m } = p;
  const lun = p.m.lun;
  const vol = await volumeApi.getIn(s, m.volume_project_id, m.volume_id);
  if (!vol) return done();
  const vms = s.azure.vms;
  const diskId = diskIdOf(s, vol.value.disk);
  if (item.step !== 'poll') {
    let retryAfter: number | undefined;
    try {
      retryAfter = (await vms.attachDataDisk(srv.azure.vm, diskId, lun)).retryAfterSeconds;
    } catch (e) {
      // Sent before (a retry after Azure took it): the disk is on the VM already.
      const vm = await vms.vm(srv.azure.vm).catch(() => undefined);
      if (!vm?.dataDisks.some((d) => sameId(d.id, diskId))) throw e;
    }
    return again(item, pollDelay(s, retryAfter), { step: 'poll' });
  }
  const vm = await vms.vm(srv.azure.vm);
  if (!vm) {
    await failAttach(s, item, 'VMNotFound', 'The virtual machine does not exist.');
    return done();
  }
  const there = vm.dataDisks.find((d) => sameId(d.id, diskId));
  if (vm.provisioningState === 'Failed') {
    await failAttach(s, item, vm.error?.code ?? 'ProvisioningFailed', vm.error?.message ?? 'The virtual machine update failed.');
    return done();
  }
  if (!there || vm.provisioningState !== 'Succeeded') {
    if (there || BUSY_STATES.includes(vm.provisioningState)) return again(item, pollDelay(s));
    return again(item, 0, { step: 'send' }); // not on the VM and the VM at rest: Azure dropped it, send again
  }
  await volumeApi.attachComplete(s, m.volume_project_id, m.volume_id, srv.id, srv.host);
  await setMapping(s, srv, m.volume_id, ({ action: _a, ...x }) => ({ ...x, status: 'attached', lun: there.lun, device: x.device }));
  const ref = actionOf(srv, m);
  if (ref) await finishAction(s, ref, true);
  return done();
}

/** The detach failed: the disk stays on the VM, the volume back to in-use (Cinder's roll_detaching). */
async function failDetach(s: Services, item: WorkItem, code: string, message: string): Promise<void> {
  const p = await pending(s, item, 'detaching');
  if (!p) return;
  const { srv, m } = p;
  log.warn('volume detach refused by Azure', { server: item.id, volume: m.volume_id, code, requestId: item.requestId });
  await volumeApi.rollDetaching(s, m.volume_project_id, m.volume_id, item.id);
  await setMapping(s, srv, m.volume_id, ({ action: _a, ...x }) => ({ ...x, status: 'attached' }));
  const ref = actionOf(srv, m);
  if (ref) await finishAction(s, ref, false, `Azure error ${code}: ${message}`);
}

/** step send: one POST attachDetachDataDisks; step poll: GETs of the VM until the disk is off it. */
async function detachStep(item: WorkItem, s: Services): Promise<WorkResult> {
  const p = await pending(s, item, 'detaching');
  if (!p) return done();
  const { srv, m } = p;
  const vol = await volumeApi.getIn(s, m.volume_project_id, m.volume_id);
  const diskId = vol ? diskIdOf(s, vol.value.disk) : undefined;
  const vms = s.azure.vms;
  if (item.step !== 'poll' && diskId) {
    let retryAfter: number | undefined;
    try {
      retryAfter = (await vms.detachDataDisk(srv.azure.vm, diskId)).retryAfterSeconds;
    } catch (e) {
      // A VM that is gone, or no longer has the disk, has nothing to detach.
      const f = azureFailure(e);
      if (f.kind !== 'notFound' && f.kind !== 'client') throw e;
      const vm = await vms.vm(srv.azure.vm);
      if (vm?.dataDisks.some((d) => sameId(d.id, diskId))) throw e;
    }
    return again(item, pollDelay(s, retryAfter), { step: 'poll' });
  }
  const vm = await vms.vm(srv.azure.vm);
  const there = vm && diskId ? vm.dataDisks.some((d) => sameId(d.id, diskId)) : false;
  if (vm && (there || BUSY_STATES.includes(vm.provisioningState))) {
    if (there && !BUSY_STATES.includes(vm.provisioningState)) return again(item, 0, { step: 'send' });
    return again(item, pollDelay(s));
  }
  await volumeApi.detach(s, m.volume_project_id, m.volume_id, srv.id);
  await setMapping(s, srv, m.volume_id, () => undefined);
  const ref = actionOf(srv, m);
  if (ref) await finishAction(s, ref, true);
  return done();
}

/**
 * One step, records only: the volume must still be detaching with the attachment the admin named. The
 * Azure side is the volume-detach kind's (its give-up rolls the volume back to in-use: the disk stayed).
 */
async function forceDetachStep(item: WorkItem, s: Services): Promise<WorkResult> {
  const project = String(item.data?.project ?? '');
  const serverId = String(item.data?.server ?? '');
  const vol = await volumeApi.getIn(s, project, item.id);
  const at = vol && volumeApi.attachmentById(vol.value, String(item.data?.attachment ?? ''));
  if (!vol || vol.value.status !== 'detaching' || !at) return done();
  const cur = await getServerAny(s, serverId);
  const m = cur && volumesOf(cur.value).find((x) => x.volume_id === item.id);
  if (!cur || !m) {
    // Nova has no such mapping (os-attach named the server, or it is gone): nothing is on a VM.
    await volumeApi.detach(s, project, item.id, serverId);
    return done();
  }
  if (m.lun === null) {
    await volumeApi.rollDetaching(s, project, item.id, serverId); // an OS disk stays (the API refuses it)
    return done();
  }
  // A mapping already detaching (Nova's own detach, or this step before a lost enqueue) keeps its
  // action; a second volume-detach item is harmless (the later one finds the mapping gone).
  if (m.status !== 'detaching') {
    await setMapping(s, cur.value, item.id, ({ action: _a, ...x }) => ({ ...x, status: 'detaching' }));
    const ref = actionOf(cur.value, m);
    if (ref) await finishAction(s, ref, false, 'Volume force-detached through the Block Storage API');
  }
  await startWork(s, { kind: DETACH_KIND, id: serverId, key: item.id, data: { volume: item.id }, requestId: item.requestId });
  return done();
}

/** Given up before the volume-detach began (the volume still detaching with its attachment): back to in-use, or released. */
async function forceDetachGiveUp(item: WorkItem, s: Services): Promise<void> {
  const project = String(item.data?.project ?? '');
  const serverId = String(item.data?.server ?? '');
  const vol = await volumeApi.getIn(s, project, item.id);
  if (!vol || vol.value.status !== 'detaching' || !volumeApi.attachmentById(vol.value, String(item.data?.attachment ?? ''))) return;
  const m = (await getServerAny(s, serverId).then((c) => c && volumesOf(c.value).find((x) => x.volume_id === item.id))) ?? undefined;
  if (m?.status === 'detaching') return;
  if (m) await volumeApi.rollDetaching(s, project, item.id, serverId);
  else await volumeApi.detach(s, project, item.id, serverId);
}

async function bootVolumeStep(item: WorkItem, s: Services): Promise<WorkResult> {
  const p = await pending(s, item, 'attaching');
  if (!p) return done();
  const { srv, m } = p;
  if (srv.vm_state === 'building' && srv.task_state !== 'deleting') return again(item, pollDelay(s, 2));
  // A volume the build's VM made from the image (item.data.made): its disk exists only if the VM did.
  const made = item.data?.made === true;
  if (srv.vm_state === 'error' || srv.task_state === 'deleting') {
    if (made) await volumeApi.releaseBootVolume(s, m.volume_project_id, m.volume_id, srv.id);
    else await volumeApi.detach(s, m.volume_project_id, m.volume_id, srv.id);
    return done();
  }
  if (made) await volumeApi.bootDiskMade(s, m.volume_project_id, m.volume_id, srv.id, srv.host);
  else await volumeApi.attachComplete(s, m.volume_project_id, m.volume_id, srv.id, srv.host);
  await setMapping(s, srv, m.volume_id, (x) => ({ ...x, status: 'attached' }));
  return done();
}

/**
 * After the VM is gone: each volume of the server is released, and those with delete_on_termination
 * deleted as Cinder deletes a volume (the volume-delete work step removes the disk and the record).
 * A volume that meanwhile belongs to something else is left alone.
 */
export async function releaseServerVolumes(s: Services, srv: ServerRecord, requestId?: string): Promise<void> {
  for (const m of volumesOf(srv)) {
    if (m.delete_on_termination) {
      await volumeApi.deleteOnTermination(s, m.volume_project_id, m.volume_id, srv.id, requestId);
      continue;
    }
    const vol = await volumeApi.getIn(s, m.volume_project_id, m.volume_id);
    if (!vol || !volumeApi.attachmentOn(vol.value, srv.id)) continue;
    // The root volume may be one the build's VM was to make from the image and never did (deleted
    // while building): released if its disk exists, else in error, never available without a disk.
    if (m.device === '/dev/sda' || m.made) await volumeApi.releaseBootVolume(s, m.volume_project_id, m.volume_id, srv.id);
    else await volumeApi.detach(s, m.volume_project_id, m.volume_id, srv.id);
  }
}

/** The attach, detach and boot-volume kinds; given up, each puts the volume back where it was. */
export const VOLUME_ATTACH_KINDS: WorkKind[] = [
  { kind: ATTACH_KIND, run: attachStep, deadlineSeconds: 3600, giveUp: (item, s, f) => failAttach(s, item, f.code, f.message) },
  { kind: DETACH_KIND, run: detachStep, deadlineSeconds: 3600, giveUp: (item, s, f) => failDetach(s, item, f.code, f.message) },
  { kind: FORCE_DETACH_KIND, run: forceDetachStep, deadlineSeconds: 3600, giveUp: (item, s) => forceDetachGiveUp(item, s) },
  {
    kind: BOOT_VOLUME_KIND,
    run: bootVolumeStep,
    deadlineSeconds: 4 * 3600,
    async giveUp(item, s) {
      const p = await pending(s, item, 'attaching');
      if (p && p.srv.vm_state !== 'active') {
        if (item.data?.made === true) await volumeApi.releaseBootVolume(s, p.m.volume_project_id, p.m.volume_id, item.id);
        else await volumeApi.detach(s, p.m.volume_project_id, p.m.volume_id, item.id);
      }
    },
  },
];
