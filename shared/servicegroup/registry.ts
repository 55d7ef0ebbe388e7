// The services Nova's and Cinder's os-services list, as the parts of the Functions app that play them
// (Nova's servicegroup DB driver and Cinder's service heartbeats, in one small table):
//   api side    (the HTTP functions)        nova-scheduler, nova-conductor, cinder-scheduler on host "jacket"
//   worker side (the queue worker, timers)  nova-compute on azure-<location> (the host servers show),
//                                           cinder-volume on jacket@azure (the host volumes show)
// Each side writes a heartbeat row when it runs: the HTTP pipeline on a compute or volume request, the
// worker on each work item, each timer invocation; at most once per REPORT_INTERVAL per process (Nova's
// report_interval, 10 s). A service is "up" when its last heartbeat is within SERVICE_DOWN_TIME (Nova's
// and Cinder's service_down_time, 60 s) and it is not forced down. A service is listed once it has
// beaten; DELETE removes its rows and its next heartbeat registers it again (as a Nova service does when
// it restarts). Admin state (disabled, reason, forced down) lives in a row apart from the heartbeat, so a
// heartbeat is one blind upsert that never races an operator's change. docs/services.md.
import { createHash } from 'node:crypto';
import type { Services } from '../services';
import type { JacketConfig } from '../config';
import { log, type LogLevel } from '../log';
import { AlreadyExistsError, ConcurrencyError } from '../store/tables';
import { availabilityZones } from '../compute/zones/api';

export type ServiceApi = 'compute' | 'volume';
export type ServiceSide = 'api' | 'worker';

export interface ServiceDef {
  api: ServiceApi;
  /** Stable per API (Nova's integer id before 2.53); the list order. */
  id: number;
  /** Nova's service uuid (its id from 2.53): derived from the API, binary and host, so every process agrees. */
  uuid: string;
  binary: string;
  host: string;
  /** Nova's service topic (os-hosts shows it). */
  topic: string;
  zone: string;
  side: ServiceSide;
}

export interface ServiceState {
  disabled: boolean;
  disabled_reason: string | null;
  forced_down: boolean;
  /** Cinder's freeze_host (cinder-volume only): the backend's management plane is read-only. */
  frozen?: boolean;
}

export interface ServiceStatus extends ServiceDef, ServiceState {
  /** The last heartbeat (ISO 8601). */
  updated_at: string;
  up: boolean;
}

/** Nova's and Cinder's report_interval: a process writes its heartbeat at most this often. */
export const REPORT_INTERVAL_MS = 10_000;
/** Nova's and Cinder's service_down_time: a heartbeat older than this makes a service "down". */
export const SERVICE_DOWN_TIME_MS = 60_000;
/** The host of the control-plane services (the HTTP functions). */
export const CONTROL_HOST = 'jacket';
/** Cinder's volume service host, host@backend (volumes show jacket@azure#<SKU> as os-vol-host-attr:host). */
export const VOLUME_HOST = 'jacket@azure';
/** Nova's internal_service_availability_zone. */
export const INTERNAL_ZONE = 'internal';
/** Cinder's storage_availability_zone (the volumes' zone, VOLUME_AZ). */
const CINDER_ZONE = 'nova';

/** The one compute host: what servers show as OS-EXT-SRV-ATTR:host and hypervisors as service.host. */
export const computeHost = (cfg: JacketConfig) => `azure-${cfg.azure.location}`;

/**
 * A stable uuid named by `seed`: an RFC 4122 name-based layout over SHA-1 (as uuid5), the same in every
 * process. Compute nodes (hypervisors, Placement's providers) and services take theirs from it.
 */
