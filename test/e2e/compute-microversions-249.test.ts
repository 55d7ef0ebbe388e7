// Compute microversions from 2.49 (docs/microversions.md): each version's APIs at the version before and
// at it, bodies checked against Nova's response schema for that version (test/support/oracle.ts),
// refusals against Nova's status and words; and the real `openstack` CLI where it drives the feature.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { startArmStack, waitFor, type ArmStack } from '../support/armStack';
import { assertNovaResponse } from '../support/oracle';
import { oneUser, imageId, networkId, type ProjectUser } from '../support/fixtures';

let arm: ArmStack;
let alice: ProjectUser;
let tAlice: string;
let tAdmin: string;
let image: string;
let net: string;
let server: string;

/** A Nova call at microversion `mv`. */
const nova = (token: string, mv: string) => (method: string, p: string, body?: unknown) =>
  arm.stack.http(method, `/compute/v2.1${p}`, { token, body, headers: { 'OpenStack-API-Version': `compute ${mv}` } });
const cinder = (method: string, p: string, body?: unknown) => arm.stack.http(method, `/volume/v3/${alice.projectId}${p}`, { token: tAlice, body });
const msg = (body: unknown) => Object.values(body as Record<string, { message: string }>)[0].message;
const cliVersion = (mv: string) => ['--os-compute-api-version', mv];
const settled = (id: string) =>
  waitFor(
    `server ${id} settled`,
    async () => {
      const s = (await nova(tAlice, '2.48')('GET', `/servers/${id}`)).body?.server;
      return ['ACTIVE', 'SHELVED_OFFLOADED'].includes(s?.status) && s['OS-EXT-STS:task_state'] === null ? s : undefined;
    },
    120000,
  );
const volumeStatus = (id: string, want: string) =>
  waitFor(`volume ${id} ${want}`, async () => {
    const r = await cinder('GET', `/volumes/${id}`);
    return r.body?.volume?.status === want ? r.body.volume : undefined;
  });
async function boot(name: string): Promise<string> {
  const r = await nova(tAlice, '2.48')('POST', '/servers', { server: { name, flavorRef: '3', imageRef: image, networks: [{ uuid: net }] } });
  assert.equal(r.status, 202, r.text);
  await settled(r.body.server.id);
  return r.body.server.id;
}

before(async () => {
  arm = await startArmStack({ asyncDelayMs: 0 });
  const u = await oneUser(arm.stack, 'mv249-a', 'mv249alice');
  alice = u.user;
  tAlice = u.token;
  tAdmin = u.tAdmin;
  [image, net] = await Promise.all([imageId(arm.stack, tAlice), networkId(arm.stack, tAlice)]);
  server = await boot('mv249');
});
after(() => arm?.stop());

test('2.49: a volume attach takes `tag` (400 below); Azure has no tagged attach, so Nova answers 400 VolumeTaggedAttachNotSupported and nothing changes', async () => {
  const vol = await cinder('POST', '/volumes', { volume: { size: 1, name: 'mv249-data' } });
  assert.equal(vol.status, 202, vol.text);
  const volId = vol.body.volume.id as string;
  await volumeStatus(volId, 'available');
  const attach = (mv: string, extra: object) => nova(tAlice, mv)('POST', `/servers/${server}/os-volume_attachments`, { volumeAttachment: { volumeId: volId, ...extra } });
  const below = await attach('2.48', { tag: 'data' });
  assert.equal(below.status, 400);
  assert.match(msg(below.body), /Additional properties are not allowed \('tag' was unexpected\)/);
  // the tag's own rules (create_v249): 1-60 characters, no '/' or ','
  for (const bad of ['', 'a/b', 'a,b', 'x'.repeat(61)]) assert.equal((await attach('2.49', { tag: bad })).status, 400, bad);
  // an unknown volume is still 404 before the tag (the compute API reads the volume first)
  const unknown = await nova(tAlice, '2.49')('POST', `/servers/${server}/os-volume_attachments`, { volumeAttachment: { volumeId: randomUUID(), tag: 'data' } });
  assert.equal(unknown.status, 404);
  const tagged = await attach('2.49', { tag: 'data' });
  assert.equal(tagged.status, 400, tagged.text);
  assert.deepEqual(tagged.body, { badRequest: { code: 400, message: 'Tagged volume attachment is not supported for this server instance.' } });
  assert.equal((await cinder('GET', `/volumes/${volId}`)).body.volume.status, 'available');
  assert.deepEqual((await nova(tAlice, '2.49')('GET', `/servers/${server}/os-volume_attachments`)).body.volumeAttachments, []);
  // without a tag 2.49 attaches as before
  const plain = await attach('2.49', {});
  assert.equal(plain.status, 200, plain.text);
  assertNovaResponse('volume_attachments', 'VolumeAttachmentController', 'create', '2.49', plain.body);
  await volumeStatus(volId, 'in-use');
  await settled(server);
  // the CLI: --tag needs 2.49 and gets Nova's 400
  const vol2 = await cinder('POST', '/volumes', { volume: { size: 1, name: 'mv249-data2' } });
  await volumeStatus(vol2.body.volume.id, 'available');
  const cli = await arm.stack.osc([...cliVersion('2.49'), 'server', 'add', 'volume', '--tag', 'data', server, vol2.body.volume.id], alice);
  assert.notEqual(cli.code, 0);
  assert.match(cli.stderr, /400: .*Tagged volume attachment is not supported for this server instance\./);
  assert.equal((await cinder('GET', `/volumes/${vol2.body.volume.id}`)).body.volume.status, 'available');
  // detach, so the server is free for the next tests
  assert.equal((await nova(tAlice, '2.49')('DELETE', `/servers/${server}/os-volume_attachments/${volId}`)).status, 202);
  await volumeStatus(volId, 'available');
});

