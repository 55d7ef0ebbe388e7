// /v2.0/routers (Neutron's l3 `router` extension, with ext-gw-mode) as records (issue 13). Azure routes
// between the subnets of a virtual network by itself and puts public IPs on NICs without a router, so a
// router makes in Azure only the peerings between the project networks it joins (peerings.ts) and,
// with a gateway that SNATs, a NAT gateway for its project subnets (snat.ts): it is the record clients expect (Terraform, Ansible and Horizon make one, set
// its gateway to the external network and add the subnets before they ask for floating IPs), with
// Neutron's validation and errors. Table `routers`, one partition (a project has a handful); the
// `router` quota is held in the ledger like the other network resources.
import { randomUUID } from 'node:crypto';
import type { RequestContext, Route } from '../http/router';
import type { Services } from '../services';
import { json, noContent } from '../http/respond';
import { isAdmin } from '../api/policy';
import { isValidKey, odata } from '../store/tables';
import { PK, ROUTER_INTERFACE, routerRepo as repo, snats, type RouterRecord } from './routerStore';
import { networkCatalog, parseCidr } from './catalog';
import { allProjectNetworks, listProjectNetworks, type ProjectNetworkRecord } from './projectNetworkStore';
import { portStore } from './ports';
import { deletePort } from './portService';
import { asBool, asString, badRequest, isUuid, listResponse, networkRoute, neutronError, neutronTime, ownerFor, resourceBody, selectFields, type Body, type CollectionSpec } from './common';
import { networkLedger, reserveNetwork } from './quotas';
import { reconcilePeerings, routerNetworks } from './peerings';
import { followSnat } from './snat';
import { azureFailure } from '../azure/errors';
import { log } from '../log';

const routerNotFound = (id: string) => neutronError(404, 'RouterNotFound', `Router ${id} could not be found`);

/**
 * external_gateway_info as Neutron renders it with ext-gw-mode: the external network, enable_snat and
 * the gateway's address — on Azure the public IP of the router's NAT gateway (snat.ts), made once the
 * router SNATs for a project subnet; none before, and none without SNAT (Azure gives a router no
 * address of its own).
 */
function gatewayInfo(s: Services, r: RouterRecord): Body | null {
  if (!r.gateway_network_id) return null;
  const ext = networkCatalog(s.config).networks.find((n) => n.id === r.gateway_network_id);
  const ips = r.snat_ip && ext && snats(r) ? [{ subnet_id: ext.subnet.id, ip_address: r.snat_ip }] : [];
  return { network_id: r.gateway_network_id, enable_snat: r.enable_snat !== false, external_fixed_ips: ips };
}

function routerBody(s: Services, r: RouterRecord): Body {
  return {
    id: r.id,
    name: r.name,
    description: r.description,
    admin_state_up: r.admin_state_up,
    status: 'ACTIVE',
    external_gateway_info: gatewayInfo(s, r),
    project_id: r.project_id,
    tenant_id: r.project_id,
  };
}

const spec: CollectionSpec = {
  collection: 'routers',
  filters: { id: asString, name: asString, description: asString, status: asString, admin_state_up: asBool, project_id: asString, tenant_id: asString },
  sortKeys: ['id', 'name', 'description', 'status', 'admin_state_up', 'project_id', 'tenant_id'],
  notFound: routerNotFound,
};

/** Neutron's convert_to_boolean, as enable_snat is converted. */
function snatFlag(v: unknown): boolean {
  if (typeof v === 'boolean') return v;
  // neutron_lib's convert_to_boolean: oslo's bool_from_string(strict=True) over str(v).strip().lower().
  const s = typeof v === 'string' || typeof v === 'number' ? String(v).trim().toLowerCase() : undefined;
  if (s !== undefined && ['1', 't', 'true', 'on', 'y', 'yes'].includes(s)) return true;
  if (s !== undefined && ['0', 'f', 'false', 'off', 'n', 'no'].includes(s)) return false;
  throw badRequest(`Invalid input for external_gateway_info. Reason: '${String(v)}' cannot be converted to boolean.`);
}

/**
 * external_gateway_info: {network_id} of an external network and its enable_snat (ext-gw-mode; admin
 * only, as Neutron's create_router:external_gateway_info:enable_snat policy), or null (no gateway).
 */
