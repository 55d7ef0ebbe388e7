// Policy: who may call what. Every upstream policy name Jacket enforces is listed, with upstream's
// default, in its service's policy file (shared/compute/policy.ts, shared/volume/policy.ts,
// shared/network/policy.ts, shared/image/policy.ts, shared/identity/policy.ts, shared/placement/policy.ts). Upstream's check
// strings are expressed in the Rule vocabulary below. A route names its policy; the pipeline
// (shared/http/pipeline.ts) is the one place that enforces it. Checks that filter data rather than
// gate a route (all_tenants, host fields for admins) ask `allowed(ctx, name)`, which reads the same
// files. Handlers still scope every lookup to ctx.auth.projectId, so another project's resource
// answers 404, as upstream's project_id:%(project_id)s target check does.
import { ApiError, type ServiceKind } from '../http/errors';
import { COMPUTE_POLICIES } from '../compute/policy';
import { VOLUME_POLICIES } from '../volume/policy';
import { NETWORK_POLICIES } from '../network/policy';
import { IMAGE_POLICIES } from '../image/policy';
import { IDENTITY_POLICIES } from '../identity/policy';
import { PLACEMENT_POLICIES } from '../placement/policy';

export interface AuthContext {
  userId: string;
  userName: string;
  userDomainId: string;
  /** Undefined for unscoped tokens. */
  projectId?: string;
  projectName?: string;
  projectDomainId?: string;
  /** Effective role names (admin implies member implies reader). */
  roles: string[];
  token: string;
  auditIds: string[];
  expiresAt: Date;
  issuedAt: Date;
  methods: string[];
  /** Set when the token was made from an application credential (Keystone's token.application_credential). */
  appCred?: { id: string; name: string; unrestricted: boolean };
}

import type { PolicyDefaults, Rule } from './rules';
export type { PolicyDefaults, Rule } from './rules';

/**
 * Routes that upstream does not police (version documents, extension lists, flavor lists...) name one
 * of these instead of an upstream name; docs/api-framework.md lists them.
 */
export const NO_POLICY = { public: 'public', authenticated: 'authenticated' } as const satisfies PolicyDefaults;
export type NoPolicy = keyof typeof NO_POLICY;

export type ComputePolicyName = keyof typeof COMPUTE_POLICIES;
export type VolumePolicyName = keyof typeof VOLUME_POLICIES;
export type NetworkPolicyName = keyof typeof NETWORK_POLICIES;
export type ImagePolicyName = keyof typeof IMAGE_POLICIES;
export type IdentityPolicyName = keyof typeof IDENTITY_POLICIES;
export type PlacementPolicyName = keyof typeof PLACEMENT_POLICIES;
export type PolicyName = NoPolicy | ComputePolicyName | VolumePolicyName | NetworkPolicyName | ImagePolicyName | IdentityPolicyName | PlacementPolicyName;

/** Each service's policy file, as the route table's unit test and the 403 wording read them. */
export const POLICY_FILES: Readonly<Record<Exclude<ServiceKind, 'root'>, PolicyDefaults>> = {
  compute: COMPUTE_POLICIES,
  volume: VOLUME_POLICIES,
  network: NETWORK_POLICIES,
  image: IMAGE_POLICIES,
  identity: IDENTITY_POLICIES,
  placement: PLACEMENT_POLICIES,
};

/** Every name's rule and the service whose file lists it (names are unique across files: a unit test says so). */
const RULES = new Map<string, { rule: Rule; service: ServiceKind }>();
for (const [name, rule] of Object.entries(NO_POLICY)) RULES.set(name, { rule, service: 'root' });
for (const [service, file] of Object.entries(POLICY_FILES)) {
  for (const [name, rule] of Object.entries(file)) RULES.set(name, { rule, service: service as ServiceKind });
}

export function ruleOf(name: PolicyName): Rule {
  const r = RULES.get(name);
  if (!r) throw new Error(`policy ${name} is in no policy file`);
  return r.rule;
}

/**
 * The resource a check is about, when the handler knows it (upstream's %(project_id)s / %(user_id)s
 * targets). Without one, the route-level check trusts the handler to scope its lookups.
 */
export interface Target {
  projectId?: string | null;
  userId?: string | null;
}

export const isAdmin = (a: AuthContext) => a.roles.includes('admin');

