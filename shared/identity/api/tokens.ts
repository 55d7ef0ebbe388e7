// POST/GET/HEAD/DELETE /v3/auth/tokens, GET /v3/auth/projects and /v3/auth/catalog (built-in mode).
import type { RequestContext, Route } from '../../http/router';
import type { Services } from '../../services';
import { json, noContent } from '../../http/respond';
import { ApiError, badRequest, forbidden, notFound, unauthorized } from '../../http/errors';
import { validateBody } from '../../api/validation';
import { authorize, effectiveRoles } from '../../api/policy';
import { signToken, newAuditId, type TokenPayload } from '../tokens';
import { verifyPassword } from '../passwords';
import { BuiltinAuthenticator } from '../authenticate';
import { buildCatalog } from '../catalog';
import { DEFAULT_DOMAIN, type ProjectRecord, type RoleRecord, type UserRecord } from '../model';
import type { AppCredRecord } from '../appcreds';
import { identityRoute, keystoneTime, listLinks, resolveDomain, v3Url } from './common';
import { projectBody } from './projects';
import { effectiveRoleRecords } from './applicationCredentials';

const ref = {
  type: 'object',
  properties: {
    id: { type: 'string', minLength: 1, maxLength: 255 },
    name: { type: 'string', minLength: 1, maxLength: 255 },
    domain: {
      type: 'object',
      properties: { id: { type: 'string' }, name: { type: 'string' } },
    },
  },
};

export const authSchema = {
  type: 'object',
  required: ['auth'],
  properties: {
    auth: {
      type: 'object',
      required: ['identity'],
      properties: {
        identity: {
          type: 'object',
          required: ['methods'],
          properties: {
            methods: { type: 'array', minItems: 1, items: { type: 'string' } },
            password: {
              type: 'object',
              required: ['user'],
              properties: {
                user: { ...ref, required: ['password'], properties: { ...ref.properties, password: { type: 'string' } } },
              },
            },
            token: { type: 'object', required: ['id'], properties: { id: { type: 'string' } } },
            application_credential: {
              type: 'object',
              properties: { id: { type: 'string' }, name: { type: 'string' }, secret: { type: 'string' }, user: ref },
            },
          },
        },
        scope: {
          anyOf: [
            { type: 'string', enum: ['unscoped'] },
            {
              type: 'object',
              properties: { project: ref, domain: ref, system: { type: 'object' } },
            },
          ],
        },
      },
    },
  },
};

interface Ref {
  id?: string;
  name?: string;
  domain?: { id?: string; name?: string };
}
interface AuthBody {
  auth: {
    identity: {
      methods: string[];
      password?: { user: Ref & { password: string } };
      token?: { id: string };
      application_credential?: { id?: string; name?: string; secret?: string; user?: Ref };
    };
    scope?: 'unscoped' | { project?: Ref; domain?: Ref; system?: object };
  };
}

function builtin(s: Services): BuiltinAuthenticator {
  if (!(s.auth instanceof BuiltinAuthenticator)) {
    throw new ApiError(501, 'The identity API is served by the external Keystone configured for this cloud.');
  }
  return s.auth;
}

const malformed = (what: string) =>
  badRequest(`Expecting to find ${what}. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.`);

/** The user a {id} or {name, domain} reference names, if any. */
async function userFromRef(s: Services, u: Ref): Promise<UserRecord | undefined> {
  if (u.id) return s.identity.getUser(u.id);
  if (u.name) {
    const domainId = resolveDomain(u.domain);
    if (!u.domain) throw malformed('domain in user');
    return domainId ? s.identity.findUserByName(u.name, domainId) : undefined;
  }
  throw malformed('id or name in user');
}

async function userFromPassword(s: Services, u: Ref & { password: string }): Promise<UserRecord> {
  const user = await userFromRef(s, u);
  // One answer for unknown user, wrong password and disabled user: nothing is given away.
  if (!user || !user.enabled || !(await verifyPassword(u.password, user.password_hash))) throw unauthorized();
  return user;
}

