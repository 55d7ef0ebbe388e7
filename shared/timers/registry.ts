// Every timer-triggered function: its name, the setting holding its NCRONTAB schedule (Azure resolves
// %SETTING%; the local scheduler reads the parsed config) and the sweep it runs.
import type { JacketConfig } from '../config';
import type { Services } from '../services';
import type { SweepReport } from './sweep';
import { NIC_SWEEP, sweepNics } from './nics';
import { DISK_SWEEP, sweepDisks } from './disks';
import { IMAGE_SWEEP, sweepImages } from './images';
import { BLOB_SWEEP, sweepBlobs } from './blobs';
import type { PeriodicReport } from './periodic';
import { RECONCILE_TASK, VM_SWEEP, reconcileServers, sweepVms } from './reconcile';
import { RECLAIM_TASK, reclaimServers } from './reclaim';
import { STALE_TASK, finishStaleTasks } from './staleTasks';
import { STALE_WORK, finishStaleWork } from './staleWork';
import { RESIZE_CONFIRM_TASK, confirmResizes } from './resizeConfirm';
import { HYPERVISORS_TASK, updateHypervisors } from '../compute/hypervisors/api';

export interface TimerDef {
  name: string;
  setting: string;
  schedule(cfg: JacketConfig): string;
  run(s: Services, now: Date): Promise<SweepReport | PeriodicReport>;
}

export const TIMERS: readonly TimerDef[] = [
  { name: NIC_SWEEP, setting: 'JACKET_SWEEP_NICS_SCHEDULE', schedule: (c) => c.timers.nicsSchedule, run: sweepNics },
  { name: DISK_SWEEP, setting: 'JACKET_SWEEP_DISKS_SCHEDULE', schedule: (c) => c.timers.disksSchedule, run: sweepDisks },
  { name: IMAGE_SWEEP, setting: 'JACKET_SWEEP_IMAGES_SCHEDULE', schedule: (c) => c.timers.imagesSchedule, run: sweepImages },
  { name: BLOB_SWEEP, setting: 'JACKET_SWEEP_BLOBS_SCHEDULE', schedule: (c) => c.timers.blobsSchedule, run: sweepBlobs },
  // the periodic tasks (docs/reconciliation.md)
  { name: VM_SWEEP, setting: 'JACKET_SWEEP_VMS_SCHEDULE', schedule: (c) => c.timers.vmsSchedule, run: sweepVms },
  { name: RECONCILE_TASK, setting: 'JACKET_RECONCILE_SCHEDULE', schedule: (c) => c.timers.reconcileSchedule, run: reconcileServers },
  { name: RECLAIM_TASK, setting: 'JACKET_RECLAIM_SCHEDULE', schedule: (c) => c.timers.reclaimSchedule, run: reclaimServers },
  { name: STALE_TASK, setting: 'JACKET_STALE_TASKS_SCHEDULE', schedule: (c) => c.timers.staleTasksSchedule, run: finishStaleTasks },
  // Lost long actions of every kind share the stale-task schedule.
  { name: STALE_WORK, setting: 'JACKET_STALE_TASKS_SCHEDULE', schedule: (c) => c.timers.staleTasksSchedule, run: finishStaleWork },
  { name: RESIZE_CONFIRM_TASK, setting: 'JACKET_RESIZE_CONFIRM_SCHEDULE', schedule: (c) => c.timers.resizeConfirmSchedule, run: confirmResizes },
  { name: HYPERVISORS_TASK, setting: 'JACKET_HYPERVISORS_SCHEDULE', schedule: (c) => c.timers.hypervisorsSchedule, run: updateHypervisors },
];
