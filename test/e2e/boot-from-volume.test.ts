// Boot from volume end to end: `openstack server create --volume` with a bootable volume (made from the
// marketplace image), the volume's managed disk attached as the VM's OS disk in the ARM emulator (no
// image reference, no osProfile), the volume in-use with the attachment, Nova's refusals, and
// delete_on_termination honoured when the server is deleted.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startArmStack, waitFor, type ArmStack } from '../support/armStack';
import { assertNovaResponse } from '../support/oracle';
import type { Creds } from '../support/stack';
import { absentOnAzure as armAbsent } from '../support/fixtures';

let env: ArmStack;
let alice: Creds & { projectId: string; userId: string };
let tAlice: string;
let bootVol: string;
const RG = 'ops_resource_group';

const nova = (method: string, p: string, body?: unknown) => env.stack.http(method, `/compute/v2.1${p}`, { token: tAlice, body });
const cinder = (method: string, p: string, body?: unknown) => env.stack.http(method, `/volume/v3/${alice.projectId}${p}`, { token: tAlice, body });
const volumeStatus = (id: string, want: string) =>
  waitFor(
    `volume ${id} ${want}`,
    async () => {
      const r = await cinder('GET', `/volumes/${id}`);
      return r.body?.volume?.status === want ? r.body.volume : undefined;
    },
    90000,
  );
const gone = (p: string, get: (p: string) => Promise<{ status: number }>) => waitFor(`${p} gone`, async () => ((await get(p)).status === 404 ? true : undefined), 90000);
const volumeBoot = (name: string, volumeId: string, extra: Record<string, unknown> = {}) => ({
  server: { name, flavorRef: '3', block_device_mapping_v2: [{ uuid: volumeId, boot_index: 0, source_type: 'volume', destination_type: 'volume', ...extra }] },
});

before(async () => {
  env = await startArmStack();
  alice = await env.stack.makeProjectUser('bfv-a', 'alice');
  tAlice = await env.stack.token(alice);
  const v = await env.stack.oscJson(['volume', 'create', '--image', 'ubuntu-22.04', '--size', '30', 'bootv'], alice);
  await volumeStatus(v.id, 'available');
  bootVol = v.id;
});
after(() => env?.stop());

test("openstack server create --volume --wait: the volume's disk is the OS disk (Attach, no image, no osProfile), the volume in-use at /dev/sda", async () => {
  const srv = await env.stack.oscJson(['server', 'create', '--volume', 'bootv', '--flavor', 'm1.medium', '--network', 'private', '--wait', 'bfv1'], alice);
  assert.equal(srv.status, 'ACTIVE');
  const vm = await env.compute.virtualMachines.get(RG, srv.id);
  const os = vm.storageProfile?.osDisk;
  assert.equal(os?.createOption, 'Attach');
  assert.match(os?.managedDisk?.id ?? '', new RegExp(`/disks/volume-${bootVol}$`, 'i'));
  assert.equal(os?.deleteOption, 'Detach');
  assert.equal(vm.storageProfile?.imageReference, undefined);
  assert.equal(vm.osProfile, undefined);
  const put = (await env.control.requests()).find((q) => q.method === 'PUT' && q.path.endsWith(`/virtualMachines/${srv.id}`));
  assert.equal((put?.requestBody as any)?.osProfile, undefined); // eslint-disable-line @typescript-eslint/no-explicit-any

  const vol = await volumeStatus(bootVol, 'in-use');
  assert.equal(vol.attachments[0].server_id, srv.id);
  assert.equal(vol.attachments[0].device, '/dev/sda');
  // The CLI negotiates Jacket's maximum (2.36): from 2.3 Nova adds delete_on_termination.
  const show = await env.stack.oscJson(['server', 'show', 'bfv1'], alice);
  assert.deepEqual(JSON.stringify(show.volumes_attached), JSON.stringify([{ id: bootVol, delete_on_termination: false }]));
  const full = await nova('GET', `/servers/${srv.id}`);
  assertNovaResponse('servers', 'ServersController', 'show', '2.1', full.body);
  assert.equal(full.body.server.image, '');
  const list = await nova('GET', `/servers/${srv.id}/os-volume_attachments`);
  assertNovaResponse('volume_attachments', 'VolumeAttachmentController', 'index', '2.1', list.body);
  assert.deepEqual(list.body.volumeAttachments, [{ id: bootVol, serverId: srv.id, volumeId: bootVol, device: '/dev/sda' }]);

  const root = await nova('DELETE', `/servers/${srv.id}/os-volume_attachments/${bootVol}`);
  assert.equal(root.status, 400);
  assert.equal(root.body.badRequest.message, 'Cannot detach a root device volume');
  const again = await nova('POST', '/servers', volumeBoot('bfv-dup', bootVol));
  assert.equal(again.status, 400);
  assert.equal(again.body.badRequest.message, `Invalid volume: volume '${bootVol}' status must be 'available'. Currently in 'in-use'`);
  assert.equal((await cinder('DELETE', `/volumes/${bootVol}`)).status, 400);
  // Rebuilding would replace the volume's own disk: refused as Nova does, nothing reaches Azure.
  const before = (await env.control.requests()).length;
  const image = (await env.stack.oscJson(['image', 'show', 'ubuntu-22.04'], alice)).id;
  const rebuild = await nova('POST', `/servers/${srv.id}/action`, { rebuild: { imageRef: image } });
  assert.equal(rebuild.status, 400);
  assert.equal(rebuild.body.badRequest.message, `Image ${image} is unacceptable: Unable to rebuild with a different image for a volume-backed server.`);
  assert.equal((await env.control.requests()).slice(before).filter((q) => q.method !== 'GET').length, 0);
  assert.equal((await nova('GET', `/servers/${srv.id}`)).body.server.status, 'ACTIVE');

  // delete_on_termination was not asked for: the server goes, the volume and its disk stay.
  await env.stack.oscOk(['server', 'delete', '--wait', 'bfv1'], alice);
  const freed = await volumeStatus(bootVol, 'available');
  assert.deepEqual(freed.attachments, []);
  const disk = await env.compute.disks.get(RG, `volume-${bootVol}`);
  assert.equal(disk.managedBy ?? null, null);
});

