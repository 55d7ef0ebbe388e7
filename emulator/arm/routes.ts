/** Every ARM route the emulator serves. */
import { registerDisks } from '../compute/disks';
import { registerExtensions } from '../compute/extensions';
import { registerImages } from '../compute/images';
import { registerLocations } from '../compute/locations';
import { registerPlacement } from '../compute/placement';
import { registerVirtualMachines } from '../compute/virtualMachines';
import { registerAsgs } from '../network/asgs';
import { registerNics } from '../network/nics';
import { registerNsgs } from '../network/nsgs';
import { registerPublicIps } from '../network/publicIps';
import { registerNatGateways } from '../network/natGateways';
import { registerVnets } from '../network/vnets';
import { registerPeerings } from '../network/peerings';
import { registerOperationRoutes } from './operationsRoutes';
import type { Router } from './router';

export function registerAll(r: Router): void {
  registerOperationRoutes(r);
  registerVirtualMachines(r);
  registerExtensions(r);
  registerDisks(r);
  registerImages(r);
  registerPlacement(r);
  registerLocations(r);
  registerNics(r);
  registerNsgs(r);
  registerVnets(r);
  registerPeerings(r);
  registerPublicIps(r);
  registerNatGateways(r);
  registerAsgs(r);
}
