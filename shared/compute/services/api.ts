// /os-services (admin) as Nova 2.1 renders it, over the services of shared/servicegroup/registry.ts:
// nova-scheduler and nova-conductor (the HTTP functions, host "jacket", zone "internal") and
// nova-compute (the queue worker and timers, host azure-<location>, the compute zones). State is up or
// down from their heartbeats; status is the operator's enable/disable. Disabling nova-compute makes new
// builds fail as Nova's scheduler does with no host to place on (servers/work/build.ts). docs/services.md.
import type { RequestContext, Route } from '../../http/router';
import { json, noContent } from '../../http/respond';
import { ApiError, badRequest, conflict, notFound } from '../../http/errors';
import { validateBody } from '../../api/validation';
import { computeRoute } from '../common';
import { deleteService, listServices, serviceDefs, setServiceState, type ServiceStatus } from '../../servicegroup/registry';
import { serverRepo } from '../servers/model';

/** services.update at 2.1 (nova/api/openstack/compute/schemas/services.py). */
const updateSchema = {
  type: 'object',
  properties: {
    host: { type: 'string', minLength: 1, maxLength: 255, pattern: '^[a-zA-Z0-9-._]*$' },
    binary: { type: 'string', minLength: 1, maxLength: 255 },
    disabled_reason: { type: 'string', minLength: 1, maxLength: 255 },
  },
  required: ['host', 'binary'],
  additionalProperties: false,
};

/** Nova's datetime as its JSON renders it: ISO 8601 with microseconds and no zone. */
export const novaDateTime = (iso: string) => new Date(iso).toISOString().replace('Z', '000');

/** ServiceController._get_service_detail at 2.1 (no forced_down before 2.11, integer ids before 2.53). */
export function serviceView(v: ServiceStatus) {
  return {
    binary: v.binary,
    host: v.host,
    id: v.id,
    zone: v.zone,
    status: v.disabled ? 'disabled' : 'enabled',
    state: v.up ? 'up' : 'down',
    updated_at: novaDateTime(v.updated_at),
    disabled_reason: v.disabled_reason,
  };
}

/** req.GET[name]: the last value given, '' when absent. */
const lastParam = (ctx: RequestContext, name: string) => ctx.query.getAll(name).at(-1) ?? '';

async function index(ctx: RequestContext) {
  const host = lastParam(ctx, 'host');
  const binary = lastParam(ctx, 'binary');
  const all = await listServices(ctx.services, 'compute');
  return json({ services: all.filter((v) => (!host || v.host === host) && (!binary || v.binary === binary)).map(serviceView) });
}

/** PUT /os-services/{enable|disable|disable-log-reason} (force-down only from 2.11: "Unknown action" here). */
async function update(ctx: RequestContext) {
  const body = validateBody<{ host: string; binary: string; disabled_reason?: string }>(updateSchema, ctx.body);
  const action = ctx.params.action;
  if (!['enable', 'disable', 'disable-log-reason'].includes(action)) throw notFound('Unknown action');
  if (action === 'disable-log-reason' && body.disabled_reason === undefined) throw badRequest('Missing disabled reason field');
  if (body.binary !== 'nova-compute') throw badRequest(`Updating a ${body.binary} service is not supported. Only nova-compute services can be updated.`);
  // Only a registered compute host has Nova's host mapping.
  const svc = (await listServices(ctx.services, 'compute')).find((v) => v.binary === body.binary && v.host === body.host);
  if (!svc) throw new ApiError(404, `Host '${body.host}' is not mapped to any cell`);
  const reason = action === 'disable-log-reason' ? body.disabled_reason! : null;
  const disabled = action !== 'enable';
  await setServiceState(ctx.services, svc, { disabled, disabled_reason: reason });
  return json({ service: { host: body.host, binary: body.binary, status: disabled ? 'disabled' : 'enabled', ...(reason ? { disabled_reason: reason } : {}) } });
}

/** DELETE /os-services/{id}: a compute service hosting servers is kept (409), as Nova keeps it. */
async function remove(ctx: RequestContext) {
  const raw = ctx.params.action;
  if (!/^\s*[+-]?\d+\s*$/.test(raw)) throw badRequest('Invalid input received: id must be an integer');
  const id = Number(raw);
  const svc = (await listServices(ctx.services, 'compute')).find((v) => v.id === id);
  if (!svc) throw notFound(`Service ${raw} not found.`);
  if (svc.binary === 'nova-compute') {
    const hosted = (await serverRepo(ctx.services).queryAll("PartitionKey gt ''", 100_000)).some((r) => r.value.host === svc.host);
    if (hosted) throw conflict('Unable to delete compute service that is hosting instances. Migrate or delete the instances first.');
  }
  await deleteService(
    ctx.services,
    serviceDefs(ctx.services.config).find((d) => d.api === 'compute' && d.id === id)!,
  );
  return noContent();
}

export const computeServiceRoutes: Route[] = [
  computeRoute('services-list', 'GET', '/os-services', 'os_compute_api:os-services:list', index),
  computeRoute('services-update', 'PUT', '/os-services/{action}', 'os_compute_api:os-services:update', update),
  computeRoute('services-delete', 'DELETE', '/os-services/{action}', 'os_compute_api:os-services:delete', remove),
];
