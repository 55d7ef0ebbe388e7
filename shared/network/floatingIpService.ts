// Floating IPs (Neutron's l3 floatingips) on Azure public IPs (issue 13): a floating IP is a Standard,
// static IPv4 public IP `fip-<id>` in Jacket's resource group, tagged jacket=floating-ip with its id and
// project; associating it to a port puts it on the primary IP configuration of the port's NIC (Azure
// changes that on a running VM). The record (table `floatingips`, one partition: a project has tens at
// most) is what the API shows; the server's addresses show it through Nova's network-changed event
// (noteFloatingIp, the server record's nic.floating).
//
// Order of writes, so nothing is lost or leaked:
//   create     quota reserved under the new id -> public IP -> record -> quota committed (a crash
//              between leaves a tagged public IP no record owns, which the network sweep removes);
//   associate  the port's claim row (one floating IP per port, exact under races) -> the record says
//              so -> Azure -> the server's addresses; Azure refusing undoes the record and the claim;
//   dissociate Azure (only if the NIC still carries this public IP) -> record -> claim -> addresses;
//   delete     dissociate -> public IP -> record -> quota released.
// A server's delete takes its NICs (and so the association) with it; portsGone clears the records of
// its ports first, as Neutron disassociates a floating IP whose port goes.
import { randomUUID } from 'node:crypto';
import type { Services } from '../services';
import { azureFailure } from '../azure/errors';
import { AlreadyExistsError } from '../store/tables';
import { noteFloatingIp } from '../compute/servers/model';
import { networkCatalog, type NetworkDef } from './catalog';
import { badRequest, isUuid, neutronError, neutronTime } from './common';
import { portStore, type PortRecord } from './ports';
import { networkLedger, reserveNetwork } from './quotas';
import { claimRepo, fipRepo, fipTags, getFloatingIp, listFloatingIps, publicIpNameOf, PK, CLAIMS, type FloatingIpRecord } from './floatingIpStore';

export const fipNotFound = (id: string) => neutronError(404, 'FloatingIPNotFound', `Floating IP ${id} could not be found`);
const portNotFound = (id: string) => neutronError(404, 'PortNotFound', `Port ${id} could not be found.`);
const fipBadRequest = (msg: string) => badRequest(`Bad floatingip request: ${msg}.`);

/** The external network a floating IP comes from, or Neutron's answer. */
function externalNetwork(s: Services, id: unknown): NetworkDef {
  if (!isUuid(id)) throw badRequest(`Invalid input for floating_network_id. Reason: '${String(id)}' is not a valid UUID.`);
  const net = networkCatalog(s.config).networks.find((n) => n.id === id.toLowerCase());
  if (!net) throw neutronError(404, 'NetworkNotFound', `Network ${id} could not be found.`);
  if (!net['router:external']) throw fipBadRequest(`Network ${id} is not a valid external network`);
  return net;
}

/** The NIC name of an Azure NIC id. */
const nicName = (azureNicId: string) => azureNicId.split('/').pop() ?? '';

/** The port a floating IP is to go on, checked as Neutron's _get_assoc_data does. */
async function targetPort(s: Services, projectId: string, portId: unknown, fixedIp: unknown): Promise<{ port: PortRecord; fixed: string }> {
  if (!isUuid(portId)) throw badRequest(`Invalid input for port_id. Reason: '${String(portId)}' is not a valid UUID.`);
  const port = await portStore(s).get(projectId, portId.toLowerCase());
  if (!port) throw portNotFound(portId);
  const v4 = port.fixed_ips.filter((f) => !f.ip_address.includes(':'));
  if (fixedIp !== undefined && fixedIp !== null) {
    if (typeof fixedIp !== 'string' || !v4.some((f) => f.ip_address === fixedIp)) throw fipBadRequest(`Port ${port.id} does not have fixed ip ${String(fixedIp)}`);
  }
  const fixed = typeof fixedIp === 'string' ? fixedIp : v4[0]?.ip_address;
  if (!fixed) throw fipBadRequest(`No IPv4 addresses found on port ${port.id}`);
  // The public IP goes on the NIC's primary IP configuration (its first fixed IP); the port's claim is
  // one floating IP, so a port's other addresses take none.
  if (fixed !== v4[0]?.ip_address) throw fipBadRequest(`Jacket puts a floating IP on a port's first fixed IP only (${v4[0]?.ip_address}), the Azure network interface's primary IP configuration.`);
  if (!port.azureNicId) throw neutronError(409, 'Conflict', `Port ${port.id} has no Azure network interface yet (its server is being built): associate the floating IP when the server is ACTIVE.`);
  return { port, fixed };
}

