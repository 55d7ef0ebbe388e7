/** Microsoft.Network/networkInterfaces: subnet IP allocation, NSG and public IP association, NicInUse. */
import { randomUUID, randomBytes } from 'node:crypto';
import { ArmError, notFound } from '../arm/errors';
import type { Ctx } from '../arm/http';
import { list, ok } from '../arm/http';
import { resourceId, sameId } from '../arm/ids';
import { newEtag, noContent, tagsOf } from '../arm/replies';
import type { Router } from '../arm/router';
import type { Emulator } from '../emulator';
import { T } from '../state';
import { findNsg, findPip, findSubnet, invalidReference, networkDelete, networkPut, refId } from './common';
import { firstFree, inCidr, ipToInt, isReserved } from './ipam';
import type { IpConfigRecord, NicRecord } from './model';
import { allocatePublicIp } from './publicIps';
import { ASG_LIMITS, findAsg } from './asgs';
import { ipConfigsInSubnet, renderNic } from './render';

const BASE = '/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Network/networkInterfaces';

function getNic(ctx: Ctx): NicRecord {
  const rg = ctx.emu.requireRg(ctx.params.rg);
  const n = ctx.emu.store.get<NicRecord>(T.nic, resourceId(ctx.emu.sub, rg, 'Microsoft.Network', 'networkInterfaces', ctx.params.name));
  if (!n) throw notFound('Microsoft.Network/networkInterfaces', ctx.params.name, rg);
  return n;
}

export function newMacAddress(): string {
  const b = randomBytes(3);
  return ['00', '0D', '3A', ...[...b].map((x) => x.toString(16).toUpperCase().padStart(2, '0'))].join('-');
}

function buildIpConfigs(ctx: Ctx, nicId: string, existing: NicRecord | undefined, raw: unknown): IpConfigRecord[] {
  const emu = ctx.emu;
  if (!Array.isArray(raw) || raw.length === 0) {
    throw new ArmError(400, 'NetworkInterfaceMustHaveAtLeastOneIpConfiguration', `Network interface ${nicId} must have at least one IP configuration.`);
  }
  const primaries = raw.filter((c: any) => c?.properties?.primary === true).length;
  if (primaries > 1) {
    throw new ArmError(400, 'NetworkInterfaceMustHaveOnePrimaryIpConfiguration', `Network interface ${nicId} must have exactly one primary IP configuration.`);
  }
  // Without an explicit primary, the first IP configuration is the primary one.
  const primaryIndex = primaries === 1 ? raw.findIndex((c: any) => c?.properties?.primary === true) : 0;
  const primarySubnet = refId((raw[primaryIndex] as any)?.properties?.subnet);
  const out: IpConfigRecord[] = [];
  raw.forEach((c: any, i: number) => {
    const name = c?.name;
    if (typeof name !== 'string' || !name) throw new ArmError(400, 'InvalidRequestFormat', `Cannot parse the request: ipConfigurations[${i}].name is required.`);
    const ipcId = `${nicId}/ipConfigurations/${name}`;
    const p = c.properties ?? {};
    // Secondary IP configurations live in the primary's subnet (Azure requires one virtual network).
    const subnetId = refId(p.subnet) ?? (i !== primaryIndex ? primarySubnet : undefined);
    if (!subnetId) throw new ArmError(400, 'SubnetIsRequired', `Subnet is required for IP configuration ${ipcId}.`);
    const found = findSubnet(emu, subnetId);
    if (!found) throw invalidReference(subnetId, nicId);
    const prefix = found.subnet.addressPrefix;
    const used = new Set(
      ipConfigsInSubnet(emu, found.subnet.id)
        .filter(({ nic }) => !sameId(nic.id, nicId))
        .map(({ ipc }) => ipc.privateIPAddress),
    );
    for (const o of out) used.add(o.privateIPAddress);
    const method: 'Static' | 'Dynamic' = p.privateIPAllocationMethod === 'Static' ? 'Static' : 'Dynamic';
    let ip: string | undefined;
    if (method === 'Static') {
      ip = p.privateIPAddress;
      if (typeof ip !== 'string' || ipToInt(ip) === undefined) {
        throw new ArmError(400, 'InvalidPrivateIPAddressFormat', `Private static IP address value ${ip} provided for ${ipcId} is not a valid IP address.`);
      }
      if (!inCidr(ip, prefix)) {
        throw new ArmError(
          400,
          'PrivateIPAddressNotInSubnet',
          `IP configuration ${ipcId} references the subnet ${found.subnet.id} and the private IP address ${ip} which is not in the address prefix ${prefix} of the subnet.`,
        );
      }
      if (isReserved(ip, prefix)) {
        throw new ArmError(400, 'PrivateIPAddressInReservedRange', `Private static IP address ${ip} falls within reserved IP range of subnet prefix ${prefix}.`);
      }
      if (used.has(ip)) {
        throw new ArmError(
          400,
          'PrivateIPAddressInUse',
          `IP configuration ${ipcId} is using the private IP address ${ip} which is already allocated to resource ${ipConfigsInSubnet(emu, found.subnet.id).find((x) => x.ipc.privateIPAddress === ip)?.ipc.id ?? 'another resource'}.`,
        );
      }
    } else {
      const prev = existing?.ipConfigurations.find((x) => x.name.toLowerCase() === name.toLowerCase() && sameId(x.subnetId, subnetId));
      ip = prev?.privateIPAddress ?? firstFree(prefix, used);
      if (!ip) throw new ArmError(400, 'SubnetIsFull', `Subnet ${found.subnet.name} with address prefix ${prefix} does not have enough capacity for 1 IP addresses.`);
    }
    const pipId = refId(p.publicIPAddress);
    if (pipId) {
      const pip = findPip(emu, pipId);
      if (!pip) throw invalidReference(pipId, nicId);
      if (pip.ipConfigurationId && !sameId(pip.ipConfigurationId, ipcId)) {
        throw new ArmError(400, 'PublicIPAddressInUse', `Resource ${pipId} is referenced by resource ${pip.ipConfigurationId}; it cannot also be used by ${ipcId}.`);
      }
    }
    const asgIds = ipConfigAsgs(ctx, nicId, ipcId, found.vnet.id, p.applicationSecurityGroups);
    out.push({
      ...(asgIds.length ? { applicationSecurityGroupIds: asgIds } : {}),
      id: ipcId,
      name,
      subnetId: found.subnet.id,
      privateIPAddress: ip,
      privateIPAllocationMethod: method,
      primary: i === primaryIndex,
      publicIPAddressId: pipId ? findPip(emu, pipId)!.id : undefined,
    });
  });
  // Azure: every IP configuration of a NIC names the same set of ASGs (seen in the wild, e.g.
  // Azure/azure-cli#21551: AllIpConfigurationsOnANicMustBelongToTheSameApplicationSecurityGroups).
  const set = (c: IpConfigRecord) => (c.applicationSecurityGroupIds ?? []).map((x) => x.toLowerCase()).sort();
  const odd = out.find((c) => set(c).join(',') !== set(out[0]).join(','));
  if (odd) {
    throw new ArmError(
      400,
      'AllIpConfigurationsOnANicMustBelongToTheSameApplicationSecurityGroups',
      `All IPConfigurations on a Network Interface should reference the same set of Application Security Groups. IPConfiguration ${out[0].id} references ASG(s) ${set(out[0]).join(', ')}, wheras IPConfiguration ${odd.id} references ASG(s) ${set(odd).join(', ')}.`,
    );
  }
  return out;
}

