// The servers' build and delete, as work kinds of the long-action engine (shared/work/engine.ts).
// POST /servers only writes the record and starts server-build (create.ts); everything on Azure runs
// here, one idempotent step per queue message:
//   server-build     nic:<k>  PUT of the k-th NIC (synchronous on Azure: its answer carries the private
//                             IP, no poll) -> disk / diskwait (a snapshot image: the copy of the snapshot
//                             that becomes the OS disk) -> vm: the VM PUT (the admin password unsealed from
//                             the item) -> poll: GET of the VM, paced by the PUT's Retry-After, until
//                             Succeeded (then one GET per NIC for its MAC, which Azure assigns only
//                             once the VM runs; -> ACTIVE) or Failed (ERROR, then the cleanup teardown).
//                             A VM PUT that fails while the VM exists with this server's tags (a retry
//                             after Azure took the first PUT, a crash after it) adopts the VM.
//   server-teardown  one VM DELETE (deleteOption=Delete on the OS disk and NICs cascades), then GETs of
//                    the VM until it is gone; the record last. A cleanup after a failed build deletes
//                    the VM, or the NICs when no VM was made. Nothing else is read: the sweeps
//                    (shared/timers) remove whatever Azure left behind.
// Given up (the retry budget spent, Azure refusing, the deadline passed), a build or a delete ends the
// server in ERROR with Azure's fault and the instance action in Error; a later DELETE deletes again.
import type { Services } from '../../../services';
import type { WorkItem, WorkKind, WorkResult } from '../../../work/types';
import { again, done } from '../../../work/types';
import { pollDelay } from '../../../work/pace';
import { startWork } from '../../../work/ledger';
import { unseal } from '../../../work/seal';
import { log } from '../../../log';
import { azureFailure } from '../../../azure/errors';
import { BUSY_STATES, type ImageReference, type NicSpec, type OsDiskSource, type VmSpec } from '../../../azure/vms';
import { portStore } from '../../../network/ports';
import { portsGone } from '../../../network/floatingIpService';
import { getServerAny, removeServer, updateServer, POWER, type ServerRecord } from '../model';
import { finishAction } from '../instanceActions';
import { actionRef, failServer, giveUpServer, refused, TRUSTED_CERTS_ABORT } from './common';
import { releaseServer, serverRemoved } from '../../quotas/engine';
import { recordUsageEnd } from '../../usage/api';
import { diskIdOf, releaseServerVolumes } from './volumeAttach';
import { volumesOf } from '../volumes';
import { volumeApi } from '../../../volume/computeApi';
import { computeHostSchedulable } from '../../../servicegroup/registry';
import { placementName, placementTags } from '../../../azure/placement';
import { isStrict, placementKindOf } from '../../serverGroups/model';
import { loadUserData } from '../userData';
import { leaveGroup } from '../../serverGroups/service';

export const BUILD_KIND = 'server-build';
export const TEARDOWN_KIND = 'server-teardown';

/** What the build needs beyond the record, carried in the work item (create.ts). */
export interface BuildData {
  action: string;
  /**
   * `existing`: a port the user made (its NIC exists, with this address): taken as it is, left at delete.
   * `isolated`: the NIC of a server with networks "none" (no port): its subnet and NSG are made first.
   */
  nics: (NicSpec & { existing?: { ip?: string }; isolated?: boolean })[];
  image?: ImageReference;
  /** A server snapshot image: the Azure snapshot copied into the OS disk. */
  snapshot?: string;
  /** Boot from this volume's managed disk. */
  bootDisk?: string;
  /**
   * Boot from a new volume: made by the VM from the image (its OS disk, named as the volume's disk), or,
   * with `snapshot` and `bootDisk`, copied from the volume snapshot by the disk step (with its tags).
   */
  volumeDisk?: { sizeGB: number; sku: string; tags?: Record<string, string> };
  /** The admin password, sealed (shared/work/seal.ts); absent for disks booted as they are. */
  sealed?: string;
  sshPublicKey?: string;
  customData?: string;
  /** The user_data is too long for the work item: read from where it is kept (../userData.ts). */
  customDataStored?: boolean;
  azureZone?: string;
  hibernation?: boolean;
  /** The private IP each NIC PUT answered with, by NIC name. */
  ips?: Record<string, string>;
  /** VM PUTs sent that Azure then did not show (re-sent up to MAX_RESENDS times). */
  resends?: number;
  /** A soft server group member Azure could not place in the group's set/PPG: built without it. */
  unplaced?: boolean;
  /** Device tags were asked for (2.32): Azure has no device tagging, the build aborts. */
  tagged?: boolean;
}