/** Claims `portId` for `fipId` (idempotent for the same floating IP); Neutron's 409 when another has it. */
async function claimPort(s: Services, fip: FloatingIpRecord, port: PortRecord, fixed: string): Promise<void> {
  try {
    await claimRepo(s).create(CLAIMS, port.id, { floatingip_id: fip.id });
  } catch (e) {
    if (!(e instanceof AlreadyExistsError)) throw e;
    const holder = await claimRepo(s).get(CLAIMS, port.id);
    if (holder && holder.value.floatingip_id !== fip.id) {
      const other = (await getFloatingIp(s, holder.value.floatingip_id))?.value;
      throw neutronError(
        409,
        'FloatingIPPortAlreadyAssociated',
        `Cannot associate floating IP ${other?.floating_ip_address ?? ''} (${holder.value.floatingip_id}) with port ${port.id} using fixed IP ${fixed}, as that fixed IP already has a floating IP on external network ${fip.floating_network_id}.`,
      );
    }
  }
}

async function unclaimPort(s: Services, portId: string, fipId: string): Promise<void> {
  const holder = await claimRepo(s).get(CLAIMS, portId);
  if (holder && holder.value.floatingip_id === fipId) await claimRepo(s).delete(CLAIMS, portId, holder.etag);
}

async function associate(s: Services, fip: FloatingIpRecord, port: PortRecord, fixed: string): Promise<FloatingIpRecord> {
  await claimPort(s, fip, port, fixed);
  const stored = await fipRepo(s).update(PK, fip.id, (f) => ({ ...f, port_id: port.id, fixed_ip_address: fixed, device_id: port.device_id || null, status: 'ACTIVE', updated_at: neutronTime() }));
  if (!stored) {
    await unclaimPort(s, port.id, fip.id);
    throw fipNotFound(fip.id);
  }
  try {
    await s.azure.network.setNicPublicIp(nicName(port.azureNicId!), fip.azure_id);
  } catch (e) {
    await fipRepo(s).update(PK, fip.id, (f) => (f.port_id === port.id ? { ...f, port_id: null, fixed_ip_address: null, device_id: null, status: 'DOWN' } : undefined));
    await unclaimPort(s, port.id, fip.id);
    const f = azureFailure(e);
    if (f.kind === 'client') throw fipBadRequest(`Azure refused to put the public IP on the port's network interface (${f.code}): ${f.message}`);
    throw e;
  }
  if (port.device_id) await noteFloatingIp(s, port.device_id, port.id, fip.floating_ip_address);
  return stored.value;
}

async function dissociate(s: Services, fip: FloatingIpRecord): Promise<FloatingIpRecord> {
  if (!fip.port_id) return fip;
  const portId = fip.port_id;
  const port = await portStore(s).get(fip.project_id, portId);
  if (port?.azureNicId) await s.azure.network.unsetNicPublicIp(nicName(port.azureNicId), fip.azure_id);
  const stored = await fipRepo(s).update(PK, fip.id, (f) =>
    f.port_id === portId ? { ...f, port_id: null, fixed_ip_address: null, device_id: null, status: 'DOWN', updated_at: neutronTime() } : undefined,
  );
  await unclaimPort(s, portId, fip.id);
  if (fip.device_id) await noteFloatingIp(s, fip.device_id, portId, null);
  return stored?.value ?? { ...fip, port_id: null, fixed_ip_address: null, device_id: null, status: 'DOWN' };
}

const CREATE_KEYS = ['floating_network_id', 'port_id', 'fixed_ip_address', 'floating_ip_address', 'subnet_id', 'description', 'project_id', 'tenant_id'];

