// The request pipeline as clients see it: error bodies per service, request ids, 401/404/405, bad
// JSON, and external Keystone mode (a second Jacket validating tokens against the first one's Keystone).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, type Stack } from '../support/stack';
import { startLocalCloud, type LocalCloud } from '../../local/cloud';
import { Revocations } from '../../shared/identity/revocation';

let stack: Stack;
let external: LocalCloud;

before(async () => {
  stack = await startStack({ settings: { JACKET_REVOCATION_RECHECK_SECONDS: '1' } });
  external = await startLocalCloud({
    settings: { JACKET_AUTH_MODE: 'external', JACKET_KEYSTONE_URL: `${stack.url}/identity/v3`, JACKET_KEYSTONE_CACHE_SECONDS: '1' },
  });
});
after(async () => {
  await external?.stop();
  await stack?.stop();
});

test("unknown compute paths answer Nova's 404 with both request id headers", async () => {
  const r = await stack.http('GET', '/compute/v2.1/no-such-thing');
  assert.equal(r.status, 404);
  assert.deepEqual(r.body, { itemNotFound: { code: 404, message: 'The resource could not be found.' } });
  const id = r.headers.get('x-openstack-request-id');
  assert.match(id ?? '', /^req-[0-9a-f-]{36}$/);
  assert.equal(r.headers.get('x-compute-request-id'), id);
  const again = await stack.http('GET', '/compute/v2.1/no-such-thing');
  assert.notEqual(again.headers.get('x-openstack-request-id'), id, 'a new id per request');
});

test('a wrong method is 405 with Allow', async () => {
  const token = await stack.token();
  const r = await stack.http('PUT', '/identity/v3/auth/projects', { token });
  assert.equal(r.status, 405);
  assert.equal(r.headers.get('allow'), 'GET');
  assert.equal(r.body.error.code, 405);
});

test("no token, or a forged one, is 401 in keystonemiddleware's shape", async () => {
  for (const token of [undefined, 'not-a-token', (await stack.token()).replace(/.$/, 'x')]) {
    const r = await stack.http('GET', '/identity/v3/auth/projects', { token });
    assert.equal(r.status, 401);
    assert.deepEqual(r.body, { error: { code: 401, message: 'The request you have made requires authentication.', title: 'Unauthorized' } });
    assert.equal(r.headers.get('www-authenticate'), `Keystone uri="${stack.url}/identity"`);
  }
});

test('malformed JSON and schema violations are 400 and create nothing', async () => {
  const token = await stack.token();
  const bad = await stack.http('POST', '/identity/v3/projects', { token, body: '{"project": ' });
  assert.equal(bad.status, 400);
  assert.equal(bad.body.error.title, 'Bad Request');
  const invalid = await stack.http('POST', '/identity/v3/projects', { token, body: { project: { name: 'x'.repeat(65) } } });
  assert.equal(invalid.status, 400);
  assert.match(invalid.body.error.message, /^Invalid input for field 'project\/name'/);
  const list = await stack.http('GET', '/identity/v3/projects', { token });
  assert.deepEqual(
    list.body.projects.map((p: { name: string }) => p.name),
    ['admin'],
  );
});

test('external mode: tokens from another Keystone are validated there, and revocation takes effect within the cache time', async () => {
  const token = await stack.token();
  const ok = await fetch(`${external.url}/identity/v3/domains`, { headers: { 'X-Auth-Token': token } });
  assert.equal(ok.status, 200);
  const bad = await fetch(`${external.url}/identity/v3/domains`, { headers: { 'X-Auth-Token': 'bogus' } });
  assert.equal(bad.status, 401);
  // Jacket issues no tokens in external mode
  const issue = await fetch(`${external.url}/identity/v3/auth/tokens`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ auth: { identity: { methods: ['password'], password: { user: { name: 'admin', domain: { id: 'default' }, password: 'Admin-pass-1' } } } } }),
  });
  assert.equal(issue.status, 501);
  const revoke = await stack.http('DELETE', '/identity/v3/auth/tokens', { token, headers: { 'X-Subject-Token': token } });
  assert.equal(revoke.status, 204);
  await new Promise((r) => setTimeout(r, 1100));
  const after = await fetch(`${external.url}/identity/v3/domains`, { headers: { 'X-Auth-Token': token } });
  assert.equal(after.status, 401);
});

test('a revocation ends a token at once on the instance that wrote it, and within JACKET_REVOCATION_RECHECK_SECONDS on another', async () => {
  const ttlMs = 3600 * 1000;
  // Another instance of the app: its own Revocations over the same tables (what a second Functions
  // worker has), so its writes do not reach this instance's trusted checks.
  const other = new Revocations(stack.cloud.services.tables, ttlMs, 1000);
  const list = (token: string) => stack.http('GET', '/compute/v2.1/servers', { token });

  const a = await stack.makeProjectUser('rev-a', 'rev-a-user');
  const ta = await stack.token(a);
  assert.equal((await list(ta)).status, 200); // found clean, trusted for a second here
  await other.revokeUser(a.userId);
  const t0 = Date.now();
  let status = (await list(ta)).status;
  while (status === 200 && Date.now() - t0 < 3000) {
    await new Promise((r) => setTimeout(r, 100));
    status = (await list(ta)).status;
  }
  assert.equal(status, 401, 'revoked elsewhere: refused once the trusted check is older than the recheck time');
  assert.ok(Date.now() - t0 <= 1000 + 500, `refused within the recheck time (took ${Date.now() - t0} ms)`);

  // Here (a password change revokes the user's tokens through this instance): the very next request.
  const b = await stack.makeProjectUser('rev-b', 'rev-b-user');
  const tb = await stack.token(b);
  assert.equal((await list(tb)).status, 200);
  const admin = await stack.token();
  const change = await stack.http('PATCH', `/identity/v3/users/${b.userId}`, { token: admin, body: { user: { password: 'Another-pass-2' } } });
  assert.equal(change.status, 200);
  assert.equal((await list(tb)).status, 401);
});
