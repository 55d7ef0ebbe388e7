/** Location-scoped Compute reads: usages (quota), vmSizes, resource SKUs, marketplace image lookups. */
import { ArmError } from '../arm/errors';
import type { Ctx } from '../arm/http';
import { list, ok } from '../arm/http';
import type { Router } from '../arm/router';
import type { Emulator } from '../emulator';
import { findMarketplaceImages, marketplaceImageId, renderSize } from './catalog';
import { coresInUse } from './vmPlan';

const LOC = '/subscriptions/{sub}/providers/Microsoft.Compute/locations/{location}';
const IMG = `${LOC}/publishers/{publisher}/artifacttypes/vmimage/offers`;

function requireLoc(ctx: Ctx): string {
  const loc = ctx.params.location.toLowerCase();
  if (loc !== ctx.emu.location) {
    throw new ArmError(404, 'NoRegisteredProviderFound', `No registered resource provider found for location '${ctx.params.location}' and API version '${ctx.apiVersion}'.`);
  }
  return loc;
}

function usage(value: string, localized: string, current: number, limit: number): any {
  return { unit: 'Count', currentValue: current, limit, name: { value, localizedValue: localized } };
}

export function usages(emu: Emulator): any[] {
  const used = coresInUse(emu);
  const seed = emu.cfg.seed;
  const families = [...new Set(seed.vmSizes.map((s) => s.family))];
  return [
    usage('availabilitySets', 'Availability Sets', 0, 2500),
    usage('cores', 'Total Regional vCPUs', used.total, seed.coresQuota),
    usage('virtualMachines', 'Virtual Machines', used.vms, seed.virtualMachinesQuota),
    usage('virtualMachineScaleSets', 'Virtual Machine Scale Sets', 0, 2500),
    ...families.map((f) => usage(f, `Standard ${f.replace(/^standard/, '').replace(/Family$/, '')} Family vCPUs`, used.byFamily.get(f) ?? 0, seed.familyQuotas[f] ?? seed.coresQuota)),
  ];
}

