// Telemetry for the Azure portal (docs/monitoring.md): OpenTelemetry through the Azure Monitor distro
// (@azure/monitor-opentelemetry), on only when APPLICATIONINSIGHTS_CONNECTION_STRING is set — so tests
// and `npm start` without it load nothing and send nothing.
//
// Why the distro in the worker (and not only the Functions host's own OpenTelemetry mode): the host
// sees invocations, but the ARM and Storage calls and Jacket's own metrics happen in this Node process.
// The distro's Azure SDK and http instrumentations turn every ARM / Table / Queue / Blob call into a
// dependency, its meter provider exports Jacket's metrics (shared/metrics.ts) as customMetrics, and
// @azure/functions-opentelemetry-instrumentation parents those under the host's request for the
// invocation (host.json telemetryMode OpenTelemetry), so the portal shows request → dependencies.
//
// The Functions host loads this file before functions/*.js (package.json "main" lists it first), so
// the instrumentations patch the SDKs before anything uses them; `npm start` calls startTelemetry()
// first thing too.
import type { Attributes, Counter, Histogram, Gauge, MeterProvider } from '@opentelemetry/api';
import type { TokenCredential } from '@azure/core-auth';
import { METRIC, METRIC_KIND, poisonDepthReader, setMetricSink } from './metrics';
import { log } from './log';

let started = false;

/**
 * Routes shared/metrics.ts values into OpenTelemetry instruments of `provider` (the global one by
 * default). @opentelemetry/api (44 modules) loads here, only when telemetry is on: this file is the
 * first the host loads, in every process.
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports
export function attachMetrics(provider: MeterProvider = (require('@opentelemetry/api') as typeof import('@opentelemetry/api')).metrics.getMeterProvider()): void {
  const meter = provider.getMeter('jacket');
  const instruments = new Map<string, Counter | Histogram | Gauge>();
  const instrument = (name: string) => {
    let i = instruments.get(name);
    if (!i) {
      const kind = METRIC_KIND[name as keyof typeof METRIC_KIND] ?? 'histogram';
      i = kind === 'counter' ? meter.createCounter(name) : kind === 'gauge' ? meter.createGauge(name) : meter.createHistogram(name);
      instruments.set(name, i);
    }
    return i;
  };
  setMetricSink({
    record(name, value, dims) {
      const i = instrument(name);
      if ('add' in i) i.add(value, dims as Attributes);
      else i.record(value, dims as Attributes);
    },
  });
  // The poison queue's depth, read when the meter collects (every export interval, 60 s by default):
  // no timer of our own, and nothing read when telemetry is off.
  meter.createObservableGauge(METRIC.POISON_DEPTH).addCallback(async (result) => {
    try {
      // The reader shared/services.ts offers (nothing to read in a process without the functions).
      const read = poisonDepthReader();
      if (!read) return;
      const { queue, depth } = await read();
      result.observe(depth, { queue });
    } catch (e) {
      log.debug('poison queue depth not read', { error: e instanceof Error ? e.message : String(e) });
    }
  });
}

/**
 * Entra ID ingestion (the template disables the component's local auth): DefaultAzureCredential, which
 * picks the user-assigned identity named by AZURE_CLIENT_ID. Built on first use, so @azure/identity
 * loads after the instrumentations are in place.
 */
function lazyCredential(): TokenCredential {
  let c: TokenCredential | undefined;
  return {
    getToken(scopes, options) {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      c ??= new (require('@azure/identity') as typeof import('@azure/identity')).DefaultAzureCredential();
      return c.getToken(scopes, options);
    },
  };
}

/** Starts the Azure Monitor distro when a connection string is set; returns whether it did. */
export function startTelemetry(env: Record<string, string | undefined> = process.env): boolean {
  const connectionString = env.APPLICATIONINSIGHTS_CONNECTION_STRING?.trim();
  if (started || !connectionString) return started;
  started = true;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { useAzureMonitor } = require('@azure/monitor-opentelemetry') as typeof import('@azure/monitor-opentelemetry');
  useAzureMonitor({
    azureMonitorExporterOptions: { connectionString, ...(/Authorization=AAD/i.test(env.APPLICATIONINSIGHTS_AUTHENTICATION_STRING ?? '') ? { credential: lazyCredential() } : {}) },
    // Requests and dependencies: http (the local host's requests, every outgoing call) and the Azure
    // SDK's own spans (ARM operations, Table/Queue/Blob calls with their operation names).
    instrumentationOptions: { azureSdk: { enabled: true }, http: { enabled: true } },
    enableLiveMetrics: true,
  });
  if (env.FUNCTIONS_WORKER_RUNTIME) {
    // Correlates the worker's spans with the host's invocation (only inside the Functions host).
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { AzureFunctionsInstrumentation } = require('@azure/functions-opentelemetry-instrumentation') as typeof import('@azure/functions-opentelemetry-instrumentation');
    new AzureFunctionsInstrumentation().enable();
  }
  attachMetrics();
  return true;
}

startTelemetry();