/**
 * An IP configuration's applicationSecurityGroups: each must exist in the NIC's region
 * (InvalidResourceReference), at most 20 per IP configuration, and every NIC in an ASG must be in the
 * virtual network of the ASG's other NICs (application-security-groups.md, "constraints"). Azure's
 * codes for the last two are not in the specs (named here, unverified).
 */
function ipConfigAsgs(ctx: Ctx, nicId: string, ipcId: string, vnetId: string, raw: unknown): string[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) throw new ArmError(400, 'InvalidRequestFormat', `Cannot parse the request: ${ipcId} applicationSecurityGroups must be an array.`);
  if (raw.length > ASG_LIMITS.perIpConfiguration) {
    throw new ArmError(
      400,
      'IpConfigurationApplicationSecurityGroupsLimitExceeded',
      `IP configuration ${ipcId} is in ${raw.length} application security groups; at most ${ASG_LIMITS.perIpConfiguration} are allowed.`,
    );
  }
  const nicLocation = String(ctx.body?.location ?? '').toLowerCase();
  const ids: string[] = [];
  for (const x of raw) {
    const id = (x as { id?: unknown } | null)?.id;
    const asg = typeof id === 'string' ? findAsg(ctx.emu, id) : undefined;
    if (!asg || asg.location.toLowerCase() !== nicLocation) throw invalidReference(String(id), nicId);
    const elsewhere = ctx.emu.store
      .list<NicRecord>(T.nic)
      .filter((n) => !sameId(n.id, nicId))
      .flatMap((n) => n.ipConfigurations)
      .find((c) => (c.applicationSecurityGroupIds ?? []).some((a) => sameId(a, asg.id)) && !sameId(findSubnet(ctx.emu, c.subnetId)?.vnet.id, vnetId));
    if (elsewhere) {
      throw new ArmError(
        400,
        'ApplicationSecurityGroupNetworkInterfacesMustBeInSameVnet',
        `IP configuration ${ipcId} cannot join application security group ${asg.id}: its members are in another virtual network (${elsewhere.id}); all network interfaces of an application security group must be in one virtual network.`,
      );
    }
    if (!ids.some((i) => sameId(i, asg.id))) ids.push(asg.id);
  }
  return ids;
}

