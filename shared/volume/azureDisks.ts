// The ARM side of volumes and snapshots: managed disks volume-<id> and incremental snapshots
// snapshot-<id> in the configured resource group, through the real @azure/arm-compute client.
// Every call only submits (PollerLike.submitted()); the work steps poll the resource's state.
import type { JacketConfig } from '../config';
import { createAzureClients, type AzureClients } from '../azure/clients';

export interface ArmState {
  id: string;
  provisioningState: string;
  sizeGB: number;
}

export interface DiskSource {
  /** ARM id of the disk or snapshot to copy. */
  sourceId: string;
}

export interface VolumeDisks {
  disk(name: string): Promise<ArmState | undefined>;
  createDisk(name: string, sizeGB: number, sku: string, tags: Record<string, string>, source?: DiskSource): Promise<void>;
  resizeDisk(name: string, sizeGB: number): Promise<void>;
  deleteDisk(name: string): Promise<void>;
  snapshot(name: string): Promise<ArmState | undefined>;
  createSnapshot(name: string, diskId: string, tags: Record<string, string>): Promise<void>;
  deleteSnapshot(name: string): Promise<void>;
}

export const statusOf = (e: unknown) => (typeof e === 'object' && e !== null ? (e as { statusCode?: number }).statusCode : undefined);

async function absentAs404<T>(p: Promise<T>): Promise<T | undefined> {
  try {
    return await p;
  } catch (e) {
    if (statusOf(e) === 404) return undefined;
    throw e;
  }
}

export function armVolumeDisks(cfg: JacketConfig, clients: AzureClients = createAzureClients(cfg)): VolumeDisks {
  const rg = cfg.azure.resourceGroup;
  const location = cfg.azure.location;
  const c = clients.compute;
  return {
    async disk(name) {
      const d = await absentAs404(c.disks.get(rg, name));
      return d ? { id: d.id ?? '', provisioningState: d.provisioningState ?? 'Unknown', sizeGB: d.diskSizeGB ?? 0 } : undefined;
    },
    async createDisk(name, sizeGB, sku, tags, source) {
      await c.disks
        .createOrUpdate(rg, name, {
          location,
          sku: { name: sku as never },
          diskSizeGB: sizeGB,
          creationData: source ? { createOption: 'Copy', sourceResourceId: source.sourceId } : { createOption: 'Empty' },
          tags,
        })
        .submitted();
    },
    async resizeDisk(name, sizeGB) {
      await c.disks.update(rg, name, { diskSizeGB: sizeGB }).submitted();
    },
    async deleteDisk(name) {
      await absentAs404(c.disks.delete(rg, name).submitted());
    },
    async snapshot(name) {
      const s = await absentAs404(c.snapshots.get(rg, name));
      return s ? { id: s.id ?? '', provisioningState: s.provisioningState ?? 'Unknown', sizeGB: s.diskSizeGB ?? 0 } : undefined;
    },
    async createSnapshot(name, diskId, tags) {
      await c.snapshots
        .createOrUpdate(rg, name, { location, incremental: true, creationData: { createOption: 'Copy', sourceResourceId: diskId }, tags })
        .submitted();
    },
    async deleteSnapshot(name) {
      await absentAs404(c.snapshots.delete(rg, name).submitted());
    },
  };
}

const cache = new WeakMap<JacketConfig, VolumeDisks>();
export function volumeDisks(cfg: JacketConfig): VolumeDisks {
  let d = cache.get(cfg);
  if (!d) {
    d = armVolumeDisks(cfg);
    cache.set(cfg, d);
  }
  return d;
}
