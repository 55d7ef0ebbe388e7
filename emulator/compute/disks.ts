/**
 * Microsoft.Compute/disks and snapshots (DiskRP): Empty, Copy, Import, Upload and FromImage creation,
 * resize, grant/revoke access. Every disk and snapshot is a page blob in Azurite holding real bytes.
 */
import { randomUUID } from 'node:crypto';
import { ArmError, notFound, operationNotAllowed, conflict } from '../arm/errors';
import type { Ctx, Reply } from '../arm/http';
import { list, ok } from '../arm/http';
import { isIdOfType, resourceId, sameId } from '../arm/ids';
import { accepted, noContent, tagsOf } from '../arm/replies';
import type { Router } from '../arm/router';
import type { Emulator } from '../emulator';
import { T } from '../state';
import { SourceBlobError } from '../storage/diskBlobs';
import { FOOTER_SIZE, isVhdFooter } from '../storage/vhd';
import type { PageBlobClient } from '@azure/storage-blob';
import { GiB, marketplaceBootSector, parseMarketplaceImageId, resolveMarketplaceImage } from './catalog';
import type { DiskRecord, ImageRecord, VmRecord } from './model';

const DISK_SKUS = ['Standard_LRS', 'Premium_LRS', 'StandardSSD_LRS', 'UltraSSD_LRS', 'Premium_ZRS', 'StandardSSD_ZRS', 'PremiumV2_LRS'];
const SNAPSHOT_SKUS = ['Standard_LRS', 'Premium_LRS', 'Standard_ZRS'];
const MIN_UPLOAD = 20 * 1024 * 1024 + 512;
const MAX_UPLOAD = 32 * 1024 * GiB + 512;

const PREMIUM_TIERS: Array<[number, string, number, number]> = [
  [4, 'P1', 120, 25],
  [8, 'P2', 120, 25],
  [16, 'P3', 120, 25],
  [32, 'P4', 120, 25],
  [64, 'P6', 240, 50],
  [128, 'P10', 500, 100],
  [256, 'P15', 1100, 125],
  [512, 'P20', 2300, 150],
  [1024, 'P30', 5000, 200],
  [2048, 'P40', 7500, 250],
  [4096, 'P50', 7500, 250],
  [8192, 'P60', 16000, 500],
  [16384, 'P70', 18000, 750],
  [32767, 'P80', 20000, 900],
];

/**
 * Shared disks (learn.microsoft.com/azure/virtual-machines/disks-shared, "Limitations" and "Disk
 * sizes"; DiskRP.json only says maxShares > 1 makes a disk shareable): only Ultra, Premium SSD v2,
 * Premium SSD and Standard SSD can be shared (not Standard HDD); a Premium or Standard SSD of up to
 * 512 GiB (P20/E20) takes 3 VMs, up to 4 TiB (P50/E50) 5, larger 10; Ultra and Premium SSD v2 take 15.
 */
export const SHAREABLE_SKUS = ['UltraSSD_LRS', 'PremiumV2_LRS', 'Premium_LRS', 'Premium_ZRS', 'StandardSSD_LRS', 'StandardSSD_ZRS'];

export function maxSharesLimit(sku: string, sizeGB: number): number {
  if (!SHAREABLE_SKUS.includes(sku)) return 1;
  if (sku === 'UltraSSD_LRS' || sku === 'PremiumV2_LRS') return 15;
  return sizeGB <= 512 ? 3 : sizeGB <= 4096 ? 5 : 10;
}

/** A maxShares a disk of this SKU and size may have (400 InvalidParameter otherwise). */
function maxSharesCheck(v: unknown, sku: string, sizeGB: number | undefined): number {
  if (!Number.isInteger(v) || (v as number) < 1) {
    throw new ArmError(400, 'InvalidParameter', `The value '${String(v)}' of parameter 'maxShares' is not valid. It must be an integer of at least 1.`, 'maxShares');
  }
  const n = v as number;
  if (n > 1 && !SHAREABLE_SKUS.includes(sku)) {
    throw new ArmError(400, 'InvalidParameter', `Shared disks (maxShares greater than 1) are not supported for disks of sku '${sku}'.`, 'maxShares');
  }
  if (sizeGB !== undefined && n > maxSharesLimit(sku, sizeGB)) {
    throw new ArmError(400, 'InvalidParameter', `The value '${n}' of parameter 'maxShares' exceeds the maximum of ${maxSharesLimit(sku, sizeGB)} for a ${sku} disk of ${sizeGB} GB.`, 'maxShares');
  }
  return n;
}

/** Every VM a disk is attached to (a shared disk may have several). */
export function vmsHolding(d: DiskRecord): string[] {
  return d.managedByExtended ?? (d.managedBy ? [d.managedBy] : []);
}

function setHolders(d: DiskRecord, vms: string[]): void {
  d.managedBy = vms[0];
  if ((d.maxShares ?? 1) > 1) d.managedByExtended = vms;
  else d.managedByExtended = undefined;
}