test('boot from volume refusals as Nova words them; nothing is created', async () => {
  const blank = await cinder('POST', '/volumes', { volume: { size: 1, name: 'blank' } });
  await volumeStatus(blank.body.volume.id, 'available');
  const before = (await nova('GET', '/servers')).body.servers.length;
  const notBootable = await nova('POST', '/servers', volumeBoot('nb', blank.body.volume.id));
  assert.equal(notBootable.status, 400);
  assert.equal(notBootable.body.badRequest.message, `Block Device ${blank.body.volume.id} is not bootable.`);
  const unknown = '00000000-0000-4000-8000-000000000000';
  const nf = await nova('POST', '/servers', volumeBoot('nf', unknown));
  assert.equal(nf.status, 400);
  assert.equal(nf.body.badRequest.message, `Block Device Mapping is Invalid: failed to get volume ${unknown}.`);
  const many = await nova('POST', '/servers', { server: { ...volumeBoot('many', bootVol).server, max_count: 2 } });
  assert.equal(many.status, 400);
  assert.equal(many.body.badRequest.message, 'Cannot attach one or more volumes to multiple instances');
  const withKey = await nova('POST', '/servers', { server: { ...volumeBoot('pw', bootVol).server, adminPass: 'Secret-Pass-1' } });
  assert.equal(withKey.status, 400);
  assert.equal((await nova('GET', '/servers')).body.servers.length, before);
  assert.equal((await cinder('GET', `/volumes/${bootVol}`)).body.volume.status, 'available');
});

test('delete_on_termination=true: deleting the server deletes the volume and its managed disk', async () => {
  const r = await nova('POST', '/servers', volumeBoot('bfv2', bootVol, { delete_on_termination: true }));
  assert.equal(r.status, 202, r.text);
  assertNovaResponse('servers', 'ServersController', 'create', '2.1', r.body);
  const id = r.body.server.id;
  assert.equal((await cinder('GET', `/volumes/${bootVol}`)).body.volume.status, 'attaching');
  await waitFor('server ACTIVE', async () => ((await nova('GET', `/servers/${id}`)).body.server?.status === 'ACTIVE' ? true : undefined), 90000);
  await volumeStatus(bootVol, 'in-use');
  assert.equal((await nova('DELETE', `/servers/${id}`)).status, 204);
  await gone(`/servers/${id}`, (p) => nova('GET', p));
  await gone(`/volumes/${bootVol}`, (p) => cinder('GET', p));
  assert.ok(await armAbsent(env.compute.disks.get(RG, `volume-${bootVol}`)));
});

// ---- boot from a new volume made from an image (block_device_mapping_v2 image -> volume) ----

const imageBoot = (name: string, imageId: string, extra: Record<string, unknown> = {}) => ({
  server: {
    name,
    flavorRef: '3',
    networks: [{ uuid: privateNet }],
    block_device_mapping_v2: [{ uuid: imageId, boot_index: 0, source_type: 'image', destination_type: 'volume', ...extra }],
  },
});
let privateNet = '';

