// Block storage on the long-action engine, end to end through the `openstack` CLI (HTTP where it
// cannot say it) against the ARM emulator with small engine settings: ARM calls per action at the
// floor (from the emulator's request log); persistent faults (500, 20 times) on each kind of write
// land every resource in Cinder's stable error state and a later DELETE deletes it; backups take a
// snapshot first (an attached volume backs up), copy in 4 MiB chunks, and a copy that fails or loses
// its worker midway resumes from the last chunk written.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { BlobServiceClient } from '@azure/storage-blob';
import { diskBytes } from '../support/diskBytes';
import { startArmStack, waitFor, type ArmStack } from '../support/armStack';
import type { Creds } from '../support/stack';
import { resumeStaleWork } from '../../shared/work/engine';
import { isFixedVhdFooter } from '../../shared/storage/vhd';
import type { CopyProgress } from '../../shared/azure/diskCopy';

let env: ArmStack;
let alice: Creds & { projectId: string; userId: string };
let tAlice: string;
let tAdmin: string;
let blobs: BlobServiceClient;
const RG = 'ops_resource_group';
const MiB = 1024 ** 2;
const GiB = 1024 ** 3;
const SETTINGS = {
  JACKET_WORK_RETRY_FAILURES: '3',
  JACKET_WORK_POLL_CAP_SECONDS: '2',
  JACKET_WORK_COPY_CHUNK_BYTES: String(4 * MiB),
};

const cinder = (method: string, p: string, body?: unknown, token = tAlice) => env.stack.http(method, `/volume/v3/${alice.projectId}${p}`, { token, body });
/** The admin, through its own project's URL (Cinder checks the URL's project against the token's). */
const asAdmin = async (method: string, p: string, body?: unknown) => {
  const me = await env.stack.http('GET', '/identity/v3/auth/tokens', { token: tAdmin, headers: { 'X-Subject-Token': tAdmin } });
  return env.stack.http(method, `/volume/v3/${me.body.token.project.id}${p}`, { token: tAdmin, body });
};
const osc = (args: string[]) => env.stack.oscOk(args, alice);

const statusOf = async (kind: 'volumes' | 'snapshots' | 'backups', id: string) => {
  const r = await cinder('GET', `/${kind}/${id}`);
  if (r.status === 404) return 'gone';
  return r.body[kind.slice(0, -1)].status as string;
};
const waitStatus = (kind: 'volumes' | 'snapshots' | 'backups', id: string, want: string, ms = 90000) =>
  waitFor(`${kind} ${id} ${want}`, async () => ((await statusOf(kind, id)) === want ? true : undefined), ms);

async function newVolume(name: string): Promise<string> {
  const v = await env.stack.oscJson(['volume', 'create', '--size', '1', name], alice);
  await waitStatus('volumes', v.id, 'available');
  return v.id;
}

const writeDisk = (diskName: string, offset: number, data: Buffer) => diskBytes(env.compute, env.control, blobs).writeDisk(diskName, offset, data);
const readDisk = (diskName: string, offset: number, length: number) => diskBytes(env.compute, env.control, blobs).readDisk(diskName, offset, length);

const pattern = (seed: number, n = 64 * 1024) => Buffer.from(Array.from({ length: n }, (_, i) => (i * seed + 7) % 251));

/** ARM requests since `since` (a seq), as METHOD + path. */
async function armCalls(since: number, pathRe: RegExp) {
  return (await env.control.requests(since)).filter((r) => pathRe.test(r.path)).map((r) => `${r.method} ${r.status}`);
}
const lastSeq = async () => (await env.control.requests()).at(-1)?.seq ?? 0;
const count = (calls: string[], method: string) => calls.filter((c) => c.startsWith(`${method} `)).length;

before(async () => {
  env = await startArmStack({ asyncDelayMs: 100, settings: SETTINGS });
  alice = await env.stack.makeProjectUser('vf-a', 'vfalice');
  [tAlice, tAdmin] = await Promise.all([env.stack.token(alice), env.stack.token()]);
  blobs = BlobServiceClient.fromConnectionString(env.stack.cloud.azurite.connectionString);
});
after(async () => {
  env?.control.close();
  await env?.stop();
});

