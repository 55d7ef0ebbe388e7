// Cinder backups, volumes from images and backups, upload to image and image metadata, end to end:
// the real `openstack` CLI and HTTP against the app, the ARM emulator keeping disk bytes in Azurite.
// Known bytes go into a disk, through a backup blob and back out of restored disks, read with real
// read SAS URLs; bodies are checked against Cinder's API samples.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { BlobServiceClient } from '@azure/storage-blob';
import { diskBytes } from '../support/diskBytes';
import type { Stack } from '../support/stack';
import { startArmStack, waitFor } from '../support/armStack';
import type { ProjectUser } from '../support/fixtures';
import { assertCinderShape } from '../support/cinderShapes';
import type { EmulatorControl } from '../../emulator/control';
import { createAzureClients, type AzureClients } from '../../shared/azure/clients';
import { isFixedVhdFooter, parseVhdFooter } from '../../shared/storage/vhd';
import { backupBlobClaim } from '../../shared/volume/blobClaims';

let stack: Stack;
let control: EmulatorControl;
let arm: AzureClients;
let blobs: BlobServiceClient;
let alice: ProjectUser, bob: ProjectUser;
let tA: string, tB: string;
const RG = 'ops_resource_group';
const GiB = 1024 ** 3;
const MiB = 1024 ** 2;

before(async () => {
  ({ stack, control } = await startArmStack({ asyncDelayMs: 100 }));
  arm = createAzureClients(stack.cloud.services.config);
  blobs = BlobServiceClient.fromConnectionString(stack.cloud.azurite.connectionString);
  alice = await stack.makeProjectUser('bk-a', 'bkalice');
  bob = await stack.makeProjectUser('bk-b', 'bkbob');
  [tA, tB] = await Promise.all([stack.token(alice), stack.token(bob)]);
});
after(async () => {
  control?.close();
  await stack?.stop();
});

const asAlice = (method: string, p: string, body?: unknown) => stack.http(method, `/volume/v3/${alice.projectId}${p}`, { token: tA, body });

const waitVolume = (id: string, want: string) =>
  waitFor(`volume ${id} ${want}`, async () => {
    const r = await asAlice('GET', `/volumes/${id}`);
    if (['error', 'error_restoring'].includes(r.body?.volume?.status) && want !== r.body.volume.status) throw new Error(`volume ${id} went ${r.body.volume.status}`);
    return r.body?.volume?.status === want ? (r.body.volume as Record<string, any>) : undefined;
  });
const waitBackup = (id: string, want: string) =>
  waitFor(`backup ${id} ${want}`, async () => {
    const r = await asAlice('GET', `/backups/${id}`);
    if (r.body?.backup?.status === 'error' && want !== 'error') throw new Error(`backup ${id} failed: ${r.body.backup.fail_reason}`);
    return r.body?.backup?.status === want ? (r.body.backup as Record<string, any>) : undefined;
  });
const waitGone = (p: string) => waitFor(`${p} gone`, async () => ((await asAlice('GET', p)).status === 404 ? true : undefined));

const pattern = (seed: number, n = 4096) => Buffer.from(Array.from({ length: n }, (_, i) => (i * seed + 11) % 251));

const writeDisk = (diskName: string, offset: number, data: Buffer) => diskBytes(arm.compute, control, blobs).writeDisk(diskName, offset, data);
const readDisk = (diskName: string, offset: number, length: number) => diskBytes(arm.compute, control, blobs).readDisk(diskName, offset, length);

const diskOf = async (volumeId: string) => {
  const all: string[] = [];
  for await (const d of arm.compute.disks.listByResourceGroup(RG)) if (d.tags?.['jacket-volume-id'] === volumeId) all.push(d.name!);
  return all;
};

