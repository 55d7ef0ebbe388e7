// Server sub-resources end to end (real CLI and HTTP, the app against the ARM emulator): metadata (six
// calls, quota, states, lock), addresses (ips), os-server-password, os-virtual-interfaces, and the
// extended attribute / status / zone keys of the server view, every body checked against Nova's schemas.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startArmStack, type ArmStack } from '../support/armStack';
import type { Stack, Creds } from '../support/stack';
import { assertNovaResponse } from '../support/oracle';
import { getServerAny, updateServer, type ServerRecord } from '../../shared/compute/servers/model';
import { storeEncryptedPassword } from '../../shared/compute/servers/api/password';

let arm: ArmStack;
let stack: Stack;
let alice: Creds & { projectId: string; userId: string };
let bob: Creds & { projectId: string; userId: string };
let carol: Creds; // reader on alice's project
let tAlice: string;
let tBob: string;
let tCarol: string;
let tAdmin: string;
let serverId: string;
const MV = '2.1';
const C = 'ServerMetadataController';

const meta = (suffix = '') => `/compute/v2.1/servers/${serverId}/metadata${suffix}`;

before(async () => {
  arm = await startArmStack();
  stack = arm.stack;
  alice = await stack.makeProjectUser('sub-a', 'alice');
  bob = await stack.makeProjectUser('sub-b', 'bob');
  [tAlice, tBob, tAdmin] = await Promise.all([stack.token(alice), stack.token(bob), stack.token()]);
  // carol: a reader of alice's project
  const u = await stack.http('POST', '/identity/v3/users', { token: tAdmin, body: { user: { name: 'carol', password: 'Carol-pass-1a' } } });
  const reader = (await stack.http('GET', '/identity/v3/roles?name=reader', { token: tAdmin })).body.roles[0].id;
  const g = await stack.http('PUT', `/identity/v3/projects/${alice.projectId}/users/${u.body.user.id}/roles/${reader}`, { token: tAdmin });
  assert.equal(g.status, 204, g.text);
  carol = { username: 'carol', password: 'Carol-pass-1a', project: 'sub-a' };
  tCarol = await stack.token(carol);
  const created = await stack.oscJson(
    ['server', 'create', '--flavor', 'm1.medium', '--image', 'ubuntu-22.04', '--network', 'private', '--property', 'role=web', '--password', 'Sub-pass-123', '--wait', 'sub1'],
    alice,
  );
  assert.equal(created.status, 'ACTIVE');
  serverId = created.id;
});
after(async () => {
  arm?.control.close();
  await arm?.stop();
});

async function patchRecord(change: (v: ServerRecord) => ServerRecord): Promise<void> {
  const cur = await getServerAny(stack.cloud.services, serverId);
  assert.ok(cur);
  await updateServer(stack.cloud.services, cur, change);
}

