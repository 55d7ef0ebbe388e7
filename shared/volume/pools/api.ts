// GET /scheduler-stats/get_pools and GET /capabilities/{host} (admin), as Cinder answers them for its
// one backend jacket@azure (volume_backend_name "azure"): one pool per managed disk SKU the volume types
// map to (azure:sku, Standard_LRS when unset) or a volume still uses, named host@backend#pool as Cinder
// names pools. Capabilities are what a Cinder driver reports for its pools: Azure gives a subscription
// no storage capacity to fill (disk counts and sizes are quotas), so total and free capacity are
// 'infinite', which Cinder's capacity filter accepts; allocated/provisioned capacity and total_volumes
// come from the volume records (one column query); no QoS specs, thick provisioning, multiattach for
// the SKUs Azure can share (shared disks).
// The timestamp is cinder-volume's last heartbeat (when the backend last reported). docs/services.md.
import type { RequestContext, Route } from '../../http/router';
import type { Services } from '../../services';
import { json } from '../../http/respond';
import { notFound } from '../../http/errors';
import { SHAREABLE_SKUS } from '../../azure/disks';
import { cinderRoute, cinderTime, getBoolParam } from '../common';
import { DEFAULT_SKU, skuOf, typeByNameOrId, typeStore } from '../types/store';
import { generalFiltering } from '../filters';
import { volumeTables } from '../model';
import { listServices, VOLUME_HOST } from '../../servicegroup/registry';

export const BACKEND_NAME = 'azure';
export const DRIVER_VERSION = '1.0.0';
/** What os-initialize_connection answers as driver_volume_type (attachments/service.ts). */
export const STORAGE_PROTOCOL = 'azure_managed_disk';

interface Pool {
  name: string;
  capabilities: Record<string, unknown>;
}

async function pools(s: Services): Promise<Pool[]> {
  const types = await typeStore(s).list();
  const skuOfType = new Map(types.map((t) => [t.id, skuOf(t)]));
  const skus = new Set(types.map(skuOf));
  const usage = new Map<string, { n: number; gb: number }>();
  for (const r of await volumeTables(s).volumes.columns(['size', 'volume_type_id'])) {
    const sku = skuOfType.get(String(r.volume_type_id)) ?? DEFAULT_SKU;
    skus.add(sku);
    const u = usage.get(sku) ?? { n: 0, gb: 0 };
    u.n += 1;
    u.gb += Number(r.size) || 0;
    usage.set(sku, u);
  }
  const backend = (await listServices(s, 'volume')).find((v) => v.binary === 'cinder-volume');
  const timestamp = backend ? cinderTime(new Date(backend.updated_at)) : null;
  return [...skus].sort().map((sku) => {
    const u = usage.get(sku) ?? { n: 0, gb: 0 };
    return {
      name: `${VOLUME_HOST}#${sku}`,
      capabilities: {
        pool_name: sku,
        total_capacity_gb: 'infinite',
        free_capacity_gb: 'infinite',
        allocated_capacity_gb: u.gb,
        provisioned_capacity_gb: u.gb,
        reserved_percentage: 0,
        max_over_subscription_ratio: '1.0',
        thin_provisioning_support: false,
        thick_provisioning_support: true,
        QoS_support: false,
        // Azure shares disks of these SKUs (shared/azure/disks.ts SHAREABLE_SKUS).
        multiattach: SHAREABLE_SKUS.includes(sku),
        total_volumes: u.n,
        location_info: `AzureManagedDisk:${s.config.azure.location}:${sku}`,
        backend_state: backend?.up ? 'up' : 'down',
        filter_function: null,
        goodness_function: null,
        volume_backend_name: BACKEND_NAME,
        vendor_name: 'Microsoft',
        driver_version: DRIVER_VERSION,
        storage_protocol: STORAGE_PROTOCOL,
        timestamp,
      },
    };
  });
}

export const POOL_FILTER = '3.28';
/** POOL_TYPE_FILTER: the volume_type filter (below it Cinder's controller pops the key). */
export const POOL_TYPE_FILTER = '3.35';

/** The query's pairs less the first of `key` (webob MultiDict.pop removes one), and that value. */
function popFirst(pairs: [string, string][], key: string): string | undefined {
  const i = pairs.findIndex(([k]) => k === key);
  return i < 0 ? undefined : pairs.splice(i, 1)[0][1];
}

