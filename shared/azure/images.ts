// Managed images (Glance images on Azure: Microsoft.Compute/images made from an uploaded VHD blob) and
// the Azure snapshots that are server snapshot images (shared/image/snapshotImage.ts). One call = one
// request: a create or delete is submitted, its Retry-After handed back (operations.ts), and the image
// work steps (shared/image/managedImage.ts) look again later with get().
import type { DriverContext } from './context';
import { absentOn404 } from './errors';
import { recordSubmit, type Submitted } from './operations';

export interface ManagedImageState {
  id: string;
  /** ARM's provisioningState: Creating, Succeeded, Failed, Canceled, Deleting, ... */
  provisioningState: string;
}

export interface ManagedImageSpec {
  /** The page blob holding the fixed VHD. */
  blobUri: string;
  osType: 'Linux' | 'Windows';
  hyperVGeneration: 'V1' | 'V2';
  tags: Record<string, string>;
}

export interface ImageDriver {
  /** The managed image, or undefined when Azure has none of that name. */
  get(name: string): Promise<ManagedImageState | undefined>;
  /** PUT of the managed image from a generalized VHD blob (idempotent; does not wait for it). */
  submitCreate(name: string, spec: ManagedImageSpec): Promise<Submitted>;
  /** DELETE of the managed image (does not wait); undefined when it was already gone. */
  submitDelete(name: string): Promise<Submitted | undefined>;
  /** A server snapshot image's Azure snapshot, or undefined when absent. */
  snapshotState(name: string): Promise<{ provisioningState: string } | undefined>;
  /** DELETE of that snapshot (does not wait); undefined when it was already gone. */
  submitSnapshotDelete(name: string): Promise<Submitted | undefined>;
}

/** Submits a DELETE: what it said, or undefined when Azure answered 404 (nothing left to delete). */
async function submitOrAbsent(send: (options: ReturnType<typeof recordSubmit>['options']) => Promise<unknown>): Promise<Submitted | undefined> {
  const rec = recordSubmit();
  const sent = await absentOn404(async () => {
    await send(rec.options);
    return true;
  });
  return sent ? rec.submitted() : undefined;
}

export function imageDriver(ctx: DriverContext): ImageDriver {
  const rg = ctx.cfg.azure.resourceGroup;
  const compute = () => ctx.clients().compute;
  return {
    async get(name) {
      const img = await absentOn404(() => compute().images.get(rg, name));
      return img && { id: img.id ?? ctx.armId('Microsoft.Compute', 'images', name), provisioningState: img.provisioningState ?? 'Unknown' };
    },
    async submitCreate(name, spec) {
      const rec = recordSubmit();
      await compute()
        .images.createOrUpdate(
          rg,
          name,
          {
            location: ctx.cfg.azure.location,
            hyperVGeneration: spec.hyperVGeneration,
            storageProfile: { osDisk: { osType: spec.osType, osState: 'Generalized', blobUri: spec.blobUri, caching: 'ReadWrite' }, dataDisks: [] },
            tags: spec.tags,
          },
          rec.options,
        )
        .submitted();
      return rec.submitted();
    },
    async submitDelete(name) {
      return submitOrAbsent((options) => compute().images.delete(rg, name, options).submitted());
    },
    async snapshotState(name) {
      const sn = await absentOn404(() => compute().snapshots.get(rg, name));
      return sn && { provisioningState: sn.provisioningState ?? 'Unknown' };
    },
    async submitSnapshotDelete(name) {
      return submitOrAbsent((options) => compute().snapshots.delete(rg, name, options).submitted());
    },
  };
}
