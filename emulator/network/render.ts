/** ARM JSON of the Microsoft.Network resources, computed from the store. */
import type { Emulator } from '../emulator';
import { sameId } from '../arm/ids';
import { T } from '../state';
import type { IpConfigRecord, NicRecord, NsgRecord, PipRecord, SubnetRecord, VnetRecord } from './model';
import { renderPeering } from './peerings';

const DEFAULT_RULES: Array<[string, string, string, string, string, number, string]> = [
  // name, direction, access, source, destination, priority, description
  ['AllowVnetInBound', 'Inbound', 'Allow', 'VirtualNetwork', 'VirtualNetwork', 65000, 'Allow inbound traffic from all VMs in VNET'],
  ['AllowAzureLoadBalancerInBound', 'Inbound', 'Allow', 'AzureLoadBalancer', '*', 65001, 'Allow inbound traffic from azure load balancer'],
  ['DenyAllInBound', 'Inbound', 'Deny', '*', '*', 65500, 'Deny all inbound traffic'],
  ['AllowVnetOutBound', 'Outbound', 'Allow', 'VirtualNetwork', 'VirtualNetwork', 65000, 'Allow outbound traffic from all VMs to all VMs in VNET'],
  ['AllowInternetOutBound', 'Outbound', 'Allow', '*', 'Internet', 65001, 'Allow outbound traffic from all VMs to Internet'],
  ['DenyAllOutBound', 'Outbound', 'Deny', '*', '*', 65500, 'Deny all outbound traffic'],
];

export function renderSecurityRule(nsgId: string, rule: any, provisioningState = 'Succeeded'): any {
  const p = rule.properties ?? {};
  return {
    name: rule.name,
    id: `${nsgId}/securityRules/${rule.name}`,
    etag: rule.etag,
    type: 'Microsoft.Network/networkSecurityGroups/securityRules',
    properties: {
      provisioningState,
      description: p.description,
      protocol: p.protocol,
      sourcePortRange: p.sourcePortRange,
      destinationPortRange: p.destinationPortRange,
      sourceAddressPrefix: p.sourceAddressPrefix,
      destinationAddressPrefix: p.destinationAddressPrefix,
      access: p.access,
      priority: p.priority,
      direction: p.direction,
      sourcePortRanges: p.sourcePortRanges ?? [],
      destinationPortRanges: p.destinationPortRanges ?? [],
      sourceAddressPrefixes: p.sourceAddressPrefixes ?? [],
      destinationAddressPrefixes: p.destinationAddressPrefixes ?? [],
      ...(p.sourceApplicationSecurityGroups?.length ? { sourceApplicationSecurityGroups: p.sourceApplicationSecurityGroups.map((x: any) => ({ id: x.id })) } : {}),
      ...(p.destinationApplicationSecurityGroups?.length ? { destinationApplicationSecurityGroups: p.destinationApplicationSecurityGroups.map((x: any) => ({ id: x.id })) } : {}),
    },
  };
}

export function renderNsg(emu: Emulator, nsg: NsgRecord): any {
  const nics = emu.store.list<NicRecord>(T.nic).filter((n) => sameId(n.nsgId, nsg.id));
  const subnets = emu.store
    .list<VnetRecord>(T.vnet)
    .flatMap((v) => v.subnets)
    .filter((s) => sameId(s.nsgId, nsg.id));
  const props: any = {
    resourceGuid: nsg.resourceGuid,
    provisioningState: nsg.provisioningState,
    securityRules: nsg.securityRules.map((r) => renderSecurityRule(nsg.id, r)),
    defaultSecurityRules: DEFAULT_RULES.map(([name, direction, access, src, dst, priority, description]) => ({
      name,
      id: `${nsg.id}/defaultSecurityRules/${name}`,
      etag: nsg.etag,
      type: 'Microsoft.Network/networkSecurityGroups/defaultSecurityRules',
      properties: {
        provisioningState: 'Succeeded',
        description,
        protocol: '*',
        sourcePortRange: '*',
        destinationPortRange: '*',
        sourceAddressPrefix: src,
        destinationAddressPrefix: dst,
        access,
        priority,
        direction,
        sourcePortRanges: [],
        destinationPortRanges: [],
        sourceAddressPrefixes: [],
        destinationAddressPrefixes: [],
      },
    })),
  };
  if (nics.length) props.networkInterfaces = nics.map((n) => ({ id: n.id }));
  if (subnets.length) props.subnets = subnets.map((s) => ({ id: s.id }));
  return {
    name: nsg.name,
    id: nsg.id,
    etag: nsg.etag,
    type: 'Microsoft.Network/networkSecurityGroups',
    location: nsg.location,
    ...(nsg.tags ? { tags: nsg.tags } : {}),
    properties: props,
  };
}

export function ipConfigsInSubnet(emu: Emulator, subnetId: string): Array<{ nic: NicRecord; ipc: IpConfigRecord }> {
  const out: Array<{ nic: NicRecord; ipc: IpConfigRecord }> = [];
  for (const nic of emu.store.list<NicRecord>(T.nic)) for (const ipc of nic.ipConfigurations) if (sameId(ipc.subnetId, subnetId)) out.push({ nic, ipc });
  return out;
}

