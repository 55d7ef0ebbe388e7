// Flavor records in Table Storage, their visibility rules and the seeding of the operator's default set.
// Table 'flavors' holds, by partition:
//   'flavor'          one row per flavor, RowKey = flavorid (the API id), the whole record in `doc`;
//   'name'            one row per flavor name (RowKey = sha256 of the name): Nova's unique-name rule;
//   'access-<project>' one row per private flavor the project was given (RowKey = flavorid), so a
//                     project's list reads its own access rows instead of scanning every flavor;
//   'seed'            which configured flavor ids were seeded already (so a deleted default stays deleted).
// The flavor row's `projects` list is authoritative for access; the access rows are its index.
import { createHash } from 'node:crypto';
import type { RequestContext } from '../../http/router';
import type { Services } from '../../services';
import type { AuthContext } from '../../api/policy';
import { isAdmin } from '../../api/policy';
import { ApiError, conflict, notFound } from '../../http/errors';
import { AlreadyExistsError, ConcurrencyError, type Repository, type Stored } from '../../store/tables';
import { ConfigError } from '../../config';

export interface FlavorRecord {
  flavorid: string;
  name: string;
  memory_mb: number;
  vcpus: number;
  root_gb: number;
  ephemeral_gb: number;
  swap: number;
  rxtx_factor: number;
  is_public: boolean;
  disabled: boolean;
  description: string | null;
  /** Values are strings, as Nova stores them. `azure:vm_size` names the Azure size the flavor runs on. */
  extra_specs: Record<string, string>;
  /** Projects given access to this (private) flavor. */
  projects: string[];
  created_at: string;
  updated_at: string | null;
}

interface IndexRow {
  flavorid: string;
}

export const VM_SIZE_SPEC = 'azure:vm_size';
const TABLE = 'flavors';
export const PK_FLAVOR = 'flavor';
const PK_NAME = 'name';
const PK_SEED = 'seed';
const accessPartition = (projectId: string) => `access-${projectId}`;
const nameKey = (name: string) => createHash('sha256').update(name, 'utf8').digest('hex');

export const flavorNotFound = (id: string) => notFound(`Flavor ${id} could not be found.`);

export function flavorRepo(s: Services): Repository<FlavorRecord> {
  return s.tables.repository<FlavorRecord>(TABLE, ['is_public', 'disabled', 'memory_mb', 'root_gb']);
}
const indexRepo = (s: Services) => s.tables.repository<IndexRow>(TABLE);
const seedRepo = (s: Services) => s.tables.repository<{ ids: string[] }>(TABLE);

/** Nova's visibility rule: admins see every flavor; others public ones and private ones shared with their project. */
export function visibleTo(f: FlavorRecord, auth: AuthContext | undefined): boolean {
  if (auth && isAdmin(auth)) return true;
  return f.is_public || (auth?.projectId !== undefined && f.projects.includes(auth.projectId));
}

/** A flavor the caller may see, or Nova's 404 (another project's private flavor is "not found" too). */
export async function getVisibleFlavor(ctx: RequestContext, id: string): Promise<Stored<FlavorRecord>> {
  await ensureSeeded(ctx.services);
  const f = await flavorRepo(ctx.services).get(PK_FLAVOR, id);
  if (!f || !visibleTo(f.value, ctx.auth)) throw flavorNotFound(id);
  return f;
}

/** The flavor by id regardless of visibility (for admin APIs and for the servers module). */
export async function getFlavor(s: Services, id: string): Promise<Stored<FlavorRecord> | undefined> {
  await ensureSeeded(s);
  return flavorRepo(s).get(PK_FLAVOR, id);
}

/** The Azure VM size a flavor runs on; a flavor without one cannot be used to boot. */
export function vmSizeOf(f: FlavorRecord): string | undefined {
  return f.extra_specs[VM_SIZE_SPEC] || undefined;
}

/** Read-modify-write of one flavor (ETag-conditional); 404 when it is gone. */
export async function updateFlavor(s: Services, id: string, mutate: (f: FlavorRecord) => FlavorRecord | undefined): Promise<FlavorRecord> {
  const r = await flavorRepo(s).update(PK_FLAVOR, id, mutate);
  if (!r) throw flavorNotFound(id);
  return r.value;
}

/** Private flavor ids shared with `projectId` (one partition read; bounded by what admins granted). */
export async function accessibleFlavorIds(s: Services, projectId: string): Promise<string[]> {
  const rows = await indexRepo(s).list(accessPartition(projectId));
  return rows.map((r) => r.rowKey);
}

export async function addAccessRow(s: Services, flavorid: string, projectId: string): Promise<void> {
  await indexRepo(s).upsert(accessPartition(projectId), flavorid, { flavorid });
}

export async function removeAccessRow(s: Services, flavorid: string, projectId: string): Promise<void> {
  await indexRepo(s).delete(accessPartition(projectId), flavorid);
}

/**
 * Stores a new flavor: claims the name first, then the id. 409 in Nova's words for either clash; a name
 * claim left behind by an interrupted create or delete (its flavor gone) is taken over.
 */