test('2.49: a shelved offloaded server refuses a tagged volume attach with its own words', async () => {
  const id = await boot('mv249-shelved');
  assert.equal((await nova(tAlice, '2.49')('POST', `/servers/${id}/action`, { shelve: null })).status, 202);
  await waitFor('shelved offloaded', async () => ((await nova(tAlice, '2.49')('GET', `/servers/${id}`)).body.server.status === 'SHELVED_OFFLOADED' ? true : undefined), 120000);
  const vol = await cinder('POST', '/volumes', { volume: { size: 1, name: 'mv249-shelved' } });
  await volumeStatus(vol.body.volume.id, 'available');
  const r = await nova(tAlice, '2.49')('POST', `/servers/${id}/os-volume_attachments`, { volumeAttachment: { volumeId: vol.body.volume.id, tag: 'x' } });
  assert.equal(r.status, 400, r.text);
  assert.equal(msg(r.body), 'Tagged volume attachment is not supported for shelved-offloaded instances.');
  assert.equal((await cinder('GET', `/volumes/${vol.body.volume.id}`)).body.volume.status, 'available');
});

test('2.49: an interface attach takes `tag` (400 below); Nova answers 400 NetworkInterfaceTaggedAttachNotSupported, its action attach_interface in Error', async () => {
  const attach = (mv: string, body: object) => nova(tAlice, mv)('POST', `/servers/${server}/os-interface`, { interfaceAttachment: body });
  const below = await attach('2.48', { net_id: net, tag: 'nic' });
  assert.equal(below.status, 400);
  assert.match(msg(below.body), /Additional properties are not allowed \('tag' was unexpected\)/);
  for (const bad of ['', 'a/b', 'a,b', 'x'.repeat(61)]) assert.equal((await attach('2.49', { net_id: net, tag: bad })).status, 400, bad);
  // the port is looked up before the compute host refuses the tag
  const missing = randomUUID();
  const unknown = await attach('2.49', { port_id: missing, tag: 'nic' });
  assert.equal(unknown.status, 404);
  assert.equal(msg(unknown.body), `Port id ${missing} could not be found.`);
  const tagged = await attach('2.49', { net_id: net, tag: 'nic' });
  assert.equal(tagged.status, 400, tagged.text);
  assert.deepEqual(tagged.body, { badRequest: { code: 400, message: 'Tagged network interface attachment is not supported for this server instance.' } });
  const reqId = tagged.headers.get('x-openstack-request-id')!;
  const action = await nova(tAlice, '2.49')('GET', `/servers/${server}/os-instance-actions/${reqId}`);
  assert.equal(action.status, 200, action.text);
  assert.equal(action.body.instanceAction.action, 'attach_interface');
  assert.equal(action.body.instanceAction.message, 'Error');
  const asAdmin = await nova(tAdmin, '2.49')('GET', `/servers/${server}/os-instance-actions/${reqId}`);
  assert.deepEqual(
    asAdmin.body.instanceAction.events.map((e: { event: string; result: string }) => [e.event, e.result]),
    [['compute_attach_interface', 'Error']],
  );
  const s = await settled(server);
  assert.equal(s.status, 'ACTIVE');
  assert.deepEqual(Object.keys(s.addresses), ['private']);
  assert.equal((await nova(tAlice, '2.49')('GET', `/servers/${server}/os-interface`)).body.interfaceAttachments.length, 1);
  // the CLI: server add network --tag at 2.49 gets the same 400
  const cli = await arm.stack.osc([...cliVersion('2.49'), 'server', 'add', 'network', '--tag', 'nic', server, net], alice);
  assert.notEqual(cli.code, 0);
  assert.match(cli.stderr, /400: .*Tagged network interface attachment is not supported for this server instance\./);
});

