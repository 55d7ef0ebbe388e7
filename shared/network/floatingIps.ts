// /v2.0/floatingips and /v2.0/floatingip_pools, the controllers: parse, scope to the caller's project,
// render as Neutron does. The rules are floatingIpService.ts's.
import type { RequestContext, Route } from '../http/router';
import { json, noContent } from '../http/respond';
import { isAdmin } from '../api/policy';
import { networkCatalog } from './catalog';
import { asString, listResponse, networkRoute, ownerFor, ownerOf, resourceBody, selectFields, type Body, type CollectionSpec } from './common';
import { createFloatingIp, deleteFloatingIp, fipNotFound, ownFloatingIp, updateFloatingIp } from './floatingIpService';
import { listFloatingIps, type FloatingIpRecord } from './floatingIpStore';

/** A floating IP as Neutron renders it (without the extensions Jacket does not offer: dns, qos, timestamps, tags). */
export function floatingIpBody(f: FloatingIpRecord): Body {
  return {
    id: f.id,
    floating_ip_address: f.floating_ip_address,
    floating_network_id: f.floating_network_id,
    // Azure routes public IPs to a NIC without a Neutron router.
    router_id: null,
    port_id: f.port_id,
    fixed_ip_address: f.fixed_ip_address,
    status: f.status,
    description: f.description,
    project_id: f.project_id,
    tenant_id: f.project_id,
  };
}

const spec: CollectionSpec = {
  collection: 'floatingips',
  filters: {
    id: asString,
    floating_ip_address: asString,
    floating_network_id: asString,
    router_id: asString,
    port_id: asString,
    fixed_ip_address: asString,
    status: asString,
    description: asString,
    project_id: asString,
    tenant_id: asString,
  },
  sortKeys: ['id', 'floating_ip_address', 'floating_network_id', 'router_id', 'port_id', 'fixed_ip_address', 'status', 'project_id', 'tenant_id', 'description'],
  notFound: fipNotFound,
};

async function list(ctx: RequestContext) {
  const auth = ctx.auth!;
  const rows = await listFloatingIps(ctx.services, isAdmin(auth) ? undefined : (auth.projectId ?? ''));
  return listResponse(ctx, '/floatingips', rows.map(floatingIpBody), spec);
}

async function show(ctx: RequestContext) {
  const f = await ownFloatingIp(ctx.services, ctx.params.floatingip_id, ctx.auth!.projectId, isAdmin(ctx.auth!));
  return json({ floatingip: selectFields(ctx.query, floatingIpBody(f)) });
}

async function create(ctx: RequestContext) {
  const body = resourceBody(ctx, 'floatingip');
  const f = await createFloatingIp(ctx.services, ownerFor(ctx, body), body);
  return json({ floatingip: floatingIpBody(f) }, 201);
}

async function update(ctx: RequestContext) {
  const body = resourceBody(ctx, 'floatingip');
  const f = await ownFloatingIp(ctx.services, ctx.params.floatingip_id, ctx.auth!.projectId, isAdmin(ctx.auth!));
  return json({ floatingip: floatingIpBody(await updateFloatingIp(ctx.services, f, body)) });
}

async function remove(ctx: RequestContext) {
  const f = await ownFloatingIp(ctx.services, ctx.params.floatingip_id, ctx.auth!.projectId, isAdmin(ctx.auth!));
  await deleteFloatingIp(ctx.services, f);
  return noContent();
}

/** GET /floatingip_pools: the subnets of the external networks (floatingip-pools extension). */
async function pools(ctx: RequestContext) {
  const out = [];
  for (const n of networkCatalog(ctx.services.config).networks.filter((x) => x['router:external'])) {
    const owner = await ownerOf(ctx, n.project_id);
    out.push({ subnet_id: n.subnet.id, subnet_name: n.subnet.name, network_id: n.id, cidr: n.subnet.cidr, project_id: owner, tenant_id: owner });
  }
  return json({ floatingip_pools: out });
}

export const floatingIpRoutes: Route[] = [
  networkRoute('floatingips-list', 'GET', '/floatingips', 'get_floatingip', list),
  networkRoute('floatingips-show', 'GET', '/floatingips/{floatingip_id}', 'get_floatingip', show),
  networkRoute('floatingips-create', 'POST', '/floatingips', 'create_floatingip', create),
  networkRoute('floatingips-update', 'PUT', '/floatingips/{floatingip_id}', 'update_floatingip', update),
  networkRoute('floatingips-delete', 'DELETE', '/floatingips/{floatingip_id}', 'delete_floatingip', remove),
  networkRoute('floatingip-pools-list', 'GET', '/floatingip_pools', 'get_floatingip', pools),
];