/** A VM PUT Azure accepted but never showed is sent again this many times before the build gives up. */
const MAX_RESENDS = 2;
/** A build (or delete) whose polls keep succeeding without an end is given up after this long. */
const DEADLINE_SECONDS = 2 * 3600;

const dataOf = (item: WorkItem) => item.data as unknown as BuildData;
const withData = (item: WorkItem, patch: Partial<BuildData>) => ({ data: { ...item.data, ...patch } as Record<string, unknown> });

/** The OS disk of a build: the image, a copy of a snapshot (deleted with the VM), or a volume (kept). */
function osSource(srv: ServerRecord, d: BuildData): OsDiskSource {
  if (d.bootDisk) return { kind: 'attach', diskName: d.bootDisk, deleteWithVm: false };
  if (d.snapshot) return { kind: 'attach', diskName: srv.azure.os_disk, deleteWithVm: true };
  return { kind: 'image', imageReference: d.image!, ...(d.volumeDisk ? { volumeDisk: d.volumeDisk } : {}) };
}

async function nicStep(s: Services, item: WorkItem, srv: ServerRecord, k: number): Promise<WorkResult> {
  const d = dataOf(item);
  const spec = d.nics[k];
  if (spec.existing) {
    // A port the user made: its NIC is there already (portService.ts); the VM takes it as it is.
    const ips = { ...(d.ips ?? {}), ...(spec.existing.ip ? { [spec.name]: spec.existing.ip } : {}) };
    const next = k + 1 < d.nics.length ? `nic:${k + 1}` : d.snapshot ? 'disk' : 'vm';
    return again(item, 0, { step: next, ...withData(item, { ips }) });
  }
  if (spec.isolated) await s.azure.network.ensureIsolatedSubnet();
  const made = await s.azure.vms.createNic(spec, srv);
  const nic = srv.nics[k] as ServerRecord['nics'][number] | undefined;
  if (nic) await portStore(s).recordNic(srv.project_id, nic.port_id, made.id, made.ip ? [{ subnet_id: nic.subnet_id, ip_address: made.ip }] : undefined);
  // The record shows the address with its MAC, once the VM runs (pollStep): until then it is the item's.
  const cur = await getServerAny(s, srv.id);
  if (!cur || cur.value.task_state === 'deleting') {
    // Deleted while this NIC PUT was in flight: the teardown may already have looked for NICs and not
    // found this one, and no VM will cascade it. It is this step's to remove (a DELETE is idempotent;
    // if it fails, the NIC sweep finds it).
    await s.azure.vms.deleteNic(spec.name).catch((e: unknown) => log.warn('NIC of a deleted server left to the sweep', { server: srv.id, nic: spec.name, error: String(e) }));
    return done();
  }
  if (k === 0) await updateServer(s, cur, (v) => (v.vm_state === 'building' && v.task_state === 'scheduling' ? { ...v, task_state: 'networking' } : undefined));
  const ips = { ...(d.ips ?? {}), ...(made.ip ? { [spec.name]: made.ip } : {}) };
  const next = k + 1 < d.nics.length ? `nic:${k + 1}` : d.snapshot ? 'disk' : 'vm';
  return again(item, 0, { step: next, ...withData(item, { ips }) });
}

/** A VM that carries this server's tags: made by an earlier PUT of this build, adopted as it is. */
async function ownVm(s: Services, srv: ServerRecord) {
  const vm = await s.azure.vms.vm(srv.azure.vm).catch(() => undefined);
  return vm && vm.tags['jacket-server-id'] === srv.id ? vm : undefined;
}

/** Azure's answers when it cannot place a VM as asked (capacity, or the placement constraints). */
const ALLOCATION_CODES = ['AllocationFailed', 'OverconstrainedAllocationRequest', 'OverconstrainedZonalAllocationRequest', 'ZonalAllocationFailed'];

/**
 * A member of a strict server group that Azure cannot place (its proximity placement group or
 * availability set has no room for it) ends as Nova's scheduler leaves it: NoValidHost.
 */
function placementRefusal(srv: ServerRecord, code: string | undefined, message: string | undefined): void {
  if (srv.server_group && isStrict(srv.server_group.policy) && code && ALLOCATION_CODES.includes(code)) {
    refused('NoValidHost', `No valid host was found. ${message ?? ''}`.trim());
  }
}

