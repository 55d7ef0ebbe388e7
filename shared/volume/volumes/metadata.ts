// /volumes/{id}/metadata and /snapshots/{id}/metadata: Cinder's metadata controllers, one factory for
// both (they differ in key pattern, policy names and not-found wording). Writes go through the
// record's ETag (Repository.update), so concurrent writers never lose each other's keys.
import type { RequestContext, Route } from '../../http/router';
import { json } from '../../http/respond';
import { badRequest, notFound } from '../../http/errors';
import { validateBody } from '../../api/validation';
import type { Stored } from '../../store/tables';
import { cinderRoute, cinderTime, metadataSchema } from '../common';
import type { VolumePolicy } from '../policy';
import { findSnapshot, findVolume, volumeTables } from '../model';

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

  const index = async (ctx: RequestContext) => json({ metadata: (await k.find(ctx, id(ctx))).value.metadata });
  const create = async (ctx: RequestContext) => {
    const b = validateBody<{ metadata: Record<string, string> }>(all, ctx.body);
    const cur = await k.find(ctx, id(ctx));
    return json({ metadata: await k.write(ctx, cur, (m) => ({ ...m, ...b.metadata })) });
  };
  const updateAll = async (ctx: RequestContext) => {
    const b = validateBody<{ metadata: Record<string, string> }>(all, ctx.body);
    const cur = await k.find(ctx, id(ctx));
    return json({ metadata: await k.write(ctx, cur, () => ({ ...b.metadata })) });
  };
  const show = async (ctx: RequestContext) => {
    const m = (await k.find(ctx, id(ctx))).value.metadata;
    if (!(ctx.params.key in m)) throw missing(ctx, ctx.params.key);
    return json({ meta: { [ctx.params.key]: m[ctx.params.key] } });
  };
  const update = async (ctx: RequestContext) => {
    const b = validateBody<{ meta: Record<string, string> }>(one, ctx.body);
    if (!(ctx.params.key in b.meta)) throw badRequest('Request body and URI mismatch');
    const cur = await k.find(ctx, id(ctx));
    await k.write(ctx, cur, (m) => ({ ...m, ...b.meta }));
    return json({ meta: b.meta });
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
