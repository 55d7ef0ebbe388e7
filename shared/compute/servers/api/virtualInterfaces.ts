// os-virtual-interfaces (nova/api/openstack/compute/virtual_interfaces.py). It worked only with
// nova-network (2.12 added net_id to its view): from 2.44 it answered 404, and since Rocky (18.0.0) Nova answers 410 Gone at every
// microversion, before any lookup or policy check. Jacket answers as Nova does today; the server's
// interfaces are its ports (GET /network/v2.0/ports?device_id=<server id>).
import type { Route } from '../../../http/router';
import { computeRoute, gone } from '../../common';

export const virtualInterfaceRoutes: Route[] = [
  computeRoute('server-virtual-interfaces', 'GET', '/servers/{server_id}/os-virtual-interfaces', 'authenticated', async () => {
    throw gone();
  }),
];