test("openstack server create --image --boot-from-volume 40: the VM makes the volume's disk from the image (FromImage at 40 GB, provisioned, kept at delete)", async () => {
  privateNet = (await env.stack.oscJson(['network', 'show', 'private'], alice)).id;
  const volumesBefore = (await cinder('GET', '/volumes')).body.volumes.length;
  const srv = await env.stack.oscJson(['server', 'create', '--image', 'ubuntu-22.04', '--boot-from-volume', '40', '--flavor', 'm1.medium', '--network', 'private', '--wait', 'bfv-img'], alice);
  assert.equal(srv.status, 'ACTIVE');
  const full = await nova('GET', `/servers/${srv.id}`);
  assertNovaResponse('servers', 'ServersController', 'show', '2.1', full.body);
  assert.equal(full.body.server.image, '');
  const att = await nova('GET', `/servers/${srv.id}/os-volume_attachments`);
  assert.equal(att.body.volumeAttachments.length, 1);
  const volId: string = att.body.volumeAttachments[0].volumeId;
  assert.equal(att.body.volumeAttachments[0].device, '/dev/sda');
  // The volume Nova would have had Cinder make: named '', 40 GB, bootable, the image's metadata, in-use on the server.
  const vol = await volumeStatus(volId, 'in-use');
  assert.equal(vol.size, 40);
  assert.equal(vol.bootable, 'true');
  assert.equal(vol.name, '');
  assert.equal(vol.volume_image_metadata.image_name, 'ubuntu-22.04');
  assert.equal(vol.attachments[0].server_id, srv.id);
  assert.equal((await cinder('GET', '/volumes')).body.volumes.length, volumesBefore + 1);
  // On Azure: the OS disk made FromImage by the VM (provisioned: osProfile), named as the volume's disk,
  // at the asked size, left at delete; tagged as the volume's (the disk sweep's proof of ownership).
  const vm = await env.compute.virtualMachines.get(RG, srv.id);
  const os = vm.storageProfile?.osDisk;
  assert.equal(os?.createOption, 'FromImage');
  assert.equal(os?.name, `volume-${volId}`);
  assert.equal(os?.deleteOption, 'Detach');
  assert.ok(vm.storageProfile?.imageReference);
  assert.ok(vm.osProfile?.adminUsername);
  const disk = await env.compute.disks.get(RG, `volume-${volId}`);
  assert.equal(disk.diskSizeGB, 40);
  assert.equal(disk.tags?.jacket, 'volume');
  assert.equal(disk.tags?.['jacket-volume-id'], volId);
  // The CLI does not ask for delete_on_termination: the server goes, the volume and its disk stay.
  await env.stack.oscOk(['server', 'delete', '--wait', 'bfv-img'], alice);
  const freed = await volumeStatus(volId, 'available');
  assert.deepEqual(freed.attachments, []);
  assert.equal((await env.compute.disks.get(RG, `volume-${volId}`)).managedBy ?? null, null);
  // It boots again, now as an existing volume.
  const again = await env.stack.oscJson(['server', 'create', '--volume', volId, '--flavor', 'm1.medium', '--network', 'private', '--wait', 'bfv-img2'], alice);
  assert.equal(again.status, 'ACTIVE');
  await env.stack.oscOk(['server', 'delete', '--wait', 'bfv-img2'], alice);
  await volumeStatus(volId, 'available');
  assert.equal((await cinder('DELETE', `/volumes/${volId}`)).status, 202);
  await gone(`/volumes/${volId}`, (p) => cinder('GET', p));
  assert.ok(await armAbsent(env.compute.disks.get(RG, `volume-${volId}`)));
});

test('image -> volume with delete_on_termination=true: the server and its volume go together; refusals as Nova words them', async () => {
  const image = (await env.stack.oscJson(['image', 'show', 'ubuntu-22.04'], alice)).id;
  privateNet ||= (await env.stack.oscJson(['network', 'show', 'private'], alice)).id;
  const volumesBefore = (await cinder('GET', '/volumes')).body.volumes.length;
  const serversBefore = (await nova('GET', '/servers')).body.servers.length;
  const noSize = await nova('POST', '/servers', imageBoot('ns', image));
  assert.equal(noSize.status, 400);
  assert.equal(noSize.body.badRequest.message, "Images with destination_type 'volume' need to have a non-zero size specified");
  const small = await nova('POST', '/servers', imageBoot('small', image, { volume_size: 10 }));
  assert.equal(small.status, 400);
  assert.equal(small.body.badRequest.message, `Volume is smaller than the minimum size specified in image metadata. Volume size is ${10 * 1024 ** 3} bytes, minimum size is ${30 * 1024 ** 3} bytes.`);
  const many = await nova('POST', '/servers', { server: { ...imageBoot('many', image, { volume_size: 30 }).server, max_count: 2 } });
  assert.equal(many.status, 400);
  assert.equal(many.body.badRequest.message, 'Cannot attach one or more volumes to multiple instances');
  assert.equal((await cinder('GET', '/volumes')).body.volumes.length, volumesBefore);
  assert.equal((await nova('GET', '/servers')).body.servers.length, serversBefore);

  const r = await nova('POST', '/servers', imageBoot('bfv-dot', image, { volume_size: 30, delete_on_termination: true }));
  assert.equal(r.status, 202, r.text);
  assertNovaResponse('servers', 'ServersController', 'create', '2.1', r.body);
  const id = r.body.server.id;
  await waitFor('server ACTIVE', async () => ((await nova('GET', `/servers/${id}`)).body.server?.status === 'ACTIVE' ? true : undefined), 90000);
  const volId: string = (await nova('GET', `/servers/${id}/os-volume_attachments`)).body.volumeAttachments[0].volumeId;
  await volumeStatus(volId, 'in-use');
  assert.equal((await nova('DELETE', `/servers/${id}`)).status, 204);
  await gone(`/servers/${id}`, (p) => nova('GET', p));
  await gone(`/volumes/${volId}`, (p) => cinder('GET', p));
  assert.ok(await armAbsent(env.compute.disks.get(RG, `volume-${volId}`)));
});
