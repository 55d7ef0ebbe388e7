// The ARM calls behind resize, rebuild, snapshots/backups, changePassword, console output and
// diagnostics (the real SDK clients of shared/azure/clients.ts). Long-running operations are only
// sent here (`submitted()`); the work steps poll the VM, disk or snapshot afterwards.
import type { JacketConfig } from '../../../config';
import { createAzureClients, type AzureClients } from '../../../azure/clients';
import { absentOn404 } from '../azureVm';

export interface VmDetail {
  id: string;
  provisioningState: string;
  /** PowerState/<x> of the instance view: running, stopped, deallocated, starting, ... */
  powerState?: string;
  vmSize: string;
  osType?: 'Linux' | 'Windows';
  osDisk: { name?: string; id?: string; createOption?: string };
  imageReference?: { id?: string; publisher?: string; offer?: string; sku?: string; version?: string; exactVersion?: string };
  nicIds: string[];
  dataDisks: number;
  /** The Azure VM agent reports Ready (VMAccess extensions need it). */
  agentReady: boolean;
  agentStatus?: string;
  bootDiagnostics: boolean;
  /** From the instance view, for os-server-diagnostics. */
  guest: { computerName?: string; osName?: string; osVersion?: string; hyperVGeneration?: string; agentVersion?: string; disks: string[] };
  error?: { code: string; message: string };
}

export interface ResourceState {
  id: string;
  provisioningState: string;
  diskSizeGB?: number;
  managedBy?: string;
}

export interface ExtensionState {
  provisioningState: string;
  message?: string;
}

/** A VMAccess extension: Linux VMAccessForLinux 1.5 or Windows VMAccessAgent 2.4 (azure-facts.md). */
export interface VmAccessExtension {
  name: string;
  body: Record<string, unknown>;
}

export interface ServerActionsArm {
  vm(name: string): Promise<VmDetail | undefined>;
  /** PATCH hardwareProfile.vmSize (Azure restarts a running VM). */
  resize(name: string, vmSize: string): Promise<void>;
  /** Reimage from the VM's own image, with a new admin password. */
  reimage(name: string, adminPassword: string): Promise<void>;
  deallocate(name: string): Promise<void>;
  start(name: string): Promise<void>;
  /** With the VM deallocated: storageProfile.osDisk.managedDisk.id and name (azure-facts.md). */
  swapOsDisk(name: string, diskId: string, diskName: string): Promise<void>;
  disk(name: string): Promise<ResourceState | undefined>;
  putDisk(name: string, body: Record<string, unknown>): Promise<void>;
  /** Creates and waits (disk copies of a snapshot complete within seconds). */
  putDiskAndWait(name: string, body: Record<string, unknown>): Promise<ResourceState>;
  deleteDisk(name: string): Promise<void>;
  snapshot(name: string): Promise<ResourceState | undefined>;
  putSnapshot(name: string, body: Record<string, unknown>): Promise<void>;
  deleteSnapshot(name: string): Promise<void>;
  putExtension(vm: string, ext: VmAccessExtension): Promise<void>;
  extension(vm: string, name: string): Promise<ExtensionState | undefined>;
  /** SAS URI of the serial console log (boot diagnostics), undefined when there is none. */
  serialLogUri(vm: string): Promise<string | undefined>;
  /** The latest version of a marketplace image (for a disk made FromImage). */
  latestImageVersion(publisher: string, offer: string, sku: string): Promise<string | undefined>;
}

