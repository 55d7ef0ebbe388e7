// Compute microversions 2.2-2.19 (docs/microversions.md; 2.20-2.26 in compute-microversions-220.test.ts): for each version, every API it changes is
// exercised at the version before and at it, bodies checked against Nova's own response schema for that
// version (test/support/oracle.ts) and refusals against Nova's status. Plus the negotiation: the version
// document's max, `latest`, and 406 above it; and the real CLI where it drives a feature.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { X509Certificate, createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startArmStack, waitFor, type ArmStack } from '../support/armStack';
import { assertNovaResponse, novaStatus } from '../support/oracle';
import { testSshKey } from '../emulator/harness';
import type { Creds } from '../support/stack';
import { COMPUTE } from '../../shared/api/microversion';

const MAX = '2.100';
const ABOVE = '2.101';
let arm: ArmStack;
let alice: Creds & { projectId: string; userId: string };
let bob: Creds & { projectId: string; userId: string };
let tAlice: string;
let tBob: string;
let tAdmin: string;
let image: string;
let net: string;
let dir: string;

before(async () => {
  arm = await startArmStack({ asyncDelayMs: 0 });
  [alice, bob] = await Promise.all([arm.stack.makeProjectUser('mv-a', 'mvalice'), arm.stack.makeProjectUser('mv-b', 'mvbob')]);
  [tAlice, tBob, tAdmin] = await Promise.all([arm.stack.token(alice), arm.stack.token(bob), arm.stack.token()]);
  image = (await arm.stack.http('GET', '/image/v2/images?name=ubuntu-22.04', { token: tAlice })).body.images[0].id;
  net = (await arm.stack.http('GET', '/network/v2.0/networks?name=private', { token: tAlice })).body.networks[0].id;
  dir = mkdtempSync(path.join(tmpdir(), 'jacket-mv-'));
});
after(async () => {
  arm?.control.close();
  await arm?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** A Nova call at microversion `mv` (none: the default, 2.1). */
const nova = (token: string, mv?: string) => (method: string, p: string, body?: unknown) =>
  arm.stack.http(method, `/compute/v2.1${p}`, { token, body, headers: mv ? { 'OpenStack-API-Version': `compute ${mv}` } : {} });

async function waitStatus(id: string, status: string, token = tAlice) {
  return waitFor(
    `server ${id} ${status}`,
    async () => {
      const r = await nova(token)('GET', `/servers/${id}`);
      if (r.body?.server?.status === 'ERROR' && status !== 'ERROR') throw new Error(`server ${id} went ERROR: ${JSON.stringify(r.body.server.fault)}`);
      return r.body?.server?.status === status ? r.body.server : undefined;
    },
    120000,
  );
}

const bootBody = (name: string, extra: Record<string, unknown> = {}) => ({ server: { name, flavorRef: '3', imageRef: image, networks: [{ uuid: net }], ...extra } });

async function boot(name: string, mv?: string, extra: Record<string, unknown> = {}, hints?: Record<string, unknown>): Promise<string> {
  const r = await nova(tAlice, mv)('POST', '/servers', { ...bootBody(name, extra), ...(hints ? { 'os:scheduler_hints': hints } : {}) });
  assert.equal(r.status, 202, r.text);
  await waitStatus(r.body.server.id, 'ACTIVE');
  return r.body.server.id;
}

test(`negotiation: the version document says ${MAX}; latest is ${MAX}; above it 406`, async () => {
  assert.equal(COMPUTE.max, MAX);
  const doc = await arm.stack.http('GET', '/compute/v2.1');
  assert.equal(doc.body.version.version, MAX);
  assert.equal(doc.body.version.min_version, '2.1');
  const list = await arm.stack.http('GET', '/compute');
  assert.equal(list.body.versions[0].version, MAX);
  const latest = await nova(tAlice, 'latest')('GET', '/flavors');
  assert.equal(latest.status, 200);
  assert.equal(latest.headers.get('openstack-api-version'), `compute ${MAX}`);
  assert.equal(latest.headers.get('x-openstack-nova-api-version'), MAX);
  const legacy = await arm.stack.http('GET', '/compute/v2.1/flavors', { token: tAlice, headers: { 'X-OpenStack-Nova-API-Version': 'latest' } });
  assert.equal(legacy.headers.get('x-openstack-nova-api-version'), MAX);
  const above = await nova(tAlice, ABOVE)('GET', '/flavors');
  assert.equal(above.status, 406);
  assert.match(above.text, new RegExp(`Version ${ABOVE.replace('.', '\\.')} is not supported by the API. Minimum is 2.1 and maximum is ${MAX.replace('.', '\\.')}.`));
});

test('2.2: key pair type (ssh, x509: generated and imported), 201 create and 204 delete; 2.1 unchanged', async () => {
  const at = (mv: string) => nova(tAlice, mv);
  // 2.1: no type, 200 / 202; `type` is refused by the 2.1 schema.
  const old = await at('2.1')('POST', '/os-keypairs', { keypair: { name: 'old', public_key: testSshKey() } });
  assert.equal(old.status, novaStatus('keypairs', 'KeypairController', 'create', '2.1'));
  assertNovaResponse('keypairs', 'KeypairController', 'create', '2.1', old.body);
  assert.ok(!('type' in old.body.keypair));
  const typed21 = await at('2.1')('POST', '/os-keypairs', { keypair: { name: 'typed', type: 'ssh', public_key: testSshKey() } });
  assert.equal(typed21.status, 400);
  assert.match(typed21.body.badRequest.message, /Additional properties are not allowed \('type' was unexpected\)/);
  // 2.2: the type (default ssh), 201.
  const ssh = await at('2.2')('POST', '/os-keypairs', { keypair: { name: 'ssh22', public_key: testSshKey() } });
  assert.equal(ssh.status, 201);
  assert.equal(novaStatus('keypairs', 'KeypairController', 'create', '2.2'), 201);
  assertNovaResponse('keypairs', 'KeypairController', 'create', '2.2', ssh.body);
  assert.equal(ssh.body.keypair.type, 'ssh');
  const bad = await at('2.2')('POST', '/os-keypairs', { keypair: { name: 'bad', type: 'rsa' } });
  assert.equal(bad.status, 400);
  // x509 generated: a PKCS#12 bundle (empty password) holding the key of the PEM certificate
  // returned as public_key, CN = user id, UPN <user>@localhost; the fingerprint is the cert's SHA-1.
  const x = await at('2.2')('POST', '/os-keypairs', { keypair: { name: 'win', type: 'x509' } });
  assert.equal(x.status, 201, x.text);
  assertNovaResponse('keypairs', 'KeypairController', 'create', '2.2', x.body);
  assert.equal(x.body.keypair.type, 'x509');
  const cert = new X509Certificate(x.body.keypair.public_key);
  assert.equal(cert.subject, `CN=${alice.userId}`);
  assert.match(cert.subjectAltName ?? '', new RegExp(`${alice.userId}@localhost`));
  const sha1 = createHash('sha1').update(cert.raw).digest('hex').match(/../g)!.join(':');
  assert.equal(x.body.keypair.fingerprint, sha1);
  const p12 = path.join(dir, 'win.p12');
  writeFileSync(p12, Buffer.from(x.body.keypair.private_key, 'base64'));
  const keyPem = execFileSync('openssl', ['pkcs12', '-in', p12, '-passin', 'pass:', '-nocerts', '-nodes'], { encoding: 'utf8' });
  assert.ok(cert.checkPrivateKey((await import('node:crypto')).createPrivateKey(keyPem)), 'the bundle holds the certificate’s key');
  const certFromP12 = execFileSync('openssl', ['pkcs12', '-in', p12, '-passin', 'pass:', '-nokeys'], { encoding: 'utf8' });
  assert.equal(new X509Certificate(certFromP12).fingerprint, cert.fingerprint);
  // x509 imported: a PEM certificate; anything else is 400 InvalidKeypair.
  const imp = await at('2.2')('POST', '/os-keypairs', { keypair: { name: 'winimp', type: 'x509', public_key: x.body.keypair.public_key } });
  assert.equal(imp.status, 201, imp.text);
  assert.equal(imp.body.keypair.fingerprint, sha1);
  assert.ok(!('private_key' in imp.body.keypair));
  const notCert = await at('2.2')('POST', '/os-keypairs', { keypair: { name: 'nocert', type: 'x509', public_key: testSshKey() } });
  assert.equal(notCert.status, 400);
  assert.match(notCert.body.badRequest.message, /^Keypair data is invalid: failed to generate X509 fingerprint/);
  // list and show carry the type from 2.2 only.
  const l21 = await at('2.1')('GET', '/os-keypairs');
  assertNovaResponse('keypairs', 'KeypairController', 'index', '2.1', l21.body);
  const l22 = await at('2.2')('GET', '/os-keypairs');
  assertNovaResponse('keypairs', 'KeypairController', 'index', '2.2', l22.body);
  assert.deepEqual(l22.body.keypairs.map((k: { keypair: { name: string; type: string } }) => [k.keypair.name, k.keypair.type]).sort(), [
    ['old', 'ssh'],
    ['ssh22', 'ssh'],
    ['win', 'x509'],
    ['winimp', 'x509'],
  ]);
  const s21 = await at('2.1')('GET', '/os-keypairs/win');
  assertNovaResponse('keypairs', 'KeypairController', 'show', '2.1', s21.body);
  assert.ok(!('type' in s21.body.keypair));
  const s22 = await at('2.2')('GET', '/os-keypairs/win');
  assertNovaResponse('keypairs', 'KeypairController', 'show', '2.2', s22.body);
  assert.equal(s22.body.keypair.type, 'x509');
  // delete: 202 at 2.1, 204 from 2.2.
  assert.equal((await at('2.1')('DELETE', '/os-keypairs/old')).status, 202);
  const d = await at('2.2')('DELETE', '/os-keypairs/winimp');
  assert.equal(d.status, novaStatus('keypairs', 'KeypairController', 'delete', '2.2'));
  assert.equal(d.status, 204);
  // A server booted with an x509 key pair gets no SSH key on Azure (it is a WinRM certificate).
  await arm.control.clearRequests();
  const srv = await boot('x509-key', '2.2', { key_name: 'win' });
  const put = (await arm.control.requests()).find((r) => r.method === 'PUT' && r.path.endsWith(`/virtualMachines/${srv}`));
  const os = (put!.requestBody as { properties: { osProfile: { linuxConfiguration?: { ssh?: unknown } } } }).properties.osProfile;
  assert.equal(os.linuxConfiguration?.ssh, undefined);
  assert.equal((await nova(tAlice, '2.2')('GET', `/servers/${srv}`)).body.server.key_name, 'win');
  assert.equal((await nova(tAlice)('DELETE', `/servers/${srv}`)).status, 204);
});

test('2.3: more OS-EXT-SRV-ATTR for admins (hostname, reservation, launch index, user_data...), delete_on_termination; 2.9 locked', async () => {
  const userData = Buffer.from('#!/bin/sh\necho 2.3\n').toString('base64');
  const id = await boot('Ext Attr_Srv', undefined, { user_data: userData });
  const admin = (mv: string) => nova(tAdmin, mv)('GET', `/servers/${id}`);
  const s22 = await admin('2.2');
  assertNovaResponse('servers', 'ServersController', 'show', '2.2', s22.body);
  assert.ok(!('OS-EXT-SRV-ATTR:hostname' in s22.body.server));
  const s23 = await admin('2.3');
  assertNovaResponse('servers', 'ServersController', 'show', '2.3', s23.body);
  const v = s23.body.server;
  assert.equal(v['OS-EXT-SRV-ATTR:hostname'], 'ext-attr-srv');
  assert.equal(v['OS-EXT-SRV-ATTR:launch_index'], 0);
  assert.match(v['OS-EXT-SRV-ATTR:reservation_id'], /^r-[a-z0-9]{8}$/);
  assert.equal(v['OS-EXT-SRV-ATTR:kernel_id'], '');
  assert.equal(v['OS-EXT-SRV-ATTR:ramdisk_id'], '');
  assert.equal(v['OS-EXT-SRV-ATTR:root_device_name'], '/dev/sda');
  assert.equal(v['OS-EXT-SRV-ATTR:user_data'], userData);
  assert.deepEqual(v['os-extended-volumes:volumes_attached'], []);
  // Not for the owner (the policy is admin's).
  const own = await nova(tAlice, '2.3')('GET', `/servers/${id}`);
  assertNovaResponse('servers', 'ServersController', 'show', '2.3', own.body);
  assert.ok(!Object.keys(own.body.server).some((k) => k.startsWith('OS-EXT-SRV-ATTR')));
  const detail = await nova(tAdmin, '2.3')('GET', `/servers/detail?all_tenants=1`);
  assertNovaResponse('servers', 'ServersController', 'detail', '2.3', detail.body);
  assert.equal(detail.body.servers.find((x: { id: string }) => x.id === id)['OS-EXT-SRV-ATTR:user_data'], userData);
  // A long user_data (Nova's 65535 limit is beyond one table property) is kept and shown whole.
  // It also stays out of the build's queue message: the build reads it from where it is kept.
  const long = Buffer.alloc(48000, 'x').toString('base64');
  await arm.control.clearRequests();
  const big = await boot('big-ud', '2.3', { user_data: long });
  assert.equal((await nova(tAdmin, '2.3')('GET', `/servers/${big}`)).body.server['OS-EXT-SRV-ATTR:user_data'], long);
  const put = (await arm.control.requests()).find((r) => r.method === 'PUT' && r.path.endsWith(`/virtualMachines/${big}`));
  assert.equal((put!.requestBody as { properties: { osProfile: { customData: string } } }).properties.osProfile.customData, long);
  assert.equal((await nova(tAlice)('DELETE', `/servers/${big}`)).status, 204);

  // 2.9: locked, in show, detail, update and rebuild.
  assert.equal((await nova(tAlice)('POST', `/servers/${id}/action`, { lock: null })).status, 202);
  const s28 = await nova(tAlice, '2.8')('GET', `/servers/${id}`);
  assertNovaResponse('servers', 'ServersController', 'show', '2.8', s28.body);
  assert.ok(!('locked' in s28.body.server));
  const s29 = await nova(tAlice, '2.9')('GET', `/servers/${id}`);
  assertNovaResponse('servers', 'ServersController', 'show', '2.9', s29.body);
  assert.equal(s29.body.server.locked, true);
  const d29 = await nova(tAlice, '2.9')('GET', '/servers/detail');
  assertNovaResponse('servers', 'ServersController', 'detail', '2.9', d29.body);
  const u28 = await nova(tAlice, '2.8')('PUT', `/servers/${id}`, { server: { name: 'Ext Attr_Srv' } });
  assertNovaResponse('servers', 'ServersController', 'update', '2.8', u28.body);
  const u29 = await nova(tAlice, '2.9')('PUT', `/servers/${id}`, { server: { name: 'renamed' } });
  assertNovaResponse('servers', 'ServersController', 'update', '2.9', u29.body);
  assert.equal(u29.body.server.locked, true);
  assert.equal((await nova(tAlice)('POST', `/servers/${id}/action`, { unlock: null })).status, 202);
  assert.equal((await nova(tAlice, '2.9')('GET', `/servers/${id}`)).body.server.locked, false);
  // The hostname stays what the server was made with (Nova changes it only from 2.90).
  assert.equal((await admin('2.9')).body.server['OS-EXT-SRV-ATTR:hostname'], 'ext-attr-srv');
  const rb = await nova(tAlice, '2.9')('POST', `/servers/${id}/action`, { rebuild: { imageRef: image } });
  assert.equal(rb.status, 202, rb.text);
  assertNovaResponse('servers', 'ServersController', '_rebuild', '2.9', rb.body);
  assert.equal(rb.body.server.locked, false);
  await waitStatus(id, 'ACTIVE');
  assert.equal((await nova(tAlice)('DELETE', `/servers/${id}`)).status, 204);
});

test('2.4 os-fixed-ips and 2.12 os-virtual-interfaces: gone upstream, 410 at every version', async () => {
  for (const mv of ['2.3', '2.4', MAX]) {
    const r = await nova(tAdmin, mv)('GET', '/os-fixed-ips/10.0.0.4');
    assert.equal(r.status, 410);
    assert.equal(r.body.computeFault.message, 'This resource is no longer available. No forwarding address is given.');
    assert.equal((await nova(tAdmin, mv)('POST', '/os-fixed-ips/10.0.0.4/action', { reserve: null })).status, 410);
  }
  for (const mv of ['2.11', '2.12']) assert.equal((await nova(tAlice, mv)('GET', '/servers/00000000-0000-4000-8000-000000000000/os-virtual-interfaces')).status, 410);
});

test('2.5: the ip6 filter for everyone (ignored for non-admins below it)', async () => {
  const id = await boot('ip6-filter');
  const names = async (mv: string, q: string, token = tAlice) => ((await nova(token, mv)('GET', `/servers?${q}`)).body.servers as { id: string }[]).map((s) => s.id);
  // Below 2.5 a member's ip6 is dropped (Nova's remove_invalid_options): the list is unfiltered.
  assert.ok((await names('2.4', 'ip6=fd00%3A%3A99')).includes(id));
  assert.deepEqual(await names('2.5', 'ip6=fd00%3A%3A99'), []);
  // An admin's ip6 applies at any version; ip and ip6 together list the servers matching either.
  assert.deepEqual(await names('2.1', 'ip6=fd00%3A%3A99&all_tenants=1', tAdmin), []);
  const addr = (await nova(tAlice)('GET', `/servers/${id}`)).body.server.addresses.private[0].addr as string;
  assert.ok((await names('2.5', `ip=${addr}&ip6=fd00%3A%3A99`)).includes(id));
  // The query schema checks the regex for everyone at every version, before a filter is dropped.
  for (const mv of ['2.4', '2.5']) {
    const bad = await nova(tAlice, mv)('GET', '/servers?ip6=(');
    assert.equal(bad.status, 400);
    assert.equal(bad.body.badRequest.message, "Invalid input for query parameters ip6. Value: (. '(' is not a 'regex'");
  }
  assert.equal((await nova(tAlice)('DELETE', `/servers/${id}`)).status, 204);
});

test('2.6/2.8: POST /servers/{id}/remote-consoles (mks from 2.8): 404 below 2.6; Nova checks, then 501 as for a driver without consoles', async () => {
  const id = await boot('consoles');
  const rc = (mv: string, body: unknown) => nova(tAlice, mv)('POST', `/servers/${id}/remote-consoles`, body);
  assert.equal((await rc('2.5', { remote_console: { protocol: 'vnc', type: 'novnc' } })).status, 404);
  const vnc = await rc('2.6', { remote_console: { protocol: 'vnc', type: 'novnc' } });
  assert.equal(vnc.status, 501);
  assert.equal(Object.values(vnc.body as Record<string, { message: string }>)[0].message, 'The requested functionality is not supported.');
  for (const [protocol, type] of [
    ['spice', 'spice-html5'],
    ['serial', 'serial'],
  ]) {
    assert.equal((await rc('2.6', { remote_console: { protocol, type } })).status, 501);
  }
  const rdp = await rc('2.6', { remote_console: { protocol: 'rdp', type: 'rdp-html5' } });
  assert.equal(rdp.status, 400);
  assert.equal(rdp.body.badRequest.message, 'Unavailable console type rdp.');
  const wrong = await rc('2.6', { remote_console: { protocol: 'vnc', type: 'serial' } });
  assert.equal(wrong.status, 400);
  assert.equal(wrong.body.badRequest.message, 'Invalid console type serial');
  assert.equal((await rc('2.6', { remote_console: { protocol: 'vnc' } })).status, 400);
  // mks: the schema's from 2.8.
  assert.equal((await rc('2.7', { remote_console: { protocol: 'mks', type: 'webmks' } })).status, 400);
  assert.equal((await rc('2.8', { remote_console: { protocol: 'mks', type: 'webmks' } })).status, 501);
  assert.equal((await nova(tAlice, '2.8')('POST', '/servers/00000000-0000-4000-8000-000000000000/remote-consoles', { remote_console: { protocol: 'mks', type: 'webmks' } })).status, 404);
  // The console actions it replaces exist up to 2.5 (501 there), a bare 404 from 2.6 (Nova's api_version), before the body is read.
  for (const [action, type] of [
    ['os-getVNCConsole', 'novnc'],
    ['os-getSPICEConsole', 'spice-html5'],
    ['os-getSerialConsole', 'serial'],
  ]) {
    assert.equal((await nova(tAlice, '2.5')('POST', `/servers/${id}/action`, { [action]: { type } })).status, 501);
    const gone = await nova(tAlice, '2.6')('POST', `/servers/${id}/action`, { [action]: { bogus: 1 } });
    assert.equal(gone.status, 404);
    assert.equal(gone.body.itemNotFound.message, 'The resource could not be found.');
  }
  assert.equal((await nova(tAlice, '2.6')('POST', `/servers/${id}/action`, { 'os-getRDPConsole': { type: 'rdp-html5' } })).status, 404);
  assert.equal((await nova(tAlice)('DELETE', `/servers/${id}`)).status, 204);
});

test('2.7: adding access to a public flavor is 409 from 2.7 (recorded below it)', async () => {
  const f = await nova(tAdmin)('POST', '/flavors', { flavor: { name: 'mv-public', ram: 1024, vcpus: 1, disk: 10, id: 'mv-public' } });
  assert.equal(f.status, 200, f.text);
  const add = (mv: string) => nova(tAdmin, mv)('POST', '/flavors/mv-public/action', { addTenantAccess: { tenant: alice.projectId } });
  const r27 = await add('2.7');
  assert.equal(r27.status, 409);
  assert.equal(r27.body.conflictingRequest.message, 'Can not add access to a public flavor.');
  assert.equal((await add('2.6')).status, 200);
  assert.equal((await nova(tAdmin)('DELETE', '/flavors/mv-public')).status, 202);
});

test('2.10: admins create, list, show and delete key pairs of any user (user_id); others 403; ignored below 2.10', async () => {
  const admin = (mv: string) => nova(tAdmin, mv);
  const made = await admin('2.10')('POST', '/os-keypairs', { keypair: { name: 'for-bob', public_key: testSshKey(), user_id: bob.userId } });
  assert.equal(made.status, 201, made.text);
  assertNovaResponse('keypairs', 'KeypairController', 'create', '2.10', made.body);
  assert.equal(made.body.keypair.user_id, bob.userId);
  // Bob sees it as his own.
  const mine = await nova(tBob, '2.10')('GET', '/os-keypairs/for-bob');
  assert.equal(mine.status, 200);
  assert.equal(mine.body.keypair.user_id, bob.userId);
  // user_id is not in the schema below 2.10.
  const below = await admin('2.9')('POST', '/os-keypairs', { keypair: { name: 'x', public_key: testSshKey(), user_id: bob.userId } });
  assert.equal(below.status, 400);
  // The admin lists and shows Bob's with ?user_id=; below 2.10 the parameter is ignored (the admin's own).
  const list = await admin('2.10')('GET', `/os-keypairs?user_id=${bob.userId}`);
  assertNovaResponse('keypairs', 'KeypairController', 'index', '2.10', list.body);
  assert.deepEqual(
    list.body.keypairs.map((k: { keypair: { name: string } }) => k.keypair.name),
    ['for-bob'],
  );
  assert.ok(!(await admin('2.9')('GET', `/os-keypairs?user_id=${bob.userId}`)).body.keypairs.some((k: { keypair: { name: string } }) => k.keypair.name === 'for-bob'));
  assert.equal((await admin('2.9')('GET', `/os-keypairs/for-bob?user_id=${bob.userId}`)).status, 404);
  const shown = await admin('2.10')('GET', `/os-keypairs/for-bob?user_id=${bob.userId}`);
  assertNovaResponse('keypairs', 'KeypairController', 'show', '2.10', shown.body);
  // Alice may not act for Bob: Nova's 403.
  const forbidden = await nova(tAlice, '2.10')('POST', '/os-keypairs', { keypair: { name: 'evil', public_key: testSshKey(), user_id: bob.userId } });
  assert.equal(forbidden.status, 403);
  assert.equal(forbidden.body.forbidden.message, "Policy doesn't allow os_compute_api:os-keypairs:create to be performed.");
  assert.equal((await nova(tAlice, '2.10')('GET', `/os-keypairs?user_id=${bob.userId}`)).status, 403);
  assert.equal((await nova(tAlice, '2.10')('DELETE', `/os-keypairs/for-bob?user_id=${bob.userId}`)).status, 403);
  assert.equal((await admin('2.10')('DELETE', `/os-keypairs/for-bob?user_id=${bob.userId}`)).status, 204);
  assert.equal((await nova(tBob, '2.10')('GET', '/os-keypairs/for-bob')).status, 404);
});

test('2.13/2.15: server groups show project_id and user_id; soft policies, and a soft member Azure cannot place is built outside the group', async () => {
  const c212 = await nova(tAlice, '2.12')('POST', '/os-server-groups', { server_group: { name: 'g212', policies: ['affinity'] } });
  assertNovaResponse('server_groups', 'ServerGroupController', 'create', '2.12', c212.body);
  assert.ok(!('project_id' in c212.body.server_group));
  const s213 = await nova(tAlice, '2.13')('GET', `/os-server-groups/${c212.body.server_group.id}`);
  assertNovaResponse('server_groups', 'ServerGroupController', 'show', '2.13', s213.body);
  assert.equal(s213.body.server_group.project_id, alice.projectId);
  assert.equal(s213.body.server_group.user_id, alice.userId);
  assertNovaResponse('server_groups', 'ServerGroupController', 'index', '2.13', (await nova(tAlice, '2.13')('GET', '/os-server-groups')).body);
  // Soft policies: 400 below 2.15.
  const soft214 = await nova(tAlice, '2.14')('POST', '/os-server-groups', { server_group: { name: 'soft', policies: ['soft-affinity'] } });
  assert.equal(soft214.status, 400);
  const soft = await nova(tAlice, '2.15')('POST', '/os-server-groups', { server_group: { name: 'soft', policies: ['soft-affinity'] } });
  assert.equal(soft.status, 200, soft.text);
  assertNovaResponse('server_groups', 'ServerGroupController', 'create', '2.15', soft.body);
  assert.deepEqual(soft.body.server_group.policies, ['soft-affinity']);
  const anti = await nova(tAlice, '2.15')('POST', '/os-server-groups', { server_group: { name: 'soft-anti', policies: ['soft-anti-affinity'] } });
  assert.equal(anti.status, 200);
  assertNovaResponse('server_groups', 'ServerGroupController', 'index', '2.15', (await nova(tAlice, '2.15')('GET', '/os-server-groups')).body);
  // A soft-affinity member: in the group's proximity placement group when Azure can place it there...
  const g = soft.body.server_group.id;
  const m1 = await boot('soft-1', '2.15', {}, { group: g });
  const vm1 = await arm.compute.virtualMachines.get('ops_resource_group', m1);
  assert.match(vm1.proximityPlacementGroup?.id ?? '', new RegExp(`ppg-${g}$`, 'i'));
  // ...and outside it when Azure cannot (Nova's soft weigher only prefers): ACTIVE, a member still.
  await arm.control.addFault({
    method: 'PUT',
    path: '/virtualMachines/',
    failAsync: true,
    code: 'OverconstrainedAllocationRequest',
    message: 'Allocation failed. VM(s) with the following constraints cannot be allocated, because the condition is too restrictive.',
  });
  const m2 = await boot('soft-2', '2.15', {}, { group: g });
  const vm2 = await arm.compute.virtualMachines.get('ops_resource_group', m2);
  assert.equal(vm2.proximityPlacementGroup, undefined);
  const members = (await nova(tAlice, '2.15')('GET', `/os-server-groups/${g}`)).body.server_group.members as string[];
  assert.deepEqual(members.sort(), [m1, m2].sort());
  for (const id of [m1, m2]) assert.equal((await nova(tAlice)('DELETE', `/servers/${id}`)).status, 204);
});

test('2.11/2.14/2.16: forced_down and force-down; host_status UP, MAINTENANCE, DOWN; evacuate from a down host (onSharedStorage gone at 2.14)', async () => {
  const id = await boot('host-status');
  const victim = await boot('evacuee');
  const host = (await nova(tAdmin)('GET', `/servers/${id}`)).body.server['OS-EXT-SRV-ATTR:host'] as string;
  // services: forced_down from 2.11.
  const l210 = await nova(tAdmin, '2.10')('GET', '/os-services?binary=nova-compute');
  assertNovaResponse('services', 'ServiceController', 'index', '2.10', l210.body);
  assert.ok(!('forced_down' in l210.body.services[0]));
  const l211 = await nova(tAdmin, '2.11')('GET', '/os-services?binary=nova-compute');
  assertNovaResponse('services', 'ServiceController', 'index', '2.11', l211.body);
  assert.equal(l211.body.services[0].forced_down, false);
  // host_status from 2.16, for admins only.
  const s215 = await nova(tAdmin, '2.15')('GET', `/servers/${id}`);
  assert.ok(!('host_status' in s215.body.server));
  const s216 = await nova(tAdmin, '2.16')('GET', `/servers/${id}`);
  assertNovaResponse('servers', 'ServersController', 'show', '2.16', s216.body);
  assert.equal(s216.body.server.host_status, 'UP');
  const own = await nova(tAlice, '2.16')('GET', `/servers/${id}`);
  assertNovaResponse('servers', 'ServersController', 'show', '2.16', own.body);
  assert.ok(!('host_status' in own.body.server));
  assertNovaResponse('servers', 'ServersController', 'detail', '2.16', (await nova(tAdmin, '2.16')('GET', '/servers/detail?all_tenants=1')).body);
  // Evacuate while the host is up: 400 ComputeServiceInUse; onSharedStorage is required below 2.14 and refused from it.
  const ev = (mv: string, body: unknown) => nova(tAdmin, mv)('POST', `/servers/${victim}/action`, { evacuate: body });
  assert.equal((await ev('2.13', {})).status, 400);
  const inUse = await ev('2.13', { onSharedStorage: false });
  assert.equal(inUse.status, 400);
  assert.equal(inUse.body.badRequest.message, `Compute service of ${host} is still in use.`);
  assert.equal((await ev('2.13', { onSharedStorage: true, adminPass: 'x' })).body.badRequest.message, "admin password can't be changed on existing disk");
  const shared214 = await ev('2.14', { onSharedStorage: false });
  assert.equal(shared214.status, 400);
  assert.match(shared214.body.badRequest.message, /'onSharedStorage' was unexpected/);
  assert.equal((await ev('2.14', {})).body.badRequest.message, `Compute service of ${host} is still in use.`);

  // disable: MAINTENANCE.
  const put = (mv: string, action: string, body: Record<string, unknown>) => nova(tAdmin, mv)('PUT', `/os-services/${action}`, { host, binary: 'nova-compute', ...body });
  assert.equal((await put('2.11', 'disable', {})).status, 200);
  assert.equal((await nova(tAdmin, '2.16')('GET', `/servers/${id}`)).body.server.host_status, 'MAINTENANCE');
  assert.equal((await put('2.11', 'enable', {})).status, 200);
  // force-down: "Unknown action" below 2.11.
  const fd210 = await put('2.10', 'force-down', { forced_down: true });
  assert.equal(fd210.status, 400, 'forced_down is not in the 2.10 schema');
  const fd210b = await put('2.10', 'force-down', {});
  assert.equal(fd210b.status, 404);
  assert.equal(fd210b.body.itemNotFound.message, 'Unknown action');
  assert.equal((await put('2.11', 'force-down', {})).body.badRequest.message, 'Missing forced_down field');
  assert.equal((await nova(tAdmin, '2.11')('PUT', '/os-services/force-down', { host, binary: 'nova-scheduler', forced_down: true })).status, 400);
  assert.equal((await nova(tAdmin, '2.11')('PUT', '/os-services/force-down', { host: 'nohost', binary: 'nova-compute', forced_down: true })).status, 404);
  const fd = await put('2.11', 'force-down', { forced_down: 'True' });
  assert.equal(fd.status, 200, fd.text);
  assertNovaResponse('services', 'ServiceController', 'update', '2.11', fd.body);
  assert.deepEqual(fd.body, { service: { host, binary: 'nova-compute', forced_down: true } });
  try {
    const down = (await nova(tAdmin, '2.11')('GET', '/os-services?binary=nova-compute')).body.services[0];
    assert.equal(down.forced_down, true);
    assert.equal(down.state, 'down');
    assert.equal((await nova(tAdmin, '2.16')('GET', `/servers/${id}`)).body.server.host_status, 'DOWN');
    // Evacuate from the down host: accepted (2.14: no body; 2.13 would return adminPass), then no other host: ERROR NoValidHost.
    const e = await ev('2.14', {});
    assert.equal(e.status, 200, e.text);
    assert.equal(e.text, '');
    const srv = await waitStatus(victim, 'ERROR', tAdmin);
    assert.match(srv.fault.message, /^No valid host was found/);
    const acts = (await nova(tAdmin)('GET', `/servers/${victim}/os-instance-actions`)).body.instanceActions as { action: string; message: string | null }[];
    assert.equal(acts.find((a) => a.action === 'evacuate')?.message, 'Error');
  } finally {
    const up = await put('2.11', 'force-down', { forced_down: false });
    assert.equal(up.status, 200, up.text);
  }
  assert.equal((await nova(tAdmin, '2.16')('GET', `/servers/${id}`)).body.server.host_status, 'UP');
  for (const s of [id, victim]) assert.equal((await nova(tAdmin)('DELETE', `/servers/${s}`)).status, 204);
});

test('2.11 through the CLI: openstack compute service set --down / --up', async () => {
  const host = (await nova(tAdmin, '2.11')('GET', '/os-services?binary=nova-compute')).body.services[0].host as string;
  await arm.stack.oscOk(['--os-compute-api-version', '2.11', 'compute', 'service', 'set', '--down', host, 'nova-compute']);
  const listed = await arm.stack.oscJson<{ Binary: string; State: string; 'Forced Down': boolean }[]>(['--os-compute-api-version', '2.11', 'compute', 'service', 'list', '--long']);
  const c = listed.find((x) => x.Binary === 'nova-compute')!;
  assert.equal(c.State, 'down');
  assert.equal(c['Forced Down'], true);
  await arm.stack.oscOk(['--os-compute-api-version', '2.11', 'compute', 'service', 'set', '--up', host, 'nova-compute']);
  const after = await arm.stack.oscJson<{ Binary: string; State: string }[]>(['compute', 'service', 'list']);
  assert.equal(after.find((x) => x.Binary === 'nova-compute')!.State, 'up');
});

test('2.17: trigger_crash_dump: 404 below; then 202 with its event failing (no NMI on Azure), the server as it was', async () => {
  const id = await boot('crash');
  const tc = (mv: string) => nova(tAlice, mv)('POST', `/servers/${id}/action`, { trigger_crash_dump: null });
  assert.equal((await tc('2.16')).status, 404);
  const r = await tc('2.17');
  assert.equal(r.status, 202, r.text);
  const acts = (await nova(tAlice)('GET', `/servers/${id}/os-instance-actions`)).body.instanceActions as { action: string; request_id: string; message: string | null }[];
  const a = acts.find((x) => x.action === 'trigger_crash_dump')!;
  assert.equal(a.message, 'Error');
  const detail = (await nova(tAdmin)('GET', `/servers/${id}/os-instance-actions/${a.request_id}`)).body.instanceAction;
  assert.equal(detail.events[0].event, 'compute_trigger_crash_dump');
  assert.equal(detail.events[0].result, 'Error');
  assert.equal((await nova(tAlice)('GET', `/servers/${id}`)).body.server.status, 'ACTIVE');
  const bad = await nova(tAlice, '2.17')('POST', `/servers/${id}/action`, { trigger_crash_dump: {} });
  assert.equal(bad.status, 400);
  assert.equal((await nova(tAlice)('POST', `/servers/${id}/action`, { lock: null })).status, 202);
  assert.equal((await nova(tBob, '2.17')('POST', `/servers/${id}/action`, { trigger_crash_dump: null })).status, 404);
  assert.equal((await nova(tAlice)('POST', `/servers/${id}/action`, { unlock: null })).status, 202);
  assert.equal((await nova(tAlice)('DELETE', `/servers/${id}`)).status, 204);
});

test('2.18: the project-less URL serves every version (the catalog has no project id)', async () => {
  for (const mv of ['2.17', '2.18', MAX]) assert.equal((await nova(tAlice, mv)('GET', '/servers')).status, 200);
});

test('2.19: server description at create, update and rebuild (below it: refused, and the name)', async () => {
  // Created below 2.19, a server's description is its name (Nova's display_description).
  const plain = await boot('no-desc', '2.18');
  const s218 = await nova(tAlice, '2.18')('GET', `/servers/${plain}`);
  assertNovaResponse('servers', 'ServersController', 'show', '2.18', s218.body);
  assert.ok(!('description' in s218.body.server));
  assert.equal((await nova(tAlice, '2.19')('GET', `/servers/${plain}`)).body.server.description, 'no-desc');
  const refused = await nova(tAlice, '2.18')('POST', '/servers', bootBody('d', { description: 'x' }));
  assert.equal(refused.status, 400);
  assert.match(refused.body.badRequest.message, /'description' was unexpected/);
  assert.equal((await nova(tAlice, '2.19')('POST', '/servers', bootBody('d', { description: 'tab\there' }))).status, 400);
  assert.equal((await nova(tAlice, '2.19')('POST', '/servers', bootBody('d', { description: 'x'.repeat(256) }))).status, 400);
  const id = await boot('with-desc', '2.19', { description: 'a web server — ünïcode' });
  const s = await nova(tAlice, '2.19')('GET', `/servers/${id}`);
  assertNovaResponse('servers', 'ServersController', 'show', '2.19', s.body);
  assert.equal(s.body.server.description, 'a web server — ünïcode');
  assertNovaResponse('servers', 'ServersController', 'detail', '2.19', (await nova(tAlice, '2.19')('GET', '/servers/detail')).body);
  assertNovaResponse('servers', 'ServersController', 'show', '2.19', (await nova(tAdmin, '2.19')('GET', `/servers/${id}`)).body);
  assert.equal((await nova(tAlice, '2.18')('PUT', `/servers/${id}`, { server: { description: 'y' } })).status, 400);
  const u = await nova(tAlice, '2.19')('PUT', `/servers/${id}`, { server: { description: 'changed' } });
  assert.equal(u.status, 200, u.text);
  assertNovaResponse('servers', 'ServersController', 'update', '2.19', u.body);
  assert.equal(u.body.server.description, 'changed');
  const cleared = await nova(tAlice, '2.19')('PUT', `/servers/${id}`, { server: { description: null } });
  assert.equal(cleared.body.server.description, null);
  assert.equal((await nova(tAlice, '2.18')('POST', `/servers/${id}/action`, { rebuild: { imageRef: image, description: 'r' } })).status, 400);
  const rb = await nova(tAlice, '2.19')('POST', `/servers/${id}/action`, { rebuild: { imageRef: image, description: 'rebuilt' } });
  assert.equal(rb.status, 202, rb.text);
  assertNovaResponse('servers', 'ServersController', '_rebuild', '2.19', rb.body);
  assert.equal(rb.body.server.description, 'rebuilt');
  await waitStatus(id, 'ACTIVE');
  for (const x of [plain, id]) assert.equal((await nova(tAlice)('DELETE', `/servers/${x}`)).status, 204);
});

test('2.19 through the CLI: openstack server create --description, server set --description, server show', async () => {
  const created = await arm.stack.oscJson<{ id: string; description?: string }>(
    ['--os-compute-api-version', '2.19', 'server', 'create', '--flavor', '3', '--image', image, '--network', net, '--description', 'made by the CLI', '--wait', 'cli-desc'],
    alice,
  );
  assert.equal(created.description, 'made by the CLI');
  await arm.stack.oscOk(['--os-compute-api-version', '2.19', 'server', 'set', '--description', 'set by the CLI', created.id], alice);
  const shown = await arm.stack.oscJson<{ description: string }>(['--os-compute-api-version', '2.19', 'server', 'show', created.id], alice);
  assert.equal(shown.description, 'set by the CLI');
  await arm.stack.oscOk(['server', 'delete', '--wait', created.id], alice);
});
