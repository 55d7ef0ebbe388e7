/**
 * The emulator's control API, plain JSON under /_emulator/ (no ARM path starts with it): faults,
 * recorded requests, reset, configuration, and changes made "behind Jacket's back".
 */
import type { IncomingMessage } from 'node:http';
import { ArmError } from './arm/errors';
import { isIdOfType, parseResourceId, sameId } from './arm/ids';
import type { Reply } from './arm/http';
import { deleteDiskBlobs, vmsHolding } from './compute/disks';
import type { DiskRecord, ImageRecord, PowerState, VmRecord } from './compute/model';
import { destroyVm, setPowerStateOutOfBand } from './compute/virtualMachines';
import type { Emulator } from './emulator';
import type { NicRecord, PipRecord, VnetRecord } from './network/model';
import { nicInUse, removeNic } from './network/nics';
import { T } from './state';

const POWER_STATES: PowerState[] = ['starting', 'running', 'stopping', 'stopped', 'deallocating', 'deallocated'];

function bad(message: string, status = 400): ArmError {
  return new ArmError(status, 'BadControlRequest', message);
}

function typeOfId(id: string): string | undefined {
  const p = parseResourceId(id);
  if (!p) return undefined;
  const all = Object.values(T) as string[];
  return all.find((t) => t.toLowerCase() === `${p.provider}/${p.type}`.toLowerCase());
}

async function deleteBehindTheBack(emu: Emulator, id: string): Promise<void> {
  const type = typeOfId(id);
  if (!type) throw bad(`Unsupported resource id ${id}`);
  const rec = emu.store.get<any>(type, id);
  if (!rec) throw bad(`Resource ${id} does not exist`, 404);
  switch (type) {
    case T.vm:
      await destroyVm(emu, rec as VmRecord, true);
      return;
    case T.disk: {
      const d = rec as DiskRecord;
      for (const vmId of vmsHolding(d)) {
        const vm = emu.store.get<VmRecord>(T.vm, vmId);
        if (vm && sameId(vm.osDisk.diskId, d.id)) throw bad(`Disk ${d.id} is the OS disk of ${vm.id}; delete the VM instead`, 409);
        if (vm) vm.dataDisks = vm.dataDisks.filter((x) => !sameId(x.diskId, d.id));
      }
      emu.store.delete(T.disk, d.id);
      await deleteDiskBlobs(emu, d);
      return;
    }
    case T.snapshot:
      emu.store.delete(T.snapshot, id);
      await deleteDiskBlobs(emu, rec as DiskRecord);
      return;
    case T.image:
      emu.store.delete(T.image, id);
      await emu.blobs.deletePrefix(`images/${(rec as ImageRecord).uniqueId}/`);
      return;
    case T.nic: {
      const nic = rec as NicRecord;
      if (nic.vmId) throw nicInUse(nic.id, nic.vmId);
      removeNic(emu, nic);
      return;
    }
    case T.nsg:
      for (const n of emu.store.list<NicRecord>(T.nic)) if (sameId(n.nsgId, id)) n.nsgId = undefined;
      for (const v of emu.store.list<VnetRecord>(T.vnet)) for (const s of v.subnets) if (sameId(s.nsgId, id)) s.nsgId = undefined;
      emu.store.delete(T.nsg, id);
      return;
    case T.pip:
      for (const n of emu.store.list<NicRecord>(T.nic)) for (const c of n.ipConfigurations) if (sameId(c.publicIPAddressId, id)) c.publicIPAddressId = undefined;
      emu.store.delete(T.pip, (rec as PipRecord).id);
      return;
    case T.vnet:
      emu.store.delete(T.vnet, id);
      return;
    default:
      emu.store.delete(type, id);
  }
}

