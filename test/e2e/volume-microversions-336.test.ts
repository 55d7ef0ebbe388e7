// Block Storage microversions 3.36, 3.37, 3.41 and 3.44 (docs/volumes.md "Microversions"), each API at the
// version before and at it, against the ARM emulator: the volume summary's metadata (3.36), the backup
// list's sort by name (3.37), the snapshot's user_id (3.41) and the attachment's os-complete (3.44),
// through HTTP (bodies against Cinder's samples) and the real `openstack` CLI where it has the command.
// Skipped until each version is advertised (test/support/advertised.ts).
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { Stack, Creds } from '../support/stack';
import { startArmStack, waitFor, type ArmStack } from '../support/armStack';
import { assertCinderShape, cinderSample } from '../support/cinderShapes';
import { volumeAdvertises, volumeTest } from '../support/advertised';
import { volumeTables } from '../../shared/volume/model';
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
  waitFor(`${key} ${id} ${want}`, async () => ((await asAlice('3.0', 'GET', `/${kind}/${id}`)).body?.[key]?.status === want ? true : undefined), 120000);
async function newVolume(name: string, extra: Record<string, unknown> = {}): Promise<string> {
  const r = await asAlice('3.0', 'POST', '/volumes', { volume: { size: 1, name, ...extra } });
  assert.equal(r.status, 202, r.text);
  await statusOf('volumes', 'volume', r.body.volume.id, 'available');
  return r.body.volume.id;
}

before(async () => {
  if (!volumeAdvertises('3.36')) return;
  env = await startArmStack({ asyncDelayMs: 0 });
  stack = env.stack;
  alice = await stack.makeProjectUser('mv336-a', 'mv336alice');
  [tA, tAdmin] = await Promise.all([stack.token(alice), stack.token()]);
  const me = await stack.http('GET', '/identity/v3/auth/tokens', { token: tAdmin, headers: { 'X-Subject-Token': tAdmin } });
  adminProject = me.body.token.project.id;
});
after(() => env?.stop());

volumeTest('3.36')('3.36: the volume summary adds every distinct metadata value by key (not below 3.36)', async () => {
  const v1 = await newVolume('sum-1', { metadata: { key1: 'value1', key2: 'value2' } });
  await newVolume('sum-2', { metadata: { key1: 'value2' } });
  await newVolume('sum-3', { metadata: { key1: 'value1' } });
  await newVolume('sum-4');
  const summary = async (v: string, who = asAlice, query = '') => {
    const r = await who(v, 'GET', `/volumes/summary${query}`);
    assert.equal(r.status, 200, r.text);
    return r.body['volume-summary'] as { total_count: number; total_size: number; metadata?: Record<string, string[]> };
  };
  const sorted = (m: Record<string, string[]>) => Object.fromEntries(Object.entries(m).map(([k, vs]) => [k, [...vs].sort()]));

  // 3.35: the count and the size only.
  assert.deepEqual(await summary('3.35'), { total_count: 4, total_size: 4 });
  // 3.36: the sample's keys; each key's distinct values (a value repeated across volumes once).
  const s = await summary('3.36');
  const sample = (cinderSample('volumes/volumes-list-summary-response.json') as { 'volume-summary': Record<string, unknown> })['volume-summary'];
  assert.deepEqual(Object.keys(s).sort(), Object.keys(sample).sort());
  assert.equal(s.total_count, 4);
  assert.equal(s.total_size, 4);
  assert.deepEqual(sorted(s.metadata!), { key1: ['value1', 'value2'], key2: ['value2'] });
  // Cinder gives get_volume_summary no filters: a query narrows nothing.
  assert.deepEqual(sorted((await summary('3.36', asAlice, '?name=sum-4')).metadata!), { key1: ['value1', 'value2'], key2: ['value2'] });
  // A metadata change shows at once; a project without metadata has {}.
  const put = await asAlice('3.0', 'PUT', `/volumes/${v1}/metadata`, { metadata: { key3: 'x' } });
  assert.equal(put.status, 200, put.text);
  assert.deepEqual(sorted((await summary('3.36')).metadata!), { key1: ['value1', 'value2'], key3: ['x'] });
  assert.deepEqual((await summary('3.36', asAdmin)).metadata, {});
  // An admin's all_tenants sums every project's, metadata included.
  const all = await summary('3.36', asAdmin, '?all_tenants=true');
  assert.ok(all.total_count >= 4);
  assert.deepEqual(all.metadata!.key3, ['x']);

  // The CLI: `volume summary` shows metadata from 3.36 only.
  const cli35 = await stack.oscJson<Record<string, unknown>>(['--os-volume-api-version', '3.35', 'volume', 'summary'], alice);
  assert.equal('metadata' in cli35 || 'Metadata' in cli35, false, JSON.stringify(cli35));
  const cli36 = await stack.oscJson<Record<string, unknown>>(['--os-volume-api-version', '3.36', 'volume', 'summary'], alice);
  assert.equal(cli36.total_count ?? cli36['Total Count'], 4, JSON.stringify(cli36));
  assert.deepEqual(sorted((cli36.metadata ?? cli36.Metadata) as Record<string, string[]>), { key1: ['value1', 'value2'], key3: ['x'] });
});

