// Networks and subnets projects make (issue 13; on unless JACKET_PROJECT_NETWORKS=false): a network is
// a record, and on Azure one virtual network Jacket owns, `net-<network id>`, made with the network's
// first subnet (a virtual network needs an address space) and deleted with its last; each subnet is an
// Azure subnet of it. One virtual network per network because Neutron's networks are isolated from each
// other unless routed, and may use the same CIDRs: two virtual networks are exactly that on Azure.
//
// IPAM is Neutron's, narrowed to what Azure does with a subnet: IPv4 only; Azure's gateway is always the
// first host address and it reserves the first four addresses and the last, so the gateway is that first
// host and the allocation pools stay off the reserved addresses (the default pool: the fifth address to
// the last but one). DHCP is always on, DNS servers and host routes are not per-subnet settings on Azure
// (refused rather than stored and ignored).
//
// Order of writes (the record is the intent, Azure follows it):
//   subnet create  quota held under the subnet id -> the subnet in the network record (CIDR checked
//                  against its siblings under the ETag) -> the virtual network PUT with the record's
//                  subnets -> quota committed; Azure refusing takes the subnet out again;
//   subnet delete  409 while a port or router interface uses it -> marked deleting -> the virtual
//                  network PUT without it (or deleted, when it was the last) -> out of the record;
//   network delete 409 while a port or router interface uses it -> marked deleting -> virtual network
//                  deleted -> record deleted -> quota given back (the network and its subnets, as
//                  Neutron deletes a network's subnets with it).
// Every Azure write is derived from the record as it is then, and repeated until the record did not
// change meanwhile, so racing writes on one network converge (and a PUT that finds the network deleted
// under it deletes the virtual network again). A crash leaves at most a tagged virtual network no
// record owns (that race, interrupted: the network sweep removes it after two passes,
// shared/timers/vnets.ts), a record Azure has not caught up with (the next write of that network brings
// Azure to it), or a network or subnet marked deleting (its retried delete resumes).
import { randomUUID } from 'node:crypto';
import type { AuthContext } from '../api/policy';
import { isAdmin } from '../api/policy';
import type { Services } from '../services';
import { azureFailure } from '../azure/errors';
import { isValidKey } from '../store/tables';
import { formatIp, ipv4ToInt, parseCidr } from './catalog';
import { badRequest, isUuid, neutronError, neutronTime } from './common';
import { portStore } from './ports';
import { networkLedger, reserveNetwork } from './quotas';
import { natBySubnet, PK as ROUTERS, routerRepo } from './routerStore';
import { azureSubnetNameOf, listProjectNetworks, PK, projectNetworkRepo as repo, vnetNameOf, vnetTags, type ProjectNetworkRecord, type ProjectSubnet } from './projectNetworkStore';

export const networkNotFound = (id: string) => neutronError(404, 'NetworkNotFound', `Network ${id} could not be found.`);
export const subnetNotFound = (id: string) => neutronError(404, 'SubnetNotFound', `Subnet ${id} could not be found.`);
const invalid = (field: string, reason: string) => badRequest(`Invalid input for ${field}. Reason: ${reason}.`);
const policyRefused = (rule: string) => neutronError(403, 'PolicyNotAuthorized', `${rule} is disallowed by policy`);
const networkInUse = (id: string) => neutronError(409, 'NetworkInUse', `Unable to complete operation on network ${id}. There are one or more ports still in use on the network.`);
const subnetInUse = (id: string) => neutronError(409, 'SubnetInUse', `Unable to complete operation on subnet ${id}: One or more ports have an IP allocation from this subnet.`);

type Body = Record<string, unknown>;

function checkKeys(body: Body, allowed: string[]): void {
  const extra = Object.keys(body).filter((k) => !allowed.includes(k));
  if (extra.length) throw badRequest(`Unrecognized attribute(s) '${extra.join(', ')}'`);
}

