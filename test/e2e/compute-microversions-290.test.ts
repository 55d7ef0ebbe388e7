// Compute microversions 2.90 (hostname at create, update and rebuild; OS-EXT-SRV-ATTR:hostname for
// everyone), 2.94 (the hostname may be an FQDN), 2.96 (pinned_availability_zone), 2.98 (the image's
// properties) and 2.100 (scheduler_hints) in the server views, each at the version before and at it,
// against the ARM emulator; show, detail, update and rebuild bodies checked against Nova's response
// schema for the version (docs/microversions.md).
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startArmStack, waitFor, type ArmStack } from '../support/armStack';
import { assertNovaResponse } from '../support/oracle';
import { oneUser, imageId, networkId } from '../support/fixtures';
import { computeAdvertises, computeTest } from '../support/advertised';
import { refused } from '../support/nova';
import { COMPUTE } from '../../shared/api/microversion';

let arm: ArmStack;
let tAlice: string;
let image: string;
let net: string;
/** Made at 2.89: no hostname, zone or hints asked for. */
let plain: string;
/** Made at 2.94 with an FQDN hostname, the zone `nova` and two scheduler hints. */
let named: string;
const RG = 'ops_resource_group';

const nova = (mv: string) => (method: string, p: string, body?: unknown) => arm.stack.http(method, `/compute/v2.1${p}`, { token: tAlice, body, headers: { 'OpenStack-API-Version': `compute ${mv}` } });
const boot = (name: string, extra: Record<string, unknown> = {}) => ({ server: { name, flavorRef: '3', imageRef: image, networks: [{ uuid: net }], ...extra } });
const active = (id: string) => waitFor(`${id} ACTIVE`, async () => ((await nova('2.89')('GET', `/servers/${id}`)).body.server.status === 'ACTIVE' ? true : undefined), 120000);
const computerName = async (id: string) => (await arm.compute.virtualMachines.get(RG, id)).osProfile?.computerName;

/** show, detail (the server's entry), update and rebuild at `mv`, each checked against Nova's schema; the server ACTIVE again after. */
async function views(mv: string, id: string, update: Record<string, unknown> = {}, rebuild: Record<string, unknown> = {}) {
  const show = await nova(mv)('GET', `/servers/${id}`);
  assert.equal(show.status, 200, show.text);
  assertNovaResponse('servers', 'ServersController', 'show', mv, show.body);
  const detail = await nova(mv)('GET', '/servers/detail');
  assert.equal(detail.status, 200, detail.text);
  assertNovaResponse('servers', 'ServersController', 'detail', mv, detail.body);
  const upd = await nova(mv)('PUT', `/servers/${id}`, { server: update });
  assert.equal(upd.status, 200, upd.text);
  assertNovaResponse('servers', 'ServersController', 'update', mv, upd.body);
  const rb = await nova(mv)('POST', `/servers/${id}/action`, { rebuild: { imageRef: image, ...rebuild } });
  assert.equal(rb.status, 202, rb.text);
  assertNovaResponse('servers', 'ServersController', '_rebuild', mv, rb.body);
  await active(id);
  return {
    show: show.body.server as Record<string, any>, // eslint-disable-line @typescript-eslint/no-explicit-any
    detail: (detail.body.servers as Record<string, any>[]).find((s) => s.id === id)!, // eslint-disable-line @typescript-eslint/no-explicit-any
    update: upd.body.server as Record<string, any>, // eslint-disable-line @typescript-eslint/no-explicit-any
    rebuild: rb.body.server as Record<string, any>, // eslint-disable-line @typescript-eslint/no-explicit-any
  };
}

before(async () => {
  arm = await startArmStack({ asyncDelayMs: 0 });
  if (!computeAdvertises('2.90')) return;
  const u = await oneUser(arm.stack, 'mv290-a', 'mv290alice');
  tAlice = u.token;
  [image, net] = await Promise.all([imageId(arm.stack, tAlice), networkId(arm.stack, tAlice)]);
  const a = await nova('2.89')('POST', '/servers', boot('Plain Server'));
  assert.equal(a.status, 202, a.text);
  plain = a.body.server.id;
  if (computeAdvertises('2.94')) {
    const b = await nova('2.94')('POST', '/servers', {
      ...boot('named', { hostname: 'Web-1.example.org', availability_zone: 'nova' }),
      'os:scheduler_hints': { foo: 'bar', n: 3, many: ['x', 'y'] },
    });
    assert.equal(b.status, 202, b.text);
    named = b.body.server.id;
    await active(named);
  }
  await active(plain);
});
after(() => arm?.stop());

