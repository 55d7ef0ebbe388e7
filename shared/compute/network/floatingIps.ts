// Nova's floating IP proxies over Neutron (nova/api/openstack/compute/floating_ips.py and
// floating_ip_pools.py, deprecated at 2.36; Jacket's Compute max is 2.1, so they are served): the
// controllers parse, check policy and render Nova's shape; the floating IPs themselves are Neutron's
// (shared/network/floatingIpService.ts), as Nova's network API calls Neutron. Also the server actions
// addFloatingIp / removeFloatingIp (deprecated at 2.44).
import type { RequestContext, Route } from '../../http/router';
import { json, accepted } from '../../http/respond';
import { badRequest, conflict, forbidden, notFound } from '../../http/errors';
import { isAdmin } from '../../api/policy';
import { validateBody } from '../../api/validation';
import { PROXY_API, computeRoute } from '../common';
import { networkCatalog } from '../../network/catalog';
import { createFloatingIp, deleteFloatingIp, updateFloatingIp } from '../../network/floatingIpService';
import { getFloatingIp, listFloatingIps, type FloatingIpRecord } from '../../network/floatingIpStore';
import { portStore } from '../../network/ports';
import { ApiError } from '../../http/errors';
import { registerServerAction } from '../servers/actions/registry';
import { checkInstanceLock, visibleServer } from '../servers/model';

const ip = { type: 'string', oneOf: [{ format: 'ipv4' }, { format: 'ipv6' }] };
const createSchema = { type: ['object', 'null'], properties: { pool: { type: ['string', 'null'] } } };
const addSchema = {
  type: 'object',
  properties: { addFloatingIp: { type: 'object', properties: { address: ip, fixed_address: ip }, required: ['address'], additionalProperties: false } },
  required: ['addFloatingIp'],
  additionalProperties: false,
};
const removeSchema = {
  type: 'object',
  properties: { removeFloatingIp: { type: 'object', properties: { address: ip }, required: ['address'], additionalProperties: false } },
  required: ['removeFloatingIp'],
  additionalProperties: false,
};

const poolName = (ctx: RequestContext, networkId: string) => networkCatalog(ctx.services.config).networks.find((n) => n.id === networkId)?.name ?? '';

/** Nova's view (_translate_floating_ip_view): instance_id is the port's device. */
function view(ctx: RequestContext, f: FloatingIpRecord) {
  return { id: f.id, ip: f.floating_ip_address, pool: poolName(ctx, f.floating_network_id), fixed_ip: f.fixed_ip_address, instance_id: f.port_id ? f.device_id : null };
}

const projectOf = (ctx: RequestContext) => ctx.auth!.projectId ?? '';

async function own(ctx: RequestContext, id: string): Promise<FloatingIpRecord> {
  const f = await getFloatingIp(ctx.services, id);
  if (!f || (f.value.project_id !== projectOf(ctx) && !isAdmin(ctx.auth!))) throw notFound(`Floating IP not found for ID ${id}`);
  return f.value;
}

async function byAddress(ctx: RequestContext, address: string): Promise<FloatingIpRecord | undefined> {
  return (await listFloatingIps(ctx.services, projectOf(ctx))).find((f) => f.floating_ip_address === address);
}

async function index(ctx: RequestContext) {
  return json({ floating_ips: (await listFloatingIps(ctx.services, projectOf(ctx))).map((f) => view(ctx, f)) });
}

async function show(ctx: RequestContext) {
  return json({ floating_ip: view(ctx, await own(ctx, ctx.params.id)) });
}

/** POST: allocate from `pool` (an external network's name; Jacket's default: the first external network). */
async function create(ctx: RequestContext) {
  const body = validateBody<{ pool?: string | null } | null>(createSchema, ctx.body ?? null);
  const externals = networkCatalog(ctx.services.config).networks.filter((n) => n['router:external']);
  const pool = body?.pool ? externals.find((n) => n.name === body.pool || n.id === body.pool) : externals[0];
  if (!pool) throw notFound('Floating IP pool not found.');
  try {
    return json({ floating_ip: view(ctx, await createFloatingIp(ctx.services, projectOf(ctx), { floating_network_id: pool.id })) });
  } catch (e) {
    // Neutron's OverQuota (409) is Nova's FloatingIpLimitExceeded here.
    if (e instanceof ApiError && e.status === 409) throw forbidden('Maximum number of floating IPs exceeded');
    throw e;
  }
}

