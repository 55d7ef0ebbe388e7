// Cinder's quotas as an engine the volume, snapshot and backup modules call: limits (the operator's
// defaults, config.catalog.volumeQuotas, under each project's own values in the `volquotas` table),
// usage as counters with reservations (shared/quota/ledger.ts: Cinder's quota_usages + reservations),
// and the reservations that answer Cinder's 413s. A create reserves its deltas under the project's
// usage row's ETag (one read, one conditional write, whatever the project holds), writes its record,
// then commits; a removal releases. Racing creates at the last free unit: exactly one wins.
import type { Services } from '../../services';
import type { JacketConfig } from '../../config';
import { overLimit } from '../../http/errors';
import { repairVolumeCopies, volumeTables } from '../model';
import { log } from '../../log';
import { OverQuota, QuotaLedger, type Counted, type Deltas } from '../../quota/ledger';
import { typeStore } from '../types/store';

/** Cinder's quota resources (QUOTAS.resources without the per-type ones), in its display order. */
export const BASE_RESOURCES = ['backup_gigabytes', 'backups', 'gigabytes', 'groups', 'per_volume_gigabytes', 'snapshots', 'volumes'] as const;
export type BaseResource = (typeof BASE_RESOURCES)[number];

/** cinder.conf [DEFAULT] quota_* defaults. */
export const CINDER_DEFAULTS: Record<BaseResource, number> = {
  backup_gigabytes: 1000,
  backups: 10,
  gigabytes: 1000,
  groups: 10,
  per_volume_gigabytes: -1,
  snapshots: 10,
  volumes: 10,
};

/** Per volume type resources (volumes_<type>, gigabytes_<type>, snapshots_<type>), unlimited by default. */
export const PER_TYPE = ['gigabytes', 'snapshots', 'volumes'] as const;
export const MAX_QUOTA = 2147483647;

const defaultsCache = new WeakMap<JacketConfig, Record<BaseResource, number>>();

/** The operator's defaults: catalog.volumeQuotas ({resource: limit}) over Cinder's; a bad section is a config error. */
export function configuredVolumeDefaults(cfg: JacketConfig): Record<BaseResource, number> {
  let d = defaultsCache.get(cfg);
  if (d) return d;
  d = { ...CINDER_DEFAULTS };
  const section = cfg.catalog.volumeQuotas;
  if (section !== undefined) {
    if (typeof section !== 'object' || section === null || Array.isArray(section)) throw new Error('catalog.volumeQuotas must be an object of resource -> limit');
    for (const [k, v] of Object.entries(section)) {
      if (!(BASE_RESOURCES as readonly string[]).includes(k)) throw new Error(`catalog.volumeQuotas: unknown quota resource "${k}" (known: ${BASE_RESOURCES.join(', ')})`);
      if (!Number.isInteger(v) || (v as number) < -1 || (v as number) > MAX_QUOTA) throw new Error(`catalog.volumeQuotas.${k} must be an integer from -1 (unlimited) to ${MAX_QUOTA}`);
      d[k as BaseResource] = v as number;
    }
  }
  defaultsCache.set(cfg, d);
  return d;
}

interface QuotaRow {
  limit: number;
}

export const quotaTable = (s: Services) => s.tables.repository<QuotaRow>('volquotas');

/** Every resource name for the current volume types, sorted as Cinder lists them. */
export async function resourceNames(s: Services): Promise<string[]> {
  const types = await typeStore(s).list();
  const perType = types.flatMap((t) => PER_TYPE.map((r) => `${r}_${t.name}`));
  return [...BASE_RESOURCES, ...perType].sort();
}

/** Quota classes (os-quota-class-sets, ./classes.ts): partition = class name, row = resource. */
export const quotaClassTable = (s: Services) => s.tables.repository<QuotaRow>('volquotaclasses');
/** The class whose values are every project's defaults (Cinder's _DEFAULT_QUOTA_NAME). */
export const DEFAULT_QUOTA_CLASS = 'default';

/**
 * Default limits, as DbQuotaDriver.get_defaults: the `default` quota class's values where it has them,
 * else the configured ones (cinder.conf's quota_* there), and -1 for each per-type resource.
 */
export async function defaultLimits(s: Services): Promise<Record<string, number>> {
  const base = configuredVolumeDefaults(s.config);
  const [names, classRows] = await Promise.all([resourceNames(s), quotaClassTable(s).list(DEFAULT_QUOTA_CLASS)]);
  const out: Record<string, number> = {};
  for (const r of names) out[r] = r in base ? base[r as BaseResource] : -1;
  for (const row of classRows) if (row.rowKey in out) out[row.rowKey] = row.value.limit;
  return out;
}

/** The project's limits: its own values over the defaults. */
export async function projectLimits(s: Services, projectId: string): Promise<Record<string, number>> {
  const out = await defaultLimits(s);
  for (const row of await quotaTable(s).list(projectId)) if (row.rowKey in out) out[row.rowKey] = row.value.limit;
  return out;
}