computeTest('2.90')('2.90: hostname at create, update and rebuild; OS-EXT-SRV-ATTR:hostname for everyone', async () => {
  // 2.89: the schemas have no hostname.
  const unexpected = /Additional properties are not allowed \('hostname' was unexpected\)/;
  await refused(nova('2.89')('POST', '/servers', boot('x', { hostname: 'xx' })), 400, unexpected);
  await refused(nova('2.89')('PUT', `/servers/${plain}`, { server: { hostname: 'xx' } }), 400, unexpected);
  await refused(nova('2.89')('POST', `/servers/${plain}/action`, { rebuild: { imageRef: image, hostname: 'xx' } }), 400, unexpected);
  // 2.90: parameter_types.hostname (2-63, letters, digits, '-' inside; no dots yet).
  for (const bad of ['x', '-ab', 'ab-', 'a.example.org', 'a_b', 'a'.repeat(64)]) {
    const r = await nova('2.90')('PUT', `/servers/${plain}`, { server: { hostname: bad } });
    assert.equal(r.status, 400, `${bad}: ${r.text}`);
  }
  // One hostname cannot name several servers (AmbiguousHostnameForMultipleInstances), before anything is made.
  await refused(nova('2.90')('POST', '/servers', boot('many', { hostname: 'many', max_count: 2 })), 400, 'Unable to allocate a single hostname to multiple instances');

  // A member sees no OS-EXT-SRV-ATTR:hostname at 2.89 (admin-only), and the server's hostname from 2.90.
  const old = (await nova('2.89')('GET', `/servers/${plain}`)).body.server;
  assert.ok(!('OS-EXT-SRV-ATTR:hostname' in old));
  assert.ok(!('OS-EXT-SRV-ATTR:host' in old), 'the other extended attributes stay behind their policy');
  assertNovaResponse('servers', 'ServersController', 'show', '2.89', { server: old });
  const v = await views('2.90', plain, { hostname: 'renamed-1' }, { hostname: 'Rebuilt-2' });
  assert.equal(v.show['OS-EXT-SRV-ATTR:hostname'], 'plain-server', 'made from the name as Nova sanitizes it');
  assert.equal(v.detail['OS-EXT-SRV-ATTR:hostname'], 'plain-server');
  assert.ok(!('OS-EXT-SRV-ATTR:host' in v.show));
  assert.equal(v.update['OS-EXT-SRV-ATTR:hostname'], 'renamed-1');
  assert.equal(v.rebuild['OS-EXT-SRV-ATTR:hostname'], 'Rebuilt-2', 'kept as given');
  assert.equal((await nova('2.90')('GET', `/servers/${plain}`)).body.server['OS-EXT-SRV-ATTR:hostname'], 'Rebuilt-2');
  // Azure cannot rename the guest: the VM keeps the computer name it was made with (Nova too changes only its database).
  assert.equal(await computerName(plain), 'plain-server');
  // An admin sees it among the other extended attributes, as before.
  const adm = await arm.stack.http('GET', `/compute/v2.1/servers/${plain}`, { token: await arm.stack.token(), headers: { 'OpenStack-API-Version': 'compute 2.90' } });
  assert.equal(adm.body.server['OS-EXT-SRV-ATTR:hostname'], 'Rebuilt-2');
  assert.ok('OS-EXT-SRV-ATTR:host' in adm.body.server);
  assertNovaResponse('servers', 'ServersController', 'show', '2.90', adm.body);

  // A create with a hostname: the VM's computer name is it, as Nova's instance.hostname.
  const c = await nova('2.90')('POST', '/servers', boot('other name', { hostname: 'given-90' }));
  assert.equal(c.status, 202, c.text);
  await active(c.body.server.id);
  assert.equal((await nova('2.90')('GET', `/servers/${c.body.server.id}`)).body.server['OS-EXT-SRV-ATTR:hostname'], 'given-90');
  assert.equal(await computerName(c.body.server.id), 'given-90');
  assert.equal((await nova('2.90')('DELETE', `/servers/${c.body.server.id}`)).status, 204);
});

