// Network reads and writes other than making a server's NICs: NSGs and their rules, public IPs and
// their association to a NIC, the virtual networks of project networks, and the one isolated subnet of
// servers with no network, made on demand (the operator's virtual networks and subnets come from
// configuration and are never written). A
// server's NICs are made by the VM driver (vms.ts); listing for the sweeps is the inventory's
// (inventory.ts).
import type { NetworkInterface } from '@azure/arm-network';
import type { DriverContext } from './context';
import { absentOn404 } from './errors';
import { onceMoreIfThrottled } from './throttle';
import { nicBody, type NicSpec } from './vms';

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
  sourceApplicationSecurityGroups?: { id?: string }[];
  destinationApplicationSecurityGroups?: { id?: string }[];
}

/** A security rule Jacket writes: an Allow (Neutron's rules only allow), but for the deny-all of a port without groups. */
export interface NsgRuleSpec {
  name: string;
  description: string;
  direction: 'Inbound' | 'Outbound';
  /** Tcp, Udp, Icmp, Esp, Ah or * */
  protocol: string;
  priority: number;
  sourceAddressPrefix: string;
  destinationAddressPrefix: string;
  /** An application security group (ARM id) as the source instead of sourceAddressPrefix. */
  sourceAsgId?: string;
  /** An application security group (ARM id) as the destination instead of destinationAddressPrefix. */
  destinationAsgId?: string;
  /** 'min-max', a single port, or * */
  destinationPortRange: string;
  /** Allow unless said: only the deny-all NSG of a port without security groups denies. */
  access?: 'Allow' | 'Deny';
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
  /**
   * Creates (or reads back) a Standard, static IPv4 public IP in Jacket's resource group; waits for
   * ARM's operation and returns its id and address.
   */
  putPublicIp(name: string, tags: Record<string, string>): Promise<{ id: string; address: string }>;
  /** Deletes a public IP; absent is success. Azure refuses one still on a NIC (PublicIPAddressCannotBeDeleted). */
  deletePublicIp(name: string): Promise<void>;
  /**
   * Puts a public IP on the primary IP configuration of a NIC of Jacket's resource group. A no-op when
   * it is there already; false when the NIC is gone. Azure changes a NIC's public IP while its VM runs
   * (unlike adding or removing NICs).
   */
  setNicPublicIp(nic: string, publicIpId: string): Promise<boolean>;
  /** Takes that public IP off the NIC, if the NIC (still) carries it; absent NIC is success. */
  unsetNicPublicIp(nic: string, publicIpId: string): Promise<void>;
  /**
   * Puts an NSG on a NIC (or takes it off: null) and sets the application security groups of its IP
   * configurations to `asgIds` (the group's ASG, or none), and, when given, its IP forwarding (the
   * port's allowed address pairs or port security off); Azure changes all three while the VM runs.
   * False when the NIC is gone.
   */
  setNicNsg(nic: string, nsgId: string | null, asgIds?: string[], ipForwarding?: boolean): Promise<boolean>;
  /** Creates (or re-tags) an application security group in Jacket's resource group; waits for ARM's operation. */
  putAsg(name: string, tags: Record<string, string>): Promise<void>;
  /** Deletes an application security group; absent is success. Azure refuses one a NIC or a rule still names. */
  deleteAsg(name: string): Promise<void>;
  /** Creates the NIC of a port made through Neutron's API and waits for it: its id, address and MAC. */
  putPortNic(nic: NicSpec, tags: Record<string, string>): Promise<{ id: string; ip?: string; ips: string[]; mac?: string }>;
  /** Deletes a port's NIC and waits; absent is success. Azure refuses one a VM holds (NicInUse). */
  deletePortNic(name: string): Promise<void>;
  /**
   * Creates or replaces a virtual network of Jacket's resource group (a project network) with exactly
   * `subnets` and the address space they span; waits. A subnet left out is deleted (Azure refuses one a
   * NIC uses: InUseSubnetCannotBeDeleted).
   */
  putVnet(name: string, tags: Record<string, string>, subnets: VnetSubnetSpec[]): Promise<void>;
  /**
   * Creates (or re-tags) a Standard NAT gateway of Jacket's resource group using the public IP
   * `publicIpId` for its outbound SNAT, and waits; subnets name it in their own body (putVnet).
   */
  putNatGateway(name: string, tags: Record<string, string>, publicIpId: string): Promise<void>;
  /** Deletes a NAT gateway and waits; absent is success. Azure refuses one still on a subnet (CannotDeleteNatGatewayAssociatedToSubnet). */
  deleteNatGateway(name: string): Promise<void>;
  /** Deletes a virtual network of Jacket's resource group and waits; absent is success. */
  deleteVnet(name: string): Promise<void>;
  /** The peerings of a virtual network of Jacket's resource group: each side's name, the remote network's name, Azure's state. */
  listPeerings(vnet: string): Promise<{ name: string; remoteVnet: string; state: string }[]>;
  /**
   * Makes one side of a peering from `vnet` to `remoteVnet` (both in Jacket's resource group) and waits;
   * a side that exists is PUT again (which also brings one Azure left Disconnected back to Initiated).
   */
  putPeering(vnet: string, name: string, remoteVnet: string): Promise<void>;
  /** Deletes one side of a peering and waits; absent is success. */
  deletePeering(vnet: string, name: string): Promise<void>;
  /**
   * The isolated subnet of servers created with `networks: "none"` (config azure.isolated): its NSG
   * (deny all, both ways), virtual network and subnet (no default outbound access) made when absent,
   * each read first so the usual call is two GETs. Returns the subnet's and the NSG's ARM ids.
   */
  ensureIsolatedSubnet(): Promise<{ subnetId: string; nsgId: string }>;
}

