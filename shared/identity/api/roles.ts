// /v3/roles and project role assignments (/v3/projects/{p}/users/{u}/roles/{r}, /v3/role_assignments).
import type { RequestContext, Route } from '../../http/router';
import type { JacketConfig } from '../../config';
import { json, noContent } from '../../http/respond';
import { conflict, forbidden, notFound } from '../../http/errors';
import { validateBody } from '../../api/validation';
import { odata, AlreadyExistsError } from '../../store/tables';
import { newId, type AssignmentRecord, type RoleRecord } from '../model';
import { deleteAppCredsOfUser } from '../appcreds';
import { identityRoute, listLinks, v3Url } from './common';
import { POLICY_ROLES } from '../bootstrap';

const roleProps = {
  name: { type: 'string', minLength: 1, maxLength: 255 },
  description: { type: ['string', 'null'], maxLength: 255 },
  domain_id: { type: 'null' },
  options: { type: 'object' },
};
export const createRoleSchema = {
  type: 'object',
  required: ['role'],
  properties: { role: { type: 'object', required: ['name'], properties: roleProps } },
};
export const updateRoleSchema = {
  type: 'object',
  required: ['role'],
  properties: { role: { type: 'object', minProperties: 1, properties: roleProps } },
};

export function roleBody(cfg: JacketConfig, r: RoleRecord) {
  return {
    id: r.id,
    name: r.name,
    domain_id: null,
    description: r.description ?? null,
    options: {},
    links: { self: v3Url(cfg, `/roles/${r.id}`) },
  };
}

const duplicate = (name: string) => conflict(`Conflict occurred attempting to store role - Duplicate entry found with name ${name}.`);

async function create(ctx: RequestContext) {
  const s = ctx.services;
  const b = validateBody<{ role: { name: string; description?: string | null } }>(createRoleSchema, ctx.body, 'keystone').role;
  if (await s.identity.findRoleByName(b.name)) throw duplicate(b.name);
  const r: RoleRecord = { id: newId(), name: b.name, name_key: b.name.toLowerCase(), ...(b.description ? { description: b.description } : {}) };
  try {
    await s.identity.createRole(r);
  } catch (e) {
    if (e instanceof AlreadyExistsError) throw duplicate(b.name);
    throw e;
  }
  return json({ role: roleBody(s.config, r) }, 201);
}

async function list(ctx: RequestContext) {
  const s = ctx.services;
  const name = ctx.query.get('name');
  const rows = await s.identity.listRoles(name ? odata`name_key eq ${name.toLowerCase()}` : undefined);
  return json({ roles: rows.map((r) => roleBody(s.config, r)), links: listLinks(s.config, '/roles') });
}

async function roleOr404(ctx: RequestContext, id = ctx.params.role_id): Promise<RoleRecord> {
  const r = await ctx.services.identity.getRole(id);
  if (!r) throw notFound(`Could not find role: ${id}.`);
  return r;
}

async function show(ctx: RequestContext) {
  return json({ role: roleBody(ctx.services.config, await roleOr404(ctx)) });
}

async function update(ctx: RequestContext) {
  const s = ctx.services;
  const b = validateBody<{ role: { name?: string; description?: string | null } }>(updateRoleSchema, ctx.body, 'keystone').role;
  const cur = await roleOr404(ctx);
  if (b.name && b.name.toLowerCase() !== cur.name_key && (await s.identity.findRoleByName(b.name))) throw duplicate(b.name);
  const stored = await s.identity.updateRole(cur.id, (r) => ({
    ...r,
    ...(b.name !== undefined ? { name: b.name, name_key: b.name.toLowerCase() } : {}),
    ...(b.description !== undefined ? { description: b.description ?? undefined } : {}),
  }));
  return json({ role: roleBody(s.config, stored!.value) });
}

async function remove(ctx: RequestContext) {
  const s = ctx.services;
  const r = await roleOr404(ctx);
  if (POLICY_ROLES.includes(r.name_key)) {
    throw forbidden(`The role ${r.name} is one of the default roles Jacket's policies rely on and cannot be deleted.`);
  }
  // A role in use is removed from every user who held it, as Keystone does.
  for (const u of await s.identity.listUsers()) {
    for (const a of await s.identity.assignmentsOfUser(u.id)) {
      if (a.role_id === r.id) {
        await s.revocations.revokeUserOnProject(a.user_id, a.project_id);
        await deleteAppCredsOfUser(s.identity.appCreds, s.revocations, a.user_id, a.project_id);
        await s.identity.revoke(a);
      }
    }
  }
  await s.identity.deleteRole(r.id);
  return noContent();
}