function checkStrings(body: Body, keys: string[]): void {
  for (const k of keys) {
    if (body[k] !== undefined && (typeof body[k] !== 'string' || (body[k] as string).length > 255)) throw invalid(k, `'${String(body[k])}' is not a valid string`);
  }
}

function checkBool(body: Body, key: string): void {
  if (body[key] !== undefined && typeof body[key] !== 'boolean') throw invalid(key, `'${String(body[key])}' is not a valid boolean value`);
}

/**
 * Neutron's attribute policies (create_network:shared, :router:external, update_network:...): admin only.
 * An attribute counts when given and not its default, as Neutron's _is_attribute_explicitly_set.
 */
function checkAdminAttributes(auth: AuthContext, action: 'create_network' | 'update_network', body: Body): void {
  const set = ['shared', 'router:external'].filter((k) => body[k] !== undefined && (action === 'update_network' || body[k] !== false));
  if (set.length && !isAdmin(auth)) throw policyRefused(`(${[`rule:${action}`, ...set.map((k) => `rule:${action}:${k}`)].join(' and ')})`);
}

// ---- networks ----

const NETWORK_CREATE = ['name', 'description', 'admin_state_up', 'shared', 'router:external', 'mtu', 'port_security_enabled', 'project_id', 'tenant_id', 'availability_zone_hints'];

/**
 * The body as Neutron's API layer checks it (attributes and types), then its attribute policies, then
 * what the "plugin" refuses (the order of Neutron's request handling).
 */
function checkNetworkBody(auth: AuthContext, action: 'create_network' | 'update_network', body: Body, allowed: string[]): void {
  checkKeys(body, allowed);
  checkStrings(body, ['name', 'description']);
  for (const k of ['admin_state_up', 'shared', 'router:external', 'port_security_enabled']) checkBool(body, k);
  checkAdminAttributes(auth, action, body);
  // What an Azure virtual network cannot be, refused rather than shown and not honoured.
  if (body.admin_state_up === false) throw badRequest('Azure has no administratively-down virtual network: admin_state_up cannot be false.');
  if (body.port_security_enabled === false)
    throw badRequest("Jacket's networks default their ports to port security on: port_security_enabled cannot be false on a network (set it on each port instead).");
  if (body.mtu !== undefined && body.mtu !== 1500) throw badRequest('Azure virtual networks have an MTU of 1500: mtu cannot be set otherwise.');
  if (body['router:external'] === true) {
    throw badRequest("External networks stand for Azure's public addresses and come from the operator's catalog: router:external cannot be set on a project network.");
  }
  if (body.availability_zone_hints !== undefined && !(Array.isArray(body.availability_zone_hints) && body.availability_zone_hints.length === 0)) {
    throw badRequest('A virtual network spans every availability zone of its region: availability_zone_hints cannot be set.');
  }
}

/** POST /networks: the record only (its virtual network comes with its first subnet). */
export async function createNetwork(s: Services, auth: AuthContext, projectId: string, body: Body): Promise<ProjectNetworkRecord> {
  checkNetworkBody(auth, 'create_network', body, NETWORK_CREATE);
  const id = randomUUID();
  await reserveNetwork(s, projectId, id, { network: 1 });
  const t = neutronTime();
  const n: ProjectNetworkRecord = {
    id,
    name: (body.name as string | undefined) ?? '',
    description: (body.description as string | undefined) ?? '',
    project_id: projectId,
    shared: (body.shared as boolean | undefined) ?? false,
    subnets: [],
    state: 'active',
    created_at: t,
    updated_at: t,
  };
  try {
    await repo(s).create(PK, id, n);
  } catch (e) {
    await networkLedger(s).rollback(projectId, [id]);
    throw e;
  }
  await networkLedger(s).commit(projectId, [id]);
  return n;
}

/**
 * A project network the caller may change: its project's (admins: any). A shared one of another
 * project is visible, so Neutron's policy answers (403); anything else is not there (404).
 */
