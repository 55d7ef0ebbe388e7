// The long-action engine against Azurite (shared/work/engine.ts): retries within the budget, give-up
// into the kind's error state, Retry-After pacing within floor and cap, deadlines, and the ledger that
// resumes a lost action and gives it up after too many resumptions.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { startAzurite, type RunningAzurite } from '../../local/azurite';
import { loadConfig } from '../../shared/config';
import { createServices, type Services } from '../../shared/services';
import { WorkEngine } from '../../shared/work/engine';
import { ledger, startWork, touch } from '../../shared/work/ledger';
import { decodeItem } from '../../shared/work/queue';
import type { WorkFailure, WorkItem, WorkKind } from '../../shared/work/types';

let az: RunningAzurite;
let s: Services;
const gaveUp = new Map<string, WorkFailure>();
const calls = new Map<string, number>();
const count = (id: string) => calls.set(id, (calls.get(id) ?? 0) + 1).get(id)!;

/** An SDK-shaped error, as @azure/core-rest-pipeline's RestError carries it. */
function azureError(status: number, code: string, retryAfter?: string) {
  return Object.assign(new Error(`${code} happened`), {
    statusCode: status,
    details: { error: { code, message: `${code} happened` } },
    response: { headers: { get: (n: string) => (n === 'retry-after' ? retryAfter : undefined) } },
  });
}

const kinds: WorkKind[] = [
  {
    kind: 't-flaky', // fails twice with 500, then finishes
    run: async (item) => {
      if (count(item.id) <= 2) throw azureError(500, 'InternalServerError');
      return { status: 'done' };
    },
    giveUp: async (item, _s, f) => void gaveUp.set(item.id, f),
  },
  {
    kind: 't-broken', // always 500
    run: async () => {
      throw azureError(500, 'InternalServerError');
    },
    giveUp: async (item, _s, f) => void gaveUp.set(item.id, f),
  },
  {
    kind: 't-refused', // Azure refuses: no retry can help
    run: async () => {
      throw azureError(400, 'InvalidParameter');
    },
    giveUp: async (item, _s, f) => void gaveUp.set(item.id, f),
  },
  {
    kind: 't-throttled',
    run: async () => {
      throw azureError(429, 'SubscriptionRequestsThrottled', '7');
    },
    giveUp: async (item, _s, f) => void gaveUp.set(item.id, f),
  },
  {
    kind: 't-poll', // asks for a 500 s poll: clamped to the cap
    run: async (item) => ({ status: 'again', delaySeconds: 500, item: { ...item, step: 'polled' } }),
    giveUp: async (item, _s, f) => void gaveUp.set(item.id, f),
    deadlineSeconds: 60,
  },
  {
    kind: 't-done', // finishes at once
    run: async () => ({ status: 'done' }),
    giveUp: async (item, _s, f) => void gaveUp.set(item.id, f),
  },
];
const engine = new WorkEngine(kinds);

before(async () => {
  az = await startAzurite();
  s = createServices(
    loadConfig({
      JACKET_PUBLIC_URL: 'http://127.0.0.1:1',
      JACKET_STORAGE_CONNECTION_STRING: az.connectionString,
      JACKET_TOKEN_KEYS: randomBytes(32).toString('base64'),
      JACKET_WORK_QUEUE: 'unit-engine',
      JACKET_WORK_RETRY_FAILURES: '3',
      JACKET_WORK_POLL_FLOOR_SECONDS: '2',
      JACKET_WORK_POLL_CAP_SECONDS: '5',
      JACKET_WORK_STALE_SECONDS: '60',
      JACKET_WORK_STALE_RESUMES: '2',
    }),
  );
  await s.work.ensure();
});
after(async () => {
  await az?.stop();
});

async function ledgerRow(item: Pick<WorkItem, 'kind' | 'id' | 'key'>) {
  return ledger(s).get('work', item.key ? `${item.kind}:${item.id}:${item.key}` : `${item.kind}:${item.id}`);
}

/** Runs an item through the engine the way the queue would, following its re-enqueues, at most n steps. */
async function drive(item: WorkItem, n: number) {
  let cur: WorkItem | undefined = item;
  const delays: number[] = [];
  for (let i = 0; i < n && cur; i++) {
    const r = await engine.run(cur, s);
    if (r.status === 'done') return { done: true, delays, last: cur };
    delays.push(r.delaySeconds);
    cur = r.item;
  }
  return { done: false, delays, last: cur };
}

test('a step failing with 500 is retried with backoff and finishes once Azure recovers; the ledger row goes', async () => {
  const item: WorkItem = { kind: 't-flaky', id: 'f1' };
  await startWork(s, item);
  assert.ok(await ledgerRow(item), 'startWork writes the ledger before the message');
  const r = await drive(item, 5);
  assert.equal(r.done, true);
  assert.deepEqual(r.delays, [2, 4], 'backoff doubles from the floor');
  assert.equal(calls.get('f1'), 3);
  assert.equal(gaveUp.has('f1'), false);
  assert.equal(await ledgerRow(item), undefined);
});

