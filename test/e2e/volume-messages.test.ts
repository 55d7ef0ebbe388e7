// Cinder's user messages (microversion 3.3; pagination and sort 3.5) end to end: a volume create that
// Azure refuses (an injected fault in the ARM emulator) leaves a message with Cinder's event id and
// text (cinder/message/message_field.py: VOLUME_VOLUME_008_012, "create volume from backend
// storage:Driver failed to create the volume."), visible at 3.3 and not at 3.2 (404), to its project
// and admins only; delete removes it; the openstack CLI lists, shows and deletes it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startArmStack, waitFor, type ArmStack } from '../support/armStack';
import { aliceAndBob, tokenProjectId, type ProjectUser } from '../support/fixtures';
import { MESSAGE_TTL_SECONDS } from '../../shared/volume/messages/service';
import { assertCinderShape } from '../support/cinderShapes';

let env: ArmStack;
let alice: ProjectUser, bob: ProjectUser;
let tAlice: string, tBob: string, tAdmin: string;
let adminProject: string;

const at = (v: string) => ({ 'OpenStack-API-Version': `volume ${v}` });
const asAlice = (v: string, method: string, p: string, body?: unknown) => env.stack.http(method, `/volume/v3/${alice.projectId}${p}`, { token: tAlice, body, headers: at(v) });
const asBob = (v: string, method: string, p: string) => env.stack.http(method, `/volume/v3/${bob.projectId}${p}`, { token: tBob, headers: at(v) });
const asAdmin = (v: string, method: string, p: string) => env.stack.http(method, `/volume/v3/${adminProject}${p}`, { token: tAdmin, headers: at(v) });

before(async () => {
  env = await startArmStack({ asyncDelayMs: 50, settings: { JACKET_WORK_RETRY_FAILURES: '2', JACKET_WORK_POLL_CAP_SECONDS: '1' } });
  ({ alice, bob, tAlice, tBob, tAdmin } = await aliceAndBob(env.stack, ['msg-a', 'msgalice'], ['msg-b', 'msgbob']));
  adminProject = await tokenProjectId(env.stack, tAdmin);
});
after(() => env?.stop());

/** A volume create Azure refuses: the volume lands in error and leaves a message. */
async function failedVolume(name: string): Promise<{ id: string; requestId: string }> {
  await env.control.addFault({ method: 'PUT', path: '/providers/Microsoft.Compute/disks/volume-[^/]+$', count: 20, status: 500, code: 'InternalServerError', message: 'Injected.' });
  const r = await asAlice('3.0', 'POST', '/volumes', { volume: { size: 1, name } });
  assert.equal(r.status, 202, JSON.stringify(r.body));
  const id = r.body.volume.id as string;
  await waitFor(`volume ${name} error`, async () => ((await asAlice('3.0', 'GET', `/volumes/${id}`)).body.volume.status === 'error' ? true : undefined), 90000);
  await env.control.clearFaults();
  return { id, requestId: r.headers.get('x-openstack-request-id') ?? '' };
}