/**
 * In-use counts from the records, as Cinder's usages: every volume, snapshot and backup record until it
 * is removed. The ledger's source of truth: it counts once per project (migration) and at its periodic
 * recount, never per request.
 */
async function countProject(s: Services, projectId: string): Promise<Counted> {
  const t = volumeTables(s);
  const [volumes, snapshots, backups, groups, types] = await Promise.all([
    t.volumes.list(projectId),
    t.snapshots.list(projectId),
    t.backups.list(projectId),
    t.groups.list(projectId),
    typeStore(s).list(),
  ]);
  const typeName = new Map(types.map((x) => [x.id, x.name]));
  let used: Deltas = { volumes: 0, gigabytes: 0, snapshots: 0, backups: 0, backup_gigabytes: 0, groups: 0 };
  const ids = new Set<string>();
  const add = (d: Deltas) => {
    for (const [k, v] of Object.entries(d)) used = { ...used, [k]: (used[k] ?? 0) + v };
  };
  for (const { value: v } of volumes) {
    ids.add(v.id);
    add(volumeDeltas(typeName.get(v.volume_type_id), v.size));
  }
  for (const { value: sn } of snapshots) {
    ids.add(sn.id);
    add(snapshotDeltas(typeName.get(sn.volume_type_id), sn.size));
  }
  for (const { value: b } of backups) {
    ids.add(b.id);
    add(backupDeltas(b.size));
  }
  for (const { value: g } of groups) {
    ids.add(g.id);
    add(GROUP_DELTAS);
  }
  // The same hourly pass repairs the volumes' ordered copies from the records it has just read (a copy
  // an older instance did not write during a rolling deploy would hide a volume from default-sorted pages).
  const fixed = await repairVolumeCopies(s, projectId, volumes);
  if (fixed > 0) log.warn('volume list copies repaired', { project: projectId, rows: fixed });
  return { used, ids };
}

/** The project usage ledger of the volume service (one row per project in `quotausage`). */
export const volumeLedger = (s: Services) => new QuotaLedger(s, 'volume', countProject);

/** What a volume record holds against quotas (per-type keys when its type is known). */
export function volumeDeltas(typeName: string | undefined, size: number, count = 1): Deltas {
  return { volumes: count, ...(typeName ? { [`volumes_${typeName}`]: count } : {}), gigabytes: size, ...(typeName ? { [`gigabytes_${typeName}`]: size } : {}) };
}
/** Snapshots count against gigabytes too (Cinder's default, no_snapshot_gb_quota = False). */
export function snapshotDeltas(typeName: string | undefined, size: number): Deltas {
  return { snapshots: 1, ...(typeName ? { [`snapshots_${typeName}`]: 1 } : {}), gigabytes: size, ...(typeName ? { [`gigabytes_${typeName}`]: size } : {}) };
}
export const backupDeltas = (size: number): Deltas => ({ backups: 1, backup_gigabytes: size });

/** In-use counts (Cinder's in_use), from the ledger: one point read. */
export async function projectUsage(s: Services, projectId: string): Promise<Record<string, number>> {
  return (await volumeLedger(s).usage(projectId)).used;
}

/** In use and reserved (requests in flight), as `quota show --usage` shows them. */
export async function projectUsageDetail(s: Services, projectId: string): Promise<{ used: Deltas; reserved: Deltas }> {
  return volumeLedger(s).usage(projectId);
}

/** Cinder's 413 for the resource the ledger refused. */
function overQuota(e: OverQuota, size: number): Error {
  const r = e.resource;
  if (r.startsWith('volumes')) return overLimit(`Maximum number of volumes allowed (${e.limit}) exceeded for quota '${r}'.`, 0);
  if (r.startsWith('snapshots')) return overLimit(`Maximum number of snapshots allowed (${e.limit}) exceeded`, 0);
  if (r === 'groups') return overLimit(`Maximum number of groups allowed (${e.limit}) exceeded`, 0);
  if (r === 'backups') return overLimit(`Maximum number of backups allowed (${e.limit}) exceeded`, 0);
  if (r === 'backup_gigabytes') return overLimit(`Requested backup exceeds allowed Backup gigabytes quota. Requested ${size}G, quota is ${e.limit}G and ${e.inUse}G has been consumed.`, 0);
  return overLimit(`Requested volume or snapshot exceeds allowed ${r} quota. Requested ${size}G, quota is ${e.limit}G and ${e.inUse}G has been consumed.`, 0);
}

async function reserve(s: Services, projectId: string, id: string, deltas: Deltas, size: number, ttlMs?: number, limits?: Record<string, number>): Promise<void> {
  try {
    await volumeLedger(s).reserve(projectId, [{ id, deltas }], limits ?? (await projectLimits(s, projectId)), ttlMs);
  } catch (e) {
    if (e instanceof OverQuota) throw overQuota(e, size);
    throw e;
  }
}

