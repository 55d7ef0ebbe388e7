// Telemetry (shared/telemetry.ts, shared/metrics.ts): off — nothing loaded, nothing sent — without
// APPLICATIONINSIGHTS_CONNECTION_STRING; when on, Jacket's metrics are real OpenTelemetry instruments
// (read here through an in-memory reader, so no network call leaves loopback), including the poison
// queue's depth read from a real (Azurite) queue; the metric log lines tests read stay as they were.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { MeterProvider, MetricReader, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { startTelemetry, attachMetrics } from '../../shared/telemetry';
import { metric, METRIC, setMetricSink } from '../../shared/metrics';
import { log } from '../../shared/log';
import { startAzurite, type RunningAzurite } from '../../local/azurite';
import { QueueClient } from '@azure/storage-queue';

class TestReader extends MetricReader {
  protected async onShutdown(): Promise<void> {}
  protected async onForceFlush(): Promise<void> {}
}

let azurite: RunningAzurite | undefined;
after(async () => {
  setMetricSink(undefined);
  await azurite?.stop();
});

/** name -> [{attributes, value}] where value is a sum (counter), a {count,sum} (histogram) or a gauge value. */
function points(rm: ResourceMetrics): Map<string, { attributes: Record<string, unknown>; value: unknown }[]> {
  const out = new Map<string, { attributes: Record<string, unknown>; value: unknown }[]>();
  for (const sm of rm.scopeMetrics) for (const m of sm.metrics) out.set(m.descriptor.name, m.dataPoints.map((p) => ({ attributes: p.attributes, value: p.value })));
  return out;
}

test('without APPLICATIONINSIGHTS_CONNECTION_STRING nothing starts and the distro is not even loaded', () => {
  assert.equal(startTelemetry({}), false);
  assert.equal(startTelemetry({ APPLICATIONINSIGHTS_CONNECTION_STRING: '  ' }), false);
  assert.equal(Object.keys(require.cache).some((k) => k.includes('@azure/monitor-opentelemetry')), false);
});

test('metrics reach OpenTelemetry instruments by kind, and the log lines stay', async () => {
  azurite = await startAzurite();
  // services() (read by the poison-depth gauge) takes its settings from the environment, as in Azure.
  Object.assign(process.env, {
    JACKET_PUBLIC_URL: 'http://127.0.0.1:1',
    JACKET_STORAGE_CONNECTION_STRING: azurite.connectionString,
    JACKET_TOKEN_KEYS: randomBytes(32).toString('base64'),
    JACKET_WORK_QUEUE: 'telemetry-test',
  });
  const poison = new QueueClient(azurite.connectionString, 'telemetry-test-poison');
  await poison.createIfNotExists();
  await poison.sendMessage('a');
  await poison.sendMessage('b');

  const reader = new TestReader();
  attachMetrics(new MeterProvider({ readers: [reader] }));
  const lines: string[] = [];
  log.setSink((l) => lines.push(l));
  log.setLevel('info');
  try {
    log.info('sweep done', { sweep: 'sweep-nics', ran: true, dryRun: false, seen: 5, candidates: 2, deleted: 2, ms: 40 });
    log.info('sweep done', { sweep: 'sweep-nics', ran: true, dryRun: false, seen: 4, candidates: 1, deleted: 1, ms: 30 });
    log.warn('work step failed, retrying', { kind: 'volume.create', id: 'v1', code: 'TooManyRequests' });
    log.warn('work given up', { kind: 'volume.create', id: 'v1', code: 'Timeout' });
    log.info('work', { kind: 'volume.create', id: 'v1', result: 'done', ms: 12 });
    log.info('work', { kind: 'volume.create', id: 'v2', result: 'done', ms: 8 });
    log.info('work', { kind: 'volume.create', id: 'v3', result: 'again', ms: 5 });
    metric(METRIC.ARM_THROTTLED, 1, { method: 'PUT', operation: 'Microsoft.Compute/disks', retryAfter: undefined });
  } finally {
    log.setLevel('silent');
  }
  const { resourceMetrics, errors } = await reader.collect();
  assert.deepEqual(errors, []);
  const p = points(resourceMetrics);

  const deleted = p.get(METRIC.SWEEP_DELETED)!;
  assert.deepEqual(deleted, [{ attributes: { sweep: 'sweep-nics', dryRun: false }, value: 3 }], 'a counter adds the two runs');
  const ms = p.get(METRIC.SWEEP_MS)![0].value as { count: number; sum: number };
  assert.equal(ms.count, 2);
  assert.equal(ms.sum, 70);
  const finished = p.get(METRIC.WORK_FINISHED)!.map((x) => `${x.attributes.outcome}=${x.value}`).sort();
  assert.deepEqual(finished, ['gave_up=1', 'succeeded=1'], 'actions by outcome (a step asking to poll again has not finished)');
  assert.deepEqual(p.get(METRIC.WORK_RETRIED)!.map((x) => x.value), [1]);
  assert.deepEqual(p.get(METRIC.ARM_THROTTLED)!, [{ attributes: { method: 'PUT', operation: 'Microsoft.Compute/disks' }, value: 1 }]);
  assert.deepEqual(p.get(METRIC.POISON_DEPTH)!, [{ attributes: { queue: 'telemetry-test-poison' }, value: 2 }], 'the poison queue depth, read at collection');

  // The log lines are unchanged: one {"msg":"metric"} line per value.
  const metricLines = lines.map((l) => JSON.parse(l)).filter((l) => l.msg === 'metric' && l.metric === METRIC.SWEEP_DELETED);
  assert.deepEqual(metricLines.map((l) => l.value), [2, 1]);
});
