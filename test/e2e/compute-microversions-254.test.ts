// Compute microversions 2.54 to 2.57 (docs/microversions.md): rebuild's key_name (2.54), flavor
// descriptions and PUT /flavors/{id} (2.55), migrate's host (2.56), rebuild's user_data and the end of
// personality files (2.57). Each API at the version before and at it, bodies checked against Nova's
// response schema for that version (test/support/oracle.ts), refusals against Nova's status and words,
// what Azure was asked checked in the ARM emulator, and the real `openstack` CLI where it has the option.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startArmStack, waitFor, type ArmStack } from '../support/armStack';
import { assertNovaResponse } from '../support/oracle';
import { novaAt, cliVersion, refused } from '../support/nova';
import { oneUser, imageId, networkId, type ProjectUser } from '../support/fixtures';

let arm: ArmStack;
let alice: ProjectUser;
let tAlice: string;
let tAdmin: string;
let projectId: string;
let image: string;
let debian: string;
let net: string;
let server: string;

const RG = 'ops_resource_group';
const nova = novaAt(() => arm.stack);
const settled = (id: string, status = 'ACTIVE') =>
  waitFor(
    `server ${id} ${status}`,
    async () => {
      const v = (await nova(tAdmin, '2.57')('GET', `/servers/${id}`)).body?.server;
      return v?.status === status && v['OS-EXT-STS:task_state'] === null ? v : undefined;
    },
    120000,
  );
/** The emulator's record of the server's VM (its guest users and custom data). */
const vmOf = async (id: string) => arm.control.getResource((await arm.compute.virtualMachines.get(RG, id)).id!);

before(async () => {
  // A second Linux image (the emulator offers Debian 12), so a rebuild can also take the swap path.
  const images = [
    {
      id: '6b1f0c3e-2b7a-5c1e-9d2f-0a1b2c3d4e01',
      name: 'ubuntu-22.04',
      publisher: 'Canonical',
      offer: '0001-com-ubuntu-server-jammy',
      sku: '22_04-lts-gen2',
      version: 'latest',
      os_type: 'linux',
      min_disk: 30,
    },
    { id: '6b1f0c3e-2b7a-5c1e-9d2f-0a1b2c3d4e02', name: 'debian-12', publisher: 'Debian', offer: 'debian-12', sku: '12-gen2', version: 'latest', os_type: 'linux', min_disk: 30 },
  ];
  arm = await startArmStack({ asyncDelayMs: 0, settings: { JACKET_CATALOG: JSON.stringify({ images }) } });
  const u = await oneUser(arm.stack, 'mv254-a', 'mv254alice');
  alice = u.user;
  tAlice = u.token;
  tAdmin = u.tAdmin;
  projectId = u.user.projectId;
  [image, debian, net] = await Promise.all([imageId(arm.stack, tAlice), imageId(arm.stack, tAlice, 'debian-12'), networkId(arm.stack, tAlice)]);
  const r = await nova(tAlice, '2.53')('POST', '/servers', { server: { name: 'mv254', flavorRef: '3', imageRef: image, networks: [{ uuid: net }] } });
  assert.equal(r.status, 202, r.text);
  server = r.body.server.id;
  await settled(server);
});
after(() => arm?.stop());

test("2.54: rebuild takes key_name (the caller's key pair, or null) and answers it; VMAccess adds the key on Azure", async () => {
  const kp = await nova(tAlice, '2.54')('POST', '/os-keypairs', { keypair: { name: 'k254' } });
  assert.equal(kp.status, 201);
  const publicKey = (kp.body.keypair.public_key as string).trim();

  // 2.53: no key_name in the schema, and none in the answer.
  await refused(
    nova(tAlice, '2.53')('POST', `/servers/${server}/action`, { rebuild: { imageRef: image, key_name: 'k254' } }),
    400,
    /Additional properties are not allowed \('key_name' was unexpected\)/,
  );
  // 2.54: an unknown key pair is refused before anything changes; a bad name by the schema.
  await refused(nova(tAlice, '2.54')('POST', `/servers/${server}/action`, { rebuild: { imageRef: image, key_name: 'nope' } }), 400, 'Invalid key_name provided.');
  await refused(nova(tAlice, '2.54')('POST', `/servers/${server}/action`, { rebuild: { imageRef: image, key_name: '' } }), 400, /Invalid input for field\/attribute key_name/);
  assert.equal((await nova(tAlice, '2.54')('GET', `/servers/${server}`)).body.server.status, 'ACTIVE');

  const r = await nova(tAlice, '2.54')('POST', `/servers/${server}/action`, { rebuild: { imageRef: image, key_name: 'k254' } });
  assert.equal(r.status, 202, r.text);
  assertNovaResponse('servers', 'ServersController', '_rebuild', '2.54', r.body);
  assert.equal(r.body.server.key_name, 'k254');
  assert.ok(!('user_data' in r.body.server), 'user_data joins the answer at 2.57');
  const v = await settled(server);
  assert.equal(v.key_name, 'k254');
  // The same image: Azure's reimage, then VMAccess adds the key (reimage provisions the create-time keys only).
  const vm = await vmOf(server);
  assert.ok(vm.guestUsers.azureuser.sshKeys.includes(publicKey), JSON.stringify(vm.guestUsers));

  // null removes the key pair from the server.
  const none = await nova(tAlice, '2.54')('POST', `/servers/${server}/action`, { rebuild: { imageRef: image, key_name: null } });
  assert.equal(none.status, 202, none.text);
  assert.equal(none.body.server.key_name, null);
  assert.equal((await settled(server)).key_name, null);

  // The CLI at 2.54.
  await arm.stack.oscOk([...cliVersion('2.54'), 'server', 'rebuild', '--image', 'ubuntu-22.04', '--key-name', 'k254', '--wait', server], alice);
  assert.equal((await settled(server)).key_name, 'k254');
});