test("server metadata: the six calls over HTTP, each body as Nova's schema says", async () => {
  const index = await stack.http('GET', meta(), { token: tAlice });
  assert.equal(index.status, 200);
  assertNovaResponse('server_metadata', C, 'index', MV, index.body);
  assert.deepEqual(index.body, { metadata: { role: 'web' } }, 'the metadata given at create');

  const created = await stack.http('POST', meta(), { token: tAlice, body: { metadata: { tier: 'gold', 'a.b:c d-e_f': 'x' } } });
  assert.equal(created.status, 200, created.text);
  assertNovaResponse('server_metadata', C, 'create', MV, created.body);
  assert.deepEqual(created.body.metadata, { role: 'web', tier: 'gold', 'a.b:c d-e_f': 'x' }, 'POST merges');

  const shown = await stack.http('GET', meta('/tier'), { token: tAlice });
  assert.equal(shown.status, 200);
  assertNovaResponse('server_metadata', C, 'show', MV, shown.body);
  assert.deepEqual(shown.body, { meta: { tier: 'gold' } });

  const one = await stack.http('PUT', meta('/tier'), { token: tAlice, body: { meta: { tier: 'silver' } } });
  assert.equal(one.status, 200, one.text);
  assertNovaResponse('server_metadata', C, 'update', MV, one.body);
  assert.deepEqual(one.body, { meta: { tier: 'silver' } });

  const all = await stack.http('PUT', meta(), { token: tAlice, body: { metadata: { role: 'db', zone: '' } } });
  assert.equal(all.status, 200, all.text);
  assertNovaResponse('server_metadata', C, 'update_all', MV, all.body);
  assert.deepEqual(all.body.metadata, { role: 'db', zone: '' }, 'PUT replaces the whole set');

  const del = await stack.http('DELETE', meta('/zone'), { token: tAlice });
  assert.equal(del.status, 204);
  assert.equal(del.text, '');
  assertNovaResponse('server_metadata', C, 'delete', MV, del.body ?? null);
  // the server views show the same metadata
  const srv = await stack.http('GET', `/compute/v2.1/servers/${serverId}`, { token: tAlice });
  assert.deepEqual(srv.body.server.metadata, { role: 'db' });

  // refusals, in Nova's words, changing nothing
  const missing = await stack.http('GET', meta('/zone'), { token: tAlice });
  assert.equal(missing.status, 404);
  assert.deepEqual(missing.body, { itemNotFound: { code: 404, message: 'Metadata item was not found' } });
  assert.equal((await stack.http('DELETE', meta('/zone'), { token: tAlice })).body.itemNotFound.message, 'Metadata item was not found');
  const mismatch = await stack.http('PUT', meta('/role'), { token: tAlice, body: { meta: { other: 'x' } } });
  assert.equal(mismatch.status, 400);
  assert.equal(mismatch.body.badRequest.message, 'Request body and URI mismatch');
  const two = await stack.http('PUT', meta('/role'), { token: tAlice, body: { meta: { role: 'x', b: 'y' } } });
  assert.equal(two.status, 400);
  const badKey = await stack.http('POST', meta(), { token: tAlice, body: { metadata: { 'bad/key': 'x', ok: 'y', 'b@d': 'z' } } });
  assert.equal(badKey.status, 400);
  assert.match(badKey.body.badRequest.message, /^Invalid input for field\/attribute metadata\. Value: .*\. 'b@d', 'bad\/key' do not match any of the regexes: '\^\[a-zA-Z0-9-_:\. \]\{1,255\}\$'$/);
  const longValue = await stack.http('POST', meta(), { token: tAlice, body: { metadata: { k: 'v'.repeat(256) } } });
  assert.equal(longValue.status, 400);
  assert.match(longValue.body.badRequest.message, /^Invalid input for field\/attribute k\./);
  const longKey = await stack.http('POST', meta(), { token: tAlice, body: { metadata: { ['k'.repeat(256)]: 'v' } } });
  assert.equal(longKey.status, 400);
  const notString = await stack.http('PUT', meta(), { token: tAlice, body: { metadata: { k: 1 } } });
  assert.equal(notString.status, 400);
  assert.equal((await stack.http('PUT', meta(), { token: tAlice, body: { meta: {} } })).status, 400);
  assert.deepEqual((await stack.http('GET', meta(), { token: tAlice })).body.metadata, { role: 'db' }, 'nothing changed');
  const nosuch = await stack.http('GET', '/compute/v2.1/servers/00000000-0000-0000-0000-000000000000/metadata', { token: tAlice });
  assert.equal(nosuch.status, 404);
  assert.equal(nosuch.body.itemNotFound.message, 'Instance 00000000-0000-0000-0000-000000000000 could not be found.');
});

