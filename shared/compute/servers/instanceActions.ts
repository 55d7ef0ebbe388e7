// Nova's instance actions (nova/objects/instance_action.py): one row per API action on a server, with
// its events, for os-instance-actions (a later module reads them). Table 'instanceactions',
// PartitionKey = server id, RowKey = newest-first start time + request id (Nova lists newest first).
// Rows outlive the server, as Nova keeps actions of deleted instances.
import type { Services } from '../../services';
import type { ServerRecord } from './model';

export interface InstanceActionEvent {
  event: string;
  start_time: string;
  finish_time: string | null;
  result: 'Success' | 'Error' | null;
  traceback: string | null;
  /** The service host the event ran on (Nova's event host; 2.62 shows it). Rows written before 2.62 lack it. */
  host?: string | null;
  /**
   * Nova's event details (2.84): for a failed event the failure's message as an instance fault words it
   * (compute/utils.py exception_to_dict), null otherwise. Rows written before lack it (eventDetails reads them).
   */
  details?: string | null;
}

/**
 * An event's details: the one recorded, else (rows written before details were kept) what its traceback
 * says after the exception's class name ("NoValidHost: ..." gives the message, a bare class name
 * itself, as exception_to_dict does for an exception it cannot format); null for one that did not fail.
 */
export function eventDetails(e: InstanceActionEvent): string | null {
  if (e.details !== undefined) return e.details;
  if (e.result !== 'Error' || !e.traceback) return null;
  return detailsOf(e.traceback);
}

/**
 * The details of a "Class: message" failure text, at most 255 characters (Nova's column): a Nova
 * exception's message, but for Python's NotImplementedError (a virt driver without the feature) its
 * class name, as serialize_args falls back to when the exception has no format_message().
 */
function detailsOf(text: string): string {
  const m = /^([A-Za-z_][\w.]*): ([\s\S]+)$/.exec(text);
  if (m?.[1] === 'NotImplementedError') return m[1];
  return (m ? m[2] : text).slice(0, 255);
}

export interface InstanceActionRecord {
  action: string;
  instance_uuid: string;
  request_id: string;
  user_id: string;
  project_id: string;
  start_time: string;
  updated_at: string;
  message: string | null;
  events: InstanceActionEvent[];
}

/** Nova's action names (nova/compute/instance_actions.py). */
export const ACTION = {
  CREATE: 'create',
  DELETE: 'delete',
  REBOOT: 'reboot',
  STOP: 'stop',
  START: 'start',
  SUSPEND: 'suspend',
  RESUME: 'resume',
  SHELVE: 'shelve',
  SHELVE_OFFLOAD: 'shelveOffload',
  UNSHELVE: 'unshelve',
  MIGRATE: 'migrate',
  LOCK: 'lock',
  UNLOCK: 'unlock',
  RESET_STATE: 'resetState',
} as const;

const repo = (s: Services) => s.tables.repository<InstanceActionRecord>('instanceactions');
const MAX = 99999999999999;
const rowKey = (startTime: string, requestId: string) => `${String(MAX - Date.parse(startTime)).padStart(14, '0')}-${requestId}`;

export interface ActionRef {
  serverId: string;
  rowKey: string;
}

/** The host Jacket's every service runs as: the one compute host servers report (Nova records CONF.host
 * of the API, conductor or compute service on each event; here they are one). */
export const eventHost = (s: Services) => `azure-${s.config.azure.location}`;

/** Records that `action` started on `server` (with its first event already running; null = no event,
 * as Nova's os-resetState records an action without events). */
export async function startAction(s: Services, server: Pick<ServerRecord, 'id' | 'project_id'>, action: string, requestId: string, userId: string, event: string | null): Promise<ActionRef> {
  const now = new Date().toISOString();
  const rk = rowKey(now, requestId);
  await repo(s).upsert(server.id, rk, {
    action,
    instance_uuid: server.id,
    request_id: requestId,
    user_id: userId,
    project_id: server.project_id,
    start_time: now,
    updated_at: now,
    message: null,
    events: event ? [{ event, start_time: now, finish_time: null, result: null, traceback: null, host: eventHost(s) }] : [],
  });
  return { serverId: server.id, rowKey: rk };
}

/**
 * Ends the action's open events: Success, or Error with Nova's message "Error"; a failed event keeps
 * `details` (2.84: the fault's message when the server got one), else what the traceback says.
 */
export async function finishAction(s: Services, ref: ActionRef, ok: boolean, traceback?: string, details?: string): Promise<void> {
  const now = new Date().toISOString();
  await repo(s).update(ref.serverId, ref.rowKey, (a) => ({
    ...a,
    updated_at: now,
    message: ok ? a.message : 'Error',
    events: a.events.map((e) =>
      e.finish_time
        ? e
        : { ...e, finish_time: now, result: ok ? 'Success' : 'Error', traceback: ok ? null : (traceback ?? null), details: ok ? null : (details ?? (traceback ? detailsOf(traceback) : null)) },
    ),
  }));
}

export async function listActions(s: Services, serverId: string): Promise<InstanceActionRecord[]> {
  return (await repo(s).list(serverId)).map((r) => r.value);
}

/** One action of a server by its request id (a server's partition is small: its own actions). */
export async function getAction(s: Services, serverId: string, requestId: string): Promise<InstanceActionRecord | undefined> {
  return (await repo(s).list(serverId)).map((r) => r.value).find((a) => a.request_id === requestId);
}

/**
 * A deleted server as Nova still reads it (read_deleted='yes'; its instance mapping outlives it): Jacket
 * removes a server's record once Azure confirms the delete, but its action rows stay, every server
 * having at least its create action. The project it belonged to, or undefined for an id never seen.
 */
export async function deletedServerProject(s: Services, serverId: string): Promise<string | undefined> {
  if (!/^[0-9a-fA-F-]{36}$/.test(serverId)) return undefined;
  const rows = await repo(s).list(serverId.toLowerCase());
  return rows[0]?.value.project_id;
}
