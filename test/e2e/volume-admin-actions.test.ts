// Cinder's admin actions and the volume/snapshot actions beside them, end to end through the real
// `openstack` CLI and HTTP against the ARM emulator: volume os-force_delete (`volume delete --force`),
// os-update_readonly_flag (`volume set --read-only/--read-write`), snapshot os-update_snapshot_status,
// backup os-reset_status (`volume backup set --state`). Each refusal changes nothing.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Stack } from '../support/stack';
import { startArmStack, waitFor } from '../support/armStack';
import { absentOnAzure, aliceAndBob, tokenProjectId, type ProjectUser } from '../support/fixtures';
import { assertCinderShape } from '../support/cinderShapes';
import type { EmulatorControl } from '../../emulator/control';
import { createAzureClients, type AzureClients } from '../../shared/azure/clients';

let stack: Stack;
let control: EmulatorControl;
let arm: AzureClients;
let alice: ProjectUser;
let tA: string, tB: string, tAdmin: string;
let bob: ProjectUser;
let adminProject: string;
const RG = 'ops_resource_group';

before(async () => {
  ({ stack, control } = await startArmStack({ asyncDelayMs: 100 }));
  arm = createAzureClients(stack.cloud.services.config);
  ({ alice, bob, tAlice: tA, tBob: tB, tAdmin } = await aliceAndBob(stack, ['adm-a', 'admalice'], ['adm-b', 'admbob']));
  adminProject = await tokenProjectId(stack, tAdmin);
});
after(async () => {
  control?.close();
  await stack?.stop();
});

const asAlice = (method: string, p: string, body?: unknown) => stack.http(method, `/volume/v3/${alice.projectId}${p}`, { token: tA, body });
const asBob = (method: string, p: string, body?: unknown) => stack.http(method, `/volume/v3/${bob.projectId}${p}`, { token: tB, body });
const asAdmin = (method: string, p: string, body?: unknown) => stack.http(method, `/volume/v3/${adminProject}${p}`, { token: tAdmin, body });
const denied = (policy: string) => ({ forbidden: { code: 403, message: `Policy doesn't allow ${policy} to be performed.` } });
const bad = (message: string) => ({ badRequest: { code: 400, message } });

const waitStatus = (kind: 'volume' | 'snapshot' | 'backup', id: string, want: string) =>
  waitFor(`${kind} ${id} ${want}`, async () => {
    const r = await asAlice('GET', `/${kind}s/${id}`);
    return r.body?.[kind]?.status === want ? (r.body[kind] as Record<string, any>) : undefined;
  });
const waitGone = (p: string) => waitFor(`${p} gone`, async () => ((await asAlice('GET', p)).status === 404 ? true : undefined));

async function newVolume(name: string): Promise<string> {
  const r = await asAlice('POST', '/volumes', { volume: { size: 1, name } });
  assert.equal(r.status, 202, r.text);
  await waitStatus('volume', r.body.volume.id, 'available');
  return r.body.volume.id as string;
}

test('os-force_delete: admins delete a volume in any status but attached, migrating or with snapshots (volume delete --force)', async () => {
  const id = await newVolume('fd1');
  // Stuck in a status the owner's DELETE refuses.
  await stack.oscOk(['volume', 'set', '--state', 'creating', id]);
  const owner = await asAlice('DELETE', `/volumes/${id}`);
  assert.equal(owner.status, 400, owner.text);
  assert.match(owner.body.badRequest.message, /^Invalid volume: Volume status must be available or error/);
  // Members hold no force_delete: 403 with Cinder's policy name, the volume untouched.
  const member = await asAlice('POST', `/volumes/${id}/action`, { 'os-force_delete': {} });
  assert.equal(member.status, 403, member.text);
  assert.deepEqual(member.body, denied('volume_extension:volume_admin_actions:force_delete'));
  const cliMember = await stack.osc(['volume', 'delete', '--force', id], alice);
  assert.notEqual(cliMember.code, 0);
  assert.equal((await asAlice('GET', `/volumes/${id}`)).body.volume.status, 'creating');

  // An attached volume is refused even forced, with the message that names no status (force drops it).
  await stack.oscOk(['volume', 'set', '--attached', id]);
  const attached = await asAdmin('POST', `/volumes/${id}/action`, { 'os-force_delete': {} });
  assert.equal(attached.status, 400, attached.text);
  assert.deepEqual(
    attached.body,
    bad('Invalid volume: Volume  must not be migrating, attached, belong to a group, have snapshots, awaiting a transfer, or be disassociated from snapshots after volume transfer.'),
  );
  assert.equal((await asAlice('GET', `/volumes/${id}`)).body.volume.status, 'creating');
  await stack.oscOk(['volume', 'set', '--detached', id]);

  // os-reset_status's own refusals (admin_actions.py): deleting, and in-use without an attachment.
  const toDeleting = await asAdmin('POST', `/volumes/${id}/action`, { 'os-reset_status': { status: 'deleting' } });
  assert.deepEqual(toDeleting.body, bad('Cannot reset-state to deleting'));
  const toInUse = await stack.osc(['volume', 'set', '--state', 'in-use', id]);
  assert.notEqual(toInUse.code, 0);
  assert.match(toInUse.stderr, /Cannot reset-state to in-use because volume does not have any attachments\./);
  assert.equal((await asAlice('GET', `/volumes/${id}`)).body.volume.status, 'creating');

  // The admin's `volume delete --force`: the record and the disk go.
  await stack.oscOk(['volume', 'delete', '--force', id]);
  await waitGone(`/volumes/${id}`);
  await waitFor('the disk deleted', async () => ((await absentOnAzure(arm.compute.disks.get(RG, `volume-${id}`))) ? true : undefined));

  // A volume with a snapshot is refused forced too (no cascade), and keeps its status.
  const v2 = await newVolume('fd2');
  const s = await asAlice('POST', '/snapshots', { snapshot: { volume_id: v2, name: 's' } });
  assert.equal(s.status, 202, s.text);
  await waitStatus('snapshot', s.body.snapshot.id, 'available');
  await asAdmin('POST', `/volumes/${v2}/action`, { 'os-reset_status': { status: 'error' } });
  const withSnap = await asAdmin('POST', `/volumes/${v2}/action`, { 'os-force_delete': null });
  assert.equal(withSnap.status, 400, withSnap.text);
  assert.match(withSnap.body.badRequest.message, /have snapshots/);
  assert.equal((await asAlice('GET', `/volumes/${v2}`)).body.volume.status, 'error');
  assert.equal((await arm.compute.disks.get(RG, `volume-${v2}`)).name, `volume-${v2}`);
});

