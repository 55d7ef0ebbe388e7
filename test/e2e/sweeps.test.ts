// The timer sweeps end to end: the app's stack on Azurite with the ARM emulator, resources made through
// the API and the real `openstack` CLI, orphans made behind Jacket's back through the Azure SDK, and
// each sweep called as the timer calls it. Proves the two-pass rule, the ownership rules, the lease,
// dry run, the image deletion retry and the local scheduler.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ComputeManagementClient } from '@azure/arm-compute';
import type { NetworkManagementClient } from '@azure/arm-network';
import { BlobServiceClient } from '@azure/storage-blob';
import type { Stack } from '../support/stack';
import { startArmStack, waitFor as poll } from '../support/armStack';
import type { ProjectUser } from '../support/fixtures';
import { countTableCalls, totalCalls } from '../support/tableCalls';
import type { RunningEmulator } from '../../emulator/server';
import type { EmulatorControl } from '../../emulator/control';
import { createServices, type Services } from '../../shared/services';
import { loadConfig } from '../../shared/config';
import { sweepNics } from '../../shared/timers/nics';
import { sweepDisks } from '../../shared/timers/disks';
import { volumeTables } from '../../shared/volume/model';
import { sweepImages } from '../../shared/timers/images';
import type { SweepReport } from '../../shared/timers/sweep';
import { claimLease, releaseLease } from '../../shared/timers/lease';
import { TimerScheduler } from '../../local/scheduler';

let stack: Stack;
let emu: RunningEmulator;
let control: EmulatorControl;
let compute: ComputeManagementClient;
let network: NetworkManagementClient;
let s: Services;
let alice: ProjectUser;
let tAlice: string;
let subnetId: string;
const RG = 'ops_resource_group';
/** LRO polling for the test's own ARM calls (the emulator completes operations in 200 ms). */
const FAST = { updateIntervalInMs: 100 };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

before(async () => {
  ({ stack, emu, control, compute, network } = await startArmStack({ asyncDelayMs: 200 }));
  s = stack.cloud.services;
  const vnet = emu.emulator.cfg.seed.virtualNetworks[0];
  subnetId = `/subscriptions/${emu.subscriptionId}/resourceGroups/${vnet.resourceGroup}/providers/Microsoft.Network/virtualNetworks/${vnet.name}/subnets/${vnet.subnets[0].name}`;
  alice = await stack.makeProjectUser('sweep-a', 'alice');
  tAlice = await stack.token(alice);
});
after(async () => {
  control?.close();
  await stack?.stop();
});

const waitFor = <T>(what: string, f: () => Promise<T | undefined>, timeoutMs = 30000) => poll(what, f, timeoutMs);

const exists = async (p: Promise<unknown>) => {
  try {
    await p;
    return true;
  } catch (e) {
    if ((e as { statusCode?: number }).statusCode === 404) return false;
    throw e;
  }
};
const nicExists = (name: string) => exists(network.networkInterfaces.get(RG, name));
const diskExists = (name: string) => exists(compute.disks.get(RG, name));

/** A NIC as the servers module makes one (tags and name from the server id), but with no VM. */
async function jacketNic(serverId: string, name = serverId, tags?: Record<string, string>) {
  return network.networkInterfaces.beginCreateOrUpdateAndWait(
    RG,
    name,
    {
      location: 'eastus',
      tags: tags ?? { jacket: 'server', 'jacket-server-id': serverId, 'jacket-project-id': alice.projectId },
      ipConfigurations: [{ name: 'ipconfig1', subnet: { id: subnetId }, privateIPAllocationMethod: 'Dynamic' }],
    },
    FAST,
  );
}

async function emptyDisk(name: string, tags?: Record<string, string>) {
  return compute.disks.createOrUpdate(RG, name, { location: 'eastus', sku: { name: 'Standard_LRS' }, diskSizeGB: 1, creationData: { createOption: 'Empty' }, ...(tags ? { tags } : {}) }, FAST);
}

const skipped = (r: SweepReport, reason: string) => r.skipped[reason] ?? 0;

