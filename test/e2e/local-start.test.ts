// `npm start` end to end (local/start.ts), as a user runs it: the real process on a free port with its
// state in a temporary directory, driven by the real `openstack` CLI through the clouds.yaml it writes.
// - it is up within 60 s (measured: the time is printed),
// - settings come from local.settings.json, then the environment over it: JACKET_SWEEP_NICS_SCHEDULE
//   from the environment wins over the file's (the NIC sweep runs every 5 s), the file's region is used,
// - a volume created before Ctrl-C is there after the next start, and the admin token still works,
// - `--fresh` starts from an empty cloud,
// - a bad setting stops it, naming the setting.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from '../support/paths';

const START = path.join(REPO_ROOT, 'dist/local/start.js');
const OPENSTACK = path.join(REPO_ROOT, '.venv/bin/openstack');
const stateDir = mkdtempSync(path.join(tmpdir(), 'jacket-start-'));
after(() => rmSync(stateDir, { recursive: true, force: true }));

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

interface Running {
  child: ChildProcess;
  out: () => string;
  err: () => string;
  upMs: number;
  url: string;
  stop(): Promise<number | null>;
}

/** Clean environment: none of the caller's JACKET_* or OS_* settings leak in. */
function baseEnv(extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('JACKET_') && !k.startsWith('OS_')) env[k] = v;
  return { ...env, JACKET_LOCAL_STATE_DIR: stateDir, JACKET_LOCAL_SETTINGS: path.join(stateDir, 'no-local.settings.json'), JACKET_LOG_LEVEL: 'info', EMULATOR_ASYNC_DELAY_MS: '100', ...extra };
}

async function start(port: number, extra: Record<string, string> = {}, args: string[] = []): Promise<Running> {
  const t0 = Date.now();
  const child = spawn(process.execPath, [START, ...args], { env: baseEnv({ JACKET_PORT: String(port), ...extra }), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    const timer = setInterval(() => {
      if (out.includes('Ctrl-C stops everything.')) {
        clearInterval(timer);
        resolve();
      } else if (child.exitCode !== null || Date.now() - t0 > 60000) {
        clearInterval(timer);
        child.kill('SIGKILL');
        reject(new Error(`npm start not up in 60 s (exit ${child.exitCode}):\n${out}\n${err}`));
      }
    }, 100);
  });
  const upMs = Date.now() - t0;
  return {
    child,
    out: () => out,
    err: () => err,
    upMs,
    url: `http://127.0.0.1:${port}`,
    stop: async () => {
      child.kill('SIGINT'); // what Ctrl-C sends
      return exited;
    },
  };
}

function osc(args: string[]): Promise<string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('OS_')) env[k] = v;
  Object.assign(env, { OS_CLIENT_CONFIG_FILE: path.join(stateDir, 'clouds.yaml'), OS_CLOUD: 'jacket-local' });
  return new Promise((resolve, reject) =>
    execFile(OPENSTACK, args, { env, timeout: 120000 }, (e, stdout, stderr) => (e ? reject(new Error(`openstack ${args.join(' ')}: ${stderr}`)) : resolve(stdout))),
  );
}

async function volumeStatus(id: string): Promise<string> {
  return (await osc(['volume', 'show', id, '-f', 'value', '-c', 'status'])).trim();
}

async function waitFor(what: string, f: () => Promise<boolean>, ms = 60000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await f())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

async function validate(url: string, token: string): Promise<number> {
  const r = await fetch(`${url}/identity/v3/auth/tokens`, { headers: { 'X-Auth-Token': token, 'X-Subject-Token': token } });
  return r.status;
}

test('npm start: up in < 60 s, env schedules honoured, a volume and the admin token survive a restart; --fresh empties the cloud', async () => {
  const port = await freePort();
  // Settings as the host reads them: the file, then the environment over it.
  writeFileSync(path.join(stateDir, 'local.settings.json'), JSON.stringify({ IsEncrypted: false, Values: { JACKET_SWEEP_NICS_SCHEDULE: '0 0 0 1 1 *', JACKET_REGION: 'FileRegion' } }));
  const first = await start(port, { JACKET_LOCAL_SETTINGS: path.join(stateDir, 'local.settings.json'), JACKET_SWEEP_NICS_SCHEDULE: '*/5 * * * * *' });
  let second: Running | undefined;
  try {
    process.stdout.write(`# npm start up in ${first.upMs} ms (fresh state directory)\n`);
    assert.ok(first.upMs < 60000);

    // The NIC sweep runs on the schedule from the environment: every 5 s, not every 10 minutes.
    const nicSweeps = () =>
      first
        .out()
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as { t: string; msg: string; sweep?: string; ms?: number })
        .filter((l) => l.msg === 'sweep done' && l.sweep === 'sweep-nics')
        // When each pass started (the log line is written when it ends; the first pass loads the SDK).
        .map((l) => Date.parse(l.t) - (l.ms ?? 0));
    await waitFor('two NIC sweeps', async () => nicSweeps().length >= 2, 20000);
    const times = nicSweeps();
    assert.ok(times[1] - times[0] >= 4000 && times[1] - times[0] <= 6500, `NIC sweeps ${times[1] - times[0]} ms apart`);

    // The region from the file reached the app (the catalog) and clouds.yaml: the CLI finds its endpoints there.
    assert.match(readFileSync(path.join(stateDir, 'clouds.yaml'), 'utf8'), /region_name: FileRegion/);
    assert.match(await osc(['catalog', 'list', '-f', 'json']), /FileRegion/);
    const id = (await osc(['volume', 'create', '--size', '1', 'kept-across-restarts', '-f', 'value', '-c', 'id'])).trim();
    await waitFor('volume available', async () => (await volumeStatus(id)) === 'available');
    const token = (await osc(['token', 'issue', '-f', 'value', '-c', 'id'])).trim();
    assert.equal(await validate(first.url, token), 200);
    assert.equal(await first.stop(), 0);

    second = await start(port, { JACKET_LOCAL_SETTINGS: path.join(stateDir, 'local.settings.json') });
    process.stdout.write(`# npm start up in ${second.upMs} ms (restart with saved state)\n`);
    assert.equal(await volumeStatus(id), 'available');
    assert.equal(await validate(second.url, token), 200, 'the admin token issued before the restart is still valid');
    // The managed disk behind the volume survived in the emulator too: the volume can be extended.
    await osc(['volume', 'set', '--size', '2', id]);
    await waitFor('volume extended', async () => (await osc(['volume', 'show', id, '-f', 'value', '-c', 'size'])).trim() === '2');
    assert.equal(await second.stop(), 0);
    second = undefined;

    const fresh = await start(port, { JACKET_LOCAL_SETTINGS: path.join(stateDir, 'local.settings.json') }, ['--fresh']);
    try {
      assert.doesNotMatch(await osc(['volume', 'list', '-f', 'value', '-c', 'ID']), new RegExp(id));
      assert.equal(await validate(fresh.url, token), 401, 'a fresh cloud has new token keys');
    } finally {
      await fresh.stop();
    }
  } finally {
    if (first.child.exitCode === null) await first.stop();
    if (second && second.child.exitCode === null) await second.stop();
  }
});

test('npm start: a bad setting stops it before anything starts, naming the setting', async () => {
  const port = await freePort();
  const child = spawn(process.execPath, [START], {
    env: baseEnv({ JACKET_PORT: String(port), JACKET_SWEEP_NICS_SCHEDULE: 'every five seconds' }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  assert.equal(code, 1);
  assert.match(err, /JACKET_SWEEP_NICS_SCHEDULE/);
});