/** The disk is attached to `vmId` (as well as to any VMs already holding a shared disk). */
export function holdDisk(d: DiskRecord, vmId: string): void {
  setHolders(d, [...vmsHolding(d).filter((x) => !sameId(x, vmId)), vmId]);
}

/** The disk is no longer attached to `vmId` (the other VMs of a shared disk keep it). */
export function releaseDisk(d: DiskRecord, vmId: string): void {
  setHolders(
    d,
    vmsHolding(d).filter((x) => !sameId(x, vmId)),
  );
}

function typeName(kind: 'disk' | 'snapshot'): string {
  return kind === 'disk' ? T.disk : T.snapshot;
}

export function diskState(emu: Emulator, d: DiskRecord): string {
  if (d.access) return d.access.access === 'Write' ? 'ActiveUpload' : 'ActiveSAS';
  if (d.awaitingUpload) return 'ReadyToUpload';
  const vms = vmsHolding(d);
  if (vms.length > 0) {
    // Reserved while every VM holding it is deallocated; Attached while any is allocated.
    const allocated = vms.some((id) => {
      const vm = emu.store.get<VmRecord>(T.vm, id);
      return !vm || vm.powerState !== 'deallocated';
    });
    return allocated ? 'Attached' : 'Reserved';
  }
  return 'Unattached';
}

export function renderDisk(emu: Emulator, d: DiskRecord): any {
  const props: any = {
    creationData: d.creationData,
    diskSizeGB: d.diskSizeGB,
    diskSizeBytes: d.dataBytes,
    uniqueId: d.uniqueId,
    encryption: { type: 'EncryptionAtRestWithPlatformKey' },
    networkAccessPolicy: d.networkAccessPolicy,
    publicNetworkAccess: d.publicNetworkAccess,
    timeCreated: d.timeCreated,
    provisioningState: d.provisioningState,
    diskState: diskState(emu, d),
  };
  if (d.osType) props.osType = d.osType;
  if (d.hyperVGeneration) props.hyperVGeneration = d.hyperVGeneration;
  if (d.supportedCapabilities) props.supportedCapabilities = d.supportedCapabilities;
  if (d.kind === 'disk') {
    if (d.sku === 'PremiumV2_LRS' || d.sku === 'UltraSSD_LRS') {
      // Provisioned as asked; otherwise Premium SSD v2's free baseline (here for Ultra too, whose Azure default grows with size).
      props.diskIOPSReadWrite = d.iops ?? 3000;
      props.diskMBpsReadWrite = d.mbps ?? 125;
    } else if (d.sku.startsWith('Premium')) {
      const t = PREMIUM_TIERS.find(([max]) => d.diskSizeGB <= max) ?? PREMIUM_TIERS[PREMIUM_TIERS.length - 1];
      props.tier = t[1];
      props.diskIOPSReadWrite = t[2];
      props.diskMBpsReadWrite = t[3];
    } else {
      props.diskIOPSReadWrite = 500;
      props.diskMBpsReadWrite = 60;
    }
  } else {
    props.incremental = d.incremental === true;
    if (d.incrementalSnapshotFamilyId) props.incrementalSnapshotFamilyId = d.incrementalSnapshotFamilyId;
  }
  const out: any = {
    name: d.name,
    id: d.id,
    type: d.kind === 'disk' ? 'Microsoft.Compute/disks' : 'Microsoft.Compute/snapshots',
    location: d.location,
  };
  if (d.tags) out.tags = d.tags;
  if (d.managedBy) out.managedBy = d.managedBy;
  if ((d.maxShares ?? 1) > 1) {
    props.maxShares = d.maxShares;
    out.managedByExtended = vmsHolding(d);
    props.shareInfo = vmsHolding(d).map((vmUri) => ({ vmUri }));
  } else if (d.maxShares !== undefined) props.maxShares = d.maxShares;
  out.sku = { name: d.sku, tier: d.sku.startsWith('Premium') ? 'Premium' : 'Standard' };
  if (d.zones) out.zones = d.zones;
  out.properties = props;
  return out;
}

/** A disk or snapshot named by a source resource id. */
export function findDiskOrSnapshot(emu: Emulator, id: string): DiskRecord | undefined {
  if (isIdOfType(id, 'Microsoft.Compute', 'disks')) return emu.store.get<DiskRecord>(T.disk, id);
  if (isIdOfType(id, 'Microsoft.Compute', 'snapshots')) return emu.store.get<DiskRecord>(T.snapshot, id);
  return undefined;
}

function sizeCheck(v: unknown, target: string): number {
  if (!Number.isInteger(v) || (v as number) < 1 || (v as number) > 32767) {
    throw new ArmError(400, 'InvalidParameter', `The value '${v}' of parameter '${target}' is out of range. The value must be between '1' and '32767', inclusive.`, target);
  }
  return v as number;
}