test('2.50: os-quota-class-sets show and update server_groups / server_group_members and leave out the network quotas (refused in the body)', async () => {
  const below = await nova(tAdmin, '2.49')('GET', '/os-quota-class-sets/default');
  assert.equal(below.status, 200, below.text);
  assertNovaResponse('quota_classes', 'QuotaClassSetsController', 'show', '2.49', below.body);
  assert.ok('floating_ips' in below.body.quota_class_set && !('server_groups' in below.body.quota_class_set));
  const at = await nova(tAdmin, '2.50')('GET', '/os-quota-class-sets/default');
  assert.equal(at.status, 200, at.text);
  assertNovaResponse('quota_classes', 'QuotaClassSetsController', 'show', '2.50', at.body);
  for (const k of ['fixed_ips', 'floating_ips', 'security_groups', 'security_group_rules']) assert.ok(!(k in at.body.quota_class_set), k);
  assert.equal(at.body.quota_class_set.id, 'default');
  // update: the network quotas are refused from 2.50 (update_v250), taken below it
  const refused = await nova(tAdmin, '2.50')('PUT', '/os-quota-class-sets/mv250', { quota_class_set: { floating_ips: 5 } });
  assert.equal(refused.status, 400);
  assert.match(msg(refused.body), /Additional properties are not allowed \('floating_ips' was unexpected\)/);
  const old = await nova(tAdmin, '2.49')('PUT', '/os-quota-class-sets/mv250', { quota_class_set: { floating_ips: 5, server_groups: 7 } });
  assert.equal(old.status, 200, old.text);
  assertNovaResponse('quota_classes', 'QuotaClassSetsController', 'update', '2.49', old.body);
  assert.equal(old.body.quota_class_set.floating_ips, 5);
  assert.ok(!('server_groups' in old.body.quota_class_set));
  const upd = await nova(tAdmin, '2.50')('PUT', '/os-quota-class-sets/mv250', { quota_class_set: { server_group_members: '9' } });
  assert.equal(upd.status, 200, upd.text);
  assertNovaResponse('quota_classes', 'QuotaClassSetsController', 'update', '2.50', upd.body);
  assert.equal(upd.body.quota_class_set.server_groups, 7);
  assert.equal(upd.body.quota_class_set.server_group_members, 9);
  assert.ok(!('id' in upd.body.quota_class_set) && !('floating_ips' in upd.body.quota_class_set));
  // the CLI sets a class's server group quota at 2.50
  await arm.stack.oscOk([...cliVersion('2.50'), 'quota', 'set', '--class', '--server-groups', '8', 'mv250']);
  assert.equal((await nova(tAdmin, '2.50')('GET', '/os-quota-class-sets/mv250')).body.quota_class_set.server_groups, 8);
});

