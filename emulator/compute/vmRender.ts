/** ARM JSON of virtual machines and their instance view. */
import { createHash } from 'node:crypto';
import type { Emulator } from '../emulator';
import { T } from '../state';
import { renderExtension, renderExtensionInstanceView } from './extensions';
import type { DiskRecord, ExtensionRecord, VmDiskRef, VmRecord } from './model';

const POWER_DISPLAY: Record<string, string> = {
  starting: 'VM starting',
  running: 'VM running',
  stopping: 'VM stopping',
  stopped: 'VM stopped',
  deallocating: 'VM deallocating',
  deallocated: 'VM deallocated',
};

function diskJson(emu: Emulator, d: VmDiskRef, os: VmRecord | undefined): any {
  const rec = emu.store.get<DiskRecord>(T.disk, d.diskId);
  const o: any = {};
  if (d.lun !== undefined) o.lun = d.lun;
  if (os) o.osType = os.osType;
  o.name = d.name;
  o.createOption = d.createOption;
  o.caching = d.caching;
  if (d.lun !== undefined) {
    o.writeAcceleratorEnabled = d.writeAcceleratorEnabled ?? false;
    o.toBeDetached = d.toBeDetached ?? false;
  }
  o.managedDisk = { storageAccountType: rec?.sku ?? d.storageAccountType, id: d.diskId };
  o.deleteOption = d.deleteOption;
  o.diskSizeGB = rec?.diskSizeGB ?? d.diskSizeGB;
  return o;
}

export function renderVm(emu: Emulator, vm: VmRecord, expand?: string | null): any {
  const storageProfile: any = {};
  if (vm.imageReference) {
    const ir = vm.imageReference;
    storageProfile.imageReference = ir.id ? { id: ir.id } : { publisher: ir.publisher, offer: ir.offer, sku: ir.sku, version: ir.version, exactVersion: ir.exactVersion };
  }
  storageProfile.osDisk = diskJson(emu, vm.osDisk, vm);
  storageProfile.dataDisks = vm.dataDisks.map((d) => diskJson(emu, d, undefined));
  storageProfile.diskControllerType = 'SCSI';
  const props: any = {
    vmId: vm.vmId,
    hardwareProfile: { vmSize: vm.vmSize },
    storageProfile,
  };
  if (vm.additionalCapabilities) props.additionalCapabilities = vm.additionalCapabilities;
  if (vm.osProfile) props.osProfile = vm.osProfile;
  if (vm.availabilitySet) props.availabilitySet = { id: vm.availabilitySet };
  if (vm.proximityPlacementGroup) props.proximityPlacementGroup = { id: vm.proximityPlacementGroup };
  props.networkProfile = {
    networkInterfaces: vm.nics.map((n) => ({ id: n.id, properties: { primary: n.primary, deleteOption: n.deleteOption } })),
  };
  if (vm.securityProfile) props.securityProfile = vm.securityProfile;
  if (vm.bootDiagnostics) props.diagnosticsProfile = { bootDiagnostics: { ...vm.bootDiagnostics } };
  if (vm.priority) props.priority = vm.priority;
  if (vm.licenseType) props.licenseType = vm.licenseType;
  props.provisioningState = vm.provisioningState;
  props.timeCreated = vm.timeCreated;
  if (expand && /userdata/i.test(expand) && vm.userData) props.userData = vm.userData;
  if (expand && /instanceview/i.test(expand)) props.instanceView = renderInstanceView(emu, vm);
  const out: any = {
    name: vm.name,
    id: vm.id,
    type: 'Microsoft.Compute/virtualMachines',
    location: vm.location,
  };
  if (vm.tags) out.tags = vm.tags;
  if (vm.zones) out.zones = vm.zones;
  out.properties = props;
  out.etag = vmEtag(emu, vm);
  const exts = emu.store.list<ExtensionRecord>(T.extension).filter((e) => e.vmId.toLowerCase() === vm.id.toLowerCase());
  if (exts.length) out.resources = exts.map(renderExtension);
  return out;
}

