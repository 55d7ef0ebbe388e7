// The one long action of a volume transfer: after an accept the disk and its snapshots keep their
// names and resource group, but their `jacket-project-id` tag names the donor. One step PATCHes the
// tags (disk, then each snapshot) to the volume's project as its record now says; each PATCH is only
// submitted (tags are informational: the sweeps find owners through the volindex table, never tags).
// A refusal is retried by the engine (a 409 while another operation runs on the disk), then given up
// with a warning: the records are right either way.
import type { Services } from '../../services';
import { log } from '../../log';
import { done, type WorkKind } from '../../work/types';
import { dependentsOf, jacketTags, volumeTables } from '../model';
import { VOLUME_TRANSFER_RETAG } from '../workKinds';

const retag: WorkKind = {
  kind: VOLUME_TRANSFER_RETAG,
  async run(item, s: Services) {
    const t = volumeTables(s);
    const project = (await t.index.get('volume', item.id))?.value.project_id;
    const vol = project ? await t.volumes.get(project, item.id) : undefined;
    // Gone, or still moving (a retried accept finishes it and retags again).
    if (!vol || vol.value.accepting) return done();
    const v = vol.value;
    if (['available', 'in-use'].includes(v.status)) await s.azure.disks.setTags('disks', v.disk.name, jacketTags('volume', v.id, vol.partitionKey, v.id));
    for (const d of await dependentsOf(s, v.id, 'snapshot')) {
      const sn = await t.snapshots.get(d.value.project_id, d.rowKey);
      if (sn && sn.value.status === 'available') await s.azure.disks.setTags('snapshots', sn.value.azure.name, jacketTags('snapshot', sn.value.id, sn.partitionKey, v.id));
    }
    return done();
  },
  async giveUp(item, _s, f) {
    log.warn('volume transfer retag failed', { volume: item.id, code: f.code, reason: f.message.slice(0, 300) });
  },
};

export const TRANSFER_WORK: WorkKind[] = [retag];