test('a NIC left from a failed create is deleted on the second pass, not the first; foreign NICs never', async () => {
  const orphan = randomUUID();
  await jacketNic(orphan);
  await jacketNic(orphan, `${orphan}-1`); // a second NIC of the same server
  const foreignUuid = randomUUID();
  await jacketNic(foreignUuid, foreignUuid, { owner: 'someone-else' }); // named like ours, not tagged: not ours
  await jacketNic(foreignUuid, 'web-nic', { jacket: 'server', 'jacket-server-id': foreignUuid }); // tagged, but not our naming

  const first = await sweepNics(s);
  assert.equal(first.ran, true);
  assert.equal(first.deleted, 0);
  assert.ok(first.candidates >= 2 && skipped(first, 'first-pass') >= 2, JSON.stringify(first));
  assert.ok(await nicExists(orphan), 'not deleted on the first pass');

  const second = await sweepNics(s);
  assert.equal(second.pass, first.pass + 1);
  assert.deepEqual(second.deletedNames.sort(), [orphan, `${orphan}-1`].sort());
  assert.equal(second.deleted, 2);
  assert.ok(skipped(second, 'not-jacket') >= 2, JSON.stringify(second));
  assert.equal(await nicExists(orphan), false);
  assert.equal(await nicExists(`${orphan}-1`), false);
  assert.ok(await nicExists(foreignUuid), 'an untagged NIC is never touched');
  assert.ok(await nicExists('web-nic'), 'a NIC not named by Jacket is never touched');
  assert.ok(second.seen >= 4);
});

test('a NIC created during a sweep for a server still being built is never deleted', async () => {
  const img = await stack.http('GET', '/image/v2/images?name=ubuntu-22.04', { token: tAlice });
  const net = await stack.http('GET', '/network/v2.0/networks?name=private', { token: tAlice });
  const ours = async () => {
    const out: string[] = [];
    for await (const n of network.networkInterfaces.list(RG)) if (n.tags?.jacket === 'server') out.push(n.name!);
    return out;
  };
  const before = new Set(await ours());
  // The project's default security group is made before (at its first look at its groups), so the
  // POST below is as quick as any later one: this test is about the NIC's window, not that first PUT.
  assert.equal((await stack.http('GET', '/network/v2.0/security-groups', { token: tAlice })).status, 200);
  // Azure throttles the VM request twice (the build's step waits Retry-After, 3 s each): the NIC exists,
  // unattached, for those seconds while the server is BUILDing.
  await control.addFault({ method: 'PUT', path: '/virtualMachines/[^/]+$', status: 429, code: 'TooManyRequests', message: 'injected throttling', headers: { 'Retry-After': '3' }, count: 2 });
  // The sweep's NIC listing is slow too, and the server is created while it runs.
  await control.addFault({ method: 'GET', path: '/networkInterfaces$', latencyMs: 1500, count: 1 });
  const during = sweepNics(s);
  await sleep(300);
  // POST /servers answers at once (the NIC and VM PUTs are the build's steps on the queue).
  const created = await stack.http('POST', '/compute/v2.1/servers', {
    token: tAlice,
    body: { server: { name: 'slow', flavorRef: '3', imageRef: img.body.images[0].id, networks: [{ uuid: net.body.networks[0].id }] } },
  });
  assert.equal(created.status, 202, created.text);
  const id = await waitFor('the new NIC', async () => (await ours()).find((n) => !before.has(n)));
  assert.equal(created.body.server.id, id);
  const reports = [await during, await sweepNics(s), await sweepNics(s)];
  const building = await stack.http('GET', `/compute/v2.1/servers/${id}`, { token: tAlice });
  assert.equal(building.body.server.status, 'BUILD', 'the passes ran while the server was being built (its VM PUT throttled)');
  for (const r of reports) assert.ok(!r.deletedNames.includes(id), JSON.stringify(r));
  assert.ok(skipped(reports[1], 'server-building') >= 1 && skipped(reports[2], 'server-building') >= 1, JSON.stringify(reports));
  assert.ok(await nicExists(id));
  // Once the VM exists the NIC is attached, and stays out of the sweeps' reach.
  await waitFor('ACTIVE', async () => ((await stack.http('GET', `/compute/v2.1/servers/${id}`, { token: tAlice })).body.server.status === 'ACTIVE' ? true : undefined), 60000);
  const later = await sweepNics(s);
  assert.ok(skipped(later, 'attached') >= 1 && !later.deletedNames.includes(id), JSON.stringify(later));
  const disks = await sweepDisks(s);
  assert.ok(!disks.deletedNames.includes(id) && skipped(disks, 'attached') >= 1, 'the OS disk of a running server is held');
  assert.ok(await nicExists(id));
  assert.ok(await diskExists(id));
});

