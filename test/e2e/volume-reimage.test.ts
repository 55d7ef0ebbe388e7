// Cinder 3.68 (SUPPORT_REIMAGE_VOLUME): POST /volumes/{id}/action {"os-reimage": {"image_id",
// "reimage_reserved"}} end to end against the ARM emulator, by HTTP (OSC 10.5 has no command for it).
// Absent below 3.68 (a bare 404); refusals in Cinder's order and words, none of which touches the volume;
// a reimage from an uploaded image (the volume's disk is a new disk imported from the image's VHD blob,
// holding the image's bytes, swapped into the record; the old disk gone; the Glance metadata the image's);
// a reserved volume with reimage_reserved; and a reimage Azure refuses (the volume error, its data kept).
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { BlobServiceClient } from '@azure/storage-blob';
import { volumeAdvertises, volumeTest } from '../support/advertised';
import { startArmStack, waitFor, type ArmStack } from '../support/armStack';
import type { Creds } from '../support/stack';
import { tokenProjectId } from '../support/fixtures';
import { refused } from '../support/nova';
import { diskBytes } from '../support/diskBytes';

let env: ArmStack;
let blobs: BlobServiceClient;
let alice: Creds & { projectId: string; userId: string };
let tAlice: string;
let tAdmin: string;
let tReader: string;
let adminProject: string;
let image: string;
const RG = 'ops_resource_group';
const IMAGE_BYTES = Buffer.from(Array.from({ length: 8192 }, (_, i) => (i * 7 + 3) % 251));
const missing = '00000000-0000-4000-8000-000000000000';

const cinder = (token: string, mv: string) => (method: string, p: string, body?: unknown) =>
  env.stack.http(method, `/volume/v3/${token === tAdmin ? adminProject : alice.projectId}${p}`, { token, body, headers: { 'OpenStack-API-Version': `volume ${mv}` } });
const reimage = (id: string, body: unknown, mv = '3.68', token = tAlice) => cinder(token, mv)('POST', `/volumes/${id}/action`, { 'os-reimage': body });
const glance = (method: string, p: string, body?: unknown, headers?: Record<string, string>) => env.stack.http(method, `/image/v2${p}`, { token: tAlice, body, headers });
const volume = async (id: string) => (await cinder(tAdmin, '3.68')('GET', `/volumes/${id}`)).body?.volume;
const volumeIs = (id: string, status: string) => waitFor(`volume ${id} ${status}`, async () => ((await volume(id))?.status === status ? volume(id) : undefined), 90000);
const newVolume = async (name: string, size = 1): Promise<string> => {
  const v = (await cinder(tAlice, '3.0')('POST', '/volumes', { volume: { size, name, metadata: { keep: 'me' } } })).body.volume;
  await volumeIs(v.id, 'available');
  return v.id;
};
const diskOf = async (name: string) => {
  try {
    return await env.compute.disks.get(RG, name);
  } catch (e) {
    if ((e as { statusCode?: number }).statusCode === 404) return undefined;
    throw e;
  }
};
const diskNameOf = (providerId: string) => providerId.split('/').pop()!;
const bytes = () => diskBytes(env.compute, env.control, blobs);

/** A raw image uploaded through Glance (a fixed VHD page blob in Azure), active. */
async function uploadImage(name: string, data: Buffer): Promise<string> {
  const c = await glance('POST', '/images', { name, disk_format: 'raw', container_format: 'bare' });
  assert.equal(c.status, 201, c.text);
  const res = await fetch(`${env.stack.url}/image/v2/images/${c.body.id}/file`, {
    method: 'PUT',
    headers: { 'X-Auth-Token': tAlice, 'Content-Type': 'application/octet-stream' },
    body: data,
  });
  assert.equal(res.status, 204, await res.text());
  await waitFor(`image ${name} active`, async () => ((await glance('GET', `/images/${c.body.id}`)).body?.status === 'active' ? true : undefined));
  return c.body.id as string;
}

/** The volume as it stood: status, disk, Glance metadata (a refusal changes none of them). */
const unchanged = async (id: string, status = 'available') => {
  const v = await volume(id);
  assert.equal(v.status, status);
  assert.equal(diskNameOf(v.provider_id), `volume-${id}`, 'the disk is the same');
  assert.equal(v.volume_image_metadata, undefined);
};

const vtest = volumeTest('3.68');

before(async () => {
  if (!volumeAdvertises('3.68')) return;
  env = await startArmStack({ asyncDelayMs: 0 });
  blobs = BlobServiceClient.fromConnectionString(env.stack.cloud.azurite.connectionString);
  alice = await env.stack.makeProjectUser('rim-a', 'rimalice');
  [tAlice, tAdmin] = await Promise.all([env.stack.token(alice), env.stack.token()]);
  adminProject = await tokenProjectId(env.stack, tAdmin);
  // A reader of alice's project (volume:reimage wants a member).
  const s = env.stack;
  const password = 'Pw-rimreader-1a';
  const u = await s.http('POST', '/identity/v3/users', { token: tAdmin, body: { user: { name: 'rimreader', password, default_project_id: alice.projectId } } });
  const role = (await s.http('GET', '/identity/v3/roles?name=reader', { token: tAdmin })).body.roles[0].id;
  assert.equal((await s.http('PUT', `/identity/v3/projects/${alice.projectId}/users/${u.body.user.id}/roles/${role}`, { token: tAdmin })).status, 204);
  tReader = await s.token({ username: 'rimreader', password, project: 'rim-a' });
  image = await uploadImage('rim-img', IMAGE_BYTES);
});
after(() => env?.stop());