export async function insertFlavor(s: Services, f: FlavorRecord): Promise<FlavorRecord> {
  const names = indexRepo(s);
  const key = nameKey(f.name);
  const nameExists = () => conflict(`Flavor with name ${f.name} already exists.`);
  try {
    await names.create(PK_NAME, key, { flavorid: f.flavorid });
  } catch (e) {
    if (!(e instanceof AlreadyExistsError)) throw e;
    const claim = await names.get(PK_NAME, key);
    if (!claim) throw nameExists();
    const holder = await flavorRepo(s).get(PK_FLAVOR, claim.value.flavorid);
    if (holder && holder.value.name === f.name) throw nameExists();
    try {
      await names.replace(PK_NAME, key, { flavorid: f.flavorid }, claim.etag);
    } catch (e2) {
      if (e2 instanceof ConcurrencyError) throw nameExists();
      throw e2;
    }
  }
  try {
    await flavorRepo(s).create(PK_FLAVOR, f.flavorid, f);
  } catch (e) {
    await names.delete(PK_NAME, key);
    if (e instanceof AlreadyExistsError) throw conflict(`Flavor with ID ${f.flavorid} already exists.`);
    throw e;
  }
  return f;
}

/** Deletes a flavor: access rows first, then the record (ETag-conditional), then its name claim. */
export async function deleteFlavor(s: Services, cur: Stored<FlavorRecord>): Promise<void> {
  for (const p of cur.value.projects) await removeAccessRow(s, cur.value.flavorid, p);
  try {
    if (!(await flavorRepo(s).delete(PK_FLAVOR, cur.rowKey, cur.etag))) throw flavorNotFound(cur.rowKey);
  } catch (e) {
    if (e instanceof ConcurrencyError) throw conflict(`Flavor ${cur.rowKey} was changed by another request; try again.`);
    throw e;
  }
  const names = indexRepo(s);
  const key = nameKey(cur.value.name);
  const claim = await names.get(PK_NAME, key);
  if (claim && claim.value.flavorid === cur.value.flavorid) await names.delete(PK_NAME, key, claim.etag);
}

// ---- the operator's default flavors (config.catalog.flavors) ----

export interface SeedFlavor {
  id: string;
  name: string;
  vcpus: number;
  ram: number;
  disk: number;
  ephemeral: number;
  swap: number;
  rxtx_factor: number;
  is_public: boolean;
  disabled: boolean;
  vm_size: string;
  extra_specs: Record<string, string>;
}

/**
 * Built in when the catalog has no `flavors`: Nova-style names on real Azure sizes whose vCPU count
 * and memory match the flavor (B-series burstable for the small ones, Dsv3 general purpose above).
 * Root disks are at least 30 GB, the size of Azure's Linux marketplace images (Nova's m1.tiny and
 * m1.small, 1 and 20 GB, could boot none of the default images).
 */
export const DEFAULT_FLAVORS: readonly Omit<SeedFlavor, 'ephemeral' | 'swap' | 'rxtx_factor' | 'is_public' | 'disabled' | 'extra_specs'>[] = [
  { id: '1', name: 'm1.tiny', vcpus: 1, ram: 1024, disk: 30, vm_size: 'Standard_B1s' },
  { id: '2', name: 'm1.small', vcpus: 1, ram: 2048, disk: 30, vm_size: 'Standard_B1ms' },
  { id: '3', name: 'm1.medium', vcpus: 2, ram: 4096, disk: 40, vm_size: 'Standard_B2s' },
  { id: '4', name: 'm1.large', vcpus: 2, ram: 8192, disk: 80, vm_size: 'Standard_D2s_v3' },
  { id: '5', name: 'm1.xlarge', vcpus: 4, ram: 16384, disk: 160, vm_size: 'Standard_D4s_v3' },
  { id: '6', name: 'm1.2xlarge', vcpus: 8, ram: 32768, disk: 160, vm_size: 'Standard_D8s_v3' },
];

const FLAVOR_ID = /^(?! )[a-zA-Z0-9. _-]+(?<! )$/;
const SPEC_KEY = /^[a-zA-Z0-9-_:. ]{1,255}$/;
const MAX_INT = 2147483647;

