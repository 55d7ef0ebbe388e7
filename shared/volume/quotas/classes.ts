// /os-quota-class-sets: Cinder's quota classes (cinder/api/contrib/quota_classes.py), admin only. A
// class's values are rows of the `volquotaclasses` table; the `default` class's values are every
// project's defaults (engine.ts defaultLimits, as DbQuotaDriver.get_defaults reads them), so
// `openstack quota set --class default --volumes 20` changes the limit of every project without its own.
import type { RequestContext, Route } from '../../http/router';
import { json } from '../../http/respond';
import { badRequest } from '../../http/errors';
import { validateBody } from '../../api/validation';
import { cinderRoute } from '../common';
import { MAX_QUOTA, defaultLimits, quotaClassTable, resourceNames } from './engine';

/** quota_classes.update_quota_class with parameter_types.quota_class_set (the key check is below, worded as Cinder's). */
const updateSchema = {
  type: 'object',
  required: ['quota_class_set'],
  additionalProperties: false,
  properties: {
    quota_class_set: {
      type: 'object',
      patternProperties: { '^[a-zA-Z0-9-_:. ]{1,300}$': { type: ['integer', 'string'], pattern: '^[0-9]*$', minimum: -1, minLength: 1, maximum: MAX_QUOTA } },
      additionalProperties: false,
    },
  },
};

/** get_class_quotas: the class's own values, the defaults (default class, then configured) for the rest. */
async function classQuotas(ctx: RequestContext, name: string): Promise<Record<string, number>> {
  const [out, rows] = await Promise.all([defaultLimits(ctx.services), quotaClassTable(ctx.services).list(name)]);
  for (const row of rows) if (row.rowKey in out) out[row.rowKey] = row.value.limit;
  return out;
}

/** Table keys cannot hold every character a class name may have (\\, control characters): the name's URI encoding. */
const partitionOf = (name: string) => encodeURIComponent(name);

async function show(ctx: RequestContext) {
  const name = ctx.params.class_name;
  return json({ quota_class_set: { ...(await classQuotas(ctx, partitionOf(name))), id: name } });
}

async function update(ctx: RequestContext) {
  const name = ctx.params.class_name;
  const body = validateBody<{ quota_class_set: Record<string, number | string> }>(updateSchema, ctx.body).quota_class_set;
  const known = new Set(await resourceNames(ctx.services));
  const bad = Object.keys(body).filter((k) => !known.has(k));
  if (bad.length) throw badRequest(`Invalid input received: Bad key(s) in quota class set: ${bad.join(', ')}`);
  if (name.length < 1 || name.length > 255) throw badRequest('Invalid input received: quota_class_name has more than 255 characters.');
  const table = quotaClassTable(ctx.services);
  // Each key is its own row (Cinder's quota_classes rows): an upsert per key, no read-modify-write to race.
  for (const [k, v] of Object.entries(body)) await table.upsert(partitionOf(name), k, { limit: Number(v) });
  return json({ quota_class_set: await classQuotas(ctx, partitionOf(name)) });
}

export const quotaClassRoutes: Route[] = [
  cinderRoute('quota-class-sets-show', 'GET', '/os-quota-class-sets/{class_name}', 'volume_extension:quota_classes:get', show),
  cinderRoute('quota-class-sets-update', 'PUT', '/os-quota-class-sets/{class_name}', 'volume_extension:quota_classes:update', update),
];
