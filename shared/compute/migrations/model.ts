// Nova's migration records (nova/objects/migration.py): one per resize and per cold migrate, written
// when the action starts and moved through Nova's statuses as the work runs, read by GET /os-migrations.
//
// Storage: table 'migrations'
//   PK 'all'      RK = order key of the id (newest first)  -> MigrationRecord: the admin list is one
//                 partition query, filters on the indexed columns run in the query itself.
//   PK 'counter'  RK 'id'                                   -> { last }: the id sequence (Nova's DB
//                 autoincrement), advanced by ETag-conditional replaces, so two starts never share an id.
// A record's status changes are ETag-conditional read-modify-writes (Repository.update).
import { randomUUID } from 'node:crypto';
import type { Services } from '../../services';
import { AlreadyExistsError, ConcurrencyError, odata } from '../../store/tables';
import type { ServerRecord } from '../servers/model';

/** Nova's statuses for the moves Jacket makes (compute/manager.py, conductor/tasks/migrate.py). */
export type MigrationStatus = 'pre-migrating' | 'migrating' | 'post-migrating' | 'finished' | 'confirming' | 'confirmed' | 'reverting' | 'reverted' | 'error';
/** Nova's MigrationType values Jacket writes: resize, and 'migration' (a cold move, Azure's redeploy). */
export type MigrationType = 'resize' | 'migration';

export interface MigrationRecord {
  /** Nova's integer id (the DB's autoincrement): from the counter row, unique and increasing. */
  id: number;
  uuid: string;
  instance_uuid: string;
  source_compute: string | null;
  dest_compute: string | null;
  source_node: string | null;
  dest_node: string | null;
  dest_host: string | null;
  /** Nova's instance_types.id: the flavor's id when it is an integer (Jacket's flavors have no other integer id), else null. */
  old_instance_type_id: number | null;
  new_instance_type_id: number | null;
  /** The flavors' API ids, kept for operators (not in Nova's body). */
  old_flavor_id: string;
  new_flavor_id: string;
  status: MigrationStatus;
  migration_type: MigrationType;
  /** Nova hides the source cell's copy of a cross-cell move; Jacket has one cell: always false. */
  hidden: boolean;
  user_id: string;
  project_id: string;
  /** ISO times (milliseconds, Z). */
  created_at: string;
  updated_at: string | null;
}

const TABLE = 'migrations';
const PK_ALL = 'all';
const PK_COUNTER = 'counter';
const RK_COUNTER = 'id';
const INDEXED = ['instance_uuid', 'status', 'migration_type', 'source_compute', 'dest_compute', 'source_node', 'dest_node', 'user_id', 'project_id', 'uuid'] as const;

const repo = (s: Services) => s.tables.repository<MigrationRecord>(TABLE, [...INDEXED]);
const counterRepo = (s: Services) => s.tables.repository<{ last: number }>(TABLE);

const MAX_ID = 1e15;
/** RowKeys sort ascending; the inverted, zero-padded id puts the newest record first. */
export const migrationKey = (id: number): string => String(MAX_ID - id).padStart(16, '0');

/** The next id: the counter row advanced under its ETag (a lost race reads it again). */
async function nextId(s: Services): Promise<number> {
  const c = counterRepo(s);
  for (let i = 0; i < 50; i++) {
    const cur = await c.get(PK_COUNTER, RK_COUNTER);
    try {
      if (!cur) {
        await c.create(PK_COUNTER, RK_COUNTER, { last: 1 });
        return 1;
      }
      const id = cur.value.last + 1;
      await c.replace(PK_COUNTER, RK_COUNTER, { last: id }, cur.etag);
      return id;
    } catch (e) {
      if (!(e instanceof ConcurrencyError) && !(e instanceof AlreadyExistsError)) throw e;
    }
  }
  throw new Error('the migration id counter is too contended');
}

/** The flavor's id as Nova's integer instance type id, when it is one. */
const typeId = (flavorId: string): number | null => (/^[0-9]{1,15}$/.test(flavorId) ? Number(flavorId) : null);

/**
 * Writes the record of a move of `srv` starting now (Nova's conductor creates it 'pre-migrating').
 * Jacket has one compute host per region, the server's own: it is both source and destination.
 */