/** POST /floatingips. */
export async function createFloatingIp(s: Services, projectId: string, body: Record<string, unknown>): Promise<FloatingIpRecord> {
  for (const k of Object.keys(body)) if (!CREATE_KEYS.includes(k)) throw badRequest(`Unrecognized attribute(s) '${k}'`);
  const net = externalNetwork(s, body.floating_network_id);
  if (body.subnet_id !== undefined && body.subnet_id !== null && body.subnet_id !== net.subnet.id) throw fipBadRequest(`Subnet ${String(body.subnet_id)} is not on external network ${net.id}`);
  if (body.floating_ip_address !== undefined && body.floating_ip_address !== null) {
    throw fipBadRequest('Azure assigns a public IP address itself: floating_ip_address cannot be chosen');
  }
  const description = body.description ?? '';
  if (typeof description !== 'string' || description.length > 255) throw badRequest(`Invalid input for description. Reason: '${String(description)}' is not a valid string.`);
  // The port is checked before anything is made (Neutron validates it in the same transaction).
  const target = body.port_id !== undefined && body.port_id !== null ? await targetPort(s, projectId, body.port_id, body.fixed_ip_address) : undefined;
  const id = randomUUID();
  await reserveNetwork(s, projectId, id, { floatingip: 1 });
  const ledger = networkLedger(s);
  let rec: FloatingIpRecord;
  try {
    const pip = await s.azure.network.putPublicIp(publicIpNameOf(id), fipTags({ id, project_id: projectId }));
    const t = neutronTime();
    rec = {
      id,
      project_id: projectId,
      floating_network_id: net.id,
      floating_ip_address: pip.address,
      port_id: null,
      fixed_ip_address: null,
      device_id: null,
      description,
      status: 'DOWN',
      created_at: t,
      updated_at: t,
      azure_id: pip.id,
    };
    await fipRepo(s).create(PK, id, rec);
  } catch (e) {
    await ledger.rollback(projectId, [id]);
    const f = azureFailure(e);
    if (f.kind === 'client') throw fipBadRequest(`Azure refused the public IP (${f.code}): ${f.message}`);
    throw e;
  }
  await ledger.commit(projectId, [id]);
  return target ? associate(s, rec, target.port, target.fixed) : rec;
}

/** The caller's floating IP (admins: any), or Neutron's 404. */
export async function ownFloatingIp(s: Services, id: string, projectId: string | undefined, admin: boolean): Promise<FloatingIpRecord> {
  const cur = await getFloatingIp(s, id);
  if (!cur || (!admin && cur.value.project_id !== projectId)) throw fipNotFound(id);
  return cur.value;
}

/** PUT /floatingips/{id}: port_id (null dissociates), fixed_ip_address, description. */
export async function updateFloatingIp(s: Services, fip: FloatingIpRecord, body: Record<string, unknown>): Promise<FloatingIpRecord> {
  for (const k of Object.keys(body)) if (!['port_id', 'fixed_ip_address', 'description'].includes(k)) throw badRequest(`Cannot update read-only attribute ${k}`);
  let cur = fip;
  if (body.description !== undefined) {
    if (typeof body.description !== 'string' || body.description.length > 255) throw badRequest(`Invalid input for description. Reason: '${String(body.description)}' is not a valid string.`);
    const d = body.description;
    cur = (await fipRepo(s).update(PK, fip.id, (f) => ({ ...f, description: d, updated_at: neutronTime() })))?.value ?? cur;
  }
  if (!('port_id' in body)) return cur;
  if (body.port_id === null) return dissociate(s, cur);
  const target = await targetPort(s, cur.project_id, body.port_id, body.fixed_ip_address);
  if (cur.port_id === target.port.id && cur.fixed_ip_address === target.fixed) return cur;
  // Moving to another port: off the old one first (Azure: one IP configuration per public IP).
  if (cur.port_id) cur = await dissociate(s, cur);
  return associate(s, cur, target.port, target.fixed);
}

/** DELETE /floatingips/{id}. */
export async function deleteFloatingIp(s: Services, fip: FloatingIpRecord): Promise<void> {
  await dissociate(s, fip);
  try {
    await s.azure.network.deletePublicIp(publicIpNameOf(fip.id));
  } catch (e) {
    const f = azureFailure(e);
    if (f.kind === 'client') throw neutronError(409, 'Conflict', `Azure refused to delete the public IP of floating IP ${fip.id} (${f.code}): ${f.message}`);
    throw e;
  }
  if (await fipRepo(s).delete(PK, fip.id)) await networkLedger(s).release(fip.project_id, { floatingip: 1 });
}

/**
 * A server's ports are going (its delete): the floating IPs on them are dissociated in the records, as
 * Neutron does when a port is deleted. Azure's side goes with the NICs. Called before the port records
 * are removed, so a retried delete finds them again.
 */
export async function portsGone(s: Services, projectId: string, portIds: string[]): Promise<void> {
  if (portIds.length === 0) return;
  for (const f of await listFloatingIps(s, projectId)) {
    if (!f.port_id || !portIds.includes(f.port_id)) continue;
    const portId = f.port_id;
    await fipRepo(s).update(PK, f.id, (v) => (v.port_id === portId ? { ...v, port_id: null, fixed_ip_address: null, device_id: null, status: 'DOWN', updated_at: neutronTime() } : undefined));
    await unclaimPort(s, portId, f.id);
  }
}
