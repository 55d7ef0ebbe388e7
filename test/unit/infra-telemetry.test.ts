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
  for (const sm of rm.scopeMetrics)
    for (const m of sm.metrics)
      out.set(
        m.descriptor.name,
        m.dataPoints.map((p) => ({ attributes: p.attributes, value: p.value })),
      );
  return out;
}

test('without APPLICATIONINSIGHTS_CONNECTION_STRING nothing starts and the distro is not even loaded', () => {
  assert.equal(startTelemetry({}), false);
  assert.equal(startTelemetry({ APPLICATIONINSIGHTS_CONNECTION_STRING: '  ' }), false);
  assert.equal(
    Object.keys(require.cache).some((k) => k.includes('@azure/monitor-opentelemetry')),
    false,
  );
});

test('metrics reach OpenTelemetry instruments by kind, and the log lines stay', async () => {
  azurite = await startAzurite();
  // services() (read by the poison-depth gauge through the reader shared/services.ts offers) takes its
  // settings from the environment, as in Azure.
  await import('../../shared/services');
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
  const finished = p
    .get(METRIC.WORK_FINISHED)!
    .map((x) => `${x.attributes.outcome}=${x.value}`)
    .sort();
  assert.deepEqual(finished, ['gave_up=1', 'succeeded=1'], 'actions by outcome (a step asking to poll again has not finished)');
  assert.deepEqual(
    p.get(METRIC.WORK_RETRIED)!.map((x) => x.value),
    [1],
  );
  assert.deepEqual(p.get(METRIC.ARM_THROTTLED)!, [{ attributes: { method: 'PUT', operation: 'Microsoft.Compute/disks' }, value: 1 }]);
  assert.deepEqual(p.get(METRIC.POISON_DEPTH)!, [{ attributes: { queue: 'telemetry-test-poison' }, value: 2 }], 'the poison queue depth, read at collection');

  // The log lines are unchanged: one {"msg":"metric"} line per value.
  const metricLines = lines.map((l) => JSON.parse(l)).filter((l) => l.msg === 'metric' && l.metric === METRIC.SWEEP_DELETED);
  assert.deepEqual(
    metricLines.map((l) => l.value),
    [2, 1],
  );
});

// Filled by the export test; the dependency test below reads it.
let exported: { baseType?: string }[] | undefined;

test("with a connection string the distro exports Jacket's metrics to the ingestion endpoint (a loopback fake)", async () => {
  const { createServer } = await import('node:https');
  const { readFileSync } = await import('node:fs');
  const { ensureCert } = await import('../../emulator/cert');
  const { testCertDir } = await import('../emulator/harness');
  // The exporter speaks HTTPS only: the fake ingestion serves the test certificate, which the child trusts.
  const cert = ensureCert(testCertDir());
  const { gunzipSync } = await import('node:zlib');
  const { spawn } = await import('node:child_process');
  const path = await import('node:path');
  const { REPO_ROOT } = await import('../support/paths');
  azurite ??= await startAzurite();
  const envelopes: { name?: string; data?: { baseType?: string; baseData?: Record<string, unknown> } }[] = [];
  const paths: string[] = [];
  const ingest = createServer({ cert: readFileSync(cert.certPath), key: readFileSync(cert.keyPath) }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      paths.push(`${req.method} ${req.url}`);
      let body = Buffer.concat(chunks);
      if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
      if (req.url?.includes('/track')) {
        try {
          const parsed = JSON.parse(body.toString());
          envelopes.push(...(Array.isArray(parsed) ? parsed : [parsed]));
        } catch {
          for (const line of body.toString().split('\n')) if (line.trim()) envelopes.push(JSON.parse(line));
        }
      }
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ itemsReceived: 1, itemsAccepted: 1, errors: [] }));
    });
  });
  await new Promise<void>((r) => ingest.listen(0, '127.0.0.1', r));
  const port = (ingest.address() as { port: number }).port;
  // The child starts telemetry (as the Functions host does by loading shared/telemetry.js first), makes
  // one Azure SDK call (a Table) and one metric, then shuts the distro down, which flushes everything.
  const script = `
    require(${JSON.stringify(path.join(REPO_ROOT, 'dist/shared/telemetry.js'))});
    const { TableClient } = require('@azure/data-tables');
    const { metric, METRIC } = require(${JSON.stringify(path.join(REPO_ROOT, 'dist/shared/metrics.js'))});
    (async () => {
      await TableClient.fromConnectionString(process.env.CS, 'telemetrytest', { allowInsecureConnection: true }).createTable();
      metric(METRIC.SWEEP_DELETED, 4, { sweep: 'sweep-disks', dryRun: false });
      await require('@azure/monitor-opentelemetry').shutdownAzureMonitor();
    })().catch((e) => { console.error(e); process.exit(1); });`;
  const clean: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !/^(APPLICATIONINSIGHTS|JACKET_|WEBSITE_|FUNCTIONS_)/.test(k)) clean[k] = v;
  const child = spawn(process.execPath, ['-e', script], {
    cwd: REPO_ROOT,
    env: {
      ...clean,
      CS: azurite.connectionString,
      JACKET_LOG_LEVEL: 'silent',
      APPLICATIONINSIGHTS_CONNECTION_STRING: `InstrumentationKey=00000000-0000-0000-0000-000000000001;IngestionEndpoint=https://127.0.0.1:${port}/;LiveEndpoint=https://127.0.0.1:${port}/`,
      NODE_EXTRA_CA_CERTS: cert.certPath,
      // Keep every call on loopback: no statsbeat to Microsoft, and no VM metadata probe (a Functions
      // platform is detected from these, as on Flex Consumption).
      APPLICATIONINSIGHTS_STATSBEAT_DISABLED: 'true',
      WEBSITE_SITE_NAME: 'jacket-test',
      WEBSITE_SKU: 'FlexConsumption',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const code = await new Promise<number | null>((r) => child.once('exit', r));
  ingest.close();
  assert.equal(code, 0, err);
  const types = envelopes.map((e) => e.data?.baseType);
  exported = envelopes.map((e) => ({ baseType: e.data?.baseType }));
  void types;
  const metrics = envelopes.filter((e) => e.data?.baseType === 'MetricData').flatMap((e) => (e.data!.baseData!.metrics as { name: string; value: number }[]) ?? []);
  assert.ok(
    metrics.some((m) => m.name === METRIC.SWEEP_DELETED && m.value === 4),
    `jacket.sweep.deleted exported as a metric; got ${metrics.map((m) => m.name).join(', ')}`,
  );
});

// KNOWN GAP (noted on issue 14): against the loopback ingestion fake, no RemoteDependencyData arrives
// for the Table call, on Node 20 and 22 alike, although the distro's azureSdk and http instrumentations
// are on. Kept as a todo test so the gap stays visible until it is understood.
test('the Table call of the export test is exported as a dependency', { todo: 'Azure SDK spans are not exported in this setup yet' }, () => {
  assert.ok(exported, 'the export test ran');
  assert.ok(
    exported.some((e) => e.baseType === 'RemoteDependencyData'),
    `got ${exported.map((e) => e.baseType).join(', ')}`,
  );
});
