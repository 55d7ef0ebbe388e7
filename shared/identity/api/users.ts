// /v3/users: Keystone's user API (admin), a user may read itself. Passwords are hashed with scrypt
// and never returned or logged.
import type { RequestContext, Route } from '../../http/router';
import type { JacketConfig } from '../../config';
import { json, noContent } from '../../http/respond';
import { conflict, notFound } from '../../http/errors';
import { validateBody } from '../../api/validation';
import { authorize } from '../../api/policy';
import { AlreadyExistsError } from '../../store/tables';
import { hashPassword } from '../passwords';
import { newId, type UserRecord } from '../model';
import { deleteAppCredsOfUser } from '../appcreds';
import { domainOr404, identityRoute, listFilter, listLinks, v3Url } from './common';
import { projectBody } from './projects';

const userProps = {
  name: { type: 'string', minLength: 1, maxLength: 255 },
  password: { type: ['string', 'null'], maxLength: 4096 },
  domain_id: { type: ['string', 'null'], minLength: 1, maxLength: 64 },
  default_project_id: { type: ['string', 'null'], maxLength: 64 },
  enabled: { type: 'boolean' },
  description: { type: ['string', 'null'] },
  email: { type: ['string', 'null'] },
  options: { type: 'object' },
};
export const createUserSchema = {
  type: 'object',
  required: ['user'],
  properties: { user: { type: 'object', required: ['name'], properties: userProps } },
};
export const updateUserSchema = {
  type: 'object',
  required: ['user'],
  properties: { user: { type: 'object', minProperties: 1, properties: { ...userProps, domain_id: { not: {} } } } },
};

type UserInput = { name?: string; password?: string | null; domain_id?: string | null; default_project_id?: string | null; enabled?: boolean; description?: string | null; email?: string | null };

export function userBody(cfg: JacketConfig, u: UserRecord) {
  const b: Record<string, unknown> = {
    id: u.id,
    name: u.name,
    domain_id: u.domain_id,
    enabled: u.enabled,
    password_expires_at: null,
    options: {},
    links: { self: v3Url(cfg, `/users/${u.id}`) },
  };
  if (u.default_project_id) b.default_project_id = u.default_project_id;
  if (u.description) b.description = u.description;
  if (u.email) b.email = u.email;
  return b;
}

const duplicate = (name: string, domainId: string) => conflict(`Conflict occurred attempting to store user - Duplicate entry found with name ${name} at domain ID ${domainId}.`);

async function create(ctx: RequestContext) {
  const s = ctx.services;
  const b = validateBody<{ user: UserInput & { name: string } }>(createUserSchema, ctx.body, 'keystone').user;
  const domainId = domainOr404(b.domain_id ?? undefined);
  if (b.default_project_id && !(await s.identity.getProject(b.default_project_id))) {
    throw notFound(`Could not find project: ${b.default_project_id}.`);
  }
  if (await s.identity.findUserByName(b.name, domainId)) throw duplicate(b.name, domainId);
  const u: UserRecord = {
    id: newId(),
    name: b.name,
    name_key: b.name.toLowerCase(),
    domain_id: domainId,
    enabled: b.enabled ?? true,
    ...(b.description ? { description: b.description } : {}),
    ...(b.email ? { email: b.email } : {}),
    ...(b.default_project_id ? { default_project_id: b.default_project_id } : {}),
    ...(b.password ? { password_hash: await hashPassword(b.password), password_changed_at: new Date().toISOString() } : {}),
  };
  try {
    await s.identity.createUser(u);
  } catch (e) {
    if (e instanceof AlreadyExistsError) throw duplicate(b.name, domainId);
    throw e;
  }
  return json({ user: userBody(s.config, u) }, 201);
}

async function list(ctx: RequestContext) {
  const s = ctx.services;
  const rows = await s.identity.listUsers(listFilter(ctx.query));
  return json({ users: rows.map((u) => userBody(s.config, u)), links: listLinks(s.config, '/users') });
}

