/** Microsoft.Network/virtualNetworks and their subnets (seeded from config; PUT/DELETE supported). */
import { randomUUID } from 'node:crypto';
import { ArmError, notFound } from '../arm/errors';
import type { Ctx } from '../arm/http';
import { list, ok } from '../arm/http';
import { resourceId } from '../arm/ids';
import { newEtag, noContent, tagsOf } from '../arm/replies';
import type { Router } from '../arm/router';
import { T } from '../state';
import { findNsg, invalidReference, networkDelete, networkPut, refId } from './common';
import { parseCidr } from './ipam';
import { findNat } from './natGateways';
import type { SubnetRecord, VnetRecord } from './model';
import { ipConfigsInSubnet, renderSubnet, renderVnet } from './render';

const BASE = '/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Network/virtualNetworks';

function getVnet(ctx: Ctx): VnetRecord {
  const rg = ctx.emu.requireRg(ctx.params.rg);
  const v = ctx.emu.store.get<VnetRecord>(T.vnet, resourceId(ctx.emu.sub, rg, 'Microsoft.Network', 'virtualNetworks', ctx.params.name));
  if (!v) throw notFound('Microsoft.Network/virtualNetworks', ctx.params.name, rg);
  return v;
}

function subnetInUse(ctx: Ctx, s: SubnetRecord): void {
  const users = ipConfigsInSubnet(ctx.emu, s.id);
  if (users.length) {
    throw new ArmError(
      400,
      'InUseSubnetCannotBeDeleted',
      `Subnet ${s.name} is in use by ${users[0].ipc.id} and cannot be deleted. In order to delete the subnet, delete all the resources within the subnet.`,
    );
  }
}

/**
 * Azure's checks of a virtual network's subnets against its address space and each other: a subnet
 * outside every address prefix is NetcfgSubnetRangeOutsideVnet, two subnets sharing addresses
 * NetcfgSubnetRangesOverlap (both 400, wording as Azure answers them: MicrosoftDocs/azure-docs#123869).
 */
function checkSubnetRanges(vnetName: string, addressPrefixes: string[], subnets: SubnetRecord[]): void {
  const space = addressPrefixes.map((p) => parseCidr(p)!);
  const seen: { name: string; base: number; size: number }[] = [];
  for (const s of subnets) {
    const c = parseCidr(s.addressPrefix)!;
    if (!space.some((a) => c.base >= a.base && c.base + c.size <= a.base + a.size)) {
      throw new ArmError(400, 'NetcfgSubnetRangeOutsideVnet', `Subnet '${s.name}' is not valid because its IP address range is outside the IP address range of virtual network '${vnetName}'.`);
    }
    if (seen.some((o) => c.base < o.base + o.size && o.base < c.base + c.size)) {
      throw new ArmError(400, 'NetcfgSubnetRangesOverlap', `Subnet '${s.name}' is not valid because its IP address range overlaps with that of an existing subnet in virtual network '${vnetName}'.`);
    }
    seen.push({ name: s.name, base: c.base, size: c.size });
  }
}

function subnetFromBody(ctx: Ctx, vnetId: string, name: string, body: any): SubnetRecord {
  const prefix = body?.properties?.addressPrefix;
  if (typeof prefix !== 'string' || !parseCidr(prefix)) {
    throw new ArmError(400, 'InvalidAddressPrefixFormat', `Address prefix ${prefix} of resource ${vnetId}/subnets/${name} is not formatted correctly.`);
  }
  const nsgId = refId(body?.properties?.networkSecurityGroup);
  if (nsgId && !findNsg(ctx.emu, nsgId)) throw invalidReference(nsgId, `${vnetId}/subnets/${name}`);
  const natId = refId(body?.properties?.natGateway);
  if (natId && !findNat(ctx.emu, natId)) throw invalidReference(natId, `${vnetId}/subnets/${name}`);
  const outbound = body?.properties?.defaultOutboundAccess;
  if (outbound !== undefined && typeof outbound !== 'boolean') {
    throw new ArmError(400, 'InvalidRequestFormat', `Cannot parse the request. Property defaultOutboundAccess of ${vnetId}/subnets/${name} must be a boolean.`);
  }
  return {
    id: `${vnetId}/subnets/${name}`,
    name,
    addressPrefix: prefix,
    nsgId,
    ...(natId ? { natGatewayId: natId } : {}),
    ...(outbound !== undefined ? { defaultOutboundAccess: outbound } : {}),
    etag: newEtag(),
  };
}