/** One subnet of a project network's virtual network: its name, prefix and, for SNAT, the NAT gateway (its name) it leaves through. */
export interface VnetSubnetSpec {
  name: string;
  addressPrefix: string;
  natGateway?: string;
}

/** The address space of the isolated network: nothing routes to it, it peers with nothing. */
const ISOLATED_PREFIX = '10.254.254.0/24';

/** The tags of what Jacket makes for `networks: "none"` (no sweep deletes them: they are shared and kept). */
export const isolationTags = { jacket: 'isolation' };

/**
 * Deny everything, both ways. Azure evaluates custom rules (priority 100-4096) before its default rules
 * (65000-65500: AllowVnetInBound, AllowAzureLoadBalancerInBound, AllowVnetOutBound, AllowInternetOutBound),
 * so these at the highest priority override every default Allow.
 */
const denyAllRules = (['Inbound', 'Outbound'] as const).map((direction) => ({
  name: `deny-all-${direction.toLowerCase()}`,
  description: 'Jacket: a server created with networks "none" has no network.',
  direction,
  access: 'Deny',
  protocol: '*',
  priority: 100,
  sourceAddressPrefix: '*',
  sourcePortRange: '*',
  destinationAddressPrefix: '*',
  destinationPortRange: '*',
}));

// A side names an ASG or an address prefix, never both (Azure refuses both on one side).
const ruleBody = (r: NsgRuleSpec) => ({
  name: r.name,
  description: r.description,
  direction: r.direction,
  access: r.access ?? 'Allow',
  protocol: r.protocol,
  priority: r.priority,
  ...(r.sourceAsgId ? { sourceApplicationSecurityGroups: [{ id: r.sourceAsgId }] } : { sourceAddressPrefix: r.sourceAddressPrefix }),
  sourcePortRange: '*',
  ...(r.destinationAsgId ? { destinationApplicationSecurityGroups: [{ id: r.destinationAsgId }] } : { destinationAddressPrefix: r.destinationAddressPrefix }),
  destinationPortRange: r.destinationPortRange,
});

/** True for Azure's refusal to delete an ASG a NIC or rule still names (code unverified: the message too). */
export function asgInUse(code: string, message: string): boolean {
  return code === 'InUseApplicationSecurityGroupCannotBeDeleted' || /cannot be deleted because it is referenced by/i.test(message);
}

/** The last segment of an ARM id (a resource's name). */
const lastSegment = (id: string | undefined) => id?.split('/').filter(Boolean).pop();

/** NSG operations finish in seconds: poll them at this interval rather than the SDK's default. */
const POLL = { updateIntervalInMs: 500 };

