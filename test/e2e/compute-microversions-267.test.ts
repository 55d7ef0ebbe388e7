// Compute microversions 2.67 (volume_type on block_device_mapping_v2), 2.68 (no forced evacuate or live
// migration), 2.70 (device tags in volume and interface attachments) and 2.71 (server_groups in the
// server views), each at the version before and at it, against the ARM emulator; bodies checked against
// Nova's response schema for the version (docs/microversions.md). 2.69 (down cells) and 2.72 (ports with
// a resource request) change nothing Jacket can show: docs/microversions.md says why.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startArmStack, waitFor, type ArmStack } from '../support/armStack';
import { assertNovaResponse } from '../support/oracle';
import { oneUser, imageId, networkId, tokenProjectId, type ProjectUser } from '../support/fixtures';
import { computeAdvertises, computeTest } from '../support/advertised';
import { msg, refused } from '../support/nova';

let arm: ArmStack;
let alice: ProjectUser;
let tAlice: string;
let image: string;
let net: string;
let server: string;
let group: string;
let typeId: string;
const RG = 'ops_resource_group';

const nova = (mv: string) => (method: string, p: string, body?: unknown) => arm.stack.http(method, `/compute/v2.1${p}`, { token: tAlice, body, headers: { 'OpenStack-API-Version': `compute ${mv}` } });
const cinder = (method: string, p: string, body?: unknown) => arm.stack.http(method, `/volume/v3/${alice.projectId}${p}`, { token: tAlice, body });
const bootBody = (bdm: unknown[], extra: Record<string, unknown> = {}) => ({
  server: { name: 'mv267', flavorRef: '3', imageRef: image, networks: [{ uuid: net }], block_device_mapping_v2: bdm, ...extra },
});
const volumeCount = async () => ((await cinder('GET', '/volumes')).body.volumes as unknown[]).length;

before(async () => {
  arm = await startArmStack({ asyncDelayMs: 0 });
  if (!computeAdvertises('2.67')) return;
  const u = await oneUser(arm.stack, 'mv267-a', 'mv267alice');
  alice = u.user;
  tAlice = u.token;
  [image, net] = await Promise.all([imageId(arm.stack, tAlice), networkId(arm.stack, tAlice)]);
  const t = await arm.stack.http('POST', `/volume/v3/${await tokenProjectId(arm.stack, u.tAdmin)}/types`, {
    token: u.tAdmin,
    body: { volume_type: { name: 'fast-267', extra_specs: { 'azure:sku': 'Premium_LRS' } } },
  });
  assert.equal(t.status, 200, t.text);
  typeId = t.body.volume_type.id;
  const g = await nova('2.15')('POST', '/os-server-groups', { server_group: { name: 'mv267', policies: ['soft-affinity'] } });
  assert.equal(g.status, 200, g.text);
  group = g.body.server_group.id;
  // One server for every version: in the group, with a blank volume of the new type (by id: Nova keeps the name).
  const r = await nova('2.67')('POST', '/servers', {
    ...bootBody([{ source_type: 'blank', destination_type: 'volume', volume_size: 1, volume_type: typeId, delete_on_termination: true }]),
    'os:scheduler_hints': { group },
  });
  assert.equal(r.status, 202, r.text);
  server = r.body.server.id;
  await waitFor('mv267 ACTIVE', async () => ((await nova('2.67')('GET', `/servers/${server}`)).body.server.status === 'ACTIVE' ? true : undefined), 120000);
});
after(() => arm?.stop());

