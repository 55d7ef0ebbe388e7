// Server snapshot images (createImage / createBackup): the image's data is an Azure snapshot of the
// server's OS disk (properties azure_type=snapshot, azure_uri=<snapshot id>, azure_os_type). A server
// OS disk is specialized, and a managed image needs a generalized source (azure-facts.md), so the
// snapshot itself is the image: booting copies it into a new OS disk. Named like the managed images
// (image-<id>), in config.azure.resourceGroup. Deleting the image deletes the snapshot (the image-delete
// work kind, managedImage.ts, through s.azure.images).
import type { ImageRecord } from './model';

export const isSnapshotImage = (img: Pick<ImageRecord, 'properties'>) => img.properties.azure_type === 'snapshot' && !!img.properties.azure_uri;