export function networkDriver(ctx: DriverContext): NetworkDriver {
  const rg = () => ctx.cfg.azure.resourceGroup;
  const nsgs = () => ctx.clients().network.networkSecurityGroups;
  const rules = () => ctx.clients().network.securityRules;
  /** One side of a peering to a network of Jacket's resource group: traffic both ways once both sides exist. */
  const peeringBody = (remoteVnet: string) => ({
    remoteVirtualNetwork: { id: ctx.armId('Microsoft.Network', 'virtualNetworks', remoteVnet) },
    allowVirtualNetworkAccess: true,
    allowForwardedTraffic: false,
  });
  const listPeerings = async (vnet: string) => {
    const out: { name: string; remoteVnet: string; state: string }[] = [];
    try {
      for await (const p of ctx.clients().network.virtualNetworkPeerings.list(rg(), vnet))
        out.push({ name: p.name ?? '', remoteVnet: lastSegment(p.remoteVirtualNetwork?.id) ?? '', state: p.peeringState ?? '' });
    } catch (e) {
      if ((e as { statusCode?: number }).statusCode === 404) return [];
      throw e;
    }
    return out;
  };
  /**
   * A read-modify-write of a whole NIC: `change` edits the NIC as read and says whether anything
   * changed (false: no PUT). The PUT carries the read's etag (If-Match), so a change another writer
   * made in between (an NSG, a public IP, an ASG, IP forwarding) is never put back; on ARM's 412 the NIC
   * is read again. The SDK's NIC PUT has no If-Match parameter: it goes as a custom header, which the
   * poller repeats on its GETs (a 412 there means the PUT landed: the next read finds nothing to change).
   * False when the NIC is gone.
   */
  const changeNic = async (name: string, change: (nic: NetworkInterface) => boolean): Promise<boolean> => {
    const nics = ctx.clients().network.networkInterfaces;
    for (let attempt = 1; ; attempt++) {
      const nic = await onceMoreIfThrottled(() => absentOn404(() => nics.get(rg(), name)));
      if (!nic) return false;
      if (!change(nic)) return true;
      const ifMatch = nic.etag ? { requestOptions: { customHeaders: { 'If-Match': nic.etag } } } : {};
      try {
        await onceMoreIfThrottled(() => nics.beginCreateOrUpdateAndWait(rg(), name, nic, { ...POLL, ...ifMatch }));
        return true;
      } catch (err) {
        if ((err as { statusCode?: number }).statusCode !== 412 || attempt >= 5) throw err;
      }
    }
  };
  const idsKey = (ids: (string | undefined)[]) =>
    ids
      .map((x) => (x ?? '').toLowerCase())
      .sort()
      .join(',');
  /** The NIC's NSG, its configurations' ASGs (when given) and IP forwarding (when given); false when the NIC is gone. */
  const setNicNsg = (name: string, nsgId: string | null, asgIds?: string[], ipForwarding?: boolean): Promise<boolean> =>
    changeNic(name, (nic) => {
      const wantedAsgs = asgIds ?? [];
      const asgsSame = asgIds === undefined || (nic.ipConfigurations ?? []).every((c) => idsKey((c.applicationSecurityGroups ?? []).map((a) => a.id)) === idsKey(wantedAsgs));
      const forwardingSame = ipForwarding === undefined || (nic.enableIPForwarding === true) === ipForwarding;
      if ((nic.networkSecurityGroup?.id ?? '').toLowerCase() === (nsgId ?? '').toLowerCase() && asgsSame && forwardingSame) return false;
      nic.networkSecurityGroup = nsgId ? { id: nsgId } : undefined;
      if (ipForwarding !== undefined) nic.enableIPForwarding = ipForwarding;
      if (asgIds !== undefined) for (const c of nic.ipConfigurations ?? []) c.applicationSecurityGroups = wantedAsgs.length ? wantedAsgs.map((id) => ({ id })) : undefined;
      return true;
    });
  /** The NIC's primary IP configuration's public IP; false when the NIC (or its configuration) is gone. */
  const putNicPublicIp = async (name: string, next: (current: string | undefined) => { id: string } | undefined): Promise<boolean> => {
    let found = false;
    const exists = await changeNic(name, (nic) => {
      const ipcs = nic.ipConfigurations ?? [];
      const primary = ipcs.find((c) => c.primary) ?? ipcs[0];
      found = primary !== undefined;
      if (!primary) return false;
      const current = primary.publicIPAddress?.id;
      const wanted = next(current);
      if ((current ?? '').toLowerCase() === (wanted?.id ?? '').toLowerCase()) return false;
      primary.publicIPAddress = wanted;
      return true;
    });
    return exists && found;
  };
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
    async putPublicIp(name, tags) {
      const pips = ctx.clients().network.publicIPAddresses;
      const body = { location: ctx.cfg.azure.location, tags, sku: { name: 'Standard', tier: 'Regional' }, publicIPAllocationMethod: 'Static', publicIPAddressVersion: 'IPv4' };
      const made = await onceMoreIfThrottled(() => pips.beginCreateOrUpdateAndWait(rg(), name, body, POLL));
      if (!made.id || !made.ipAddress) throw new Error(`public IP ${name} has no address after its create`);
      return { id: made.id, address: made.ipAddress };
    },
    async deletePublicIp(name) {
      await onceMoreIfThrottled(() => absentOn404(() => ctx.clients().network.publicIPAddresses.beginDeleteAndWait(rg(), name, POLL)));
    },
    setNicNsg,
    async putAsg(name, tags) {
      await onceMoreIfThrottled(() => ctx.clients().network.applicationSecurityGroups.beginCreateOrUpdateAndWait(rg(), name, { location: ctx.cfg.azure.location, tags }, POLL));
    },
    async deleteAsg(name) {
      await onceMoreIfThrottled(() => absentOn404(() => ctx.clients().network.applicationSecurityGroups.beginDeleteAndWait(rg(), name, POLL)));
    },
    async putPortNic(nic, tags) {
      const body = nicBody(ctx.cfg.azure.location, { id: '', project_id: '' }, nic, tags);
      const made = await onceMoreIfThrottled(() =>
        ctx.clients().network.networkInterfaces.beginCreateOrUpdateAndWait(
          rg(),
          nic.name,
          {
            location: body.location,
            tags,
            ipConfigurations: body.properties.ipConfigurations.map((c) => ({ name: c.name, ...c.properties })),
            networkSecurityGroup: body.properties.networkSecurityGroup,
            enableIPForwarding: body.properties.enableIPForwarding,
          },
          POLL,
        ),
      );
      const ipcs = made.ipConfigurations ?? [];
      const primary = ipcs.find((c) => c.primary) ?? ipcs[0];
      // Every address in the order of the request's configurations (ipconfig1 = the primary, ipconfig2..).
      const order = (name?: string) => Number(/(\d+)$/.exec(name ?? '')?.[1] ?? 0);
      const ips = [...ipcs].sort((a, b) => order(a.name) - order(b.name)).flatMap((c) => (c.privateIPAddress ? [c.privateIPAddress] : []));
      return { id: made.id ?? '', ip: primary?.privateIPAddress, ips, mac: made.macAddress };
    },
    async deletePortNic(name) {
      await onceMoreIfThrottled(() => absentOn404(() => ctx.clients().network.networkInterfaces.beginDeleteAndWait(rg(), name, POLL)));
    },
    async putVnet(name, tags, subnets) {
      // The address space is the subnets' own prefixes: Azure needs every subnet inside it, and no
      // wider space is claimed than the Neutron subnets name.
      const net = ctx.clients().network;
      const prefixes = subnets.map((x) => x.addressPrefix);
      const before = await onceMoreIfThrottled(() => absentOn404(() => net.virtualNetworks.get(rg(), name)));
      // The network's peerings (a router joining it to another network) go in the body as they are, so
      // a PUT of its subnets never drops them.
      const peerings = before?.virtualNetworkPeerings ?? [];
      const subnetBodies = subnets.map((x) => ({
        name: x.name,
        addressPrefix: x.addressPrefix,
        ...(x.natGateway ? { natGateway: { id: ctx.armId('Microsoft.Network', 'natGateways', x.natGateway) } } : {}),
      }));
      const body = { location: ctx.cfg.azure.location, tags, addressSpace: { addressPrefixes: prefixes }, subnets: subnetBodies, ...(peerings.length ? { virtualNetworkPeerings: peerings } : {}) };
      await onceMoreIfThrottled(() => net.virtualNetworks.beginCreateOrUpdateAndWait(rg(), name, body, POLL));
      const key = (xs: string[]) => [...xs].sort().join();
      if (!peerings.length || key(before?.addressSpace?.addressPrefixes ?? []) === key(prefixes)) return;
      // Its address space changed: each peer learns it by a PUT of its own side with
      // syncRemoteAddressSpace (until then Azure routes only to the old prefixes).
      for (const p of peerings) {
        const remote = lastSegment(p.remoteVirtualNetwork?.id);
        if (!remote) continue;
        const back = (await listPeerings(remote)).find((q) => q.remoteVnet.toLowerCase() === name.toLowerCase());
        if (!back) continue;
        await onceMoreIfThrottled(() => net.virtualNetworkPeerings.beginCreateOrUpdateAndWait(rg(), remote, back.name, peeringBody(name), { ...POLL, syncRemoteAddressSpace: 'true' }));
      }
    },
    async putNatGateway(name, tags, publicIpId) {
      const body = { location: ctx.cfg.azure.location, tags, sku: { name: 'Standard' }, publicIpAddresses: [{ id: publicIpId }], idleTimeoutInMinutes: 4 };
      await onceMoreIfThrottled(() => ctx.clients().network.natGateways.beginCreateOrUpdateAndWait(rg(), name, body, POLL));
    },
    async deleteNatGateway(name) {
      await onceMoreIfThrottled(() => absentOn404(() => ctx.clients().network.natGateways.beginDeleteAndWait(rg(), name, POLL)));
    },
    listPeerings,
    async putPeering(vnet, name, remoteVnet) {
      await onceMoreIfThrottled(() => ctx.clients().network.virtualNetworkPeerings.beginCreateOrUpdateAndWait(rg(), vnet, name, peeringBody(remoteVnet), POLL));
    },
    async deletePeering(vnet, name) {
      await onceMoreIfThrottled(() => absentOn404(() => ctx.clients().network.virtualNetworkPeerings.beginDeleteAndWait(rg(), vnet, name, POLL)));
    },
    async deleteVnet(name) {
      await onceMoreIfThrottled(() => absentOn404(() => ctx.clients().network.virtualNetworks.beginDeleteAndWait(rg(), name, POLL)));
    },
    async ensureIsolatedSubnet() {
      const iso = ctx.cfg.azure.isolated;
      const net = ctx.clients().network;
      const location = ctx.cfg.azure.location;
      const nsg = await onceMoreIfThrottled(() => absentOn404(() => nsgs().get(rg(), iso.nsg)));
      const denies = (nsg?.securityRules ?? []).filter((r) => r.access === 'Deny' && r.priority === 100 && r.sourceAddressPrefix === '*' && r.destinationAddressPrefix === '*');
      const nsgId =
        nsg?.id && denies.length === 2
          ? nsg.id
          : (await onceMoreIfThrottled(() => nsgs().beginCreateOrUpdateAndWait(rg(), iso.nsg, { location, tags: isolationTags, securityRules: denyAllRules }, POLL))).id!;
      const subnetBody = { addressPrefix: ISOLATED_PREFIX, networkSecurityGroup: { id: nsgId }, defaultOutboundAccess: false };
      const vnet = await onceMoreIfThrottled(() => absentOn404(() => net.virtualNetworks.get(rg(), iso.vnet)));
      if (!vnet) {
        const made = await onceMoreIfThrottled(() =>
          net.virtualNetworks.beginCreateOrUpdateAndWait(
            rg(),
            iso.vnet,
            { location, tags: isolationTags, addressSpace: { addressPrefixes: [ISOLATED_PREFIX] }, subnets: [{ name: iso.subnet, ...subnetBody }] },
            POLL,
          ),
        );
        const sub = (made.subnets ?? []).find((x) => x.name === iso.subnet);
        if (sub?.id) return { subnetId: sub.id, nsgId };
      }
      const sub = await onceMoreIfThrottled(() => absentOn404(() => net.subnets.get(rg(), iso.vnet, iso.subnet)));
      if (sub?.id) return { subnetId: sub.id, nsgId };
      const made = await onceMoreIfThrottled(() => net.subnets.beginCreateOrUpdateAndWait(rg(), iso.vnet, iso.subnet, subnetBody, POLL));
      return { subnetId: made.id!, nsgId };
    },
    async setNicPublicIp(name, publicIpId) {
      return putNicPublicIp(name, () => ({ id: publicIpId }));
    },
    async unsetNicPublicIp(name, publicIpId) {
      await putNicPublicIp(name, (current) => (current?.toLowerCase() === publicIpId.toLowerCase() ? undefined : current ? { id: current } : undefined));
    },
  };
}