test('backups: full and incremental copies in the backups container, restore to a new and over an existing volume, bytes verified', async () => {
  const v1 = await stack.oscJson(['volume', 'create', '--size', '1', 'bv1'], alice);
  await waitVolume(v1.id, 'available');
  const A = pattern(7);
  const B = pattern(13);
  await writeDisk(`volume-${v1.id}`, 0, A);

  const b1 = await stack.oscJson(['volume', 'backup', 'create', '--name', 'b1', '--description', 'first', 'bv1'], alice);
  const full = await waitBackup(b1.id, 'available');
  assertCinderShape('backups/backup-show-response.json', { backup: full });
  assert.equal(full.is_incremental, false);
  assert.equal(full.size, 1);
  assert.equal((await waitVolume(v1.id, 'available')).status, 'available');
  // the backup is a fixed VHD page blob apart from the disk, tagged with its owner
  const blob1 = blobs.getContainerClient('backups').getPageBlobClient(`backup-${b1.id}.vhd`);
  const props = await blob1.getProperties();
  assert.equal(props.contentLength, GiB + 512);
  assert.deepEqual(props.metadata, { jacket: 'backup', jacket_backup_id: b1.id, jacket_project_id: alice.projectId });
  const footer = await blob1.downloadToBuffer(GiB, 512);
  assert.ok(isFixedVhdFooter(footer));
  assert.equal(parseVhdFooter(footer).currentSize, GiB);
  assert.deepEqual(await blob1.downloadToBuffer(0, A.length), A);

  // change the disk, then an incremental backup: its blob holds the new state
  await writeDisk(`volume-${v1.id}`, 8 * MiB, B);
  const b2 = await stack.oscJson(['volume', 'backup', 'create', '--incremental', '--name', 'b2', '--description', 'second', 'bv1'], alice);
  const inc = await waitBackup(b2.id, 'available');
  assert.equal(inc.is_incremental, true);
  const blob2 = blobs.getContainerClient('backups').getPageBlobClient(`backup-${b2.id}.vhd`);
  assert.deepEqual(await blob2.downloadToBuffer(0, A.length), A);
  assert.deepEqual(await blob2.downloadToBuffer(8 * MiB, B.length), B);
  assert.ok(isFixedVhdFooter(await blob2.downloadToBuffer(GiB, 512)));
  // and the parent's blob did not change
  assert.deepEqual(await blob1.downloadToBuffer(8 * MiB, B.length), Buffer.alloc(B.length));
  // only the changed sectors were written: the backup record says so
  const rec2 = (await stack.cloud.services.tables.repository<{ blob: { changedBytes: number } }>('volbackups').get(alice.projectId, b2.id))!.value;
  assert.equal(rec2.blob.changedBytes, B.length);
  const parentShown = await stack.oscJson(['volume', 'backup', 'show', 'b1'], alice);
  assert.equal(parentShown.has_dependent_backups, true);

  const listed = await stack.oscJson<{ ID: string; Name: string; Status: string }[]>(['volume', 'backup', 'list'], alice);
  assert.deepEqual(listed.map((r) => r.Name).sort(), ['b1', 'b2']);
  assertCinderShape('backups/backups-list-response.json', (await asAlice('GET', '/backups')).body);
  assertCinderShape('backups/backups-list-detailed-response.json', (await asAlice('GET', '/backups/detail')).body);
  // the parent of an incremental cannot go; another project cannot see either
  const refused = await asAlice('DELETE', `/backups/${b1.id}`);
  assert.equal(refused.status, 400);
  assert.equal(refused.body.badRequest.message, 'Invalid backup: Incremental backups exist for this backup.');
  const other = await stack.http('GET', `/volume/v3/${bob.projectId}/backups/${b1.id}`, { token: tB });
  assert.equal(other.status, 404);
  assert.equal(other.body.itemNotFound.message, `Backup ${b1.id} could not be found.`);

  // restore the full backup to a new volume: the disk is imported from the backup blob
  const r1 = await stack.oscJson(['volume', 'backup', 'restore', 'b1', 'bv-new'], alice);
  assert.equal(r1.id, b1.id);
  const vNew = await waitVolume(r1.volume_id, 'available');
  assert.equal(vNew.name, 'bv-new');
  assert.equal((await waitBackup(b1.id, 'available')).status, 'available');
  const newDisk = await arm.compute.disks.get(RG, `volume-${vNew.id}`);
  assert.equal(newDisk.creationData?.createOption, 'Import');
  assert.deepEqual(await readDisk(`volume-${vNew.id}`, 0, A.length), A);
  assert.deepEqual(await readDisk(`volume-${vNew.id}`, 8 * MiB, B.length), Buffer.alloc(B.length));

  // restore the incremental over that existing volume (--force): same id, a new disk, the old one gone
  const existing = await stack.osc(['volume', 'backup', 'restore', 'b2', 'bv-new'], alice);
  assert.notEqual(existing.code, 0, 'the CLI wants --force for an existing volume');
  await stack.oscOk(['volume', 'backup', 'restore', '--force', 'b2', 'bv-new'], alice);
  await waitVolume(vNew.id, 'available');
  const disks = await waitFor('old disk removed', async () => {
    const d = await diskOf(vNew.id);
    return d.length === 1 && d[0] !== `volume-${vNew.id}` ? d : undefined;
  });
  assert.match(disks[0], new RegExp(`^volume-${vNew.id}-[0-9a-f]{8}$`));
  assert.deepEqual(await readDisk(disks[0], 0, A.length), A);
  assert.deepEqual(await readDisk(disks[0], 8 * MiB, B.length), B);
  // a volume whose disk was replaced still snapshots and deletes normally
  assert.equal((await asAlice('POST', '/backups', { backup: { volume_id: vNew.id, name: 'b3', description: 'third' } })).status, 202);

  // bad input changes nothing
  const bad = await asAlice('POST', '/backups', { backup: { volume_id: 'not-a-uuid' } });
  assert.equal(bad.status, 400);
  const over = await asAlice('POST', `/backups/${b1.id}/restore`, { restore: { volume_id: v1.id } });
  assert.equal(over.status, 202, over.text);
  assertCinderShape('backup-restore-response.json', over.body);
  await waitVolume(v1.id, 'available');

  // delete: children first, then the parent; blobs and records go
  const b3 = (await asAlice('GET', '/backups/detail?name=b3')).body.backups[0];
  await waitBackup(b3.id, 'available');
  await stack.oscOk(['volume', 'backup', 'delete', 'b2', 'b3'], alice);
  await waitGone(`/backups/${b2.id}`);
  await stack.oscOk(['volume', 'backup', 'delete', 'b1'], alice);
  await waitGone(`/backups/${b1.id}`);
  assert.equal(await blob1.exists(), false);
  assert.equal(await blob2.exists(), false);
  for (const id of [v1.id, vNew.id]) assert.equal((await asAlice('DELETE', `/volumes/${id}`)).status, 202);
  await waitFor('restored volume disks gone', async () => ((await diskOf(vNew.id)).length === 0 ? true : undefined));
});

