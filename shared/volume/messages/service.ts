// Cinder's user messages (cinder/message/api.py, message_field.py; microversion 3.3): a record of an
// asynchronous action that failed for the user after the API had answered 2xx. The long actions'
// give-up hooks (shared/volume/*/work.ts, images/upload.ts) write one, with the event id Cinder
// builds from its Resource, Action and Detail codes (VOLUME_<resource>_<action>_<detail>), the
// request id of the request that started the action, and guaranteed_until = created + message_ttl.
//
// Stored in Table storage, one partition per project (`volmessages`), RowKey the message id. Cinder
// lists a message until its reaper (every message_reap_interval) deletes it once expired; Jacket
// does not list or show an expired message at all, and deletes the expired rows a listing meets.
import { createHash } from 'node:crypto';
import type { Services } from '../../services';
import type { WorkItem } from '../../work/types';
import { AlreadyExistsError, isValidKey, odata, type Stored } from '../../store/tables';
import { log } from '../../log';
import { cinderTime } from '../common';

/** cinder.conf message_ttl: a message's minimum life in seconds (30 days). */
export const MESSAGE_TTL_SECONDS = 2592000;

/** message_field.Resource. */
export type MessageResource = 'VOLUME' | 'VOLUME_SNAPSHOT' | 'VOLUME_BACKUP';

/** message_field.Action: (id, text). Only those Jacket's long actions can fail with, plus translate_action's fallback. */
export const ACTIONS = {
  SCHEDULE_ALLOCATE_VOLUME: ['001', 'schedule allocate volume'],
  COPY_VOLUME_TO_IMAGE: ['003', 'copy volume to image'],
  EXTEND_VOLUME: ['007', 'extend volume'],
  CREATE_VOLUME_FROM_BACKEND: ['008', 'create volume from backend storage'],
  SNAPSHOT_CREATE: ['009', 'create snapshot'],
  SNAPSHOT_DELETE: ['010', 'delete snapshot'],
  BACKUP_CREATE: ['013', 'create backup'],
  BACKUP_DELETE: ['014', 'delete backup'],
  BACKUP_RESTORE: ['015', 'restore backup'],
} as const satisfies Record<string, readonly [string, string]>;

/** message_field.Detail: (id, text). */
export const DETAILS = {
  UNKNOWN_ERROR: ['001', 'An unknown error occurred.'],
  NO_BACKEND_AVAILABLE: ['003', 'Could not find any available weighted backend.'],
  FAILED_TO_UPLOAD_VOLUME: ['004', 'Failed to upload volume to image at backend.'],
  DRIVER_FAILED_EXTEND: ['010', 'Volume Driver failed to extend volume.'],
  DRIVER_FAILED_CREATE: ['012', 'Driver failed to create the volume.'],
  SNAPSHOT_CREATE_ERROR: ['013', 'Snapshot failed to create.'],
  SNAPSHOT_DELETE_ERROR: ['016', 'Snapshot failed to delete.'],
  BACKUP_CREATE_DRIVER_ERROR: ['020', 'Backup driver failed to create backup.'],
  BACKUP_SCHEDULE_ERROR: ['024', 'Backup failed to schedule. Service not found for creating backup.'],
  BACKUP_DELETE_DRIVER_ERROR: ['025', 'Backup driver failed to delete backup.'],
  BACKUP_RESTORE_ERROR: ['026', 'Backup driver failed to restore backup.'],
} as const satisfies Record<string, readonly [string, string]>;

export type MessageAction = keyof typeof ACTIONS;
export type MessageDetail = keyof typeof DETAILS;

/** One row: the columns of Cinder's messages table that its API shows or filters on. */
export interface MessageRecord {
  id: string;
  project_id: string;
  request_id: string | null;
  resource_type: MessageResource;
  resource_uuid: string | null;
  event_id: string;
  detail_id: string;
  action_id: string;
  message_level: string;
  created_at: string;
  /** Cinder's expires_at (shown as guaranteed_until). */
  expires_at: string;
}

/** The columns a 3.5 listing filters on (Cinder's filter_by on the Message model). */
export const MESSAGE_COLUMNS = ['id', 'project_id', 'request_id', 'resource_type', 'resource_uuid', 'event_id', 'detail_id', 'action_id', 'message_level', 'created_at', 'expires_at'] as const;
/** Every attribute of Cinder's Message model (a filter or sort key outside it matches nothing / is refused). */
export const MESSAGE_MODEL_KEYS = [...MESSAGE_COLUMNS, 'updated_at', 'deleted_at', 'deleted'];

