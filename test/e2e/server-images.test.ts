// createImage / createBackup end to end: the real CLI and HTTP against the app, the app against the ARM
// emulator. The OS disk's snapshot is read back from the emulator; a server boots from the snapshot
// image (a copy of the snapshot attached as its OS disk); backups rotate.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startArmStack, waitFor, type ArmStack } from '../support/armStack';
import { listActions } from '../../shared/compute/servers/instanceActions';
import { assertNovaResponse } from '../support/oracle';
import type { Creds } from '../support/stack';
import { absentOnAzure as armAbsent } from '../support/fixtures';

let env: ArmStack;
let alice: Creds & { projectId: string; userId: string };
let tAlice: string;
let tBob: string;
let serverId: string;
let snapId: string;
let srv2Id: string;
const RG = 'ops_resource_group';

const action = (id: string, body: unknown, token = tAlice) => env.stack.http('POST', `/compute/v2.1/servers/${id}/action`, { token, body });
const image = async (id: string) => (await env.stack.http('GET', `/image/v2/images/${id}`, { token: tAlice })).body;
/** `openstack server rebuild --wait -f json` prints a progress line before the JSON. */
const rebuildCli = async (args: string[]) => {
  const out = await env.stack.oscOk(['server', 'rebuild', ...args, '-f', 'json'], alice);
  return JSON.parse(out.slice(out.indexOf('{')));
};

before(async () => {
  env = await startArmStack();
  alice = await env.stack.makeProjectUser('img-a', 'alice');
  const bob = await env.stack.makeProjectUser('img-b', 'bob');
  [tAlice, tBob] = await Promise.all([env.stack.token(alice), env.stack.token(bob)]);
  const srv = await env.stack.oscJson(['server', 'create', '--flavor', 'm1.medium', '--image', 'ubuntu-22.04', '--network', 'private', '--wait', 'img1'], alice);
  assert.equal(srv.status, 'ACTIVE');
  serverId = srv.id;
});
after(() => env?.stop());

test('openstack server image create --wait: a snapshot of the OS disk on Azure, an active private image in image list', async () => {
  const img = await env.stack.oscJson(['server', 'image', 'create', '--name', 'snap', '--wait', serverId], alice);
  snapId = img.id;
  assert.equal(img.status, 'active');
  const list = await env.stack.oscJson(['image', 'list'], alice);
  assert.ok(list.some((i: { ID: string; Name: string }) => i.ID === snapId && i.Name === 'snap'));
  const g = await image(snapId);
  assert.equal(g.visibility, 'private');
  assert.equal(g.owner, alice.projectId);
  assert.equal(g.image_type, 'snapshot');
  assert.equal(g.instance_uuid, serverId);
  assert.equal(g.azure_type, 'snapshot');
  assert.equal(g.azure_os_type, 'linux');
  assert.equal(g.min_disk, 40);
  // On Azure: a full snapshot of the server's OS disk, tagged for the sweeps.
  const vm = await env.compute.virtualMachines.get(RG, serverId);
  const sn = await env.compute.snapshots.get(RG, `image-${snapId}`);
  assert.equal(g.azure_uri, sn.id);
  assert.equal(sn.creationData?.createOption, 'Copy');
  assert.equal(sn.creationData?.sourceResourceId?.toLowerCase(), vm.storageProfile?.osDisk?.managedDisk?.id?.toLowerCase());
  assert.equal(sn.tags?.['jacket-image-id'], snapId);
  const srv = (await env.stack.http('GET', `/compute/v2.1/servers/${serverId}`, { token: tAlice })).body.server;
  assert.equal(srv.status, 'ACTIVE');
  assert.equal(srv['OS-EXT-STS:task_state'], null);
  const act = (await listActions(env.stack.cloud.services, serverId)).find((a) => a.action === 'createImage')!;
  assert.equal(act.events[0].event, 'compute_snapshot_instance');
  assert.equal(act.events[0].result, 'Success');
});