/**
 * keystone/auth/plugins/core.py AppCredInfo and the SQL driver's authenticate: the credential by id
 * (unknown: Keystone's 404), or by name for a user given by id or name + domain; then one 401 for a wrong
 * secret, an expired credential or a disabled user.
 */
async function fromAppCred(s: Services, a: { id?: string; name?: string; secret?: string; user?: Ref }): Promise<{ user: UserRecord; cred: AppCredRecord }> {
  let cred: AppCredRecord | undefined;
  let user: UserRecord | undefined;
  if (a.id) {
    cred = await s.identity.appCreds.get(a.id);
    if (!cred) throw notFound(`Could not find Application Credential: ${a.id}.`);
    user = await s.identity.getUser(cred.user_id);
    if (a.user && (await userFromRef(s, a.user))?.id !== cred.user_id) throw unauthorized();
  } else if (a.name) {
    if (!a.user) throw malformed('user in application_credential');
    user = await userFromRef(s, a.user);
    // Keystone indexes an empty list here (a 500); an unknown name is the same 401 as a wrong secret.
    if (user) cred = (await s.identity.appCreds.listForUser(user.id, a.name)).find((c) => c.name === a.name);
  } else {
    throw malformed('id or name in application credential');
  }
  if (!user || !user.enabled || !cred) throw unauthorized();
  if (!(await verifyPassword(a.secret ?? '', cred.secret_hash))) throw unauthorized();
  if (cred.expires_at && Date.parse(cred.expires_at) <= Date.now()) throw unauthorized();
  return { user, cred };
}

/**
 * The roles a token made from `cred` carries: the delegated ones the user still holds on the project
 * (keystone/models/token_model.py _get_application_credential_roles); none left is a 401.
 */
async function appCredRoles(s: Services, user: UserRecord, cred: AppCredRecord): Promise<RoleRecord[]> {
  const held = new Map((await effectiveRoleRecords(s, user.id, cred.project_id)).map((r) => [r.id, r]));
  const roles = cred.roles.map((r) => held.get(r.id)).filter((r) => r !== undefined);
  if (roles.length === 0) throw unauthorized(`User ${user.id} has no access to project ${cred.project_id}`);
  return roles;
}

async function projectFromRef(s: Services, p: Ref): Promise<ProjectRecord> {
  let project: ProjectRecord | undefined;
  if (p.id) project = await s.identity.getProject(p.id);
  else if (p.name) {
    if (!p.domain)
      throw badRequest('Expecting to find domain in project. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.');
    const domainId = resolveDomain(p.domain);
    if (domainId) project = await s.identity.findProjectByName(p.name, domainId);
  } else {
    throw badRequest(
      'Expecting to find id or name in project. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.',
    );
  }
  if (!project || !project.enabled) throw unauthorized();
  return project;
}

export function tokenBody(s: Services, p: TokenPayload, withCatalog: boolean) {
  const token: Record<string, unknown> = {
    methods: p.m,
    user: { id: p.u, name: p.un, domain: { id: p.ud, name: DEFAULT_DOMAIN.name }, password_expires_at: null },
    audit_ids: p.a,
    expires_at: keystoneTime(new Date(p.exp)),
    issued_at: keystoneTime(new Date(p.iat)),
  };
  if (p.ac) token.application_credential = { id: p.ac.id, name: p.ac.n, restricted: !p.ac.u };
  if (p.p) {
    token.project = { id: p.p, name: p.pn, domain: { id: p.pd, name: DEFAULT_DOMAIN.name } };
    token.is_domain = false;
    token.roles = p.r.map((name, i) => ({ id: p.ri[i], name }));
    if (withCatalog) token.catalog = buildCatalog(s.config, p.p);
  }
  // An unscoped token has no catalog at all (keystone's render_token_response_from_model: only
  // `include_catalog and not token.unscoped` adds one).
  return { token };
}