test('a failed volume create leaves a message: Cinder fields and text at 3.3, 404 at 3.2, own project and admins only, delete', async () => {
  const { id: volId, requestId } = await failedVolume('msgfail');
  const list = await waitFor('message', async () => {
    const r = await asAlice('3.3', 'GET', '/messages');
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body.messages.find((m: { resource_uuid?: string }) => m.resource_uuid === volId) ? r : undefined;
  });
  const m = list.body.messages.find((x: { resource_uuid?: string }) => x.resource_uuid === volId);
  assert.deepEqual(Object.keys(m).sort(), ['created_at', 'event_id', 'guaranteed_until', 'id', 'links', 'message_level', 'request_id', 'resource_type', 'resource_uuid', 'user_message']);
  assert.equal(m.event_id, 'VOLUME_VOLUME_008_012');
  assert.equal(m.user_message, 'create volume from backend storage:Driver failed to create the volume.');
  assert.equal(m.message_level, 'ERROR');
  assert.equal(m.resource_type, 'VOLUME');
  assert.match(m.request_id, /^req-/);
  if (requestId) assert.equal(m.request_id, requestId);
  assert.match(m.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/);
  assert.equal((Date.parse(`${m.guaranteed_until}Z`) - Date.parse(`${m.created_at}Z`)) / 1000, MESSAGE_TTL_SECONDS);
  assert.equal(m.links[0].rel, 'self');
  assert.match(m.links[0].href, new RegExp(`/volume/v3/${alice.projectId}/messages/${m.id}$`));

  assertCinderShape('messages-list-response.json', { messages: [m] });
  const shown = await asAlice('3.3', 'GET', `/messages/${m.id}`);
  assert.equal(shown.status, 200);
  assertCinderShape('messages-show-response.json', shown.body);
  assert.deepEqual(shown.body.message, m);

  // Below 3.3 the routes have no method: 404, as Cinder.
  for (const [method, p] of [
    ['GET', '/messages'],
    ['GET', `/messages/${m.id}`],
    ['DELETE', `/messages/${m.id}`],
  ]) {
    const r = await asAlice('3.2', method, p);
    assert.equal(r.status, 404, `${method} ${p} at 3.2`);
    assert.equal(r.body.itemNotFound.message, 'The resource could not be found.');
  }

  // Another project sees none of it; an admin sees it.
  const other = await asBob('3.3', 'GET', '/messages');
  assert.equal(other.status, 200);
  assert.ok(!other.body.messages.some((x: { id: string }) => x.id === m.id));
  const otherShow = await asBob('3.3', 'GET', `/messages/${m.id}`);
  assert.equal(otherShow.status, 404);
  assert.equal(otherShow.body.itemNotFound.message, `Message ${m.id} could not be found.`);
  assert.equal((await asBob('3.3', 'DELETE', `/messages/${m.id}`)).status, 404);
  const adm = await asAdmin('3.3', 'GET', `/messages/${m.id}`);
  assert.equal(adm.status, 200);
  assert.equal(adm.body.message.event_id, 'VOLUME_VOLUME_008_012');

  const del = await asAlice('3.3', 'DELETE', `/messages/${m.id}`);
  assert.equal(del.status, 204);
  assert.equal((await asAlice('3.3', 'GET', `/messages/${m.id}`)).status, 404);
  await env.stack.oscOk(['volume', 'delete', volId], alice);
});

test('the openstack CLI: volume message list / show / delete at 3.3', async () => {
  const { id: volId } = await failedVolume('msgcli');
  const msgs = await waitFor('message', async () => {
    const l = await env.stack.oscJson(['--os-volume-api-version', '3.3', 'volume', 'message', 'list'], alice);
    return l.some((x: Record<string, unknown>) => x['Resource UUID'] === volId) ? l : undefined;
  });
  const row = msgs.find((x: Record<string, unknown>) => x['Resource UUID'] === volId);
  assert.equal(row['Event ID'], 'VOLUME_VOLUME_008_012');
  assert.equal(row['User Message'], 'create volume from backend storage:Driver failed to create the volume.');
  const shown = await env.stack.oscJson(['--os-volume-api-version', '3.3', 'volume', 'message', 'show', row.ID], alice);
  // openstacksdk's Message has resource_key "messages" where Cinder's show answers {"message": ...}, so
  // the CLI shows only the id against Cinder too; the command succeeding on our answer is what is checked.
  assert.equal(shown.id ?? shown.ID, row.ID);
  await env.stack.oscOk(['--os-volume-api-version', '3.3', 'volume', 'message', 'delete', row.ID], alice);
  const after = await env.stack.oscJson(['--os-volume-api-version', '3.3', 'volume', 'message', 'list'], alice);
  assert.ok(!after.some((x: Record<string, unknown>) => x.ID === row.ID));
  await env.stack.oscOk(['volume', 'delete', volId], alice);
});

