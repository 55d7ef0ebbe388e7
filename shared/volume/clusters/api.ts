// /v3/{project_id}/clusters (cinder/api/v3/clusters.py, microversion 3.7 CLUSTER_SUPPORT), admin only.
// Jacket's cinder-volume is one service (host jacket@azure) in no cluster, so Cinder's answers for a
// deployment without clusters: the lists are empty (after Cinder's filter-key and boolean checks),
// show, enable and disable are 404 ClusterNotFound, whose id is the str() of the filters Cinder looked
// the cluster up by. Below 3.7 the routes have no method: 404 before any policy check.
import type { RequestContext, Route } from '../../http/router';
import { json } from '../../http/respond';
import { badRequest, notFound } from '../../http/errors';
import { validateBody } from '../../api/validation';
import { cinderRoute } from '../common';
import type { VolumePolicy } from '../policy';

/** 3.26: the replication filters and fields (services/api.ts has its freeze/thaw/failover side). */
export const REPLICATION_CLUSTER = '3.26';

export const CLUSTER_SUPPORT = '3.7';
const supported = (ctx: RequestContext) => ctx.microversion?.atLeast(CLUSTER_SUPPORT) ?? false;
const noMethod = () => notFound('The resource could not be found.');

/** ClusterController.allowed_list_keys; the replication fields from 3.26 (REPLICATION_CLUSTER). */
const LIST_KEYS = new Set(['name', 'binary', 'is_up', 'disabled', 'num_hosts', 'num_down_hosts']);
const REPLICATION_KEYS = new Set(['replication_status', 'frozen', 'active_backend_id']);
const BOOL_STRINGS = ['1', 't', 'true', 'on', 'y', 'yes', '0', 'f', 'false', 'off', 'n', 'no'];

/** cinder/api/schemas/clusters.py (name's 'name' format and disabled_reason's format checked in clusterBody). */
const enableSchema = {
  type: 'object',
  properties: { name: { type: 'string', minLength: 1, maxLength: 255 }, binary: { type: ['string', 'null'], minLength: 0, maxLength: 255 } },
  required: ['name'],
  additionalProperties: false,
};
const disableSchema = { ...enableSchema, properties: { ...enableSchema.properties, disabled_reason: { type: ['string', 'null'] } } };

interface Body {
  name: string;
  binary?: string | null;
  disabled_reason?: string | null;
}

/** Python's repr of a str or None, as str(dict) writes the values. */
const repr = (v: string | null) => (v === null ? 'None' : v.includes("'") && !v.includes('"') ? `"${v}"` : `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`);
/** db.cluster_get raises ClusterNotFound(id=str(filters)); the filters are binary, then name. */
const clusterNotFound = (binary: string | null, name: string) => notFound(`Cluster {'binary': ${repr(binary)}, 'name': ${repr(name)}} could not be found.`);

function clusterBody(action: 'enable' | 'disable', body: unknown): Body {
  const b = validateBody<Body>(action === 'enable' ? enableSchema : disableSchema, body);
  // validators.py _validate_name: InvalidName's own message.
  if (b.name.trim().length === 0) throw badRequest("An invalid 'name' value was provided. The 'name' can not be empty.");
  // _validate_disabled_reason: 1-255 characters once stripped.
  const r = b.disabled_reason;
  if (typeof r === 'string' && (r.trim().length < 1 || r.trim().length > 255)) {
    throw badRequest(`Invalid input for field/attribute disabled_reason. Value: ${r}. ${repr(r)} is not a 'disabled_reason'`);
  }
  return b;
}

/** The policy only where the method exists and (for the PUTs) the body passed its schema, which Cinder checks first. */
const policyOf =
  (p: VolumePolicy, action?: 'enable' | 'disable') =>
  (body: unknown, ctx: RequestContext): VolumePolicy | 'authenticated' => {
    if (!supported(ctx)) return 'authenticated';
    if (action) {
      try {
        clusterBody(action, body);
      } catch {
        return 'authenticated';
      }
    }
    return p;
  };

function list() {
  return async (ctx: RequestContext) => {
    if (!supported(ctx)) throw noMethod();
    const keys = [...new Set(ctx.query.keys())];
    const replication = ctx.microversion?.atLeast(REPLICATION_CLUSTER) ?? false;
    const invalid = keys.filter((k) => !LIST_KEYS.has(k) && !(replication && REPLICATION_KEYS.has(k)));
    if (invalid.length) throw badRequest(`Invalid input received: Invalid filter keys: ${invalid.join(', ')}`);
    for (const k of ['disabled', 'is_up']) {
      // utils.get_bool_param: the last value of the key (webob's GET dict), strict oslo booleans.
      const last = ctx.query.getAll(k).pop();
      if (last !== undefined && !BOOL_STRINGS.includes(last.toLowerCase())) throw badRequest(`Value '${last}' for '${k}' is not a boolean.`);
    }
    return json({ clusters: [] });
  };
}

async function show(ctx: RequestContext): Promise<never> {
  if (!supported(ctx)) throw noMethod();
  throw clusterNotFound('cinder-volume', ctx.params.cluster_name);
}

function update(action: 'enable' | 'disable') {
  return async (ctx: RequestContext) => {
    if (!supported(ctx)) throw noMethod();
    const b = clusterBody(action, ctx.body);
    throw clusterNotFound(b.binary === undefined ? 'cinder-volume' : b.binary, b.name);
  };
}

export const clusterRoutes: Route[] = [
  cinderRoute('clusters-list', 'GET', '/clusters', policyOf('clusters:get_all'), list()),
  cinderRoute('clusters-detail', 'GET', '/clusters/detail', policyOf('clusters:get_all'), list()),
  cinderRoute('clusters-show', 'GET', '/clusters/{cluster_name}', policyOf('clusters:get'), show),
  cinderRoute('clusters-enable', 'PUT', '/clusters/enable', policyOf('clusters:update', 'enable'), update('enable')),
  cinderRoute('clusters-disable', 'PUT', '/clusters/disable', policyOf('clusters:update', 'disable'), update('disable')),
];
