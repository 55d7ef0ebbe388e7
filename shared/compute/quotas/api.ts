// Nova's os-quota-sets and os-quota-class-sets APIs (api/openstack/compute/quota_sets.py and
// quota_classes.py): the controllers over the quota engine (./engine.ts), which owns limits, usage and
// the checks other services call.
import type { RequestContext, Route } from '../../http/router';
import { json, accepted } from '../../http/respond';
import { badRequest } from '../../http/errors';
import { schemaAt, validateBody, type SchemaByVersion } from '../../api/validation';
import { authorize, isAdmin } from '../../api/policy';
import { computeRoute } from '../common';
import {
  CLASS_PARTITION,
  MAX_LIMIT,
  PROJECT_ROW,
  QUOTA_RESOURCES,
  classLimits,
  classRepo,
  defaultLimits,
  displayedUsage,
  effectiveLimits,
  isResource,
  key,
  loadProject,
  projectLimitsOf,
  quotaRepo,
  userRow,
  writeLimits,
  type Limits,
  type ProjectQuotaState,
  type QuotaResource,
} from './engine';
import { strictQuery } from '../../http/router';
// ---------------------------------------------------------------------------------------------
// The APIs.

const limitValue = { type: ['integer', 'string'], pattern: '^-?[0-9]+$', minimum: -1, maximum: MAX_LIMIT };
const FORCE_VALUES = [true, 'True', 'TRUE', 'true', '1', 'ON', 'On', 'on', 'YES', 'Yes', 'yes', false, 'False', 'FALSE', 'false', '0', 'OFF', 'Off', 'off', 'NO', 'No', 'no'];
const limitProps = Object.fromEntries(QUOTA_RESOURCES.map((r) => [r, limitValue]));

const NETWORK_QUOTAS: QuotaResource[] = ['fixed_ips', 'floating_ips', 'security_group_rules', 'security_groups'];

/** quota_sets.update (2.0-2.35). */
export const updateQuotaSetSchema = {
  type: 'object',
  properties: {
    quota_set: { type: 'object', properties: { ...limitProps, force: { type: ['boolean', 'string'], enum: FORCE_VALUES } }, additionalProperties: false },
  },
  required: ['quota_set'],
  additionalProperties: false,
};
/** quota_classes.update (2.1-2.49). */
export const updateQuotaClassSchema = {
  type: 'object',
  properties: { quota_class_set: { type: 'object', properties: limitProps, additionalProperties: false } },
  required: ['quota_class_set'],
  additionalProperties: false,
};

/** quota_classes.update_v250 (2.50-2.56): the network quotas are gone from the body (400 if sent). */
export const updateQuotaClassSchemaV250 = {
  ...updateQuotaClassSchema,
  properties: {
    quota_class_set: { type: 'object', properties: Object.fromEntries(Object.entries(limitProps).filter(([k]) => !NETWORK_QUOTAS.includes(k as QuotaResource))), additionalProperties: false },
  },
};
/** The personality quotas, gone from the quota APIs at 2.57 with file injection. */
const PERSONALITY_QUOTAS: QuotaResource[] = ['injected_files', 'injected_file_content_bytes', 'injected_file_path_bytes'];

/** A quota update schema without some resources in its one object (400 if sent). */
function without(schema: { properties: Record<string, { properties: Record<string, unknown> }> }, key: string, gone: QuotaResource[]) {
  const inner = schema.properties[key];
  return { ...schema, properties: { [key]: { ...inner, properties: Object.fromEntries(Object.entries(inner.properties).filter(([k]) => !gone.includes(k as QuotaResource))) } } };
}

const updateQuotaClassSchemas: SchemaByVersion = [
  ['2.1', updateQuotaClassSchema],
  ['2.50', updateQuotaClassSchemaV250],
  // quota_classes.update_v257: no personality quotas either.
  ['2.57', without(updateQuotaClassSchemaV250, 'quota_class_set', PERSONALITY_QUOTAS)],
];

/** quota_sets.update_v236 (2.36-2.56): the network quotas are gone from the body (400 if sent). */
export const updateQuotaSetSchemaV236 = {
  ...updateQuotaSetSchema,
  properties: {
    quota_set: {
      ...updateQuotaSetSchema.properties.quota_set,
      properties: Object.fromEntries(Object.entries(updateQuotaSetSchema.properties.quota_set.properties).filter(([k]) => !NETWORK_QUOTAS.includes(k as QuotaResource))),
    },
  },
};
const updateQuotaSetSchemas: SchemaByVersion = [
  ['2.1', updateQuotaSetSchema],
  ['2.36', updateQuotaSetSchemaV236],
  // quota_sets.update_v257: no personality quotas either.
  ['2.57', without(updateQuotaSetSchemaV236, 'quota_set', PERSONALITY_QUOTAS)],
];

