// Volume types: records (global, one partition), a name index for uniqueness, the operator's seeded
// types (config.catalog.volumeTypes, else Cinder's __DEFAULT__) and the extra spec that picks the
// managed disk SKU (azure:sku).
import type { Services } from '../../services';
import type { RequestContext } from '../../http/router';
import { allowed, isAdmin } from '../../api/policy';
import { badRequest, notFound } from '../../http/errors';
import type { Stored } from '../../store/tables';
import { NamedStore, type NamedStoreSpec } from '../namedStore';
import { cinderTime } from '../common';
import { defaultTypeStore } from '../defaultTypes/store';

export interface VolumeTypeRecord {
  id: string;
  name: string;
  description: string | null;
  is_public: boolean;
  extra_specs: Record<string, string>;
  qos_specs_id: string | null;
  created_at: string;
  updated_at: string | null;
}

/** The extra spec naming the managed disk SKU of a type's volumes. */
export const SKU_SPEC = 'azure:sku';
export const DISK_SKUS = ['Standard_LRS', 'Premium_LRS', 'StandardSSD_LRS', 'UltraSSD_LRS', 'Premium_ZRS', 'StandardSSD_ZRS', 'PremiumV2_LRS'];
export const DEFAULT_SKU = 'Standard_LRS';
/** Extra specs Cinder shows to non-admins (type_extra_specs.USER_VISIBLE_EXTRA_SPECS). */
export const USER_VISIBLE_SPECS = ['RESKEY:availability_zones', 'multiattach', 'replication_enabled'];

interface CatalogType {
  name: string;
  description?: string;
  extra_specs?: Record<string, string>;
  is_public?: boolean;
  default?: boolean;
}

/** The operator's types: config.catalog.volumeTypes, validated, or Cinder's own default type. */
export function catalogTypes(catalog: Record<string, unknown>): CatalogType[] {
  const raw = catalog.volumeTypes;
  if (raw === undefined) return [{ name: '__DEFAULT__', description: 'Default Volume Type', extra_specs: {}, default: true }];
  if (!Array.isArray(raw) || raw.length === 0) throw new Error('catalog.volumeTypes must be a non-empty array of {name, description?, extra_specs?, is_public?, default?}');
  const names = new Set<string>();
  const out = raw.map((t, i): CatalogType => {
    const e = t as CatalogType;
    if (!e || typeof e.name !== 'string' || e.name.trim() === '' || e.name.length > 255) throw new Error(`catalog.volumeTypes[${i}].name must be a non-empty string`);
    if (names.has(e.name.toLowerCase())) throw new Error(`catalog.volumeTypes has "${e.name}" twice`);
    names.add(e.name.toLowerCase());
    const specs = e.extra_specs ?? {};
    if (typeof specs !== 'object' || Object.values(specs).some((v) => typeof v !== 'string')) throw new Error(`catalog.volumeTypes[${i}].extra_specs must map names to strings`);
    const sku = specs[SKU_SPEC];
    if (sku !== undefined && !DISK_SKUS.includes(sku)) throw new Error(`catalog.volumeTypes[${i}]: ${SKU_SPEC} must be one of ${DISK_SKUS.join(', ')}`);
    return { name: e.name, description: e.description, extra_specs: specs, is_public: e.is_public !== false, default: e.default === true };
  });
  if (out.filter((t) => t.default).length > 1) throw new Error('catalog.volumeTypes: at most one type may be the default');
  if (!out.some((t) => t.default)) out[0].default = true;
  return out;
}

const spec: NamedStoreSpec<VolumeTypeRecord> = {
  table: 'voltypes',
  namesTable: 'voltypenames',
  pk: 'type',
  seedSalt: 'jacket-volume-type',
  seeds: (s, seededId) =>
    catalogTypes(s.config.catalog).map((t) => ({
      id: seededId(t.name),
      name: t.name,
      description: t.description ?? null,
      is_public: t.is_public !== false,
      extra_specs: t.extra_specs ?? {},
      qos_specs_id: null,
      created_at: cinderTime(),
      updated_at: null,
    })),
};

/** The operator's types seeded once (namedStore.ts), and the default type's name. */
export class VolumeTypeStore extends NamedStore<VolumeTypeRecord> {
  constructor(private readonly services: Services) {
    super(services, spec);
  }

  /** The default type's name (the catalog's `default`, else the first). */
  defaultName(): string {
    return catalogTypes(this.services.config.catalog).find((t) => t.default)!.name;
  }
}

