// Read-only answers to "does a record own this Azure resource or blob?", over the servers', volumes'
// and images' own record stores (their exported lookups; nothing here writes).
import type { Services } from '../services';
import { getServerAny } from '../compute/servers/model';
import { volumeTables, dependentsOf } from '../volume/model';
import { imageStore } from '../image/model';

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
 * Why the volume `id` keeps the disk `name` (its first disk volume-<id>, or volume-<id>-<8hex> made by a
 * restore over it). While the volume's index row exists (written before the record and the disk,
 * removed only after the disk is gone) the disk is kept if the record names it: as its disk, as the
 * disk a restore is writing, or as the old disk a restore is about to delete; a record not written yet
 * (or moving between projects) keeps every disk of the volume. A disk the record no longer names is a
 * restore's leftover. Without an index row, a disk that is the source of a snapshot or copy is kept.
 */
export async function volumeClaim(s: Services, id: string, name: string): Promise<string | undefined> {
  const t = volumeTables(s);
  const ix = await t.index.get('volume', id);
  if (ix) {
    const rec = (await t.volumes.get(ix.value.project_id, id))?.value;
    if (!rec || [rec.disk.name, rec.restore?.disk_name, rec.restore?.old_disk].includes(name)) return 'volume-record';
    return undefined;
  }
  if ((await dependentsOf(s, id)).length > 0) return 'snapshot-source';
  return undefined;
}

/**
 * Why the server `id` keeps the OS disk `name` (the first one, named by the id, or a rebuild's
 * <id>-r<suffix>): a rebuild in progress owns every OS disk of the server (the new one exists before
 * the swap, the old one until the step deletes it); otherwise only the disk the record's azure.os_disk
 * names, claimed as serverClaim says.
 */
export async function osDiskClaim(s: Services, id: string, name: string): Promise<string | undefined> {
  const rec = await getServerAny(s, id);
  if (!rec) return undefined;
  if (rec.value.task_state === 'rebuilding') return 'server-rebuilding';
  if (rec.value.azure.os_disk !== name) return undefined;
  return serverClaim(s, id);
}

/** Why the image blob image-<id>.vhd is kept: any record of the image (queued, saving, active, or being deleted, whose step deletes the blob before the record). */
export async function imageBlobClaim(s: Services, id: string): Promise<string | undefined> {
  return (await imageStore(s).getAny(id)) ? 'image-record' : undefined;
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