export interface DiskPlan {
  rec: DiskRecord;
  /** Checks that need I/O (the import source), before anything is stored. */
  precheck?: () => Promise<void>;
  /** Writes the bytes; runs inside the LRO. */
  work: () => Promise<void>;
}

/**
 * An import source must be a readable page blob holding a fixed VHD (footer cookie "conectix") whose
 * virtual size is a whole number of MiB. Returns the blob size.
 */
export async function checkVhdSource(client: PageBlobClient, uri: string, target: string): Promise<number> {
  let props;
  try {
    props = await client.getProperties();
  } catch (e) {
    if (e instanceof SourceBlobError) throw new ArmError(400, 'InvalidParameter', e.message, target);
    throw new ArmError(400, 'InvalidParameter', `The source blob ${uri} is not accessible.`, target);
  }
  const size = props.contentLength ?? 0;
  if (props.blobType !== 'PageBlob') {
    throw new ArmError(400, 'InvalidParameter', `The source blob ${uri} is a ${props.blobType}; only page blobs can be imported.`, target);
  }
  const footer = size >= FOOTER_SIZE ? await client.downloadToBuffer(size - FOOTER_SIZE, FOOTER_SIZE) : Buffer.alloc(0);
  if (!isVhdFooter(footer)) {
    throw new ArmError(400, 'InvalidParameter', `The source blob ${uri} is not a fixed VHD: its last 512 bytes are not a VHD footer.`, target);
  }
  if ((size - FOOTER_SIZE) % (1024 * 1024) !== 0) {
    throw new ArmError(400, 'InvalidParameter', `The VHD ${uri} has an unsupported virtual size of ${size - FOOTER_SIZE} bytes. The size must be a whole number (in MBs).`, target);
  }
  return size;
}

/**
 * diskIOPSReadWrite / diskMBpsReadWrite of a new disk: Azure provisions them on Premium SSD v2 and Ultra
 * disks only (learn.microsoft.com, "Azure managed disk types": Premium SSD v2 3,000-80,000 IOPS and
 * 125-1,200 MB/s; Ultra 100-400,000 IOPS and 1-10,000 MB/s). Other SKUs' performance follows their
 * size and cannot be set. The per-GiB ceilings are not checked here.
 */
function provisionedPerformance(sku: string, p: any): { iops?: number; mbps?: number } {
  const iops = p.diskIOPSReadWrite;
  const mbps = p.diskMBpsReadWrite;
  if (iops === undefined && mbps === undefined) return {};
  const limits = sku === 'PremiumV2_LRS' ? { iops: [3000, 80000], mbps: [125, 1200] } : sku === 'UltraSSD_LRS' ? { iops: [100, 400000], mbps: [1, 10000] } : undefined;
  if (!limits)
    throw new ArmError(400, 'InvalidParameter', `Disk performance (diskIOPSReadWrite, diskMBpsReadWrite) can be set only on PremiumV2_LRS and UltraSSD_LRS disks, not ${sku}.`, 'diskIOPSReadWrite');
  for (const [name, v, [lo, hi]] of [
    ['diskIOPSReadWrite', iops, limits.iops],
    ['diskMBpsReadWrite', mbps, limits.mbps],
  ] as const) {
    if (v !== undefined && (!Number.isInteger(v) || v < lo || v > hi))
      throw new ArmError(400, 'InvalidParameter', `The value ${String(v)} of parameter '${name}' is not valid for ${sku}: it must be from ${lo} to ${hi}.`, name);
  }
  return { ...(iops !== undefined ? { iops } : {}), ...(mbps !== undefined ? { mbps } : {}) };
}

