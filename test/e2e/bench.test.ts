// `npm run bench` must not rot: its table builder runs end to end here on a tiny N (its own stack, the
// creates and deletes only, one delay, timers at the second level), and every section of the table
// must come out with finite figures and floors. The figures themselves are docs/performance.md's
// business, not this test's; the ARM write counts are pinned because they are exact.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatTable, ratio, runBench } from '../../bench/run';
import { parseArgs, QUICK } from '../../bench/main';

test('bench: the quick table builder runs on a tiny N and fills every section', { timeout: 240000 }, async () => {
  const res = await runBench({ levels: [3, 6], timersAt: [6], delaysMs: [0], actions: [], repeats: 1, importRuns: 1 });
  const sections = new Set(res.rows.map((r) => r.section));
  for (const s of ['cold start', 'ARM calls per action', 'token issue', 'list latency', 'quota check cost', 'timer passes']) assert.ok(sections.has(s), `section ${s} missing`);
  for (const r of res.rows) {
    assert.ok(Number.isFinite(r.value) && r.value >= 0, `${r.what}: ${r.value}`);
    assert.ok(Number.isFinite(r.floor) && r.floor >= 0, `${r.what}: floor ${r.floor}`);
  }
  const row = (what: string) => res.rows.find((r) => r.what === what);
  assert.equal(row('server create: writes (delay 0 s)')?.value, 2, 'a server create is a NIC PUT and a VM PUT');
  assert.equal(row('volume create: writes (delay 0 s)')?.value, 1);
  assert.equal(row('volume delete: writes (delay 0 s)')?.value, 1);
  assert.ok(row('GET /volumes/detail?limit=10 at N=6'));
  assert.ok(row('reconcile-servers at 6: ARM calls'));
  assert.equal(ratio({ ...res.rows[0], value: 3, floor: 2 }), 1.5);
  const table = formatTable(res.rows);
  assert.match(table, /^\| section \| what \| measured \| floor \| ratio \|/);
  assert.equal(table.split('\n').length, res.rows.length + 2);
});

test('bench: arguments', () => {
  assert.deepEqual(parseArgs(['--quick']).levels, QUICK.levels);
  assert.deepEqual(parseArgs(['--levels=10,30', '--timers-at=30']).timersAt, [30]);
  assert.throws(() => parseArgs(['--levels=10', '--timers-at=30']), /not one of the levels/);
});
