// What every sweep shares: the lease (one instance acts at a time), the two-pass candidate memory, the
// report (seen, candidates, deleted, skipped by reason) and the log line. A sweep supplies the
// resources it sees, why each is not a candidate (a skip reason) and how to re-check and delete one.
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Services } from '../services';
import { log } from '../log';
import { claimLease, releaseLease } from './lease';
import { CandidateMemory, candidateKey } from './passes';

export interface SweepReport {
  sweep: string;
  /** false when another instance held the lease (nothing was looked at). */
  ran: boolean;
  pass: number;
  dryRun: boolean;
  seen: number;
  candidates: number;
  deleted: number;
  /** Resources seen but not deleted, by reason (not-jacket, attached, first-pass, dry-run, ...). */
  skipped: Record<string, number>;
  /** Names deleted (or, for images, finished) in this pass. */
  deletedNames: string[];
  ms: number;
}

/** Deleted, or why not (a skip reason). 'gone' = somebody else removed it first. */
export type Outcome = 'deleted' | string;

export interface SweepTarget<T> {
  kind: string;
  name(t: T): string;
  /** undefined when it is a candidate; otherwise the reason it is not. */
  evaluate(t: T): Promise<string | undefined>;
  /** Re-checks the resource right before deleting it, then deletes it. */
  remove(t: T): Promise<Outcome>;
}

export interface SweepRun {
  services: Services;
  now: Date;
  pass: number;
  dryRun: boolean;
  /** Runs the two-pass rule over one kind of resource. */
  over<T>(items: AsyncIterable<T> | Iterable<T>, target: SweepTarget<T>): Promise<void>;
}

const HOLDER = `${hostname()}-${process.pid}`;

/**
 * Runs `body` under the sweep's lease and returns its report. A sweep that fails midway still releases
 * the lease and rethrows (the Functions host logs the failed invocation; the next timer tries again).
 */
export async function runSweep(services: Services, sweep: string, now: Date, body: (run: SweepRun) => Promise<void>): Promise<SweepReport> {
  const started = Date.now();
  const dryRun = services.config.timers.dryRun;
  const report: SweepReport = { sweep, ran: false, pass: 0, dryRun, seen: 0, candidates: 0, deleted: 0, skipped: {}, deletedNames: [], ms: 0 };
  const holder = `${HOLDER}-${randomUUID()}`;
  const lease = await claimLease(services, sweep, holder, now, services.config.timers.leaseSeconds * 1000);
  if (!lease) {
    report.ms = Date.now() - started;
    log.info('sweep skipped: another instance holds the lease', { sweep });
    return report;
  }
  report.ran = true;
  report.pass = lease.pass;
  const memory = new CandidateMemory(services, sweep, lease.pass);
  const skip = (reason: string) => (report.skipped[reason] = (report.skipped[reason] ?? 0) + 1);
  try {
    await memory.load();
    const run: SweepRun = {
      services,
      now,
      pass: lease.pass,
      dryRun,
      async over(items, target) {
        for await (const t of items) {
          report.seen++;
          const name = target.name(t);
          const why = await target.evaluate(t);
          if (why) {
            skip(why);
            continue;
          }
          report.candidates++;
          const key = candidateKey(target.kind, name);
          if (!(await memory.mark(key))) {
            skip('first-pass');
            continue;
          }
          if (dryRun) {
            log.info('sweep would delete (dry run)', { sweep, kind: target.kind, name });
            skip('dry-run');
            continue;
          }
          const outcome = await target.remove(t);
          if (outcome === 'deleted' || outcome === 'gone') await memory.forget(key);
          if (outcome === 'deleted') {
            report.deleted++;
            report.deletedNames.push(name);
            log.info('sweep deleted', { sweep, kind: target.kind, name, pass: lease.pass });
          } else {
            skip(outcome);
            log.info('sweep kept a candidate', { sweep, kind: target.kind, name, reason: outcome });
          }
        }
      },
    };
    await body(run);
    await memory.prune();
  } catch (e) {
    log.error('sweep failed', { sweep, pass: lease.pass, seen: report.seen, deleted: report.deleted, error: e instanceof Error ? e.message : String(e) });
    throw e;
  } finally {
    await releaseLease(services, lease).catch((e) => log.warn('sweep lease release failed', { sweep, error: String(e) }));
    report.ms = Date.now() - started;
  }
  const { deletedNames, ...counts } = report;
  log.info('sweep done', { ...counts, deletedNames: deletedNames.slice(0, 50) });
  return report;
}
