// Keystone's policies that Jacket enforces, with upstream's defaults (keystone/common/policies/*.py,
// 2025.x). Jacket has no system or domain scope, so upstream's "role:reader and system_scope:all" and
// "role:reader/manager and domain_id:..." alternatives are served by admin: admin_required and those
// -> 'admin'; '' -> 'authenticated'; the owner alternatives (user_id:%(target.user.id)s,
// project_id:%(target.project.id)s, token_subject) -> 'admin_or_owner', whose target the handler gives.
import type { PolicyDefaults } from '../api/rules';

export const IDENTITY_POLICIES = {
  // token.py, auth.py
  'identity:validate_token': 'admin_or_owner',
  'identity:check_token': 'admin_or_owner',
  'identity:revoke_token': 'admin_or_owner',
  'identity:get_auth_projects': 'authenticated',
  'identity:get_auth_domains': 'authenticated',
  'identity:get_auth_system': 'authenticated',
  'identity:get_auth_catalog': 'authenticated',
  // project.py
  'identity:create_project': 'admin',
  'identity:list_projects': 'admin',
  'identity:get_project': 'admin_or_owner',
  'identity:update_project': 'admin',
  'identity:delete_project': 'admin',
  'identity:list_user_projects': 'admin_or_owner',
  // user.py
  'identity:create_user': 'admin',
  'identity:list_users': 'admin',
  'identity:get_user': 'admin_or_owner',
  'identity:update_user': 'admin',
  'identity:delete_user': 'admin',
  // role.py, grant.py, role_assignment.py
  'identity:create_role': 'admin',
  'identity:list_roles': 'admin',
  'identity:get_role': 'admin',
  'identity:update_role': 'admin',
  'identity:delete_role': 'admin',
  'identity:create_grant': 'admin',
  'identity:check_grant': 'admin',
  'identity:revoke_grant': 'admin',
  'identity:list_grants': 'admin',
  'identity:list_role_assignments': 'admin',
  // application_credential.py: create is RULE_OWNER (no admin override); the others are
  // system reader/admin or owner. access_rule.py likewise.
  'identity:create_application_credential': 'owner',
  'identity:list_application_credentials': 'admin_or_owner',
  'identity:get_application_credential': 'admin_or_owner',
  'identity:delete_application_credential': 'admin_or_owner',
  'identity:list_access_rules': 'admin_or_owner',
  'identity:get_access_rule': 'admin_or_owner',
  // domain.py
  'identity:list_domains': 'admin',
  'identity:get_domain': 'admin_or_owner',
} as const satisfies PolicyDefaults;

export type IdentityPolicy = keyof typeof IDENTITY_POLICIES;
