// Volume and snapshot records and their tables. Records live in their project's partition (a listing
// is one partition query); three small side tables answer the questions a partition cannot:
//   volindex   kind/id -> project, so an admin can reach any project's volume or snapshot by id;
//   voldeps    source id -> dependents (snapshots of a volume, volumes being copied from a volume or
//              snapshot), so nothing deletes a disk or snapshot that a record still needs;
//   voltypeuse type id -> volumes of that type, so a type in use is not deleted;
//   voltransfers project -> transfer (volindex 'transfer' finds one by id, for accepts and admins);
// A project's volumes in Cinder's default order (created_at desc, id desc) are the volumes table's own
// copies: each record has a second copy in its partition under RowKey '~' + volumeOrderKey(created_at,
// id), written in the same transaction as the record (store/tables.ts CopyKey), so a default-sorted
// list page is one range query after the marker's key (volumes/api.ts). Volumes made before the copies
// existed get theirs once (ensureVolumeCopies); the hourly recount repairs any that are missing.
import type { Services } from '../services';
import type { RequestContext } from '../http/router';
import { isAdmin } from '../api/policy';
import { badRequest, notFound } from '../http/errors';
import { volumeBackendFrozen } from '../servicegroup/registry';
import { ConcurrencyError, type Repository, type Stored } from '../store/tables';
import type { CopyProgress } from '../azure/diskCopy';
import { invertDigits, invertHex } from '../store/order';

export type VolumeStatus =
  | 'creating'
  | 'available'
  | 'in-use'
  | 'deleting'
  | 'error'
  | 'error_deleting'
  | 'extending'
  | 'error_extending'
  | 'attaching'
  | 'detaching'
  | 'reserved'
  | 'maintenance'
  | 'backing-up'
  | 'restoring-backup'
  | 'error_restoring'
  | 'downloading'
  | 'uploading'
  | 'retyping'
  /** A revert to snapshot (3.40) is under way (volumes/revert.ts). */
  | 'reverting'
  | 'error_managing'
  | 'managing'
  | 'unmanaging'
  | 'error_unmanaging'
  | 'awaiting-transfer';

export interface VolumeRecord {
  id: string;
  project_id: string;
  user_id: string;
  name: string | null;
  description: string | null;
  size: number;
  status: VolumeStatus;
  attach_status: 'attached' | 'detached' | 'attaching' | 'detaching' | 'error_attaching' | 'error_detaching' | 'reserved';
  migration_status: string | null;
  availability_zone: string;
  bootable: boolean;
  volume_type_id: string;
  metadata: Record<string, string>;
  snapshot_id: string | null;
  source_volid: string | null;
  created_at: string;
  updated_at: string | null;
  /**
   * The managed disk: name volume-<id>, its SKU, its ARM id once known, and the IOPS and MB/s its type's
   * QoS specs gave it at create (Premium SSD v2 and Ultra only: qos/performance.ts).
   */
  disk: { name: string; sku: string; armId?: string; iops?: number; mbps?: number };
  /**
   * A multiattach volume (its type's `multiattach` extra spec `<is> True`, volume/api.py
   * _is_multiattach): its disk is an Azure shared disk (maxShares > 1), attached to several servers.
   */
  multiattach?: boolean;
  /** Target size of a running os-extend. */
  extend_to?: number;
  /** The volume type a retype in progress (status retyping) changes to (volumes/retype.ts). */
  retype_to?: string;
  /** Glance metadata of the image the volume came from (os-vol-image-meta); absent when none. */
  image_metadata?: Record<string, string>;
  /** Where a create from an image or a backup takes its data (see sources.ts). */
  image_source?: ImageSource;
  backup_id?: string | null;
  /** A backup being restored over this volume: the new disk, made before the old one is removed. */
  restore?: { backup_id: string; disk_name: string; old_disk?: string };
  /**
   * A revert to snapshot under way (status reverting; volumes/revert.ts): the snapshot, the new disk made
   * from it, and once that disk is swapped in, the old disk about to be deleted.
   */
  revert?: { snapshot_id: string; snapshot_project_id: string; disk_name: string; old_disk?: string };
  /**
   * A reimage under way (3.68, status downloading; volumes/reimage.ts): the image, where its data is (or
   * the boot snapshot a Nova image of a volume-backed server names), the Glance metadata the volume takes
   * once done, the new disk made from it, and once that disk is swapped in, the old disk about to be deleted.
   */
  reimage?: {
    image_id: string;
    source: ImageSource | { kind: 'snapshot'; snapshot_id: string };
    image_metadata: Record<string, string>;
    disk_name: string;
    old_disk?: string;
  };
  /** A running os-volume_upload_image: the image being written. */
  upload?: { image_id: string; disk_format: string; force: boolean };
  /** The status to return to after backing-up / uploading (Cinder's previous_status). */
  previous_status?: VolumeStatus;
  /** The transfer offering this volume (status awaiting-transfer); transfers/service.ts. */
  transfer_id?: string;
  /**
   * An accept that won the volume (under its ETag) and is moving it to its project: no other accept
   * or cancel may act while this is set; once it is older than a request can live (`at`), the same
   * project's retried accept resumes the move (its request died mid-move).
   */
  accepting?: { transfer_id: string; project_id: string; user_id: string; at: string };
  /** Cinder's volume admin metadata (os-update_readonly_flag's `readonly`: 'True'/'False'); absent when none. */
  admin_metadata?: Record<string, string>;
  /**
   * A volume being managed (status managing; shared/volume/manage): the Azure disk it adopts. The record
   * names that disk (disk.name) only once the manage has succeeded, so a manage that ends in
   * error_managing never leads a delete to the disk it could not adopt.
   */
  manage_ref?: { source_name: string };
  /** The generic volume group the volume belongs to (3.13; shared/volume/groups); absent or null when none. */
  group_id?: string | null;
}

