/**
 * Microsoft.Compute/virtualMachines: create/update (PUT, PATCH), get ($expand=instanceView), list, delete
 * honouring deleteOption, and the power/maintenance actions, as long-running operations.
 */
import { ArmError, invalidParameter, operationNotAllowed } from '../arm/errors';
import type { Ctx, Reply } from '../arm/http';
import { list, ok } from '../arm/http';
import { sameId } from '../arm/ids';
import { accepted, lroBody, noContent, tagsOf } from '../arm/replies';
import type { Router } from '../arm/router';
import type { Emulator } from '../emulator';
import type { NicRecord, PipRecord } from '../network/model';
import { removeNic } from '../network/nics';
import { T } from '../state';
import { bootDiagnosticsUris, deleteBootDiagnostics, recordBoot } from './bootDiagnostics';
import { findSize, marketplaceBootSector, renderSize, requireSize, resolveMarketplaceImage } from './catalog';
import { deleteDiskBlobs, holdDisk, releaseDisk, vmsHolding } from './disks';
import { deleteExtensionsOf } from './extensions';
import { findImage } from './images';
import type { DiskRecord, PowerState, VmRecord } from './model';
import { checkCustomData, checkPassword } from './validation';
import { checkPlacementUnchanged } from './placement';
import { assignMacs, attachNics, checkQuota, planCreateVm, planDataDisks, planNics } from './vmPlan';
import { renderInstanceView, renderVm } from './vmRender';
import { getVm, guardVm, vmIdFor } from './vmLookup';

const BASE = '/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Compute/virtualMachines';

function releaseDynamicPublicIps(emu: Emulator, vm: VmRecord): void {
  for (const n of vm.nics) {
    const nic = emu.store.get<NicRecord>(T.nic, n.id);
    for (const c of nic?.ipConfigurations ?? []) {
      const pip = c.publicIPAddressId ? emu.store.get<PipRecord>(T.pip, c.publicIPAddressId) : undefined;
      if (pip && pip.allocation === 'Dynamic') pip.ipAddress = undefined;
    }
  }
}

/**
 * Starts a VM operation: sets the transitional state now, the final one when the work is done; on
 * failure the VM keeps `failPower` and shows ProvisioningState/failed/<code>.
 */
function vmOperation(ctx: Ctx, vm: VmRecord, name: string, transitional: PowerState | undefined, work: () => Promise<void> | void, failPower?: PowerState): Reply {
  const emu = ctx.emu;
  const before = vm.powerState;
  if (transitional) vm.powerState = transitional;
  vm.provisioningState = 'Updating';
  const op = emu.ops.start(ctx, {
    kind: 'compute',
    name,
    resourceId: vm.id,
    location: vm.location,
    work: async () => {
      await work();
      vm.provisioningState = 'Succeeded';
      vm.provisioningError = undefined;
    },
    onFailed: (err) => {
      vm.provisioningState = 'Failed';
      vm.provisioningError = { code: err.code, message: err.message };
      vm.powerState = failPower ?? before;
    },
  });
  return accepted(ctx, op);
}

async function boot(emu: Emulator, vm: VmRecord, reason: string): Promise<void> {
  vm.powerState = 'running';
  vm.hibernated = false;
  assignMacs(emu, vm);
  await recordBoot(emu, vm, reason);
}

function create(ctx: Ctx, rg: string): Reply {
  const emu = ctx.emu;
  const plan = planCreateVm(ctx, rg, ctx.params.vm, ctx.body);
  const vm = plan.vm;
  for (const d of plan.newDisks) {
    holdDisk(d, vm.id);
    emu.store.put(T.disk, d);
  }
  for (const d of plan.attachedDisks) holdDisk(d, vm.id);
  emu.store.put(T.vm, vm);
  attachNics(emu, vm);
  const op = emu.ops.start(ctx, {
    kind: 'compute',
    name: 'create',
    resourceId: vm.id,
    location: vm.location,
    work: async () => {
      for (const job of plan.jobs) await job();
      for (const d of plan.newDisks) d.provisioningState = 'Succeeded';
      await boot(emu, vm, 'create');
      vm.provisioningState = 'Succeeded';
    },
    onFailed: (err) => {
      for (const d of plan.newDisks) if (d.provisioningState !== 'Succeeded') d.provisioningState = 'Succeeded';
      vm.provisioningState = 'Failed';
      vm.provisioningError = { code: err.code, message: err.message };
      vm.powerState = 'deallocated';
    },
  });
  return lroBody(ctx, 201, renderVm(emu, vm), op);
}

