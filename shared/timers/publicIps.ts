// The public IP part of the network sweep: floating IPs are public IPs Jacket owns (tag
// jacket=floating-ip, name fip-<floating IP id>, shared/network/floatingIpStore.ts). One whose record is
// gone and that no IP configuration holds is a candidate — the leftover of a create that died between
// the public IP and its record, or of a delete that died between Azure and the record; deleted when the
// next pass agrees. A router's SNAT address (tag jacket=router-snat) is judged with its NAT gateway's
// rule (natGateways.ts). Untagged public IPs (the operator's) are never judged.
import type { Services } from '../services';
import type { InventoryItem } from '../azure/inventory';
import { getFloatingIp, publicIpNameOf } from '../network/floatingIpStore';
import type { SweepTarget, Outcome } from './sweep';
import { recheckAndDelete, UUID } from './arm';
import { jacketRouterOfSnat, snatKept } from './natGateways';

/** The floating IP id a public IP stands for, if its tags and name both say Jacket made it. */
export function jacketFloatingIpOf(pip: Pick<InventoryItem, 'name' | 'tags'>): string | undefined {
  const id = pip.tags['jacket-floating-ip-id'];
  if (pip.tags.jacket !== 'floating-ip' || !id || !UUID.test(id)) return undefined;
  return pip.name === publicIpNameOf(id) ? id : undefined;
}

async function whyNot(s: Services, pip: InventoryItem): Promise<string | undefined> {
  if (jacketRouterOfSnat(pip)) return snatKept(s, pip);
  const id = jacketFloatingIpOf(pip);
  if (!id) return 'not-jacket';
  if (pip.heldBy) return 'attached';
  if (pip.provisioningState !== 'Succeeded' && pip.provisioningState !== 'Failed') return 'busy';
  return (await getFloatingIp(s, id)) ? 'owned' : undefined;
}

export function publicIpSweepTarget(s: Services, sweep: string): SweepTarget<InventoryItem> {
  return {
    kind: 'pip',
    name: (p) => p.name,
    evaluate: (p) => whyNot(s, p),
    // Azure refuses to delete a public IP a NIC took since: kept, and looked at again next pass.
    remove: (p): Promise<Outcome> => recheckAndDelete(s, sweep, 'pip', p.name, (fresh) => whyNot(s, fresh), { PublicIPAddressCannotBeDeleted: 'attached' }),
  };
}
