// A router's external gateway with SNAT (Neutron's ext-gw-mode, enable_snat true by default) on Azure:
// new Azure subnets have no default outbound access, so a server on a project network reaches the
// Internet only through a floating IP unless its subnet has a NAT gateway. A router that SNATs and
// joins project subnets gets one NAT gateway, `snat-<router id>`, with a Standard static public IP of
// the same name (its address is the router's external_fixed_ips), and each of those subnets names it
// (a subnet on two such routers takes the oldest router's: Azure allows one NAT gateway per subnet).
// Nothing is made for a router without project subnets (a NAT gateway is billed by the hour) or for
// the operator's subnets (their virtual networks are the operator's).
//
// Like the peerings (peerings.ts), the NAT gateways follow the router records: after a router's
// record changes, reconcileSnat brings its NAT gateway and the subnets of the networks it touched in
// line. Idempotent: a run cut short is finished by the next change of that router (logged).
import type { Services } from '../services';
import { log } from '../log';
import { natNameOf, PK, routerRepo, snats, type RouterRecord } from './routerStore';
import { allProjectNetworks, type ProjectNetworkRecord } from './projectNetworkStore';
import { syncVnet } from './projectNetworks';

export const snatTags = (r: Pick<RouterRecord, 'id' | 'project_id'>) => ({ jacket: 'router-snat', 'jacket-router-id': r.id, 'jacket-project-id': r.project_id });

/**
 * Brings router `routerId`'s NAT gateway in line with its record, and the subnets of the project
 * networks of `touched` (subnet ids it joined before the change; its current ones are added). The
 * NAT gateway is made before any subnet names it and deleted after none does (Azure refuses both
 * orders otherwise).
 */
export async function reconcileSnat(s: Services, routerId: string, touched: Iterable<string> = [], known?: ProjectNetworkRecord[]): Promise<void> {
  const net = s.azure.network;
  const r = (await routerRepo(s).get(PK, routerId))?.value;
  // A router that does not SNAT and has no NAT gateway recorded has nothing on Azure: no read more.
  if (r && !snats(r) && !r.snat_ip) return;
  const nets = known ?? (await allProjectNetworks(s));
  const projectSubnets = new Set(nets.flatMap((n) => n.subnets.map((x) => x.id)));
  const mine = (r?.interfaces ?? []).map((i) => i.subnet_id).filter((id) => projectSubnets.has(id));
  const want = !!r && snats(r) && mine.length > 0;
  if (!want && r && !r.snat_ip) return; // SNAT for the operator's subnets only: nothing to make
  const name = natNameOf(routerId);
  if (want) {
    const pip = await net.putPublicIp(name, snatTags(r));
    await net.putNatGateway(name, snatTags(r), pip.id);
    if (r.snat_ip !== pip.address) await routerRepo(s).update(PK, routerId, (x) => ({ ...x, snat_ip: pip.address }));
  }
  const subnets = new Set([...touched, ...mine]);
  for (const n of nets) if (n.subnets.some((x) => subnets.has(x.id))) await syncVnet(s, n.id);
  if (!want) {
    await net.deleteNatGateway(name);
    await net.deletePublicIp(name);
    if (r?.snat_ip) await routerRepo(s).update(PK, routerId, (x) => ({ ...x, snat_ip: null }));
  }
}

/** reconcileSnat, a failure logged and left to the router's next change (the record stands). */
export async function followSnat(s: Services, routerId: string, touched: Iterable<string> = [], known?: ProjectNetworkRecord[]): Promise<void> {
  try {
    await reconcileSnat(s, routerId, touched, known);
  } catch (e) {
    log.warn('router SNAT left to the next router change', { router: routerId, error: String(e) });
  }
}
