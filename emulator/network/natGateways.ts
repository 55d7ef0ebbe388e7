/**
 * Microsoft.Network/natGateways (Network 2024-05-01): outbound SNAT for the subnets whose
 * `natGateway` names it, through its Standard public IPs. natGateway.json is not in the copied
 * reference specs; the shape and the refusals follow Microsoft's NAT gateway documentation and the
 * errors Azure answers: a NAT gateway still on a subnet cannot be deleted
 * (CannotDeleteNatGatewayAssociatedToSubnet), nor a public IP a NAT gateway uses
 * (PublicIPAddressCannotBeDeleted, publicIps.ts).
 */
import { randomUUID } from 'node:crypto';
import { ArmError, notFound } from '../arm/errors';
import type { Ctx } from '../arm/http';
import { list, ok } from '../arm/http';
import { resourceId, sameId } from '../arm/ids';
import { newEtag, noContent, tagsOf } from '../arm/replies';
import type { Router } from '../arm/router';
import type { Emulator } from '../emulator';
import { T } from '../state';
import { findPip, invalidReference, networkDelete, networkPut, refId } from './common';
import type { NatGatewayRecord, PipRecord, VnetRecord } from './model';

const BASE = '/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Network/natGateways';

/** The subnets (ids) whose natGateway is `natId`. */
export function subnetsOfNat(emu: Emulator, natId: string): string[] {
  return emu.store
    .list<VnetRecord>(T.vnet)
    .flatMap((v) => v.subnets)
    .filter((s) => s.natGatewayId && sameId(s.natGatewayId, natId))
    .map((s) => s.id);
}

export function findNat(emu: Emulator, id: string): NatGatewayRecord | undefined {
  return emu.store.list<NatGatewayRecord>(T.nat).find((n) => sameId(n.id, id));
}

export function renderNat(emu: Emulator, n: NatGatewayRecord): any {
  const subnets = subnetsOfNat(emu, n.id);
  return {
    name: n.name,
    id: n.id,
    etag: n.etag,
    type: 'Microsoft.Network/natGateways',
    location: n.location,
    ...(n.tags ? { tags: n.tags } : {}),
    ...(n.zones ? { zones: n.zones } : {}),
    sku: n.sku,
    properties: {
      provisioningState: n.provisioningState,
      resourceGuid: n.resourceGuid,
      idleTimeoutInMinutes: n.idleTimeoutInMinutes,
      ...(n.publicIpAddressIds.length ? { publicIpAddresses: n.publicIpAddressIds.map((id) => ({ id })) } : {}),
      ...(subnets.length ? { subnets: subnets.map((id) => ({ id })) } : {}),
    },
  };
}

function getNat(ctx: Ctx): NatGatewayRecord {
  const rg = ctx.emu.requireRg(ctx.params.rg);
  const n = ctx.emu.store.get<NatGatewayRecord>(T.nat, resourceId(ctx.emu.sub, rg, 'Microsoft.Network', 'natGateways', ctx.params.name));
  if (!n) throw notFound('Microsoft.Network/natGateways', ctx.params.name, rg);
  return n;
}