/** The VM's etag: changes whenever its model (not its instance view) changes. */
export function vmEtag(emu: Emulator, vm: VmRecord): string {
  const model = renderVmModel(emu, vm);
  return `"${createHash('sha256').update(JSON.stringify(model)).digest('hex').slice(0, 16)}"`;
}

function renderVmModel(emu: Emulator, vm: VmRecord): unknown {
  return {
    tags: vm.tags,
    size: vm.vmSize,
    os: vm.osDisk,
    data: vm.dataDisks,
    nics: vm.nics,
    bd: vm.bootDiagnostics,
    ac: vm.additionalCapabilities,
    as: vm.availabilitySet,
    ppg: vm.proximityPlacementGroup,
    sp: vm.securityProfile,
    ir: vm.imageReference,
    ps: vm.provisioningState,
    ud: vm.userData,
    disks: [vm.osDisk, ...vm.dataDisks].map((d) => emu.store.get<DiskRecord>(T.disk, d.diskId)?.diskSizeGB),
  };
}

function provisioningStatus(vm: VmRecord, time: string): any {
  if (vm.provisioningState === 'Failed') {
    const code = vm.provisioningError?.code;
    return {
      code: `ProvisioningState/failed${code ? `/${code}` : ''}`,
      level: 'Error',
      displayStatus: 'Provisioning failed',
      message: vm.provisioningError?.message,
      time,
    };
  }
  const s = vm.provisioningState.toLowerCase();
  return {
    code: `ProvisioningState/${s}`,
    level: 'Info',
    displayStatus: s === 'succeeded' ? 'Provisioning succeeded' : `Provisioning ${s}`,
    ...(s === 'succeeded' ? { time } : {}),
  };
}

export function renderInstanceView(emu: Emulator, vm: VmRecord): any {
  const time = new Date().toISOString();
  const statuses: any[] = [provisioningStatus(vm, time), { code: `PowerState/${vm.powerState}`, level: 'Info', displayStatus: POWER_DISPLAY[vm.powerState] }];
  if (vm.generalized) statuses.push({ code: 'OSState/generalized', level: 'Info', displayStatus: 'VM generalized' });
  if (vm.hibernated) statuses.push({ code: 'HibernationState/Hibernated', level: 'Info', displayStatus: 'VM hibernated' });
  const view: any = {
    computerName: vm.osProfile?.computerName,
    osName: vm.osType === 'Windows' ? 'Windows Server 2022 Datacenter Azure Edition' : 'ubuntu',
    osVersion: vm.osType === 'Windows' ? '10.0.20348' : '22.04',
    hyperVGeneration: vm.hyperVGeneration,
  };
  if (!view.computerName) delete view.computerName;
  if (vm.platformUpdateDomain !== undefined) view.platformUpdateDomain = vm.platformUpdateDomain;
  if (vm.platformFaultDomain !== undefined) view.platformFaultDomain = vm.platformFaultDomain;
  if (vm.powerState === 'running') {
    view.vmAgent = {
      vmAgentVersion: vm.osType === 'Windows' ? '2.7.41491.1102' : '2.11.1.12',
      statuses: [{ code: 'ProvisioningState/succeeded', level: 'Info', displayStatus: 'Ready', message: 'Guest Agent is running', time }],
    };
  }
  view.disks = [vm.osDisk, ...vm.dataDisks].map((d) => ({
    name: d.name,
    statuses: [{ code: 'ProvisioningState/succeeded', level: 'Info', displayStatus: 'Provisioning succeeded', time }],
  }));
  const exts = emu.store.list<ExtensionRecord>(T.extension).filter((e) => e.vmId.toLowerCase() === vm.id.toLowerCase());
  if (exts.length) view.extensions = exts.map((e) => renderExtensionInstanceView(e));
  if (vm.bootDiagnostics?.enabled) view.bootDiagnostics = {};
  view.statuses = statuses;
  return view;
}
