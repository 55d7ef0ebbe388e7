/** Microsoft.Compute/images: managed images from a generalized VM, a disk, a snapshot or a blob. */
import { randomUUID } from 'node:crypto';
import { ArmError, conflict, notFound } from '../arm/errors';
import type { Ctx } from '../arm/http';
import { list, ok } from '../arm/http';
import { isIdOfType, resourceId } from '../arm/ids';
import { accepted, lroBody, noContent, tagsOf } from '../arm/replies';
import type { Router } from '../arm/router';
import type { Emulator } from '../emulator';
import { T } from '../state';
import { FOOTER_SIZE } from '../storage/vhd';
import { GiB } from './catalog';
import { checkVhdSource } from './disks';
import type { DiskRecord, ImageDisk, ImageRecord, VmRecord } from './model';

const BASE = '/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Compute/images';

export function renderImage(img: ImageRecord): any {
  const disk = (d: ImageDisk, os: boolean) => {
    const o: any = {};
    if (d.lun !== undefined) o.lun = d.lun;
    if (os) {
      o.osType = img.osType;
      o.osState = img.osState;
    }
    if (d.source.managedDisk) o.managedDisk = { id: d.source.managedDisk };
    if (d.source.snapshot) o.snapshot = { id: d.source.snapshot };
    if (d.source.blobUri) o.blobUri = d.source.blobUri;
    o.caching = d.caching ?? 'ReadWrite';
    o.diskSizeGB = d.diskSizeGB;
    o.storageAccountType = d.storageAccountType ?? 'Standard_LRS';
    return o;
  };
  const props: any = {
    storageProfile: { osDisk: disk(img.osDisk, true), dataDisks: img.dataDisks.map((d) => disk(d, false)), zoneResilient: img.zoneResilient },
    provisioningState: img.provisioningState,
    hyperVGeneration: img.hyperVGeneration,
  };
  if (img.sourceVirtualMachine) props.sourceVirtualMachine = { id: img.sourceVirtualMachine };
  return {
    name: img.name,
    id: img.id,
    type: 'Microsoft.Compute/images',
    location: img.location,
    ...(img.tags ? { tags: img.tags } : {}),
    properties: props,
  };
}

type CopyJob = { target: ImageDisk; check?: () => Promise<void>; run: () => Promise<void> };

function sourceDisk(ctx: Ctx, spec: any, where: string, blobName: string): CopyJob {
  const emu = ctx.emu;
  const target: ImageDisk = { lun: spec?.lun, blobName, diskSizeGB: 0, source: {}, storageAccountType: spec?.storageAccountType, caching: spec?.caching };
  const mdId = spec?.managedDisk?.id;
  const snapId = spec?.snapshot?.id;
  const blobUri = spec?.blobUri;
  let src: DiskRecord | undefined;
  if (typeof mdId === 'string') {
    src = isIdOfType(mdId, 'Microsoft.Compute', 'disks') ? emu.store.get<DiskRecord>(T.disk, mdId) : undefined;
    if (!src) throw new ArmError(404, 'NotFound', `Resource ${mdId} is not found.`, `${where}.managedDisk.id`);
    target.source.managedDisk = src.id;
  } else if (typeof snapId === 'string') {
    src = isIdOfType(snapId, 'Microsoft.Compute', 'snapshots') ? emu.store.get<DiskRecord>(T.snapshot, snapId) : undefined;
    if (!src) throw new ArmError(404, 'NotFound', `Resource ${snapId} is not found.`, `${where}.snapshot.id`);
    target.source.snapshot = src.id;
  } else if (typeof blobUri === 'string') {
    target.source.blobUri = blobUri;
    const client = emu.blobs.sourceClient(blobUri);
    let sizeBytes = 0;
    return {
      target,
      check: async () => {
        const size = await checkVhdSource(client, blobUri, `${where}.blobUri`);
        target.diskSizeGB = Math.max(1, Math.ceil((size - FOOTER_SIZE) / GiB));
        sizeBytes = size - FOOTER_SIZE;
      },
      run: () => emu.blobs.copyToDisk(client, blobName, sizeBytes),
    };
  } else {
    throw new ArmError(400, 'InvalidParameter', `One of managedDisk, snapshot or blobUri is required for ${where}.`, where);
  }
  const s = src;
  target.diskSizeGB = spec?.diskSizeGB ?? s.diskSizeGB;
  return { target, run: () => emu.blobs.copyToDisk(emu.blobs.blob(s.blobName), blobName, s.dataBytes) };
}

