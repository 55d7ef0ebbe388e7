// Ports a project makes through Neutron's API (POST /ports), as Azure NICs (issue 13): the NIC is
// `port-<port id>` in Jacket's resource group, tagged jacket=port with its id and project, on the
// network's subnet, with its security groups' NSG (one group's own, or the combination of several:
// securityGroupSets.ts) and their ASGs. It is made within the
// request (Neutron answers with the MAC and address). A server booted on it (`server create --port`)
// takes the NIC as it is and leaves it when deleted (the VM's deleteOption for it is Detach), as Nova
// keeps a port the user made; the port then shows no device again.
//
// Order of writes: NIC, then record (a crash between leaves a tagged NIC no record owns, which the NIC
// sweep removes after two passes); delete: NIC, then record.
import { randomUUID } from 'node:crypto';
import type { AuthContext } from '../api/policy';
import { isAdmin } from '../api/policy';
import type { Services } from '../services';
import { azureFailure } from '../azure/errors';
import { ipv4ToInt, normalizeCidr, parseCidr, type NetworkDef } from './catalog';
import { allNetworks } from './projectNetworkStore';
import { badRequest, isUuid, neutronError, neutronTime } from './common';
import { portForwards, portStore, type AddressPair, type PortRecord } from './ports';
import { usableSecurityGroups } from './securityGroupStore';
import { checkSet, dropIfUnused, groupSetId, nicSecurity } from './securityGroupSets';
import { ApiError } from '../http/errors';
import { getServerAny, updateServer } from '../compute/servers/model';
import { networkLedger, reserveNetwork } from './quotas';
import type { SecurityGroupDef } from './catalog';

export const portNicName = (portId: string) => `port-${portId}`;
export const portTags = (p: Pick<PortRecord, 'id' | 'project_id'>) => ({ jacket: 'port', 'jacket-port-id': p.id, 'jacket-project-id': p.project_id });

const CREATE_KEYS = [
  'network_id',
  'name',
  'description',
  'fixed_ips',
  'security_groups',
  'allowed_address_pairs',
  'admin_state_up',
  'port_security_enabled',
  'project_id',
  'tenant_id',
  'device_id',
  'device_owner',
];
const UPDATE_KEYS = ['name', 'description', 'security_groups', 'allowed_address_pairs', 'port_security_enabled'];
/** Neutron's max_allowed_address_pair default. */
const MAX_ADDRESS_PAIRS = 10;
const invalid = (field: string, reason: string) => badRequest(`Invalid input for ${field}. Reason: ${reason}.`);

/** The internal network a port goes on, as the caller may see it. */
async function portNetwork(s: Services, auth: AuthContext, projectId: string, id: unknown): Promise<NetworkDef> {
  if (!isUuid(id)) throw invalid('network_id', `'${String(id)}' is not a valid UUID`);
  const net = (await allNetworks(s, { projectId, admin: isAdmin(auth) })).find((n) => n.id === id.toLowerCase());
  if (!net || !(net.shared || net.project_id === projectId || isAdmin(auth) || net['router:external'])) throw neutronError(404, 'NetworkNotFound', `Network ${id} could not be found.`);
  if (net['router:external']) throw badRequest(`Network ${net.id} is external (Azure's public addresses): a port goes on an internal network; use a floating IP for a public address.`);
  return net;
}

/** Azure's limit of IP configurations on one NIC. */
const MAX_NIC_IPS = 256;

/**
 * fixed_ips: one Azure IP configuration each (the first the NIC's primary), all on the network's
 * subnet (Azure's IP configurations of one NIC share its virtual network; Jacket keeps them on the
 * subnet its NICs use); each an address in a pool, or left to Azure (null).
 */
