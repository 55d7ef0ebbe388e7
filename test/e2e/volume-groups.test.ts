// Block Storage 3.13 generic volume groups (cinder/api/v3/groups.py, group/api.py) over HTTP and the
// real `openstack volume group` CLI, with the ARM emulator: create (CLI), list/detail/show, volume
// create with group_id, add_volumes/remove_volumes, the rules that keep members (volume delete,
// retype, type deletes), the `groups` quota, and delete with delete-volumes through the work engine.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Stack, Creds } from '../support/stack';
import { startArmStack, waitFor, type ArmStack } from '../support/armStack';

type User = Creds & { projectId: string; userId: string };
let env: ArmStack;
let stack: Stack;
let alice: User;
let bob: User;
let tA: string;
let tB: string;
let tAdmin: string;
let adminProject: string;

before(async () => {
  env = await startArmStack({ asyncDelayMs: 50 });
  stack = env.stack;
  alice = await stack.makeProjectUser('grp-a', 'grpalice');
  bob = await stack.makeProjectUser('grp-b', 'grpbob');
  [tA, tB, tAdmin] = await Promise.all([stack.token(alice), stack.token(bob), stack.token()]);
  const me = await stack.http('GET', '/identity/v3/auth/tokens', { token: tAdmin, headers: { 'X-Subject-Token': tAdmin } });
  adminProject = me.body.token.project.id;
});
after(async () => {
  await env?.stop();
});

const at = (v: string) => ({ 'OpenStack-API-Version': `volume ${v}` });
const asAlice = (v: string, method: string, p: string, body?: unknown) => stack.http(method, `/volume/v3/${alice.projectId}${p}`, { token: tA, body, headers: at(v) });
const asBob = (v: string, method: string, p: string, body?: unknown) => stack.http(method, `/volume/v3/${bob.projectId}${p}`, { token: tB, body, headers: at(v) });
const asAdmin = (v: string, method: string, p: string, body?: unknown) => stack.http(method, `/volume/v3/${adminProject}${p}`, { token: tAdmin, body, headers: at(v) });
const DETAIL_KEYS = ['availability_zone', 'created_at', 'description', 'group_type', 'id', 'name', 'status', 'volume_types'];

async function available(id: string): Promise<any> {
  return waitFor(`volume ${id}`, async () => {
    const g = (await asAlice('3.13', 'GET', `/volumes/${id}`)).body.volume;
    if (g.status === 'error') throw new Error(`volume ${id} error`);
    return g.status === 'available' ? g : undefined;
  });
}

