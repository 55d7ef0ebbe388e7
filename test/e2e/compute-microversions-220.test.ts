// Compute microversions 2.20-2.26 (docs/microversions.md): each version's APIs at the version before and
// at it, bodies checked against Nova's response schema for that version (test/support/oracle.ts),
// refusals against Nova's status and words; and the real `openstack` CLI where it drives the feature.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startArmStack, waitFor, type ArmStack } from '../support/armStack';
import { assertNovaResponse, novaStatus } from '../support/oracle';
import type { Creds } from '../support/stack';

let arm: ArmStack;
let alice: Creds & { projectId: string; userId: string };
let bob: Creds & { projectId: string; userId: string };
let tAlice: string;
let tBob: string;
let tAdmin: string;
let image: string;
let net: string;

before(async () => {
  arm = await startArmStack({ asyncDelayMs: 0 });
  [alice, bob] = await Promise.all([arm.stack.makeProjectUser('mv2-a', 'mv2alice'), arm.stack.makeProjectUser('mv2-b', 'mv2bob')]);
  [tAlice, tBob, tAdmin] = await Promise.all([arm.stack.token(alice), arm.stack.token(bob), arm.stack.token()]);
  image = (await arm.stack.http('GET', '/image/v2/images?name=ubuntu-22.04', { token: tAlice })).body.images[0].id;
  net = (await arm.stack.http('GET', '/network/v2.0/networks?name=private', { token: tAlice })).body.networks[0].id;
});
after(async () => {
  arm?.control.close();
  await arm?.stop();
});

/** A Nova call at microversion `mv` (none: the default, 2.1). */
const nova = (token: string, mv?: string) => (method: string, p: string, body?: unknown) =>
  arm.stack.http(method, `/compute/v2.1${p}`, { token, body, headers: mv ? { 'OpenStack-API-Version': `compute ${mv}` } : {} });
const cinder = (method: string, p: string, body?: unknown) => arm.stack.http(method, `/volume/v3/${alice.projectId}${p}`, { token: tAlice, body });

async function waitStatus(id: string, status: string) {
  return waitFor(
    `server ${id} ${status}`,
    async () => {
      const r = await nova(tAlice)('GET', `/servers/${id}`);
      if (r.body?.server?.status === 'ERROR' && status !== 'ERROR') throw new Error(`server ${id} went ERROR: ${JSON.stringify(r.body.server.fault)}`);
      return r.body?.server?.status === status ? r.body.server : undefined;
    },
    120000,
  );
}
const volumeStatus = (id: string, want: string) =>
  waitFor(`volume ${id} ${want}`, async () => {
    const r = await cinder('GET', `/volumes/${id}`);
    return r.body?.volume?.status === want ? r.body.volume : undefined;
  });

async function boot(name: string): Promise<string> {
  const r = await nova(tAlice)('POST', '/servers', { server: { name, flavorRef: '3', imageRef: image, networks: [{ uuid: net }] } });
  assert.equal(r.status, 202, r.text);
  await waitStatus(r.body.server.id, 'ACTIVE');
  return r.body.server.id;
}
const act = (token: string, mv: string | undefined, id: string, body: unknown) => nova(token, mv)('POST', `/servers/${id}/action`, body);
const msg = (body: unknown) => Object.values(body as Record<string, { message: string }>)[0].message;
const cliVersion = (mv: string) => ['--os-compute-api-version', mv];

