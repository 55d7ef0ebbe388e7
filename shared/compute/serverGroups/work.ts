// The Azure side of a deleted server group: its availability set or proximity placement group goes once
// no VM is left in it. One step: GET it; absent, not made by Jacket for this group, or still holding a
// VM (a member server outlived its group, as Nova allows) → done, nothing deleted (the last member's
// delete starts this again, servers/work/build.ts); else DELETE (synchronous on Azure). Azure refuses
// the DELETE of one still in use, so a VM joining between the GET and the DELETE cannot lose it.
import type { WorkItem, WorkKind, WorkResult } from '../../work/types';
import type { Services } from '../../services';
import { done } from '../../work/types';
import { log } from '../../log';
import { placementName, type PlacementKind } from '../../azure/placement';
import { getGroup } from './model';

export const GROUP_CLEANUP_KIND = 'server-group-cleanup';

async function cleanupStep(item: WorkItem, s: Services): Promise<WorkResult> {
  const kind = item.data?.kind as PlacementKind;
  // A group that exists keeps its resource (the next member joins it).
  if (await getGroup(s, item.id)) return done();
  const name = placementName(kind, item.id);
  const placement = s.azure.placement;
  const view = await placement.get(kind, name);
  if (!view) return done();
  if (view.tags.jacket !== 'server-group' || view.tags['jacket-server-group-id'] !== item.id) {
    log.warn('server group placement not made by Jacket: left as it is', { group: item.id, resource: name });
    return done();
  }
  if (view.virtualMachines.length > 0) {
    log.info('server group placement still holds VMs: left until its last member is deleted', { group: item.id, resource: name, vms: view.virtualMachines.length });
    return done();
  }
  await placement.delete(kind, name);
  return done();
}

export const groupCleanupKind: WorkKind = {
  kind: GROUP_CLEANUP_KIND,
  run: cleanupStep,
  deadlineSeconds: 3600,
  async giveUp(item, _s, f) {
    // Nothing shows a group's Azure resource: it stays, and the next cleanup (a member's delete) tries again.
    log.warn('server group placement cleanup given up', { group: item.id, code: f.code, requestId: item.requestId });
  },
};

export const SERVER_GROUP_KINDS: WorkKind[] = [groupCleanupKind];
