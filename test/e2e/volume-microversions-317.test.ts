// Block Storage microversions 3.17 to 3.23 (docs/volumes.md "Microversions"), each API at the version
// before and at it, against the ARM emulator: manageable lists by cluster (3.17), the backup's project
// for admins (3.18), group snapshot and group reset_status (3.19, 3.20), provider_id for admins (3.21),
// the snapshot list's metadata filter (3.22), and DELETE /volumes/{id}?force=true (3.23).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Stack, Creds } from '../support/stack';
import { startArmStack, waitFor, type ArmStack } from '../support/armStack';
import { reportState } from '../../shared/servicegroup/registry';
import { refused } from '../support/nova';

let env: ArmStack;
let stack: Stack;
let alice: Creds & { projectId: string; userId: string };
let tA: string;
let tAdmin: string;
let adminProject: string;

const at = (v: string) => ({ 'OpenStack-API-Version': `volume ${v}` });
const asAlice = (v: string, method: string, p: string, body?: unknown) => stack.http(method, `/volume/v3/${alice.projectId}${p}`, { token: tA, body, headers: at(v) });
const asAdmin = (v: string, method: string, p: string, body?: unknown) => stack.http(method, `/volume/v3/${adminProject}${p}`, { token: tAdmin, body, headers: at(v) });
const statusOf = (kind: string, key: string, id: string, want: string) =>
  waitFor(`${key} ${id} ${want}`, async () => ((await asAlice('3.23', 'GET', `/${kind}/${id}`)).body?.[key]?.status === want ? true : undefined), 120000);
async function newVolume(name: string): Promise<string> {
  const v = (await asAlice('3.0', 'POST', '/volumes', { volume: { size: 1, name } })).body.volume;
  await statusOf('volumes', 'volume', v.id, 'available');
  return v.id;
}

before(async () => {
  env = await startArmStack({ asyncDelayMs: 0 });
  stack = env.stack;
  alice = await stack.makeProjectUser('mv317-a', 'mv317alice');
  [tA, tAdmin] = await Promise.all([stack.token(alice), stack.token()]);
  const me = await stack.http('GET', '/identity/v3/auth/tokens', { token: tAdmin, headers: { 'X-Subject-Token': tAdmin } });
  adminProject = me.body.token.project.id;
  // cinder-volume's heartbeat, which the manageable lists look for (the worker writes it on its schedule).
  await reportState(stack.cloud.services, 'worker', new Date(), true);
});
after(() => env?.stop());

test('3.17: the manageable lists take a cluster instead of the host (Jacket has no cluster)', async () => {
  for (const path of ['/manageable_volumes', '/manageable_snapshots/detail']) {
    await refused(asAdmin('3.16', 'GET', `${path}?cluster=c1`), 400, 'Invalid input received: Host field is missing.');
    await refused(asAdmin('3.17', 'GET', `${path}?cluster=c1`), 404, 'Service cinder-volume could not be found.');
    await refused(asAdmin('3.17', 'GET', `${path}?cluster=c1&host=jacket@azure`), 400, 'Invalid input received: One and only one of cluster and host must be set.');
    await refused(asAdmin('3.17', 'GET', path), 400, 'Invalid input received: One and only one of cluster and host must be set.');
    const ok = await asAdmin('3.17', 'GET', `${path}?host=jacket@azure`);
    assert.equal(ok.status, 200, ok.text);
  }
});

test('3.18: backups show their project to admins (os-backup-project-attr:project_id)', async () => {
  const vol = await newVolume('mv318');
  const b = (await asAlice('3.0', 'POST', '/backups', { backup: { volume_id: vol, name: 'b318' } })).body.backup;
  await statusOf('backups', 'backup', b.id, 'available');
  const key = 'os-backup-project-attr:project_id';
  assert.ok(!(key in (await asAdmin('3.17', 'GET', `/backups/${b.id}`)).body.backup));
  assert.equal((await asAdmin('3.18', 'GET', `/backups/${b.id}`)).body.backup[key], alice.projectId);
  const listed = (await asAdmin('3.18', 'GET', '/backups/detail?all_tenants=1')).body.backups.find((x: { id: string }) => x.id === b.id);
  assert.equal(listed[key], alice.projectId);
  assert.ok(!(key in (await asAdmin('3.18', 'GET', '/backups?all_tenants=1')).body.backups[0]), 'not in the summary list');
  assert.ok(!(key in (await asAlice('3.18', 'GET', `/backups/${b.id}`)).body.backup), 'members do not see it');
  // The CLI at 3.18 shows it to the admin (openstacksdk reads the key as the backup's project_id).
  const shown = await stack.oscJson<Record<string, unknown>>(['--os-volume-api-version', '3.18', 'volume', 'backup', 'show', b.id]);
  assert.equal(shown.project_id, alice.projectId);
});