/** What a generic group holds against quotas (Cinder's GROUP_QUOTAS: one `groups`). */
export const GROUP_DELTAS: Deltas = { groups: 1 };

/** A new group `id`: held until commit (the record exists) or rollback (GroupLimitExceeded's 413). */
export async function reserveGroup(s: Services, projectId: string, id: string): Promise<void> {
  await reserve(s, projectId, id, GROUP_DELTAS, 0);
}

/** A new volume `id` of `size` GiB and type `typeName`: held until commit (the record exists) or rollback. */
export async function reserveVolume(s: Services, projectId: string, id: string, typeName: string, size: number): Promise<void> {
  // The limits are read once for both checks (three Table queries).
  const limits = await projectLimits(s, projectId);
  const perVolume = limits.per_volume_gigabytes;
  if (perVolume >= 0 && size > perVolume) throw overLimit(`Requested volume size ${size}G is larger than maximum allowed limit ${perVolume}G.`, 0);
  await reserve(s, projectId, id, volumeDeltas(typeName, size), size, undefined, limits);
}

/**
 * An extend of volume `volumeId` by `growth` GiB to `newSize`: held under `extend:<id>` until the disk
 * has grown (commit) or the extend failed (rollback); an extend may wait on Azure, so it is held a day.
 */
export async function reserveExtend(s: Services, projectId: string, volumeId: string, typeName: string, growth: number, newSize: number): Promise<void> {
  const limits = await projectLimits(s, projectId);
  const perVolume = limits.per_volume_gigabytes;
  if (perVolume >= 0 && newSize > perVolume) throw overLimit(`Requested volume size ${newSize}G is larger than maximum allowed limit ${perVolume}G.`, 0);
  await reserve(s, projectId, extendKey(volumeId), volumeDeltas(typeName, growth, 0), growth, 24 * 3600 * 1000, limits);
}
export const extendKey = (volumeId: string) => `extend:${volumeId}`;

/**
 * A retype keeps volumes and gigabytes as they are and moves only the per-type keys (volume/api.py
 * retype: volumes_<type>, gigabytes_<type>): the new type's are held under `retype:<id>` until the disk
 * has its new SKU (commit, then the old type's are released) or the retype failed (rollback).
 */
export function perTypeVolumeDeltas(typeName: string | undefined, size: number): Deltas {
  return typeName ? { [`volumes_${typeName}`]: 1, [`gigabytes_${typeName}`]: size } : {};
}
export const retypeKey = (volumeId: string) => `retype:${volumeId}`;
export async function reserveRetype(s: Services, projectId: string, volumeId: string, typeName: string, size: number): Promise<void> {
  await reserve(s, projectId, retypeKey(volumeId), perTypeVolumeDeltas(typeName, size), size, 24 * 3600 * 1000);
}

export const reserveSnapshot = (s: Services, projectId: string, id: string, typeName: string, size: number) => reserve(s, projectId, id, snapshotDeltas(typeName, size), size);
export const reserveBackup = (s: Services, projectId: string, id: string, size: number) => reserve(s, projectId, id, backupDeltas(size), size);

/** The type name of a type id (per-type quota keys), undefined when the type is gone. */
export async function typeNameOf(s: Services, typeId: string): Promise<string | undefined> {
  return (await typeStore(s).get(typeId))?.value.name;
}

/**
 * An accepted transfer (cinder/transfer/api.py accept): the receiving project takes on the volume and
 * its snapshots. As Cinder: per_volume_gigabytes first (`Requested volume size ...`), then the volume's
 * volumes/gigabytes (and per-type keys), then the snapshots' snapshots/gigabytes, each answering its
 * own 413. Held under the records' own ids (a recount that counts a moved record absorbs its
 * reservation), all or nothing: a refusal leaves nothing reserved.
 */
export async function reserveTransfer(s: Services, projectId: string, volume: { id: string; size: number }, typeName: string | undefined, snapshots: { id: string; size: number }[]): Promise<void> {
  const limits = await projectLimits(s, projectId);
  const perVolume = limits.per_volume_gigabytes;
  if (perVolume >= 0 && volume.size > perVolume) throw overLimit(`Requested volume size ${volume.size}G is larger than maximum allowed limit ${perVolume}G.`, 0);
  const ledger = volumeLedger(s);
  try {
    await ledger.reserve(projectId, [{ id: volume.id, deltas: volumeDeltas(typeName, volume.size) }], limits);
  } catch (e) {
    if (e instanceof OverQuota) throw overQuota(e, volume.size);
    throw e;
  }
  if (snapshots.length === 0) return;
  const total = snapshots.reduce((n, x) => n + x.size, 0);
  try {
    await ledger.reserve(
      projectId,
      snapshots.map((x) => ({ id: x.id, deltas: snapshotDeltas(typeName, x.size) })),
      limits,
    );
  } catch (e) {
    await ledger.rollback(projectId, [volume.id]);
    if (e instanceof OverQuota) throw overQuota(e, total);
    throw e;
  }
}
