/** Microsoft.Network/publicIPAddresses. Addresses come from a documentation-only pool. */
import { randomUUID } from 'node:crypto';
import { ArmError, notFound } from '../arm/errors';
import type { Ctx } from '../arm/http';
import { list, ok } from '../arm/http';
import { resourceId } from '../arm/ids';
import { newEtag, noContent, tagsOf } from '../arm/replies';
import type { Router } from '../arm/router';
import type { Emulator } from '../emulator';
import { T } from '../state';
import { networkDelete, networkPut } from './common';
import { intToIp, ipToInt } from './ipam';
import type { PipRecord } from './model';
import { renderPip } from './render';

const BASE = '/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Network/publicIPAddresses';
const POOL_START = ipToInt('20.51.0.4')!;

export function allocatePublicIp(emu: Emulator): string {
  const used = new Set(emu.store.list<PipRecord>(T.pip).map((p) => p.ipAddress));
  for (let n = POOL_START; ; n++) {
    const ip = intToIp(n);
    if (!used.has(ip)) return ip;
  }
}

function getPip(ctx: Ctx): PipRecord {
  const rg = ctx.emu.requireRg(ctx.params.rg);
  const p = ctx.emu.store.get<PipRecord>(T.pip, resourceId(ctx.emu.sub, rg, 'Microsoft.Network', 'publicIPAddresses', ctx.params.name));
  if (!p) throw notFound('Microsoft.Network/publicIPAddresses', ctx.params.name, rg);
  return p;
}

export function registerPublicIps(r: Router): void {
  r.add('GET', BASE, 'network', (ctx) => list(ctx.emu.store.list<PipRecord>(T.pip, ctx.emu.requireRg(ctx.params.rg)).map(renderPip)), 'PublicIPAddresses_List');
  r.add('GET', '/subscriptions/{sub}/providers/Microsoft.Network/publicIPAddresses', 'network', (ctx) => list(ctx.emu.store.list<PipRecord>(T.pip).map(renderPip)), 'PublicIPAddresses_ListAll');
  r.add('GET', `${BASE}/{name}`, 'network', (ctx) => ok(renderPip(getPip(ctx))), 'PublicIPAddresses_Get');
  r.add(
    'PUT',
    `${BASE}/{name}`,
    'network',
    (ctx) => {
      const emu = ctx.emu;
      const rg = emu.requireRg(ctx.params.rg);
      const location = emu.requireLocation(ctx.body?.location);
      const id = resourceId(emu.sub, rg, 'Microsoft.Network', 'publicIPAddresses', ctx.params.name);
      const p = ctx.body?.properties ?? {};
      const skuName: string = ctx.body?.sku?.name ?? 'Standard';
      if (!['Basic', 'Standard'].includes(skuName)) {
        throw new ArmError(400, 'InvalidRequestFormat', `Cannot parse the request: sku name '${skuName}' is not valid.`, 'sku.name');
      }
      const allocation: 'Static' | 'Dynamic' = p.publicIPAllocationMethod ?? (skuName === 'Standard' ? 'Static' : 'Dynamic');
      if (skuName === 'Standard' && allocation !== 'Static') {
        throw new ArmError(400, 'StandardSkuPublicIPAddressesMustBeStatic', `Standard sku publicIp ${id} must have AllocationMethod set to Static.`);
      }
      const existing = emu.store.get<PipRecord>(T.pip, id);
      const pip: PipRecord = existing ?? {
        id,
        name: ctx.params.name,
        resourceGroup: rg,
        location,
        sku: { name: skuName, tier: ctx.body?.sku?.tier ?? 'Regional' },
        allocation,
        version: p.publicIPAddressVersion ?? 'IPv4',
        idleTimeoutInMinutes: p.idleTimeoutInMinutes ?? 4,
        resourceGuid: randomUUID(),
        etag: newEtag(),
        provisioningState: 'Succeeded',
        zones: Array.isArray(ctx.body?.zones) ? ctx.body.zones : undefined,
      };
      pip.allocation = allocation;
      pip.idleTimeoutInMinutes = p.idleTimeoutInMinutes ?? pip.idleTimeoutInMinutes;
      pip.tags = tagsOf(ctx.body);
      const label = p.dnsSettings?.domainNameLabel;
      pip.dnsSettings = typeof label === 'string' ? { domainNameLabel: label, fqdn: `${label}.${location}.cloudapp.azure.com` } : undefined;
      if (allocation === 'Static' && !pip.ipAddress) pip.ipAddress = allocatePublicIp(emu);
      if (allocation === 'Dynamic' && !pip.ipConfigurationId) pip.ipAddress = undefined;
      pip.etag = newEtag();
      emu.store.put(T.pip, pip);
      return networkPut(ctx, !existing, pip, () => renderPip(pip));
    },
    'PublicIPAddresses_CreateOrUpdate',
  );
  r.add(
    'PATCH',
    `${BASE}/{name}`,
    'network',
    (ctx) => {
      const pip = getPip(ctx);
      pip.tags = tagsOf(ctx.body);
      pip.etag = newEtag();
      return ok(renderPip(pip));
    },
    'PublicIPAddresses_UpdateTags',
  );
  r.add(
    'DELETE',
    `${BASE}/{name}`,
    'network',
    (ctx) => {
      const emu = ctx.emu;
      const rg = emu.requireRg(ctx.params.rg);
      const pip = emu.store.get<PipRecord>(T.pip, resourceId(emu.sub, rg, 'Microsoft.Network', 'publicIPAddresses', ctx.params.name));
      if (!pip) return noContent;
      const holder = pip.ipConfigurationId ?? pip.natGatewayId;
      if (holder) {
        throw new ArmError(
          400,
          'PublicIPAddressCannotBeDeleted',
          `Public IP address ${pip.id} can not be deleted since it is still allocated to resource ${holder}. In order to delete the public IP, disassociate/detach the Public IP address from the resource.`,
        );
      }
      return networkDelete(ctx, pip, () => emu.store.delete(T.pip, pip.id));
    },
    'PublicIPAddresses_Delete',
  );
}
