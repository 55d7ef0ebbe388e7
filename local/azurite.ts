// Starts Azurite (the npm devDependency) on free loopback ports, with the storage account named as in
// the design (ops0storage0account by default) as well as Azurite's own devstoreaccount1. In memory
// (the tests) unless given a `location` (`npm start` keeps its data in .local/azurite, local/state.ts).
// Telemetry is off: nothing leaves this machine.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';

export interface RunningAzurite {
  account: string;
  key: string;
  blobUrl: string;
  queueUrl: string;
  tableUrl: string;
  connectionString: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

const AZURITE_JS = path.resolve(__dirname, '../../node_modules/azurite/dist/src/azurite.js');

export async function startAzurite(opts: { account?: string; key?: string; location?: string } = {}): Promise<RunningAzurite> {
  const account = opts.account ?? 'ops0storage0account';
  const key = opts.key ?? randomBytes(32).toString('base64');
  const args = [
    AZURITE_JS,
    ...(opts.location ? ['--location', opts.location] : ['--inMemoryPersistence']),
    '--silent',
    '--disableTelemetry',
    '--skipApiVersionCheck',
    '--loose',
    ...['blob', 'queue', 'table'].flatMap((s) => [`--${s}Host`, '127.0.0.1', `--${s}Port`, '0']),
  ];
  const child = spawn(process.execPath, args, {
    env: { ...process.env, AZURITE_ACCOUNTS: `${account}:${key}` },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const ports: Record<string, string> = {};
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`Azurite did not start in 30 s:\n${output}`)), 30000);
    const onData = (d: Buffer) => {
      output += d.toString();
      for (const m of output.matchAll(/Azurite (Blob|Queue|Table) service is successfully listening at (http:\/\/[^\s]+)/g)) {
        ports[m[1].toLowerCase()] = m[2];
      }
      if (ports.blob && ports.queue && ports.table) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`Azurite exited with ${code}:\n${output}`));
    });
  });
  child.stdout!.resume();
  child.stderr!.resume();
  const blobUrl = `${ports.blob}/${account}`;
  const queueUrl = `${ports.queue}/${account}`;
  const tableUrl = `${ports.table}/${account}`;
  return {
    account,
    key,
    blobUrl,
    queueUrl,
    tableUrl,
    connectionString: `DefaultEndpointsProtocol=http;AccountName=${account};AccountKey=${key};` + `BlobEndpoint=${blobUrl};QueueEndpoint=${queueUrl};TableEndpoint=${tableUrl};`,
    process: child,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
