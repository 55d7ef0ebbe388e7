// /v3/users/{user_id}/application_credentials and /access_rules: Keystone's application credential
// API (keystone/api/users.py UserAppCredListCreateResource, UserAppCredGetDeleteResource,
// UserAccessRuleListResource). A user makes them for themself, from a project-scoped token, bound to
// that project and to the token's roles or a subset; the secret is returned once and kept only hashed.
// Access rules are refused (Jacket's services do not enforce them), so a user's rule list is empty.
import type { RequestContext, Route } from '../../http/router';
import type { JacketConfig } from '../../config';
import type { AuthContext } from '../../api/policy';
import { authorize, effectiveRoles, policyDenied } from '../../api/policy';
import { json, noContent } from '../../http/respond';
import { ApiError, badRequest, conflict, notFound } from '../../http/errors';
import { validateBody } from '../../api/validation';
import { hashPassword } from '../passwords';
import { newId, type RoleRecord } from '../model';
import { deleteAppCreds, generateSecret, NameTakenError, type AppCredRecord } from '../appcreds';
import type { Services } from '../../services';
import { identityRoute, listLinks, v3Url } from './common';

const roleRef = {
  type: 'object',
  properties: { id: { type: 'string', minLength: 1, maxLength: 64 }, name: { type: 'string', minLength: 1, maxLength: 255 } },
  minProperties: 1,
  maxProperties: 1,
  additionalProperties: false,
};
const accessRule = {
  type: 'object',
  properties: {
    path: { type: 'string', maxLength: 225, pattern: '^/.*' },
    method: { type: 'string', pattern: '^(POST|GET|HEAD|PATCH|PUT|DELETE)$' },
    service: { type: 'string', minLength: 1, maxLength: 64 },
    id: { type: 'string', minLength: 1, maxLength: 64 },
  },
  additionalProperties: false,
};
// keystone/application_credential/schema.py application_credential_create
export const createAppCredSchema = {
  type: 'object',
  required: ['application_credential'],
  properties: {
    application_credential: {
      type: 'object',
      required: ['name'],
      properties: {
        name: { type: 'string', minLength: 1, maxLength: 255, pattern: '[\\S]+' },
        description: { type: ['string', 'null'] },
        secret: { type: ['string', 'null'] },
        expires_at: { type: ['string', 'null'] },
        roles: { type: 'array', items: roleRef },
        unrestricted: { type: 'boolean' },
        access_rules: { type: 'array', items: accessRule },
      },
    },
  },
};

interface CreateBody {
  name: string;
  description?: string | null;
  secret?: string | null;
  expires_at?: string | null;
  roles?: { id?: string; name?: string }[];
  unrestricted?: boolean;
  access_rules?: unknown[];
}

/** Keystone's datetimes without a zone: microseconds, no Z ("2018-02-27T18:30:59.000000"). */
const naiveTime = (iso: string) => iso.replace(/\.(\d{3})Z$/, '.$1000');

export function appCredBody(cfg: JacketConfig, c: AppCredRecord, secret?: string) {
  return {
    id: c.id,
    name: c.name,
    description: c.description,
    expires_at: c.expires_at ? naiveTime(c.expires_at) : null,
    project_id: c.project_id,
    roles: c.roles.map((r) => ({ id: r.id, name: r.name, domain_id: null })),
    unrestricted: c.unrestricted,
    access_rules: [],
    links: { self: v3Url(cfg, `/users/${c.user_id}/application_credentials/${c.id}`) },
    ...(secret !== undefined ? { secret } : {}),
  };
}

const notFoundCred = (id: string) => notFound(`Could not find Application Credential: ${id}.`);
const invalid = (detail: string) => badRequest(`Invalid application credential: ${detail}`);

/**
 * keystone/api/users.py _check_unrestricted_application_credential: a token made from a restricted
 * credential may not create or delete credentials (nor trusts, which Jacket does not have).
 */
