// The Azure driver layer (Nova's virt/driver.py, Cinder's volume/driver.py): the only code that talks
// to ARM and to Blob storage. One set of SDK clients per config (clients.ts), one error classification
// (errors.ts), operations named for what Jacket needs, grouped by what they act on. Services carry one
// AzureDriver (services.azure); nothing else imports an Azure SDK package.
import type { JacketConfig } from '../config';
import type { AzureClients } from './clients';
import { driverContext } from './context';
export type { DriverContext } from './context';
import { vmDriver, type VmDriver } from './vms';
import { diskDriver, type DiskDriver } from './disks';
import { imageDriver, type ImageDriver } from './images';
import { networkDriver, type NetworkDriver } from './network';
import { regionalDriver, type RegionalDriver } from './regional';
import { blobDriver, type BlobDriver } from './blobs';
import { inventoryDriver, type InventoryDriver } from './inventory';
import { placementDriver, type PlacementDriver } from './placement';

export interface AzureDriver {
  vms: VmDriver;
  disks: DiskDriver;
  images: ImageDriver;
  network: NetworkDriver;
  regional: RegionalDriver;
  blobs: BlobDriver;
  inventory: InventoryDriver;
  placement: PlacementDriver;
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
    placement: placementDriver(ctx),
  };
}
