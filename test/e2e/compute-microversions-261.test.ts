// Compute microversions 2.61 and 2.62 (docs/microversions.md): flavor bodies carry extra_specs for
// callers passing os-flavor-extra-specs:index (2.61), and instance action events carry hostId, and host
// for callers passing os-instance-actions:events (2.62). Each at the version before and at it, bodies
// checked against Nova's response schema for that version, and the real CLI once per version.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { startArmStack, waitFor, type ArmStack } from '../support/armStack';
import { assertNovaResponse } from '../support/oracle';
import { computeTest } from '../support/advertised';
import { novaAt } from '../support/nova';
import { oneUser, imageId, networkId, type ProjectUser } from '../support/fixtures';

let arm: ArmStack;
let alice: ProjectUser;
let tAlice: string;
let tAdmin: string;
let tService: string;
let server: string;

const nova = novaAt(() => arm.stack);
const F = 'FlavorsController';

before(async () => {
  arm = await startArmStack({ asyncDelayMs: 0 });
  const u = await oneUser(arm.stack, 'mv261-a', 'mv261alice');
  alice = u.user;
  tAlice = u.token;
  tAdmin = u.tAdmin;
  // A service-role user: no reader role, so it fails project_reader_or_admin (os-flavor-extra-specs:index).
  tService = await arm.stack.token(await arm.stack.makeProjectUser('mv261-s', 'mv261svc', 'service'));
  const [image, net] = await Promise.all([imageId(arm.stack, tAlice), networkId(arm.stack, tAlice)]);
  const r = await nova(tAlice, '2.60')('POST', '/servers', { server: { name: 'mv261', flavorRef: '3', imageRef: image, networks: [{ uuid: net }] } });
  assert.equal(r.status, 202, r.text);
  server = r.body.server.id;
  await waitFor('mv261 ACTIVE', async () => ((await nova(tAlice, '2.60')('GET', `/servers/${server}`)).body.server.status === 'ACTIVE' ? true : undefined), 120000);
});
after(() => arm?.stop());