function gateway(ctx: RequestContext, action: 'create_router' | 'update_router', info: unknown): { network: string; enableSnat?: boolean } | null {
  const s = ctx.services;
  if (info === null || (typeof info === 'object' && !Array.isArray(info) && Object.keys(info as object).length === 0)) return null;
  const g = info as { network_id?: unknown; enable_snat?: unknown; external_fixed_ips?: unknown };
  if (typeof info !== 'object' || Array.isArray(info) || typeof g.network_id !== 'string')
    throw badRequest("Invalid input for external_gateway_info. Reason: Validation of dictionary's keys failed. Expected keys: {'network_id'}.");
  for (const k of Object.keys(g))
    if (!['network_id', 'enable_snat', 'external_fixed_ips'].includes(k)) throw badRequest(`Invalid input for external_gateway_info. Reason: Unexpected keys supplied: ${k}.`);
  if (g.external_fixed_ips !== undefined && !(Array.isArray(g.external_fixed_ips) && g.external_fixed_ips.length === 0)) {
    throw badRequest('Azure has no gateway address on the external network: external_fixed_ips cannot be chosen.');
  }
  const enableSnat = g.enable_snat === undefined ? undefined : snatFlag(g.enable_snat);
  // Neutron's _is_attribute_explicitly_set: on create only a value other than the default counts.
  if (enableSnat !== undefined && (action === 'update_router' || enableSnat !== true) && !isAdmin(ctx.auth!)) {
    throw neutronError(403, 'PolicyNotAuthorized', `(rule:${action} and rule:${action}:external_gateway_info and rule:${action}:external_gateway_info:enable_snat) is disallowed by policy`);
  }
  const net = networkCatalog(s.config).networks.find((n) => n.id === (g.network_id as string).toLowerCase());
  if (!net) throw neutronError(404, 'NetworkNotFound', `Network ${g.network_id} could not be found.`);
  if (!net['router:external']) throw badRequest(`Bad router request: Network ${net.id} is not an external network.`);
  return { network: net.id, ...(enableSnat !== undefined ? { enableSnat } : {}) };
}

function checkFields(body: Record<string, unknown>, allowed: string[]): void {
  for (const k of Object.keys(body)) if (!allowed.includes(k)) throw badRequest(`Unrecognized attribute(s) '${k}'`);
  for (const k of ['name', 'description']) {
    if (body[k] !== undefined && (typeof body[k] !== 'string' || (body[k] as string).length > 255)) throw badRequest(`Invalid input for ${k}. Reason: '${String(body[k])}' is not a valid string.`);
  }
  if (body.admin_state_up !== undefined && typeof body.admin_state_up !== 'boolean')
    throw badRequest(`Invalid input for admin_state_up. Reason: '${String(body.admin_state_up)}' is not a valid boolean value.`);
}

async function own(ctx: RequestContext, id: string): Promise<RouterRecord> {
  const cur = isValidKey(id) ? await repo(ctx.services).get(PK, id.toLowerCase()) : undefined;
  if (!cur || (!isAdmin(ctx.auth!) && cur.value.project_id !== ctx.auth!.projectId)) throw routerNotFound(id);
  return cur.value;
}

async function list(ctx: RequestContext) {
  const auth = ctx.auth!;
  const rows = await repo(ctx.services).list(PK, isAdmin(auth) ? undefined : odata`project_id eq ${auth.projectId ?? ''}`);
  return listResponse(
    ctx,
    '/routers',
    rows.map((r) => routerBody(ctx.services, r.value)),
    spec,
  );
}

async function show(ctx: RequestContext) {
  return json({ router: selectFields(ctx.query, routerBody(ctx.services, await own(ctx, ctx.params.router_id))) });
}

async function create(ctx: RequestContext) {
  const s = ctx.services;
  const body = resourceBody(ctx, 'router');
  checkFields(body, ['name', 'description', 'admin_state_up', 'external_gateway_info', 'project_id', 'tenant_id', 'distributed', 'ha', 'availability_zone_hints']);
  for (const k of ['distributed', 'ha'] as const) if (body[k] === true) throw badRequest(`Azure routes inside a virtual network itself: a ${k === 'ha' ? 'HA' : 'distributed'} router cannot be made.`);
  const projectId = ownerFor(ctx, body);
  const gw = body.external_gateway_info === undefined ? null : gateway(ctx, 'create_router', body.external_gateway_info);
  const id = randomUUID();
  await reserveNetwork(s, projectId, id, { router: 1 });
  const t = neutronTime();
  const r: RouterRecord = {
    id,
    name: (body.name as string | undefined) ?? '',
    description: (body.description as string | undefined) ?? '',
    project_id: projectId,
    admin_state_up: (body.admin_state_up as boolean | undefined) ?? true,
    gateway_network_id: gw?.network ?? null,
    ...(gw ? { enable_snat: gw.enableSnat ?? true } : {}),
    interfaces: [],
    created_at: t,
    updated_at: t,
  };
  try {
    await repo(s).create(PK, id, r);
  } catch (e) {
    await networkLedger(s).rollback(projectId, [id]);
    throw e;
  }
  await networkLedger(s).commit(projectId, [id]);
  return json({ router: routerBody(s, r) }, 201);
}