/**
 * A soft-affinity / soft-anti-affinity member (2.15) is placed with its group when Azure can and
 * without it when Azure cannot, as Nova's soft weighers only prefer hosts: true when this refusal is
 * one to build again outside the group's set/PPG.
 */
const softUnplaceable = (srv: ServerRecord, d: BuildData, code: string | undefined) =>
  !!srv.server_group && !isStrict(srv.server_group.policy) && !d.unplaced && !!code && ALLOCATION_CODES.includes(code);

/**
 * The server group's placement on Azure, made by the first member's build (PUT is idempotent, so
 * every member sends it; one synchronous write): a proximity placement group for affinity, an
 * aligned availability set for anti-affinity. An availability set cannot hold a VM pinned to a
 * zone: a strict anti-affinity member in a zoned availability zone ends NoValidHost before any
 * Azure call; a soft one is placed by its zone alone.
 */
async function groupPlacement(s: Services, srv: ServerRecord, d: BuildData): Promise<{ availabilitySetId?: string; proximityPlacementGroupId?: string }> {
  const g = srv.server_group;
  if (!g || d.unplaced) return {};
  const kind = placementKindOf(g.policy);
  if (kind === 'availabilitySet' && d.azureZone) {
    if (isStrict(g.policy)) {
      refused('NoValidHost', `No valid host was found. Anti-affinity server groups are Azure availability sets, which cannot hold a VM in availability zone ${srv.availability_zone}.`);
    }
    return {};
  }
  const placement = s.azure.placement;
  const name = placementName(kind, g.id);
  const made = await placement.put(kind, name, placementTags({ id: g.id, project_id: srv.project_id }));
  const id = made.id || placement.id(kind, name);
  return kind === 'availabilitySet' ? { availabilitySetId: id } : { proximityPlacementGroupId: id };
}

/** The volumes mapped at boot (../bootVolume.ts, still attaching): data disks of the VM's PUT. */
async function bootDataDisks(s: Services, srv: ServerRecord): Promise<NonNullable<VmSpec['dataDisks']>> {
  const out: NonNullable<VmSpec['dataDisks']> = [];
  for (const m of volumesOf(srv)) {
    if (m.lun === null || m.status !== 'attaching') continue;
    const vol = await volumeApi.getIn(s, m.volume_project_id, m.volume_id);
    if (!vol) continue;
    const d = vol.value.disk;
    if (!m.made) {
      out.push({ lun: m.lun, diskId: diskIdOf(s, d) });
      continue;
    }
    // A volume made at boot: blank (Empty), or a copy of its snapshot (Copy; the snapshot's Azure id).
    const sourceId = vol.value.snapshot_id ? await volumeApi.snapshotArmId(s, vol.value.snapshot_id) : undefined;
    out.push({ lun: m.lun, made: { name: d.name, sizeGB: vol.value.size, sku: d.sku, ...(sourceId ? { sourceId } : {}) } });
  }
  return out;
}

async function vmStep(s: Services, item: WorkItem, srv: ServerRecord): Promise<WorkResult> {
  const d = dataOf(item);
  const vms = s.azure.vms;
  const body = {
    ...(await groupPlacement(s, srv, d)),
    os: osSource(srv, d),
    adminPassword: d.sealed ? unseal(s.config, d.sealed) : undefined,
    sshPublicKey: srv.os_type === 'linux' ? d.sshPublicKey : undefined,
    customData: d.customData ?? (d.customDataStored ? (await loadUserData(s, [srv])).get(srv.id)?.replace(/\s+/g, '') || undefined : undefined),
    azureZone: d.azureZone,
    hibernation: d.hibernation,
    nicIds: d.nics.map((n) => vms.nicId(n.name)),
    keepNicIds: d.nics.filter((n) => n.existing).map((n) => vms.nicId(n.name)),
    dataDisks: await bootDataDisks(s, srv),
  };
  let retryAfter: number | undefined;
  try {
    retryAfter = (await vms.createVm(srv.azure.vm, vms.vmBody(srv, body))).retryAfterSeconds;
  } catch (e) {
    // Azure may hold the VM already (an earlier PUT of this build that Azure took): adopt it.
    if (!(await ownVm(s, srv))) {
      const f = azureFailure(e);
      if (softUnplaceable(srv, d, f.code)) {
        log.info('soft server group member built outside its group', { server: srv.id, code: f.code, requestId: item.requestId });
        return again(item, 0, { step: 'vm', ...withData(item, { unplaced: true }) });
      }
      placementRefusal(srv, f.code, f.message);
      throw e;
    }
    log.info('server build adopts its VM found on Azure', { server: srv.id, code: azureFailure(e).code, requestId: item.requestId });
  }
  const cur = await getServerAny(s, srv.id);
  if (!cur || cur.value.task_state === 'deleting') {
    // Deleted while this PUT was in flight: the teardown may have found no VM yet and finished, so
    // nothing else would delete the one this PUT made (its DELETE cascades to the NICs and OS disk; a
    // second DELETE beside a running teardown is harmless). A failed DELETE leaves it to sweep-vms.
    await vms.deleteVm(srv.azure.vm).catch((e: unknown) => log.warn('VM of a deleted server left to the sweep', { server: srv.id, error: String(e) }));
    return done();
  }
  await updateServer(s, cur, (v) => (v.vm_state !== 'building' || v.task_state === 'deleting' ? undefined : { ...v, task_state: 'spawning', host: `azure-${s.config.azure.location}` }));
  return again(item, pollDelay(s, retryAfter), { step: 'poll' });
}

