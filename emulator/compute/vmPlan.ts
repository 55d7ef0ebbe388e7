/** Validation and planning of VM create and update requests (storage, OS, network, quota). */
import { randomBytes, randomUUID } from 'node:crypto';
import { ArmError, invalidParameter, operationNotAllowed } from '../arm/errors';
import type { Ctx } from '../arm/http';
import { isIdOfType, resourceId, sameId } from '../arm/ids';
import type { Emulator } from '../emulator';
import { T } from '../state';
import type { NicRecord } from '../network/model';
import { newMacAddress, nicInUse } from '../network/nics';
import { GiB, findSize, isPremiumCapable, marketplaceBootSector, marketplaceImageId, requireSize, resolveMarketplaceImage } from './catalog';
import { diskState, findDiskOrSnapshot, vmsHolding } from './disks';
import { findImage } from './images';
import type { DiskRecord, ImageRecord, VmDiskRef, VmNicRef, VmRecord } from './model';
import { planPlacement } from './placement';
import { checkComputerName, checkCustomData, checkPassword, checkUsername, sshKeyProblem } from './validation';

const hex32 = () => randomBytes(16).toString('hex');

/** Pending blob work for disks the VM operation creates. */
export type DiskJob = () => Promise<void>;

export function coresInUse(emu: Emulator, exceptVmId?: string): { total: number; byFamily: Map<string, number>; vms: number } {
  let total = 0;
  let vms = 0;
  const byFamily = new Map<string, number>();
  for (const vm of emu.store.list<VmRecord>(T.vm)) {
    if (exceptVmId && sameId(vm.id, exceptVmId)) continue;
    const s = findSize(emu, vm.vmSize);
    if (!s) continue;
    vms += 1;
    total += s.numberOfCores;
    byFamily.set(s.family, (byFamily.get(s.family) ?? 0) + s.numberOfCores);
  }
  return { total, byFamily, vms };
}

/** Azure counts the vCPUs of every VM, allocated or deallocated, against the regional and family quotas. */
export function checkQuota(emu: Emulator, sizeName: string, exceptVmId?: string): void {
  const size = requireSize(emu, sizeName);
  const used = coresInUse(emu, exceptVmId);
  const limit = emu.cfg.seed.coresQuota;
  const fail = (what: string, lim: number, cur: number) =>
    operationNotAllowed(
      `Operation could not be completed as it results in exceeding approved ${what} quota. Additional details - Deployment Model: Resource Manager, Location: ${emu.location}, Current Limit: ${lim}, Current Usage: ${cur}, Additional Required: ${size.numberOfCores}, (Minimum) New Limit Required: ${cur + size.numberOfCores}. Submit a request for Quota increase at https://aka.ms/ProdportalCRP/#blade/Microsoft_Azure_Capacity/UsageAndQuota.ReactView.`,
      undefined,
      [{ code: 'QuotaExceeded', message: `Exceeding approved ${what} quota (limit ${lim}, usage ${cur}, requested ${size.numberOfCores}).` }],
    );
  if (used.total + size.numberOfCores > limit) throw fail('Total Regional Cores', limit, used.total);
  const famLimit = emu.cfg.seed.familyQuotas[size.family] ?? limit;
  const famUsed = used.byFamily.get(size.family) ?? 0;
  if (famUsed + size.numberOfCores > famLimit) throw fail(`${size.family} Cores`, famLimit, famUsed);
  if (used.vms + 1 > emu.cfg.seed.virtualMachinesQuota) throw fail('Virtual Machines', emu.cfg.seed.virtualMachinesQuota, used.vms);
}

function diskById(emu: Emulator, id: unknown, target: string): DiskRecord {
  if (typeof id !== 'string' || !isIdOfType(id, 'Microsoft.Compute', 'disks')) {
    throw invalidParameter(`Required parameter 'managedDisk.id' is missing or is not a disk resource id.`, target);
  }
  const d = emu.store.get<DiskRecord>(T.disk, id);
  if (!d) throw new ArmError(404, 'NotFound', `Disk ${id} is not found.`, target);
  return d;
}