computeTest('2.61')('2.61: flavor show, detail, create and update carry extra_specs, for those who may list them', async () => {
  // Create: no extra_specs at 2.60; {} at 2.61 (Nova adds the empty dict rather than reading it back).
  const c60 = await nova(tAdmin, '2.60')('POST', '/flavors', { flavor: { name: 'mv261-old', ram: 512, vcpus: 1, disk: 1 } });
  assert.equal(c60.status, 200, c60.text);
  assertNovaResponse('flavors', F, 'create', '2.60', c60.body);
  assert.ok(!('extra_specs' in c60.body.flavor));
  const c = await nova(tAdmin, '2.61')('POST', '/flavors', { flavor: { name: 'mv261', ram: 512, vcpus: 1, disk: 1 } });
  assert.equal(c.status, 200, c.text);
  assertNovaResponse('flavors', F, 'create', '2.61', c.body);
  assert.deepEqual(c.body.flavor.extra_specs, {});
  const id = c.body.flavor.id as string;
  const specs = { 'azure:vm_size': 'Standard_B1s', 'hw:cpu_policy': 'shared' };
  assert.equal((await nova(tAdmin, '2.61')('POST', `/flavors/${id}/os-extra_specs`, { extra_specs: specs })).status, 200);

  // Show: none at 2.60, the specs at 2.61 for a project member; left out for a caller failing the policy.
  const s60 = await nova(tAlice, '2.60')('GET', `/flavors/${id}`);
  assertNovaResponse('flavors', F, 'show', '2.60', s60.body);
  assert.ok(!('extra_specs' in s60.body.flavor));
  const s61 = await nova(tAlice, '2.61')('GET', `/flavors/${id}`);
  assertNovaResponse('flavors', F, 'show', '2.61', s61.body);
  assert.deepEqual(s61.body.flavor.extra_specs, specs);
  const svc = await nova(tService, '2.61')('GET', `/flavors/${id}`);
  assert.equal(svc.status, 200, svc.text);
  assertNovaResponse('flavors', F, 'show', '2.61', svc.body);
  assert.ok(!('extra_specs' in svc.body.flavor));

  // Detail: every flavor with its specs; the plain list never has them.
  const d60 = (await nova(tAlice, '2.60')('GET', '/flavors/detail')).body;
  assertNovaResponse('flavors', F, 'detail', '2.60', d60);
  assert.ok(d60.flavors.every((f: object) => !('extra_specs' in f)));
  const d61 = (await nova(tAlice, '2.61')('GET', '/flavors/detail')).body;
  assertNovaResponse('flavors', F, 'detail', '2.61', d61);
  assert.deepEqual(d61.flavors.find((f: { id: string }) => f.id === id).extra_specs, specs);
  assert.deepEqual(d61.flavors.find((f: { id: string }) => f.id === '4').extra_specs, { 'azure:vm_size': 'Standard_D2s_v3' });
  const dSvc = (await nova(tService, '2.61')('GET', '/flavors/detail')).body;
  assertNovaResponse('flavors', F, 'detail', '2.61', dSvc);
  assert.ok(dSvc.flavors.every((f: object) => !('extra_specs' in f)));
  const l61 = (await nova(tAlice, '2.61')('GET', '/flavors')).body;
  assertNovaResponse('flavors', F, 'index', '2.61', l61);
  assert.ok(l61.flavors.every((f: object) => !('extra_specs' in f)));

  // Update (2.55's description): the flavor as show renders it.
  const u60 = await nova(tAdmin, '2.60')('PUT', `/flavors/${id}`, { flavor: { description: 'old' } });
  assertNovaResponse('flavors', F, 'update', '2.60', u60.body);
  assert.ok(!('extra_specs' in u60.body.flavor));
  const u61 = await nova(tAdmin, '2.61')('PUT', `/flavors/${id}`, { flavor: { description: 'new' } });
  assert.equal(u61.status, 200, u61.text);
  assertNovaResponse('flavors', F, 'update', '2.61', u61.body);
  assert.deepEqual(u61.body.flavor.extra_specs, specs);

  // The CLI at 2.61 shows the specs as the flavor's properties.
  const cli = await arm.stack.oscJson<{ properties: Record<string, string> }>(['--os-compute-api-version', '2.61', 'flavor', 'show', id], alice);
  assert.deepEqual(cli.properties, specs);
});

computeTest('2.62')("2.62: instance action events carry hostId, and admins see the event's host", async () => {
  const C = 'InstanceActionsController';
  const create = (await nova(tAlice, '2.62')('GET', `/servers/${server}/os-instance-actions`)).body.instanceActions.find((a: { action: string }) => a.action === 'create');
  const path = `/servers/${server}/os-instance-actions/${create.request_id}`;
  const admin = (await nova(tAdmin, '2.60')('GET', `/servers/${server}`)).body.server;
  const host = admin['OS-EXT-SRV-ATTR:host'] as string;
  assert.ok(host);
  const expectedHostId = createHash('sha224')
    .update(alice.projectId + host)
    .digest('hex');

  // 2.61: neither field, for the owner or the admin.
  for (const t of [tAlice, tAdmin]) {
    const r = await nova(t, '2.61')('GET', path);
    assert.equal(r.status, 200, r.text);
    assertNovaResponse('instance_actions', C, 'show', '2.61', r.body);
    assert.ok(r.body.instanceAction.events.length > 0);
    for (const e of r.body.instanceAction.events) assert.ok(!('host' in e) && !('hostId' in e));
  }
  // 2.62: the owner sees hostId (the server's own hostId) but not the host nor the traceback.
  const own = await nova(tAlice, '2.62')('GET', path);
  assert.equal(own.status, 200, own.text);
  assertNovaResponse('instance_actions', C, 'show', '2.62', own.body);
  assert.equal((await nova(tAlice, '2.62')('GET', `/servers/${server}`)).body.server.hostId, expectedHostId);
  for (const e of own.body.instanceAction.events) {
    assert.equal(e.hostId, expectedHostId);
    assert.ok(!('host' in e) && !('traceback' in e));
  }
  // The admin (os-instance-actions:events) sees the host too; hostId hashes the action's project.
  const adm = await nova(tAdmin, '2.62')('GET', path);
  assertNovaResponse('instance_actions', C, 'show', '2.62', adm.body);
  for (const e of adm.body.instanceAction.events) {
    assert.equal(e.host, host);
    assert.equal(e.hostId, expectedHostId);
    assert.ok('traceback' in e);
  }
  // The CLI (as the admin) shows both (openstacksdk names hostId host_id).
  const cli = await arm.stack.oscJson<{ events: { host?: string; host_id?: string }[] }>(['--os-compute-api-version', '2.62', 'server', 'event', 'show', server, create.request_id]);
  assert.ok(cli.events.length > 0);
  for (const e of cli.events) {
    assert.equal(e.host, host);
    assert.equal(e.host_id, expectedHostId);
  }
});

