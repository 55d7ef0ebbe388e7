// /os-services (admin) as Nova renders it (forced_down and force-down from 2.11), over the services of shared/servicegroup/registry.ts:
// nova-scheduler and nova-conductor (the HTTP functions, host "jacket", zone "internal") and
// nova-compute (the queue worker and timers, host azure-<location>, the compute zones). State is up or
// down from their heartbeats; status is the operator's enable/disable. Disabling nova-compute makes new
// builds fail as Nova's scheduler does with no host to place on (servers/work/build.ts). docs/services.md.
import type { RequestContext, Route } from '../../http/router';
import { json, noContent } from '../../http/respond';
import { ApiError, badRequest, conflict, notFound } from '../../http/errors';
import { isUuidLike, schemaAt, validateBody, type SchemaByVersion } from '../../api/validation';
import type { Microversion } from '../../api/microversion';
import { computeRoute } from '../common';
import { deleteService, listServices, setServiceState, type ServiceState, type ServiceStatus } from '../../servicegroup/registry';
import { serverRepo } from '../servers/model';
import { strictQuery } from '../../http/router';

const updateProperties = {
  host: { type: 'string', minLength: 1, maxLength: 255, pattern: '^[a-zA-Z0-9-._]*$' },
  binary: { type: 'string', minLength: 1, maxLength: 255 },
  disabled_reason: { type: 'string', minLength: 1, maxLength: 255 },
};
const BOOLEAN_LIKE = [true, 'True', 'TRUE', 'true', '1', 'ON', 'On', 'on', 'YES', 'Yes', 'yes', false, 'False', 'FALSE', 'false', '0', 'OFF', 'Off', 'off', 'NO', 'No', 'no'];
const FORCED_DOWN = { type: ['boolean', 'string'], enum: BOOLEAN_LIKE };
/**
 * services.update (2.1-2.10), update_v211 (2.11-2.52: forced_down) and update_v253 (2.53: the service
 * by uuid in the path, the body only what changes) (nova/api/openstack/compute/schemas/services.py).
 */
const updateSchemas: SchemaByVersion = [
  ['2.1', { type: 'object', properties: updateProperties, required: ['host', 'binary'], additionalProperties: false }],
  [
    '2.11',
    {
      type: 'object',
      properties: { ...updateProperties, forced_down: FORCED_DOWN },
      required: ['host', 'binary'],
      additionalProperties: false,
    },
  ],
  [
    '2.53',
    {
      type: 'object',
      properties: { status: { type: 'string', enum: ['enabled', 'disabled'] }, disabled_reason: updateProperties.disabled_reason, forced_down: FORCED_DOWN },
      additionalProperties: false,
    },
  ],
];
/** oslo's bool_from_string for the values the schema admits. */
const boolOf = (v: boolean | string) => v === true || (typeof v === 'string' && ['true', '1', 'on', 'yes'].includes(v.toLowerCase()));

/** Nova's datetime as its JSON renders it: ISO 8601 with microseconds and no zone. */
export const novaDateTime = (iso: string) => new Date(iso).toISOString().replace('Z', '000');