/** Checks a disk can be attached to vm (not elsewhere, not exporting, ready). */
export function checkAttachable(emu: Emulator, d: DiskRecord, vmId: string, target: string): void {
  const others = vmsHolding(d).filter((x) => !sameId(x, vmId));
  // A shared disk (maxShares > 1) takes up to maxShares VMs at once (DiskRP.json maxShares).
  if (others.length > 0 && (d.maxShares ?? 1) <= 1) {
    throw new ArmError(409, 'OperationNotAllowed', `Disk '${d.name}' cannot be attached to VM '${vmId}' because it is already attached to VM '${others[0]}'.`, target);
  }
  if (others.length > 0 && others.length >= (d.maxShares ?? 1)) {
    throw new ArmError(
      409,
      'OperationNotAllowed',
      `Disk '${d.name}' cannot be attached to VM '${vmId}' because it is already attached to ${others.length} VMs, the maximum its maxShares (${d.maxShares}) allows.`,
      target,
    );
  }
  const st = diskState(emu, d);
  if (st === 'ActiveSAS' || st === 'ActiveUpload' || st === 'ReadyToUpload') {
    throw new ArmError(409, 'OperationNotAllowed', `Disk '${d.name}' cannot be attached because it is in state ${st}.`, target);
  }
  if (d.provisioningState !== 'Succeeded') {
    throw new ArmError(409, 'OperationNotAllowed', `Disk '${d.name}' cannot be attached because its provisioning state is ${d.provisioningState}.`, target);
  }
}

/** disks-shared: host caching is not available for shared disks (maxShares > 1) — caching must be None. */
function sharedCaching(emu: Emulator, diskId: string, target: string): void {
  const d = emu.store.get<DiskRecord>(T.disk, diskId);
  if (d && (d.maxShares ?? 1) > 1) {
    throw new ArmError(400, 'InvalidParameter', `Disk '${d.name}' is a shared disk (maxShares ${d.maxShares}): host caching is not supported on it; caching must be 'None'.`, target);
  }
}

function newDiskRecord(
  emu: Emulator,
  vm: { resourceGroup: string; location: string; zones?: string[] },
  name: string,
  sku: string,
  sizeGB: number,
  creationData: any,
  extra: Partial<DiskRecord> = {},
): DiskRecord {
  const uniqueId = randomUUID();
  return {
    kind: 'disk',
    id: resourceId(emu.sub, vm.resourceGroup, 'Microsoft.Compute', 'disks', name),
    name,
    resourceGroup: vm.resourceGroup,
    location: vm.location,
    zones: vm.zones,
    sku,
    creationData,
    diskSizeGB: sizeGB,
    dataBytes: sizeGB * GiB,
    uniqueId,
    timeCreated: new Date().toISOString(),
    provisioningState: 'Updating',
    blobName: `disks/${uniqueId}.vhd`,
    networkAccessPolicy: 'AllowAll',
    publicNetworkAccess: 'Enabled',
    ...extra,
  };
}

export interface DataDiskPlan {
  refs: VmDiskRef[];
  newDisks: DiskRecord[];
  jobs: DiskJob[];
  detached: VmDiskRef[];
}

