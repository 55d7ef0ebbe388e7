// Nova's _reclaim_queued_deletes: servers SOFT_DELETED (task_state none) for longer than
// reclaim_instance_interval (JACKET_RECLAIM_INSTANCE_INTERVAL seconds) are deleted for good: the record
// goes to task_state deleting and the servers' own teardown step deletes the VM, NICs, OS disk and the
// record. As in Nova no instance action is recorded (it is not an API call). Off when the interval is 0.
import type { Services } from '../services';
import { log } from '../log';
import { odata } from '../store/tables';
import { serverRepo, updateServer, novaTime } from '../compute/servers/model';
import { startTeardown } from '../compute/servers/work/build';
import { runPeriodic, eachRecord, idleReport, type PeriodicReport } from './periodic';

export const RECLAIM_TASK = 'reclaim-servers';
const PER_PASS = 500;

export async function reclaimServers(s: Services, now: Date = new Date()): Promise<PeriodicReport> {
  const interval = s.config.periodic.reclaimInstanceInterval;
  if (interval <= 0) return idleReport(RECLAIM_TASK);
  // updated_at is written by the soft delete (and by nothing else while SOFT_DELETED at rest): Nova's deleted_at.
  const before = novaTime(new Date(now.getTime() - interval * 1000));
  return runPeriodic(s, RECLAIM_TASK, now, async (run) => {
    const due = await serverRepo(s).queryAll(odata`vm_state eq ${'soft-delete'} and updated_at le ${before}`, PER_PASS);
    for (const cur of due) {
      await eachRecord(run, cur.value.id, async () => {
        const stored = await updateServer(s, cur, (v) => (v.vm_state === 'soft-delete' && v.task_state === null ? { ...v, task_state: 'deleting' } : undefined));
        if (!stored) return run.note(cur.value.id, 'changed-meanwhile', false);
        await startTeardown(s, cur.value.id);
        log.info('soft-deleted server reclaimed', { task: RECLAIM_TASK, server: cur.value.id, project: cur.value.project_id, softDeletedAt: cur.value.updated_at });
        run.note(cur.value.id, 'reclaimed', true);
      });
    }
  });
}