test('os-update_readonly_flag: the readonly admin metadata, shown among the metadata (volume set --read-only)', async () => {
  const id = await newVolume('ro1');
  await stack.oscOk(['volume', 'set', '--read-only', id], alice);
  const shown = await stack.oscJson(['volume', 'show', id], alice);
  assert.equal(shown.properties.readonly, 'True');
  const v = (await asAlice('GET', `/volumes/${id}`)).body;
  assert.deepEqual(v.volume.metadata, { readonly: 'True' });
  assertCinderShape('volumes/volume-show-response.json', v, { hidden: ['os-vol-host-attr:host', 'os-vol-mig-status-attr:migstat', 'os-vol-mig-status-attr:name_id'] });
  await stack.oscOk(['volume', 'set', '--read-write', id], alice);
  assert.equal((await asAlice('GET', `/volumes/${id}`)).body.volume.metadata.readonly, 'False');

  // HTTP: Cinder's strict booleans, 202; anything else 400 and nothing changes.
  const yes = await asAlice('POST', `/volumes/${id}/action`, { 'os-update_readonly_flag': { readonly: 'yes' } });
  assert.equal(yes.status, 202, yes.text);
  assert.equal((await asAlice('GET', `/volumes/${id}`)).body.volume.metadata.readonly, 'True');
  for (const body of [{ 'os-update_readonly_flag': { readonly: 'maybe' } }, { 'os-update_readonly_flag': {} }, { 'os-update_readonly_flag': { readonly: false, x: 1 } }]) {
    const r = await asAlice('POST', `/volumes/${id}/action`, body);
    assert.equal(r.status, 400, r.text);
  }
  assert.equal((await asAlice('GET', `/volumes/${id}`)).body.volume.metadata.readonly, 'True');
  // Another project's volume: 404.
  const other = await asBob('POST', `/volumes/${id}/action`, { 'os-update_readonly_flag': { readonly: false } });
  assert.equal(other.status, 404, other.text);
  // Only an available volume (volume/api.py update_readonly_flag).
  await asAdmin('POST', `/volumes/${id}/action`, { 'os-reset_status': { status: 'error' } });
  const notAvail = await asAlice('POST', `/volumes/${id}/action`, { 'os-update_readonly_flag': { readonly: false } });
  assert.equal(notAvail.status, 400, notAvail.text);
  assert.deepEqual(notAvail.body, bad(`Invalid volume: Volume ${id} status must be available to update readonly flag, but current status is: error.`));
  assert.equal((await asAlice('GET', `/volumes/${id}`)).body.volume.metadata.readonly, 'True');
});