test('2.55: flavors carry a description; PUT /flavors/{id} changes it (admin)', async () => {
  // 2.54: no description in create; PUT is not a route.
  await refused(nova(tAdmin, '2.54')('POST', '/flavors', { flavor: { name: 'd54', ram: 512, vcpus: 1, disk: 1, description: 'x' } }), 400, /Additional properties are not allowed/);
  const put54 = await nova(tAdmin, '2.54')('PUT', '/flavors/1', { flavor: { description: 'x' } });
  assert.equal(put54.status, 404, put54.text);

  const c = await nova(tAdmin, '2.55')('POST', '/flavors', { flavor: { name: 'd55', id: 'd55', ram: 512, vcpus: 1, disk: 1, description: 'small and described' } });
  assert.equal(c.status, 200, c.text);
  assertNovaResponse('flavors', 'FlavorsController', 'create', '2.55', c.body);
  assert.equal(c.body.flavor.description, 'small and described');
  const show = await nova(tAlice, '2.55')('GET', '/flavors/d55');
  assertNovaResponse('flavors', 'FlavorsController', 'show', '2.55', show.body);
  assert.equal(show.body.flavor.description, 'small and described');
  const list = await nova(tAlice, '2.55')('GET', '/flavors');
  assertNovaResponse('flavors', 'FlavorsController', 'index', '2.55', list.body);
  assert.equal(list.body.flavors.find((f: { id: string }) => f.id === 'd55').description, 'small and described');
  const detail = await nova(tAlice, '2.55')('GET', '/flavors/detail');
  assertNovaResponse('flavors', 'FlavorsController', 'detail', '2.55', detail.body);
  assert.equal(detail.body.flavors.find((f: { id: string }) => f.id === '1').description, null);
  // Not below 2.55.
  assert.ok(!('description' in (await nova(tAlice, '2.54')('GET', '/flavors/d55')).body.flavor));

  // Update: the schema (description required, printable), the policy, the flavor, then 200 with the flavor.
  await refused(nova(tAdmin, '2.55')('PUT', '/flavors/d55', { flavor: {} }), 400, /'description' is a required property/);
  await refused(nova(tAdmin, '2.55')('PUT', '/flavors/d55', { flavor: { description: 'x', name: 'y' } }), 400, /Additional properties are not allowed/);
  await refused(nova(tAdmin, '2.55')('PUT', '/flavors/d55', { flavor: { description: 'bell\u0007' } }), 400, /Invalid input for field\/attribute description/);
  await refused(nova(tAlice, '2.55')('PUT', '/flavors/d55', { flavor: { description: 'mine' } }), 403, "Policy doesn't allow os_compute_api:os-flavor-manage:update to be performed.");
  await refused(nova(tAdmin, '2.55')('PUT', '/flavors/nope', { flavor: { description: 'x' } }), 404, 'Flavor nope could not be found.');
  const u55 = await nova(tAdmin, '2.55')('PUT', '/flavors/d55', { flavor: { description: 'changed' } });
  assert.equal(u55.status, 200, u55.text);
  assertNovaResponse('flavors', 'FlavorsController', 'update', '2.55', u55.body);
  assert.equal(u55.body.flavor.description, 'changed');
  const cleared = await nova(tAdmin, '2.55')('PUT', '/flavors/d55', { flavor: { description: null } });
  assert.equal(cleared.body.flavor.description, null);

  // The CLI at 2.55: create with a description, set it.
  await arm.stack.oscOk([...cliVersion('2.55'), 'flavor', 'create', '--ram', '512', '--vcpus', '1', '--disk', '1', '--id', 'dcli', '--description', 'from the cli', 'dcli']);
  await arm.stack.oscOk([...cliVersion('2.55'), 'flavor', 'set', '--description', 'set by the cli', 'dcli']);
  const shown = await arm.stack.oscJson<Record<string, unknown>>([...cliVersion('2.55'), 'flavor', 'show', 'dcli']);
  assert.equal(shown.description, 'set by the cli');
});

