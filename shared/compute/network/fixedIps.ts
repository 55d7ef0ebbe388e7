// os-fixed-ips (nova/api/openstack/compute/fixed_ips.py). It worked only with nova-network (2.4 added
// `reserved` to its show); since Rocky (18.0.0) Nova answers 410 Gone at every microversion, before
// any lookup or policy check, and Jacket answers as Nova does today. A port's addresses are Neutron's
// (GET /network/v2.0/ports).
import type { Route } from '../../http/router';
import { computeRoute, gone } from '../common';

export const fixedIpRoutes: Route[] = [
  computeRoute('fixed-ips-show', 'GET', '/os-fixed-ips/{id}', 'authenticated', async () => {
    throw gone();
  }),
  computeRoute('fixed-ips-action', 'POST', '/os-fixed-ips/{id}/action', 'authenticated', async () => {
    throw gone();
  }),
];
