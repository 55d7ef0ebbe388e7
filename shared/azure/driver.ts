// The Azure driver layer (Nova's virt/driver.py, Cinder's volume/driver.py): the only code that talks
// to ARM and to Blob storage. One set of SDK clients per config (clients.ts), one error classification
// (errors.ts), operations named for what Jacket needs, grouped by what they act on. Services carry one
// AzureDriver (services.azure); nothing else imports an Azure SDK package.
import type { JacketConfig } from '../config';
import { createAzureClients, type AzureClients } from './clients';
import { vmDriver, type VmDriver } from './vms';
import { diskDriver, type DiskDriver } from './disks';
import { imageDriver, type ImageDriver } from './images';
import { networkDriver, type NetworkDriver } from './network';
import { regionalDriver, type RegionalDriver } from './regional';
import { blobDriver, type BlobDriver } from './blobs';
import { inventoryDriver, type InventoryDriver } from './inventory';

export interface DriverContext {
  cfg: JacketConfig;
  /** The SDK clients, made on first use (a process that never calls Azure never builds a credential). */
  clients(): AzureClients;
  /** The resource group's ARM id prefix and resource ids, built in one place. */
  armId(provider: 'Microsoft.Compute' | 'Microsoft.Network' | 'Microsoft.Storage', type: string, name: string, resourceGroup?: string): string;
}

export interface AzureDriver {
  vms: VmDriver;
  disks: DiskDriver;
  images: ImageDriver;
  network: NetworkDriver;
  regional: RegionalDriver;
  blobs: BlobDriver;
  inventory: InventoryDriver;
}

export function driverContext(cfg: JacketConfig, clients?: AzureClients): DriverContext {
  let c = clients;
  return {
    cfg,
    clients: () => (c ??= createAzureClients(cfg)),
    armId: (provider, type, name, resourceGroup = cfg.azure.resourceGroup) =>
      `/subscriptions/${cfg.azure.subscriptionId}/resourceGroups/${resourceGroup}/providers/${provider}/${type}/${name}`,
  };
}

export function createAzureDriver(cfg: JacketConfig, clients?: AzureClients): AzureDriver {
  const ctx = driverContext(cfg, clients);
  return {
    vms: vmDriver(ctx),
    disks: diskDriver(ctx),
    images: imageDriver(ctx),
    network: networkDriver(ctx),
    regional: regionalDriver(ctx),
    blobs: blobDriver(ctx),
    inventory: inventoryDriver(ctx),
  };
}
