// Server snapshot images (createImage / createBackup): the image's data is an Azure snapshot of the
// server's OS disk (properties azure_type=snapshot, azure_uri=<snapshot id>, azure_os_type). A server
// OS disk is specialized, and a managed image needs a generalized source (azure-facts.md), so the
// snapshot itself is the image: booting copies it into a new OS disk. Named like the managed images
// (image-<id>), in config.azure.resourceGroup. Deleting the image deletes the snapshot (image-delete).
import type { JacketConfig } from '../config';
import { createAzureClients } from '../azure/clients';
import type { ImageRecord } from './model';

export const isSnapshotImage = (img: Pick<ImageRecord, 'properties'>) => img.properties.azure_type === 'snapshot' && !!img.properties.azure_uri;

const statusOf = (e: unknown) => (typeof e === 'object' && e !== null ? (e as { statusCode?: number }).statusCode : undefined);

/** Deletes the image's Azure snapshot; true once it is gone (call again until then). */
export async function snapshotGone(cfg: JacketConfig, name: string): Promise<boolean> {
  const snaps = createAzureClients(cfg).compute.snapshots;
  const rg = cfg.azure.resourceGroup;
  try {
    const sn = await snaps.get(rg, name);
    if (sn.provisioningState !== 'Deleting') await snaps.delete(rg, name).submitted();
    return false;
  } catch (e) {
    if (statusOf(e) === 404) return true;
    throw e;
  }
}