async function update(ctx: RequestContext) {
  const body = resourceBody(ctx, 'router');
  checkFields(body, ['name', 'description', 'admin_state_up', 'external_gateway_info']);
  const cur = await own(ctx, ctx.params.router_id);
  const gw = body.external_gateway_info === undefined ? undefined : gateway(ctx, 'update_router', body.external_gateway_info);
  const next = await repo(ctx.services).update(PK, cur.id, (r) => ({
    ...r,
    ...(body.name !== undefined ? { name: body.name as string } : {}),
    ...(body.description !== undefined ? { description: body.description as string } : {}),
    ...(body.admin_state_up !== undefined ? { admin_state_up: body.admin_state_up as boolean } : {}),
    // A new gateway SNATs unless told otherwise (Neutron's default); clearing it clears enable_snat.
    ...(gw !== undefined ? { gateway_network_id: gw?.network ?? null, enable_snat: gw ? (gw.enableSnat ?? true) : undefined } : {}),
    updated_at: neutronTime(),
  }));
  if (!next) throw routerNotFound(cur.id);
  if (gw !== undefined) {
    await followSnat(ctx.services, cur.id);
    const after = await repo(ctx.services).get(PK, cur.id);
    return json({ router: routerBody(ctx.services, (after ?? next).value) });
  }
  return json({ router: routerBody(ctx.services, next.value) });
}

async function remove(ctx: RequestContext) {
  const cur = await own(ctx, ctx.params.router_id);
  if (cur.interfaces.length > 0) throw neutronError(409, 'RouterInUse', `Router ${cur.id} still has ports`);
  if (await repo(ctx.services).delete(PK, cur.id)) await networkLedger(ctx.services).release(cur.project_id, { router: 1 });
  // A NAT gateway still recorded (a failed reconcile left it) goes with the router: no subnet names it.
  if (cur.snat_ip) await followSnat(ctx.services, cur.id);
  return noContent();
}

/**
 * The subnets a router of `projectId` may join: the operator's (shared ones, the project's; admins any)
 * and the project networks' (the project's own and shared ones; admins any).
 */
async function subnetsOf(ctx: RequestContext, projectId: string): Promise<{ subnet_id: string; network_id: string; cidr: string; external: boolean }[]> {
  const admin = isAdmin(ctx.auth!);
  const catalog = networkCatalog(ctx.services.config)
    .networks.filter((n) => n.shared || n.project_id === projectId || admin)
    .map((n) => ({ subnet_id: n.subnet.id, network_id: n.id, cidr: n.subnet.cidr, external: n['router:external'] }));
  const own = (await listProjectNetworks(ctx.services, { projectId, admin })).flatMap((n) => n.subnets.map((x) => ({ subnet_id: x.id, network_id: n.id, cidr: x.cidr, external: false })));
  return [...catalog, ...own];
}

function cidrsOverlap(a: string, b: string): boolean {
  const x = parseCidr(a);
  const y = parseCidr(b);
  return !!x && !!y && x.v === y.v && x.network <= y.last && y.network <= x.last;
}

/** PUT /routers/{id}/add_router_interface {subnet_id} (a port_id names a server's NIC: not a router's). */
async function addInterface(ctx: RequestContext) {
  const b = (ctx.body ?? {}) as Record<string, unknown>;
  if (typeof b !== 'object' || Array.isArray(b)) throw badRequest('Resource body required');
  const cur = await own(ctx, ctx.params.router_id);
  if (b.port_id !== undefined && b.subnet_id !== undefined) throw badRequest('Bad router request: Cannot specify both subnet-id and port-id.');
  if (b.port_id !== undefined) return addPortInterface(ctx, cur, b.port_id);
  if (typeof b.subnet_id !== 'string') throw badRequest('Bad router request: Either subnet_id or port_id must be specified.');
  const subnetId = b.subnet_id.toLowerCase();
  const net = (await subnetsOf(ctx, cur.project_id)).find((n) => n.subnet_id === subnetId);
  if (!net) throw neutronError(404, 'SubnetNotFound', `Subnet ${b.subnet_id} could not be found.`);
  const added = await recordInterface(ctx, cur, net, randomUUID());
  const nets = await routeThrough(ctx, cur.id, added.port_id);
  await followSnat(ctx.services, cur.id, [], nets);
  return json({ id: cur.id, subnet_id: subnetId, subnet_ids: [subnetId], port_id: added.port_id, network_id: net.network_id, project_id: cur.project_id, tenant_id: cur.project_id });
}

