// What the periodic tasks share (reconcile, reclaim, stale tasks, resize confirm, hypervisors): the
// sweeps' lease (one instance acts at a time), a report of what each record came to, and its log line
// ("periodic done", which shared/metrics.ts turns into metrics). Unlike the sweeps they change records
// rather than delete Azure resources, and each change is ETag-conditional on the record still being as
// it was read, so a user's action racing the task wins.
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Services } from '../services';
import { log } from '../log';
import { claimLease, releaseLease } from './lease';
import { reportState } from '../servicegroup/registry';

export interface PeriodicReport {
  task: string;
  /** false when another instance held the lease, or the task is turned off by its setting. */
  ran: boolean;
  /** Records looked at. */
  seen: number;
  /** Records changed (or work re-enqueued). */
  changed: number;
  /** What each record came to, counted by outcome ('shutoff', 'error', 'reclaimed', 'in-sync', ...). */
  outcomes: Record<string, number>;
  /** Ids of the records changed (the first 50). */
  ids: string[];
  ms: number;
}

export interface PeriodicRun {
  services: Services;
  now: Date;
  /** Counts an outcome for a record; `changed` adds it to the changed ids. */
  note(id: string, outcome: string, changed: boolean): void;
  seen(): void;
}

const HOLDER = `${hostname()}-${process.pid}`;

/** A report for a task its setting turns off (nothing looked at). */
export function idleReport(task: string): PeriodicReport {
  return { task, ran: false, seen: 0, changed: 0, outcomes: {}, ids: [], ms: 0 };
}

export async function runPeriodic(services: Services, task: string, now: Date, body: (run: PeriodicRun) => Promise<void>): Promise<PeriodicReport> {
  const started = Date.now();
  const report = idleReport(task);
  const lease = await claimLease(services, task, `${HOLDER}-${randomUUID()}`, now, services.config.timers.leaseSeconds * 1000);
  if (!lease) {
    log.info('periodic task skipped: another instance holds the lease', { task });
    return report;
  }
  report.ran = true;
  const run: PeriodicRun = {
    services,
    now,
    seen: () => void report.seen++,
    note(id, outcome, changed) {
      report.outcomes[outcome] = (report.outcomes[outcome] ?? 0) + 1;
      if (changed) {
        report.changed++;
        if (report.ids.length < 50) report.ids.push(id);
      }
    },
  };
  try {
    await body(run);
  } catch (e) {
    log.error('periodic task failed', { task, seen: report.seen, changed: report.changed, error: e instanceof Error ? e.message : String(e) });
    throw e;
  } finally {
    await releaseLease(services, lease).catch((e) => log.warn('periodic lease release failed', { task, error: String(e) }));
    report.ms = Date.now() - started;
  }
  log.info('periodic done', { ...report });
  return report;
}

/** Runs one record's handling so that one bad record (an ARM error) does not stop the pass. */
export async function eachRecord(run: PeriodicRun, id: string, f: () => Promise<void>): Promise<void> {
  run.seen();
  try {
    await f();
  } catch (e) {
    run.note(id, 'failed', false);
    log.warn('periodic task could not handle a record', { id, error: e instanceof Error ? e.message : String(e) });
  }
}

/**
 * One timer invocation, as the Functions host and the local scheduler run it: the structured line
 * "timer done" (timer, invocation id, ok, ms, the report's counts) that every invocation writes, and
 * which shared/metrics.ts turns into a duration metric. Errors are logged and rethrown.
 */
export async function invokeTimer(t: { name: string; run(s: Services, now: Date): Promise<unknown> }, s: Services, now: Date, invocationId?: string): Promise<unknown> {
  const started = Date.now();
  // The timers are the worker side too (nova-compute, cinder-volume): they beat whether or not work is queued.
  log.enterScope('worker');
  await reportState(s, 'worker', now);
  try {
    const report = (await t.run(s, now)) as Partial<PeriodicReport & { deleted: number; candidates: number }> | undefined;
    log.info('timer done', { timer: t.name, invocationId, ok: true, ms: Date.now() - started, ran: report?.ran, changed: report?.changed, deleted: report?.deleted });
    return report;
  } catch (e) {
    log.error('timer done', { timer: t.name, invocationId, ok: false, ms: Date.now() - started, error: e instanceof Error ? e.message : String(e) });
    throw e;
  }
}
