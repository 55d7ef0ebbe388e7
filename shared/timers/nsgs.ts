// The NSG part of the network sweep: security groups a project made are NSGs Jacket owns (tag
// jacket=security-group, name sg-<group id>, shared/network/securityGroupStore.ts). One whose group
// record is gone and that no NIC or subnet uses is a candidate — the leftover of a create that died
// between the NSG and its record, or of a delete that died between Azure and the record. One that was a
// candidate in the previous pass too is re-read and deleted. The operator's NSGs carry no such tag and
// are never looked at further.
import type { Services } from '../services';
import type { InventoryItem } from '../azure/inventory';
import { getGroup, nsgNameOf } from '../network/securityGroupStore';
import type { SweepTarget, Outcome } from './sweep';
import { recheckAndDelete, UUID } from './arm';

/** The group id an NSG stands for, if its tags and name both say Jacket made it for a security group. */
export function jacketGroupOfNsg(nsg: Pick<InventoryItem, 'name' | 'tags'>): string | undefined {
  const gid = nsg.tags['jacket-security-group-id'];
  if (nsg.tags.jacket !== 'security-group' || !gid || !UUID.test(gid)) return undefined;
  return nsg.name === nsgNameOf(gid) ? gid : undefined;
}

async function whyNot(s: Services, nsg: InventoryItem): Promise<string | undefined> {
  const gid = jacketGroupOfNsg(nsg);
  if (!gid) return 'not-jacket';
  if (nsg.heldBy) return 'attached';
  if (nsg.provisioningState !== 'Succeeded' && nsg.provisioningState !== 'Failed') return 'busy';
  return (await getGroup(s, gid)) ? 'owned' : undefined;
}

export function nsgSweepTarget(s: Services, sweep: string): SweepTarget<InventoryItem> {
  return {
    kind: 'nsg',
    name: (n) => n.name,
    evaluate: (n) => whyNot(s, n),
    // Azure refuses to delete an NSG a NIC took since: kept, and looked at again next pass.
    remove: (n): Promise<Outcome> => recheckAndDelete(s, sweep, 'nsg', n.name, (fresh) => whyNot(s, fresh), { InUseNetworkSecurityGroupCannotBeDeleted: 'attached' }),
  };
}
