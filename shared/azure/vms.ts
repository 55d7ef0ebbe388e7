// Virtual machines and what belongs to them (Nova's virt driver, for Azure): the NIC and VM PUTs of a
// server, its delete (one DELETE: deleteOption=Delete on the OS disk and NICs cascades), power
// operations, the VMAccess extension, data disk attach/detach, the instance view, boot diagnostics,
// and the OS disk / OS disk snapshot operations of rebuild, createImage and snapshot boot. Owned by
// compute. Every write is sent without waiting for its long-running operation: it returns what Azure
// said at submission (Submitted: Retry-After), and the work step polls the VM (or disk) afterwards,
// paced by that. Errors are the SDK's (or ArmHttpError for the raw NIC calls), classified by
// shared/azure/errors.ts. The request bodies are Azure's format, so they are built here too.
import type { NetworkManagementClient } from '@azure/arm-network';
import type { DriverContext } from './context';
import { absentOn404, isNotFound, parseRetryAfter } from './errors';
import { recordSubmit, type Submitted } from './operations';

// ---- names, tags and request bodies ----

/** The first NIC is named by the server UUID, further ones <uuid>-<n>; the OS disk by the UUID too. */
export const nicName = (serverId: string, index: number) => (index === 0 ? serverId : `${serverId}-${index}`);
export const osDiskName = (serverId: string) => serverId;

/** What a server record tells the driver about itself (shared/compute/servers/model.ts ServerRecord). */
export interface VmOwner {
  id: string;
  project_id: string;
  name: string;
  /** The computer name chosen when the server was made (Nova's instance.hostname); older records lack it. */
  hostname?: string;
  /** The computer name when it differs from a hostname Nova may change later (2.90); older records lack it. */
  computer_name?: string;
  os_type: 'linux' | 'windows';
  flavor: { vm_size: string };
  azure: { vm: string; os_disk: string; admin_username: string };
}

/** The tags that let the sweeps prove Jacket made a resource for this server. */
export function serverTags(s: Pick<VmOwner, 'id' | 'project_id'>): Record<string, string> {
  return { jacket: 'server', 'jacket-server-id': s.id, 'jacket-project-id': s.project_id };
}

export type ImageReference = { publisher: string; offer: string; sku: string; version: string } | { id: string };

export interface NicSpec {
  name: string;
  subnetId: string;
  nsgId?: string;
  /** Application security groups (ARM ids) the NIC's IP configuration joins: its security group's. */
  asgIds?: string[];
  fixedIp?: string;
  /**
   * More addresses on the NIC (a Neutron port with several fixed IPs): secondary IP configurations
   * ipconfig2.. on the same subnet, each static at the address given or dynamic (null).
   */
  secondaryIps?: (string | null)[];
  /**
   * Azure's IP forwarding: the NIC may send and receive packets whose addresses are not its own (its
   * source/destination check off). Neutron's allowed address pairs and port_security_enabled=false.
   */
  ipForwarding?: boolean;
}

/** A NIC's ARM body; tagged for its server, or (`tags` given) for a port made through Neutron's API. */
export function nicBody(location: string, owner: Pick<VmOwner, 'id' | 'project_id'>, nic: NicSpec, tags: Record<string, string> = serverTags(owner)) {
  return {
    location,
    tags,
    properties: {
      ipConfigurations: [
        {
          name: 'ipconfig1',
          properties: {
            primary: true,
            subnet: { id: nic.subnetId },
            privateIPAllocationMethod: nic.fixedIp ? 'Static' : 'Dynamic',
            ...(nic.fixedIp ? { privateIPAddress: nic.fixedIp } : {}),
            ...(nic.asgIds?.length ? { applicationSecurityGroups: nic.asgIds.map((id) => ({ id })) } : {}),
          },
        },
        // Azure wants every IP configuration of a NIC in the same application security groups.
        ...(nic.secondaryIps ?? []).map((ip, k) => ({
          name: `ipconfig${k + 2}`,
          properties: {
            primary: false,
            subnet: { id: nic.subnetId },
            privateIPAllocationMethod: ip ? 'Static' : 'Dynamic',
            ...(ip ? { privateIPAddress: ip } : {}),
            ...(nic.asgIds?.length ? { applicationSecurityGroups: nic.asgIds.map((id) => ({ id })) } : {}),
          },
        })),
      ],
      ...(nic.nsgId ? { networkSecurityGroup: { id: nic.nsgId } } : {}),
      ...(nic.ipForwarding ? { enableIPForwarding: true } : {}),
    },
  };
}