computeTest('2.67')("2.67: block_device_mapping_v2 volume_type makes the new volume of that type; Nova's refusals change nothing", async () => {
  const attached = (await nova('2.67')('GET', `/servers/${server}/os-volume_attachments`)).body.volumeAttachments as { volumeId: string }[];
  assert.equal(attached.length, 1);
  const vol = (await cinder('GET', `/volumes/${attached[0].volumeId}`)).body.volume;
  assert.equal(vol.volume_type, 'fast-267', 'the type given by id, the volume shows its name');
  // Its disk is Premium_LRS, the type's SKU, made by the VM PUT as a data disk.
  const disk = await arm.compute.disks.get(RG, `volume-${vol.id}`);
  assert.equal(disk.sku?.name, 'Premium_LRS');
  await waitFor('the blank volume in-use', async () => ((await cinder('GET', `/volumes/${vol.id}`)).body.volume.status === 'in-use' ? true : undefined), 60000);

  const before = await volumeCount();
  const blank = (type: unknown) => ({ source_type: 'blank', destination_type: 'volume', volume_size: 1, volume_type: type });
  // 2.66: the schema has no volume_type.
  await refused(nova('2.66')('POST', '/servers', bootBody([blank('fast-267')])), 400, /Additional properties are not allowed \('volume_type' was unexpected\)/);
  await refused(nova('2.67')('POST', '/servers', bootBody([blank('nope')])), 400, 'Volume type nope could not be found.');
  await refused(
    nova('2.67')('POST', '/servers', bootBody([{ source_type: 'image', uuid: image, destination_type: 'local', boot_index: 0, volume_type: 'fast-267' }])),
    400,
    'Block Device Mapping is Invalid: Specifying a volume_type with destination_type=local is not supported.',
  );
  await refused(
    nova('2.67')('POST', '/servers', bootBody([{ source_type: 'volume', uuid: attached[0].volumeId, destination_type: 'volume', volume_type: 'fast-267' }])),
    400,
    'Block Device Mapping is Invalid: Specifying volume type to existing volume is not supported.',
  );
  const long = await nova('2.67')('POST', '/servers', bootBody([blank('x'.repeat(256))]));
  assert.equal(long.status, 400, long.text);
  assert.equal(await volumeCount(), before, 'no volume made by a refusal');
  // null is no type (parameter_types.volume_type admits it): past the schema, the next check answers.
  await refused(nova('2.67')('POST', '/servers', bootBody([blank(null)], { min_count: 2, max_count: 1 })), 400, 'min_count must be <= max_count');
});

computeTest('2.68')('2.68: evacuate and os-migrateLive take no force', async () => {
  const admin = await arm.stack.token();
  const asAdmin = (mv: string) => (p: string, body: unknown) => arm.stack.http('POST', `/compute/v2.1${p}`, { token: admin, body, headers: { 'OpenStack-API-Version': `compute ${mv}` } });
  const act = `/servers/${server}/action`;
  // 2.67: force without a host is Nova's 400 (the forced-destination check).
  await refused(asAdmin('2.67')(act, { evacuate: { force: true } }), 400, "Can't force to a non-provided destination");
  await refused(asAdmin('2.67')(act, { 'os-migrateLive': { block_migration: 'auto', host: null, force: true } }), 400, "Can't force to a non-provided destination");
  // 2.68: the property is gone from both schemas.
  const ev = await asAdmin('2.68')(act, { evacuate: { force: true } });
  assert.equal(ev.status, 400, ev.text);
  assert.match(msg(ev.body), /Additional properties are not allowed \('force' was unexpected\)/);
  const lm = await asAdmin('2.68')(act, { 'os-migrateLive': { block_migration: 'auto', host: null, force: false } });
  assert.equal(lm.status, 400, lm.text);
  assert.match(msg(lm.body), /Additional properties are not allowed \('force' was unexpected\)/);
  assert.equal((await nova('2.68')('GET', `/servers/${server}`)).body.server.status, 'ACTIVE', 'nothing changed');
});

computeTest('2.70')('2.70: volume and interface attachments carry their device tag (null: Jacket has no tagged attachments)', async () => {
  const va = `/servers/${server}/os-volume_attachments`;
  const old = (await nova('2.69')('GET', va)).body;
  assertNovaResponse('volume_attachments', 'VolumeAttachmentController', 'index', '2.69', old);
  assert.ok(!('tag' in old.volumeAttachments[0]));
  const now = (await nova('2.70')('GET', va)).body;
  assertNovaResponse('volume_attachments', 'VolumeAttachmentController', 'index', '2.70', now);
  assert.equal(now.volumeAttachments[0].tag, null);
  const one = (await nova('2.70')('GET', `${va}/${now.volumeAttachments[0].volumeId}`)).body;
  assertNovaResponse('volume_attachments', 'VolumeAttachmentController', 'show', '2.70', one);
  assert.equal(one.volumeAttachment.tag, null);

  const ia = `/servers/${server}/os-interface`;
  const oldIf = (await nova('2.69')('GET', ia)).body;
  assertNovaResponse('attach_interfaces', 'InterfaceAttachmentController', 'index', '2.69', oldIf);
  assert.ok(!('tag' in oldIf.interfaceAttachments[0]));
  const nowIf = (await nova('2.70')('GET', ia)).body;
  assertNovaResponse('attach_interfaces', 'InterfaceAttachmentController', 'index', '2.70', nowIf);
  assert.equal(nowIf.interfaceAttachments[0].tag, null);
  const oneIf = (await nova('2.70')('GET', `${ia}/${nowIf.interfaceAttachments[0].port_id}`)).body;
  assertNovaResponse('attach_interfaces', 'InterfaceAttachmentController', 'show', '2.70', oneIf);
  assert.equal(oneIf.interfaceAttachment.tag, null);
});

