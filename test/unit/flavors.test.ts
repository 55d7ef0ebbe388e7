// Flavor catalog configuration, the cached VM size catalog and the zone configuration, without a stack.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { seedFlavors, seedRecord, DEFAULT_FLAVORS, VM_SIZE_SPEC } from '../../shared/compute/flavors/store';
import { cachedCatalog } from '../../shared/compute/flavors/vmSizes';
import { availabilityZones } from '../../shared/compute/zones/api';
import { boolFromString, flavorView, basicView } from '../../shared/compute/flavors/api';
import { Microversion } from '../../shared/api/microversion';
import type { RequestContext } from '../../shared/http/router';
import { assertNovaResponse } from '../support/oracle';
import { ConfigError, type JacketConfig } from '../../shared/config';

test('the built-in flavors name real Azure sizes and carry them as azure:vm_size', () => {
  const seeds = seedFlavors({});
  assert.equal(seeds.length, DEFAULT_FLAVORS.length);
  for (const s of seeds) {
    assert.equal(s.extra_specs[VM_SIZE_SPEC], s.vm_size);
    assert.equal(s.is_public, true);
    assert.equal(s.disabled, false);
    assert.equal(s.rxtx_factor, 1);
  }
  assert.deepEqual(
    seeds.map((s) => s.vm_size),
    ['Standard_B1s', 'Standard_B1ms', 'Standard_B2s', 'Standard_D2s_v3', 'Standard_D4s_v3', 'Standard_D8s_v3'],
  );
});

test('catalog.flavors entries are checked, and default their optional fields', () => {
  const [f] = seedFlavors({ flavors: [{ name: 'x', vcpus: 2, ram: 4096, disk: 10, vm_size: 'Standard_B2s', extra_specs: { a: 1 } }] });
  assert.deepEqual(f, {
    id: '1',
    name: 'x',
    vcpus: 2,
    ram: 4096,
    disk: 10,
    ephemeral: 0,
    swap: 0,
    rxtx_factor: 1,
    is_public: true,
    disabled: false,
    vm_size: 'Standard_B2s',
    extra_specs: { a: '1', 'azure:vm_size': 'Standard_B2s' },
  });
  const bad: [unknown, RegExp][] = [
    [{}, /must be an array/],
    [[{ name: 'x', vcpus: 0, ram: 1, disk: 1, vm_size: 'S' }], /vcpus must be an integer >= 1/],
    [[{ name: 'x', vcpus: 1, ram: 1, disk: 1 }], /vm_size must name an Azure VM size/],
    [[{ name: 'x', vcpus: 1, ram: 1, disk: 1, vm_size: 'S', id: 'a/b' }], /id must match/],
    [
      [
        { name: 'x', vcpus: 1, ram: 1, disk: 1, vm_size: 'S' },
        { name: 'x', vcpus: 1, ram: 1, disk: 1, vm_size: 'S' },
      ],
      /used twice/,
    ],
    [[{ name: 'x', vcpus: 1, ram: 1, disk: 1, vm_size: 'S', is_public: 'no' }], /is_public must be a boolean/],
    [[{ name: 'x', vcpus: 1, ram: 1, disk: 1, vm_size: 'S', extra_specs: { 'bad/key': 'v' } }], /not a valid extra spec/],
  ];
  for (const [flavors, msg] of bad)
    assert.throws(
      () => seedFlavors({ flavors }),
      (e) => e instanceof ConfigError && msg.test(e.message),
    );
});

test('the VM size catalog is cached for its TTL, compares case-insensitively and does not cache failures', async () => {
  let calls = 0;
  let now = 0;
  let fail = false;
  const c = cachedCatalog(
    async () => {
      calls++;
      if (fail) throw new Error('ARM down');
      return ['Standard_B1s', 'Standard_D2s_v3'];
    },
    1000,
    () => now,
  );
  assert.ok((await c.offered()).has('standard_d2s_v3'));
  await c.offered();
  assert.equal(calls, 1, 'second read from cache');
  now = 1000;
  fail = true;
  await assert.rejects(c.offered(), /ARM down/);
  fail = false;
  assert.ok((await c.offered()).has('standard_b1s'));
  assert.equal(calls, 3, 'the failure was retried, not cached');
});

test('availability zones: "nova" by default, else the configured Azure zones', () => {
  const cfg = (catalog: Record<string, unknown>) => ({ catalog }) as unknown as JacketConfig;
  assert.deepEqual(availabilityZones(cfg({})), [{ name: 'nova' }]);
  assert.deepEqual(
    availabilityZones(
      cfg({
        availability_zones: [
          { name: 'a', azure_zone: '1' },
          { name: 'b', azure_zone: '3' },
        ],
      }),
    ),
    [
      { name: 'a', azureZone: '1' },
      { name: 'b', azureZone: '3' },
    ],
  );
  assert.deepEqual(availabilityZones(cfg({ availability_zones: [{ name: 'solo' }] })), [{ name: 'solo', azureZone: undefined }]);
  for (const zones of [
    [],
    [{ name: 'a:b' }],
    [{ name: 'a', azure_zone: 1 }],
    [{ name: 'a', azure_zone: '1' }, { name: 'b' }],
    [
      { name: 'a', azure_zone: '1' },
      { name: 'a', azure_zone: '2' },
    ],
  ]) {
    assert.throws(() => availabilityZones(cfg({ availability_zones: zones })), ConfigError, JSON.stringify(zones));
  }
});

test('boolean strings parse as oslo strutils.bool_from_string(strict=True)', () => {
  for (const t of ['1', 'T', 'true', 'On', 'y', 'YES', ' yes ']) assert.equal(boolFromString(t), true, t);
  for (const f of ['0', 'f', 'False', 'OFF', 'n', 'no']) assert.equal(boolFromString(f), false, f);
  for (const x of ['maybe', '', '2']) assert.equal(boolFromString(x), undefined, x);
});

test("flavor views match Nova's response schema at each microversion they branch on", () => {
  const f = seedRecord(seedFlavors({})[0], '2026-01-01T00:00:00.000Z');
  for (const mv of ['2.1', '2.55', '2.61', '2.75']) {
    const ctx = {
      microversion: Microversion.parse(mv),
      auth: { projectId: 'p1', roles: ['member', 'reader'] },
      services: { config: { publicUrl: 'http://jacket.example' } },
    } as unknown as RequestContext;
    assertNovaResponse('flavors', 'FlavorsController', 'show', mv, { flavor: flavorView(ctx, f) });
    assertNovaResponse('flavors', 'FlavorsController', 'detail', mv, { flavors: [flavorView(ctx, f)] });
    assertNovaResponse('flavors', 'FlavorsController', 'index', mv, { flavors: [basicView(ctx, f)] });
    const v = flavorView(ctx, f);
    assert.equal(v.swap, mv === '2.75' ? 0 : '');
    assert.equal('extra_specs' in v, mv === '2.61' || mv === '2.75');
  }
});