/** How the OS disk comes to be: from an image (provisioned, osProfile), or an existing disk attached. */
export type OsDiskSource =
  | {
      kind: 'image';
      imageReference: ImageReference;
      /**
       * Boot from a new volume made from the image (block_device_mapping_v2 image -> volume): the VM makes
       * the OS disk at this size and SKU, provisioned from the image (osProfile), and leaves it at delete
       * (the volume owns it). Without it, the OS disk is the server's own and goes with the VM.
       */
      volumeDisk?: { sizeGB: number; sku: string };
    }
  | { kind: 'attach'; diskName: string; deleteWithVm: boolean };

export interface VmSpec {
  os: OsDiskSource;
  /** Required with an image source (Azure provisions the admin account). */
  adminPassword?: string;
  sshPublicKey?: string;
  customData?: string;
  azureZone?: string;
  nicIds: string[];
  /** NICs the VM's delete must leave (ports the user made: Nova keeps them); the others go with the VM. */
  keepNicIds?: string[];
  /** The flavor says its size can hibernate (azure:hibernation=true): suspend uses it. */
  hibernation?: boolean;
  /** A server group's availability set (anti-affinity) or proximity placement group (affinity): ARM ids. */
  availabilitySetId?: string;
  proximityPlacementGroupId?: string;
  /**
   * Volumes mapped at boot, data disks of the VM's own PUT at their LUNs, kept at delete: an existing
   * managed disk (Attach), or a blank volume's new disk (Empty, named and sized as the volume).
   */
  /**
   * Data disks: an existing disk (Attach), or one the VM makes, named `name` — Empty, or a Copy of the
   * snapshot `sourceId` (a volume made from a snapshot at boot).
   */
  dataDisks?: ({ lun: number; diskId: string } | { lun: number; made: { name: string; sizeGB: number; sku: string; sourceId?: string } })[];
}

/** Computer names: Nova's hostname rule (letters, digits, '-') within Azure's limits (Windows 15, Linux 64). */
export function computerName(displayName: string, os: 'linux' | 'windows', fallback: string): string {
  let h = displayName
    .toLowerCase()
    .replace(/[ _.]/g, '-')
    .replace(/[^a-z0-9-]/g, '')
    .replace(/^-+/, '');
  h = h.slice(0, os === 'windows' ? 15 : 63).replace(/-+$/, '');
  if (!h || (os === 'windows' && /^\d+$/.test(h))) h = `vm-${fallback.replace(/-/g, '').slice(0, os === 'windows' ? 12 : 32)}`;
  return h;
}

export type VmBody = Record<string, unknown>;

