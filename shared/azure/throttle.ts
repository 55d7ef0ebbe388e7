// The one retry the driver itself makes. The SDK's retry is off (clients.ts) and long actions are
// retried by the engine, but a few reads answer an HTTP request directly (regional usage for /limits,
// the VM sizes for a flavor's extra spec, an NSG's rules): when ARM throttles one of those (429), it is
// sent once more after the Retry-After Azure gave, capped at 2 s so the request stays short. Anything
// else (and a second 429) goes to the caller, whose fallback is unchanged (Nova's own limits, a 503,
// a 500).
import { azureFailure } from './errors';

/** The longest a request waits for Azure's Retry-After before its one retry. */
export const THROTTLE_RETRY_CAP_MS = 2000;

export async function onceMoreIfThrottled<T>(call: () => Promise<T>, sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))): Promise<T> {
  try {
    return await call();
  } catch (e) {
    const f = azureFailure(e);
    if (f.kind !== 'throttled') throw e;
    await sleep(Math.min(THROTTLE_RETRY_CAP_MS, (f.retryAfterSeconds ?? 1) * 1000));
    return call();
  }
}