function linkPublicIps(emu: Emulator, nic: NicRecord, previous: IpConfigRecord[]): void {
  for (const old of previous) {
    if (old.publicIPAddressId && !nic.ipConfigurations.some((c) => sameId(c.publicIPAddressId, old.publicIPAddressId))) {
      const pip = findPip(emu, old.publicIPAddressId);
      if (pip) {
        pip.ipConfigurationId = undefined;
        if (pip.allocation === 'Dynamic') pip.ipAddress = undefined;
      }
    }
  }
  for (const c of nic.ipConfigurations) {
    if (!c.publicIPAddressId) continue;
    const pip = findPip(emu, c.publicIPAddressId);
    if (pip) {
      pip.ipConfigurationId = c.id;
      if (!pip.ipAddress) pip.ipAddress = allocatePublicIp(emu);
    }
  }
}

export function registerNics(r: Router): void {
  r.add('GET', BASE, 'network', (ctx) => list(ctx.emu.store.list<NicRecord>(T.nic, ctx.emu.requireRg(ctx.params.rg)).map((n) => renderNic(ctx.emu, n))), 'NetworkInterfaces_List');
  r.add(
    'GET',
    '/subscriptions/{sub}/providers/Microsoft.Network/networkInterfaces',
    'network',
    (ctx) => list(ctx.emu.store.list<NicRecord>(T.nic).map((n) => renderNic(ctx.emu, n))),
    'NetworkInterfaces_ListAll',
  );
  r.add('GET', `${BASE}/{name}`, 'network', (ctx) => ok(renderNic(ctx.emu, getNic(ctx))), 'NetworkInterfaces_Get');
  r.add(
    'PUT',
    `${BASE}/{name}`,
    'network',
    (ctx) => {
      const emu = ctx.emu;
      const rg = emu.requireRg(ctx.params.rg);
      const location = emu.requireLocation(ctx.body?.location);
      const id = resourceId(emu.sub, rg, 'Microsoft.Network', 'networkInterfaces', ctx.params.name);
      const existing = emu.store.get<NicRecord>(T.nic, id);
      const p = ctx.body?.properties ?? {};
      const ipConfigurations = buildIpConfigs(ctx, id, existing, p.ipConfigurations);
      const nsgId = refId(p.networkSecurityGroup);
      if (nsgId && !findNsg(emu, nsgId)) throw invalidReference(nsgId, id);
      const nic: NicRecord = existing ?? {
        id,
        name: ctx.params.name,
        resourceGroup: rg,
        location,
        ipConfigurations: [],
        enableAcceleratedNetworking: false,
        enableIPForwarding: false,
        dnsServers: [],
        resourceGuid: randomUUID(),
        etag: newEtag(),
        provisioningState: 'Succeeded',
      };
      const previous = nic.ipConfigurations;
      nic.ipConfigurations = ipConfigurations;
      nic.nsgId = nsgId ? findNsg(emu, nsgId)!.id : undefined;
      nic.enableAcceleratedNetworking = p.enableAcceleratedNetworking === true;
      nic.enableIPForwarding = p.enableIPForwarding === true;
      nic.dnsServers = Array.isArray(p.dnsSettings?.dnsServers) ? p.dnsSettings.dnsServers : [];
      nic.tags = tagsOf(ctx.body);
      nic.etag = newEtag();
      emu.store.put(T.nic, nic);
      linkPublicIps(emu, nic, previous);
      return networkPut(ctx, !existing, nic, () => renderNic(emu, nic));
    },
    'NetworkInterfaces_CreateOrUpdate',
  );
  r.add(
    'PATCH',
    `${BASE}/{name}`,
    'network',
    (ctx) => {
      const nic = getNic(ctx);
      nic.tags = tagsOf(ctx.body);
      nic.etag = newEtag();
      return ok(renderNic(ctx.emu, nic));
    },
    'NetworkInterfaces_UpdateTags',
  );
  r.add(
    'DELETE',
    `${BASE}/{name}`,
    'network',
    (ctx) => {
      const emu = ctx.emu;
      const rg = emu.requireRg(ctx.params.rg);
      const nic = emu.store.get<NicRecord>(T.nic, resourceId(emu.sub, rg, 'Microsoft.Network', 'networkInterfaces', ctx.params.name));
      if (!nic) return noContent;
      if (nic.vmId) throw nicInUse(nic.id, nic.vmId);
      return networkDelete(ctx, nic, () => removeNic(emu, nic));
    },
    'NetworkInterfaces_Delete',
  );
}

export function nicInUse(nicId: string, vmId: string): ArmError {
  return new ArmError(
    400,
    'NicInUse',
    `Network Interface ${nicId} is used by existing resource ${vmId}. In order to delete the network interface, it must be dissociated from the resource. To learn more, see aka.ms/deletenic.`,
  );
}

/** Deletes a NIC and frees its public IP associations. */
export function removeNic(emu: Emulator, nic: NicRecord): void {
  const previous = nic.ipConfigurations;
  nic.ipConfigurations = [];
  linkPublicIps(emu, nic, previous);
  emu.store.delete(T.nic, nic.id);
}
