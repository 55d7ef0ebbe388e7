// /volumes/{id}/metadata and /snapshots/{id}/metadata: Cinder's metadata controllers, one factory for
// both (they differ in key pattern, policy names and not-found wording). Writes go through the
// record's ETag (Repository.update), so concurrent writers never lose each other's keys. From 3.15
// (ETAGS) the volume metadata list answers an `Etag` and its two PUTs honour `If-Match`, as
// cinder/api/v3/volume_metadata.py (snapshot metadata has neither).
import { createHash } from 'node:crypto';
import type { RequestContext, Route } from '../../http/router';
import type { ApiResponse } from '../../http/types';
import { json } from '../../http/respond';
import { badRequest, notFound } from '../../http/errors';
import { validateBody } from '../../api/validation';
import type { Stored } from '../../store/tables';
import { cinderRoute, cinderTime, metadataSchema } from '../common';
import type { VolumePolicy } from '../policy';
import { findSnapshot, findVolume, volumeTables } from '../model';

export const ETAGS = '3.15';

/** Python's json.dumps (oslo jsonutils) of {"metadata": m}: ", " and ": " separators, non-ASCII escaped. */
export function pythonMetadataJson(m: Record<string, string>): string {
  const q = (v: string) => JSON.stringify(v).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return `{"metadata": {${Object.entries(m)
    .map(([k, v]) => `${q(k)}: ${q(v)}`)
    .join(', ')}}}`;
}

/** The ETag Cinder gives volume metadata: the MD5 of that JSON. */
export const metadataEtag = (m: Record<string, string>) => createHash('md5').update(pythonMetadataJson(m), 'utf8').digest('hex');

/**
 * The If-Match entity tags as webob reads them (etag_property, strong): none or `*` matches anything
 * (undefined); otherwise the quoted strong tags (weak W/ ones dropped), or the whole value when it has
 * no quoted tag.
 */
export function ifMatchTags(header: string | undefined): string[] | undefined {
  if (!header || header === '*') return undefined;
  const found = [...header.matchAll(/(?:^|\s)(W\/)?"((?:\\"|.)*?)"/g)];
  if (!found.length) return [header];
  return found.filter((x) => !x[1]).map((x) => x[2]);
}

/** webob.Response()'s defaults, which Cinder's ETag answers keep (it returns the Response itself). */
const WEBOB_TYPE = { 'Content-Type': 'text/html; charset=UTF-8' };
const preconditionFailed = (): ApiResponse => ({ status: 412, headers: { ...WEBOB_TYPE }, body: Buffer.alloc(0) });

class PreconditionFailed extends Error {}

interface WithMetadata {
  metadata: Record<string, string>;
  updated_at: string | null;
}

interface Kind {
  collection: 'volumes' | 'snapshots';
  param: string;
  label: 'Volume' | 'Snapshot';
  keyPattern: string;
  policies: { get: VolumePolicy; create: VolumePolicy; update: VolumePolicy; delete: VolumePolicy };
  find: (ctx: RequestContext, id: string) => Promise<Stored<WithMetadata>>;
  write: (ctx: RequestContext, cur: Stored<WithMetadata>, change: (m: Record<string, string>) => Record<string, string>) => Promise<Record<string, string>>;
}