/** Plans the data disk list of a VM (create or update): attach, create empty, keep, detach. */
export function planDataDisks(
  ctx: Ctx,
  vm: { id: string; name: string; resourceGroup: string; location: string; zones?: string[]; vmSize: string },
  raw: unknown,
  current: VmDiskRef[],
  image?: ImageRecord,
): DataDiskPlan {
  const emu = ctx.emu;
  if (raw !== undefined && !Array.isArray(raw)) throw invalidParameter('dataDisks must be an array.', 'dataDisks');
  const list = (raw ?? []) as any[];
  const plan: DataDiskPlan = { refs: [], newDisks: [], jobs: [], detached: [] };
  const luns = new Set<number>();
  const size = findSize(emu, vm.vmSize)!;
  for (const [i, dd] of list.entries()) {
    const target = `dataDisks[${i}]`;
    const lun = dd?.lun;
    if (!Number.isInteger(lun) || lun < 0 || lun > 63) throw invalidParameter(`The value '${lun}' of parameter 'lun' is out of range: it must be between 0 and 63.`, `${target}.lun`);
    if (luns.has(lun)) throw invalidParameter(`A disk at LUN ${lun} already exists.`, `${target}.lun`);
    luns.add(lun);
    const cur = current.find((c) => c.lun === lun);
    const deleteOption: 'Delete' | 'Detach' = dd.deleteOption === 'Delete' ? 'Delete' : 'Detach';
    if (cur) {
      const givenId = dd.managedDisk?.id;
      if (givenId && !sameId(givenId, cur.diskId)) throw invalidParameter(`A disk at LUN ${lun} already exists.`, `${target}.lun`);
      if (dd.toBeDetached === true) {
        plan.detached.push(cur);
        continue;
      }
      if (dd.caching && dd.caching !== 'None') sharedCaching(emu, cur.diskId, `${target}.caching`);
      plan.refs.push({ ...cur, caching: dd.caching ?? cur.caching, deleteOption: dd.deleteOption ? deleteOption : cur.deleteOption, toBeDetached: false });
      continue;
    }
    if (dd.toBeDetached === true) continue;
    const option: string = dd.createOption;
    const caching: string = dd.caching ?? 'None';
    const sat: string = dd.managedDisk?.storageAccountType ?? (isPremiumCapable(vm.vmSize) ? 'Premium_LRS' : 'Standard_LRS');
    if (option === 'Attach') {
      const d = diskById(emu, dd.managedDisk?.id, `${target}.managedDisk.id`);
      checkAttachable(emu, d, vm.id, target);
      if (caching !== 'None') sharedCaching(emu, d.id, `${target}.caching`);
      if (plan.refs.some((r) => sameId(r.diskId, d.id))) throw invalidParameter(`Disk '${d.name}' is specified more than once.`, target);
      plan.refs.push({ lun, name: d.name, diskId: d.id, createOption: 'Attach', caching, storageAccountType: d.sku, deleteOption, diskSizeGB: d.diskSizeGB });
    } else if (option === 'Empty') {
      const gb = dd.diskSizeGB;
      if (!Number.isInteger(gb) || gb < 1 || gb > 32767) throw invalidParameter("Required parameter 'diskSizeGB' is missing (null) or out of range.", `${target}.diskSizeGB`);
      const name: string = dd.name ?? `${vm.name}_disk${lun + 2}_${hex32()}`;
      if (emu.store.get(T.disk, resourceId(emu.sub, vm.resourceGroup, 'Microsoft.Compute', 'disks', name))) {
        throw new ArmError(409, 'Conflict', `Disk '${name}' already exists in resource group '${vm.resourceGroup}'. Only CreateOption.Attach is supported for an existing disk.`, `${target}.name`);
      }
      const d = newDiskRecord(emu, vm, name, sat, gb, { createOption: 'Empty' });
      plan.newDisks.push(d);
      plan.jobs.push(() => emu.blobs.createDisk(d.blobName, d.dataBytes));
      plan.refs.push({ lun, name, diskId: d.id, createOption: 'Empty', caching, storageAccountType: sat, deleteOption, diskSizeGB: gb });
    } else if (option === 'FromImage') {
      const src = image?.dataDisks.find((x) => x.lun === lun);
      if (!src) throw invalidParameter(`The image has no data disk at LUN ${lun}.`, `${target}.lun`);
      const gb = Math.max(src.diskSizeGB, dd.diskSizeGB ?? 0);
      const name: string = dd.name ?? `${vm.name}_lun_${lun}_2_${hex32()}`;
      const d = newDiskRecord(emu, vm, name, sat, gb, { createOption: 'FromImage', imageReference: { id: image!.id } });
      plan.newDisks.push(d);
      plan.jobs.push(() => emu.blobs.copyToDisk(emu.blobs.blob(src.blobName), d.blobName, d.dataBytes));
      plan.refs.push({ lun, name, diskId: d.id, createOption: 'FromImage', caching, storageAccountType: sat, deleteOption, diskSizeGB: gb });
    } else if (option === 'Copy') {
      const srcId = dd.sourceResource?.id;
      const src = typeof srcId === 'string' ? findDiskOrSnapshot(emu, srcId) : undefined;
      if (!src) throw new ArmError(404, 'NotFound', `Source resource ${srcId} is not found.`, `${target}.sourceResource.id`);
      const gb = Math.max(src.diskSizeGB, dd.diskSizeGB ?? 0);
      const name: string = dd.name ?? `${vm.name}_disk${lun + 2}_${hex32()}`;
      const d = newDiskRecord(emu, vm, name, sat, gb, { createOption: 'Copy', sourceResourceId: src.id, sourceUniqueId: src.uniqueId });
      plan.newDisks.push(d);
      const srcBlob = src.blobName;
      plan.jobs.push(() => emu.blobs.copyToDisk(emu.blobs.blob(srcBlob), d.blobName, d.dataBytes));
      plan.refs.push({ lun, name, diskId: d.id, createOption: 'Copy', caching, storageAccountType: sat, deleteOption, diskSizeGB: gb });
    } else {
      throw invalidParameter(
        `The value '${option}' of parameter 'createOption' is not supported for data disks by this emulator (supported: Attach, Empty, FromImage, Copy).`,
        `${target}.createOption`,
      );
    }
  }
  for (const c of current) if (!list.some((dd) => dd?.lun === c.lun) && !plan.detached.includes(c)) plan.detached.push(c);
  if (plan.refs.length > size.maxDataDiskCount) {
    throw operationNotAllowed(`The maximum number of data disks allowed to be attached to a VM of this size is ${size.maxDataDiskCount}.`, 'dataDisks');
  }
  return plan;
}