export function registerLocations(r: Router): void {
  r.add(
    'GET',
    `${LOC}/usages`,
    'compute',
    (ctx) => {
      requireLoc(ctx);
      return list(usages(ctx.emu));
    },
    'Usage_List',
  );
  r.add(
    'GET',
    `${LOC}/vmSizes`,
    'compute',
    (ctx) => {
      requireLoc(ctx);
      return list(ctx.emu.cfg.seed.vmSizes.map(renderSize));
    },
    'VirtualMachineSizes_List',
  );
  r.add('GET', '/subscriptions/{sub}/providers/Microsoft.Compute/skus', 'skus', (ctx) => {
    const emu = ctx.emu;
    const filter = ctx.query.get('$filter');
    if (filter) {
      const m = /location\s+eq\s+'([^']+)'/i.exec(filter);
      if (m && m[1].toLowerCase() !== emu.location) return list([]);
    }
    const restriction = (name: string) =>
      emu.cfg.seed.restrictedVmSizes.includes(name) ? [{ type: 'Location', values: [emu.location], restrictionInfo: { locations: [emu.location] }, reasonCode: 'NotAvailableForSubscription' }] : [];
    const skus = [
      ...emu.cfg.seed.vmSizes.map((s) => ({
        resourceType: 'virtualMachines',
        name: s.name,
        tier: 'Standard',
        size: s.name.replace(/^Standard_/, ''),
        family: s.family,
        locations: [emu.location],
        locationInfo: [{ location: emu.location, zones: ['1', '2', '3'], zoneDetails: [] }],
        capabilities: [
          { name: 'vCPUs', value: String(s.numberOfCores) },
          { name: 'MemoryGB', value: String(s.memoryInMB / 1024) },
          { name: 'MaxDataDiskCount', value: String(s.maxDataDiskCount) },
          { name: 'OSVhdSizeMB', value: String(s.osDiskSizeInMB) },
          { name: 'MaxResourceVolumeMB', value: String(s.resourceDiskSizeInMB) },
          { name: 'PremiumIO', value: /^Standard_[A-Z]+\d+[a-rt-z]*s/i.test(s.name) ? 'True' : 'False' },
          { name: 'HyperVGenerations', value: 'V1,V2' },
          { name: 'HibernationSupported', value: 'True' },
        ],
        restrictions: [],
      })),
      ...emu.cfg.seed.restrictedVmSizes.map((name) => ({
        resourceType: 'virtualMachines',
        name,
        tier: 'Standard',
        size: name.replace(/^Standard_/, ''),
        locations: [emu.location],
        locationInfo: [{ location: emu.location, zones: [], zoneDetails: [] }],
        capabilities: [],
        restrictions: restriction(name),
      })),
    ];
    return list(skus);
  });
  r.add(
    'GET',
    `${LOC}/publishers`,
    'compute',
    (ctx) => {
      requireLoc(ctx);
      const names = [...new Set(ctx.emu.cfg.seed.marketplaceImages.map((i) => i.publisher))];
      return ok(names.map((name) => ({ name, location: ctx.emu.location, id: `/Subscriptions/${ctx.emu.sub}/Providers/Microsoft.Compute/Locations/${ctx.emu.location}/Publishers/${name}` })));
    },
    'VirtualMachineImages_ListPublishers',
  );
  r.add(
    'GET',
    IMG,
    'compute',
    (ctx) => {
      requireLoc(ctx);
      const imgs = findMarketplaceImages(ctx.emu, ctx.params.publisher);
      const names = [...new Set(imgs.map((i) => i.offer))];
      return ok(
        names.map((name) => ({
          name,
          location: ctx.emu.location,
          id: `/Subscriptions/${ctx.emu.sub}/Providers/Microsoft.Compute/Locations/${ctx.emu.location}/Publishers/${imgs[0].publisher}/ArtifactTypes/VMImage/Offers/${name}`,
        })),
      );
    },
    'VirtualMachineImages_ListOffers',
  );
  r.add(
    'GET',
    `${IMG}/{offer}/skus`,
    'compute',
    (ctx) => {
      requireLoc(ctx);
      const imgs = findMarketplaceImages(ctx.emu, ctx.params.publisher, ctx.params.offer);
      return ok(
        imgs.map((i) => ({
          name: i.sku,
          location: ctx.emu.location,
          id: `/Subscriptions/${ctx.emu.sub}/Providers/Microsoft.Compute/Locations/${ctx.emu.location}/Publishers/${i.publisher}/ArtifactTypes/VMImage/Offers/${i.offer}/Skus/${i.sku}`,
        })),
      );
    },
    'VirtualMachineImages_ListSkus',
  );
  r.add(
    'GET',
    `${IMG}/{offer}/skus/{sku}/versions`,
    'compute',
    (ctx) => {
      requireLoc(ctx);
      const img = findMarketplaceImages(ctx.emu, ctx.params.publisher, ctx.params.offer, ctx.params.sku)[0];
      if (!img) return ok([]);
      let versions = [...img.versions];
      const order = ctx.query.get('$orderby');
      if (order && /name\s+desc/i.test(order)) versions.reverse();
      const top = ctx.query.get('$top');
      if (top !== null && Number.isInteger(Number(top))) versions = versions.slice(0, Number(top));
      return ok(versions.map((v) => ({ name: v, location: ctx.emu.location, id: marketplaceImageId(ctx.emu, img, v) })));
    },
    'VirtualMachineImages_List',
  );
  r.add(
    'GET',
    `${IMG}/{offer}/skus/{sku}/versions/{version}`,
    'compute',
    (ctx) => {
      requireLoc(ctx);
      const img = findMarketplaceImages(ctx.emu, ctx.params.publisher, ctx.params.offer, ctx.params.sku)[0];
      const version = ctx.params.version === 'latest' && img ? img.versions[img.versions.length - 1] : ctx.params.version;
      if (!img || !img.versions.includes(version)) {
        throw new ArmError(404, 'NotFound', `Artifact: VMImage was not found.`);
      }
      return ok({
        name: version,
        location: ctx.emu.location,
        id: marketplaceImageId(ctx.emu, img, version),
        properties: {
          osDiskImage: { operatingSystem: img.osType },
          dataDiskImages: [],
          automaticOSUpgradeProperties: { automaticOSUpgradeSupported: false },
          hyperVGeneration: img.hyperVGeneration,
          disallowed: { vmDiskType: 'None' },
          features: [
            { name: 'IsAcceleratedNetworkSupported', value: 'True' },
            { name: 'DiskControllerTypes', value: 'SCSI, NVMe' },
          ],
          architecture: 'x64',
          imageDeprecationStatus: { imageState: 'Active' },
        },
      });
    },
    'VirtualMachineImages_Get',
  );
}
