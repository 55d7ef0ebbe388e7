// Ports a project makes through Neutron's API (POST /ports), as Azure NICs (issue 13): the NIC is
// `port-<port id>` in Jacket's resource group, tagged jacket=port with its id and project, on the
// network's subnet, with the port's security group as its NSG (one per NIC). It is made within the
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
import { ipv4ToInt, parseCidr, type NetworkDef } from './catalog';
import { allNetworks } from './projectNetworkStore';
import { badRequest, isUuid, neutronError, neutronTime } from './common';
import { portStore, type PortRecord } from './ports';
import { usableSecurityGroups } from './securityGroupStore';
import { networkLedger, reserveNetwork } from './quotas';

export const portNicName = (portId: string) => `port-${portId}`;
export const portTags = (p: Pick<PortRecord, 'id' | 'project_id'>) => ({ jacket: 'port', 'jacket-port-id': p.id, 'jacket-project-id': p.project_id });

const CREATE_KEYS = ['network_id', 'name', 'description', 'fixed_ips', 'security_groups', 'admin_state_up', 'port_security_enabled', 'project_id', 'tenant_id', 'device_id', 'device_owner'];
const invalid = (field: string, reason: string) => badRequest(`Invalid input for ${field}. Reason: ${reason}.`);

/** The internal network a port goes on, as the caller may see it. */
async function portNetwork(s: Services, auth: AuthContext, projectId: string, id: unknown): Promise<NetworkDef> {
  if (!isUuid(id)) throw invalid('network_id', `'${String(id)}' is not a valid UUID`);
  const net = (await allNetworks(s, { projectId, admin: isAdmin(auth) })).find((n) => n.id === id.toLowerCase());
  if (!net || !(net.shared || net.project_id === projectId || isAdmin(auth) || net['router:external'])) throw neutronError(404, 'NetworkNotFound', `Network ${id} could not be found.`);
  if (net['router:external']) throw badRequest(`Network ${net.id} is external (Azure's public addresses): a port goes on an internal network; use a floating IP for a public address.`);
  return net;
}

/** fixed_ips: at most one entry (an Azure NIC here has one IP configuration), its address in a pool. */
function fixedIp(net: NetworkDef, raw: unknown): string | undefined {
  if (raw === undefined) return undefined;
  if (!Array.isArray(raw)) throw invalid('fixed_ips', `Invalid data format for fixed IP: '${JSON.stringify(raw)}'`);
  if (raw.length === 0) throw badRequest('A port without an address is not supported by Azure: leave fixed_ips out or give one address.');
  if (raw.length > 1) throw badRequest('Azure gives this port one IP configuration: give at most one fixed IP.');
  const f = raw[0] as { ip_address?: unknown; subnet_id?: unknown };
  if (!f || typeof f !== 'object') throw invalid('fixed_ips', `Invalid data format for fixed IP: '${JSON.stringify(f)}'`);
  if (f.subnet_id !== undefined && f.subnet_id !== net.subnet.id)
    throw badRequest(`Invalid input for operation: Failed to create port on network ${net.id}, because fixed_ips included invalid subnet ${String(f.subnet_id)}.`);
  if (f.ip_address === undefined) return undefined;
  const n = typeof f.ip_address === 'string' ? ipv4ToInt(f.ip_address) : undefined;
  if (n === undefined || !parseCidr(net.subnet.cidr)) throw invalid('fixed_ips', `'${String(f.ip_address)}' is not a valid IP address`);
  const inPool = net.subnet.allocation_pools.some((p) => n >= ipv4ToInt(p.start)! && n <= ipv4ToInt(p.end)!);
  if (!inPool) throw badRequest(`IP address ${String(f.ip_address)} is not a valid IP for the specified subnet.`);
  return f.ip_address as string;
}