export function registerVnets(r: Router): void {
  r.add(
    'GET',
    BASE,
    'network',
    (ctx) => {
      const rg = ctx.emu.requireRg(ctx.params.rg);
      return list(ctx.emu.store.list<VnetRecord>(T.vnet, rg).map((v) => renderVnet(ctx.emu, v)));
    },
    'VirtualNetworks_List',
  );
  r.add(
    'GET',
    '/subscriptions/{sub}/providers/Microsoft.Network/virtualNetworks',
    'network',
    (ctx) => list(ctx.emu.store.list<VnetRecord>(T.vnet).map((v) => renderVnet(ctx.emu, v))),
    'VirtualNetworks_ListAll',
  );
  r.add('GET', `${BASE}/{name}`, 'network', (ctx) => ok(renderVnet(ctx.emu, getVnet(ctx))), 'VirtualNetworks_Get');
  r.add(
    'PUT',
    `${BASE}/{name}`,
    'network',
    (ctx) => {
      const emu = ctx.emu;
      const rg = emu.requireRg(ctx.params.rg);
      const location = emu.requireLocation(ctx.body?.location);
      const id = resourceId(emu.sub, rg, 'Microsoft.Network', 'virtualNetworks', ctx.params.name);
      const prefixes = ctx.body?.properties?.addressSpace?.addressPrefixes;
      if (!Array.isArray(prefixes) || prefixes.length === 0 || prefixes.some((p: unknown) => typeof p !== 'string' || !parseCidr(p))) {
        throw new ArmError(400, 'InvalidAddressPrefixFormat', `Address prefixes of resource ${id} are not formatted correctly.`);
      }
      const existing = emu.store.get<VnetRecord>(T.vnet, id);
      const subnets = ((ctx.body?.properties?.subnets ?? []) as any[]).map((s) => subnetFromBody(ctx, id, s?.name, s));
      checkSubnetRanges(ctx.params.name, prefixes, subnets);
      if (existing) {
        for (const old of existing.subnets) if (!subnets.some((s) => s.name.toLowerCase() === old.name.toLowerCase())) subnetInUse(ctx, old);
      }
      const v: VnetRecord = existing ?? {
        id,
        name: ctx.params.name,
        resourceGroup: rg,
        location,
        addressPrefixes: [],
        subnets: [],
        resourceGuid: randomUUID(),
        etag: newEtag(),
        provisioningState: 'Succeeded',
      };
      v.addressPrefixes = prefixes;
      v.subnets = subnets;
      v.tags = tagsOf(ctx.body);
      v.etag = newEtag();
      emu.store.put(T.vnet, v);
      return networkPut(ctx, !existing, v, () => renderVnet(emu, v));
    },
    'VirtualNetworks_CreateOrUpdate',
  );
  r.add(
    'DELETE',
    `${BASE}/{name}`,
    'network',
    (ctx) => {
      const emu = ctx.emu;
      const rg = emu.requireRg(ctx.params.rg);
      const v = emu.store.get<VnetRecord>(T.vnet, resourceId(emu.sub, rg, 'Microsoft.Network', 'virtualNetworks', ctx.params.name));
      if (!v) return noContent;
      v.subnets.forEach((s) => subnetInUse(ctx, s));
      return networkDelete(ctx, v, () => emu.store.delete(T.vnet, v.id));
    },
    'VirtualNetworks_Delete',
  );

  r.add(
    'GET',
    `${BASE}/{name}/subnets`,
    'network',
    (ctx) => {
      const v = getVnet(ctx);
      return list(v.subnets.map((s) => renderSubnet(ctx.emu, s)));
    },
    'Subnets_List',
  );
  r.add(
    'GET',
    `${BASE}/{name}/subnets/{subnet}`,
    'network',
    (ctx) => {
      const v = getVnet(ctx);
      const s = v.subnets.find((x) => x.name.toLowerCase() === ctx.params.subnet.toLowerCase());
      if (!s) throw notFound('Microsoft.Network/virtualNetworks/subnets', `${v.name}/${ctx.params.subnet}`, v.resourceGroup);
      return ok(renderSubnet(ctx.emu, s));
    },
    'Subnets_Get',
  );
  r.add(
    'PUT',
    `${BASE}/{name}/subnets/{subnet}`,
    'network',
    (ctx) => {
      const v = getVnet(ctx);
      const s = subnetFromBody(ctx, v.id, ctx.params.subnet, ctx.body);
      const i = v.subnets.findIndex((x) => x.name.toLowerCase() === ctx.params.subnet.toLowerCase());
      checkSubnetRanges(v.name, v.addressPrefixes, [...v.subnets.filter((_, k) => k !== i), s]);
      if (i >= 0) v.subnets[i] = s;
      else v.subnets.push(s);
      const rec = { id: s.id, provisioningState: 'Succeeded', location: v.location };
      return networkPut(ctx, i < 0, rec, () => renderSubnet(ctx.emu, s));
    },
    'Subnets_CreateOrUpdate',
  );
  r.add(
    'DELETE',
    `${BASE}/{name}/subnets/{subnet}`,
    'network',
    (ctx) => {
      const v = getVnet(ctx);
      const s = v.subnets.find((x) => x.name.toLowerCase() === ctx.params.subnet.toLowerCase());
      if (!s) return noContent;
      subnetInUse(ctx, s);
      const rec = { id: s.id, provisioningState: 'Succeeded', location: v.location };
      return networkDelete(ctx, rec, () => {
        v.subnets = v.subnets.filter((x) => x !== s);
      });
    },
    'Subnets_Delete',
  );
}
