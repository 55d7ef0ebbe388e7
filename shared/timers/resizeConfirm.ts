// Nova's _poll_unconfirmed_resizes: a server left in VERIFY_RESIZE (vm_state resized, task_state none,
// its migration row 'finished') for longer than resize_confirm_window (JACKET_RESIZE_CONFIRM_WINDOW
// seconds) is confirmed as if its owner had asked: the instance action confirmResize is recorded
// (user = the server's owner, request id of this pass), the server returns to the vm_state it had
// before the resize, the migration row is dropped. Off when the window is 0 (Nova's default).
// The confirmation itself is the action's own (completeResizeConfirm in actions/resizeWork.ts).
import { randomUUID } from 'node:crypto';
import type { Services } from '../services';
import { log } from '../log';
import { odata } from '../store/tables';
import { serverRepo, novaTime } from '../compute/servers/model';
import { RESIZE_RK, completeResizeConfirm, resizeRepo } from '../compute/servers/work/resize';
import { runPeriodic, eachRecord, idleReport, type PeriodicReport } from './periodic';

export const RESIZE_CONFIRM_TASK = 'resize-confirm';
const PER_PASS = 500;

export async function confirmResizes(s: Services, now: Date = new Date()): Promise<PeriodicReport> {
  const window = s.config.periodic.resizeConfirmWindow;
  if (window <= 0) return idleReport(RESIZE_CONFIRM_TASK);
  const before = novaTime(new Date(now.getTime() - window * 1000));
  return runPeriodic(s, RESIZE_CONFIRM_TASK, now, async (run) => {
    const requestId = `req-${randomUUID()}`;
    const due = await serverRepo(s).queryAll(odata`vm_state eq ${'resized'} and updated_at le ${before}`, PER_PASS);
    for (const cur of due) {
      await eachRecord(run, cur.value.id, async () => {
        if (cur.value.task_state !== null) return run.note(cur.value.id, 'busy', false);
        const row = await resizeRepo(s).get(cur.value.id, RESIZE_RK);
        if (!row || row.value.status !== 'finished') return run.note(cur.value.id, 'no-migration', false);
        const stored = await completeResizeConfirm(s, cur, row, requestId, cur.value.user_id);
        if (stored) log.info('resize confirmed after the confirm window', { task: RESIZE_CONFIRM_TASK, server: cur.value.id, project: cur.value.project_id, requestId });
        run.note(cur.value.id, stored ? 'confirmed' : 'changed-meanwhile', !!stored);
      });
    }
  });
}