volumeTest('3.37')('3.37: the backup list sorts by name (display_name); below 3.37 the key is refused', async () => {
  const vol = await newVolume('bk337');
  const made: Record<string, string> = {};
  for (const n of ['bk-b', 'bk-c', 'bk-a']) {
    const r = await asAlice('3.0', 'POST', '/backups', { backup: { volume_id: vol, name: n } });
    assert.equal(r.status, 202, r.text);
    made[n] = r.body.backup.id;
    await statusOf('backups', 'backup', made[n], 'available');
  }
  const names = async (v: string, query: string, path = '/backups') => {
    const r = await asAlice(v, 'GET', `${path}?volume_id=${vol}&${query}`);
    assert.equal(r.status, 200, r.text);
    return r.body as { backups: { name: string }[] };
  };
  const invalid = 'Invalid input received: Invalid sort key';
  await refused(asAlice('3.36', 'GET', `/backups?volume_id=${vol}&sort=name:asc`), 400, invalid);
  await refused(asAlice('3.36', 'GET', `/backups/detail?volume_id=${vol}&sort_key=name`), 400, invalid);
  await refused(asAlice('3.0', 'GET', '/backups?sort=status,name'), 400, invalid);
  // An admin's filter key that is no Backup column empties the list before the sort is read (below 3.31,
  // where Cinder does not yet refuse unknown filters).
  const empty = await asAdmin('3.30', 'GET', '/backups?bogus=1&sort=name');
  assert.equal(empty.status, 200, empty.text);
  assert.deepEqual(empty.body, { backups: [] });
  // display_name is the column itself, sortable at every version.
  assert.deepEqual(
    (await names('3.36', 'sort=display_name:asc')).backups.map((b) => b.name),
    ['bk-a', 'bk-b', 'bk-c'],
  );
  const asc = await names('3.37', 'sort=name:asc');
  assertCinderShape('backups/backups-list-response.json', asc);
  assert.deepEqual(
    asc.backups.map((b) => b.name),
    ['bk-a', 'bk-b', 'bk-c'],
  );
  assert.deepEqual(
    (await names('3.37', 'sort_key=name', '/backups/detail')).backups.map((b) => b.name),
    ['bk-c', 'bk-b', 'bk-a'],
  );
  assert.deepEqual(
    (await names('3.37', 'sort=name:desc&limit=1&offset=1')).backups.map((b) => b.name),
    ['bk-b'],
  );
  assert.deepEqual(
    (await names('3.37', '')).backups.map((b) => b.name),
    ['bk-a', 'bk-c', 'bk-b'],
    'created_at desc without a sort',
  );
  // (The CLI's `volume backup list` sorts on the client only: --sort-column sends nothing.)
});

