// The records of networks projects make (table `projectnetworks`, one partition: a project has a
// handful, and the shared ones are read by every project), each holding its subnets, so that a subnet's
// CIDR is checked against its siblings under one ETag (racing subnet creates cannot overlap). The
// Azure side of a network is the virtual network `net-<network id>` in Jacket's resource group, tagged
// jacket=network with the network's id and project, each subnet an Azure subnet `subnet-<subnet id>`
// of it (projectNetworks.ts). They are merged with the operator's catalog networks for every reader:
// allNetworks gives them as catalog entries (NetworkDef) to ports, servers and interfaces.
import type { Services } from '../services';
import { odata } from '../store/tables';
import { networkCatalog, type NetworkDef, type SubnetDef } from './catalog';

export interface ProjectSubnet {
  id: string;
  name: string;
  description: string;
  cidr: string;
  gateway_ip: string;
  allocation_pools: { start: string; end: string }[];
  /** 'deleting' from the moment a delete starts until its record goes (not offered to new ports). */
  state: 'active' | 'deleting';
  created_at: string;
  updated_at: string;
}

export interface ProjectNetworkRecord {
  id: string;
  name: string;
  description: string;
  project_id: string;
  shared: boolean;
  subnets: ProjectSubnet[];
  /** 'deleting' while its virtual network is being deleted (a refused delete sets it back). */
  state: 'active' | 'deleting';
  created_at: string;
  updated_at: string;
}

export const PK = 'network';
export const projectNetworkRepo = (s: Services) => s.tables.repository<ProjectNetworkRecord>('projectnetworks', ['project_id', 'shared']);
export const vnetNameOf = (networkId: string) => `net-${networkId}`;
export const azureSubnetNameOf = (subnetId: string) => `subnet-${subnetId}`;
export const vnetTags = (n: Pick<ProjectNetworkRecord, 'id' | 'project_id'>) => ({ jacket: 'network', 'jacket-network-id': n.id, 'jacket-project-id': n.project_id });

/**
 * The project networks a caller may use or see: its project's and the shared ones (admins: all).
 * One filtered query of the partition.
 */
export async function listProjectNetworks(s: Services, scope: { projectId: string; admin: boolean }): Promise<ProjectNetworkRecord[]> {
  if (!s.config.azure.projectNetworks) return [];
  const filter = scope.admin ? undefined : odata`project_id eq ${scope.projectId} or shared eq ${true}`;
  return (await projectNetworkRepo(s).list(PK, filter)).map((r) => r.value);
}

/** Every project's networks (one partition read), as the routers' peerings, SNAT and interface ports need them. */
export const allProjectNetworks = (s: Services) => listProjectNetworks(s, { projectId: '', admin: true });

export function subnetDefOf(x: ProjectSubnet): SubnetDef {
  return { id: x.id, name: x.name, cidr: x.cidr, gateway_ip: x.gateway_ip, allocation_pools: x.allocation_pools, dns_nameservers: [], ip_version: 4 };
}

/**
 * A project network as the catalog entry ports and servers take: its first active subnet is where NICs
 * go (a catalog entry has one subnet). Undefined for a network with no active subnet, or being deleted:
 * nothing can be put on it.
 */
export function networkDefOf(s: Services, n: ProjectNetworkRecord): NetworkDef | undefined {
  const first = n.state === 'active' ? n.subnets.find((x) => x.state === 'active') : undefined;
  if (!first) return undefined;
  return {
    id: n.id,
    name: n.name,
    description: n.description,
    shared: n.shared,
    project_id: n.project_id,
    'router:external': false,
    mtu: 1500,
    subnet: subnetDefOf(first),
    azure: { vnet: vnetNameOf(n.id), subnet: azureSubnetNameOf(first.id), resourceGroup: s.config.azure.resourceGroup },
  };
}

/** The operator's catalog networks and, after them, the project networks the scope may use. */
export async function allNetworks(s: Services, scope: { projectId: string; admin: boolean }): Promise<NetworkDef[]> {
  const own = (await listProjectNetworks(s, scope)).map((n) => networkDefOf(s, n)).filter((n): n is NetworkDef => !!n);
  return [...networkCatalog(s.config).networks, ...own];
}