/** Checks the NIC list; returns refs. */
export function planNics(ctx: Ctx, vmId: string, raw: unknown, requireDeallocatedIfChanged?: VmRecord): VmNicRef[] {
  const emu = ctx.emu;
  const list = raw as any[] | undefined;
  if (!Array.isArray(list) || list.length === 0) {
    if (raw === undefined && requireDeallocatedIfChanged) return requireDeallocatedIfChanged.nics;
    if (ctx.body?.properties?.networkProfile?.networkInterfaceConfigurations) {
      throw invalidParameter(
        'networkProfile.networkInterfaceConfigurations is not supported by this emulator; create the NICs first and reference them in networkProfile.networkInterfaces.',
        'networkProfile.networkInterfaceConfigurations',
      );
    }
    throw invalidParameter('Virtual machine must have at least one network interface.', 'networkProfile.networkInterfaces');
  }
  const primaries = list.filter((n) => n?.properties?.primary === true).length;
  if (list.length > 1 && primaries !== 1) throw invalidParameter('Virtual machine must have exactly one primary network interface when it has more than one.', 'networkProfile.networkInterfaces');
  const refs: VmNicRef[] = list.map((n, i) => {
    const id = n?.id;
    const target = `networkProfile.networkInterfaces[${i}].id`;
    if (typeof id !== 'string' || !isIdOfType(id, 'Microsoft.Network', 'networkInterfaces')) throw invalidParameter(`Network interface id '${id}' is invalid.`, target);
    const nic = emu.store.get<NicRecord>(T.nic, id);
    if (!nic) throw new ArmError(404, 'NotFound', `Resource ${id} not found.`, target);
    if (nic.vmId && !sameId(nic.vmId, vmId)) throw nicInUse(nic.id, nic.vmId);
    if (nic.reservedForVmId && !sameId(nic.reservedForVmId, vmId) && (nic.reservedUntil ?? 0) > Date.now()) {
      throw new ArmError(
        400,
        'NicReservedForAnotherVm',
        `Network interface ${nic.id} is reserved for virtual machine ${nic.reservedForVmId} and cannot be attached to VM ${vmId} until ${new Date(nic.reservedUntil!).toISOString()}. Please try again later.`,
        target,
      );
    }
    return { id: nic.id, primary: list.length === 1 ? true : n.properties?.primary === true, deleteOption: n.properties?.deleteOption === 'Delete' ? 'Delete' : 'Detach' };
  });
  if (requireDeallocatedIfChanged) {
    const cur = requireDeallocatedIfChanged.nics
      .map((n) => n.id.toLowerCase())
      .sort()
      .join();
    const next = refs
      .map((n) => n.id.toLowerCase())
      .sort()
      .join();
    if (cur !== next && requireDeallocatedIfChanged.powerState !== 'deallocated') {
      throw operationNotAllowed(`Network interfaces of VM '${requireDeallocatedIfChanged.name}' can only be added or removed while the VM is deallocated.`, 'networkProfile.networkInterfaces');
    }
  }
  return refs;
}

