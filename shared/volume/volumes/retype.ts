// Cinder's os-retype (volume/api.py retype, then the volume manager's retype) on Azure: a volume type
// is a managed disk SKU (azure:sku, types/store.ts), so a retype is a PATCH of the disk's SKU, on the
// work queue. Azure changes the SKU of a disk no running VM holds: an available volume, or an in-use
// one whose server's VM is deallocated (shelved). Where Azure refuses (a running VM holds the disk),
// the volume goes back to its status and type, as Cinder's manager leaves a volume whose driver could
// not retype it and whose migration_policy ('never', the CLI's default) forbids a migration.
import type { RequestContext } from '../../http/router';
import type { Services } from '../../services';
import { accepted } from '../../http/respond';
import { badRequest } from '../../http/errors';
import { validateBody } from '../../api/validation';
import { startWork } from '../../work/ledger';
import { done, type WorkItem, type WorkKind, type WorkResult } from '../../work/types';
import { log } from '../../log';
import type { ArmState } from '../../azure/disks';
import { cinderTime } from '../common';
import { findVolume, volumeTables, type VolumeRecord } from '../model';
import { skuOf, typeByNameOrId, typeStore } from '../types/store';
import { perTypeVolumeDeltas, reserveRetype, retypeKey, typeNameOf, volumeLedger } from '../quotas/engine';
import { VOLUME_RETYPE } from '../workKinds';
import { landVolume, poll, projectOf, refuse, submitted, terminal, volumeIn } from './work';

const retypeSchema = {
  type: 'object',
  required: ['os-retype'],
  additionalProperties: false,
  properties: {
    'os-retype': {
      type: 'object',
      required: ['new_type'],
      additionalProperties: false,
      properties: { new_type: { type: 'string' }, migration_policy: { type: ['string', 'null'], enum: ['on-demand', 'never', null] } },
    },
  },
};

/** POST /volumes/{id}/action {"os-retype": {new_type, migration_policy}}: 202, the SKU change on the queue. */
export async function retype(ctx: RequestContext) {
  const b = validateBody<{ 'os-retype': { new_type: string; migration_policy?: string | null } }>(retypeSchema, ctx.body)['os-retype'];
  const cur = await findVolume(ctx, ctx.params.volume_id);
  const v = cur.value;
  if (v.status !== 'available' && v.status !== 'in-use') {
    throw badRequest(`Invalid volume: Unable to update type due to incorrect status: ${v.status} on volume: ${v.id}. Volume status must be available or in-use.`);
  }
  const type = await typeByNameOrId(ctx, b.new_type);
  if (type.id === v.volume_type_id) throw badRequest(`Invalid input received: New volume_type same as original: ${b.new_type}.`);
  // volume/api.py retype's conditional update expects no group (group_id None).
  if (v.group_id) {
    throw badRequest(
      'Invalid volume: Retype needs volume to be in available or in-use state, not be part of an active migration or a consistency group, requested type has to be different that the one from the volume, and for in-use volumes front-end qos specs cannot change.',
    );
  }
  const s = ctx.services;
  const project = cur.partitionKey;
  await reserveRetype(s, project, v.id, type.name, v.size);
  const next: VolumeRecord = { ...v, status: 'retyping', previous_status: v.status, retype_to: type.id, updated_at: cinderTime() };
  await volumeTables(s)
    .volumes.replace(project, cur.rowKey, next, cur.etag)
    .catch(async () => {
      await volumeLedger(s).rollback(project, [retypeKey(v.id)]);
      throw badRequest(`Invalid volume: Unable to update type due to incorrect status: changing on volume: ${v.id}. Volume status must be available or in-use.`);
    });
  await startWork(s, { kind: VOLUME_RETYPE, id: v.id, data: { project, type: type.id, policy: b.migration_policy ?? 'never' }, requestId: ctx.requestId });
  return accepted();
}

/** The volume, while it is retyping to this item's type. */
async function retyping(s: Services, item: WorkItem) {
  const cur = await volumeIn(s, item, 'retyping');
  return cur && cur.value.retype_to === item.data?.type ? cur : undefined;
}

/** Back to the status it had, with its old type; the new type's reservation goes. */
async function retypeFailed(s: Services, item: WorkItem): Promise<void> {
  await landVolume(s, item, 'retyping', (x) => x.previous_status ?? 'available', { previous_status: undefined, retype_to: undefined });
  await volumeLedger(s).rollback(projectOf(item), [retypeKey(item.id)]);
}

/**
 * The step retype and migrate share: PATCH the disk's SKU (unless it has it already), then poll until
 * Azure shows it, then `landed`. A missing disk or a Failed PATCH is refused (`failCode`), which gives
 * the work up through its kind's giveUp. Re-entrant: a redelivered item in step 'submitted' only polls.
 */
export async function changeDiskSku(s: Services, item: WorkItem, disk: VolumeRecord['disk'], sku: string, failCode: string, landed: () => Promise<void>): Promise<WorkResult> {
  const settle = async (st: ArmState | undefined): Promise<WorkResult> => {
    if (!st) throw refuse('DiskMissing', "The volume's disk is missing.");
    if (st.provisioningState === 'Failed') throw refuse(failCode, "The disk's SKU change failed in Azure.");
    if (st.provisioningState !== 'Succeeded' || (st.sku && st.sku !== sku)) return poll(s, item, 'submitted');
    await landed();
    return done();
  };
  // The record's SKU already the target: nothing to PATCH (a retype between two types of one SKU).
  if (item.step === 'submitted' || sku === disk.sku) return settle(await s.azure.disks.disk(disk.name));
  const sub = await s.azure.disks.setDiskSku(disk.name, sku);
  const st = terminal(sub.state);
  return st ? settle(st) : submitted(s, item, 'submitted', sub);
}

export const volumeRetype: WorkKind = {
  kind: VOLUME_RETYPE,
  async run(item, s) {
    const cur = await retyping(s, item);
    if (!cur) return done();
    const v = cur.value;
    const type = (await typeStore(s).get(String(item.data?.type)))?.value;
    if (!type) throw refuse('VolumeTypeGone', 'The new volume type was deleted before the retype ran.');
    const sku = skuOf(type);
    return changeDiskSku(s, item, v.disk, sku, 'RetypeFailed', async () => {
      // The disk has its new SKU: the new type's usage is committed, the old type's given back, then
      // the record shows the new type.
      const oldType = await typeNameOf(s, v.volume_type_id);
      await volumeLedger(s).commit(projectOf(item), [retypeKey(item.id)]);
      const old = perTypeVolumeDeltas(oldType, v.size);
      if (Object.keys(old).length) await volumeLedger(s).release(projectOf(item), old);
      await volumeTables(s).volumes.update(projectOf(item), item.id, (x) =>
        x.status !== 'retyping'
          ? undefined
          : {
              ...x,
              status: x.previous_status ?? 'available',
              previous_status: undefined,
              retype_to: undefined,
              volume_type_id: type.id,
              disk: { ...x.disk, sku },
              updated_at: cinderTime(),
            },
      );
    });
  },
  async giveUp(item, s, f) {
    log.warn('volume retype failed', { volume: item.id, code: f.code, reason: f.message.slice(0, 300) });
    await retypeFailed(s, item);
  },
};
