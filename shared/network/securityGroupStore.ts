// The security groups projects make through Neutron's API (the operator's mapped NSGs are the catalog's,
// securityGroups.ts): one record per group, holding its rules, in table `securitygroups` (one partition:
// groups are few, and the record is what a rule change updates under its ETag, so two racing rule
// creates cannot take the same NSG priority). Each group is an NSG Jacket owns, `sg-<group id>`.
import type { Services } from '../services';
import type { AuthContext } from '../api/policy';
import { isAdmin } from '../api/policy';
import { odata, type Stored } from '../store/tables';
import { networkCatalog, type SecurityGroupDef } from './catalog';
// A cycle (the service writes through this store), safe: used only at call time.
import { defaultGroupId, ensureDefaultGroup } from './securityGroupService';

export interface RuleRecord {
  id: string;
  direction: 'ingress' | 'egress';
  ethertype: 'IPv4' | 'IPv6';
  protocol: string | null;
  port_range_min: number | null;
  port_range_max: number | null;
  remote_ip_prefix: string | null;
  /** The group whose members are the remote side (Neutron's remote_group_id): its ASG in the NSG rule. */
  remote_group_id?: string | null;
  description: string;
  /** The NSG rule's priority (100–4096, unique per direction in the NSG). */
  priority: number;
  created_at: string;
}

export interface GroupRecord {
  id: string;
  name: string;
  description: string;
  project_id: string;
  created_at: string;
  updated_at: string;
  rules: RuleRecord[];
  /** The NSG in Jacket's resource group. */
  nsg: string;
  /**
   * The application security group its members' NICs join (`asg-<group id>`), which rules naming this
   * group as remote_group_id name. Absent on groups made before ASGs: made when a rule first names one.
   */
  asg?: string;
}

const PK = 'sg';
export const groupRepo = (s: Services) => s.tables.repository<GroupRecord>('securitygroups', ['project_id', 'name']);
export const nsgNameOf = (groupId: string) => `sg-${groupId}`;
export const asgNameOf = (groupId: string) => `asg-${groupId}`;
/** The Azure rule of a Neutron rule. */
export const azureRuleName = (ruleId: string) => `jacket-${ruleId}`;

/** Tags that let the sweeps and operators see the NSG is Jacket's and whose. */
export const groupTags = (g: Pick<GroupRecord, 'id' | 'project_id'>) => ({ jacket: 'security-group', 'jacket-security-group-id': g.id, 'jacket-project-id': g.project_id });

/**
 * The operator's `default` offered to every project (no project_id) is no longer a project's default
 * when the project has its own (every project, unless the catalog maps a `default` to it): it is not
 * listed to the project nor offered for its new servers and ports, so `default` means one group.
 * Admins still see it in listings.
 */
export function sharedDefaultHidden(s: Services, g: SecurityGroupDef, projectId: string | undefined): boolean {
  return g.name === 'default' && !g.project_id && !!projectId && !catalogDefaultFor(s, projectId);
}

export async function getGroup(s: Services, id: string): Promise<Stored<GroupRecord> | undefined> {
  return groupRepo(s).get(PK, id.toLowerCase());
}

/**
 * The catalog's group named `default` that the operator maps to this project (project_id set): that
 * project's default is the operator's, and Jacket makes it none of its own.
 */
export function catalogDefaultFor(s: Services, projectId: string): SecurityGroupDef | undefined {
  return networkCatalog(s.config).securityGroups.find((g) => g.name === 'default' && g.project_id !== '' && g.project_id === projectId);
}

/**
 * The groups a caller sees: their project's; every group for admins. The caller's project gets its
 * `default` group here when it has none yet (Neutron makes it on a project's first look at its groups
 * or first port), unless the catalog maps one to the project.
 */
export async function visibleGroupRecords(s: Services, auth: AuthContext): Promise<GroupRecord[]> {
  const rows = (await groupRepo(s).list(PK, isAdmin(auth) ? undefined : odata`project_id eq ${auth.projectId ?? ''}`)).map((r) => r.value);
  const project = auth.projectId;
  if (!project || catalogDefaultFor(s, project)) return rows;
  const id = defaultGroupId(project);
  if (rows.some((g) => g.id === id)) return rows;
  return [...rows, await ensureDefaultGroup(s, project)];
}

/** Every group of every project (one partition): the rules naming a group being deleted. */
export async function allGroups(s: Services): Promise<GroupRecord[]> {
  return (await groupRepo(s).list(PK)).map((r) => r.value);
}

/** The project's own groups (quota counts, name lookups). */
export async function projectGroups(s: Services, projectId: string): Promise<Stored<GroupRecord>[]> {
  return groupRepo(s).list(PK, odata`project_id eq ${projectId}`);
}

export const createGroupRecord = (s: Services, g: GroupRecord) => groupRepo(s).create(PK, g.id, g);
// Ids are stored lower-case (Neutron's UUIDs); a caller may send any case.
export const deleteGroupRecord = (s: Services, id: string, etag?: string) => groupRepo(s).delete(PK, id.toLowerCase(), etag);
export const updateGroupRecord = (s: Services, id: string, mutate: (g: GroupRecord) => GroupRecord | undefined) => groupRepo(s).update(PK, id.toLowerCase(), mutate);

/**
 * The security groups a server of the caller's project may use (server create's lookup by name or id):
 * the operator's mapped ones offered to the project, and the project's own, each as the NSG it stands for.
 */
export async function usableSecurityGroups(s: Services, auth: AuthContext): Promise<SecurityGroupDef[]> {
  const mapped = networkCatalog(s.config).securityGroups.filter((g) => (!g.project_id || g.project_id === auth.projectId || isAdmin(auth)) && !sharedDefaultHidden(s, g, auth.projectId));
  const own = (await visibleGroupRecords(s, auth)).map((g) => ({
    id: g.id,
    name: g.name,
    description: g.description,
    project_id: g.project_id,
    azure: { nsg: g.nsg, resourceGroup: s.config.azure.resourceGroup, ...(g.asg ? { asg: g.asg } : {}) },
  }));
  return [...mapped, ...own];
}
