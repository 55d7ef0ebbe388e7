// The Azure Functions entry points, with a stand-in for the host's '@azure/functions-core' module
// (the real one exists only inside the Functions host): every route is registered with the right
// route template and method, and a registered handler answers through the shared pipeline.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import Module from 'node:module';
import { randomBytes } from 'node:crypto';
import { startAzurite, type RunningAzurite } from '../../local/azurite';

interface Registered {
  metadata: { name: string; bindings: Record<string, { type: string; direction: string; route?: string; methods?: string[]; queueName?: string; connection?: string }> };
  handler: (...args: unknown[]) => Promise<unknown>;
}

const registered: Registered[] = [];
const fakeCore = {
  setProgrammingModel: () => undefined,
  registerFunction: (metadata: Registered['metadata'], handler: Registered['handler']) => {
    registered.push({ metadata, handler });
    return { dispose: () => undefined };
  },
  registerHook: () => ({ dispose: () => undefined }),
  log: () => undefined,
};

let az: RunningAzurite;
type Resolver = (request: string, ...rest: unknown[]) => string;
const M = Module as unknown as { _resolveFilename: Resolver; _cache: Record<string, unknown> };
const originalResolve = M._resolveFilename;

before(async () => {
  az = await startAzurite();
  Object.assign(process.env, {
    JACKET_PUBLIC_URL: 'https://jacket.example.com',
    JACKET_STORAGE_CONNECTION_STRING: az.connectionString,
    JACKET_TOKEN_KEYS: randomBytes(32).toString('base64'),
    JACKET_BOOTSTRAP_USERNAME: 'admin',
    JACKET_BOOTSTRAP_PASSWORD: 'Functions-pass-1',
  });
  M._resolveFilename = function (request: string, ...rest: unknown[]) {
    if (request === '@azure/functions-core') return '@azure/functions-core';
    return originalResolve.call(this, request, ...rest);
  };
  M._cache['@azure/functions-core'] = { id: '@azure/functions-core', filename: '@azure/functions-core', loaded: true, exports: fakeCore } as unknown;
  await import('../../functions/http');
  await import('../../functions/worker');
});

after(async () => {
  M._resolveFilename = originalResolve;
  delete M._cache['@azure/functions-core'];
  await az?.stop();
});

const trigger = (r: Registered) => Object.values(r.metadata.bindings).find((b) => /Trigger$/.test(b.type))!;

test('every route of the table is an HTTP function with its own route and method', async () => {
  const { routes } = await import('../../shared/routes');
  const http = registered.filter((r) => trigger(r).type === 'httpTrigger');
  for (const route of routes.filter((r) => r.path !== '/')) {
    const f = http.find((r) => r.metadata.name === route.name);
    assert.ok(f, `function ${route.name} registered`);
    assert.equal(trigger(f).route, route.path.slice(1));
    assert.deepEqual(trigger(f).methods, [route.method]);
  }
  const fallback = http.find((r) => r.metadata.name === 'fallback')!;
  assert.equal(trigger(fallback).route, '{*path}');
});

test('the work queue trigger reads the configured queue with the storage connection setting', () => {
  const w = registered.find((r) => r.metadata.name === 'work')!;
  assert.equal(trigger(w).type, 'queueTrigger');
  assert.equal(trigger(w).queueName, '%JACKET_WORK_QUEUE%');
  assert.equal(trigger(w).connection, 'JACKET_STORAGE');
});

test('a registered HTTP function answers through the pipeline (token issue, then an authenticated call)', async () => {
  const { HttpRequest, InvocationContext } = await import('@azure/functions');
  const fn = (name: string) => registered.find((r) => r.metadata.name === name)!.handler;
  const issue = new HttpRequest({
    method: 'POST',
    url: 'https://jacket.example.com/identity/v3/auth/tokens',
    headers: { 'content-type': 'application/json' },
    body: {
      string: JSON.stringify({
        auth: {
          identity: { methods: ['password'], password: { user: { name: 'admin', domain: { id: 'default' }, password: 'Functions-pass-1' } } },
          scope: { project: { name: 'admin', domain: { id: 'default' } } },
        },
      }),
    },
  });
  const res = (await fn('identity-token-issue')(issue, new InvocationContext())) as { status: number; headers: Record<string, string>; body: string };
  assert.equal(res.status, 201);
  const token = res.headers['X-Subject-Token'];
  assert.ok(token);
  const compute = JSON.parse(res.body).token.catalog.find((s: { type: string }) => s.type === 'compute');
  assert.equal(compute.endpoints[0].url, 'https://jacket.example.com/compute/v2.1');
  const projects = new HttpRequest({ method: 'GET', url: 'https://jacket.example.com/identity/v3/auth/projects', headers: { 'x-auth-token': token } });
  const res2 = (await fn('identity-auth-projects')(projects, new InvocationContext())) as { status: number; body: string };
  assert.equal(res2.status, 200);
  assert.equal(JSON.parse(res2.body).projects[0].name, 'admin');
  const missing = new HttpRequest({ method: 'GET', url: 'https://jacket.example.com/compute/v2.1/nothing' });
  const res3 = (await fn('fallback')(missing, new InvocationContext())) as { status: number; body: string; headers: Record<string, string> };
  assert.equal(res3.status, 404);
  assert.ok(res3.headers['x-compute-request-id']);
});
