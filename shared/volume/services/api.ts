// /os-services (admin) as Cinder 3.0 renders it, with os-extended-services loaded as Cinder loads it:
// cinder-scheduler (the HTTP functions, host "jacket") and cinder-volume (the queue worker and timers,
// host jacket@azure: the backend whose pools are the managed disk SKUs, pools/api.ts), state up or down
// from their heartbeats (shared/servicegroup/registry.ts). enable, disable and disable-log-reason set
// the service's status as Cinder's releases do; a disabled cinder-volume leaves Cinder's scheduler no
// backend, and new volumes end in error (volumes/work.ts). From 3.32 (LOG_LEVEL) set-log and get-log
// change and show the services' log levels (registry.ts keeps them beside the heartbeats). docs/services.md.
import type { RequestContext, Route } from '../../http/router';
import { accepted, json } from '../../http/respond';
import { badRequest, notFound } from '../../http/errors';
import { validateBody } from '../../api/validation';
import { cinderRoute, cinderTime, clusterOrHost } from '../common';
import { authorize } from '../../api/policy';
import type { VolumePolicy } from '../policy';
import { CLUSTER_SUPPORT, REPLICATION_CLUSTER } from '../clusters/api';
import {
  API_BINARY,
  CINDER_LOG_LEVELS,
  CONTROL_HOST,
  LOGGER_NAME,
  applyLogLevel,
  getLogLevel,
  listServices,
  setLogLevel,
  setServiceState,
  type CinderLogLevel,
  type ServiceStatus,
} from '../../servicegroup/registry';

/** cinder/api/schemas/services.py enable_and_disable (host: parameter_types.cinder_host). */
const enableSchema = {
  type: 'object',
  properties: {
    binary: { type: 'string', minLength: 1, maxLength: 255 },
    host: { type: ['string', 'null'], minLength: 1, maxLength: 255, pattern: '^[a-zA-Z0-9-._#@:/+\\[\\]]*$' },
    cluster: { type: ['string', 'null'] },
    service: { type: 'string', minLength: 1, maxLength: 255 },
  },
  anyOf: [{ required: ['binary'] }, { required: ['service'] }],
  additionalProperties: false,
};
const disableLogSchema = { ...enableSchema, properties: { ...enableSchema.properties, disabled_reason: { type: 'string', minLength: 1, maxLength: 255 } } };

interface Body {
  binary?: string;
  host?: string | null;
  service?: string;
  disabled_reason?: string;
}

export const BACKEND_STATE_REPORT = '3.49';

/** From 3.7 (CLUSTER_SUPPORT) each service names its cluster: Jacket's are in none. */
function view(ctx: RequestContext, v: ServiceStatus) {
  return {
    binary: v.binary,
    host: v.host,
    zone: v.zone,
    status: v.disabled ? 'disabled' : 'enabled',
    state: v.up ? 'up' : 'down',
    updated_at: cinderTime(new Date(v.updated_at)),
    // 3.49 (BACKEND_STATE_REPORT): the backend's state as its pools report it (pools/api.ts: up while
    // cinder-volume beats).
    ...(ctx.microversion?.atLeast(BACKEND_STATE_REPORT) && v.binary === 'cinder-volume' ? { backend_state: v.up ? 'up' : 'down' } : {}),
    ...(ctx.microversion?.atLeast(CLUSTER_SUPPORT) ? { cluster: null } : {}),
    disabled_reason: v.disabled_reason,
    ...(v.binary === 'cinder-volume' ? { replication_status: 'disabled', active_backend_id: null, frozen: v.frozen ?? false } : {}),
  };
}

/** Cinder's host filter: the host itself, or its backends and pools (host@..., host#...). */
export const hostMatches = (host: string, want: string) => host === want || (!want.includes('@') && host.startsWith(`${want}@`)) || (!want.includes('#') && host.startsWith(`${want}#`));

async function index(ctx: RequestContext) {
  const host = ctx.query.get('host');
  const binary = ctx.query.get('binary');
  const all = await listServices(ctx.services, 'volume');
  return json({ services: all.filter((v) => (host === null || hostMatches(v.host, host)) && (binary === null || v.binary === binary)).map((v) => view(ctx, v)) });
}

function update(action: 'enable' | 'disable' | 'disable-log-reason') {
  return async (ctx: RequestContext) => {
    const body = validateBody<Body>(action === 'disable-log-reason' ? disableLogSchema : enableSchema, ctx.body);
    // common.get_cluster_host(req, body, False): the host is required.
    if (!body.host) throw badRequest('Invalid input received: Host field is missing.');
    const service = body.service ?? '';
    const binary = body.binary ?? '';
    const key = binary || service;
    const svc = (await listServices(ctx.services, 'volume')).find((v) => v.binary === key && v.host === body.host);
    if (!svc) throw notFound(`Service ${key} could not be found on host ${body.host}.`);
    const disabled = action !== 'enable';
    await setServiceState(ctx.services, svc, { disabled, ...(action === 'disable-log-reason' && body.disabled_reason ? { disabled_reason: body.disabled_reason } : {}) });
    return json({
      host: body.host,
      service,
      binary,
      status: disabled ? 'disabled' : 'enabled',
      disabled,
      ...(action === 'disable-log-reason' ? { disabled_reason: body.disabled_reason ?? null } : {}),
    });
  };
}