/** The quota-sets hide the network quotas from 2.36 (FILTERED_QUOTAS_v236) and personality's from 2.57. */
function hiddenQuotas(ctx: RequestContext): QuotaResource[] {
  const mv = ctx.microversion;
  if (mv?.atLeast('2.57')) return [...NETWORK_QUOTAS, ...PERSONALITY_QUOTAS];
  if (mv?.atLeast('2.36')) return NETWORK_QUOTAS;
  return [];
}

function formatSet<V>(values: Record<QuotaResource, V>, hidden: QuotaResource[], id?: string): Record<string, V | string> {
  const out: Record<string, V | string> = {};
  if (id !== undefined) out.id = id;
  for (const r of QUOTA_RESOURCES) if (!hidden.includes(r)) out[r] = values[r];
  return out;
}

/** bool_from_string as oslo does it, for the schema's enum. */
const truthy = (v: unknown) => v === true || (typeof v === 'string' && ['1', 'true', 'on', 'yes'].includes(v.toLowerCase()));
/** The first user_id query value; blank counts as absent (parse_qs drops blank values). */
/** show_query / detail_query / update_query / delete_query: user_id only, strict from 2.75. */
const USER_QUERY = strictQuery(['user_id']);

const userIdParam = (ctx: RequestContext) => ctx.query.get('user_id') || undefined;

/** A reader sees their own project's quotas only (PROJECT_READER_OR_ADMIN with project_id target). */
function requireOwnProjectOrAdmin(ctx: RequestContext, action: 'show' | 'detail'): void {
  authorize(ctx, `os_compute_api:os-quota-sets:${action}`, { projectId: ctx.params.id });
}

/**
 * identity.verify_project_id: an unknown project is 400. Upstream asks Keystone with the caller's
 * token, and a 403 from Keystone counts as "exists"; the built-in identity store answers the same.
 */
async function verifyProject(ctx: RequestContext): Promise<void> {
  const s = ctx.services;
  if (s.config.auth.mode !== 'builtin') return;
  const a = ctx.auth!;
  const id = ctx.params.id;
  if (!isAdmin(a) && a.projectId !== id) return;
  if (!(await s.identity.getProject(id))) throw badRequest(`Project ID ${id} is not a valid project.`);
}

async function show(ctx: RequestContext) {
  requireOwnProjectOrAdmin(ctx, 'show');
  await verifyProject(ctx);
  const id = ctx.params.id;
  const limits = await effectiveLimits(ctx.services, id, userIdParam(ctx));
  return json({ quota_set: formatSet(limits, hiddenQuotas(ctx), id) });
}

async function detail(ctx: RequestContext) {
  requireOwnProjectOrAdmin(ctx, 'detail');
  await verifyProject(ctx);
  const id = ctx.params.id;
  const userId = userIdParam(ctx);
  const [limits, usage] = await Promise.all([effectiveLimits(ctx.services, id, userId), displayedUsage(ctx.services, id, userId)]);
  const rows = Object.fromEntries(QUOTA_RESOURCES.map((r) => [r, { in_use: usage[r], limit: limits[r], reserved: 0 }])) as Record<QuotaResource, object>;
  return json({ quota_set: formatSet(rows, hiddenQuotas(ctx), id) });
}

async function defaults(ctx: RequestContext) {
  await verifyProject(ctx);
  return json({ quota_set: formatSet(await defaultLimits(ctx.services), hiddenQuotas(ctx), ctx.params.id) });
}

/** The range a new limit may take (DbQuotaDriver.get_settable_quotas); -1 means no bound. */
function settableRange(st: ProjectQuotaState, usage: Limits, r: QuotaResource, userId?: string): { minimum: number; maximum: number } {
  const limit = projectLimitsOf(st)[r];
  // What the project can still hand out to users: its limit less every per-user limit set in it.
  let remains = limit;
  for (const u of st.users.values()) if (u[r] !== undefined) remains -= u[r]!;
  if (userId) {
    const set = st.users.get(userId)?.[r];
    const maximum = remains <= -1 || (set ?? 0) <= -1 ? -1 : remains + (set ?? 0);
    return { minimum: usage[r], maximum };
  }
  const handedOut = limit <= -1 || remains <= -1 ? -1 : limit - remains;
  return { minimum: Math.max(handedOut, usage[r]), maximum: -1 };
}

function validateLimit(r: string, limit: number, minimum: number, maximum: number): void {
  const inf = (v: number) => (v === -1 ? Infinity : v);
  if (inf(limit) < inf(minimum)) throw badRequest(`Quota limit ${limit} for ${r} must be greater than or equal to already used and reserved ${minimum}.`);
  if (inf(limit) > inf(maximum)) throw badRequest(`Quota limit ${limit} for ${r} must be less than or equal to ${maximum}.`);
}

/** A validated limit as a number; strings pass the schema's pattern but not its bounds, so check those here. */
function toLimit(field: string, raw: number | string): number {
  const v = typeof raw === 'number' ? raw : Number(raw);
  if (!Number.isSafeInteger(v) || v < -1 || v > MAX_LIMIT) {
    throw badRequest(`Invalid input for field/attribute ${field}. Value: ${JSON.stringify(raw)}. ${JSON.stringify(raw)} is not a valid quota limit (-1 to ${MAX_LIMIT})`);
  }
  return v;
}

