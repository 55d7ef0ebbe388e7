// Server group records (Nova's InstanceGroup) and their membership. One table, `servergroups`, one
// partition ('g') keyed by the group's UUID, with the project indexed for the project's list (a
// project holds at most its server_groups quota, 10 by default). The members live in the group's own
// record, so adding a server is one ETag-conditional write that checks server_group_members in the
// same step: racing creates cannot put more servers in a group than the quota allows.
import type { Services } from '../../services';
import { forbidden } from '../../http/errors';
import { ConcurrencyError, odata, type Stored } from '../../store/tables';
import type { PlacementKind } from '../../azure/placement';

/** Nova's policies (2.1 accepts the first two; the soft ones arrive with 2.15). */
export type GroupPolicy = 'affinity' | 'anti-affinity' | 'soft-affinity' | 'soft-anti-affinity';

export interface GroupMember {
  id: string;
  /** The server's owner: Nova counts server_group_members per user. */
  user_id: string;
}

/** Nova's InstanceGroup rules (2.64): max_server_per_host, for anti-affinity only. */
export interface GroupRules {
  max_server_per_host?: number;
}

export interface ServerGroupRecord {
  id: string;
  name: string;
  project_id: string;
  user_id: string;
  policy: GroupPolicy;
  /** 2.64; absent for none (shown as {}). */
  rules?: GroupRules;
  members: GroupMember[];
  created_at: string;
}

export const PARTITION = 'g';
export const groupRepo = (s: Services) => s.tables.repository<ServerGroupRecord>('servergroups', ['project_id']);

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Nova's InstanceGroupNotFound. */
export const groupNotFoundMessage = (id: string) => `Instance group ${id} could not be found.`;

export async function getGroup(s: Services, id: string): Promise<Stored<ServerGroupRecord> | undefined> {
  if (!UUID.test(id)) return undefined;
  return groupRepo(s).get(PARTITION, id.toLowerCase());
}

/** A project's groups (or every group), in creation order as Nova's list (by row id). */
export async function listGroups(s: Services, projectId?: string): Promise<ServerGroupRecord[]> {
  const rows = await groupRepo(s).list(PARTITION, projectId === undefined ? undefined : odata`project_id eq ${projectId}`);
  return rows.map((r) => r.value).sort((a, b) => a.created_at.localeCompare(b.created_at) || a.id.localeCompare(b.id));
}

/** Where a policy puts the members on Azure (docs/server-groups.md). */
export const placementKindOf = (p: GroupPolicy): PlacementKind => (p === 'affinity' || p === 'soft-affinity' ? 'proximityPlacementGroup' : 'availabilitySet');
/** Strict policies: a placement Azure cannot give ends the build as Nova's NoValidHost. */
export const isStrict = (p: GroupPolicy) => p === 'affinity' || p === 'anti-affinity';

const pause = () => new Promise((r) => setTimeout(r, 2 + Math.floor(Math.random() * 20)));

/**
 * Adds `ids` (servers of `userId`) to the group under its ETag, all or none; `limit` is the user's
 * server_group_members limit (-1 unlimited), checked against the members the user already has in it
 * (Nova's count_members_by_user). Throws Nova's 403 when they do not fit, and `gone()` when the group
 * was deleted meanwhile.
 */
export async function addMembers(s: Services, groupId: string, userId: string, ids: string[], limit: number, gone: () => Error): Promise<ServerGroupRecord> {
  const repo = groupRepo(s);
  for (let attempt = 0; ; attempt++) {
    const cur = await repo.get(PARTITION, groupId);
    if (!cur) throw gone();
    const v = structuredClone(cur.value);
    const mine = v.members.filter((m) => m.user_id === userId && !ids.includes(m.id)).length;
    if (limit >= 0 && mine + ids.length > limit) throw forbidden('Quota exceeded, too many servers in group');
    v.members = [...v.members.filter((m) => !ids.includes(m.id)), ...ids.map((id) => ({ id, user_id: userId }))];
    try {
      await repo.replace(PARTITION, groupId, v, cur.etag);
      return v;
    } catch (e) {
      if (!(e instanceof ConcurrencyError) || attempt >= 60) throw e;
      await pause();
    }
  }
}

/** Removes servers from the group (their records went, or their create was refused). Returns the group as left, if it exists. */
export async function removeMembers(s: Services, groupId: string, ids: string[]): Promise<ServerGroupRecord | undefined> {
  const repo = groupRepo(s);
  for (let attempt = 0; ; attempt++) {
    const cur = await repo.get(PARTITION, groupId);
    if (!cur) return undefined;
    if (!cur.value.members.some((m) => ids.includes(m.id))) return cur.value;
    const v = { ...cur.value, members: cur.value.members.filter((m) => !ids.includes(m.id)) };
    try {
      await repo.replace(PARTITION, groupId, v, cur.etag);
      return v;
    } catch (e) {
      if (!(e instanceof ConcurrencyError) || attempt >= 60) throw e;
      await pause();
    }
  }
}
