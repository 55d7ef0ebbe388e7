// /v2.0/networks and /v2.0/subnets: the operator's Azure subnets, one Neutron network with one subnet
// each, and the networks projects make (projectNetworks.ts, their records in projectNetworkStore.ts),
// merged in one listing. The write calls are writes.ts.
import type { RequestContext, Route } from '../http/router';
import { json } from '../http/respond';
import { isAdmin } from '../api/policy';
import { networkCatalog, type NetworkDef } from './catalog';
import { listProjectNetworks, type ProjectNetworkRecord, type ProjectSubnet } from './projectNetworkStore';
import { asBool, asInt, asString, listResponse, networkRoute, neutronError, ownerOf, selectFields, visibleTo, type Body, type CollectionSpec } from './common';

const networkNotFound = (id: string) => neutronError(404, 'NetworkNotFound', `Network ${id} could not be found.`);
const subnetNotFound = (id: string) => neutronError(404, 'SubnetNotFound', `Subnet ${id} could not be found.`);

export async function networkBody(ctx: RequestContext, n: NetworkDef): Promise<Body> {
  const owner = await ownerOf(ctx, n.project_id);
  return {
    id: n.id,
    name: n.name,
    description: n.description,
    admin_state_up: true,
    status: 'ACTIVE',
    shared: n.shared,
    subnets: [n.subnet.id],
    mtu: n.mtu,
    'router:external': n['router:external'],
    port_security_enabled: true,
    project_id: owner,
    tenant_id: owner,
  };
}

export async function subnetBody(ctx: RequestContext, n: NetworkDef): Promise<Body> {
  const owner = await ownerOf(ctx, n.project_id);
  const s = n.subnet;
  return {
    id: s.id,
    name: s.name,
    description: '',
    network_id: n.id,
    ip_version: s.ip_version,
    cidr: s.cidr,
    gateway_ip: s.gateway_ip,
    allocation_pools: s.allocation_pools,
    dns_nameservers: s.dns_nameservers,
    host_routes: [],
    // Azure serves DHCP on every subnet.
    enable_dhcp: true,
    ipv6_ra_mode: null,
    ipv6_address_mode: null,
    subnetpool_id: null,
    project_id: owner,
    tenant_id: owner,
  };
}

/** A project network as Neutron shows it (every subnet listed, also one being deleted). */
export function projectNetworkBody(n: ProjectNetworkRecord): Body {
  return {
    id: n.id,
    name: n.name,
    description: n.description,
    admin_state_up: true,
    status: 'ACTIVE',
    shared: n.shared,
    subnets: n.subnets.map((x) => x.id),
    mtu: 1500,
    'router:external': false,
    port_security_enabled: true,
    project_id: n.project_id,
    tenant_id: n.project_id,
  };
}

export function projectSubnetBody(n: ProjectNetworkRecord, x: ProjectSubnet): Body {
  return {
    id: x.id,
    name: x.name,
    description: x.description,
    network_id: n.id,
    ip_version: 4,
    cidr: x.cidr,
    gateway_ip: x.gateway_ip,
    allocation_pools: x.allocation_pools,
    dns_nameservers: [],
    host_routes: [],
    enable_dhcp: true,
    ipv6_ra_mode: null,
    ipv6_address_mode: null,
    subnetpool_id: null,
    project_id: n.project_id,
    tenant_id: n.project_id,
  };
}

/** The project networks the caller sees: its own and shared ones (admins: all). */
const projectNets = (ctx: RequestContext) => listProjectNetworks(ctx.services, { projectId: ctx.auth!.projectId ?? '', admin: isAdmin(ctx.auth!) });

/**
 * The networks the caller may see: shared ones, its project's, external ones (where floating IPs come
 * from: Neutron's get_network allows rule:external), or all for admins.
 */
export function visibleNetworks(ctx: RequestContext): NetworkDef[] {
  return networkCatalog(ctx.services.config).networks.filter((n) => n['router:external'] || visibleTo(ctx.auth!, n.project_id, n.shared));
}

/** A visible network by id, or undefined. */
export function findNetwork(ctx: RequestContext, id: string): NetworkDef | undefined {
  return visibleNetworks(ctx).find((n) => n.id === id);
}

const common = { id: asString, name: asString, description: asString, project_id: asString, tenant_id: asString };

const networksSpec: CollectionSpec = {
  collection: 'networks',
  filters: { ...common, status: asString, admin_state_up: asBool, shared: asBool, mtu: asInt, 'router:external': asBool, port_security_enabled: asBool, subnets: asString },
  matchers: { subnets: (item, values) => values.some((v) => (item.subnets as string[]).includes(v)) },
  sortKeys: ['id', 'name', 'status', 'admin_state_up', 'shared', 'mtu', 'project_id', 'tenant_id', 'router:external', 'description'],
  notFound: networkNotFound,
};

const subnetsSpec: CollectionSpec = {
  collection: 'subnets',
  filters: {
    ...common,
    network_id: asString,
    ip_version: asInt,
    cidr: asString,
    gateway_ip: asString,
    enable_dhcp: asBool,
    ipv6_ra_mode: asString,
    ipv6_address_mode: asString,
    subnetpool_id: asString,
  },
  sortKeys: ['id', 'name', 'network_id', 'ip_version', 'cidr', 'gateway_ip', 'enable_dhcp', 'project_id', 'tenant_id', 'description'],
  notFound: subnetNotFound,
};

async function allNetworkBodies(ctx: RequestContext): Promise<Body[]> {
  const [catalog, own] = await Promise.all([Promise.all(visibleNetworks(ctx).map((n) => networkBody(ctx, n))), projectNets(ctx)]);
  return [...catalog, ...own.map(projectNetworkBody)];
}

async function allSubnetBodies(ctx: RequestContext): Promise<Body[]> {
  const [catalog, own] = await Promise.all([Promise.all(visibleNetworks(ctx).map((n) => subnetBody(ctx, n))), projectNets(ctx)]);
  return [...catalog, ...own.flatMap((n) => n.subnets.map((x) => projectSubnetBody(n, x)))];
}

async function listNetworks(ctx: RequestContext) {
  return listResponse(ctx, '/networks', await allNetworkBodies(ctx), networksSpec);
}

async function showNetwork(ctx: RequestContext) {
  const id = ctx.params.network_id.toLowerCase();
  const n = (await allNetworkBodies(ctx)).find((x) => x.id === id);
  if (!n) throw networkNotFound(ctx.params.network_id);
  return json({ network: selectFields(ctx.query, n) });
}

async function listSubnets(ctx: RequestContext) {
  return listResponse(ctx, '/subnets', await allSubnetBodies(ctx), subnetsSpec);
}

async function showSubnet(ctx: RequestContext) {
  const id = ctx.params.subnet_id.toLowerCase();
  const n = (await allSubnetBodies(ctx)).find((x) => x.id === id);
  if (!n) throw subnetNotFound(ctx.params.subnet_id);
  return json({ subnet: selectFields(ctx.query, n) });
}

export const networkReadRoutes: Route[] = [
  networkRoute('networks-list', 'GET', '/networks', 'get_network', listNetworks),
  networkRoute('networks-show', 'GET', '/networks/{network_id}', 'get_network', showNetwork),
  networkRoute('subnets-list', 'GET', '/subnets', 'get_subnet', listSubnets),
  networkRoute('subnets-show', 'GET', '/subnets/{subnet_id}', 'get_subnet', showSubnet),
];
