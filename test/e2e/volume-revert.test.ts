// Cinder 3.40 (VOLUME_REVERT): POST /volumes/{id}/action {"revert": {"snapshot_id"}} end to end against the
// ARM emulator. Absent below 3.40 (a bare 404), every refusal in Cinder's order with Cinder's words, a
// revert by HTTP and by `openstack --os-volume-api-version 3.40 volume revert` (the volume's disk is a new
// disk copied from the snapshot, swapped into the record; the old disk is gone), and a revert Azure
// refuses ending as Cinder's manager leaves it (volume error, snapshot available, the volume's data kept).
import { before, after } from 'node:test';
import { volumeAdvertises, volumeTest } from '../support/advertised';
import assert from 'node:assert/strict';
import { startArmStack, waitFor, type ArmStack } from '../support/armStack';
import type { Creds } from '../support/stack';
import { tokenProjectId } from '../support/fixtures';
import { sweepDisks } from '../../shared/timers/disks';

let env: ArmStack;
let alice: Creds & { projectId: string; userId: string };
let tAlice: string;
let tAdmin: string;
let tReader: string;
let adminProject: string;
const RG = 'ops_resource_group';

const cinder = (token: string, mv: string) => (method: string, p: string, body?: unknown) =>
  env.stack.http(method, `/volume/v3/${token === tAdmin ? adminProject : alice.projectId}${p}`, { token, body, headers: { 'OpenStack-API-Version': `volume ${mv}` } });