export const typeStore = (s: Services) => new VolumeTypeStore(s);

/** A type by id, as the caller may see it (private types are the admins'); 404 in Cinder's words. */
export async function visibleType(ctx: RequestContext, id: string): Promise<Stored<VolumeTypeRecord>> {
  const t = await typeStore(ctx.services).get(id);
  if (!t || (!t.value.is_public && !isAdmin(ctx.auth!))) throw notFound(`Volume type ${id} could not be found.`);
  return t;
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** objects.VolumeType.get_by_name_or_id: an id when it looks like one (else a name spelt like a UUID), else a name. */
export async function typeByNameOrId(ctx: RequestContext, v: string): Promise<VolumeTypeRecord> {
  const store = typeStore(ctx.services);
  const t = UUID_RE.test(v) ? ((await store.get(v)) ?? (await store.byName(v))) : await store.byName(v);
  if (!t || (!t.value.is_public && !isAdmin(ctx.auth!))) {
    throw notFound(UUID_RE.test(v) ? `Volume type ${v} could not be found.` : `Volume type with name ${v} could not be found.`);
  }
  return t.value;
}

/**
 * volume_types.get_default_volume_type(context): the caller's project default (3.62's default-types,
 * though Cinder consults it at every microversion) when set, else the configured default type.
 */
export async function defaultType(ctx: RequestContext): Promise<VolumeTypeRecord> {
  const store = typeStore(ctx.services);
  const projectId = ctx.auth?.projectId;
  const own = projectId ? await defaultTypeStore(ctx.services).get(projectId) : undefined;
  if (own) {
    const t = await store.get(own.volume_type_id);
    if (!t) throw notFound(`Volume type ${own.volume_type_id} could not be found.`);
    return t.value;
  }
  const name = store.defaultName();
  const t = await store.byName(name);
  if (!t) throw badRequest(`The request cannot be fulfilled as the default volume type ${name} cannot be found.`);
  return t.value;
}

/** The SKU a type's volumes get. */
export function skuOf(t: VolumeTypeRecord): string {
  return t.extra_specs[SKU_SPEC] ?? DEFAULT_SKU;
}

/** volume/api.py _is_multiattach: the type's `multiattach` extra spec is exactly `<is> True`. */
export function isMultiattach(t: VolumeTypeRecord): boolean {
  return t.extra_specs.multiattach === '<is> True';
}

/** Checks specs Jacket gives meaning to (azure:sku) before they are stored. */
export function checkSpecs(specs: Record<string, string | null>): void {
  const sku = specs[SKU_SPEC];
  if (sku !== undefined && (sku === null || !DISK_SKUS.includes(sku))) {
    throw badRequest(`Invalid input received: ${SKU_SPEC} must be one of ${DISK_SKUS.join(', ')}, got ${JSON.stringify(sku)}.`);
  }
}

/**
 * Which Cinder view renders a type. show and index are cinder/api/v3/views/types.py, plus the
 * volume_type_access extension's `os-volume-type-access:is_public` (which finds nothing to extend for
 * GET /types/default: the cached resource is keyed by the real id); create and update are
 * types_manage's cinder/api/views/types.py (full extra_specs, no qos_specs_id), and the extension
 * extends create only.
 */
export type TypeViewCall = 'show' | 'index' | 'default' | 'create' | 'update';

export function typeView(ctx: RequestContext, t: VolumeTypeRecord, call: TypeViewCall) {
  const base = { id: t.id, name: t.name, is_public: t.is_public, description: t.description };
  if (call === 'create' || call === 'update') {
    return { ...base, extra_specs: t.extra_specs, ...(call === 'create' && allowed(ctx, 'volume_extension:volume_type_access') ? { 'os-volume-type-access:is_public': t.is_public } : {}) };
  }
  const out: Record<string, unknown> = { ...base };
  if (allowed(ctx, 'volume_extension:access_types_extra_specs')) {
    out.extra_specs = allowed(ctx, 'volume_extension:types_extra_specs:read_sensitive')
      ? t.extra_specs
      : Object.fromEntries(Object.entries(t.extra_specs).filter(([k]) => USER_VISIBLE_SPECS.includes(k)));
  }
  if (allowed(ctx, 'volume_extension:access_types_qos_specs_id')) out.qos_specs_id = t.qos_specs_id;
  if (call !== 'default' && allowed(ctx, 'volume_extension:volume_type_access')) out['os-volume-type-access:is_public'] = t.is_public;
  return out;
}
