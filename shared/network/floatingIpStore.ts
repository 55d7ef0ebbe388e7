// The floating IP records (table `floatingips`, one partition: a project has tens at most) and the
// claim rows that give a port at most one floating IP (table `floatingipports`). The rules are the
// service's (floatingIpService.ts).
import type { Services } from '../services';
import { isValidKey, odata, type Stored } from '../store/tables';

export interface FloatingIpRecord {
  id: string;
  project_id: string;
  floating_network_id: string;
  floating_ip_address: string;
  port_id: string | null;
  fixed_ip_address: string | null;
  /** The server of the associated port (Neutron's port device_id), for its addresses. */
  device_id: string | null;
  description: string;
  status: 'ACTIVE' | 'DOWN';
  created_at: string;
  updated_at: string;
  /** The public IP's ARM id. */
  azure_id: string;
}

export const PK = 'fip';
export const CLAIMS = 'port';
export const fipRepo = (s: Services) => s.tables.repository<FloatingIpRecord>('floatingips', ['project_id', 'port_id', 'floating_ip_address']);
/** One row per port that has a floating IP: the port can take no second one (FloatingIPPortAlreadyAssociated). */
export const claimRepo = (s: Services) => s.tables.repository<{ floatingip_id: string }>('floatingipports');
export const publicIpNameOf = (id: string) => `fip-${id}`;
export const fipTags = (f: Pick<FloatingIpRecord, 'id' | 'project_id'>) => ({ jacket: 'floating-ip', 'jacket-floating-ip-id': f.id, 'jacket-project-id': f.project_id });

export async function getFloatingIp(s: Services, id: string): Promise<Stored<FloatingIpRecord> | undefined> {
  return isValidKey(id) ? fipRepo(s).get(PK, id.toLowerCase()) : undefined;
}

/** The floating IPs a caller sees: their project's; all for admins. */
export async function listFloatingIps(s: Services, projectId: string | undefined): Promise<FloatingIpRecord[]> {
  return (await fipRepo(s).list(PK, projectId === undefined ? undefined : odata`project_id eq ${projectId}`)).map((r) => r.value);
}
