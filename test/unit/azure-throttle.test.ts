// The driver's one retry (shared/azure/throttle.ts): a throttled read inside an HTTP request is sent once
// more after Azure's Retry-After (capped at 2 s); anything else, and a second 429, goes to the caller.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { onceMoreIfThrottled, THROTTLE_RETRY_CAP_MS } from '../../shared/azure/throttle';

const sdkError = (statusCode: number, retryAfter?: string) =>
  Object.assign(new Error(`HTTP ${statusCode}`), { statusCode, response: { headers: { get: (n: string) => (n === 'retry-after' ? retryAfter : undefined) } } });

test('a 429 is retried once after its Retry-After, capped at 2 s', async () => {
  const slept: number[] = [];
  let calls = 0;
  const v = await onceMoreIfThrottled(
    async () => {
      calls++;
      if (calls === 1) throw sdkError(429, '30');
      return 'figures';
    },
    async (ms) => void slept.push(ms),
  );
  assert.equal(v, 'figures');
  assert.equal(calls, 2);
  assert.deepEqual(slept, [THROTTLE_RETRY_CAP_MS]);

  slept.length = 0;
  calls = 0;
  await onceMoreIfThrottled(
    async () => (++calls === 1 ? Promise.reject(sdkError(429, '1')) : 'ok'),
    async (ms) => void slept.push(ms),
  );
  assert.deepEqual(slept, [1000], 'a shorter Retry-After is honoured as given');
});

test('a second 429, a 5xx or a client error reaches the caller after at most one retry', async () => {
  let calls = 0;
  await assert.rejects(
    onceMoreIfThrottled(
      async () => {
        calls++;
        throw sdkError(429, '1');
      },
      async () => undefined,
    ),
    /HTTP 429/,
  );
  assert.equal(calls, 2);
  for (const status of [500, 403, 404]) {
    calls = 0;
    await assert.rejects(
      onceMoreIfThrottled(
        async () => {
          calls++;
          throw sdkError(status);
        },
        async () => undefined,
      ),
      new RegExp(`HTTP ${status}`),
    );
    assert.equal(calls, 1, `no retry for ${status}`);
  }
});