vtest("below 3.68 os-reimage is absent: a bare 404 (Cinder's versioned action), the volume untouched", async () => {
  const v = await newVolume('ri0');
  for (const mv of ['3.0', '3.61', '3.67']) await refused(reimage(v, { image_id: image }, mv), 404, 'The resource could not be found.');
  // Still an unknown action for Cinder's router at any version.
  await refused(cinder(tAlice, '3.68')('POST', `/volumes/${v}/action`, { 'os-reimagine': {} }), 400, 'There is no such action: os-reimagine');
  await unchanged(v);
});

vtest("3.68 refusals in Cinder's order and words; none changes the volume", async () => {
  const v = await newVolume('ri1');
  // The schema first: image_id a uuid and required, reimage_reserved Cinder's boolean, no other key.
  for (const body of [{}, { image_id: 'not-a-uuid' }, { image_id: image, reimage_reserved: 'maybe' }, { image_id: image, force: true }]) {
    assert.equal((await reimage(v, body)).status, 400, JSON.stringify(body));
  }
  assert.equal((await cinder(tAlice, '3.68')('POST', `/volumes/${v}/action`, { 'os-reimage': 'x' })).status, 400);
  // Then the volume, then the image (one the caller cannot see is not found either).
  await refused(reimage(missing, { image_id: image }), 404, `Volume ${missing} could not be found.`);
  await refused(reimage(v, { image_id: missing }), 404, `Image ${missing} could not be found.`);
  // A Nova image of a volume-backed server: its boot volume_size must fit the volume.
  const bdm = JSON.stringify([{ source_type: 'snapshot', destination_type: 'volume', boot_index: 0, snapshot_id: missing, volume_size: 3 }]);
  const nova = await glance('POST', '/images', { name: 'rim-nova', disk_format: 'raw', container_format: 'bare', block_device_mapping: bdm, bdm_v2: 'True' });
  assert.equal(nova.status, 201, nova.text);
  await refused(reimage(v, { image_id: nova.body.id }), 400, 'Volume size must be greater than the image size. (Image: 3, Volume: 1).');
  // The policy after the lookups: a reader of the project is refused.
  await refused(reimage(v, { image_id: image }, '3.68', tReader), 403, "Policy doesn't allow volume:reimage to be performed.");
  // The volume available or error: in-use is 400 Invalid volume (reserved too, without reimage_reserved).
  const act = (body: unknown) => cinder(tAlice, '3.68')('POST', `/volumes/${v}/action`, body);
  assert.equal((await act({ 'os-reserve': {} })).status, 202);
  assert.equal((await act({ 'os-attach': { host_name: 'h1', mountpoint: '/dev/vdb' } })).status, 202);
  await refused(reimage(v, { image_id: image }), 400, `Invalid volume: Volume ${v} status must be available or error, but current status is in-use.`);
  await refused(reimage(v, { image_id: image, reimage_reserved: true }), 400, `Invalid volume: Volume ${v} status must be available or error or reserved, but current status is in-use.`);
  assert.equal((await act({ 'os-detach': {} })).status, 202);
  await unchanged(v);
  // Then the image's checks: active, and no larger than the volume (min_disk here).
  const queued = await glance('POST', '/images', { name: 'rim-queued', disk_format: 'raw', container_format: 'bare' });
  await refused(reimage(v, { image_id: queued.body.id }), 400, `Invalid input received: Image ${queued.body.id} is not active.`);
  const big = await uploadImage('rim-big', IMAGE_BYTES);
  const patch = await glance('PATCH', `/images/${big}`, [{ op: 'replace', path: '/min_disk', value: 5 }], { 'Content-Type': 'application/openstack-images-v2.1-json-patch' });
  assert.equal(patch.status, 200, patch.text);
  await refused(reimage(v, { image_id: big }), 400, 'Invalid input received: Volume size 1GB cannot be smaller than the image minDisk size 5GB.');
  await unchanged(v);
  assert.equal((await volume(v)).metadata.keep, 'me');
});

