// Volume attachments end to end: the real `openstack` CLI (server add/remove volume, server show,
// volume show) and HTTP against the app, the app against the ARM emulator, whose VM is read back to see
// the data disks (LUN, managed disk id) Azure was asked for. Bodies are checked against Nova's schemas.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startArmStack, waitFor, type ArmStack } from '../support/armStack';
import { assertNovaResponse } from '../support/oracle';
import { listActions } from '../../shared/compute/servers/instanceActions';
import type { Creds } from '../support/stack';
import { aliceAndBob, imageId, type ProjectUser } from '../support/fixtures';

let env: ArmStack;
let alice: ProjectUser;
let tAlice: string, tBob: string, tAdmin: string;
let serverId: string;
const RG = 'ops_resource_group';

const nova = (method: string, p: string, token = tAlice, body?: unknown) => env.stack.http(method, `/compute/v2.1${p}`, { token, body });
const cinder = (method: string, p: string, body?: unknown, token = tAlice) => env.stack.http(method, `/volume/v3/${alice.projectId}${p}`, { token, body });
const attachments = (id = serverId) => `/servers/${id}/os-volume_attachments`;

async function newVolume(name: string): Promise<string> {
  const r = await cinder('POST', '/volumes', { volume: { size: 1, name } });
  assert.equal(r.status, 202, r.text);
  await volumeStatus(r.body.volume.id, 'available');
  return r.body.volume.id;
}

const volumeStatus = (id: string, want: string) =>
  waitFor(`volume ${id} ${want}`, async () => {
    const r = await cinder('GET', `/volumes/${id}`);
    return r.body?.volume?.status === want ? r.body.volume : undefined;
  });

/** A user with the reader role on an existing project. */
async function readerOf(projectId: string, project: string): Promise<Creds> {
  const admin = { token: tAdmin };
  const u = await env.stack.http('POST', '/identity/v3/users', { ...admin, body: { user: { name: 'reader-r', password: 'Pw-reader-1a', default_project_id: projectId } } });
  const role = (await env.stack.http('GET', '/identity/v3/roles?name=reader', admin)).body.roles[0].id;
  await env.stack.http('PUT', `/identity/v3/projects/${projectId}/users/${u.body.user.id}/roles/${role}`, admin);
  return { username: 'reader-r', password: 'Pw-reader-1a', project };
}

const dataDisks = async () => (await env.compute.virtualMachines.get(RG, serverId)).storageProfile?.dataDisks ?? [];

before(async () => {
  env = await startArmStack();
  ({ alice, tAlice, tBob, tAdmin } = await aliceAndBob(env.stack, ['att-a', 'alice'], ['att-b', 'bob']));
  const srv = await env.stack.oscJson(['server', 'create', '--flavor', 'm1.medium', '--image', 'ubuntu-22.04', '--network', 'private', '--wait', 'att1'], alice);
  assert.equal(srv.status, 'ACTIVE');
  serverId = srv.id;
});
after(() => env?.stop());

