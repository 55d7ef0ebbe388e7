// Every timer-triggered function: its name, the setting holding its NCRONTAB schedule (Azure resolves
// %SETTING%; the local scheduler reads the parsed config) and the sweep it runs.
import type { JacketConfig } from '../config';
import type { Services } from '../services';
import type { SweepReport } from './sweep';
import { NIC_SWEEP, sweepNics } from './nics';
import { DISK_SWEEP, sweepDisks } from './disks';
import { IMAGE_SWEEP, sweepImages } from './images';

export interface TimerDef {
  name: string;
  setting: string;
  schedule(cfg: JacketConfig): string;
  run(s: Services, now: Date): Promise<SweepReport>;
}

export const TIMERS: readonly TimerDef[] = [
  { name: NIC_SWEEP, setting: 'JACKET_SWEEP_NICS_SCHEDULE', schedule: (c) => c.timers.nicsSchedule, run: sweepNics },
  { name: DISK_SWEEP, setting: 'JACKET_SWEEP_DISKS_SCHEDULE', schedule: (c) => c.timers.disksSchedule, run: sweepDisks },
  { name: IMAGE_SWEEP, setting: 'JACKET_SWEEP_IMAGES_SCHEDULE', schedule: (c) => c.timers.imagesSchedule, run: sweepImages },
];