/** Validates a create request and returns the record plus the work that fills its blob. */
export function planCreate(ctx: Ctx, kind: 'disk' | 'snapshot', rg: string, name: string, body: any): DiskPlan {
  const emu = ctx.emu;
  const location = emu.requireLocation(body?.location);
  const id = resourceId(emu.sub, rg, 'Microsoft.Compute', kind === 'disk' ? 'disks' : 'snapshots', name);
  const p = body?.properties ?? {};
  const cd = p.creationData ?? {};
  const option: string | undefined = cd.createOption;
  const incremental = kind === 'snapshot' && p.incremental === true;
  const skus = kind === 'disk' ? DISK_SKUS : SNAPSHOT_SKUS;
  let sku: string = body?.sku?.name ?? 'Standard_LRS';
  if (!skus.includes(sku)) {
    throw new ArmError(400, 'InvalidParameter', `The value '${sku}' of parameter 'sku.name' is not valid. Allowed values: ${skus.join(', ')}.`, 'sku.name');
  }
  if (incremental && sku === 'Premium_LRS') sku = 'Standard_LRS';
  const perf = kind === 'disk' ? provisionedPerformance(sku, p) : {};
  // The size-bound limit is checked against the size the body names (an Empty disk always names one).
  const maxShares = kind === 'disk' && p.maxShares !== undefined ? maxSharesCheck(p.maxShares, sku, typeof p.diskSizeGB === 'number' ? p.diskSizeGB : undefined) : undefined;
  const uniqueId = randomUUID();
  const rec: DiskRecord = {
    kind,
    id,
    name,
    resourceGroup: rg,
    location,
    tags: tagsOf(body),
    zones: Array.isArray(body?.zones) ? body.zones : undefined,
    sku,
    osType: p.osType,
    hyperVGeneration: p.hyperVGeneration,
    creationData: { createOption: option },
    diskSizeGB: 0,
    dataBytes: 0,
    uniqueId,
    timeCreated: new Date().toISOString(),
    provisioningState: 'Updating',
    blobName: `${kind === 'disk' ? 'disks' : 'snapshots'}/${uniqueId}.vhd`,
    networkAccessPolicy: p.networkAccessPolicy ?? 'AllowAll',
    publicNetworkAccess: p.publicNetworkAccess ?? 'Enabled',
    supportedCapabilities: p.supportedCapabilities,
    incremental: kind === 'snapshot' ? incremental : undefined,
    ...perf,
    ...(maxShares !== undefined ? { maxShares } : {}),
  };
  const blobs = emu.blobs;
  switch (option) {
    case 'Empty': {
      if (kind === 'snapshot') throw new ArmError(400, 'InvalidParameter', "Snapshots cannot be created with createOption 'Empty'.", 'creationData.createOption');
      rec.diskSizeGB = sizeCheck(p.diskSizeGB, 'diskSizeGB');
      rec.dataBytes = rec.diskSizeGB * GiB;
      return { rec, work: () => blobs.createDisk(rec.blobName, rec.dataBytes) };
    }
    case 'Copy': {
      const srcId = cd.sourceResourceId;
      if (typeof srcId !== 'string') throw new ArmError(400, 'InvalidParameter', "Required parameter 'sourceResourceId' is missing (null).", 'creationData.sourceResourceId');
      const src = findDiskOrSnapshot(emu, srcId);
      if (!src) throw new ArmError(404, 'NotFound', `Resource ${srcId} is not found.`, 'creationData.sourceResourceId');
      if (src.provisioningState !== 'Succeeded') throw conflict(`Source resource ${src.id} is not ready (provisioningState ${src.provisioningState}).`);
      if (src.awaitingUpload) throw operationNotAllowed(`Source disk ${src.id} has not been uploaded yet.`);
      const size = p.diskSizeGB === undefined ? src.diskSizeGB : sizeCheck(p.diskSizeGB, 'diskSizeGB');
      if (size < src.diskSizeGB) {
        throw new ArmError(400, 'BadRequest', `Disk size ${size} GB is smaller than the source size ${src.diskSizeGB} GB. Disk size reduction is not supported.`, 'diskSizeGB');
      }
      rec.diskSizeGB = size;
      rec.dataBytes = size === src.diskSizeGB ? src.dataBytes : size * GiB;
      rec.osType = rec.osType ?? src.osType;
      rec.hyperVGeneration = rec.hyperVGeneration ?? src.hyperVGeneration;
      rec.creationData = { createOption: 'Copy', sourceResourceId: src.id, sourceUniqueId: src.uniqueId };
      if (incremental) {
        const base = src.kind === 'disk' ? src : undefined;
        rec.incrementalSnapshotFamilyId = base ? familyId(emu, base) : src.incrementalSnapshotFamilyId;
      }
      const srcBlob = src.blobName;
      return { rec, work: () => blobs.copyToDisk(blobs.blob(srcBlob), rec.blobName, rec.dataBytes) };
    }
    case 'Import': {
      const uri = cd.sourceUri;
      if (typeof uri !== 'string') throw new ArmError(400, 'InvalidParameter', "Required parameter 'sourceUri' is missing (null).", 'creationData.sourceUri');
      // storageAccountId names the account of a blob in another subscription; Microsoft's own
      // same-subscription examples omit it, so it is optional here.
      rec.creationData = { createOption: 'Import', sourceUri: uri, ...(typeof cd.storageAccountId === 'string' ? { storageAccountId: cd.storageAccountId } : {}) };
      let client;
      try {
        client = blobs.sourceClient(uri);
      } catch (e) {
        throw new ArmError(400, 'InvalidParameter', (e as Error).message, 'creationData.sourceUri');
      }
      let size = 0;
      return {
        rec,
        // ARM checks the source when the request arrives: it must be a fixed VHD page blob.
        precheck: async () => {
          size = await checkVhdSource(client, uri, 'creationData.sourceUri');
          const dataBytes = size - FOOTER_SIZE;
          const gb = Math.max(1, Math.ceil(dataBytes / GiB));
          rec.diskSizeGB = p.diskSizeGB !== undefined ? Math.max(gb, sizeCheck(p.diskSizeGB, 'diskSizeGB')) : gb;
          rec.dataBytes = p.diskSizeGB !== undefined ? rec.diskSizeGB * GiB : dataBytes;
        },
        work: () => blobs.copyToDisk(client, rec.blobName, rec.dataBytes),
      };
    }
    case 'Upload': {
      if (kind === 'snapshot') throw new ArmError(400, 'InvalidParameter', "Snapshots cannot be created with createOption 'Upload'.", 'creationData.createOption');
      const n = cd.uploadSizeBytes;
      if (!Number.isInteger(n) || n < MIN_UPLOAD || n > MAX_UPLOAD || (n - 512) % (1024 * 1024) !== 0) {
        throw new ArmError(
          400,
          'InvalidParameter',
          `The value '${n}' of parameter 'uploadSizeBytes' is invalid: it must be between ${MIN_UPLOAD} and ${MAX_UPLOAD} bytes (including the 512-byte VHD footer) and the virtual size must be a whole number of MiB.`,
          'creationData.uploadSizeBytes',
        );
      }
      rec.creationData = { createOption: 'Upload', uploadSizeBytes: n };
      rec.dataBytes = n - FOOTER_SIZE;
      rec.diskSizeGB = Math.ceil(rec.dataBytes / GiB);
      rec.awaitingUpload = true;
      return { rec, work: () => blobs.createRaw(rec.blobName, n) };
    }
    case 'FromImage': {
      if (kind === 'snapshot') throw new ArmError(400, 'InvalidParameter', "Snapshots cannot be created with createOption 'FromImage'.", 'creationData.createOption');
      const imgId = cd.imageReference?.id;
      if (typeof imgId !== 'string') throw new ArmError(400, 'InvalidParameter', "Required parameter 'imageReference.id' is missing (null).", 'creationData.imageReference');
      const m = parseMarketplaceImageId(imgId);
      if (m) {
        const { image, version } = resolveMarketplaceImage(emu, m);
        rec.osType = image.osType;
        rec.hyperVGeneration = image.hyperVGeneration;
        rec.diskSizeGB = p.diskSizeGB !== undefined ? sizeCheck(p.diskSizeGB, 'diskSizeGB') : image.osDiskSizeGB;
        if (rec.diskSizeGB < image.osDiskSizeGB) {
          throw new ArmError(
            400,
            'InvalidParameter',
            `The specified disk size ${rec.diskSizeGB} GB is smaller than the size of the corresponding disk in the VM image: ${image.osDiskSizeGB} GB.`,
            'diskSizeGB',
          );
        }
        rec.dataBytes = rec.diskSizeGB * GiB;
        rec.creationData = { createOption: 'FromImage', imageReference: { id: imgId } };
        return { rec, work: () => blobs.createDisk(rec.blobName, rec.dataBytes, marketplaceBootSector(image, version)) };
      }
      const img = isIdOfType(imgId, 'Microsoft.Compute', 'images') ? emu.store.get<ImageRecord>(T.image, imgId) : undefined;
      if (!img) throw new ArmError(404, 'NotFound', `Resource ${imgId} is not found.`, 'creationData.imageReference');
      rec.osType = img.osType;
      rec.hyperVGeneration = img.hyperVGeneration;
      rec.diskSizeGB = Math.max(img.osDisk.diskSizeGB, p.diskSizeGB ?? 0);
      rec.dataBytes = rec.diskSizeGB * GiB;
      rec.creationData = { createOption: 'FromImage', imageReference: { id: img.id } };
      return { rec, work: () => blobs.copyToDisk(blobs.blob(img.osDisk.blobName), rec.blobName, rec.dataBytes) };
    }
    case undefined:
      throw new ArmError(400, 'InvalidParameter', "Required parameter 'creationData.createOption' is missing (null).", 'creationData.createOption');
    default:
      throw new ArmError(
        400,
        'InvalidParameter',
        `The value '${option}' of parameter 'creationData.createOption' is not supported by this emulator (supported: Empty, Copy, Import, Upload, FromImage).`,
        'creationData.createOption',
      );
  }
}