async function changeable(s: Services, auth: AuthContext, id: string, action: string): Promise<ProjectNetworkRecord> {
  const cur = isValidKey(id) ? await repo(s).get(PK, id.toLowerCase()) : undefined;
  if (!cur) throw networkNotFound(id);
  const n = cur.value;
  if (isAdmin(auth) || n.project_id === auth.projectId) return n;
  if (n.shared) throw policyRefused(`rule:${action}`);
  throw networkNotFound(id);
}

export async function getProjectNetwork(s: Services, id: string): Promise<ProjectNetworkRecord | undefined> {
  if (!isValidKey(id)) return undefined;
  return (await repo(s).get(PK, id.toLowerCase()))?.value;
}

/** PUT /networks/{id}: name, description, shared (admin). */
export async function updateNetwork(s: Services, auth: AuthContext, id: string, body: Body): Promise<ProjectNetworkRecord> {
  checkNetworkBody(auth, 'update_network', body, ['name', 'description', 'admin_state_up', 'shared', 'router:external', 'mtu', 'port_security_enabled']);
  const cur = await changeable(s, auth, id, 'update_network');
  // Neutron's InvalidSharedSetting: a network other projects have ports on stays shared.
  if (body.shared === false && cur.shared) {
    const ports = await portStore(s).listAll({ network_id: [cur.id] }, 1000);
    if (ports.some((p) => p.project_id !== cur.project_id)) {
      throw neutronError(409, 'InvalidSharedSetting', `Unable to reconfigure sharing settings for network ${cur.id}. Multiple tenants are using it.`);
    }
  }
  const next = await repo(s).update(PK, cur.id, (n) => ({
    ...n,
    ...(body.name !== undefined ? { name: body.name as string } : {}),
    ...(body.description !== undefined ? { description: body.description as string } : {}),
    ...(body.shared !== undefined ? { shared: body.shared as boolean } : {}),
    updated_at: neutronTime(),
  }));
  if (!next) throw networkNotFound(id);
  return next.value;
}

/**
 * A router interface on any of `subnetIds`: every project's routers (one partition), since another
 * project's router may join a shared network's subnet.
 */
async function routerOn(s: Services, subnetIds: string[]): Promise<boolean> {
  return (await routerRepo(s).list(ROUTERS)).some((r) => r.value.interfaces.some((i) => subnetIds.includes(i.subnet_id)));
}

/**
 * Brings the network's virtual network to its record: its non-deleting subnets, or no virtual network
 * when it has none. Repeated while the record changed under it (a racing subnet write), so the last
 * PUT is of the record as it stands.
 */
export async function syncVnet(s: Services, id: string): Promise<void> {
  for (let i = 0; i < 5; i++) {
    const cur = await repo(s).get(PK, id);
    if (!cur) return;
    const subnets = cur.value.state === 'active' ? cur.value.subnets.filter((x) => x.state === 'active') : [];
    if (subnets.length === 0) await s.azure.network.deleteVnet(vnetNameOf(id));
    else {
      // Each subnet's NAT gateway, from the routers that SNAT for it (shared/network/snat.ts).
      const nat = natBySubnet((await routerRepo(s).list(ROUTERS)).map((r) => r.value));
      await s.azure.network.putVnet(
        vnetNameOf(id),
        vnetTags(cur.value),
        subnets.map((x) => ({ name: azureSubnetNameOf(x.id), addressPrefix: x.cidr, natGateway: nat.get(x.id) })),
      );
    }
    const after = await repo(s).get(PK, id);
    // The network was deleted meanwhile (its delete may have run before this PUT landed): take back
    // what this PUT made rather than leave it to the sweep.
    if (!after) return s.azure.network.deleteVnet(vnetNameOf(id));
    if (after.etag === cur.etag) return;
  }
}

