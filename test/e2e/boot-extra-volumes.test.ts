// Existing volumes attached at boot (shared/compute/servers/bootVolume.ts): `openstack server create
// --image … --block-device source_type=volume,uuid=V,destination_type=volume` maps volumes besides the
// boot device. The build's VM PUT carries them as data disks (createOption Attach) at LUNs 0, 1, …; once
// the server is ACTIVE each volume is in-use at /dev/sdb, /dev/sdc; Nova's refusals change nothing; the
// server's delete honours delete_on_termination.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { startArmStack, waitFor, type ArmStack } from '../support/armStack';
import { assertNovaResponse } from '../support/oracle';
import type { Creds } from '../support/stack';

let env: ArmStack;
let alice: Creds & { projectId: string; userId: string };
let tAlice: string;
const RG = 'ops_resource_group';

const nova = (method: string, p: string, body?: unknown) => env.stack.http(method, `/compute/v2.1${p}`, { token: tAlice, body });
const cinder = (method: string, p: string, body?: unknown) => env.stack.http(method, `/volume/v3/${alice.projectId}${p}`, { token: tAlice, body });
const volumeStatus = (id: string, want: string) =>
  waitFor(
    `volume ${id} ${want}`,
    async () => {
      const r = await cinder('GET', `/volumes/${id}`);
      if (want === 'gone') return r.status === 404 ? {} : undefined;
      return r.body?.volume?.status === want ? r.body.volume : undefined;
    },
    90000,
  );
const newVolume = async (name: string) => {
  const v = await env.stack.oscJson(['volume', 'create', '--size', '1', name], alice);
  await volumeStatus(v.id, 'available');
  return v.id as string;
};
/** `openstack server create --image ubuntu-22.04 --flavor m1.medium --network private --block-device <each> --wait <name>`. */
const createWith = (name: string, devices: string[]) =>
  env.stack.oscJson(['server', 'create', '--image', 'ubuntu-22.04', '--flavor', 'm1.medium', '--network', 'private', ...devices.flatMap((d) => ['--block-device', d]), '--wait', name], alice);
const extra = (uuid: string, more: Record<string, unknown> = {}) => ({ uuid, source_type: 'volume', destination_type: 'volume', ...more });

before(async () => {
  env = await startArmStack();
  alice = await env.stack.makeProjectUser('bev-a', 'alice');
  tAlice = await env.stack.token(alice);
});
after(() => env?.stop());

test('openstack server create --block-device: the volumes are data disks of the VM PUT, in-use at /dev/sdb and /dev/sdc once ACTIVE; the delete honours delete_on_termination', async () => {
  const v1 = await newVolume('bev-1');
  const v2 = await newVolume('bev-2');
  await env.control.clearRequests();
  const srv = await createWith('bev-s1', [`source_type=volume,uuid=${v1},destination_type=volume,delete_on_termination=true`, `source_type=volume,uuid=${v2},destination_type=volume`]);
  assert.equal(srv.status, 'ACTIVE');
  // One VM PUT: the image as the OS disk, both volumes' disks attached by it (no attach call after).
  const reqs = await env.control.requests();
  const put = reqs.find((q) => q.method === 'PUT' && q.path.endsWith(`/virtualMachines/${srv.id}`));
  const sp = (
    put?.requestBody as { properties: { storageProfile: { imageReference?: unknown; dataDisks?: { lun: number; createOption: string; managedDisk: { id: string }; deleteOption: string }[] } } }
  ).properties.storageProfile;
  assert.ok(sp.imageReference, 'booted from the image');
  assert.deepEqual(
    sp.dataDisks?.map((d) => [d.lun, d.createOption, d.managedDisk.id.split('/').pop(), d.deleteOption]),
    [
      [0, 'Attach', `volume-${v1}`, 'Detach'],
      [1, 'Attach', `volume-${v2}`, 'Detach'],
    ],
  );
  assert.equal(reqs.filter((q) => q.path.endsWith('/attachDetachDataDisks')).length, 0);
  const vm = await env.compute.virtualMachines.get(RG, srv.id);
  assert.deepEqual(
    vm.storageProfile?.dataDisks?.map((d) => d.lun),
    [0, 1],
  );

  const a1 = await volumeStatus(v1, 'in-use');
  const a2 = await volumeStatus(v2, 'in-use');
  assert.deepEqual([a1.attachments[0].server_id, a1.attachments[0].device], [srv.id, '/dev/sdb']);
  assert.deepEqual([a2.attachments[0].server_id, a2.attachments[0].device], [srv.id, '/dev/sdc']);
  const list = await nova('GET', `/servers/${srv.id}/os-volume_attachments`);
  assertNovaResponse('volume_attachments', 'VolumeAttachmentController', 'index', '2.1', list.body);
  assert.deepEqual(
    list.body.volumeAttachments.map((x: { volumeId: string; device: string }) => [x.volumeId, x.device]),
    [
      [v1, '/dev/sdb'],
      [v2, '/dev/sdc'],
    ],
  );
  const show = await env.stack.oscJson(['server', 'show', 'bev-s1'], alice);
  assert.deepEqual(
    JSON.stringify(show.volumes_attached),
    JSON.stringify([
      { id: v1, delete_on_termination: true },
      { id: v2, delete_on_termination: false },
    ]),
  );
  // Detached like any attached volume.
  await env.stack.oscOk(['server', 'remove', 'volume', 'bev-s1', v2], alice);
  await volumeStatus(v2, 'available');

  await env.stack.oscOk(['server', 'delete', '--wait', 'bev-s1'], alice);
  await volumeStatus(v1, 'gone');
  assert.equal((await volumeStatus(v2, 'available')).attachments.length, 0);
});

