// The sweeps' coverage of everything Jacket names: backup and image blobs (sweep-blobs) and the disks
// that restores over a volume and rebuilds with another image make (sweep-disks). Azurite + the ARM
// emulator + the real CLI; leftovers are made behind Jacket's back (as a crashed step leaves them),
// owned resources through the API, and each sweep is called as its timer calls it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { BlobServiceClient, type ContainerClient } from '@azure/storage-blob';
import { startArmStack, waitFor, type ArmStack } from '../support/armStack';
import type { Creds } from '../support/stack';
import type { Services } from '../../shared/services';
import { sweepBlobs } from '../../shared/timers/blobs';
import { sweepDisks } from '../../shared/timers/disks';
import type { SweepReport } from '../../shared/timers/sweep';

let arm: ArmStack;
let s: Services;
let blobs: BlobServiceClient;
let alice: Creds & { projectId: string; userId: string };
let tAlice: string;
const RG = 'ops_resource_group';
const FAST = { updateIntervalInMs: 100 };
/** Shared by the two tests: a volume with a backup, and an image uploaded through a held-open request. */
let volumeId: string;
let backupId: string;
let imageId: string;

before(async () => {
  arm = await startArmStack({ asyncDelayMs: 100 });
  s = arm.stack.cloud.services;
  blobs = BlobServiceClient.fromConnectionString(arm.stack.cloud.settings.JACKET_STORAGE_CONNECTION_STRING);
  alice = await arm.stack.makeProjectUser('sweepb-a', 'sbalice');
  tAlice = await arm.stack.token(alice);
});
after(async () => {
  arm?.control.close();
  await arm?.stop();
});

const skipped = (r: SweepReport, reason: string) => r.skipped[reason] ?? 0;
const volume = (id: string) => arm.stack.http('GET', `/volume/v3/${alice.projectId}/volumes/${id}`, { token: tAlice }).then((r) => r.body.volume);
const statusIs = (get: () => Promise<{ status: string }>, want: string) => async () => ((await get()).status === want ? true : undefined);

async function pageBlob(c: ContainerClient, name: string, metadata?: Record<string, string>) {
  await c.createIfNotExists();
  await c.getPageBlobClient(name).create(512, metadata ? { metadata } : {});
}