test('openstack server set/unset --property and server show (properties)', async () => {
  await stack.oscOk(['server', 'set', '--property', 'env=prod', '--property', 'owner=ops', 'sub1'], alice);
  let shown = await stack.oscJson(['server', 'show', 'sub1'], alice);
  assert.deepEqual(shown.properties, { role: 'db', env: 'prod', owner: 'ops' });
  await stack.oscOk(['server', 'unset', '--property', 'env', 'sub1'], alice);
  shown = await stack.oscJson(['server', 'show', 'sub1'], alice);
  assert.deepEqual(shown.properties, { role: 'db', owner: 'ops' });
  const r = await stack.osc(['server', 'unset', '--property', 'nosuch', 'sub1'], alice);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /Metadata item was not found/);
});

test('metadata_items quota: over the limit is 403 and nothing changes', async () => {
  const q = await stack.http('PUT', `/compute/v2.1/os-quota-sets/${alice.projectId}`, { token: tAdmin, body: { quota_set: { metadata_items: 3 } } });
  assert.equal(q.status, 200, q.text);
  try {
    const before = (await stack.http('GET', meta(), { token: tAlice })).body.metadata;
    assert.equal(Object.keys(before).length, 2);
    const over = await stack.http('POST', meta(), { token: tAlice, body: { metadata: { a: '1', b: '2' } } });
    assert.equal(over.status, 403);
    assert.deepEqual(over.body, { forbidden: { code: 403, message: 'Maximum number of metadata items exceeds 3' } });
    const overAll = await stack.http('PUT', meta(), { token: tAlice, body: { metadata: { a: '1', b: '2', c: '3', d: '4' } } });
    assert.equal(overAll.status, 403);
    assert.deepEqual((await stack.http('GET', meta(), { token: tAlice })).body.metadata, before);
    // exactly at the limit is fine, and a replace may shrink the set
    assert.equal((await stack.http('POST', meta(), { token: tAlice, body: { metadata: { a: '1' } } })).status, 200);
    const fit = await stack.http('PUT', meta(), { token: tAlice, body: { metadata: before } });
    assert.equal(fit.status, 200);
  } finally {
    await stack.http('PUT', `/compute/v2.1/os-quota-sets/${alice.projectId}`, { token: tAdmin, body: { quota_set: { metadata_items: 128 } } });
  }
});

test('metadata writes are refused (409) while a task runs, in a refused vm_state, or when locked', async () => {
  const before = (await stack.http('GET', meta(), { token: tAlice })).body.metadata;
  await patchRecord((v) => ({ ...v, task_state: 'powering-off' }));
  try {
    const r = await stack.http('POST', meta(), { token: tAlice, body: { metadata: { x: '1' } } });
    assert.equal(r.status, 409);
    assert.deepEqual(r.body, { conflictingRequest: { code: 409, message: `Cannot 'update metadata' instance ${serverId} while it is in task_state powering-off` } });
    const d = await stack.http('DELETE', meta('/role'), { token: tAlice });
    assert.equal(d.body.conflictingRequest.message, `Cannot 'delete metadata' instance ${serverId} while it is in task_state powering-off`);
    assert.equal((await stack.http('GET', meta(), { token: tAlice })).status, 200, 'reads still work');
  } finally {
    await patchRecord((v) => ({ ...v, task_state: null }));
  }
  await patchRecord((v) => ({ ...v, vm_state: 'error' }));
  try {
    const r = await stack.http('PUT', meta('/role'), { token: tAlice, body: { meta: { role: 'x' } } });
    assert.equal(r.status, 409);
    assert.equal(r.body.conflictingRequest.message, `Cannot 'update metadata' instance ${serverId} while it is in vm_state error`);
  } finally {
    await patchRecord((v) => ({ ...v, vm_state: 'active' }));
  }
  const lock = await stack.http('POST', `/compute/v2.1/servers/${serverId}/action`, { token: tAlice, body: { lock: null } });
  assert.equal(lock.status, 202, lock.text);
  try {
    const r = await stack.http('PUT', meta(), { token: tAlice, body: { metadata: {} } });
    assert.equal(r.status, 409);
    assert.equal(r.body.conflictingRequest.message, `Instance ${serverId} is locked`);
    // Nova lets admins through a lock
    const admin = await stack.http('POST', meta(), { token: tAdmin, body: { metadata: { by: 'admin' } } });
    assert.equal(admin.status, 200, admin.text);
    assert.equal((await stack.http('DELETE', meta('/by'), { token: tAdmin })).status, 204);
  } finally {
    const unlock = await stack.http('POST', `/compute/v2.1/servers/${serverId}/action`, { token: tAlice, body: { unlock: null } });
    assert.equal(unlock.status, 202, unlock.text);
  }
  assert.deepEqual((await stack.http('GET', meta(), { token: tAlice })).body.metadata, before, 'nothing changed');
});