computeTest('2.63')('2.63: trusted_image_certificates on create and rebuild, shown in server views; builds given them abort', async () => {
  const [image, net] = await Promise.all([imageId(arm.stack, tAlice), networkId(arm.stack, tAlice)]);
  const certs = ['0b5d2c72-12cc-4ba6-a8d7-3ff5cc1d8cb8', '674736e3-f25c-405c-8362-bbf991e0ce0a'];
  const S = 'ServersController';
  const msgOf = (b: unknown) => Object.values(b as Record<string, { message: string }>)[0].message;
  // 2.62: not a create or rebuild property, not in the views.
  const c62 = await nova(tAlice, '2.62')('POST', '/servers', { server: { name: 'mv263-x', flavorRef: '3', imageRef: image, networks: 'none', trusted_image_certificates: certs } });
  assert.equal(c62.status, 400, c62.text);
  const r62 = await nova(tAlice, '2.62')('POST', `/servers/${server}/action`, { rebuild: { imageRef: image, trusted_image_certificates: null } });
  assert.equal(r62.status, 400, r62.text);
  const show62 = (await nova(tAlice, '2.62')('GET', `/servers/${server}`)).body;
  assert.ok(!('trusted_image_certificates' in show62.server));

  // 2.63: null in show, detail and update for a server without them.
  const show = (await nova(tAlice, '2.63')('GET', `/servers/${server}`)).body;
  assertNovaResponse('servers', S, 'show', '2.63', show);
  assert.equal(show.server.trusted_image_certificates, null);
  const detail = (await nova(tAlice, '2.63')('GET', '/servers/detail')).body;
  assertNovaResponse('servers', S, 'detail', '2.63', detail);
  assert.equal(detail.servers[0].trusted_image_certificates, null);
  const upd = await nova(tAlice, '2.63')('PUT', `/servers/${server}`, { server: { name: 'mv261' } });
  assert.equal(upd.status, 200, upd.text);
  assertNovaResponse('servers', S, 'update', '2.63', upd.body);
  assert.equal(upd.body.server.trusted_image_certificates, null);

  // The schema: 1-50 distinct non-empty ids (null allowed).
  for (const bad of [[], ['a', 'a'], [''], Array.from({ length: 51 }, (_, i) => `c${i}`), 'c1']) {
    const r = await nova(tAlice, '2.63')('POST', '/servers', { server: { name: 'mv263-x', flavorRef: '3', imageRef: image, networks: 'none', trusted_image_certificates: bad } });
    assert.equal(r.status, 400, `${JSON.stringify(bad)}: ${r.text}`);
  }
  // No imageRef (a boot from a volume): refused before the volume is looked up.
  const bfv = await nova(tAlice, '2.63')('POST', '/servers', {
    server: {
      name: 'mv263-bfv',
      flavorRef: '3',
      networks: 'none',
      trusted_image_certificates: certs,
      block_device_mapping_v2: [{ boot_index: 0, uuid: '9b9f8e43-5a5c-4e0b-8f43-7f0e8f6b1b55', source_type: 'volume', destination_type: 'volume' }],
    },
  });
  assert.equal(bfv.status, 400, bfv.text);
  assert.equal(msgOf(bfv.body), 'Image certificate validation is not supported when booting from volume');

  // With an image the create is taken (the CLI's --trusted-image-cert) and the build aborts: ERROR with
  // the compute's fault, the ids kept on the server.
  const made = await arm.stack.oscJson<{ id: string }>(
    ['--os-compute-api-version', '2.63', 'server', 'create', '--image', image, '--flavor', '3', '--network', net, '--trusted-image-cert', certs[0], '--trusted-image-cert', certs[1], 'mv263-certs'],
    alice,
  );
  const failed = await waitFor(
    'mv263-certs ERROR',
    async () => {
      const b = (await nova(tAlice, '2.63')('GET', `/servers/${made.id}`)).body.server;
      return b.status === 'ERROR' ? b : undefined;
    },
    60000,
  );
  assertNovaResponse('servers', S, 'show', '2.63', { server: failed });
  assert.deepEqual(failed.trusted_image_certificates, certs);
  assert.equal(failed.fault.code, 500);
  assert.equal(failed.fault.message, 'Trusted image certificates provided on host that does not support certificate validation.');
  assert.equal((await nova(tAlice, '2.63')('DELETE', `/servers/${made.id}`)).status, 204);

  // Rebuild with ids: taken (the view shows them), then aborted at the compute: ERROR with the fault.
  const reb = await nova(tAlice, '2.63')('POST', `/servers/${server}/action`, { rebuild: { imageRef: image, trusted_image_certificates: certs } });
  assert.equal(reb.status, 202, reb.text);
  assertNovaResponse('servers', S, '_rebuild', '2.63', reb.body);
  assert.deepEqual(reb.body.server.trusted_image_certificates, certs);
  const err = await waitFor(
    'mv261 ERROR',
    async () => {
      const b = (await nova(tAlice, '2.63')('GET', `/servers/${server}`)).body.server;
      return b.status === 'ERROR' ? b : undefined;
    },
    60000,
  );
  assert.equal(err.fault.message, 'Trusted image certificates provided on host that does not support certificate validation.');
  // null unsets them: the rebuild runs and the server is ACTIVE again.
  const again = await nova(tAlice, '2.63')('POST', `/servers/${server}/action`, { rebuild: { imageRef: image, trusted_image_certificates: null } });
  assert.equal(again.status, 202, again.text);
  assertNovaResponse('servers', S, '_rebuild', '2.63', again.body);
  assert.equal(again.body.server.trusted_image_certificates, null);
  await waitFor('mv261 ACTIVE again', async () => ((await nova(tAlice, '2.63')('GET', `/servers/${server}`)).body.server.status === 'ACTIVE' ? true : undefined), 120000);
});

