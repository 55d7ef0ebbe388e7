// /os-availability-zone: Nova's availability zones, one per configured Azure zone of the region, or the
// single zone "nova" (Nova's default zone name) when the operator configures none: VMs are then created
// without an Azure zone. The servers module maps a requested zone through zoneByName.
import type { RequestContext, Route } from '../../http/router';
import type { JacketConfig } from '../../config';
import { ConfigError } from '../../config';
import { json } from '../../http/respond';
import { computeRoute } from '../common';

export interface AvailabilityZone {
  /** The Nova zone name users see. */
  name: string;
  /** The Azure zone ("1", "2", "3") of config.azure.location, or undefined for a zoneless region. */
  azureZone?: string;
}

export const DEFAULT_ZONE = 'nova';

/**
 * config.catalog.availability_zones: [{ "name": "az1", "azure_zone": "1" }, ...]. Absent: [{ name: "nova" }].
 * Names follow Nova's az_name format (no ':' and no leading/trailing blanks).
 */
export function availabilityZones(cfg: JacketConfig): AvailabilityZone[] {
  const raw = cfg.catalog.availability_zones;
  if (raw === undefined) return [{ name: DEFAULT_ZONE }];
  if (!Array.isArray(raw) || raw.length === 0) throw new ConfigError('catalog.availability_zones must be a non-empty array');
  const names = new Set<string>();
  const azure = new Set<string>();
  const zones = raw.map((z, i): AvailabilityZone => {
    const where = `catalog.availability_zones[${i}]`;
    if (typeof z !== 'object' || z === null) throw new ConfigError(`${where} must be an object`);
    const { name, azure_zone: az } = z as { name?: unknown; azure_zone?: unknown };
    if (typeof name !== 'string' || name.length === 0 || name.length > 255 || name.trim() !== name || name.includes(':')) {
      throw new ConfigError(`${where}.name must be a zone name (1-255 characters, no ':' and no leading or trailing blanks)`);
    }
    if (az !== undefined && (typeof az !== 'string' || !/^[1-9]$/.test(az))) throw new ConfigError(`${where}.azure_zone must be an Azure zone number such as "1"`);
    if (names.has(name)) throw new ConfigError(`${where}.name ${name} is used twice`);
    if (az !== undefined && azure.has(az)) throw new ConfigError(`${where}.azure_zone ${az} is used twice`);
    names.add(name);
    if (az !== undefined) azure.add(az);
    return { name, azureZone: az };
  });
  // Several zones only make sense as distinct Azure zones; a single zone may be zoneless.
  if (zones.length > 1 && zones.some((z) => z.azureZone === undefined)) {
    throw new ConfigError('catalog.availability_zones: with several zones, each must name its azure_zone');
  }
  return zones;
}

export function zoneByName(cfg: JacketConfig, name: string): AvailabilityZone | undefined {
  return availabilityZones(cfg).find((z) => z.name === name);
}

/** GET /os-availability-zone: every zone, available; hosts are not shown here (null), as in Nova. */
async function index(ctx: RequestContext) {
  return json({
    availabilityZoneInfo: availabilityZones(ctx.services.config).map((z) => ({ zoneName: z.name, zoneState: { available: true }, hosts: null })),
  });
}

/**
 * GET /os-availability-zone/detail (admin): each zone with its one "host", the Azure location (and zone)
 * that runs its servers, holding a nova-compute service. Nova's "internal" zone (conductor, scheduler)
 * has no counterpart in Jacket and is not listed.
 */
async function detail(ctx: RequestContext) {
  const cfg = ctx.services.config;
  return json({
    availabilityZoneInfo: availabilityZones(cfg).map((z) => ({
      zoneName: z.name,
      zoneState: { available: true },
      hosts: { [z.azureZone ? `${cfg.azure.location}-${z.azureZone}` : cfg.azure.location]: { 'nova-compute': { available: true, active: true, updated_at: null } } },
    })),
  });
}

export const availabilityZoneRoutes: Route[] = [
  computeRoute('availability-zones-list', 'GET', '/os-availability-zone', 'os_compute_api:os-availability-zone:list', index),
  computeRoute('availability-zones-detail', 'GET', '/os-availability-zone/detail', 'os_compute_api:os-availability-zone:detail', detail),
];