/**
 * A generic volume group (cinder/db models.Group, 3.13): a Jacket record only — on Azure nothing is
 * made for it, so a create lands `available` at once. In its project's partition of `volgroups`, found
 * by id through volindex ('group'); its members are the project's volumes whose group_id names it.
 */
export interface GroupRecord {
  id: string;
  project_id: string;
  user_id: string;
  name: string | null;
  description: string | null;
  status: 'creating' | 'available' | 'updating' | 'deleting' | 'deleted' | 'error' | 'error_deleting';
  availability_zone: string;
  group_type_id: string;
  volume_type_ids: string[];
  created_at: string;
  updated_at: string | null;
  /** The group snapshot or group a create-from-src (3.14) made this group from; absent or null when none. */
  group_snapshot_id?: string | null;
  source_group_id?: string | null;
}

/**
 * A group snapshot (cinder/db models.GroupSnapshot, 3.14): a Jacket record whose members are snapshot
 * records (one Azure snapshot snapshot-<id> per member volume) naming it in group_snapshot_id. In
 * its project's partition of `volgroupsnaps`, found by id through volindex ('group_snapshot').
 */
export interface GroupSnapshotRecord {
  id: string;
  project_id: string;
  user_id: string;
  group_id: string;
  group_type_id: string;
  name: string | null;
  description: string | null;
  status: 'creating' | 'available' | 'deleting' | 'error' | 'error_deleting';
  created_at: string;
  updated_at: string | null;
  /** Its member snapshots, found by id through volindex wherever they are (a transfer of a member volume moves its snapshots to the taker's project). */
  snapshot_ids: string[];
}

/** A group's use of a group type or volume type (partition: the type id; row: the group id). */
export interface GroupUseRow {
  project_id: string;
}

/**
 * A volume transfer (cinder/db models.Transfer): in the giving project's partition of `voltransfers`
 * (its volume's project while the transfer exists), found by id through volindex ('transfer'). The
 * auth key is never stored: only Cinder's salt and HMAC-SHA1(salt, key).
 */
export interface TransferRecord {
  id: string;
  volume_id: string;
  display_name: string | null;
  salt: string;
  crypt_hash: string;
  created_at: string;
  no_snapshots: boolean;
  source_project_id: string;
}