test('ARM calls per action: volume create 1 PUT, snapshot create 1 PUT, each delete 1 DELETE, no GET before a write', async (t) => {
  let seq = await lastSeq();
  const volId = await newVolume('floor');
  const volCalls = await armCalls(seq, new RegExp(`/disks/volume-${volId}$`, 'i'));
  assert.equal(count(volCalls, 'PUT'), 1, volCalls.join(', '));
  assert.match(volCalls[0], /^PUT 20\d$/, `the first call is the PUT, no GET-404 check before it: ${volCalls.join(', ')}`);

  seq = await lastSeq();
  const snap = await env.stack.oscJson(['volume', 'snapshot', 'create', '--volume', 'floor', 'floor-snap'], alice);
  await waitStatus('snapshots', snap.id, 'available');
  const snapCalls = await armCalls(seq, new RegExp(`/snapshots/snapshot-${snap.id}$`, 'i'));
  assert.equal(count(snapCalls, 'PUT'), 1, snapCalls.join(', '));
  assert.match(snapCalls[0], /^PUT /);

  seq = await lastSeq();
  await osc(['volume', 'snapshot', 'delete', 'floor-snap']);
  await waitStatus('snapshots', snap.id, 'gone');
  const snapDel = await armCalls(seq, new RegExp(`/snapshots/snapshot-${snap.id}$`, 'i'));
  assert.equal(count(snapDel, 'DELETE'), 1, snapDel.join(', '));
  assert.match(snapDel[0], /^DELETE /);

  seq = await lastSeq();
  await osc(['volume', 'delete', 'floor']);
  await waitStatus('volumes', volId, 'gone');
  const volDel = await armCalls(seq, new RegExp(`/disks/volume-${volId}$`, 'i'));
  assert.equal(count(volDel, 'DELETE'), 1, volDel.join(', '));
  assert.match(volDel[0], /^DELETE /);
  t.diagnostic(`volume create: ${volCalls.join(', ')}; snapshot create: ${snapCalls.join(', ')}; snapshot delete: ${snapDel.join(', ')}; volume delete: ${volDel.join(', ')}`);
});

test('persistent faults: volume create → error; volume delete → error_deleting, then a later DELETE deletes it', async (t) => {
  await env.control.addFault({ method: 'PUT', path: '/providers/Microsoft.Compute/disks/volume-[^/]+$', count: 20, status: 500, code: 'InternalServerError', message: 'Injected.' });
  const started = Date.now();
  const bad = await env.stack.oscJson(['volume', 'create', '--size', '1', 'never'], alice);
  await waitStatus('volumes', bad.id, 'error');
  t.diagnostic(`volume create given up after ${((Date.now() - started) / 1000).toFixed(1)} s (3 failures, floor 1 s)`);
  const faults = await env.control.listFaults();
  assert.equal(faults[0].hits, 3, 'JACKET_WORK_RETRY_FAILURES=3 tries, then error');
  await env.control.clearFaults();
  assert.ok(Date.now() - started < 60000);
  await osc(['volume', 'delete', 'never']);
  await waitStatus('volumes', bad.id, 'gone');

  const id = await newVolume('stuck-delete');
  await env.control.addFault({ method: 'DELETE', path: `/disks/volume-${id}$`, count: 20, status: 500, code: 'InternalServerError', message: 'Injected.' });
  await osc(['volume', 'delete', 'stuck-delete']);
  await waitStatus('volumes', id, 'error_deleting');
  await env.control.clearFaults();
  await osc(['volume', 'delete', 'stuck-delete']);
  await waitStatus('volumes', id, 'gone');
  await assert.rejects(env.compute.disks.get(RG, `volume-${id}`), (e: { statusCode?: number }) => e.statusCode === 404);
});

