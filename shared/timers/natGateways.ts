// The NAT gateway part of the network sweep: a router's SNAT is a NAT gateway Jacket owns (tag
// jacket=router-snat, name snat-<router id>, shared/network/snat.ts) with a public IP of the same name
// and tags (publicIps.ts judges those). One that no subnet names and whose router is gone or no longer
// SNATs is a candidate — the leftover of a reconcile that died between Azure and the router's record
// (a router delete or a cleared gateway that failed after the record changed); deleted when the next
// pass agrees. The operator's NAT gateways carry no such tag and are never judged.
import type { Services } from '../services';
import type { InventoryItem } from '../azure/inventory';
import { natNameOf, PK, routerRepo, snats } from '../network/routerStore';
import type { SweepTarget, Outcome } from './sweep';
import { recheckAndDelete, UUID } from './arm';

/** The router id a NAT gateway or its public IP stands for, if its tags and name both say Jacket made it. */
export function jacketRouterOfSnat(r: Pick<InventoryItem, 'name' | 'tags'>): string | undefined {
  const id = r.tags['jacket-router-id'];
  if (r.tags.jacket !== 'router-snat' || !id || !UUID.test(id)) return undefined;
  return r.name === natNameOf(id) ? id : undefined;
}

/** Why a router's SNAT resource (NAT gateway or public IP) is kept, or undefined when it is orphaned. */
export async function snatKept(s: Services, r: InventoryItem): Promise<string | undefined> {
  const id = jacketRouterOfSnat(r);
  if (!id) return 'not-jacket';
  if (r.heldBy) return 'attached';
  if (r.provisioningState !== 'Succeeded' && r.provisioningState !== 'Failed') return 'busy';
  const router = (await routerRepo(s).get(PK, id))?.value;
  return router && snats(router) ? 'owned' : undefined;
}

export function natGatewaySweepTarget(s: Services, sweep: string): SweepTarget<InventoryItem> {
  return {
    kind: 'nat',
    name: (n) => n.name,
    evaluate: (n) => snatKept(s, n),
    // A subnet named it since: kept, and looked at again next pass.
    remove: (n): Promise<Outcome> => recheckAndDelete(s, sweep, 'nat', n.name, (fresh) => snatKept(s, fresh), { CannotDeleteNatGatewayAssociatedToSubnet: 'attached' }),
  };
}