export async function createMigration(
  s: Services,
  srv: ServerRecord,
  type: MigrationType,
  newFlavorId: string,
  who: { userId: string; projectId: string },
  status: MigrationStatus = 'pre-migrating',
): Promise<MigrationRecord> {
  const id = await nextId(s);
  const host = srv.host ?? `azure-${s.config.azure.location}`;
  const now = new Date().toISOString();
  const rec: MigrationRecord = {
    id,
    uuid: randomUUID(),
    instance_uuid: srv.id,
    source_compute: host,
    dest_compute: host,
    source_node: host,
    dest_node: host,
    dest_host: host,
    old_instance_type_id: typeId(srv.flavor.id),
    new_instance_type_id: typeId(newFlavorId),
    old_flavor_id: srv.flavor.id,
    new_flavor_id: newFlavorId,
    status,
    migration_type: type,
    hidden: false,
    user_id: who.userId,
    project_id: who.projectId,
    created_at: now,
    updated_at: null,
  };
  await repo(s).create(PK_ALL, migrationKey(id), rec);
  return rec;
}

export async function getMigration(s: Services, id: number): Promise<MigrationRecord | undefined> {
  return (await repo(s).get(PK_ALL, migrationKey(id)))?.value;
}

/**
 * Moves a record to `status` (updated_at now), unless it is in none of `from` (when given): a late
 * or repeated work step never takes a record back. Returns whether it changed. A missing id (a record
 * written before migrations were kept) is ignored.
 */
export async function setMigrationStatus(s: Services, id: number | undefined, status: MigrationStatus, from?: MigrationStatus[]): Promise<boolean> {
  if (id === undefined) return false;
  let changed = false;
  await repo(s).update(PK_ALL, migrationKey(id), (v) => {
    if (v.status === status || (from && !from.includes(v.status))) return undefined;
    changed = true;
    return { ...v, status, updated_at: new Date().toISOString() };
  });
  return changed;
}

/** The filters Nova's migration_get_all_by_filters applies (each a single value, as the API passes them). */
export interface MigrationFilters {
  status?: string;
  /** source_compute or dest_compute */
  host?: string;
  /** only when `host` is not given (Nova's elif) */
  source_compute?: string;
  /** source_node or dest_node */
  node?: string;
  migration_type?: string;
  hidden?: boolean;
  instance_uuid?: string;
  user_id?: string;
  project_id?: string;
  uuid?: string;
}

/** The records matching `f`, newest first (one partition query, filtered in the table). */
export async function listMigrations(s: Services, f: MigrationFilters): Promise<MigrationRecord[]> {
  if (f.hidden === true) return []; // no record is hidden
  const parts: string[] = [];
  const eq = (col: (typeof INDEXED)[number], v: string | undefined) => {
    // An OData string literal (quotes doubled), as the SDK's odata tag writes one.
    if (v !== undefined) parts.push(`${col} eq '${v.replace(/'/g, "''")}'`);
  };
  eq('status', f.status);
  if (f.host !== undefined) parts.push(odata`(source_compute eq ${f.host} or dest_compute eq ${f.host})`);
  else eq('source_compute', f.source_compute);
  if (f.node !== undefined) parts.push(odata`(source_node eq ${f.node} or dest_node eq ${f.node})`);
  eq('migration_type', f.migration_type);
  eq('instance_uuid', f.instance_uuid);
  eq('user_id', f.user_id);
  eq('project_id', f.project_id);
  eq('uuid', f.uuid);
  const rows = await repo(s).list(PK_ALL, parts.length ? parts.join(' and ') : undefined);
  return rows.map((r) => r.value);
}

/** The statuses of a move still under way. */
export const IN_PROGRESS: MigrationStatus[] = ['pre-migrating', 'migrating', 'post-migrating', 'confirming', 'reverting'];

/**
 * An interrupted move (its work lost, its task state rolled back by the stale-task timer): the
 * instance's records still under way end 'error', as Nova's errors_out_migration leaves them.
 */
export async function failInstanceMigrations(s: Services, instanceUuid: string): Promise<number> {
  let n = 0;
  for (const m of await listMigrations(s, { instance_uuid: instanceUuid })) if (IN_PROGRESS.includes(m.status) && (await setMigrationStatus(s, m.id, 'error', IN_PROGRESS))) n++;
  return n;
}

/** Nova soft-deletes an instance's migrations with it (db instance_destroy): they leave the list. */
export async function deleteInstanceMigrations(s: Services, instanceUuid: string): Promise<void> {
  const r = repo(s);
  for (const row of await r.list(PK_ALL, odata`instance_uuid eq ${instanceUuid}`)) await r.delete(PK_ALL, row.rowKey).catch(() => undefined);
}
