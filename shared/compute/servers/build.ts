// The servers' work-queue steps (shared/work/queue.ts). Each step reads the record and what exists on
// Azure, does the next idempotent thing, and comes back later ('again' with a delay) instead of waiting
// on a long-running operation; a crash anywhere is resumed by the queue's retry.
//   server-build     polls the VM until Azure says Succeeded (-> ACTIVE, addresses) or Failed (-> ERROR
//                    with Azure's message, then the cleanup teardown).
//   server-teardown  deletes the VM (its NIC and OS disk go with it: deleteOption=Delete), then deletes
//                    any NIC or OS disk Azure left behind, then the port records; for a delete, the
//                    record last, once Azure has confirmed everything is gone.
import type { Services } from '../../services';
import { registerWork, type WorkItem, type WorkResult } from '../../work/queue';
import { log } from '../../log';
import { portStore } from '../../network/ports';
import { getServerAny, removeServer, updateServer, POWER, type ServerRecord } from './model';
import { serverArm, armFailure, type ArmFailure } from './azureVm';
import { finishAction, type ActionRef } from './instanceActions';
import { registerUsageCounter } from '../quotas';
import { serverRepo } from './model';
import { odata } from '../../store/tables';
import { recordUsageEnd } from '../simpleTenantUsage';
import { rootVolumeOf } from '../serverVolumes';
import { releaseServerVolumes } from '../volumeAttachWork';

export const BUILD_KIND = 'server-build';
export const TEARDOWN_KIND = 'server-teardown';

const POLL_SECONDS = 1;
/** How long a VM may stay absent after its PUT was sent before the build is given up (polls). */
const ABSENT_POLLS = 60;
const TRANSITIONAL = ['Creating', 'Updating', 'Deleting', 'Migrating'];

const actionRef = (item: WorkItem): ActionRef | undefined => (typeof item.data?.action === 'string' ? { serverId: item.id, rowKey: item.data.action } : undefined);