function familyId(emu: Emulator, disk: DiskRecord): string {
  const existing = emu.store.list<DiskRecord>(T.snapshot).find((s) => s.incrementalSnapshotFamilyId && sameId(s.creationData?.sourceResourceId, disk.id));
  return existing?.incrementalSnapshotFamilyId ?? randomUUID();
}

/** Runs a DiskRP LRO that ends by marking the record Succeeded (or Failed). */
export function diskOperation(ctx: Ctx, rec: DiskRecord, name: string, work: () => Promise<unknown> | unknown, finalProvisioning = true) {
  return ctx.emu.ops.start(ctx, {
    kind: 'disk',
    name,
    resourceId: rec.id,
    location: rec.location,
    work: async () => {
      const r = await work();
      if (!finalProvisioning) return r;
      rec.provisioningState = 'Succeeded';
      // DiskRP's Location URL (final-state-via: location) answers with the resource itself.
      return renderDisk(ctx.emu, rec);
    },
    onFailed: () => {
      if (finalProvisioning) rec.provisioningState = 'Failed';
    },
  });
}

function getRecord(ctx: Ctx, kind: 'disk' | 'snapshot'): DiskRecord {
  const rg = ctx.emu.requireRg(ctx.params.rg);
  const rec = ctx.emu.store.get<DiskRecord>(typeName(kind), resourceId(ctx.emu.sub, rg, 'Microsoft.Compute', kind === 'disk' ? 'disks' : 'snapshots', ctx.params.name));
  if (!rec) throw notFound(kind === 'disk' ? 'Microsoft.Compute/disks' : 'Microsoft.Compute/snapshots', ctx.params.name, rg);
  return rec;
}