/** POST /ports. */
export async function createPort(s: Services, auth: AuthContext, projectId: string, body: Record<string, unknown>): Promise<PortRecord> {
  for (const k of Object.keys(body)) if (!CREATE_KEYS.includes(k)) throw badRequest(`Unrecognized attribute(s) '${k}'`);
  for (const k of ['name', 'description'] as const) {
    if (body[k] !== undefined && (typeof body[k] !== 'string' || (body[k] as string).length > 255)) throw invalid(k, `'${String(body[k])}' is not a valid string`);
  }
  if (body.port_security_enabled === false) throw badRequest('Azure filters every NIC through its network security group rules: port_security_enabled cannot be false.');
  if (body.admin_state_up === false) throw badRequest('Azure has no administratively-down NIC: admin_state_up cannot be false.');
  if ((body.device_id !== undefined && body.device_id !== '') || (body.device_owner !== undefined && body.device_owner !== '')) {
    throw badRequest('A port is bound to a server by booting the server on it (server create --port), not by setting device_id.');
  }
  const net = await portNetwork(s, auth, projectId, body.network_id);
  const ip = fixedIp(net, body.fixed_ips);
  const store = portStore(s);
  if (ip && (await store.listProject(projectId, { network_id: [net.id] })).some((p) => p.fixed_ips.some((f) => f.ip_address === ip))) {
    throw neutronError(409, 'IpAddressAlreadyAllocated', `IP address ${ip} already allocated in subnet ${net.subnet.id}`);
  }
  // Security groups: the named one (a NIC carries one NSG), else the project's `default` as Neutron
  // (made now if the project has none: usableSecurityGroups). The NIC joins the group's ASG too.
  const groups = await usableSecurityGroups(s, { ...auth, projectId } as AuthContext);
  let sgIds: string[];
  if (body.security_groups !== undefined) {
    if (!Array.isArray(body.security_groups) || body.security_groups.some((g) => typeof g !== 'string')) throw invalid('security_groups', `'${JSON.stringify(body.security_groups)}' is not a list`);
    sgIds = [...new Set((body.security_groups as string[]).map((g) => g.toLowerCase()))];
    if (sgIds.length > 1) throw badRequest('A port on Azure takes one security group (its NIC carries one network security group): give only one.');
    for (const id of sgIds) if (!groups.some((g) => g.id === id)) throw neutronError(404, 'SecurityGroupNotFound', `Security group ${id} does not exist`);
  } else {
    const dflt = groups.find((g) => g.name === 'default' && g.project_id === projectId) ?? groups.find((g) => g.name === 'default' && !g.project_id);
    sgIds = dflt ? [dflt.id] : [];
  }
  const sg = groups.find((g) => g.id === sgIds[0]);
  const id = randomUUID();
  const name = portNicName(id);
  // The port quota is held before Azure is asked (racing creates cannot pass it together), committed
  // once the record exists, dropped if the NIC is refused.
  await reserveNetwork(s, projectId, id, { port: 1 });
  let made: { id: string; ip?: string; mac?: string };
  try {
    made = await s.azure.network.putPortNic(
      {
        name,
        subnetId: s.azure.vms.subnetId(net.azure),
        ...(sg ? { nsgId: s.azure.vms.nsgId(sg.azure) } : {}),
        ...(sg?.azure.asg ? { asgIds: [s.azure.vms.asgId(sg.azure.asg)] } : {}),
        ...(ip ? { fixedIp: ip } : {}),
      },
      portTags({ id, project_id: projectId }),
    );
  } catch (e) {
    const f = azureFailure(e);
    await networkLedger(s).rollback(projectId, [id]);
    if (f.code === 'PrivateIPAddressInUse') throw neutronError(409, 'IpAddressAlreadyAllocated', `IP address ${ip} already allocated in subnet ${net.subnet.id}`);
    if (f.code === 'SubnetIsFull') throw neutronError(409, 'IpAddressGenerationFailure', `No more IP addresses available on network ${net.id}.`);
    if (f.kind === 'client') throw badRequest(`Azure refused the port's network interface (${f.code}): ${f.message}`);
    throw e;
  }
  const now = neutronTime();
  const rec: PortRecord = {
    id,
    project_id: projectId,
    name: (body.name as string | undefined) ?? '',
    description: (body.description as string | undefined) ?? '',
    network_id: net.id,
    device_id: '',
    device_owner: '',
    mac_address: (made.mac ?? '').toLowerCase().replace(/-/g, ':'),
    fixed_ips: made.ip ? [{ subnet_id: net.subnet.id, ip_address: made.ip }] : [],
    security_groups: sgIds,
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

/** PUT /ports/{id}: name and description (the rest of a NIC changes only with its VM deallocated: not done). */
export async function updatePort(s: Services, port: PortRecord, body: Record<string, unknown>): Promise<PortRecord> {
  for (const k of Object.keys(body)) {
    if (!['name', 'description'].includes(k)) throw badRequest(`Updating ${k} of a port is not supported by Jacket: an Azure NIC's addresses and security group change only with its VM deallocated.`);
    if (typeof body[k] !== 'string' || (body[k] as string).length > 255) throw invalid(k, `'${String(body[k])}' is not a valid string`);
  }
  const next: PortRecord = { ...port, ...(body as Partial<PortRecord>), updated_at: neutronTime() };
  await portStore(s).put(next);
  return next;
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
}
