// Nova's server addresses API (nova/api/openstack/compute/ips.py): GET /servers/{id}/ips and
// /servers/{id}/ips/{network_label}, the basic address view (version and addr only, no OS-EXT-IPS keys),
// grouped by network name as the server views group them (servers/view.ts addresses()).
import type { RequestContext, Route } from '../../../http/router';
import { json } from '../../../http/respond';
import { notFound } from '../../../http/errors';
import { computeRoute } from '../../common';
import { visibleServer } from '../model';
import { addresses } from '../views';

async function index(ctx: RequestContext) {
  const srv = await visibleServer(ctx);
  return json({ addresses: addresses(srv.value, false) });
}

async function show(ctx: RequestContext) {
  const srv = await visibleServer(ctx);
  const label = ctx.params.network_label;
  const byNetwork = addresses(srv.value, false);
  if (!Object.prototype.hasOwnProperty.call(byNetwork, label)) throw notFound('Instance is not a member of specified network');
  return json({ [label]: byNetwork[label] });
}

const P = 'os_compute_api:ips:';

export const serverAddressRoutes: Route[] = [
  computeRoute('server-ips-index', 'GET', '/servers/{server_id}/ips', `${P}index`, index),
  computeRoute('server-ips-show', 'GET', '/servers/{server_id}/ips/{network_label}', `${P}show`, show),
];
