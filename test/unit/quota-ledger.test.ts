// The quota ledger (shared/quota/ledger.ts) against Azurite's Table service: counters with
// reservations that stay exact when many requests race for the last units, migration by counting,
// and a recount that repairs drift without counting a reserved-then-written record twice.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { startAzurite, type RunningAzurite } from '../../local/azurite';
import { loadConfig } from '../../shared/config';
import { createServices, type Services } from '../../shared/services';
import { OverQuota, QuotaLedger, type Counted } from '../../shared/quota/ledger';

let az: RunningAzurite;
let s: Services;
/** The "records" the fake service counts: id → usage, per project. */
const records = new Map<string, Map<string, { volumes: number; gigabytes: number }>>();
let counts = 0;
const count = async (_s: Services, project: string): Promise<Counted> => {
  counts++;
  const rs = records.get(project) ?? new Map();
  const used = { volumes: 0, gigabytes: 0 };
  for (const r of rs.values()) {
    used.volumes += r.volumes;
    used.gigabytes += r.gigabytes;
  }
  return { used, ids: new Set(rs.keys()) };
};
const write = (project: string, id: string, gigabytes: number) => {
  if (!records.has(project)) records.set(project, new Map());
  records.get(project)!.set(id, { volumes: 1, gigabytes });
};
let ledger: QuotaLedger;

before(async () => {
  az = await startAzurite();
  s = createServices(loadConfig({ JACKET_PUBLIC_URL: 'http://127.0.0.1:1', JACKET_STORAGE_CONNECTION_STRING: az.connectionString, JACKET_TOKEN_KEYS: randomBytes(32).toString('base64') }));
  ledger = new QuotaLedger(s, 'unit', count);
});
after(async () => {
  await az?.stop();
});

/** A create as a service makes it: reserve, write the record, commit (or roll back when refused). */
async function create(project: string, gigabytes: number, limits: Record<string, number>): Promise<boolean> {
  const id = randomUUID();
  try {
    await ledger.reserve(project, [{ id, deltas: { volumes: 1, gigabytes } }], limits);
  } catch (e) {
    if (e instanceof OverQuota) return false;
    throw e;
  }
  write(project, id, gigabytes);
  await ledger.commit(project, [id]);
  return true;
}

test('the first use counts the records once (migration); later checks read one row, whatever N', async () => {
  const p = `p-${randomUUID()}`;
  for (let i = 0; i < 30; i++) write(p, randomUUID(), 1);
  const before = counts;
  assert.deepEqual((await ledger.usage(p)).used, { volumes: 30, gigabytes: 30 });
  assert.equal(counts, before + 1);
  assert.equal(await create(p, 5, { volumes: 40, gigabytes: 100 }), true);
  assert.equal(counts, before + 1, 'a check never counts records again');
  assert.deepEqual(await ledger.usage(p), { used: { volumes: 31, gigabytes: 35 }, reserved: {} });
});

for (const n of [6, 20]) {
  test(`${n} parallel creates against a quota with two left admit exactly two`, async () => {
    const p = `p-${randomUUID()}`;
    for (let i = 0; i < 8; i++) write(p, randomUUID(), 1);
    const results = await Promise.all(Array.from({ length: n }, () => create(p, 1, { volumes: 10, gigabytes: -1 })));
    assert.equal(results.filter(Boolean).length, 2, JSON.stringify(results));
    assert.deepEqual((await ledger.usage(p)).used, { volumes: 10, gigabytes: 10 });
    assert.deepEqual(await ledger.recount(p), {}, 'the counters match the records: no drift');
  });
}

test('a refused request changes nothing; unlimited (-1) resources are counted but never refuse', async () => {
  const p = `p-${randomUUID()}`;
  await assert.rejects(ledger.reserve(p, [{ id: 'x', deltas: { volumes: 1, gigabytes: 11 } }], { volumes: -1, gigabytes: 10 }), (e: unknown) => {
    assert.ok(e instanceof OverQuota);
    assert.equal(e.resource, 'gigabytes');
    assert.equal(e.requested, 11);
    assert.equal(e.inUse, 0);
    assert.equal(e.limit, 10);
    return true;
  });
  assert.deepEqual(await ledger.usage(p), { used: { volumes: 0, gigabytes: 0 }, reserved: {} });
  assert.equal(await create(p, 3, { volumes: -1, gigabytes: -1 }), true);
  assert.deepEqual((await ledger.usage(p)).used, { volumes: 1, gigabytes: 3 });
});