test('openstack server create --image <snapshot> boots a copy of the snapshot as the OS disk (Attach, no osProfile)', async () => {
  await env.control.clearRequests();
  const srv2 = await env.stack.oscJson(['server', 'create', '--flavor', 'm1.medium', '--image', 'snap', '--network', 'private', '--wait', 'img2'], alice);
  assert.equal(srv2.status, 'ACTIVE');
  srv2Id = srv2.id;
  const vm = await env.compute.virtualMachines.get(RG, srv2.id);
  assert.equal(vm.storageProfile?.osDisk?.createOption, 'Attach');
  assert.equal(vm.storageProfile?.osDisk?.osType, 'Linux');
  assert.equal(vm.storageProfile?.imageReference, undefined);
  assert.equal(vm.osProfile, undefined);
  const disk = await env.compute.disks.get(RG, srv2.id);
  assert.equal(disk.creationData?.createOption, 'Copy');
  assert.match(disk.creationData?.sourceResourceId ?? '', new RegExp(`snapshots/image-${snapId}$`, 'i'));
  const put = (await env.control.requests()).find((r) => r.method === 'PUT' && r.path.endsWith(`/virtualMachines/${srv2.id}`))!;
  assert.equal((put.requestBody as any).properties.osProfile, undefined, 'no password reaches a specialized disk');
  // A password or key for a specialized disk cannot be applied: 400, nothing made.
  const r = await env.stack.http('POST', '/compute/v2.1/servers', { token: tAlice, body: { server: { name: 'x', flavorRef: '3', imageRef: snapId, adminPass: 'Secret-Pass-1' } } });
  assert.equal(r.status, 400);
  assert.match(r.body.badRequest.message, /specialized/);
});

test('createImage over HTTP: 202, Location of the image, no body; refusals change nothing', async () => {
  const r = await action(serverId, { createImage: { name: 'snap-http', metadata: { purpose: 'test' } } });
  assert.equal(r.status, 202, r.text);
  assert.equal(r.text, '');
  const loc = r.headers.get('location')!;
  assert.match(loc, /\/image\/images\/[0-9a-f-]{36}$/);
  const id = loc.split('/').pop()!;
  const g = await waitFor('snapshot active', async () => {
    const v = await image(id);
    return v.status === 'active' ? v : undefined;
  });
  assert.equal(g.purpose, 'test');
  // Bad bodies (Nova's schema), another project's server: nothing is made.
  const before = (await env.stack.http('GET', '/image/v2/images', { token: tAlice })).body.images.length;
  assert.equal((await action(serverId, { createImage: {} })).status, 400);
  assert.equal((await action(serverId, { createImage: { name: ' lead' } })).status, 400);
  assert.equal((await action(serverId, { createImage: { name: 'x', metadata: { a: 1 } } })).status, 400);
  assert.equal((await action(serverId, { createBackup: { name: 'b', backup_type: 'daily' } })).status, 400);
  assert.equal((await action(serverId, { createBackup: { name: 'b', backup_type: 'daily', rotation: -1 } })).status, 400);
  const other = await action(serverId, { createImage: { name: 'stolen' } }, tBob);
  assert.equal(other.status, 404);
  assert.equal(other.body.itemNotFound.message, `Instance ${serverId} could not be found.`);
  assert.equal((await env.stack.http('GET', '/image/v2/images', { token: tAlice })).body.images.length, before);
  // Deleting the snapshot image deletes its Azure snapshot.
  assert.equal((await env.stack.http('DELETE', `/image/v2/images/${id}`, { token: tAlice })).status, 204);
  await waitFor('Azure snapshot deleted', async () => ((await armAbsent(env.compute.snapshots.get(RG, `image-${id}`))) ? true : undefined));
});

