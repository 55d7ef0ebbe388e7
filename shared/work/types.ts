// The vocabulary of long actions (docs/long-actions.md): a WorkItem is one message on the Storage
// Queue naming one step of one action on one resource; a WorkKind is the code for one action kind.
import type { Services } from '../services';
import type { AzureFailure } from '../azure/errors';

export interface WorkItem {
  kind: string;
  /** The record the work is about (server id, volume id, ...). */
  id: string;
  /**
   * Tells apart several actions of one kind on one record in flight at once, in the engine's ledger
   * (a server's attaches of two volumes: the volume's id). Absent: one such action at a time.
   */
  key?: string;
  /** Free-form step marker owned by the handler. */
  step?: string;
  /** How many times this item has come back with 'again'. */
  polls?: number;
  data?: Record<string, unknown>;
  requestId?: string;
  /** When the action started (epoch ms): the kind's deadline counts from here. */
  startedAt?: number;
  /** Failed tries of the current step in a row, and when the first of them failed (epoch ms). */
  failures?: number;
  failingSince?: number;
  /** How often the stale-action sweep resumed this action (its message had been lost). */
  resumes?: number;
}

export type WorkResult = { status: 'done' } | { status: 'again'; delaySeconds: number; item?: WorkItem };

/** Why an action was given up: Azure's classified answer, plus how many tries it took. */
export interface WorkFailure extends AzureFailure {
  attempts: number;
}

export interface WorkKind {
  kind: string;
  /**
   * One idempotent step: read the record and Azure, do the next thing, answer done or 'again' (poll
   * later). Throwing is fine: the engine classifies the error and retries within the budget.
   */
  run(item: WorkItem, s: Services): Promise<WorkResult>;
  /**
   * The retry budget is spent, Azure refused the request (a 4xx no retry can change), the deadline
   * passed, or the action was lost too often: land the resource in upstream's stable error state
   * (Cinder's error / error_deleting / error_restoring, Nova's ERROR with a fault) and finish any open
   * instance action. Must be idempotent and must not throw for a record that is already gone.
   */
  giveUp(item: WorkItem, s: Services, failure: WorkFailure): Promise<void>;
  /** Seconds from the action's start after which it is given up even while its polls succeed. */
  deadlineSeconds?: number;
}

export const done = (): WorkResult => ({ status: 'done' });

/** Poll again after `delaySeconds` (the engine clamps it to the configured floor and cap). */
export const again = (item: WorkItem, delaySeconds: number, patch: Partial<WorkItem> = {}): WorkResult => ({
  status: 'again',
  delaySeconds,
  item: { ...item, ...patch },
});