test("2.56: migrate takes a host (admin); Jacket's one host is the server's own, so Nova's 400s", async () => {
  const host = (await nova(tAdmin, '2.57')('GET', `/servers/${server}`)).body.server['OS-EXT-SRV-ATTR:host'];
  assert.ok(host);
  const action = (mv: string, body: unknown) => nova(tAdmin, mv)('POST', `/servers/${server}/action`, body);
  // 2.56's schema.
  await refused(action('2.56', { migrate: { host: 'bad host!' } }), 400, /Invalid input for field\/attribute host/);
  await refused(action('2.56', { migrate: { host: host, other: 1 } }), 400, /Additional properties are not allowed/);
  await refused(action('2.56', { migrate: { host: '' } }), 400, /Invalid input for field\/attribute host/);
  // The server's own host, then a host that does not exist.
  await refused(action('2.56', { migrate: { host } }), 400, 'Cannot migrate to the host where the server exists.');
  await refused(action('2.56', { migrate: { host: 'elsewhere' } }), 400, 'Compute host elsewhere could not be found.');
  // A member: the migrate policy itself (project manager or admin).
  await refused(nova(tAlice, '2.56')('POST', `/servers/${server}/action`, { migrate: { host: 'elsewhere' } }), 403, /Policy doesn't allow os_compute_api:os-migrate-server:migrate/);
  // Nothing happened: no migration record.
  const migs = await nova(tAdmin, '2.56')('GET', `/servers/${server}/migrations`);
  assert.deepEqual(migs.body.migrations, []);
  assert.equal((await nova(tAdmin, '2.56')('GET', `/os-migrations?instance_uuid=${server}`)).body.migrations.length, 0);
  // The CLI's --host.
  const cli = await arm.stack.osc([...cliVersion('2.56'), 'server', 'migrate', '--host', 'elsewhere', server]);
  assert.notEqual(cli.code, 0);
  assert.match(cli.stderr, /Compute host elsewhere could not be found/);
  // Without a host (and below 2.56, where the body is not read), the migrate is Azure's redeploy.
  const ok = await action('2.55', { migrate: { host: 'ignored below 2.56' } });
  assert.equal(ok.status, 202, ok.text);
  await settled(server);
  assert.equal((await nova(tAdmin, '2.56')('GET', `/os-migrations?instance_uuid=${server}`)).body.migrations.length, 1);
});

test("2.57: rebuild takes user_data (Azure's reimage custom data) and answers it; personality files and their quotas are gone", async () => {
  const ud = Buffer.from('#cloud-config\nruncmd: [echo 2.57]\n').toString('base64');
  const at = (mv: string) => (body: unknown) => nova(tAlice, mv)('POST', `/servers/${server}/action`, body);
  await refused(at('2.56')({ rebuild: { imageRef: image, user_data: ud } }), 400, /Additional properties are not allowed \('user_data' was unexpected\)/);
  await refused(at('2.57')({ rebuild: { imageRef: image, personality: [] } }), 400, /Additional properties are not allowed \('personality' was unexpected\)/);
  await refused(at('2.57')({ rebuild: { imageRef: image, user_data: 'not base64!' } }), 400, /Invalid input for field\/attribute user_data/);
  // Another image is a new OS disk Azure does not provision: no user_data for it.
  await refused(at('2.57')({ rebuild: { imageRef: debian, user_data: ud } }), 400, /user_data can be given only when rebuilding with the image the server was made from/);

  const r = await at('2.57')({ rebuild: { imageRef: image, user_data: ud } });
  assert.equal(r.status, 202, r.text);
  assertNovaResponse('servers', 'ServersController', '_rebuild', '2.57', r.body);
  assert.equal(r.body.server.user_data, ud);
  await settled(server);
  assert.equal((await vmOf(server)).secrets.customData, ud, 'the reimage sent it as custom data');
  const shown = (await nova(tAdmin, '2.57')('GET', `/servers/${server}`)).body.server;
  assert.equal(shown['OS-EXT-SRV-ATTR:user_data'], ud);
  // A long one (past what the record holds inline) round-trips, and a later short one replaces it.
  const long = Buffer.from('#!/bin/sh\n' + 'echo x\n'.repeat(6000)).toString('base64');
  assert.ok(long.length > 16000 && long.length <= 65535);
  const rl = await at('2.57')({ rebuild: { imageRef: image, user_data: long } });
  assert.equal(rl.status, 202, rl.text);
  assert.equal(rl.body.server.user_data, long);
  await settled(server);
  assert.equal((await nova(tAdmin, '2.57')('GET', `/servers/${server}`)).body.server['OS-EXT-SRV-ATTR:user_data'], long);
  assert.equal((await vmOf(server)).secrets.customData, long);
  // Without user_data the server keeps its own, and the answer shows it.
  const keep = await at('2.57')({ rebuild: { imageRef: image } });
  assert.equal(keep.body.server.user_data, long);
  await settled(server);
  const short = await at('2.57')({ rebuild: { imageRef: image, user_data: null } });
  assert.equal(short.body.server.user_data, null);
  await settled(server);
  assert.equal((await nova(tAdmin, '2.57')('GET', `/servers/${server}`)).body.server['OS-EXT-SRV-ATTR:user_data'], null);

  // The CLI at 2.57: rebuild --user-data.
  const file = join(mkdtempSync(join(tmpdir(), 'ud-')), 'user-data');
  writeFileSync(file, '#cloud-config\n');
  await arm.stack.oscOk([...cliVersion('2.57'), 'server', 'rebuild', '--image', 'ubuntu-22.04', '--user-data', file, '--wait', server], alice);
  assert.equal((await nova(tAdmin, '2.57')('GET', `/servers/${server}`)).body.server['OS-EXT-SRV-ATTR:user_data'], Buffer.from('#cloud-config\n').toString('base64'));

  // Another image with a key pair takes the swap path: VMAccess sets the password and adds the key.
  const kp = await nova(tAlice, '2.57')('POST', '/os-keypairs', { keypair: { name: 'k257' } });
  const sw = await at('2.57')({ rebuild: { imageRef: debian, key_name: 'k257' } });
  assert.equal(sw.status, 202, sw.text);
  assertNovaResponse('servers', 'ServersController', '_rebuild', '2.57', sw.body);
  assert.equal(sw.body.server.key_name, 'k257');
  assert.equal((await settled(server)).image.id, debian);
  const users = (await vmOf(server)).guestUsers.azureuser;
  assert.equal(users.password, true);
  assert.ok(users.sshKeys.includes((kp.body.keypair.public_key as string).trim()));

  // Create: personality is gone from the schema.
  await refused(
    nova(tAlice, '2.57')('POST', '/servers', { server: { name: 'p', flavorRef: '3', imageRef: image, networks: 'none', personality: [] } }),
    400,
    /Additional properties are not allowed \('personality' was unexpected\)/,
  );

  // Quotas: the injected_* resources leave quota sets, quota classes and limits.
  const qs56 = await nova(tAdmin, '2.56')('GET', `/os-quota-sets/${projectId}`);
  assert.ok('injected_files' in qs56.body.quota_set);
  for (const [method, path, name] of [
    ['show', `/os-quota-sets/${projectId}`, 'QuotaSetsController'],
    ['detail', `/os-quota-sets/${projectId}/detail`, 'QuotaSetsController'],
    ['defaults', `/os-quota-sets/${projectId}/defaults`, 'QuotaSetsController'],
    ['show', '/os-quota-class-sets/default', 'QuotaClassSetsController'],
  ] as const) {
    const r57 = await nova(tAdmin, '2.57')('GET', path);
    assert.equal(r57.status, 200, r57.text);
    assertNovaResponse(name === 'QuotaSetsController' ? 'quota_sets' : 'quota_classes', name, method, '2.57', r57.body);
    const set = r57.body.quota_set ?? r57.body.quota_class_set;
    for (const k of ['injected_files', 'injected_file_content_bytes', 'injected_file_path_bytes']) assert.ok(!(k in set), `${path}: ${k}`);
  }
  await refused(nova(tAdmin, '2.57')('PUT', `/os-quota-sets/${projectId}`, { quota_set: { injected_files: 3 } }), 400, /Additional properties are not allowed/);
  await refused(nova(tAdmin, '2.57')('PUT', '/os-quota-class-sets/default', { quota_class_set: { injected_files: 3 } }), 400, /Additional properties are not allowed/);
  const up56 = await nova(tAdmin, '2.56')('PUT', `/os-quota-sets/${projectId}`, { quota_set: { injected_files: 3 } });
  assert.equal(up56.status, 200, up56.text);
  const up57 = await nova(tAdmin, '2.57')('PUT', `/os-quota-sets/${projectId}`, { quota_set: { instances: 11 } });
  assertNovaResponse('quota_sets', 'QuotaSetsController', 'update', '2.57', up57.body);
  const l56 = await nova(tAlice, '2.56')('GET', '/limits');
  assert.ok('maxPersonality' in l56.body.limits.absolute);
  const l57 = await nova(tAlice, '2.57')('GET', '/limits');
  assertNovaResponse('limits', 'LimitsController', 'index', '2.57', l57.body);
  assert.ok(!('maxPersonality' in l57.body.limits.absolute) && !('maxPersonalitySize' in l57.body.limits.absolute));
});
