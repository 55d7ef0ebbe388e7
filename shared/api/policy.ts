// Explicit policy rules, modelled on Nova's and Keystone's defaults. Every route names one; handlers
// also scope every lookup to ctx.auth.projectId, so another project's resource answers 404, as Nova does.
import { forbidden } from '../http/errors';

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
}

export type Rule =
  /** no token needed (version documents, token issue) */
  | 'public'
  /** any valid token, scoped or not */
  | 'authenticated'
  /** a project-scoped token with reader (or higher) on it, or an admin */
  | 'project_reader_or_admin'
  /** a project-scoped token with member (or higher) on it, or an admin */
  | 'project_member_or_admin'
  | 'admin';

export interface Policy {
  /** The upstream policy name, quoted in 403 messages, e.g. os_compute_api:os-flavor-manage:create */
  name: string;
  rule: Rule;
}

export const isAdmin = (a: AuthContext) => a.roles.includes('admin');

/** Keystone's default implied roles: admin -> member -> reader. */
export function effectiveRoles(names: string[]): string[] {
  const out = new Set(names);
  if (out.has('admin')) out.add('member');
  if (out.has('member')) out.add('reader');
  return [...out].sort();
}

/** Throws 403 unless `auth` satisfies the rule; the message is worded as the service words it. */
export function enforce(policy: Policy, auth: AuthContext | undefined, keystoneWording = false): void {
  if (policy.rule === 'public') return;
  const deny = () =>
    forbidden(
      keystoneWording
        ? `You are not authorized to perform the requested action: ${policy.name}.`
        : `Policy doesn't allow ${policy.name} to be performed.`,
    );
  if (!auth) throw deny();
  switch (policy.rule) {
    case 'authenticated':
      return;
    case 'admin':
      if (!isAdmin(auth)) throw deny();
      return;
    case 'project_reader_or_admin':
      if (isAdmin(auth)) return;
      if (!auth.projectId || !auth.roles.includes('reader')) throw deny();
      return;
    case 'project_member_or_admin':
      if (isAdmin(auth)) return;
      if (!auth.projectId || !auth.roles.includes('member')) throw deny();
      return;
  }
}