/** The data of a volume made from an image: a Jacket image's VHD blob, or a marketplace image. */
export type ImageSource =
  | { kind: 'blob'; image_id: string; blob_name: string }
  /** An image with no blob of its own, only a managed image (e.g. a server snapshot). */
  | { kind: 'managed'; image_id: string; managed_image_id: string }
  | { kind: 'marketplace'; image_id: string; publisher: string; offer: string; sku: string; version: string };

export type BackupStatus = 'creating' | 'available' | 'deleting' | 'error' | 'error_deleting' | 'restoring' | 'error_restoring';

export interface BackupRecord {
  id: string;
  project_id: string;
  user_id: string;
  volume_id: string;
  /** The volume's project (admins may back up another project's volume). */
  volume_project_id: string;
  name: string | null;
  description: string | null;
  container: string | null;
  size: number;
  status: BackupStatus;
  fail_reason: string | null;
  /** The backup this one is incremental on; null for a full backup. */
  parent_id: string | null;
  snapshot_id: string | null;
  availability_zone: string | null;
  created_at: string;
  updated_at: string | null;
  data_timestamp: string;
  /** The page blob backup-<id>.vhd in the backups container, and what the copy found. */
  blob: {
    name: string;
    dataBytes: number;
    copiedBytes?: number;
    changedBytes?: number;
    /** Chunks the copy took (config.work.copyChunkBytes each; chunks with no data are skipped). */
    chunks?: number;
    /** A running copy: where the next chunk starts and what was copied so far (backupWork.ts). */
    progress?: CopyProgress;
  };
  /** The volume a running restore writes to. */
  restore_volume_id?: string;
  /** The backup's own metadata (3.43 BACKUP_METADATA: set at create, replaced by update); absent: none. */
  metadata?: Record<string, string>;
  /**
   * The source volume's metadata when the backup was made, which a restore puts onto its target
   * (cinder/backup/driver.py BackupMetadataAPI: volume-base-metadata, volume-metadata,
   * volume-glance-metadata; see restoredVolumeMeta). Absent on backups made before Jacket kept it.
   */
  volume_meta?: BackupVolumeMeta;
}

export interface BackupVolumeMeta {
  name: string | null;
  description: string | null;
  metadata: Record<string, string>;
  image_metadata?: Record<string, string>;
}

/**
 * What a restore writes onto its target volume, as BackupMetadataAPI.put (version 2) does: the volume
 * metadata replaces the target's when the source had any (volume_metadata_update with delete); the
 * Glance metadata likewise, and the volume becomes bootable; the name and description only when the
 * source had a name and the target looks auto-created for this restore (no name, or
 * restore_backup_<id>), so a volume the user named keeps its name.
 */
export function restoredVolumeMeta(target: Pick<VolumeRecord, 'name'>, m: BackupVolumeMeta | undefined): Partial<VolumeRecord> {
  if (!m) return {};
  const out: Partial<VolumeRecord> = {};
  if (m.name && (!target.name || target.name.startsWith('restore_backup_'))) {
    out.name = m.name;
    out.description = m.description;
  }
  if (Object.keys(m.metadata).length > 0) out.metadata = { ...m.metadata };
  if (m.image_metadata && Object.keys(m.image_metadata).length > 0) {
    out.image_metadata = { ...m.image_metadata };
    out.bootable = true;
  }
  return out;
}

export type SnapshotStatus = 'creating' | 'available' | 'deleting' | 'error' | 'error_deleting' | 'backing-up' | 'restoring' | 'unmanaging';

export interface SnapshotRecord {
  id: string;
  project_id: string;
  user_id: string;
  volume_id: string;
  /** The volume's project (a snapshot is the creator's; its volume may be another project's, for admins). */
  volume_project_id: string;
  name: string | null;
  description: string | null;
  size: number;
  /** The volume's type, which volumes made from the snapshot inherit. */
  volume_type_id: string;
  status: SnapshotStatus;
  metadata: Record<string, string>;
  created_at: string;
  updated_at: string | null;
  /** The incremental managed snapshot: name snapshot-<id>, its ARM id once known. */
  azure: { name: string; armId?: string };
  /** Claimed by an accepted transfer of its volume, moving to this project (its delete is refused meanwhile). */
  moving_to?: string;
  /** The progress os-update_snapshot_status reported ("50%"); absent: derived from the status. */
  progress?: string;
  /** A snapshot being managed (status creating; shared/volume/manage): the Azure snapshot it adopts, named in azure.name only once adopted. */
  manage_ref?: { source_name: string };
  /** The group snapshot this snapshot is a member of (3.14); absent or null when none. */
  group_snapshot_id?: string | null;
}

