// The one long-action engine (docs/long-actions.md). Every long action of every resource kind —
// server build/delete/actions, volume/snapshot/backup create/delete/restore, image upload, attach —
// is a WorkKind (shared/work/types.ts) listed in shared/work/handlers.ts, and runs here:
//   - a step answers done, or 'again' with the delay Azure asked for (Retry-After), clamped to the
//     configured floor and cap, so a poll never runs faster than Azure said nor sleeps in a function;
//   - a step that throws is classified once (shared/azure/errors.ts): Azure refusing the request
//     (a 4xx) is given up at once; throttling, conflicts, 5xx and dropped connections are retried with
//     backoff (or the Retry-After), until the retry budget (failures in a row, or time) is spent;
//   - given up, the kind lands its resource in upstream's stable error state (WorkKind.giveUp);
//   - the ledger (ledger.ts) tracks each action in flight so a lost message is resumed or given up
//     (resumeStaleWork, run by the work-stale timer).
// The engine catches what a step throws, so the host's own retry and poison queue only see a worker
// that crashed or a store that failed.
import type { Services } from '../services';
import { log } from '../log';
import { metric, METRIC } from '../metrics';
import { azureFailure, type AzureFailure } from '../azure/errors';
import { ConcurrencyError } from '../store/tables';
import type { WorkFailure, WorkItem, WorkKind, WorkResult } from './types';
import { forget, staleRows, touch } from './ledger';
import { WORK_KINDS } from './handlers';
import { clampDelay as clamp, pollDelay } from './pace';
import { reportState } from '../servicegroup/registry';

/** Default deadline of an action whose polls keep succeeding without it finishing. */
const DEFAULT_DEADLINE_SECONDS = 6 * 3600;

// Work kinds import pollDelay from ./pace (importing the engine from a kind is an import cycle).
export { pollDelay };

function classify(e: unknown): AzureFailure {
  if (e instanceof ConcurrencyError) return { kind: 'conflict', code: 'Concurrency', message: e.message };
  return azureFailure(e);
}

async function giveUp(k: WorkKind, item: WorkItem, s: Services, f: WorkFailure): Promise<WorkResult> {
  log.warn('work given up', { kind: item.kind, id: item.id, step: item.step, code: f.code, status: f.status, attempts: f.attempts, reason: f.message.slice(0, 300), requestId: item.requestId });
  metric(METRIC.WORK_GAVE_UP, 1, { kind: item.kind, code: f.code });
  await k.giveUp(item, s, f);
  await forget(s, item);
  return { status: 'done' };
}

export class WorkEngine {
  private readonly byName = new Map<string, WorkKind>();

  constructor(kinds: readonly WorkKind[]) {
    for (const k of kinds) {
      if (this.byName.has(k.kind)) throw new Error(`work kind ${k.kind} listed twice`);
      this.byName.set(k.kind, k);
    }
  }

  kind(name: string): WorkKind | undefined {
    return this.byName.get(name);
  }

  /** Runs one step of a long action; re-enqueues it when it asks to poll again or failed within budget. */
  async run(item: WorkItem, s: Services): Promise<WorkResult> {
    // The worker side of the services (nova-compute, cinder-volume) beats as it works.
    log.enterScope('worker');
    await reportState(s, 'worker');
    return runStep(this, item, s);
  }

  /**
   * Actions whose ledger row has not moved for config.work.staleSeconds lost their message: sent again
   * (steps are idempotent, so a duplicate is harmless) up to staleResumes times, then given up.
   */
  async resumeStale(s: Services, now = Date.now(), limit = 500, only?: (item: WorkItem) => boolean): Promise<StaleReport> {
    return resumeStale(this, s, now, limit, only);
  }
}

