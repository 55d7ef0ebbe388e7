// What the ARM sweeps share: the last step of each, which reads the resource again through the
// driver's inventory (s.azure.inventory), asks `why` it must stay (ownership may have changed since the
// pass listed it), and only then deletes it.
import type { Services } from '../services';
import type { InventoryItem, InventoryKind } from '../azure/inventory';
import { azureFailure } from '../azure/errors';
import { log } from '../log';
import type { Outcome } from './sweep';

/** Names a resource UUID (server, volume, snapshot ids). */
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * Re-reads, re-asks and deletes one candidate. Gone at either point is 'gone'; an ARM error code listed
 * in `outcomes` names the outcome (e.g. a NIC Azure still reserves); anything else is logged and
 * reported as 'delete-failed', so the candidate stays for the next pass.
 */
export async function recheckAndDelete(
  s: Services,
  sweep: string,
  kind: InventoryKind,
  name: string,
  why: (fresh: InventoryItem) => Promise<string | undefined>,
  outcomes: Record<string, string> = {},
): Promise<Outcome> {
  const inv = s.azure.inventory;
  const fresh = await inv.get(kind, name);
  if (!fresh) return 'gone';
  const reason = await why(fresh);
  if (reason) return reason;
  try {
    return (await inv.remove(kind, name)) ? 'deleted' : 'gone';
  } catch (e) {
    const f = azureFailure(e);
    if (outcomes[f.code]) return outcomes[f.code];
    log.warn('sweep could not delete', { sweep, kind, name, status: f.status, code: f.code, error: f.message });
    return 'delete-failed';
  }
}