interface OwnerRow {
  project_id: string;
}

export interface DependentRow {
  /** snapshot: of a volume; clone: a volume being made from it; backup: an incremental child of a backup; blob-share: an imported backup using this backup's blob (backups/records.ts). */
  kind: 'snapshot' | 'clone' | 'backup' | 'blob-share';
  project_id: string;
}

interface TypeUseRow {
  project_id: string;
}

const VOLUME_COLUMNS = ['status', 'name', 'snapshot_id', 'source_volid', 'volume_type_id', 'availability_zone', 'size', 'bootable'] as const;
const SNAPSHOT_COLUMNS = ['status', 'name', 'volume_id'] as const;
const BACKUP_COLUMNS = ['status', 'name', 'volume_id', 'parent_id'] as const;

/**
 * disk_names: the disks the record names (its disk, and a restore's, revert's or reimage's new and old disk), space-separated,
 * so the disk sweep reads them for every volume in one query (shared/volume/ownership.ts) instead of
 * one GET per disk. Rows written before the column existed lack it (the sweep then reads the record).
 */
const volumeDerived = (v: VolumeRecord) => ({ disk_names: recordDiskNames(v).join(' ') });

/** Every disk the record names: its disk, and the new and old disk of a restore, a revert or a reimage under way. */
export const recordDiskNames = (v: VolumeRecord): string[] =>
  [v.disk.name, v.restore?.disk_name, v.restore?.old_disk, v.revert?.disk_name, v.revert?.old_disk, v.reimage?.disk_name, v.reimage?.old_disk].filter((n): n is string => !!n);

export function volumeTables(s: Services) {
  return {
    volumes: s.tables.repository<VolumeRecord>('volumes', [...VOLUME_COLUMNS], volumeDerived, volumeOrderKey),
    snapshots: s.tables.repository<SnapshotRecord>('volsnapshots', [...SNAPSHOT_COLUMNS]),
    backups: s.tables.repository<BackupRecord>('volbackups', [...BACKUP_COLUMNS]),
    index: s.tables.repository<OwnerRow>('volindex'),
    deps: s.tables.repository<DependentRow>('voldeps', ['kind']),
    typeUse: s.tables.repository<TypeUseRow>('voltypeuse'),
    /** Marks of the data migrations that have run (ensureVolumeCopies). */
    meta: s.tables.repository<{ done: boolean }>('volmeta'),
    transfers: s.tables.repository<TransferRecord>('voltransfers', ['volume_id', 'display_name']),
    groups: s.tables.repository<GroupRecord>('volgroups', ['status', 'name']),
    /** Which groups use a type (Cinder's group_volume_type_mapping and groups.group_type_id): a type in use is not deleted. */
    groupUse: s.tables.repository<GroupUseRow>('volgroupuse'),
    groupSnapshots: s.tables.repository<GroupSnapshotRecord>('volgroupsnaps', ['status', 'group_id']),
  };
}

/** The copies' sort key: ascending in Cinder's default order, created_at desc then id desc (shared/store/order.ts). */
export const volumeOrderKey = (v: Pick<VolumeRecord, 'created_at' | 'id'>) => `${invertDigits(v.created_at)}_${invertHex(v.id)}`;

const MIGRATIONS = 'migrations';
const COPIES_DONE = 'volume-copies-1';
const copiesReady = new WeakMap<Services, Promise<void>>();

/**
 * Gives every volume its ordered copy (the migration for volumes made before the copies existed): once
 * per deployment, marked by a row; a process checks the mark once (one point read) and caches it. A
 * copy is written by rewriting the record on its own ETag (the write carries the copy); a record
 * that changed meanwhile got its copy from that write. Creates write their copy with the record, so
 * nothing made after the mark lacks one.
 */
