/** Stored shapes of the Microsoft.Network resources. */
import type { StoredResource } from '../state';

export interface SubnetRecord {
  id: string;
  name: string;
  addressPrefix: string;
  nsgId?: string;
  /** SubnetPropertiesFormat.defaultOutboundAccess (false: no default outbound connectivity); absent when not given. */
  defaultOutboundAccess?: boolean;
  /** SubnetPropertiesFormat.natGateway: the NAT gateway the subnet's outbound traffic leaves through. */
  natGatewayId?: string;
  etag: string;
}

export interface VnetRecord extends StoredResource {
  location: string;
  tags?: Record<string, string>;
  addressPrefixes: string[];
  subnets: SubnetRecord[];
  /** Its virtual network peerings (child resources: peerings.ts). */
  peerings?: PeeringRecord[];
  resourceGuid: string;
  etag: string;
  provisioningState: string;
}

/** A peering of a virtual network to another (Microsoft.Network/virtualNetworks/virtualNetworkPeerings). */
export interface PeeringRecord {
  id: string;
  name: string;
  remoteId: string;
  allowVirtualNetworkAccess: boolean;
  allowForwardedTraffic: boolean;
  /** The remote network's address space as this side last synchronised it (Azure's remoteAddressSpace). */
  remotePrefixes: string[];
  /** Once both sides existed: a side left alone after that is Disconnected, not Initiated (Azure's rule). */
  connected: boolean;
  etag: string;
  provisioningState: string;
}

export interface NsgRecord extends StoredResource {
  location: string;
  tags?: Record<string, string>;
  securityRules: any[];
  resourceGuid: string;
  etag: string;
  provisioningState: string;
}

export interface IpConfigRecord {
  id: string;
  name: string;
  subnetId: string;
  privateIPAddress: string;
  privateIPAllocationMethod: 'Static' | 'Dynamic';
  primary: boolean;
  publicIPAddressId?: string;
  /** Application security groups the IP configuration is in (ARM ids as stored). */
  applicationSecurityGroupIds?: string[];
}

export interface NicRecord extends StoredResource {
  location: string;
  tags?: Record<string, string>;
  ipConfigurations: IpConfigRecord[];
  nsgId?: string;
  vmId?: string;
  /** After its VM is deleted, Azure holds the NIC for that VM for a while (NicReservedForAnotherVm). */
  reservedForVmId?: string;
  reservedUntil?: number;
  macAddress?: string;
  enableAcceleratedNetworking: boolean;
  enableIPForwarding: boolean;
  dnsServers: string[];
  resourceGuid: string;
  etag: string;
  provisioningState: string;
}

export interface PipRecord extends StoredResource {
  location: string;
  tags?: Record<string, string>;
  sku: { name: string; tier: string };
  allocation: 'Static' | 'Dynamic';
  ipAddress?: string;
  version: string;
  idleTimeoutInMinutes: number;
  ipConfigurationId?: string;
  /** The NAT gateway using the address (natGateways.ts), if any. */
  natGatewayId?: string;
  dnsSettings?: { domainNameLabel: string; fqdn: string };
  zones?: string[];
  resourceGuid: string;
  etag: string;
  provisioningState: string;
}

export interface AsgRecord extends StoredResource {
  location: string;
  tags?: Record<string, string>;
  resourceGuid: string;
  etag: string;
  provisioningState: string;
}

/** Microsoft.Network/natGateways: outbound SNAT for the subnets that name it, through its public IPs. */
export interface NatGatewayRecord extends StoredResource {
  location: string;
  tags?: Record<string, string>;
  sku: { name: string };
  idleTimeoutInMinutes: number;
  publicIpAddressIds: string[];
  zones?: string[];
  resourceGuid: string;
  etag: string;
  provisioningState: string;
}
