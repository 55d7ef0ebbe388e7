// Like `keystone-manage bootstrap`: make sure the default roles exist (admin, manager, member, reader,
// service; their implications are IMPLIED_ROLES in shared/api/policy.ts) and, when the settings name
// one, an admin user with the admin role on an admin project. Idempotent: run at every start.
import type { Services } from '../services';
import { AlreadyExistsError } from '../store/tables';
import { hashPassword, verifyPassword } from './passwords';
import { DEFAULT_DOMAIN, newId, type RoleRecord } from './model';
import { log } from '../log';

/** The roles keystone-manage bootstrap makes (keystone/cmd/bootstrap.py). */
export const DEFAULT_ROLES = ['admin', 'manager', 'member', 'reader', 'service'];
/** The default roles Jacket's policies name (shared/api/policy.ts): these cannot be deleted. */
export const POLICY_ROLES = ['admin', 'manager', 'member', 'reader'];

async function ensureRole(s: Services, name: string): Promise<RoleRecord> {
  const found = await s.identity.findRoleByName(name);
  if (found) return found;
  const r: RoleRecord = { id: newId(), name, name_key: name };
  try {
    await s.identity.createRole(r);
    return r;
  } catch (e) {
    // Another instance bootstrapping at the same moment may win; use its record.
    if (e instanceof AlreadyExistsError) return (await s.identity.findRoleByName(name))!;
    throw e;
  }
}

export async function bootstrap(s: Services): Promise<{ projectId?: string; userId?: string }> {
  if (s.config.auth.mode === 'external') return {};
  const roles = new Map<string, RoleRecord>();
  for (const n of DEFAULT_ROLES) roles.set(n, await ensureRole(s, n));
  const b = s.config.bootstrap;
  if (!b) return {};
  let project = await s.identity.findProjectByName(b.projectName, DEFAULT_DOMAIN.id);
  if (!project) {
    project = {
      id: newId(),
      name: b.projectName,
      name_key: b.projectName.toLowerCase(),
      domain_id: DEFAULT_DOMAIN.id,
      description: 'Bootstrap project for initializing the cloud.',
      enabled: true,
      tags: [],
    };
    await s.identity.createProject(project);
  }
  let user = await s.identity.findUserByName(b.username, DEFAULT_DOMAIN.id);
  if (!user) {
    user = {
      id: newId(),
      name: b.username,
      name_key: b.username.toLowerCase(),
      domain_id: DEFAULT_DOMAIN.id,
      enabled: true,
      default_project_id: project.id,
      password_hash: await hashPassword(b.password),
    };
    await s.identity.createUser(user);
  } else if (!(await verifyPassword(b.password, user.password_hash))) {
    // keystone-manage bootstrap resets the bootstrap user's password to the configured one.
    const hash = await hashPassword(b.password);
    await s.identity.updateUser(user.id, (u) => ({ ...u, password_hash: hash, enabled: true }));
  }
  await s.identity.grant({ project_id: project.id, user_id: user.id, role_id: roles.get('admin')!.id });
  log.info('bootstrap', { projectId: project.id, userId: user.id });
  return { projectId: project.id, userId: user.id };
}
