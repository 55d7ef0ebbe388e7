// Jacket's custom metrics (docs/monitoring.md), each emitted two ways:
// - as a structured log line {"msg":"metric","metric":NAME,"value":N,...dimensions} (tests read these
//   from the log sink; in Azure they also land in Application Insights traces), and
// - as an OpenTelemetry instrument (counter, histogram or gauge, METRIC_KIND below) when telemetry is on
//   (shared/telemetry.ts: APPLICATIONINSIGHTS_CONNECTION_STRING set), so they reach Application
//   Insights as real metrics (customMetrics) that the workbook and the alert rules query.
// Metrics are derived in one place: from the log events the sweeps, periodic tasks and work steps
// already write (a log hook), and from ARM responses (the throttling policy the ARM clients carry).
import type { PipelinePolicy } from '@azure/core-rest-pipeline';
import { log } from './log';

export type Dims = Record<string, string | number | boolean | undefined>;

/** Where metric values go besides the log: the OpenTelemetry meter, once shared/telemetry.ts set it. */
export interface MetricSink {
  record(name: string, value: number, dims: Record<string, string | number | boolean>): void;
}
let sink: MetricSink | undefined;
export function setMetricSink(s: MetricSink | undefined): void {
  sink = s;
}

/** The work queue's poison queue and its depth, as the telemetry gauge reports it. */
export type PoisonDepthReader = () => Promise<{ queue: string; depth: number }>;
let poisonReader: PoisonDepthReader | undefined;
/**
 * shared/services.ts offers how to read the poison queue's depth with the process's services; the
 * telemetry gauge (shared/telemetry.ts) asks for it at collection. Telemetry does not import services
 * itself: it is loaded first and alone (package.json "main"), and in the deployed bundles
 * (scripts/bundle.mjs) that import would make telemetry load the whole app's chunk.
 */
export function offerPoisonDepthReader(r: PoisonDepthReader): void {
  poisonReader ??= r;
}
export function poisonDepthReader(): PoisonDepthReader | undefined {
  return poisonReader;
}

/** Emits one metric value with its dimensions. */
export function metric(name: string, value: number, dims: Dims = {}): void {
  log.metric({ metric: name, value, ...dims });
  if (!sink) return;
  const attrs: Record<string, string | number | boolean> = {};
  for (const [k, v] of Object.entries(dims)) if (v !== undefined) attrs[k] = v;
  sink.record(name, value, attrs);
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
  /** Long actions that ended, by kind and outcome (succeeded | gave_up). */
  WORK_FINISHED: 'jacket.work.finished',
  /** Steps that failed and were retried, by kind and error code. */
  WORK_RETRIED: 'jacket.work.retried',
  /** Messages in the work queue's poison queue (observed by shared/telemetry.ts when telemetry is on). */
  POISON_DEPTH: 'jacket.work.poison_depth',
} as const;

/**
 * The OpenTelemetry instrument of each metric: counters add up (sums per interval in Application
 * Insights), histograms keep count/sum/min/max, gauges report the last value. One place, so
 * telemetry, the workbook (infra/workbook.json) and the alerts (infra/alerts.bicep) agree.
 */
export const METRIC_KIND: Record<(typeof METRIC)[keyof typeof METRIC], 'counter' | 'histogram' | 'gauge'> = {
  [METRIC.SWEEP_SEEN]: 'histogram',
  [METRIC.SWEEP_CANDIDATES]: 'histogram',
  [METRIC.SWEEP_DELETED]: 'counter',
  [METRIC.SWEEP_MS]: 'histogram',
  [METRIC.PERIODIC_CHANGED]: 'counter',
  [METRIC.PERIODIC_MS]: 'histogram',
  [METRIC.WORK_MS]: 'histogram',
  [METRIC.TIMER_MS]: 'histogram',
  [METRIC.ARM_THROTTLED]: 'counter',
  [METRIC.WORK_GAVE_UP]: 'counter',
  [METRIC.WORK_FINISHED]: 'counter',
  [METRIC.WORK_RETRIED]: 'counter',
  [METRIC.POISON_DEPTH]: 'gauge',
};

/** kind:id of actions given up whose final 'work' line is still to come (see the hook). */
const givenUp = new Set<string>();

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
    if (f.result === 'done') {
      // The engine logs 'work given up' before the step's own 'work' line: that action gave up.
      const key = `${String(f.kind)}:${String(f.id)}`;
      metric(METRIC.WORK_FINISHED, 1, { kind: String(f.kind), outcome: givenUp.delete(key) ? 'gave_up' : 'succeeded' });
    }
  } else if (msg === 'work given up') {
    if (givenUp.size > 10000) givenUp.clear(); // bounded: a crashed step never logs its 'work' line
    givenUp.add(`${String(f.kind)}:${String(f.id)}`);
  } else if (msg === 'work step failed, retrying') {
    metric(METRIC.WORK_RETRIED, 1, { kind: String(f.kind), code: String(f.code) });
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
