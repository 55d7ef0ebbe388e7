// /os-quota-sets: Cinder's quota API (cinder/api/contrib/quotas.py) over the quota engine — show (with
// ?usage=true: in_use/limit/reserved), defaults, update and delete (admins), answered for the per-type
// resources of every current volume type too. Cinder keeps no per-user volume quotas; a `user_id`
// query is ignored, as Cinder ignores it.
import type { RequestContext, Route } from '../../http/router';
import { json } from '../../http/respond';
import { badRequest } from '../../http/errors';
import { validateBody } from '../../api/validation';
import { authorize } from '../../api/policy';
import { boolParam, cinderRoute } from '../common';
import { MAX_QUOTA, projectLimits, projectUsage, projectUsageDetail, defaultLimits, quotaTable, resourceNames } from './engine';

const updateSchema = {
  type: 'object',
  required: ['quota_set'],
  additionalProperties: false,
  properties: { quota_set: { type: 'object', minProperties: 1 } },
};

/** Keys a quota_set body may carry besides resources (NON_QUOTA_KEYS upstream). */
const NON_QUOTA_KEYS = ['tenant_id', 'id'];

/** Members read their own project's quotas; another project's are the admins'. */
function authorizeShow(ctx: RequestContext, target: string): void {
  authorize(ctx, 'volume_extension:quotas:show', { projectId: target });
}

async function show(ctx: RequestContext) {
  const target = ctx.params.target_project_id;
  authorizeShow(ctx, target);
  const usage = ctx.query.has('usage') ? boolParam(ctx.query.get('usage'), 'usage') : false;
  const limits = await projectLimits(ctx.services, target);
  if (!usage) return json({ quota_set: { ...limits, id: target } });
  const { used, reserved } = await projectUsageDetail(ctx.services, target);
  const out: Record<string, unknown> = {};
  for (const [k, limit] of Object.entries(limits)) out[k] = { in_use: used[k] ?? 0, limit, reserved: reserved[k] ?? 0 };
  return json({ quota_set: { ...out, id: target } });
}

async function defaults(ctx: RequestContext) {
  authorizeShow(ctx, ctx.params.target_project_id);
  return json({ quota_set: { ...(await defaultLimits(ctx.services)), id: ctx.params.target_project_id } });
}

/** validate_integer as Cinder words it. */
function quotaInteger(key: string, v: unknown): number {
  const n = typeof v === 'string' && /^\s*-?\d+\s*$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n)) throw badRequest(`Invalid input received: ${key} must be an integer.`);
  if (n < -1) throw badRequest(`Invalid input received: ${key} must be >= -1`);
  if (n > MAX_QUOTA) throw badRequest(`Invalid input received: ${key} must be <= ${MAX_QUOTA}`);
  return n;
}

async function update(ctx: RequestContext) {
  const target = ctx.params.target_project_id;
  if (target.length > 255) throw badRequest('Invalid input received: quota_set_name has more than 255 characters.');
  const body = validateBody<{ quota_set: Record<string, unknown> }>(updateSchema, ctx.body).quota_set;
  const known = new Set(await resourceNames(ctx.services));
  const bad = Object.keys(body).filter((k) => !known.has(k) && !NON_QUOTA_KEYS.includes(k));
  if (bad.length) throw badRequest(`Bad key(s) in quota set: ${bad.join(',')}`);
  const used = await projectUsage(ctx.services, target);
  const values: Record<string, number> = {};
  for (const [k, v] of Object.entries(body)) {
    if (NON_QUOTA_KEYS.includes(k)) continue;
    values[k] = quotaInteger(k, v);
    // A limit below what the project already holds is refused (unlimited always fits).
    if (k !== 'per_volume_gigabytes' && values[k] !== -1 && values[k] < (used[k] ?? 0)) {
      throw badRequest(`Quota ${k} limit must be equal or greater than existing resources.`);
    }
  }
  const table = quotaTable(ctx.services);
  for (const [k, limit] of Object.entries(values)) await table.upsert(target, k, { limit });
  return json({ quota_set: await projectLimits(ctx.services, target) });
}

async function remove(ctx: RequestContext) {
  const table = quotaTable(ctx.services);
  for (const row of await table.list(ctx.params.target_project_id)) await table.delete(row.partitionKey, row.rowKey);
  return json(undefined);
}

export const quotaSetRoutes: Route[] = [
  cinderRoute('quota-sets-show', 'GET', '/os-quota-sets/{target_project_id}', 'volume_extension:quotas:show', show),
  cinderRoute('quota-sets-defaults', 'GET', '/os-quota-sets/{target_project_id}/defaults', 'volume_extension:quotas:show', defaults),
  cinderRoute('quota-sets-update', 'PUT', '/os-quota-sets/{target_project_id}', 'volume_extension:quotas:update', update),
  cinderRoute('quota-sets-delete', 'DELETE', '/os-quota-sets/{target_project_id}', 'volume_extension:quotas:delete', remove),
];
