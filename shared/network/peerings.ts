// Routing between project networks through a router. Neutron routes between every subnet a router
// joins; on Azure the subnets of one network share a virtual network, which routes by itself, but two
// project networks are two virtual networks, which Azure routes between only when peered, both ways
// (a peering has a side on each network; traffic flows once both exist). So the peerings follow the
// router records: two project networks some router (any project's) joins are peered, each side named
// `jacket-<other network id>`, and a peering no router justifies any more goes, both sides. Peering is
// not transitive on Azure, and neither is this: only networks joined by one router are peered.
// The operator's networks are not peered (their virtual networks are the operator's): docs/network.md.
import type { Services } from '../services';
import { PK, routerRepo } from './routerStore';
import { allProjectNetworks, vnetNameOf, type ProjectNetworkRecord } from './projectNetworkStore';

const PREFIX = 'jacket-';
export const peeringNameOf = (networkId: string) => `${PREFIX}${networkId}`;

/**
 * For each project network, the other project networks a router joins it with (one partition read
 * each; the networks' is skipped when the caller read them already).
 */
async function joinedNetworks(s: Services, known?: ProjectNetworkRecord[]): Promise<Map<string, Set<string>>> {
  const nets = known ?? (await allProjectNetworks(s));
  const networkOf = new Map(nets.flatMap((n) => n.subnets.map((x) => [x.id, n.id] as const)));
  const out = new Map<string, Set<string>>();
  for (const r of await routerRepo(s).list(PK)) {
    const ids = [...new Set(r.value.interfaces.map((i) => networkOf.get(i.subnet_id)).filter((x): x is string => !!x))];
    for (const a of ids) {
      for (const b of ids) {
        if (a === b) continue;
        if (!out.has(a)) out.set(a, new Set());
        out.get(a)!.add(b);
      }
    }
  }
  return out;
}

/**
 * Peers `a` and `b` both ways. A side that exists is PUT first: Azure leaves a side whose other side
 * was deleted Disconnected, refuses to make the missing side against it, and a PUT brings it back.
 */
async function peer(s: Services, a: string, b: string): Promise<void> {
  const net = s.azure.network;
  const ab = (await net.listPeerings(vnetNameOf(a))).find((p) => p.name === peeringNameOf(b));
  const ba = (await net.listPeerings(vnetNameOf(b))).find((p) => p.name === peeringNameOf(a));
  if (ab?.state === 'Connected' && ba?.state === 'Connected') return;
  const sides: [string, string, boolean][] = [
    [a, b, !!ab],
    [b, a, !!ba],
  ];
  sides.sort((x, y) => Number(y[2]) - Number(x[2]));
  for (const [from, to] of sides) await net.putPeering(vnetNameOf(from), peeringNameOf(to), vnetNameOf(to));
}

/**
 * Brings the peerings of `networkIds` in line with the router records (run after a router's record
 * changed, for the networks it joined before and after). Idempotent: a run cut short is finished by
 * the next change of a router on those networks. `nets`: the project networks, if the caller read them
 * (allProjectNetworks) after the router's record changed.
 */
export async function reconcilePeerings(s: Services, networkIds: Iterable<string>, nets?: ProjectNetworkRecord[]): Promise<void> {
  const ids = [...new Set(networkIds)];
  if (!ids.length) return;
  const want = await joinedNetworks(s, nets);
  const net = s.azure.network;
  for (const n of ids) {
    const desired = want.get(n) ?? new Set<string>();
    for (const m of desired) await peer(s, n, m);
    for (const p of await net.listPeerings(vnetNameOf(n))) {
      if (!p.name.startsWith(PREFIX)) continue;
      const m = p.name.slice(PREFIX.length);
      if (desired.has(m)) continue;
      await net.deletePeering(vnetNameOf(n), p.name);
      await net.deletePeering(vnetNameOf(m), peeringNameOf(n));
    }
  }
}

/** The project networks among a router's interfaces (what reconcilePeerings is run for), of `nets` (allProjectNetworks). */
export function routerNetworks(nets: ProjectNetworkRecord[], interfaces: { subnet_id: string }[]): string[] {
  return nets.filter((n) => n.subnets.some((x) => interfaces.some((i) => i.subnet_id === x.id))).map((n) => n.id);
}