export function attachNics(emu: Emulator, vm: VmRecord, previous: VmNicRef[] = []): void {
  for (const p of previous) {
    if (!vm.nics.some((n) => sameId(n.id, p.id))) {
      const nic = emu.store.get<NicRecord>(T.nic, p.id);
      if (nic) nic.vmId = undefined;
    }
  }
  for (const n of vm.nics) {
    const nic = emu.store.get<NicRecord>(T.nic, n.id);
    if (nic) {
      nic.vmId = vm.id;
      nic.reservedForVmId = undefined;
      nic.reservedUntil = undefined;
    }
  }
}

export function assignMacs(emu: Emulator, vm: VmRecord): void {
  for (const n of vm.nics) {
    const nic = emu.store.get<NicRecord>(T.nic, n.id);
    if (nic && !nic.macAddress) nic.macAddress = newMacAddress();
  }
}

export interface CreatePlan {
  vm: VmRecord;
  newDisks: DiskRecord[];
  attachedDisks: DiskRecord[];
  jobs: DiskJob[];
}

export function planCreateVm(ctx: Ctx, rg: string, name: string, body: any): CreatePlan {
  const emu = ctx.emu;
  const location = emu.requireLocation(body?.location);
  const id = resourceId(emu.sub, rg, 'Microsoft.Compute', 'virtualMachines', name);
  const p = body?.properties ?? {};
  const vmSize = requireSize(emu, p.hardwareProfile?.vmSize).name;
  const sp = p.storageProfile ?? {};
  const os = sp.osDisk ?? {};
  const zones = Array.isArray(body?.zones) ? body.zones : undefined;
  const shell = { id, name, resourceGroup: rg, location, zones, vmSize };
  const jobs: DiskJob[] = [];
  const newDisks: DiskRecord[] = [];
  const attachedDisks: DiskRecord[] = [];
  const osOption: string = os.createOption ?? (sp.imageReference ? 'FromImage' : undefined);
  let osType: 'Linux' | 'Windows';
  let hyperV: 'V1' | 'V2';
  let imageReference: VmRecord['imageReference'];
  let osRef: VmDiskRef;
  let managedImage: ImageRecord | undefined;
  const sat: string = os.managedDisk?.storageAccountType ?? (isPremiumCapable(vmSize) ? 'Premium_LRS' : 'Standard_LRS');
  const osDeleteOption: 'Delete' | 'Detach' = os.deleteOption === 'Delete' ? 'Delete' : 'Detach';
  if (os.vhd || os.image) throw invalidParameter('Unmanaged (VHD blob) disks are not supported: use managed disks.', 'osDisk.vhd');
  if (osOption === 'FromImage') {
    const ir = sp.imageReference;
    if (!ir) throw invalidParameter("Required parameter 'imageReference' is missing (null).", 'imageReference');
    let sizeGB: number;
    let firstSector: Buffer | undefined;
    let imgBlob: string | undefined;
    if (typeof ir.id === 'string' && !ir.publisher) {
      managedImage = findImage(emu, ir.id);
      if (!managedImage) throw new ArmError(404, 'NotFound', `The Image '${ir.id}' cannot be found in '${location}' region.`, 'imageReference');
      if (managedImage.provisioningState !== 'Succeeded')
        throw new ArmError(409, 'OperationNotAllowed', `Image '${managedImage.id}' is not ready (provisioningState ${managedImage.provisioningState}).`, 'imageReference');
      osType = managedImage.osType;
      hyperV = managedImage.hyperVGeneration;
      sizeGB = managedImage.osDisk.diskSizeGB;
      imgBlob = managedImage.osDisk.blobName;
      imageReference = { id: managedImage.id };
      if (managedImage.osState === 'Specialized' && p.osProfile) {
        throw invalidParameter("Parameter 'osProfile' is not allowed when creating a VM from a specialized image.", 'osProfile');
      }
    } else {
      const { image, version } = resolveMarketplaceImage(emu, ir);
      osType = image.osType;
      hyperV = image.hyperVGeneration;
      sizeGB = image.osDiskSizeGB;
      firstSector = marketplaceBootSector(image, version);
      imageReference = { publisher: image.publisher, offer: image.offer, sku: image.sku, version: ir.version ?? 'latest', exactVersion: version };
    }
    if (os.diskSizeGB !== undefined) {
      if (!Number.isInteger(os.diskSizeGB) || os.diskSizeGB < sizeGB) {
        throw invalidParameter(
          `The specified disk size ${os.diskSizeGB} GB is smaller than the size of the corresponding disk in the VM image: ${sizeGB} GB. This is not allowed. Please choose equal or greater size or do not specify an explicit size.`,
          'osDisk.diskSizeGB',
        );
      }
      sizeGB = os.diskSizeGB;
    }
    const diskName: string = os.name ?? `${name}_OsDisk_1_${hex32()}`;
    if (emu.store.get(T.disk, resourceId(emu.sub, rg, 'Microsoft.Compute', 'disks', diskName))) {
      throw new ArmError(409, 'Conflict', `Disk '${diskName}' already exists in resource group '${rg}'. Only CreateOption.Attach is supported.`, 'osDisk.name');
    }
    const creationData = imageReference.id
      ? { createOption: 'FromImage', imageReference: { id: imageReference.id } }
      : { createOption: 'FromImage', imageReference: { id: marketplaceImageId(emu, resolveMarketplaceImage(emu, ir).image, imageReference.exactVersion!) } };
    const d = newDiskRecord(emu, shell, diskName, sat, sizeGB, creationData, { osType, hyperVGeneration: hyperV });
    newDisks.push(d);
    const fs = firstSector;
    const src = imgBlob;
    jobs.push(src ? () => emu.blobs.copyToDisk(emu.blobs.blob(src), d.blobName, d.dataBytes) : () => emu.blobs.createDisk(d.blobName, d.dataBytes, fs));
    osRef = { name: diskName, diskId: d.id, createOption: 'FromImage', caching: os.caching ?? 'ReadWrite', storageAccountType: sat, deleteOption: osDeleteOption, diskSizeGB: sizeGB };
  } else if (osOption === 'Attach') {
    const d = diskById(emu, os.managedDisk?.id, 'osDisk.managedDisk.id');
    checkAttachable(emu, d, id, 'osDisk');
    const t = os.osType ?? d.osType;
    if (t !== 'Linux' && t !== 'Windows') throw invalidParameter("Required parameter 'osDisk.osType' is missing (null).", 'osDisk.osType');
    if (p.osProfile) throw invalidParameter("Parameter 'osProfile' is not allowed.", 'osProfile');
    osType = t;
    hyperV = d.hyperVGeneration ?? 'V1';
    attachedDisks.push(d);
    osRef = { name: d.name, diskId: d.id, createOption: 'Attach', caching: os.caching ?? 'ReadWrite', storageAccountType: d.sku, deleteOption: osDeleteOption, diskSizeGB: d.diskSizeGB };
  } else {
    throw invalidParameter(`The value '${osOption}' of parameter 'osDisk.createOption' is not valid (FromImage or Attach).`, 'osDisk.createOption');
  }

  // OS profile
  let osProfile: any;
  const secrets: VmRecord['secrets'] = {};
  const guestUsers: VmRecord['guestUsers'] = {};
  const needsProfile = osOption === 'FromImage' && !(managedImage && managedImage.osState === 'Specialized');
  if (needsProfile) {
    const op = p.osProfile;
    if (!op) throw invalidParameter("Required parameter 'osProfile' is missing (null).", 'osProfile');
    const computerName: string = op.computerName ?? name;
    checkComputerName(computerName, osType);
    const user = checkUsername(op.adminUsername, osType);
    checkCustomData(op.customData);
    const lc = op.linuxConfiguration ?? {};
    if (osType === 'Linux') {
      const keys = (lc.ssh?.publicKeys ?? []) as any[];
      for (const [i, k] of keys.entries()) {
        const target = `linuxConfiguration.ssh.publicKeys[${i}]`;
        if (typeof k?.keyData !== 'string' || sshKeyProblem(k.keyData)) throw invalidParameter('The value of parameter linuxConfiguration.ssh.publicKeys.keyData is invalid.', `${target}.keyData`);
        const expected = `/home/${user}/.ssh/authorized_keys`;
        if (k.path !== undefined && k.path !== expected) {
          throw invalidParameter(`Destination path for SSH public keys is currently limited to its default value ${expected} due to a known issue in Linux provisioning agent.`, `${target}.path`);
        }
      }
      if (lc.disablePasswordAuthentication === true) {
        if (keys.length === 0) throw invalidParameter('Authentication using either SSH or by user name and password must be enabled in Linux profile.', 'linuxConfiguration');
        if (op.adminPassword !== undefined) throw invalidParameter('Admin password is not allowed when password authentication is disabled.', 'adminPassword');
      } else if (op.adminPassword === undefined) {
        if (keys.length === 0) throw invalidParameter("Required parameter 'adminPassword' is missing (null).", 'adminPassword');
      }
      if (op.adminPassword !== undefined) checkPassword(op.adminPassword, 'Linux');
      guestUsers[user] = { password: op.adminPassword !== undefined, sshKeys: keys.map((k) => String(k.keyData).trim()) };
      osProfile = {
        computerName,
        adminUsername: user,
        linuxConfiguration: {
          disablePasswordAuthentication: lc.disablePasswordAuthentication === true,
          ...(keys.length ? { ssh: { publicKeys: keys.map((k) => ({ path: k.path ?? `/home/${user}/.ssh/authorized_keys`, keyData: k.keyData })) } } : {}),
          provisionVMAgent: lc.provisionVMAgent ?? true,
          patchSettings: { patchMode: lc.patchSettings?.patchMode ?? 'ImageDefault', assessmentMode: lc.patchSettings?.assessmentMode ?? 'ImageDefault' },
          enableVMAgentPlatformUpdates: false,
        },
        secrets: [],
        allowExtensionOperations: op.allowExtensionOperations ?? true,
        requireGuestProvisionSignal: true,
      };
    } else {
      if (op.adminPassword === undefined) throw invalidParameter("Required parameter 'adminPassword' is missing (null).", 'adminPassword');
      checkPassword(op.adminPassword, 'Windows');
      guestUsers[user] = { password: true, sshKeys: [] };
      const wc = op.windowsConfiguration ?? {};
      osProfile = {
        computerName,
        adminUsername: user,
        windowsConfiguration: {
          provisionVMAgent: wc.provisionVMAgent ?? true,
          enableAutomaticUpdates: wc.enableAutomaticUpdates ?? true,
          ...(wc.timeZone ? { timeZone: wc.timeZone } : {}),
          patchSettings: { patchMode: wc.patchSettings?.patchMode ?? 'AutomaticByOS', assessmentMode: wc.patchSettings?.assessmentMode ?? 'ImageDefault' },
          enableVMAgentPlatformUpdates: false,
        },
        secrets: [],
        allowExtensionOperations: op.allowExtensionOperations ?? true,
        requireGuestProvisionSignal: true,
      };
    }
    secrets.adminPassword = op.adminPassword;
    secrets.customData = op.customData;
  }

  const data = planDataDisks(ctx, shell, sp.dataDisks, [], managedImage);
  for (const r of data.refs) if (r.createOption === 'Attach') attachedDisks.push(emu.store.get<DiskRecord>(T.disk, r.diskId)!);
  newDisks.push(...data.newDisks);
  jobs.push(...data.jobs);
  const nics = planNics(ctx, id, p.networkProfile?.networkInterfaces);
  const placement = planPlacement(emu, shell, p);
  checkQuota(emu, vmSize);
  const bd = p.diagnosticsProfile?.bootDiagnostics;
  const vmId = randomUUID();
  const vm: VmRecord = {
    id,
    name,
    resourceGroup: rg,
    location,
    tags: body?.tags,
    zones,
    vmId,
    vmSize,
    osType,
    hyperVGeneration: hyperV,
    imageReference,
    osDisk: osRef,
    dataDisks: data.refs,
    osProfile,
    secrets,
    guestUsers,
    nics,
    bootDiagnostics: bd ? { enabled: bd.enabled === true, ...(bd.storageUri ? { storageUri: bd.storageUri } : {}) } : undefined,
    additionalCapabilities: p.additionalCapabilities,
    securityProfile: p.securityProfile,
    priority: p.priority,
    licenseType: p.licenseType,
    userData: p.userData,
    ...placement,
    provisioningState: 'Creating',
    powerState: 'starting',
    hibernated: false,
    generalized: false,
    timeCreated: new Date().toISOString(),
    serialLogBlob: `bootdiagnostics/${vmId}/serial.log`,
    screenshotBlob: `bootdiagnostics/${vmId}/screenshot.bmp`,
    bootCount: 0,
  };
  return { vm, newDisks, attachedDisks, jobs };
}