async function assignmentTarget(ctx: RequestContext): Promise<AssignmentRecord> {
  const s = ctx.services;
  const { project_id, user_id } = ctx.params;
  if (!(await s.identity.getProject(project_id))) throw notFound(`Could not find project: ${project_id}.`);
  if (!(await s.identity.getUser(user_id))) throw notFound(`Could not find user: ${user_id}.`);
  const role = await roleOr404(ctx);
  return { project_id, user_id, role_id: role.id };
}

async function grant(ctx: RequestContext) {
  await ctx.services.identity.grant(await assignmentTarget(ctx));
  return noContent();
}

async function check(ctx: RequestContext) {
  const a = await assignmentTarget(ctx);
  if (!(await ctx.services.identity.hasGrant(a))) {
    throw notFound(`Could not find role assignment with role: ${a.role_id}, user or group: ${a.user_id}, project, domain, or system: ${a.project_id}.`);
  }
  return noContent();
}

async function unassign(ctx: RequestContext) {
  const s = ctx.services;
  const a = await assignmentTarget(ctx);
  if (!(await s.identity.hasGrant(a))) {
    throw notFound(`Could not find role assignment with role: ${a.role_id}, user or group: ${a.user_id}, project, domain, or system: ${a.project_id}.`);
  }
  await s.revocations.revokeUserOnProject(a.user_id, a.project_id);
  // Keystone deletes the user's application credentials on the project when any role there is removed.
  await deleteAppCredsOfUser(s.identity.appCreds, s.revocations, a.user_id, a.project_id);
  await s.identity.revoke(a);
  return noContent();
}

async function rolesOfUserOnProject(ctx: RequestContext) {
  const s = ctx.services;
  const { project_id, user_id } = ctx.params;
  const roles = [];
  for (const id of await s.identity.roleIdsOn(user_id, project_id)) {
    const r = await s.identity.getRole(id);
    if (r) roles.push(roleBody(s.config, r));
  }
  return json({ roles, links: listLinks(s.config, `/projects/${project_id}/users/${user_id}/roles`) });
}

async function roleAssignments(ctx: RequestContext) {
  const s = ctx.services;
  const q = ctx.query;
  const userId = q.get('user.id');
  const projectId = q.get('scope.project.id');
  const roleId = q.get('role.id');
  const names = q.has('include_names');
  let rows: AssignmentRecord[];
  if (userId) rows = await s.identity.assignmentsOfUser(userId);
  else if (projectId) rows = await s.identity.assignmentsOnProject(projectId);
  else rows = await s.identity.assignmentsOfUsers((await s.identity.listUsers()).map((u) => u.id));
  rows = rows.filter((a) => (!projectId || a.project_id === projectId) && (!roleId || a.role_id === roleId));
  const out = [];
  for (const a of rows) {
    const role: Record<string, unknown> = { id: a.role_id };
    const user: Record<string, unknown> = { id: a.user_id };
    const project: Record<string, unknown> = { id: a.project_id };
    if (names) {
      const [r, u, p] = await Promise.all([s.identity.getRole(a.role_id), s.identity.getUser(a.user_id), s.identity.getProject(a.project_id)]);
      Object.assign(role, { name: r?.name });
      Object.assign(user, { name: u?.name, domain: { id: u?.domain_id, name: 'Default' } });
      Object.assign(project, { name: p?.name, domain: { id: p?.domain_id, name: 'Default' } });
    }
    out.push({
      role,
      user,
      scope: { project },
      links: { assignment: v3Url(s.config, `/projects/${a.project_id}/users/${a.user_id}/roles/${a.role_id}`) },
    });
  }
  return json({ role_assignments: out, links: listLinks(s.config, '/role_assignments') });
}

const grantPath = '/projects/{project_id}/users/{user_id}/roles/{role_id}';

export const roleRoutes: Route[] = [
  identityRoute('roles-create', 'POST', '/roles', 'identity:create_role', create),
  identityRoute('roles-list', 'GET', '/roles', 'identity:list_roles', list),
  identityRoute('roles-show', 'GET', '/roles/{role_id}', 'identity:get_role', show),
  identityRoute('roles-update', 'PATCH', '/roles/{role_id}', 'identity:update_role', update),
  identityRoute('roles-delete', 'DELETE', '/roles/{role_id}', 'identity:delete_role', remove),
  identityRoute('grants-create', 'PUT', grantPath, 'identity:create_grant', grant),
  identityRoute('grants-check', 'HEAD', grantPath, 'identity:check_grant', check),
  identityRoute('grants-get', 'GET', grantPath, 'identity:check_grant', check),
  identityRoute('grants-delete', 'DELETE', grantPath, 'identity:revoke_grant', unassign),
  identityRoute('grants-list', 'GET', '/projects/{project_id}/users/{user_id}/roles', 'identity:list_grants', rolesOfUserOnProject),
  identityRoute('role-assignments-list', 'GET', '/role_assignments', 'identity:list_role_assignments', roleAssignments),
];
