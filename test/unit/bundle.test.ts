// The deployed bundles (scripts/bundle.mjs; cold start, issue 11): built from the compiled entry
// points (ES modules, dist/bundle/**/*.mjs, with shared chunks), they must register every function
// exactly as the compiled files do — same names, same triggers, routes, methods, schedules, queue and
// connection — load no CommonJS module of the app or the bundled SDKs, and serve a request through a
// bundled handler. Each entry point is loaded in a fresh
// process with a stand-in for the host's '@azure/functions-core' that records registrations (as
// test/unit/functions-registration.test.ts does), once compiled and once bundled. The cold import of
// each is timed too (median of 3, reported, not asserted: the machine is shared; bench/ owns the figure).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { REPO_ROOT } from '../support/paths';
import { startAzurite, type RunningAzurite } from '../../local/azurite';

// A directory under dist/ (not the system tmp): the bundles require their external packages from the
// repository's node_modules, as the deployed ones do from the package's.
let dir: string;
let entries: string[];
let az: RunningAzurite | undefined;
const mjs = (e: string) => e.replace(/\.js$/, '.mjs');

before(async () => {
  dir = mkdtempSync(path.join(REPO_ROOT, 'dist', '.bundle-test-'));
  const mod = (await import(path.join(REPO_ROOT, 'scripts/bundle.mjs'))) as { bundle(out: string): Promise<unknown>; entryPoints(): string[] };
  await mod.bundle(dir);
  entries = mod.entryPoints();
});

after(async () => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  await az?.stop();
});

/** Node code run before the entry point: the host's core module, recording every registration. */
const FAKE_CORE = `
  const Module = require('node:module');
  const registered = [];
  const fakeCore = {
    setProgrammingModel: () => undefined,
    registerFunction: (metadata, handler) => { registered.push({ metadata, handler }); return { dispose() {} }; },
    registerHook: () => ({ dispose() {} }),
    log: () => undefined,
  };
  const resolve = Module._resolveFilename;
  Module._resolveFilename = function (request, ...rest) { return request === '@azure/functions-core' ? request : resolve.call(this, request, ...rest); };
  require.cache['@azure/functions-core'] = { id: '@azure/functions-core', filename: '@azure/functions-core', loaded: true, exports: fakeCore };
`;

interface Loaded {
  functions: { name: string; bindings: unknown }[];
  modules: number;
}

function run(script: string, env: Record<string, string> = {}): string {
  const r = spawnSync(process.execPath, ['-e', script], { cwd: REPO_ROOT, encoding: 'utf8', env: { ...process.env, JACKET_LOG_LEVEL: 'silent', ...env } });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

/** The functions a file registers (name and bindings, in order), and how many CommonJS modules its import loaded. */
function load(file: string): Loaded {
  const out = run(`${FAKE_CORE}
    const before = Object.keys(require.cache).length;
    require(${JSON.stringify(file)});
    const functions = registered.map((r) => ({ name: r.metadata.name, bindings: r.metadata.bindings }));
    process.stdout.write('\\n' + JSON.stringify({ functions, modules: Object.keys(require.cache).length - before - 1 }));`);
  return JSON.parse(out.slice(out.lastIndexOf('\n') + 1)) as Loaded;
}

/** Median wall time of `node -e "require(files…)"` in fresh processes, as bench/run.ts measures it (`node -e 0` without files). */
function coldImportMs(files: string[], runs = 3): number {
  const script = files.length ? files.map((f) => `require(${JSON.stringify(f)})`).join(';') : '0';
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = process.hrtime.bigint();
    const r = spawnSync(process.execPath, ['-e', script], { cwd: REPO_ROOT, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, JACKET_LOG_LEVEL: 'silent' } });
    assert.equal(r.status, 0, r.stderr?.toString());
    times.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  return times.sort((a, b) => a - b)[(runs - 1) >> 1];
}

