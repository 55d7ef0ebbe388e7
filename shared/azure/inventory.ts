// What Jacket's resource group holds, listed for the sweeps and the periodic tasks: VMs, NICs, disks,
// snapshots, images, network security groups, application security groups, public IPs, virtual networks, each with its tags (the proof that Jacket made it) and what holds it. The sweeps
// (shared/timers/) list, decide with the owning services' ownership checks, re-read a candidate (get)
// and delete it (remove). A sweep's delete waits for Azure to finish: the next pass must not find the
// resource again half-deleted.
import type { DriverContext } from './context';
import { absentOn404 } from './errors';

export type InventoryKind = 'vm' | 'nic' | 'disk' | 'snapshot' | 'image' | 'nsg' | 'pip' | 'asg' | 'vnet' | 'nat';

export interface InventoryItem {
  kind: InventoryKind;
  name: string;
  tags: Record<string, string>;
  provisioningState?: string;
  /** The ARM id of what holds it: a NIC's VM, a disk's VM (managedBy), an NSG's first NIC or subnet, a public IP's IP configuration, a virtual network's first IP configuration in any of its subnets. */
  heldBy?: string;
  /** A shared disk's other holders (managedByExtended). */
  alsoHeldBy?: string[];
  /** A disk's state (Attached, Reserved, ActiveSAS, ActiveUpload, ...). */
  diskState?: string;
  /** A disk's or snapshot's ARM id, size (GiB) and SKU (Cinder's manageable lists, shared/volume/manage). */
  id?: string;
  sizeGB?: number;
  sku?: string;
  /** A snapshot's source (creationData.sourceResourceId). */
  sourceId?: string;
}

export interface InventoryDriver {
  /** Every resource of the kind in Jacket's resource group (one paged listing). */
  list(kind: InventoryKind): AsyncIterable<InventoryItem>;
  /** The resource as it is now, or undefined when it is gone. */
  get(kind: InventoryKind, name: string): Promise<InventoryItem | undefined>;
  /** Deletes it and waits until Azure has; false when it was already gone. */
  remove(kind: InventoryKind, name: string): Promise<boolean>;
}

interface ArmResource {
  name?: string;
  tags?: Record<string, string>;
  provisioningState?: string;
  virtualMachine?: { id?: string };
  managedBy?: string;
  managedByExtended?: string[];
  diskState?: string;
  id?: string;
  diskSizeGB?: number;
  sku?: { name?: string };
  creationData?: { sourceResourceId?: string };
  networkInterfaces?: { id?: string }[];
  subnets?: { id?: string; ipConfigurations?: { id?: string }[] }[];
  ipConfiguration?: { id?: string };
  /** A public IP's NAT gateway (a router's SNAT). */
  natGateway?: { id?: string };
}

const item = (kind: InventoryKind, r: ArmResource): InventoryItem => {
  // A virtual network's subnets are its own; what holds it is a NIC's IP configuration in one of them.
  const heldBy =
    kind === 'vnet'
      ? r.subnets?.flatMap((x) => x.ipConfigurations ?? [])[0]?.id
      : (r.virtualMachine?.id ?? r.managedBy ?? r.networkInterfaces?.[0]?.id ?? r.subnets?.[0]?.id ?? r.ipConfiguration?.id ?? r.natGateway?.id);
  return {
    kind,
    name: r.name ?? '',
    tags: r.tags ?? {},
    ...(r.provisioningState ? { provisioningState: r.provisioningState } : {}),
    ...(heldBy ? { heldBy } : {}),
    ...(r.managedByExtended?.length ? { alsoHeldBy: r.managedByExtended } : {}),
    ...(r.diskState ? { diskState: r.diskState } : {}),
    ...(r.id ? { id: r.id } : {}),
    ...(typeof r.diskSizeGB === 'number' ? { sizeGB: r.diskSizeGB } : {}),
    ...(r.sku?.name ? { sku: r.sku.name } : {}),
    ...(r.creationData?.sourceResourceId ? { sourceId: r.creationData.sourceResourceId } : {}),
  };
};

/** How the sweep's own deletes are polled (it runs in a timer, not a request). */
const POLL = { updateIntervalInMs: 500 };

export function inventoryDriver(ctx: DriverContext): InventoryDriver {
  const rg = ctx.cfg.azure.resourceGroup;
  const ops = (kind: InventoryKind) => {
    const { compute, network } = ctx.clients();
    switch (kind) {
      case 'vm':
        return { list: () => compute.virtualMachines.list(rg), get: (n: string) => compute.virtualMachines.get(rg, n), del: (n: string) => compute.virtualMachines.delete(rg, n, POLL) };
      case 'nic':
        return {
          list: () => network.networkInterfaces.list(rg),
          get: (n: string) => network.networkInterfaces.get(rg, n),
          del: (n: string) => network.networkInterfaces.beginDeleteAndWait(rg, n, POLL),
        };
      case 'disk':
        return { list: () => compute.disks.listByResourceGroup(rg), get: (n: string) => compute.disks.get(rg, n), del: (n: string) => compute.disks.delete(rg, n, POLL) };
      case 'snapshot':
        return { list: () => compute.snapshots.listByResourceGroup(rg), get: (n: string) => compute.snapshots.get(rg, n), del: (n: string) => compute.snapshots.delete(rg, n, POLL) };
      case 'nsg':
        return {
          list: () => network.networkSecurityGroups.list(rg),
          get: (n: string) => network.networkSecurityGroups.get(rg, n),
          del: (n: string) => network.networkSecurityGroups.beginDeleteAndWait(rg, n, POLL),
        };
      case 'asg':
        return {
          list: () => network.applicationSecurityGroups.list(rg),
          get: (n: string) => network.applicationSecurityGroups.get(rg, n),
          del: (n: string) => network.applicationSecurityGroups.beginDeleteAndWait(rg, n, POLL),
        };
      case 'pip':
        return {
          list: () => network.publicIPAddresses.list(rg),
          get: (n: string) => network.publicIPAddresses.get(rg, n),
          del: (n: string) => network.publicIPAddresses.beginDeleteAndWait(rg, n, POLL),
        };
      case 'nat':
        return {
          list: () => network.natGateways.list(rg),
          get: (n: string) => network.natGateways.get(rg, n),
          del: (n: string) => network.natGateways.beginDeleteAndWait(rg, n, POLL),
        };
      case 'vnet':
        return {
          list: () => network.virtualNetworks.list(rg),
          get: (n: string) => network.virtualNetworks.get(rg, n),
          del: (n: string) => network.virtualNetworks.beginDeleteAndWait(rg, n, POLL),
        };
      case 'image':
        return { list: () => compute.images.listByResourceGroup(rg), get: (n: string) => compute.images.get(rg, n), del: (n: string) => compute.images.delete(rg, n, POLL) };
    }
  };
  return {
    async *list(kind) {
      for await (const r of ops(kind).list() as AsyncIterable<ArmResource>) yield item(kind, r);
    },
    async get(kind, name) {
      const r = (await absentOn404(() => ops(kind).get(name) as Promise<ArmResource>)) as ArmResource | undefined;
      return r && item(kind, r);
    },
    async remove(kind, name) {
      const deleted = await absentOn404(async () => {
        await ops(kind).del(name);
        return true;
      });
      return deleted === true;
    },
  };
}