test("a restore puts the source volume's metadata, as it was when backed up, onto its target", async () => {
  const src = await asAlice('POST', '/volumes', { volume: { size: 1, name: 'meta-src', description: 'the source', metadata: { tier: 'gold', owner: 'alice' } } });
  assert.equal(src.status, 202, src.text);
  const srcId = src.body.volume.id;
  await waitVolume(srcId, 'available');
  const bk = await asAlice('POST', '/backups', { backup: { volume_id: srcId, name: 'meta-b' } });
  assert.equal(bk.status, 202, bk.text);
  await waitBackup(bk.body.backup.id, 'available');
  // a change after the backup is not what the backup holds
  assert.equal((await asAlice('PUT', `/volumes/${srcId}/metadata`, { metadata: { tier: 'silver' } })).status, 200);
  const held = { tier: 'gold', owner: 'alice' };

  // to a new volume without a name: the auto-created volume takes the source's name and description
  const r1 = await asAlice('POST', `/backups/${bk.body.backup.id}/restore`, { restore: {} });
  assert.equal(r1.status, 202, r1.text);
  assert.equal(r1.body.restore.volume_name, `restore_backup_${bk.body.backup.id}`);
  const v1 = await waitVolume(r1.body.restore.volume_id, 'available');
  await waitBackup(bk.body.backup.id, 'available');
  assert.deepEqual(v1.metadata, held);
  assert.equal(v1.name, 'meta-src');
  assert.equal(v1.description, 'the source');
  // to a new volume the user named: metadata restored, the name and description kept
  const r2 = await asAlice('POST', `/backups/${bk.body.backup.id}/restore`, { restore: { name: 'mine' } });
  assert.equal(r2.status, 202, r2.text);
  const v2 = await waitVolume(r2.body.restore.volume_id, 'available');
  await waitBackup(bk.body.backup.id, 'available');
  assert.deepEqual(v2.metadata, held);
  assert.equal(v2.name, 'mine');
  assert.equal(v2.description, 'auto-created_from_restore_from_backup');
  // over an existing named volume: its metadata is replaced by the backup's, its name stays
  const tgt = await asAlice('POST', '/volumes', { volume: { size: 1, name: 'meta-tgt', metadata: { stale: 'x' } } });
  await waitVolume(tgt.body.volume.id, 'available');
  const r3 = await asAlice('POST', `/backups/${bk.body.backup.id}/restore`, { restore: { volume_id: tgt.body.volume.id } });
  assert.equal(r3.status, 202, r3.text);
  await waitBackup(bk.body.backup.id, 'available');
  const v3 = await waitVolume(tgt.body.volume.id, 'available');
  assert.deepEqual(v3.metadata, held);
  assert.equal(v3.name, 'meta-tgt');
  // and through the CLI
  assert.deepEqual((await stack.oscJson(['volume', 'show', v3.id], alice)).properties, held);
});