test('openstack server add volume / server remove volume: a data disk at LUN 0 on the VM, in-use with the attachment, then available', async () => {
  const vol = await env.stack.oscJson(['volume', 'create', '--size', '1', 'data1'], alice);
  await volumeStatus(vol.id, 'available');
  const added = await env.stack.oscJson(['server', 'add', 'volume', 'att1', 'data1'], alice);
  assert.equal(added.ID ?? added.id, vol.id);
  assert.equal(added['Device'] ?? added.device, '/dev/sdb');
  await volumeStatus(vol.id, 'in-use');

  const shown = await env.stack.oscJson(['volume', 'show', 'data1'], alice);
  assert.equal(shown.status, 'in-use');
  assert.equal(shown.attachments.length, 1);
  assert.equal(shown.attachments[0].server_id, serverId);
  assert.equal(shown.attachments[0].device, '/dev/sdb');
  assert.equal(shown.attachments[0].volume_id, vol.id);
  assert.ok(shown.attachments[0].attached_at);
  assert.equal(shown.attachments[0].host_name, null); // admins only

  // What reached Azure: the managed disk volume-<id> at LUN 0, detached (not deleted) with the VM.
  const disks = await dataDisks();
  assert.equal(disks.length, 1);
  assert.equal(disks[0].lun, 0);
  assert.match(disks[0].managedDisk?.id ?? '', new RegExp(`/disks/volume-${vol.id}$`, 'i'));
  assert.equal(disks[0].deleteOption, 'Detach');
  const req = (await env.control.requests()).filter((q) => q.method === 'POST' && q.path.endsWith(`/virtualMachines/${serverId}/attachDetachDataDisks`));
  assert.equal(req.length, 1);

  // The CLI negotiates Jacket's maximum (2.40): from 2.3 Nova adds delete_on_termination.
  const srv = await env.stack.oscJson(['server', 'show', 'att1'], alice);
  assert.deepEqual(JSON.stringify(srv.volumes_attached), JSON.stringify([{ id: vol.id, delete_on_termination: false }]));
  const full = await nova('GET', `/servers/${serverId}`);
  assertNovaResponse('servers', 'ServersController', 'show', '2.1', full.body);
  assert.deepEqual(full.body.server['os-extended-volumes:volumes_attached'], [{ id: vol.id }]);

  const list = await nova('GET', attachments());
  assert.equal(list.status, 200);
  assertNovaResponse('volume_attachments', 'VolumeAttachmentController', 'index', '2.1', list.body);
  assert.deepEqual(list.body.volumeAttachments, [{ id: vol.id, serverId, volumeId: vol.id, device: '/dev/sdb' }]);
  const one = await nova('GET', `${attachments()}/${vol.id}`);
  assertNovaResponse('volume_attachments', 'VolumeAttachmentController', 'show', '2.1', one.body);
  assert.equal(one.body.volumeAttachment.device, '/dev/sdb');

  // Cinder refuses to delete an attached volume; Nova refuses to attach it twice or to another server.
  const del = await cinder('DELETE', `/volumes/${vol.id}`);
  assert.equal(del.status, 400);
  assert.match(del.body.badRequest.message, /must not be migrating, attached/);
  const twice = await nova('POST', attachments(), tAlice, { volumeAttachment: { volumeId: vol.id } });
  assert.equal(twice.status, 400);
  assert.equal(twice.body.badRequest.message, `Invalid volume: volume ${vol.id} already attached`);

  await env.stack.oscOk(['server', 'remove', 'volume', 'att1', 'data1'], alice);
  const back = await volumeStatus(vol.id, 'available');
  assert.deepEqual(back.attachments, []);
  assert.equal((await dataDisks()).length, 0);
  const disk = await env.compute.disks.get(RG, `volume-${vol.id}`);
  assert.equal(disk.managedBy ?? null, null);
  assert.deepEqual((await nova('GET', attachments())).body.volumeAttachments, []);
  const acts = (await listActions(env.stack.cloud.services, serverId)).map((a) => `${a.action}:${a.events[0]?.result}`);
  assert.ok(acts.includes('attach_volume:Success') && acts.includes('detach_volume:Success'), acts.join());
});