volumeTest('3.41')("3.41: the snapshot's detail views carry its creator's user_id (not below 3.41)", async () => {
  const vol = await newVolume('snap341');
  const c40 = await asAlice('3.40', 'POST', '/snapshots', { snapshot: { volume_id: vol, name: 's340', description: 'Daily backup', metadata: { key: 'v3' } } });
  assert.equal(c40.status, 202, c40.text);
  assert.equal('user_id' in c40.body.snapshot, false);
  assertCinderShape('snapshots/v3.14/snapshot-create-response.json', c40.body);
  await statusOf('snapshots', 'snapshot', c40.body.snapshot.id, 'available');
  // create, show, update and the detailed list at 3.41: Cinder's v3.41 samples.
  const c41 = await asAlice('3.41', 'POST', '/snapshots', { snapshot: { volume_id: vol, name: 's341', description: 'Daily backup', metadata: { key: 'v3' } } });
  assert.equal(c41.status, 202, c41.text);
  assertCinderShape('snapshots/v3.41/snapshot-create-response.json', c41.body);
  assert.equal(c41.body.snapshot.user_id, alice.userId);
  const id = c41.body.snapshot.id;
  await statusOf('snapshots', 'snapshot', id, 'available');
  const shown = await asAlice('3.41', 'GET', `/snapshots/${id}`);
  assertCinderShape('snapshots/v3.41/snapshot-show-response.json', shown.body);
  assert.equal(shown.body.snapshot.user_id, alice.userId);
  const upd = await asAlice('3.41', 'PUT', `/snapshots/${id}`, { snapshot: { name: 's341b' } });
  assert.equal(upd.status, 200, upd.text);
  assertCinderShape('snapshots/v3.41/snapshot-update-response.json', upd.body);
  assert.equal(upd.body.snapshot.user_id, alice.userId);
  const detail = await asAlice('3.41', 'GET', `/snapshots/detail?volume_id=${vol}`);
  assertCinderShape('snapshots/v3.41/snapshots-list-detailed-response.json', detail.body);
  assert.deepEqual(
    detail.body.snapshots.map((x: { user_id: string }) => x.user_id),
    [alice.userId, alice.userId],
  );
  // The summary list is the v2 summary at every version; 3.40's views have no user_id.
  const plain = await asAlice('3.41', 'GET', `/snapshots?volume_id=${vol}`);
  assert.ok(plain.body.snapshots.every((x: Record<string, unknown>) => !('user_id' in x)));
  assert.equal('user_id' in (await asAlice('3.40', 'GET', `/snapshots/${id}`)).body.snapshot, false);
  assert.ok((await asAlice('3.40', 'GET', `/snapshots/detail?volume_id=${vol}`)).body.snapshots.every((x: Record<string, unknown>) => !('user_id' in x)));
  // The admin sees the creator's, not its own.
  assert.equal((await asAdmin('3.41', 'GET', `/snapshots/${id}`)).body.snapshot.user_id, alice.userId);
  // A record without a user id (snapshot.get('user_id')) shows null.
  const t = volumeTables(stack.cloud.services);
  await t.snapshots.update(alice.projectId, id, (s) => ({ ...s, user_id: undefined as unknown as string }));
  assert.equal((await asAlice('3.41', 'GET', `/snapshots/${id}`)).body.snapshot.user_id, null);

  // The CLI makes a snapshot at 3.41 (its views leave user_id out); the creator is alice.
  const cli = await stack.oscJson<{ id: string }>(['--os-volume-api-version', '3.41', 'volume', 'snapshot', 'create', '--volume', vol, 'cli341'], alice);
  assert.equal((await asAlice('3.41', 'GET', `/snapshots/${cli.id}`)).body.snapshot.user_id, alice.userId);
  const cliShow = await stack.oscJson<Record<string, unknown>>(['--os-volume-api-version', '3.41', 'volume', 'snapshot', 'show', cli.id], alice);
  assert.equal(cliShow.name, 'cli341');
});

