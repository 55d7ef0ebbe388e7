// Managed disks and snapshots (Cinder's volume driver on Azure): create (empty, copy, import, from
// image), resize, delete, grant/revoke access, incremental snapshots; and, through diskCopy.ts, the
// chunked disk-to-blob copy of backups and uploads. Owned by block storage.
//
// Every ARM write only submits (one request: the SDK's poller is never awaited) and answers what the
// submission said (Submission): the resource's state when the PUT's answer carried it, Retry-After
// for pacing the step's polls. Errors are left to shared/azure/errors.ts: callers and the engine
// classify them; a 404 on a delete or a read means "not there" and is answered, not thrown.
import type { FullOperationResponse } from '@azure/core-client';
import type { DriverContext } from './context';
import { absentOn404 } from './errors';
import { recordSubmit, type Submitted } from './operations';
import { diskCopier, type BlobRef, type DiskCopier } from './diskCopy';

export interface ArmState {
  id: string;
  provisioningState: string;
  sizeGB: number;
  /** The disk's SKU (storage account type), when ARM names it. */
  sku?: string;
  /** Its tags, and what holds it (a VM, managedBy) and its diskState, when ARM's answer names them. */
  tags?: Record<string, string>;
  managedBy?: string;
  diskState?: string;
  /** What a snapshot (or copied disk) was made from (creationData.sourceResourceId). */
  sourceId?: string;
}

/**
 * Where a new disk's data comes from: a copy of a disk or snapshot (Copy, by ARM id), a fixed-VHD page
 * blob of Jacket's storage account (Import: a backup or an uploaded image), or a marketplace or managed
 * image (FromImage).
 */
export type DiskSource = { sourceId: string } | { blob: BlobRef } | { imageReferenceId: string };

/**
 * Azure shared disks (learn.microsoft.com/azure/virtual-machines/disks-shared; DiskRP.json `maxShares`:
 * "Value greater than one indicates a disk that can be mounted on multiple VMs at the same time"): only
 * Ultra, Premium SSD v2, Premium SSD and Standard SSD disks can be shared, not Standard HDD; host caching
 * must be None on them (Jacket's data disks always attach with None); one grows only once every VM
 * holding it is deallocated or has let go of it.
 */
export const SHAREABLE_SKUS = ['UltraSSD_LRS', 'PremiumV2_LRS', 'Premium_LRS', 'Premium_ZRS', 'StandardSSD_LRS', 'StandardSSD_ZRS'];

/**
 * The most VMs a shared disk of this SKU and size may attach at once (disks-shared, "Disk sizes"):
 * Ultra and Premium SSD v2 15; a Premium or Standard SSD of up to 512 GiB (P20/E20) 3, up to 4 TiB
 * (P50/E50) 5, larger 10. A disk only grows, so the limit at its creation size holds for its life.
 */
export function maxSharesFor(sku: string, sizeGB: number): number {
  if (!SHAREABLE_SKUS.includes(sku)) return 1;
  if (sku === 'UltraSSD_LRS' || sku === 'PremiumV2_LRS') return 15;
  return sizeGB <= 512 ? 3 : sizeGB <= 4096 ? 5 : 10;
}

export interface DiskSpec {
  sizeGB: number;
  sku: string;
  tags: Record<string, string>;
  source?: DiskSource;
  /** Provisioned IOPS and MB/s (10^6 bytes/s), which Azure takes on PremiumV2_LRS and UltraSSD_LRS disks only. */
  performance?: { iops?: number; mbps?: number };
  /** A shared disk (a multiattach volume): how many VMs may hold it at once. */
  maxShares?: number;
}

/** What ARM answered a write: Retry-After / status URL, and the resource's state when the answer carried it. */
export interface Submission extends Submitted {
  state?: ArmState;
  /** A delete found nothing to delete (404) or finished at once (200/204): no poll is needed. */
  gone?: boolean;
}

export type AccessTarget = 'disks' | 'snapshots';

