// Block Storage 3.14 group snapshots (cinder/api/v3/group_snapshots.py, groups.py create_from_src,
// group/api.py) over HTTP and the real `openstack volume group snapshot` / `volume group create
// --group-snapshot|--source-group` CLI, with the ARM emulator: one Azure snapshot snapshot-<id> per
// member volume, the member snapshot records (group_snapshot_id from 3.14), the refusals (a member
// snapshot deleted alone, a group with snapshots deleted), groups made from a group snapshot and from
// a source group, and the deletes through the work engine.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Stack, Creds } from '../support/stack';
import { startArmStack, waitFor, type ArmStack } from '../support/armStack';
import { assertCinderShape } from '../support/cinderShapes';

type User = Creds & { projectId: string; userId: string };
let env: ArmStack;
let stack: Stack;
let alice: User;
let bob: User;
let tA: string;
let tB: string;
let tAdmin: string;
let adminProject: string;
const RG = 'ops_resource_group';

before(async () => {
  env = await startArmStack({ asyncDelayMs: 50 });
  stack = env.stack;
  alice = await stack.makeProjectUser('gsn-a', 'gsnalice');
  bob = await stack.makeProjectUser('gsn-b', 'gsnbob');
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

async function statusOf(kind: 'volumes' | 'groups' | 'group_snapshots' | 'snapshots', id: string, want: string): Promise<any> {
  const key = kind === 'volumes' ? 'volume' : kind === 'groups' ? 'group' : kind === 'snapshots' ? 'snapshot' : 'group_snapshot';
  return waitFor(
    `${key} ${id} ${want}`,
    async () => {
      const r = (await asAlice('3.14', 'GET', `/${kind}/${id}`)).body[key];
      if (r.status === 'error' && want !== 'error') throw new Error(`${key} ${id} error`);
      return r.status === want ? r : undefined;
    },
    120000,
  );
}
const gone = (kind: string, id: string) => waitFor(`${kind} ${id} gone`, async () => ((await asAlice('3.14', 'GET', `/${kind}/${id}`)).status === 404 ? true : undefined), 120000);

test('3.14 group snapshots: CLI create/list/show/delete, member snapshots on Azure, create-from-src, refusals', async () => {
  // Below 3.14 the routes and the create-from-src action are Cinder's 404 for a method the version lacks.
  assert.equal((await asAlice('3.13', 'GET', '/group_snapshots')).status, 404);
  assert.equal((await asAlice('3.13', 'POST', '/group_snapshots', { group_snapshot: { group_id: '6f519a48-3183-46cf-a32f-41815f814546' } })).status, 404);

  await stack.oscJson(['--os-volume-api-version', '3.11', 'volume', 'group', 'type', 'create', 'gsn-gt']);
  const vt = ((await asAdmin('3.14', 'GET', '/types')).body.volume_types as { id: string; name: string }[])[0];
  const g = (await asAlice('3.14', 'POST', '/groups', { group: { group_type: 'gsn-gt', volume_types: [vt.id], name: 'src' } })).body.group;
  const shownGroup = (await asAlice('3.14', 'GET', `/groups/${g.id}`)).body.group;
  assert.equal(shownGroup.group_snapshot_id, null);
  assert.equal(shownGroup.source_group_id, null);
  assert.ok(!('group_snapshot_id' in (await asAlice('3.13', 'GET', `/groups/${g.id}`)).body.group), 'group_snapshot_id is 3.14');
  const members = [];
  for (const [name, size] of [
    ['m1', 1],
    ['m2', 2],
  ] as const) {
    const r = await asAlice('3.14', 'POST', '/volumes', { volume: { size, name, group_id: g.id, volume_type: vt.id } });
    assert.equal(r.status, 202, r.text);
    members.push(await statusOf('volumes', r.body.volume.id, 'available'));
  }

  // request validation as upstream's schema: group_id required and a uuid, nothing else
  for (const body of [{ group_snapshot: {} }, { group_snapshot: { group_id: 'nope' } }, { group_snapshot: { group_id: g.id, extra: 1 } }, {}]) {
    const bad = await asAlice('3.14', 'POST', '/group_snapshots', body);
    assert.equal(bad.status, 400, `${JSON.stringify(body)}: ${bad.text}`);
  }
  const missing = await asAlice('3.14', 'POST', '/group_snapshots', { group_snapshot: { group_id: '6f519a48-3183-46cf-a32f-41815f814546' } });
  assert.equal(missing.status, 404, missing.text);
  assert.equal(missing.body.itemNotFound.message, 'Group 6f519a48-3183-46cf-a32f-41815f814546 could not be found.');
  assert.equal((await asBob('3.14', 'POST', '/group_snapshots', { group_snapshot: { group_id: g.id } })).status, 404);

  // create through the CLI; the answer is 202 {id, name, group_type_id}
  const raw = await asAlice('3.14', 'POST', '/group_snapshots', { group_snapshot: { group_id: g.id, name: 'gs-http', description: 'by http' } });
  assert.equal(raw.status, 202, raw.text);
  assertCinderShape('group-snapshots-create-response.json', raw.body);
  const made = await stack.oscJson(['--os-volume-api-version', '3.14', 'volume', 'group', 'snapshot', 'create', '--name', 'gs1', '--description', 'first', g.id], alice);
  const gsId = made.id ?? made.ID;
  const gs = await statusOf('group_snapshots', gsId, 'available');
  assertCinderShape('group-snapshots-show-response.json', { group_snapshot: gs }, { hidden: ['project_id'] });
  assert.equal(gs.group_id, g.id);
  assert.equal(gs.name, 'gs1');
  await statusOf('group_snapshots', raw.body.group_snapshot.id, 'available');

  // the member snapshots: one per volume, named as the group snapshot, group_snapshot_id from 3.14
  const snaps = ((await asAlice('3.14', 'GET', '/snapshots/detail')).body.snapshots as any[]).filter((s) => s.group_snapshot_id === gsId);
  assert.deepEqual(snaps.map((s) => s.volume_id).sort(), members.map((m) => m.id).sort());
  for (const s of snaps) {
    assert.equal(s.status, 'available');
    assert.equal(s.name, 'gs1');
    assertCinderShape('snapshots/v3.14/snapshot-show-response.json', { snapshot: (await asAlice('3.14', 'GET', `/snapshots/${s.id}`)).body.snapshot });
    const az = await env.compute.snapshots.get(RG, `snapshot-${s.id}`);
    assert.equal(az.tags?.['jacket-snapshot-id'], s.id);
  }
  assert.ok(!('group_snapshot_id' in (await asAlice('3.13', 'GET', `/snapshots/${snaps[0].id}`)).body.snapshot), 'group_snapshot_id is 3.14');
  assert.ok(!('group_snapshot_id' in (await asAlice('3.14', 'GET', '/snapshots')).body.snapshots[0]), 'the summary list has no group_snapshot_id');
  const quota = await asAlice('3.14', 'GET', `/os-quota-sets/${alice.projectId}?usage=True`);
  assert.equal(quota.body.quota_set.snapshots.in_use, 4);

  // list (summary {id, name}), detail, show; the CLI lists them; another project sees nothing
  const listed = (await asAlice('3.14', 'GET', '/group_snapshots')).body;
  assertCinderShape('group-snapshots-list-response.json', listed);
  assert.deepEqual(listed.group_snapshots.map((x: any) => x.id).sort(), [gsId, raw.body.group_snapshot.id].sort());
  assertCinderShape('group-snapshots-list-detailed-response.json', (await asAlice('3.14', 'GET', '/group_snapshots/detail')).body, { hidden: ['project_id'] });
  const cli = await stack.oscJson(['--os-volume-api-version', '3.14', 'volume', 'group', 'snapshot', 'list'], alice);
  assert.equal(cli.length, 2);
  assert.deepEqual((await asBob('3.14', 'GET', '/group_snapshots')).body.group_snapshots, []);
  assert.equal((await asBob('3.14', 'GET', `/group_snapshots/${gsId}`)).status, 404);
  assert.equal(
    (await asAlice('3.14', 'GET', '/group_snapshots/6f519a48-3183-46cf-a32f-41815f814546')).body.itemNotFound.message,
    'GroupSnapshot 6f519a48-3183-46cf-a32f-41815f814546 could not be found.',
  );
  const reset = await asAlice('3.14', 'POST', `/group_snapshots/${gsId}/action`, { reset_status: { status: 'error' } });
  assert.equal(reset.status, 404, 'reset_status is 3.19');

  // a member snapshot is not deleted alone; a group with group snapshots is not deleted
  const alone = await asAlice('3.14', 'DELETE', `/snapshots/${snaps[0].id}`);
  assert.equal(alone.status, 400, alone.text);
  assert.match(alone.body.badRequest.message, /must not be part of a group/);
  const unmanage = await asAdmin('3.14', 'POST', `/snapshots/${snaps[0].id}/action`, { 'os-unmanage': {} });
  assert.equal(unmanage.status, 400, unmanage.text);
  assert.match(unmanage.body.badRequest.message, /must not be part of a group/);
  const gdel = await asAlice('3.14', 'POST', `/groups/${g.id}/action`, { delete: { 'delete-volumes': true } });
  assert.equal(gdel.status, 400, gdel.text);
  assert.equal(gdel.body.badRequest.message, 'Invalid group: Group has existing snapshots.');

  // create-from-src: schema (exactly one source, uuids), missing sources, at 3.13 the action is 404
  assert.equal((await asAlice('3.13', 'POST', `/groups/action`, { 'create-from-src': { group_snapshot_id: gsId } })).status, 404);
  assert.equal((await asAlice('3.13', 'POST', `/groups/${g.id}/action`, { 'create-from-src': { group_snapshot_id: gsId } })).status, 404);
  for (const body of [{ 'create-from-src': {} }, { 'create-from-src': { group_snapshot_id: gsId, source_group_id: g.id } }, { 'create-from-src': { group_snapshot_id: 'x' } }]) {
    const bad = await asAlice('3.14', 'POST', '/groups/action', body);
    assert.equal(bad.status, 400, `${JSON.stringify(body)}: ${bad.text}`);
  }
  const noSnap = await asAlice('3.14', 'POST', '/groups/action', { 'create-from-src': { group_snapshot_id: '6f519a48-3183-46cf-a32f-41815f814546' } });
  assert.equal(noSnap.status, 404, noSnap.text);

  // The SDK behind `openstack volume group create --group-snapshot` sends both keys, the other null:
  // upstream's schema (oneOf on required keys, uuid strings) refuses that body, and so do we.
  await assert.rejects(
    stack.oscJson(['--os-volume-api-version', '3.14', 'volume', 'group', 'create', '--group-snapshot', gsId, '--name', 'from-gs'], alice),
    /is not valid under any of the given schemas/,
  );
  // a group from the group snapshot: one volume per member snapshot, made from it
  const fromSnap = await asAlice('3.14', 'POST', '/groups/action', { 'create-from-src': { group_snapshot_id: gsId, name: 'from-gs' } });
  assert.equal(fromSnap.status, 202, fromSnap.text);
  const g2 = await statusOf('groups', fromSnap.body.group.id, 'available');
  assert.equal(g2.group_snapshot_id, gsId);
  assert.equal(g2.source_group_id, null);
  assert.equal(g2.group_type, g.group_type ?? shownGroup.group_type);
  const g2vols = (await asAlice('3.14', 'GET', `/volumes/detail?group_id=${g2.id}`)).body.volumes as any[];
  assert.deepEqual(g2vols.map((v) => v.snapshot_id).sort(), snaps.map((s) => s.id).sort());
  for (const v of g2vols) assert.equal(v.status, 'available');

  // a group from the source group (HTTP): clones of its volumes
  const fromGroup = await asAlice('3.14', 'POST', '/groups/action', { 'create-from-src': { source_group_id: g.id, name: ' clone ' } });
  assert.equal(fromGroup.status, 202, fromGroup.text);
  assertCinderShape('group-create-from-src-response.json', fromGroup.body);
  assert.equal(fromGroup.body.group.name, 'clone');
  const g3 = await statusOf('groups', fromGroup.body.group.id, 'available');
  assert.equal(g3.source_group_id, g.id);
  const g3vols = (await asAlice('3.14', 'GET', `/volumes/detail?group_id=${g3.id}`)).body.volumes as any[];
  assert.deepEqual(g3vols.map((v) => v.source_volid).sort(), members.map((m) => m.id).sort());
  assert.deepEqual(g3vols.map((v) => v.size).sort(), [1, 2]);
  // the source columns filter the group list as Group columns do
  assert.deepEqual((await asAlice('3.14', 'GET', `/groups?source_group_id=${g.id}`)).body.groups, [{ id: g3.id, name: 'clone' }]);
  assert.deepEqual((await asAlice('3.14', 'GET', `/groups?group_snapshot_id=${gsId}`)).body.groups, [{ id: g2.id, name: 'from-gs' }]);

  // an empty source group is Cinder's 400, and leaves no group behind
  const empty = (await asAlice('3.14', 'POST', '/groups', { group: { group_type: 'gsn-gt', volume_types: [vt.id], name: 'empty' } })).body.group;
  const groupCount = (await asAlice('3.14', 'GET', '/groups')).body.groups.length;
  const fromEmpty = await asAlice('3.14', 'POST', '/groups/action', { 'create-from-src': { source_group_id: empty.id } });
  assert.equal(fromEmpty.status, 400, fromEmpty.text);
  assert.equal(fromEmpty.body.badRequest.message, 'Invalid group: Source Group is empty. No group will be created.');
  await waitFor('refused group gone', async () => ((await asAlice('3.14', 'GET', '/groups')).body.groups.length === groupCount ? true : undefined), 60000);
  // an empty group's group snapshot is made (no members) and available
  const emptyGs = await asAlice('3.14', 'POST', '/group_snapshots', { group_snapshot: { group_id: empty.id } });
  assert.equal(emptyGs.status, 202, emptyGs.text);
  await statusOf('group_snapshots', emptyGs.body.group_snapshot.id, 'available');
  const fromEmptyGs = await asAlice('3.14', 'POST', '/groups/action', { 'create-from-src': { group_snapshot_id: emptyGs.body.group_snapshot.id } });
  assert.equal(fromEmptyGs.status, 400, fromEmptyGs.text);
  assert.equal(fromEmptyGs.body.badRequest.message, 'Invalid group: Group snapshot is empty. No group will be created.');

  // delete through the CLI: the member snapshots and their Azure snapshots go, then the record
  await stack.oscOk(['--os-volume-api-version', '3.14', 'volume', 'group', 'snapshot', 'delete', gsId], alice);
  await gone('group_snapshots', gsId);
  for (const s of snaps) {
    assert.equal((await asAlice('3.14', 'GET', `/snapshots/${s.id}`)).status, 404);
    await assert.rejects(env.compute.snapshots.get(RG, `snapshot-${s.id}`));
  }
  for (const id of [raw.body.group_snapshot.id, emptyGs.body.group_snapshot.id]) {
    assert.equal((await asAlice('3.14', 'DELETE', `/group_snapshots/${id}`)).status, 202);
    await gone('group_snapshots', id);
  }
  const again = await asAlice('3.14', 'DELETE', `/group_snapshots/${gsId}`);
  assert.equal(again.status, 404);
  assert.equal((await asAlice('3.14', 'GET', `/os-quota-sets/${alice.projectId}?usage=True`)).body.quota_set.snapshots.in_use, 0);

  // the groups are deleted with their volumes now that no group snapshot holds them
  for (const id of [g.id, g2.id, g3.id, empty.id]) {
    const r = await asAlice('3.14', 'POST', `/groups/${id}/action`, { delete: { 'delete-volumes': true } });
    assert.equal(r.status, 202, r.text);
  }
  for (const id of [g.id, g2.id, g3.id, empty.id]) await gone('groups', id);
});
