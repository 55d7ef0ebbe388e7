// What every server work kind shares (shared/work/types.ts WorkKind): the instance action a work item
// finishes, Nova's fault shape, and landing a server in ERROR — the stable state a given-up action
// leaves it in (code 500, Azure's message; Azure's error code for admins in the details).
import type { Services } from '../../../services';
import type { WorkItem } from '../../../work/types';
import { AzureFailureError, type AzureFailure } from '../../../azure/errors';
import { getServerAny, novaTime, updateServer, POWER, type ServerFault, type ServerRecord } from '../model';
import { finishAction, type ActionRef } from '../instanceActions';

/** The instance action a work item carries (data.action = its row key). */
export const actionRef = (item: WorkItem): ActionRef | undefined => (typeof item.data?.action === 'string' ? { serverId: item.id, rowKey: item.data.action } : undefined);

export const faultOf = (f: Pick<AzureFailure, 'code' | 'message'>): ServerFault => ({ code: 500, message: f.message.slice(0, 255), details: `Azure error ${f.code}`, created: novaTime() });

/** Throws Azure's (or Jacket's) refusal as a failure the engine gives up on at once. */
/** The compute manager's _check_trusted_certs refusal (2.63), on a build or a rebuild. */
export const TRUSTED_CERTS_ABORT = 'Trusted image certificates provided on host that does not support certificate validation.';

export function refused(code: string, message: string): never {
  throw new AzureFailureError({ kind: 'client', code, message });
}

/**
 * A server action given up: ERROR with the fault when the server is still in this action (`ours`),
 * else (deleted, reset, taken over) only the instance action is finished with Error. Returns the
 * server as it was when it was put in ERROR.
 */
export async function giveUpServer(s: Services, item: WorkItem, f: Pick<AzureFailure, 'code' | 'message'>, ours: (v: ServerRecord) => boolean): Promise<ServerRecord | undefined> {
  const cur = await getServerAny(s, item.id);
  if (!cur || !ours(cur.value)) {
    const ref = actionRef(item);
    if (ref) await finishAction(s, ref, false, `Azure error ${f.code}`, f.message).catch(() => undefined);
    return undefined;
  }
  await failServer(s, item.id, actionRef(item), f);
  return cur.value;
}

/**
 * ERROR with Nova's fault, the task cleared, the instance action finished with Error. A server being
 * deleted is left to its delete unless `deleting` says this is the delete giving up (then the record
 * stays, in ERROR, and a later DELETE runs the delete again).
 */
export async function failServer(s: Services, id: string, action: ActionRef | undefined, f: Pick<AzureFailure, 'code' | 'message'>, opts: { deleting?: boolean } = {}): Promise<void> {
  const cur = await getServerAny(s, id);
  if (cur) {
    await updateServer(s, cur, (v) => (v.task_state === 'deleting' && !opts.deleting ? undefined : { ...v, vm_state: 'error', task_state: null, power_state: POWER.NOSTATE, fault: faultOf(f) }));
  }
  if (action) await finishAction(s, action, false, `Azure error ${f.code}`, f.message);
}