// ---- replication: freeze, thaw, failover_host (v3/services.py, volume/api.py) ----

const cinderHost = enableSchema.properties.host;
const nullableString = { type: ['string', 'null'], minLength: 0, maxLength: 255 };
/** schemas/services.py freeze_and_thaw and failover_host */
const freezeSchema = { type: 'object', properties: { cluster: nullableString, host: cinderHost }, additionalProperties: false };
const failoverSchema = { type: 'object', properties: { host: cinderHost, backend_id: nullableString, cluster: nullableString }, additionalProperties: false };

type Replication = 'freeze' | 'thaw' | 'failover_host';
const replicationSchema = (a: Replication) => (a === 'failover_host' ? failoverSchema : freezeSchema);

/**
 * volume/api.py _replication_db_change for Jacket's one cinder-volume (in no cluster): the service the
 * host names (ServiceNotFound, which the controller turns into InvalidInput), then its conditional
 * update — refused, Cinder's "No service could be changed" with the field's expected value.
 */
async function replicationChange(ctx: RequestContext, a: Replication): Promise<void> {
  const b = validateBody<{ host?: string | null; cluster?: string | null }>(replicationSchema(a), ctx.body);
  const { host, cluster } = clusterOrHost(ctx, b, REPLICATION_CLUSTER);
  const svc = host ? (await listServices(ctx.services, 'volume')).find((v) => v.binary === 'cinder-volume' && hostMatches(v.host, host)) : undefined;
  if (!svc) throw badRequest(`Invalid input received: ${host ? `No service found with host=${host}` : `No service found with cluster=${cluster}`}`);
  authorize(ctx, a === 'freeze' ? 'volume:freeze_host' : a === 'thaw' ? 'volume:thaw_host' : 'volume:failover_host');
  const refused = (field: string, expected: string, up: boolean) =>
    badRequest(`Invalid input received: No service could be changed: ${field} in ['${svc.host}'] must be ${expected} ${up ? 'and must be up ' : ''}to failover.`);
  if (a === 'failover_host') {
    // Jacket's backend has no replication (replication_status 'disabled'), never enabled or failed-over.
    throw refused('replication_status', "['enabled', 'failed-over']", true);
  }
  const freeze = a === 'freeze';
  // The manager then disables a frozen backend ('frozen') and enables a thawed one ('').
  const changed = await setServiceState(ctx.services, svc, { frozen: freeze, disabled: freeze, disabled_reason: freeze ? 'frozen' : '' }, (st) => !!st.frozen === !freeze);
  if (!changed) throw refused('frozen', freeze ? 'False' : 'True', false);
}

function replication(a: Replication) {
  return async (ctx: RequestContext) => {
    await replicationChange(ctx, a);
    // freeze and thaw answer 200 with no body (the controller returns None); failover_host 202.
    return a === 'failover_host' ? accepted() : { status: 200, headers: {} };
  };
}

/** The body's schema comes first (Cinder's decorator), then services:update (then, for replication, the action's own policy). */
const updateAfterSchema =
  (validate: (body: unknown) => unknown) =>
  (body: unknown): VolumePolicy | 'authenticated' => {
    try {
      validate(body);
    } catch {
      return 'authenticated';
    }
    return 'volume_extension:services:update';
  };

// ---- log levels: set-log and get-log (3.32, LOG_LEVEL) ----

export const LOG_LEVEL = '3.32';
/** constants.LOG_BINARIES: the services whose levels set-log and get-log reach. */
const LOG_BINARIES = ['cinder-scheduler', 'cinder-volume', 'cinder-backup', API_BINARY];
/** schemas/services.py set_log and get_log (binary: parameter_types.binary). */
const getLogSchema = {
  type: 'object',
  properties: { binary: { type: 'string', enum: [...LOG_BINARIES, '', '*'] }, server: nullableString, prefix: nullableString },
  additionalProperties: false,
};
const setLogSchema = { ...getLogSchema, properties: { ...getLogSchema.properties, level: { type: ['string', 'null'] } } };

interface LogBody {
  binary?: string;
  server?: string | null;
  prefix?: string | null;
  level?: string | null;
}