/** ServiceController._get_service_detail (forced_down from 2.11; the integer id before 2.53, the uuid from it). */
export function serviceView(v: ServiceStatus, mv?: Microversion) {
  return {
    ...(mv?.atLeast('2.11') ? { forced_down: v.forced_down } : {}),
    binary: v.binary,
    host: v.host,
    id: mv?.atLeast('2.53') ? v.uuid : v.id,
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
  return json({ services: all.filter((v) => (!host || v.host === host) && (!binary || v.binary === binary)).map((v) => serviceView(v, ctx.microversion)) });
}

/** The compute service the body names, after Nova's binary check (400) and host mapping (404). */
async function namedService(ctx: RequestContext, body: { host: string; binary: string }): Promise<ServiceStatus> {
  if (body.binary !== 'nova-compute') throw badRequest(`Updating a ${body.binary} service is not supported. Only nova-compute services can be updated.`);
  // Only a registered compute host has Nova's host mapping.
  const svc = (await listServices(ctx.services, 'compute')).find((v) => v.binary === body.binary && v.host === body.host);
  if (!svc) throw new ApiError(404, `Host '${body.host}' is not mapped to any cell`);
  return svc;
}

/**
 * PUT /os-services/{enable|disable|disable-log-reason}, and from 2.11 force-down ("Unknown action"
 * below it). A forced-down compute service is down (listServices), so nothing is scheduled to it. No
 * evacuation ever completes on Jacket, so forcing one up never meets Nova's `done` evacuation check.
 * From 2.53 the path names the service by uuid instead (updateV253).
 */
async function update(ctx: RequestContext) {
  if (ctx.microversion?.atLeast('2.53')) return updateV253(ctx);
  const body = validateBody<{ host: string; binary: string; disabled_reason?: string; forced_down?: boolean | string }>(schemaAt(ctx.microversion, updateSchemas), ctx.body);
  const action = ctx.params.action;
  const actions = ['enable', 'disable', 'disable-log-reason', ...(ctx.microversion?.atLeast('2.11') ? ['force-down'] : [])];
  if (!actions.includes(action)) throw notFound('Unknown action');
  if (action === 'force-down') {
    if (body.forced_down === undefined) throw badRequest('Missing forced_down field');
    const forcedDown = boolOf(body.forced_down);
    await setServiceState(ctx.services, await namedService(ctx, body), { forced_down: forcedDown });
    return json({ service: { host: body.host, binary: body.binary, forced_down: forcedDown } });
  }
  if (action === 'disable-log-reason' && body.disabled_reason === undefined) throw badRequest('Missing disabled reason field');
  const svc = await namedService(ctx, body);
  const reason = action === 'disable-log-reason' ? body.disabled_reason! : null;
  const disabled = action !== 'enable';
  await setServiceState(ctx.services, svc, { disabled, disabled_reason: reason });
  return json({ service: { host: body.host, binary: body.binary, status: disabled ? 'disabled' : 'enabled', ...(reason ? { disabled_reason: reason } : {}) } });
}

/** The compute API's service by uuid (Nova compares it as its database does, letter case aside). */
async function serviceByUuid(ctx: RequestContext, id: string): Promise<ServiceStatus | undefined> {
  return (await listServices(ctx.services, 'compute')).find((v) => v.uuid === id.toLowerCase());
}

/**
 * ServiceController._update_v253: the body (update_v253) first, then the uuid (400 `Invalid uuid`), the
 * service (404), only nova-compute (400); `status` enables (a reason with it is 400) or disables (the
 * reason optional, else cleared), `forced_down` as well; a body that sets neither is 400. Answers the
 * whole service as the list shows it.
 */
async function updateV253(ctx: RequestContext) {
  const body = validateBody<{ status?: 'enabled' | 'disabled'; disabled_reason?: string; forced_down?: boolean | string }>(schemaAt(ctx.microversion, updateSchemas), ctx.body);
  const id = ctx.params.action;
  if (!isUuidLike(id)) throw badRequest(`Invalid uuid ${id}`);
  const svc = await serviceByUuid(ctx, id);
  if (!svc) throw notFound(`Service ${id} could not be found.`);
  if (svc.binary !== 'nova-compute') throw badRequest(`Updating a ${svc.binary} service is not supported. Only nova-compute services can be updated.`);
  const patch: Partial<ServiceState> = {};
  if (body.status === 'enabled') {
    if (body.disabled_reason) throw badRequest("Specifying 'disabled_reason' with status 'enabled' is invalid.");
    Object.assign(patch, { disabled: false, disabled_reason: null });
  } else if (body.status === 'disabled') Object.assign(patch, { disabled: true, disabled_reason: body.disabled_reason ?? null });
  if (body.forced_down !== undefined) patch.forced_down = boolOf(body.forced_down);
  if (Object.keys(patch).length === 0) throw badRequest("No updates were requested. Fields 'status' or 'forced_down' should be specified.");
  await setServiceState(ctx.services, svc, patch);
  const after = (await serviceByUuid(ctx, svc.uuid)) ?? { ...svc, ...patch, up: svc.up && !patch.forced_down };
  return json({ service: serviceView(after, ctx.microversion) });
}

/**
 * DELETE /os-services/{id}: a compute service hosting servers is kept (409), as Nova keeps it. The id
 * is the integer before 2.53 and the uuid from it (400 `Invalid uuid` for anything else).
 */
async function remove(ctx: RequestContext) {
  const raw = ctx.params.action;
  let svc: ServiceStatus | undefined;
  if (ctx.microversion?.atLeast('2.53')) {
    if (!isUuidLike(raw)) throw badRequest(`Invalid uuid ${raw}`);
    svc = await serviceByUuid(ctx, raw);
  } else {
    if (!/^\s*[+-]?\d+\s*$/.test(raw)) throw badRequest('Invalid input received: id must be an integer');
    svc = (await listServices(ctx.services, 'compute')).find((v) => v.id === Number(raw));
  }
  if (!svc) throw notFound(`Service ${raw} not found.`);
  if (svc.binary === 'nova-compute') {
    const hosted = (await serverRepo(ctx.services).queryAll("PartitionKey gt ''", 100_000)).some((r) => r.value.host === svc.host);
    if (hosted) throw conflict('Unable to delete compute service that is hosting instances. Migrate or delete the instances first.');
  }
  await deleteService(ctx.services, svc);
  return noContent();
}

export const computeServiceRoutes: Route[] = [
  computeRoute('services-list', 'GET', '/os-services', 'os_compute_api:os-services:list', index, { strictQuery: strictQuery(['host', 'binary']) }),
  computeRoute('services-update', 'PUT', '/os-services/{action}', 'os_compute_api:os-services:update', update),
  computeRoute('services-delete', 'DELETE', '/os-services/{action}', 'os_compute_api:os-services:delete', remove),
];
