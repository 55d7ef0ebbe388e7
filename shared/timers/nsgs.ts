// The NSG part of the network sweep: security groups a project made are NSGs Jacket owns (tag
// jacket=security-group, name sg-<group id>, shared/network/securityGroupStore.ts). One whose group
// record is gone and that no NIC or subnet uses is a candidate — the leftover of a create that died
// between the NSG and its record, or of a delete that died between Azure and the record. One that was a
// candidate in the previous pass too is re-read and deleted. A combination NSG of several groups (tag
// jacket=security-group-set, name sgs-<set id>) is a candidate when no NIC holds it; one a NIC holds
// is repaired when its rules are not its groups' (a rewrite lost after a rule change). The operator's NSGs
// carry no such tag and are never looked at further.
import type { Services } from '../services';
import type { InventoryItem } from '../azure/inventory';
import { getGroup, nsgNameOf } from '../network/securityGroupStore';
import type { SweepTarget, Outcome } from './sweep';
import { recheckAndDelete, UUID } from './arm';
import { repairCombination } from '../network/securityGroupSets';
import { azureFailure } from '../azure/errors';
import { log } from '../log';

/** The group id an NSG stands for, if its tags and name both say Jacket made it for a security group. */
export function jacketGroupOfNsg(nsg: Pick<InventoryItem, 'name' | 'tags'>): string | undefined {
  const gid = nsg.tags['jacket-security-group-id'];
  if (nsg.tags.jacket !== 'security-group' || !gid || !UUID.test(gid)) return undefined;
  return nsg.name === nsgNameOf(gid) ? gid : undefined;
}

/**
 * Whether Jacket made the NSG as the combination of a set of groups (or the deny-all of the empty set,
 * shared/network/securityGroupSets.ts): tag jacket=security-group-set and the name it gives.
 */
export function jacketCombinationNsg(nsg: Pick<InventoryItem, 'name' | 'tags'>): boolean {
  const set = nsg.tags['jacket-security-group-set'];
  return nsg.tags.jacket === 'security-group-set' && !!set && UUID.test(set) && nsg.name === `sgs-${set}`;
}

async function whyNot(s: Services, nsg: InventoryItem): Promise<string | undefined> {
  // A combination is owned by the NICs holding it, nothing else: no NIC, no use (a port joining the
  // set again PUTs it again).
  if (jacketCombinationNsg(nsg)) {
    if (nsg.heldBy) {
      // In use: brought back in line with its groups' records if a rewrite was lost (securityGroupSets.ts).
      try {
        if (await repairCombination(s, nsg)) return 'repaired';
      } catch (e) {
        const f = azureFailure(e);
        log.warn('combination NSG not repaired', { nsg: nsg.name, code: f.code, error: f.message });
      }
      return 'attached';
    }
    return nsg.provisioningState !== 'Succeeded' && nsg.provisioningState !== 'Failed' ? 'busy' : undefined;
  }
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
