// The rule vocabulary of the policy files (shared/<service>/policy.ts), in a file of its own so those
// files do not import shared/api/policy.ts, which imports them.

/**
 * Upstream's default check strings in Jacket's words. Jacket has no system or domain scope: upstream's
 * "system reader/admin" and "domain reader/manager" alternatives are served by the admin role.
 */
export type Rule =
  /** no token needed (version documents, token issue) */
  | 'public'
  /** any valid token, scoped or not: upstream '@' or '' */
  | 'authenticated'
  /** admin, or the target is the caller's own (user_id:%(user_id)s, token_subject, own project) */
  | 'admin_or_owner'
  /** the target is the caller's own (Keystone's RULE_OWNER, user_id:%(user_id)s): no admin override */
  | 'owner'
  /** project_reader_or_admin: reader (or higher) on the token's project (and the target's), or admin */
  | 'project_reader_or_admin'
  /** project_member_or_admin: member (or higher) on the token's project (and the target's), or admin */
  | 'project_member_or_admin'
  /** project_manager_or_admin (Nova 2025.1+): the manager role on the project, or admin */
  | 'project_manager_or_admin'
  /**
   * the service role (another service's account, e.g. Nova's calling Placement) or admin: Nova's
   * SERVICE_ROLE (`service_or_admin`), Placement's ADMIN_OR_SERVICE (`role:admin or role:service`)
   */
  | 'admin_or_service'
  /** Placement's ADMIN_OR_PROJECT_READER_OR_SERVICE: project_reader_or_admin, or the service role */
  | 'project_reader_or_admin_or_service'
  /** context_is_admin / admin_api / admin_required */
  | 'admin';

/** A policy file: upstream policy name -> its default, in Jacket's rule vocabulary. */
export type PolicyDefaults = Readonly<Record<string, Rule>>;