export function vmBody(ctx: Pick<DriverContext, 'cfg' | 'armId'>, server: VmOwner, spec: VmSpec): VmBody {
  const user = server.azure.admin_username;
  const linux = server.os_type === 'linux';
  const osType = linux ? 'Linux' : 'Windows';
  // An existing disk (a volume, a copy of a snapshot) is booted as it is: Attach, osType, no
  // imageReference and no osProfile — Azure provisions nothing on it (azure-facts.md).
  const storageProfile =
    spec.os.kind === 'attach'
      ? {
          osDisk: {
            name: spec.os.diskName,
            createOption: 'Attach',
            osType,
            managedDisk: { id: ctx.armId('Microsoft.Compute', 'disks', spec.os.diskName) },
            deleteOption: spec.os.deleteWithVm ? 'Delete' : 'Detach',
            caching: 'ReadWrite',
          },
        }
      : {
          imageReference: spec.os.imageReference,
          osDisk: {
            name: server.azure.os_disk,
            createOption: 'FromImage',
            caching: 'ReadWrite',
            ...(spec.os.volumeDisk ? { deleteOption: 'Detach', diskSizeGB: spec.os.volumeDisk.sizeGB, managedDisk: { storageAccountType: spec.os.volumeDisk.sku } } : { deleteOption: 'Delete' }),
          },
        };
  const dataDisks = spec.dataDisks?.length
    ? {
        dataDisks: spec.dataDisks.map((d) =>
          'made' in d
            ? {
                lun: d.lun,
                name: d.made.name,
                ...(d.made.sourceId ? { createOption: 'Copy', sourceResource: { id: d.made.sourceId } } : { createOption: 'Empty' }),
                diskSizeGB: d.made.sizeGB,
                managedDisk: { storageAccountType: d.made.sku },
                caching: 'None',
                deleteOption: 'Detach',
              }
            : { lun: d.lun, createOption: 'Attach', managedDisk: { id: d.diskId }, caching: 'None', deleteOption: 'Detach' },
        ),
      }
    : {};
  const osProfile =
    spec.os.kind === 'attach'
      ? undefined
      : {
          computerName: server.computer_name ?? server.hostname ?? computerName(server.name, server.os_type, server.id),
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
        };
  return {
    location: ctx.cfg.azure.location,
    tags: serverTags(server),
    ...(spec.azureZone ? { zones: [spec.azureZone] } : {}),
    ...(spec.hibernation ? { additionalCapabilities: { hibernationEnabled: true } } : {}),
    ...(spec.availabilitySetId ? { availabilitySet: { id: spec.availabilitySetId } } : {}),
    ...(spec.proximityPlacementGroupId ? { proximityPlacementGroup: { id: spec.proximityPlacementGroupId } } : {}),
    hardwareProfile: { vmSize: server.flavor.vm_size },
    storageProfile: { ...storageProfile, ...dataDisks },
    ...(osProfile ? { osProfile } : {}),
    networkProfile: {
      // deleteOption=Delete: the VM's DELETE removes its NICs (and its OS disk) in the same operation.
      networkInterfaces: spec.nicIds.map((id, i) => ({ id, primary: i === 0, deleteOption: spec.keepNicIds?.includes(id) ? 'Detach' : 'Delete' })),
    },
    // Managed boot diagnostics storage: the serial log backs os-getConsoleOutput.
    diagnosticsProfile: { bootDiagnostics: { enabled: true } },
  };
}

/** A VMAccess extension: Linux VMAccessForLinux 1.5 or Windows VMAccessAgent 2.4 (azure-facts.md). */
export interface VmAccessExtension {
  name: string;
  body: Record<string, unknown>;
}

/** The one VMAccess extension instance of a VM (Azure allows one per handler: it is updated to act again). */
export const VMACCESS_NAME = 'enablevmaccess';

/**
 * The VMAccess extension that sets `password` for `username` and, on Linux, adds `sshKey` to its
 * authorized keys (VMAccessForLinux's ssh_key; Windows VMs take no SSH key); forceUpdateTag makes Azure
 * run it again.
 */
export function vmAccessExtension(location: string, osType: 'linux' | 'windows', username: string, access: { password?: string; sshKey?: string }, runTag: string): VmAccessExtension {
  const linux = osType === 'linux';
  const { password, sshKey } = access;
  return {
    name: VMACCESS_NAME,
    body: {
      location,
      publisher: linux ? 'Microsoft.OSTCExtensions' : 'Microsoft.Compute',
      typePropertiesType: linux ? 'VMAccessForLinux' : 'VMAccessAgent',
      typeHandlerVersion: linux ? '1.5' : '2.4',
      autoUpgradeMinorVersion: true,
      forceUpdateTag: runTag,
      settings: linux ? {} : { UserName: username },
      protectedSettings: linux ? { username, ...(password !== undefined ? { password } : {}), ...(sshKey !== undefined ? { ssh_key: sshKey } : {}) } : { Password: password },
    },
  };
}

// ---- what the driver reads ----