/** utils.get_log_method: one of Cinder's levels, any case; else InvalidInput (also for null or none). */
function logLevelOf(level: string | null | undefined): CinderLogLevel {
  const up = (level ?? '').toUpperCase();
  if (!(up in CINDER_LOG_LEVELS)) throw badRequest(`Invalid input received: ${level ?? ''} is not a valid log level.`);
  return up as CinderLogLevel;
}

/** The schema, with set_log's level checked by its format checker ('level') when the key is present. */
function validateLog(action: 'set' | 'get', body: unknown): LogBody {
  const b = validateBody<LogBody>(action === 'set' ? setLogSchema : getLogSchema, body);
  if (action === 'set' && 'level' in b) logLevelOf(b.level);
  return b;
}

/**
 * _log_params_binaries_services: the binaries named (all for '*', '' or none; cinder-api alone for
 * itself, with no service) and the up services of that binary, on the server when one is named.
 */
async function logTargets(ctx: RequestContext, b: LogBody): Promise<{ binaries: string[]; services: ServiceStatus[] }> {
  const binary = b.binary;
  if (binary === API_BINARY) return { binaries: [binary], services: [] };
  const all = binary === undefined || binary === '' || binary === '*';
  const services = (await listServices(ctx.services, 'volume')).filter((v) => v.up && (all || v.binary === binary) && (!b.server || hostMatches(v.host, b.server)));
  return { binaries: all ? LOG_BINARIES : [binary], services };
}

/** Jacket's loggers a prefix names (utils.get_loggers filtered by startswith): its one logger, or none. */
const loggersOf = (prefix: string | null | undefined) => (LOGGER_NAME.startsWith(prefix ?? '') ? [LOGGER_NAME] : []);

/** PUT /os-services/set-log: 202; the API's level first (an invalid level refuses it), then each service's. */
async function setLog(ctx: RequestContext) {
  const b = validateLog('set', ctx.body);
  const { binaries, services } = await logTargets(ctx, b);
  const named = loggersOf(b.prefix).length > 0;
  if (binaries.includes(API_BINARY)) {
    const level = logLevelOf(b.level);
    if (named) await setLogLevel(ctx.services, API_BINARY, CONTROL_HOST, level);
  }
  // A service's own set_log_levels is a cast: a missing level fails there, unseen by the caller.
  if (named && b.level != null && services.length > 0) {
    const level = logLevelOf(b.level);
    for (const svc of services) await setLogLevel(ctx.services, svc.binary, svc.host, level);
  }
  // The HTTP functions take theirs now; the worker and timers at their next heartbeat.
  await applyLogLevel(ctx.services, 'api');
  return accepted();
}

/** PUT /os-services/get-log: each binary's levels of the loggers the prefix names, as Cinder lists them. */
async function getLog(ctx: RequestContext) {
  const b = validateLog('get', ctx.body);
  const { binaries, services } = await logTargets(ctx, b);
  const levels = async (binary: string, host: string) => {
    const out: Record<string, string> = {};
    for (const name of loggersOf(b.prefix)) out[name] = await getLogLevel(ctx.services, binary, host);
    return out;
  };
  const result: { host: string; binary: string; levels: Record<string, string> }[] = [];
  // The API's own entry only when no server is named or the server is its CONF.host.
  if ((!b.server || b.server === CONTROL_HOST) && binaries.includes(API_BINARY)) result.push({ host: CONTROL_HOST, binary: API_BINARY, levels: await levels(API_BINARY, CONTROL_HOST) });
  for (const svc of services) result.push({ host: svc.host, binary: svc.binary, levels: await levels(svc.binary, svc.host) });
  return json({ log_levels: result });
}

export const volumeServiceRoutes: Route[] = [
  cinderRoute('services-list', 'GET', '/os-services', 'volume_extension:services:index', index),
  cinderRoute('services-enable', 'PUT', '/os-services/enable', 'volume_extension:services:update', update('enable')),
  cinderRoute('services-disable', 'PUT', '/os-services/disable', 'volume_extension:services:update', update('disable')),
  cinderRoute('services-disable-log-reason', 'PUT', '/os-services/disable-log-reason', 'volume_extension:services:update', update('disable-log-reason')),
  ...(['freeze', 'thaw', 'failover_host'] as const).map((a) =>
    cinderRoute(
      `services-${a}`,
      'PUT',
      `/os-services/${a}`,
      updateAfterSchema((b) => validateBody(replicationSchema(a), b)),
      replication(a),
    ),
  ),
  // Below 3.32 the versioned method's 404, before the schema and the policy.
  cinderRoute(
    'services-set-log',
    'PUT',
    '/os-services/set-log',
    updateAfterSchema((b) => validateLog('set', b)),
    setLog,
    { versions: { min: LOG_LEVEL } },
  ),
  cinderRoute(
    'services-get-log',
    'PUT',
    '/os-services/get-log',
    updateAfterSchema((b) => validateLog('get', b)),
    getLog,
    { versions: { min: LOG_LEVEL } },
  ),
];