test('2.51: volume-extended external events (400 below), and instance action events shown to non-admins without the traceback', async () => {
  const ev = (mv: string, events: object[]) => nova(tAdmin, mv)('POST', '/os-server-external-events', { events });
  const tag = randomUUID();
  const below = await ev('2.50', [{ name: 'volume-extended', server_uuid: server, tag }]);
  assert.equal(below.status, 400);
  assert.match(msg(below.body), /'volume-extended' is not one of/);
  const at = await ev('2.51', [
    { name: 'volume-extended', server_uuid: server, tag },
    { name: 'volume-extended', server_uuid: server },
  ]);
  assert.equal(at.status, 207, at.text);
  assertNovaResponse('server_external_events', 'ServerExternalEventsController', 'create', '2.51', at.body);
  assert.deepEqual(
    at.body.events.map((e: { code: number; status: string }) => [e.code, e.status]),
    [
      [200, 'completed'],
      [400, 'failed'],
    ],
  );
  const reqId = at.headers.get('x-openstack-request-id')!;
  // the action extend_volume, its compute event Success; a member sees the events only from 2.51
  const old = await nova(tAlice, '2.50')('GET', `/servers/${server}/os-instance-actions/${reqId}`);
  assert.equal(old.status, 200, old.text);
  assertNovaResponse('instance_actions', 'InstanceActionsController', 'show', '2.50', old.body);
  assert.equal(old.body.instanceAction.action, 'extend_volume');
  assert.ok(!('events' in old.body.instanceAction));
  const now = await nova(tAlice, '2.51')('GET', `/servers/${server}/os-instance-actions/${reqId}`);
  assertNovaResponse('instance_actions', 'InstanceActionsController', 'show', '2.51', now.body);
  assert.equal(now.body.instanceAction.events.length, 1);
  assert.deepEqual(Object.keys(now.body.instanceAction.events[0]).sort(), ['event', 'finish_time', 'result', 'start_time']);
  assert.equal(now.body.instanceAction.events[0].event, 'compute_extend_volume');
  assert.equal(now.body.instanceAction.events[0].result, 'Success');
  // an admin sees the traceback at every version
  for (const mv of ['2.50', '2.51']) {
    const a = await nova(tAdmin, mv)('GET', `/servers/${server}/os-instance-actions/${reqId}`);
    assertNovaResponse('instance_actions', 'InstanceActionsController', 'show', mv, a.body);
    assert.equal(a.body.instanceAction.events[0].traceback, null);
  }
  // a failed event's traceback stays hidden from the member (the tagged attach of 2.49 left one)
  const failed = (await nova(tAlice, '2.51')('GET', `/servers/${server}/os-instance-actions`)).body.instanceActions.find((x: { action: string }) => x.action === 'attach_interface');
  const shown = await nova(tAlice, '2.51')('GET', `/servers/${server}/os-instance-actions/${failed.request_id}`);
  assert.deepEqual(
    shown.body.instanceAction.events.map((e: { event: string; result: string; traceback?: string }) => [e.event, e.result, e.traceback]),
    [['compute_attach_interface', 'Error', undefined]],
  );
  // the CLI, as the member
  const cli = await arm.stack.oscJson<{ events: { event: string }[] }>([...cliVersion('2.51'), 'server', 'event', 'show', server, reqId], alice);
  assert.deepEqual(
    cli.events.map((e) => e.event),
    ['compute_extend_volume'],
  );
});

test('2.52: server create takes `tags` (400 below; at most 50, each a valid tag); the server shows them from its first read; the CLI too', async () => {
  const create = (mv: string, extra: object) => nova(tAlice, mv)('POST', '/servers', { server: { name: 'mv252', flavorRef: '3', imageRef: image, networks: [{ uuid: net }], ...extra } });
  const below = await create('2.51', { tags: ['a'] });
  assert.equal(below.status, 400);
  assert.match(msg(below.body), /Additional properties are not allowed \('tags' was unexpected\)/);
  for (const tags of [Array.from({ length: 51 }, (_, i) => `t${i}`), [''], ['a/b'], ['a,b'], ['x'.repeat(61)], 'a']) {
    assert.equal((await create('2.52', { tags })).status, 400, JSON.stringify(tags));
  }
  const r = await create('2.52', { tags: ['web', 'db', 'web'] });
  assert.equal(r.status, 202, r.text);
  assertNovaResponse('servers', 'ServersController', 'create', '2.52', r.body);
  const id = r.body.server.id as string;
  const first = await nova(tAlice, '2.52')('GET', `/servers/${id}`);
  assertNovaResponse('servers', 'ServersController', 'show', '2.52', first.body);
  assert.deepEqual(first.body.server.tags, ['db', 'web']);
  await settled(id);
  assert.deepEqual((await nova(tAlice, '2.52')('GET', `/servers/${id}/tags`)).body, { tags: ['db', 'web'] });
  const listed = await nova(tAlice, '2.52')('GET', '/servers?tags=db');
  assert.deepEqual(
    listed.body.servers.map((x: { id: string }) => x.id),
    [id],
  );
  // 50 tags are taken
  const fifty = await create('2.52', { name: 'mv252-50', tags: Array.from({ length: 50 }, (_, i) => `t${i}`) });
  assert.equal(fifty.status, 202, fifty.text);
  assert.equal((await nova(tAlice, '2.52')('GET', `/servers/${fifty.body.server.id}`)).body.server.tags.length, 50);
  // the CLI: server create --tag needs 2.52
  const cli = await arm.stack.oscJson<{ id: string }>(
    [...cliVersion('2.52'), 'server', 'create', '--flavor', '3', '--image', image, '--network', net, '--tag', 'cli', '--tag', 'blue', 'mv252-cli'],
    alice,
  );
  assert.deepEqual((await nova(tAlice, '2.52')('GET', `/servers/${cli.id}`)).body.server.tags, ['blue', 'cli']);
  for (const x of [id, fifty.body.server.id, cli.id]) {
    await settled(x);
    assert.equal((await nova(tAlice, '2.52')('DELETE', `/servers/${x}`)).status, 204);
  }
});