vtest("a reimage: a new disk imported from the image holds its bytes, swapped in; the old disk gone; Glance metadata the image's, the rest kept", async () => {
  const v = await newVolume('ri2', 2);
  const before = await volume(v);
  await bytes().writeDisk(`volume-${v}`, 0, Buffer.alloc(4096, 0xab));
  // Glance metadata of its own, which the image's replaces.
  assert.equal((await cinder(tAlice, '3.68')('POST', `/volumes/${v}/action`, { 'os-set_image_metadata': { metadata: { mine: 'x' } } })).status, 200);

  const r = await reimage(v, { image_id: image, reimage_reserved: false });
  assert.equal(r.status, 202, r.text);
  assert.equal(r.text, '');
  const done = await volumeIs(v, 'available');
  const name = diskNameOf(done.provider_id);
  assert.match(name, new RegExp(`^volume-${v}-[0-9a-f]{8}$`));
  assert.equal(done.id, v);
  assert.equal(done.size, 2);
  assert.equal(done.volume_type, before.volume_type);
  assert.equal(done.name, 'ri2');
  assert.deepEqual(done.metadata, before.metadata);
  assert.equal(done.bootable, 'true');
  assert.equal(done.volume_image_metadata.image_id, image);
  assert.equal(done.volume_image_metadata.image_name, 'rim-img');
  assert.equal(done.volume_image_metadata.mine, undefined);
  const disk = (await diskOf(name))!;
  assert.equal(disk.creationData?.createOption, 'Import');
  assert.match(disk.creationData?.sourceUri ?? '', new RegExp(`/images/image-${image}\\.vhd$`));
  assert.equal(disk.diskSizeGB, 2);
  assert.equal(disk.tags?.['jacket-volume-id'], v);
  assert.deepEqual(await bytes().readDisk(name, 0, IMAGE_BYTES.length), IMAGE_BYTES, "the volume's bytes are the image's");
  await waitFor('old disk gone', async () => ((await diskOf(`volume-${v}`)) ? undefined : true));
  // An ordinary volume still: its delete takes the new disk.
  assert.equal((await cinder(tAlice, '3.68')('DELETE', `/volumes/${v}`)).status, 202);
  await waitFor('volume gone', async () => ((await volume(v)) ? undefined : true));
  assert.equal(await diskOf(name), undefined);
});

vtest('a reserved volume: reimage_reserved (volume:reimage_reserved) takes it through downloading and back to reserved, no new attachment meanwhile', async () => {
  const v = await newVolume('ri3');
  const server = '11111111-2222-4333-8444-555555555555';
  const att = await cinder(tAlice, '3.68')('POST', '/attachments', { attachment: { volume_uuid: v, instance_uuid: server } });
  assert.equal(att.status, 200, att.text);
  assert.equal((await volume(v)).status, 'reserved');
  await refused(reimage(v, { image_id: image }), 400, `Invalid volume: Volume ${v} status must be available or error, but current status is reserved.`);
  await refused(reimage(v, { image_id: image, reimage_reserved: 'true' }, '3.68', tReader), 403, "Policy doesn't allow volume:reimage_reserved to be performed.");
  // Hold the new disk's PUT so the volume is seen downloading.
  await env.control.addFault({ method: 'PUT', path: `/disks/volume-${v}-`, latencyMs: 3000, count: 1 });
  assert.equal((await reimage(v, { image_id: image, reimage_reserved: 'true' })).status, 202);
  assert.equal((await volume(v)).status, 'downloading');
  const other = await cinder(tAlice, '3.68')('POST', '/attachments', { attachment: { volume_uuid: v, instance_uuid: missing } });
  assert.equal(other.status, 400, other.text);
  const done = await volumeIs(v, 'reserved');
  assert.equal(done.volume_image_metadata.image_id, image);
  assert.notEqual(diskNameOf(done.provider_id), `volume-${v}`);
  assert.deepEqual(await bytes().readDisk(diskNameOf(done.provider_id), 0, IMAGE_BYTES.length), IMAGE_BYTES);
  const list = (await cinder(tAlice, '3.68')('GET', `/attachments?volume_id=${v}`)).body.attachments;
  assert.deepEqual(
    list.map((a: { id: string }) => a.id),
    [att.body.attachment.id],
  );
});

vtest("a reimage Azure refuses: the volume error (Cinder's manager), its disk and data kept; from error a reimage runs and keeps error (its previous status)", async () => {
  const v = await newVolume('ri4');
  const mine = Buffer.alloc(4096, 0x5c);
  await bytes().writeDisk(`volume-${v}`, 0, mine);
  await env.control.addFault({ method: 'PUT', path: `/disks/volume-${v}-`, count: 1, status: 400, code: 'OperationNotAllowed', message: 'injected: no import here' });
  assert.equal((await reimage(v, { image_id: image })).status, 202);
  const failed = await volumeIs(v, 'error');
  assert.equal(diskNameOf(failed.provider_id), `volume-${v}`, 'the record still names its disk');
  assert.equal(failed.volume_image_metadata, undefined);
  assert.deepEqual(await bytes().readDisk(`volume-${v}`, 0, mine.length), mine, 'the data was not lost');
  // volume/api.py reimage takes an error volume; the manager puts back its previous status.
  assert.equal((await reimage(v, { image_id: image })).status, 202);
  const again = await waitFor('reimaged from error', async () => {
    const x = await volume(v);
    return x.status === 'error' && x.volume_image_metadata ? x : undefined;
  });
  assert.notEqual(diskNameOf(again.provider_id), `volume-${v}`);
  assert.deepEqual(await bytes().readDisk(diskNameOf(again.provider_id), 0, IMAGE_BYTES.length), IMAGE_BYTES);
  await waitFor('old disk gone', async () => ((await diskOf(`volume-${v}`)) ? undefined : true));
});