function refuseRestricted(auth: AuthContext): void {
  if (auth.appCred && !auth.appCred.unrestricted) {
    throw new ApiError(403, "You are not authorized to perform the requested action: Using method 'application_credential' is not allowed for managing additional application credentials.");
  }
}

/**
 * oslo's parse_isotime as keystone.common.utils.parse_expiration_date uses it: an ISO 8601 time, UTC
 * when no zone is given; 400 in Keystone's words when malformed or already past.
 */
export function parseExpiry(s: string, now = Date.now()): string {
  const m = /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?))?(Z|[+-]\d{2}:?\d{2})?$/i.exec(s.trim());
  const t = m ? Date.parse(`${m[1]}T${m[2] ?? '00:00:00'}${normalizeZone(m[3])}`) : NaN;
  if (Number.isNaN(t)) {
    throw badRequest('Timestamp not in expected format. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.');
  }
  if (t <= now) {
    throw badRequest(
      "The 'expires_at' must not be before now. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.",
    );
  }
  return new Date(t).toISOString();
}

function normalizeZone(z: string | undefined): string {
  if (!z || z.toUpperCase() === 'Z') return 'Z';
  return z.includes(':') ? z : `${z.slice(0, 3)}:${z.slice(3)}`;
}

/** Role records by name or id, each once. */
async function roleRecords(s: Services, names: string[]): Promise<RoleRecord[]> {
  const out = new Map<string, RoleRecord>();
  for (const n of names) {
    const r = await s.identity.findRoleByName(n);
    if (r) out.set(r.id, r);
  }
  return [...out.values()];
}

/** The user's effective roles on the project now: those assigned and those they imply. */
export async function effectiveRoleRecords(s: Services, userId: string, projectId: string): Promise<RoleRecord[]> {
  const assigned = (await Promise.all((await s.identity.roleIdsOn(userId, projectId)).map((id) => s.identity.getRole(id)))).filter((r) => r !== undefined);
  const names = new Set(assigned.map((r) => r.name_key));
  const implied = await roleRecords(
    s,
    effectiveRoles([...names]).filter((n) => !names.has(n)),
  );
  return [...assigned, ...implied];
}

/** keystone's _get_roles then _require_user_has_role_in_project: a subset of the token's roles. */
async function delegatedRoles(s: Services, auth: AuthContext, projectId: string, asked: { id?: string; name?: string }[] | undefined) {
  const tokenRoles = await roleRecords(s, auth.roles);
  if (!asked || asked.length === 0) return tokenRoles.map((r) => ({ id: r.id, name: r.name }));
  const wanted = new Map<string, RoleRecord>();
  for (const ref of asked) {
    let r: RoleRecord | undefined;
    if (ref.id) r = (await s.identity.getRole(ref.id)) ?? { id: ref.id, name: ref.id, name_key: ref.id };
    else {
      r = await s.identity.findRoleByName(ref.name!);
      if (!r) throw notFound(`Could not find role: ${ref.name}.`);
    }
    if (!tokenRoles.some((t) => t.id === r.id)) throw invalid('Cannot create an application credential with unassigned role');
    wanted.set(r.id, r);
  }
  const held = new Set((await effectiveRoleRecords(s, auth.userId, projectId)).map((r) => r.id));
  for (const r of wanted.values()) {
    if (!held.has(r.id)) throw invalid(`Could not find role assignment with role: ${r.id}, user or group: ${auth.userId}, project, domain, or system: ${projectId}.`);
  }
  return [...wanted.values()].map((r) => ({ id: r.id, name: r.name }));
}