const revert = (id: string, body: unknown, mv = '3.40', token = tAlice) => cinder(token, mv)('POST', `/volumes/${id}/action`, { revert: body });
const refused = async (r: Promise<{ status: number; body: any; text: string }>, status: number, message: string) => {
  const x = await r;
  assert.equal(x.status, status, x.text);
  assert.equal((Object.values(x.body)[0] as { message: string }).message, message);
};
const volume = async (id: string) => (await cinder(tAdmin, '3.40')('GET', `/volumes/${id}`)).body?.volume;
const snapshot = async (id: string) => (await cinder(tAdmin, '3.40')('GET', `/snapshots/${id}`)).body?.snapshot;
const volumeIs = (id: string, status: string) => waitFor(`volume ${id} ${status}`, async () => ((await volume(id))?.status === status ? volume(id) : undefined), 90000);
const snapshotIs = (id: string, status: string) => waitFor(`snapshot ${id} ${status}`, async () => ((await snapshot(id))?.status === status ? true : undefined), 90000);
const newVolume = async (name: string, size = 1): Promise<string> => {
  const v = (await cinder(tAlice, '3.0')('POST', '/volumes', { volume: { size, name } })).body.volume;
  await volumeIs(v.id, 'available');
  return v.id;
};
const newSnapshot = async (volumeId: string, name: string): Promise<string> => {
  const s = (await cinder(tAlice, '3.0')('POST', '/snapshots', { snapshot: { volume_id: volumeId, name } })).body.snapshot;
  await snapshotIs(s.id, 'available');
  return s.id;
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
const resetVolume = async (id: string, status: string) => assert.equal((await cinder(tAdmin, '3.40')('POST', `/volumes/${id}/action`, { 'os-reset_status': { status } })).status, 202);

const vtest = volumeTest('3.40');

before(async () => {
  if (!volumeAdvertises('3.40')) return;
  env = await startArmStack({ asyncDelayMs: 0 });
  alice = await env.stack.makeProjectUser('rev-a', 'revalice');
  [tAlice, tAdmin] = await Promise.all([env.stack.token(alice), env.stack.token()]);
  adminProject = await tokenProjectId(env.stack, tAdmin);
  // A reader of alice's project (volume:revert_to_snapshot wants a member).
  const s = env.stack;
  const password = 'Pw-revreader-1a';
  const u = await s.http('POST', '/identity/v3/users', { token: tAdmin, body: { user: { name: 'revreader', password, default_project_id: alice.projectId } } });
  const role = (await s.http('GET', '/identity/v3/roles?name=reader', { token: tAdmin })).body.roles[0].id;
  assert.equal((await s.http('PUT', `/identity/v3/projects/${alice.projectId}/users/${u.body.user.id}/roles/${role}`, { token: tAdmin })).status, 204);
  tReader = await s.token({ username: 'revreader', password, project: 'rev-a' });
});
after(() => env?.stop());

vtest("below 3.40 revert is absent: a bare 404 (Cinder's versioned action), the volume untouched", async () => {
  const v = await newVolume('rv0');
  const s = await newSnapshot(v, 'rv0-s');
  for (const mv of ['3.0', '3.23', '3.39']) await refused(revert(v, { snapshot_id: s }, mv), 404, 'The resource could not be found.');
  // Still an unknown action for Cinder's router at any version.
  await refused(cinder(tAlice, '3.40')('POST', `/volumes/${v}/action`, { 'os-revert': {} }), 400, 'There is no such action: os-revert');
  assert.equal((await volume(v)).status, 'available');
});

vtest("3.40 refusals, in Cinder's order and words", async () => {
  const v = await newVolume('rv1');
  const missing = '00000000-0000-4000-8000-000000000000';
  // The schema first (snapshot_id a string or null), then the volume.
  assert.equal((await revert(v, { snapshot_id: 5 })).status, 400);
  assert.equal((await cinder(tAlice, '3.40')('POST', `/volumes/${v}/action`, { revert: 'x' })).status, 400);
  await refused(revert(missing, { snapshot_id: missing }), 404, `Volume ${missing} could not be found.`);
  await refused(revert(v, { snapshot_id: missing }), 400, `Volume ${v} doesn't have any snapshots.`);

  const s1 = await newSnapshot(v, 'rv1-s1');
  const s2 = await newSnapshot(v, 'rv1-s2');
  const other = await newVolume('rv1-other');
  const otherSnap = await newSnapshot(other, 'rv1-other-s');
  await refused(revert(v, {}), 400, `Specified snapshot None is None or not the latest one of volume ${v}.`);
  await refused(revert(v, { snapshot_id: null }), 400, `Specified snapshot None is None or not the latest one of volume ${v}.`);
  await refused(revert(v, { snapshot_id: s1 }), 400, `Specified snapshot ${s1} is None or not the latest one of volume ${v}.`);
  await refused(revert(v, { snapshot_id: otherSnap }), 400, `Specified snapshot ${otherSnap} is None or not the latest one of volume ${v}.`);
  await refused(revert(v, { snapshot_id: missing }), 400, `Specified snapshot ${missing} is None or not the latest one of volume ${v}.`);

  // The policy after the lookups (a reader of the project passes them, then 403).
  await refused(revert(v, { snapshot_id: s2 }, '3.40', tReader), 403, "Policy doesn't allow volume:revert_to_snapshot to be performed.");

  // The volume must be available: attached (in-use) and error are 409 Invalid volume.
  const act = (body: unknown) => cinder(tAlice, '3.40')('POST', `/volumes/${v}/action`, body);
  assert.equal((await act({ 'os-reserve': {} })).status, 202);
  assert.equal((await act({ 'os-attach': { host_name: 'h1', mountpoint: '/dev/vdb' } })).status, 202);
  assert.equal((await volume(v)).status, 'in-use');
  const badVolume = `Invalid volume: Can't revert volume ${v} to its latest snapshot ${s2}. Volume's status must be 'available'.`;
  await refused(revert(v, { snapshot_id: s2 }), 409, badVolume);
  assert.equal((await act({ 'os-detach': {} })).status, 202);
  assert.equal((await volume(v)).status, 'available');
  await resetVolume(v, 'error');
  await refused(revert(v, { snapshot_id: s2 }), 409, badVolume);
  await resetVolume(v, 'available');

  // The snapshot must be available: 409 Invalid snapshot, and the volume is put back to available.
  const resetSnap = async (status: string) => assert.equal((await cinder(tAdmin, '3.40')('POST', `/snapshots/${s2}/action`, { 'os-reset_status': { status } })).status, 202);
  for (const status of ['error', 'restoring']) {
    await resetSnap(status);
    await refused(revert(v, { snapshot_id: s2 }), 409, `Invalid snapshot: Can't revert volume ${v} to its latest snapshot ${s2}. Snapshot's status must be 'available'.`);
    assert.equal((await volume(v)).status, 'available');
    assert.equal((await snapshot(s2)).status, status);
  }
  await resetSnap('available');

  // The volume grown past its latest snapshot: sizes must be equal (400, before the status checks).
  assert.equal((await act({ 'os-extend': { new_size: 2 } })).status, 202);
  await volumeIs(v, 'available');
  await refused(revert(v, { snapshot_id: s2 }), 400, `Can't revert volume ${v} to its latest snapshot ${s2}. The volume size must be equal to the snapshot size.`);
  const after = await volume(v);
  assert.equal(after.status, 'available');
  assert.equal(diskNameOf(after.provider_id), `volume-${v}`, 'no refusal touches the disk');
});

vtest('a revert: a new disk copied from the snapshot is swapped in, the old disk deleted; volume and snapshot available (HTTP, then the CLI)', async () => {
  const v = await newVolume('rv2', 2);
  const s = await newSnapshot(v, 'rv2-s');
  const snapArm = (await env.compute.snapshots.get(RG, `snapshot-${s}`)).id!;
  const before = await volume(v);
  assert.equal(diskNameOf(before.provider_id), `volume-${v}`);

  const r = await revert(v, { snapshot_id: s });
  assert.equal(r.status, 202, r.text);
  assert.equal(r.text, '');
  const done = await volumeIs(v, 'available');
  await snapshotIs(s, 'available');
  const name = diskNameOf(done.provider_id);
  assert.match(name, new RegExp(`^volume-${v}-[0-9a-f]{8}$`));
  assert.equal(done.size, 2);
  assert.equal(done.volume_type, before.volume_type);
  assert.equal(done.name, 'rv2');
  const disk = (await diskOf(name))!;
  assert.equal(disk.creationData?.createOption, 'Copy');
  assert.equal(disk.creationData?.sourceResourceId?.toLowerCase(), snapArm.toLowerCase(), "the volume's disk is the snapshot's copy");
  assert.equal(disk.diskSizeGB, 2);
  assert.equal(disk.sku?.name, 'Standard_LRS');
  assert.equal(disk.tags?.['jacket-volume-id'], v);
  assert.equal(disk.tags?.['jacket-project-id'], alice.projectId);
  await waitFor('old disk gone', async () => ((await diskOf(`volume-${v}`)) ? undefined : true));

  // Again through the CLI (it finds the snapshot's volume itself); the first new disk goes in its turn.
  await env.stack.oscOk(['--os-volume-api-version', '3.40', 'volume', 'revert', s], alice);
  const again = await waitFor('reverted by the CLI', async () => {
    const x = await volume(v);
    return x.status === 'available' && diskNameOf(x.provider_id) !== name ? x : undefined;
  });
  await snapshotIs(s, 'available');
  const second = (await diskOf(diskNameOf(again.provider_id)))!;
  assert.equal(second.creationData?.sourceResourceId?.toLowerCase(), snapArm.toLowerCase());
  await waitFor('first new disk gone', async () => ((await diskOf(name)) ? undefined : true));

  // The reverted volume is an ordinary volume: snapshots of it, its delete (with its disk).
  const s2 = await newSnapshot(v, 'rv2-s2');
  assert.equal((await cinder(tAlice, '3.40')('DELETE', `/snapshots/${s2}`)).status, 202);
  assert.equal((await cinder(tAlice, '3.40')('DELETE', `/snapshots/${s}`)).status, 202);
  await waitFor('snapshots gone', async () => ((await snapshot(s)) || (await snapshot(s2)) ? undefined : true));
  assert.equal((await cinder(tAlice, '3.40')('DELETE', `/volumes/${v}`)).status, 202);
  await waitFor('volume gone', async () => ((await volume(v)) ? undefined : true));
  assert.equal(await diskOf(diskNameOf(again.provider_id)), undefined);
});

vtest("a revert Azure refuses: the volume error and the snapshot available (Cinder's manager), the volume's disk kept", async () => {
  const v = await newVolume('rv3');
  const s = await newSnapshot(v, 'rv3-s');
  await env.control.addFault({ method: 'PUT', path: `/disks/volume-${v}-`, count: 1, status: 400, code: 'OperationNotAllowed', message: 'injected: no copy here' });
  const r = await revert(v, { snapshot_id: s });
  assert.equal(r.status, 202, r.text);
  const failed = await volumeIs(v, 'error');
  await snapshotIs(s, 'available');
  assert.equal(diskNameOf(failed.provider_id), `volume-${v}`, 'the record still names its disk');
  assert.ok(await diskOf(`volume-${v}`), 'the data was not lost');
  // From error, Cinder's way back: reset to available, and the revert runs.
  await resetVolume(v, 'available');
  assert.equal((await revert(v, { snapshot_id: s })).status, 202);
  const ok = await volumeIs(v, 'available');
  assert.notEqual(diskNameOf(ok.provider_id), `volume-${v}`);
  await waitFor('old disk gone', async () => ((await diskOf(`volume-${v}`)) ? undefined : true));
});

vtest('resumable: a transient fault on the copy is retried; a failure after the swap leaves the reverted data (available), the old disk to the sweep', async () => {
  const v = await newVolume('rv4');
  const s = await newSnapshot(v, 'rv4-s');
  // One 500 on the new disk's PUT (retried with backoff), then the old disk's DELETE refused (a 400:
  // given up at once) after the record already names the new disk.
  await env.control.addFault({ method: 'PUT', path: `/disks/volume-${v}-`, count: 1, status: 500, code: 'InternalServerError', message: 'injected: transient' });
  await env.control.addFault({ method: 'DELETE', path: `/disks/volume-${v}$`, count: 1, status: 400, code: 'OperationNotAllowed', message: 'injected: not now' });
  assert.equal((await revert(v, { snapshot_id: s })).status, 202);
  const landed = await volumeIs(v, 'available');
  await snapshotIs(s, 'available');
  const name = diskNameOf(landed.provider_id);
  assert.match(name, new RegExp(`^volume-${v}-[0-9a-f]{8}$`), 'the swap was done');
  assert.ok(await diskOf(name));
  assert.ok(await diskOf(`volume-${v}`), 'the old disk is left over (the record no longer names it)');
  assert.equal((await env.control.listFaults()).filter((f) => f.remaining > 0).length, 0, 'both faults were hit');
  await env.control.clearFaults();
  // The disk sweep removes the leftover (second pass) and keeps the disk the record names.
  const sv = env.stack.cloud.services;
  await sweepDisks(sv);
  const r2 = await sweepDisks(sv);
  assert.ok(r2.deletedNames.includes(`volume-${v}`), JSON.stringify(r2));
  assert.ok(!r2.deletedNames.includes(name));
  assert.ok(await diskOf(name));
});

vtest('while a revert runs, the disk sweep keeps the new disk before the swap and the old disk after it', async () => {
  const v = await newVolume('rv5');
  const s = await newSnapshot(v, 'rv5-s');
  const sv = env.stack.cloud.services;
  const disks = async () => {
    const out = new Map<string, string | undefined>();
    for await (const d of env.compute.disks.listByResourceGroup(RG)) if (d.name?.startsWith(`volume-${v}`)) out.set(d.name, d.provisioningState);
    return out;
  };
  // Hold the work in the two windows where only the revert's record fields name a disk Azure has made:
  // the new disk's poll (the disk done, the record not yet swapped) and the old disk's delete (swapped).
  await env.control.setConfig({ asyncDelayMs: 300 });
  await env.control.addFault({ method: 'GET', path: `/disks/volume-${v}-[0-9a-f]{8}$`, latencyMs: 8000, count: 1 });
  await env.control.addFault({ method: 'DELETE', path: `/disks/volume-${v}$`, latencyMs: 8000, count: 1 });
  const sweepTwice = async (keep: string) => {
    for (const r of [await sweepDisks(sv), await sweepDisks(sv)]) assert.ok(!r.deletedNames.includes(keep) && (r.skipped['volume-record'] ?? 0) >= 2, JSON.stringify(r));
    assert.equal((await disks()).get(keep), 'Succeeded', `${keep} kept`);
  };
  try {
    assert.equal((await revert(v, { snapshot_id: s })).status, 202);
    const fresh = await waitFor('the new disk made, not yet swapped in', async () => {
      const made = [...(await disks())].find(([n, st]) => n !== `volume-${v}` && st === 'Succeeded')?.[0];
      return made && diskNameOf((await volume(v)).provider_id) === `volume-${v}` ? made : undefined;
    });
    assert.equal((await volume(v)).status, 'reverting');
    assert.equal((await snapshot(s)).status, 'restoring');
    await sweepTwice(fresh);
    await waitFor('swapped, the old disk not yet deleted', async () => {
      const x = await volume(v);
      return x.status === 'reverting' && diskNameOf(x.provider_id) === fresh ? true : undefined;
    });
    await sweepTwice(`volume-${v}`);
  } finally {
    await env.control.setConfig({ asyncDelayMs: 0 });
  }
  const done = await volumeIs(v, 'available');
  assert.match(diskNameOf(done.provider_id), new RegExp(`^volume-${v}-`));
  await snapshotIs(s, 'available');
  await waitFor('old disk gone', async () => ((await diskOf(`volume-${v}`)) ? undefined : true));
});