computeTest('2.94')('2.94: the hostname may be an FQDN; the VM is named by its first label', async () => {
  await refused(nova('2.93')('PUT', `/servers/${plain}`, { server: { hostname: 'a.example.org' } }), 400, /does not match/);
  await refused(nova('2.93')('POST', '/servers', boot('x', { hostname: 'x.example.org' })), 400, /does not match/);
  // parameter_types.fqdn: 1-255 of letters, digits, '-', '.', '_'.
  await refused(nova('2.94')('PUT', `/servers/${plain}`, { server: { hostname: 'a b' } }), 400, /does not match/);
  await refused(nova('2.94')('PUT', `/servers/${plain}`, { server: { hostname: 'a'.repeat(256) } }), 400, /is too long/);
  const shown = (await nova('2.94')('GET', `/servers/${named}`)).body.server;
  assert.equal(shown['OS-EXT-SRV-ATTR:hostname'], 'Web-1.example.org', 'the FQDN as given');
  assert.equal(await computerName(named), 'web-1', "Azure's computer name: the first label, as a host name");
  const v = await views('2.94', plain, { hostname: 'db_1.internal.example' }, { hostname: 'db-2.internal.example' });
  assert.equal(v.update['OS-EXT-SRV-ATTR:hostname'], 'db_1.internal.example');
  assert.equal(v.rebuild['OS-EXT-SRV-ATTR:hostname'], 'db-2.internal.example');
  assert.equal(await computerName(plain), 'plain-server');
});

computeTest('2.96')('2.96: pinned_availability_zone is the zone the create asked for', async () => {
  const old = (await nova('2.95')('GET', `/servers/${named}`)).body.server;
  assert.ok(!('pinned_availability_zone' in old));
  assertNovaResponse('servers', 'ServersController', 'show', '2.95', { server: old });
  const v = await views('2.96', named);
  for (const body of [v.show, v.detail, v.update, v.rebuild]) assert.equal(body.pinned_availability_zone, 'nova');
  // No zone asked for: null (Nova's default_schedule_zone is unset), though the server is in `nova`.
  const p = await views('2.96', plain);
  for (const body of [p.show, p.detail, p.update, p.rebuild]) assert.equal(body.pinned_availability_zone, null);
  assert.equal(p.show['OS-EXT-AZ:availability_zone'], 'nova');
});

computeTest('2.98')("2.98: image.properties, Nova's image properties of the image the server was built from", async () => {
  const old = (await nova('2.97')('GET', `/servers/${plain}`)).body.server;
  assert.ok(!('properties' in old.image));
  assertNovaResponse('servers', 'ServersController', 'show', '2.97', { server: old });
  // The marketplace image's Glance properties are azure_* (not Nova's names, left out) and os_type.
  const glance = await arm.stack.http('GET', `/image/v2/images/${image}`, { token: tAlice });
  assert.equal(glance.body.os_type, 'linux');
  assert.equal(glance.body.azure_type, 'marketplace');
  const v = await views('2.98', plain);
  for (const body of [v.show, v.detail, v.update, v.rebuild]) assert.deepEqual(body.image.properties, { os_type: 'linux' });
  assert.equal(v.show.image.id, image);
});