test('3.19 / 3.20: reset_status of group snapshots and groups (admin, after the lookup)', async () => {
  await stack.oscJson(['--os-volume-api-version', '3.11', 'volume', 'group', 'type', 'create', 'mv319-gt']);
  const vt = ((await asAdmin('3.20', 'GET', '/types')).body.volume_types as { id: string }[])[0];
  const g = (await asAlice('3.20', 'POST', '/groups', { group: { group_type: 'mv319-gt', volume_types: [vt.id], name: 'g' } })).body.group;
  await statusOf('groups', 'group', g.id, 'available');
  const gs = (await asAlice('3.20', 'POST', '/group_snapshots', { group_snapshot: { group_id: g.id, name: 'gs' } })).body.group_snapshot;
  await statusOf('group_snapshots', 'group_snapshot', gs.id, 'available');
  const reset = (v: string, who: typeof asAdmin, kind: string, id: string, status: unknown) => who(v, 'POST', `/${kind}/${id}/action`, { reset_status: { status } });
  const unknown = '6f519a48-3183-46cf-a32f-41815f814546';

  // Group snapshots, 3.19.
  assert.equal((await reset('3.18', asAdmin, 'group_snapshots', gs.id, 'error')).status, 404);
  await refused(reset('3.19', asAlice, 'group_snapshots', gs.id, 'error'), 403, "Policy doesn't allow group:reset_group_snapshot_status to be performed.");
  await refused(reset('3.19', asAlice, 'group_snapshots', unknown, 'error'), 404, `GroupSnapshot ${unknown} could not be found.`);
  await refused(
    reset('3.19', asAdmin, 'group_snapshots', gs.id, 'bogus'),
    400,
    "Invalid GroupSnapshot Status: Group snapshot status: bogus is invalid, valid statuses are: ('error', 'available', 'creating', 'deleting', 'deleted', 'updating', 'error_deleting').",
  );
  await refused(reset('3.19', asAdmin, 'group_snapshots', gs.id, ' '), 400, "Invalid GroupSnapshot Status: The 'status' can not be empty.");
  assert.equal((await reset('3.19', asAdmin, 'group_snapshots', gs.id, 'ERROR')).status, 202);
  assert.equal((await asAlice('3.19', 'GET', `/group_snapshots/${gs.id}`)).body.group_snapshot.status, 'error');

  // Groups, 3.20 ('in-use' is printed as valid but refused: Cinder checks the snapshot statuses).
  assert.equal((await reset('3.19', asAdmin, 'groups', g.id, 'error')).status, 404);
  await refused(reset('3.20', asAlice, 'groups', g.id, 'error'), 403, "Policy doesn't allow group:reset_status to be performed.");
  await refused(
    reset('3.20', asAdmin, 'groups', g.id, 'in-use'),
    400,
    "Invalid Group Status: Group status: in-use is invalid, valid status are: ('error', 'available', 'creating', 'deleting', 'deleted', 'updating', 'in-use', 'error_deleting').",
  );
  assert.equal((await reset('3.20', asAdmin, 'groups', g.id, 'error')).status, 202);
  assert.equal((await asAlice('3.20', 'GET', `/groups/${g.id}`)).body.group.status, 'error');
});

test('3.21: provider_id (the disk ARM id) for admins; 3.22: the snapshot list filters on metadata', async () => {
  const vol = await newVolume('mv321');
  assert.ok(!('provider_id' in (await asAdmin('3.20', 'GET', `/volumes/${vol}`)).body.volume));
  const shown = (await asAdmin('3.21', 'GET', `/volumes/${vol}`)).body.volume;
  assert.match(shown.provider_id, new RegExp(`/providers/Microsoft\\.Compute/disks/volume-${vol}$`, 'i'));
  assert.ok(!('provider_id' in (await asAlice('3.21', 'GET', `/volumes/${vol}`)).body.volume), 'members do not see it');

  const s1 = (await asAlice('3.0', 'POST', '/snapshots', { snapshot: { volume_id: vol, name: 's1', metadata: { tier: 'gold' } } })).body.snapshot;
  const s2 = (await asAlice('3.0', 'POST', '/snapshots', { snapshot: { volume_id: vol, name: 's2', metadata: { tier: 'lead' } } })).body.snapshot;
  const ids = async (v: string) => ((await asAlice(v, 'GET', `/snapshots?metadata=${encodeURIComponent("{'tier': 'gold'}")}`)).body.snapshots as { id: string }[]).map((x) => x.id).sort();
  assert.deepEqual(await ids('3.21'), [s1.id, s2.id].sort(), 'ignored below 3.22');
  assert.deepEqual(await ids('3.22'), [s1.id]);
});

test('3.23: DELETE /volumes/{id}?force=true deletes whatever the status (volume:force_delete, admin)', async () => {
  const vol = await newVolume('mv323');
  assert.equal((await asAdmin('3.23', 'POST', `/volumes/${vol}/action`, { 'os-reset_status': { status: 'error_extending' } })).status, 202);
  assert.equal((await asAdmin('3.23', 'POST', `/volumes/${vol}/action`, { 'os-reset_status': { status: 'creating' } })).status, 202);
  const refusal =
    'Invalid volume: Volume status must be available or error or error_restoring or error_extending or error_managing and must not be migrating, attached, belong to a group, have snapshots, awaiting a transfer, or be disassociated from snapshots after volume transfer.';
  await refused(asAdmin('3.22', 'DELETE', `/volumes/${vol}?force=true`), 400, refusal);
  await refused(asAlice('3.23', 'DELETE', `/volumes/${vol}?force=true`), 403, "Policy doesn't allow volume:force_delete to be performed.");
  await refused(asAdmin('3.23', 'DELETE', `/volumes/${vol}?force=maybe`), 400, "Value 'maybe' for 'force' is not a boolean.");
  assert.equal((await asAdmin('3.23', 'DELETE', `/volumes/${vol}?force=true`)).status, 202);
  await waitFor('volume gone', async () => ((await asAlice('3.23', 'GET', `/volumes/${vol}`)).status === 404 ? true : undefined), 120000);
});
