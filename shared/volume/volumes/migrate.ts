// Cinder's os-migrate_volume (admin_actions.py _migrate_volume, volume/api.py migrate_volume, the
// manager's migrate_volume) on Azure. Jacket's one backend, jacket@azure, has a pool per managed disk SKU
// (pools/api.ts; a volume's host is jacket@azure#<its disk's SKU>), so a migration to another pool of
// the backend is the driver-assisted kind: a PATCH of the disk's SKU, on the work queue (kind
// volume-migrate). The volume keeps its type (Cinder moves the volume, not its type); its host and
// migration_status follow: starting -> migrating -> success, or error when the pool is not one of the
// backend's (the scheduler's NoValidBackend) or Azure refuses (a running VM holds the disk: Azure changes
// the SKU only of a disk no running VM holds — Cinder would fall back to Nova's swap_volume, which
// Jacket's Nova never swaps). force_host_copy asks Cinder to skip the driver and copy the data to a new
// volume; on Azure the SKU change is that copy (Azure moves the data behind it), so both take one path.
// lock_volume turns an available volume 'maintenance' for the migration's length.
import type { RequestContext } from '../../http/router';
import type { Services } from '../../services';
import { accepted } from '../../http/respond';
import { badRequest } from '../../http/errors';
import { validateBody } from '../../api/validation';
import { startWork } from '../../work/ledger';
import { done, type WorkItem, type WorkKind } from '../../work/types';
import { log } from '../../log';
import { listServices, VOLUME_HOST } from '../../servicegroup/registry';
import { booleanSchema, boolParam, cinderTime, clusterOrHost } from '../common';
import { dependentsOf, findVolume, isMigrating, volumeTables, type VolumeRecord } from '../model';
import { DISK_SKUS } from '../types/store';
import { VOLUME_MIGRATE } from '../workKinds';
import { projectOf, refuse } from './work';
import { changeDiskSku } from './retype';

/** admin_actions.migrate_volume (3.0-3.15): host required. */
const migrateSchema = {
  type: 'object',
  required: ['os-migrate_volume'],
  additionalProperties: false,
  properties: {
    'os-migrate_volume': {
      type: 'object',
      required: ['host'],
      additionalProperties: false,
      properties: { host: { type: 'string', maxLength: 255 }, force_host_copy: booleanSchema, lock_volume: booleanSchema },
    },
  },
};

/** admin_actions.migrate_volume_v316 (3.16, VOLUME_MIGRATE_CLUSTER): host or cluster. */
const migrateSchemaV316 = {
  ...migrateSchema,
  properties: {
    'os-migrate_volume': {
      type: 'object',
      additionalProperties: false,
      properties: {
        host: { type: ['string', 'null'], maxLength: 255 },
        force_host_copy: booleanSchema,
        lock_volume: booleanSchema,
        // parameter_types.name_allow_zero_min_length
        cluster: { type: ['string', 'null'], minLength: 0, maxLength: 255 },
      },
    },
  },
};

