// The ASG part of the network sweep: a security group a project made has an application security group
// Jacket owns (tag jacket=security-group, name asg-<group id>, shared/network/securityGroupStore.ts). One
// whose group record is gone is a candidate — the leftover of a create that died between the ASG and its
// record, or of a delete whose ASG was still named by something. One that was a candidate in the
// previous pass too is re-read and deleted. ARM shows no members of an ASG, so "still in use" is Azure's
// refusal of the delete (a NIC's IP configuration or a rule still names it): kept, looked at next pass.
// The operator's ASGs carry no such tag and are never looked at further. It runs after the NSGs, so
// an NSG deleted in the same pass no longer holds the ASGs its rules named.
import type { Services } from '../services';
import type { InventoryItem } from '../azure/inventory';
import { asgNameOf, getGroup } from '../network/securityGroupStore';
import type { SweepTarget, Outcome } from './sweep';
import { recheckAndDelete, UUID } from './arm';

/** The group id an ASG stands for, if its tags and name both say Jacket made it for a security group. */
export function jacketGroupOfAsg(asg: Pick<InventoryItem, 'name' | 'tags'>): string | undefined {
  const gid = asg.tags['jacket-security-group-id'];
  if (asg.tags.jacket !== 'security-group' || !gid || !UUID.test(gid)) return undefined;
  return asg.name === asgNameOf(gid) ? gid : undefined;
}

async function whyNot(s: Services, asg: InventoryItem): Promise<string | undefined> {
  const gid = jacketGroupOfAsg(asg);
  if (!gid) return 'not-jacket';
  if (asg.provisioningState !== 'Succeeded' && asg.provisioningState !== 'Failed') return 'busy';
  return (await getGroup(s, gid)) ? 'owned' : undefined;
}

export function asgSweepTarget(s: Services, sweep: string): SweepTarget<InventoryItem> {
  return {
    kind: 'asg',
    name: (a) => a.name,
    evaluate: (a) => whyNot(s, a),
    remove: (a): Promise<Outcome> => recheckAndDelete(s, sweep, 'asg', a.name, (fresh) => whyNot(s, fresh), { InUseApplicationSecurityGroupCannotBeDeleted: 'attached' }),
  };
}
