// Identity records in Table Storage. Projects, users and roles sit in one partition each (identity
// data is small); assignments are written twice, by project and by user, so both "who is in this
// project" and "which projects has this user" are single-partition queries.
import { randomUUID } from 'node:crypto';
import { odata, type Repository, type TableStore } from '../store/tables';
import { AppCredStore } from './appcreds';

export const DEFAULT_DOMAIN = { id: 'default', name: 'Default', description: 'The default domain', enabled: true };

export interface ProjectRecord {
  id: string;
  name: string;
  domain_id: string;
  description: string;
  enabled: boolean;
  tags: string[];
  /** Lower-cased name, for case-insensitive uniqueness as Keystone's SQL backend has it. */
  name_key: string;
}

export interface UserRecord {
  id: string;
  name: string;
  domain_id: string;
  enabled: boolean;
  description?: string;
  email?: string;
  default_project_id?: string;
  password_hash?: string;
  name_key: string;
  password_changed_at?: string;
}

export interface RoleRecord {
  id: string;
  name: string;
  description?: string;
  name_key: string;
}

export interface AssignmentRecord {
  project_id: string;
  user_id: string;
  role_id: string;
}

export const newId = () => randomUUID().replace(/-/g, '');

const PK_PROJECT = 'project';
const PK_USER = 'user';
const PK_ROLE = 'role';

export class IdentityStore {
  readonly projects: Repository<ProjectRecord>;
  readonly users: Repository<UserRecord>;
  readonly roles: Repository<RoleRecord>;
  private readonly assignments: Repository<AssignmentRecord>;
  readonly appCreds: AppCredStore;

  constructor(tables: TableStore) {
    this.appCreds = new AppCredStore(tables);
    this.projects = tables.repository<ProjectRecord>('projects', ['name_key', 'domain_id', 'enabled']);
    this.users = tables.repository<UserRecord>('users', ['name_key', 'domain_id', 'enabled']);
    this.roles = tables.repository<RoleRecord>('roles', ['name_key']);
    this.assignments = tables.repository<AssignmentRecord>('roleassignments');
  }

  // --- projects
  getProject = async (id: string) => (await this.projects.get(PK_PROJECT, id))?.value;
  async findProjectByName(name: string, domainId: string): Promise<ProjectRecord | undefined> {
    const rows = await this.projects.list(PK_PROJECT, odata`name_key eq ${name.toLowerCase()} and domain_id eq ${domainId}`);
    return rows[0]?.value;
  }
  async listProjects(filter?: string): Promise<ProjectRecord[]> {
    return (await this.projects.list(PK_PROJECT, filter)).map((r) => r.value);
  }
  createProject = (p: ProjectRecord) => this.projects.create(PK_PROJECT, p.id, p);
  updateProject = (id: string, f: (p: ProjectRecord) => ProjectRecord | undefined) => this.projects.update(PK_PROJECT, id, f);
  deleteProject = (id: string) => this.projects.delete(PK_PROJECT, id);

  // --- users
  getUser = async (id: string) => (await this.users.get(PK_USER, id))?.value;
  async findUserByName(name: string, domainId: string): Promise<UserRecord | undefined> {
    const rows = await this.users.list(PK_USER, odata`name_key eq ${name.toLowerCase()} and domain_id eq ${domainId}`);
    return rows[0]?.value;
  }
  async listUsers(filter?: string): Promise<UserRecord[]> {
    return (await this.users.list(PK_USER, filter)).map((r) => r.value);
  }
  createUser = (u: UserRecord) => this.users.create(PK_USER, u.id, u);
  updateUser = (id: string, f: (u: UserRecord) => UserRecord | undefined) => this.users.update(PK_USER, id, f);
  deleteUser = (id: string) => this.users.delete(PK_USER, id);

  // --- roles
  getRole = async (id: string) => (await this.roles.get(PK_ROLE, id))?.value;
  async findRoleByName(name: string): Promise<RoleRecord | undefined> {
    const rows = await this.roles.list(PK_ROLE, odata`name_key eq ${name.toLowerCase()}`);
    return rows[0]?.value;
  }
  async listRoles(filter?: string): Promise<RoleRecord[]> {
    return (await this.roles.list(PK_ROLE, filter)).map((r) => r.value);
  }
  createRole = (r: RoleRecord) => this.roles.create(PK_ROLE, r.id, r);
  updateRole = (id: string, f: (r: RoleRecord) => RoleRecord | undefined) => this.roles.update(PK_ROLE, id, f);
  deleteRole = (id: string) => this.roles.delete(PK_ROLE, id);

  // --- assignments (project-scoped user roles)
  async grant(a: AssignmentRecord): Promise<void> {
    // Both index rows are idempotent upserts: a retry after a crash between them completes the pair.
    await this.assignments.upsert(`p:${a.project_id}`, `${a.user_id}:${a.role_id}`, a);
    await this.assignments.upsert(`u:${a.user_id}`, `${a.project_id}:${a.role_id}`, a);
  }
  async revoke(a: AssignmentRecord): Promise<boolean> {
    // The by-user row is what token issue reads: remove it first so access ends even if we stop midway.
    const byUser = await this.assignments.delete(`u:${a.user_id}`, `${a.project_id}:${a.role_id}`);
    const byProject = await this.assignments.delete(`p:${a.project_id}`, `${a.user_id}:${a.role_id}`);
    return byUser || byProject;
  }
  async hasGrant(a: AssignmentRecord): Promise<boolean> {
    return (await this.assignments.get(`u:${a.user_id}`, `${a.project_id}:${a.role_id}`)) !== undefined;
  }
  /** Role ids the user holds on the project. */
  async roleIdsOn(userId: string, projectId: string): Promise<string[]> {
    return (await this.assignments.listPrefix(`u:${userId}`, `${projectId}:`)).map((r) => r.value.role_id);
  }
  async assignmentsOfUser(userId: string): Promise<AssignmentRecord[]> {
    return (await this.assignments.list(`u:${userId}`)).map((r) => r.value);
  }
  async assignmentsOnProject(projectId: string): Promise<AssignmentRecord[]> {
    return (await this.assignments.list(`p:${projectId}`)).map((r) => r.value);
  }
  /** Every assignment, read partition by partition from the by-user index. */
  async assignmentsOfUsers(userIds: string[]): Promise<AssignmentRecord[]> {
    const out: AssignmentRecord[] = [];
    for (const id of userIds) out.push(...(await this.assignmentsOfUser(id)));
    return out;
  }

  /** Role names (as assigned) that the user holds on the project. */
  async roleNamesOn(userId: string, projectId: string): Promise<string[]> {
    const ids = await this.roleIdsOn(userId, projectId);
    const names: string[] = [];
    for (const id of ids) {
      const r = await this.getRole(id);
      if (r) names.push(r.name);
    }
    return names.sort();
  }
}
