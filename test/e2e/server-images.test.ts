// createImage / createBackup end to end: the real CLI and HTTP against the app, the app against the ARM
// emulator. The OS disk's snapshot is read back from the emulator; a server boots from the snapshot
// image (a copy of the snapshot attached as its OS disk); backups rotate.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startArmStack, waitFor, type ArmStack } from '../support/armStack';
import { listActions } from '../../shared/compute/servers/instanceActions';
import type { Creds } from '../support/stack';

let env: ArmStack;
let alice: Creds & { projectId: string; userId: string };
let tAlice: string;
let tBob: string;
let serverId: string;
let snapId: string;
const RG = 'ops_resource_group';

const action = (id: string, body: unknown, token = tAlice) => env.stack.http('POST', `/compute/v2.1/servers/${id}/action`, { token, body });
const image = async (id: string) => (await env.stack.http('GET', `/image/v2/images/${id}`, { token: tAlice })).body;
const armAbsent = async (p: Promise<unknown>) => {
  try {
    await p;
    return false;
  } catch (e) {
    return (e as { statusCode?: number }).statusCode === 404;
  }
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
after(async () => {
  env?.control.close();
  await env?.stop();
});

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
});
