// What a server is on Azure: names, tags, and the ARM request bodies for its NICs and VM, plus the small
// ARM surface the servers module uses (the real SDK clients from shared/azure/clients.ts).
// Names follow the OpenStack ids: the VM and its OS disk are named by the server UUID, its first NIC
// too (further NICs <uuid>-<n>); everything lives in config.azure.resourceGroup / location and carries
// tags that let the sweeps prove Jacket made it.
import type { JacketConfig } from '../../config';
import { createAzureClients, type AzureClients } from '../../azure/clients';
import type { ServerRecord } from './model';

export const nicName = (serverId: string, index: number) => (index === 0 ? serverId : `${serverId}-${index}`);
export const osDiskName = (serverId: string) => serverId;

export function serverTags(s: Pick<ServerRecord, 'id' | 'project_id'>): Record<string, string> {
  return { jacket: 'server', 'jacket-server-id': s.id, 'jacket-project-id': s.project_id };
}

export type ImageReference = { publisher: string; offer: string; sku: string; version: string } | { id: string };

export interface NicSpec {
  name: string;
  subnetId: string;
  nsgId?: string;
  fixedIp?: string;
}

export function armId(cfg: JacketConfig, rg: string, provider: string, type: string, name: string): string {
  return `/subscriptions/${cfg.azure.subscriptionId}/resourceGroups/${rg}/providers/${provider}/${type}/${name}`;
}

export function subnetId(cfg: JacketConfig, az: { vnet: string; subnet: string; resourceGroup: string }): string {
  return `${armId(cfg, az.resourceGroup, 'Microsoft.Network', 'virtualNetworks', az.vnet)}/subnets/${az.subnet}`;
}

export function nicBody(cfg: JacketConfig, server: ServerRecord, nic: NicSpec) {
  return {
    location: cfg.azure.location,
    tags: serverTags(server),
    ipConfigurations: [
      {
        name: 'ipconfig1',
        primary: true,
        subnet: { id: nic.subnetId },
        privateIPAllocationMethod: nic.fixedIp ? ('Static' as const) : ('Dynamic' as const),
        ...(nic.fixedIp ? { privateIPAddress: nic.fixedIp } : {}),
      },
    ],
    ...(nic.nsgId ? { networkSecurityGroup: { id: nic.nsgId } } : {}),
  };
}

export interface VmSpec {
  imageReference: ImageReference;
  adminPassword: string;
  sshPublicKey?: string;
  customData?: string;
  azureZone?: string;
  nicIds: string[];
  /** The flavor says its size can hibernate (azure:hibernation=true): suspend uses it. */
  hibernation?: boolean;
}

/** Computer names: Nova's hostname rule (letters, digits, '-') within Azure's limits (Windows 15, Linux 64). */
export function computerName(displayName: string, os: 'linux' | 'windows', fallback: string): string {
  let h = displayName.toLowerCase().replace(/[ _.]/g, '-').replace(/[^a-z0-9-]/g, '').replace(/^-+/, '');
  h = h.slice(0, os === 'windows' ? 15 : 63).replace(/-+$/, '');
  if (!h || (os === 'windows' && /^\d+$/.test(h))) h = `vm-${fallback.replace(/-/g, '').slice(0, os === 'windows' ? 12 : 32)}`;
  return h;
}

export function vmBody(cfg: JacketConfig, server: ServerRecord, spec: VmSpec) {
  const user = server.azure.admin_username;
  const linux = server.os_type === 'linux';
  return {
    location: cfg.azure.location,
    tags: serverTags(server),
    ...(spec.azureZone ? { zones: [spec.azureZone] } : {}),
    ...(spec.hibernation ? { additionalCapabilities: { hibernationEnabled: true } } : {}),
    hardwareProfile: { vmSize: server.flavor.vm_size },
    storageProfile: {
      imageReference: spec.imageReference,
      osDisk: { name: server.azure.os_disk, createOption: 'FromImage', deleteOption: 'Delete', caching: 'ReadWrite' },
    },
    osProfile: {
      computerName: computerName(server.name, server.os_type, server.id),
      adminUsername: user,
      adminPassword: spec.adminPassword,
      ...(spec.customData ? { customData: spec.customData } : {}),
      ...(linux
        ? {
            linuxConfiguration: {
              disablePasswordAuthentication: false,
              ...(spec.sshPublicKey ? { ssh: { publicKeys: [{ path: `/home/${user}/.ssh/authorized_keys`, keyData: spec.sshPublicKey }] } } : {}),
            },
          }
        : { windowsConfiguration: { provisionVMAgent: true, enableAutomaticUpdates: true } }),
    },
    networkProfile: {
      networkInterfaces: spec.nicIds.map((id, i) => ({ id, primary: i === 0, deleteOption: 'Delete' })),
    },
    // Managed boot diagnostics storage: the serial log backs os-getConsoleOutput.
    diagnosticsProfile: { bootDiagnostics: { enabled: true } },
  };
}

export interface ArmFailure {
  status?: number;
  code: string;
  message: string;
}

/** An SDK error as {status, code, message}. */
export function armFailure(e: unknown): ArmFailure {
  const o = (typeof e === 'object' && e !== null ? e : {}) as { statusCode?: number; code?: string; message?: string; details?: { error?: { code?: string; message?: string } } };
  const inner = o.details?.error;
  return { status: o.statusCode, code: inner?.code ?? o.code ?? 'Unknown', message: inner?.message ?? o.message ?? String(e) };
}

