// Read-only answers to "does a record own this Azure resource?", over the servers' and volumes'
// own record stores (their exported lookups; nothing here writes).
import type { Services } from '../services';
import { getServerAny } from '../compute/servers/model';
import { volumeTables, dependentsOf } from '../volume/model';

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * Why the server `id` still claims its NICs and OS disk, or undefined when it does not: no record, or a
 * record in ERROR (the servers module's own cleanup deletes an ERROR server's NICs and disk; a NIC or
 * disk it left behind is an orphan). A BUILDing server's NIC is unattached until its VM exists.
 */
export async function serverClaim(s: Services, id: string): Promise<string | undefined> {
  const rec = await getServerAny(s, id);
  if (!rec) return undefined;
  if (rec.value.vm_state === 'building') return 'server-building';
  if (rec.value.vm_state === 'error') return undefined;
  return 'server-record';
}

/**
 * Why the volume `id` keeps its disk: its index row exists (written before the record and the disk,
 * removed only after the disk is gone), or the disk is the source of a snapshot or copy.
 */
export async function volumeClaim(s: Services, id: string): Promise<string | undefined> {
  if (await volumeTables(s).index.get('volume', id)) return 'volume-record';
  if ((await dependentsOf(s, id)).length > 0) return 'snapshot-source';
  return undefined;
}

/** Why the volume snapshot `id` keeps its Azure snapshot. */
export async function snapshotClaim(s: Services, id: string): Promise<string | undefined> {
  return (await volumeTables(s).index.get('snapshot', id)) ? 'snapshot-record' : undefined;
}

/** An ARM error's HTTP status and code (SDK RestError shapes). */
export function armError(e: unknown): { status?: number; code?: string; message: string } {
  const o = (typeof e === 'object' && e !== null ? e : {}) as { statusCode?: number; code?: string; message?: string; details?: { error?: { code?: string } } };
  return { status: o.statusCode, code: o.details?.error?.code ?? o.code, message: o.message ?? String(e) };
}