test('2.20: volumes attach to and detach from a SHELVED_OFFLOADED server (409 below 2.20); the CLI too', async () => {
  const id = await boot('shelved-vols');
  const vol = await cinder('POST', '/volumes', { volume: { size: 1, name: 'shelved-data' } });
  assert.equal(vol.status, 202, vol.text);
  const volId = vol.body.volume.id as string;
  await volumeStatus(volId, 'available');
  assert.equal((await act(tAlice, undefined, id, { shelve: null })).status, 202);
  await waitStatus(id, 'SHELVED_OFFLOADED');
  const attach = (mv: string) => nova(tAlice, mv)('POST', `/servers/${id}/os-volume_attachments`, { volumeAttachment: { volumeId: volId } });
  const below = await attach('2.19');
  assert.equal(below.status, 409);
  assert.equal(below.body.conflictingRequest.message, `Cannot 'attach_volume' instance ${id} while it is in vm_state shelved_offloaded`);
  const at = await attach('2.20');
  assert.equal(at.status, 200, at.text);
  assertNovaResponse('volume_attachments', 'VolumeAttachmentController', 'create', '2.20', at.body);
  // Nova attaches without a host and answers no device (_attach_volume_shelved_offloaded).
  assert.deepEqual(at.body.volumeAttachment, { id: volId, serverId: id, volumeId: volId, device: null });
  await volumeStatus(volId, 'in-use');
  const listed = await nova(tAlice, '2.20')('GET', `/servers/${id}/os-volume_attachments`);
  assertNovaResponse('volume_attachments', 'VolumeAttachmentController', 'index', '2.20', listed.body);
  assert.deepEqual(
    listed.body.volumeAttachments.map((a: { volumeId: string }) => a.volumeId),
    [volId],
  );
  const vm = await arm.compute.virtualMachines.get('ops_resource_group', id);
  assert.ok(
    vm.storageProfile?.dataDisks?.some((d) => d.managedDisk?.id?.toLowerCase().endsWith(`/volume-${volId}`.toLowerCase())),
    'the disk is on the deallocated VM',
  );
  const detachBelow = await nova(tAlice, '2.19')('DELETE', `/servers/${id}/os-volume_attachments/${volId}`);
  assert.equal(detachBelow.status, 409);
  assert.equal(detachBelow.body.conflictingRequest.message, `Cannot 'detach_volume' instance ${id} while it is in vm_state shelved_offloaded`);
  assert.equal((await nova(tAlice, '2.20')('DELETE', `/servers/${id}/os-volume_attachments/${volId}`)).status, 202);
  await volumeStatus(volId, 'available');
  // The CLI (it checks the version itself before 2.20 for shelved servers).
  await arm.stack.oscOk([...cliVersion('2.20'), 'server', 'add', 'volume', id, volId], alice);
  await volumeStatus(volId, 'in-use');
  await arm.stack.oscOk([...cliVersion('2.20'), 'server', 'remove', 'volume', id, volId], alice);
  await volumeStatus(volId, 'available');
  assert.equal((await nova(tAlice)('DELETE', `/servers/${id}`)).status, 204);
});

test('2.21: os-instance-actions of a deleted server (404 below 2.21, and to another project)', async () => {
  const id = await boot('deleted-actions');
  assert.equal((await nova(tAlice)('DELETE', `/servers/${id}`)).status, 204);
  await waitFor(`server ${id} gone`, async () => ((await nova(tAlice)('GET', `/servers/${id}`)).status === 404 ? true : undefined), 120000);
  const b = await nova(tAlice, '2.20')('GET', `/servers/${id}/os-instance-actions`);
  assert.equal(b.status, 404);
  assert.equal(b.body.itemNotFound.message, `Instance ${id} could not be found.`);
  const l = await nova(tAlice, '2.21')('GET', `/servers/${id}/os-instance-actions`);
  assert.equal(l.status, 200, l.text);
  assertNovaResponse('instance_actions', 'InstanceActionsController', 'index', '2.21', l.body);
  const actions = l.body.instanceActions as { action: string; request_id: string }[];
  assert.deepEqual(
    actions.map((a) => a.action),
    ['delete', 'create'],
  );
  const s = await nova(tAdmin, '2.21')('GET', `/servers/${id}/os-instance-actions/${actions[0].request_id}`);
  assert.equal(s.status, 200, s.text);
  assertNovaResponse('instance_actions', 'InstanceActionsController', 'show', '2.21', s.body);
  assert.equal(s.body.instanceAction.action, 'delete');
  assert.equal((await nova(tAlice, '2.21')('GET', `/servers/${id}/os-instance-actions/req-nope`)).status, 404);
  assert.equal((await nova(tBob, '2.21')('GET', `/servers/${id}/os-instance-actions`)).status, 404);
  assert.equal((await nova(tAlice, '2.21')('GET', '/servers/00000000-0000-4000-8000-000000000000/os-instance-actions')).status, 404);
  // The CLI: `server event list` falls back to the id when the server is not found.
  const cli = await arm.stack.oscJson<{ Action: string }[]>([...cliVersion('2.21'), 'server', 'event', 'list', id], alice);
  assert.deepEqual(
    cli.map((x) => x.Action),
    ['delete', 'create'],
  );
});