export function nameBasedUuid(seed: string): string {
  const h = createHash('sha1').update(seed).digest();
  h[6] = (h[6] & 0x0f) | 0x50;
  h[8] = (h[8] & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

const withUuid = (d: Omit<ServiceDef, 'uuid'>): ServiceDef => ({ ...d, uuid: nameBasedUuid(`jacket-service:${d.api}:${d.binary}:${d.host}`) });

export function serviceDefs(cfg: JacketConfig): ServiceDef[] {
  // A host in several zones shows them joined by commas, as Nova's availability_zones does.
  const computeZone = availabilityZones(cfg)
    .map((z) => z.name)
    .join(',');
  const defs: Omit<ServiceDef, 'uuid'>[] = [
    { api: 'compute', id: 1, binary: 'nova-scheduler', host: CONTROL_HOST, topic: 'scheduler', zone: INTERNAL_ZONE, side: 'api' },
    { api: 'compute', id: 2, binary: 'nova-conductor', host: CONTROL_HOST, topic: 'conductor', zone: INTERNAL_ZONE, side: 'api' },
    { api: 'compute', id: 3, binary: 'nova-compute', host: computeHost(cfg), topic: 'compute', zone: computeZone, side: 'worker' },
    { api: 'volume', id: 1, binary: 'cinder-scheduler', host: CONTROL_HOST, topic: 'cinder-scheduler', zone: CINDER_ZONE, side: 'api' },
    { api: 'volume', id: 2, binary: 'cinder-volume', host: VOLUME_HOST, topic: 'cinder-volume', zone: CINDER_ZONE, side: 'worker' },
  ];
  return defs.map(withUuid);
}

/**
 * The uuid of Jacket's cinder-volume service (the backend every volume is on: views' service_uuid, 3.48),
 * worked out once per configuration: every volume of a detailed list asks for it.
 */
const volumeUuids = new WeakMap<JacketConfig, string>();
export function volumeServiceUuid(cfg: JacketConfig): string {
  let id = volumeUuids.get(cfg);
  if (id === undefined) volumeUuids.set(cfg, (id = serviceDefs(cfg).find((d) => d.binary === 'cinder-volume')!.uuid));
  return id;
}

interface Row {
  updated_at?: string;
  disabled?: boolean;
  disabled_reason?: string | null;
  forced_down?: boolean;
  frozen?: boolean;
  /** A log-level row (log:<binary>:<host>): the Cinder level set-log stored. */
  level?: CinderLogLevel;
}

const repo = (s: Services) => s.tables.repository<Row>('services');
const beatKey = (d: ServiceDef) => `beat:${d.binary}:${d.host}`;
const stateKey = (d: ServiceDef) => `state:${d.binary}:${d.host}`;
const ENABLED: ServiceState = { disabled: false, disabled_reason: null, forced_down: false };

const lastBeat = new WeakMap<Services, Map<string, number>>();

/**
 * Writes the heartbeat of a side's services (throttled per process; `force` skips the throttle).
 * A failed write is logged, never thrown: a heartbeat must not fail the request or work it rides on.
 */
export async function reportState(s: Services, side: ServiceSide, now = new Date(), force = false): Promise<void> {
  let seen = lastBeat.get(s);
  if (!seen) lastBeat.set(s, (seen = new Map()));
  let due: ServiceDef[] = [];
  try {
    due = serviceDefs(s.config).filter((d) => d.side === side && (force || now.getTime() - (seen.get(`${d.api}:${d.binary}`) ?? 0) >= REPORT_INTERVAL_MS));
    if (due.length === 0) return;
    for (const d of due) seen.set(`${d.api}:${d.binary}`, now.getTime());
    await Promise.all(due.map((d) => repo(s).upsert(d.api, beatKey(d), { updated_at: now.toISOString() })));
    // With the heartbeat, the process takes up the log level set-log stored for its services.
    await applyLogLevel(s, side);
  } catch (e) {
    for (const d of due) seen.delete(`${d.api}:${d.binary}`);
    log.warn('service heartbeat not written', { side, error: e instanceof Error ? e.message : String(e) });
  }
}

/** The registered services of an API (those that have beaten), in id order, with their state. */
export async function listServices(s: Services, api: ServiceApi, now = new Date()): Promise<ServiceStatus[]> {
  const rows = new Map((await repo(s).list(api)).map((r) => [r.rowKey, r.value]));
  const out: ServiceStatus[] = [];
  for (const d of serviceDefs(s.config)) {
    if (d.api !== api) continue;
    const beat = rows.get(beatKey(d));
    if (!beat?.updated_at) continue;
    const st = { ...ENABLED, ...rows.get(stateKey(d)) };
    const up = !st.forced_down && Math.abs(now.getTime() - Date.parse(beat.updated_at)) <= SERVICE_DOWN_TIME_MS;
    out.push({ ...d, disabled: st.disabled, disabled_reason: st.disabled_reason, forced_down: st.forced_down, frozen: st.frozen ?? false, updated_at: beat.updated_at, up });
  }
  return out;
}

/** One registered service by binary and host. */
export async function findService(s: Services, api: ServiceApi, binary: string, host: string): Promise<ServiceStatus | undefined> {
  return (await listServices(s, api)).find((x) => x.binary === binary && x.host === host);
}

/**
 * Changes a service's admin state (ETag read-modify-write; the first change creates the row). With
 * `expect`, only a state it accepts is changed (Cinder's conditional update): false when it refused.
 */
export async function setServiceState(s: Services, d: ServiceDef, patch: Partial<ServiceState>, expect?: (st: ServiceState) => boolean): Promise<boolean> {
  const r = repo(s);
  for (let i = 0; ; i++) {
    const cur = await r.get(d.api, stateKey(d));
    if (expect && !expect({ ...ENABLED, ...cur?.value })) return false;
    try {
      if (cur) await r.replace(d.api, stateKey(d), { ...cur.value, ...patch }, cur.etag);
      else await r.create(d.api, stateKey(d), { ...ENABLED, ...patch });
      return true;
    } catch (e) {
      if (i >= 4 || !(e instanceof ConcurrencyError || e instanceof AlreadyExistsError)) throw e;
    }
  }
}

/** Removes a service's record (heartbeat and state): it is listed again once it next beats (within REPORT_INTERVAL while its side runs). */
export async function deleteService(s: Services, d: ServiceDef): Promise<void> {
  await repo(s).delete(d.api, beatKey(d));
  await repo(s).delete(d.api, stateKey(d));
}

/** Whether the scheduler may place on the compute host: its service neither disabled nor forced down. */
export async function computeHostSchedulable(s: Services): Promise<boolean> {
  const d = serviceDefs(s.config).find((x) => x.binary === 'nova-compute')!;
  const st = (await repo(s).get(d.api, stateKey(d)))?.value;
  return !st?.disabled && !st?.forced_down;
}

/** Whether Cinder's scheduler may place on the volume backend (cinder-volume not disabled). */
/** db.is_backend_frozen for Jacket's one backend (jacket@azure). */
export async function volumeBackendFrozen(s: Services): Promise<boolean> {
  const d = serviceDefs(s.config).find((x) => x.binary === 'cinder-volume')!;
  return !!(await repo(s).get(d.api, stateKey(d)))?.value.frozen;
}

export async function volumeBackendSchedulable(s: Services): Promise<boolean> {
  const d = serviceDefs(s.config).find((x) => x.binary === 'cinder-volume')!;
  return !(await repo(s).get(d.api, stateKey(d)))?.value.disabled;
}

// ---- Cinder's set-log and get-log (3.32, volume/services/api.ts) ----
// A level set for a service is stored beside its heartbeat, so every instance of the Functions app
// playing it takes it up: the HTTP functions (cinder-api, cinder-scheduler) at once and at each
// heartbeat, the queue worker and timers (cinder-volume) at their next heartbeat (REPORT_INTERVAL).

/** Cinder's log levels (utils.LOG_LEVELS) and the shared/log.ts level each sets. */
export const CINDER_LOG_LEVELS = { INFO: 'info', WARNING: 'warn', ERROR: 'error', DEBUG: 'debug' } as const;
export type CinderLogLevel = keyof typeof CINDER_LOG_LEVELS;
/** A Jacket level as Python's logging names it ('silent' logs nothing below CRITICAL, which Jacket never emits). */
const CINDER_NAME: Record<LogLevel, string> = { debug: 'DEBUG', info: 'INFO', warn: 'WARNING', error: 'ERROR', silent: 'CRITICAL' };
/** The one logger a Jacket process has (shared/log.ts), named as set-log's and get-log's prefixes match it. */
export const LOGGER_NAME = 'jacket';
/** Cinder's API service (constants.API_BINARY) on its CONF.host: the HTTP functions. */
export const API_BINARY = 'cinder-api';
/** The Cinder services each side plays, whose levels its process logs at. */
const LOGGING: Record<ServiceSide, [string, string][]> = {
  api: [
    [API_BINARY, CONTROL_HOST],
    ['cinder-scheduler', CONTROL_HOST],
  ],
  worker: [['cinder-volume', VOLUME_HOST]],
};
const logKey = (binary: string, host: string) => `log:${binary}:${host}`;

/** Stores a service's level (a blind upsert: the last set-log wins, as in Cinder). */
export async function setLogLevel(s: Services, binary: string, host: string, level: CinderLogLevel): Promise<void> {
  await repo(s).upsert('volume', logKey(binary, host), { level });
}

/** A service's level as Python names it: the stored one, or the app's configured level. */
export async function getLogLevel(s: Services, binary: string, host: string): Promise<string> {
  const stored = (await repo(s).get('volume', logKey(binary, host)))?.value.level;
  return stored ?? CINDER_NAME[log.configuredLevel()];
}

/**
 * Sets the level of this process's lines of a side (log.ts scopes) from the side's stored levels: the
 * most verbose of them, as one side logs for every service it plays. Nothing stored leaves the configured level.
 */
export async function applyLogLevel(s: Services, side: ServiceSide): Promise<void> {
  const stored = (await Promise.all(LOGGING[side].map(([b, h]) => repo(s).get('volume', logKey(b, h))))).map((r) => r?.value.level).filter((l): l is CinderLogLevel => !!l);
  if (stored.length === 0) return;
  const ORDER: LogLevel[] = ['debug', 'info', 'warn', 'error'];
  log.setScopeLevel(side, ORDER[Math.min(...stored.map((l) => ORDER.indexOf(CINDER_LOG_LEVELS[l])))]);
}