/** The VM with its instance view, reduced to what Jacket reads. */
export interface VmView {
  id: string;
  provisioningState: string;
  /** PowerState/<x> of the instance view: running, stopped, deallocated, starting, ... */
  powerState?: string;
  error?: { code: string; message: string };
  /** additionalCapabilities.hibernationEnabled (suspend needs it). */
  hibernationEnabled: boolean;
  /** The instance view says HibernationState/Hibernated. */
  hibernated: boolean;
  tags: Record<string, string>;
  vmSize: string;
  osType?: 'Linux' | 'Windows';
  osDisk: { name?: string; id?: string; createOption?: string };
  imageReference?: { id?: string; publisher?: string; offer?: string; sku?: string; version?: string; exactVersion?: string };
  nicIds: string[];
  dataDisks: { lun: number; id?: string }[];
  /** The Azure VM agent reports Ready (VMAccess extensions need it). */
  agentReady: boolean;
  agentStatus?: string;
  bootDiagnostics: boolean;
  /** From the instance view, for os-server-diagnostics. */
  guest: { computerName?: string; osName?: string; osVersion?: string; hyperVGeneration?: string; agentVersion?: string; disks: string[] };
}

/** What a status-only list says of a VM (a reduced VmView: power and provisioning only). */
export type VmState = Pick<VmView, 'id' | 'provisioningState' | 'powerState' | 'error' | 'hibernated'>;

type Status = { code?: string; message?: string; displayStatus?: string };

/** Power, provisioning failure and hibernation as an instance view's statuses say them. */
function statesOf(statuses: Status[]): Pick<VmView, 'powerState' | 'error' | 'hibernated'> {
  const power = statuses.find((s) => s.code?.startsWith('PowerState/'))?.code?.slice('PowerState/'.length);
  const failed = statuses.find((s) => s.code?.startsWith('ProvisioningState/failed'));
  return {
    powerState: power,
    ...(failed ? { error: { code: failed.code?.split('/')[2] ?? 'ProvisioningFailed', message: failed.message ?? failed.displayStatus ?? 'Provisioning failed' } } : {}),
    hibernated: statuses.some((s) => s.code === 'HibernationState/Hibernated'),
  };
}

