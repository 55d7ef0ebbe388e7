// The bench's own stack: Azurite, the ARM emulator and the app on free loopback ports, as the e2e tests
// start them (test/support/stack.ts), with one addition: the app reaches Azurite's Table service through
// a counting proxy, so the bench can say how many Table requests (and bytes) an API call or a timer pass
// made. The bench's own reads (the floors) and its seeding go to Azurite directly and are not counted.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { TableClient, TableServiceClient } from '@azure/data-tables';
import { startEmulator, type RunningEmulator } from '../emulator/server';
import { EmulatorControl } from '../emulator/control';
import { testCertDir } from '../test/emulator/harness';
import { startStack, type Stack } from '../test/support/stack';

export interface TableCounts {
  /** GETs: point reads and queries (each page of a query is one). */
  reads: number;
  /** Everything else: inserts, updates, deletes, batches, table creates. */
  writes: number;
  /** Response bytes of the reads. */
  readBytes: number;
}

/** An HTTP proxy in front of Azurite's Table endpoint that counts what passes through it. */
export class TableCounter {
  private counts: TableCounts = { reads: 0, writes: 0, readBytes: 0 };
  private server?: http.Server;
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  url = '';

  constructor(private readonly target: URL) {}

  async start(): Promise<void> {
    this.server = http.createServer((req, res) => {
      const read = req.method === 'GET';
      if (read) this.counts.reads++;
      else this.counts.writes++;
      const up = http.request({ host: this.target.hostname, port: this.target.port, method: req.method, path: req.url, headers: req.headers, agent: this.agent }, (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.on('data', (c: Buffer) => {
          if (read) this.counts.readBytes += c.length;
        });
        r.pipe(res);
      });
      up.on('error', () => res.destroy());
      req.pipe(up);
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  snapshot(): TableCounts {
    return { ...this.counts };
  }

  /** What was counted while `f` ran (anything else running at the time is counted too). */
  async during<T>(f: () => Promise<T>): Promise<{ value: T; counts: TableCounts }> {
    const before = this.snapshot();
    const value = await f();
    const after = this.snapshot();
    return { value, counts: { reads: after.reads - before.reads, writes: after.writes - before.writes, readBytes: after.readBytes - before.readBytes } };
  }

  async stop(): Promise<void> {
    this.agent.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server?.closeAllConnections();
  }
}

export interface BenchStack {
  stack: Stack;
  emu: RunningEmulator;
  control: EmulatorControl;
  tableCounter: TableCounter;
  /** Azurite's own connection string (uncounted): the floors and the seeding use it. */
  directConnectionString: string;
  /** The app's table names carry this prefix. */
  tablePrefix: string;
  rawTable(name: string): TableClient;
  /**
   * The same table through the counting proxy, the path the app's own reads take: the list floors read
   * through it, so the proxy's hop (in this process, on the bench's event loop) weighs on both sides of
   * the ratio instead of only on the API's. What it reads outside `during` is not in any figure.
   */
  proxiedTable(name: string): TableClient;
  tableService(): TableServiceClient;
  stop(): Promise<void>;
}

export async function startBenchStack(settings: Record<string, string> = {}): Promise<BenchStack> {
  let emu: RunningEmulator | undefined;
  let counter: TableCounter | undefined;
  let direct = '';
  let proxied = '';
  const stack = await startStack({
    settings,
    beforeHost: async (azurite) => {
      emu = await startEmulator({ port: 0, certDir: testCertDir(), asyncDelayMs: 0, blobConnectionString: azurite.connectionString });
      const tableUrl = new URL(azurite.tableUrl);
      counter = new TableCounter(tableUrl);
      await counter.start();
      direct = azurite.connectionString;
      proxied = azurite.connectionString.replace(`TableEndpoint=${azurite.tableUrl}`, `TableEndpoint=${counter.url}${tableUrl.pathname}`);
      const e = emu;
      const c = counter;
      return {
        settings: {
          JACKET_ARM_ENDPOINT: e.url,
          JACKET_AZURE_CREDENTIAL: 'static',
          JACKET_ARM_CA_CERT: e.caCertPath,
          JACKET_STORAGE_CONNECTION_STRING: proxied,
        },
        stop: async () => {
          await c.stop();
          await e.stop();
        },
      };
    },
  });
  const prefix = stack.cloud.services.config.storagePrefix;
  const proxiedClients = new Map<string, TableClient>();
  const control = new EmulatorControl(emu!.url, emu!.caCertPath);
  return {
    stack,
    emu: emu!,
    control,
    tableCounter: counter!,
    directConnectionString: direct,
    tablePrefix: prefix,
    rawTable: (name) => TableClient.fromConnectionString(direct, `${prefix}${name}`, { allowInsecureConnection: true }),
    // One client per table, kept, as the app keeps its own (shared/store/tables.ts): building one per
    // read would charge the floor a pipeline the app never builds again.
    proxiedTable: (name) => {
      let c = proxiedClients.get(name);
      if (!c) proxiedClients.set(name, (c = TableClient.fromConnectionString(proxied, `${prefix}${name}`, { allowInsecureConnection: true })));
      return c;
    },
    tableService: () => TableServiceClient.fromConnectionString(direct, { allowInsecureConnection: true }),
    stop: async () => {
      control.close();
      await stack.stop();
    },
  };
}