test('another project gets 404; a reader reads but may not write (403)', async () => {
  for (const p of [meta(), meta('/role'), `/compute/v2.1/servers/${serverId}/ips`, `/compute/v2.1/servers/${serverId}/os-server-password`]) {
    const r = await stack.http('GET', p, { token: tBob });
    assert.equal(r.status, 404, p);
    assert.equal(r.body.itemNotFound.message, `Instance ${serverId} could not be found.`);
  }
  assert.equal((await stack.http('POST', meta(), { token: tBob, body: { metadata: { x: '1' } } })).status, 404);
  assert.equal((await stack.http('DELETE', `/compute/v2.1/servers/${serverId}/os-server-password`, { token: tBob })).status, 404);
  assert.equal((await stack.http('GET', meta(), { token: tCarol })).status, 200);
  assert.equal((await stack.http('GET', `/compute/v2.1/servers/${serverId}/ips`, { token: tCarol })).status, 200);
  const w = await stack.http('POST', meta(), { token: tCarol, body: { metadata: { x: '1' } } });
  assert.equal(w.status, 403);
  assert.equal(w.body.forbidden.message, "Policy doesn't allow os_compute_api:server-metadata:create to be performed.");
  const c = await stack.http('DELETE', `/compute/v2.1/servers/${serverId}/os-server-password`, { token: tCarol });
  assert.equal(c.body.forbidden.message, "Policy doesn't allow os_compute_api:os-server-password:clear to be performed.");
});

test('server addresses: ips and ips/{network}, and server list --long shows the networks', async () => {
  const srv = (await stack.http('GET', `/compute/v2.1/servers/${serverId}`, { token: tAlice })).body.server;
  const addr = srv.addresses.private[0].addr as string;
  assert.match(addr, /^10\.0\.0\.\d+$/);
  const ips = await stack.http('GET', `/compute/v2.1/servers/${serverId}/ips`, { token: tAlice });
  assert.equal(ips.status, 200);
  assertNovaResponse('ips', 'IPsController', 'index', MV, ips.body);
  assert.deepEqual(ips.body, { addresses: { private: [{ version: 4, addr }] } });
  const one = await stack.http('GET', `/compute/v2.1/servers/${serverId}/ips/private`, { token: tAlice });
  assert.equal(one.status, 200);
  assertNovaResponse('ips', 'IPsController', 'show', MV, one.body);
  assert.deepEqual(one.body, { private: [{ version: 4, addr }] });
  const none = await stack.http('GET', `/compute/v2.1/servers/${serverId}/ips/public`, { token: tAlice });
  assert.equal(none.status, 404);
  assert.deepEqual(none.body, { itemNotFound: { code: 404, message: 'Instance is not a member of specified network' } });
  const long = await stack.oscJson<Record<string, unknown>[]>(['server', 'list', '--long'], alice);
  const row = long.find((r) => r.ID === serverId)!;
  assert.deepEqual(row.Networks, { private: [addr] });
  assert.deepEqual(row.Properties, { role: 'db', owner: 'ops' });
});

