// Marketplace images: configured by the operator in the catalog section `images` (config.catalog.images),
// mapped to Azure Marketplace references, never stored or created by Jacket. They are public, protected
// and read-only. Absent the section, Ubuntu 22.04 and Windows Server 2022 are offered.
import { createHash } from 'node:crypto';
import type { JacketConfig } from '../config';
import { ConfigError } from '../config';
import type { ImageRecord } from './model';

export interface MarketplaceImage {
  id: string;
  name: string;
  publisher: string;
  offer: string;
  sku: string;
  version: string;
  os_type: 'linux' | 'windows';
  min_disk?: number;
  min_ram?: number;
  visibility?: 'public';
}

/** A fixed id from the marketplace reference, so the defaults keep their ids across deployments. */
function stableUuid(s: string): string {
  const h = createHash('sha256').update(s).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h[16], 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

const DEFAULTS: Omit<MarketplaceImage, 'id'>[] = [
  { name: 'ubuntu-22.04', publisher: 'Canonical', offer: '0001-com-ubuntu-server-jammy', sku: '22_04-lts-gen2', version: 'latest', os_type: 'linux', min_disk: 30 },
  {
    name: 'windows-server-2022',
    publisher: 'MicrosoftWindowsServer',
    offer: 'WindowsServer',
    sku: '2022-datacenter-azure-edition',
    version: 'latest',
    os_type: 'windows',
    min_disk: 127,
    min_ram: 2048,
  },
];

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function validate(raw: unknown): MarketplaceImage[] {
  if (!Array.isArray(raw)) throw new ConfigError('catalog.images must be an array');
  const ids = new Set<string>();
  return raw.map((e, i) => {
    const where = `catalog.images[${i}]`;
    if (typeof e !== 'object' || e === null) throw new ConfigError(`${where} must be an object`);
    const m = e as Record<string, unknown>;
    for (const k of ['id', 'name', 'publisher', 'offer', 'sku', 'version'] as const) {
      if (typeof m[k] !== 'string' || (m[k] as string).trim() === '') throw new ConfigError(`${where}.${k} must be a non-empty string`);
    }
    const id = (m.id as string).toLowerCase();
    if (!UUID.test(id)) throw new ConfigError(`${where}.id must be a UUID`);
    if (ids.has(id)) throw new ConfigError(`${where}.id ${id} is listed twice`);
    ids.add(id);
    if (m.os_type !== 'linux' && m.os_type !== 'windows') throw new ConfigError(`${where}.os_type must be linux or windows`);
    for (const k of ['min_disk', 'min_ram'] as const) {
      if (m[k] !== undefined && (!Number.isInteger(m[k]) || (m[k] as number) < 0)) throw new ConfigError(`${where}.${k} must be a non-negative integer`);
    }
    if (m.visibility !== undefined && m.visibility !== 'public') throw new ConfigError(`${where}.visibility must be public`);
    return { ...(m as unknown as MarketplaceImage), id };
  });
}

const cache = new WeakMap<JacketConfig, MarketplaceImage[]>();

export function marketplaceImages(cfg: JacketConfig): MarketplaceImage[] {
  let list = cache.get(cfg);
  if (!list) {
    const raw = cfg.catalog.images;
    list = raw === undefined ? DEFAULTS.map((d) => ({ ...d, id: stableUuid(`${d.publisher}:${d.offer}:${d.sku}`) })) : validate(raw);
    cache.set(cfg, list);
  }
  return list;
}

// The time marketplace records show: fixed, they do not change.
const EPOCH = '2024-01-01T00:00:00Z';

/** A marketplace image as an image record (status active, public, protected, owned by nobody). */
export function marketplaceRecord(m: MarketplaceImage): ImageRecord {
  return {
    id: m.id,
    name: m.name,
    owner: null,
    visibility: 'public',
    status: 'active',
    disk_format: 'vhd',
    container_format: 'bare',
    min_disk: m.min_disk ?? 0,
    min_ram: m.min_ram ?? 0,
    protected: true,
    os_hidden: false,
    tags: [],
    properties: {
      azure_type: 'marketplace',
      azure_publisher: m.publisher,
      azure_offer: m.offer,
      azure_sku: m.sku,
      azure_version: m.version,
      azure_os_type: m.os_type,
      os_type: m.os_type,
    },
    size: null,
    virtual_size: null,
    checksum: null,
    os_hash_algo: null,
    os_hash_value: null,
    created_at: EPOCH,
    updated_at: EPOCH,
    marketplace: true,
  };
}

export function findMarketplace(cfg: JacketConfig, id: string): ImageRecord | undefined {
  const m = marketplaceImages(cfg).find((x) => x.id === id.toLowerCase());
  return m ? marketplaceRecord(m) : undefined;
}