export function registerNatGateways(r: Router): void {
  r.add('GET', BASE, 'network', (ctx) => list(ctx.emu.store.list<NatGatewayRecord>(T.nat, ctx.emu.requireRg(ctx.params.rg)).map((n) => renderNat(ctx.emu, n))), 'NatGateways_List');
  r.add(
    'GET',
    '/subscriptions/{sub}/providers/Microsoft.Network/natGateways',
    'network',
    (ctx) => list(ctx.emu.store.list<NatGatewayRecord>(T.nat).map((n) => renderNat(ctx.emu, n))),
    'NatGateways_ListAll',
  );
  r.add('GET', `${BASE}/{name}`, 'network', (ctx) => ok(renderNat(ctx.emu, getNat(ctx))), 'NatGateways_Get');
  r.add(
    'PUT',
    `${BASE}/{name}`,
    'network',
    (ctx) => {
      const emu = ctx.emu;
      const rg = emu.requireRg(ctx.params.rg);
      const location = emu.requireLocation(ctx.body?.location);
      const id = resourceId(emu.sub, rg, 'Microsoft.Network', 'natGateways', ctx.params.name);
      const skuName: string = ctx.body?.sku?.name ?? 'Standard';
      if (!['Standard', 'StandardV2'].includes(skuName)) {
        throw new ArmError(400, 'InvalidRequestFormat', `Cannot parse the request: sku name '${skuName}' is not valid.`, 'sku.name');
      }
      const p = ctx.body?.properties ?? {};
      const idle: number = p.idleTimeoutInMinutes ?? 4;
      const pipIds: string[] = ((p.publicIpAddresses ?? []) as unknown[]).map((x) => refId(x)).filter((x): x is string => !!x);
      const pips: PipRecord[] = pipIds.map((pid) => {
        const pip = findPip(emu, pid);
        if (!pip) throw invalidReference(pid, id);
        return pip;
      });
      // Azure's PublicIPAddressInUse (as it words it): an address is on one resource at a time.
      // (The Basic SKU and idle-timeout refusals Azure also has are not modelled: Jacket sends neither.)
      for (const pip of pips) {
        const holder = pip.ipConfigurationId ?? (pip.natGatewayId && !sameId(pip.natGatewayId, id) ? pip.natGatewayId : undefined);
        if (holder) {
          throw new ArmError(400, 'PublicIPAddressInUse', `Resource ${id} is referencing public IP address ${pip.id} that is already allocated to resource ${holder}.`);
        }
      }
      const existing = emu.store.get<NatGatewayRecord>(T.nat, id);
      const n: NatGatewayRecord = existing ?? {
        id,
        name: ctx.params.name,
        resourceGroup: rg,
        location,
        sku: { name: skuName },
        idleTimeoutInMinutes: idle,
        publicIpAddressIds: [],
        resourceGuid: randomUUID(),
        etag: newEtag(),
        provisioningState: 'Succeeded',
        zones: Array.isArray(ctx.body?.zones) ? ctx.body.zones : undefined,
      };
      for (const old of n.publicIpAddressIds) {
        const pip = findPip(emu, old);
        if (pip && !pips.includes(pip)) pip.natGatewayId = undefined;
      }
      for (const pip of pips) pip.natGatewayId = id;
      n.publicIpAddressIds = pips.map((x) => x.id);
      n.idleTimeoutInMinutes = idle;
      n.tags = tagsOf(ctx.body);
      n.etag = newEtag();
      emu.store.put(T.nat, n);
      return networkPut(ctx, !existing, n, () => renderNat(emu, n));
    },
    'NatGateways_CreateOrUpdate',
  );
  r.add(
    'PATCH',
    `${BASE}/{name}`,
    'network',
    (ctx) => {
      const n = getNat(ctx);
      n.tags = tagsOf(ctx.body);
      n.etag = newEtag();
      return ok(renderNat(ctx.emu, n));
    },
    'NatGateways_UpdateTags',
  );
  r.add(
    'DELETE',
    `${BASE}/{name}`,
    'network',
    (ctx) => {
      const emu = ctx.emu;
      const rg = emu.requireRg(ctx.params.rg);
      const n = emu.store.get<NatGatewayRecord>(T.nat, resourceId(emu.sub, rg, 'Microsoft.Network', 'natGateways', ctx.params.name));
      if (!n) return noContent;
      const subnets = subnetsOfNat(emu, n.id);
      if (subnets.length) {
        throw new ArmError(
          400,
          'CannotDeleteNatGatewayAssociatedToSubnet',
          `NAT Gateway ${n.id} is still configured on ${subnets.length} subnets. Remove NAT Gateway from all referenced subnets and then delete NAT Gateway.`,
        );
      }
      return networkDelete(ctx, n, () => {
        for (const pid of n.publicIpAddressIds) {
          const pip = findPip(emu, pid);
          if (pip && pip.natGatewayId && sameId(pip.natGatewayId, n.id)) pip.natGatewayId = undefined;
        }
        emu.store.delete(T.nat, n.id);
      });
    },
    'NatGateways_Delete',
  );
}