export function armServerActions(cfg: JacketConfig, clients: AzureClients = createAzureClients(cfg)): ServerActionsArm {
  const rg = cfg.azure.resourceGroup;
  const { compute } = clients;
  const vms = compute.virtualMachines;
  return {
    async vm(name) {
      const vm = await absentOn404(vms.get(rg, name, { expand: 'instanceView' }));
      if (!vm) return undefined;
      const iv = vm.instanceView;
      const statuses = iv?.statuses ?? [];
      const power = statuses.find((s) => s.code?.startsWith('PowerState/'))?.code?.slice('PowerState/'.length);
      const failed = statuses.find((s) => s.code?.startsWith('ProvisioningState/failed'));
      const agent = iv?.vmAgent?.statuses?.[0];
      const os = vm.storageProfile?.osDisk;
      return {
        id: vm.id ?? '',
        provisioningState: vm.provisioningState ?? 'Unknown',
        powerState: power,
        vmSize: vm.hardwareProfile?.vmSize ?? '',
        osType: os?.osType as VmDetail['osType'],
        osDisk: { name: os?.name, id: os?.managedDisk?.id, createOption: os?.createOption },
        imageReference: vm.storageProfile?.imageReference,
        nicIds: (vm.networkProfile?.networkInterfaces ?? []).map((n) => n.id ?? ''),
        dataDisks: vm.storageProfile?.dataDisks?.length ?? 0,
        agentReady: agent?.displayStatus === 'Ready',
        agentStatus: agent?.message ?? agent?.displayStatus,
        bootDiagnostics: vm.diagnosticsProfile?.bootDiagnostics?.enabled === true,
        guest: {
          computerName: iv?.computerName,
          osName: iv?.osName,
          osVersion: iv?.osVersion,
          hyperVGeneration: iv?.hyperVGeneration,
          agentVersion: iv?.vmAgent?.vmAgentVersion,
          disks: (iv?.disks ?? []).map((d) => d.name ?? ''),
        },
        ...(failed ? { error: { code: failed.code?.split('/')[2] ?? 'ProvisioningFailed', message: failed.message ?? failed.displayStatus ?? 'Provisioning failed' } } : {}),
      };
    },
    async resize(name, vmSize) {
      await vms.update(rg, name, { hardwareProfile: { vmSize } }).submitted();
    },
    async reimage(name, adminPassword) {
      await vms.reimage(rg, name, { parameters: { osProfile: { adminPassword } } }).submitted();
    },
    async deallocate(name) {
      await vms.deallocate(rg, name).submitted();
    },
    async start(name) {
      await vms.start(rg, name).submitted();
    },
    async swapOsDisk(name, diskId, diskName) {
      await vms.update(rg, name, { storageProfile: { osDisk: { name: diskName, createOption: 'Attach', managedDisk: { id: diskId } } } } as never).submitted();
    },
    async disk(name) {
      const d = await absentOn404(compute.disks.get(rg, name));
      return d ? { id: d.id ?? '', provisioningState: d.provisioningState ?? 'Unknown', diskSizeGB: d.diskSizeGB, managedBy: d.managedBy } : undefined;
    },
    async putDisk(name, body) {
      await compute.disks.createOrUpdate(rg, name, body as never).submitted();
    },
    async putDiskAndWait(name, body) {
      const d = await compute.disks.createOrUpdate(rg, name, body as never, { updateIntervalInMs: 500 });
      return { id: d.id ?? '', provisioningState: d.provisioningState ?? 'Unknown', diskSizeGB: d.diskSizeGB };
    },
    async deleteDisk(name) {
      await absentOn404(compute.disks.delete(rg, name).submitted());
    },
    async snapshot(name) {
      const sn = await absentOn404(compute.snapshots.get(rg, name));
      return sn ? { id: sn.id ?? '', provisioningState: sn.provisioningState ?? 'Unknown', diskSizeGB: sn.diskSizeGB } : undefined;
    },
    async putSnapshot(name, body) {
      await compute.snapshots.createOrUpdate(rg, name, body as never).submitted();
    },
    async deleteSnapshot(name) {
      await absentOn404(compute.snapshots.delete(rg, name).submitted());
    },
    async putExtension(vm, ext) {
      await compute.virtualMachineExtensions.createOrUpdate(rg, vm, ext.name, ext.body as never).submitted();
    },
    async extension(vm, name) {
      const e = await absentOn404(compute.virtualMachineExtensions.get(rg, vm, name, { expand: 'instanceView' }));
      if (!e) return undefined;
      const st = e.instanceView?.statuses?.find((s) => s.level === 'Error') ?? e.instanceView?.statuses?.[0];
      return { provisioningState: e.provisioningState ?? 'Unknown', message: st?.message };
    },
    async serialLogUri(vm) {
      const r = await vms.retrieveBootDiagnosticsData(rg, vm, { sasUriExpirationTimeInMinutes: 5 });
      return r.serialConsoleLogBlobUri;
    },
    async latestImageVersion(publisher, offer, sku) {
      const list = await compute.virtualMachineImages.list(cfg.azure.location, publisher, offer, sku);
      const parts = (v: string) => v.split('.').map((x) => Number.parseInt(x, 10) || 0);
      const newer = (a: string, b: string) => {
        const [x, y] = [parts(a), parts(b)];
        for (let i = 0; i < Math.max(x.length, y.length); i++) if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) > (y[i] ?? 0);
        return false;
      };
      return list.map((i) => i.name ?? '').reduce<string | undefined>((best, v) => (v && (!best || newer(v, best)) ? v : best), undefined);
    },
  };
}

const cache = new WeakMap<JacketConfig, ServerActionsArm>();
export function serverActionsArm(cfg: JacketConfig): ServerActionsArm {
  let a = cache.get(cfg);
  if (!a) {
    a = armServerActions(cfg);
    cache.set(cfg, a);
  }
  return a;
}

/** ARM states in which the VM is still busy with an operation (a second one gets 409 Conflict). */
export const BUSY = ['Creating', 'Updating', 'Deleting', 'Migrating'];
