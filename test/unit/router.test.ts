import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Router, type Route } from '../../shared/http/router';
import { routes } from '../../shared/routes';
import { json } from '../../shared/http/respond';

const r = (name: string, method: Route['method'], path: string): Route => ({
  name,
  method,
  path,
  service: 'compute',
  policy: 'public',
  handler: async () => json({ name }),
});

const router = new Router([
  r('show', 'GET', '/servers/{id}'),
  r('detail', 'GET', '/servers/detail'),
  r('delete', 'DELETE', '/servers/{id}'),
  r('head', 'HEAD', '/things/{id}'),
  r('get-thing', 'GET', '/things/{id}'),
  r('list', 'GET', '/servers'),
]);

test('literal segments beat parameters whatever the order of the table', () => {
  assert.equal(router.match('GET', '/servers/detail').match?.route.name, 'detail');
  assert.deepEqual(router.match('GET', '/servers/abc').match?.params, { id: 'abc' });
});

test('trailing slashes and percent-encoding', () => {
  assert.equal(router.match('GET', '/servers/').match?.route.name, 'list');
  assert.deepEqual(router.match('GET', '/servers/a%20b').match?.params, { id: 'a b' });
  assert.equal(router.match('GET', '/servers/%E0%A4%A').match, undefined);
});

test('a path that matches with another method reports the allowed methods (405)', () => {
  const m = router.match('PUT', '/servers/abc');
  assert.equal(m.match, undefined);
  assert.deepEqual([...new Set(m.allowed)].sort(), ['DELETE', 'GET']);
  assert.deepEqual(router.match('GET', '/nothing').allowed, []);
});

test('HEAD prefers an explicit HEAD route and falls back to GET', () => {
  assert.equal(router.match('HEAD', '/things/1').match?.route.name, 'head');
  assert.equal(router.match('HEAD', '/servers/1').match?.route.name, 'show');
});

test('the route table has unique names usable as Azure Function names', () => {
  assert.throws(() => new Router([r('x', 'GET', '/a'), r('x', 'GET', '/b')]), /duplicate route name/);
  for (const route of routes) assert.match(route.name, /^[A-Za-z][A-Za-z0-9_-]{0,127}$/, route.name);
  const keys = routes.map((x) => `${x.method} ${x.path}`);
  assert.equal(new Set(keys).size, keys.length, 'no two routes share a method and path');
});

test('Cinder routes answer without their project segment too (3.67), the project-less one ranking first', () => {
  const real = new Router(routes);
  const p = '0123456789abcdef0123456789abcdef';
  const list = real.match('GET', `/volume/v3/${p}/volumes`).match;
  assert.equal(list?.route.name, 'volume-volumes-list');
  assert.deepEqual([list?.params, list?.projectless], [{ project_id: p }, undefined]);
  const bare = real.match('GET', '/volume/v3/volumes').match;
  assert.deepEqual([bare?.route.name, bare?.params, bare?.projectless], ['volume-volumes-list', {}, true]);
  assert.equal(real.match('GET', '/volume/v3/volumes/detail').match?.route.name, 'volume-volumes-detail');
  assert.deepEqual(real.match('GET', '/volume/v3/volumes/abc').match?.params, { volume_id: 'abc' });
  assert.equal(real.match('GET', `/volume/v3/${p}/volumes/detail`).match?.route.name, 'volume-volumes-detail');
  // Not Nova's: its routes keep their project segment.
  assert.equal(real.match('GET', '/compute/v2.1/servers').match?.projectless, undefined);
});
