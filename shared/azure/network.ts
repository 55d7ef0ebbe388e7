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

/** A security rule Jacket writes: always an Allow (Neutron's rules only allow). */
export interface NsgRuleSpec {
  name: string;
  description: string;
  direction: 'Inbound' | 'Outbound';
  /** Tcp, Udp, Icmp, Esp, Ah or * */
  protocol: string;
  priority: number;
  sourceAddressPrefix: string;
  destinationAddressPrefix: string;
  /** 'min-max', a single port, or * */
  destinationPortRange: string;
}

export interface NetworkDriver {
  /** An NSG's custom rules (NetworkSecurityGroups_Get); undefined when the NSG does not exist. */
  nsgRules(resourceGroup: string, nsg: string): Promise<AzureSecurityRule[] | undefined>;
  /** Creates (or replaces) an NSG in Jacket's resource group with `rules`; waits for ARM's operation. */
  putNsg(name: string, tags: Record<string, string>, rules: NsgRuleSpec[]): Promise<void>;
  /** Deletes an NSG of Jacket's resource group; absent is success. */
  deleteNsg(name: string): Promise<void>;
  /** Creates (or replaces) one rule of an NSG of Jacket's resource group. */
  putNsgRule(nsg: string, rule: NsgRuleSpec): Promise<void>;
  /** Deletes one rule; absent is success. */
  deleteNsgRule(nsg: string, rule: string): Promise<void>;
}

const ruleBody = (r: NsgRuleSpec) => ({
  name: r.name,
  description: r.description,
  direction: r.direction,
  access: 'Allow',
  protocol: r.protocol,
  priority: r.priority,
  sourceAddressPrefix: r.sourceAddressPrefix,
  sourcePortRange: '*',
  destinationAddressPrefix: r.destinationAddressPrefix,
  destinationPortRange: r.destinationPortRange,
});

/** NSG operations finish in seconds: poll them at this interval rather than the SDK's default. */
const POLL = { updateIntervalInMs: 500 };

export function networkDriver(ctx: DriverContext): NetworkDriver {
  const rg = () => ctx.cfg.azure.resourceGroup;
  const nsgs = () => ctx.clients().network.networkSecurityGroups;
  const rules = () => ctx.clients().network.securityRules;
  return {
    async nsgRules(resourceGroup, nsg) {
      const g = await onceMoreIfThrottled(() => absentOn404(() => nsgs().get(resourceGroup, nsg)));
      return g && (g.securityRules ?? []);
    },
    async putNsg(name, tags, specs) {
      await onceMoreIfThrottled(() => nsgs().beginCreateOrUpdateAndWait(rg(), name, { location: ctx.cfg.azure.location, tags, securityRules: specs.map(ruleBody) }, POLL));
    },
    async deleteNsg(name) {
      await onceMoreIfThrottled(() => absentOn404(() => nsgs().beginDeleteAndWait(rg(), name, POLL)));
    },
    async putNsgRule(nsg, rule) {
      await onceMoreIfThrottled(() => rules().beginCreateOrUpdateAndWait(rg(), nsg, rule.name, ruleBody(rule), POLL));
    },
    async deleteNsgRule(nsg, rule) {
      await onceMoreIfThrottled(() => absentOn404(() => rules().beginDeleteAndWait(rg(), nsg, rule, POLL)));
    },
  };
}