/** True for Azure's refusal to drop a subnet a NIC uses. */
const inUseOnAzure = (e: unknown) => azureFailure(e).code === 'InUseSubnetCannotBeDeleted';

/** DELETE /networks/{id}: refused while ports or router interfaces use it; its subnets go with it. */
export async function deleteNetwork(s: Services, auth: AuthContext, id: string): Promise<void> {
  const cur = await changeable(s, auth, id, 'delete_network');
  if ((await portStore(s).listAll({ network_id: [cur.id] }, 1)).length > 0) throw networkInUse(cur.id);
  if (
    await routerOn(
      s,
      cur.subnets.map((x) => x.id),
    )
  )
    throw networkInUse(cur.id);
  await repo(s).update(PK, cur.id, (n) => ({ ...n, state: 'deleting' }));
  try {
    await s.azure.network.deleteVnet(vnetNameOf(cur.id));
  } catch (e) {
    // A port made meanwhile holds a subnet: Azure keeps the virtual network, and so does the record.
    await repo(s).update(PK, cur.id, (n) => (n.state === 'deleting' ? { ...n, state: 'active' } : undefined));
    if (inUseOnAzure(e)) throw networkInUse(cur.id);
    throw e;
  }
  // No subnet joins a deleting network, so the record read now is the one deleted.
  const last = await repo(s).get(PK, cur.id);
  if (last && (await repo(s).delete(PK, cur.id))) {
    await networkLedger(s).release(last.value.project_id, { network: 1, subnet: last.value.subnets.length });
  }
}

// ---- subnets ----

const SUBNET_CREATE = [
  'network_id',
  'name',
  'description',
  'cidr',
  'ip_version',
  'gateway_ip',
  'allocation_pools',
  'dns_nameservers',
  'host_routes',
  'enable_dhcp',
  'ipv6_ra_mode',
  'ipv6_address_mode',
  'subnetpool_id',
  'prefixlen',
  'use_default_subnetpool',
  'project_id',
  'tenant_id',
  'service_types',
  'segment_id',
];

/** The smallest subnet Azure makes is a /29 (three usable addresses after its five reserved). */
const AZURE_MIN_PREFIX = 29;

interface Pool {
  start: bigint;
  end: bigint;
  text: string;
}

const sameAsNull = (x: unknown) => x === undefined || x === null;
const emptyList = (x: unknown) => x === undefined || (Array.isArray(x) && x.length === 0);