async function visibleUser(ctx: RequestContext): Promise<UserRecord> {
  const id = ctx.params.user_id;
  authorize(ctx, 'identity:get_user', { userId: id });
  const u = await ctx.services.identity.getUser(id);
  if (!u) throw notFound(`Could not find user: ${id}.`);
  return u;
}

async function show(ctx: RequestContext) {
  return json({ user: userBody(ctx.services.config, await visibleUser(ctx)) });
}

async function update(ctx: RequestContext) {
  const s = ctx.services;
  const b = validateBody<{ user: UserInput }>(updateUserSchema, ctx.body, 'keystone').user;
  const id = ctx.params.user_id;
  const cur = await s.identity.getUser(id);
  if (!cur) throw notFound(`Could not find user: ${id}.`);
  if (b.name && b.name.toLowerCase() !== cur.name_key) {
    const other = await s.identity.findUserByName(b.name, cur.domain_id);
    if (other && other.id !== id) throw duplicate(b.name, cur.domain_id);
  }
  const hash = b.password ? await hashPassword(b.password) : undefined;
  const stored = await s.identity.updateUser(id, (u) => {
    const n: UserRecord = { ...u };
    if (b.name !== undefined) Object.assign(n, { name: b.name, name_key: b.name.toLowerCase() });
    if (b.enabled !== undefined) n.enabled = b.enabled;
    if (b.description !== undefined) n.description = b.description ?? undefined;
    if (b.email !== undefined) n.email = b.email ?? undefined;
    if (b.default_project_id !== undefined) n.default_project_id = b.default_project_id ?? undefined;
    if (hash) Object.assign(n, { password_hash: hash, password_changed_at: new Date().toISOString() });
    return n;
  });
  if (!stored) throw notFound(`Could not find user: ${id}.`);
  // As Keystone: a disabled user or a new password ends the user's existing tokens, and disabling
  // deletes the user's application credentials (keystone/application_credential/core.py).
  if (b.enabled === false || hash) await s.revocations.revokeUser(id);
  if (b.enabled === false) await deleteAppCredsOfUser(s.identity.appCreds, s.revocations, id);
  return json({ user: userBody(s.config, stored.value) });
}

async function remove(ctx: RequestContext) {
  const s = ctx.services;
  const id = ctx.params.user_id;
  if (!(await s.identity.getUser(id))) throw notFound(`Could not find user: ${id}.`);
  await s.revocations.revokeUser(id);
  await deleteAppCredsOfUser(s.identity.appCreds, s.revocations, id);
  for (const a of await s.identity.assignmentsOfUser(id)) await s.identity.revoke(a);
  await s.identity.deleteUser(id);
  return noContent();
}

async function userProjects(ctx: RequestContext) {
  const s = ctx.services;
  const u = await visibleUser(ctx);
  const ids = [...new Set((await s.identity.assignmentsOfUser(u.id)).map((a) => a.project_id))];
  const projects = [];
  for (const id of ids) {
    const p = await s.identity.getProject(id);
    if (p) projects.push(projectBody(s.config, p));
  }
  return json({ projects, links: listLinks(s.config, `/users/${u.id}/projects`) });
}

export const userRoutes: Route[] = [
  identityRoute('users-create', 'POST', '/users', 'identity:create_user', create),
  identityRoute('users-list', 'GET', '/users', 'identity:list_users', list),
  identityRoute('users-show', 'GET', '/users/{user_id}', 'identity:get_user', show),
  identityRoute('users-update', 'PATCH', '/users/{user_id}', 'identity:update_user', update),
  identityRoute('users-delete', 'DELETE', '/users/{user_id}', 'identity:delete_user', remove),
  identityRoute('users-projects', 'GET', '/users/{user_id}/projects', 'identity:list_user_projects', userProjects),
];