async function runStep(engine: WorkEngine, item: WorkItem, s: Services): Promise<WorkResult> {
  const k = engine.kind(item.kind);
  if (!k) throw new Error(`no handler for work kind ${item.kind}`);
  const started = Date.now();
  const budget = s.config.work;
  let result: WorkResult;
  const deadline = (item.startedAt ?? started) + (k.deadlineSeconds ?? DEFAULT_DEADLINE_SECONDS) * 1000;
  if (started > deadline) {
    result = await giveUp(k, item, s, {
      kind: 'retryable',
      code: 'Timeout',
      message: `The action did not finish within ${Math.round((k.deadlineSeconds ?? DEFAULT_DEADLINE_SECONDS) / 60)} minutes.`,
      attempts: item.polls ?? 0,
    });
  } else {
    try {
      result = await k.run(item, s);
      if (result.status === 'again') {
        const next: WorkItem = { ...(result.item ?? item), polls: (item.polls ?? 0) + 1, startedAt: item.startedAt ?? started };
        delete next.failures;
        delete next.failingSince;
        const delay = clamp(s, result.delaySeconds);
        await touch(s, next);
        await s.work.enqueue(next, delay);
        result = { status: 'again', delaySeconds: delay, item: next };
      } else {
        await forget(s, item);
      }
    } catch (e) {
      const f = classify(e);
      const attempts = (item.failures ?? 0) + 1;
      const since = item.failingSince ?? started;
      if (f.kind === 'client' || attempts >= budget.retryFailures || started - since >= budget.retrySeconds * 1000) {
        result = await giveUp(k, item, s, { ...f, attempts });
      } else {
        const backoff = s.config.work.pollFloorSeconds * 2 ** (attempts - 1);
        const delay = clamp(s, Math.max(f.retryAfterSeconds ?? 0, backoff));
        const next: WorkItem = { ...item, failures: attempts, failingSince: since, startedAt: item.startedAt ?? started };
        log.warn('work step failed, retrying', { kind: item.kind, id: item.id, step: item.step, code: f.code, status: f.status, attempt: attempts, delaySeconds: delay, requestId: item.requestId });
        await touch(s, next);
        await s.work.enqueue(next, delay);
        result = { status: 'again', delaySeconds: delay, item: next };
      }
    }
  }
  log.info('work', { kind: item.kind, id: item.id, step: item.step, result: result.status, ms: Date.now() - started, requestId: item.requestId });
  return result;
}

export interface StaleReport {
  resumed: string[];
  gaveUp: string[];
}

async function resumeStale(engine: WorkEngine, s: Services, now: number, limit: number, only?: (item: WorkItem) => boolean): Promise<StaleReport> {
  const out: StaleReport = { resumed: [], gaveUp: [] };
  for (const row of await staleRows(s, now - s.config.work.staleSeconds * 1000, limit)) {
    let item: WorkItem;
    try {
      item = JSON.parse(row.value.item) as WorkItem;
    } catch {
      await forget(s, row.value);
      continue;
    }
    if (only && !only(item)) continue;
    const k = engine.kind(item.kind);
    const name = `${item.kind}:${item.id}`;
    if (!k) {
      await forget(s, item);
      continue;
    }
    const resumes = (item.resumes ?? 0) + 1;
    if (resumes > s.config.work.staleResumes) {
      await giveUp(k, item, s, { kind: 'retryable', code: 'StaleWork', message: `The action stopped making progress (its worker was lost ${resumes - 1} times).`, attempts: resumes - 1 });
      out.gaveUp.push(name);
      continue;
    }
    const next = { ...item, resumes, requestId: item.requestId ?? `req-stale-${item.id}` };
    await touch(s, next, now);
    await s.work.enqueue(next);
    log.warn('stale work resumed', { kind: item.kind, id: item.id, step: item.step, resumes });
    out.resumed.push(name);
  }
  return out;
}

/** The engine of every kind the app has (shared/work/handlers.ts): what the worker and the timers run. */
export const workEngine = new WorkEngine(WORK_KINDS);
export const runWorkItem = (item: WorkItem, s: Services) => workEngine.run(item, s);
export const resumeStaleWork = (s: Services, now = Date.now(), only?: (item: WorkItem) => boolean) => workEngine.resumeStale(s, now, 500, only);