test('sweep-blobs: an orphaned backup or image blob goes on the second pass; owned, uploading, foreign and vhds blobs stay', async () => {
  const vol = await arm.stack.oscJson(['volume', 'create', '--size', '1', 'sb-vol'], alice);
  volumeId = vol.id;
  await waitFor(
    'volume available',
    statusIs(() => volume(volumeId), 'available'),
  );
  const bk = await arm.stack.oscJson(['volume', 'backup', 'create', '--name', 'sb-bk', 'sb-vol'], alice);
  backupId = bk.id;
  await waitFor(
    'backup available',
    statusIs(() => arm.stack.http('GET', `/volume/v3/${alice.projectId}/backups/${backupId}`, { token: tAlice }).then((r) => r.body.backup), 'available'),
  );

  const backups = blobs.getContainerClient('backups');
  const images = blobs.getContainerClient('images');
  const vhds = blobs.getContainerClient('vhds');
  // Leftovers: a backup blob written by a step that crashed before its record existed, an image blob
  // whose image is gone. Foreign: Jacket's name without its metadata, names Jacket never uses, and
  // the platform's vhds container (never listed).
  const lostBackup = randomUUID();
  await pageBlob(backups, `backup-${lostBackup}.vhd`, { jacket: 'backup', jacket_backup_id: lostBackup });
  const lostImage = `image-${randomUUID()}.vhd`;
  await pageBlob(images, lostImage);
  const unproven = `backup-${randomUUID()}.vhd`;
  await pageBlob(backups, unproven);
  await pageBlob(backups, 'notes.vhd');
  await images.getBlockBlobClient(`image-${randomUUID()}.vhd`).upload('x', 1); // not a page blob
  const platform = [`image-${randomUUID()}.vhd`, `backup-${lostBackup}.vhd`];
  for (const n of platform) await pageBlob(vhds, n);

  // An image whose upload is still streaming (Glance's 'saving'): its blob exists, its record owns it.
  // (created over HTTP: the CLI without --file would read image data from its stdin)
  const img = await arm.stack.http('POST', '/image/v2/images', { token: tAlice, body: { name: 'sb-uploading', disk_format: 'raw', container_format: 'bare', os_type: 'linux' } });
  assert.equal(img.status, 201, img.text);
  imageId = img.body.id;
  let finishUpload!: () => void;
  const body = new ReadableStream<Uint8Array>({
    async start(c) {
      c.enqueue(new Uint8Array(1024 * 1024).fill(3));
      await new Promise<void>((r) => (finishUpload = r));
      c.enqueue(new Uint8Array(1024 * 1024).fill(4));
      c.close();
    },
  });
  const upload = fetch(`${arm.stack.url}/image/v2/images/${imageId}/file`, {
    method: 'PUT',
    headers: { 'X-Auth-Token': tAlice, 'Content-Type': 'application/octet-stream' },
    body,
    duplex: 'half',
  } as RequestInit);
  const uploading = images.getPageBlobClient(`image-${imageId}.vhd`);
  await waitFor('the upload writing its blob', async () => ((await uploading.exists()) ? true : undefined));
  const show = () => arm.stack.http('GET', `/image/v2/images/${imageId}`, { token: tAlice }).then((r) => r.body);
  assert.equal((await show()).status, 'saving');

  const r1 = await sweepBlobs(s);
  assert.equal(r1.ran, true);
  assert.equal(r1.deleted, 0, JSON.stringify(r1));
  assert.equal(skipped(r1, 'first-pass'), 2, JSON.stringify(r1));
  const r2 = await sweepBlobs(s);
  assert.deepEqual(r2.deletedNames.sort(), [`backup-${lostBackup}.vhd`, lostImage].sort(), JSON.stringify(r2));
  assert.ok(skipped(r2, 'backup-record') >= 1 && skipped(r2, 'image-record') >= 1, JSON.stringify(r2));
  assert.ok(skipped(r2, 'not-jacket') >= 3, JSON.stringify(r2));
  assert.equal(await backups.getPageBlobClient(`backup-${lostBackup}.vhd`).exists(), false);
  assert.equal(await images.getPageBlobClient(lostImage).exists(), false);
  assert.equal((await show()).status, 'saving', 'the passes ran while the upload was in flight');

  finishUpload();
  assert.equal((await upload).status, 204);
  await waitFor('image active', async () => ((await show()).status === 'active' ? true : undefined));
  for (let i = 0; i < 2; i++) assert.equal((await sweepBlobs(s)).deleted, 0);
  assert.ok(await uploading.exists(), 'the uploaded image keeps its blob');
  assert.ok(await backups.getPageBlobClient(`backup-${backupId}.vhd`).exists(), 'the backup keeps its blob through every pass');
  assert.ok(await backups.getPageBlobClient(unproven).exists());
  assert.ok(await backups.getPageBlobClient('notes.vhd').exists());
  for (const n of platform) assert.ok(await vhds.getPageBlobClient(n).exists(), `vhds/${n} untouched`);
  assert.equal((await arm.stack.oscJson(['volume', 'backup', 'show', backupId], alice)).status, 'available');
});