computeTest('2.71')('2.71: show and update list the server groups the server is in; the detail list does not', async () => {
  const old = (await nova('2.70')('GET', `/servers/${server}`)).body;
  assertNovaResponse('servers', 'ServersController', 'show', '2.70', old);
  assert.ok(!('server_groups' in old.server));
  const now = (await nova('2.71')('GET', `/servers/${server}`)).body;
  assertNovaResponse('servers', 'ServersController', 'show', '2.71', now);
  assert.deepEqual(now.server.server_groups, [group]);
  const upd = await nova('2.71')('PUT', `/servers/${server}`, { server: { name: 'mv267-renamed' } });
  assert.equal(upd.status, 200, upd.text);
  assertNovaResponse('servers', 'ServersController', 'update', '2.71', upd.body);
  assert.deepEqual(upd.body.server.server_groups, [group]);
  const detail = (await nova('2.71')('GET', '/servers/detail')).body;
  assertNovaResponse('servers', 'ServersController', 'detail', '2.71', detail);
  assert.ok(!('server_groups' in detail.servers[0]));
  // The group deleted, the server is in none: [] (Nova's membership rows go with the group).
  assert.equal((await nova('2.71')('DELETE', `/os-server-groups/${group}`)).status, 204);
  const gone = (await nova('2.71')('GET', `/servers/${server}`)).body;
  assertNovaResponse('servers', 'ServersController', 'show', '2.71', gone);
  assert.deepEqual(gone.server.server_groups, []);
});

computeTest('2.73')('2.73: lock with a reason, shown until unlock; the locked filter', async () => {
  const act = `/servers/${server}/action`;
  // 2.72: `lock` may be anything and is not read.
  assert.equal((await nova('2.72')('POST', act, { lock: { locked_reason: 'ignored' } })).status, 202);
  const at272 = (await nova('2.72')('GET', `/servers/${server}`)).body.server;
  assert.equal(at272.locked, true);
  assert.ok(!('locked_reason' in at272));
  assert.equal((await nova('2.73')('GET', `/servers/${server}`)).body.server.locked_reason, null, 'a reason below 2.73 is not kept');
  assert.equal((await nova('2.73')('POST', act, { unlock: { anything: 1 } })).status, 202, "from 2.73 unlock's body is not checked");

  // The schema: only locked_reason, 1-255 characters; nothing changes.
  await refused(nova('2.73')('POST', act, { lock: { locked_reason: '' } }), 400, /Invalid input for field\/attribute locked_reason/);
  await refused(nova('2.73')('POST', act, { lock: { reason: 'x' } }), 400, /Additional properties are not allowed \('reason' was unexpected\)/);
  await refused(nova('2.73')('POST', act, { lock: 'now' }), 400, /Invalid input for field\/attribute lock/);
  assert.equal((await nova('2.73')('GET', `/servers/${server}`)).body.server.locked, false);

  assert.equal((await nova('2.73')('POST', act, { lock: { locked_reason: 'maintenance window' } })).status, 202);
  const shown = (await nova('2.73')('GET', `/servers/${server}`)).body;
  assertNovaResponse('servers', 'ServersController', 'show', '2.73', shown);
  assert.equal(shown.server.locked_reason, 'maintenance window');
  const detail = (await nova('2.73')('GET', '/servers/detail?locked=true')).body;
  assertNovaResponse('servers', 'ServersController', 'detail', '2.73', detail);
  assert.deepEqual(
    detail.servers.map((x: { id: string; locked_reason: string }) => [x.id, x.locked_reason]),
    [[server, 'maintenance window']],
  );
  assert.deepEqual((await nova('2.73')('GET', '/servers?locked=false')).body.servers, []);
  assert.equal((await nova('2.72')('GET', '/servers?locked=false')).body.servers.length, 1, "below 2.73 a member's locked is dropped");
  await refused(nova('2.73')('GET', '/servers?locked=maybe'), 400, /Unrecognized value 'maybe'/);
  const upd = await nova('2.73')('PUT', `/servers/${server}`, { server: { description: 'd' } });
  assertNovaResponse('servers', 'ServersController', 'update', '2.73', upd.body);
  assert.equal(upd.body.server.locked_reason, 'maintenance window');

  assert.equal((await nova('2.73')('POST', act, { unlock: null })).status, 202);
  assert.equal((await nova('2.73')('GET', `/servers/${server}`)).body.server.locked_reason, null, 'unlock drops the reason');
});

