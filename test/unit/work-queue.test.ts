// The work queue against Azurite, driven by the local dispatcher as the Functions host drives it:
// dispatch, re-enqueue with a visibility delay, the engine's retries, and the poison queue for a
// message the engine itself cannot run (the engine catches what a step throws).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { startAzurite, type RunningAzurite } from '../../local/azurite';
import { loadConfig } from '../../shared/config';
import { createServices, type Services } from '../../shared/services';
import { encodeItem, decodeItem } from '../../shared/work/queue';
import { WorkEngine } from '../../shared/work/engine';
import type { WorkKind } from '../../shared/work/types';
import { QueueDispatcher } from '../../local/dispatcher';

let az: RunningAzurite;
let services: Services;
let dispatcher: QueueDispatcher;
const seen: string[] = [];
let failuresLeft = 2;

const noGiveUp: WorkKind['giveUp'] = async (item) => void seen.push(`gave-up:${item.id}`);
const engine = new WorkEngine([
  {
    kind: 'test-echo',
    run: async (item) => {
      seen.push(`echo:${item.id}`);
      return { status: 'done' };
    },
    giveUp: noGiveUp,
  },
  {
    kind: 'test-poll',
    run: async (item) => {
      seen.push(`poll:${item.id}:${item.polls ?? 0}`);
      return (item.polls ?? 0) < 2 ? { status: 'again', delaySeconds: 1 } : { status: 'done' };
    },
    giveUp: noGiveUp,
  },
  {
    kind: 'test-flaky',
    run: async (item) => {
      seen.push(`flaky:${item.id}`);
      if (failuresLeft-- > 0) throw new Error('transient');
      return { status: 'done' };
    },
    giveUp: noGiveUp,
  },
]);

async function until(cond: () => boolean, ms: number) {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out; seen ${JSON.stringify(seen)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

before(async () => {
  az = await startAzurite();
  services = createServices(
    loadConfig({
      JACKET_PUBLIC_URL: 'http://127.0.0.1:1',
      JACKET_STORAGE_CONNECTION_STRING: az.connectionString,
      JACKET_TOKEN_KEYS: randomBytes(32).toString('base64'),
      JACKET_WORK_QUEUE: 'unit-work',
    }),
  );
  dispatcher = new QueueDispatcher(services, 50, () => 0, engine);
  dispatcher.start();
});
after(async () => {
  await dispatcher?.stop();
  await az?.stop();
});

test('items round-trip through the base64 encoding the Functions trigger expects', () => {
  const item = { kind: 'k', id: 'x', data: { a: 1 } };
  assert.deepEqual(decodeItem(encodeItem(item)), item);
  assert.deepEqual(decodeItem(JSON.stringify(item)), item);
  assert.deepEqual(decodeItem(item), item);
  assert.throws(() => decodeItem(encodeItem({ id: 'x' } as never)), /without kind or id/);
});

test('an enqueued item runs once', async () => {
  await services.work.enqueue({ kind: 'test-echo', id: 'e1' });
  await until(() => seen.includes('echo:e1'), 10000);
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(seen.filter((s) => s === 'echo:e1').length, 1);
});

test("'again' re-enqueues with a visibility delay instead of sleeping", async () => {
  const t0 = Date.now();
  await services.work.enqueue({ kind: 'test-poll', id: 'p1' });
  await until(() => seen.includes('poll:p1:2'), 15000);
  assert.deepEqual(
    seen.filter((s) => s.startsWith('poll:p1')),
    ['poll:p1:0', 'poll:p1:1', 'poll:p1:2'],
  );
  assert.ok(Date.now() - t0 >= 2000, 'two polls, each delayed by a second');
});

test('a failing step is retried until it succeeds', async () => {
  await services.work.enqueue({ kind: 'test-flaky', id: 'f1' });
  await until(() => seen.filter((s) => s === 'flaky:f1').length === 3, 20000);
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(seen.filter((s) => s === 'flaky:f1').length, 3, 'not run again once it succeeded');
});

test('a message no kind can run goes to the poison queue after five tries', async () => {
  const poison = new (await import('@azure/storage-queue')).QueueClient(az.connectionString, 'unit-work-poison');
  await services.work.enqueue({ kind: 'test-unknown', id: 'b1' });
  let found: unknown;
  const end = Date.now() + 30000;
  while (Date.now() < end && found === undefined) {
    const peek = await poison.peekMessages({ numberOfMessages: 32 });
    found = peek.peekedMessageItems.map((m) => decodeItem(m.messageText)).find((i) => i.id === 'b1');
    if (!found) await new Promise((r) => setTimeout(r, 250));
  }
  assert.deepEqual(found, { kind: 'test-unknown', id: 'b1' });
});