test('2.22-2.24: server migrations: force_complete, list/show, abort (bare 404 below each version; no live migration ever runs)', async () => {
  const id = await boot('migrations');
  // 2.22 force_complete: below it the method does not exist.
  const fc = (mv: string, body: unknown = { force_complete: null }, token = tAdmin) => nova(token, mv)('POST', `/servers/${id}/migrations/1/action`, body);
  const fc21 = await fc('2.21');
  assert.equal(fc21.status, 404);
  assert.equal(fc21.body.itemNotFound.message, 'The resource could not be found.');
  assert.equal((await fc('2.22', { force_complete: {} })).status, 400);
  const fc22 = await fc('2.22');
  assert.equal(fc22.status, 409);
  assert.equal(fc22.body.conflictingRequest.message, `Instance ${id} is in an invalid state for 'force_complete'`);
  assert.equal((await fc('2.22', undefined, tAlice)).status, 403, 'PROJECT_MANAGER_OR_ADMIN: a member is refused');
  assert.equal((await fc('2.22', undefined, tAlice)).body.forbidden.message, "Policy doesn't allow os_compute_api:servers:migrations:force_complete to be performed.");
  // 2.23 list and show.
  assert.equal((await nova(tAdmin, '2.22')('GET', `/servers/${id}/migrations`)).status, 404);
  const list = await nova(tAdmin, '2.23')('GET', `/servers/${id}/migrations`);
  assert.equal(list.status, 200, list.text);
  assertNovaResponse('server_migrations', 'ServerMigrationsController', 'index', '2.23', list.body);
  assert.deepEqual(list.body, { migrations: [] });
  const show = await nova(tAdmin, '2.23')('GET', `/servers/${id}/migrations/7`);
  assert.equal(show.status, 404);
  assert.equal(show.body.itemNotFound.message, `In-progress live migration 7 is not found for server ${id}.`);
  assert.equal((await nova(tAdmin, '2.23')('GET', '/servers/00000000-0000-4000-8000-000000000000/migrations')).status, 404);
  // 2.24 abort: lock first, then the task_state (Nova's live_migrate_abort decorators).
  assert.equal((await nova(tAdmin, '2.23')('DELETE', `/servers/${id}/migrations/7`)).status, 404);
  const ab = await nova(tAdmin, '2.24')('DELETE', `/servers/${id}/migrations/7`);
  assert.equal(ab.status, 409);
  assert.equal(ab.body.conflictingRequest.message, `Instance ${id} is in an invalid state for 'abort live migration'`);
  assert.ok(novaStatus('server_migrations', 'ServerMigrationsController', 'delete', '2.24') === 202);
  // A stopped server fails force_complete's vm_state check.
  assert.equal((await act(tAlice, undefined, id, { 'os-stop': null })).status, 202);
  await waitStatus(id, 'SHUTOFF');
  assert.equal(msg((await fc('2.22')).body), `Cannot 'force_complete' instance ${id} while it is in vm_state stopped`);
  // The CLI.
  const cliShow = await arm.stack.osc([...cliVersion('2.24'), 'server', 'migration', 'show', id, '7']);
  assert.notEqual(cliShow.code, 0);
  // (OSC 10.5 hands the SDK the server and migration ids the other way round: a 404 either way.)
  assert.match(cliShow.stderr, /could not be found|is not found/);
  const cliAbort = await arm.stack.osc([...cliVersion('2.24'), 'server', 'migration', 'abort', id, '7']);
  assert.notEqual(cliAbort.code, 0);
  assert.match(cliAbort.stderr, /invalid state for 'abort live migration'/);
  const cliForce = await arm.stack.osc([...cliVersion('2.22'), 'server', 'migration', 'force', 'complete', id, '7']);
  assert.notEqual(cliForce.code, 0);
  assert.match(cliForce.stderr, /Cannot 'force_complete' instance .* while it is in vm_state stopped/);
  assert.equal((await nova(tAlice)('DELETE', `/servers/${id}`)).status, 204);
});

