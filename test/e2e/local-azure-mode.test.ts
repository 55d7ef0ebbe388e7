// `npm start` in real-Azure mode (local/start.ts): with a real subscription id and no emulator endpoint it
// starts neither the emulator nor Azurite, checks for a credential first, says loudly that it serves
// real Azure, and serves the APIs from the storage it is given. Kept on loopback: the "managed
// identity" is a fake App Service identity endpoint (IDENTITY_ENDPOINT/IDENTITY_HEADER, which
// DefaultAzureCredential uses without probing anything else), the storage is a test Azurite, and no
// request that would reach ARM is made.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { startAzurite, type RunningAzurite } from '../../local/azurite';
import { REPO_ROOT } from '../support/paths';

const START = path.join(REPO_ROOT, 'dist/local/start.js');
const stateDir = mkdtempSync(path.join(tmpdir(), 'jacket-azure-mode-'));
let azurite: RunningAzurite | undefined;
let msi: Server | undefined;
after(async () => {
  await azurite?.stop();
  msi?.close();
  rmSync(stateDir, { recursive: true, force: true });
});

function listen(s: Server): Promise<number> {
  return new Promise((resolve) => s.listen(0, '127.0.0.1', () => resolve((s.address() as AddressInfo).port)));
}

function run(env: Record<string, string>): { done: Promise<number | null>; out: () => string; err: () => string; kill(): void } {
  const clean: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !/^(JACKET_|AZURE_|IDENTITY_|MSI_|OS_)/.test(k)) clean[k] = v;
  const child = spawn(process.execPath, [START], {
    env: { ...clean, JACKET_LOCAL_STATE_DIR: stateDir, JACKET_LOCAL_SETTINGS: path.join(stateDir, 'no-local.settings.json'), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  return { done: new Promise((r) => child.once('exit', r)), out: () => out, err: () => err, kill: () => child.kill('SIGINT') };
}

test('real-Azure mode: no emulator, no Azurite, a credential checked first, a loud banner, the APIs served', async () => {
  azurite = await startAzurite();
  const tokenRequests: string[] = [];
  msi = createServer((req, res) => {
    tokenRequests.push(`${req.url} ${req.headers['x-identity-header']}`);
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ access_token: 'fake-arm-token', expires_on: String(Math.floor(Date.now() / 1000) + 3600), resource: 'https://management.azure.com', token_type: 'Bearer' }));
  });
  const msiPort = await listen(msi);
  const app = run({
    JACKET_PORT: '0', // any free port: the banner says which
    JACKET_AZURE_SUBSCRIPTION_ID: '11111111-2222-3333-4444-555555555555',
    JACKET_AZURE_RESOURCE_GROUP: 'my-group',
    JACKET_STORAGE_CONNECTION_STRING: azurite.connectionString,
    JACKET_BOOTSTRAP_PASSWORD: 'Azure-mode-1',
    IDENTITY_ENDPOINT: `http://127.0.0.1:${msiPort}/msi/token`,
    IDENTITY_HEADER: 'secret-header',
  });
  try {
    const t0 = Date.now();
    while (!app.out().includes('Ctrl-C stops everything.')) {
      assert.ok(Date.now() - t0 < 60000, `not up in 60 s:\n${app.out()}\n${app.err()}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    const out = app.out();
    assert.match(out, /!! REAL AZURE: no emulator, no Azurite/);
    assert.match(out, /subscription\s+11111111-2222-3333-4444-555555555555\s+resource group my-group/);
    assert.match(out, /timers\s+off/);
    assert.doesNotMatch(out, /ARM emulator|Azurite\s+blob/);
    assert.ok(
      tokenRequests.some((r) => r.includes('management.azure.com') && r.endsWith('secret-header')),
      `the ARM credential was asked first: ${tokenRequests.join('; ')}`,
    );
    const url = /serving Azure on (http:\/\/127\.0\.0\.1:\d+)/.exec(out)![1];
    const auth = await fetch(`${url}/identity/v3/auth/tokens`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({
        auth: {
          identity: { methods: ['password'], password: { user: { name: 'admin', domain: { id: 'default' }, password: 'Azure-mode-1' } } },
          scope: { project: { name: 'admin', domain: { id: 'default' } } },
        },
      }),
    });
    assert.equal(auth.status, 201, await auth.text());
  } finally {
    app.kill();
    assert.equal(await app.done, 0);
  }
});

test('real-Azure mode without a credential stops before serving, saying what to do', async () => {
  const fail = createServer((_req, res) => res.writeHead(500).end('{"error":"no identity here"}'));
  const failPort = await listen(fail);
  try {
    const app = run({
      JACKET_PORT: '0',
      JACKET_AZURE_SUBSCRIPTION_ID: '11111111-2222-3333-4444-555555555555',
      JACKET_STORAGE_CONNECTION_STRING: 'UseDevelopmentStorage=true',
      IDENTITY_ENDPOINT: `http://127.0.0.1:${failPort}/msi/token`,
      IDENTITY_HEADER: 'h',
    });
    assert.equal(await app.done, 1);
    assert.match(app.err(), /needs an Azure credential: run `az login`/);
    assert.doesNotMatch(app.out(), /Ctrl-C stops everything/);
  } finally {
    fail.close();
  }
});