computeTest('2.74')('2.74: admins name the host and node at create; members may not; an unknown host is 400', async () => {
  const tAdmin = await arm.stack.token();
  const asAdmin = (mv: string) => (body: unknown) => arm.stack.http('POST', '/compute/v2.1/servers', { token: tAdmin, body, headers: { 'OpenStack-API-Version': `compute ${mv}` } });
  const host = (await arm.stack.http('GET', '/compute/v2.1/os-hypervisors/detail', { token: tAdmin })).body.hypervisors[0].service.host as string;
  const adminNet = await networkId(arm.stack, tAdmin);
  const body = (dest: Record<string, string>) => ({ server: { name: 'mv274', flavorRef: '3', imageRef: image, networks: [{ uuid: adminNet }], ...dest } });
  const servers = async () => ((await arm.stack.http('GET', '/compute/v2.1/servers', { token: tAdmin })).body.servers as unknown[]).length;
  const count = await servers();

  await refused(asAdmin('2.73')(body({ host })), 400, /Additional properties are not allowed \('host' was unexpected\)/);
  await refused(nova('2.74')('POST', '/servers', bootBody([], { host })), 403, "Policy doesn't allow compute:servers:create:requested_destination to be performed.");
  await refused(asAdmin('2.74')(body({ host: 'nope' })), 400, 'Compute host nope could not be found.');
  await refused(asAdmin('2.74')(body({ hypervisor_hostname: 'node-x' })), 400, 'Compute host node-x could not be found.');
  await refused(asAdmin('2.74')(body({ host, hypervisor_hostname: 'node-x' })), 400, `Compute host ${host} could not be found.`);
  await refused(asAdmin('2.74')(body({ host: 'bad/host' })), 400, /Invalid input for field\/attribute host/);
  assert.equal(await servers(), count, 'nothing made by a refusal');

  const r = await asAdmin('2.74')(body({ host, hypervisor_hostname: host }));
  assert.equal(r.status, 202, r.text);
  const id = r.body.server.id;
  await waitFor(
    'mv274 ACTIVE',
    async () => {
      const srv = (await arm.stack.http('GET', `/compute/v2.1/servers/${id}`, { token: tAdmin })).body.server;
      return srv.status === 'ACTIVE' ? srv : undefined;
    },
    120000,
  ).then((srv) => assert.equal(srv['OS-EXT-SRV-ATTR:host'], host));
});

