/** In-memory resource store keyed by case-insensitive ARM id, one table per resource type. */
import { idKey } from './arm/ids';

export interface StoredResource {
  id: string;
  name: string;
  resourceGroup: string;
}

export class Store {
  readonly resourceGroups = new Map<string, { name: string; location: string }>();
  private tables = new Map<string, Map<string, StoredResource>>();

  table<T extends StoredResource>(type: string): Map<string, T> {
    const key = type.toLowerCase();
    let t = this.tables.get(key);
    if (!t) {
      t = new Map();
      this.tables.set(key, t);
    }
    return t as Map<string, T>;
  }

  get<T extends StoredResource>(type: string, id: string): T | undefined {
    return this.table<T>(type).get(idKey(id));
  }

  put<T extends StoredResource>(type: string, r: T): T {
    this.table<T>(type).set(idKey(r.id), r);
    return r;
  }

  delete(type: string, id: string): boolean {
    return this.table(type).delete(idKey(id));
  }

  list<T extends StoredResource>(type: string, resourceGroup?: string): T[] {
    const all = [...this.table<T>(type).values()];
    return resourceGroup === undefined ? all : all.filter((r) => r.resourceGroup.toLowerCase() === resourceGroup.toLowerCase());
  }

  hasResourceGroup(rg: string): boolean {
    return this.resourceGroups.has(rg.toLowerCase());
  }

  clear(): void {
    this.resourceGroups.clear();
    this.tables.clear();
  }

  /** Every resource as plain JSON, for `npm start` to keep the local cloud across restarts (local/state.ts). */
  snapshot(): { resourceGroups: { name: string; location: string }[]; tables: Record<string, StoredResource[]> } {
    const tables: Record<string, StoredResource[]> = {};
    for (const [type, t] of this.tables) tables[type] = [...t.values()];
    return { resourceGroups: [...this.resourceGroups.values()], tables };
  }

  /**
   * Loads a snapshot over the seeded state. An operation in flight when it was taken is gone with the
   * old process, so what it was doing is settled as if it had finished: Creating/Updating resources
   * become Succeeded and Deleting ones are removed.
   */
  restore(snap: ReturnType<Store['snapshot']>): void {
    for (const rg of snap.resourceGroups) this.resourceGroups.set(rg.name.toLowerCase(), rg);
    for (const [type, list] of Object.entries(snap.tables)) {
      for (const r of list) {
        const state = (r as { provisioningState?: string }).provisioningState;
        if (state === 'Deleting') continue;
        if (state === 'Creating' || state === 'Updating') (r as { provisioningState?: string }).provisioningState = 'Succeeded';
        this.table(type).set(idKey(r.id), r);
      }
    }
  }
}

export const T = {
  vm: 'Microsoft.Compute/virtualMachines',
  extension: 'Microsoft.Compute/virtualMachines/extensions',
  disk: 'Microsoft.Compute/disks',
  snapshot: 'Microsoft.Compute/snapshots',
  image: 'Microsoft.Compute/images',
  availabilitySet: 'Microsoft.Compute/availabilitySets',
  proximityPlacementGroup: 'Microsoft.Compute/proximityPlacementGroups',
  nic: 'Microsoft.Network/networkInterfaces',
  nsg: 'Microsoft.Network/networkSecurityGroups',
  vnet: 'Microsoft.Network/virtualNetworks',
  pip: 'Microsoft.Network/publicIPAddresses',
  nat: 'Microsoft.Network/natGateways',
  asg: 'Microsoft.Network/applicationSecurityGroups',
} as const;
