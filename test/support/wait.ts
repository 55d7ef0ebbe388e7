// Polling for the end-to-end tests: the app works on a queue, so what a request starts is waited for.

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `f` every 250 ms until it returns something other than undefined; throws after `timeoutMs`. */
export async function waitFor<T>(what: string, f: () => Promise<T | undefined>, timeoutMs = 60000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(250);
  }
}