computeTest('2.75')('2.75: unknown query parameters are 400; update and rebuild answer the whole server', async () => {
  const tAdmin = await arm.stack.token();
  const get = (mv: string, p: string, token = tAlice) => arm.stack.http('GET', `/compute/v2.1${p}`, { token, headers: { 'OpenStack-API-Version': `compute ${mv}` } });
  const unexpected = "Additional properties are not allowed ('foo' was unexpected)";
  // The server lists' schema also has patternProperties ('^_'): jsonschema words its refusal so.
  const noPattern = "'foo' does not match any of the regexes: '^_'";
  // Every list Nova made strict at 2.75, by a member or (admin APIs) the admin.
  const paths: [string, string][] = [
    ['/servers?foo=1', tAlice],
    ['/servers/detail?foo=1', tAlice],
    ['/flavors?foo=1', tAlice],
    ['/flavors/detail?foo=1', tAlice],
    ['/os-keypairs?foo=1', tAlice],
    ['/limits?foo=1', tAlice],
    ['/os-server-groups?foo=1', tAlice],
    [`/servers/${server}/os-volume_attachments?foo=1`, tAlice],
    [`/os-quota-sets/${alice.projectId}?foo=1`, tAlice],
    [`/os-quota-sets/${alice.projectId}/detail?foo=1`, tAlice],
    ['/os-services?foo=1', tAdmin],
    ['/os-simple-tenant-usage?foo=1', tAdmin],
    [`/os-simple-tenant-usage/${alice.projectId}?foo=1`, tAdmin],
  ];
  for (const [p, token] of paths) {
    const old = await get('2.74', p, token);
    assert.equal(old.status, 200, `${p} at 2.74: ${old.text}`);
    await refused(get('2.75', p, token), 400, p.startsWith('/servers?') || p.startsWith('/servers/detail?') ? noPattern : unexpected);
  }
  // Known parameters still pass; sort_key narrows to VALID_SORT_KEYS_V275.
  assert.equal((await get('2.75', '/servers/detail?name=mv267&limit=5&sort_key=display_name&sort_dir=asc')).status, 200);
  assert.equal((await get('2.74', '/servers?sort_key=id')).status, 200, 'an ignored key below 2.75');
  const sortId = await get('2.75', '/servers?sort_key=id');
  assert.equal(sortId.status, 400, sortId.text);
  assert.match(msg(sortId.body), /^Invalid input for query parameters sort_key\./);
  // A refusal comes before the policy: an admin API's member gets the 400 too.
  await refused(get('2.75', '/os-services?foo=1'), 400, unexpected);

  // PUT: 2.74 the short view; 2.75 show's keys as well.
  const u74 = await nova('2.74')('PUT', `/servers/${server}`, { server: { description: 'd74' } });
  assertNovaResponse('servers', 'ServersController', 'update', '2.74', u74.body);
  assert.ok(!('OS-EXT-STS:vm_state' in u74.body.server));
  const u75 = await nova('2.75')('PUT', `/servers/${server}`, { server: { description: 'd75' } });
  assertNovaResponse('servers', 'ServersController', 'update', '2.75', u75.body);
  const shown = (await nova('2.75')('GET', `/servers/${server}`)).body.server;
  assert.deepEqual(Object.keys(u75.body.server).sort(), Object.keys(shown).sort(), 'the update answer has every key show has');

  // rebuild at 2.75: the same, without OS-EXT-SRV-ATTR:user_data (admins see the extended attributes).
  const rb = await arm.stack.http('POST', `/compute/v2.1/servers/${server}/action`, {
    token: tAdmin,
    body: { rebuild: { imageRef: image } },
    headers: { 'OpenStack-API-Version': 'compute 2.75' },
  });
  assert.equal(rb.status, 202, rb.text);
  assertNovaResponse('servers', 'ServersController', '_rebuild', '2.75', rb.body);
  assert.equal(rb.body.server['OS-EXT-STS:task_state'], 'rebuilding');
  assert.ok('OS-EXT-SRV-ATTR:host' in rb.body.server && !('OS-EXT-SRV-ATTR:user_data' in rb.body.server));
  await waitFor('mv267 rebuilt', async () => ((await nova('2.75')('GET', `/servers/${server}`)).body.server.status === 'ACTIVE' ? true : undefined), 120000);
});