/** The subnet a body describes, checked as Neutron's IPAM checks it and narrowed to Azure's rules. */
function subnetFromBody(body: Body): Omit<ProjectSubnet, 'id' | 'created_at' | 'updated_at' | 'state'> {
  checkKeys(body, SUBNET_CREATE);
  checkStrings(body, ['name', 'description']);
  if (body.ip_version === undefined) throw badRequest("Failed to parse request. Required attribute 'ip_version' not specified");
  if (body.ip_version !== 4 && body.ip_version !== 6) throw invalid('ip_version', `${JSON.stringify(body.ip_version)} is not in [4, 6]`);
  if (body.ip_version === 6) throw badRequest('Invalid input for operation: IPv6 subnets are not supported: Jacket makes IPv4 subnets on Azure (its NICs are IPv4 only).');
  if (!sameAsNull(body.subnetpool_id) || body.use_default_subnetpool === true || body.prefixlen !== undefined) {
    throw badRequest('Invalid input for operation: subnet pools are not supported (the subnetpool extension is not offered): give a cidr.');
  }
  if (body.cidr === undefined) throw badRequest('Bad subnets request: a cidr must be specified in the absence of a subnet pool.');
  if (typeof body.cidr !== 'string') throw invalid('cidr', `'${String(body.cidr)}' is not a valid IP subnet`);
  const raw = body.cidr.trim();
  const [addr, len] = raw.split('/');
  const asIp = ipv4ToInt(addr ?? '');
  if (asIp === undefined || len === undefined || !/^\d{1,2}$/.test(len) || Number(len) > 32) throw invalid('cidr', `'${raw}' is not a valid IP subnet`);
  const prefix = Number(len);
  const c = parseCidr(`${formatIp(4, (asIp >> BigInt(32 - prefix)) << BigInt(32 - prefix))}/${prefix}`)!;
  const cidr = `${formatIp(4, c.network)}/${c.prefix}`;
  if (cidr !== raw) throw invalid('cidr', `'${raw}' isn't a recommended IP subnet. '${cidr}' is recommended`);
  if (prefix > AZURE_MIN_PREFIX) throw badRequest(`Invalid input for operation: Azure's smallest subnet is a /29 (it reserves five addresses of each): ${cidr} is too small.`);
  if (prefix < 8) throw badRequest(`Invalid input for operation: Azure's largest virtual network address space is a /8: ${cidr} is too large.`);
  if (body.enable_dhcp === false) throw badRequest('Azure serves DHCP on every subnet: enable_dhcp cannot be false.');
  if (!sameAsNull(body.ipv6_ra_mode) || !sameAsNull(body.ipv6_address_mode)) throw badRequest('Invalid input for operation: ipv6_ra_mode and ipv6_address_mode are set only on IPv6 subnets.');
  if (!emptyList(body.dns_nameservers)) {
    throw badRequest('Azure sets DNS servers per virtual network or NIC, not per subnet: dns_nameservers cannot be set (VMs use Azure-provided DNS).');
  }
  if (!emptyList(body.host_routes)) throw badRequest('Azure routes through route tables, not DHCP host routes: host_routes cannot be set.');
  if (!emptyList(body.service_types) || !sameAsNull(body.segment_id)) throw badRequest('Invalid input for operation: service_types and segment_id are not supported.');

  // Azure's gateway is the subnet's first host address whatever Neutron says; the first four
  // addresses and the last are Azure's (network, gateway, two for DNS; broadcast).
  const firstHost = c.network + 1n;
  const gateway = formatIp(4, firstHost);
  if (body.gateway_ip !== undefined && body.gateway_ip !== gateway) {
    if (body.gateway_ip === null) throw badRequest(`Invalid input for operation: Azure routes every subnet through its first host address: gateway_ip cannot be null (it is ${gateway}).`);
    if (typeof body.gateway_ip !== 'string' || ipv4ToInt(body.gateway_ip) === undefined) throw invalid('gateway_ip', `'${String(body.gateway_ip)}' is not a valid IP address`);
    throw badRequest(`Invalid input for operation: Azure's gateway of subnet ${cidr} is always its first host address ${gateway}: gateway_ip cannot be ${body.gateway_ip}.`);
  }
  const reservedEnd = c.network + 3n;
  const usableStart = c.network + 4n;
  const usableEnd = c.last - 1n;
  let pools: Pool[];
  if (body.allocation_pools === undefined) {
    pools = [{ start: usableStart, end: usableEnd, text: '' }];
  } else {
    if (!Array.isArray(body.allocation_pools)) throw invalid('allocation_pools', `Invalid data format for IP pool: '${JSON.stringify(body.allocation_pools)}'`);
    pools = (body.allocation_pools as unknown[]).map((p) => {
      const o = p as { start?: unknown; end?: unknown };
      if (!o || typeof o !== 'object' || Object.keys(o).some((k) => k !== 'start' && k !== 'end') || typeof o.start !== 'string' || typeof o.end !== 'string') {
        throw invalid('allocation_pools', `Invalid data format for IP pool: '${JSON.stringify(p)}'`);
      }
      const start = ipv4ToInt(o.start);
      const end = ipv4ToInt(o.end);
      if (start === undefined || end === undefined || start > end) throw badRequest(`The allocation pool ${o.start}-${o.end} is not valid.`);
      return { start, end, text: `${o.start}-${o.end}` };
    });
    for (const p of pools) {
      if (p.start < c.network || p.end > c.last) throw badRequest(`The allocation pool ${p.text} spans beyond the subnet cidr ${cidr}.`);
      if (p.start <= reservedEnd || p.end > usableEnd) {
        throw badRequest(
          `Invalid input for operation: The allocation pool ${p.text} includes addresses Azure reserves in subnet ${cidr} (${formatIp(4, c.network)}-${formatIp(4, reservedEnd)} and ${formatIp(4, c.last)}): pools lie within ${formatIp(4, usableStart)}-${formatIp(4, usableEnd)}.`,
        );
      }
    }
    const sorted = [...pools].sort((a, b) => (a.start < b.start ? -1 : 1));
    for (let i = 1; i < sorted.length; i++) {
      if (sorted[i].start <= sorted[i - 1].end)
        throw neutronError(409, 'OverlappingAllocationPools', `Found overlapping allocation pools: ${sorted[i - 1].text} and ${sorted[i].text} for subnet ${cidr}.`);
    }
  }
  return {
    name: (body.name as string | undefined) ?? '',
    description: (body.description as string | undefined) ?? '',
    cidr,
    gateway_ip: gateway,
    allocation_pools: pools.map((p) => ({ start: formatIp(4, p.start), end: formatIp(4, p.end) })),
  };
}