export function ensureVolumeCopies(s: Services): Promise<void> {
  let p = copiesReady.get(s);
  if (!p) {
    p = (async () => {
      const t = volumeTables(s);
      if (await t.meta.get(MIGRATIONS, COPIES_DONE)) return;
      // One write per volume: the query gives each record with its ETag.
      const rows = await t.volumes.columns(['doc']);
      for (let i = 0; i < rows.length; i += 50)
        await Promise.all(
          rows.slice(i, i + 50).map((r) => rewrite(t.volumes, r.partitionKey, r.rowKey, typeof r.etag === 'string' ? { value: JSON.parse(r.doc as string) as VolumeRecord, etag: r.etag } : undefined)),
        );
      await t.meta.upsert(MIGRATIONS, COPIES_DONE, { done: true });
    })();
    p.catch(() => copiesReady.delete(s));
    copiesReady.set(s, p);
  }
  return p;
}

/** Writes the record again on its ETag (which writes its copy); a record changed meanwhile has its copy. */
async function rewrite(repo: Repository<VolumeRecord>, pk: string, rk: string, read?: { value: VolumeRecord; etag: string }): Promise<void> {
  const cur = read ?? (await repo.get(pk, rk));
  if (!cur) return;
  try {
    await repo.replace(pk, rk, cur.value, cur.etag);
  } catch (e) {
    if (!(e instanceof ConcurrencyError)) throw e;
  }
}

/**
 * Restores the ordered copies missing for these volumes of one project, and removes copies whose
 * record is gone: the repair for records an older instance wrote without copies during a rolling
 * deploy, or a delete cut short between its two steps (store/tables.ts deleteWithCopy). Run by the
 * hourly quota recount (volume/quotas/engine.ts), which reads the project's volumes anyway. A stale
 * copy of a live record is not detected here; the record's next write replaces it. Returns how many
 * copies it wrote or removed.
 */
export async function repairVolumeCopies(s: Services, projectId: string, volumes: Stored<VolumeRecord>[]): Promise<number> {
  const t = volumeTables(s);
  const have = new Set(await t.volumes.copyKeys(projectId));
  const want = new Set(volumes.map((v) => volumeOrderKey(v.value)));
  let fixed = 0;
  for (const v of volumes) {
    if (have.has(volumeOrderKey(v.value))) continue;
    await rewrite(t.volumes, v.partitionKey, v.rowKey);
    fixed++;
  }
  // A copy without a record: the record is read again first, as a create writes both at once and
  // may have landed since the list was read.
  for (const key of have) {
    if (want.has(key)) continue;
    if (await t.volumes.dropOrphanCopy(projectId, key)) fixed++;
  }
  return fixed;
}

export const diskNameOf = (volumeId: string) => `volume-${volumeId}`;
export const snapshotNameOf = (snapshotId: string) => `snapshot-${snapshotId}`;

/** Azure's tags on every disk and snapshot Jacket makes. */
export function jacketTags(kind: 'volume' | 'snapshot', id: string, projectId: string, volumeId: string): Record<string, string> {
  return kind === 'volume'
    ? { jacket: 'volume', 'jacket-volume-id': id, 'jacket-project-id': projectId }
    : { jacket: 'snapshot', 'jacket-snapshot-id': id, 'jacket-volume-id': volumeId, 'jacket-project-id': projectId };
}

async function ownerOf(repo: Repository<OwnerRow>, kind: 'volume' | 'snapshot' | 'backup' | 'transfer' | 'group' | 'group_snapshot', id: string): Promise<string | undefined> {
  return (await repo.get(kind, id))?.value.project_id;
}

/**
 * A record the caller may see: in the token's project, or (admins, as Cinder's admin context) any
 * project's, found through the id index. Others' records answer Cinder's 404.
 */
async function findVisible<T extends object>(
  ctx: RequestContext,
  repo: Repository<T>,
  kind: 'volume' | 'snapshot' | 'backup' | 'group' | 'group_snapshot',
  label: string,
  id: string,
): Promise<Stored<T>> {
  const own = await repo.get(ctx.auth!.projectId!, id);
  if (own) return own;
  if (isAdmin(ctx.auth!)) {
    const p = await ownerOf(volumeTables(ctx.services).index, kind, id);
    const rec = p ? await repo.get(p, id) : undefined;
    if (rec) return rec;
  }
  throw notFound(`${label} ${id} could not be found.`);
}