export interface DiskDriver {
  diskId(name: string): string;
  snapshotId(name: string): string;
  disk(name: string): Promise<ArmState | undefined>;
  createDisk(name: string, spec: DiskSpec): Promise<Submission>;
  resizeDisk(name: string, sizeGB: number): Promise<Submission>;
  /** A PATCH of the disk's SKU (Cinder's retype): Azure allows it on a disk that no running VM holds. */
  setDiskSku(name: string, sku: string): Promise<Submission>;
  deleteDisk(name: string): Promise<Submission>;
  snapshot(name: string): Promise<ArmState | undefined>;
  /** An incremental snapshot of the disk `diskName`. */
  createSnapshot(name: string, diskName: string, tags: Record<string, string>): Promise<Submission>;
  deleteSnapshot(name: string): Promise<Submission>;
  /**
   * Replaces the tags of a disk or snapshot (a PATCH: only the tags change; submitted, not awaited) and,
   * for a Premium SSD v2 or Ultra disk, its provisioned IOPS and MB/s in the same PATCH (Azure changes
   * them while the disk is attached; a second PATCH would meet the first still running).
   */
  setTags(target: AccessTarget, name: string, tags: Record<string, string>, performance?: { iops?: number; mbps?: number }): Promise<Submission>;
  /** A read SAS on a disk's or snapshot's data (grant access), valid for `seconds`. */
  grantRead(target: AccessTarget, name: string, seconds: number): Promise<string>;
  /** Ends a grant; nothing to do when the disk or snapshot is gone. */
  revokeAccess(target: AccessTarget, name: string): Promise<void>;
  /** The marketplace image version id for a FromImage disk ('latest' resolved to the newest version). */
  marketplaceVersionId(publisher: string, offer: string, sku: string, version: string): Promise<string>;
  /** The chunked disk-to-blob copy and Jacket's page blobs it writes (diskCopy.ts). */
  copy: DiskCopier;
}

interface ArmResource {
  id?: string;
  provisioningState?: string;
  diskSizeGB?: number;
  sku?: { name?: string };
  tags?: Record<string, string>;
  managedBy?: string;
  diskState?: string;
  creationData?: { sourceResourceId?: string };
  properties?: { provisioningState?: string; diskSizeGB?: number };
}

const stateOf = (r: ArmResource | undefined): ArmState | undefined =>
  r && r.id
    ? {
        id: r.id,
        provisioningState: r.provisioningState ?? r.properties?.provisioningState ?? 'Unknown',
        sizeGB: r.diskSizeGB ?? r.properties?.diskSizeGB ?? 0,
        ...(r.sku?.name ? { sku: r.sku.name } : {}),
        ...(r.tags ? { tags: r.tags } : {}),
        ...(r.managedBy ? { managedBy: r.managedBy } : {}),
        ...(r.diskState ? { diskState: r.diskState } : {}),
        ...(r.creationData?.sourceResourceId ? { sourceId: r.creationData.sourceResourceId } : {}),
      }
    : undefined;

/** recordSubmit, plus the submission's HTTP status and body (the PUT's answer names the resource's state). */
function recordAnswer() {
  const rec = recordSubmit();
  let first: { status: number; body?: ArmResource } | undefined;
  const options = {
    onResponse: (r: FullOperationResponse) => {
      rec.options.onResponse(r);
      if (first) return;
      let body = r.parsedBody as ArmResource | undefined;
      if (body === undefined && r.bodyAsText) {
        try {
          body = JSON.parse(r.bodyAsText) as ArmResource;
        } catch {
          body = undefined;
        }
      }
      first = { status: r.status, body };
    },
  };
  return {
    options,
    answer: (): Submission => {
      const st = first && first.status < 300 ? stateOf(first.body) : undefined;
      return { ...rec.submitted(), ...(st ? { state: st } : {}), ...(first && (first.status === 200 || first.status === 204) && first.body === undefined ? { gone: true } : {}) };
    },
  };
}