test('a persistent 500 is given up after the budget, with Azure code, status and attempts', async () => {
  const item: WorkItem = { kind: 't-broken', id: 'b1' };
  const r = await drive(item, 10);
  assert.equal(r.done, true);
  assert.deepEqual(r.delays, [2, 4], 'two retries, the third failure gives up');
  const f = gaveUp.get('b1');
  assert.equal(f?.code, 'InternalServerError');
  assert.equal(f?.status, 500);
  assert.equal(f?.attempts, 3);
  assert.equal(await ledgerRow(item), undefined);
});

test('a refusal (400) is given up at once: retrying cannot change it', async () => {
  const r = await drive({ kind: 't-refused', id: 'r1' }, 5);
  assert.equal(r.done, true);
  assert.deepEqual(r.delays, []);
  assert.equal(gaveUp.get('r1')?.code, 'InvalidParameter');
  assert.equal(gaveUp.get('r1')?.kind, 'client');
});

test("throttling waits Azure's Retry-After, clamped to the cap", async () => {
  const r = await engine.run({ kind: 't-throttled', id: 'th1' }, s);
  assert.equal(r.status, 'again');
  assert.equal(r.status === 'again' && r.delaySeconds, 5, 'Retry-After 7 s, cap 5 s');
  assert.equal(r.status === 'again' && r.item?.failures, 1);
});

test("a poll's delay is clamped and a successful poll clears the failure count", async () => {
  const r = await engine.run({ kind: 't-poll', id: 'p1', failures: 2, failingSince: Date.now() }, s);
  assert.equal(r.status, 'again');
  if (r.status !== 'again') return;
  assert.equal(r.delaySeconds, 5);
  assert.equal(r.item?.step, 'polled');
  assert.equal(r.item?.failures, undefined);
  assert.equal(r.item?.polls, 1);
  assert.ok(r.item?.startedAt, 'the action start is recorded');
});

test('an action past its deadline is given up even while its polls succeed', async () => {
  const r = await engine.run({ kind: 't-poll', id: 'p2', startedAt: Date.now() - 61_000 }, s);
  assert.equal(r.status, 'done');
  assert.equal(gaveUp.get('p2')?.code, 'Timeout');
});

test('a lost action is resumed from the ledger, then given up after too many resumptions', async () => {
  const item: WorkItem = { kind: 't-poll', id: 'lost1', step: 'midway' };
  const old = Date.now() - 120_000;
  await touch(s, item, old);
  // Drain what is on the queue so the resumed message can be found.
  await s.work.queue.clearMessages();
  const r1 = await engine.resumeStale(s, Date.now());
  assert.deepEqual(r1.resumed, ['t-poll:lost1']);
  const got = await s.work.queue.receiveMessages({ numberOfMessages: 32 });
  const resumed = got.receivedMessageItems.map((m) => decodeItem(m.messageText)).find((i) => i.id === 'lost1');
  assert.equal(resumed?.step, 'midway', 'the item as last enqueued is sent again');
  assert.equal(resumed?.resumes, 1);
  // Not moved since: resumed once more, then given up.
  const row = await ledgerRow(item);
  await touch(s, JSON.parse(row!.value.item) as WorkItem, old);
  assert.deepEqual((await engine.resumeStale(s, Date.now())).resumed, ['t-poll:lost1']);
  const row2 = await ledgerRow(item);
  await touch(s, JSON.parse(row2!.value.item) as WorkItem, old);
  const r3 = await engine.resumeStale(s, Date.now());
  assert.deepEqual(r3.gaveUp, ['t-poll:lost1']);
  assert.equal(gaveUp.get('lost1')?.code, 'StaleWork');
  assert.equal(await ledgerRow(item), undefined);
});

test('a fresh ledger row is left alone', async () => {
  await touch(s, { kind: 't-poll', id: 'fresh1' });
  const r = await engine.resumeStale(s, Date.now());
  assert.equal(r.resumed.includes('t-poll:fresh1'), false);
});

test('two actions of one kind on one record (a server attaching two volumes) keep a ledger row each', async () => {
  const a: WorkItem = { kind: 't-done', id: 'srv-k', key: 'vol-a' };
  const b: WorkItem = { kind: 't-done', id: 'srv-k', key: 'vol-b' };
  await startWork(s, a);
  await startWork(s, b);
  assert.ok(await ledgerRow(a));
  assert.ok(await ledgerRow(b));
  assert.equal((await engine.run(a, s)).status, 'done');
  assert.equal(await ledgerRow(a), undefined, 'the finished one goes');
  assert.ok(await ledgerRow(b), "the other's row stays, so a lost message of it is still resumed");
  // Lost: the stale sweep sends it again, key and all.
  await touch(s, b, Date.now() - 120_000);
  await s.work.queue.clearMessages();
  assert.ok((await engine.resumeStale(s, Date.now())).resumed.includes('t-done:srv-k'));
  const got = await s.work.queue.receiveMessages({ numberOfMessages: 32 });
  const resumed = got.receivedMessageItems.map((m) => decodeItem(m.messageText)).find((i) => i.id === 'srv-k');
  assert.equal(resumed?.key, 'vol-b');
  assert.equal((await engine.run(resumed!, s)).status, 'done');
  assert.equal(await ledgerRow(b), undefined);
});
