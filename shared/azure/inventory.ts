// What Jacket's resource group holds, listed for the sweeps and the periodic tasks: VMs, NICs, disks,
// snapshots, images, each with its tags (the proof that Jacket made it).
import type { DriverContext } from './driver';

export interface InventoryDriver {}

export function inventoryDriver(_ctx: DriverContext): InventoryDriver {
  return {};
}
