// Network reads and writes other than a server's NICs: NSGs and their rules (virtual networks and
// subnets come from configuration, not ARM). A server's NICs are the VM driver's (vms.ts); listing NICs
// for the sweep is the inventory's (inventory.ts).
import type { DriverContext } from './context';
import { absentOn404 } from './errors';
import { onceMoreIfThrottled } from './throttle';

/** The fields of an ARM security rule Jacket reads (the SDK's SecurityRule has these, flattened). */
export interface AzureSecurityRule {
  name?: string;
  description?: string;
  protocol?: string;
  access?: string;
  direction?: string;
  priority?: number;
  sourceAddressPrefix?: string;
  sourceAddressPrefixes?: string[];
  destinationAddressPrefix?: string;
  destinationAddressPrefixes?: string[];
  destinationPortRange?: string;
  destinationPortRanges?: string[];
}

export interface NetworkDriver {
  /** An NSG's custom rules (NetworkSecurityGroups_Get); undefined when the NSG does not exist. */
  nsgRules(resourceGroup: string, nsg: string): Promise<AzureSecurityRule[] | undefined>;
}

export function networkDriver(ctx: DriverContext): NetworkDriver {
  return {
    async nsgRules(resourceGroup, nsg) {
      const g = await onceMoreIfThrottled(() => absentOn404(() => ctx.clients().network.networkSecurityGroups.get(resourceGroup, nsg)));
      return g && (g.securityRules ?? []);
    },
  };
}