export const isNotFound = (e: unknown) => armFailure(e).status === 404;

export interface VmState {
  provisioningState: string;
  powerState?: string;
  error?: { code: string; message: string };
  /** additionalCapabilities.hibernationEnabled (suspend needs it). */
  hibernationEnabled?: boolean;
  /** The instance view says HibernationState/Hibernated. */
  hibernated?: boolean;
}

/** The VM power operations the lifecycle actions send (long-running: sent, then polled). */
export type VmPowerOp = 'start' | 'restart' | 'powerOffSkipShutdown' | 'powerOff' | 'deallocate' | 'hibernate' | 'redeploy';

/** The ARM calls the servers module makes. */
export interface ServerArm {
  /** Creates or updates a NIC and waits for it (NIC PUTs complete quickly); returns its id. */
  putNic(name: string, body: ReturnType<typeof nicBody>): Promise<string>;
  /** Sends the VM PUT without waiting for the long-running operation. */
  submitVm(name: string, body: ReturnType<typeof vmBody>): Promise<void>;
  vmState(name: string): Promise<VmState | undefined>;
  nic(name: string): Promise<{ id: string; mac?: string; ip?: string; attached: boolean; provisioningState?: string } | undefined>;
  disk(name: string): Promise<{ managedBy?: string; provisioningState?: string } | undefined>;
  deleteVm(name: string): Promise<void>;
  deleteNic(name: string): Promise<void>;
  deleteDisk(name: string): Promise<void>;
  /** Sends a power operation without waiting for it (poll vmState). */
  submitPowerOp(name: string, op: VmPowerOp): Promise<void>;
}

/** The ARM call's result, or undefined when Azure answers 404. */
export async function absentOn404<T>(p: Promise<T>): Promise<T | undefined> {
  try {
    return await p;
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw e;
  }
}

export function armServers(cfg: JacketConfig, clients: AzureClients = createAzureClients(cfg)): ServerArm {
  const rg = cfg.azure.resourceGroup;
  const { compute, network } = clients;
  return {
    async putNic(name, body) {
      const nic = await network.networkInterfaces.beginCreateOrUpdateAndWait(rg, name, body, { updateIntervalInMs: 500 });
      return nic.id!;
    },
    async submitVm(name, body) {
      await compute.virtualMachines.createOrUpdate(rg, name, body as never).submitted();
    },
    async vmState(name) {
      const vm = await absentOn404(compute.virtualMachines.get(rg, name, { expand: 'instanceView' }));
      if (!vm) return undefined;
      const statuses = vm.instanceView?.statuses ?? [];
      const power = statuses.find((s) => s.code?.startsWith('PowerState/'))?.code?.slice('PowerState/'.length);
      const failed = statuses.find((s) => s.code?.startsWith('ProvisioningState/failed'));
      const code = failed?.code?.split('/')[2];
      return {
        provisioningState: vm.provisioningState ?? 'Unknown',
        powerState: power,
        ...(failed ? { error: { code: code ?? 'ProvisioningFailed', message: failed.message ?? failed.displayStatus ?? 'Provisioning failed' } } : {}),
        hibernationEnabled: vm.additionalCapabilities?.hibernationEnabled === true,
        hibernated: statuses.some((s) => s.code === 'HibernationState/Hibernated'),
      };
    },
    async nic(name) {
      const n = await absentOn404(network.networkInterfaces.get(rg, name));
      if (!n) return undefined;
      const ipc = n.ipConfigurations?.find((c) => c.primary) ?? n.ipConfigurations?.[0];
      return { id: n.id!, mac: n.macAddress, ip: ipc?.privateIPAddress, attached: !!n.virtualMachine?.id, provisioningState: n.provisioningState };
    },
    async disk(name) {
      const d = await absentOn404(compute.disks.get(rg, name));
      return d ? { managedBy: d.managedBy, provisioningState: d.provisioningState } : undefined;
    },
    async deleteVm(name) {
      await absentOn404(compute.virtualMachines.delete(rg, name).submitted());
    },
    async deleteNic(name) {
      await absentOn404(network.networkInterfaces.beginDelete(rg, name));
    },
    async deleteDisk(name) {
      await absentOn404(compute.disks.delete(rg, name).submitted());
    },
    async submitPowerOp(name, op) {
      const vms = compute.virtualMachines;
      const poller =
        op === 'start' ? vms.start(rg, name)
        : op === 'restart' ? vms.restart(rg, name)
        : op === 'powerOff' ? vms.powerOff(rg, name)
        : op === 'powerOffSkipShutdown' ? vms.powerOff(rg, name, { skipShutdown: true })
        : op === 'deallocate' ? vms.deallocate(rg, name)
        : op === 'hibernate' ? vms.deallocate(rg, name, { hibernate: true })
        : vms.redeploy(rg, name);
      await poller.submitted();
    },
  };
}

const cache = new WeakMap<JacketConfig, ServerArm>();
/** One ARM surface per config (the SDK clients keep their connections). */
export function serverArm(cfg: JacketConfig): ServerArm {
  let a = cache.get(cfg);
  if (!a) {
    a = armServers(cfg);
    cache.set(cfg, a);
  }
  return a;
}