computeTest('2.77')('2.77: unshelve names the availability zone of a SHELVED_OFFLOADED server', async () => {
  const act = `/servers/${server}/action`;
  const status = async () => (await nova('2.77')('GET', `/servers/${server}`)).body.server.status as string;
  assert.equal((await nova('2.77')('POST', act, { shelve: null })).status, 202);
  await waitFor('mv267 SHELVED_OFFLOADED', async () => ((await status()) === 'SHELVED_OFFLOADED' ? true : undefined), 120000);
  // The schema: null or an object with the zone, nothing else (an empty object is refused).
  await refused(nova('2.77')('POST', act, { unshelve: {} }), 400, /'availability_zone' is a required property/);
  await refused(nova('2.77')('POST', act, { unshelve: { availability_zone: 'nova', host: 'h' } }), 400, /Additional properties are not allowed \('host' was unexpected\)/);
  await refused(nova('2.77')('POST', act, { unshelve: { availability_zone: 'nowhere' } }), 400, 'The requested availability zone is not available');
  assert.equal(await status(), 'SHELVED_OFFLOADED', 'nothing changed');
  // The zone it is in (the only one here): unshelved there.
  assert.equal((await nova('2.77')('POST', act, { unshelve: { availability_zone: 'nova' } })).status, 202);
  await waitFor('mv267 unshelved', async () => ((await status()) === 'ACTIVE' ? true : undefined), 120000);
  const shown = (await nova('2.77')('GET', `/servers/${server}`)).body.server;
  assert.equal(shown['OS-EXT-AZ:availability_zone'], 'nova');
  // Not SHELVED_OFFLOADED: the zone is refused as Nova's state check words it (409).
  await refused(nova('2.77')('POST', act, { unshelve: { availability_zone: 'nova' } }), 409, /Cannot 'unshelve' instance .* while it is in vm_state active/);
});

computeTest('2.78')('2.78: GET /servers/{id}/topology: no NUMA topology on Azure (nodes [], pagesize_kb null); 404 below', async () => {
  const p = `/servers/${server}/topology`;
  const below = await nova('2.77')('GET', p);
  assert.equal(below.status, 404, below.text);
  const r = await nova('2.78')('GET', p);
  assert.equal(r.status, 200, r.text);
  assertNovaResponse('server_topology', 'ServerTopologyController', 'index', '2.78', r.body);
  assert.deepEqual(r.body, { nodes: [], pagesize_kb: null });
  await refused(nova('2.78')('GET', '/servers/00000000-0000-4000-8000-000000000000/topology'), 404, 'Instance 00000000-0000-4000-8000-000000000000 could not be found.');
});

computeTest('2.79')('2.79: attach with delete_on_termination, shown on the attachment; the server delete honours it', async () => {
  const v = await cinder('POST', '/volumes', { volume: { size: 1, name: 'mv279' } });
  assert.equal(v.status, 202, v.text);
  const vol = v.body.volume.id as string;
  await waitFor('mv279 available', async () => ((await cinder('GET', `/volumes/${vol}`)).body.volume.status === 'available' ? true : undefined), 60000);
  const va = `/servers/${server}/os-volume_attachments`;
  // 2.78: the key is not in the schema.
  await refused(
    nova('2.78')('POST', va, { volumeAttachment: { volumeId: vol, delete_on_termination: true } }),
    400,
    /Additional properties are not allowed \('delete_on_termination' was unexpected\)/,
  );
  await refused(nova('2.79')('POST', va, { volumeAttachment: { volumeId: vol, delete_on_termination: 'maybe' } }), 400, /Invalid input for field\/attribute delete_on_termination/);
  const at = await nova('2.79')('POST', va, { volumeAttachment: { volumeId: vol, delete_on_termination: 'True' } });
  assert.equal(at.status, 200, at.text);
  assertNovaResponse('volume_attachments', 'VolumeAttachmentController', 'create', '2.79', at.body);
  assert.equal(at.body.volumeAttachment.delete_on_termination, true);
  await waitFor('mv279 in-use', async () => ((await cinder('GET', `/volumes/${vol}`)).body.volume.status === 'in-use' ? true : undefined), 60000);
  const old = (await nova('2.78')('GET', va)).body;
  assert.ok(old.volumeAttachments.every((a: object) => !('delete_on_termination' in a)));
  const list = (await nova('2.79')('GET', va)).body;
  assertNovaResponse('volume_attachments', 'VolumeAttachmentController', 'index', '2.79', list);
  assert.deepEqual(
    list.volumeAttachments.map((a: { volumeId: string; delete_on_termination: boolean }) => a.delete_on_termination),
    [true, true],
    'the blank one of 2.67 and this one',
  );
  const one = (await nova('2.79')('GET', `${va}/${vol}`)).body;
  assertNovaResponse('volume_attachments', 'VolumeAttachmentController', 'show', '2.79', one);
  // The server goes, and the volume with it.
  assert.equal((await nova('2.79')('DELETE', `/servers/${server}`)).status, 204);
  await waitFor('mv279 deleted with the server', async () => ((await cinder('GET', `/volumes/${vol}`)).status === 404 ? true : undefined), 120000);
});