test('2.25: os-migrateLive takes block_migration "auto" and no disk_over_commit (schema per version), then the pre-check error', async () => {
  const id = await boot('live');
  const ml = (mv: string, body: Record<string, unknown>) => act(tAdmin, mv, id, { 'os-migrateLive': body });
  const auto24 = await ml('2.24', { host: null, block_migration: 'auto', disk_over_commit: false });
  assert.equal(auto24.status, 400);
  assert.match(auto24.body.badRequest.message, /block_migration/);
  assert.equal((await ml('2.24', { host: null, block_migration: false })).status, 400, 'disk_over_commit is required below 2.25');
  const over25 = await ml('2.25', { host: null, block_migration: 'auto', disk_over_commit: false });
  assert.equal(over25.status, 400);
  assert.match(over25.body.badRequest.message, /'disk_over_commit' was unexpected/);
  const pre = 'Migration pre-check error: Azure does not live-migrate a virtual machine on request (use migrate, a cold move).';
  const r24 = await ml('2.24', { host: null, block_migration: false, disk_over_commit: false });
  assert.equal(r24.body.badRequest.message, pre);
  const r25 = await ml('2.25', { host: null, block_migration: 'auto' });
  assert.equal(r25.status, 400);
  assert.equal(r25.body.badRequest.message, pre);
  const cli = await arm.stack.osc([...cliVersion('2.25'), 'server', 'migrate', '--live-migration', id]);
  assert.notEqual(cli.code, 0);
  assert.match(cli.stderr, /Migration pre-check error/);
  assert.equal((await nova(tAlice)('DELETE', `/servers/${id}`)).status, 204);
});

