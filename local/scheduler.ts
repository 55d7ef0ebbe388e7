// Runs the timer functions locally on their NCRONTAB schedules, as the Functions host does in Azure:
// each timer waits for its next occurrence, runs, then waits for the one after (a run that overlaps
// its next occurrence skips it, like the host's singleton timers). Used by `npm start`; the e2e stacks
// leave it off so that no sweep runs behind a test's back.
import type { Services } from '../shared/services';
import { parseNcrontab, type Schedule } from '../shared/timers/ncrontab';
import { TIMERS } from '../shared/timers/registry';
import { log } from '../shared/log';
import { invokeTimer } from '../shared/timers/periodic';

export interface ScheduledTimer {
  name: string;
  schedule: string;
  run(s: Services, now: Date): Promise<unknown>;
}

/** setTimeout's limit; longer waits are taken in steps. */
const MAX_WAIT_MS = 2 ** 31 - 1;

export class TimerScheduler {
  private running = false;
  private readonly timeouts = new Set<NodeJS.Timeout>();
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly services: Services,
    private readonly timers: readonly ScheduledTimer[] = TIMERS.map((t) => ({ name: t.name, schedule: t.schedule(services.config), run: t.run })),
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    for (const t of this.timers) this.arm(t, parseNcrontab(t.schedule), new Date());
  }

  async stop(): Promise<void> {
    this.running = false;
    for (const h of this.timeouts) clearTimeout(h);
    this.timeouts.clear();
    await Promise.all([...this.inFlight]);
  }

  private arm(t: ScheduledTimer, schedule: Schedule, after: Date): void {
    if (!this.running) return;
    const at = schedule.next(after);
    const wait = at.getTime() - Date.now();
    const h = setTimeout(
      () => {
        this.timeouts.delete(h);
        if (!this.running) return;
        if (wait > MAX_WAIT_MS) return this.arm(t, schedule, after); // not there yet
        const p = this.fire(t, at).finally(() => {
          this.inFlight.delete(p);
          // The next occurrence after now: occurrences missed while this one ran are skipped.
          this.arm(t, schedule, new Date(Math.max(Date.now(), at.getTime())));
        });
        this.inFlight.add(p);
      },
      Math.max(0, Math.min(wait, MAX_WAIT_MS)),
    );
    this.timeouts.add(h);
  }

  private async fire(t: ScheduledTimer, at: Date): Promise<void> {
    try {
      await invokeTimer(t, this.services, at);
    } catch (e) {
      log.error('timer failed', { timer: t.name, error: e instanceof Error ? e.message : String(e) });
    }
  }
}