test("Nova's refusals for volumes at boot: nothing is made, no volume changes", async () => {
  const v = await newVolume('bev-3');
  const image = (await env.stack.oscJson(['image', 'show', 'ubuntu-22.04'], alice)).id;
  const net = (await env.stack.oscJson(['network', 'show', 'private'], alice)).id;
  const body = (bdms: unknown[], more: Record<string, unknown> = {}) => ({
    server: { name: 'bev-x', flavorRef: '3', imageRef: image, networks: [{ uuid: net }], block_device_mapping_v2: bdms, ...more },
  });
  const before = (await nova('GET', '/servers')).body.servers.length;
  const cases: [unknown, string][] = [
    [body([extra(v)], { max_count: 2 }), 'Cannot attach one or more volumes to multiple instances'],
    [body([extra(randomUUID())]), 'Block Device Mapping is Invalid: failed to get volume'],
    [body([extra(v), extra(v)]), `Invalid volume: volume '${v}' status must be 'available'. Currently in 'attaching'`],
  ];
  for (const [b, message] of cases) {
    const r = await nova('POST', '/servers', b);
    assert.equal(r.status, 400, r.text);
    assert.ok(r.body.badRequest.message.startsWith(message), r.body.badRequest.message);
  }
  assert.equal((await nova('GET', '/servers')).body.servers.length, before, 'no server was made');
  const vol = (await cinder('GET', `/volumes/${v}`)).body.volume;
  assert.equal(vol.status, 'available', 'a volume reserved before a refusal is given back');
  assert.deepEqual(vol.attachments, []);
});

test('a blank volume at boot (--block-device source_type=blank,…,volume_size=2): a Cinder volume whose disk the VM PUT makes (Empty), in-use once ACTIVE, deleted with the server', async () => {
  const before = new Set(((await cinder('GET', '/volumes')).body.volumes as { id: string }[]).map((v) => v.id));
  await env.control.clearRequests();
  const srv = await createWith('bev-s2', ['source_type=blank,destination_type=volume,volume_size=2,delete_on_termination=true']);
  assert.equal(srv.status, 'ACTIVE');
  const made = ((await cinder('GET', '/volumes')).body.volumes as { id: string }[]).filter((v) => !before.has(v.id));
  assert.equal(made.length, 1, 'one new volume');
  const id = made[0].id;
  const put = (await env.control.requests()).find((q) => q.method === 'PUT' && q.path.endsWith(`/virtualMachines/${srv.id}`));
  const dd = (put?.requestBody as { properties: { storageProfile: { dataDisks?: Record<string, unknown>[] } } }).properties.storageProfile.dataDisks;
  assert.deepEqual(
    dd?.map((d) => [d.lun, d.name, d.createOption, d.diskSizeGB, d.deleteOption]),
    [[0, `volume-${id}`, 'Empty', 2, 'Detach']],
  );
  const vol = await volumeStatus(id, 'in-use');
  assert.equal(vol.size, 2);
  assert.deepEqual([vol.attachments[0].server_id, vol.attachments[0].device], [srv.id, '/dev/sdb']);
  const disk = await env.compute.disks.get(RG, `volume-${id}`);
  assert.equal(disk.tags?.['jacket-volume-id'], id, "the disk the VM made is tagged as the volume's");
  const image = (await env.stack.oscJson(['image', 'show', 'ubuntu-22.04'], alice)).id;
  const net = (await env.stack.oscJson(['network', 'show', 'private'], alice)).id;
  const bad = await nova('POST', '/servers', {
    server: { name: 'bev-y', flavorRef: '3', imageRef: image, networks: [{ uuid: net }], block_device_mapping_v2: [{ source_type: 'blank', destination_type: 'volume' }] },
  });
  assert.equal(bad.status, 400, bad.text);
  assert.equal(bad.body.badRequest.message, "Blank volumes (source: 'blank', dest: 'volume') need to have non-zero size");

  await env.stack.oscOk(['server', 'delete', '--wait', 'bev-s2'], alice);
  await volumeStatus(id, 'gone');
});