function attachedRunningVm(emu: Emulator, d: DiskRecord): VmRecord | undefined {
  for (const id of vmsHolding(d)) {
    const vm = emu.store.get<VmRecord>(T.vm, id);
    if (vm && vm.powerState !== 'deallocated') return vm;
  }
  return undefined;
}

const FOUR_TIB_GB = 4096;

/**
 * Whether Azure grows this disk while its VM is allocated (learn.microsoft.com, "Expand virtual hard
 * disks attached to a Windows VM" / "... Linux VM", Expand without downtime): only a data disk; not an
 * Ultra or Premium SSD v2 disk; not a disk of 4 TiB or less grown beyond 4 TiB (one already larger
 * grows); never a shared disk (disks-shared, "A shared disk can't be expanded without either
 * deallocating all VMs the disk is attached to, or detaching the disk from all of these VMs"). Not
 * modelled: the classic VM sizes without
 * the feature (every size the emulator offers reports HyperVGenerations V2, which the docs' check accepts).
 */
function expandsWithoutDowntime(vm: VmRecord, d: DiskRecord, newSizeGB: number): boolean {
  if (!vm.dataDisks.some((x) => sameId(x.diskId, d.id))) return false;
  if ((d.maxShares ?? 1) > 1) return false;
  if (d.sku === 'UltraSSD_LRS' || d.sku === 'PremiumV2_LRS') return false;
  return !(d.diskSizeGB <= FOUR_TIB_GB && newSizeGB > FOUR_TIB_GB);
}

/**
 * PUT on an existing record or PATCH: resize (of a disk its VM holds allocated only as Expand without
 * downtime allows), sku, tags, and the provisioned IOPS and MB/s of a Premium
 * SSD v2 or Ultra disk (which Azure changes while the disk is attached, even to a running VM);
 * creation data cannot change.
 */
function planUpdate(ctx: Ctx, rec: DiskRecord, body: any, isPut: boolean): () => Promise<void> {
  const emu = ctx.emu;
  const p = body?.properties ?? {};
  if (isPut && p.creationData?.createOption && p.creationData.createOption !== rec.creationData.createOption) {
    throw new ArmError(409, 'PropertyChangeNotAllowed', "Changing property 'creationData.createOption' is not allowed.", 'creationData.createOption');
  }
  let newSize: number | undefined;
  if (p.diskSizeGB !== undefined && p.diskSizeGB !== rec.diskSizeGB) {
    const size = sizeCheck(p.diskSizeGB, 'diskSizeGB');
    if (size < rec.diskSizeGB) {
      throw new ArmError(400, 'BadRequest', `Disk size reduction is not supported. Current size is ${rec.diskSizeGB} GB, requested size is ${size} GB.`, 'diskSizeGB');
    }
    if (rec.kind === 'snapshot') throw new ArmError(409, 'PropertyChangeNotAllowed', "Changing property 'diskSizeGB' is not allowed.", 'diskSizeGB');
    const vm = attachedRunningVm(emu, rec);
    if (vm && !expandsWithoutDowntime(vm, rec, size)) {
      throw new ArmError(409, 'Conflict', 'Disk resizing is allowed only when creating a VM or when the VM is deallocated.', 'diskSizeGB');
    }
    if (rec.access) throw new ArmError(409, 'OperationNotAllowed', `Disk '${rec.name}' has an active SAS URI; revoke access before resizing.`, 'diskSizeGB');
    newSize = size;
  }
  const newSku: string | undefined = body?.sku?.name;
  if (newSku && newSku !== rec.sku) {
    const skus = rec.kind === 'disk' ? DISK_SKUS : SNAPSHOT_SKUS;
    if (!skus.includes(newSku)) throw new ArmError(400, 'InvalidParameter', `The value '${newSku}' of parameter 'sku.name' is not valid.`, 'sku.name');
    if (attachedRunningVm(emu, rec)) {
      throw new ArmError(409, 'OperationNotAllowed', `Disk '${rec.name}' is attached to a running VM; changing the account type requires the VM to be deallocated.`, 'sku.name');
    }
  }
  const perf = rec.kind === 'disk' ? provisionedPerformance(newSku ?? rec.sku, p) : {};
  let maxShares: number | undefined;
  if (rec.kind === 'disk' && p.maxShares !== undefined && p.maxShares !== (rec.maxShares ?? 1)) {
    maxShares = maxSharesCheck(p.maxShares, newSku ?? rec.sku, newSize ?? rec.diskSizeGB);
    // disks-shared: maxShares changes only on a disk detached from every VM.
    if (vmsHolding(rec).length > 0) {
      throw new ArmError(409, 'OperationNotAllowed', `Disk '${rec.name}' is attached to a VM; maxShares can be changed only when the disk is detached from all VMs.`, 'maxShares');
    }
  } else if (rec.kind === 'disk' && (newSku || newSize !== undefined) && (rec.maxShares ?? 1) > 1) {
    maxSharesCheck(rec.maxShares, newSku ?? rec.sku, newSize ?? rec.diskSizeGB);
  }
  if (maxShares !== undefined) rec.maxShares = maxShares;
  if (body?.tags !== undefined) rec.tags = tagsOf(body);
  if (newSku) rec.sku = newSku;
  if (perf.iops !== undefined) rec.iops = perf.iops;
  if (perf.mbps !== undefined) rec.mbps = perf.mbps;
  if (p.networkAccessPolicy) rec.networkAccessPolicy = p.networkAccessPolicy;
  if (p.publicNetworkAccess) rec.publicNetworkAccess = p.publicNetworkAccess;
  rec.provisioningState = 'Updating';
  return async () => {
    if (newSize !== undefined) {
      const oldData = rec.dataBytes;
      const newData = newSize * GiB;
      await emu.blobs.resizeDisk(rec.blobName, oldData, newData);
      rec.diskSizeGB = newSize;
      rec.dataBytes = newData;
    }
  };
}