test('reservations count until committed or rolled back; release gives usage back; commit is idempotent', async () => {
  const p = `p-${randomUUID()}`;
  await ledger.reserve(p, [{ id: 'a', deltas: { volumes: 1, gigabytes: 4 } }], { volumes: 1 });
  await assert.rejects(ledger.reserve(p, [{ id: 'b', deltas: { volumes: 1, gigabytes: 1 } }], { volumes: 1 }), OverQuota);
  assert.deepEqual((await ledger.usage(p)).reserved, { volumes: 1, gigabytes: 4 });
  await ledger.rollback(p, ['a']);
  assert.deepEqual(await ledger.usage(p), { used: { volumes: 0, gigabytes: 0 }, reserved: {} });
  await ledger.reserve(p, [{ id: 'b', deltas: { volumes: 1, gigabytes: 2 } }], { volumes: 1 });
  write(p, 'b', 2);
  await ledger.commit(p, ['b']);
  await ledger.commit(p, ['b']);
  assert.deepEqual((await ledger.usage(p)).used, { volumes: 1, gigabytes: 2 });
  records.get(p)!.delete('b');
  await ledger.release(p, { volumes: 1, gigabytes: 2 });
  assert.deepEqual((await ledger.usage(p)).used, { volumes: 0, gigabytes: 0 });
});

test('recount repairs drift and reports it; a record written between reserve and commit is counted once', async () => {
  const p = `p-${randomUUID()}`;
  write(p, 'r1', 5);
  assert.deepEqual((await ledger.usage(p)).used, { volumes: 1, gigabytes: 5 });
  // Drift: a record appears that the counters never saw (e.g. a release that was lost the other way).
  write(p, 'r2', 7);
  // And a create in flight: reserved, record written, commit not yet made.
  await ledger.reserve(p, [{ id: 'r3', deltas: { volumes: 1, gigabytes: 1 } }], {});
  write(p, 'r3', 1);
  const drift = await ledger.recount(p);
  assert.deepEqual(drift, { volumes: 1, gigabytes: 7 }, 'only the unseen record is drift; the reserved one is not');
  await ledger.commit(p, ['r3']); // absorbed by the recount: nothing to move
  assert.deepEqual(await ledger.usage(p), { used: { volumes: 3, gigabytes: 13 }, reserved: {} });
  assert.deepEqual(await ledger.recount(p), {});
});

test('releaseOnce gives a record back before it goes, once: a retried step and a recount in between count it once', async () => {
  const p = `p-${randomUUID()}`;
  write(p, 'k1', 4);
  write(p, 'k2', 6);
  assert.deepEqual((await ledger.usage(p)).used, { volumes: 2, gigabytes: 10 });
  // The delete step gives k1 back while its record is still there ...
  await ledger.releaseOnce(p, 'k1', { volumes: 1, gigabytes: 4 });
  assert.deepEqual((await ledger.usage(p)).used, { volumes: 1, gigabytes: 6 });
  // ... the worker dies before removing it; the retried step finds the record and releases again: no change.
  await ledger.releaseOnce(p, 'k1', { volumes: 1, gigabytes: 4 });
  assert.deepEqual((await ledger.usage(p)).used, { volumes: 1, gigabytes: 6 });
  // A recount while the record still exists counts it, but not as in use: no drift, no double count.
  assert.deepEqual(await ledger.recount(p), {});
  assert.deepEqual((await ledger.usage(p)).used, { volumes: 1, gigabytes: 6 });
  // The record goes, the ledger forgets the release; the counters still match the records.
  records.get(p)!.delete('k1');
  await ledger.forget(p, 'k1');
  await ledger.forget(p, 'k1');
  assert.deepEqual(await ledger.recount(p), {});
  assert.deepEqual((await ledger.usage(p)).used, { volumes: 1, gigabytes: 6 });
  // A release remembered past its record (a crash before forget) is dropped by the next recount.
  await ledger.releaseOnce(p, 'k2', { volumes: 1, gigabytes: 6 });
  records.get(p)!.delete('k2');
  assert.deepEqual(await ledger.recount(p), {});
  const row = await s.tables.repository<{ released?: object }>('quotausage').get('unit', p);
  assert.equal(row?.value.released, undefined, 'no memory left once its record is gone');
  assert.deepEqual((await ledger.usage(p)).used, { volumes: 0, gigabytes: 0 });
});
