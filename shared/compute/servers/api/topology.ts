// GET /servers/{server_id}/topology (nova/api/openstack/compute/server_topology.py), from 2.78 (a bare
// 404 below, as Nova's api_version). Nova renders the instance's NUMA topology; a server without one
// (no hw:numa_nodes, hw:cpu_policy or huge pages in its flavor, and any server of a driver without NUMA
// placement) is {"nodes": [], "pagesize_kb": null}. Azure places VMs by size and exposes no guest NUMA
// pinning or huge pages to choose, so every Jacket server is the latter. The host part of a node
// (compute:server:topology:host:index: host_node, cpu_pinning) never arises: there are no nodes.
import type { RequestContext, Route } from '../../../http/router';
import { json } from '../../../http/respond';
import { computeRoute } from '../../common';
import { visibleServer } from '../model';

async function index(ctx: RequestContext) {
  await visibleServer(ctx);
  return json({ nodes: [], pagesize_kb: null });
}

export const serverTopologyRoutes: Route[] = [computeRoute('server-topology', 'GET', '/servers/{server_id}/topology', 'compute:server:topology:index', index, { versions: { min: '2.78' } })];