async function update(ctx: RequestContext) {
  const s = ctx.services;
  const body = validateBody<{ quota_set: Record<string, number | string | boolean> }>(schemaAt(ctx.microversion, updateQuotaSetSchemas), ctx.body).quota_set;
  await verifyProject(ctx);
  const id = ctx.params.id;
  const userId = userIdParam(ctx);
  const force = truthy(body.force ?? 'False');
  // Pass 1 validates every value, pass 2 writes: a bad value changes nothing.
  const st = await loadProject(s, id);
  const usage = force ? undefined : await displayedUsage(s, id, userId);
  const changes: Partial<Limits> = {};
  for (const [k, raw] of Object.entries(body)) {
    if (k === 'force' || !isResource(k)) continue;
    const v = toLimit(`quota_set/${k}`, raw as number | string);
    if (usage) {
      const { minimum, maximum } = settableRange(st, usage, k, userId);
      validateLimit(k, v, minimum, maximum);
    }
    changes[k] = v;
  }
  if (Object.keys(changes).length > 0) {
    const pk = key(id);
    if (userId) await writeLimits(quotaRepo(s), pk, userRow(userId), { kind: 'user', project_id: id, user_id: userId, limits: {} }, changes);
    else await writeLimits(quotaRepo(s), pk, PROJECT_ROW, { kind: 'project', project_id: id, limits: {} }, changes);
  }
  // Upstream's update answer carries no id.
  return json({ quota_set: formatSet(await effectiveLimits(s, id, userId), hiddenQuotas(ctx)) });
}

async function remove(ctx: RequestContext) {
  const s = ctx.services;
  const id = ctx.params.id;
  const userId = userIdParam(ctx);
  const repo = quotaRepo(s);
  const pk = key(id);
  if (userId) {
    await repo.delete(pk, userRow(userId));
  } else {
    // The project's limits and every per-user limit in it (destroy_all_by_project).
    for (const r of await repo.list(pk)) await repo.delete(pk, r.rowKey);
  }
  return accepted();
}

// Quota classes: 'default' supplies every project's defaults; other names are stored, as upstream does, but unused.
const classHidden = (ctx: RequestContext): QuotaResource[] => {
  const mv = ctx.microversion;
  // quota_classes.py: the network quotas go only at 2.50 (FILTERED_QUOTAS_v250), personality's at 2.57;
  // before 2.50 the server group quotas are not shown.
  if (mv?.atLeast('2.57')) return [...NETWORK_QUOTAS, ...PERSONALITY_QUOTAS];
  if (mv?.atLeast('2.50')) return NETWORK_QUOTAS;
  return ['server_group_members', 'server_groups'];
};

async function showClass(ctx: RequestContext) {
  const id = ctx.params.id;
  return json({ quota_class_set: formatSet(await classLimits(ctx.services, id), classHidden(ctx), id) });
}

async function updateClass(ctx: RequestContext) {
  const s = ctx.services;
  const body = validateBody<{ quota_class_set: Record<string, number | string> }>(schemaAt(ctx.microversion, updateQuotaClassSchemas), ctx.body).quota_class_set;
  const id = ctx.params.id;
  if (id.length > 255) throw badRequest('quota_class_name has a maximum character requirement of 255.');
  const changes: Partial<Limits> = {};
  for (const [k, raw] of Object.entries(body)) if (isResource(k)) changes[k] = toLimit(`quota_class_set/${k}`, raw);
  if (Object.keys(changes).length > 0) await writeLimits(classRepo(s), CLASS_PARTITION, key(id), { name: id, limits: {} }, changes);
  return json({ quota_class_set: formatSet(await classLimits(s, id), classHidden(ctx)) });
}

export const quotaRoutes: Route[] = [
  computeRoute('quota-sets-show', 'GET', '/os-quota-sets/{id}', 'os_compute_api:os-quota-sets:show', show, { strictQuery: USER_QUERY }),
  computeRoute('quota-sets-detail', 'GET', '/os-quota-sets/{id}/detail', 'os_compute_api:os-quota-sets:detail', detail, { strictQuery: USER_QUERY }),
  computeRoute('quota-sets-defaults', 'GET', '/os-quota-sets/{id}/defaults', 'os_compute_api:os-quota-sets:defaults', defaults),
  computeRoute('quota-sets-update', 'PUT', '/os-quota-sets/{id}', 'os_compute_api:os-quota-sets:update', update, { strictQuery: USER_QUERY }),
  computeRoute('quota-sets-delete', 'DELETE', '/os-quota-sets/{id}', 'os_compute_api:os-quota-sets:delete', remove, { strictQuery: USER_QUERY }),
  computeRoute('quota-class-sets-show', 'GET', '/os-quota-class-sets/{id}', 'os_compute_api:os-quota-class-sets:show', showClass),
  computeRoute('quota-class-sets-update', 'PUT', '/os-quota-class-sets/{id}', 'os_compute_api:os-quota-class-sets:update', updateClass),
];
