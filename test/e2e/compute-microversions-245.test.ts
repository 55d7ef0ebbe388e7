// Compute microversions 2.45-2.47 (docs/microversions.md): createImage/createBackup answer the image id
// in the body (2.45), the request id header (2.46, signaling only), the flavor embedded in server views
// (2.47) — each at the version before and at it, bodies checked against Nova's response schemas.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startArmStack, waitFor, type ArmStack } from '../support/armStack';
import { assertNovaResponse } from '../support/oracle';
import { oneUser, imageId, networkId } from '../support/fixtures';

let arm: ArmStack;
let tAlice: string;
let tAdmin: string;
let server: string;

/** A Nova call at microversion `mv`. */
const nova = (token: string, mv: string) => (method: string, p: string, body?: unknown) =>
  arm.stack.http(method, `/compute/v2.1${p}`, { token, body, headers: { 'OpenStack-API-Version': `compute ${mv}` } });
const settled = (id: string) =>
  waitFor(`server ${id} settled`, async () => {
    const s = (await nova(tAlice, '2.44')('GET', `/servers/${id}`)).body?.server;
    return s?.status === 'ACTIVE' && s['OS-EXT-STS:task_state'] === null ? s : undefined;
  });

before(async () => {
  arm = await startArmStack({ asyncDelayMs: 0 });
  const u = await oneUser(arm.stack, 'mv245-a', 'mv245alice');
  tAlice = u.token;
  tAdmin = u.tAdmin;
  const r = await nova(tAlice, '2.44')('POST', '/servers', {
    server: { name: 'mv245', flavorRef: '3', imageRef: await imageId(arm.stack, tAlice), networks: [{ uuid: await networkId(arm.stack, tAlice) }] },
  });
  assert.equal(r.status, 202, r.text);
  server = r.body.server.id;
  await settled(server);
});
after(() => arm?.stop());

test('2.45: createImage and createBackup answer {"image_id"} without Location; before it, Location and no body', async () => {
  const old = await nova(tAlice, '2.44')('POST', `/servers/${server}/action`, { createImage: { name: 'snap-244' } });
  assert.equal(old.status, 202, old.text);
  assert.equal(old.text, '');
  assert.match(old.headers.get('location') ?? '', /\/images\/[0-9a-f-]{36}$/);
  await settled(server);
  const now = await nova(tAlice, '2.45')('POST', `/servers/${server}/action`, { createImage: { name: 'snap-245' } });
  assert.equal(now.status, 202, now.text);
  assert.equal(now.headers.get('location'), null);
  assertNovaResponse('servers', 'ServersController', '_create_image', '2.45', now.body);
  const img = await arm.stack.http('GET', `/image/v2/images/${now.body.image_id}`, { token: tAlice });
  assert.equal(img.status, 200);
  assert.equal(img.body.name, 'snap-245');
  await settled(server);
  // createBackup: before 2.45 no Location at rotation 0; from 2.45 the id whatever the rotation
  const bOld = await nova(tAlice, '2.44')('POST', `/servers/${server}/action`, { createBackup: { name: 'bak-244', backup_type: 'daily', rotation: 0 } });
  assert.equal(bOld.status, 202, bOld.text);
  assert.equal(bOld.headers.get('location'), null);
  assert.equal(bOld.text, '');
  await settled(server);
  const bNow = await nova(tAlice, '2.45')('POST', `/servers/${server}/action`, { createBackup: { name: 'bak-245', backup_type: 'daily', rotation: 0 } });
  assert.equal(bNow.status, 202, bNow.text);
  assertNovaResponse('create_backup', 'CreateBackupController', '_create_backup', '2.45', bNow.body);
  assert.match(bNow.body.image_id, /^[0-9a-f-]{36}$/);
  await settled(server);
});

test('2.46: X-OpenStack-Request-ID beside X-Compute-Request-ID, the same id (at every version)', async () => {
  for (const mv of ['2.45', '2.46']) {
    const r = await nova(tAlice, mv)('GET', `/servers/${server}`);
    assert.match(r.headers.get('x-openstack-request-id') ?? '', /^req-/);
    assert.equal(r.headers.get('x-openstack-request-id'), r.headers.get('x-compute-request-id'));
  }
});

test('2.47: the server shows its flavor (extra_specs for those who may list them), not the flavor id and link', async () => {
  const old = (await nova(tAlice, '2.46')('GET', `/servers/${server}`)).body.server;
  assert.equal(old.flavor.id, '3');
  assertNovaResponse('servers', 'ServersController', 'show', '2.46', { server: old });
  const flavor = (await nova(tAlice, '2.46')('GET', '/flavors/3')).body.flavor;
  const specs = (await nova(tAdmin, '2.46')('GET', '/flavors/3/os-extra_specs')).body.extra_specs;
  const show = (await nova(tAlice, '2.47')('GET', `/servers/${server}`)).body.server;
  assertNovaResponse('servers', 'ServersController', 'show', '2.47', { server: show });
  assert.deepEqual(show.flavor, {
    vcpus: flavor.vcpus,
    ram: flavor.ram,
    disk: flavor.disk,
    ephemeral: flavor['OS-FLV-EXT-DATA:ephemeral'],
    swap: flavor.swap === '' ? 0 : flavor.swap,
    original_name: flavor.name,
    extra_specs: specs,
  });
  const detail = (await nova(tAlice, '2.47')('GET', '/servers/detail')).body;
  assertNovaResponse('servers', 'ServersController', 'detail', '2.47', detail);
  assert.deepEqual(detail.servers[0].flavor, show.flavor);
  const upd = await nova(tAlice, '2.47')('PUT', `/servers/${server}`, { server: { name: 'mv247' } });
  assert.equal(upd.status, 200, upd.text);
  assertNovaResponse('servers', 'ServersController', 'update', '2.47', upd.body);
  assert.equal(upd.body.server.flavor.original_name, flavor.name);
  // A record written before the server kept its flavor's extra specs shows the flavor's.
  const s = arm.stack.cloud.services;
  const { getServerAny, updateServer } = await import('../../shared/compute/servers/model');
  const cur = (await getServerAny(s, server))!;
  await updateServer(s, cur, (v) => ({ ...v, flavor: { ...v.flavor, extra_specs: undefined } }));
  assert.deepEqual((await nova(tAlice, '2.47')('GET', `/servers/${server}`)).body.server.flavor.extra_specs, specs);
  const reb = await nova(tAlice, '2.47')('POST', `/servers/${server}/action`, { rebuild: { imageRef: await imageId(arm.stack, tAlice) } });
  assert.equal(reb.status, 202, reb.text);
  assertNovaResponse('servers', 'ServersController', '_rebuild', '2.47', reb.body);
  assert.deepEqual(reb.body.server.flavor.extra_specs, specs);
});
