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

/**
 * Where a new disk's data comes from: a copy of a disk or snapshot (Copy), a fixed-VHD page blob of
 * Jacket's storage account (Import: a backup or an uploaded image), or a marketplace image version
 * (FromImage).
 */
export type DiskSource = { sourceId: string } | { importUri: string } | { imageReferenceId: string };

export interface VolumeDisks {
  disk(name: string): Promise<ArmState | undefined>;
  createDisk(name: string, sizeGB: number, sku: string, tags: Record<string, string>, source?: DiskSource): Promise<void>;
  resizeDisk(name: string, sizeGB: number): Promise<void>;
  deleteDisk(name: string): Promise<void>;
  snapshot(name: string): Promise<ArmState | undefined>;
  createSnapshot(name: string, diskId: string, tags: Record<string, string>): Promise<void>;
  deleteSnapshot(name: string): Promise<void>;
  /** A read SAS on the disk's data (grant access), valid for `seconds`. */
  grantRead(name: string, seconds: number): Promise<string>;
  revokeAccess(name: string): Promise<void>;
  /** The marketplace image version id for a FromImage disk ('latest' resolved to the newest version). */
  marketplaceVersionId(publisher: string, offer: string, sku: string, version: string): Promise<string>;
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
          creationData: creationData(cfg, source),
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
    async grantRead(name, seconds) {
      const r = await c.disks.grantAccess(rg, name, { access: 'Read', durationInSeconds: seconds });
      if (!r.accessSAS) throw new Error(`grant access on ${name} returned no SAS`);
      return r.accessSAS;
    },
    async revokeAccess(name) {
      await absentAs404(Promise.resolve(c.disks.revokeAccess(rg, name)));
    },
    async marketplaceVersionId(publisher, offer, sku, version) {
      let v = version;
      if (v.toLowerCase() === 'latest') {
        // Azure wants a concrete version for a disk; the newest is what 'latest' means for a VM.
        const list = await c.virtualMachineImages.list(location, publisher, offer, sku, { orderby: 'name desc', top: 1 }).catch(() => []);
        v = list[0]?.name ?? v;
      }
      return `/Subscriptions/${cfg.azure.subscriptionId}/Providers/Microsoft.Compute/Locations/${location}/Publishers/${publisher}/ArtifactTypes/VMImage/Offers/${offer}/Skus/${sku}/Versions/${v}`;
    },
  };
}

/** The storage account holding Jacket's blobs (images, backups), as Import's storageAccountId names it. */
export const storageAccountId = (cfg: JacketConfig) =>
  `/subscriptions/${cfg.azure.subscriptionId}/resourceGroups/${cfg.azure.resourceGroup}/providers/Microsoft.Storage/storageAccounts/${cfg.azure.storageAccount}`;

function creationData(cfg: JacketConfig, source?: DiskSource) {
  if (!source) return { createOption: 'Empty' as const };
  if ('sourceId' in source) return { createOption: 'Copy' as const, sourceResourceId: source.sourceId };
  if ('importUri' in source) return { createOption: 'Import' as const, sourceUri: source.importUri, storageAccountId: storageAccountId(cfg) };
  return { createOption: 'FromImage' as const, imageReference: { id: source.imageReferenceId } };
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