export function diskDriver(ctx: DriverContext): DiskDriver {
  const { cfg } = ctx;
  const rg = cfg.azure.resourceGroup;
  const location = cfg.azure.location;
  const compute = () => ctx.clients().compute;
  const copy = diskCopier(() => ctx.clients().blobs);
  const storageAccountId = ctx.armId('Microsoft.Storage', 'storageAccounts', cfg.azure.storageAccount);

  const creationData = (source?: DiskSource) => {
    if (!source) return { createOption: 'Empty' as const };
    if ('sourceId' in source) return { createOption: 'Copy' as const, sourceResourceId: source.sourceId };
    if ('blob' in source) return { createOption: 'Import' as const, sourceUri: copy.blobUrl(source.blob), storageAccountId };
    return { createOption: 'FromImage' as const, imageReference: { id: source.imageReferenceId } };
  };

  /** Submits a delete: 404 or an immediate 200/204 means there is nothing left to wait for. */
  const submitDelete = async (send: (options: object) => { submitted(): Promise<void> }): Promise<Submission> => {
    const rec = recordAnswer();
    const sent = await absentOn404(() =>
      send(rec.options)
        .submitted()
        .then(() => true),
    );
    if (!sent) return { gone: true };
    return rec.answer();
  };

  return {
    diskId: (name) => ctx.armId('Microsoft.Compute', 'disks', name),
    snapshotId: (name) => ctx.armId('Microsoft.Compute', 'snapshots', name),
    async disk(name) {
      return stateOf((await absentOn404(() => compute().disks.get(rg, name))) as ArmResource | undefined);
    },
    async createDisk(name, spec) {
      const rec = recordAnswer();
      await compute()
        .disks.createOrUpdate(
          rg,
          name,
          {
            location,
            sku: { name: spec.sku as never },
            diskSizeGB: spec.sizeGB,
            creationData: creationData(spec.source),
            tags: spec.tags,
            ...(spec.performance?.iops !== undefined ? { diskIopsReadWrite: spec.performance.iops } : {}),
            ...(spec.performance?.mbps !== undefined ? { diskMBpsReadWrite: spec.performance.mbps } : {}),
            ...(spec.maxShares !== undefined ? { maxShares: spec.maxShares } : {}),
          } as never,
          rec.options as never,
        )
        .submitted();
      return rec.answer();
    },
    async setTags(target, name, tags, performance) {
      const rec = recordAnswer();
      const perf = { ...(performance?.iops !== undefined ? { diskIopsReadWrite: performance.iops } : {}), ...(performance?.mbps !== undefined ? { diskMBpsReadWrite: performance.mbps } : {}) };
      if (target === 'disks')
        await compute()
          .disks.update(rg, name, { tags, ...perf } as never, rec.options as never)
          .submitted();
      else
        await compute()
          .snapshots.update(rg, name, { tags } as never, rec.options as never)
          .submitted();
      return rec.answer();
    },
    async resizeDisk(name, sizeGB) {
      const rec = recordAnswer();
      await compute()
        .disks.update(rg, name, { diskSizeGB: sizeGB } as never, rec.options as never)
        .submitted();
      return rec.answer();
    },
    async setDiskSku(name, sku) {
      const rec = recordAnswer();
      await compute()
        .disks.update(rg, name, { sku: { name: sku } } as never, rec.options as never)
        .submitted();
      return rec.answer();
    },
    deleteDisk: (name) => submitDelete((o) => compute().disks.delete(rg, name, o as never)),
    async snapshot(name) {
      return stateOf((await absentOn404(() => compute().snapshots.get(rg, name))) as ArmResource | undefined);
    },
    async createSnapshot(name, diskName, tags) {
      const rec = recordAnswer();
      await compute()
        .snapshots.createOrUpdate(
          rg,
          name,
          { location, incremental: true, creationData: { createOption: 'Copy', sourceResourceId: ctx.armId('Microsoft.Compute', 'disks', diskName) }, tags } as never,
          rec.options as never,
        )
        .submitted();
      return rec.answer();
    },
    deleteSnapshot: (name) => submitDelete((o) => compute().snapshots.delete(rg, name, o as never)),
    async grantRead(target, name, seconds) {
      // Grant access is short: its poller runs to the SAS inside the step (paced by the SDK's poller).
      // Spelled out per target (not compute()[target]) so the custom role's scan sees both ARM actions.
      const data = { access: 'Read' as const, durationInSeconds: seconds };
      const r = target === 'disks' ? await compute().disks.grantAccess(rg, name, data) : await compute().snapshots.grantAccess(rg, name, data);
      if (!r.accessSAS) throw new Error(`grant access on ${name} returned no SAS`);
      return r.accessSAS;
    },
    async revokeAccess(target, name) {
      await absentOn404(async () => {
        if (target === 'disks') await compute().disks.revokeAccess(rg, name);
        else await compute().snapshots.revokeAccess(rg, name);
      });
    },
    async marketplaceVersionId(publisher, offer, sku, version) {
      let v = version;
      if (v.toLowerCase() === 'latest') {
        // Azure wants a concrete version for a disk; the newest is what 'latest' means for a VM.
        const list = await compute()
          .virtualMachineImages.list(location, publisher, offer, sku, { orderby: 'name desc', top: 1 })
          .catch(() => []);
        v = list[0]?.name ?? v;
      }
      return `/Subscriptions/${cfg.azure.subscriptionId}/Providers/Microsoft.Compute/Locations/${location}/Publishers/${publisher}/ArtifactTypes/VMImage/Offers/${offer}/Skus/${sku}/Versions/${v}`;
    },
    copy,
  };
}