test('os-update_snapshot_status: creating -> creating/available/error, deleting -> deleting/error_deleting, with progress', async () => {
  const vol = await newVolume('ss1');
  const s = await asAlice('POST', '/snapshots', { snapshot: { volume_id: vol, name: 's1', description: 'assisted' } });
  const sid = s.body.snapshot.id as string;
  await waitStatus('snapshot', sid, 'available');
  const upd = (body: unknown, as = asAlice) => as('POST', `/snapshots/${sid}/action`, { 'os-update_snapshot_status': body });

  const fromAvailable = await upd({ status: 'available' });
  assert.equal(fromAvailable.status, 400, fromAvailable.text);
  assert.deepEqual(fromAvailable.body, bad('Snapshot status available not allowed for update_snapshot_status'));

  await asAdmin('POST', `/snapshots/${sid}/action`, { 'os-reset_status': { status: 'creating' } });
  for (const [progress, message] of [
    ['150%', 'Invalid input received: progress must be an integer percentage between 0 and 100'],
    ['abc', 'Invalid input received: progress must be an integer percentage'],
    ['50', 'Invalid input received: progress must be an integer percentage between 0 and 100'],
  ]) {
    const r = await upd({ status: 'available', progress });
    assert.equal(r.status, 400, r.text);
    assert.deepEqual(r.body, bad(message));
  }
  const wrong = await upd({ status: 'deleting' });
  assert.deepEqual(wrong.body, bad('Provided snapshot status deleting not allowed for snapshot with status creating.'));
  assert.equal((await asAlice('GET', `/snapshots/${sid}`)).body.snapshot.status, 'creating');
  assert.equal((await upd({ status: 'creating', progress: '50%' })).status, 202);
  const mid = (await asAlice('GET', `/snapshots/${sid}`)).body.snapshot;
  assert.equal(mid.status, 'creating');
  assert.equal(mid['os-extended-snapshot-attributes:progress'], '50%');
  const other = await upd({ status: 'available' }, asBob);
  assert.equal(other.status, 404, other.text);
  const done = await upd({ status: 'available', progress: '100%' });
  assert.equal(done.status, 202, done.text);
  const shown = (await asAlice('GET', `/snapshots/${sid}`)).body;
  assert.equal(shown.snapshot.status, 'available');
  assert.equal(shown.snapshot['os-extended-snapshot-attributes:progress'], '100%');
  assertCinderShape('snapshots/snapshot-show-response.json', shown);

  await asAdmin('POST', `/snapshots/${sid}/action`, { 'os-reset_status': { status: 'deleting' } });
  assert.deepEqual((await upd({ status: 'available' })).body, bad('Provided snapshot status available not allowed for snapshot with status deleting.'));
  assert.equal((await upd({ status: 'error_deleting' })).status, 202);
  assert.equal((await asAlice('GET', `/snapshots/${sid}`)).body.snapshot.status, 'error_deleting');
  // The snapshot in Azure is untouched by any of it; a later delete removes it.
  assert.equal((await arm.compute.snapshots.get(RG, `snapshot-${sid}`)).name, `snapshot-${sid}`);
  assert.equal((await asAlice('DELETE', `/snapshots/${sid}`)).status, 202);
  await waitGone(`/snapshots/${sid}`);
});

test('backup os-reset_status: admins set available or error (HTTP, and the CLI at its fixed 3.64)', async () => {
  const vol = await newVolume('bk1');
  const b = await asAlice('POST', '/backups', { backup: { volume_id: vol, name: 'b1' } });
  assert.equal(b.status, 202, b.text);
  const bid = b.body.backup.id as string;
  await waitStatus('backup', bid, 'available');

  const member = await asAlice('POST', `/backups/${bid}/action`, { 'os-reset_status': { status: 'error' } });
  assert.equal(member.status, 403, member.text);
  assert.deepEqual(member.body, denied('volume_extension:backup_admin_actions:reset_status'));
  const cliMember = await stack.osc(['volume', 'backup', 'set', '--state', 'error', bid], alice);
  assert.notEqual(cliMember.code, 0);
  const badStatus = await asAdmin('POST', `/backups/${bid}/action`, { 'os-reset_status': { status: 'creating' } });
  assert.equal(badStatus.status, 400, badStatus.text);
  assert.deepEqual(badStatus.body, bad("Backup status: creating is invalid, valid statuses are: ['available', 'error']."));
  const noStatus = await asAdmin('POST', `/backups/${bid}/action`, { 'os-reset_status': {} });
  assert.equal(noStatus.status, 400, noStatus.text);
  assert.equal((await asAlice('GET', `/backups/${bid}`)).body.backup.status, 'available');

  // The CLI's `volume backup set --state` sends the SDK's fixed microversion 3.64, within Jacket's range.
  await stack.oscOk(['volume', 'backup', 'set', '--state', 'error', bid]);
  assert.equal((await asAlice('GET', `/backups/${bid}`)).body.backup.status, 'error');
  const back = await asAdmin('POST', `/backups/${bid}/action`, { 'os-reset_status': { status: 'available' } });
  assert.equal(back.status, 202, back.text);
  assert.equal((await asAlice('GET', `/backups/${bid}`)).body.backup.status, 'available');
  const toError = await asAdmin('POST', `/backups/${bid}/action`, { 'os-reset_status': { status: 'error' } });
  assert.equal(toError.status, 202, toError.text);
  assert.equal((await asAlice('GET', `/backups/${bid}`)).body.backup.status, 'error');
  const upper = await asAdmin('POST', `/backups/${bid}/action`, { 'os-reset_status': { status: 'AVAILABLE' } });
  assert.equal(upper.status, 202, upper.text);
  const shown = (await asAlice('GET', `/backups/${bid}`)).body.backup;
  assert.equal(shown.status, 'available');
  // Still restorable: the reset touched the record only, the blob is whole.
  const r = await asAlice('POST', `/backups/${bid}/restore`, { restore: { name: 'from-reset' } });
  assert.equal(r.status, 202, r.text);
  await waitStatus('volume', r.body.restore.volume_id, 'available');
  await waitStatus('backup', bid, 'available');
});