computeTest('2.64')('2.64: server groups take and show policy and rules instead of policies and metadata', async () => {
  const G = 'ServerGroupController';
  const create = (mv: string, sg: Record<string, unknown>) => nova(tAlice, mv)('POST', '/os-server-groups', { server_group: { name: 'mv264', ...sg } });
  // 2.63: policies only; policy and rules are refused.
  const old = await create('2.63', { policies: ['anti-affinity'] });
  assert.equal(old.status, 200, old.text);
  assertNovaResponse('server_groups', G, 'create', '2.63', old.body);
  assert.equal((await create('2.63', { policy: 'anti-affinity' })).status, 400);
  // 2.64: policy required, policies refused, rules only max_server_per_host >= 1 (digits as a string too).
  assert.equal((await create('2.64', { policies: ['anti-affinity'] })).status, 400);
  for (const rules of [{ max_server_per_host: 0 }, { max_server_per_host: 'x' }, { max_server_per_host: -1 }, { other: 1 }]) {
    const r = await create('2.64', { policy: 'anti-affinity', rules });
    assert.equal(r.status, 400, `${JSON.stringify(rules)}: ${r.text}`);
  }
  const soft = await create('2.64', { policy: 'soft-anti-affinity', rules: { max_server_per_host: 2 } });
  assert.equal(soft.status, 400, soft.text);
  assert.equal(Object.values(soft.body as Record<string, { message: string }>)[0].message, 'Only anti-affinity policy supports rules.');
  const aff = await create('2.64', { policy: 'affinity', rules: {} });
  assert.equal(aff.status, 200, aff.text);
  assertNovaResponse('server_groups', G, 'create', '2.64', aff.body);
  assert.deepEqual([aff.body.server_group.policy, aff.body.server_group.rules], ['affinity', {}]);
  assert.ok(!('policies' in aff.body.server_group) && !('metadata' in aff.body.server_group));
  const anti = await create('2.64', { policy: 'anti-affinity', rules: { max_server_per_host: '3' } });
  assert.equal(anti.status, 200, anti.text);
  assert.deepEqual(anti.body.server_group.rules, { max_server_per_host: 3 });

  // Show and list: a group made before 2.64 shows its policy and empty rules; at 2.63 the new one shows policies.
  const shown = await nova(tAlice, '2.64')('GET', `/os-server-groups/${old.body.server_group.id}`);
  assertNovaResponse('server_groups', G, 'show', '2.64', shown.body);
  assert.deepEqual([shown.body.server_group.policy, shown.body.server_group.rules], ['anti-affinity', {}]);
  const at63 = await nova(tAlice, '2.63')('GET', `/os-server-groups/${anti.body.server_group.id}`);
  assertNovaResponse('server_groups', G, 'show', '2.63', at63.body);
  assert.deepEqual([at63.body.server_group.policies, at63.body.server_group.metadata], [['anti-affinity'], {}]);
  const list = (await nova(tAlice, '2.64')('GET', '/os-server-groups')).body;
  assertNovaResponse('server_groups', G, 'index', '2.64', list);
  assert.equal(list.server_groups.length, 3);
  const list63 = (await nova(tAlice, '2.63')('GET', '/os-server-groups')).body;
  assertNovaResponse('server_groups', G, 'index', '2.63', list63);

  // The CLI sends the rule's value as a string.
  const cli = await arm.stack.oscJson<{ id: string; policy: string; rules: Record<string, number> }>(
    ['--os-compute-api-version', '2.64', 'server', 'group', 'create', '--policy', 'anti-affinity', '--rule', 'max_server_per_host=2', 'mv264-cli'],
    alice,
  );
  assert.equal(cli.policy, 'anti-affinity');
  const made = (await nova(tAlice, '2.64')('GET', `/os-server-groups/${cli.id}`)).body.server_group;
  assert.deepEqual(made.rules, { max_server_per_host: 2 });
  for (const g of [old, aff, anti]) assert.equal((await nova(tAlice, '2.64')('DELETE', `/os-server-groups/${g.body.server_group.id}`)).status, 204);
  assert.equal((await nova(tAlice, '2.64')('DELETE', `/os-server-groups/${cli.id}`)).status, 204);
});