function routesFor(k: Kind): Route[] {
  const all = { type: 'object', required: ['metadata'], properties: { metadata: metadataSchema(k.keyPattern) } };
  const one = { type: 'object', required: ['meta'], properties: { meta: { ...metadataSchema(k.keyPattern), minProperties: 1, maxProperties: 1 } } };
  const id = (ctx: RequestContext) => ctx.params[k.param];
  const missing = (ctx: RequestContext, key: string) => notFound(`${k.label} ${id(ctx)} has no metadata with key ${key}.`);

  const etags = k.collection === 'volumes';
  const index = async (ctx: RequestContext) => {
    const metadata = (await k.find(ctx, id(ctx))).value.metadata;
    if (!etags || !ctx.microversion?.atLeast(ETAGS)) return json({ metadata });
    return { status: 200, headers: { ...WEBOB_TYPE, Etag: metadataEtag(metadata) }, body: Buffer.from(pythonMetadataJson(metadata), 'utf8') };
  };
  /** The If-Match tags a 3.15 volume metadata PUT must match; undefined when it need not. */
  const wanted = (ctx: RequestContext) => (etags && ctx.microversion?.atLeast(ETAGS) ? ifMatchTags(ctx.req.headers['if-match']) : undefined);
  /** Checked on the metadata being replaced, inside the write under the record's ETag (Cinder reads it just before). */
  const guard = (tags: string[] | undefined, m: Record<string, string>) => {
    if (tags && !tags.includes(metadataEtag(m))) throw new PreconditionFailed();
  };
  const orFailed = async (f: () => Promise<ApiResponse>): Promise<ApiResponse> => {
    try {
      return await f();
    } catch (e) {
      if (e instanceof PreconditionFailed) return preconditionFailed();
      throw e;
    }
  };
  const create = async (ctx: RequestContext) => {
    const b = validateBody<{ metadata: Record<string, string> }>(all, ctx.body);
    const cur = await k.find(ctx, id(ctx));
    return json({ metadata: await k.write(ctx, cur, (m) => ({ ...m, ...b.metadata })) });
  };
  const updateAll = async (ctx: RequestContext) => {
    const b = validateBody<{ metadata: Record<string, string> }>(all, ctx.body);
    const tags = wanted(ctx);
    const cur = await k.find(ctx, id(ctx));
    return orFailed(async () =>
      json({
        metadata: await k.write(ctx, cur, (m) => {
          guard(tags, m);
          return { ...b.metadata };
        }),
      }),
    );
  };
  const show = async (ctx: RequestContext) => {
    const m = (await k.find(ctx, id(ctx))).value.metadata;
    if (!(ctx.params.key in m)) throw missing(ctx, ctx.params.key);
    return json({ meta: { [ctx.params.key]: m[ctx.params.key] } });
  };
  const update = async (ctx: RequestContext) => {
    const b = validateBody<{ meta: Record<string, string> }>(one, ctx.body);
    const tags = wanted(ctx);
    // With If-Match the volume is read (404) and the tag checked (412) before the body's key (Cinder's order).
    const first = tags ? await k.find(ctx, id(ctx)) : undefined;
    if (first && tags && !tags.includes(metadataEtag(first.value.metadata))) return preconditionFailed();
    if (!(ctx.params.key in b.meta)) throw badRequest('Request body and URI mismatch');
    const cur = first ?? (await k.find(ctx, id(ctx)));
    return orFailed(async () => {
      await k.write(ctx, cur, (m) => {
        guard(tags, m);
        return { ...m, ...b.meta };
      });
      return json({ meta: b.meta });
    });
  };
  const remove = async (ctx: RequestContext) => {
    const cur = await k.find(ctx, id(ctx));
    const key = ctx.params.key;
    if (!(key in cur.value.metadata)) throw missing(ctx, key);
    await k.write(ctx, cur, (m) => {
      if (!(key in m)) throw missing(ctx, key);
      const next = { ...m };
      delete next[key];
      return next;
    });
    return json(undefined);
  };
  const base = `/${k.collection}/{${k.param}}/metadata`;
  const n = k.collection === 'volumes' ? 'volume' : 'snapshot';
  return [
    cinderRoute(`${n}-metadata-list`, 'GET', base, k.policies.get, index),
    cinderRoute(`${n}-metadata-create`, 'POST', base, k.policies.create, create),
    cinderRoute(`${n}-metadata-replace`, 'PUT', base, k.policies.update, updateAll),
    cinderRoute(`${n}-metadata-show`, 'GET', `${base}/{key}`, k.policies.get, show),
    cinderRoute(`${n}-metadata-update`, 'PUT', `${base}/{key}`, k.policies.update, update),
    cinderRoute(`${n}-metadata-delete`, 'DELETE', `${base}/{key}`, k.policies.delete, remove),
  ];
}

export const metadataRoutes: Route[] = [
  ...routesFor({
    collection: 'volumes',
    param: 'volume_id',
    label: 'Volume',
    keyPattern: '^[a-zA-Z0-9-_:. /]{1,255}$',
    policies: { get: 'volume:get_volume_metadata', create: 'volume:create_volume_metadata', update: 'volume:update_volume_metadata', delete: 'volume:delete_volume_metadata' },
    find: findVolume,
    write: async (ctx, cur, change) => {
      const s = await volumeTables(ctx.services).volumes.update(cur.partitionKey, cur.rowKey, (v) => ({ ...v, metadata: change(v.metadata), updated_at: cinderTime() }));
      if (!s) throw notFound(`Volume ${cur.rowKey} could not be found.`);
      return s.value.metadata;
    },
  }),
  ...routesFor({
    collection: 'snapshots',
    param: 'snapshot_id',
    label: 'Snapshot',
    keyPattern: '^[a-zA-Z0-9-_:. ]{1,255}$',
    policies: { get: 'volume:get_snapshot_metadata', create: 'volume:update_snapshot_metadata', update: 'volume:update_snapshot_metadata', delete: 'volume:delete_snapshot_metadata' },
    find: findSnapshot,
    write: async (ctx, cur, change) => {
      const s = await volumeTables(ctx.services).snapshots.update(cur.partitionKey, cur.rowKey, (v) => ({ ...v, metadata: change(v.metadata), updated_at: cinderTime() }));
      if (!s) throw notFound(`Snapshot ${cur.rowKey} could not be found.`);
      return s.value.metadata;
    },
  }),
];
