// The router records (table `routers`, one partition: a project has a handful). The API is routers.ts.
import type { Services } from '../services';
import { odata } from '../store/tables';

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
  /** Subnets added as interfaces, each with the id of the port Neutron would have made for it. */
  interfaces: { subnet_id: string; port_id: string }[];
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
 * that SNATs (the oldest, if several do: Azure takes one NAT gateway per subnet). A subnet absent
 * from the map has none.
 */
export function natBySubnet(routers: RouterRecord[]): Map<string, string> {
  const out = new Map<string, string>();
  const ordered = routers.filter(snats).sort((a, b) => a.created_at.localeCompare(b.created_at) || a.id.localeCompare(b.id));
  for (const r of ordered) for (const i of r.interfaces) if (!out.has(i.subnet_id)) out.set(i.subnet_id, natNameOf(r.id));
  return out;
}
