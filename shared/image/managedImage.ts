// The managed image (Microsoft.Compute/images) made from an uploaded image's blob, and the cleanup of
// a deleted image. Both run as work-queue steps (shared/work/queue.ts), so an upload answers without
// waiting on ARM: each step looks at what exists, starts what is missing, and comes back later until
// the long-running operation has finished. Steps are idempotent; a failure is retried by the queue and,
// after MAX_ATTEMPTS, the item is parked in the poison queue with the record still marked (see
// docs/images.md for the sweep).
import type { Services } from '../services';
import type { JacketConfig } from '../config';
import { createAzureClients, type AzureClients } from '../azure/clients';
import { registerWork, type WorkItem, type WorkResult } from '../work/queue';
import { log } from '../log';
import { imageStore, glanceTime, type ImageRecord } from './model';
import { blobNameOf, deleteImageBlob, imageBlob } from './vhdBlob';
import { isSnapshotImage, snapshotGone } from './snapshotImage';

export const MANAGE_KIND = 'image-managed-create';
export const DELETE_KIND = 'image-delete';

/** The ARM side of images, behind a small interface (the real SDK client in production and tests). */
export interface ManagedImages {
  /** undefined when absent. */
  state(name: string): Promise<{ id: string; provisioningState: string } | undefined>;
  /** Submits the create (does not wait for it). */
  create(name: string, blobUri: string, osType: 'Linux' | 'Windows', hyperVGeneration: 'V1' | 'V2'): Promise<void>;
  /** Submits the delete (does not wait for it). */
  remove(name: string): Promise<void>;
}

const statusOf = (e: unknown) => (typeof e === 'object' && e !== null ? (e as { statusCode?: number }).statusCode : undefined);

export function armManagedImages(cfg: JacketConfig, clients: AzureClients = createAzureClients(cfg)): ManagedImages {
  const rg = cfg.azure.resourceGroup;
  return {
    async state(name) {
      try {
        const img = await clients.compute.images.get(rg, name);
        return { id: img.id ?? '', provisioningState: img.provisioningState ?? 'Unknown' };
      } catch (e) {
        if (statusOf(e) === 404) return undefined;
        throw e;
      }
    },
    async create(name, blobUri, osType, hyperVGeneration) {
      const poller = clients.compute.images.createOrUpdate(rg, name, {
        location: cfg.azure.location,
        hyperVGeneration,
        storageProfile: { osDisk: { osType, osState: 'Generalized', blobUri, caching: 'ReadWrite' }, dataDisks: [] },
        tags: { 'jacket-image': name },
      });
      await poller.submitted();
    },
    async remove(name) {
      const poller = clients.compute.images.delete(rg, name);
      try {
        await poller.submitted();
      } catch (e) {
        if (statusOf(e) !== 404) throw e;
      }
    },
  };
}

const cache = new WeakMap<JacketConfig, ManagedImages>();
let override: ((cfg: JacketConfig) => ManagedImages) | undefined;
/** Tests may put another ARM implementation here (e.g. one that fails, to test the retry path). */
export function setManagedImagesFactory(f: ((cfg: JacketConfig) => ManagedImages) | undefined): void {
  override = f;
}
export function managedImages(cfg: JacketConfig): ManagedImages {
  if (override) return override(cfg);
  let m = cache.get(cfg);
  if (!m) {
    m = armManagedImages(cfg);
    cache.set(cfg, m);
  }
  return m;
}

export const managedImageName = (imageId: string) => `image-${imageId}`;

function osTypeOf(img: ImageRecord): 'Linux' | 'Windows' {
  const t = (img.properties.azure_os_type ?? img.properties.os_type ?? 'linux').toLowerCase();
  return t === 'windows' ? 'Windows' : 'Linux';
}

async function createStep(item: WorkItem, services: Services): Promise<WorkResult> {
  const store = imageStore(services);
  const cur = await store.getAny(item.id);
  if (!cur || cur.value.deleting || cur.value.status !== 'saving' || !cur.value.blob) return { status: 'done' };
  const img = cur.value;
  const arm = managedImages(services.config);
  const name = managedImageName(img.id);
  const st = await arm.state(name);
  if (!st) {
    const blob = await imageBlob(services.config, img.blob!.name);
    const gen = img.properties.hw_machine_type === 'q35' || img.properties.azure_hyper_v_generation === 'V2' ? 'V2' : 'V1';
    await arm.create(name, blob.url, osTypeOf(img), gen);
    return { status: 'again', delaySeconds: 2 };
  }
  if (st.provisioningState === 'Succeeded') {
    await store.update(img, (v) =>
      v.status !== 'saving' || v.deleting
        ? undefined
        : {
            ...v,
            status: 'active',
            managedImageId: st.id,
            properties: { ...v.properties, azure_type: 'image', azure_uri: st.id, azure_os_type: osTypeOf(v).toLowerCase() },
            updated_at: glanceTime(),
          },
    );
    return { status: 'done' };
  }
  if (st.provisioningState === 'Failed' || st.provisioningState === 'Canceled') {
    log.warn('managed image failed', { image: img.id, state: st.provisioningState });
    await store.update(img, (v) => (v.status !== 'saving' ? undefined : { ...v, status: 'killed', managedImageId: st.id, updated_at: glanceTime() }));
    return { status: 'done' };
  }
  return { status: 'again', delaySeconds: 3 };
}

/** Removes the managed image (waiting until ARM has), then the blob, then the record. */
async function deleteStep(item: WorkItem, services: Services): Promise<WorkResult> {
  const store = imageStore(services);
  const cur = await store.getAny(item.id);
  if (!cur) return { status: 'done' };
  const img = cur.value;
  if (img.managedImageId || item.data?.managed === true) {
    const arm = managedImages(services.config);
    const name = managedImageName(img.id);
    const st = await arm.state(name);
    if (st) {
      if (st.provisioningState !== 'Deleting') await arm.remove(name);
      return { status: 'again', delaySeconds: 2 };
    }
  }
  // A server snapshot image (snapshotImage.ts): its Azure snapshot goes first.
  if (isSnapshotImage(img) && !(await snapshotGone(services.config, managedImageName(img.id)))) return { status: 'again', delaySeconds: 2 };
  if (img.blob) await deleteImageBlob(await imageBlob(services.config, img.blob.name));
  else await deleteImageBlob(await imageBlob(services.config, blobNameOf(img.id)));
  await store.remove(img);
  return { status: 'done' };
}

registerWork(MANAGE_KIND, createStep);
registerWork(DELETE_KIND, deleteStep);