test('sweep-disks: leaked restore and rebuild disks go on the second pass; the ones a record or a running rebuild needs stay', async () => {
  const { compute, control } = arm;
  // A restore over the existing volume: the record now names volume-<id>-<8hex>.
  await arm.stack.oscOk(['volume', 'backup', 'restore', '--force', backupId, volumeId], alice);
  await waitFor('restored', async () => {
    const v = await s.tables.repository<{ status: string; disk: { name: string } }>('volumes').get(alice.projectId, volumeId);
    return v?.value.status === 'available' && v.value.disk.name !== `volume-${volumeId}` ? true : undefined;
  });
  const restored = (await s.tables.repository<{ disk: { name: string } }>('volumes').get(alice.projectId, volumeId))!.value.disk.name;
  assert.match(restored, new RegExp(`^volume-${volumeId}-[0-9a-f]{8}$`));
  const volTags = { jacket: 'volume', 'jacket-volume-id': volumeId, 'jacket-project-id': alice.projectId };
  const leakedRestore = `volume-${volumeId}-deadbeef`;
  await compute.disks.createOrUpdate(RG, leakedRestore, { location: 'eastus', sku: { name: 'Standard_LRS' }, diskSizeGB: 1, creationData: { createOption: 'Empty' }, tags: volTags }, FAST);

  // A server rebuilt with another image, held between its new disk and the swap (Azure refuses the
  // deallocation with a Conflict, which the step retries).
  const net = await arm.stack.http('GET', '/network/v2.0/networks?name=private', { token: tAlice });
  const ubuntu = (await arm.stack.http('GET', '/image/v2/images?name=ubuntu-22.04', { token: tAlice })).body.images[0].id;
  const created = await arm.stack.http('POST', '/compute/v2.1/servers', {
    token: tAlice,
    body: { server: { name: 'sb-srv', flavorRef: '3', imageRef: ubuntu, networks: [{ uuid: net.body.networks[0].id }] } },
  });
  assert.equal(created.status, 202, created.text);
  const sid: string = created.body.server.id;
  const server = () => arm.stack.http('GET', `/compute/v2.1/servers/${sid}`, { token: tAlice }).then((r) => r.body.server);
  await waitFor('server ACTIVE', statusIs(server, 'ACTIVE'), 90000);
  const srvTags = { jacket: 'server', 'jacket-server-id': sid, 'jacket-project-id': alice.projectId };
  const leakedRebuild = `${sid}-rleak1`;
  await compute.disks.createOrUpdate(RG, leakedRebuild, { location: 'eastus', sku: { name: 'Standard_LRS' }, diskSizeGB: 1, creationData: { createOption: 'Empty' }, tags: srvTags }, FAST);
  await control.addFault({ method: 'POST', path: `/virtualMachines/${sid}/deallocate$`, status: 409, code: 'Conflict', message: 'injected: busy', count: 100000 });
  await arm.stack.oscOk(['server', 'rebuild', '--image', imageId, sid], alice);
  const fresh = await waitFor('the rebuild disk', async () => {
    for await (const d of compute.disks.listByResourceGroup(RG)) {
      if (d.name?.startsWith(`${sid}-r`) && d.name !== leakedRebuild && d.provisioningState === 'Succeeded') return d.name;
    }
    return undefined;
  });
  assert.equal((await server()).status, 'REBUILD');

  const d1 = await sweepDisks(s);
  const d2 = await sweepDisks(s);
  assert.equal(d1.deleted, 0, JSON.stringify(d1));
  assert.deepEqual(d2.deletedNames, [leakedRestore], JSON.stringify(d2));
  assert.ok(skipped(d2, 'server-rebuilding') >= 2, `the rebuild owns its new disk (and, while it runs, the leaked one): ${JSON.stringify(d2)}`);
  assert.ok(skipped(d2, 'volume-record') >= 1, JSON.stringify(d2));
  assert.equal((await server()).status, 'REBUILD', 'the passes ran while the rebuild waited');

  await control.clearFaults();
  await waitFor('ACTIVE after rebuild', statusIs(server, 'ACTIVE'), 90000);
  assert.equal((await compute.virtualMachines.get(RG, sid)).storageProfile?.osDisk?.name, fresh);
  const d3 = await sweepDisks(s);
  const d4 = await sweepDisks(s);
  assert.equal(d3.deleted, 0, JSON.stringify(d3));
  assert.deepEqual(d4.deletedNames, [leakedRebuild], JSON.stringify(d4));
  const exists = (n: string) =>
    compute.disks.get(RG, n).then(
      () => true,
      (e) => (e.statusCode === 404 ? false : Promise.reject(e)),
    );
  assert.equal(await exists(leakedRestore), false);
  assert.equal(await exists(leakedRebuild), false);
  assert.ok(await exists(restored), 'the restored volume keeps its disk');
  assert.ok(await exists(fresh), "the rebuilt server's OS disk stays");
  assert.equal((await volume(volumeId)).status, 'available');
  for (const r of [d1, d2, d3, d4]) assert.ok(!r.deletedNames.includes(restored) && !r.deletedNames.includes(fresh));
});
