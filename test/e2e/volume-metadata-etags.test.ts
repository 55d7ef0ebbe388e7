// Block Storage 3.15 (ETAGS, cinder/api/v3/volume_metadata.py) over HTTP with the ARM emulator: the
// volume metadata list answers an Etag (MD5 of Python's JSON of the body, which is sent as those
// bytes with webob's default text/html type), and PUT /metadata and PUT /metadata/{key} honour
// If-Match (412 with an empty body when no tag matches); below 3.15 neither, and snapshot metadata never.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { Stack, Creds } from '../support/stack';
import { startArmStack, waitFor, type ArmStack } from '../support/armStack';

type User = Creds & { projectId: string; userId: string };
let env: ArmStack;
let stack: Stack;
let alice: User;
let tA: string;

before(async () => {
  env = await startArmStack({ asyncDelayMs: 50 });
  stack = env.stack;
  alice = await stack.makeProjectUser('etag-a', 'etagalice');
  tA = await stack.token(alice);
});
after(async () => {
  await env?.stop();
});

const as = (v: string, method: string, p: string, body?: unknown, headers: Record<string, string> = {}) =>
  stack.http(method, `/volume/v3/${alice.projectId}${p}`, { token: tA, body, headers: { 'OpenStack-API-Version': `volume ${v}`, ...headers } });
const md5 = (s: string) => createHash('md5').update(s, 'utf8').digest('hex');

test('3.15 volume metadata ETags: Etag on the list, If-Match on both PUTs, 412; none below 3.15', async () => {
  const made = await as('3.15', 'POST', '/volumes', { volume: { size: 1, name: 'etag', metadata: { a: '1', b: 'caf\u00e9' } } });
  assert.equal(made.status, 202, made.text);
  const id = made.body.volume.id;
  await waitFor('volume available', async () => ((await as('3.15', 'GET', `/volumes/${id}`)).body.volume.status === 'available' ? true : undefined), 60000);
  const url = `/volumes/${id}/metadata`;

  // 3.14: JSON, no Etag; If-Match is ignored
  const old = await as('3.14', 'GET', url);
  assert.equal(old.headers.get('etag'), null);
  assert.match(old.headers.get('content-type') ?? '', /application\/json/);
  const ignored = await as('3.14', 'PUT', `${url}/a`, { meta: { a: '2' } }, { 'If-Match': '"nope"' });
  assert.equal(ignored.status, 200, ignored.text);

  // 3.15: the Etag is the MD5 of the body's bytes, Python's JSON
  const listed = await as('3.15', 'GET', url);
  assert.equal(listed.status, 200);
  assert.equal(listed.text, '{"metadata": {"a": "2", "b": "caf\\u00e9"}}');
  assert.equal(listed.headers.get('etag'), md5(listed.text));
  assert.equal(listed.headers.get('content-type'), 'text/html; charset=UTF-8');
  const tag = listed.headers.get('etag')!;

  // a stale tag: 412, empty, nothing written (the key and body checks come after)
  for (const [method, p, body] of [
    ['PUT', `${url}/a`, { meta: { a: '3' } }],
    ['PUT', `${url}/a`, { meta: { b: '3' } }],
    ['PUT', url, { metadata: { z: '9' } }],
  ] as const) {
    const r = await as('3.15', method, p, body, { 'If-Match': '"0123"' });
    assert.equal(r.status, 412, `${p}: ${r.text}`);
    assert.equal(r.text, '');
  }
  // a weak tag never matches (strong comparison); a bad body is 400 before the tag is read
  assert.equal((await as('3.15', 'PUT', `${url}/a`, { meta: { a: '3' } }, { 'If-Match': `W/"${tag}"` })).status, 412);
  assert.equal((await as('3.15', 'PUT', `${url}/a`, { meta: {} }, { 'If-Match': '"0123"' })).status, 400);
  // without the volume: 404 before the tag
  assert.equal((await as('3.15', 'PUT', '/volumes/6f519a48-3183-46cf-a32f-41815f814546/metadata', { metadata: {} }, { 'If-Match': '"0123"' })).status, 404);
  assert.deepEqual((await as('3.14', 'GET', url)).body.metadata, { a: '2', b: 'caf\u00e9' });

  // the current tag (quoted, one of several, or bare): written
  const put = await as('3.15', 'PUT', `${url}/a`, { meta: { a: '3' } }, { 'If-Match': `"other", "${tag}"` });
  assert.equal(put.status, 200, put.text);
  assert.deepEqual(put.body, { meta: { a: '3' } });
  const tag2 = (await as('3.15', 'GET', url)).headers.get('etag')!;
  assert.notEqual(tag2, tag);
  // the old tag is stale now
  assert.equal((await as('3.15', 'PUT', url, { metadata: { z: '9' } }, { 'If-Match': `"${tag}"` })).status, 412);
  const all = await as('3.15', 'PUT', url, { metadata: { z: '9' } }, { 'If-Match': tag2 });
  assert.equal(all.status, 200, all.text);
  assert.deepEqual(all.body, { metadata: { z: '9' } });
  // no If-Match, or *: as before
  assert.equal((await as('3.15', 'PUT', `${url}/z`, { meta: { z: '8' } })).status, 200);
  assert.equal((await as('3.15', 'PUT', `${url}/z`, { meta: { z: '7' } }, { 'If-Match': '*' })).status, 200);
  const mismatch = await as('3.15', 'PUT', `${url}/z`, { meta: { y: '7' } });
  assert.equal(mismatch.status, 400);
  assert.equal(mismatch.body.badRequest.message, 'Request body and URI mismatch');
  const empty = await as('3.15', 'PUT', url, { metadata: {} });
  assert.equal(empty.status, 200);
  const none = await as('3.15', 'GET', url);
  assert.equal(none.text, '{"metadata": {}}');
  assert.equal(none.headers.get('etag'), '28ea041cc3f26b287319d2de3c107b50');

  // snapshot metadata has no ETags at 3.15
  const snap = await as('3.15', 'POST', '/snapshots', { snapshot: { volume_id: id, name: 's' } });
  assert.equal(snap.status, 202, snap.text);
  await waitFor('snapshot available', async () => ((await as('3.15', 'GET', `/snapshots/${snap.body.snapshot.id}`)).body.snapshot.status === 'available' ? true : undefined), 60000);
  const sm = await as('3.15', 'GET', `/snapshots/${snap.body.snapshot.id}/metadata`);
  assert.equal(sm.headers.get('etag'), null);
  assert.equal((await as('3.15', 'PUT', `/snapshots/${snap.body.snapshot.id}/metadata`, { metadata: { k: 'v' } }, { 'If-Match': '"0123"' })).status, 200);
});
