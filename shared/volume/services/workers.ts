// POST /workers/cleanup (cinder/api/v3/workers.py, 3.24 WORKERS_CLEANUP; admin): Cinder's clean-up of
// the operations a failed service left half done. Cinder keeps a `workers` row per resource in a
// cleanable status (a volume or snapshot being made, deleted, ...) and the service asked to clean finds
// the rows of the dead service and finishes or errors them. Jacket's rows are the work ledger's
// (shared/work/ledger.ts): one per long action in flight. Its engine already resumes an action whose
// message was lost once its row is stale (config.work.staleSeconds; the work-stale timer), so a
// clean-up is that resumption run now, for the volume and snapshot actions (the cleanable types) —
// not for actions whose worker is alive (a row touched within the stale period), which Jacket cannot
// tell from a lost one any sooner. The services selected and the answer are Cinder's: the scheduler
// (the API) is always reachable; cinder-volume (the queue worker) cleans only while it is up, else it
// is `unavailable` (no cluster to hand the clean-up to). As Cinder, `is_up` defaults to false: without
// it only services that are down are selected.
import type { RequestContext, Route } from '../../http/router';
import { json } from '../../http/respond';
import { badRequest } from '../../http/errors';
import { validateBody } from '../../api/validation';
import { rowsOf } from '../../work/ledger';
import { resumeStaleWork } from '../../work/engine';
import type { WorkItem } from '../../work/types';
import { listServices, type ServiceStatus } from '../../servicegroup/registry';
import { booleanSchema, cinderRoute } from '../common';
import { hostMatches } from './api';
import type { VolumePolicy } from '../policy';

export const WORKERS_CLEANUP = '3.24';

/** parameter_types.hostname */
const hostname = { type: ['string', 'null'], minLength: 1, maxLength: 255, pattern: '^[a-zA-Z0-9-._#@:/+]*$' };

/** cinder/api/schemas/workers.py cleanup */
const cleanupSchema = {
  type: 'object',
  properties: {
    cluster_name: hostname,
    disabled: booleanSchema,
    host: hostname,
    is_up: booleanSchema,
    binary: { enum: ['cinder-volume', 'cinder-scheduler'] },
    resource_id: { oneOf: [{ type: 'null' }, { type: 'string', format: 'uuid' }] },
    resource_type: { type: ['string', 'null'], minLength: 0, maxLength: 40 },
    service_id: { type: ['integer', 'string', 'null'], pattern: '^[0-9]*$', maxLength: 11 },
  },
  additionalProperties: false,
};

interface CleanupBody {
  cluster_name?: string | null;
  disabled?: boolean | string;
  host?: string | null;
  is_up?: boolean | string;
  binary?: string;
  resource_id?: string | null;
  resource_type?: string | null;
  service_id?: number | string | null;
}

/** The cleanable objects (CinderCleanableObject's subclasses) and the work kinds that act on them. */
const CLEANABLE: Record<string, (kind: string) => boolean> = {
  Volume: (k) => k.startsWith('volume-'),
  Snapshot: (k) => k.startsWith('snapshot-'),
};

/** The cleanable type a work kind acts on, if any. */
const cleanableType = (kind: string) => Object.keys(CLEANABLE).find((t) => CLEANABLE[t](kind));

/** oslo's bool_from_string without strict (what the controller applies): only the true words are true. */
const lenientBool = (v: boolean | string) => (typeof v === 'boolean' ? v : ['1', 't', 'true', 'on', 'y', 'yes'].includes(v.trim().toLowerCase()));

/** Python's str.title() of a resource type ('volume' -> 'Volume', 'SNAPSHOT' -> 'Snapshot'). */
const title = (s: string) => s.toLowerCase().replace(/(^|[^a-z])([a-z])/g, (_m, pre: string, c: string) => pre + c.toUpperCase());

const view = (v: ServiceStatus) => ({ id: v.id, host: v.host, binary: v.binary, cluster_name: null });

async function cleanup(ctx: RequestContext) {
  const s = ctx.services;
  const b = validateBody<CleanupBody>(cleanupSchema, ctx.body ?? {});
  let resourceType = b.resource_type ? title(b.resource_type) : undefined;
  if (resourceType && !CLEANABLE[resourceType]) {
    throw badRequest(`Invalid input received: Resource type ${resourceType} not valid, must be ${Object.keys(CLEANABLE).join(' or ')}`);
  }
  let serviceId = b.service_id === undefined || b.service_id === null || b.service_id === '' ? undefined : Number(b.service_id);
  const resourceId = b.resource_id ?? undefined;
  const services = await listServices(s, 'volume');
  if (resourceId && !['service_id', 'cluster_name', 'host'].some((k) => k in b)) {
    // db.worker_get_all(resource_id, binary, resource_type): the actions in flight on it. Only
    // cinder-volume runs them in Jacket (the scheduler side has no workers rows).
    const rows = (await rowsOf(s, resourceId)).filter((r) => {
      const type = cleanableType(r.value.kind);
      return type && (!resourceType || type === resourceType) && (!b.binary || b.binary === 'cinder-volume');
    });
    // Cinder builds these two messages as (format, id) tuples, so its reason prints the tuple.
    if (rows.length === 0) throw badRequest(`Invalid input received: ('There is no resource with UUID %s pending cleanup.', '${resourceId}')`);
    if (rows.length > 1) throw badRequest(`Invalid input received: ('There are multiple resources with UUID %s pending cleanup.  Please be more specific.', '${resourceId}')`);
    serviceId = services.find((v) => v.binary === 'cinder-volume')?.id;
    resourceType = cleanableType(rows[0].value.kind);
  }
  // scheduler/manager.py work_cleanup: ServiceList.get_all with the request's filters (is_up false
  // unless given). Jacket's services are in no cluster, so a cluster_name selects none.
  const isUp = b.is_up === undefined ? false : lenientBool(b.is_up);
  const disabled = b.disabled === undefined ? undefined : lenientBool(b.disabled);
  const selected = services.filter(
    (v) =>
      (serviceId === undefined || v.id === serviceId) &&
      !b.cluster_name &&
      (!b.host || hostMatches(v.host, b.host)) &&
      (!b.binary || v.binary === b.binary) &&
      v.up === isUp &&
      (disabled === undefined || v.disabled === disabled),
  );
  const cleaning = selected.filter((v) => v.binary === 'cinder-scheduler' || v.up);
  const unavailable = selected.filter((v) => !cleaning.includes(v));
  if (cleaning.length) {
    const only = (item: WorkItem) => {
      const type = cleanableType(item.kind);
      return !!type && (!resourceType || type === resourceType) && (!resourceId || item.id === resourceId);
    };
    await resumeStaleWork(s, Date.now(), only);
  }
  return json({ cleaning: cleaning.map(view), unavailable: unavailable.map(view) }, 202);
}

/** Cinder validates the body (the schema decorator) before the controller authorizes. */
const policy = (body: unknown): VolumePolicy | 'authenticated' => {
  try {
    validateBody(cleanupSchema, body ?? {});
  } catch {
    return 'authenticated';
  }
  return 'workers:cleanup';
};

export const workerRoutes: Route[] = [cinderRoute('workers-cleanup', 'POST', '/workers/cleanup', policy, cleanup, { versions: { min: WORKERS_CLEANUP } })];