function fixedIps(net: NetworkDef, raw: unknown): (string | null)[] {
  if (raw === undefined) return [null];
  if (!Array.isArray(raw)) throw invalid('fixed_ips', `Invalid data format for fixed IP: '${JSON.stringify(raw)}'`);
  if (raw.length === 0) throw badRequest('A port without an address is not supported by Azure: leave fixed_ips out or give at least one.');
  if (raw.length > MAX_NIC_IPS) throw badRequest(`Azure gives a network interface at most ${MAX_NIC_IPS} IP configurations: give at most ${MAX_NIC_IPS} fixed IPs.`);
  const out: (string | null)[] = [];
  for (const entry of raw) {
    const f = entry as { ip_address?: unknown; subnet_id?: unknown };
    if (!f || typeof f !== 'object' || Array.isArray(f)) throw invalid('fixed_ips', `Invalid data format for fixed IP: '${JSON.stringify(f)}'`);
    if (f.subnet_id !== undefined && f.subnet_id !== net.subnet.id)
      throw badRequest(`Invalid input for operation: Failed to create port on network ${net.id}, because fixed_ips included invalid subnet ${String(f.subnet_id)}.`);
    if (f.ip_address === undefined) {
      out.push(null);
      continue;
    }
    const n = typeof f.ip_address === 'string' ? ipv4ToInt(f.ip_address) : undefined;
    if (n === undefined || !parseCidr(net.subnet.cidr)) throw invalid('fixed_ips', `'${String(f.ip_address)}' is not a valid IP address`);
    const inPool = net.subnet.allocation_pools.some((p) => n >= ipv4ToInt(p.start)! && n <= ipv4ToInt(p.end)!);
    if (!inPool) throw badRequest(`IP address ${String(f.ip_address)} is not a valid IP for the specified subnet.`);
    // neutron-lib's validate_fixed_ips
    if (out.includes(f.ip_address as string)) throw invalid('fixed_ips', `Duplicate IP address '${String(f.ip_address)}'`);
    out.push(f.ip_address as string);
  }
  return out;
}

/** port_security_enabled of a body (Neutron's convert_to_boolean), undefined when not given. */
function portSecurityOf(raw: unknown): boolean | undefined {
  if (raw === undefined || typeof raw === 'boolean') return raw;
  if (typeof raw === 'string' && ['true', 'false'].includes(raw.toLowerCase())) return raw.toLowerCase() === 'true';
  throw invalid('port_security_enabled', `'${String(raw)}' cannot be converted to boolean`);
}

/** An address pair's ip_address: an address or a CIDR in its canonical form, as neutron-lib's validators. */
function pairAddress(ip: unknown): string {
  const norm = typeof ip === 'string' ? normalizeCidr(ip) : undefined;
  if (typeof ip !== 'string' || !ip.includes('/')) {
    if (!norm) throw badRequest(`'${String(ip)}' is not a valid IP address`);
    return ip as string;
  }
  if (!norm) throw badRequest(`'${ip}' is not a valid IP subnet`);
  if (norm.cidr !== ip) throw badRequest(`'${ip}' isn't a recognized IP subnet cidr, '${norm.cidr}' is recommended`);
  return ip;
}

/**
 * allowed_address_pairs of a body, checked as neutron's allowed-address-pairs extension does (a list of
 * at most 10 pairs, ip_address required, mac_address optional: shown as the port's own MAC when left out,
 * which Azure gives the NIC only once a VM runs on it).
 */
function addressPairs(raw: unknown): AddressPair[] {
  if (raw === null) return [];
  if (!Array.isArray(raw)) throw badRequest('Allowed address pairs must be a list.');
  if (raw.length > MAX_ADDRESS_PAIRS) throw neutronError(400, 'AllowedAddressPairExhausted', `The number of allowed address pair exceeds the maximum ${MAX_ADDRESS_PAIRS}.`);
  const seen = new Set<string>();
  return raw.map((pair: unknown) => {
    if (!pair || typeof pair !== 'object' || Array.isArray(pair)) throw invalid('allowed_address_pairs', `'${JSON.stringify(pair)}' is not a dictionary`);
    const p = pair as Record<string, unknown>;
    let mac: string | undefined;
    if ('mac_address' in p) {
      if (typeof p.mac_address !== 'string' || !/^([0-9a-f]{2}[:-]){5}[0-9a-f]{2}$/i.test(p.mac_address)) throw badRequest(`'${String(p.mac_address)}' is not a valid MAC address`);
      mac = p.mac_address.toLowerCase().replace(/-/g, ':');
    }
    if (!('ip_address' in p)) throw neutronError(400, 'AllowedAddressPairsMissingIP', 'AllowedAddressPair must contain ip_address');
    const key = `${mac ?? ''}|${String(p.ip_address)}`;
    if (seen.has(key)) throw neutronError(400, 'DuplicateAddressPairInRequest', `Request contains duplicate address pair: mac_address ${mac ?? 'None'} ip_address ${String(p.ip_address)}.`);
    seen.add(key);
    const extra = Object.keys(p).filter((k) => k !== 'ip_address' && k !== 'mac_address');
    if (extra.length) throw badRequest(`Unrecognized attribute(s) '${extra.join(', ')}'`);
    return { ip_address: pairAddress(p.ip_address), ...(mac ? { mac_address: mac } : {}) };
  });
}