test('os-server-password: "" until one is stored, then the stored blob; DELETE clears it', async () => {
  const p = `/compute/v2.1/servers/${serverId}/os-server-password`;
  const empty = await stack.http('GET', p, { token: tCarol });
  assert.equal(empty.status, 200);
  assertNovaResponse('server_password', 'ServerPasswordController', 'index', MV, empty.body);
  assert.deepEqual(empty.body, { password: '' }, 'the create adminPass is never returned');
  const blob = Buffer.from('rsa-encrypted-bytes').toString('base64');
  await storeEncryptedPassword(stack.cloud.services, { id: serverId, project_id: alice.projectId }, blob);
  const set = await stack.http('GET', p, { token: tAlice });
  assertNovaResponse('server_password', 'ServerPasswordController', 'index', MV, set.body);
  assert.deepEqual(set.body, { password: blob });
  const cleared = await stack.http('DELETE', p, { token: tAlice });
  assert.equal(cleared.status, 204);
  assert.equal(cleared.text, '');
  assertNovaResponse('server_password', 'ServerPasswordController', 'clear', MV, cleared.body ?? null);
  assert.deepEqual((await stack.http('GET', p, { token: tAlice })).body, { password: '' });
  assert.equal((await stack.http('DELETE', p, { token: tAlice })).status, 204, 'clearing twice is fine');
  // what Jacket stores never holds the admin password given at create
  const rows = await stack.cloud.services.tables.repository('serverpasswords').list(alice.projectId);
  assert.ok(!JSON.stringify(rows).includes('Sub-pass-123'));
});

test('os-virtual-interfaces is 410 Gone, as Nova answers since Rocky', async () => {
  for (const id of [serverId, '00000000-0000-0000-0000-000000000000']) {
    const r = await stack.http('GET', `/compute/v2.1/servers/${id}/os-virtual-interfaces`, { token: tAlice });
    assert.equal(r.status, 410);
    assert.deepEqual(r.body, { computeFault: { code: 410, message: 'This resource is no longer available. No forwarding address is given.' } });
  }
});

test("extended server attributes, extended status and availability zone keys match Nova's schema", async () => {
  const asMember = await stack.http('GET', `/compute/v2.1/servers/${serverId}`, { token: tAlice });
  assertNovaResponse('servers', 'ServersController', 'show', MV, asMember.body);
  const m = asMember.body.server;
  assert.equal(m['OS-EXT-STS:vm_state'], 'active');
  assert.equal(m['OS-EXT-STS:task_state'], null);
  assert.equal(m['OS-EXT-STS:power_state'], 1);
  assert.equal(m['OS-EXT-AZ:availability_zone'], 'nova');
  assert.match(m['OS-SRV-USG:launched_at'], /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00$/);
  assert.equal(m['OS-SRV-USG:terminated_at'], null);
  assert.ok(!Object.keys(m).some((k) => k.startsWith('OS-EXT-SRV-ATTR:')), 'server attributes are for admins');
  const asAdmin = await stack.http('GET', `/compute/v2.1/servers/${serverId}`, { token: tAdmin });
  assertNovaResponse('servers', 'ServersController', 'show', MV, asAdmin.body);
  const a = asAdmin.body.server;
  assert.equal(a['OS-EXT-SRV-ATTR:instance_name'], serverId);
  assert.match(a['OS-EXT-SRV-ATTR:host'], /^azure-/);
  assert.equal(a['OS-EXT-SRV-ATTR:hypervisor_hostname'], a['OS-EXT-SRV-ATTR:host']);
  const detail = await stack.http('GET', '/compute/v2.1/servers/detail?all_tenants=1', { token: tAdmin });
  assertNovaResponse('servers', 'ServersController', 'detail', MV, detail.body);
  const row = detail.body.servers.find((x: { id: string }) => x.id === serverId);
  assert.equal(row['OS-EXT-AZ:availability_zone'], 'nova');
  assert.equal(row['OS-EXT-SRV-ATTR:instance_name'], serverId);
});