test('each bundle registers the same functions as its compiled entry point, loading a handful of modules', (t) => {
  assert.deepEqual(entries, ['shared/telemetry.js', 'functions/http.js', 'functions/timers.js', 'functions/worker.js']);
  const all: string[] = [];
  for (const e of entries) {
    const compiled = load(path.join(REPO_ROOT, 'dist', e));
    const bundled = load(path.join(dir, mjs(e)));
    assert.deepEqual(bundled.functions, compiled.functions, e);
    all.push(...bundled.functions.map((f) => f.name));
    // Only @azure/functions (with its two small dependencies), external on purpose; the bundle and its
    // chunks are ES modules, not in require.cache.
    assert.ok(bundled.modules <= 3, `${e}: the bundle loaded ${bundled.modules} CommonJS modules`);
    t.diagnostic(`${e}: ${bundled.functions.length} functions; CommonJS modules loaded ${compiled.modules} compiled, ${bundled.modules} bundled`);
  }
  assert.equal(new Set(all).size, all.length, 'function names are unique across entry points');
  assert.ok(all.length > 200, `${all.length} functions`);
  assert.ok(all.includes('fallback') && all.includes('work'));
});

test('cold import of each bundle, and of all of them in one process as the host loads them, beside the compiled files and `node -e 0`', (t) => {
  const ms = (files: string[]) => `${coldImportMs(files).toFixed(0)} ms`;
  t.diagnostic(`node -e 0: ${ms([])}`);
  for (const e of entries) t.diagnostic(`${e}: bundled ${ms([path.join(dir, mjs(e))])}, compiled ${ms([path.join(REPO_ROOT, 'dist', e)])}`);
  t.diagnostic(`all four in one process: bundled ${ms(entries.map((e) => path.join(dir, mjs(e))))}, compiled ${ms(entries.map((e) => path.join(REPO_ROOT, 'dist', e)))}`);
});

test('a bundled HTTP function answers through the pipeline (token issue against Azurite), with telemetry loaded first', async () => {
  az = await startAzurite();
  const out = run(
    `${FAKE_CORE}
    require(${JSON.stringify(path.join(dir, 'shared/telemetry.mjs'))});
    require(${JSON.stringify(path.join(dir, 'functions/http.mjs'))});
    const { HttpRequest, InvocationContext } = require('@azure/functions');
    const fn = (name) => registered.find((r) => r.metadata.name === name).handler;
    const body = { auth: { identity: { methods: ['password'], password: { user: { name: 'admin', domain: { id: 'default' }, password: 'Bundle-pass-1' } } }, scope: { project: { name: 'admin', domain: { id: 'default' } } } } };
    (async () => {
      const req = new HttpRequest({ method: 'POST', url: 'https://jacket.example.com/identity/v3/auth/tokens', headers: { 'content-type': 'application/json' }, body: { string: JSON.stringify(body) } });
      const res = await fn('identity-token-issue')(req, new InvocationContext());
      const bad = await fn('identity-token-issue')(new HttpRequest({ method: 'POST', url: req.url, headers: { 'content-type': 'application/json' }, body: { string: '{"auth": 1}' } }), new InvocationContext());
      process.stdout.write('\\n' + JSON.stringify({ status: res.status, token: Boolean(res.headers['X-Subject-Token']), bad: bad.status }));
    })().catch((e) => { console.error(e); process.exit(1); });`,
    {
      JACKET_PUBLIC_URL: 'https://jacket.example.com',
      JACKET_STORAGE_CONNECTION_STRING: az.connectionString,
      JACKET_STORAGE_PREFIX: `b${randomBytes(4).toString('hex')}`,
      JACKET_TOKEN_KEYS: randomBytes(32).toString('base64'),
      JACKET_BOOTSTRAP_USERNAME: 'admin',
      JACKET_BOOTSTRAP_PASSWORD: 'Bundle-pass-1',
    },
  );
  // 201 with a token (Tables, password hashing, token signing run in the bundle); 400 for a body the
  // schema refuses (ajv, loaded on first use, runs in the bundle too).
  assert.deepEqual(JSON.parse(out.slice(out.lastIndexOf('\n') + 1)), { status: 201, token: true, bad: 400 });
});
