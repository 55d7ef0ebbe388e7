// The service catalog in tokens: identity, compute and volumev3, each with public, internal and admin
// endpoints at the app's public URL. Endpoint ids are stable hashes so clients can cache them.
import { createHash } from 'node:crypto';
import type { JacketConfig } from '../config';

interface CatalogService {
  type: string;
  name: string;
  /** Path below the public URL; {project_id} is substituted per token. */
  path: string;
}

export const CATALOG_SERVICES: CatalogService[] = [
  { type: 'identity', name: 'keystone', path: '/identity' },
  { type: 'compute', name: 'nova', path: '/compute/v2.1' },
  { type: 'volumev3', name: 'cinderv3', path: '/volume/v3/{project_id}' },
  { type: 'image', name: 'glance', path: '/image' },
  { type: 'network', name: 'neutron', path: '/network' },
  { type: 'placement', name: 'placement', path: '/placement' },
];

const stableId = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 32);

export function buildCatalog(cfg: JacketConfig, projectId: string) {
  return CATALOG_SERVICES.map((svc) => ({
    id: stableId(`service:${svc.type}`),
    type: svc.type,
    name: svc.name,
    endpoints: (['public', 'internal', 'admin'] as const).map((iface) => ({
      id: stableId(`endpoint:${svc.type}:${iface}`),
      interface: iface,
      region: cfg.region,
      region_id: cfg.region,
      url: cfg.publicUrl + svc.path.replace('{project_id}', projectId),
    })),
  }));
}