test('persistent faults: snapshot create → error; snapshot delete → error_deleting (a later DELETE, or reset-state, recovers); extend → error_extending', async () => {
  const volId = await newVolume('snapvol');
  await env.control.addFault({ method: 'PUT', path: '/providers/Microsoft.Compute/snapshots/snapshot-[^/]+$', count: 20, status: 500, message: 'Injected.' });
  const s1 = await env.stack.oscJson(['volume', 'snapshot', 'create', '--volume', 'snapvol', 'bad-snap'], alice);
  await waitStatus('snapshots', s1.id, 'error');
  await env.control.clearFaults();
  await osc(['volume', 'snapshot', 'delete', 'bad-snap']);
  await waitStatus('snapshots', s1.id, 'gone');

  const s2 = await env.stack.oscJson(['volume', 'snapshot', 'create', '--volume', 'snapvol', 'sticky'], alice);
  await waitStatus('snapshots', s2.id, 'available');
  await env.control.addFault({ method: 'DELETE', path: `/snapshots/snapshot-${s2.id}$`, count: 20, status: 500, message: 'Injected.' });
  await osc(['volume', 'snapshot', 'delete', 'sticky']);
  await waitStatus('snapshots', s2.id, 'error_deleting');
  // os-reset_status is the admins'; Cinder's schema and statuses
  const member = await cinder('POST', `/snapshots/${s2.id}/action`, { 'os-reset_status': { status: 'available' } });
  assert.equal(member.status, 403);
  const badState = await asAdmin('POST', `/snapshots/${s2.id}/action`, { 'os-reset_status': { status: 'bogus' } });
  assert.equal(badState.status, 400);
  assert.match(badState.body.badRequest.message, /Snapshot status: bogus is invalid, valid statuses are: \('error', 'available'/);
  assert.equal((await asAdmin('POST', `/snapshots/${s2.id}/action`, { 'os-reset_status': {} })).status, 400);
  // (HTTP: `openstack volume snapshot set --state` sends the SDK's fixed microversion 3.65 for snapshot
  // actions, which a 3.0 API refuses with 406.)
  assert.equal((await asAdmin('POST', `/snapshots/${s2.id}/action`, { 'os-reset_status': { status: 'available' } })).status, 202);
  assert.equal(await statusOf('snapshots', s2.id), 'available');
  // A volume whose cascade delete is blocked by a snapshot whose delete fails is not stuck either.
  await osc(['volume', 'delete', '--cascade', 'snapvol']);
  await waitStatus('snapshots', s2.id, 'error_deleting');
  await waitStatus('volumes', volId, 'error_deleting');
  await env.control.clearFaults();
  await osc(['volume', 'snapshot', 'delete', 'sticky']);
  await waitStatus('snapshots', s2.id, 'gone');
  await osc(['volume', 'delete', 'snapvol']);
  await waitStatus('volumes', volId, 'gone');

  const ext = await newVolume('ext');
  await env.control.addFault({ method: 'PATCH', path: `/disks/volume-${ext}$`, count: 20, status: 500, message: 'Injected.' });
  await osc(['volume', 'set', '--size', '2', 'ext']);
  await waitStatus('volumes', ext, 'error_extending');
  await env.control.clearFaults();
  await osc(['volume', 'delete', 'ext']);
  await waitStatus('volumes', ext, 'gone');
});

test('persistent faults: backup create → error with fail_reason, the volume available again', async () => {
  const volId = await newVolume('bkfault');
  await env.control.addFault({ method: 'PUT', path: '/providers/Microsoft.Compute/snapshots/backup-[^/]+$', count: 20, status: 500, message: 'Injected snapshot failure.' });
  const b = await env.stack.oscJson(['volume', 'backup', 'create', '--name', 'bkbad', 'bkfault'], alice);
  await waitStatus('backups', b.id, 'error');
  const shown = await env.stack.oscJson(['volume', 'backup', 'show', 'bkbad'], alice);
  assert.match(shown.fail_reason, /Injected snapshot failure/);
  assert.equal(await statusOf('volumes', volId), 'available');
  await env.control.clearFaults();
  await osc(['volume', 'backup', 'delete', 'bkbad']);
  await waitStatus('backups', b.id, 'gone');
  await osc(['volume', 'delete', 'bkfault']);
  await waitStatus('volumes', volId, 'gone');
});

test('a backup of an attached volume: taken from a snapshot of the disk, in several 4 MiB chunks; a failing and a lost step resume from the last chunk; its bytes restore', async () => {
  const srv = await env.stack.oscJson(['server', 'create', '--flavor', 'm1.medium', '--image', 'ubuntu-22.04', '--network', 'private', '--wait', 'bk-srv'], alice);
  assert.equal(srv.status, 'ACTIVE');
  const volId = await newVolume('chunky');
  // data in chunks 0, 1, 3, 5, 7, 9 of 4 MiB (the empty ones between are skipped)
  const offsets = [0, 5, 13, 21, 29, 37].map((m) => m * MiB + 512);
  for (const [i, o] of offsets.entries()) await writeDisk(`volume-${volId}`, o, pattern(i + 3));
  await osc(['server', 'add', 'volume', 'bk-srv', 'chunky']);
  await waitStatus('volumes', volId, 'in-use');

  // Spy on the driver's chunk copy (the app runs in this process): the 3rd chunk's step fails once,
  // as a worker dying mid-chunk would; after the 4th, the dispatcher stops and the message is lost.
  const s = env.stack.cloud.services;
  const copy = s.azure.disks.copy;
  const real = copy.copyChunk;
  const starts: number[] = [];
  let failed = false;
  let reachedFour: () => void = () => undefined;
  const four = new Promise<void>((r) => (reachedFour = r));
  copy.copyChunk = async (c, p: CopyProgress) => {
    starts.push(p.next);
    if (starts.length === 3 && !failed) {
      failed = true;
      throw new Error('worker died mid-chunk');
    }
    const r = await real(c, p);
    if (r.progress.chunks === 4) reachedFour();
    return r;
  };
  try {
    // An in-use volume needs --force, as in Cinder.
    const refused = await env.stack.osc(['volume', 'backup', 'create', '--name', 'nf', 'chunky'], alice);
    assert.notEqual(refused.code, 0);
    const b = await env.stack.oscJson(['volume', 'backup', 'create', '--force', '--name', 'chunks', 'chunky'], alice);
    assert.equal(await statusOf('volumes', volId), 'backing-up');
    await four;
    const host = env.stack.cloud.host;
    await host.dispatcher.stop();
    await s.work.queue.clearMessages(); // the message is lost with its worker
    const before = starts.length;
    const resumed = await resumeStaleWork(s, Date.now() + s.config.work.staleSeconds * 1000 + 1000);
    assert.ok(resumed.resumed.includes(`backup-create:${b.id}`), JSON.stringify(resumed));
    host.dispatcher.start();
    await waitStatus('backups', b.id, 'available');
    await waitStatus('volumes', volId, 'in-use');
    // every chunk offset was copied once, except the one whose step failed (twice), and the final
    // look that found nothing left; the lost step resumed where the record said, not from 0
    const counts = new Map<number, number>();
    for (const o of starts) counts.set(o, (counts.get(o) ?? 0) + 1);
    assert.equal(counts.get(0), 1, `offset 0 copied once: ${starts.map((o) => o / MiB).join(',')}`);
    assert.ok([...counts.values()].filter((n) => n > 1).length <= 2, `re-copied chunks: ${starts.map((o) => o / MiB).join(',')}`);
    assert.ok(
      starts.slice(before).every((o) => o >= 16 * MiB),
      `resumed from the last chunk: ${starts.map((o) => o / MiB).join(',')}`,
    );
    const rec = (await s.tables.repository<{ blob: { chunks: number; copiedBytes: number; progress?: unknown } }>('volbackups').get(alice.projectId, b.id))!.value;
    assert.equal(rec.blob.chunks, 6);
    assert.equal(rec.blob.copiedBytes, 6 * 4 * MiB);
    assert.equal(rec.blob.progress, undefined);
    // the temporary snapshot was removed; the grant went with it
    await waitFor('backup snapshot gone', async () => {
      try {
        await env.compute.snapshots.get(RG, `backup-${b.id}`);
        return undefined;
      } catch (e) {
        return (e as { statusCode?: number }).statusCode === 404 ? true : undefined;
      }
    });
    const blob = blobs.getContainerClient('backups').getPageBlobClient(`backup-${b.id}.vhd`);
    assert.ok(isFixedVhdFooter(await blob.downloadToBuffer(GiB, 512)));

    // restore to a new volume: every chunk's bytes are there
    const r = await env.stack.oscJson(['volume', 'backup', 'restore', 'chunks', 'chunks-back'], alice);
    await waitStatus('volumes', r.volume_id, 'available');
    for (const [i, o] of offsets.entries()) assert.deepEqual(await readDisk(`volume-${r.volume_id}`, o, 64 * 1024), pattern(i + 3), `bytes at ${o}`);

    // an incremental on top keeps working, chunked too
    await writeDisk(`volume-${volId}`, 45 * MiB, pattern(99));
    const inc = await env.stack.oscJson(['volume', 'backup', 'create', '--force', '--incremental', '--name', 'chunks-inc', 'chunky'], alice);
    await waitStatus('backups', inc.id, 'available');
    const incBlob = blobs.getContainerClient('backups').getPageBlobClient(`backup-${inc.id}.vhd`);
    assert.deepEqual(await incBlob.downloadToBuffer(45 * MiB, 64 * 1024), pattern(99));
    assert.deepEqual(await incBlob.downloadToBuffer(offsets[5], 64 * 1024), pattern(8));
    const incRec = (await s.tables.repository<{ blob: { changedBytes: number } }>('volbackups').get(alice.projectId, inc.id))!.value;
    assert.equal(incRec.blob.changedBytes, 64 * 1024);
  } finally {
    copy.copyChunk = real;
  }
});
