// Cinder's quotas as an engine the volume, snapshot and backup modules call: limits (the operator's
// defaults, config.catalog.volumeQuotas, under each project's own values in the `volquotas` table),
// usage counted from the project's partitions (volumes, snapshots, backups — Cinder's in_use; nothing
// is ever `reserved` here), and the checks that answer Cinder's 413s.
// Counting is per request, so two creates racing at the last free unit may both pass; the gap is the
// time between the count and the record's write (documented in docs/volumes.md).
import type { Services } from '../../services';
import type { JacketConfig } from '../../config';
import { overLimit } from '../../http/errors';
import { volumeTables } from '../model';
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

/** Default limits: the configured ones, and -1 for each per-type resource. */
export async function defaultLimits(s: Services): Promise<Record<string, number>> {
  const base = configuredVolumeDefaults(s.config);
  const out: Record<string, number> = {};
  for (const r of await resourceNames(s)) out[r] = r in base ? base[r as BaseResource] : -1;
  return out;
}

/** The project's limits: its own values over the defaults. */
export async function projectLimits(s: Services, projectId: string): Promise<Record<string, number>> {
  const out = await defaultLimits(s);
  for (const row of await quotaTable(s).list(projectId)) if (row.rowKey in out) out[row.rowKey] = row.value.limit;
  return out;
}

/** In-use counts, as Cinder's usages: every volume, snapshot and backup record until it is removed. */
export async function projectUsage(s: Services, projectId: string): Promise<Record<string, number>> {
  const t = volumeTables(s);
  const [volumes, snapshots, backups, types] = await Promise.all([t.volumes.list(projectId), t.snapshots.list(projectId), t.backups.list(projectId), typeStore(s).list()]);
  const typeName = new Map(types.map((x) => [x.id, x.name]));
  const used: Record<string, number> = { volumes: 0, gigabytes: 0, snapshots: 0, backups: 0, backup_gigabytes: 0, groups: 0, per_volume_gigabytes: 0 };
  const add = (k: string, n: number) => (used[k] = (used[k] ?? 0) + n);
  for (const { value: v } of volumes) {
    add('volumes', 1);
    add('gigabytes', v.size);
    const tn = typeName.get(v.volume_type_id);
    if (tn) {
      add(`volumes_${tn}`, 1);
      add(`gigabytes_${tn}`, v.size);
    }
  }
  // Snapshots count against gigabytes too (Cinder's default, no_snapshot_gb_quota = False).
  for (const { value: sn } of snapshots) {
    add('snapshots', 1);
    add('gigabytes', sn.size);
    const tn = typeName.get(sn.volume_type_id);
    if (tn) {
      add(`snapshots_${tn}`, 1);
      add(`gigabytes_${tn}`, sn.size);
    }
  }
  for (const { value: b } of backups) {
    add('backups', 1);
    add('backup_gigabytes', b.size);
  }
  return used;
}

const over = (limit: number | undefined, used: number, more: number) => limit !== undefined && limit >= 0 && used + more > limit;

/** A new volume of `size` GiB of type `typeName` (also extend: count 0, size = the growth, newSize for the per-volume cap). */
export async function checkVolumeQuota(s: Services, projectId: string, typeName: string, size: number, count = 1, newSize = size): Promise<void> {
  const [limits, used] = await Promise.all([projectLimits(s, projectId), projectUsage(s, projectId)]);
  const perVolume = limits.per_volume_gigabytes;
  if (perVolume >= 0 && newSize > perVolume) throw overLimit(`Requested volume size ${newSize}G is larger than maximum allowed limit ${perVolume}G.`, 0);
  for (const name of ['volumes', `volumes_${typeName}`]) {
    if (count > 0 && over(limits[name], used[name] ?? 0, count)) throw overLimit(`Maximum number of volumes allowed (${limits[name]}) exceeded for quota '${name}'.`, 0);
  }
  for (const name of ['gigabytes', `gigabytes_${typeName}`]) {
    if (over(limits[name], used[name] ?? 0, size)) {
      throw overLimit(`Requested volume or snapshot exceeds allowed ${name} quota. Requested ${size}G, quota is ${limits[name]}G and ${used[name] ?? 0}G has been consumed.`, 0);
    }
  }
}

export async function checkSnapshotQuota(s: Services, projectId: string, typeName: string, size: number): Promise<void> {
  const [limits, used] = await Promise.all([projectLimits(s, projectId), projectUsage(s, projectId)]);
  for (const name of ['snapshots', `snapshots_${typeName}`]) {
    if (over(limits[name], used[name] ?? 0, 1)) throw overLimit(`Maximum number of snapshots allowed (${limits[name]}) exceeded`, 0);
  }
  for (const name of ['gigabytes', `gigabytes_${typeName}`]) {
    if (over(limits[name], used[name] ?? 0, size)) {
      throw overLimit(`Requested volume or snapshot exceeds allowed ${name} quota. Requested ${size}G, quota is ${limits[name]}G and ${used[name] ?? 0}G has been consumed.`, 0);
    }
  }
}

export async function checkBackupQuota(s: Services, projectId: string, size: number): Promise<void> {
  const [limits, used] = await Promise.all([projectLimits(s, projectId), projectUsage(s, projectId)]);
  if (over(limits.backups, used.backups, 1)) throw overLimit(`Maximum number of backups allowed (${limits.backups}) exceeded`, 0);
  if (over(limits.backup_gigabytes, used.backup_gigabytes, size)) {
    throw overLimit(`Requested backup exceeds allowed Backup gigabytes quota. Requested ${size}G, quota is ${limits.backup_gigabytes}G and ${used.backup_gigabytes}G has been consumed.`, 0);
  }
}
