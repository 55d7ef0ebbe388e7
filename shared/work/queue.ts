// The Storage Queue that carries long actions' steps (the transport only; shared/work/engine.ts runs
// them). Items are base64 JSON, as the Functions queue trigger expects. A message whose run throws is
// retried by the host and after maxDequeueCount goes to the poison queue; the engine itself catches
// what a step throws, so only a crashed worker or a broken store ends there.
import type { QueueClient } from '@azure/storage-queue';
import type { StorageConnection } from '../config';
import { queueClient } from '../azure/clients';
import type { WorkItem } from './types';

export type { WorkItem, WorkResult } from './types';

/** Local dispatcher: failures of one message before it goes to the poison queue (host.json maxDequeueCount). */
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

  /** `connection`: a StorageConnection (shared/config.ts), or a connection string (Azurite in tests). */
  constructor(
    connection: StorageConnection | string,
    readonly name: string,
  ) {
    const conn: StorageConnection = typeof connection === 'string' ? { kind: 'connectionString', connectionString: connection } : connection;
    this.client = queueClient(conn, name);
    this.poison = queueClient(conn, `${name}-poison`);
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