test('a volume from a snapshot at boot (--block-device source_type=snapshot,uuid=S,…): a Cinder volume whose disk the VM PUT copies from the snapshot (Copy), in-use once ACTIVE', async () => {
  const src = await newVolume('bev-src');
  const snap = await env.stack.oscJson(['volume', 'snapshot', 'create', '--volume', src, 'bev-snap'], alice);
  await waitFor('snapshot available', async () => ((await cinder('GET', `/snapshots/${snap.id}`)).body.snapshot.status === 'available' ? true : undefined), 90000);
  const snapArm = (await env.compute.snapshots.get(RG, `snapshot-${snap.id}`)).id!;
  const before = new Set(((await cinder('GET', '/volumes')).body.volumes as { id: string }[]).map((v) => v.id));

  // Refusals first: an unknown snapshot (Nova's InvalidBDMSnapshot), a size below the snapshot's (Cinder's).
  const image = (await env.stack.oscJson(['image', 'show', 'ubuntu-22.04'], alice)).id;
  const net = (await env.stack.oscJson(['network', 'show', 'private'], alice)).id;
  const body = (bdm: Record<string, unknown>) => ({
    server: { name: 'bev-z', flavorRef: '3', imageRef: image, networks: [{ uuid: net }], block_device_mapping_v2: [{ source_type: 'snapshot', destination_type: 'volume', ...bdm }] },
  });
  const unknown = randomUUID();
  const r1 = await nova('POST', '/servers', body({ uuid: unknown }));
  assert.equal(r1.status, 400, r1.text);
  assert.equal(r1.body.badRequest.message, `Block Device Mapping is Invalid: failed to get snapshot ${unknown}.`);
  const big = await env.stack.oscJson(['volume', 'create', '--size', '2', 'bev-big'], alice);
  await volumeStatus(big.id, 'available');
  const bigSnap = await env.stack.oscJson(['volume', 'snapshot', 'create', '--volume', big.id, 'bev-big-snap'], alice);
  await waitFor('big snapshot available', async () => ((await cinder('GET', `/snapshots/${bigSnap.id}`)).body.snapshot.status === 'available' ? true : undefined), 90000);
  const r2 = await nova('POST', '/servers', body({ uuid: bigSnap.id, volume_size: 1 }));
  assert.equal(r2.status, 400, r2.text);
  assert.match(r2.body.badRequest.message, /cannot be smaller than the snapshot size/);
  assert.equal(((await cinder('GET', '/volumes')).body.volumes as unknown[]).length, before.size + 1, 'only bev-big was made');

  await env.control.clearRequests();
  const srv = await createWith('bev-s3', [`source_type=snapshot,uuid=${snap.id},destination_type=volume,volume_size=3`]);
  assert.equal(srv.status, 'ACTIVE');
  const made = ((await cinder('GET', '/volumes')).body.volumes as { id: string }[]).filter((v) => !before.has(v.id) && v.id !== big.id);
  assert.equal(made.length, 1, 'one new volume');
  const id = made[0].id;
  const put = (await env.control.requests()).find((q) => q.method === 'PUT' && q.path.endsWith(`/virtualMachines/${srv.id}`));
  const dd = (put?.requestBody as { properties: { storageProfile: { dataDisks?: Record<string, any>[] } } }).properties.storageProfile.dataDisks;
  assert.deepEqual(
    dd?.map((d) => [d.lun, d.name, d.createOption, d.sourceResource?.id, d.diskSizeGB]),
    [[0, `volume-${id}`, 'Copy', snapArm, 3]],
  );
  const vol = await volumeStatus(id, 'in-use');
  assert.equal(vol.size, 3);
  assert.equal(vol.snapshot_id, snap.id);
  assert.deepEqual([vol.attachments[0].server_id, vol.attachments[0].device], [srv.id, '/dev/sdb']);
  const disk = await env.compute.disks.get(RG, `volume-${id}`);
  assert.equal(disk.creationData?.createOption, 'Copy');
  assert.equal(disk.creationData?.sourceResourceId?.toLowerCase(), snapArm.toLowerCase());
  assert.equal(disk.tags?.['jacket-volume-id'], id);
  // The copy no longer needs its snapshot: it can be deleted (Cinder refuses while a volume is being made from it).
  await env.stack.oscOk(['volume', 'snapshot', 'delete', snap.id], alice);
  await waitFor('snapshot gone', async () => ((await cinder('GET', `/snapshots/${snap.id}`)).status === 404 ? true : undefined), 90000);

  // Without delete_on_termination the volume stays, available, when the server goes.
  await env.stack.oscOk(['server', 'delete', '--wait', 'bev-s3'], alice);
  await volumeStatus(id, 'available');
});