export const messageTable = (s: Services) => s.tables.repository<MessageRecord>('volmessages', ['resource_uuid', 'event_id', 'expires_at']);

const ACTION_TEXT = new Map<string, string>(Object.values(ACTIONS).map(([id, text]) => [id, text]));
const DETAIL_TEXT = new Map<string, string>(Object.values(DETAILS).map(([id, text]) => [id, text]));

/**
 * The user_message as cinder/api/v3/messages.py composes it: translate_action(action_id) ("unknown
 * action" for an id it does not know), a colon with no space, translate_detail(detail_id) (the
 * unknown-error text for an id it does not know).
 */
export function userMessage(m: Pick<MessageRecord, 'action_id' | 'detail_id'>): string {
  return `${ACTION_TEXT.get(m.action_id) ?? 'unknown action'}:${DETAIL_TEXT.get(m.detail_id) ?? DETAILS.UNKNOWN_ERROR[1]}`;
}

/** Cinder's event id: VOLUME_<resource type>_<action id>_<detail id>. */
export const eventId = (resource: MessageResource, action: string, detail: string) => `VOLUME_${resource}_${action}_${detail}`;

export const isExpired = (m: Pick<MessageRecord, 'expires_at'>, now = new Date()) => m.expires_at <= cinderTime(now);

/** A UUID-shaped id derived from `seed`, so that a give-up run twice writes one message. */
function stableUuid(seed: string): string {
  const h = createHash('sha256').update(seed).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${((parseInt(h[16], 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export interface NewMessage {
  project: string;
  action: MessageAction;
  detail: MessageDetail;
  resourceType: MessageResource;
  resourceUuid: string | null;
  requestId?: string;
}

/** message/api.py create: builds the record and stores it; like Cinder, a failure to store is logged, never raised. */
export async function createMessage(s: Services, m: NewMessage, seed: string, now = new Date()): Promise<MessageRecord | undefined> {
  const [actionId] = ACTIONS[m.action];
  const [detailId] = DETAILS[m.detail];
  const rec: MessageRecord = {
    id: stableUuid(`${seed}:${m.action}:${m.detail}`),
    project_id: m.project,
    request_id: m.requestId ?? null,
    resource_type: m.resourceType,
    resource_uuid: m.resourceUuid,
    event_id: eventId(m.resourceType, actionId, detailId),
    detail_id: detailId,
    action_id: actionId,
    message_level: 'ERROR',
    created_at: cinderTime(now),
    expires_at: cinderTime(new Date(now.getTime() + MESSAGE_TTL_SECONDS * 1000)),
  };
  try {
    await messageTable(s).create(rec.project_id, rec.id, rec);
    log.info('user message created', { message: rec.id, event: rec.event_id, project: rec.project_id, requestId: rec.request_id ?? undefined });
    return rec;
  } catch (e) {
    if (e instanceof AlreadyExistsError) return undefined;
    log.warn('user message not stored', { event: rec.event_id, project: rec.project_id, requestId: rec.request_id ?? undefined, error: e instanceof Error ? e.message : String(e) });
    return undefined;
  }
}

/** The message a given-up work item leaves: the item's project and request id; one per run of the action. */
export function messageForWork(s: Services, item: WorkItem, project: string, m: Omit<NewMessage, 'project' | 'requestId'>): Promise<MessageRecord | undefined> {
  return createMessage(s, { ...m, project, requestId: item.requestId }, `${item.kind}:${item.id}:${item.startedAt ?? ''}`);
}

/** The live (unexpired) messages of one project, or with `project` undefined of every project; expired rows met are deleted. */
export async function liveMessages(s: Services, project: string | undefined, now = new Date()): Promise<Stored<MessageRecord>[]> {
  const repo = messageTable(s);
  const rows = project !== undefined ? await repo.list(project) : await repo.queryAll(odata`PartitionKey ge ${''}`, 100000);
  const live: Stored<MessageRecord>[] = [];
  for (const r of rows) {
    if (!isExpired(r.value, now)) live.push(r);
    else await repo.delete(r.partitionKey, r.rowKey, r.etag).catch(() => false);
  }
  return live;
}

/** A message by id in `project`, or (admins) in any project; expired ones are gone. */
export async function messageById(s: Services, id: string, project: string, anyProject: boolean): Promise<Stored<MessageRecord> | undefined> {
  const repo = messageTable(s);
  let rec = await repo.get(project, id);
  if (!rec && anyProject && isValidKey(id)) [rec] = await repo.queryAll(odata`RowKey eq ${id}`, 1);
  return rec && !isExpired(rec.value) ? rec : undefined;
}