test('attach refusals as Nova answers them, nothing changed: in-use volume 400, building server 409, unknown 404, other projects 404, bad body 400', async () => {
  const v1 = await newVolume('r1');
  const ok = await nova('POST', attachments(), tAlice, { volumeAttachment: { volumeId: v1, device: null } });
  assert.equal(ok.status, 200, ok.text);
  assertNovaResponse('volume_attachments', 'VolumeAttachmentController', 'create', '2.1', ok.body);
  await volumeStatus(v1, 'in-use');

  // A second server: the in-use volume cannot go there; while it builds, nothing attaches to it.
  const v2 = await newVolume('r2');
  const imageRef = await imageId(env.stack, tAlice);
  const other = await nova('POST', '/servers', tAlice, { server: { name: 'att2', flavorRef: '3', imageRef } });
  assert.equal(other.status, 202, other.text);
  const otherId = other.body.server.id;
  const building = await nova('POST', attachments(otherId), tAlice, { volumeAttachment: { volumeId: v2 } });
  assert.equal(building.status, 409, building.text);
  assert.equal(building.body.conflictingRequest.message, `Cannot 'attach_volume' instance ${otherId} while it is in vm_state building`);
  assert.equal((await cinder('GET', `/volumes/${v2}`)).body.volume.status, 'available');
  // A volume another attach flow holds (reserved through Cinder): Nova's _check_attach words.
  const v3 = await newVolume('r3');
  assert.equal((await cinder('POST', `/volumes/${v3}/action`, { 'os-reserve': {} })).status, 202);
  const held = await nova('POST', attachments(), tAlice, { volumeAttachment: { volumeId: v3 } });
  assert.equal(held.status, 400, held.text);
  assert.equal(held.body.badRequest.message, `Invalid volume: volume '${v3}' status must be 'available'. Currently in 'attaching'`);
  assert.equal((await dataDisks()).length, 1);

  const unknown = '00000000-0000-4000-8000-000000000000';
  const nf = await nova('POST', attachments(), tAlice, { volumeAttachment: { volumeId: unknown } });
  assert.equal(nf.status, 404);
  assert.equal(nf.body.itemNotFound.message, `Volume ${unknown} could not be found.`);
  const bad = await nova('POST', attachments(), tAlice, { volumeAttachment: { volumeId: 'nope' } });
  assert.equal(bad.status, 400);
  const badDevice = await nova('POST', attachments(), tAlice, { volumeAttachment: { volumeId: v2, device: 'sdb' } });
  assert.equal(badDevice.status, 400);
  const notAttached = await nova('GET', `${attachments()}/${v2}`);
  assert.equal(notAttached.status, 404);
  assert.equal(notAttached.body.itemNotFound.message, `Instance ${serverId} is not attached to volume ${v2}`);
  assert.equal((await nova('DELETE', `${attachments()}/${v2}`)).status, 404);

  // Bob sees neither alice's server nor her volumes.
  assert.equal((await nova('GET', attachments(), tBob)).status, 404);
  assert.equal((await nova('POST', attachments(), tBob, { volumeAttachment: { volumeId: v2 } })).status, 404);
  const tReader = await env.stack.token(await readerOf(alice.projectId, 'att-a'));
  assert.equal((await nova('POST', attachments(), tReader, { volumeAttachment: { volumeId: v2 } })).status, 403);
  assert.equal((await nova('GET', attachments(), tReader)).status, 200);

  // Swap: admin-only; accepted and failed on the compute side as a driver without swap_volume.
  assert.equal((await nova('PUT', `${attachments()}/${v1}`, tAlice, { volumeAttachment: { volumeId: v2 } })).status, 403);
  const sw = await nova('PUT', `${attachments()}/${v1}`, tAdmin, { volumeAttachment: { volumeId: v2 } });
  assert.equal(sw.status, 202, sw.text);
  assert.equal((await cinder('GET', `/volumes/${v1}`)).body.volume.status, 'in-use');
  assert.equal((await cinder('GET', `/volumes/${v2}`)).body.volume.status, 'available');
  const swapAct = (await listActions(env.stack.cloud.services, serverId)).find((a) => a.action === 'swap_volume');
  assert.equal(swapAct?.events[0]?.result, 'Error');

  // Deleting the other server while alice's volume stays attached to the first one.
  assert.equal((await nova('DELETE', `/servers/${otherId}`)).status, 204);
  assert.equal((await nova('DELETE', `${attachments()}/${v1}`)).status, 202);
  await volumeStatus(v1, 'available');
});