/** ProvisioningState/succeeded → Succeeded: the spelling of properties.provisioningState (BUSY_STATES). */
function provisioningOf(statuses: Status[]): string | undefined {
  const word = statuses.find((s) => s.code?.startsWith('ProvisioningState/'))?.code?.split('/')[1];
  return word ? word[0].toUpperCase() + word.slice(1) : undefined;
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

/** What a NIC PUT answered: its id, and the private IP Azure allocated (the PUT's answer carries it). */
export interface NicCreated {
  id: string;
  ip?: string;
  mac?: string;
}

/** The VM power operations the lifecycle actions send. */
export type VmPowerOp = 'start' | 'restart' | 'powerOffSkipShutdown' | 'powerOff' | 'deallocate' | 'hibernate' | 'redeploy';

/** ARM states in which the VM is still busy with an operation (a second one gets 409 Conflict). */
export const BUSY_STATES = ['Creating', 'Updating', 'Deleting', 'Migrating'];

export interface VmDriver {
  nicId(name: string): string;
  diskId(name: string): string;
  subnetId(az: { vnet: string; subnet: string; resourceGroup: string }): string;
  nsgId(nsg: { nsg: string; resourceGroup: string }): string;
  /** The ARM id of an application security group in Jacket's resource group. */
  asgId(name: string): string;
  /** NIC PUT (synchronous on Azure): one request, no poll. */
  createNic(nic: NicSpec, owner: Pick<VmOwner, 'id' | 'project_id'>): Promise<NicCreated>;
  /**
   * The NIC's MAC address: Azure assigns it only once the VM runs, so the build reads it once after
   * the VM succeeded (Nova's addresses require it). Undefined when the NIC or its MAC is not there.
   */
  nicMac(name: string): Promise<string | undefined>;
  /** NIC DELETE, one request (404 is success). */
  deleteNic(name: string): Promise<Submitted>;
  /** The VM PUT's body for a server (vmBody with this driver's ids and location). */
  vmBody(server: VmOwner, spec: VmSpec): VmBody;
  /** VM PUT, sent without waiting for the operation. */
  createVm(name: string, body: VmBody): Promise<Submitted>;
  /**
   * The VM's NICs replaced (a PATCH of networkProfile; Azure allows it only while the VM is
   * deallocated): the first is the primary; each leaves with a VM delete detached, as at create.
   */
  setNics(name: string, nicIds: string[]): Promise<Submitted>;
  /** GET with instanceView; undefined when the VM does not exist. */
  vm(name: string): Promise<VmView | undefined>;
  /**
   * Every VM of Jacket's resource group with its power and provisioning state, from one paged list
   * (VirtualMachines_ListAll with statusOnly=true: the only list that carries the instance view without
   * a scale-set filter). The reconcile pass reads this instead of one GET per server.
   */
  vmStates(): Promise<Map<string, VmState>>;
  /** VM DELETE (its OS disk and NICs go with it: deleteOption=Delete); 404 is success. */
  deleteVm(name: string): Promise<Submitted & { absent?: boolean }>;
  power(name: string, op: VmPowerOp): Promise<Submitted>;
  /** PATCH hardwareProfile.vmSize (Azure restarts a running VM). */
  resize(name: string, vmSize: string): Promise<Submitted>;
  /** Reimage from the VM's own image, with a new admin password. */
  /** Reimage with a new admin password and, when given, new custom data (a rebuild's user_data, 2.57). */
  reimage(name: string, adminPassword: string, customData?: string): Promise<Submitted>;
  /** With the VM deallocated: storageProfile.osDisk.managedDisk.id and name (azure-facts.md). */
  swapOsDisk(name: string, diskId: string, diskName: string): Promise<Submitted>;
  attachDataDisk(name: string, diskId: string, lun: number): Promise<Submitted>;
  detachDataDisk(name: string, diskId: string): Promise<Submitted>;
  putExtension(vm: string, ext: VmAccessExtension): Promise<Submitted>;
  extension(vm: string, name: string): Promise<ExtensionState | undefined>;
  /** SAS URI of the serial console log (boot diagnostics), undefined when there is none. */
  serialLogUri(vm: string): Promise<string | undefined>;
  /** maxDataDiskCount of a VM size in the region (the sizes list is read once per process). */
  maxDataDisks(vmSize: string): Promise<number | undefined>;
  /** The latest version of a marketplace image (for an OS disk made FromImage). */
  latestImageVersion(publisher: string, offer: string, sku: string): Promise<string | undefined>;
  // The OS disks of rebuild and snapshot boot, and the OS disk snapshots of createImage/createBackup.
  osDisk(name: string): Promise<ResourceState | undefined>;
  /**
   * An OS disk made before its VM (a copy of a snapshot): tagged as the server's, in Azure's default SKU
   * and the source's size — or, for a volume's disk (`volume`), with the volume's SKU, size and tags.
   */
  putOsDisk(
    name: string,
    owner: Pick<VmOwner, 'id' | 'project_id' | 'os_type'>,
    creationData: Record<string, unknown>,
    zone?: string,
    volume?: { sku: string; sizeGB: number; tags: Record<string, string> },
  ): Promise<Submitted>;
  deleteOsDisk(name: string): Promise<Submitted>;
  osSnapshot(name: string): Promise<ResourceState | undefined>;
  putOsSnapshot(name: string, body: Record<string, unknown>): Promise<Submitted>;
  deleteOsSnapshot(name: string): Promise<Submitted>;
}

/** An ARM error answer of a raw request, shaped as the SDK's RestError (errors.ts classifies it). */
export class ArmHttpError extends Error {
  constructor(
    readonly statusCode: number,
    readonly details: { error?: { code?: string; message?: string } } | undefined,
    readonly response: { headers: { get: (n: string) => string | undefined } },
  ) {
    super(details?.error?.message ?? `ARM answered ${statusCode}`);
    this.code = details?.error?.code;
  }
  code?: string;
}

/** The Network API version the raw NIC calls use (the one @azure/arm-network 36 speaks). */
const NETWORK_API = '2025-05-01';

/**
 * The ARM operations this file sends as raw requests (armCall), named as the SDK operation they stand
 * for: the custom role's test (test/unit/infra-role.test.ts) adds them to what it finds by scanning.
 */
export const RAW_ARM_OPERATIONS = ['network.networkInterfaces.createOrUpdate', 'network.networkInterfaces.delete'] as const;

/**
 * One request with the network client's pipeline (credential, CA, throttle metric). The SDK's NIC
 * LRO methods poll once right after the request; a NIC PUT completes synchronously on Azure, so Jacket
 * sends the request alone and uses its answer.
 */
async function armCall(client: NetworkManagementClient, endpoint: string, method: 'PUT' | 'DELETE', id: string, body?: unknown): Promise<{ status: number; body: unknown; submitted: Submitted }> {
  // Loaded here, not at import: the pipeline package is part of the SDKs that load on first use (clients.ts).
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { createPipelineRequest } = require('@azure/core-rest-pipeline') as typeof import('@azure/core-rest-pipeline');
  const req = createPipelineRequest({ url: `${endpoint}${id}?api-version=${NETWORK_API}`, method, ...(body ? { body: JSON.stringify(body) } : {}) });
  req.headers.set('content-type', 'application/json');
  req.headers.set('accept', 'application/json');
  const res = await client.sendRequest(req);
  let parsed: unknown;
  try {
    parsed = res.bodyAsText ? JSON.parse(res.bodyAsText) : undefined;
  } catch {
    parsed = undefined;
  }
  const headers = { get: (n: string) => res.headers.get(n) };
  if (res.status >= 400) throw new ArmHttpError(res.status, parsed as ArmHttpError['details'], { headers });
  const ra = parseRetryAfter(res.headers.get('retry-after'));
  const url = res.headers.get('azure-asyncoperation') ?? res.headers.get('location');
  return { status: res.status, body: parsed, submitted: { ...(ra !== undefined ? { retryAfterSeconds: ra } : {}), ...(url ? { statusUrl: url } : {}) } };
}

/** Sends a compute LRO (its `submitted()` is the one request) and returns what Azure said then. */
async function submit(send: (options: ReturnType<typeof recordSubmit>['options']) => { submitted(): Promise<unknown> }): Promise<Submitted> {
  const rec = recordSubmit();
  await send(rec.options).submitted();
  return rec.submitted();
}

export function vmDriver(ctx: DriverContext): VmDriver {
  const rg = () => ctx.cfg.azure.resourceGroup;
  const compute = () => ctx.clients().compute;
  const vms = () => compute().virtualMachines;
  let sizes: Promise<Map<string, number>> | undefined;
  const resource = (d: { id?: string; provisioningState?: string; diskSizeGB?: number; managedBy?: string } | undefined): ResourceState | undefined =>
    d ? { id: d.id ?? '', provisioningState: d.provisioningState ?? 'Unknown', diskSizeGB: d.diskSizeGB, managedBy: d.managedBy } : undefined;
  const driver: VmDriver = {
    nicId: (name) => ctx.armId('Microsoft.Network', 'networkInterfaces', name),
    diskId: (name) => ctx.armId('Microsoft.Compute', 'disks', name),
    subnetId: (az) => `${ctx.armId('Microsoft.Network', 'virtualNetworks', az.vnet, az.resourceGroup)}/subnets/${az.subnet}`,
    nsgId: (g) => ctx.armId('Microsoft.Network', 'networkSecurityGroups', g.nsg, g.resourceGroup),
    asgId: (name) => ctx.armId('Microsoft.Network', 'applicationSecurityGroups', name),
    async createNic(nic, owner) {
      const r = await armCall(ctx.clients().network, ctx.cfg.azure.armEndpoint, 'PUT', driver.nicId(nic.name), nicBody(ctx.cfg.azure.location, owner, nic));
      const b = (r.body ?? {}) as { id?: string; properties?: { macAddress?: string; ipConfigurations?: { properties?: { primary?: boolean; privateIPAddress?: string } }[] } };
      const ipcs = b.properties?.ipConfigurations ?? [];
      const ipc = ipcs.find((c) => c.properties?.primary) ?? ipcs[0];
      return { id: b.id ?? driver.nicId(nic.name), ip: ipc?.properties?.privateIPAddress, mac: b.properties?.macAddress };
    },
    async nicMac(name) {
      return (await absentOn404(ctx.clients().network.networkInterfaces.get(rg(), name)))?.macAddress || undefined;
    },
    async deleteNic(name) {
      try {
        return (await armCall(ctx.clients().network, ctx.cfg.azure.armEndpoint, 'DELETE', driver.nicId(name))).submitted;
      } catch (e) {
        if ((e as ArmHttpError).statusCode === 404) return {};
        throw e;
      }
    },
    vmBody: (server, spec) => vmBody(ctx, server, spec),
    createVm: (name, body) => submit((options) => vms().createOrUpdate(rg(), name, body as never, options)),
    async vm(name) {
      const vm = await absentOn404(vms().get(rg(), name, { expand: 'instanceView' }));
      if (!vm) return undefined;
      const iv = vm.instanceView;
      const state = statesOf(iv?.statuses ?? []);
      const agent = iv?.vmAgent?.statuses?.[0];
      const os = vm.storageProfile?.osDisk;
      return {
        id: vm.id ?? '',
        provisioningState: vm.provisioningState ?? 'Unknown',
        ...state,
        hibernationEnabled: vm.additionalCapabilities?.hibernationEnabled === true,
        tags: vm.tags ?? {},
        vmSize: vm.hardwareProfile?.vmSize ?? '',
        osType: os?.osType as VmView['osType'],
        osDisk: { name: os?.name, id: os?.managedDisk?.id, createOption: os?.createOption },
        imageReference: vm.storageProfile?.imageReference,
        nicIds: (vm.networkProfile?.networkInterfaces ?? []).map((n) => n.id ?? ''),
        dataDisks: (vm.storageProfile?.dataDisks ?? []).map((d) => ({ lun: d.lun, id: d.managedDisk?.id })),
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
      };
    },
    async vmStates() {
      const out = new Map<string, VmState>();
      // The subscription-wide list (statusOnly needs it); only this resource group's VMs are Jacket's.
      const inRg = `/resourcegroups/${rg().toLowerCase()}/`;
      for await (const vm of vms().listAll({ statusOnly: 'true' })) {
        if (!vm.name || !vm.id?.toLowerCase().includes(inRg)) continue;
        const statuses = vm.instanceView?.statuses ?? [];
        out.set(vm.name, { id: vm.id, provisioningState: vm.provisioningState ?? provisioningOf(statuses) ?? 'Unknown', ...statesOf(statuses) });
      }
      return out;
    },
    async deleteVm(name) {
      const rec = recordSubmit();
      try {
        await vms().delete(rg(), name, rec.options).submitted();
      } catch (e) {
        if (isNotFound(e)) return { absent: true };
        throw e;
      }
      return rec.submitted();
    },
    power: (name, op) =>
      submit((o) =>
        op === 'start'
          ? vms().start(rg(), name, o)
          : op === 'restart'
            ? vms().restart(rg(), name, o)
            : op === 'powerOff'
              ? vms().powerOff(rg(), name, o)
              : op === 'powerOffSkipShutdown'
                ? vms().powerOff(rg(), name, { ...o, skipShutdown: true })
                : op === 'deallocate'
                  ? vms().deallocate(rg(), name, o)
                  : op === 'hibernate'
                    ? vms().deallocate(rg(), name, { ...o, hibernate: true })
                    : vms().redeploy(rg(), name, o),
      ),
    resize: (name, vmSize) => submit((o) => vms().update(rg(), name, { hardwareProfile: { vmSize } }, o)),
    setNics: (name, nicIds) => submit((o) => vms().update(rg(), name, { networkProfile: { networkInterfaces: nicIds.map((id, i) => ({ id, primary: i === 0, deleteOption: 'Detach' })) } }, o)),
    reimage: (name, adminPassword, customData) => submit((o) => vms().reimage(rg(), name, { ...o, parameters: { osProfile: { adminPassword, ...(customData !== undefined ? { customData } : {}) } } })),
    swapOsDisk: (name, diskId, diskName) =>
      submit((o) => vms().update(rg(), name, { storageProfile: { osDisk: { name: diskName, createOption: 'Attach', managedDisk: { id: diskId } } } } as never, o)),
    attachDataDisk: (name, diskId, lun) => submit((o) => vms().attachDetachDataDisks(rg(), name, { dataDisksToAttach: [{ diskId, lun, caching: 'None', deleteOption: 'Detach' }] }, o)),
    detachDataDisk: (name, diskId) => submit((o) => vms().attachDetachDataDisks(rg(), name, { dataDisksToDetach: [{ diskId }] }, o)),
    putExtension: (vm, ext) => submit((o) => compute().virtualMachineExtensions.createOrUpdate(rg(), vm, ext.name, ext.body as never, o)),
    async extension(vm, name) {
      const e = await absentOn404(compute().virtualMachineExtensions.get(rg(), vm, name, { expand: 'instanceView' }));
      if (!e) return undefined;
      const st = e.instanceView?.statuses?.find((s) => s.level === 'Error') ?? e.instanceView?.statuses?.[0];
      return { provisioningState: e.provisioningState ?? 'Unknown', message: st?.message };
    },
    async serialLogUri(vm) {
      const r = await vms().retrieveBootDiagnosticsData(rg(), vm, { sasUriExpirationTimeInMinutes: 5 });
      return r.serialConsoleLogBlobUri;
    },
    async maxDataDisks(vmSize) {
      sizes ??= (async () => {
        const m = new Map<string, number>();
        for await (const size of compute().virtualMachineSizes.list(ctx.cfg.azure.location)) {
          if (size.name && size.maxDataDiskCount !== undefined) m.set(size.name.toLowerCase(), size.maxDataDiskCount);
        }
        return m;
      })();
      sizes.catch(() => (sizes = undefined));
      return (await sizes).get(vmSize.toLowerCase());
    },
    async latestImageVersion(publisher, offer, sku) {
      const list = await compute().virtualMachineImages.list(ctx.cfg.azure.location, publisher, offer, sku);
      const parts = (v: string) => v.split('.').map((x) => Number.parseInt(x, 10) || 0);
      const newer = (a: string, b: string) => {
        const [x, y] = [parts(a), parts(b)];
        for (let i = 0; i < Math.max(x.length, y.length); i++) if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) > (y[i] ?? 0);
        return false;
      };
      return list.map((i) => i.name ?? '').reduce<string | undefined>((best, v) => (v && (!best || newer(v, best)) ? v : best), undefined);
    },
    osDisk: async (name) => resource(await absentOn404(compute().disks.get(rg(), name))),
    putOsDisk: (name, owner, creationData, zone, volume) =>
      submit((o) =>
        compute().disks.createOrUpdate(
          rg(),
          name,
          {
            location: ctx.cfg.azure.location,
            tags: volume?.tags ?? serverTags(owner),
            ...(zone ? { zones: [zone] } : {}),
            osType: owner.os_type === 'windows' ? 'Windows' : 'Linux',
            creationData,
            ...(volume ? { sku: { name: volume.sku }, diskSizeGB: volume.sizeGB } : {}),
          } as never,
          o,
        ),
      ),
    async deleteOsDisk(name) {
      const rec = recordSubmit();
      await absentOn404(compute().disks.delete(rg(), name, rec.options).submitted());
      return rec.submitted();
    },
    osSnapshot: async (name) => resource(await absentOn404(compute().snapshots.get(rg(), name))),
    putOsSnapshot: (name, body) => submit((o) => compute().snapshots.createOrUpdate(rg(), name, body as never, o)),
    async deleteOsSnapshot(name) {
      const rec = recordSubmit();
      await absentOn404(compute().snapshots.delete(rg(), name, rec.options).submitted());
      return rec.submitted();
    },
  };
  return driver;
}
