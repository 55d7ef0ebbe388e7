// Units of the Cinder layer that need no stack: the operator's volume types section, sort and
// metadata-filter parameters, and the sample-driven shape check itself.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { catalogTypes, checkSpecs } from '../../shared/volume/types/store';
import { parseMetadataFilter, sortParams } from '../../shared/volume/common';
import { ApiError } from '../../shared/http/errors';
import { assertCinderShape, cinderSample } from '../support/cinderShapes';

test("catalog.volumeTypes: Cinder's __DEFAULT__ when absent, validated when present", () => {
  assert.deepEqual(
    catalogTypes({}).map((t) => [t.name, t.default]),
    [['__DEFAULT__', true]],
  );
  const two = catalogTypes({ volumeTypes: [{ name: 'std' }, { name: 'ssd', extra_specs: { 'azure:sku': 'Premium_LRS' }, default: true }] });
  assert.deepEqual(
    two.map((t) => [t.name, t.default]),
    [
      ['std', false],
      ['ssd', true],
    ],
  );
  assert.throws(() => catalogTypes({ volumeTypes: [{ name: 'x', extra_specs: { 'azure:sku': 'Gold' } }] }), /azure:sku must be one of/);
  assert.throws(() => catalogTypes({ volumeTypes: [{ name: 'a' }, { name: 'A' }] }), /twice/);
  assert.throws(() => catalogTypes({ volumeTypes: [] }), /non-empty array/);
});

test('azure:sku values are checked before they are stored', () => {
  assert.doesNotThrow(() => checkSpecs({ 'azure:sku': 'StandardSSD_LRS', other: 'x' }));
  assert.throws(
    () => checkSpecs({ 'azure:sku': 'Premium' }),
    (e: ApiError) => e.status === 400 && /azure:sku must be one of/.test(e.message),
  );
});

test('sort parameters as Cinder reads them', () => {
  const q = (s: string) => new URLSearchParams(s);
  assert.deepEqual(sortParams(q(''), ['id', 'created_at']), [
    { key: 'created_at', dir: 'desc' },
    { key: 'id', dir: 'desc' },
  ]);
  assert.deepEqual(sortParams(q('sort=name:asc,size'), ['id', 'name', 'size']), [
    { key: 'name', dir: 'asc' },
    { key: 'size', dir: 'desc' },
    { key: 'id', dir: 'asc' },
  ]);
  assert.throws(
    () => sortParams(q('sort=bogus'), ['id']),
    (e: ApiError) => e.status === 400 && /Invalid sort key bogus/.test(e.message),
  );
  assert.throws(
    () => sortParams(q('sort=id&sort_key=id'), ['id']),
    (e: ApiError) => e.status === 400,
  );
  assert.throws(
    () => sortParams(q('sort=id:up'), ['id']),
    (e: ApiError) => e.status === 400,
  );
});

test('metadata filters accept the Python dict repr clients send, and JSON', () => {
  assert.deepEqual(parseMetadataFilter("{'a': 'b', 'c': 'd'}"), { a: 'b', c: 'd' });
  assert.deepEqual(parseMetadataFilter('{"a":"b"}'), { a: 'b' });
  assert.throws(
    () => parseMetadataFilter('a=b'),
    (e: ApiError) => e.status === 400,
  );
});

test('assertCinderShape: the sample passes itself; missing, extra or retyped keys fail', () => {
  const sample = cinderSample('volumes/volume-show-response.json') as { volume: Record<string, unknown> };
  assertCinderShape('volumes/volume-show-response.json', sample);
  const { size: _s, ...missing } = sample.volume;
  assert.throws(() => assertCinderShape('volumes/volume-show-response.json', { volume: missing }), /keys differ/);
  assert.throws(() => assertCinderShape('volumes/volume-show-response.json', { volume: { ...sample.volume, extra: 1 } }), /keys differ/);
  assert.throws(() => assertCinderShape('volumes/volume-show-response.json', { volume: { ...sample.volume, size: '10' } }), /expected number/);
  assert.doesNotThrow(() => assertCinderShape('volumes/volume-show-response.json', { volume: { ...sample.volume, description: 'text' } }));
});