test('a backup Azure will not export fails with its reason and leaves the volume available; admins force-delete', async () => {
  const v = (await asAlice('POST', '/volumes', { volume: { size: 1, name: 'bx' } })).body.volume;
  await waitVolume(v.id, 'available');
  // A backup exports the snapshot it takes of the disk (backup-<backup id>); Azure refusing the
  // export (a 4xx no retry changes) fails the backup at once.
  await control.addFault({ method: 'POST', path: '/snapshots/backup-[^/]+/beginGetAccess', count: 1, status: 400, code: 'OperationNotAllowed', message: 'Export refused here.' });
  const c = await asAlice('POST', '/backups', { backup: { volume_id: v.id, name: 'bad' } });
  assert.equal(c.status, 202, c.text);
  assertCinderShape('backups/backup-create-response.json', c.body);
  const failed = await waitBackup(c.body.backup.id, 'error');
  assert.match(failed.fail_reason, /Export refused here/);
  await waitVolume(v.id, 'available');
  const member = await asAlice('POST', `/backups/${failed.id}/action`, { 'os-force_delete': {} });
  assert.equal(member.status, 403);
  const adminToken = await stack.token();
  const me = await stack.http('GET', '/identity/v3/auth/tokens', { token: adminToken, headers: { 'X-Subject-Token': adminToken } });
  const forced = await stack.http('POST', `/volume/v3/${me.body.token.project.id}/backups/${failed.id}/action`, { token: adminToken, body: { 'os-force_delete': {} } });
  assert.equal(forced.status, 202, forced.text);
  await waitGone(`/backups/${failed.id}`);
  assert.equal((await asAlice('DELETE', `/volumes/${v.id}`)).status, 202);
});

