// Azure Functions entry point for the timer-triggered sweeps (shared/timers): one timer function per
// sweep and periodic task, on the NCRONTAB schedule the host reads from the app setting (%JACKET_SWEEP_*_SCHEDULE%).
import { app } from '@azure/functions';
import { services } from '../shared/services';
import { TIMERS } from '../shared/timers/registry';
import { invokeTimer } from '../shared/timers/periodic';

for (const t of TIMERS) {
  app.timer(t.name, {
    schedule: `%${t.setting}%`,
    handler: async (_timer, context) => {
      await invokeTimer(t, services(), new Date(), context.invocationId);
    },
  });
}
