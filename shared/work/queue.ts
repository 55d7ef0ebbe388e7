// Long actions never run inside an HTTP call: the handler records intent, enqueues a WorkItem and
// answers. A queue-triggered worker (functions/worker.ts in Azure, local/dispatcher.ts locally) runs
// the item's handler. Handlers are idempotent steps: on 'again' the item is re-enqueued with a
// visibility delay (how an Azure long-running operation is polled without sleeping in a function);
// on a thrown error the host retries the same message, and after maxAttempts it goes to the poison queue.
import { QueueClient } from '@azure/storage-queue';
import type { Services } from '../services';
import { log } from '../log';

export interface WorkItem {
  kind: string;
  /** The record the work is about (server id, volume id, ...). */
  id: string;
  /** Free-form step marker owned by the handler. */
  step?: string;
  /** How many times this item has come back with 'again'. */
  polls?: number;
  data?: Record<string, unknown>;
  requestId?: string;
}

export type WorkResult = { status: 'done' } | { status: 'again'; delaySeconds: number; item?: WorkItem };
export type WorkHandler = (item: WorkItem, services: Services) => Promise<WorkResult>;

const handlers = new Map<string, WorkHandler>();

export function registerWork(kind: string, handler: WorkHandler): void {
  if (handlers.has(kind)) throw new Error(`work kind ${kind} registered twice`);
  handlers.set(kind, handler);
}

export const MAX_ATTEMPTS = 5;

export function encodeItem(item: WorkItem): string {
  return Buffer.from(JSON.stringify(item), 'utf8').toString('base64');
}

export function decodeItem(raw: unknown): WorkItem {
  if (typeof raw === 'object' && raw !== null) return raw as WorkItem; // the Functions host parsed it
  const text = String(raw);
  const json = /^\s*\{/.test(text) ? text : Buffer.from(text, 'base64').toString('utf8');
  const item = JSON.parse(json) as WorkItem;
  if (typeof item.kind !== 'string' || typeof item.id !== 'string') throw new Error('work item without kind or id');
  return item;
}

export class WorkQueue {
  private readonly client: QueueClient;
  private readonly poison: QueueClient;
  private ready?: Promise<unknown>;

  constructor(connectionString: string, readonly name: string) {
    this.client = new QueueClient(connectionString, name);
    this.poison = new QueueClient(connectionString, `${name}-poison`);
  }

  get queue(): QueueClient {
    return this.client;
  }

  async ensure(): Promise<void> {
    this.ready ??= Promise.all([this.client.createIfNotExists(), this.poison.createIfNotExists()]).catch((e) => {
      this.ready = undefined;
      throw e;
    });
    await this.ready;
  }

  async enqueue(item: WorkItem, delaySeconds = 0): Promise<void> {
    await this.ensure();
    await this.client.sendMessage(encodeItem(item), { visibilityTimeout: Math.max(0, Math.round(delaySeconds)) });
  }

  async toPoison(raw: string): Promise<void> {
    await this.ensure();
    await this.poison.sendMessage(raw);
  }
}

/** Runs one item; 'again' re-enqueues it. Errors propagate so the host retries the message. */
export async function runWorkItem(item: WorkItem, services: Services): Promise<WorkResult> {
  const h = handlers.get(item.kind);
  if (!h) throw new Error(`no handler for work kind ${item.kind}`);
  const started = Date.now();
  const result = await h(item, services);
  if (result.status === 'again') {
    const next = { ...(result.item ?? item), polls: (item.polls ?? 0) + 1 };
    await services.work.enqueue(next, result.delaySeconds);
  }
  log.info('work', { kind: item.kind, id: item.id, step: item.step, result: result.status, ms: Date.now() - started, requestId: item.requestId });
  return result;
}
