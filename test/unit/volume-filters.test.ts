// Units of Cinder's generic resource filters (shared/volume/filters.ts): the configuration section,
// reject_invalid_filters' rules with and without LIKE, the LIKE match and the time comparisons.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RequestContext } from '../../shared/http/router';
import type { JacketConfig } from '../../shared/config';
import { DEFAULT_RESOURCE_FILTERS, likeMatches, rejectInvalidFilters, resourceFilters, timeFilter } from '../../shared/volume/filters';
import { ApiError } from '../../shared/http/errors';

const cfg = (resource_filters?: unknown) => ({ catalog: resource_filters === undefined ? {} : { resource_filters } }) as unknown as JacketConfig;
const ctx = (roles: string[], config: JacketConfig) => ({ auth: { roles }, services: { config } }) as unknown as RequestContext;
const refusal = (f: () => void): string => {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof ApiError && e.status === 400, String(e));
    return e.message;
  }
  throw new Error('not refused');
};

test("catalog.resource_filters: Cinder's shipped file when absent, replaced whole when present, checked", () => {
  assert.deepEqual(resourceFilters(cfg()), Object.fromEntries(Object.entries(DEFAULT_RESOURCE_FILTERS).map(([k, v]) => [k, [...v]])));
  assert.deepEqual(resourceFilters(cfg({ volume: ['name~'] })), { volume: ['name~'] });
  assert.throws(() => resourceFilters(cfg([])), /catalog.resource_filters must be an object/);
  assert.throws(() => resourceFilters(cfg({ volume: 'name' })), /catalog.resource_filters.volume must be an array of strings/);
});

test('reject_invalid_filters: members by the configuration (key~ with LIKE), admins exempt but for pools, ASCII keys only', () => {
  const c = cfg({ volume: ['status', 'name~'], pool: ['name'] });
  const member = ctx(['member', 'reader'], c);
  const admin = ctx(['admin', 'member', 'reader'], c);
  const run = (who: RequestContext, keys: string[], resource: 'volume' | 'pool' | 'backup', like: boolean) => {
    const m = new Map(keys.map((k) => [k, 'x']));
    rejectInvalidFilters(who, m, resource, like);
    return [...m.keys()];
  };
  assert.deepEqual(run(member, ['status', 'name~'], 'volume', false), ['status', 'name~']);
  assert.equal(
    refusal(() => run(member, ['name', 'status', 'size'], 'volume', false)),
    'Invalid filters name,size are found in query options.',
  );
  // With LIKE (3.34) a configured `name~` admits `name` too; `status~` is not configured.
  assert.deepEqual(run(member, ['name', 'name~'], 'volume', true), ['name', 'name~']);
  assert.equal(
    refusal(() => run(member, ['status~'], 'volume', true)),
    'Invalid filters status~ are found in query options.',
  );
  // all_tenants is dropped, not refused; a resource the configuration leaves out admits nothing.
  assert.deepEqual(run(member, ['all_tenants', 'status'], 'volume', false), ['status']);
  assert.equal(
    refusal(() => run(member, ['name'], 'backup', false)),
    'Invalid filters name are found in query options.',
  );
  assert.deepEqual(run(admin, ['anything', 'all_tenants'], 'volume', false), ['anything', 'all_tenants']);
  assert.equal(
    refusal(() => run(admin, ['vendor_name'], 'pool', false)),
    'Invalid filters vendor_name are found in query options.',
  );
  assert.equal(
    refusal(() => run(admin, ['stätus'], 'volume', false)),
    'Filter keys can only contain ASCII characters.',
  );
});

test("LIKE '%value%': case-insensitive, the value's % and _ wildcards, nothing else special", () => {
  assert.ok(likeMatches('Alpha-One', 'PHA-o'));
  assert.ok(likeMatches('alpha', ''));
  assert.ok(likeMatches('alpha-one', 'a%one'));
  assert.ok(likeMatches('abc', 'a_c'));
  assert.ok(!likeMatches('abc', 'a.c'));
  assert.ok(likeMatches('a.c(x)', '.c(x'));
  assert.ok(!likeMatches(null, ''));
  assert.ok(likeMatches(10, '0'));
});

test('time comparisons: operators, ISO 8601 with zones, OR of the parts, the 400s', () => {
  const t = '2026-12-05T10:00:00.500000';
  assert.ok(timeFilter('gt:2026-12-05T10:00:00')(t));
  assert.ok(!timeFilter('gt:2026-12-05T10:00:00.5')(t));
  assert.ok(timeFilter('gte:2026-12-05T10:00:00.5')(t));
  assert.ok(timeFilter('eq:2026-12-05T11:00:00.500000+01:00')(t));
  assert.ok(timeFilter('neq:2026-12-05')(t));
  assert.ok(timeFilter('lt:2026-12-06')(t));
  assert.ok(timeFilter('lte:2026-12-05T10:00:00.500000Z')(t));
  assert.ok(timeFilter('lt:2000-01-01,gt:2026-01-01')(t), 'ORed');
  assert.ok(!timeFilter('lt:2000-01-01,gt:2027-01-01')(t));
  assert.ok(!timeFilter('gt:2000-01-01')(null));
  assert.equal(
    refusal(() => timeFilter('after:2026-01-01')),
    'Invalid after operator',
  );
  assert.equal(
    refusal(() => timeFilter('gt:2026-02-30')),
    'Invalid 2026-02-30 value',
  );
  assert.equal(
    refusal(() => timeFilter('gt')),
    'Invalid gt value',
  );
});
