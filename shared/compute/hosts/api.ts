// /os-hosts (admin, Nova 2.1 to 2.42) over the services of shared/servicegroup/registry.ts: the index
// lists each enabled service's host with its topic and zone; show answers for the compute host (the only
// one with Nova's host mapping) with its first compute node's totals (the first hypervisor, as Nova's
// get_first_node_by_host_for_old_compat) and the servers on it, in total and per project. Host power
// actions and PUT (enable, maintenance) reach the virt driver in Nova; Azure offers neither for its hosts,
// so they answer as a driver without them does: 501. docs/services.md.
import type { RequestContext, Route } from '../../http/router';
import { json } from '../../http/respond';
import { ApiError, notImplemented } from '../../http/errors';
import { validateBody } from '../../api/validation';
import { computeRoute } from '../common';
import { listServices } from '../../servicegroup/registry';
import { serverRepo, type ServerRecord } from '../servers/model';
import { hypervisorRows } from '../hypervisors/api';

const updateSchema = {
  type: 'object',
  properties: {
    status: { type: 'string', enum: ['enable', 'disable', 'Enable', 'Disable', 'ENABLE', 'DISABLE'] },
    maintenance_mode: { type: 'string', enum: ['enable', 'disable', 'Enable', 'Disable', 'ENABLE', 'DISABLE'] },
  },
  anyOf: [{ required: ['status'] }, { required: ['maintenance_mode'] }],
  additionalProperties: false,
};

const NOT_SUPPORTED = 'The requested functionality is not supported.';

async function index(ctx: RequestContext) {
  const zone = ctx.query.get('zone');
  const services = (await listServices(ctx.services, 'compute')).filter((v) => !v.disabled && (!zone || v.zone === zone));
  return json({ hosts: services.map((v) => ({ host_name: v.host, service: v.topic, zone: v.zone })) });
}

/** The registered compute host by name (Nova's HostMapping), else Nova's 404. */
async function computeHost(ctx: RequestContext): Promise<string> {
  const name = ctx.params.host_name;
  const svc = (await listServices(ctx.services, 'compute')).find((v) => v.binary === 'nova-compute' && v.host === name);
  if (!svc) throw new ApiError(404, `Host '${name}' is not mapped to any cell`);
  return name;
}

async function serversOn(ctx: RequestContext, host: string): Promise<ServerRecord[]> {
  return (await serverRepo(ctx.services).queryAll("PartitionKey gt ''", 100_000)).map((r) => r.value).filter((v) => v.host === host);
}

async function show(ctx: RequestContext) {
  const host = await computeHost(ctx);
  const node = (await hypervisorRows(ctx.services))[0];
  const servers = await serversOn(ctx, host);
  const resource = (project: string, cpu: number, memory_mb: number, disk_gb: number) => ({ resource: { host, project, cpu, memory_mb, disk_gb } });
  const sum = (list: ServerRecord[]) =>
    list.reduce((a, v) => ({ cpu: a.cpu + v.flavor.vcpus, mem: a.mem + v.flavor.ram, disk: a.disk + v.flavor.disk + v.flavor.ephemeral }), { cpu: 0, mem: 0, disk: 0 });
  const max = sum(servers);
  const byProject = new Map<string, ServerRecord[]>();
  for (const v of servers) byProject.set(v.project_id, [...(byProject.get(v.project_id) ?? []), v]);
  return json({
    host: [
      resource('(total)', node.vcpus, node.memory_mb, node.local_gb),
      resource('(used_now)', node.vcpus_used, node.memory_mb_used, node.local_gb_used),
      resource('(used_max)', max.cpu, max.mem, max.disk),
      ...[...byProject].map(([p, list]) => {
        const t = sum(list);
        return resource(p, t.cpu, t.mem, t.disk);
      }),
    ],
  });
}

/** PUT /os-hosts/{host}: validated, the host looked up, then the driver's answer: not supported. */
async function update(ctx: RequestContext): Promise<never> {
  validateBody(updateSchema, ctx.body);
  await computeHost(ctx);
  throw notImplemented(NOT_SUPPORTED);
}

async function powerAction(ctx: RequestContext): Promise<never> {
  await computeHost(ctx);
  throw notImplemented(NOT_SUPPORTED);
}

/** Nova's HostController exists up to 2.42 (deprecated at 2.43): a bare 404 from 2.43, before the policy. */
const HOSTS_API = { versions: { max: '2.42' } };

export const hostRoutes: Route[] = [
  computeRoute('hosts-list', 'GET', '/os-hosts', 'os_compute_api:os-hosts:list', index, HOSTS_API),
  computeRoute('hosts-show', 'GET', '/os-hosts/{host_name}', 'os_compute_api:os-hosts:show', show, HOSTS_API),
  computeRoute('hosts-update', 'PUT', '/os-hosts/{host_name}', 'os_compute_api:os-hosts:update', update, HOSTS_API),
  computeRoute('hosts-reboot', 'GET', '/os-hosts/{host_name}/reboot', 'os_compute_api:os-hosts:reboot', powerAction, HOSTS_API),
  computeRoute('hosts-shutdown', 'GET', '/os-hosts/{host_name}/shutdown', 'os_compute_api:os-hosts:shutdown', powerAction, HOSTS_API),
  computeRoute('hosts-startup', 'GET', '/os-hosts/{host_name}/startup', 'os_compute_api:os-hosts:start', powerAction, HOSTS_API),
];
