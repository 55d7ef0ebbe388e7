// Write calls on networks and subnets. With project networks on (JACKET_PROJECT_NETWORKS, the default),
// projects make, change and delete their own (projectNetworks.ts); the operator's catalog networks stay
// read-only (a change answers the 501 below, the operator's being outside what the API makes). With project
// networks off, Jacket's "plugin" lacks these methods: policy is checked first (as Neutron's policy hook
// runs before the plugin), then the call answers 501 NotImplementedError as Neutron does.
// Extensions Jacket does not offer (trunks, QoS, ...) are absent: their paths match no route and answer
// Neutron's 404 {"NeutronError": {"type": "HTTPNotFound", "message": "The resource could not be found."}}.
import type { RequestContext, Route } from '../http/router';
import type { ApiResponse } from '../http/types';
import { json, noContent } from '../http/respond';
import { networkCatalog } from './catalog';
import { networkRoute, notImplemented, ownerFor, resourceBody } from './common';
import { projectNetworkBody, projectSubnetBody } from './networks';
import { createNetwork, createSubnet, deleteNetwork, deleteSubnet, updateNetwork, updateSubnet } from './projectNetworks';

/** The handler when project networks are on, else Neutron's 501 for a plugin without the method. */
const enabled =
  (what: string, handler: (ctx: RequestContext) => Promise<ApiResponse>) =>
  (ctx: RequestContext): Promise<ApiResponse> =>
    ctx.services.config.azure.projectNetworks ? handler(ctx) : notImplemented(what)(ctx);

/** A catalog network or subnet id: the operator's, never changed through the API. */
const isCatalogNetwork = (ctx: RequestContext, id: string) => networkCatalog(ctx.services.config).networks.some((n) => n.id === id.toLowerCase());
const isCatalogSubnet = (ctx: RequestContext, id: string) => networkCatalog(ctx.services.config).networks.some((n) => n.subnet.id === id.toLowerCase());

async function postNetwork(ctx: RequestContext) {
  const body = resourceBody(ctx, 'network');
  const n = await createNetwork(ctx.services, ctx.auth!, ownerFor(ctx, body), body);
  return json({ network: projectNetworkBody(n) }, 201);
}

async function putNetwork(ctx: RequestContext) {
  const body = resourceBody(ctx, 'network');
  if (isCatalogNetwork(ctx, ctx.params.network_id)) return notImplemented('update_network')(ctx);
  return json({ network: projectNetworkBody(await updateNetwork(ctx.services, ctx.auth!, ctx.params.network_id, body)) });
}

async function removeNetwork(ctx: RequestContext) {
  if (isCatalogNetwork(ctx, ctx.params.network_id)) return notImplemented('delete_network')(ctx);
  await deleteNetwork(ctx.services, ctx.auth!, ctx.params.network_id);
  return noContent();
}

async function postSubnet(ctx: RequestContext) {
  const body = resourceBody(ctx, 'subnet');
  // The subnet belongs to its network's project, as Neutron's does (naming another project: admins only).
  ownerFor(ctx, body);
  const { network, subnet } = await createSubnet(ctx.services, ctx.auth!, body);
  return json({ subnet: projectSubnetBody(network, subnet) }, 201);
}

async function putSubnet(ctx: RequestContext) {
  const body = resourceBody(ctx, 'subnet');
  if (isCatalogSubnet(ctx, ctx.params.subnet_id)) return notImplemented('update_subnet')(ctx);
  const { network, subnet } = await updateSubnet(ctx.services, ctx.auth!, ctx.params.subnet_id, body);
  return json({ subnet: projectSubnetBody(network, subnet) });
}

async function removeSubnet(ctx: RequestContext) {
  if (isCatalogSubnet(ctx, ctx.params.subnet_id)) return notImplemented('delete_subnet')(ctx);
  await deleteSubnet(ctx.services, ctx.auth!, ctx.params.subnet_id);
  return noContent();
}

export const networkWriteRoutes: Route[] = [
  networkRoute('networks-create', 'POST', '/networks', 'create_network', enabled('create_network', postNetwork)),
  networkRoute('networks-delete', 'DELETE', '/networks/{network_id}', 'delete_network', enabled('delete_network', removeNetwork)),
  networkRoute('networks-update', 'PUT', '/networks/{network_id}', 'update_network', enabled('update_network', putNetwork)),
  networkRoute('subnets-create', 'POST', '/subnets', 'create_subnet', enabled('create_subnet', postSubnet)),
  networkRoute('subnets-delete', 'DELETE', '/subnets/{subnet_id}', 'delete_subnet', enabled('delete_subnet', removeSubnet)),
  networkRoute('subnets-update', 'PUT', '/subnets/{subnet_id}', 'update_subnet', enabled('update_subnet', putSubnet)),
];