/** Reads and checks config.catalog.flavors (or the built-in set); a bad entry is a ConfigError naming it. */
export function seedFlavors(catalog: Record<string, unknown>): SeedFlavor[] {
  const raw = catalog.flavors;
  const list: unknown[] = raw === undefined ? [...DEFAULT_FLAVORS] : Array.isArray(raw) ? raw : [];
  if (raw !== undefined && !Array.isArray(raw)) throw new ConfigError('catalog.flavors must be an array');
  const seen = new Set<string>();
  const names = new Set<string>();
  return list.map((item, i) => {
    const where = `catalog.flavors[${i}]`;
    if (typeof item !== 'object' || item === null || Array.isArray(item)) throw new ConfigError(`${where} must be an object`);
    const o = item as Record<string, unknown>;
    const int = (k: string, min: number, dflt?: number): number => {
      const v = o[k] ?? dflt;
      if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > MAX_INT) throw new ConfigError(`${where}.${k} must be an integer >= ${min}`);
      return v;
    };
    const name = o.name;
    if (typeof name !== 'string' || name.trim() === '' || name.length > 255) throw new ConfigError(`${where}.name must be a non-empty string of at most 255 characters`);
    const id = o.id === undefined ? String(i + 1) : String(o.id);
    if (id.length > 255 || !FLAVOR_ID.test(id)) throw new ConfigError(`${where}.id must match ${FLAVOR_ID.source}`);
    if (seen.has(id)) throw new ConfigError(`${where}.id ${id} is used twice`);
    if (names.has(name.trim())) throw new ConfigError(`${where}.name ${name} is used twice`);
    seen.add(id);
    names.add(name.trim());
    const vmSize = o.vm_size;
    if (typeof vmSize !== 'string' || !/^[A-Za-z0-9_]{1,64}$/.test(vmSize)) throw new ConfigError(`${where}.vm_size must name an Azure VM size, e.g. Standard_D2s_v3`);
    const rxtx = o.rxtx_factor ?? 1.0;
    if (typeof rxtx !== 'number' || !(rxtx > 0)) throw new ConfigError(`${where}.rxtx_factor must be a number above 0`);
    const specs: Record<string, string> = {};
    if (o.extra_specs !== undefined) {
      if (typeof o.extra_specs !== 'object' || o.extra_specs === null || Array.isArray(o.extra_specs)) throw new ConfigError(`${where}.extra_specs must be an object`);
      for (const [k, v] of Object.entries(o.extra_specs)) {
        if (!SPEC_KEY.test(k) || (typeof v !== 'string' && typeof v !== 'number') || String(v).length > 255) throw new ConfigError(`${where}.extra_specs.${k} is not a valid extra spec`);
        specs[k] = String(v);
      }
    }
    for (const k of ['is_public', 'disabled'] as const) {
      if (o[k] !== undefined && typeof o[k] !== 'boolean') throw new ConfigError(`${where}.${k} must be a boolean`);
    }
    return {
      id,
      name: name.trim(),
      vcpus: int('vcpus', 1),
      ram: int('ram', 1),
      disk: int('disk', 0),
      ephemeral: int('ephemeral', 0, 0),
      swap: int('swap', 0, 0),
      rxtx_factor: rxtx,
      is_public: (o.is_public as boolean | undefined) ?? true,
      disabled: (o.disabled as boolean | undefined) ?? false,
      vm_size: vmSize,
      extra_specs: { ...specs, [VM_SIZE_SPEC]: vmSize },
    };
  });
}

export function seedRecord(f: SeedFlavor, now: string): FlavorRecord {
  return {
    flavorid: f.id,
    name: f.name,
    memory_mb: f.ram,
    vcpus: f.vcpus,
    root_gb: f.disk,
    ephemeral_gb: f.ephemeral,
    swap: f.swap,
    rxtx_factor: f.rxtx_factor,
    is_public: f.is_public,
    disabled: f.disabled,
    description: null,
    extra_specs: f.extra_specs,
    projects: [],
    created_at: now,
    updated_at: null,
  };
}

const seeded = new WeakMap<Services, Promise<void>>();

/**
 * Seeds the configured flavors once per process, idempotently: ids recorded in the seed row were seeded
 * before (an admin may have deleted or changed them since) and are left alone; an id that exists already
 * (made through the API) is not overwritten. The configured vm_size is operator-trusted and not checked
 * against ARM here (the VM create checks it anyway).
 */
export function ensureSeeded(s: Services): Promise<void> {
  let p = seeded.get(s);
  if (!p) {
    p = seed(s).catch((e) => {
      seeded.delete(s);
      throw e;
    });
    seeded.set(s, p);
  }
  return p;
}

async function seed(s: Services): Promise<void> {
  const wanted = seedFlavors(s.config.catalog);
  const marks = seedRepo(s);
  const cur = await marks.get(PK_SEED, 'ids');
  const done = new Set(cur?.value.ids ?? []);
  const todo = wanted.filter((f) => !done.has(f.id));
  if (todo.length === 0) return;
  const now = new Date().toISOString();
  for (const f of todo) {
    try {
      await insertFlavor(s, seedRecord(f, now));
    } catch (e) {
      // Already there (another process seeded it, or an admin made that id or name): leave it.
      if (!(e instanceof ApiError && e.status === 409)) throw e;
    }
    done.add(f.id);
  }
  const ids = [...done];
  if (cur) await marks.update(PK_SEED, 'ids', (v) => ({ ids: [...new Set([...v.ids, ...ids])] }));
  else {
    try {
      await marks.create(PK_SEED, 'ids', { ids });
    } catch (e) {
      if (!(e instanceof AlreadyExistsError)) throw e;
      await marks.update(PK_SEED, 'ids', (v) => ({ ids: [...new Set([...v.ids, ...ids])] }));
    }
  }
}