export function registerImages(r: Router): void {
  r.add('GET', '/subscriptions/{sub}/providers/Microsoft.Compute/images', 'compute', (ctx) => list(ctx.emu.store.list<ImageRecord>(T.image).map(renderImage)), 'Images_List');
  r.add('GET', BASE, 'compute', (ctx) => list(ctx.emu.store.list<ImageRecord>(T.image, ctx.emu.requireRg(ctx.params.rg)).map(renderImage)), 'Images_ListByResourceGroup');
  r.add(
    'GET',
    `${BASE}/{name}`,
    'compute',
    (ctx) => {
      const rg = ctx.emu.requireRg(ctx.params.rg);
      const img = ctx.emu.store.get<ImageRecord>(T.image, resourceId(ctx.emu.sub, rg, 'Microsoft.Compute', 'images', ctx.params.name));
      if (!img) throw notFound('Microsoft.Compute/images', ctx.params.name, rg);
      return ok(renderImage(img));
    },
    'Images_Get',
  );
  r.add(
    'PUT',
    `${BASE}/{name}`,
    'compute',
    async (ctx) => {
      const emu = ctx.emu;
      const rg = emu.requireRg(ctx.params.rg);
      const location = emu.requireLocation(ctx.body?.location);
      const id = resourceId(emu.sub, rg, 'Microsoft.Compute', 'images', ctx.params.name);
      const existing = emu.store.get<ImageRecord>(T.image, id);
      if (existing) {
        if (emu.ops.inProgressFor(id)) throw conflict(`An operation is already in progress on image '${existing.name}'.`);
        existing.tags = tagsOf(ctx.body);
        return ok(renderImage(existing));
      }
      const p = ctx.body?.properties ?? {};
      const uniqueId = randomUUID();
      const jobs: CopyJob[] = [];
      let osType: 'Linux' | 'Windows';
      let osState: 'Generalized' | 'Specialized';
      let hyperVGeneration: 'V1' | 'V2' = p.hyperVGeneration ?? 'V1';
      let sourceVm: string | undefined;
      const vmId = p.sourceVirtualMachine?.id;
      if (typeof vmId === 'string') {
        const vm = emu.store.get<VmRecord>(T.vm, vmId);
        if (!vm) throw new ArmError(404, 'NotFound', `Resource ${vmId} is not found.`, 'sourceVirtualMachine.id');
        if (!vm.generalized) {
          throw new ArmError(409, 'OperationNotAllowed', `The source virtual machine '${vm.id}' must be generalized before it can be used to create an image.`, 'sourceVirtualMachine');
        }
        sourceVm = vm.id;
        osType = vm.osType;
        osState = 'Generalized';
        hyperVGeneration = vm.hyperVGeneration;
        const osDisk = emu.store.get<DiskRecord>(T.disk, vm.osDisk.diskId);
        if (!osDisk) throw new ArmError(409, 'OperationNotAllowed', `The OS disk of VM '${vm.id}' no longer exists.`);
        jobs.push(sourceDisk(ctx, { managedDisk: { id: osDisk.id }, storageAccountType: osDisk.sku }, 'osDisk', `images/${uniqueId}/os.vhd`));
        for (const dd of vm.dataDisks) {
          jobs.push(sourceDisk(ctx, { lun: dd.lun, managedDisk: { id: dd.diskId }, storageAccountType: dd.storageAccountType }, `dataDisks[${dd.lun}]`, `images/${uniqueId}/lun${dd.lun}.vhd`));
        }
      } else {
        const sp = p.storageProfile;
        const os = sp?.osDisk;
        if (!os) throw new ArmError(400, 'InvalidParameter', 'Either sourceVirtualMachine or storageProfile.osDisk is required.', 'storageProfile.osDisk');
        if (!['Linux', 'Windows'].includes(os.osType)) throw new ArmError(400, 'InvalidParameter', "Required parameter 'osType' is missing or invalid.", 'storageProfile.osDisk.osType');
        if (!['Generalized', 'Specialized'].includes(os.osState)) throw new ArmError(400, 'InvalidParameter', "Required parameter 'osState' is missing or invalid.", 'storageProfile.osDisk.osState');
        osType = os.osType;
        osState = os.osState;
        jobs.push(sourceDisk(ctx, os, 'storageProfile.osDisk', `images/${uniqueId}/os.vhd`));
        for (const [i, dd] of ((sp.dataDisks ?? []) as any[]).entries()) {
          if (!Number.isInteger(dd?.lun)) throw new ArmError(400, 'InvalidParameter', "Required parameter 'lun' is missing.", `storageProfile.dataDisks[${i}].lun`);
          jobs.push(sourceDisk(ctx, dd, `storageProfile.dataDisks[${i}]`, `images/${uniqueId}/lun${dd.lun}.vhd`));
        }
      }
      for (const j of jobs) if (j.check) await j.check();
      const img: ImageRecord = {
        id,
        name: ctx.params.name,
        resourceGroup: rg,
        location,
        tags: tagsOf(ctx.body),
        uniqueId,
        sourceVirtualMachine: sourceVm,
        osType,
        osState,
        hyperVGeneration,
        osDisk: jobs[0].target,
        dataDisks: jobs.slice(1).map((j) => j.target),
        zoneResilient: p.storageProfile?.zoneResilient === true,
        provisioningState: 'Creating',
      };
      emu.store.put(T.image, img);
      const op = emu.ops.start(ctx, {
        kind: 'compute',
        name: 'createImage',
        resourceId: id,
        location,
        work: async () => {
          for (const j of jobs) await j.run();
          img.provisioningState = 'Succeeded';
        },
        onFailed: () => {
          img.provisioningState = 'Failed';
        },
      });
      return lroBody(ctx, 201, renderImage(img), op);
    },
    'Images_CreateOrUpdate',
  );
  r.add(
    'PATCH',
    `${BASE}/{name}`,
    'compute',
    (ctx) => {
      const rg = ctx.emu.requireRg(ctx.params.rg);
      const img = ctx.emu.store.get<ImageRecord>(T.image, resourceId(ctx.emu.sub, rg, 'Microsoft.Compute', 'images', ctx.params.name));
      if (!img) throw notFound('Microsoft.Compute/images', ctx.params.name, rg);
      if (ctx.body?.tags !== undefined) img.tags = tagsOf(ctx.body);
      return ok(renderImage(img));
    },
    'Images_Update',
  );
  r.add(
    'DELETE',
    `${BASE}/{name}`,
    'compute',
    (ctx) => {
      const emu = ctx.emu;
      const rg = emu.requireRg(ctx.params.rg);
      const img = emu.store.get<ImageRecord>(T.image, resourceId(emu.sub, rg, 'Microsoft.Compute', 'images', ctx.params.name));
      if (!img) return noContent;
      img.provisioningState = 'Deleting';
      const op = emu.ops.start(ctx, {
        kind: 'compute',
        name: 'deleteImage',
        resourceId: img.id,
        location: img.location,
        work: async () => {
          emu.store.delete(T.image, img.id);
          await emu.blobs.deletePrefix(`images/${img.uniqueId}/`);
        },
        onFailed: () => {
          img.provisioningState = 'Succeeded';
        },
      });
      return accepted(ctx, op);
    },
    'Images_Delete',
  );
}

export function findImage(emu: Emulator, id: string): ImageRecord | undefined {
  return isIdOfType(id, 'Microsoft.Compute', 'images') ? emu.store.get<ImageRecord>(T.image, id) : undefined;
}
