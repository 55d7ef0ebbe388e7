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