/**
 * The implied roles `keystone-manage bootstrap` makes (keystone/cmd/bootstrap.py): admin implies
 * manager, manager implies member, member implies reader; service implies nothing.
 */
export const IMPLIED_ROLES: ReadonlyMap<string, string> = new Map([
  ['admin', 'manager'],
  ['manager', 'member'],
  ['member', 'reader'],
]);

/** A role list with every role it implies added, as Keystone expands a token's roles. */
export function effectiveRoles(names: string[]): string[] {
  const out = new Set(names);
  for (const n of names) {
    for (let r = IMPLIED_ROLES.get(n); r !== undefined && !out.has(r); r = IMPLIED_ROLES.get(r)) out.add(r);
  }
  return [...out].sort();
}

/** Whether `auth` satisfies `rule` for `target`. */
export function satisfies(rule: Rule, auth: AuthContext | undefined, target: Target = {}): boolean {
  if (rule === 'public') return true;
  if (!auth) return false;
  // Keystone's bare "user_id:%(user_id)s": the caller's own only, admins included.
  if (rule === 'owner') return target.userId === undefined || target.userId === auth.userId;
  if (rule === 'authenticated' || isAdmin(auth)) return true;
  const inProject = (role: string) => auth.projectId !== undefined && auth.roles.includes(role) && (target.projectId === undefined || target.projectId === auth.projectId);
  switch (rule) {
    case 'admin':
      return false;
    case 'admin_or_service':
      return auth.roles.includes('service');
    case 'project_reader_or_admin_or_service':
      return auth.roles.includes('service') || inProject('reader');
    case 'admin_or_owner':
      return (target.userId === undefined || target.userId === auth.userId) && (target.projectId === undefined || target.projectId === auth.projectId);
    case 'project_reader_or_admin':
      return inProject('reader');
    case 'project_member_or_admin':
      return inProject('member');
    case 'project_manager_or_admin':
      return inProject('manager');
  }
}

/** For checks that filter data rather than gate a route: does the caller pass policy `name`? */
export function allowed(ctx: { auth?: AuthContext }, name: PolicyName, target?: Target): boolean {
  return satisfies(ruleOf(name), ctx.auth, target);
}

/** The 403 for `name`, worded as `service` words a policy refusal. */
export function policyDenied(name: string, service: ServiceKind = RULES.get(name)?.service ?? 'compute'): ApiError {
  switch (service) {
    case 'identity':
      return new ApiError(403, `You are not authorized to perform the requested action: ${name}.`);
    case 'network':
      // oslo.policy's PolicyNotAuthorized, as Neutron renders it.
      return new ApiError(403, `rule:${name} is disallowed by policy`, {}, 'PolicyNotAuthorized');
    case 'placement':
      // placement/exception.py PolicyNotAuthorized, raised as webob's HTTPForbidden
      return new ApiError(403, `Policy does not allow ${name} to be performed.`);
    case 'image':
      // glance/api/v2/policy.py
      return new ApiError(403, `You are not authorized to complete ${name} action.`);
    default:
      // Nova's and Cinder's PolicyNotAuthorized
      return new ApiError(403, `Policy doesn't allow ${name} to be performed.`);
  }
}

/**
 * Throws the service's 403 unless the caller passes policy `name` (for `target`). The pipeline calls
 * this for every route; a handler calls it only for a second, upstream-named check that depends on what
 * it found (e.g. os-lock-server:unlock:unlock_override when the lock is someone else's).
 */
export function authorize(ctx: { auth?: AuthContext }, name: PolicyName, target?: Target, service?: ServiceKind): void {
  if (!allowed(ctx, name, target)) throw policyDenied(name, service);
}

/**
 * An action route's policy (POST .../action with {"<action>": {...}}): the first body key the map
 * knows names the policy, as Nova's and Cinder's action dispatch pick the action; an unknown action
 * only needs a token and then answers 400 from its handler.
 */
export function actionPolicy<P extends PolicyName>(byAction: Readonly<Record<string, P>>): (body: unknown) => P | 'authenticated' {
  return (body) => {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) return 'authenticated';
    const key = Object.keys(body).find((k) => Object.prototype.hasOwnProperty.call(byAction, k));
    return key === undefined ? 'authenticated' : byAction[key];
  };
}
