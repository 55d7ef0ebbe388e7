/** VM sizes and marketplace images the emulator offers (from its seed). */
import { ArmError } from '../arm/errors';
import type { Emulator } from '../emulator';
import type { MarketplaceImageSeed, VmSizeSeed } from '../config';

export const GiB = 1024 * 1024 * 1024;

export function findSize(emu: Emulator, name: string): VmSizeSeed | undefined {
  return emu.cfg.seed.vmSizes.find((s) => s.name.toLowerCase() === String(name).toLowerCase());
}

/** The size, or SkuNotAvailable (known but restricted here) / InvalidParameter (unknown). */
export function requireSize(emu: Emulator, name: unknown): VmSizeSeed {
  if (typeof name !== 'string' || !name) {
    throw new ArmError(400, 'InvalidParameter', "Required parameter 'hardwareProfile.vmSize' is missing (null).", 'hardwareProfile.vmSize');
  }
  const s = findSize(emu, name);
  if (s) return s;
  if (emu.cfg.seed.restrictedVmSizes.some((r) => r.toLowerCase() === name.toLowerCase())) {
    throw new ArmError(
      409,
      'SkuNotAvailable',
      `The requested VM size for resource 'Following SKUs have failed for Capacity Restrictions: ${name}' is currently not available in location '${emu.location}'. Please try another size or deploy to a different location or different zone. See https://aka.ms/azureskunotavailable for details.`,
    );
  }
  throw new ArmError(
    400,
    'InvalidParameter',
    `The value ${name} provided for the VM size is not valid. The valid sizes in the current region are: ${emu.cfg.seed.vmSizes.map((x) => x.name).join(',')}.`,
    'vmSize',
  );
}

export function isPremiumCapable(size: string): boolean {
  return /^Standard_[A-Z]+\d+[a-rt-z]*s/i.test(size);
}

export function renderSize(s: VmSizeSeed): any {
  return {
    name: s.name,
    numberOfCores: s.numberOfCores,
    osDiskSizeInMB: s.osDiskSizeInMB,
    resourceDiskSizeInMB: s.resourceDiskSizeInMB,
    memoryInMB: s.memoryInMB,
    maxDataDiskCount: s.maxDataDiskCount,
  };
}

export interface ResolvedMarketplaceImage {
  image: MarketplaceImageSeed;
  version: string;
}

export function findMarketplaceImages(emu: Emulator, publisher?: string, offer?: string, sku?: string): MarketplaceImageSeed[] {
  const eq = (a: string, b?: string) => b === undefined || a.toLowerCase() === b.toLowerCase();
  return emu.cfg.seed.marketplaceImages.filter((i) => eq(i.publisher, publisher) && eq(i.offer, offer) && eq(i.sku, sku));
}

export function resolveMarketplaceImage(emu: Emulator, ref: { publisher?: string; offer?: string; sku?: string; version?: string }): ResolvedMarketplaceImage {
  const { publisher, offer, sku } = ref;
  const version = ref.version ?? 'latest';
  const urn = `${publisher}:${offer}:${sku}:${version}`;
  const notFound = new ArmError(
    404,
    'PlatformImageNotFound',
    `The platform image '${urn}' is not available. Verify that all fields in the storage profile are correct. For more details about storage profile information, please refer to https://aka.ms/storageprofile`,
    'imageReference',
  );
  if (!publisher || !offer || !sku) throw notFound;
  const image = findMarketplaceImages(emu, publisher, offer, sku)[0];
  if (!image) throw notFound;
  if (version.toLowerCase() === 'latest') return { image, version: image.versions[image.versions.length - 1] };
  const v = image.versions.find((x) => x === version);
  if (!v) throw notFound;
  return { image, version: v };
}

export function marketplaceImageId(emu: Emulator, i: MarketplaceImageSeed, version: string): string {
  return `/Subscriptions/${emu.sub}/Providers/Microsoft.Compute/Locations/${emu.location}/Publishers/${i.publisher}/ArtifactTypes/VMImage/Offers/${i.offer}/Skus/${i.sku}/Versions/${version}`;
}

/** Parses a marketplace image version id (as used by DiskRP FromImage). */
export function parseMarketplaceImageId(id: string): { publisher: string; offer: string; sku: string; version: string } | undefined {
  const m = /\/publishers\/([^/]+)\/artifacttypes\/vmimage\/offers\/([^/]+)\/skus\/([^/]+)\/versions\/([^/]+)$/i.exec(id);
  return m ? { publisher: m[1], offer: m[2], sku: m[3], version: m[4] } : undefined;
}

/** First sector written into OS disks made from a marketplace image, so copies can be traced. */
export function marketplaceBootSector(i: MarketplaceImageSeed, version: string): Buffer {
  return Buffer.from(`JACKET-EMULATOR OS DISK\nimage=${i.publisher}:${i.offer}:${i.sku}:${version}\nosType=${i.osType}\n`, 'utf8');
}