export function renderSubnet(emu: Emulator, s: SubnetRecord): any {
  const ipcs = ipConfigsInSubnet(emu, s.id);
  const props: any = {
    provisioningState: 'Succeeded',
    addressPrefix: s.addressPrefix,
    privateEndpointNetworkPolicies: 'Disabled',
    privateLinkServiceNetworkPolicies: 'Enabled',
    delegations: [],
  };
  if (s.nsgId) props.networkSecurityGroup = { id: s.nsgId };
  if (s.defaultOutboundAccess !== undefined) props.defaultOutboundAccess = s.defaultOutboundAccess;
  if (s.natGatewayId) props.natGateway = { id: s.natGatewayId };
  if (ipcs.length) props.ipConfigurations = ipcs.map(({ ipc }) => ({ id: ipc.id }));
  return { name: s.name, id: s.id, etag: s.etag, type: 'Microsoft.Network/virtualNetworks/subnets', properties: props };
}

export function renderVnet(emu: Emulator, v: VnetRecord): any {
  return {
    name: v.name,
    id: v.id,
    etag: v.etag,
    type: 'Microsoft.Network/virtualNetworks',
    location: v.location,
    ...(v.tags ? { tags: v.tags } : {}),
    properties: {
      provisioningState: v.provisioningState,
      resourceGuid: v.resourceGuid,
      addressSpace: { addressPrefixes: v.addressPrefixes },
      subnets: v.subnets.map((s) => renderSubnet(emu, s)),
      virtualNetworkPeerings: (v.peerings ?? []).map((p) => renderPeering(emu, v, p)),
      enableDdosProtection: false,
    },
  };
}

export function renderNic(emu: Emulator, nic: NicRecord): any {
  const props: any = {
    provisioningState: nic.provisioningState,
    resourceGuid: nic.resourceGuid,
    ipConfigurations: nic.ipConfigurations.map((c) => ({
      name: c.name,
      id: c.id,
      etag: nic.etag,
      type: 'Microsoft.Network/networkInterfaces/ipConfigurations',
      properties: {
        provisioningState: nic.provisioningState,
        privateIPAddress: c.privateIPAddress,
        privateIPAllocationMethod: c.privateIPAllocationMethod,
        subnet: { id: c.subnetId },
        primary: c.primary,
        privateIPAddressVersion: 'IPv4',
        ...(c.publicIPAddressId ? { publicIPAddress: { id: c.publicIPAddressId } } : {}),
        ...(c.applicationSecurityGroupIds?.length ? { applicationSecurityGroups: c.applicationSecurityGroupIds.map((id) => ({ id })) } : {}),
      },
    })),
    dnsSettings: {
      dnsServers: nic.dnsServers,
      appliedDnsServers: [],
      internalDomainNameSuffix: `${nic.resourceGuid.replace(/-/g, '').slice(0, 26)}.bx.internal.cloudapp.net`,
    },
    enableAcceleratedNetworking: nic.enableAcceleratedNetworking,
    vnetEncryptionSupported: false,
    enableIPForwarding: nic.enableIPForwarding,
    disableTcpStateTracking: false,
    hostedWorkloads: [],
    tapConfigurations: [],
    nicType: 'Standard',
    auxiliaryMode: 'None',
    auxiliarySku: 'None',
  };
  if (nic.macAddress) props.macAddress = nic.macAddress;
  if (nic.nsgId) props.networkSecurityGroup = { id: nic.nsgId };
  if (nic.vmId) {
    props.virtualMachine = { id: nic.vmId };
    props.primary = true;
  }
  return {
    name: nic.name,
    id: nic.id,
    etag: nic.etag,
    type: 'Microsoft.Network/networkInterfaces',
    location: nic.location,
    ...(nic.tags ? { tags: nic.tags } : {}),
    properties: props,
  };
}

export function renderPip(pip: PipRecord): any {
  const props: any = {
    provisioningState: pip.provisioningState,
    resourceGuid: pip.resourceGuid,
    publicIPAddressVersion: pip.version,
    publicIPAllocationMethod: pip.allocation,
    idleTimeoutInMinutes: pip.idleTimeoutInMinutes,
    ipTags: [],
  };
  if (pip.ipAddress) props.ipAddress = pip.ipAddress;
  if (pip.ipConfigurationId) props.ipConfiguration = { id: pip.ipConfigurationId };
  if (pip.natGatewayId) props.natGateway = { id: pip.natGatewayId };
  if (pip.dnsSettings) props.dnsSettings = pip.dnsSettings;
  return {
    name: pip.name,
    id: pip.id,
    etag: pip.etag,
    type: 'Microsoft.Network/publicIPAddresses',
    location: pip.location,
    ...(pip.tags ? { tags: pip.tags } : {}),
    ...(pip.zones ? { zones: pip.zones } : {}),
    sku: pip.sku,
    properties: props,
  };
}