test('3.13 generic groups: CLI create/list/show/set/delete --force, members, refusals, quota', async () => {
  // Below 3.13 the routes are Cinder's 404 for a method the version lacks.
  const old = await asAlice('3.12', 'GET', '/groups');
  assert.equal(old.status, 404, old.text);

  const gt = await stack.oscJson(['--os-volume-api-version', '3.11', 'volume', 'group', 'type', 'create', 'grp-gt']);
  gt.id = gt.ID ?? gt.id;
  const types = (await asAdmin('3.13', 'GET', '/types')).body.volume_types as { id: string; name: string }[];
  const vt = types[0];

  // create through the CLI (POST /groups answers 202 {id, name}), then show, list and detail
  const made = await stack.oscJson(
    ['--os-volume-api-version', '3.13', 'volume', 'group', 'create', '--volume-group-type', 'grp-gt', '--volume-type', vt.name, '--name', 'g1', '--description', 'first'],
    alice,
  );
  const gid = made.ID as string;
  assert.equal(made.Name, 'g1');
  const shown = await asAlice('3.13', 'GET', `/groups/${gid}`);
  assert.equal(shown.status, 200, shown.text);
  assert.deepEqual(Object.keys(shown.body.group).sort(), DETAIL_KEYS);
  assert.equal(shown.body.group.status, 'available');
  assert.equal(shown.body.group.group_type, gt.id);
  assert.deepEqual(shown.body.group.volume_types, [vt.id]);
  assert.equal(shown.body.group.availability_zone, 'nova');
  const listed = await asAlice('3.13', 'GET', '/groups');
  assert.deepEqual(listed.body.groups, [{ id: gid, name: 'g1' }]);
  const detailed = await asAlice('3.13', 'GET', '/groups/detail');
  assert.deepEqual(detailed.body.groups, [shown.body.group]);
  // a filter on a Group column matches exactly, another key nothing; an admin's all_tenants lists every project
  assert.deepEqual((await asAlice('3.13', 'GET', '/groups?name=g1')).body.groups, [{ id: gid, name: 'g1' }]);
  assert.deepEqual((await asAlice('3.13', 'GET', '/groups?name=other')).body.groups, []);
  assert.deepEqual((await asAlice('3.13', 'GET', '/groups?size=1')).body.groups, []);
  assert.ok((await asAdmin('3.13', 'GET', '/groups?all_tenants=1')).body.groups.some((g: any) => g.id === gid));
  const cliList = await stack.oscJson(['--os-volume-api-version', '3.13', 'volume', 'group', 'list'], alice);
  assert.deepEqual(
    cliList.map((g: any) => g.ID),
    [gid],
  );
  // another project's group is 404; bad bodies 400 and nothing made
  assert.equal((await asBob('3.13', 'GET', `/groups/${gid}`)).status, 404);
  for (const body of [{ group: { group_type: gt.id } }, { group: { group_type: gt.id, volume_types: [] } }, { group: { group_type: gt.id, volume_types: [vt.id], size: 1 } }]) {
    const bad = await asAlice('3.13', 'POST', '/groups', body);
    assert.equal(bad.status, 400, `${JSON.stringify(body)}: ${bad.text}`);
  }
  const noType = await asAlice('3.13', 'POST', '/groups', { group: { group_type: 'nope', volume_types: [vt.id] } });
  assert.equal(noType.status, 404, noType.text);
  assert.equal(noType.body.itemNotFound.message, 'Group type with name nope could not be found.');
  const badAz = await asAlice('3.13', 'POST', '/groups', { group: { group_type: gt.id, volume_types: [vt.id], availability_zone: 'az9' } });
  assert.equal(badAz.status, 400, badAz.text);
  assert.equal((await asAlice('3.13', 'GET', '/groups')).body.groups.length, 1);

  // a volume made in the group names a type the group supports
  const noVt = await asAlice('3.13', 'POST', '/volumes', { volume: { size: 1, group_id: gid } });
  assert.equal(noVt.status, 400, noVt.text);
  assert.match(noVt.body.badRequest.message, /volume_type must be provided when creating a volume in a group/);
  const member = await asAlice('3.13', 'POST', '/volumes', { volume: { size: 1, group_id: gid, volume_type: vt.id, name: 'm1' } });
  assert.equal(member.status, 202, member.text);
  const m1 = await available(member.body.volume.id);
  assert.equal(m1.group_id, gid);
  assert.ok(!('group_id' in (await asAlice('3.12', 'GET', `/volumes/${m1.id}`)).body.volume), 'group_id is 3.13');

  // add_volumes / remove_volumes
  const loose = await asAlice('3.13', 'POST', '/volumes', { volume: { size: 1, name: 'loose', volume_type: vt.id } });
  const v2 = await available(loose.body.volume.id);
  assert.equal(v2.group_id, null);
  const add = await asAlice('3.13', 'PUT', `/groups/${gid}`, { group: { add_volumes: v2.id } });
  assert.equal(add.status, 202, add.text);
  assert.equal((await asAlice('3.13', 'GET', `/volumes/${v2.id}`)).body.volume.group_id, gid);
  const inGroup = (await asAlice('3.13', 'GET', `/volumes?group_id=${gid}`)).body.volumes.map((v: any) => v.id).sort();
  assert.deepEqual(inGroup, [m1.id, v2.id].sort());
  const both = await asAlice('3.13', 'PUT', `/groups/${gid}`, { group: { add_volumes: v2.id, remove_volumes: v2.id } });
  assert.equal(both.status, 400, both.text);
  const nothing = await asAlice('3.13', 'PUT', `/groups/${gid}`, { group: { name: 'g1' } });
  assert.equal(nothing.status, 400, nothing.text);
  assert.match(nothing.body.badRequest.message, /because no valid name, description, add_volumes, or remove_volumes were provided/);

  // members are not deleted, retyped or unmanaged on their own; the types they use stay
  const del = await asAlice('3.13', 'DELETE', `/volumes/${v2.id}`);
  assert.equal(del.status, 400, del.text);
  assert.match(del.body.badRequest.message, /belong to a group/);
  const gtDel = await asAdmin('3.13', 'DELETE', `/group_types/${gt.id}`);
  assert.equal(gtDel.status, 400, gtDel.text);
  assert.equal(gtDel.body.badRequest.message, 'Target group type is still in use.');
  // a non-empty group needs delete-volumes
  const keep = await asAlice('3.13', 'POST', `/groups/${gid}/action`, { delete: {} });
  assert.equal(keep.status, 400, keep.text);
  assert.match(keep.body.badRequest.message, /still contains volumes\. The delete-volumes flag is required to delete it\./);

  const rm = await asAlice('3.13', 'PUT', `/groups/${gid}`, { group: { remove_volumes: v2.id } });
  assert.equal(rm.status, 202, rm.text);
  assert.equal((await asAlice('3.13', 'GET', `/volumes/${v2.id}`)).body.volume.group_id, null);
  const notIn = await asAlice('3.13', 'PUT', `/groups/${gid}`, { group: { remove_volumes: v2.id } });
  assert.equal(notIn.status, 400, notIn.text);
  assert.match(notIn.body.badRequest.message, /because it is not in the group/);

  // the CLI renames it
  await stack.oscOk(['--os-volume-api-version', '3.13', 'volume', 'group', 'set', '--name', 'g1b', gid], alice);
  assert.equal((await asAlice('3.13', 'GET', `/groups/${gid}`)).body.group.name, 'g1b');

  // the groups quota: one more than the limit is Cinder's 413
  const q = await asAdmin('3.13', 'PUT', `/os-quota-sets/${alice.projectId}`, { quota_set: { groups: 1 } });
  assert.equal(q.status, 200, q.text);
  const over = await asAlice('3.13', 'POST', '/groups', { group: { group_type: gt.id, volume_types: [vt.id] } });
  assert.equal(over.status, 413, over.text);
  assert.match(JSON.stringify(over.body), /Maximum number of groups allowed \(1\) exceeded/);
  const usage = await asAlice('3.13', 'GET', `/os-quota-sets/${alice.projectId}?usage=True`);
  assert.equal(usage.body.quota_set.groups.in_use, 1);

  // delete --force (delete-volumes): the member's delete work, then the group's
  await stack.oscOk(['--os-volume-api-version', '3.13', 'volume', 'group', 'delete', '--force', gid], alice);
  await waitFor('group gone', async () => ((await asAlice('3.13', 'GET', `/groups/${gid}`)).status === 404 ? true : undefined), 120000);
  assert.equal((await asAlice('3.13', 'GET', `/volumes/${m1.id}`)).status, 404);
  assert.equal((await asAlice('3.13', 'GET', `/volumes/${v2.id}`)).status, 200);
  assert.equal((await asAlice('3.13', 'GET', `/os-quota-sets/${alice.projectId}?usage=True`)).body.quota_set.groups.in_use, 0);
  // the group type is free again
  assert.equal((await asAdmin('3.13', 'DELETE', `/group_types/${gt.id}`)).status, 202);
});