async function remove(ctx: RequestContext) {
  await deleteFloatingIp(ctx.services, await own(ctx, ctx.params.id));
  return accepted();
}

async function pools(ctx: RequestContext) {
  return json({
    floating_ip_pools: networkCatalog(ctx.services.config)
      .networks.filter((n) => n['router:external'])
      .map((n) => ({ name: n.name })),
  });
}

export const novaFloatingIpRoutes: Route[] = [
  computeRoute('floating-ips-list', 'GET', '/os-floating-ips', 'os_compute_api:os-floating-ips:list', index, PROXY_API),
  computeRoute('floating-ips-create', 'POST', '/os-floating-ips', 'os_compute_api:os-floating-ips:create', create, PROXY_API),
  computeRoute('floating-ips-show', 'GET', '/os-floating-ips/{id}', 'os_compute_api:os-floating-ips:show', show, PROXY_API),
  computeRoute('floating-ips-delete', 'DELETE', '/os-floating-ips/{id}', 'os_compute_api:os-floating-ips:delete', remove, PROXY_API),
  computeRoute('floating-ip-pools-list', 'GET', '/os-floating-ip-pools', 'os_compute_api:os-floating-ip-pools', pools, PROXY_API),
];

registerServerAction({
  name: 'addFloatingIp',
  // Nova's api_version 2.1-2.43: a bare 404 from 2.44 (nova-network's actions, removed from the API).
  versions: { max: '2.43' },
  policy: 'os_compute_api:os-floating-ips:add',
  schema: addSchema,
  handler: async (ctx, args) => {
    const a = args as { address: string; fixed_address?: string };
    const cur = await visibleServer(ctx);
    checkInstanceLock(cur.value, ctx.auth!);
    const fixed = cur.value.nics.filter((n) => n.addr && !n.addr.includes(':'));
    if (fixed.length === 0) throw badRequest(`Unable to associate floating IP ${a.address} to any fixed IPs for instance ${cur.value.id}. Instance has no fixed IPv4 addresses to associate.`);
    const nic = a.fixed_address === undefined ? fixed[0] : fixed.find((n) => n.addr === a.fixed_address);
    if (!nic) throw badRequest('Specified fixed address not assigned to instance');
    const fip = await byAddress(ctx, a.address);
    if (!fip) throw notFound('floating IP not found');
    const port = await portStore(ctx.services).get(cur.value.project_id, nic.port_id);
    if (!port) throw badRequest(`Unable to associate floating IP ${a.address} to fixed IP ${nic.addr} for instance ${cur.value.id}. Error: the port is gone.`);
    try {
      await updateFloatingIp(ctx.services, fip, { port_id: port.id, fixed_ip_address: nic.addr });
    } catch (e) {
      if (e instanceof ApiError && e.status === 409) throw badRequest(`Unable to associate floating IP ${a.address} to fixed IP ${nic.addr} for instance ${cur.value.id}. Error: ${e.message}`);
      throw e;
    }
    return accepted();
  },
});

registerServerAction({
  name: 'removeFloatingIp',
  // Nova's api_version 2.1-2.43: a bare 404 from 2.44 (nova-network's actions, removed from the API).
  versions: { max: '2.43' },
  policy: 'os_compute_api:os-floating-ips:remove',
  schema: removeSchema,
  handler: async (ctx, args) => {
    const address = (args as { address: string }).address;
    const cur = await visibleServer(ctx);
    checkInstanceLock(cur.value, ctx.auth!);
    const fip = await byAddress(ctx, address);
    if (!fip) throw notFound(`Floating IP not found for address ${address}.`);
    if (!fip.port_id || fip.device_id !== cur.value.id) throw conflict(`Floating IP ${address} is not associated with instance ${cur.value.id}.`);
    await updateFloatingIp(ctx.services, fip, { port_id: null });
    return accepted();
  },
});