async function pollStep(s: Services, item: WorkItem, srv: ServerRecord): Promise<WorkResult> {
  const st = await s.azure.vms.vm(srv.azure.vm);
  if (!st) {
    // Accepted but not there: send the PUT again (idempotent), a few times.
    const resends = dataOf(item).resends ?? 0;
    if (resends >= MAX_RESENDS) refused('VMNotFound', 'The virtual machine request did not reach Azure.');
    return again(item, 0, { step: 'vm', ...withData(item, { resends: resends + 1 }) });
  }
  if (st.provisioningState === 'Failed' || st.provisioningState === 'Canceled') {
    log.warn('server build failed on Azure', { server: srv.id, code: st.error?.code, requestId: item.requestId });
    if (softUnplaceable(srv, dataOf(item), st.error?.code)) {
      // The failed VM goes (with the NICs and OS disk it would delete), then the build starts again
      // from its NICs without the group's placement.
      await s.azure.vms.deleteVm(srv.azure.vm);
      return again(item, pollDelay(s), { step: 'unplace', ...withData(item, { unplaced: true }) });
    }
    placementRefusal(srv, st.error?.code, st.error?.message);
    refused(st.error?.code ?? st.provisioningState, st.error?.message ?? `The virtual machine provisioning ended ${st.provisioningState}.`);
  }
  if (st.provisioningState !== 'Succeeded') return again(item, pollDelay(s));
  const ips = dataOf(item).ips ?? {};
  // The one read beyond the VM's polls: Azure gives a NIC its MAC only once the VM runs.
  const macs = new Map<string, string>();
  for (const n of srv.nics) {
    const mac = n.mac ?? (await s.azure.vms.nicMac(n.nic_name));
    if (mac) macs.set(n.nic_name, mac);
  }
  const cur = await getServerAny(s, srv.id);
  if (cur) {
    await updateServer(s, cur, (v) =>
      v.vm_state !== 'building' || v.task_state === 'deleting'
        ? undefined
        : {
            ...v,
            vm_state: 'active',
            task_state: null,
            power_state: st.powerState === 'running' || st.powerState === 'starting' ? POWER.RUNNING : POWER.SHUTDOWN,
            launched_at: new Date().toISOString(),
            host: v.host ?? `azure-${s.config.azure.location}`,
            progress: 0,
            nics: v.nics.map((n) => ({ ...n, ...(ips[n.nic_name] ? { addr: ips[n.nic_name] } : {}), ...(macs.has(n.nic_name) ? { mac: macs.get(n.nic_name) } : {}) })),
          },
    );
  }
  const ports = portStore(s);
  for (const n of srv.nics) await ports.markStatus(srv.project_id, n.port_id, 'ACTIVE', macs.get(n.nic_name));
  const ref = actionRef(item);
  if (ref) await finishAction(s, ref, true);
  return done();
}

async function diskStep(s: Services, item: WorkItem, srv: ServerRecord, wait: boolean): Promise<WorkResult> {
  const d = dataOf(item);
  const vms = s.azure.vms;
  if (!wait) {
    // A volume's disk (boot from a new volume made from a volume snapshot) is made as the volume's.
    const volume = d.bootDisk && d.volumeDisk?.tags ? { sku: d.volumeDisk.sku, sizeGB: d.volumeDisk.sizeGB, tags: d.volumeDisk.tags } : undefined;
    const sub = await vms.putOsDisk(srv.azure.os_disk, srv, { createOption: 'Copy', sourceResourceId: d.snapshot }, d.azureZone, volume);
    return again(item, pollDelay(s, sub.retryAfterSeconds), { step: 'diskwait' });
  }
  const disk = await vms.osDisk(srv.azure.os_disk);
  if (!disk) return again(item, 0, { step: 'disk' });
  if (disk.provisioningState === 'Failed' || disk.provisioningState === 'Canceled') refused('DiskCreationFailed', 'The copy of the snapshot could not be made into the OS disk.');
  if (disk.provisioningState !== 'Succeeded') return again(item, pollDelay(s));
  return again(item, 0, { step: 'vm' });
}