const PORT_SECURITY_FOR_GROUPS = () =>
  neutronError(400, 'PortSecurityAndIPRequiredForSecurityGroups', 'Port security must be enabled and port must have an IP address in order to use security groups.');
const PORT_SECURITY_FOR_PAIRS = () => neutronError(409, 'AddressPairAndPortSecurityRequired', 'Port Security must be enabled in order to have allowed address pairs on a port.');

/** POST /ports. */
export async function createPort(s: Services, auth: AuthContext, projectId: string, body: Record<string, unknown>): Promise<PortRecord> {
  for (const k of Object.keys(body)) if (!CREATE_KEYS.includes(k)) throw badRequest(`Unrecognized attribute(s) '${k}'`);
  for (const k of ['name', 'description'] as const) {
    if (body[k] !== undefined && (typeof body[k] !== 'string' || (body[k] as string).length > 255)) throw invalid(k, `'${String(body[k])}' is not a valid string`);
  }
  const portSecurity = portSecurityOf(body.port_security_enabled) ?? true;
  if (body.admin_state_up === false) throw badRequest('Azure has no administratively-down NIC: admin_state_up cannot be false.');
  if ((body.device_id !== undefined && body.device_id !== '') || (body.device_owner !== undefined && body.device_owner !== '')) {
    throw badRequest('A port is bound to a server by booting the server on it (server create --port), not by setting device_id.');
  }
  const net = await portNetwork(s, auth, projectId, body.network_id);
  const ips = fixedIps(net, body.fixed_ips);
  const [ip, ...secondary] = ips;
  const store = portStore(s);
  const asked = ips.filter((x): x is string => !!x);
  const taken = asked.length ? (await store.listProject(projectId, { network_id: [net.id] })).flatMap((p) => p.fixed_ips.map((f) => f.ip_address)).find((a) => asked.includes(a)) : undefined;
  if (taken) throw neutronError(409, 'IpAddressAlreadyAllocated', `IP address ${taken} already allocated in subnet ${net.subnet.id}`);
  // Security groups: the named ones (any number: their union, securityGroupSets.ts), else the project's
  // `default` as Neutron (made now if the project has none: usableSecurityGroups). The NIC joins every
  // group's ASG too.
  // Port security off (Neutron's port-security extension): no groups at all, no NSG on the NIC, and
  // Azure's IP forwarding on, so the NIC passes what Neutron's port would.
  const pairsAsked = body.allowed_address_pairs !== undefined ? addressPairs(body.allowed_address_pairs) : [];
  const groups = await usableSecurityGroups(s, { ...auth, projectId } as AuthContext);
  const sgIds = body.security_groups !== undefined ? requestedGroups(groups, body.security_groups) : portSecurity ? defaultGroup(groups, projectId) : [];
  if (!portSecurity && sgIds.length) throw PORT_SECURITY_FOR_GROUPS();
  if (!portSecurity && pairsAsked.length) throw PORT_SECURITY_FOR_PAIRS();
  const set = sgIds.map((g) => groups.find((x) => x.id === g)!);
  if (portSecurity) await checkSet(s, set);
  const id = randomUUID();
  const name = portNicName(id);
  // The port quota is held before Azure is asked (racing creates cannot pass it together), committed
  // once the record exists, dropped if the NIC is refused.
  await reserveNetwork(s, projectId, id, { port: 1 });
  let made: { id: string; ip?: string; ips: string[]; mac?: string };
  try {
    // A set of several groups (or none): its combination NSG is PUT first (whole: also its repair).
    const sec = portSecurity ? await nicSecurity(s, set, projectId) : { nsgId: undefined, asgIds: [] };
    made = await s.azure.network.putPortNic(
      {
        name,
        subnetId: s.azure.vms.subnetId(net.azure),
        ...(sec.nsgId ? { nsgId: sec.nsgId } : {}),
        ...(sec.asgIds.length ? { asgIds: sec.asgIds } : {}),
        ...(ip ? { fixedIp: ip } : {}),
        ...(secondary.length ? { secondaryIps: secondary } : {}),
        ...(portForwards({ port_security_enabled: portSecurity, allowed_address_pairs: pairsAsked }) ? { ipForwarding: true } : {}),
      },
      portTags({ id, project_id: projectId }),
    );
  } catch (e) {
    const f = azureFailure(e);
    await networkLedger(s).rollback(projectId, [id]);
    if (e instanceof ApiError) throw e;
    if (f.code === 'PrivateIPAddressInUse')
      throw neutronError(409, 'IpAddressAlreadyAllocated', `IP address ${asked.find((a) => f.message.includes(a)) ?? asked[0]} already allocated in subnet ${net.subnet.id}`);
    if (f.code === 'SubnetIsFull') throw neutronError(409, 'IpAddressGenerationFailure', `No more IP addresses available on network ${net.id}.`);
    if (f.kind === 'client') throw badRequest(`Azure refused the port's network interface (${f.code}): ${f.message}`);
    throw e;
  }
  const now = neutronTime();
  const mac = (made.mac ?? '').toLowerCase().replace(/-/g, ':');
  const rec: PortRecord = {
    id,
    project_id: projectId,
    name: (body.name as string | undefined) ?? '',
    description: (body.description as string | undefined) ?? '',
    network_id: net.id,
    device_id: '',
    device_owner: '',
    mac_address: mac,
    fixed_ips: made.ips.map((a) => ({ subnet_id: net.subnet.id, ip_address: a })),
    security_groups: sgIds,
    ...(pairsAsked.length ? { allowed_address_pairs: pairsAsked } : {}),
    ...(portSecurity ? {} : { port_security_enabled: false }),
    status: 'DOWN',
    azureNicId: made.id,
    user_made: true,
    created_at: now,
    updated_at: now,
  };
  await store.put(rec);
  await networkLedger(s).commit(projectId, [id]);
  return rec;
}