test('boot from a new volume made from a volume snapshot (openstack server create --snapshot S): the disk step copies the snapshot into the volume disk, attached as the OS disk, in-use at /dev/sda', async () => {
  // A bootable volume (from the image) to take the snapshot of.
  const src = await env.stack.oscJson(['volume', 'create', '--image', 'ubuntu-22.04', '--size', '30', 'bev-root'], alice);
  await volumeStatus(src.id, 'available');
  const snap = await env.stack.oscJson(['volume', 'snapshot', 'create', '--volume', src.id, 'bev-root-snap'], alice);
  await waitFor('snapshot available', async () => ((await cinder('GET', `/snapshots/${snap.id}`)).body.snapshot.status === 'available' ? true : undefined), 90000);
  const snapArm = (await env.compute.snapshots.get(RG, `snapshot-${snap.id}`)).id!;
  const before = new Set(((await cinder('GET', '/volumes')).body.volumes as { id: string }[]).map((v) => v.id));

  // Nova's refusals: an unknown snapshot; a password on a disk Azure does not provision.
  const net = (await env.stack.oscJson(['network', 'show', 'private'], alice)).id;
  const body = (bdm: Record<string, unknown>, more: Record<string, unknown> = {}) => ({
    server: { name: 'bev-sb', flavorRef: '3', networks: [{ uuid: net }], block_device_mapping_v2: [{ source_type: 'snapshot', destination_type: 'volume', boot_index: 0, ...bdm }], ...more },
  });
  const unknown = randomUUID();
  const r1 = await nova('POST', '/servers', body({ uuid: unknown }));
  assert.equal(r1.status, 400, r1.text);
  assert.equal(r1.body.badRequest.message, `Block Device Mapping is Invalid: failed to get snapshot ${unknown}.`);
  const r2 = await nova('POST', '/servers', body({ uuid: snap.id }, { adminPass: 'Secret-Pass-1' }));
  assert.equal(r2.status, 400, r2.text);
  assert.match(r2.body.badRequest.message, /becomes the OS disk as it is/);

  await env.control.clearRequests();
  const srv = await env.stack.oscJson(['server', 'create', '--snapshot', snap.id, '--flavor', 'm1.medium', '--network', 'private', '--wait', 'bev-s4'], alice);
  assert.equal(srv.status, 'ACTIVE');
  assert.equal(srv.image, 'N/A (booted from volume)');
  const made = ((await cinder('GET', '/volumes')).body.volumes as { id: string }[]).filter((v) => !before.has(v.id));
  assert.equal(made.length, 1, 'one new volume');
  const id = made[0].id;
  const reqs = await env.control.requests();
  // The disk step made the volume's disk from the snapshot, as the volume's (SKU, size, tags) ...
  const diskPut = reqs.find((q) => q.method === 'PUT' && q.path.endsWith(`/disks/volume-${id}`));
  const dp = (diskPut?.requestBody as { properties: { creationData: { createOption: string; sourceResourceId: string }; diskSizeGB: number }; tags: Record<string, string> }) ?? undefined;
  assert.deepEqual([dp.properties.creationData.createOption, dp.properties.creationData.sourceResourceId, dp.properties.diskSizeGB, dp.tags['jacket-volume-id']], ['Copy', snapArm, 30, id]);
  // ... then the VM PUT attached it as the OS disk, kept when the VM goes.
  const put = reqs.find((q) => q.method === 'PUT' && q.path.endsWith(`/virtualMachines/${srv.id}`));
  const os = (put?.requestBody as { properties: { storageProfile: { osDisk: Record<string, any>; imageReference?: unknown }; osProfile?: unknown } }).properties;
  assert.deepEqual([os.storageProfile.osDisk.createOption, os.storageProfile.osDisk.deleteOption, os.storageProfile.imageReference, os.osProfile], ['Attach', 'Detach', undefined, undefined]);
  assert.match(os.storageProfile.osDisk.managedDisk.id, new RegExp(`/disks/volume-${id}$`));
  const vol = await volumeStatus(id, 'in-use');
  assert.deepEqual([vol.size, vol.snapshot_id, vol.attachments[0].server_id, vol.attachments[0].device], [30, snap.id, srv.id, '/dev/sda']);
  // The snapshot is no longer held by the copy.
  await env.stack.oscOk(['volume', 'snapshot', 'delete', snap.id], alice);
  await waitFor('snapshot gone', async () => ((await cinder('GET', `/snapshots/${snap.id}`)).status === 404 ? true : undefined), 90000);
  // The server's delete leaves the volume (delete_on_termination false, the CLI's default for --snapshot).
  await env.stack.oscOk(['server', 'delete', '--wait', 'bev-s4'], alice);
  await volumeStatus(id, 'available');
});
