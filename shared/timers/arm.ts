// One set of ARM clients per config for the sweeps (the SDK clients keep their connections).
import type { JacketConfig } from '../config';
import { createAzureClients, type AzureClients } from '../azure/clients';
import { log } from '../log';
import { armError } from './owners';

const cache = new WeakMap<JacketConfig, AzureClients>();
export function sweepArm(cfg: JacketConfig): AzureClients {
  let c = cache.get(cfg);
  if (!c) {
    c = createAzureClients(cfg);
    cache.set(cfg, c);
  }
  return c;
}

/**
 * The last step of every ARM sweep: read the resource again, ask `why` it must stay (ownership may have
 * changed since the pass listed it), and only then delete it. 404 at either point is 'gone'; an ARM
 * error code listed in `outcomes` names the outcome (e.g. a NIC Azure still reserves); anything else
 * is logged and reported as 'delete-failed', so the candidate stays for the next pass.
 */
export async function recheckAndDelete<T>(
  ctx: { sweep: string; kind: string; name: string },
  get: () => Promise<T>,
  why: (fresh: T) => Promise<string | undefined>,
  del: () => Promise<unknown>,
  outcomes: Record<string, string> = {},
): Promise<string> {
  let fresh: T;
  try {
    fresh = await get();
  } catch (e) {
    if (armError(e).status === 404) return 'gone';
    throw e;
  }
  const reason = await why(fresh);
  if (reason) return reason;
  try {
    await del();
    return 'deleted';
  } catch (e) {
    const f = armError(e);
    if (f.status === 404) return 'gone';
    if (f.code && outcomes[f.code]) return outcomes[f.code];
    log.warn('sweep could not delete', { ...ctx, status: f.status, code: f.code, error: f.message });
    return 'delete-failed';
  }
}