async function buildStep(item: WorkItem, s: Services): Promise<WorkResult> {
  const cur = await getServerAny(s, item.id);
  if (!cur || cur.value.vm_state !== 'building' || cur.value.task_state === 'deleting') {
    // Deleted while building: the delete takes over, the create action ends in Error (as Nova's).
    const ref = actionRef(item);
    if (ref && cur?.value.task_state === 'deleting') await finishAction(s, ref, false, 'The server was deleted while it was being built.');
    return done();
  }
  const srv = cur.value;
  const step = item.step ?? 'nic:0';
  // Scheduling (Nova's conductor asking the scheduler, before anything is made): a disabled or
  // forced-down nova-compute leaves no host, and the build ends as Nova's NoValidHost does.
  if (step === 'nic:0' && !(await computeHostSchedulable(s))) refused('NoValidHost', 'No valid host was found. There are not enough hosts available.');
  // The compute manager's _check_device_tagging, before any network or disk is made: a driver without
  // supports_device_tagging (Azure exposes no device metadata to the guest) aborts the build.
  if (step === 'nic:0' && dataOf(item).tagged) refused('BuildAbortException', 'Attempt to boot guest with tagged devices on host that does not support tagging.');
  // Then _check_trusted_certs (2.63): Jacket cannot verify an image's signature against certificates
  // (no supports_trusted_certs), so a build given trusted_image_certificates aborts.
  if (step === 'nic:0' && srv.trusted_certs?.length) refused('BuildAbortException', TRUSTED_CERTS_ABORT);
  if (step.startsWith('nic:')) return nicStep(s, item, srv, Number(step.slice(4)) || 0);
  if (step === 'disk' || step === 'diskwait') return diskStep(s, item, srv, step === 'diskwait');
  if (step === 'vm') return vmStep(s, item, srv);
  if (step === 'unplace') return (await s.azure.vms.vm(srv.azure.vm)) ? again(item, pollDelay(s)) : again(item, 0, { step: 'nic:0' });
  return pollStep(s, item, srv);
}

export const buildKind: WorkKind = {
  kind: BUILD_KIND,
  run: buildStep,
  deadlineSeconds: DEADLINE_SECONDS,
  async giveUp(item, s, f) {
    if (!(await giveUpServer(s, item, f, (v) => v.vm_state === 'building' && v.task_state !== 'deleting'))) return;
    // Whatever the build made on Azure goes (the record stays, in ERROR, until it is deleted).
    await startWork(s, { kind: TEARDOWN_KIND, id: item.id, data: { purpose: 'cleanup' }, requestId: item.requestId });
  },
};

// ---- teardown ----

/**
 * NICs made for a VM that never was (its PUT never sent or refused) are not cascaded by a VM delete:
 * they go one by one. A server whose VM PUT was sent (host set) has its NICs deleted with the VM.
 */
async function deleteOrphanNics(s: Services, srv: ServerRecord): Promise<void> {
  if (srv.host && srv.vm_state !== 'error') return;
  for (const n of srv.nics) if (!n.preexisting) await s.azure.vms.deleteNic(n.nic_name);
  if (srv.isolated_nic) await s.azure.vms.deleteNic(srv.isolated_nic);
}

/**
 * The server's ports go: its own with it (after their floating IPs are dissociated, as Neutron's port
 * delete does); a port the user made stays, unbound, as Nova leaves it (and keeps its floating IP).
 */
async function releasePorts(s: Services, srv: ServerRecord): Promise<void> {
  const own = srv.nics.filter((n) => !n.preexisting);
  await portsGone(
    s,
    srv.project_id,
    own.map((n) => n.port_id),
  );
  const ports = portStore(s);
  for (const n of own) await ports.remove(srv.project_id, n.port_id);
  for (const n of srv.nics.filter((x) => x.preexisting)) await ports.unbind(srv.project_id, n.port_id, srv.id);
  // A port bound by an interface attach the delete cut short is not among the NICs yet: left unbound
  // (the user may delete it), never held by a server that is gone.
  for (const p of await ports.listProject(srv.project_id, { device_id: [srv.id] })) await ports.unbind(srv.project_id, p.id, srv.id);
}

