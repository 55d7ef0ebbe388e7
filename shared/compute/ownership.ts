// The servers' answers to the sweeps (shared/timers): does a server record still own this Azure
// resource? Each answer is the reason it is kept ('server-record', 'server-building', ...) or
// undefined when no server owns it. Read-only, over the servers' own record store; the sweeps call
// these instead of reading compute's tables, and apply the two-pass rule themselves.
import type { Services } from '../services';
import { getServerAny } from './servers/model';

/** A VM named by a server id is kept while any record of that server exists (written before the VM, removed after it). */
export async function serverOwnsVm(s: Services, id: string): Promise<string | undefined> {
  return (await getServerAny(s, id)) ? 'server-record' : undefined;
}

/**
 * Why the server `id` still claims its NICs, or undefined when it does not: no record, or a record in
 * ERROR (the servers module's own cleanup deletes an ERROR server's NICs and disk; a NIC or disk it
 * left behind is an orphan). A BUILDing server's NIC is unattached until its VM exists.
 */
export async function serverOwnsNic(s: Services, id: string): Promise<string | undefined> {
  const rec = await getServerAny(s, id);
  if (!rec) return undefined;
  if (rec.value.vm_state === 'building') return 'server-building';
  if (rec.value.vm_state === 'error') return undefined;
  return 'server-record';
}

/**
 * Why the server `id` keeps the OS disk `name` (the first one, named by the id, or a rebuild's
 * <id>-r<suffix>): a rebuild in progress owns every OS disk of the server (the new one exists before
 * the swap, the old one until the step deletes it); otherwise only the disk the record's azure.os_disk
 * names, claimed as serverOwnsNic says.
 */
export async function serverOwnsOsDisk(s: Services, id: string, name: string): Promise<string | undefined> {
  const rec = await getServerAny(s, id);
  if (!rec) return undefined;
  if (rec.value.task_state === 'rebuilding') return 'server-rebuilding';
  if (rec.value.azure.os_disk !== name) return undefined;
  return serverOwnsNic(s, id);
}