test('a detached volume survives any number of sweeps; orphaned Jacket disks are swept, one after its deletion failed', async () => {
  const vol = await stack.oscJson(['volume', 'create', '--size', '1', 'keep-me'], alice);
  await waitFor('volume available', async () => ((await stack.oscJson(['volume', 'show', vol.id], alice)).status === 'available' ? true : undefined), 60000);
  const volDisk = `volume-${vol.id}`;
  // Orphans: a volume disk whose record is gone, a server OS disk (UUID-named) whose server is gone,
  // a volume snapshot whose record is gone. Foreign: an untagged data disk, a volume-named disk
  // without Jacket's tags.
  const orphanVolId = randomUUID();
  const orphanVol = `volume-${orphanVolId}`;
  await emptyDisk(orphanVol, { jacket: 'volume', 'jacket-volume-id': orphanVolId, 'jacket-project-id': alice.projectId });
  const orphanOs = randomUUID();
  await emptyDisk(orphanOs);
  const snapId = randomUUID();
  const source = await compute.disks.get(RG, volDisk);
  await compute.snapshots.createOrUpdate(
    RG,
    `snapshot-${snapId}`,
    {
      location: 'eastus',
      incremental: true,
      creationData: { createOption: 'Copy', sourceResourceId: source.id },
      tags: { jacket: 'snapshot', 'jacket-snapshot-id': snapId, 'jacket-volume-id': vol.id, 'jacket-project-id': alice.projectId },
    },
    FAST,
  );
  await emptyDisk('data-foreign', { team: 'db' });
  await emptyDisk(`volume-${randomUUID()}`);
  // The first deletion of the orphaned volume disk fails on Azure (the operation ends Failed).
  await control.addFault({ method: 'DELETE', path: `/disks/${orphanVol}$`, failAsync: true, code: 'InternalDiskManagementError', message: 'injected', count: 1 });

  const r1 = await sweepDisks(s);
  assert.equal(r1.deleted, 0, JSON.stringify(r1));
  assert.ok(skipped(r1, 'volume-record') >= 1, 'the detached volume is owned by its record');
  const r2 = await sweepDisks(s);
  assert.ok(r2.deletedNames.includes(orphanOs) && r2.deletedNames.includes(`snapshot-${snapId}`), JSON.stringify(r2));
  assert.ok(!r2.deletedNames.includes(orphanVol) && skipped(r2, 'delete-failed') >= 1, JSON.stringify(r2));
  assert.ok(await diskExists(orphanVol), 'its deletion failed');
  const r3 = await sweepDisks(s);
  assert.ok(r3.deletedNames.includes(orphanVol), `retried on the next pass: ${JSON.stringify(r3)}`);
  assert.equal(await diskExists(orphanVol), false);
  assert.equal(await diskExists(orphanOs), false);
  assert.equal(await exists(compute.snapshots.get(RG, `snapshot-${snapId}`)), false);
  for (let i = 0; i < 2; i++) {
    const r = await sweepDisks(s);
    assert.ok(!r.deletedNames.includes(volDisk) && skipped(r, 'volume-record') >= 1);
  }
  for (const r of [r1, r2, r3]) assert.ok(!r.deletedNames.includes(volDisk) && !r.deletedNames.includes('data-foreign'));
  assert.ok(await diskExists(volDisk), 'the detached volume survives every sweep');
  assert.ok(await diskExists('data-foreign'));
  assert.equal((await stack.oscJson(['volume', 'show', vol.id], alice)).status, 'available');
  // One DELETE per orphan deleted, plus the failed one: nothing was deleted twice.
  assert.equal(await control.countRequests('DELETE', `/disks/${orphanVol}$`), 2);
  assert.equal(await control.countRequests('DELETE', `/disks/${orphanOs}$`), 1);
});