function deepMerge(base: any, patch: any): any {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const out: any = base && typeof base === 'object' && !Array.isArray(base) ? { ...base } : {};
  for (const [k, v] of Object.entries(patch)) out[k] = v === null ? undefined : deepMerge(out[k], v);
  return out;
}

function propertyChange(prop: string): ArmError {
  return new ArmError(409, 'PropertyChangeNotAllowed', `Changing property '${prop}' is not allowed.`, prop);
}

/** PUT on an existing VM and PATCH: the changes Azure allows, with its refusals. */
function update(ctx: Ctx, vm: VmRecord, isPatch: boolean): Reply {
  const emu = ctx.emu;
  guardVm(ctx, vm, 'update');
  const body = ctx.body ?? {};
  if (!isPatch) {
    const loc = emu.requireLocation(body.location);
    if (loc !== vm.location) throw propertyChange('location');
  }
  const p = body.properties ?? {};
  checkPlacementUnchanged(vm, p);
  const op = p.osProfile;
  if (op) {
    // Azure keeps the password: sending the same one again (template redeploys) is fine, a new one is not.
    if (op.adminPassword !== undefined && op.adminPassword !== vm.secrets.adminPassword) throw propertyChange('osProfile.adminPassword');
    if (op.customData !== undefined && op.customData !== vm.secrets.customData) throw propertyChange('osProfile.customData');
    if (op.computerName !== undefined && op.computerName !== vm.osProfile?.computerName) throw propertyChange('osProfile.computerName');
    if (op.adminUsername !== undefined && op.adminUsername !== vm.osProfile?.adminUsername) throw propertyChange('osProfile.adminUsername');
  }
  const ir = p.storageProfile?.imageReference;
  if (ir && vm.imageReference) {
    const cur = vm.imageReference;
    const same = cur.id ? sameId(ir.id, cur.id) : [ir.publisher, ir.offer, ir.sku].join(':').toLowerCase() === [cur.publisher, cur.offer, cur.sku].join(':').toLowerCase();
    if (!same) throw propertyChange('imageReference');
  }
  // Resize
  let newSize: string | undefined;
  const wanted = p.hardwareProfile?.vmSize;
  if (wanted !== undefined && wanted.toLowerCase() !== vm.vmSize.toLowerCase()) {
    newSize = requireSize(emu, wanted).name;
    checkQuota(emu, newSize, vm.id);
    const size = findSize(emu, newSize)!;
    if (vm.dataDisks.length > size.maxDataDiskCount) {
      throw operationNotAllowed(`The maximum number of data disks allowed to be attached to a VM of this size is ${size.maxDataDiskCount}.`, 'hardwareProfile.vmSize');
    }
  }
  // OS disk swap
  let osSwap: DiskRecord | undefined;
  const osId = p.storageProfile?.osDisk?.managedDisk?.id;
  if (osId && !sameId(osId, vm.osDisk.diskId)) {
    if (vm.powerState !== 'deallocated') {
      throw operationNotAllowed(`Swapping the OS disk of VM '${vm.name}' is allowed only when the VM is deallocated.`, 'osDisk.managedDisk.id');
    }
    osSwap = emu.store.get<DiskRecord>(T.disk, osId);
    if (!osSwap) throw new ArmError(404, 'NotFound', `Disk ${osId} is not found.`, 'osDisk.managedDisk.id');
    const elsewhere = vmsHolding(osSwap).find((x) => !sameId(x, vm.id));
    if (elsewhere) {
      throw operationNotAllowed(`Disk '${osSwap.name}' is already attached to VM '${elsewhere}'.`, 'osDisk.managedDisk.id');
    }
    if (osSwap.osType && osSwap.osType !== vm.osType) throw invalidParameter(`The OS type of disk '${osSwap.name}' does not match the VM's OS type ${vm.osType}.`, 'osDisk');
  }
  const shell = { id: vm.id, name: vm.name, resourceGroup: vm.resourceGroup, location: vm.location, zones: vm.zones, vmSize: newSize ?? vm.vmSize };
  const data = p.storageProfile?.dataDisks !== undefined ? planDataDisks(ctx, shell, p.storageProfile.dataDisks, vm.dataDisks) : undefined;
  const nics = p.networkProfile?.networkInterfaces !== undefined ? planNics(ctx, vm.id, p.networkProfile.networkInterfaces, vm) : undefined;

  // Apply synchronously what ARM shows at once; blob work in the operation.
  if (body.tags !== undefined) vm.tags = tagsOf(body);
  if (p.diagnosticsProfile?.bootDiagnostics) {
    const bd = deepMerge(vm.bootDiagnostics ?? {}, p.diagnosticsProfile.bootDiagnostics);
    vm.bootDiagnostics = { enabled: bd.enabled === true, ...(bd.storageUri ? { storageUri: bd.storageUri } : {}) };
  }
  if (p.additionalCapabilities) vm.additionalCapabilities = deepMerge(vm.additionalCapabilities, p.additionalCapabilities);
  if (p.securityProfile) vm.securityProfile = deepMerge(vm.securityProfile, p.securityProfile);
  if (p.userData !== undefined) vm.userData = p.userData;
  if (p.osDisk?.deleteOption || p.storageProfile?.osDisk?.deleteOption) vm.osDisk.deleteOption = p.storageProfile.osDisk.deleteOption === 'Delete' ? 'Delete' : 'Detach';
  if (data) {
    for (const d of data.newDisks) {
      holdDisk(d, vm.id);
      emu.store.put(T.disk, d);
    }
    for (const r of data.refs) {
      const d = emu.store.get<DiskRecord>(T.disk, r.diskId);
      if (d) holdDisk(d, vm.id);
    }
    for (const r of data.detached) {
      const d = emu.store.get<DiskRecord>(T.disk, r.diskId);
      if (d && !data.refs.some((x) => sameId(x.diskId, r.diskId))) releaseDisk(d, vm.id);
    }
    vm.dataDisks = data.refs;
  }
  if (osSwap) {
    const old = emu.store.get<DiskRecord>(T.disk, vm.osDisk.diskId);
    if (old) releaseDisk(old, vm.id);
    holdDisk(osSwap, vm.id);
    vm.osDisk = { ...vm.osDisk, name: osSwap.name, diskId: osSwap.id, createOption: 'Attach', storageAccountType: osSwap.sku, diskSizeGB: osSwap.diskSizeGB };
  }
  if (nics) {
    const prev = vm.nics;
    vm.nics = nics;
    attachNics(emu, vm, prev);
  }
  const wasRunning = vm.powerState === 'running';
  if (newSize) vm.vmSize = newSize;
  vm.provisioningState = 'Updating';
  const o = emu.ops.start(ctx, {
    kind: 'compute',
    name: 'update',
    resourceId: vm.id,
    location: vm.location,
    work: async () => {
      for (const job of data?.jobs ?? []) await job();
      for (const d of data?.newDisks ?? []) d.provisioningState = 'Succeeded';
      if (newSize && wasRunning) await recordBoot(emu, vm, `resize to ${newSize}`);
      vm.provisioningState = 'Succeeded';
      vm.provisioningError = undefined;
    },
    onFailed: (err) => {
      for (const d of data?.newDisks ?? []) d.provisioningState = 'Succeeded';
      vm.provisioningState = 'Failed';
      vm.provisioningError = { code: err.code, message: err.message };
    },
  });
  return lroBody(ctx, 200, renderVm(emu, vm), o);
}

