// Long actions whose queue message was lost (shared/work/engine.ts resumeStaleWork): for every kind of
// resource, resumed or, after config.work.staleResumes tries, given up into the resource's error state.
import type { Services } from '../services';
import { resumeStaleWork } from '../work/engine';
import { runPeriodic, type PeriodicReport } from './periodic';

export const STALE_WORK = 'stale-work';

export function finishStaleWork(s: Services, now: Date = new Date()): Promise<PeriodicReport> {
  return runPeriodic(s, STALE_WORK, now, async (run) => {
    const r = await resumeStaleWork(s, now.getTime());
    for (const id of r.resumed) {
      run.seen();
      run.note(id, 'resumed', true);
    }
    for (const id of r.gaveUp) {
      run.seen();
      run.note(id, 'gave-up', true);
    }
  });
}