volumeTest('3.44')('3.44: os-complete marks the attachment attached and the volume in-use (404 below 3.44)', async () => {
  const vol = await newVolume('att344');
  const made = await asAlice('3.27', 'POST', '/attachments', { attachment: { volume_uuid: vol, instance_uuid: randomUUID() } });
  assert.equal(made.status, 200, made.text);
  const att = made.body.attachment;
  assert.equal(att.status, 'reserved');
  const complete = (v: string, id: string, body: unknown = { 'os-complete': {} }, who = asAlice) => who(v, 'POST', `/attachments/${id}/action`, body);

  // Below 3.44 a versioned action: a bare 404, after the action is read from the body.
  await refused(complete('3.43', att.id), 404, 'The resource could not be found.');
  await refused(complete('3.27', att.id), 404, 'The resource could not be found.');
  await refused(complete('3.43', att.id, { 'os-finish': {} }), 400, 'There is no such action: os-finish');
  await refused(complete('3.44', att.id, { 'os-finish': {} }), 400, 'There is no such action: os-finish');
  await refused(complete('3.44', att.id, {}), 400, 'Malformed request body');
  await refused(complete('3.44', att.id, { 'os-complete': {}, x: 1 }), 400, 'Malformed message body: too many body keys');
  const unknown = randomUUID();
  await refused(complete('3.44', unknown), 404, `Volume attachment could not be found with filter: attachment_id = ${unknown}.`);
  assert.equal((await asAlice('3.44', 'GET', `/attachments/${att.id}`)).body.attachment.status, 'reserved', 'the refusals changed nothing');
  assert.equal((await asAlice('3.44', 'GET', `/volumes/${vol}`)).body.volume.status, 'reserved');

  // The policy (volume:attachment_complete, project member or admin) after the lookup: a reader of the project is 403.
  const password = 'Pw-mv336reader-1a';
  const u = await stack.http('POST', '/identity/v3/users', { token: tAdmin, body: { user: { name: 'mv336reader', password, default_project_id: alice.projectId } } });
  assert.equal(u.status, 201, u.text);
  const reader = (await stack.http('GET', '/identity/v3/roles?name=reader', { token: tAdmin })).body.roles[0].id;
  assert.equal((await stack.http('PUT', `/identity/v3/projects/${alice.projectId}/users/${u.body.user.id}/roles/${reader}`, { token: tAdmin })).status, 204);
  const tR = await stack.token({ username: 'mv336reader', password, project: alice.project });
  const asReader = (v: string, method: string, p: string, body?: unknown) => stack.http(method, `/volume/v3/${alice.projectId}${p}`, { token: tR, body, headers: at(v) });
  await refused(complete('3.44', att.id, undefined, asReader), 403, "Policy doesn't allow volume:attachment_complete to be performed.");

  // A reserved attachment (no connector) completes too: Cinder checks no state.
  const ok = await complete('3.44', att.id);
  assert.equal(ok.status, 204, ok.text);
  assert.equal(ok.text, '');
  const shown = await asAlice('3.44', 'GET', `/attachments/${att.id}`);
  assertCinderShape('attachment-show-response.json', shown.body);
  assert.equal(shown.body.attachment.status, 'attached');
  const v = (await asAlice('3.44', 'GET', `/volumes/${vol}`)).body.volume;
  assert.equal(v.status, 'in-use');
  assert.deepEqual(
    v.attachments.map((a: { attachment_id: string }) => a.attachment_id),
    [att.id],
  );
  // Again: the same answer.
  assert.equal((await complete('3.44', att.id)).status, 204);
  // Deleting it makes the volume available again.
  const gone = await asAlice('3.44', 'DELETE', `/attachments/${att.id}`);
  assert.equal(gone.status, 200, gone.text);
  assert.equal((await asAlice('3.44', 'GET', `/volumes/${vol}`)).body.volume.status, 'available');
  await refused(complete('3.44', att.id), 404, `Volume attachment could not be found with filter: attachment_id = ${att.id}.`);

  // A connected attachment, completed by an admin of another project, through the CLI.
  const again = (await asAlice('3.27', 'POST', '/attachments', { attachment: { volume_uuid: vol, connector: { host: 'h1', mountpoint: '/dev/vdc', initiator: 'iqn.x' } } })).body.attachment;
  assert.equal(again.status, 'attaching');
  const early = await stack.osc(['--os-volume-api-version', '3.43', 'volume', 'attachment', 'complete', again.id]);
  assert.notEqual(early.code, 0);
  assert.match(early.stderr, /3\.44 or greater is required/);
  const cli = await stack.osc(['--os-volume-api-version', '3.44', 'volume', 'attachment', 'complete', again.id]);
  assert.equal(cli.code, 0, cli.stderr);
  const cliShow = await stack.oscJson<Record<string, string>>(['--os-volume-api-version', '3.44', 'volume', 'attachment', 'show', again.id], alice);
  assert.equal(cliShow.status ?? cliShow.Status, 'attached');
  assert.equal((await asAlice('3.44', 'GET', `/volumes/${vol}`)).body.volume.status, 'in-use');
});
