// /v3/projects: Keystone's project API (admin), plus reading one's own project.
import type { RequestContext, Route } from '../../http/router';
import type { JacketConfig } from '../../config';
import { json, noContent } from '../../http/respond';
import { conflict, forbidden, notFound } from '../../http/errors';
import { validateBody } from '../../api/validation';
import { allowed, authorize } from '../../api/policy';
import { AlreadyExistsError } from '../../store/tables';
import { newId, type ProjectRecord } from '../model';
import { deleteAppCredsOfUser } from '../appcreds';
import { domainOr404, identityRoute, listFilter, listLinks, v3Url } from './common';

const tags = { type: 'array', maxItems: 80, items: { type: 'string', minLength: 1, maxLength: 255, pattern: '^[^,/]*$' } };
const projectProps = {
  name: { type: 'string', minLength: 1, maxLength: 64 },
  description: { type: ['string', 'null'] },
  domain_id: { type: ['string', 'null'], minLength: 1, maxLength: 64 },
  enabled: { type: 'boolean' },
  is_domain: { type: 'boolean', enum: [false] },
  parent_id: { type: ['string', 'null'] },
  tags,
  options: { type: 'object' },
};

export const createProjectSchema = {
  type: 'object',
  required: ['project'],
  properties: { project: { type: 'object', required: ['name'], properties: projectProps, additionalProperties: true } },
};
export const updateProjectSchema = {
  type: 'object',
  required: ['project'],
  properties: { project: { type: 'object', minProperties: 1, properties: { ...projectProps, domain_id: { not: {} }, is_domain: { not: {} } } } },
};

export function projectBody(cfg: JacketConfig, p: ProjectRecord) {
  return {
    id: p.id,
    name: p.name,
    domain_id: p.domain_id,
    description: p.description,
    enabled: p.enabled,
    is_domain: false,
    parent_id: p.domain_id,
    tags: p.tags,
    options: {},
    links: { self: v3Url(cfg, `/projects/${p.id}`) },
  };
}

const duplicate = (name: string, domainId: string) => conflict(`Conflict occurred attempting to store project - Duplicate entry found with name ${name} at domain ID ${domainId}.`);

async function create(ctx: RequestContext) {
  const s = ctx.services;
  const b = validateBody<{ project: Partial<ProjectRecord> & { name: string; parent_id?: string | null } }>(createProjectSchema, ctx.body, 'keystone').project;
  const domainId = domainOr404(b.domain_id ?? undefined);
  if (b.parent_id && b.parent_id !== domainId) throw forbidden('Jacket keeps a flat project hierarchy: parent_id must be the domain.');
  if (await s.identity.findProjectByName(b.name, domainId)) throw duplicate(b.name, domainId);
  const p: ProjectRecord = {
    id: newId(),
    name: b.name,
    name_key: b.name.toLowerCase(),
    domain_id: domainId,
    description: b.description ?? '',
    enabled: b.enabled ?? true,
    tags: b.tags ?? [],
  };
  try {
    await s.identity.createProject(p);
  } catch (e) {
    if (e instanceof AlreadyExistsError) throw duplicate(b.name, domainId);
    throw e;
  }
  return json({ project: projectBody(s.config, p) }, 201);
}

async function list(ctx: RequestContext) {
  const s = ctx.services;
  const rows = await s.identity.listProjects(listFilter(ctx.query));
  return json({ projects: rows.map((p) => projectBody(s.config, p)), links: listLinks(s.config, '/projects') });
}

/** An admin sees any project; anyone else only the project of their token (others are "not found"). */
async function visibleProject(ctx: RequestContext): Promise<ProjectRecord> {
  const id = ctx.params.project_id;
  const p = allowed(ctx, 'identity:get_project', { projectId: id }) ? await ctx.services.identity.getProject(id) : undefined;
  if (!p) {
    authorize(ctx, 'identity:get_project', { projectId: id });
    throw notFound(`Could not find project: ${id}.`);
  }
  return p;
}

async function show(ctx: RequestContext) {
  return json({ project: projectBody(ctx.services.config, await visibleProject(ctx)) });
}

async function update(ctx: RequestContext) {
  const s = ctx.services;
  const b = validateBody<{ project: Partial<ProjectRecord> }>(updateProjectSchema, ctx.body, 'keystone').project;
  const id = ctx.params.project_id;
  const cur = await s.identity.getProject(id);
  if (!cur) throw notFound(`Could not find project: ${id}.`);
  if (b.name && b.name.toLowerCase() !== cur.name_key) {
    const other = await s.identity.findProjectByName(b.name, cur.domain_id);
    if (other && other.id !== id) throw duplicate(b.name, cur.domain_id);
  }
  const stored = await s.identity.updateProject(id, (p) => ({
    ...p,
    ...(b.name !== undefined ? { name: b.name, name_key: b.name.toLowerCase() } : {}),
    ...(b.description !== undefined ? { description: b.description ?? '' } : {}),
    ...(b.enabled !== undefined ? { enabled: b.enabled } : {}),
    ...(b.tags !== undefined ? { tags: b.tags } : {}),
  }));
  if (!stored) throw notFound(`Could not find project: ${id}.`);
  if (b.enabled === false) await s.revocations.revokeProject(id);
  return json({ project: projectBody(s.config, stored.value) });
}

async function remove(ctx: RequestContext) {
  const s = ctx.services;
  const id = ctx.params.project_id;
  if (!(await s.identity.getProject(id))) throw notFound(`Could not find project: ${id}.`);
  // Tokens first, then grants, then the record: a crash midway leaves a retryable delete, never access.
  await s.revocations.revokeProject(id);
  for (const a of await s.identity.assignmentsOnProject(id)) {
    await deleteAppCredsOfUser(s.identity.appCreds, s.revocations, a.user_id, id);
    await s.identity.revoke(a);
  }
  await s.identity.deleteProject(id);
  return noContent();
}

export const projectRoutes: Route[] = [
  identityRoute('projects-create', 'POST', '/projects', 'identity:create_project', create),
  identityRoute('projects-list', 'GET', '/projects', 'identity:list_projects', list),
  identityRoute('projects-show', 'GET', '/projects/{project_id}', 'identity:get_project', show),
  identityRoute('projects-update', 'PATCH', '/projects/{project_id}', 'identity:update_project', update),
  identityRoute('projects-delete', 'DELETE', '/projects/{project_id}', 'identity:delete_project', remove),
];