test("no free LUN: the VM size takes 4 data disks (Standard_B2s), the fifth attach is 403 as Nova's TooManyDiskDevices", async () => {
  const ids = await Promise.all(['l0', 'l1', 'l2', 'l3', 'l4'].map(newVolume));
  for (const id of ids.slice(0, 4)) {
    const r = await nova('POST', attachments(), tAlice, { volumeAttachment: { volumeId: id } });
    assert.equal(r.status, 200, r.text);
  }
  const fifth = await nova('POST', attachments(), tAlice, { volumeAttachment: { volumeId: ids[4] } });
  assert.equal(fifth.status, 403);
  assert.equal(fifth.body.forbidden.message, 'The maximum allowed number of disk devices (4) to attach to a single instance has been exceeded.');
  assert.equal((await cinder('GET', `/volumes/${ids[4]}`)).body.volume.status, 'available');
  for (const id of ids.slice(0, 4)) await volumeStatus(id, 'in-use');
  const disks = await dataDisks();
  assert.deepEqual(disks.map((d) => d.lun).sort(), [0, 1, 2, 3]);
  const list = (await nova('GET', attachments())).body.volumeAttachments;
  assert.deepEqual(list.map((a: { device: string }) => a.device).sort(), ['/dev/sdb', '/dev/sdc', '/dev/sdd', '/dev/sde']);
  assert.equal((await nova('GET', `${attachments()}?limit=2&offset=1`)).body.volumeAttachments.length, 2);

  // Deleting the server detaches its volumes (delete_on_termination is false for attached volumes).
  const srv = await env.stack.oscJson(['server', 'create', '--flavor', 'm1.medium', '--image', 'ubuntu-22.04', '--network', 'private', '--wait', 'att3'], alice);
  const r = await nova('POST', attachments(srv.id), tAlice, { volumeAttachment: { volumeId: ids[4] } });
  assert.equal(r.status, 200, r.text);
  await volumeStatus(ids[4], 'in-use');
  assert.equal((await nova('DELETE', `/servers/${srv.id}`)).status, 204);
  const freed = await volumeStatus(ids[4], 'available');
  assert.deepEqual(freed.attachments, []);
  assert.ok(await env.compute.disks.get(RG, `volume-${ids[4]}`));
});

test('Cinder attach actions at 3.0: reserve/unreserve, attach/detach, begin_detaching refusals, connection info', async () => {
  const id = await newVolume('act');
  const act = (body: unknown) => cinder('POST', `/volumes/${id}/action`, body);
  assert.equal((await act({ 'os-reserve': null })).status, 202);
  assert.equal((await cinder('GET', `/volumes/${id}`)).body.volume.status, 'attaching');
  const again = await act({ 'os-reserve': {} });
  assert.equal(again.status, 400);
  assert.equal(again.body.badRequest.message, 'Invalid volume: Volume status must be available to reserve, but the status is attaching.');
  assert.equal((await act({ 'os-unreserve': {} })).status, 202);
  assert.equal((await cinder('GET', `/volumes/${id}`)).body.volume.status, 'available');
  const bd = await act({ 'os-begin_detaching': {} });
  assert.equal(bd.status, 400);
  assert.equal((await act({ 'os-attach': { mountpoint: '/dev/vdb' } })).status, 400);
  assert.equal((await act({ 'os-attach': { instance_uuid: serverId, mountpoint: '/dev/vdb' } })).status, 202);
  const v = (await cinder('GET', `/volumes/${id}`)).body.volume;
  assert.equal(v.status, 'in-use');
  assert.equal(v.attachments[0].server_id, serverId);
  const conn = await act({ 'os-initialize_connection': { connector: {} } });
  assert.equal(conn.status, 200);
  assert.equal(conn.body.connection_info.data.managed_disk_name, `volume-${id}`);
  assert.equal((await act({ 'os-terminate_connection': { connector: {} } })).status, 202);
  assert.equal((await act({ 'os-detach': {} })).status, 202);
  assert.equal((await cinder('GET', `/volumes/${id}`)).body.volume.status, 'available');
  assert.equal((await act({ 'os-detach': {} })).status, 400);
  assert.equal((await cinder('POST', `/volumes/${id}/action`, { 'os-reserve': {} }, tBob)).status, 400); // Malformed request url: another project's path
});
