// Placement of a server group's VMs (Nova's server group policies, for Azure): a proximity placement
// group for affinity (the VMs in one datacenter, close together) and an availability set for
// anti-affinity (the VMs spread over fault and update domains, i.e. over hosts, racks and maintenance
// batches). Both are plain synchronous ARM resources (PUT/GET/DELETE answer at once, no long-running
// operation); a VM joins one by a reference in its PUT (vms.ts vmBody), only when it is created.
// Owned by compute (shared/compute/serverGroups).
import type { DriverContext } from './context';
import { absentOn404, isNotFound } from './errors';

export type PlacementKind = 'availabilitySet' | 'proximityPlacementGroup';

/** The ARM resource type of each kind, under Microsoft.Compute. */
const TYPE: Record<PlacementKind, string> = { availabilitySet: 'availabilitySets', proximityPlacementGroup: 'proximityPlacementGroups' };

/** The name Jacket gives a server group's placement resource: `avset-<group id>` / `ppg-<group id>`. */
export const placementName = (kind: PlacementKind, groupId: string) => `${kind === 'availabilitySet' ? 'avset' : 'ppg'}-${groupId}`;

/** The tags that prove Jacket made it, for which group and project (the sweep deletes only those). */
export function placementTags(group: { id: string; project_id: string }): Record<string, string> {
  return { jacket: 'server-group', 'jacket-server-group-id': group.id, 'jacket-project-id': group.project_id };
}

/**
 * Availability sets: 'Aligned' (the managed-disk SKU: the VMs' disks are spread like the VMs), 2 fault
 * domains (what every region offers; some offer 3) and 20 update domains (Azure's maximum), so up to
 * 20 members each sit in their own update domain.
 */
export const AVSET_FAULT_DOMAINS = 2;
export const AVSET_UPDATE_DOMAINS = 20;

export interface PlacementView {
  id: string;
  tags: Record<string, string>;
  /** ARM ids of the VMs in it (Azure lists them on the resource). */
  virtualMachines: string[];
}

export interface PlacementDriver {
  id(kind: PlacementKind, name: string): string;
  /** PUT (idempotent: the same body again changes nothing). */
  put(kind: PlacementKind, name: string, tags: Record<string, string>): Promise<PlacementView>;
  get(kind: PlacementKind, name: string): Promise<PlacementView | undefined>;
  /** DELETE; false when it was already gone. */
  delete(kind: PlacementKind, name: string): Promise<boolean>;
}

export function placementDriver(ctx: DriverContext): PlacementDriver {
  const rg = () => ctx.cfg.azure.resourceGroup;
  const compute = () => ctx.clients().compute;
  const view = (r: { id?: string; tags?: Record<string, string>; virtualMachines?: { id?: string }[] }): PlacementView => ({
    id: r.id ?? '',
    tags: r.tags ?? {},
    virtualMachines: (r.virtualMachines ?? []).map((v) => v.id ?? '').filter((x) => x),
  });
  return {
    id: (kind, name) => ctx.armId('Microsoft.Compute', TYPE[kind], name),
    async put(kind, name, tags) {
      const location = ctx.cfg.azure.location;
      if (kind === 'availabilitySet') {
        const r = await compute().availabilitySets.createOrUpdate(rg(), name, {
          location,
          tags,
          sku: { name: 'Aligned' },
          platformFaultDomainCount: AVSET_FAULT_DOMAINS,
          platformUpdateDomainCount: AVSET_UPDATE_DOMAINS,
        });
        return view(r);
      }
      return view(await compute().proximityPlacementGroups.createOrUpdate(rg(), name, { location, tags, proximityPlacementGroupType: 'Standard' }));
    },
    async get(kind, name) {
      if (kind === 'availabilitySet') {
        const r = await absentOn404(compute().availabilitySets.get(rg(), name));
        return r ? view(r) : undefined;
      }
      const r = await absentOn404(compute().proximityPlacementGroups.get(rg(), name));
      return r ? view(r) : undefined;
    },
    async delete(kind, name) {
      try {
        if (kind === 'availabilitySet') await compute().availabilitySets.delete(rg(), name);
        else await compute().proximityPlacementGroups.delete(rg(), name);
        return true;
      } catch (e) {
        if (isNotFound(e)) return false;
        throw e;
      }
    },
  };
}