function overlaps(a: string, b: string): boolean {
  const x = parseCidr(a)!;
  const y = parseCidr(b)!;
  return x.network <= y.last && y.network <= x.last;
}

/** POST /subnets: on a network of the caller's project (admins: any). */
export async function createSubnet(s: Services, auth: AuthContext, body: Body): Promise<{ network: ProjectNetworkRecord; subnet: ProjectSubnet }> {
  const fields = subnetFromBody(body);
  if (!isUuid(body.network_id)) throw invalid('network_id', `'${String(body.network_id)}' is not a valid UUID`);
  const net = await changeable(s, auth, body.network_id, 'create_subnet');
  if (net.state !== 'active') throw networkNotFound(net.id);
  const id = randomUUID();
  await reserveNetwork(s, net.project_id, id, { subnet: 1 });
  const t = neutronTime();
  const subnet: ProjectSubnet = { id, ...fields, state: 'active', created_at: t, updated_at: t };
  let stored: ProjectNetworkRecord | undefined;
  try {
    stored = (
      await repo(s).update(PK, net.id, (n) => {
        if (n.state !== 'active') throw networkNotFound(n.id);
        if (n.subnets.some((x) => overlaps(x.cidr, subnet.cidr))) {
          throw badRequest(`Invalid input for operation: Requested subnet with cidr: ${subnet.cidr} for network: ${n.id} overlaps with another subnet.`);
        }
        return { ...n, subnets: [...n.subnets, subnet], updated_at: t };
      })
    )?.value;
    if (!stored) throw networkNotFound(net.id);
  } catch (e) {
    await networkLedger(s).rollback(net.project_id, [id]);
    throw e;
  }
  try {
    await syncVnet(s, net.id);
  } catch (e) {
    // Azure refused (or failed): the subnet leaves the record again, and the quota its hold.
    await repo(s).update(PK, net.id, (n) => ({ ...n, subnets: n.subnets.filter((x) => x.id !== id) }));
    await networkLedger(s).rollback(net.project_id, [id]);
    const f = azureFailure(e);
    if (f.kind === 'client') throw badRequest(`Invalid input for operation: Azure refused subnet ${subnet.cidr} (${f.code}): ${f.message}`);
    throw e;
  }
  await networkLedger(s).commit(net.project_id, [id]);
  return { network: stored, subnet };
}

