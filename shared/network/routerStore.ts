// The router records (table `routers`, one partition: a project has a handful). The API is routers.ts.
import type { Services } from '../services';
import { odata } from '../store/tables';
import { networkCatalog } from './catalog';
import { allProjectNetworks } from './projectNetworkStore';
import type { PortRecord } from './ports';

export interface RouterRecord {
  id: string;
  name: string;
  description: string;
  project_id: string;
  admin_state_up: boolean;
  /** The external network of the gateway, or null. */
  gateway_network_id: string | null;
  /**
   * ext-gw-mode's enable_snat: with a gateway, the router's project subnets leave for the Internet
   * through a NAT gateway (shared/network/snat.ts). Absent on older records: true, Neutron's default.
   */
  enable_snat?: boolean;
  /** The public address of the router's NAT gateway once it exists (its external_fixed_ips). */
  snat_ip?: string | null;
  /**
   * Interfaces, each with the id of its port. `by_port`: added by port_id (`router add port`), the
   * port a record of its own (ports.ts); otherwise added by subnet_id, the port Neutron would have
   * made shown from this entry (routerInterfacePorts).
   */
  interfaces: { subnet_id: string; port_id: string; by_port?: boolean }[];
  created_at: string;
  updated_at: string;
}

export const PK = 'router';
export const routerRepo = (s: Services) => s.tables.repository<RouterRecord>('routers', ['project_id']);
export async function projectRouters(s: Services, projectId: string): Promise<RouterRecord[]> {
  return (await routerRepo(s).list(PK, odata`project_id eq ${projectId}`)).map((r) => r.value);
}

/** True when the router SNATs: a gateway with enable_snat (the default). */
export const snats = (r: RouterRecord) => !!r.gateway_network_id && r.enable_snat !== false;

/** The NAT gateway (and its public IP) of a router's SNAT on Azure. */
export const natNameOf = (routerId: string) => `snat-${routerId}`;

/**
 * The NAT gateway each project subnet leaves through, from all router records: the subnet's router
 * that SNATs and has its NAT gateway (the oldest, if several do: Azure takes one NAT gateway per
 * subnet). A subnet absent from the map has none.
 */
export function natBySubnet(routers: RouterRecord[]): Map<string, string> {
  const out = new Map<string, string>();
  // Only a NAT gateway known to exist (its address recorded once made, snat.ts): a subnet PUT naming
  // one a failed reconcile never made would be refused (InvalidResourceReference) and fail the change.
  const ordered = routers.filter((r) => snats(r) && !!r.snat_ip).sort((a, b) => a.created_at.localeCompare(b.created_at) || a.id.localeCompare(b.id));
  for (const r of ordered) for (const i of r.interfaces) if (!out.has(i.subnet_id)) out.set(i.subnet_id, natNameOf(r.id));
  return out;
}

/** Neutron's device_owner of a router's interface port. */
export const ROUTER_INTERFACE = 'network:router_interface';

/**
 * The ports of the interfaces routers joined by subnet, as Neutron shows the port it makes for one
 * (device_owner network:router_interface, device_id the router, the subnet's gateway address, ACTIVE,
 * no security groups). Azure routes without router ports, so nothing is made for them: they are read
 * from the router records (`projects`: those projects' routers; undefined: every project's). Two
 * reads: the routers and the project networks (for the subnets' networks and gateways). Interfaces
 * added by port (`by_port`, or whose port is in `known`) are their own port records and are left out.
 */
export async function routerInterfacePorts(s: Services, projects: string[] | undefined, known: Set<string> = new Set()): Promise<PortRecord[]> {
  if (projects && projects.length === 0) return [];
  const filter = projects ? projects.map((p) => odata`project_id eq ${p}`).join(' or ') : undefined;
  const routers = (await routerRepo(s).list(PK, filter)).map((r) => r.value).filter((r) => r.interfaces.some((i) => !i.by_port && !known.has(i.port_id)));
  if (routers.length === 0) return [];
  const subnets = new Map<string, { network_id: string; gateway_ip: string | null }>();
  for (const n of networkCatalog(s.config).networks) subnets.set(n.subnet.id, { network_id: n.id, gateway_ip: n.subnet.gateway_ip });
  for (const n of await allProjectNetworks(s)) for (const x of n.subnets) subnets.set(x.id, { network_id: n.id, gateway_ip: x.gateway_ip });
  return routers.flatMap((r) =>
    r.interfaces
      .filter((i) => !i.by_port && !known.has(i.port_id))
      .map((i): PortRecord => {
        const sub = subnets.get(i.subnet_id);
        return {
          id: i.port_id,
          project_id: r.project_id,
          name: '',
          network_id: sub?.network_id ?? '',
          device_id: r.id,
          device_owner: ROUTER_INTERFACE,
          mac_address: '',
          fixed_ips: [{ subnet_id: i.subnet_id, ip_address: sub?.gateway_ip ?? '' }],
          security_groups: [],
          status: 'ACTIVE',
          created_at: r.created_at,
          updated_at: r.updated_at,
        };
      }),
  );
}
