// Crashed actions (Nova's _init_instance on compute restart, and instance_build_timeout): a server whose
// task_state has not changed for JACKET_STALE_TASK_SECONDS (30 min). An action started through the
// long-action engine has a ledger row (shared/work/ledger.ts): the engine's own stale sweep resumes or
// gives it up, so such a server is left to it. What remains is a task with no action behind it (a
// record written but its action never started, a task state set by hand). Nothing may stay in a task
// state forever, so:
//   - work that reads everything it needs from the records (delete's teardown, resize/revert) is
//     started again, at most RETRIES times per task;
//   - anything else (a build, whose sealed password only lived in the lost item; power and lifecycle
//     actions, whose plan did too; rebuild, snapshot, password), or a restarted action that still did
//     not move, is rolled back: task_state reset, a fault recorded, the open instance action finished
//     with Error. As in Nova, a rebuild or a build caught midway leaves the server in ERROR; others keep
//     their vm_state and the power state sync (reconcile.ts) brings the power state in line with the VM.
import type { Services } from '../services';
import { log } from '../log';
import { odata, type Stored } from '../store/tables';
import { serverRepo, updateServer, novaTime, type ServerRecord, type TaskState } from '../compute/servers/model';
import { TEARDOWN_KIND } from '../compute/servers/work/build';
import { RESIZE_KIND, RESIZE_RK, resizeRepo } from '../compute/servers/work/resize';
import { failInstanceMigrations } from '../compute/migrations/model';
import { finishAction, type InstanceActionRecord } from '../compute/servers/instanceActions';
import type { WorkItem } from '../work/types';
import { inFlight as kindInFlight, startWork } from '../work/ledger';
import { WORK_KINDS } from '../work/handlers';
import { runPeriodic, eachRecord, type PeriodicReport } from './periodic';

export const STALE_TASK = 'stale-tasks';
const PER_PASS = 500;
/** Re-enqueues of one task before it is rolled back. */
export const RETRIES = 2;

/** The step that resumes a task by itself, for the task states that have one. */
async function resumable(s: Services, rec: ServerRecord): Promise<WorkItem | undefined> {
  const t = rec.task_state;
  if (t === 'deleting') return { kind: TEARDOWN_KIND, id: rec.id, data: { purpose: 'delete' } };
  // A cold migrate (an Azure redeploy, a power action) is also in resize_migrating, but its plan lived
  // only in its work item: only a resize has the row its step resumes from. A migrate is rolled back.
  const isResize = t?.startsWith('resize_') && (await resizeRepo(s).get(rec.id, RESIZE_RK)) !== undefined;
  if (isResize && (t === 'resize_prep' || t === 'resize_migrating')) return { kind: RESIZE_KIND, id: rec.id, data: { direction: 'resize' } };
  if (isResize && t === 'resize_reverting') return { kind: RESIZE_KIND, id: rec.id, data: { direction: 'revert' } };
  return undefined;
}

/** Per server: how often this task was re-enqueued (PK 'server', RK server id). */
interface StaleRow {
  task_state: TaskState;
  attempts: number;
  /** When it was last enqueued again (epoch ms): the step gets the whole stale period to move. */
  at: number;
}
const staleRepo = (s: Services) => s.tables.repository<StaleRow>('staletasks');

/** An action of the engine is in flight for this server: its ledger row is the engine's to resume. */
async function inFlight(s: Services, serverId: string): Promise<boolean> {
  for (const k of WORK_KINDS) if (await kindInFlight(s, { kind: k.kind, id: serverId })) return true;
  return false;
}
const PK = 'server';

/** Finishes the server's open instance action (the newest with an unfinished event) with Error. */
async function failOpenAction(s: Services, serverId: string, why: string): Promise<void> {
  // Read-only look at the instance actions table for the row key; finishAction does the write.
  const rows = await s.tables.repository<InstanceActionRecord>('instanceactions').list(serverId);
  const open = rows.find((r) => r.value.events.some((e) => e.finish_time === null)); // newest first
  if (open) await finishAction(s, { serverId, rowKey: open.rowKey }, false, why);
}

async function rollBack(s: Services, cur: Stored<ServerRecord>, minutes: number): Promise<boolean> {
  const task = cur.value.task_state;
  const why = `The ${task} task did not finish within ${minutes} minutes (its worker stopped); the task state was reset.`;
  // Nova's _init_instance puts an instance caught building or rebuilding in ERROR; others keep their state.
  const toError = cur.value.vm_state === 'building' || task === 'rebuilding';
  const stored = await updateServer(s, cur, (v) =>
    v.task_state !== task
      ? undefined
      : { ...v, task_state: null, ...(toError ? { vm_state: 'error' as const } : {}), fault: { code: 500, message: why, details: 'StaleTaskState', created: novaTime() } },
  );
  if (!stored) return false;
  // A resize, revert or migrate rolled back here never finished: its migration record ends 'error'.
  if (task?.startsWith('resize_')) await failInstanceMigrations(s, cur.value.id);
  await failOpenAction(s, cur.value.id, why);
  return true;
}

export function finishStaleTasks(s: Services, now: Date = new Date()): Promise<PeriodicReport> {
  const ageSeconds = s.config.periodic.staleTaskSeconds;
  const before = novaTime(new Date(now.getTime() - ageSeconds * 1000));
  const minutes = Math.round(ageSeconds / 60);
  return runPeriodic(s, STALE_TASK, now, async (run) => {
    const tracked = new Map((await staleRepo(s).list(PK)).map((r) => [r.rowKey, r]));
    // task_state is an indexed column only when set: "gt ''" selects the records in some task.
    const stale = await serverRepo(s).queryAll(`task_state gt '' and ${odata`updated_at le ${before}`}`, PER_PASS);
    const still = new Set<string>();
    for (const cur of stale) {
      const id = cur.value.id;
      await eachRecord(run, id, async () => {
        const row = tracked.get(id);
        const attempts = row && row.value.task_state === cur.value.task_state ? row.value.attempts : 0;
        if (row && attempts > 0 && now.getTime() - row.value.at < ageSeconds * 1000) {
          still.add(id);
          return run.note(id, 'resumed-recently', false);
        }
        if (await inFlight(s, id)) return run.note(id, 'in-flight', false);
        const item = await resumable(s, cur.value);
        const fields = { task: STALE_TASK, server: id, project: cur.value.project_id, task_state: cur.value.task_state, since: cur.value.updated_at };
        if (item && attempts < RETRIES) {
          await startWork(s, { ...item, requestId: `req-stale-${id}` });
          await staleRepo(s).upsert(PK, id, { task_state: cur.value.task_state, attempts: attempts + 1, at: now.getTime() });
          still.add(id);
          log.warn('stale task: work step enqueued again', { ...fields, attempt: attempts + 1 });
          return run.note(id, 're-enqueued', true);
        }
        const done = await rollBack(s, cur, minutes);
        if (done) log.warn('stale task rolled back', fields);
        run.note(id, done ? 'rolled-back' : 'changed-meanwhile', done);
      });
    }
    // Rows of servers that moved on (or were rolled back) are no longer needed.
    for (const [id, row] of tracked)
      if (!still.has(id))
        await staleRepo(s)
          .delete(PK, id, row.etag)
          .catch(() => undefined);
  });
}
