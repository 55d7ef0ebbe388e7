// Write calls on networks and subnets: Jacket maps the operator's, so neither is created, changed or
// deleted through this API (ports, security groups, floating IPs and routers are: portService.ts,
// securityGroups.ts, floatingIps.ts, routers.ts). Policy is checked first (as Neutron's policy hook runs before the plugin), then the call answers
// as Neutron does for a plugin without the method: 501 NotImplementedError.
// Extensions Jacket does not offer (trunks, QoS, ...) are absent: their paths match no route and answer
// Neutron's 404 {"NeutronError": {"type": "HTTPNotFound", "message": "The resource could not be found."}}.
import type { Method, Route } from '../http/router';
import { networkRoute, notImplemented } from './common';
import type { NetworkPolicy } from './policy';

const RESOURCES: [resource: string, collection: string, idParam: string][] = [
  ['network', '/networks', 'network_id'],
  ['subnet', '/subnets', 'subnet_id'],
];

function writes(resource: string, collection: string, idParam: string): Route[] {
  const one = `${collection}/{${idParam}}`;
  const w = (action: string, method: Method, path: string) =>
    networkRoute(`${collection.slice(1)}-${action}`, method, path, `${action}_${resource}` as NetworkPolicy, notImplemented(`${action}_${resource}`));
  const routes = [w('create', 'POST', collection), w('delete', 'DELETE', one)];
  routes.push(w('update', 'PUT', one));
  return routes;
}

export const networkWriteRoutes: Route[] = RESOURCES.flatMap(([r, c, id]) => writes(r, c, id));