test("a worker that dies mid-copy leaves an unusable backup that the retried step completes; leftover blobs are nobody's", async () => {
  const v = (await asAlice('POST', '/volumes', { volume: { size: 1, name: 'crash' } })).body.volume;
  await waitVolume(v.id, 'available');
  const A = pattern(3);
  await writeDisk(`volume-${v.id}`, 4 * MiB, A);
  const c = (await asAlice('POST', '/backups', { backup: { volume_id: v.id, name: 'crashy' } })).body.backup;
  await waitBackup(c.id, 'available');
  // What a crash mid-copy leaves: the record still creating, the volume backing-up, half a blob
  // (data cleared, no footer yet).
  const s = stack.cloud.services;
  const tables = { backups: s.tables.repository<Record<string, unknown>>('volbackups'), volumes: s.tables.repository<Record<string, unknown>>('volumes') };
  await tables.backups.update(alice.projectId, c.id, (x) => ({ ...x, status: 'creating' }));
  await tables.volumes.update(alice.projectId, v.id, (x) => ({ ...x, status: 'backing-up', previous_status: 'available' }));
  const blob = blobs.getContainerClient('backups').getPageBlobClient(`backup-${c.id}.vhd`);
  await blob.clearPages(0, GiB + 512);
  const restoreRefused = await asAlice('POST', `/backups/${c.id}/restore`, { restore: { name: 'too-early' } });
  assert.equal(restoreRefused.status, 400);
  assert.equal(restoreRefused.body.badRequest.message, 'Invalid backup: Backup status must be available');
  assert.equal((await asAlice('GET', '/volumes/detail?name=too-early')).body.volumes.length, 0);
  // The queue hands the step out again (its message became visible after the crash).
  await s.work.enqueue({ kind: 'backup-create', id: c.id, data: { project: alice.projectId } });
  await waitBackup(c.id, 'available');
  await waitVolume(v.id, 'available');
  assert.deepEqual(await blob.downloadToBuffer(4 * MiB, A.length), A);
  assert.ok(isFixedVhdFooter(await blob.downloadToBuffer(GiB, 512)));
  // ownership for the sweep: the record's blob is claimed; once the record is gone, it is not
  const meta = (await blob.getProperties()).metadata;
  assert.equal(await backupBlobClaim(s, `backup-${c.id}.vhd`, meta), 'backup-record');
  assert.equal(await backupBlobClaim(s, 'disk.vhd', {}), 'not-jacket');
  await s.tables.repository('volindex').delete('backup', c.id);
  assert.equal(await backupBlobClaim(s, `backup-${c.id}.vhd`, meta), undefined);
  await s.tables.repository('volindex').upsert('backup', c.id, { project_id: alice.projectId });
  assert.equal((await asAlice('DELETE', `/backups/${c.id}`)).status, 202);
  await waitGone(`/backups/${c.id}`);
  assert.equal(await blob.exists(), false);
  assert.equal((await asAlice('DELETE', `/volumes/${v.id}`)).status, 202);
});

