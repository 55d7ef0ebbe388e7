// Custom metrics as structured log lines (docs/monitoring.md): {"msg":"metric","metric":NAME,"value":N,
// ...dimensions}. In Azure the Functions host forwards the worker's log lines to Application Insights
// (traces, with the JSON fields queryable), so no telemetry SDK and no network call of our own is
// needed, and tests see metrics by reading the log sink. Metrics are derived in one place: from the
// log events the sweeps, periodic tasks and work steps already write (a log hook), and from ARM
// responses (the throttling policy the ARM clients carry).
import type { PipelinePolicy } from '@azure/core-rest-pipeline';
import { log } from './log';

type Dims = Record<string, string | number | boolean | undefined>;

/** Emits one metric value with its dimensions. */
export function metric(name: string, value: number, dims: Dims = {}): void {
  log.metric({ metric: name, value, ...dims });
}

/** The metric names (one place, so dashboards and docs agree). */
export const METRIC = {
  SWEEP_SEEN: 'jacket.sweep.seen',
  SWEEP_CANDIDATES: 'jacket.sweep.candidates',
  SWEEP_DELETED: 'jacket.sweep.deleted',
  SWEEP_MS: 'jacket.sweep.duration_ms',
  PERIODIC_CHANGED: 'jacket.periodic.changed',
  PERIODIC_MS: 'jacket.periodic.duration_ms',
  WORK_MS: 'jacket.work.duration_ms',
  TIMER_MS: 'jacket.timer.duration_ms',
  ARM_THROTTLED: 'jacket.arm.throttled',
  WORK_GAVE_UP: 'jacket.work.gave_up',
} as const;

const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

log.addHook((_lvl, msg, f) => {
  if (msg === 'sweep done' && f.ran !== false) {
    const dims = { sweep: String(f.sweep), dryRun: f.dryRun === true };
    metric(METRIC.SWEEP_SEEN, num(f.seen) ?? 0, dims);
    metric(METRIC.SWEEP_CANDIDATES, num(f.candidates) ?? 0, dims);
    metric(METRIC.SWEEP_DELETED, num(f.deleted) ?? 0, dims);
    metric(METRIC.SWEEP_MS, num(f.ms) ?? 0, dims);
  } else if (msg === 'periodic done' && f.ran !== false) {
    metric(METRIC.PERIODIC_CHANGED, num(f.changed) ?? 0, { task: String(f.task) });
    metric(METRIC.PERIODIC_MS, num(f.ms) ?? 0, { task: String(f.task) });
  } else if (msg === 'work') {
    // Every step of a long action (build, power, resize...): how long each kind's steps take.
    metric(METRIC.WORK_MS, num(f.ms) ?? 0, { kind: String(f.kind), result: String(f.result) });
  } else if (msg === 'timer done') {
    metric(METRIC.TIMER_MS, num(f.ms) ?? 0, { timer: String(f.timer), ok: f.ok === true });
  }
});

/**
 * Counts ARM throttling (429) on every ARM call, before the SDK's own retry policy waits and retries
 * it: a per-retry policy sees each attempt. The operation is the path with the names taken out.
 */
export function armThrottlePolicy(): PipelinePolicy {
  return {
    name: 'jacketArmThrottleMetric',
    async sendRequest(req, next) {
      const res = await next(req);
      if (res.status === 429) {
        // Microsoft.Compute/virtualMachines/{name}/start -> Microsoft.Compute/virtualMachines/start
        const segs = (new URL(req.url).pathname.split('/providers/').pop() ?? '').split('/');
        const operation = [segs[0], ...segs.slice(1).filter((_, i) => i % 2 === 0)].join('/');
        metric(METRIC.ARM_THROTTLED, 1, { method: req.method, operation, retryAfter: res.headers.get('retry-after') ?? undefined });
      }
      return res;
    },
  };
}
