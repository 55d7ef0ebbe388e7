// The server groups service (nova/compute: InstanceGroup, the server_groups and server_group_members
// quotas, the group hint of a server create); the controller is ./api.ts.
// - server_groups is a ledger of counters with reservations (shared/quota/ledger.ts, partition
//   'servergroups' of the quotausage table): a create reserves under the new group's id, writes the
//   record, commits; a delete gives it back. Racing creates cannot exceed the quota (the ledger row's
//   ETag), so Nova's recheck after the write is not needed.
// - server_group_members is checked where the member is added: in the group record, under its ETag
//   (model.ts addMembers), per user as Nova counts it.
// - On Azure a group is a proximity placement group (affinity) or an availability set (anti-affinity),
//   made by the first member's build (servers/work/build.ts) and deleted once the group is gone and no
//   VM is left in it (work.ts).
import { randomUUID } from 'node:crypto';
import type { RequestContext } from '../../http/router';
import type { Services } from '../../services';
import { badRequest, forbidden, notFound } from '../../http/errors';
import { authorize, isAdmin } from '../../api/policy';
import { AlreadyExistsError } from '../../store/tables';
import { OverQuota, QuotaLedger, type Counted, type Deltas } from '../../quota/ledger';
import { startWork } from '../../work/ledger';
import { projectOf } from '../common';
import { loadProject, projectLimitsOf, registerUsageCounter, userLimitsOf } from '../quotas/engine';
import { PARTITION, addMembers, getGroup, groupNotFoundMessage, groupRepo, listGroups, placementKindOf, removeMembers, type GroupPolicy, type GroupRules, type ServerGroupRecord } from './model';
import { GROUP_CLEANUP_KIND } from './work';

// ---- the server_groups ledger ----

const userKey = (userId: string) => `server_groups@${userId}`;

async function countGroups(s: Services, projectId: string): Promise<Counted> {
  const used: Deltas = { server_groups: 0 };
  const ids = new Set<string>();
  for (const g of await listGroups(s, projectId)) {
    ids.add(g.id);
    used.server_groups += 1;
    used[userKey(g.user_id)] = (used[userKey(g.user_id)] ?? 0) + 1;
  }
  return { used, ids };
}

export const groupLedger = (s: Services) => new QuotaLedger(s, 'servergroups', countGroups);

// The quota APIs and /limits show the committed count (totalServerGroupsUsed), as Nova counts records.
registerUsageCounter('server_groups', async (projectId, userId, s) => {
  const { used } = await groupLedger(s).usage(projectId);
  return used[userId ? userKey(userId) : 'server_groups'] ?? 0;
});

const unitOf = (userId: string): Deltas => ({ server_groups: 1, [userKey(userId)]: 1 });

/** Holds one group for the user (Nova's check_deltas server_groups: 1, project and, with own limits, user). */
async function reserveGroup(s: Services, projectId: string, userId: string, id: string): Promise<void> {
  const st = await loadProject(s, projectId);
  const limits: Deltas = { server_groups: projectLimitsOf(st).server_groups };
  if (st.users.has(userId)) limits[userKey(userId)] = userLimitsOf(st, userId).server_groups;
  try {
    await groupLedger(s).reserve(projectId, [{ id, deltas: unitOf(userId) }], limits);
  } catch (e) {
    if (e instanceof OverQuota) throw forbidden('Quota exceeded, too many server groups.');
    throw e;
  }
}

// ---- the API's business rules ----

export async function createGroup(ctx: RequestContext, body: { name: string; policy: GroupPolicy; rules?: GroupRules }): Promise<ServerGroupRecord> {
  const s = ctx.services;
  const projectId = projectOf(ctx);
  const userId = ctx.auth!.userId;
  const id = randomUUID();
  await reserveGroup(s, projectId, userId, id);
  // 2.64, after the quota check as in Nova: rules (max_server_per_host) belong to anti-affinity alone.
  // Every compute here is new enough for max_server_per_host > 1, so Nova's 409 for older computes never applies.
  if (body.rules && Object.keys(body.rules).length && body.policy !== 'anti-affinity') {
    await groupLedger(s).rollback(projectId, [id]);
    throw badRequest('Only anti-affinity policy supports rules.');
  }
  const rec: ServerGroupRecord = {
    id,
    name: body.name,
    project_id: projectId,
    user_id: userId,
    policy: body.policy,
    ...(body.rules && Object.keys(body.rules).length ? { rules: body.rules } : {}),
    members: [],
    created_at: new Date().toISOString(),
  };
  try {
    await groupRepo(s).create(PARTITION, id, rec);
  } catch (e) {
    await groupLedger(s).rollback(projectId, [id]);
    if (e instanceof AlreadyExistsError) throw badRequest(`Server group ${id} already exists.`);
    throw e;
  }
  await groupLedger(s).commit(projectId, [id]);
  return rec;
}