computeTest('2.100')('2.100: scheduler_hints as the create gave them, each value a list of strings', async () => {
  const old = (await nova('2.99')('GET', `/servers/${named}`)).body.server;
  assert.ok(!('scheduler_hints' in old));
  assertNovaResponse('servers', 'ServersController', 'show', '2.99', { server: old });
  const v = await views('2.100', named);
  for (const body of [v.show, v.detail, v.update, v.rebuild]) assert.deepEqual(body.scheduler_hints, { foo: ['bar'], n: ['3'], many: ['x', 'y'] });
  const p = await views('2.100', plain);
  for (const body of [p.show, p.detail, p.update, p.rebuild]) assert.deepEqual(body.scheduler_hints, {});
  // The group hint while its group exists; once the group is deleted Nova's request spec drops it.
  const g = await nova('2.100')('POST', '/os-server-groups', { server_group: { name: 'mv2100', policy: 'anti-affinity' } });
  assert.equal(g.status, 200, g.text);
  const gid = g.body.server_group.id as string;
  const c = await nova('2.100')('POST', '/servers', { ...boot('grouped'), 'OS-SCH-HNT:scheduler_hints': { group: gid, flag: true } });
  assert.equal(c.status, 202, c.text);
  const cid = c.body.server.id as string;
  await active(cid);
  assert.deepEqual((await nova('2.100')('GET', `/servers/${cid}`)).body.server.scheduler_hints, { group: [gid], flag: ['True'] });
  assert.equal((await nova('2.100')('DELETE', `/os-server-groups/${gid}`)).status, 204);
  const after = await nova('2.100')('GET', `/servers/${cid}`);
  assertNovaResponse('servers', 'ServersController', 'show', '2.100', after.body);
  assert.deepEqual(after.body.server.scheduler_hints, { flag: ['True'] });
  const listed = (await nova('2.100')('GET', '/servers/detail')).body.servers.find((s: { id: string }) => s.id === cid);
  assert.deepEqual(listed.scheduler_hints, { flag: ['True'] });
  assert.equal((await nova('2.100')('DELETE', `/servers/${cid}`)).status, 204);
  // A record written before these versions (none of the kept fields): no zone pinned, hints {} (or its
  // group), the image's properties read from the image.
  const { getServerAny, updateServer } = await import('../../shared/compute/servers/model');
  const services = arm.stack.cloud.services;
  await updateServer(services, (await getServerAny(services, named))!, (r) => {
    const { pinned_availability_zone: _p, scheduler_hints: _h, image_properties: _i, computer_name: _c, ...rest } = r; // eslint-disable-line @typescript-eslint/no-unused-vars
    return rest;
  });
  const older = await nova('2.100')('GET', `/servers/${named}`);
  assertNovaResponse('servers', 'ServersController', 'show', '2.100', older.body);
  assert.equal(older.body.server.pinned_availability_zone, null);
  assert.deepEqual(older.body.server.scheduler_hints, {});
  assert.deepEqual(older.body.server.image.properties, { os_type: 'linux' });
  const olderListed = (await nova('2.100')('GET', '/servers/detail')).body.servers.find((s: { id: string }) => s.id === named);
  assert.deepEqual(olderListed.image.properties, { os_type: 'linux' });
  // Every key of 2.90-2.100 at once (the hostname is the record's own).
  assert.equal(v.show['OS-EXT-SRV-ATTR:hostname'], 'Web-1.example.org');
  assert.deepEqual(v.show.image.properties, { os_type: 'linux' });
});

// The file's servers are made once 2.90 is advertised (before()), hence computeTest('2.90').
computeTest('2.90')("/os-volumes_boot is Nova's alias of /servers: the same list, detail, show, update and actions", async () => {
  for (const mv of ['2.1', COMPUTE.max]) {
    const ids = async (p: string) => ((await nova(mv)('GET', p)).body.servers as { id: string }[]).map((s) => s.id).sort();
    assert.deepEqual(await ids('/os-volumes_boot'), await ids('/servers'));
    const detail = await nova(mv)('GET', '/os-volumes_boot/detail');
    assert.equal(detail.status, 200, detail.text);
    assertNovaResponse('servers', 'ServersController', 'detail', mv, detail.body);
    const show = await nova(mv)('GET', `/os-volumes_boot/${plain}`);
    assert.equal(show.status, 200, show.text);
    assertNovaResponse('servers', 'ServersController', 'show', mv, show.body);
    // The body is the server's own: its links still name /servers, as Nova's view builder writes them.
    assert.equal(show.body.server.id, plain);
    assert.match(show.body.server.links[0].href, new RegExp(`/servers/${plain}$`));
    await refused(nova(mv)('GET', '/os-volumes_boot/00000000-0000-4000-8000-000000000000'), 404, 'Instance 00000000-0000-4000-8000-000000000000 could not be found.');
  }
  const upd = await nova('2.19')('PUT', `/os-volumes_boot/${plain}`, { server: { description: 'via the alias' } });
  assert.equal(upd.status, 200, upd.text);
  assert.equal((await nova('2.19')('GET', `/servers/${plain}`)).body.server.description, 'via the alias');
  // An action through the alias is dispatched as on /servers: an unknown one is Nova's 400.
  await refused(nova('2.1')('POST', `/os-volumes_boot/${plain}/action`, { noSuchAction: null }), 400, 'There is no such action: noSuchAction');
  const stop = await nova('2.1')('POST', `/os-volumes_boot/${plain}/action`, { 'os-stop': null });
  assert.equal(stop.status, 202, stop.text);
  await waitFor('stopped via the alias', async () => ((await nova('2.1')('GET', `/servers/${plain}`)).body.server.status === 'SHUTOFF' ? true : undefined), 60000);
});