/** Neutron's security_groups of a port body: ids of groups the project may use (404 naming the first that is not). */
function requestedGroups(groups: SecurityGroupDef[], raw: unknown): string[] {
  if (!Array.isArray(raw) || raw.some((g) => typeof g !== 'string')) throw invalid('security_groups', `'${JSON.stringify(raw)}' is not a list`);
  const ids = [...new Set((raw as string[]).map((g) => g.toLowerCase()))];
  for (const id of ids) if (!groups.some((g) => g.id === id)) throw neutronError(404, 'SecurityGroupNotFound', `Security group ${id} does not exist`);
  return ids;
}

/** The project's `default` (its own, or the operator's mapped to it), as Neutron gives a port without groups. */
function defaultGroup(groups: SecurityGroupDef[], projectId: string): string[] {
  const dflt = groups.find((g) => g.name === 'default' && g.project_id === projectId) ?? groups.find((g) => g.name === 'default' && !g.project_id);
  return dflt ? [dflt.id] : [];
}

/** The Azure NIC of a port: a port the user made is `port-<id>`; a server's own port is the NIC the server record names. */
async function portNic(s: Services, port: PortRecord): Promise<string | undefined> {
  if (port.user_made) return portNicName(port.id);
  if (!port.device_id) return undefined;
  return (await getServerAny(s, port.device_id))?.value.nics.find((n) => n.port_id === port.id)?.nic_name;
}