/** POST attachDetachDataDisks: attach and detach managed data disks in one operation. */
function attachDetach(ctx: Ctx, vm: VmRecord): Reply {
  const emu = ctx.emu;
  guardVm(ctx, vm, 'attachDetachDataDisks');
  const b = ctx.body ?? {};
  const toAttach: any[] = b.dataDisksToAttach ?? [];
  const toDetach: any[] = b.dataDisksToDetach ?? [];
  if (toAttach.length === 0 && toDetach.length === 0) {
    throw invalidParameter('At least one of dataDisksToAttach or dataDisksToDetach must be specified.', 'dataDisksToAttach');
  }
  for (const [i, d] of toDetach.entries()) {
    if (!vm.dataDisks.some((x) => sameId(x.diskId, d.diskId))) {
      throw invalidParameter(`Disk ${d.diskId} is not attached to VM '${vm.name}'.`, `dataDisksToDetach[${i}].diskId`);
    }
  }
  const kept = vm.dataDisks.filter((x) => !toDetach.some((d) => sameId(d.diskId, x.diskId)));
  const used = new Set(kept.map((x) => x.lun));
  const desired: any[] = kept.map((x) => ({ lun: x.lun, createOption: 'Attach', managedDisk: { id: x.diskId }, caching: x.caching, deleteOption: x.deleteOption }));
  for (const d of toAttach) {
    let lun = d.lun;
    if (lun === undefined) {
      lun = 0;
      while (used.has(lun)) lun += 1;
    }
    used.add(lun);
    desired.push({ lun, createOption: 'Attach', managedDisk: { id: d.diskId }, caching: d.caching, deleteOption: d.deleteOption, writeAcceleratorEnabled: d.writeAcceleratorEnabled });
  }
  const shell = { id: vm.id, name: vm.name, resourceGroup: vm.resourceGroup, location: vm.location, zones: vm.zones, vmSize: vm.vmSize };
  const plan = planDataDisks(ctx, shell, desired, kept);
  for (const r of plan.refs) {
    const d = emu.store.get<DiskRecord>(T.disk, r.diskId);
    if (d) holdDisk(d, vm.id);
  }
  for (const x of vm.dataDisks) {
    if (!plan.refs.some((r) => sameId(r.diskId, x.diskId))) {
      const d = emu.store.get<DiskRecord>(T.disk, x.diskId);
      if (d) releaseDisk(d, vm.id);
    }
  }
  vm.dataDisks = plan.refs;
  vm.provisioningState = 'Updating';
  const op = emu.ops.start(ctx, {
    kind: 'compute',
    name: 'attachDetachDataDisks',
    resourceId: vm.id,
    location: vm.location,
    work: () => {
      vm.provisioningState = 'Succeeded';
      // final-state-via location: the VM's storage profile
      return renderVm(emu, vm).properties.storageProfile;
    },
    onFailed: (err) => {
      vm.provisioningState = 'Failed';
      vm.provisioningError = { code: err.code, message: err.message };
    },
  });
  return accepted(ctx, op);
}