test("a backup's temporary snapshot left behind is swept on the second pass; one of a backup still being made survives", async () => {
  const vol = await stack.oscJson(['volume', 'create', '--size', '1', 'backup-source'], alice);
  await waitFor('volume available', async () => ((await stack.oscJson(['volume', 'show', vol.id], alice)).status === 'available' ? true : undefined), 60000);
  const source = await compute.disks.get(RG, `volume-${vol.id}`);
  const backupSnapshot = (id: string) =>
    compute.snapshots.createOrUpdate(
      RG,
      `backup-${id}`,
      {
        location: 'eastus',
        incremental: true,
        creationData: { createOption: 'Copy', sourceResourceId: source.id },
        tags: { jacket: 'backup', 'jacket-backup-id': id, 'jacket-volume-id': vol.id, 'jacket-project-id': alice.projectId },
      },
      FAST,
    );
  // Left behind: its backup is gone (a worker died before the clean-up step, or the delete failed).
  const leftover = randomUUID();
  await backupSnapshot(leftover);
  // In use: a backup still being copied (status creating) — its record says so.
  const copying = randomUUID();
  const t = volumeTables(s);
  await t.index.upsert('backup', copying, { project_id: alice.projectId });
  const now = new Date().toISOString();
  await t.backups.create(alice.projectId, copying, {
    id: copying,
    project_id: alice.projectId,
    user_id: alice.userId,
    volume_id: vol.id,
    volume_project_id: alice.projectId,
    name: null,
    description: null,
    container: 'backups',
    size: 1,
    status: 'creating',
    fail_reason: null,
    parent_id: null,
    snapshot_id: null,
    availability_zone: null,
    created_at: now,
    updated_at: now,
    data_timestamp: now,
    blob: { name: `backup-${copying}.vhd`, dataBytes: 1024 ** 3 },
  });
  await backupSnapshot(copying);
  // Foreign: a backup-named snapshot without Jacket's tags.
  const foreign = `backup-${randomUUID()}`;
  await compute.snapshots.createOrUpdate(RG, foreign, { location: 'eastus', incremental: true, creationData: { createOption: 'Copy', sourceResourceId: source.id } }, FAST);

  const r1 = await sweepDisks(s);
  assert.ok(!r1.deletedNames.includes(`backup-${leftover}`), 'never on the first pass');
  assert.ok(skipped(r1, 'backup-copy') >= 1, JSON.stringify(r1));
  const r2 = await sweepDisks(s);
  assert.ok(r2.deletedNames.includes(`backup-${leftover}`), JSON.stringify(r2));
  assert.equal(await exists(compute.snapshots.get(RG, `backup-${leftover}`)), false);
  assert.ok(await exists(compute.snapshots.get(RG, `backup-${copying}`)), 'the snapshot of a backup in progress is kept');
  assert.ok(await exists(compute.snapshots.get(RG, foreign)), 'not Jacket-tagged: never touched');
  // Once that backup is no longer being made (its copy ended in error), its snapshot is an orphan too.
  await t.backups.update(alice.projectId, copying, (b) => ({ ...b, status: 'error', fail_reason: 'test' }));
  await sweepDisks(s);
  const r4 = await sweepDisks(s);
  assert.ok(r4.deletedNames.includes(`backup-${copying}`), JSON.stringify(r4));
});

/** Counts the Table requests `services` makes while `f` runs: point GETs and queries (listEntities calls). */
async function countingTables<T>(services: Services, f: () => Promise<T>): Promise<{ value: T; gets: number; queries: number }> {
  const { value, counts } = await countTableCalls(services, f);
  return { value, gets: totalCalls(counts, 'getEntity'), queries: totalCalls(counts, 'listEntities') };
}