/**
 * PUT /ports/{id}: name, description, and what filters the port (Azure changes a NIC's NSG, ASGs and IP
 * forwarding while its VM runs): security_groups (the new set's NSG and ASGs go on the NIC; a
 * combination no NIC holds any more is deleted), allowed_address_pairs and port_security_enabled,
 * checked together as Neutron's ML2 does. Addresses change only with the VM deallocated: not done.
 *
 * The record first, under its ETag (PortStore.change): what the body names replaces what the record
 * holds now, the rest stays as a racing write left it (a racing addSecurityGroup's group is not lost to
 * a stale copy). Then Azure follows the record: the NIC gets what the record holds, read again after
 * each change until a read finds what was applied, as add/removeSecurityGroup do (whichever request
 * wrote last, the NIC ends with the record's state).
 */
export async function updatePort(s: Services, auth: AuthContext, port: PortRecord, body: Record<string, unknown>): Promise<PortRecord> {
  for (const k of Object.keys(body)) {
    if (!UPDATE_KEYS.includes(k)) throw badRequest(`Updating ${k} of a port is not supported by Jacket: an Azure NIC's addresses change only with its VM deallocated.`);
    if (['name', 'description'].includes(k) && (typeof body[k] !== 'string' || (body[k] as string).length > 255)) throw invalid(k, `'${String(body[k])}' is not a valid string`);
  }
  const names = Object.fromEntries(['name', 'description'].filter((k) => body[k] !== undefined).map((k) => [k, body[k] as string]));
  const store = portStore(s);
  const gone = () => neutronError(404, 'PortNotFound', `Port ${port.id} could not be found.`);
  const filtering = ['security_groups', 'allowed_address_pairs', 'port_security_enabled'].some((k) => body[k] !== undefined);
  if (!filtering) {
    const next = await store.change(port.project_id, port.id, (p) => ({ ...p, ...names, updated_at: neutronTime() }));
    if (!next) throw gone();
    return next;
  }
  const portSecurityAsked = portSecurityOf(body.port_security_enabled);
  const pairsAsked = body.allowed_address_pairs !== undefined ? addressPairs(body.allowed_address_pairs) : undefined;
  const groups = await usableSecurityGroups(s, { ...auth, projectId: port.project_id } as AuthContext);
  const idsAsked = body.security_groups !== undefined ? requestedGroups(groups, body.security_groups) : undefined;
  const setOf = (ids: string[]) => ids.map((g) => groups.find((x) => x.id === g)).filter((g) => g !== undefined);
  // The record the body makes of the one held now, with Neutron's checks on the result.
  const updated = (p: PortRecord): PortRecord => {
    const portSecurity = portSecurityAsked ?? p.port_security_enabled !== false;
    const pairs = pairsAsked ?? p.allowed_address_pairs ?? [];
    const ids = idsAsked ?? p.security_groups;
    if (!portSecurity) {
      // Neutron: groups named with port security off are 400; groups the port keeps block turning it off (409).
      if (idsAsked && ids.length) throw PORT_SECURITY_FOR_GROUPS();
      if (ids.length) throw neutronError(409, 'PortSecurityPortHasSecurityGroup', 'Port has security group associated. Cannot disable port security or IP address until security group is removed.');
      if (pairs.length) throw PORT_SECURITY_FOR_PAIRS();
    }
    if (setOf(ids).length !== ids.length) throw badRequest(`Port ${port.id} holds a security group this project cannot use any more: name its groups.`);
    const next: PortRecord = { ...p, ...names, security_groups: ids, allowed_address_pairs: pairs, port_security_enabled: portSecurity, updated_at: neutronTime() };
    if (!pairs.length) delete next.allowed_address_pairs;
    if (portSecurity) delete next.port_security_enabled;
    return next;
  };
  // Refusals before any write: on the record as read (checked again on the one the write replaces).
  const planned = updated(port);
  if (planned.port_security_enabled !== false) await checkSet(s, setOf(planned.security_groups));
  const nic = await portNic(s, port);
  if (!nic) throw neutronError(409, 'PortInUse', `Port ${port.id} has no network interface yet (its server is being built): try again when it is ACTIVE.`);
  let before: PortRecord | undefined;
  const written = await store.change(port.project_id, port.id, (p) => {
    before = p;
    return updated(p);
  });
  if (!written || !before) throw gone();
  // Azure follows the record (read again after each change of the NIC, until it holds what was applied).
  const state = (p: Pick<PortRecord, 'security_groups' | 'port_security_enabled' | 'allowed_address_pairs'>) =>
    `${p.port_security_enabled !== false ? groupSetId(p.security_groups) : 'off'}|${portForwards(p)}`;
  const tried: string[][] = [];
  let applied: string | undefined;
  let held = written;
  for (let round = 0; round < 5; round++) {
    if (round > 0) held = (await store.get(port.project_id, port.id)) ?? held;
    if (state(held) === applied) break;
    try {
      if (held.port_security_enabled !== false) {
        const sec = await nicSecurity(s, setOf(held.security_groups), port.project_id);
        tried.push(held.security_groups);
        await s.azure.network.setNicNsg(nic, sec.nsgId, sec.asgIds, portForwards(held));
      } else {
        await s.azure.network.setNicNsg(nic, null, [], true);
      }
    } catch (e) {
      // A racing request may have dropped the combination this round put on (its set left already):
      // the next round reads the record again. Azure refusing the set itself is the answer.
      if (e instanceof ApiError || round === 4) throw e;
      continue;
    }
    applied = state(held);
  }
  if (port.device_id) await noteServerGroups(s, port.device_id, port.project_id, groups);
  // The sets this port left (and any a racing write made it pass through) go when nothing holds them.
  const left = [before.security_groups, ...tried].filter((ids, i, all) => groupSetId(ids) !== groupSetId(held.security_groups) && all.findIndex((x) => groupSetId(x) === groupSetId(ids)) === i);
  // Port security off: the NIC holds no NSG, so not even the set it keeps (none: the deny-all one).
  if (held.port_security_enabled === false) left.push(held.security_groups);
  for (const ids of left) await dropIfUnused(s, port.project_id, ids);
  return held;
}

