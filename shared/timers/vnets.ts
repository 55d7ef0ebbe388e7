// The virtual network part of the network sweep: the networks projects make are virtual networks
// Jacket owns (tag jacket=network, name net-<network id>, shared/network/projectNetworkStore.ts). One
// whose network record is gone and that no NIC uses is a candidate — the leftover of a network delete
// that died between Azure and the record (a network's virtual network is made after its record and
// deleted before it, so nothing else leaves one); deleted when the next pass agrees. The operator's
// virtual networks carry no such tag and are never looked at further.
import type { Services } from '../services';
import type { InventoryItem } from '../azure/inventory';
import { getProjectNetwork } from '../network/projectNetworks';
import { vnetNameOf } from '../network/projectNetworkStore';
import type { SweepTarget, Outcome } from './sweep';
import { recheckAndDelete, UUID } from './arm';

/** The network id a virtual network stands for, if its tags and name both say Jacket made it. */
export function jacketNetworkOfVnet(vnet: Pick<InventoryItem, 'name' | 'tags'>): string | undefined {
  const id = vnet.tags['jacket-network-id'];
  if (vnet.tags.jacket !== 'network' || !id || !UUID.test(id)) return undefined;
  return vnet.name === vnetNameOf(id) ? id : undefined;
}

async function whyNot(s: Services, vnet: InventoryItem): Promise<string | undefined> {
  const id = jacketNetworkOfVnet(vnet);
  if (!id) return 'not-jacket';
  if (vnet.heldBy) return 'attached';
  if (vnet.provisioningState !== 'Succeeded' && vnet.provisioningState !== 'Failed') return 'busy';
  return (await getProjectNetwork(s, id)) ? 'owned' : undefined;
}

export function vnetSweepTarget(s: Services, sweep: string): SweepTarget<InventoryItem> {
  return {
    kind: 'vnet',
    name: (v) => v.name,
    evaluate: (v) => whyNot(s, v),
    // Azure refuses to delete one a NIC joined since: kept, and looked at again next pass.
    remove: (v): Promise<Outcome> => recheckAndDelete(s, sweep, 'vnet', v.name, (fresh) => whyNot(s, fresh), { InUseSubnetCannotBeDeleted: 'attached' }),
  };
}