computeTest('2.65')('2.65: aborting a queued or preparing live migration; Jacket has none, so the answer is unchanged', async () => {
  // Nova's change is which migration statuses the abort accepts; Jacket never starts a live migration,
  // so a server is never 'migrating' and the abort meets the state check at both versions.
  for (const mv of ['2.64', '2.65']) {
    const r = await nova(tAdmin, mv)('DELETE', `/servers/${server}/migrations/1`);
    assert.equal(r.status, 409, r.text);
    assert.equal(r.body.conflictingRequest.message, `Instance ${server} is in an invalid state for 'abort live migration'`);
  }
});

computeTest('2.66')('2.66: changes-before on the server list, instance actions and os-migrations', async () => {
  const ORDER = 'The value of changes-since must be less than or equal to changes-before.';
  const past = '2000-01-01T00:00:00Z';
  const future = '2100-01-01T00:00:00Z';
  const ids = (b: { servers: { id: string }[] }) => b.servers.map((x) => x.id);
  // Servers: ignored at 2.65 for a project member; applied from 2.66 (updated_at <= changes-before).
  assert.deepEqual(ids((await nova(tAlice, '2.65')('GET', `/servers?changes-before=${past}`)).body), [server]);
  const none = await nova(tAlice, '2.66')('GET', `/servers/detail?changes-before=${past}`);
  assert.equal(none.status, 200, none.text);
  assertNovaResponse('servers', 'ServersController', 'detail', '2.66', none.body);
  assert.deepEqual(none.body.servers, []);
  assert.deepEqual(ids((await nova(tAlice, '2.66')('GET', `/servers?changes-before=${future}&changes-since=${past}`)).body), [server]);
  const bad = await nova(tAlice, '2.66')('GET', `/servers?changes-before=${past}&changes-since=${future}`);
  assert.equal(bad.status, 400, bad.text);
  assert.equal(bad.body.badRequest.message, ORDER);
  assert.equal((await nova(tAlice, '2.66')('GET', '/servers?changes-before=yesterday')).status, 400);
  // An admin's changes-before reaches Nova's database below 2.66 too (allow_all_filters).
  assert.ok(!ids((await nova(tAdmin, '2.65')('GET', `/servers?all_tenants=1&changes-before=${past}`)).body).includes(server));
  assert.ok(ids((await nova(tAdmin, '2.65')('GET', `/servers?all_tenants=1&changes-before=${future}`)).body).includes(server));

  // Instance actions: 400 at 2.65 (index_query_v258 is strict); from 2.66 updated_at <= changes-before.
  const path = `/servers/${server}/os-instance-actions`;
  assert.equal((await nova(tAlice, '2.65')('GET', `${path}?changes-before=${future}`)).status, 400);
  const all = (await nova(tAlice, '2.66')('GET', path)).body.instanceActions as { request_id: string; updated_at: string }[];
  assert.ok(all.length >= 2);
  const oldest = all[all.length - 1];
  const upTo = await nova(tAlice, '2.66')('GET', `${path}?changes-before=${encodeURIComponent(oldest.updated_at + 'Z')}`);
  assert.equal(upTo.status, 200, upTo.text);
  assertNovaResponse('instance_actions', 'InstanceActionsController', 'index', '2.66', upTo.body);
  assert.deepEqual(
    upTo.body.instanceActions.map((a: { request_id: string }) => a.request_id),
    all.filter((a) => a.updated_at <= oldest.updated_at).map((a) => a.request_id),
  );
  assert.ok(upTo.body.instanceActions.length < all.length);
  const badActions = await nova(tAlice, '2.66')('GET', `${path}?changes-before=${past}&changes-since=${future}`);
  assert.equal(badActions.status, 400, badActions.text);
  assert.equal(badActions.body.badRequest.message, ORDER);

  // os-migrations (admin): 400 at 2.65 (index_query_v259 is strict); from 2.66 the filter and the order check.
  assert.equal((await nova(tAdmin, '2.65')('GET', `/os-migrations?changes-before=${future}`)).status, 400);
  const migs = await nova(tAdmin, '2.66')('GET', `/os-migrations?changes-before=${past}`);
  assert.equal(migs.status, 200, migs.text);
  assertNovaResponse('migrations', 'MigrationsController', 'index', '2.66', migs.body);
  assert.deepEqual(migs.body.migrations, []);
  const badMigs = await nova(tAdmin, '2.66')('GET', `/os-migrations?changes-before=${past}&changes-since=${future}`);
  assert.equal(badMigs.status, 400, badMigs.text);
  assert.equal(badMigs.body.badRequest.message, ORDER);

  // The CLI's server list --changes-before.
  const cli = await arm.stack.oscJson<{ ID: string }[]>(['--os-compute-api-version', '2.66', 'server', 'list', '--changes-before', past], alice);
  assert.deepEqual(cli, []);
});