/** The project network holding subnet `id` among those the caller sees, or undefined. */
export async function findProjectSubnet(s: Services, auth: AuthContext, id: string): Promise<{ network: ProjectNetworkRecord; subnet: ProjectSubnet } | undefined> {
  const want = id.toLowerCase();
  for (const n of await listProjectNetworks(s, { projectId: auth.projectId ?? '', admin: isAdmin(auth) })) {
    const subnet = n.subnets.find((x) => x.id === want);
    if (subnet) return { network: n, subnet };
  }
  return undefined;
}

async function changeableSubnet(s: Services, auth: AuthContext, id: string, action: string): Promise<{ network: ProjectNetworkRecord; subnet: ProjectSubnet }> {
  const found = await findProjectSubnet(s, auth, id);
  if (!found) throw subnetNotFound(id);
  if (!isAdmin(auth) && found.network.project_id !== auth.projectId) throw policyRefused(`rule:${action}`);
  return found;
}

/** PUT /subnets/{id}: name and description (the rest is Azure's or fixed at create). */
export async function updateSubnet(s: Services, auth: AuthContext, id: string, body: Body): Promise<{ network: ProjectNetworkRecord; subnet: ProjectSubnet }> {
  checkKeys(body, ['name', 'description', 'gateway_ip', 'allocation_pools', 'dns_nameservers', 'host_routes', 'enable_dhcp']);
  checkStrings(body, ['name', 'description']);
  const changed = ['gateway_ip', 'allocation_pools', 'dns_nameservers', 'host_routes', 'enable_dhcp'].filter((k) => body[k] !== undefined);
  if (changed.length) throw badRequest(`Azure fixes a subnet's addressing when it is made: ${changed.join(', ')} cannot be changed here (make a new subnet).`);
  const { network, subnet } = await changeableSubnet(s, auth, id, 'update_subnet');
  let out: ProjectSubnet | undefined;
  const next = await repo(s).update(PK, network.id, (n) => {
    const x = n.subnets.find((y) => y.id === subnet.id);
    if (!x) return undefined;
    out = {
      ...x,
      ...(body.name !== undefined ? { name: body.name as string } : {}),
      ...(body.description !== undefined ? { description: body.description as string } : {}),
      updated_at: neutronTime(),
    };
    return { ...n, subnets: n.subnets.map((y) => (y.id === subnet.id ? out! : y)) };
  });
  if (!next || !out) throw subnetNotFound(id);
  return { network: next.value, subnet: out };
}

/** DELETE /subnets/{id}: refused while a port has an address from it or a router an interface on it. */
export async function deleteSubnet(s: Services, auth: AuthContext, id: string): Promise<void> {
  const { network, subnet } = await changeableSubnet(s, auth, id, 'delete_subnet');
  const ports = await portStore(s).listAll({ network_id: [network.id] }, 1000);
  if (ports.some((p) => p.fixed_ips.some((f) => f.subnet_id === subnet.id))) throw subnetInUse(subnet.id);
  if (await routerOn(s, [subnet.id])) throw subnetInUse(subnet.id);
  const mark = (state: ProjectSubnet['state']) => (n: ProjectNetworkRecord) => ({ ...n, subnets: n.subnets.map((x) => (x.id === subnet.id ? { ...x, state } : x)) });
  await repo(s).update(PK, network.id, mark('deleting'));
  try {
    await syncVnet(s, network.id);
  } catch (e) {
    await repo(s).update(PK, network.id, mark('active'));
    if (inUseOnAzure(e)) throw subnetInUse(subnet.id);
    throw e;
  }
  let removed = false;
  await repo(s).update(PK, network.id, (n) => {
    // A network being deleted takes its subnets (and gives their quota back) itself.
    removed = n.state === 'active' && n.subnets.some((x) => x.id === subnet.id);
    return removed ? { ...n, subnets: n.subnets.filter((x) => x.id !== subnet.id), updated_at: neutronTime() } : undefined;
  });
  if (removed) await networkLedger(s).release(network.project_id, { subnet: 1 });
}