async function grant(ctx: Ctx, rec: DiskRecord): Promise<Reply> {
  const emu = ctx.emu;
  const access = ctx.body?.access;
  const seconds = ctx.body?.durationInSeconds;
  if (!['Read', 'Write', 'None'].includes(access)) {
    throw new ArmError(400, 'InvalidParameter', `The value '${access}' of parameter 'access' is not valid. Allowed values: None, Read, Write.`, 'access');
  }
  if (!Number.isInteger(seconds) || seconds < 1) {
    throw new ArmError(400, 'InvalidParameter', "Required parameter 'durationInSeconds' is missing or invalid.", 'durationInSeconds');
  }
  if (rec.provisioningState !== 'Succeeded') throw conflict(`${rec.kind === 'disk' ? 'Disk' : 'Snapshot'} '${rec.name}' is ${rec.provisioningState}.`);
  if (access === 'Write' && !rec.awaitingUpload) {
    throw operationNotAllowed(`Write access can only be granted to disks in the ReadyToUpload state; disk '${rec.name}' is in state ${diskState(emu, rec)}.`, 'access');
  }
  if (access === 'Read' && rec.awaitingUpload) {
    throw operationNotAllowed(`Disk '${rec.name}' is in state ReadyToUpload; only Write access can be granted.`, 'access');
  }
  // Export of an attached disk needs its VM deallocated (a stopped VM still holds it).
  const vm = attachedRunningVm(emu, rec);
  if (access === 'Read' && vm) {
    throw new ArmError(
      409,
      'Conflict',
      `Cannot grant access to disk '${rec.name}' because it is attached to VM '${vm.id}' which is ${vm.powerState}. Deallocate the VM, or take a snapshot and export that.`,
    );
  }
  const previous = rec.access;
  const op = diskOperation(
    ctx,
    rec,
    'grantAccess',
    async () => {
      if (previous) await revokeBlobs(emu, rec, previous, false);
      if (access === 'None') {
        rec.access = undefined;
        return undefined;
      }
      if (access === 'Read') {
        const g = await emu.blobs.grantRead(rec.blobName, seconds);
        rec.access = { access: 'Read', snapshot: g.snapshot, url: g.url };
      } else {
        const staging = `uploads/${rec.uniqueId}-${randomUUID()}.vhd`;
        await emu.blobs.createRaw(staging, rec.dataBytes + FOOTER_SIZE);
        const url = await emu.blobs.sasUrl(staging, 'rw', seconds);
        rec.access = { access: 'Write', staging, url };
      }
      return { accessSAS: rec.access.url };
    },
    false,
  );
  return accepted(ctx, op);
}

/** Drops a granted access; for uploads, moves the written pages into the disk's blob. */
async function revokeBlobs(emu: Emulator, rec: DiskRecord, a: NonNullable<DiskRecord['access']>, commitUpload: boolean): Promise<void> {
  if (a.snapshot) await emu.blobs.revokeSnapshot(rec.blobName, a.snapshot);
  if (a.staging) {
    if (commitUpload) {
      await emu.blobs.copyRanges(emu.blobs.blob(a.staging), emu.blobs.blob(rec.blobName), rec.dataBytes + FOOTER_SIZE);
      rec.awaitingUpload = false;
    }
    await emu.blobs.delete(a.staging);
  }
}

