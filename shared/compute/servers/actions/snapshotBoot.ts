// Booting a server from a snapshot image (image.ts, imageWork.ts): the snapshot holds a specialized OS
// disk, which Azure boots as it is — a copy of it becomes the new server's OS disk (Copy), attached to
// the VM (createOption Attach, osType, no imageReference and no osProfile: Azure provisions nothing on
// a specialized disk, azure-facts.md). The disk copy is made and waited for in the create request, as
// the NICs are (a copy of a snapshot completes within seconds), then the VM PUT is sent as usual.
import type { JacketConfig } from '../../../config';
import type { ServerRecord } from '../model';
import { serverTags, type vmBody } from '../azureVm';
import { serverActionsArm } from './azureActions';

type VmBody = ReturnType<typeof vmBody>;

export async function snapshotVmBody(cfg: JacketConfig, srv: ServerRecord, snapshotId: string, body: VmBody) {
  const osType = srv.os_type === 'windows' ? 'Windows' : 'Linux';
  const zones = (body as { zones?: string[] }).zones;
  const disk = await serverActionsArm(cfg).putDiskAndWait(srv.azure.os_disk, {
    location: cfg.azure.location,
    tags: serverTags(srv),
    ...(zones ? { zones } : {}),
    osType,
    creationData: { createOption: 'Copy', sourceResourceId: snapshotId },
  });
  const { osProfile: _none, storageProfile: _image, ...rest } = body;
  // The same VM PUT without osProfile and imageReference (ServerArm.submitVm sends the body as given).
  return {
    ...rest,
    storageProfile: { osDisk: { name: srv.azure.os_disk, createOption: 'Attach', osType, managedDisk: { id: disk.id }, deleteOption: 'Delete', caching: 'ReadWrite' } },
  } as unknown as VmBody;
}
