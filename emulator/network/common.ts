/** Shared PUT/DELETE flow of Microsoft.Network resources (Azure-AsyncOperation based LROs). */
import { ArmError } from '../arm/errors';
import type { Ctx, Reply } from '../arm/http';
import { parseResourceId, sameId } from '../arm/ids';
import { accepted, lroBody } from '../arm/replies';
import type { Emulator } from '../emulator';
import { T } from '../state';
import type { NsgRecord, PipRecord, SubnetRecord, VnetRecord } from './model';

export function networkPut(ctx: Ctx, created: boolean, rec: { id: string; provisioningState: string; location: string }, render: () => unknown): Reply {
  const emu = ctx.emu;
  rec.provisioningState = emu.asyncDelayMs > 0 ? 'Updating' : 'Succeeded';
  const op = emu.ops.start(ctx, {
    kind: 'network',
    name: 'put',
    resourceId: rec.id,
    location: rec.location,
    work: () => {
      rec.provisioningState = 'Succeeded';
    },
    onFailed: () => {
      rec.provisioningState = 'Failed';
    },
  });
  return lroBody(ctx, created ? 201 : 200, render(), op);
}

export function networkDelete(ctx: Ctx, rec: { id: string; provisioningState: string; location: string }, remove: () => void): Reply {
  rec.provisioningState = 'Deleting';
  const op = ctx.emu.ops.start(ctx, {
    kind: 'network',
    name: 'delete',
    resourceId: rec.id,
    location: rec.location,
    work: remove,
    onFailed: () => {
      rec.provisioningState = 'Succeeded';
    },
  });
  return accepted(ctx, op);
}

export function invalidReference(refId: string, byId: string): ArmError {
  return new ArmError(
    400,
    'InvalidResourceReference',
    `Resource ${refId} referenced by resource ${byId} was not found. Please make sure that the referenced resource exists, and that both resources are in the same region.`,
  );
}

export function findSubnet(emu: Emulator, subnetId: string): { vnet: VnetRecord; subnet: SubnetRecord } | undefined {
  const p = parseResourceId(subnetId);
  if (!p || p.provider.toLowerCase() !== 'microsoft.network' || p.type.toLowerCase() !== 'virtualnetworks/subnets') return undefined;
  const [vnetName] = p.name.split('/');
  const vnet = emu.store.list<VnetRecord>(T.vnet).find((v) => v.resourceGroup.toLowerCase() === p.resourceGroup.toLowerCase() && v.name.toLowerCase() === vnetName.toLowerCase());
  const subnet = vnet?.subnets.find((s) => sameId(s.id, subnetId));
  return vnet && subnet ? { vnet, subnet } : undefined;
}

export function findNsg(emu: Emulator, id: string): NsgRecord | undefined {
  return emu.store.get<NsgRecord>(T.nsg, id);
}

export function findPip(emu: Emulator, id: string): PipRecord | undefined {
  return emu.store.get<PipRecord>(T.pip, id);
}

export function refId(x: unknown): string | undefined {
  const id = (x as { id?: unknown } | undefined)?.id;
  return typeof id === 'string' && id.length > 0 ? id : undefined;
}
