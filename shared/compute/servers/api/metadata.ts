// Nova's server metadata API (nova/api/openstack/compute/server_metadata.py at 2.1): the six calls on
// /servers/{id}/metadata. The metadata lives in the server record (ServerRecord.metadata), as Nova keeps
// it in its own database: it is not pushed to Azure (an Azure tag is a different thing with other
// limits, and Nova's metadata is only ever read back through this API and the server views).
import type { RequestContext, Route } from '../../../http/router';
import { json, noContent } from '../../../http/respond';
import { badRequest, notFound } from '../../../http/errors';
import { validateBody } from '../../../api/validation';
import { ConcurrencyError, type Stored } from '../../../store/tables';
import { computeRoute } from '../../common';
import { checkAbsolute } from '../../quotas/engine';
import { checkInstanceLock, checkInstanceState, novaTime, serverRepo, visibleServer, type ServerRecord } from '../model';

// nova/api/openstack/compute/schemas/server_metadata.py
const KEY = '^[a-zA-Z0-9-_:. ]{1,255}$';
const items = { type: 'object', patternProperties: { [KEY]: { type: 'string', maxLength: 255 } }, additionalProperties: false };
const createSchema = { type: 'object', properties: { metadata: items }, required: ['metadata'], additionalProperties: false };
const updateAllSchema = createSchema;
const updateSchema = {
  type: 'object',
  properties: { meta: { ...items, minProperties: 1, maxProperties: 1 } },
  required: ['meta'],
  additionalProperties: false,
};

type Metadata = Record<string, string>;

const itemNotFound = () => notFound('Metadata item was not found');

/**
 * nova/compute/api.py check_instance_lock + check_instance_state for the metadata calls: a locked
 * server refuses non-admins (409 InstanceIsLocked); otherwise vm_state active, paused, suspended or
 * stopped with no task running.
 */
function checkWritable(ctx: RequestContext, srv: ServerRecord, method: 'update metadata' | 'delete metadata'): void {
  checkInstanceLock(srv, ctx.auth!);
  checkInstanceState(srv, method, { vm: ['active', 'paused', 'suspended', 'stopped'], task: [null] });
}

/**
 * Read-modify-write of the metadata, conditional on the record's ETag: every check (lock, state,
 * quota on the resulting item count) runs against the version being replaced; a lost race re-reads.
 */
async function writeMetadata(ctx: RequestContext, method: 'update metadata' | 'delete metadata', change: (cur: Metadata) => Metadata): Promise<Metadata> {
  const s = ctx.services;
  for (let attempt = 0; ; attempt++) {
    const cur: Stored<ServerRecord> = await visibleServer(ctx);
    checkWritable(ctx, cur.value, method);
    const next = change({ ...cur.value.metadata });
    // compute/api.py _check_metadata_properties_quota: the whole resulting set counts (skipped when empty).
    if (Object.keys(next).length > 0) {
      await checkAbsolute(s, cur.value.project_id, ctx.auth!.userId, { metadata_items: Object.keys(next).length });
    }
    try {
      await serverRepo(s).replace(cur.partitionKey, cur.rowKey, { ...cur.value, metadata: next, updated_at: novaTime() }, cur.etag);
      return next;
    } catch (e) {
      if (!(e instanceof ConcurrencyError) || attempt >= 4) throw e;
    }
  }
}

async function index(ctx: RequestContext) {
  const srv = await visibleServer(ctx);
  return json({ metadata: srv.value.metadata });
}

async function show(ctx: RequestContext) {
  const srv = await visibleServer(ctx);
  const key = ctx.params.key;
  if (!Object.prototype.hasOwnProperty.call(srv.value.metadata, key)) throw itemNotFound();
  return json({ meta: { [key]: srv.value.metadata[key] } });
}

/** POST: merges the items into the server's metadata; answers the whole result (200, as Nova). */
async function create(ctx: RequestContext) {
  const b = validateBody<{ metadata: Metadata }>(createSchema, ctx.body);
  const result = await writeMetadata(ctx, 'update metadata', (cur) => ({ ...cur, ...b.metadata }));
  return json({ metadata: result });
}

/** PUT: replaces the whole set. */
async function updateAll(ctx: RequestContext) {
  const b = validateBody<{ metadata: Metadata }>(updateAllSchema, ctx.body);
  const result = await writeMetadata(ctx, 'update metadata', () => ({ ...b.metadata }));
  return json({ metadata: result });
}

/** PUT /metadata/{key}: one item, whose key must be the path's. */
async function update(ctx: RequestContext) {
  const b = validateBody<{ meta: Metadata }>(updateSchema, ctx.body);
  const key = ctx.params.key;
  await visibleServer(ctx);
  if (!Object.prototype.hasOwnProperty.call(b.meta, key)) throw badRequest('Request body and URI mismatch');
  await writeMetadata(ctx, 'update metadata', (cur) => ({ ...cur, ...b.meta }));
  return json({ meta: b.meta });
}

async function remove(ctx: RequestContext) {
  const key = ctx.params.key;
  const srv = await visibleServer(ctx);
  // Nova looks the key up before the lock and state checks.
  if (!Object.prototype.hasOwnProperty.call(srv.value.metadata, key)) throw itemNotFound();
  await writeMetadata(ctx, 'delete metadata', (cur) => {
    if (!Object.prototype.hasOwnProperty.call(cur, key)) throw itemNotFound();
    delete cur[key];
    return cur;
  });
  return noContent();
}

const P = 'os_compute_api:server-metadata:';
const PATH = '/servers/{server_id}/metadata';

export const serverMetadataRoutes: Route[] = [
  computeRoute('server-metadata-index', 'GET', PATH, `${P}index`, index),
  computeRoute('server-metadata-create', 'POST', PATH, `${P}create`, create),
  computeRoute('server-metadata-update-all', 'PUT', PATH, `${P}update_all`, updateAll),
  computeRoute('server-metadata-show', 'GET', `${PATH}/{key}`, `${P}show`, show),
  computeRoute('server-metadata-update', 'PUT', `${PATH}/{key}`, `${P}update`, update),
  computeRoute('server-metadata-delete', 'DELETE', `${PATH}/{key}`, `${P}delete`, remove),
];
