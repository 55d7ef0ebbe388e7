// Compute microversions 2.41-2.44 (docs/microversions.md): os-aggregates' uuid (2.41), device tags at
// boot again (2.42), os-hosts gone (2.43), the nova-network server actions gone (2.44) — each at the
// version before and at it, bodies checked against Nova's response schemas (test/support/oracle.ts).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startArmStack, waitFor, type ArmStack } from '../support/armStack';
import { assertNovaResponse } from '../support/oracle';
import { oneUser, imageId, networkId } from '../support/fixtures';

let arm: ArmStack;
let tAlice: string;
let tAdmin: string;
let image: string;
let net: string;

before(async () => {
  arm = await startArmStack({ asyncDelayMs: 0 });
  const u = await oneUser(arm.stack, 'mv241-a', 'mv241alice');
  tAlice = u.token;
  tAdmin = u.tAdmin;
  image = await imageId(arm.stack, tAlice);
  net = await networkId(arm.stack, tAlice);
});
after(() => arm?.stop());

/** A Nova call at microversion `mv`. */
const nova = (token: string, mv: string) => (method: string, p: string, body?: unknown) =>
  arm.stack.http(method, `/compute/v2.1${p}`, { token, body, headers: { 'OpenStack-API-Version': `compute ${mv}` } });
const msg = (body: unknown) => Object.values(body as Record<string, { message: string }>)[0].message;

test('2.41: os-aggregates bodies carry the aggregate uuid from 2.41, not before', async () => {
  const made = await nova(tAdmin, '2.41')('POST', '/os-aggregates', { aggregate: { name: 'mv241-agg' } });
  assert.equal(made.status, 200, made.text);
  assertNovaResponse('aggregates', 'AggregateController', 'create', '2.41', made.body);
  const id = made.body.aggregate.id as number;
  assert.match(made.body.aggregate.uuid, /^[0-9a-f-]{36}$/);
  const old = await nova(tAdmin, '2.40')('GET', `/os-aggregates/${id}`);
  assert.equal('uuid' in old.body.aggregate, false);
  assertNovaResponse('aggregates', 'AggregateController', 'show', '2.40', old.body);
  const now = await nova(tAdmin, '2.41')('GET', `/os-aggregates/${id}`);
  assert.equal(now.body.aggregate.uuid, made.body.aggregate.uuid);
  assertNovaResponse('aggregates', 'AggregateController', 'show', '2.41', now.body);
  const list = await nova(tAdmin, '2.41')('GET', '/os-aggregates');
  assertNovaResponse('aggregates', 'AggregateController', 'index', '2.41', list.body);
  assert.equal((await nova(tAdmin, '2.41')('DELETE', `/os-aggregates/${id}`)).status, 200);
});

test('2.42: a device tag on networks and block devices is taken again (refused at 2.41); the build aborts as on a host without tagging', async () => {
  const create = (mv: string, server: Record<string, unknown>) => nova(tAlice, mv)('POST', '/servers', { server: { flavorRef: '3', imageRef: image, ...server } });
  const netTag = { name: 'tagged-nic', networks: [{ uuid: net, tag: 'nic1' }] };
  const bdmTag = { name: 'tagged-disk', networks: [{ uuid: net }], block_device_mapping_v2: [{ boot_index: 0, uuid: image, source_type: 'image', destination_type: 'local', tag: 'root' }] };
  for (const body of [netTag, bdmTag]) {
    const below = await create('2.41', body);
    assert.equal(below.status, 400);
    assert.match(msg(below.body), /'tag' was unexpected/);
  }
  for (const body of [netTag, bdmTag]) {
    const r = await create('2.42', body);
    assert.equal(r.status, 202, r.text);
    const id = r.body.server.id as string;
    const srv = await waitFor(`server ${id} ERROR`, async () => {
      const s = (await nova(tAlice, '2.42')('GET', `/servers/${id}`)).body?.server;
      return s?.status === 'ERROR' ? s : undefined;
    });
    assert.equal(srv.fault.message, 'Attempt to boot guest with tagged devices on host that does not support tagging.');
    assertNovaResponse('servers', 'ServersController', 'show', '2.42', { server: srv });
    assert.equal((await nova(tAlice, '2.42')('DELETE', `/servers/${id}`)).status, 204);
  }
});

test('2.43: /os-hosts answers up to 2.42 and is a bare 404 from 2.43', async () => {
  const old = await nova(tAdmin, '2.42')('GET', '/os-hosts');
  assert.equal(old.status, 200, old.text);
  assertNovaResponse('hosts', 'HostController', 'index', '2.42', old.body);
  const host = (old.body.hosts as { host_name: string; service: string }[]).find((h) => h.service === 'compute')!.host_name;
  assert.equal((await nova(tAdmin, '2.42')('GET', `/os-hosts/${host}`)).status, 200);
  for (const p of ['/os-hosts', `/os-hosts/${host}`]) {
    const r = await nova(tAdmin, '2.43')('GET', p);
    assert.equal(r.status, 404, `${p}: ${r.text}`);
    assert.equal(msg(r.body), 'The resource could not be found.');
  }
});

test('2.44: addFixedIp, removeFixedIp, addFloatingIp and removeFloatingIp are a bare 404 from 2.44, before their body is read', async () => {
  const r = await nova(tAlice, '2.36')('POST', '/servers', { server: { name: 'mv244', flavorRef: '1', imageRef: image, networks: [{ uuid: net }] } });
  assert.equal(r.status, 202, r.text);
  const id = r.body.server.id as string;
  await waitFor('ACTIVE', async () => ((await nova(tAlice, '2.36')('GET', `/servers/${id}`)).body?.server?.status === 'ACTIVE' ? true : undefined), 120000);
  for (const action of ['addFixedIp', 'removeFixedIp', 'addFloatingIp', 'removeFloatingIp']) {
    // Below 2.44 the action exists: an empty body is its schema's 400.
    const old = await nova(tAlice, '2.43')('POST', `/servers/${id}/action`, { [action]: {} });
    assert.equal(old.status, 400, `${action} at 2.43: ${old.text}`);
    const now = await nova(tAlice, '2.44')('POST', `/servers/${id}/action`, { [action]: {} });
    assert.equal(now.status, 404, `${action} at 2.44: ${now.text}`);
    assert.equal(msg(now.body), 'The resource could not be found.');
  }
});