/**
 * The server's groups as Nova shows them (from its ports, as Nova reads them from Neutron), after its
 * ports' groups changed. The server record keeps a copy for its views; every writer of it derives it
 * from the ports and reads the ports again after writing, writing once more if they changed meanwhile,
 * so of racing port updates and add/removeSecurityGroup the last to finish leaves the ports' groups.
 */
export async function noteServerGroups(s: Services, serverId: string, projectId: string, groups: SecurityGroupDef[]): Promise<void> {
  const derive = async () => {
    const ports = await portStore(s).listProject(projectId, { device_id: [serverId] });
    return [...new Set(ports.flatMap((p) => p.security_groups))];
  };
  const key = (ids: string[]) => [...ids].sort().join(',');
  let ids = await derive();
  for (let round = 0; round < 5; round++) {
    const shown = ids.map((id) => ({ id, name: groups.find((g) => g.id === id)?.name ?? id }));
    const cur = await getServerAny(s, serverId);
    if (!cur) return;
    if (key(cur.value.security_groups.map((g) => g.id)) !== key(ids)) await updateServer(s, cur, (v) => ({ ...v, security_groups: shown }));
    const again = await derive();
    if (key(again) === key(ids)) return;
    ids = again;
  }
}

/** DELETE /ports/{id}: a port a server uses cannot go (Neutron's PortInUse); a server's own port goes with it. */
export async function deletePort(s: Services, port: PortRecord): Promise<void> {
  if (port.device_id) throw neutronError(409, 'PortInUse', `Unable to complete operation on port ${port.id} for network ${port.network_id}. Port already has an attached device ${port.device_id}.`);
  if (!port.user_made) throw neutronError(409, 'PortInUse', `Port ${port.id} belongs to a server and goes with it.`);
  try {
    await s.azure.network.deletePortNic(portNicName(port.id));
  } catch (e) {
    const f = azureFailure(e);
    if (f.code === 'NicInUse') throw neutronError(409, 'PortInUse', `Unable to complete operation on port ${port.id} for network ${port.network_id}. Port already has an attached device.`);
    throw e;
  }
  await portStore(s).remove(port.project_id, port.id);
  await dropIfUnused(s, port.project_id, port.security_groups);
}