async function issue(ctx: RequestContext) {
  const s = ctx.services;
  const auth = builtin(s);
  const body = validateBody<AuthBody>(authSchema, ctx.body, 'keystone').auth;
  const methods = body.identity.methods;
  let user: UserRecord;
  let auditChain: string[] = [];
  let expires = Date.now() + s.config.auth.tokenTtlSeconds * 1000;
  let fromToken: TokenPayload | undefined;
  let cred: AppCredRecord | undefined;
  const scope = body.scope;
  if (methods.includes('password')) {
    if (!body.identity.password)
      throw badRequest(
        'Expecting to find password in identity. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.',
      );
    user = await userFromPassword(s, body.identity.password.user);
  } else if (methods.includes('token')) {
    if (!body.identity.token)
      throw badRequest('Expecting to find token in identity. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.');
    fromToken = await auth.check(body.identity.token.id);
    const u = await s.identity.getUser(fromToken.u);
    if (!u || !u.enabled) throw unauthorized();
    user = u;
    // A token made from a token keeps the original's expiry and audit chain, as Keystone does.
    auditChain = [fromToken.a[fromToken.a.length - 1]];
    expires = fromToken.exp;
    if (fromToken.ac) {
      // A token made from a credential's token stays the credential's: same project, same roles.
      if (scope !== undefined) throw unauthorized('Application credentials cannot request a scope.');
      cred = await s.identity.appCreds.get(fromToken.ac.id);
      if (!cred) throw unauthorized();
    }
  } else if (methods.includes('application_credential')) {
    if (!body.identity.application_credential) throw malformed('application_credential in identity');
    // The credential carries its own project scope (keystone/auth/core.py).
    if (scope !== undefined) throw unauthorized('Application credentials cannot request a scope.');
    ({ user, cred } = await fromAppCred(s, body.identity.application_credential));
    // A token outlives neither its credential nor the usual lifetime.
    if (cred.expires_at) expires = Math.min(expires, Date.parse(cred.expires_at));
  } else {
    throw unauthorized('Attempted to authenticate with an unsupported method.');
  }

  let project: ProjectRecord | undefined;
  if (cred) {
    project = await s.identity.getProject(cred.project_id);
    if (!project?.enabled) throw unauthorized();
  } else if (scope && scope !== 'unscoped') {
    if (scope.domain || scope.system) throw unauthorized('Jacket grants project-scoped and unscoped tokens only.');
    if (scope.project) project = await projectFromRef(s, scope.project);
  } else if (scope === undefined && fromToken?.p) {
    project = await s.identity.getProject(fromToken.p);
  } else if (scope === undefined && user.default_project_id) {
    // Keystone scopes to the default project when it is usable and none was asked for.
    const p = await s.identity.getProject(user.default_project_id);
    if (p?.enabled && (await s.identity.roleIdsOn(user.id, p.id)).length > 0) project = p;
  }

  const payload: TokenPayload = {
    v: 1,
    u: user.id,
    un: user.name,
    ud: user.domain_id,
    r: [],
    ri: [],
    m: fromToken ? [...new Set([...fromToken.m, 'token'])] : cred ? ['application_credential'] : ['password'],
    iat: Date.now(),
    exp: expires,
    a: [newAuditId(), ...auditChain],
  };
  if (cred && project) {
    const roles = await appCredRoles(s, user, cred);
    Object.assign(payload, { p: project.id, pn: project.name, pd: project.domain_id, r: roles.map((r) => r.name), ri: roles.map((r) => r.id) });
    payload.ac = { id: cred.id, n: cred.name, u: cred.unrestricted };
  } else if (project) {
    const ids = await s.identity.roleIdsOn(user.id, project.id);
    const roles = (await Promise.all(ids.map((id) => s.identity.getRole(id)))).filter((r) => r !== undefined);
    if (roles.length === 0) throw unauthorized(`User ${user.id} has no access to project ${project.id}`);
    payload.p = project.id;
    payload.pn = project.name;
    payload.pd = project.domain_id;
    // Keystone lists the effective roles: the assigned ones and every role they imply.
    const names = new Set(roles.map((r) => r.name_key));
    for (const n of effectiveRoles([...names])) {
      if (names.has(n)) continue;
      const implied = await s.identity.findRoleByName(n);
      if (implied) roles.push(implied);
    }
    payload.r = roles.map((r) => r.name);
    payload.ri = roles.map((r) => r.id);
  }
  const token = signToken(payload, s.config.auth.tokenKeys[0]);
  return json(tokenBody(s, payload, !ctx.query.has('nocatalog')), 201, { 'X-Subject-Token': token });
}