async function finishDelete(s: Services, item: WorkItem): Promise<WorkResult> {
  const cur = await getServerAny(s, item.id);
  if (!cur) return done();
  await deleteOrphanNics(s, cur.value);
  // The isolated NIC (networks "none") goes whatever the VM's delete did with it: an interface attach
  // rewrites the VM's NICs with deleteOption Detach (404 is success when the VM's delete took it).
  if (cur.value.isolated_nic) await s.azure.vms.deleteNic(cur.value.isolated_nic);
  await releasePorts(s, cur.value);
  // The VM is gone: its volumes are released (delete_on_termination: deleted).
  await releaseServerVolumes(s, cur.value, item.requestId);
  await recordUsageEnd(s, cur.value);
  // Nova lists only servers not deleted as members: it leaves its group before its record goes, so a
  // server seen gone is no member any more (a retried step leaves again, idempotently); a group
  // deleted before it may now have its availability set or proximity placement group removed.
  const g = cur.value.server_group;
  if (g) await leaveGroup(s, { ...g, project_id: cur.value.project_id }, [cur.value.id], item.requestId);
  // Nova's usage counts a server until Azure confirmed its deletion: given back now, before the record
  // goes (once per server: a retry after a crash between the two does not give it back again).
  await releaseServer(s, cur.value);
  await removeServer(s, cur);
  await serverRemoved(s, cur.value);
  const ref = actionRef(item);
  if (ref) await finishAction(s, ref, true);
  return done();
}

async function finishCleanup(s: Services, srv: ServerRecord): Promise<WorkResult> {
  await deleteOrphanNics(s, srv);
  await releasePorts(s, srv);
  const cur = await getServerAny(s, srv.id);
  if (cur) await updateServer(s, cur, (v) => ({ ...v, nics: v.nics.map(({ addr: _a, mac: _m, floating: _f, ...n }) => n) }));
  return done();
}

async function teardownStep(item: WorkItem, s: Services): Promise<WorkResult> {
  const purpose = item.data?.purpose === 'delete' ? 'delete' : 'cleanup';
  const cur = await getServerAny(s, item.id);
  if (!cur) return done();
  // A delete requested meanwhile runs its own teardown (and removes the record); a delete given up
  // (task_state cleared) ends this one.
  if (purpose === 'cleanup' && cur.value.task_state === 'deleting') return done();
  if (purpose === 'delete' && cur.value.task_state !== 'deleting') return done();
  const vms = s.azure.vms;
  const srv = cur.value;
  if (item.step !== 'gone') {
    const sub = await vms.deleteVm(srv.azure.vm);
    if (sub.absent) return purpose === 'delete' ? finishDelete(s, item) : finishCleanup(s, srv);
    return again(item, pollDelay(s, sub.retryAfterSeconds), { step: 'gone' });
  }
  const vm = await vms.vm(srv.azure.vm);
  if (!vm) return purpose === 'delete' ? finishDelete(s, item) : finishCleanup(s, srv);
  // Still there and no longer deleting (Azure's delete failed, or it had not started): send it again.
  if (vm.provisioningState !== 'Deleting' && !BUSY_STATES.includes(vm.provisioningState)) return again(item, 0, { step: 'send' });
  return again(item, pollDelay(s));
}

export const teardownKind: WorkKind = {
  kind: TEARDOWN_KIND,
  run: teardownStep,
  deadlineSeconds: DEADLINE_SECONDS,
  async giveUp(item, s, f) {
    if (item.data?.purpose !== 'delete') {
      // The server is in ERROR already; what is left on Azure is the sweeps' business.
      log.warn('server cleanup given up', { server: item.id, code: f.code, requestId: item.requestId });
      return;
    }
    // Nova's stable state for a delete that failed: ERROR with the fault; a later DELETE runs again.
    await failServer(s, item.id, actionRef(item), f, { deleting: true });
  },
};

/** Starts the delete of a server whose record already says task_state deleting. */
export function startTeardown(s: Services, serverId: string, requestId?: string, action?: string): Promise<void> {
  return startWork(s, { kind: TEARDOWN_KIND, id: serverId, data: { purpose: 'delete', ...(action ? { action } : {}) }, requestId });
}

export const SERVER_BUILD_KINDS: WorkKind[] = [buildKind, teardownKind];