test('2.26: server tags — the tags API, tags in server bodies, the list filters, limits and states', async () => {
  const id = await boot('tagged');
  const other = await boot('untagged');
  const t = (mv: string, token = tAlice) => nova(token, mv);
  // Below 2.26 the API does not exist and the bodies carry no tags.
  assert.equal((await t('2.25')('GET', `/servers/${id}/tags`)).status, 404);
  assert.equal((await t('2.25')('PUT', `/servers/${id}/tags/a`)).status, 404);
  const s25 = await t('2.25')('GET', `/servers/${id}`);
  assertNovaResponse('servers', 'ServersController', 'show', '2.25', s25.body);
  assert.ok(!('tags' in s25.body.server));
  // add one: 201 with Location, again: 204; show 204 / 404.
  const add = await t('2.26')('PUT', `/servers/${id}/tags/web`);
  assert.equal(add.status, 201, add.text);
  assert.match(add.headers.get('location') ?? '', new RegExp(`/compute/v2.1/servers/${id}/tags/web$`));
  assert.equal((await t('2.26')('PUT', `/servers/${id}/tags/web`)).status, 204);
  assert.equal((await t('2.26')('GET', `/servers/${id}/tags/web`)).status, 204);
  const none = await t('2.26')('GET', `/servers/${id}/tags/db`);
  assert.equal(none.status, 404);
  assert.equal(none.body.itemNotFound.message, `Server ${id} has no tag 'db'`);
  // replace all; list.
  const all = await t('2.26')('PUT', `/servers/${id}/tags`, { tags: ['prod', 'web', 'prod', 'eu'] });
  assert.equal(all.status, 200, all.text);
  assertNovaResponse('server_tags', 'ServerTagsController', 'update_all', '2.26', all.body);
  assert.deepEqual(all.body.tags, ['eu', 'prod', 'web']);
  const idx = await t('2.26')('GET', `/servers/${id}/tags`);
  assertNovaResponse('server_tags', 'ServerTagsController', 'index', '2.26', idx.body);
  assert.deepEqual(idx.body.tags, ['eu', 'prod', 'web']);
  // tags in show, detail, update and rebuild bodies.
  const s26 = await t('2.26')('GET', `/servers/${id}`);
  assertNovaResponse('servers', 'ServersController', 'show', '2.26', s26.body);
  assert.deepEqual(s26.body.server.tags, ['eu', 'prod', 'web']);
  const d26 = await t('2.26')('GET', '/servers/detail');
  assertNovaResponse('servers', 'ServersController', 'detail', '2.26', d26.body);
  assert.deepEqual(d26.body.servers.find((x: { id: string }) => x.id === other).tags, []);
  const u26 = await t('2.26')('PUT', `/servers/${id}`, { server: { name: 'tagged' } });
  assertNovaResponse('servers', 'ServersController', 'update', '2.26', u26.body);
  assert.deepEqual(u26.body.server.tags, ['eu', 'prod', 'web']);
  const u25 = await t('2.25')('PUT', `/servers/${id}`, { server: { name: 'tagged' } });
  assertNovaResponse('servers', 'ServersController', 'update', '2.25', u25.body);
  // the list filters (comma-separated), from 2.26; ignored below it.
  // (only this test's two servers are looked at: other tests' may still be in the project)
  const ids = async (mv: string, q: string) =>
    ((await t(mv)('GET', `/servers?${q}`)).body.servers as { id: string }[])
      .map((x) => x.id)
      .filter((x) => x === id || x === other)
      .sort();
  assert.deepEqual(await ids('2.26', 'tags=web,prod'), [id]);
  assert.deepEqual(await ids('2.26', 'tags=web,db'), []);
  assert.deepEqual(await ids('2.26', 'tags-any=web,db'), [id]);
  assert.deepEqual(await ids('2.26', 'not-tags=web,db'), [id, other].sort());
  assert.deepEqual(await ids('2.26', 'not-tags=web,prod'), [other]);
  assert.deepEqual(await ids('2.26', 'not-tags-any=eu'), [other]);
  assert.deepEqual(await ids('2.25', 'tags=web'), [id, other].sort());
  const badRe = await t('2.26')('GET', '/servers?tags=(');
  assert.equal(badRe.status, 400);
  assert.equal(badRe.body.badRequest.message, "Invalid input for query parameters tags. Value: (. '(' is not a 'regex'");
  // validation and limits.
  const comma = await t('2.26')('PUT', `/servers/${id}/tags/a,b`);
  assert.equal(comma.status, 400);
  assert.equal(comma.body.badRequest.message, "Tag 'a,b' is invalid. It must be a non empty string without characters '/' and ','. Validation error message: 'a,b' does not match '^[^,/]*$'");
  const long = 'x'.repeat(61);
  assert.match((await t('2.26')('PUT', `/servers/${id}/tags/${long}`)).body.badRequest.message, /is too long$/);
  assert.equal((await t('2.26')('PUT', `/servers/${id}/tags`, { tags: ['a/b'] })).status, 400);
  assert.equal((await t('2.26')('PUT', `/servers/${id}/tags`, { tags: Array.from({ length: 51 }, (_, i) => `t${i}`) })).status, 400);
  const fifty = Array.from({ length: 50 }, (_, i) => `t${String(i).padStart(2, '0')}`);
  assert.equal((await t('2.26')('PUT', `/servers/${id}/tags`, { tags: fifty })).status, 200);
  const over = await t('2.26')('PUT', `/servers/${id}/tags/t00`);
  assert.equal(over.status, 400);
  assert.equal(over.body.badRequest.message, 'The number of tags exceeded the per-server limit 50');
  // delete one (404 when absent), delete all.
  assert.equal((await t('2.26')('DELETE', `/servers/${id}/tags/t00`)).status, 204);
  const gone = await t('2.26')('DELETE', `/servers/${id}/tags/t00`);
  assert.equal(gone.status, 404);
  assert.equal(gone.body.itemNotFound.message, `Instance ${id} has no tag 't00'`);
  assert.equal((await t('2.26')('DELETE', `/servers/${id}/tags`)).status, 204);
  assert.deepEqual((await t('2.26')('GET', `/servers/${id}/tags`)).body.tags, []);
  // another project's server: 403 (Nova's instance mapping knows no projects); an unknown id: 404.
  const foreign = await t('2.26', tBob)('GET', `/servers/${id}/tags`);
  assert.equal(foreign.status, 403);
  assert.equal(foreign.body.forbidden.message, "Policy doesn't allow os_compute_api:os-server-tags:index to be performed.");
  const unknown = await t('2.26')('GET', '/servers/00000000-0000-4000-8000-000000000000/tags');
  assert.equal(unknown.status, 404);
  assert.equal(unknown.body.itemNotFound.message, 'Instance 00000000-0000-4000-8000-000000000000 has no mapping to a cell.');
  // states: a SHUTOFF server takes tags; a SHELVED_OFFLOADED one does not (Nova's active/paused/suspended/stopped).
  assert.equal((await act(tAlice, undefined, id, { 'os-stop': null })).status, 202);
  await waitStatus(id, 'SHUTOFF');
  assert.equal((await t('2.26')('PUT', `/servers/${id}/tags/off`)).status, 201);
  assert.equal((await act(tAlice, undefined, other, { shelve: null })).status, 202);
  await waitStatus(other, 'SHELVED_OFFLOADED');
  const shelved = await t('2.26')('PUT', `/servers/${other}/tags/x`);
  assert.equal(shelved.status, 409);
  assert.equal(shelved.body.conflictingRequest.message, `Cannot 'update tag' instance ${other} while it is in vm_state shelved_offloaded`);
  assert.equal((await t('2.26')('PUT', `/servers/${other}/tags`, { tags: [] })).body.conflictingRequest.message, `Cannot 'update tags' instance ${other} while it is in vm_state shelved_offloaded`);
  assert.equal((await t('2.26')('DELETE', `/servers/${other}/tags`)).status, 409);
  assert.deepEqual((await t('2.26')('GET', `/servers/${other}/tags`)).body.tags, [], 'reading is allowed in any state');
  // rebuild carries tags from 2.26.
  assert.equal((await act(tAlice, undefined, id, { 'os-start': null })).status, 202);
  await waitStatus(id, 'ACTIVE');
  const rb = await act(tAlice, '2.26', id, { rebuild: { imageRef: image } });
  assert.equal(rb.status, 202, rb.text);
  assertNovaResponse('servers', 'ServersController', '_rebuild', '2.26', rb.body);
  assert.deepEqual(rb.body.server.tags, ['off']);
  await waitStatus(id, 'ACTIVE');
  // a deleted server's tags: 404 "could not be found".
  assert.equal((await nova(tAlice)('DELETE', `/servers/${other}`)).status, 204);
  await waitFor(`server ${other} gone`, async () => ((await nova(tAlice)('GET', `/servers/${other}`)).status === 404 ? true : undefined), 120000);
  const del = await t('2.26')('GET', `/servers/${other}/tags`);
  assert.equal(del.status, 404);
  assert.equal(del.body.itemNotFound.message, `Instance ${other} could not be found.`);
  assert.equal((await nova(tAlice)('DELETE', `/servers/${id}`)).status, 204);
});