async function subject(ctx: RequestContext): Promise<TokenPayload> {
  const s = ctx.services;
  const auth = builtin(s);
  const subjectToken = ctx.req.headers['x-subject-token'];
  if (!subjectToken) throw notFound('Could not find token: X-Subject-Token header is missing.');
  let p: TokenPayload;
  try {
    p = await auth.check(subjectToken);
  } catch {
    throw notFound('Could not find token.');
  }
  // identity:validate_token: an admin, or the token's own subject.
  authorize(ctx, 'identity:validate_token', { userId: p.u });
  return p;
}

async function validate(ctx: RequestContext) {
  const p = await subject(ctx);
  const token = ctx.req.headers['x-subject-token'];
  return json(tokenBody(ctx.services, p, !ctx.query.has('nocatalog')), 200, { 'X-Subject-Token': token });
}

async function revoke(ctx: RequestContext) {
  const p = await subject(ctx);
  await ctx.services.revocations.revokeAudit(p.a[0]);
  return noContent();
}

async function authProjects(ctx: RequestContext) {
  const s = ctx.services;
  const seen = new Set<string>();
  const projects = [];
  for (const a of await s.identity.assignmentsOfUser(ctx.auth!.userId)) {
    if (seen.has(a.project_id)) continue;
    seen.add(a.project_id);
    const p = await s.identity.getProject(a.project_id);
    if (p?.enabled) projects.push(projectBody(s.config, p));
  }
  return json({ projects, links: listLinks(s.config, '/auth/projects') });
}

async function authCatalog(ctx: RequestContext) {
  const a = ctx.auth!;
  // keystone/api/auth.py AuthCatalogResource: 403 in these words, and only a self link.
  if (!a.projectId) throw forbidden('A project-scoped token is required to produce a service catalog.');
  return json({ catalog: buildCatalog(ctx.services.config, a.projectId), links: { self: v3Url(ctx.services.config, '/auth/catalog') } });
}

async function authDomains(ctx: RequestContext) {
  return json({ domains: [], links: listLinks(ctx.services.config, '/auth/domains') });
}

async function authSystem(ctx: RequestContext) {
  return json({ system: [], links: listLinks(ctx.services.config, '/auth/system') });
}

export const tokenRoutes: Route[] = [
  identityRoute('token-issue', 'POST', '/auth/tokens', 'public', issue),
  identityRoute('token-validate', 'GET', '/auth/tokens', 'identity:validate_token', validate),
  identityRoute('token-check', 'HEAD', '/auth/tokens', 'identity:check_token', validate),
  identityRoute('token-revoke', 'DELETE', '/auth/tokens', 'identity:revoke_token', revoke),
  identityRoute('auth-projects', 'GET', '/auth/projects', 'identity:get_auth_projects', authProjects),
  identityRoute('auth-domains', 'GET', '/auth/domains', 'identity:get_auth_domains', authDomains),
  identityRoute('auth-system', 'GET', '/auth/system', 'identity:get_auth_system', authSystem),
  identityRoute('auth-catalog', 'GET', '/auth/catalog', 'identity:get_auth_catalog', authCatalog),
];