/** POST /volumes/{id}/action {"os-migrate_volume": {host | cluster, force_host_copy, lock_volume}}: 202. */
export async function migrateVolume(ctx: RequestContext) {
  const s = ctx.services;
  const schema = ctx.microversion?.atLeast('3.16') ? migrateSchemaV316 : migrateSchema;
  const params = validateBody<{ 'os-migrate_volume': { host?: string | null; cluster?: string | null; force_host_copy?: unknown; lock_volume?: unknown } }>(schema, ctx.body)['os-migrate_volume'];
  const cur = await findVolume(ctx, ctx.params.volume_id);
  const { host, cluster } = clusterOrHost(ctx, params);
  boolParam(params.force_host_copy ?? false, 'force_host_copy');
  const lock = boolParam(params.lock_volume ?? false, 'lock_volume');
  // The destination's service, up and enabled (Service.get_by_id at the pool match level): Jacket's one
  // cinder-volume, jacket@azure, in no cluster — so every cluster is unknown.
  const target = cluster ?? host!;
  const backend = (host ?? '').split('#')[0];
  const svc = cluster
    ? undefined
    : (await listServices(s, 'volume')).find((v) => v.binary === 'cinder-volume' && v.up && !v.disabled && (v.host === backend || (!backend.includes('@') && v.host.startsWith(`${backend}@`))));
  if (!svc) throw badRequest(`Invalid host: No available service named '${target}'`);
  const v = cur.value;
  const refused = () =>
    badRequest(
      `Invalid volume: Volume ${v.id} status must be available or in-use, must not be migrating, have snapshots, be replicated, be part of a group and destination host/cluster must be different than the current one`,
    );
  // The conditional update's conditions: status, migration status, no group, another host, no snapshots.
  const ok = (x: VolumeRecord) => ['available', 'in-use'].includes(x.status) && !isMigrating(x) && !x.group_id && `${VOLUME_HOST}#${x.disk.sku}` !== host;
  if (!ok(v) || (await dependentsOf(s, v.id, 'snapshot')).length > 0) throw refused();
  const next: VolumeRecord = {
    ...v,
    migration_status: 'starting',
    previous_status: v.status,
    ...(lock && v.status === 'available' ? { status: 'maintenance' as VolumeRecord['status'] } : {}),
    updated_at: cinderTime(),
  };
  await volumeTables(s)
    .volumes.replace(cur.partitionKey, cur.rowKey, next, cur.etag)
    .catch(() => {
      throw refused();
    });
  await startWork(s, { kind: VOLUME_MIGRATE, id: v.id, data: { project: cur.partitionKey, host: target }, requestId: ctx.requestId });
  return accepted();
}

/** The pool (disk SKU) a migration's host names, when it is one of jacket@azure's. */
function poolOf(host: string): string | undefined {
  const [backend, pool] = host.split('#');
  return backend === VOLUME_HOST && pool && DISK_SKUS.includes(pool) ? pool : undefined;
}

/** The migration ends: its status, the volume back to the status it had (out of maintenance). */
async function finish(s: Services, item: WorkItem, result: 'success' | 'error', sku?: string): Promise<void> {
  await volumeTables(s).volumes.update(projectOf(item), item.id, (x) =>
    x.migration_status !== 'migrating' && x.migration_status !== 'starting'
      ? undefined
      : {
          ...x,
          migration_status: result,
          status: x.status === 'maintenance' ? (x.previous_status ?? 'available') : x.status,
          previous_status: undefined,
          ...(sku ? { disk: { ...x.disk, sku } } : {}),
          updated_at: cinderTime(),
        },
  );
}

export const volumeMigrate: WorkKind = {
  kind: VOLUME_MIGRATE,
  async run(item, s) {
    const cur = await volumeTables(s).volumes.get(projectOf(item), item.id);
    if (!cur || !['starting', 'migrating'].includes(cur.value.migration_status ?? '')) return done();
    const v = cur.value;
    const sku = poolOf(String(item.data?.host));
    // The scheduler finds no backend for a pool the backend does not have.
    if (!sku) throw refuse('NoValidBackend', `No valid backend was found. Cannot place volume ${v.id} on ${String(item.data?.host)}`);
    if (v.migration_status === 'starting') {
      await volumeTables(s).volumes.update(projectOf(item), item.id, (x) => (x.migration_status === 'starting' ? { ...x, migration_status: 'migrating', updated_at: cinderTime() } : undefined));
    }
    return changeDiskSku(s, item, v.disk, sku, 'MigrationFailed', () => finish(s, item, 'success', sku));
  },
  async giveUp(item, s, f) {
    log.warn('volume migration failed', { volume: item.id, code: f.code, reason: f.message.slice(0, 300) });
    await finish(s, item, 'error');
  },
};