test('3.5: limit, marker, offset, sort and exact filters on the list; ignored at 3.4; the CLI pages through', async () => {
  await env.control.addFault({ method: 'PUT', path: '/providers/Microsoft.Compute/disks/volume-[^/]+$', count: 100, status: 500, code: 'InternalServerError', message: 'Injected.' });
  const ids: string[] = [];
  for (const name of ['pg1', 'pg2', 'pg3']) {
    const r = await asAlice('3.0', 'POST', '/volumes', { volume: { size: 1, name } });
    assert.equal(r.status, 202);
    ids.push(r.body.volume.id);
  }
  const listed = async (v: string, q = '') => {
    const r = await asAlice(v, 'GET', `/messages${q}`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body;
  };
  await waitFor('three messages', async () => ((await listed('3.5')).messages.filter((m: { resource_uuid: string }) => ids.includes(m.resource_uuid)).length === 3 ? true : undefined), 90000);
  await env.control.clearFaults();
  const all = (await listed('3.5')).messages as { id: string; created_at: string; resource_uuid: string }[];
  assert.ok(all.length >= 3);
  // default order: created_at desc, then id desc
  const byDefault = [...all].sort((a, b) => (a.created_at === b.created_at ? (a.id < b.id ? 1 : -1) : a.created_at < b.created_at ? 1 : -1));
  assert.deepEqual(
    all.map((m) => m.id),
    byDefault.map((m) => m.id),
  );

  // limit 2: a full page carries the next link with the last id as marker
  const p1 = await listed('3.5', '?limit=2');
  assert.deepEqual(
    p1.messages.map((m: { id: string }) => m.id),
    all.slice(0, 2).map((m) => m.id),
  );
  assert.equal(p1.messages_links[0].rel, 'next');
  const next = new URL(p1.messages_links[0].href);
  assert.equal(next.pathname, `/volume/v3/${alice.projectId}/messages`);
  assert.equal(next.searchParams.get('marker'), all[1].id);
  const p2 = await listed('3.5', `?limit=2&marker=${all[1].id}`);
  assert.deepEqual(
    p2.messages.map((m: { id: string }) => m.id),
    all.slice(2, 4).map((m) => m.id),
  );
  assert.deepEqual(
    (await listed('3.5', '?offset=1&limit=1')).messages.map((m: { id: string }) => m.id),
    [all[1].id],
  );
  // sort
  const asc = (await listed('3.5', '?sort=created_at:asc')).messages.map((m: { id: string }) => m.id);
  assert.deepEqual(
    asc,
    [...all].reverse().map((m) => m.id),
  );
  assert.deepEqual(
    (await listed('3.5', '?sort_key=created_at&sort_dir=asc')).messages.map((m: { id: string }) => m.id),
    asc,
  );
  // exact filters on the Message model's columns; a key it lacks matches nothing
  const one = await listed('3.5', `?resource_uuid=${ids[0]}`);
  assert.deepEqual(
    one.messages.map((m: { resource_uuid: string }) => m.resource_uuid),
    [ids[0]],
  );
  assert.equal((await listed('3.5', '?event_id=VOLUME_VOLUME_008_012')).messages.length, all.filter((m) => (m as unknown as { event_id: string }).event_id === 'VOLUME_VOLUME_008_012').length);
  assert.deepEqual((await listed('3.5', '?no_such_column=1')).messages, []);
  // errors, in Cinder's words
  const bad = async (q: string, status: number, text: string) => {
    const r = await asAlice('3.5', 'GET', `/messages${q}`);
    assert.equal(r.status, status, `${q}: ${JSON.stringify(r.body)}`);
    assert.equal((r.body.badRequest ?? r.body.itemNotFound).message, text);
  };
  await bad('?limit=x', 400, 'limit param must be an integer');
  await bad('?limit=-1', 400, 'limit param must be positive');
  await bad('?offset=-1', 400, 'offset must be >= 0');
  await bad('?sort=created_at:up', 400, "Invalid input received: Unknown sort direction, must be 'desc' or 'asc'.");
  await bad('?sort=nope', 400, 'Invalid input received: Invalid sort key');
  await bad('?sort=id&sort_key=id', 400, "The 'sort_key' and 'sort_dir' parameters are deprecated and cannot be used with the 'sort' parameter.");
  await bad('?marker=00000000-0000-4000-8000-000000000000', 404, 'Message 00000000-0000-4000-8000-000000000000 could not be found.');
  // below 3.5 the query is ignored
  const v34 = await listed('3.4', '?limit=1&sort=nope&no_such_column=1');
  assert.deepEqual(
    v34.messages.map((m: { id: string }) => m.id),
    all.map((m) => m.id),
  );
  assert.equal(v34.messages_links, undefined);
  // the CLI (openstacksdk) pages through with limit and the next link's marker
  const cli = await env.stack.oscJson(['--os-volume-api-version', '3.5', 'volume', 'message', 'list', '--limit', '1'], alice);
  assert.deepEqual(
    cli.map((x: Record<string, unknown>) => x.ID),
    all.map((m) => m.id),
  );
  for (const id of ids) await env.stack.oscOk(['volume', 'delete', id], alice);
});

test('snapshot create, extend and backup create given up: their messages, event ids and resources', async () => {
  const r = await asAlice('3.0', 'POST', '/volumes', { volume: { size: 1, name: 'msgsrc' } });
  assert.equal(r.status, 202);
  const volId = r.body.volume.id as string;
  const statusOf = async (kind: string, id: string) => (await asAlice('3.0', 'GET', `/${kind}s/${id}`)).body[kind].status as string;
  const until = (kind: string, id: string, want: string) => waitFor(`${kind} ${id} ${want}`, async () => ((await statusOf(kind, id)) === want ? true : undefined), 90000);
  await until('volume', volId, 'available');
  const messageFor = (uuid: string) =>
    waitFor(`message for ${uuid}`, async () => {
      const l = await asAlice('3.5', 'GET', `/messages?resource_uuid=${uuid}`);
      return l.body.messages[0] as Record<string, string> | undefined;
    });

  await env.control.addFault({ method: 'PUT', path: '/providers/Microsoft.Compute/snapshots/snapshot-[^/]+$', count: 20, status: 500, code: 'InternalServerError', message: 'Injected.' });
  const snap = await asAlice('3.0', 'POST', '/snapshots', { snapshot: { volume_id: volId, name: 'msgsnap' } });
  assert.equal(snap.status, 202);
  await until('snapshot', snap.body.snapshot.id, 'error');
  const sm = await messageFor(snap.body.snapshot.id);
  assert.equal(sm.event_id, 'VOLUME_VOLUME_SNAPSHOT_009_013');
  assert.equal(sm.resource_type, 'VOLUME_SNAPSHOT');
  assert.equal(sm.user_message, 'create snapshot:Snapshot failed to create.');
  await env.control.clearFaults();

  await env.control.addFault({ method: 'PATCH', path: `/disks/volume-${volId}$`, count: 20, status: 500, code: 'InternalServerError', message: 'Injected.' });
  assert.equal((await asAlice('3.0', 'POST', `/volumes/${volId}/action`, { 'os-extend': { new_size: 2 } })).status, 202);
  await until('volume', volId, 'error_extending');
  const em = await messageFor(volId);
  assert.equal(em.event_id, 'VOLUME_VOLUME_007_010');
  assert.equal(em.resource_type, 'VOLUME');
  assert.equal(em.user_message, 'extend volume:Volume Driver failed to extend volume.');
  await env.control.clearFaults();

  const b = await asAlice('3.0', 'POST', `/volumes/${volId}/action`, { 'os-reset_status': { status: 'available' } });
  assert.ok(b.status === 202 || b.status === 403, `reset: ${b.status}`);
  if (b.status === 403) {
    const me = await env.stack.http('POST', `/volume/v3/${adminProject}/volumes/${volId}/action`, { token: tAdmin, body: { 'os-reset_status': { status: 'available' } } });
    assert.equal(me.status, 202, JSON.stringify(me.body));
  }
  await env.control.addFault({ method: 'PUT', path: '/providers/Microsoft.Compute/snapshots/backup-[^/]+$', count: 20, status: 500, code: 'InternalServerError', message: 'Injected.' });
  const bk = await asAlice('3.0', 'POST', '/backups', { backup: { volume_id: volId, name: 'msgbk' } });
  assert.equal(bk.status, 202, JSON.stringify(bk.body));
  await until('backup', bk.body.backup.id, 'error');
  const bm = await messageFor(bk.body.backup.id);
  assert.equal(bm.event_id, 'VOLUME_VOLUME_BACKUP_013_020');
  assert.equal(bm.resource_type, 'VOLUME_BACKUP');
  assert.equal(bm.user_message, 'create backup:Backup driver failed to create backup.');
  await env.control.clearFaults();
});