test('the disk sweep reads volume owners in batches: Table reads do not grow with the detached volumes; a stale or legacy row is read per disk', async () => {
  const created = await stack.http('POST', `/volume/v3/${alice.projectId}/volumes`, { token: tAlice, body: { volume: { size: 1, name: 'batch-template' } } });
  assert.equal(created.status, 202, created.text);
  const templateId = created.body.volume.id as string;
  await waitFor(
    'volume available',
    async () => ((await stack.http('GET', `/volume/v3/${alice.projectId}/volumes/${templateId}`, { token: tAlice })).body.volume.status === 'available' ? true : undefined),
    60000,
  );
  const t = volumeTables(s);
  const template = (await t.volumes.get(alice.projectId, templateId))!.value;
  // K detached volumes, as a bulk import would write them: index row, record, and the disk on Azure.
  const K = 30;
  const copy = async (disk?: string) => {
    const id = randomUUID();
    await t.index.upsert('volume', id, { project_id: alice.projectId });
    await t.volumes.create(alice.projectId, id, { ...template, id, name: `batch-${id.slice(0, 4)}`, disk: { name: disk ?? `volume-${id}`, sku: template.disk.sku } });
    await emptyDisk(`volume-${id}`, { jacket: 'volume', 'jacket-volume-id': id, 'jacket-project-id': alice.projectId });
    return id;
  };
  const ids = await Promise.all(Array.from({ length: K }, () => copy()));
  // A restore's leftover: the record names the restore's new disk, so volume-<id> is owned by nothing.
  const leftover = await copy('volume-restored-elsewhere');
  // A row written before the disk_names column existed: the batch cannot prove it, the disk is read per disk and kept.
  const legacy = await copy();
  const raw = await s.tables.client('volumes');
  const row = await raw.getEntity<Record<string, unknown>>(alice.projectId, legacy);
  await raw.updateEntity({ partitionKey: alice.projectId, rowKey: legacy, doc: row.doc as string }, 'Replace');

  const p1 = await countingTables(s, () => sweepDisks(s));
  const p2 = await countingTables(s, () => sweepDisks(s));
  for (const p of [p1, p2]) {
    const r = p.value;
    assert.ok(skipped(r, 'volume-record') >= K + 2, JSON.stringify(r));
    for (const id of [...ids, legacy, templateId]) assert.ok(!r.deletedNames.includes(`volume-${id}`), `volume-${id} is owned`);
    // Before batching: two GETs per detached volume disk (index row, record), 2K + 6 here at least.
    assert.ok(p.gets <= 12, `point GETs per pass: ${p.gets} (${JSON.stringify(r)})`);
    assert.ok(p.queries <= 8, `queries per pass: ${p.queries}`);
  }
  assert.ok(!p1.value.deletedNames.includes(`volume-${leftover}`), 'never on the first pass');
  assert.ok(p2.value.deletedNames.includes(`volume-${leftover}`), `a restore's leftover is found through the per-disk read: ${JSON.stringify(p2.value)}`);
  assert.ok(await diskExists(`volume-${legacy}`));

  for (const id of [...ids, leftover, legacy]) {
    await t.volumes.delete(alice.projectId, id);
    await t.index.delete('volume', id);
  }
  await Promise.all([...ids, legacy].map((id) => compute.disks.beginDeleteAndWait(RG, `volume-${id}`, FAST)));
});

test('two sweeps at once (two instances) delete nothing twice; leases expire; dry run deletes nothing', async () => {
  const orphan = randomUUID();
  await jacketNic(orphan);
  await sweepNics(s); // first pass
  const other = createServices(loadConfig(stack.cloud.settings)); // a second Functions instance
  await control.addFault({ method: 'GET', path: '/networkInterfaces$', latencyMs: 1000, count: 2 });
  const [a, b] = await Promise.all([sweepNics(s), sweepNics(other)]);
  assert.equal([a, b].filter((r) => r.ran).length, 1, 'one instance holds the lease, the other stands down');
  assert.equal(a.deleted + b.deleted, 1);
  assert.equal(await control.countRequests('DELETE', `/networkInterfaces/${orphan}$`), 1);
  assert.equal(await nicExists(orphan), false);
  const c = await sweepNics(other);
  assert.equal(c.ran, true, 'the lease is free again after a sweep');
  // A lease held by a live instance is respected; one left by an instance that died expires.
  const live = await claimLease(s, 'sweep-nics', 'instance-x', new Date(), 60000);
  assert.ok(live);
  assert.equal((await sweepNics(s)).ran, false);
  await releaseLease(s, live);
  assert.ok(await claimLease(s, 'sweep-nics', 'crashed', new Date(Date.now() - 120000), 60000));
  assert.equal((await sweepNics(s)).ran, true, 'an expired lease is taken over');
  await control.clearFaults();

  const dry = createServices(loadConfig({ ...stack.cloud.settings, JACKET_SWEEP_DRY_RUN: 'true' }));
  const kept = randomUUID();
  await jacketNic(kept);
  const d1 = await sweepNics(dry);
  const d2 = await sweepNics(dry);
  assert.equal(d1.dryRun, true);
  assert.equal(d2.deleted, 0);
  assert.ok(skipped(d2, 'dry-run') >= 1, JSON.stringify(d2));
  assert.ok(await nicExists(kept), 'dry run deletes nothing');
  assert.ok((await sweepNics(s)).deletedNames.includes(kept), 'a real pass after a dry one deletes the confirmed candidate');
});