export async function handleControl(emu: Emulator, req: IncomingMessage, url: URL, body: any): Promise<Reply> {
  const method = req.method ?? 'GET';
  const parts = url.pathname
    .replace(/^\/_emulator\/?/, '')
    .split('/')
    .filter(Boolean)
    .map(decodeURIComponent);
  const [head, ...rest] = parts;
  try {
    switch (head) {
      case 'health':
        return { status: 200, body: { ok: true, subscriptionId: emu.sub, location: emu.location } };
      case 'faults':
        if (method === 'GET') return { status: 200, body: emu.faults.list().map((f) => ({ id: f.id, remaining: f.remaining, hits: f.hits, ...f.spec })) };
        if (method === 'POST') {
          const f = emu.faults.add(body ?? {});
          return { status: 201, body: { id: f.id, remaining: f.remaining, ...f.spec } };
        }
        if (method === 'DELETE') {
          if (rest[0]) return { status: emu.faults.remove(rest[0]) ? 204 : 404 };
          emu.faults.clear();
          return { status: 204 };
        }
        break;
      case 'requests':
        if (method === 'GET') {
          const since = Number(url.searchParams.get('since') ?? 0);
          return { status: 200, body: emu.recorder.list().filter((r) => r.seq > since) };
        }
        if (method === 'DELETE') {
          emu.recorder.clear();
          return { status: 204 };
        }
        break;
      case 'operations':
        if (method === 'GET') {
          return {
            status: 200,
            body: emu.ops.all().map(({ done: _d, ...o }) => o),
          };
        }
        break;
      case 'reset':
        if (method === 'POST') {
          await emu.reset();
          return { status: 204 };
        }
        break;
      case 'config':
        if (method === 'GET') return { status: 200, body: { asyncDelayMs: emu.asyncDelayMs, nicReservationMs: emu.nicReservationMs, throttle: emu.throttle.current() } };
        if (method === 'PUT' || method === 'PATCH') {
          if (body?.asyncDelayMs !== undefined) emu.asyncDelayMs = Number(body.asyncDelayMs);
          if (body?.nicReservationMs !== undefined) emu.nicReservationMs = Number(body.nicReservationMs);
          if (body?.throttle) emu.throttle.configure(body.throttle);
          if (body?.coresQuota !== undefined) emu.cfg.seed.coresQuota = Number(body.coresQuota);
          return { status: 200, body: { asyncDelayMs: emu.asyncDelayMs, nicReservationMs: emu.nicReservationMs, throttle: emu.throttle.current(), coresQuota: emu.cfg.seed.coresQuota } };
        }
        break;
      case 'powerState':
        if (method === 'POST') {
          const id = body?.id;
          const state = body?.state;
          if (typeof id !== 'string' || !isIdOfType(id, 'Microsoft.Compute', 'virtualMachines')) throw bad('id must be a virtual machine resource id');
          if (!POWER_STATES.includes(state)) throw bad(`state must be one of ${POWER_STATES.join(', ')}`);
          const vm = emu.store.get<VmRecord>(T.vm, id);
          if (!vm) throw bad(`VM ${id} does not exist`, 404);
          await setPowerStateOutOfBand(emu, vm, state);
          return { status: 200, body: { id: vm.id, powerState: vm.powerState } };
        }
        break;
      case 'resources': {
        const id = url.searchParams.get('id');
        if (!id) throw bad('query parameter id (an ARM resource id) is required');
        if (method === 'DELETE') {
          await deleteBehindTheBack(emu, id);
          return { status: 204 };
        }
        if (method === 'GET') {
          const type = typeOfId(id);
          const rec = type ? emu.store.get<any>(type, id) : undefined;
          if (!rec) throw bad(`Resource ${id} does not exist`, 404);
          return { status: 200, body: rec };
        }
        break;
      }
      default:
        break;
    }
    return { status: 404, body: { error: { code: 'NotFound', message: `No control endpoint ${method} ${url.pathname}` } } };
  } catch (e) {
    if (e instanceof ArmError) return { status: e.status, body: e.toBody() };
    return { status: 400, body: { error: { code: 'BadControlRequest', message: (e as Error).message } } };
  }
}