test('openstack server backup create --rotate 2, three times: the oldest backup (and its Azure snapshot) is removed', async () => {
  const ids: string[] = [];
  for (const n of ['b1', 'b2', 'b3']) {
    const b = await env.stack.oscJson(['server', 'backup', 'create', '--name', n, '--type', 'daily', '--rotate', '2', '--wait', serverId], alice);
    ids.push(b.id);
    // The backup's rotation runs as its snapshot completes: wait for that before the next one.
    await waitFor(`${n} rotated`, async () => {
      const acts = await listActions(env.stack.cloud.services, serverId);
      return acts.filter((a) => a.action === 'createBackup' && a.events[0].result === 'Success').length === ids.length ? true : undefined;
    });
  }
  const g = await image(ids[2]);
  assert.equal(g.image_type, 'backup');
  assert.equal(g.backup_type, 'daily');
  await waitFor('oldest backup gone', async () => ((await env.stack.http('GET', `/image/v2/images/${ids[0]}`, { token: tAlice })).status === 404 ? true : undefined));
  assert.equal((await image(ids[1])).status, 'active');
  assert.equal((await image(ids[2])).status, 'active');
  await waitFor('its snapshot deleted', async () => ((await armAbsent(env.compute.snapshots.get(RG, `image-${ids[0]}`))) ? true : undefined));
  assert.ok(!(await armAbsent(env.compute.snapshots.get(RG, `image-${ids[1]}`))));
  // Location only with rotation > 0; the 2.1 body is empty.
  const r = await action(serverId, { createBackup: { name: 'weekly1', backup_type: 'weekly', rotation: '1' } });
  assert.equal(r.status, 202, r.text);
  assert.match(r.headers.get('location') ?? '', /\/compute\/v2\.1\/images\/[0-9a-f-]{36}$/);
  await waitFor('weekly backup done', async () => ((await image(r.headers.get('location')!.split('/').pop()!)).status === 'active' ? true : undefined));
  await waitFor('task_state None', async () =>
    (await env.stack.http('GET', `/compute/v2.1/servers/${serverId}`, { token: tAlice })).body.server['OS-EXT-STS:task_state'] === null ? true : undefined,
  );
});

test('openstack server rebuild --image <same image> --wait: Azure reimages the VM with the new admin password', async () => {
  await env.control.clearRequests();
  await rebuildCli(['--image', 'ubuntu-22.04', '--password', 'Rebuilt-Pass-1', '--wait', serverId]);
  assert.equal((await env.stack.http('GET', `/compute/v2.1/servers/${serverId}`, { token: tAlice })).body.server.status, 'ACTIVE');
  const reimage = (await env.control.requests()).filter((q) => q.method === 'POST' && q.path.endsWith(`/virtualMachines/${serverId}/reimage`));
  assert.equal(reimage.length, 1);
  assert.equal((reimage[0].requestBody as any).osProfile.adminPassword, 'Rebuilt-Pass-1');
  const vm = await env.compute.virtualMachines.get(RG, serverId, { expand: 'instanceView' });
  assert.equal(vm.storageProfile?.osDisk?.name, serverId);
  assert.ok(vm.instanceView?.statuses?.some((st) => st.code === 'PowerState/running'));
  const act = (await listActions(env.stack.cloud.services, serverId)).find((a) => a.action === 'rebuild')!;
  assert.equal(act.events[0].result, 'Success');
});