async function create(ctx: RequestContext) {
  const s = ctx.services;
  const auth = ctx.auth!;
  const userId = ctx.params.user_id;
  // RULE_OWNER: only the user themself, admins included (Keystone has no override for this one).
  authorize(ctx, 'identity:create_application_credential', { userId });
  const b = validateBody<{ application_credential: CreateBody }>(createAppCredSchema, ctx.body, 'keystone').application_credential;
  refuseRestricted(auth);
  // scope_types=['project']: the credential is bound to the token's project.
  if (!auth.projectId) throw policyDenied('identity:create_application_credential');
  if (b.access_rules && b.access_rules.length > 0) throw invalid('access rules are not supported by this cloud.');
  const roles = await delegatedRoles(s, auth, auth.projectId, b.roles);
  const expiresAt = b.expires_at ? parseExpiry(b.expires_at) : null;
  const secret = b.secret || generateSecret();
  const cred: AppCredRecord = {
    id: newId(),
    name: b.name,
    name_key: b.name.toLowerCase(),
    description: b.description ?? null,
    user_id: userId,
    project_id: auth.projectId,
    secret_hash: await hashPassword(secret),
    expires_at: expiresAt,
    unrestricted: b.unrestricted ?? false,
    roles,
  };
  try {
    await s.identity.appCreds.create(cred);
  } catch (e) {
    if (e instanceof NameTakenError) throw conflict(`Conflict occurred attempting to store application_credential - Duplicate entry found with name ${b.name}.`);
    throw e;
  }
  return json({ application_credential: appCredBody(s.config, cred, secret) }, 201);
}

async function list(ctx: RequestContext) {
  const s = ctx.services;
  const userId = ctx.params.user_id;
  authorize(ctx, 'identity:list_application_credentials', { userId });
  const name = ctx.query.get('name') ?? undefined;
  const creds = await s.identity.appCreds.listForUser(userId, name);
  return json({ application_credentials: creds.map((c) => appCredBody(s.config, c)), links: listLinks(s.config, `/users/${userId}/application_credentials`) });
}

/** The credential, checked against the policy with its owner as the target (Keystone's _update_request_user_id_attribute). */
async function visibleCred(ctx: RequestContext, policy: 'identity:get_application_credential' | 'identity:delete_application_credential'): Promise<AppCredRecord> {
  const { user_id: userId, application_credential_id: id } = ctx.params;
  const cred = await ctx.services.identity.appCreds.get(id);
  authorize(ctx, policy, { userId: cred?.user_id ?? userId });
  if (!cred || cred.user_id !== userId) throw notFoundCred(id);
  return cred;
}

async function show(ctx: RequestContext) {
  return json({ application_credential: appCredBody(ctx.services.config, await visibleCred(ctx, 'identity:get_application_credential')) });
}

async function remove(ctx: RequestContext) {
  const s = ctx.services;
  const cred = await visibleCred(ctx, 'identity:delete_application_credential');
  refuseRestricted(ctx.auth!);
  await deleteAppCreds(s.identity.appCreds, s.revocations, [cred]);
  return noContent();
}

async function listAccessRules(ctx: RequestContext) {
  const userId = ctx.params.user_id;
  authorize(ctx, 'identity:list_access_rules', { userId });
  return json({ access_rules: [], links: listLinks(ctx.services.config, `/users/${userId}/access_rules`) });
}

async function showAccessRule(ctx: RequestContext): Promise<never> {
  authorize(ctx, 'identity:get_access_rule', { userId: ctx.params.user_id });
  throw notFound(`Could not find access rule: ${ctx.params.access_rule_id}.`);
}

const collection = '/users/{user_id}/application_credentials';
export const applicationCredentialRoutes: Route[] = [
  identityRoute('appcreds-create', 'POST', collection, 'identity:create_application_credential', create),
  identityRoute('appcreds-list', 'GET', collection, 'identity:list_application_credentials', list),
  identityRoute('appcreds-show', 'GET', `${collection}/{application_credential_id}`, 'identity:get_application_credential', show),
  identityRoute('appcreds-delete', 'DELETE', `${collection}/{application_credential_id}`, 'identity:delete_application_credential', remove),
  identityRoute('access-rules-list', 'GET', '/users/{user_id}/access_rules', 'identity:list_access_rules', listAccessRules),
  identityRoute('access-rules-show', 'GET', '/users/{user_id}/access_rules/{access_rule_id}', 'identity:get_access_rule', showAccessRule),
];
