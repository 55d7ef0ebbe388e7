// Flavor access (flavor_access.py): which projects may use a private flavor. Admins list it
// (GET /flavors/{id}/os-flavor-access) and change it with the addTenantAccess / removeTenantAccess actions.
import type { RequestContext, Route } from '../../http/router';
import { json } from '../../http/respond';
import { ApiError, badRequest, conflict, notFound } from '../../http/errors';
import { validateBody } from '../../api/validation';
import { actionPolicy } from '../../api/policy';
import { FLAVOR_ACTION_POLICIES } from '../policy';
import { computeRoute } from '../common';
import { getFlavor, updateFlavor, flavorNotFound, addAccessRow, removeAccessRow, type FlavorRecord } from './store';

const tenant = { type: 'object', properties: { tenant: { type: 'string', minLength: 1, maxLength: 255 } }, required: ['tenant'], additionalProperties: false };
export const addTenantAccessSchema = { type: 'object', properties: { addTenantAccess: tenant }, required: ['addTenantAccess'], additionalProperties: false };
export const removeTenantAccessSchema = { type: 'object', properties: { removeTenantAccess: tenant }, required: ['removeTenantAccess'], additionalProperties: false };

const P = 'os_compute_api:os-flavor-access';

function accessList(f: FlavorRecord) {
  return { flavor_access: f.projects.map((p) => ({ flavor_id: f.flavorid, tenant_id: p })) };
}

async function index(ctx: RequestContext) {
  const f = await getFlavor(ctx.services, ctx.params.flavor_id);
  if (!f) throw flavorNotFound(ctx.params.flavor_id);
  if (f.value.is_public) throw notFound('Access list not available for public flavors.');
  return json(accessList(f.value));
}

/**
 * Nova's identity.verify_project_id: the tenant must be a project Keystone knows (400 otherwise). With
 * an external Keystone, Jacket cannot look projects up, and accepts the id as Nova does when it may not.
 */
async function verifyProject(ctx: RequestContext, projectId: string): Promise<void> {
  if (ctx.services.config.auth.mode !== 'builtin') return;
  if (!(await ctx.services.identity.getProject(projectId))) throw badRequest(`Project ID ${projectId} is not a valid project.`);
}

async function addAccess(ctx: RequestContext, projectId: string) {
  const id = ctx.params.id;
  await verifyProject(ctx, projectId);
  const cur = await getFlavor(ctx.services, id);
  if (!cur) throw flavorNotFound(id);
  // From 2.7 Nova refuses access rows on public flavors (409); at 2.1 it records them.
  if (ctx.microversion?.atLeast('2.7') && cur.value.is_public) throw conflict('Can not add access to a public flavor.');
  const exists = () => conflict(`Flavor access already exists for flavor ${id} and project ${projectId} combination.`);
  if (cur.value.projects.includes(projectId)) throw exists();
  // The record first (authoritative), then the project's index row.
  let dup = false;
  const f = await updateFlavor(ctx.services, id, (v) => {
    if (v.projects.includes(projectId)) {
      dup = true;
      return undefined;
    }
    v.projects.push(projectId);
    return v;
  });
  if (dup) throw exists();
  await addAccessRow(ctx.services, id, projectId);
  return json(accessList(f));
}

async function removeAccess(ctx: RequestContext, projectId: string) {
  const id = ctx.params.id;
  await verifyProject(ctx, projectId);
  const cur = await getFlavor(ctx.services, id);
  if (!cur) throw flavorNotFound(id);
  const missing = () => notFound(`Flavor access not found for ${id} / ${projectId} combination.`);
  if (!cur.value.projects.includes(projectId)) throw missing();
  let gone = false;
  const f = await updateFlavor(ctx.services, id, (v) => {
    if (!v.projects.includes(projectId)) {
      gone = true;
      return undefined;
    }
    v.projects = v.projects.filter((p) => p !== projectId);
    return v;
  });
  if (gone) throw missing();
  await removeAccessRow(ctx.services, id, projectId);
  return json(accessList(f));
}

/** POST /flavors/{id}/action: the flavor actions Nova has (only the two access ones). */
async function action(ctx: RequestContext) {
  const body = ctx.body;
  if (typeof body !== 'object' || body === null || Array.isArray(body) || Object.keys(body).length === 0) throw badRequest('Malformed request body');
  const name = Object.keys(body)[0];
  if (name === 'addTenantAccess') {
    return addAccess(ctx, validateBody<{ addTenantAccess: { tenant: string } }>(addTenantAccessSchema, body).addTenantAccess.tenant);
  }
  if (name === 'removeTenantAccess') {
    return removeAccess(ctx, validateBody<{ removeTenantAccess: { tenant: string } }>(removeTenantAccessSchema, body).removeTenantAccess.tenant);
  }
  throw new ApiError(404, 'The resource could not be found.');
}

export const flavorAccessRoutes: Route[] = [
  computeRoute('flavor-access-list', 'GET', '/flavors/{flavor_id}/os-flavor-access', P, index),
  // Each action has its own policy (FLAVOR_ACTION_POLICIES), which the pipeline enforces.
  computeRoute('flavor-action', 'POST', '/flavors/{id}/action', actionPolicy(FLAVOR_ACTION_POLICIES), action),
];