function revoke(ctx: Ctx, rec: DiskRecord): Reply {
  const a = rec.access;
  const op = diskOperation(
    ctx,
    rec,
    'revokeAccess',
    async () => {
      if (a) await revokeBlobs(ctx.emu, rec, a, true);
      rec.access = undefined;
    },
    false,
  );
  return accepted(ctx, op);
}

export async function deleteDiskBlobs(emu: Emulator, rec: DiskRecord): Promise<void> {
  if (rec.access?.staging) await emu.blobs.delete(rec.access.staging);
  await emu.blobs.delete(rec.blobName);
}

function register(r: Router, kind: 'disk' | 'snapshot'): void {
  const plural = kind === 'disk' ? 'disks' : 'snapshots';
  const op = kind === 'disk' ? 'Disks' : 'Snapshots';
  const base = `/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Compute/${plural}`;
  const type = typeName(kind);
  r.add('GET', `/subscriptions/{sub}/providers/Microsoft.Compute/${plural}`, 'disk', (ctx) => list(ctx.emu.store.list<DiskRecord>(type).map((d) => renderDisk(ctx.emu, d))), `${op}_List`);
  r.add('GET', base, 'disk', (ctx) => list(ctx.emu.store.list<DiskRecord>(type, ctx.emu.requireRg(ctx.params.rg)).map((d) => renderDisk(ctx.emu, d))), `${op}_ListByResourceGroup`);
  r.add('GET', `${base}/{name}`, 'disk', (ctx) => ok(renderDisk(ctx.emu, getRecord(ctx, kind))), `${op}_Get`);
  r.add(
    'PUT',
    `${base}/{name}`,
    'disk',
    async (ctx) => {
      const emu = ctx.emu;
      const rg = emu.requireRg(ctx.params.rg);
      const id = resourceId(emu.sub, rg, 'Microsoft.Compute', plural, ctx.params.name);
      const existing = emu.store.get<DiskRecord>(type, id);
      if (existing) {
        if (emu.ops.inProgressFor(existing.id)) throw conflict(`An operation is already in progress on ${kind} '${existing.name}'.`);
        emu.requireLocation(ctx.body?.location);
        const work = planUpdate(ctx, existing, ctx.body, true);
        const o = diskOperation(ctx, existing, 'update', work);
        return accepted(ctx, o, renderDisk(emu, existing));
      }
      const plan = planCreate(ctx, kind, rg, ctx.params.name, ctx.body);
      if (plan.precheck) await plan.precheck();
      emu.store.put(type, plan.rec);
      const o = diskOperation(ctx, plan.rec, 'create', plan.work);
      return accepted(ctx, o, renderDisk(emu, plan.rec));
    },
    `${op}_CreateOrUpdate`,
  );
  r.add(
    'PATCH',
    `${base}/{name}`,
    'disk',
    (ctx) => {
      const rec = getRecord(ctx, kind);
      if (ctx.emu.ops.inProgressFor(rec.id)) throw conflict(`An operation is already in progress on ${kind} '${rec.name}'.`);
      const work = planUpdate(ctx, rec, ctx.body, false);
      const o = diskOperation(ctx, rec, 'update', work);
      return accepted(ctx, o, renderDisk(ctx.emu, rec));
    },
    `${op}_Update`,
  );
  r.add(
    'DELETE',
    `${base}/{name}`,
    'disk',
    (ctx) => {
      const emu = ctx.emu;
      const rg = emu.requireRg(ctx.params.rg);
      const rec = emu.store.get<DiskRecord>(type, resourceId(emu.sub, rg, 'Microsoft.Compute', plural, ctx.params.name));
      if (!rec) return noContent;
      if (rec.managedBy) {
        throw new ArmError(409, 'OperationNotAllowed', `Disk ${rec.name} is attached to VM ${rec.managedBy}.`);
      }
      const o = ctx.emu.ops.start(ctx, {
        kind: 'disk',
        name: 'delete',
        resourceId: rec.id,
        location: rec.location,
        work: async () => {
          emu.store.delete(type, rec.id);
          await deleteDiskBlobs(emu, rec);
        },
      });
      return accepted(ctx, o);
    },
    `${op}_Delete`,
  );
  r.add('POST', `${base}/{name}/beginGetAccess`, 'disk', (ctx) => grant(ctx, getRecord(ctx, kind)), `${op}_GrantAccess`);
  r.add('POST', `${base}/{name}/endGetAccess`, 'disk', (ctx) => revoke(ctx, getRecord(ctx, kind)), `${op}_RevokeAccess`);
}

export function registerDisks(r: Router): void {
  register(r, 'disk');
  register(r, 'snapshot');
}