test('volumes from an uploaded image and a marketplace image; upload to image; image metadata set/unset', async () => {
  const v = await stack.oscJson(['volume', 'create', '--size', '1', 'src-img'], alice);
  await waitVolume(v.id, 'available');
  const A = pattern(5);
  await writeDisk(`volume-${v.id}`, 0, A);

  // upload to image: the volume's bytes become a Jacket image (fixed VHD blob + managed image)
  const up = await stack.oscJson(['image', 'create', '--volume', 'src-img', '--disk-format', 'raw', 'img1'], alice);
  assert.equal(up.status, 'uploading');
  const raw = await asAlice('GET', `/volumes/${v.id}`);
  assert.ok(['uploading', 'available'].includes(raw.body.volume.status));
  const img = await waitFor('image active', async () => {
    const r = await stack.http('GET', `/image/v2/images/${up.image_id}`, { token: tA });
    if (r.body?.status === 'killed') throw new Error('image killed');
    return r.body?.status === 'active' ? r.body : undefined;
  });
  assert.equal(img.size, GiB);
  assert.equal(img.disk_format, 'raw');
  await waitVolume(v.id, 'available');
  // the image's blob: the volume's bytes, then a fixed VHD footer
  const imgBlob = blobs.getContainerClient('images').getPageBlobClient(`image-${up.image_id}.vhd`);
  assert.deepEqual(await imgBlob.downloadToBuffer(0, A.length), A);
  assert.ok(isFixedVhdFooter(await imgBlob.downloadToBuffer(GiB, 512)));

  // a volume from that image: Import of the image's VHD blob, bytes and Glance metadata carried over
  const v3 = await stack.oscJson(['volume', 'create', '--image', 'img1', '--size', '1', 'from-img'], alice);
  const made = await waitVolume(v3.id, 'available');
  const { volume_image_metadata: _meta, ...plain } = made;
  assertCinderShape('volumes/volume-show-response.json', { volume: plain }, { hidden: ['os-vol-host-attr:host', 'os-vol-mig-status-attr:migstat', 'os-vol-mig-status-attr:name_id'] });
  assert.equal(made.bootable, 'true');
  assert.equal(made.volume_image_metadata.image_id, up.image_id);
  assert.equal(made.volume_image_metadata.image_name, 'img1');
  assert.equal((await arm.compute.disks.get(RG, `volume-${v3.id}`)).creationData?.createOption, 'Import');
  assert.deepEqual(await readDisk(`volume-${v3.id}`, 0, A.length), A);

  // os-set_image_metadata / os-unset_image_metadata through the CLI, os-show_image_metadata by HTTP
  await stack.oscOk(['volume', 'set', '--image-property', 'hw_disk_bus=scsi', 'from-img'], alice);
  let shown = await asAlice('POST', `/volumes/${v3.id}/action`, { 'os-show_image_metadata': {} });
  assertCinderShape('image-metadata-show-response.json', shown.body);
  assert.equal(shown.body.metadata.hw_disk_bus, 'scsi');
  await stack.oscOk(['volume', 'unset', '--image-property', 'hw_disk_bus', 'from-img'], alice);
  shown = await asAlice('POST', `/volumes/${v3.id}/action`, { 'os-show_image_metadata': {} });
  assert.equal(shown.body.metadata.hw_disk_bus, undefined);
  const missing = await asAlice('POST', `/volumes/${v3.id}/action`, { 'os-unset_image_metadata': { key: 'nope' } });
  assert.equal(missing.status, 404);
  const badKey = await asAlice('POST', `/volumes/${v3.id}/action`, { 'os-set_image_metadata': { metadata: { 'bad*key': 'x' } } });
  assert.equal(badKey.status, 400);
  // a volume without image metadata shows no volume_image_metadata key
  assert.equal('volume_image_metadata' in (await asAlice('GET', `/volumes/${v.id}`)).body.volume, false);

  // a marketplace image: a FromImage disk on the image version (min_disk gives the size)
  const v4 = await stack.oscJson(['volume', 'create', '--image', 'ubuntu-22.04', '--size', '30', 'from-market'], alice);
  const m = await waitVolume(v4.id, 'available');
  assert.equal(m.size, 30);
  const d4 = await arm.compute.disks.get(RG, `volume-${v4.id}`);
  assert.equal(d4.creationData?.createOption, 'FromImage');
  assert.match(d4.creationData?.imageReference?.id ?? '', /Publishers\/Canonical\/ArtifactTypes\/VMImage\/Offers\/0001-com-ubuntu-server-jammy\/Skus\/22_04-lts-gen2\/Versions\//);
  const tooSmall = await asAlice('POST', '/volumes', { volume: { size: 1, imageRef: m.volume_image_metadata.image_id } });
  assert.equal(tooSmall.status, 400);
  assert.match(tooSmall.body.badRequest.message, /cannot be smaller than the image minDisk size 30GB/);
  const unknown = await asAlice('POST', '/volumes', { volume: { size: 1, imageRef: '00000000-0000-4000-8000-000000000000' } });
  assert.equal(unknown.status, 400);
  assert.equal(unknown.body.badRequest.message, 'Invalid image identifier or unable to access requested image.');
  const badFormat = await asAlice('POST', `/volumes/${v.id}/action`, { 'os-volume_upload_image': { image_name: 'x', disk_format: 'qcow2' } });
  assert.equal(badFormat.status, 400);
  for (const id of [v.id, v3.id, v4.id]) assert.equal((await asAlice('DELETE', `/volumes/${id}`)).status, 202);
});
