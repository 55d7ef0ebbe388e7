import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Microversion, negotiate, versionHeaders, type VersionedService } from '../../shared/api/microversion';
import { ApiError } from '../../shared/http/errors';

const svc: VersionedService = { serviceType: 'compute', min: '2.1', max: '2.10', legacyHeader: 'x-openstack-nova-api-version' };

function status(f: () => unknown): number | undefined {
  try {
    f();
  } catch (e) {
    return e instanceof ApiError ? e.status : -1;
  }
  return undefined;
}

test('no header negotiates the minimum; latest the maximum', () => {
  assert.equal(negotiate(svc, {}).toString(), '2.1');
  assert.equal(negotiate(svc, { 'openstack-api-version': 'compute latest' }).toString(), '2.10');
  assert.equal(negotiate(svc, { 'x-openstack-nova-api-version': 'latest' }).toString(), '2.10');
});

test('the generic header wins over the legacy one and other services are ignored', () => {
  const h = { 'openstack-api-version': 'volume 3.5, compute 2.3', 'x-openstack-nova-api-version': '2.7' };
  assert.equal(negotiate(svc, h).toString(), '2.3');
  assert.equal(negotiate(svc, { 'openstack-api-version': 'volume 3.5', 'x-openstack-nova-api-version': '2.7' }).toString(), '2.7');
});

test('versions compare numerically, not as strings', () => {
  assert.ok(Microversion.parse('2.10').compare(Microversion.parse('2.9')) > 0);
  assert.ok(Microversion.parse('2.10').matches('2.2', '2.10'));
  assert.ok(!Microversion.parse('2.11').matches(undefined, '2.10'));
  assert.ok(Microversion.parse('2.10').atLeast('2.9'));
});

test('outside the range is 406, bad syntax 400', () => {
  assert.equal(
    status(() => negotiate(svc, { 'openstack-api-version': 'compute 2.11' })),
    406,
  );
  assert.equal(
    status(() => negotiate(svc, { 'openstack-api-version': 'compute 2.0' })),
    406,
  );
  assert.equal(
    status(() => negotiate(svc, { 'openstack-api-version': 'compute 3.1' })),
    406,
  );
  assert.equal(
    status(() => negotiate(svc, { 'openstack-api-version': 'compute 2.a' })),
    400,
  );
  assert.equal(
    status(() => negotiate(svc, { 'openstack-api-version': 'compute 2.01' })),
    400,
  );
});

test('response headers name the version and vary on the request headers', () => {
  const h = versionHeaders(svc, Microversion.parse('2.5'));
  assert.equal(h['OpenStack-API-Version'], 'compute 2.5');
  assert.equal(h['X-OpenStack-Nova-API-Version'], '2.5');
  assert.equal(h.Vary, 'OpenStack-API-Version, X-OpenStack-Nova-API-Version');
  const v = versionHeaders({ serviceType: 'volume', min: '3.0', max: '3.0' }, Microversion.parse('3.0'));
  assert.deepEqual(v, { 'OpenStack-API-Version': 'volume 3.0', Vary: 'OpenStack-API-Version' });
});
