// os-server-external-events' body schema per microversion, as Nova's `name` enum grows: volume-extended
// from 2.51, power-update 2.76, accelerator-request-bound 2.82, volume-reimaged 2.93 (the e2e test
// covers 2.1, the highest version reachable end to end). Each version's schema is also checked against
// upstream's own.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Microversion } from '../../shared/api/microversion';
import { schemaAt, validateBody } from '../../shared/api/validation';
import { createSchemas } from '../../shared/compute/externalEvents/api';

const ok = (v: string, name: string) => {
  try {
    validateBody(schemaAt(Microversion.parse(v), createSchemas), { events: [{ name, server_uuid: '6f2a4d8e-0000-4000-8000-000000000000', tag: 't' }] });
    return true;
  } catch {
    return false;
  }
};

test('event names by version', () => {
  for (const [name, from, before] of [
    ['network-changed', '2.1', undefined],
    ['volume-extended', '2.51', '2.50'],
    ['power-update', '2.76', '2.75'],
    ['accelerator-request-bound', '2.82', '2.81'],
    ['volume-reimaged', '2.93', '2.92'],
  ] as const) {
    assert.equal(ok(from, name), true, `${name} at ${from}`);
    assert.equal(ok('2.100', name), true, `${name} at 2.100`);
    if (before) assert.equal(ok(before, name), false, `${name} at ${before}`);
  }
  assert.equal(ok('2.93', 'no-such-event'), false);
});

test("each version's schema is upstream's", () => {
  const ref = process.env.JACKET_REFERENCE ?? '/work/shared/reference';
  const up = JSON.parse(readFileSync(path.join(ref, 'openstack/nova-schemas/schemas/server_external_events.json'), 'utf8'));
  const names = ['create', 'create_v251', 'create_v276', 'create_v282', 'create_v293'];
  assert.equal(createSchemas.length, names.length);
  createSchemas.forEach(([, schema], i) => assert.deepEqual(JSON.parse(JSON.stringify(schema)), up[names[i]], names[i]));
});
