// The actions in flight, one row per (kind, resource): what lets the engine notice an action whose
// queue message was lost (a worker killed past maxDequeueCount, an enqueue that never happened after
// the record was written) and resume it, or give it up into the resource's error state. A row is
// written before the first message (startWork), refreshed each time the action is re-enqueued, and
// removed when the action finishes or is given up.
import type { Services } from '../services';
import type { WorkItem } from './types';
import { odata } from '../store/tables';

export interface LedgerRow {
  kind: string;
  id: string;
  key?: string;
  /** The item as last enqueued: what a resumption sends again. */
  item: string;
  /** When the action last made its move (epoch ms). */
  touchedAt: number;
}

export const ledger = (s: Services) => s.tables.repository<LedgerRow>('workledger', ['touchedAt']);
const rk = (item: Pick<WorkItem, 'kind' | 'id' | 'key'>) => (item.key ? `${item.kind}:${item.id}:${item.key}` : `${item.kind}:${item.id}`);
/** One partition: the stale sweep reads the oldest rows with one filtered query. */
const PK = 'work';

export async function touch(s: Services, item: WorkItem, now = Date.now()): Promise<void> {
  await ledger(s).upsert(PK, rk(item), { kind: item.kind, id: item.id, ...(item.key ? { key: item.key } : {}), item: JSON.stringify(item), touchedAt: now });
}

export async function forget(s: Services, item: Pick<WorkItem, 'kind' | 'id' | 'key'>): Promise<void> {
  await ledger(s).delete(PK, rk(item));
}

/** The action of this kind on this resource is in flight (its ledger row exists). */
export async function inFlight(s: Services, item: Pick<WorkItem, 'kind' | 'id' | 'key'>): Promise<boolean> {
  return !!(await ledger(s).get(PK, rk(item)));
}

/** The actions in flight on one resource (any kind): Cinder's workers rows of that resource. */
export async function rowsOf(s: Services, id: string) {
  return ledger(s).queryAll(odata`PartitionKey eq ${PK} and id eq ${id}`, 100);
}

/** Rows not touched since `before` (epoch ms), oldest first, at most `limit`. */
export async function staleRows(s: Services, before: number, limit: number) {
  const rows = await ledger(s).queryAll(`PartitionKey eq '${PK}' and touchedAt le ${before}`, limit);
  return rows.sort((a, b) => a.value.touchedAt - b.value.touchedAt);
}

/**
 * Starts a long action: the ledger row first, then the message, so an action whose record was
 * written is never without a way to finish. Every caller that starts an action uses this.
 */
export async function startWork(s: Services, item: WorkItem, delaySeconds = 0): Promise<void> {
  const started: WorkItem = { ...item, startedAt: item.startedAt ?? Date.now() };
  await touch(s, started);
  await s.work.enqueue(started, delaySeconds);
}
