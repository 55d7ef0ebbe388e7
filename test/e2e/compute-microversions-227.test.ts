// Compute microversions 2.27 and up (docs/microversions.md): each version's APIs at the version before
// and at it, bodies checked against Nova's response schema for that version (test/support/oracle.ts),
// refusals against Nova's status and words; and the real `openstack` CLI where it drives the feature.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startArmStack, waitFor, type ArmStack } from '../support/armStack';
import { assertNovaResponse } from '../support/oracle';
import type { Creds } from '../support/stack';

let arm: ArmStack;
let alice: Creds & { projectId: string; userId: string };
let tAlice: string;
let tAdmin: string;
let image: string;
let net: string;

before(async () => {
  arm = await startArmStack({ asyncDelayMs: 0 });
  alice = await arm.stack.makeProjectUser('mv227-a', 'mv227alice');
  [tAlice, tAdmin] = await Promise.all([arm.stack.token(alice), arm.stack.token()]);
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

async function boot(name: string): Promise<string> {
  const r = await nova(tAlice)('POST', '/servers', { server: { name, flavorRef: '3', imageRef: image, networks: [{ uuid: net }] } });
  assert.equal(r.status, 202, r.text);
  const id = r.body.server.id as string;
  await waitFor(
    `server ${id} ACTIVE`,
    async () => {
      const s = (await nova(tAlice)('GET', `/servers/${id}`)).body?.server;
      if (s?.status === 'ERROR') throw new Error(`server ${id} went ERROR: ${JSON.stringify(s.fault)}`);
      return s?.status === 'ACTIVE' ? s : undefined;
    },
    120000,
  );
  return id;
}
const act = (token: string, mv: string | undefined, id: string, body: unknown) => nova(token, mv)('POST', `/servers/${id}/action`, body);
const msg = (body: unknown) => Object.values(body as Record<string, { message: string }>)[0].message;
const cliVersion = (mv: string) => ['--os-compute-api-version', mv];

test('2.27/2.31: the OpenStack-API-Version header and the legacy one both negotiate and are answered; no os-console-auth-tokens', async () => {
  const generic = await nova(tAlice, '2.27')('GET', '/flavors');
  assert.equal(generic.status, 200, generic.text);
  assert.equal(generic.headers.get('openstack-api-version'), 'compute 2.27');
  assert.equal(generic.headers.get('x-openstack-nova-api-version'), '2.27');
  const legacy = await arm.stack.http('GET', '/compute/v2.1/flavors', { token: tAlice, headers: { 'X-OpenStack-Nova-API-Version': '2.27' } });
  assert.equal(legacy.status, 200, legacy.text);
  assert.equal(legacy.headers.get('openstack-api-version'), 'compute 2.27');
  assert.match(legacy.headers.get('vary') ?? '', /OpenStack-API-Version/);
  // 2.31 changes os-console-auth-tokens, which Jacket does not serve (no console token is ever issued).
  assert.equal((await nova(tAdmin, '2.31')('GET', '/os-console-auth-tokens/abc')).status, 404);
});

test('2.28: os-hypervisors cpu_info is a JSON string up to 2.27 and an object from 2.28', async () => {
  const d227 = await nova(tAdmin, '2.27')('GET', '/os-hypervisors/detail');
  assert.equal(d227.status, 200, d227.text);
  assertNovaResponse('hypervisors', 'HypervisorsController', 'detail', '2.27', d227.body);
  const h = d227.body.hypervisors[0];
  assert.equal(typeof h.cpu_info, 'string');
  const d228 = await nova(tAdmin, '2.28')('GET', '/os-hypervisors/detail');
  assertNovaResponse('hypervisors', 'HypervisorsController', 'detail', '2.28', d228.body);
  assert.deepEqual(d228.body.hypervisors[0].cpu_info, JSON.parse(h.cpu_info));
  const s227 = await nova(tAdmin, '2.27')('GET', `/os-hypervisors/${h.id}`);
  assertNovaResponse('hypervisors', 'HypervisorsController', 'show', '2.27', s227.body);
  assert.equal(s227.body.hypervisor.cpu_info, h.cpu_info);
  const s228 = await nova(tAdmin, '2.28')('GET', `/os-hypervisors/${h.id}`);
  assertNovaResponse('hypervisors', 'HypervisorsController', 'show', '2.28', s228.body);
  assert.equal(s228.body.hypervisor.cpu_info.arch, 'x86_64');
  // (`openstack hypervisor show`, which also reads os-aggregates, is exercised in compute-admin.test.ts.)
});

test('2.29/2.30: evacuate and os-migrateLive take force (schema per version); forcing without a host is 400', async () => {
  const id = await boot('forced');
  const host = (await nova(tAdmin)('GET', `/servers/${id}`)).body.server['OS-EXT-SRV-ATTR:host'] as string;
  const ev = (mv: string, body: unknown) => act(tAdmin, mv, id, { evacuate: body });
  // evacuate_v214 has no force; evacuate_v229 has it.
  const ev228 = await ev('2.28', { force: true });
  assert.equal(ev228.status, 400);
  assert.match(msg(ev228.body), /Additional properties are not allowed \('force' was unexpected\)/);
  const ev229 = await ev('2.29', { force: true });
  assert.equal(ev229.status, 400);
  assert.equal(msg(ev229.body), "Can't force to a non-provided destination");
  assert.equal((await ev('2.29', { force: 'yes' })).status, 400);
  // Forced to a host: the server's own (Jacket's only compute host) is still refused, as Nova does.
  const evHost = await ev('2.29', { force: true, host });
  assert.equal(evHost.status, 400);
  assert.equal(msg(evHost.body), "The target host can't be the same one.");
  // Not forced, no host: on to the compute service check (the host is up).
  const evPlain = await ev('2.29', { force: false });
  assert.equal(evPlain.status, 400);
  assert.equal(msg(evPlain.body), `Compute service of ${host} is still in use.`);

  const ml = (mv: string, body: Record<string, unknown>) => act(tAdmin, mv, id, { 'os-migrateLive': body });
  const ml229 = await ml('2.29', { block_migration: 'auto', host: null, force: true });
  assert.equal(ml229.status, 400);
  assert.match(msg(ml229.body), /Additional properties are not allowed \('force' was unexpected\)/);
  const ml230 = await ml('2.30', { block_migration: 'auto', host: null, force: true });
  assert.equal(ml230.status, 400);
  assert.equal(msg(ml230.body), "Can't force to a non-provided destination");
  const ml230f = await ml('2.30', { block_migration: 'auto', host: null, force: 'False' });
  assert.equal(ml230f.status, 400);
  assert.match(msg(ml230f.body), /^Migration pre-check error/);
  // The CLI at 2.30.
  const cli = await arm.stack.osc([...cliVersion('2.30'), 'server', 'migrate', '--live-migration', id]);
  assert.notEqual(cli.code, 0);
  assert.match(cli.stderr, /Migration pre-check error/);
});

test('2.32/2.33: device tags at boot (networks 2.32+, block_device_mapping_v2 only at 2.32); the build aborts as on a host without tagging', async () => {
  const create = (mv: string, server: Record<string, unknown>) => nova(tAlice, mv)('POST', '/servers', { server: { flavorRef: '3', imageRef: image, ...server } });
  const netTag = { name: 'tagged-nic', networks: [{ uuid: net, tag: 'nic1' }] };
  const below = await create('2.31', netTag);
  assert.equal(below.status, 400);
  assert.match(msg(below.body), /Additional properties are not allowed \('tag' was unexpected\)/);
  const bdmTag = (mv: string) =>
    create(mv, {
      name: 'tagged-disk',
      networks: [{ uuid: net }],
      block_device_mapping_v2: [{ boot_index: 0, uuid: image, source_type: 'image', destination_type: 'local', tag: 'root' }],
    });
  assert.equal((await bdmTag('2.31')).status, 400);
  assert.equal((await bdmTag('2.33')).status, 400, 'create_v233 has no tag on block devices');
  assert.equal((await create('2.32', { ...netTag, networks: [{ uuid: net, tag: 'a/b' }] })).status, 400);
  for (const [mv, body] of [
    ['2.32', netTag],
    ['2.33', netTag],
  ] as const) {
    const r = await create(mv, body);
    assert.equal(r.status, 202, r.text);
    const id = r.body.server.id as string;
    const srv = await waitFor(`server ${id} ERROR`, async () => {
      const s = (await nova(tAlice, mv)('GET', `/servers/${id}`)).body?.server;
      return s?.status === 'ERROR' ? s : undefined;
    });
    assert.equal(srv.fault.code, 500);
    assert.equal(srv.fault.message, 'Attempt to boot guest with tagged devices on host that does not support tagging.');
    const acts = (await nova(tAlice, mv)('GET', `/servers/${id}/os-instance-actions`)).body.instanceActions;
    assert.equal(acts.find((a: { action: string }) => a.action === 'create')?.message, 'Error');
    assert.equal((await nova(tAlice, mv)('DELETE', `/servers/${id}`)).status, 204);
  }
  const r = await bdmTag('2.32');
  assert.equal(r.status, 202, r.text);
  await waitFor('tagged block device ERROR', async () => ((await nova(tAlice)('GET', `/servers/${r.body.server.id}`)).body?.server?.status === 'ERROR' ? true : undefined));
});

test('2.33: os-hypervisors and /detail page by limit and marker (ignored below 2.33)', async () => {
  const all = (await nova(tAdmin, '2.33')('GET', '/os-hypervisors')).body.hypervisors as { id: number }[];
  assert.ok(all.length >= 1);
  const ignored = await nova(tAdmin, '2.32')('GET', '/os-hypervisors?limit=abc&marker=999');
  assert.equal(ignored.status, 200, ignored.text);
  assertNovaResponse('hypervisors', 'HypervisorsController', 'index', '2.32', ignored.body);
  assert.equal(ignored.body.hypervisors.length, all.length);
  for (const p of ['/os-hypervisors', '/os-hypervisors/detail']) {
    const method = p.endsWith('detail') ? 'detail' : 'index';
    const first = await nova(tAdmin, '2.33')('GET', `${p}?limit=1`);
    assert.equal(first.status, 200, first.text);
    assertNovaResponse('hypervisors', 'HypervisorsController', method, '2.33', first.body);
    assert.deepEqual(
      first.body.hypervisors.map((h: { id: number }) => h.id),
      [all[0].id],
    );
    const next = new URL(first.body.hypervisors_links[0].href);
    assert.equal(next.pathname, `/compute/v2.1${p}`);
    assert.equal(next.searchParams.get('marker'), String(all[0].id));
    const rest = await nova(tAdmin, '2.33')('GET', `${p}?marker=${all[0].id}`);
    assertNovaResponse('hypervisors', 'HypervisorsController', method, '2.33', rest.body);
    assert.deepEqual(
      rest.body.hypervisors.map((h: { id: number }) => h.id),
      all.slice(1).map((h) => h.id),
    );
    assert.ok(!('hypervisors_links' in rest.body));
    const bad = await nova(tAdmin, '2.33')('GET', `${p}?marker=999`);
    assert.equal(bad.status, 400);
    assert.equal(msg(bad.body), 'marker [999] not found');
    const badLimit = await nova(tAdmin, '2.33')('GET', `${p}?limit=-1`);
    assert.equal(badLimit.status, 400);
    assert.equal(msg(badLimit.body), "Invalid input for query parameters limit. Value: -1. '-1' does not match '^[0-9]*$'");
  }
});

test('2.34: os-migrateLive answers 202 and its pre-checks fail after the answer (the action live-migration in Error)', async () => {
  const id = await boot('async-checks');
  const host = (await nova(tAdmin)('GET', `/servers/${id}`)).body.server['OS-EXT-SRV-ATTR:host'] as string;
  const ml = (mv: string, body: Record<string, unknown>) => act(tAdmin, mv, id, { 'os-migrateLive': body });
  const below = await ml('2.33', { block_migration: 'auto', host: null });
  assert.equal(below.status, 400);
  assert.match(msg(below.body), /^Migration pre-check error/);
  const unknown = await ml('2.34', { block_migration: 'auto', host: 'nohost' });
  assert.equal(unknown.status, 400);
  assert.equal(msg(unknown.body), 'Compute host nohost could not be found.');
  for (const body of [
    { block_migration: 'auto', host: null },
    { block_migration: false, host, force: true },
  ]) {
    const at = await ml('2.34', body);
    assert.equal(at.status, 202, at.text);
    assertNovaResponse('migrate_server', 'MigrateServerController', '_migrate_live', '2.34', at.body ?? null);
  }
  const acts = (await nova(tAdmin, '2.34')('GET', `/servers/${id}/os-instance-actions`)).body.instanceActions as { action: string; message: string; request_id: string }[];
  const lm = acts.filter((a) => a.action === 'live-migration');
  assert.equal(lm.length, 2);
  assert.ok(lm.every((a) => a.message === 'Error'));
  const shown = (await nova(tAdmin, '2.34')('GET', `/servers/${id}/os-instance-actions/${lm[0].request_id}`)).body.instanceAction;
  assert.deepEqual(
    shown.events.map((e: { event: string; result: string }) => [e.event, e.result]),
    [['conductor_live_migrate_instance', 'Error']],
  );
  const srv = (await nova(tAdmin, '2.34')('GET', `/servers/${id}`)).body.server;
  assert.equal(srv.status, 'ACTIVE');
  assert.equal(srv['OS-EXT-STS:task_state'], null);
  // (`openstack server migrate --live-migration` sends 2.30 whatever version is asked: openstacksdk
  // pins its live-migrate request there, so it keeps getting the 400 of 2.30.)
});

test('2.35: os-keypairs pages by limit and marker, by name (ignored below 2.35); the CLI too', async () => {
  for (const name of ['kp-c', 'kp-a', 'kp-b']) {
    assert.equal((await nova(tAlice, '2.35')('POST', '/os-keypairs', { keypair: { name } })).status, 201);
  }
  const names = (b: { keypairs: { keypair: { name: string } }[] }) => b.keypairs.map((k) => k.keypair.name);
  const ignored = await nova(tAlice, '2.34')('GET', '/os-keypairs?limit=1&marker=nope');
  assert.equal(ignored.status, 200, ignored.text);
  assertNovaResponse('keypairs', 'KeypairController', 'index', '2.34', ignored.body);
  assert.deepEqual(names(ignored.body), ['kp-a', 'kp-b', 'kp-c']);
  const first = await nova(tAlice, '2.35')('GET', '/os-keypairs?limit=2');
  assert.equal(first.status, 200, first.text);
  assertNovaResponse('keypairs', 'KeypairController', 'index', '2.35', first.body);
  assert.deepEqual(names(first.body), ['kp-a', 'kp-b']);
  const next = new URL(first.body.keypairs_links[0].href);
  assert.equal(next.pathname, '/compute/v2.1/os-keypairs');
  assert.equal(next.searchParams.get('marker'), 'kp-b');
  const rest = await nova(tAlice, '2.35')('GET', `/os-keypairs?${next.searchParams}`);
  assertNovaResponse('keypairs', 'KeypairController', 'index', '2.35', rest.body);
  assert.deepEqual(names(rest.body), ['kp-c']);
  assert.ok(!('keypairs_links' in rest.body));
  const bad = await nova(tAlice, '2.35')('GET', '/os-keypairs?marker=nope');
  assert.equal(bad.status, 400);
  assert.equal(msg(bad.body), 'Marker nope could not be found.');
  assert.equal((await nova(tAlice, '2.35')('GET', '/os-keypairs?limit=x')).status, 400);
  const cli = await arm.stack.oscJson<{ Name: string }[]>([...cliVersion('2.35'), 'keypair', 'list', '--marker', 'kp-a'], alice);
  assert.deepEqual(
    cli.map((k) => k.Name),
    ['kp-b', 'kp-c'],
  );
});

test('2.36: the proxy APIs answer 404; quota sets and limits lose the network quotas (quota classes keep them)', async () => {
  for (const p of ['/images', '/images/detail', `/images/${image}`, '/os-floating-ips', '/os-floating-ip-pools', '/os-security-groups']) {
    const below = await nova(tAlice, '2.35')('GET', p);
    assert.equal(below.status, 200, `${p} at 2.35: ${below.text}`);
    const at = await nova(tAlice, '2.36')('GET', p);
    assert.equal(at.status, 404, `${p} at 2.36`);
    assert.equal(msg(at.body), 'The resource could not be found.');
  }
  const sg = await nova(tAlice, '2.36')('POST', '/os-security-groups', { security_group: { name: 'x', description: 'y' } });
  assert.equal(sg.status, 404);
  // The image metadata proxy lasts until 2.38; os-fixed-ips is gone (410) at every version.
  assert.equal((await nova(tAlice, '2.36')('GET', `/images/${image}/metadata`)).status, 200);
  assert.equal((await nova(tAdmin, '2.36')('GET', '/os-fixed-ips/10.0.0.4')).status, 410);

  const q = (mv: string, suffix = '') => nova(tAdmin, mv)('GET', `/os-quota-sets/${alice.projectId}${suffix}`);
  const q235 = await q('2.35');
  assertNovaResponse('quota_sets', 'QuotaSetsController', 'show', '2.35', q235.body);
  assert.equal(typeof q235.body.quota_set.floating_ips, 'number');
  for (const [suffix, method] of [
    ['', 'show'],
    ['/detail', 'detail'],
    ['/defaults', 'defaults'],
  ] as const) {
    const r = await q('2.36', suffix);
    assert.equal(r.status, 200, r.text);
    assertNovaResponse('quota_sets', 'QuotaSetsController', method, '2.36', r.body);
    for (const k of ['fixed_ips', 'floating_ips', 'security_groups', 'security_group_rules']) assert.ok(!(k in r.body.quota_set), `${k} in ${suffix}`);
  }
  const put = (mv: string, body: unknown) => nova(tAdmin, mv)('PUT', `/os-quota-sets/${alice.projectId}`, { quota_set: body });
  assert.equal((await put('2.35', { floating_ips: 12 })).status, 200);
  const refused = await put('2.36', { floating_ips: 12 });
  assert.equal(refused.status, 400);
  assert.match(msg(refused.body), /Additional properties are not allowed \('floating_ips' was unexpected\)/);
  const updated = await put('2.36', { cores: 40 });
  assert.equal(updated.status, 200, updated.text);
  assertNovaResponse('quota_sets', 'QuotaSetsController', 'update', '2.36', updated.body);
  const cls = await nova(tAdmin, '2.36')('GET', '/os-quota-class-sets/default');
  assertNovaResponse('quota_classes', 'QuotaClassSetsController', 'show', '2.36', cls.body);
  assert.equal(typeof cls.body.quota_class_set.floating_ips, 'number');

  const l235 = await nova(tAlice, '2.35')('GET', '/limits');
  assertNovaResponse('limits', 'LimitsController', 'index', '2.35', l235.body);
  assert.ok('maxSecurityGroups' in l235.body.limits.absolute);
  const l236 = await nova(tAlice, '2.36')('GET', '/limits');
  assertNovaResponse('limits', 'LimitsController', 'index', '2.36', l236.body);
  for (const k of ['maxSecurityGroups', 'maxSecurityGroupRules', 'maxTotalFloatingIps', 'totalFloatingIpsUsed', 'totalSecurityGroupsUsed']) assert.ok(!(k in l236.body.limits.absolute), k);
  assert.ok('maxImageMeta' in l236.body.limits.absolute);
  // The CLI (openstacksdk's names): the network limits have no value at 2.36.
  const cli = await arm.stack.oscJson<{ Name: string; Value: number | null }[]>([...cliVersion('2.36'), 'limits', 'show', '--absolute'], alice);
  const rows = Object.fromEntries(cli.map((x) => [x.Name, x.Value]));
  assert.equal(typeof rows.max_total_cores, 'number');
  assert.equal(rows.max_security_groups ?? null, null);
  assert.equal(rows.floating_ips_used ?? rows.total_floating_ips_used ?? null, null);
});