/** Removes a VM, honouring deleteOption on its disks and NICs. */
export async function destroyVm(emu: Emulator, vm: VmRecord, viaArm: boolean): Promise<void> {
  emu.store.delete(T.vm, vm.id);
  deleteExtensionsOf(emu, vm);
  for (const ref of [vm.osDisk, ...vm.dataDisks]) {
    const d = emu.store.get<DiskRecord>(T.disk, ref.diskId);
    if (!d || !vmsHolding(d).some((x) => sameId(x, vm.id))) continue;
    releaseDisk(d, vm.id);
    // A shared disk another VM still holds stays (Azure deletes only a disk no VM is attached to).
    if (ref.deleteOption === 'Delete' && viaArm && vmsHolding(d).length === 0) {
      emu.store.delete(T.disk, d.id);
      await deleteDiskBlobs(emu, d);
    }
  }
  for (const n of vm.nics) {
    const nic = emu.store.get<NicRecord>(T.nic, n.id);
    if (!nic) continue;
    nic.vmId = undefined;
    if (n.deleteOption === 'Delete' && viaArm) {
      removeNic(emu, nic);
    } else {
      nic.reservedForVmId = vm.id;
      nic.reservedUntil = Date.now() + emu.nicReservationMs;
    }
  }
  await deleteBootDiagnostics(emu, vm);
}