/** Nova's show/delete: any group by id (404), then the policy on the group's project (403). */
export async function visibleGroup(ctx: RequestContext, policy: 'os_compute_api:os-server-groups:show' | 'os_compute_api:os-server-groups:delete') {
  const cur = await getGroup(ctx.services, ctx.params.id);
  if (!cur) throw notFound(groupNotFoundMessage(ctx.params.id));
  authorize(ctx, policy, { projectId: cur.value.project_id });
  return cur;
}

/** index: the caller's project, or (all_projects, admins) every project. */
export function groupsFor(ctx: RequestContext): Promise<ServerGroupRecord[]> {
  const all = ctx.query.has('all_projects') && isAdmin(ctx.auth!);
  if (all) authorize(ctx, 'os_compute_api:os-server-groups:index:all_projects');
  return listGroups(ctx.services, all ? undefined : projectOf(ctx));
}

export async function deleteGroup(ctx: RequestContext): Promise<void> {
  const s = ctx.services;
  const cur = await visibleGroup(ctx, 'os_compute_api:os-server-groups:delete');
  const g = cur.value;
  if (!(await groupRepo(s).delete(PARTITION, g.id))) throw notFound(groupNotFoundMessage(g.id));
  // The quota goes back to the user who made the group (Nova's ids_from_server_group).
  await groupLedger(s).release(g.project_id, unitOf(g.user_id));
  // Its availability set / proximity placement group goes once no VM is left in it (work.ts); servers
  // still in it keep running (Nova deletes a group with members too), and the last one's delete
  // retries the cleanup.
  await startCleanup(s, g, ctx.requestId);
}

export const startCleanup = (s: Services, g: Pick<ServerGroupRecord, 'id' | 'project_id' | 'policy'>, requestId?: string) =>
  startWork(s, { kind: GROUP_CLEANUP_KIND, id: g.id, data: { kind: placementKindOf(g.policy), project: g.project_id }, requestId });

// ---- server create and delete ----

/** What a server's build needs to know of its group. */
export interface ServerGroupRef {
  id: string;
  policy: GroupPolicy;
}

/**
 * The group named by the scheduler hint `group` (a UUID, or a list whose first is used as Nova's
 * request spec does). Unknown, or another project's (Jacket keeps a group's placement resource to
 * its project): 400 InstanceGroupNotFound, as Nova answers an unknown group.
 */
export async function resolveGroupHint(ctx: RequestContext, hint: unknown): Promise<ServerGroupRecord | undefined> {
  const id = Array.isArray(hint) ? hint[0] : hint;
  if (id === undefined || id === null || id === '') return undefined;
  const cur = await getGroup(ctx.services, String(id));
  if (!cur || (cur.value.project_id !== projectOf(ctx) && !isAdmin(ctx.auth!))) throw badRequest(groupNotFoundMessage(String(id)));
  return cur.value;
}

/** The user's server_group_members limit: the tighter of the user's and the project's (-1 unlimited). */
async function membersLimit(s: Services, projectId: string, userId: string): Promise<number> {
  const st = await loadProject(s, projectId);
  const p = projectLimitsOf(st).server_group_members;
  const u = userLimitsOf(st, userId).server_group_members;
  if (p < 0) return u;
  if (u < 0) return p;
  return Math.min(p, u);
}

/** Puts the servers being created in the group, all or none (403 "Quota exceeded, too many servers in group"). */
export async function joinGroup(s: Services, group: ServerGroupRecord, projectId: string, userId: string, serverIds: string[]): Promise<void> {
  const limit = await membersLimit(s, projectId, userId);
  await addMembers(s, group.id, userId, serverIds, limit, () => badRequest(groupNotFoundMessage(group.id)));
}

/** The servers left the group (deleted, or their create refused); a group already deleted may have its Azure resource left to clean. */
export async function leaveGroup(s: Services, ref: ServerGroupRef & { project_id: string }, serverIds: string[], requestId?: string): Promise<void> {
  const left = await removeMembers(s, ref.id, serverIds);
  if (!left) await startCleanup(s, { id: ref.id, project_id: ref.project_id, policy: ref.policy }, requestId);
}
