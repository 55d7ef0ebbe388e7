/** Virtual networks and NSGs from the emulator's seed. */
import { randomUUID } from 'node:crypto';
import type { Emulator } from '../emulator';
import { resourceId } from '../arm/ids';
import { newEtag } from '../arm/replies';
import { T } from '../state';
import type { NsgRecord, VnetRecord } from './model';

export function seedNetwork(emu: Emulator): void {
  for (const n of emu.cfg.seed.networkSecurityGroups) {
    const rg = emu.requireRg(n.resourceGroup);
    const nsg: NsgRecord = {
      id: resourceId(emu.sub, rg, 'Microsoft.Network', 'networkSecurityGroups', n.name),
      name: n.name,
      resourceGroup: rg,
      location: emu.location,
      securityRules: [],
      resourceGuid: randomUUID(),
      etag: newEtag(),
      provisioningState: 'Succeeded',
    };
    emu.store.put(T.nsg, nsg);
  }
  for (const v of emu.cfg.seed.virtualNetworks) {
    const rg = emu.requireRg(v.resourceGroup);
    const id = resourceId(emu.sub, rg, 'Microsoft.Network', 'virtualNetworks', v.name);
    const vnet: VnetRecord = {
      id,
      name: v.name,
      resourceGroup: rg,
      location: emu.location,
      addressPrefixes: [...v.addressPrefixes],
      subnets: v.subnets.map((s) => ({
        id: `${id}/subnets/${s.name}`,
        name: s.name,
        addressPrefix: s.addressPrefix,
        nsgId: s.networkSecurityGroup ? resourceId(emu.sub, rg, 'Microsoft.Network', 'networkSecurityGroups', s.networkSecurityGroup) : undefined,
        etag: newEtag(),
      })),
      resourceGuid: randomUUID(),
      etag: newEtag(),
      provisioningState: 'Succeeded',
    };
    emu.store.put(T.vnet, vnet);
  }
}