type JoinableSubnet = Awaited<ReturnType<typeof subnetsOf>>[number];

/** The interface in the router's record, under its ETag, with Neutron's checks against the others. */
async function recordInterface(ctx: RequestContext, cur: RouterRecord, net: JoinableSubnet, portId: string, byPort = false): Promise<RouterRecord['interfaces'][number]> {
  const subnetId = net.subnet_id;
  if (net.external) throw badRequest(`Bad router request: Router already has a port on subnet ${subnetId}.`);
  const all = await subnetsOf(ctx, cur.project_id);
  let added: RouterRecord['interfaces'][number] | undefined;
  const next = await repo(ctx.services).update(PK, cur.id, (r) => {
    if (r.interfaces.some((i) => i.subnet_id === subnetId)) throw badRequest(`Bad router request: Router already has a port on subnet ${subnetId}.`);
    // Neutron's _check_for_dup_router_subnets: one router does not join two subnets that overlap.
    for (const i of r.interfaces) {
      const other = all.find((x) => x.subnet_id === i.subnet_id);
      if (other && cidrsOverlap(other.cidr, net.cidr)) {
        throw badRequest(`Bad router request: Cidr ${net.cidr} of subnet ${subnetId} overlaps with cidr ${other.cidr} of subnet ${other.subnet_id}.`);
      }
    }
    added = { subnet_id: subnetId, port_id: portId, ...(byPort ? { by_port: true } : {}) };
    return { ...r, interfaces: [...r.interfaces, added], updated_at: neutronTime() };
  });
  if (!next || !added) throw routerNotFound(cur.id);
  return added;
}

/**
 * add_router_interface {port_id}: a port the router's project made, with no device, becomes the
 * router's interface on its subnet (device_owner network:router_interface, as Neutron sets it). On
 * Azure it stays an unattached NIC: Azure routes without router ports, so nothing else is made.
 */
async function addPortInterface(ctx: RequestContext, cur: RouterRecord, rawPortId: unknown) {
  if (!isUuid(rawPortId)) throw badRequest(`Invalid input for port_id. Reason: '${String(rawPortId)}' is not a valid UUID.`);
  const s = ctx.services;
  const port = await portStore(s).get(cur.project_id, rawPortId.toLowerCase());
  if (!port) throw neutronError(404, 'PortNotFound', `Port ${rawPortId} could not be found.`);
  if (port.device_id || !port.user_made) {
    throw neutronError(409, 'PortInUse', `Unable to complete operation on port ${port.id} for network ${port.network_id}. Port already has an attached device ${port.device_id}.`);
  }
  const subnetId = port.fixed_ips[0]?.subnet_id;
  if (!subnetId) throw badRequest('Bad router request: Router port must have at least one fixed IP.');
  const net = (await subnetsOf(ctx, cur.project_id)).find((n) => n.subnet_id === subnetId);
  if (!net) throw neutronError(404, 'SubnetNotFound', `Subnet ${subnetId} could not be found.`);
  // The port first (of two routers racing for it one wins), then the router's record; undone if refused.
  await portStore(s).bind(cur.project_id, port.id, cur.id, ROUTER_INTERFACE, 'ACTIVE');
  let nets: ProjectNetworkRecord[] | undefined;
  try {
    await recordInterface(ctx, cur, net, port.id, true);
    nets = await routeThrough(ctx, cur.id, port.id);
  } catch (e) {
    await portStore(s).unbind(cur.project_id, port.id, cur.id);
    throw e;
  }
  await followSnat(s, cur.id, [], nets);
  return json({ id: cur.id, subnet_id: subnetId, subnet_ids: [subnetId], port_id: port.id, network_id: net.network_id, project_id: cur.project_id, tenant_id: cur.project_id });
}

/**
 * After an interface is recorded: the project networks the router now joins are peered on Azure
 * (peerings.ts). Refused by Azure (two networks whose address spaces overlap beyond the subnets the
 * router joins, which Azure cannot peer) or failing, the interface is taken out again and the
 * peerings follow, so the request changes nothing.
 */