export const findVolume = (ctx: RequestContext, id: string): Promise<Stored<VolumeRecord>> => findVisible(ctx, volumeTables(ctx.services).volumes, 'volume', 'Volume', id);
export const findSnapshot = (ctx: RequestContext, id: string): Promise<Stored<SnapshotRecord>> => findVisible(ctx, volumeTables(ctx.services).snapshots, 'snapshot', 'Snapshot', id);
export const findGroup = (ctx: RequestContext, id: string): Promise<Stored<GroupRecord>> => findVisible(ctx, volumeTables(ctx.services).groups, 'group', 'Group', id);
export const findGroupSnapshot = (ctx: RequestContext, id: string): Promise<Stored<GroupSnapshotRecord>> =>
  findVisible(ctx, volumeTables(ctx.services).groupSnapshots, 'group_snapshot', 'GroupSnapshot', id);
export const findBackup = (ctx: RequestContext, id: string): Promise<Stored<BackupRecord>> => findVisible(ctx, volumeTables(ctx.services).backups, 'backup', 'Backup', id);

/** A backup by id for the work steps (any project). */
/** Cinder's AVAILABLE_MIGRATION_STATUS: none ever, or the last one ended (success, error, deleting). */
export const AVAILABLE_MIGRATION_STATUS: (string | null)[] = [null, 'deleting', 'error', 'success'];

/** volume/api.py _is_volume_migrating: a migration is under way (starting, migrating, completing...). */
export const isMigrating = (v: Pick<VolumeRecord, 'migration_status'>) => !AVAILABLE_MIGRATION_STATUS.includes(v.migration_status);

/** _create_snapshot_in_db_validate: why a volume cannot be snapshotted now (maintenance, migrating, error), or undefined. */
export function snapshotRefusal(v: Pick<VolumeRecord, 'status' | 'migration_status'>): string | undefined {
  if (v.status === 'maintenance') return 'Invalid volume: The snapshot cannot be created when the volume is in maintenance mode.';
  if (isMigrating(v)) return 'Invalid volume: Snapshot cannot be created while volume is migrating.';
  if (v.status === 'error') return 'Invalid volume: The snapshot cannot be created when the volume is in error status.';
  return undefined;
}

/** A volume by id alone (work steps, another service): through the index row to its project. */
export async function volumeById(s: Services, id: string): Promise<Stored<VolumeRecord> | undefined> {
  const t = volumeTables(s);
  const p = (await t.index.get('volume', id))?.value.project_id;
  return p ? t.volumes.get(p, id) : undefined;
}

/** A snapshot by id alone (work steps, another service): through the index row to its project. */
export async function snapshotById(s: Services, id: string): Promise<Stored<SnapshotRecord> | undefined> {
  const t = volumeTables(s);
  const p = (await t.index.get('snapshot', id))?.value.project_id;
  return p ? t.snapshots.get(p, id) : undefined;
}

export async function backupById(s: Services, id: string): Promise<Stored<BackupRecord> | undefined> {
  const t = volumeTables(s);
  const p = (await t.index.get('backup', id))?.value.project_id;
  return p ? t.backups.get(p, id) : undefined;
}

export async function dependentsOf(s: Services, sourceId: string, kind?: DependentRow['kind']): Promise<Stored<DependentRow>[]> {
  const rows = await volumeTables(s).deps.list(sourceId);
  return kind ? rows.filter((r) => r.value.kind === kind) : rows;
}

/**
 * objects' assert_not_frozen: a frozen backend (os-services/freeze) takes no volume delete, snapshot
 * create or snapshot delete. Jacket has one backend, so every volume and snapshot is on it.
 */
export async function assertNotFrozen(s: Services): Promise<void> {
  if (await volumeBackendFrozen(s)) throw badRequest('Invalid input received: Modification operations are not allowed on frozen storage backends.');
}