/** host_manager._equal_after_convert: a capability against a query string. */
function equalAfterConvert(cap: unknown, value: string): boolean {
  if (cap === null || cap === undefined || typeof cap === 'string') return value === cap;
  // strutils.bool_from_string, not strict: anything but a true word is false.
  if (typeof cap === 'boolean') return cap === ['1', 't', 'true', 'on', 'y', 'yes'].includes(value.trim().toLowerCase());
  return value === String(cap);
}

/**
 * GET /scheduler-stats/get_pools[?detail=true] (scheduler_stats.py get_pools): `detail` a strict boolean
 * (utils.get_bool_param); every other query pair is a filter from 3.28 (POOL_FILTER; below it
 * Cinder clears them): `name` the pool's name exactly, any other key a capability compared as
 * host_manager.get_pools does (_equal_after_convert); a key no capability has matches no pool.
 * From 3.31 the generic resource filters check the keys, for admins too (pool is the one resource they
 * are not exempt from): only the configured ones (`name`, `volume_type`), else 400. `volume_type` is
 * 3.35's, popped below it: a type by name or id (404 when none) whose pools are those its SKU maps to,
 * as the scheduler's filters would place its volumes.
 */
async function getPools(ctx: RequestContext) {
  const detail = getBoolParam(ctx.query, 'detail');
  let filters: [string, string][] = ctx.microversion?.atLeast(POOL_FILTER) ? [...ctx.query.entries()] : [];
  popFirst(filters, 'detail');
  const checked = new Map(filters);
  if (generalFiltering(ctx, checked, 'pool') && !checked.has('all_tenants')) filters = filters.filter(([k]) => k !== 'all_tenants');
  const typeFilter = popFirst(filters, 'volume_type');
  const volumeType = ctx.microversion?.atLeast(POOL_TYPE_FILTER) ? typeFilter : undefined;
  const name = popFirst(filters, 'name');
  let list = (await pools(ctx.services)).filter((p) => (!name || p.name === name) && filters.every(([k, v]) => equalAfterConvert(p.capabilities[k], v)));
  if (volumeType) {
    const sku = skuOf(await typeByNameOrId(ctx, volumeType));
    list = list.filter((p) => p.capabilities.pool_name === sku);
  }
  return json({ pools: list.map((p) => (detail ? { name: p.name, capabilities: p.capabilities } : { name: p.name })) });
}

const PROPERTY = (title: string, description: string) => ({ title, description, type: 'boolean' });

/** GET /capabilities/{host}: the backend's (host or host@backend) capabilities, as the volume manager reports them. */
async function capabilities(ctx: RequestContext) {
  const id = ctx.params.hostname;
  const svc = (await listServices(ctx.services, 'volume')).find((v) => v.binary === 'cinder-volume' && (v.host === id || v.host.startsWith(`${id}@`)));
  if (!svc) throw notFound(`Can't find service: ${id}`);
  return json({
    namespace: `OS::Storage::Capabilities::${svc.host}`,
    vendor_name: 'Microsoft',
    volume_backend_name: BACKEND_NAME,
    pool_name: null,
    driver_version: DRIVER_VERSION,
    storage_protocol: STORAGE_PROTOCOL,
    display_name: 'Capabilities of the Azure managed disk backend',
    description: 'Azure managed disks; the pool is the disk SKU (volume type extra spec azure:sku).',
    visibility: 'public',
    replication_targets: [],
    properties: {
      thin_provisioning: PROPERTY('Thin Provisioning', 'Sets thin provisioning.'),
      compression: PROPERTY('Compression', 'Enables compression.'),
      qos: PROPERTY('QoS', 'Enables QoS.'),
      replication: PROPERTY('Replication', 'Enables replication.'),
    },
  });
}

export const poolRoutes: Route[] = [
  cinderRoute('scheduler-stats-pools', 'GET', '/scheduler-stats/get_pools', 'scheduler_extension:scheduler_stats:get_pools', getPools),
  cinderRoute('capabilities-show', 'GET', '/capabilities/{hostname}', 'volume_extension:capabilities', capabilities),
];