test('an image whose deletion failed on Azure is finished by the sweep; the vhds container is never touched', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'jacket-sweep-'));
  const file = path.join(dir, 'disk.raw');
  writeFileSync(file, Buffer.alloc(1024 * 1024, 7));
  const created = await stack.oscJson(['image', 'create', '--disk-format', 'raw', '--container-format', 'bare', '--file', file, 'doomed'], alice);
  const id = created.id as string;
  await waitFor('image active', async () => ((await stack.http('GET', `/image/v2/images/${id}`, { token: tAlice })).body?.status === 'active' ? true : undefined), 60000);
  const blobs = BlobServiceClient.fromConnectionString(stack.cloud.settings.JACKET_STORAGE_CONNECTION_STRING);
  const vhds = blobs.getContainerClient('vhds');
  await vhds.createIfNotExists();
  const platformBlob = vhds.getPageBlobClient(`image-${id}.vhd`);
  await platformBlob.create(512);
  // The delete's work item is lost (as when it went to the poison queue): the record stays marked.
  const dispatcher = stack.cloud.host.dispatcher;
  await dispatcher.stop();
  try {
    await stack.oscOk(['image', 'delete', id], alice);
    await s.work.queue.clearMessages();
    assert.equal((await stack.http('GET', `/image/v2/images/${id}`, { token: tAlice })).status, 404);
    assert.ok(await exists(compute.images.get(RG, `image-${id}`)), 'the managed image is still on Azure');
    await control.addFault({ method: 'DELETE', path: `/images/image-${id}$`, status: 409, code: 'OperationNotAllowed', message: 'injected: the image is in use', count: 1 });

    const r1 = await sweepImages(s);
    assert.equal(r1.deleted, 0);
    assert.ok(skipped(r1, 'first-pass') >= 1, JSON.stringify(r1));
    const r2 = await sweepImages(s);
    assert.ok(skipped(r2, 'delete-failed') >= 1, `the injected ARM failure: ${JSON.stringify(r2)}`);
    const done = await waitFor('image deletion finished', async () => {
      const r = await sweepImages(s);
      return r.deletedNames.includes(id) ? r : undefined;
    });
    assert.equal(done.deleted, 1);
    assert.equal(await exists(compute.images.get(RG, `image-${id}`)), false);
    assert.equal(await blobs.getContainerClient('images').getPageBlobClient(`image-${id}.vhd`).exists(), false);
    assert.ok(await platformBlob.exists(), 'the vhds container is never touched');
    const again = await sweepImages(s);
    assert.ok(!again.deletedNames.includes(id));
  } finally {
    dispatcher.start();
  }
});

test('the local scheduler fires the timers on their NCRONTAB schedule (and the e2e host leaves it off)', async () => {
  assert.equal(stack.cloud.host.scheduler, undefined, 'startLocalCloud starts no timers unless asked');
  const orphan = randomUUID();
  await jacketNic(orphan);
  const fired: { at: Date; real: number; report: SweepReport }[] = [];
  const scheduler = new TimerScheduler(s, [{ name: 'sweep-nics', schedule: '* * * * * *', run: async (svc, at) => void fired.push({ at, real: Date.now(), report: await sweepNics(svc, at) }) }]);
  scheduler.start();
  try {
    await waitFor('the scheduled sweeps delete the orphan', async () => (fired.some((f) => f.report.deletedNames.includes(orphan)) ? true : undefined), 20000);
  } finally {
    await scheduler.stop();
  }
  assert.ok(fired.length >= 2);
  for (const f of fired) {
    assert.equal(f.at.getUTCMilliseconds(), 0, 'on the second');
    assert.ok(f.real >= f.at.getTime() - 5, 'not before its time');
  }
  for (let i = 1; i < fired.length; i++) assert.ok(fired[i].at > fired[i - 1].at);
  const n = fired.length;
  await sleep(1500);
  assert.equal(fired.length, n, 'nothing fires after stop');
});