/** ERROR with Nova's fault shape: code 500, Azure's message; Azure's error code for admins (details). */
export async function failServer(s: Services, id: string, action: ActionRef | undefined, f: ArmFailure): Promise<void> {
  const cur = await getServerAny(s, id);
  if (cur) {
    await updateServer(s, cur, (v) =>
      v.task_state === 'deleting'
        ? undefined
        : { ...v, vm_state: 'error', task_state: null, power_state: POWER.NOSTATE, fault: { code: 500, message: f.message.slice(0, 255), details: `Azure error ${f.code}`, created: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z') } },
    );
  }
  if (action) await finishAction(s, action, false, `Azure error ${f.code}`);
}

async function buildStep(item: WorkItem, s: Services): Promise<WorkResult> {
  const cur = await getServerAny(s, item.id);
  if (!cur || cur.value.vm_state !== 'building' || cur.value.task_state === 'deleting') return { status: 'done' };
  const srv = cur.value;
  const arm = serverArm(s.config);
  const st = await arm.vmState(srv.azure.vm);
  if (!st) {
    if ((item.polls ?? 0) < ABSENT_POLLS) return { status: 'again', delaySeconds: POLL_SECONDS };
    await failServer(s, srv.id, actionRef(item), { code: 'VMNotFound', message: 'The virtual machine request did not reach Azure.' });
    await s.work.enqueue({ kind: TEARDOWN_KIND, id: srv.id, data: { purpose: 'cleanup' }, requestId: item.requestId });
    return { status: 'done' };
  }
  if (st.provisioningState === 'Failed' || st.provisioningState === 'Canceled') {
    log.warn('server build failed on Azure', { server: srv.id, code: st.error?.code, requestId: item.requestId });
    await failServer(s, srv.id, actionRef(item), st.error ?? { code: st.provisioningState, message: `The virtual machine provisioning ended ${st.provisioningState}.` });
    await s.work.enqueue({ kind: TEARDOWN_KIND, id: srv.id, data: { purpose: 'cleanup' }, requestId: item.requestId });
    return { status: 'done' };
  }
  if (st.provisioningState !== 'Succeeded') return { status: 'again', delaySeconds: POLL_SECONDS };
  const nics = await Promise.all(srv.nics.map(async (n) => ({ n, azure: await arm.nic(n.nic_name) })));
  const launched = new Date().toISOString();
  await updateServer(s, cur, (v) =>
    v.vm_state !== 'building' || v.task_state === 'deleting'
      ? undefined
      : {
          ...v,
          vm_state: 'active',
          task_state: null,
          power_state: st.powerState === 'running' || st.powerState === 'starting' ? POWER.RUNNING : POWER.SHUTDOWN,
          launched_at: launched,
          progress: 0,
          nics: v.nics.map((n) => {
            const a = nics.find((x) => x.n.nic_name === n.nic_name)?.azure;
            return a ? { ...n, addr: a.ip, mac: a.mac } : n;
          }),
        },
  );
  const ports = portStore(s);
  for (const { n, azure } of nics) {
    const p = await ports.get(srv.project_id, n.port_id);
    if (p && azure) {
      await ports.put({
        ...p,
        status: 'ACTIVE',
        mac_address: azure.mac ? azure.mac.toLowerCase().replace(/-/g, ':') : p.mac_address,
        fixed_ips: azure.ip ? [{ subnet_id: n.subnet_id, ip_address: azure.ip }] : p.fixed_ips,
        azureNicId: azure.id,
        updated_at: new Date().toISOString(),
      });
    }
  }
  const ref = actionRef(item);
  if (ref) await finishAction(s, ref, true);
  return { status: 'done' };
}

/** Deletes what exists on Azure, one layer at a time; true when nothing is left. */
async function azureGone(s: Services, srv: ServerRecord): Promise<boolean> {
  const arm = serverArm(s.config);
  const vm = await arm.vmState(srv.azure.vm);
  if (vm) {
    // Azure refuses a delete while another operation runs on the VM: wait for it to end.
    if (!TRANSITIONAL.includes(vm.provisioningState)) {
      try {
        await arm.deleteVm(srv.azure.vm);
      } catch (e) {
        const f = armFailure(e);
        if (f.status !== 409) throw e;
      }
    }
    return false;
  }
  let left = false;
  for (const n of srv.nics) {
    const nic = await arm.nic(n.nic_name);
    if (!nic) continue;
    left = true;
    if (!nic.attached && nic.provisioningState !== 'Deleting') await arm.deleteNic(n.nic_name);
  }
  // A server booted from a volume: its OS disk is the volume's, which Cinder keeps or deletes.
  const disk = rootVolumeOf(srv) ? undefined : await arm.disk(srv.azure.os_disk);
  if (disk) {
    left = true;
    if (!disk.managedBy && disk.provisioningState !== 'Deleting') await arm.deleteDisk(srv.azure.os_disk);
  }
  return !left;
}

async function teardownStep(item: WorkItem, s: Services): Promise<WorkResult> {
  const purpose = item.data?.purpose === 'delete' ? 'delete' : 'cleanup';
  const cur = await getServerAny(s, item.id);
  if (!cur) return { status: 'done' };
  // A delete requested meanwhile runs its own teardown (and removes the record).
  if (purpose === 'cleanup' && cur.value.task_state === 'deleting') return { status: 'done' };
  if (!(await azureGone(s, cur.value))) return { status: 'again', delaySeconds: POLL_SECONDS };
  const ports = portStore(s);
  for (const n of cur.value.nics) await ports.remove(cur.value.project_id, n.port_id);
  if (purpose === 'delete') {
    // The VM is gone: its volumes are released (delete_on_termination: deleted).
    await releaseServerVolumes(s, cur.value, item.requestId);
    await recordUsageEnd(s, cur.value);
    await removeServer(s, cur);
    const ref = actionRef(item);
    if (ref) await finishAction(s, ref, true);
  } else {
    await updateServer(s, cur, (v) => ({ ...v, nics: v.nics.map(({ addr: _a, mac: _m, ...n }) => n) }));
  }
  return { status: 'done' };
}

registerWork(BUILD_KIND, buildStep);
registerWork(TEARDOWN_KIND, teardownStep);

// Usage for Nova's quotas: every server record of the project (or of one user in it) counts until
// Azure has confirmed its deletion.
async function usage(s: Services, projectId: string, userId: string | undefined, pick: (r: ServerRecord) => number): Promise<number> {
  const rows = await serverRepo(s).list(projectId, userId ? odata`user_id eq ${userId}` : undefined);
  return rows.reduce((a, r) => a + pick(r.value), 0);
}
registerUsageCounter('instances', (p, u, s) => usage(s, p, u, () => 1));
registerUsageCounter('cores', (p, u, s) => usage(s, p, u, (r) => r.vcpus));
registerUsageCounter('ram', (p, u, s) => usage(s, p, u, (r) => r.memory_mb));