test('2.26 through the CLI: openstack server set --tag, server unset --tag, server list --tag, server show', async () => {
  const id = await boot('cli-tags');
  const other = await boot('cli-untagged');
  await arm.stack.oscOk([...cliVersion('2.26'), 'server', 'set', '--tag', 't1', '--tag', 't2', id], alice);
  const shown = await arm.stack.oscJson<{ tags: string[] | string }>([...cliVersion('2.26'), 'server', 'show', id], alice);
  const tagsOf = (v: string[] | string) => (Array.isArray(v) ? v : v.split(/,\s*/).map((x) => x.replace(/^'|'$/g, '')));
  assert.deepEqual(tagsOf(shown.tags), ['t1', 't2']);
  const listed = await arm.stack.oscJson<{ ID: string }[]>([...cliVersion('2.26'), 'server', 'list', '--tag', 't1'], alice);
  assert.deepEqual(
    listed.map((x) => x.ID),
    [id],
  );
  const notListed = await arm.stack.oscJson<{ ID: string }[]>([...cliVersion('2.26'), 'server', 'list', '--not-tag', 't1'], alice);
  assert.ok(notListed.some((x) => x.ID === other) && !notListed.some((x) => x.ID === id), JSON.stringify(notListed));
  await arm.stack.oscOk([...cliVersion('2.26'), 'server', 'unset', '--tag', 't1', id], alice);
  const after = await arm.stack.oscJson<{ tags: string[] | string }>([...cliVersion('2.26'), 'server', 'show', id], alice);
  assert.deepEqual(tagsOf(after.tags), ['t2']);
  // The CLI's default negotiation reaches 2.26 too: tags show without naming a version.
  const negotiated = await arm.stack.oscJson<{ tags: string[] | string }>(['server', 'show', id], alice);
  assert.deepEqual(tagsOf(negotiated.tags), ['t2']);
  for (const x of [id, other]) await arm.stack.oscOk(['server', 'delete', '--wait', x], alice);
});