function notAllowedInState(vm: VmRecord, operation: string): ArmError {
  const why = vm.generalized ? 'generalized' : vm.powerState === 'running' ? 'running' : vm.powerState;
  return new ArmError(409, 'OperationNotAllowed', `Operation '${operation}' is not allowed on VM '${vm.name}' since the VM is ${why}.`);
}

export function registerVirtualMachines(r: Router): void {
  r.add(
    'GET',
    '/subscriptions/{sub}/providers/Microsoft.Compute/virtualMachines',
    'compute',
    // statusOnly=true: the run-time status (the instance view) of every VM in the subscription.
    (ctx) => {
      const statusOnly = ctx.query.get('statusOnly')?.toLowerCase() === 'true';
      return list(ctx.emu.store.list<VmRecord>(T.vm).map((vm) => renderVm(ctx.emu, vm, statusOnly ? 'instanceView' : ctx.query.get('$expand'))));
    },
    'VirtualMachines_ListAll',
  );
  r.add(
    'GET',
    '/subscriptions/{sub}/providers/Microsoft.Compute/locations/{location}/virtualMachines',
    'compute',
    (ctx) =>
      list(
        ctx.emu.store
          .list<VmRecord>(T.vm)
          .filter((vm) => vm.location === ctx.params.location.toLowerCase())
          .map((vm) => renderVm(ctx.emu, vm)),
      ),
    'VirtualMachines_ListByLocation',
  );
  r.add(
    'GET',
    BASE,
    'compute',
    (ctx) => list(ctx.emu.store.list<VmRecord>(T.vm, ctx.emu.requireRg(ctx.params.rg)).map((vm) => renderVm(ctx.emu, vm, ctx.query.get('$expand')))),
    'VirtualMachines_List',
  );
  r.add('GET', `${BASE}/{vm}`, 'compute', (ctx) => ok(renderVm(ctx.emu, getVm(ctx), ctx.query.get('$expand'))), 'VirtualMachines_Get');
  r.add('GET', `${BASE}/{vm}/instanceView`, 'compute', (ctx) => ok(renderInstanceView(ctx.emu, getVm(ctx))), 'VirtualMachines_InstanceView');
  r.add(
    'GET',
    `${BASE}/{vm}/vmSizes`,
    'compute',
    (ctx) => {
      getVm(ctx);
      return list(ctx.emu.cfg.seed.vmSizes.map(renderSize));
    },
    'VirtualMachines_ListAvailableSizes',
  );

  r.add(
    'PUT',
    `${BASE}/{vm}`,
    'compute',
    (ctx) => {
      const rg = ctx.emu.requireRg(ctx.params.rg);
      const existing = ctx.emu.store.get<VmRecord>(T.vm, vmIdFor(ctx, rg));
      return existing ? update(ctx, existing, false) : create(ctx, rg);
    },
    'VirtualMachines_CreateOrUpdate',
  );
  r.add('PATCH', `${BASE}/{vm}`, 'compute', (ctx) => update(ctx, getVm(ctx), true), 'VirtualMachines_Update');
  r.add(
    'DELETE',
    `${BASE}/{vm}`,
    'compute',
    (ctx) => {
      const emu = ctx.emu;
      const rg = emu.requireRg(ctx.params.rg);
      const vm = emu.store.get<VmRecord>(T.vm, vmIdFor(ctx, rg));
      if (!vm) return noContent;
      guardVm(ctx, vm, 'delete');
      vm.provisioningState = 'Deleting';
      const op = emu.ops.start(ctx, {
        kind: 'compute',
        name: 'delete',
        resourceId: vm.id,
        location: vm.location,
        work: () => destroyVm(emu, vm, true),
        onFailed: (err) => {
          vm.provisioningState = 'Failed';
          vm.provisioningError = { code: err.code, message: err.message };
        },
      });
      return accepted(ctx, op);
    },
    'VirtualMachines_Delete',
  );

  r.add(
    'POST',
    `${BASE}/{vm}/start`,
    'compute',
    (ctx) => {
      const vm = getVm(ctx);
      guardVm(ctx, vm, 'start');
      if (vm.generalized) throw notAllowedInState(vm, 'start');
      const from = vm.powerState;
      if (from === 'running') return vmOperation(ctx, vm, 'start', undefined, () => undefined);
      return vmOperation(ctx, vm, 'start', 'starting', () => boot(ctx.emu, vm, from === 'deallocated' ? 'start (allocate)' : 'start'), from);
    },
    'VirtualMachines_Start',
  );
  r.add(
    'POST',
    `${BASE}/{vm}/powerOff`,
    'compute',
    (ctx) => {
      const vm = getVm(ctx);
      guardVm(ctx, vm, 'powerOff');
      const skip = ctx.query.get('skipShutdown') === 'true';
      if (vm.powerState === 'deallocated') return vmOperation(ctx, vm, 'powerOff', undefined, () => undefined);
      return vmOperation(ctx, vm, 'powerOff', 'stopping', async () => {
        vm.powerState = 'stopped';
        await ctx.emu.blobs.appendLog(vm.serialLogBlob, skip ? '[ power off without shutdown ]\n' : 'reboot: Power down\n');
      });
    },
    'VirtualMachines_PowerOff',
  );
  r.add(
    'POST',
    `${BASE}/{vm}/restart`,
    'compute',
    (ctx) => {
      const vm = getVm(ctx);
      guardVm(ctx, vm, 'restart');
      if (vm.powerState !== 'running') throw notAllowedInState(vm, 'restart');
      return vmOperation(ctx, vm, 'restart', 'starting', () => boot(ctx.emu, vm, 'restart'), 'running');
    },
    'VirtualMachines_Restart',
  );
  r.add(
    'POST',
    `${BASE}/{vm}/deallocate`,
    'compute',
    (ctx) => {
      const vm = getVm(ctx);
      guardVm(ctx, vm, 'deallocate');
      const hibernate = ctx.query.get('hibernate') === 'true';
      if (hibernate) {
        if (vm.additionalCapabilities?.hibernationEnabled !== true) {
          throw new ArmError(409, 'OperationNotAllowed', `Hibernation is not enabled on VM '${vm.name}'. Set additionalCapabilities.hibernationEnabled to true before hibernating.`);
        }
        if (vm.powerState !== 'running') throw notAllowedInState(vm, 'hibernate');
      }
      return vmOperation(ctx, vm, 'deallocate', 'deallocating', () => {
        vm.powerState = 'deallocated';
        vm.hibernated = hibernate;
        releaseDynamicPublicIps(ctx.emu, vm);
      });
    },
    'VirtualMachines_Deallocate',
  );
  r.add(
    'POST',
    `${BASE}/{vm}/redeploy`,
    'compute',
    (ctx) => {
      const vm = getVm(ctx);
      guardVm(ctx, vm, 'redeploy');
      if (vm.generalized) throw notAllowedInState(vm, 'redeploy');
      return vmOperation(ctx, vm, 'redeploy', 'starting', () => boot(ctx.emu, vm, 'redeploy'));
    },
    'VirtualMachines_Redeploy',
  );
  r.add(
    'POST',
    `${BASE}/{vm}/reimage`,
    'compute',
    (ctx) => {
      const emu = ctx.emu;
      const vm = getVm(ctx);
      guardVm(ctx, vm, 'reimage');
      if (vm.osDisk.createOption !== 'FromImage' || !vm.imageReference) {
        throw new ArmError(409, 'OperationNotAllowed', `Operation 'reimage' is not allowed on VM '${vm.name}' since its OS disk was not created from an image.`);
      }
      if (vm.generalized) throw notAllowedInState(vm, 'reimage');
      const b = ctx.body ?? {};
      if (b.osProfile?.adminPassword !== undefined) {
        checkPassword(b.osProfile.adminPassword, vm.osType);
      }
      checkCustomData(b.osProfile?.customData, 'osProfile.customData');
      if (!vm.imageReference.id) resolveMarketplaceImage(emu, { ...vm.imageReference, version: b.exactVersion ?? vm.imageReference.version });
      const disk = emu.store.get<DiskRecord>(T.disk, vm.osDisk.diskId);
      const wasRunning = vm.powerState === 'running';
      return vmOperation(ctx, vm, 'reimage', wasRunning ? 'starting' : undefined, async () => {
        if (disk) {
          await emu.blobs.delete(disk.blobName);
          const ir = vm.imageReference!;
          if (ir.id) {
            const img = findImage(emu, ir.id);
            if (!img) throw new ArmError(404, 'NotFound', `The Image '${ir.id}' cannot be found.`);
            await emu.blobs.copyToDisk(emu.blobs.blob(img.osDisk.blobName), disk.blobName, disk.dataBytes);
          } else {
            const { image, version } = resolveMarketplaceImage(emu, { ...ir, version: b.exactVersion ?? ir.version });
            ir.exactVersion = version;
            await emu.blobs.createDisk(disk.blobName, disk.dataBytes, marketplaceBootSector(image, version));
          }
        }
        if (b.osProfile?.adminPassword !== undefined) vm.secrets.adminPassword = b.osProfile.adminPassword;
        if (b.osProfile?.customData !== undefined) vm.secrets.customData = b.osProfile.customData;
        if (wasRunning) await boot(emu, vm, 'reimage');
      });
    },
    'VirtualMachines_Reimage',
  );
  r.add('POST', `${BASE}/{vm}/attachDetachDataDisks`, 'compute', (ctx) => attachDetach(ctx, getVm(ctx)), 'VirtualMachines_AttachDetachDataDisks');
  r.add(
    'POST',
    `${BASE}/{vm}/generalize`,
    'compute',
    (ctx) => {
      const vm = getVm(ctx);
      guardVm(ctx, vm, 'generalize');
      if (vm.powerState !== 'stopped' && vm.powerState !== 'deallocated') throw notAllowedInState(vm, 'generalize');
      vm.generalized = true;
      return { status: 200 };
    },
    'VirtualMachines_Generalize',
  );
  r.add(
    'POST',
    `${BASE}/{vm}/retrieveBootDiagnosticsData`,
    'compute',
    async (ctx) => {
      const vm = getVm(ctx);
      const raw = ctx.query.get('sasUriExpirationTimeInMinutes');
      const minutes = raw === null ? 120 : Number(raw);
      if (!Number.isInteger(minutes) || minutes < 1 || minutes > 1440) {
        throw invalidParameter(
          `The value '${raw}' of parameter 'sasUriExpirationTimeInMinutes' is out of range. The value must be between '1' and '1440', inclusive.`,
          'sasUriExpirationTimeInMinutes',
        );
      }
      if (!vm.bootDiagnostics?.enabled) {
        throw new ArmError(409, 'OperationNotAllowed', `Boot diagnostics is not enabled for VM '${vm.name}'. Enable it in diagnosticsProfile.bootDiagnostics to retrieve boot diagnostics data.`);
      }
      return ok(await bootDiagnosticsUris(ctx.emu, vm, minutes));
    },
    'VirtualMachines_RetrieveBootDiagnosticsData',
  );
}

/** Control API: change a VM's power state behind Jacket's back (e.g. stopped from the portal). */
export function setPowerStateOutOfBand(emu: Emulator, vm: VmRecord, state: PowerState): Promise<void> | void {
  vm.powerState = state;
  if (state === 'deallocated') releaseDynamicPublicIps(emu, vm);
  if (state === 'running') return boot(emu, vm, 'out-of-band start');
}