async function routeThrough(ctx: RequestContext, routerId: string, portId: string): Promise<ProjectNetworkRecord[] | undefined> {
  const s = ctx.services;
  const r = (await repo(s).get(PK, routerId))?.value;
  if (!r?.interfaces.length) return undefined;
  // The project networks are read once: for the router's networks, the peerings they want, and (the
  // caller passes them on) the router's SNAT.
  const all = await allProjectNetworks(s);
  const nets = routerNetworks(all, r.interfaces);
  if (nets.length < 2) return all;
  try {
    await reconcilePeerings(s, nets, all);
  } catch (e) {
    await repo(s).update(PK, routerId, (x) => ({ ...x, interfaces: x.interfaces.filter((i) => i.port_id !== portId), updated_at: neutronTime() }));
    await reconcilePeerings(s, nets).catch((err: unknown) => log.warn('router peerings left to the next router change', { router: routerId, error: String(err) }));
    const f = azureFailure(e);
    if (f.code === 'VnetAddressSpacesOverlap') {
      throw badRequest(`Bad router request: Azure cannot route between networks whose address spaces overlap (every subnet of a network counts): ${f.message}`);
    }
    throw e;
  }
  return all;
}

async function removeInterface(ctx: RequestContext) {
  const b = (ctx.body ?? {}) as Record<string, unknown>;
  if (typeof b !== 'object' || Array.isArray(b)) throw badRequest('Resource body required');
  const cur = await own(ctx, ctx.params.router_id);
  if (typeof b.subnet_id !== 'string' && typeof b.port_id !== 'string') throw badRequest('Bad router request: Either subnet_id or port_id must be specified.');
  const match = cur.interfaces.find((i) => i.subnet_id === (b.subnet_id as string | undefined)?.toLowerCase() || i.port_id === (b.port_id as string | undefined)?.toLowerCase());
  if (!match) {
    if (typeof b.subnet_id === 'string') throw neutronError(404, 'RouterInterfaceNotFoundForSubnet', `Router ${cur.id} has no interface on subnet ${b.subnet_id}`);
    throw neutronError(404, 'RouterInterfaceNotFound', `Router ${cur.id} does not have an interface with id ${String(b.port_id)}`);
  }
  await repo(ctx.services).update(PK, cur.id, (r) => ({ ...r, interfaces: r.interfaces.filter((i) => i.port_id !== match.port_id), updated_at: neutronTime() }));
  // The peerings this interface justified go (peerings.ts); a failure leaves them to the next router change.
  const all = await allProjectNetworks(ctx.services);
  const nets = routerNetworks(all, cur.interfaces);
  if (nets.length > 1) await reconcilePeerings(ctx.services, nets, all).catch((e: unknown) => log.warn('router peerings left to the next router change', { router: cur.id, error: String(e) }));
  // The subnet leaves the router's NAT gateway (which goes with its last project subnet).
  await followSnat(ctx.services, cur.id, [match.subnet_id], all);
  // Neutron deletes the router's port with its interface, also one the project made and added.
  const port = await portStore(ctx.services).get(cur.project_id, match.port_id);
  if (port && port.device_id === cur.id && port.device_owner === ROUTER_INTERFACE) {
    await portStore(ctx.services).unbind(cur.project_id, port.id, cur.id);
    await deletePort(ctx.services, { ...port, device_id: '', device_owner: '' });
  }
  const net = (await subnetsOf(ctx, cur.project_id)).find((n) => n.subnet_id === match.subnet_id);
  return json({
    id: cur.id,
    subnet_id: match.subnet_id,
    subnet_ids: [match.subnet_id],
    port_id: match.port_id,
    network_id: net?.network_id ?? null,
    project_id: cur.project_id,
    tenant_id: cur.project_id,
  });
}

export const routerRoutes: Route[] = [
  networkRoute('routers-list', 'GET', '/routers', 'get_router', list),
  networkRoute('routers-show', 'GET', '/routers/{router_id}', 'get_router', show),
  networkRoute('routers-create', 'POST', '/routers', 'create_router', create),
  networkRoute('routers-update', 'PUT', '/routers/{router_id}', 'update_router', update),
  networkRoute('routers-delete', 'DELETE', '/routers/{router_id}', 'delete_router', remove),
  networkRoute('routers-add-interface', 'PUT', '/routers/{router_id}/add_router_interface', 'add_router_interface', addInterface),
  networkRoute('routers-remove-interface', 'PUT', '/routers/{router_id}/remove_router_interface', 'remove_router_interface', removeInterface),
];