test('rebuild with another image: a new OS disk from the image, swapped in deallocated, the password set by VMAccess', async () => {
  const ubuntu = (await env.stack.http('GET', '/image/v2/images?name=ubuntu-22.04', { token: tAlice })).body.images[0].id;
  await env.control.clearRequests();
  const r = await env.stack.http('POST', `/compute/v2.1/servers/${srv2Id}/action`, {
    token: tAlice,
    body: { rebuild: { imageRef: ubuntu, name: 'img2-rebuilt', metadata: { k: 'v' }, accessIPv6: '0:0:0:0:0:FFFF:CB00:7109' } },
  });
  assert.equal(r.status, 202, r.text);
  assertNovaResponse('servers', 'ServersController', '_rebuild', '2.1', r.body);
  // accessIPv6 as netaddr (inet_ntop) writes it: an IPv4-mapped address keeps a dotted tail
  assert.equal(r.body.server.accessIPv6, '::ffff:203.0.113.9');
  assert.equal(r.body.server.status, 'REBUILD');
  assert.equal(r.body.server.name, 'img2-rebuilt');
  assert.equal(r.body.server.image.id, ubuntu);
  const pass: string = r.body.server.adminPass;
  assert.match(pass, /^[A-Za-z0-9]{12}$/, 'a generated password, as Nova');
  await waitFor(
    'ACTIVE after rebuild',
    async () => {
      const v = (await env.stack.http('GET', `/compute/v2.1/servers/${srv2Id}`, { token: tAlice })).body.server;
      return v.status === 'ACTIVE' ? v : undefined;
    },
    90000,
  );
  const vm = await env.compute.virtualMachines.get(RG, srv2Id);
  const diskName = vm.storageProfile?.osDisk?.name ?? '';
  assert.match(diskName, new RegExp(`^${srv2Id}-r`));
  const disk = await env.compute.disks.get(RG, diskName);
  assert.equal(disk.creationData?.createOption, 'FromImage');
  assert.match(disk.creationData?.imageReference?.id ?? '', /\/Publishers\/Canonical\/ArtifactTypes\/VMImage\/Offers\/0001-com-ubuntu-server-jammy\/Skus\/22_04-lts-gen2\/Versions\/[0-9.]+$/i);
  await waitFor('old OS disk deleted', async () => ((await armAbsent(env.compute.disks.get(RG, srv2Id))) ? true : undefined));
  const reqs = await env.control.requests();
  const order = [`/disks/${diskName}`, '/deallocate', `/virtualMachines/${srv2Id}`, '/start', '/extensions/enablevmaccess'].map((p) =>
    reqs.findIndex((q) => q.method !== 'GET' && q.path.endsWith(p) && (p !== `/virtualMachines/${srv2Id}` || q.method === 'PATCH')),
  );
  assert.ok(
    order.every((i, k) => i >= 0 && (k === 0 || i > order[k - 1])),
    `disk, deallocate, swap, start, password: ${order}`,
  );
  const ext = reqs.find((q) => q.method === 'PUT' && q.path.endsWith('/extensions/enablevmaccess'))!;
  assert.deepEqual((ext.requestBody as any).properties.protectedSettings, { username: 'azureuser', password: pass });
  assert.equal((await env.control.getResource(vm.id!)).guestUsers.azureuser.password, true);
  // Refusals: unknown image, another OS type; nothing changes.
  const bad = await env.stack.http('POST', `/compute/v2.1/servers/${srv2Id}/action`, { token: tAlice, body: { rebuild: { imageRef: '00000000-0000-4000-8000-000000000000' } } });
  assert.equal(bad.status, 400);
  assert.equal(bad.body.badRequest.message, 'Cannot find image for rebuild');
  const win = (await env.stack.http('GET', '/image/v2/images?name=windows-server-2022', { token: tAlice })).body.images[0].id;
  const other = await env.stack.http('POST', `/compute/v2.1/servers/${srv2Id}/action`, { token: tAlice, body: { rebuild: { imageRef: win } } });
  assert.equal(other.status, 400);
  assert.equal((await env.stack.http('POST', `/compute/v2.1/servers/${srv2Id}/action`, { token: tAlice, body: { rebuild: {} } })).status, 400);
  // Azure refusing the new OS disk: ERROR with Azure's message; the VM keeps its disk.
  await env.control.addFault({ method: 'PUT', path: `/disks/${srv2Id}-r`, status: 409, code: 'OperationNotAllowed', message: 'Operation results in exceeding quota limits of Disk.' });
  const failing = await env.stack.http('POST', `/compute/v2.1/servers/${srv2Id}/action`, { token: tAlice, body: { rebuild: { imageRef: ubuntu } } });
  assert.equal(failing.status, 202, failing.text);
  const errored = await waitFor('ERROR', async () => {
    const v = (await env.stack.http('GET', `/compute/v2.1/servers/${srv2Id}`, { token: tAlice })).body.server;
    return v.status === 'ERROR' ? v : undefined;
  });
  assert.equal(errored.fault.message, 'Operation results in exceeding quota limits of Disk.');
  assert.equal((await env.compute.virtualMachines.get(RG, srv2Id)).storageProfile?.osDisk?.name, diskName);
});

test('openstack server rebuild --image <snapshot> --wait: the snapshot is copied into the new OS disk', async () => {
  const r = await rebuildCli(['--image', 'snap', '--wait', serverId]);
  assert.equal(r.id, serverId);
  const vm = await env.compute.virtualMachines.get(RG, serverId);
  const disk = await env.compute.disks.get(RG, vm.storageProfile!.osDisk!.name!);
  assert.equal(disk.creationData?.createOption, 'Copy');
  assert.match(disk.creationData?.sourceResourceId ?? '', new RegExp(`snapshots/image-${snapId}$`, 'i'));
  const s = (await env.stack.http('GET', `/compute/v2.1/servers/${serverId}`, { token: tAlice })).body.server;
  assert.equal(s.status, 'ACTIVE');
  assert.equal(s.image.id, snapId);
});
