// Block Storage microversions 3.46 (a volume from a Nova image of a volume-backed server: its boot
// snapshot), 3.47 (a volume from a backup), 3.48 (shared_targets and service_uuid in the volume views),
// 3.49 (backend_state in the service list), 3.51 (a backup's availability zone) and 3.52 (volume type
// filters), each at the version before and at it, against the ARM emulator (docs/volumes.md "Microversions").
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Stack, Creds } from '../support/stack';
import { startArmStack, waitFor, type ArmStack } from '../support/armStack';
import { volumeTest } from '../support/advertised';
import { reportState } from '../../shared/servicegroup/registry';
import { refused } from '../support/nova';

const RG = 'ops_resource_group';
let env: ArmStack;
let stack: Stack;
let alice: Creds & { projectId: string; userId: string };
let tA: string;
let tAdmin: string;
let adminProject: string;
let vol: string;
let snap: string;

const at = (v: string) => ({ 'OpenStack-API-Version': `volume ${v}` });
const asAlice = (v: string, method: string, p: string, body?: unknown) => stack.http(method, `/volume/v3/${alice.projectId}${p}`, { token: tA, body, headers: at(v) });
const asAdmin = (v: string, method: string, p: string, body?: unknown) => stack.http(method, `/volume/v3/${adminProject}${p}`, { token: tAdmin, body, headers: at(v) });
const statusOf = (kind: string, key: string, id: string, want: string) =>
  waitFor(`${key} ${id} ${want}`, async () => ((await asAlice('3.30', 'GET', `/${kind}/${id}`)).body?.[key]?.status === want ? true : undefined), 120000);

/** A Glance image as Nova's createImage of a volume-backed server leaves it: no data, the boot snapshot in block_device_mapping. */
async function novaImage(snapshotId: string): Promise<string> {
  const bdm = JSON.stringify([{ source_type: 'snapshot', destination_type: 'volume', boot_index: 0, snapshot_id: snapshotId, delete_on_termination: false, volume_size: 1 }]);
  const r = await stack.http('POST', '/image/v2/images', {
    token: tA,
    body: { name: `nova-snap-${snapshotId.slice(0, 8)}`, disk_format: 'raw', container_format: 'bare', block_device_mapping: bdm, bdm_v2: 'True', root_device_name: '/dev/sda' },
  });
  assert.equal(r.status, 201, r.text);
  return r.body.id;
}

before(async () => {
  env = await startArmStack({ asyncDelayMs: 0 });
  stack = env.stack;
  alice = await stack.makeProjectUser('mv346-a', 'mv346alice');
  [tA, tAdmin] = await Promise.all([stack.token(alice), stack.token()]);
  const me = await stack.http('GET', '/identity/v3/auth/tokens', { token: tAdmin, headers: { 'X-Subject-Token': tAdmin } });
  adminProject = me.body.token.project.id;
  await reportState(stack.cloud.services, 'worker', new Date(), true);
  // Room for the many volumes and backups these tests make in one project.
  const q = await asAdmin('3.30', 'PUT', `/os-quota-sets/${alice.projectId}`, { quota_set: { volumes: 100, gigabytes: 1000, snapshots: 100, backups: 100, backup_gigabytes: 1000 } });
  assert.equal(q.status, 200, q.text);
  const v = await asAlice('3.30', 'POST', '/volumes', { volume: { size: 2, name: 'src346' } });
  assert.equal(v.status, 202, v.text);
  vol = v.body.volume.id;
  await statusOf('volumes', 'volume', vol, 'available');
  const s = await asAlice('3.30', 'POST', '/snapshots', { snapshot: { volume_id: vol, name: 'snap346' } });
  assert.equal(s.status, 202, s.text);
  snap = s.body.snapshot.id;
  await statusOf('snapshots', 'snapshot', snap, 'available');
});
after(() => env?.stop());

volumeTest('3.46')("3.46: a volume from a Nova volume-backed image is made from the image's boot snapshot", async () => {
  const img = await novaImage(snap);
  // 3.45: the image itself is the source; it holds no data (queued), which Cinder's flow refuses.
  await refused(asAlice('3.45', 'POST', '/volumes', { volume: { imageRef: img, size: 2 } }), 400, `Invalid input received: Image ${img} is not active.`);
  // 3.46: the snapshot, at its size when none is given.
  const r = await asAlice('3.46', 'POST', '/volumes', { volume: { imageRef: img, name: 'from-nova-image' } });
  assert.equal(r.status, 202, r.text);
  const id = r.body.volume.id;
  assert.equal(r.body.volume.snapshot_id, snap);
  assert.equal(r.body.volume.size, 2);
  await statusOf('volumes', 'volume', id, 'available');
  const disk = await env.compute.disks.get(RG, `volume-${id}`);
  assert.equal(disk.creationData?.createOption, 'Copy');
  assert.match(String(disk.creationData?.sourceResourceId), new RegExp(`/snapshots/snapshot-${snap}$`, 'i'));
  // The boot snapshot gone (or not the caller's): 404 at every version, before the image is read as a source.
  const lost = await novaImage('6a1c4f55-8d5e-4a4a-9f2b-2c8f1d0e9a77');
  for (const v of ['3.45', '3.46']) {
    await refused(
      asAlice(v, 'POST', '/volumes', { volume: { imageRef: lost, size: 1 } }),
      404,
      'Nova specific image is found, but boot volume snapshot id:6a1c4f55-8d5e-4a4a-9f2b-2c8f1d0e9a77 not found.',
    );
  }
  await refused(asAlice('3.46', 'POST', '/volumes', { volume: { imageRef: '0d6c2ad4-5d2f-4d8e-8e4c-3f3b0c9a1e11', size: 1 } }), 400, 'Invalid image identifier or unable to access requested image.');
});

volumeTest('3.47')('3.47: a volume from a backup (ignored below 3.47); the CLI', async () => {
  const b = await asAlice('3.46', 'POST', '/backups', { backup: { volume_id: vol, name: 'bk346' } });
  assert.equal(b.status, 202, b.text);
  const backup = b.body.backup.id;
  await statusOf('backups', 'backup', backup, 'available');
  // 3.46: backup_id is not read: a blank volume, the backup untouched.
  const blank = await asAlice('3.46', 'POST', '/volumes', { volume: { size: 1, backup_id: backup } });
  assert.equal(blank.status, 202, blank.text);
  await statusOf('volumes', 'volume', blank.body.volume.id, 'available');
  assert.equal((await env.compute.disks.get(RG, `volume-${blank.body.volume.id}`)).creationData?.createOption, 'Empty');
  assert.equal((await asAlice('3.46', 'GET', `/backups/${backup}`)).body.backup.status, 'available');
  // 3.47: the schema's uuid, the backup's lookup, then the restore into the new volume (the backup's size).
  await refused(asAlice('3.47', 'POST', '/volumes', { volume: { backup_id: 'abc' } }), 400, "Invalid input for field/attribute backup_id. Value: abc. 'abc' is not a 'uuid'");
  await refused(asAlice('3.47', 'POST', '/volumes', { volume: { backup_id: '6a1c4f55-8d5e-4a4a-9f2b-2c8f1d0e9a77' } }), 404, 'Backup 6a1c4f55-8d5e-4a4a-9f2b-2c8f1d0e9a77 could not be found.');
  const r = await asAlice('3.47', 'POST', '/volumes', { volume: { backup_id: backup, name: 'from-backup' } });
  assert.equal(r.status, 202, r.text);
  assert.equal(r.body.volume.size, 2);
  await statusOf('volumes', 'volume', r.body.volume.id, 'available');
  await statusOf('backups', 'backup', backup, 'available');
  assert.ok(await env.compute.disks.get(RG, `volume-${r.body.volume.id}`));
  // `openstack volume create --backup` (the CLI needs 3.47 for it).
  const cli = await stack.oscJson<{ id: string; status: string }>(['--os-volume-api-version', '3.47', 'volume', 'create', '--backup', backup, 'cli-from-backup'], alice);
  await statusOf('volumes', 'volume', cli.id, 'available');
});

volumeTest('3.48')('3.48: shared_targets and service_uuid in the volume views', async () => {
  const below = (await asAlice('3.47', 'GET', `/volumes/${vol}`)).body.volume;
  assert.ok(!('shared_targets' in below) && !('service_uuid' in below));
  const show = (await asAlice('3.48', 'GET', `/volumes/${vol}`)).body.volume;
  assert.equal(show.shared_targets, false);
  const svc = (await asAdmin('3.48', 'GET', '/os-services?binary=cinder-volume')).body.services;
  assert.equal(svc.length, 1);
  assert.match(show.service_uuid, /^[0-9a-f-]{36}$/);
  const detail = (await asAlice('3.48', 'GET', '/volumes/detail')).body.volumes as { id: string; service_uuid: string; shared_targets: boolean }[];
  assert.ok(detail.every((v) => v.service_uuid === show.service_uuid && v.shared_targets === false));
  const made = await asAlice('3.48', 'POST', '/volumes', { volume: { size: 1 } });
  assert.equal(made.body.volume.service_uuid, show.service_uuid, 'in the create answer too');
  assert.ok(!('service_uuid' in (await asAlice('3.48', 'GET', '/volumes')).body.volumes[0]), 'not in the summary list');
});

volumeTest('3.49')("3.49: the volume service's backend_state in the service list", async () => {
  const list = async (v: string) => (await asAdmin(v, 'GET', '/os-services')).body.services as Record<string, unknown>[];
  assert.ok((await list('3.48')).every((s) => !('backend_state' in s)));
  const at49 = await list('3.49');
  assert.equal(at49.find((s) => s.binary === 'cinder-volume')?.backend_state, 'up');
  assert.ok(!('backend_state' in at49.find((s) => s.binary === 'cinder-scheduler')!));
  const cli = await stack.oscJson<Record<string, unknown>[]>(['--os-volume-api-version', '3.49', 'volume', 'service', 'list']);
  assert.ok(cli.some((s) => s.Binary === 'cinder-volume'));
});

volumeTest('3.51')("3.51: a backup's availability zone: the volumes' zone backs up, another has no backup service", async () => {
  await refused(
    asAlice('3.50', 'POST', '/backups', { backup: { volume_id: vol, availability_zone: 'nova' } }),
    400,
    "Invalid input for field/attribute backup. Value: {'volume_id': '" + vol + "', 'availability_zone': 'nova'}. Additional properties are not allowed ('availability_zone' was unexpected)",
  );
  const ok = await asAlice('3.51', 'POST', '/backups', { backup: { volume_id: vol, name: 'in-nova', availability_zone: 'nova' } });
  assert.equal(ok.status, 202, ok.text);
  await statusOf('backups', 'backup', ok.body.backup.id, 'available');
  assert.equal((await asAlice('3.51', 'GET', `/backups/${ok.body.backup.id}`)).body.backup.availability_zone, 'nova');
  // Another zone: the backup is recorded in error at once, the volume untouched, a user message says why.
  const far = await asAlice('3.51', 'POST', '/backups', { backup: { volume_id: vol, name: 'in-az9', availability_zone: 'az9' } });
  assert.equal(far.status, 202, far.text);
  const b = (await asAlice('3.51', 'GET', `/backups/${far.body.backup.id}`)).body.backup;
  assert.equal(b.status, 'error');
  assert.equal(b.fail_reason, 'Service not found for creating backup.');
  assert.equal(b.availability_zone, 'az9');
  assert.equal((await asAlice('3.51', 'GET', `/volumes/${vol}`)).body.volume.status, 'available');
  const m = (await asAlice('3.51', 'GET', `/messages?resource_uuid=${far.body.backup.id}`)).body.messages;
  assert.equal(m.length, 1);
  assert.equal(m[0].event_id, 'VOLUME_VOLUME_BACKUP_013_024');
  assert.equal(m[0].user_message, 'create backup:Backup failed to schedule. Service not found for creating backup.');
  assert.equal((await asAlice('3.51', 'DELETE', `/backups/${far.body.backup.id}`)).status, 202);
});

volumeTest('3.52')('3.52: volume type lists filter by is_public and extra_specs for members (generic filters), columns for admins', async () => {
  const mk = await asAdmin('3.52', 'POST', '/types', { volume_type: { name: 'mv352', extra_specs: { 'azure:sku': 'StandardSSD_LRS', replication_enabled: '<is> False' } } });
  assert.equal(mk.status, 200, mk.text);
  const id = mk.body.volume_type.id;
  const names = async (who: typeof asAlice, v: string, q: string) => {
    const r = await who(v, 'GET', `/types${q}`);
    assert.equal(r.status, 200, r.text);
    return (r.body.volume_types as { name: string }[]).map((t) => t.name).sort();
  };
  const every = await names(asAlice, '3.51', '');
  assert.ok(every.includes('mv352'));
  const spec = encodeURIComponent("{'replication_enabled': '<is> False'}");
  // 3.51: a member's filters other than is_public are dropped.
  assert.deepEqual(await names(asAlice, '3.51', `?extra_specs=${spec}&foo=1`), every);
  // 3.52: the configured ones (is_public, extra_specs) filter; any other is a 400.
  assert.deepEqual(await names(asAlice, '3.52', `?extra_specs=${spec}`), ['mv352']);
  await refused(asAlice('3.52', 'GET', '/types?foo=1'), 400, 'Invalid filters foo are found in query options.');
  // A spec members may not read filters to nothing (rather than leaking which types carry it).
  assert.deepEqual(await names(asAlice, '3.52', `?extra_specs=${encodeURIComponent("{'azure:sku': 'StandardSSD_LRS'}")}`), []);
  assert.deepEqual(await names(asAdmin, '3.52', `?extra_specs=${encodeURIComponent("{'azure:sku': 'StandardSSD_LRS'}")}`), ['mv352']);
  // An admin's column filter, and an unknown one (no such column: nothing).
  assert.deepEqual(await names(asAdmin, '3.52', `?name=mv352`), ['mv352']);
  assert.deepEqual(await names(asAdmin, '3.52', '?foo=1'), []);
  assert.equal((await asAdmin('3.52', 'DELETE', `/types/${id}`)).status, 202);
});

volumeTest('3.53')('3.53: the volume create schema refuses unknown keys and the update schema an empty body', async () => {
  const loose = await asAlice('3.52', 'POST', '/volumes', { volume: { size: 1, foo: 1 } });
  assert.equal(loose.status, 202, 'extra keys are tolerated below 3.53');
  await refused(
    asAlice('3.53', 'POST', '/volumes', { volume: { size: 1, foo: 1 } }),
    400,
    "Invalid input for field/attribute volume. Value: {'size': 1, 'foo': 1}. Additional properties are not allowed ('foo' was unexpected)",
  );
  assert.equal((await asAlice('3.52', 'PUT', `/volumes/${vol}`, { volume: {} })).status, 200);
  await refused(asAlice('3.53', 'PUT', `/volumes/${vol}`, { volume: {} }), 400, 'Invalid input for field/attribute volume. Value: {}. {} is not valid under any of the given schemas');
  const named = await asAlice('3.53', 'PUT', `/volumes/${vol}`, { volume: { name: 'src346' } });
  assert.equal(named.status, 200, named.text);
  await statusOf('volumes', 'volume', loose.body.volume.id, 'available');
});

volumeTest('3.56')("3.56: a backup's user_id in show and the detail list, for admins (backup:backup_project_attribute)", async () => {
  const b = await asAlice('3.55', 'POST', '/backups', { backup: { volume_id: vol, name: 'bk356' } });
  assert.equal(b.status, 202, b.text);
  const id = b.body.backup.id;
  await statusOf('backups', 'backup', id, 'available');
  const show = async (who: typeof asAlice, v: string) => (await who(v, 'GET', `/backups/${id}`)).body.backup as Record<string, unknown>;
  assert.ok(!('user_id' in (await show(asAdmin, '3.55'))));
  assert.equal((await show(asAdmin, '3.56')).user_id, alice.userId);
  assert.equal((await show(asAdmin, '3.56'))['os-backup-project-attr:project_id'], alice.projectId);
  assert.ok(!('user_id' in (await show(asAlice, '3.56'))), 'members do not pass the policy');
  const detail = (await asAdmin('3.56', 'GET', '/backups/detail?all_tenants=1')).body.backups as Record<string, unknown>[];
  assert.equal(detail.find((x) => x.id === id)?.user_id, alice.userId);
  assert.ok(!('user_id' in ((await asAdmin('3.56', 'GET', '/backups?all_tenants=1')).body.backups[0] as object)), 'not in the summary list');
});

volumeTest('3.55')('3.55: a transfer without its snapshots: the volume moves, the snapshots stay with the donor and still work', async () => {
  const v = await asAlice('3.55', 'POST', '/volumes', { volume: { size: 1, name: 'xfer355' } });
  await statusOf('volumes', 'volume', v.body.volume.id, 'available');
  const s = await asAlice('3.55', 'POST', '/snapshots', { snapshot: { volume_id: v.body.volume.id, name: 'stays' } });
  await statusOf('snapshots', 'snapshot', s.body.snapshot.id, 'available');
  await refused(
    asAlice('3.54', 'POST', '/volume-transfers', { transfer: { volume_id: v.body.volume.id, no_snapshots: true } }),
    400,
    `Invalid input for field/attribute transfer. Value: {'volume_id': '${v.body.volume.id}', 'no_snapshots': True}. Additional properties are not allowed ('no_snapshots' was unexpected)`,
  );
  const tr = await asAlice('3.55', 'POST', '/volume-transfers', { transfer: { volume_id: v.body.volume.id, no_snapshots: true, name: 't355' } });
  assert.equal(tr.status, 202, tr.text);
  assert.equal(tr.body.transfer.no_snapshots, true);
  assert.equal((await asAlice('3.55', 'GET', `/volume-transfers/${tr.body.transfer.id}`)).body.transfer.no_snapshots, true);
  assert.ok(!('no_snapshots' in (await asAlice('3.54', 'GET', `/volume-transfers/${tr.body.transfer.id}`)).body.transfer));
  const acc = await asAdmin('3.55', 'POST', `/volume-transfers/${tr.body.transfer.id}/accept`, { accept: { auth_key: tr.body.transfer.auth_key } });
  assert.equal(acc.status, 202, acc.text);
  assert.equal((await asAdmin('3.55', 'GET', `/volumes/${v.body.volume.id}`)).body.volume['os-vol-tenant-attr:tenant_id'], adminProject);
  const snapNow = await asAlice('3.55', 'GET', `/snapshots/${s.body.snapshot.id}`);
  assert.equal(snapNow.status, 200, 'the snapshot stays the donor’s');
  assert.equal(snapNow.body.snapshot['os-extended-snapshot-attributes:project_id'], alice.projectId);
  // The donor's snapshot still makes volumes (it finds its volume in the receiver's project).
  const from = await asAlice('3.55', 'POST', '/volumes', { volume: { snapshot_id: s.body.snapshot.id } });
  assert.equal(from.status, 202, from.text);
  await statusOf('volumes', 'volume', from.body.volume.id, 'available');
});

volumeTest('3.59')("3.57 and 3.59: the transfer's history fields, and the transfer list's paging and sorting", async () => {
  const ids: string[] = [];
  for (const n of ['t-a', 't-b', 't-c']) {
    const v = await asAlice('3.57', 'POST', '/volumes', { volume: { size: 1, name: `vol-${n}` } });
    await statusOf('volumes', 'volume', v.body.volume.id, 'available');
    const tr = await asAlice('3.57', 'POST', '/volume-transfers', { transfer: { volume_id: v.body.volume.id, name: n } });
    assert.equal(tr.status, 202, tr.text);
    if (n === 't-a') assert.deepEqual([tr.body.transfer.source_project_id, tr.body.transfer.destination_project_id, tr.body.transfer.accepted], [alice.projectId, null, false]);
    ids.push(tr.body.transfer.id);
  }
  const [a, b, c] = ids;
  // 3.57: the history fields in the detail views, not at 3.56 nor in the summary list.
  const d56 = (await asAlice('3.56', 'GET', `/volume-transfers/${a}`)).body.transfer;
  assert.ok(!('accepted' in d56) && !('source_project_id' in d56));
  const d57 = (await asAlice('3.57', 'GET', `/volume-transfers/${a}`)).body.transfer;
  assert.deepEqual([d57.source_project_id, d57.destination_project_id, d57.accepted], [alice.projectId, null, false]);
  assert.ok(!('accepted' in (await asAlice('3.57', 'GET', '/volume-transfers')).body.transfers[0]));
  const list = async (v: string, q: string) => {
    const r = await asAlice(v, 'GET', `/volume-transfers${q}`);
    assert.equal(r.status, 200, r.text);
    return r.body as { transfers: { id: string }[]; transfers_links?: { href: string }[] };
  };
  const names = async (v: string, q: string) => (await list(v, q)).transfers.map((x) => x.id).filter((x) => ids.includes(x));
  // 3.58: oldest first; limit and offset are filters on no column (nothing listed).
  assert.deepEqual(await names('3.58', ''), [a, b, c]);
  assert.deepEqual(await names('3.58', '?limit=2'), []);
  // 3.59: newest first by default, limit with a next link, sort, marker; offset applied twice (the view slices again).
  const p1 = await list('3.59', '?limit=2');
  assert.deepEqual(
    p1.transfers.map((x) => x.id),
    [c, b],
  );
  assert.match(p1.transfers_links![0].href, new RegExp(`/os-volume-transfer\\?.*marker=${b}`));
  assert.deepEqual(await names('3.59', `?limit=2&marker=${b}`), [a]);
  assert.deepEqual(await names('3.59', '?sort=created_at:asc'), [a, b, c]);
  assert.deepEqual(await names('3.59', '?sort=display_name:desc'), [c, b, a]);
  await refused(asAlice('3.59', 'GET', '/volume-transfers?sort=name'), 400, 'Invalid input received: Invalid sort key');
  assert.deepEqual(await names('3.59', '?offset=1'), [a], 'offset 1 skips two, as Cinder slices the page again');
  await refused(asAlice('3.59', 'GET', '/volume-transfers?sort=nope'), 400, 'Invalid input received: Invalid sort key');
  await refused(asAlice('3.59', 'GET', '/volume-transfers?marker=6a1c4f55-8d5e-4a4a-9f2b-2c8f1d0e9a77'), 404, 'Marker 6a1c4f55-8d5e-4a4a-9f2b-2c8f1d0e9a77 could not be found.');
  await refused(asAlice('3.59', 'GET', '/volume-transfers?limit=x'), 400, 'limit param must be an integer');
  for (const id of ids) assert.equal((await asAlice('3.59', 'DELETE', `/volume-transfers/${id}`)).status, 202);
});

volumeTest('3.65')('3.61, 3.63 and 3.65: cluster_name (admins), volume_type_id and consumes_quota in the detail views', async () => {
  const show = async (who: typeof asAlice, v: string) => (await who(v, 'GET', `/volumes/${vol}`)).body.volume as Record<string, unknown>;
  const adminShow = async (v: string) =>
    (await stack.http('GET', `/volume/v3/${adminProject}/volumes/detail?all_tenants=1&name=src346`, { token: tAdmin, headers: at(v) })).body.volumes[0] as Record<string, unknown>;
  assert.ok(!('cluster_name' in (await adminShow('3.60'))));
  assert.ok('cluster_name' in (await adminShow('3.61')) && (await adminShow('3.61')).cluster_name === null);
  assert.ok(!('cluster_name' in (await show(asAlice, '3.61'))), 'admins only');
  assert.ok(!('volume_type_id' in (await show(asAlice, '3.62'))));
  const v63 = await show(asAlice, '3.63');
  const types = (await asAdmin('3.63', 'GET', '/types?is_public=none')).body.volume_types as { id: string; name: string }[];
  assert.equal(types.find((t) => t.id === v63.volume_type_id)?.name, v63.volume_type);
  assert.ok(!('consumes_quota' in (await show(asAlice, '3.64'))));
  assert.equal((await show(asAlice, '3.65')).consumes_quota, true);
  assert.ok(!('consumes_quota' in (await asAlice('3.64', 'GET', `/snapshots/${snap}`)).body.snapshot));
  assert.equal((await asAlice('3.65', 'GET', `/snapshots/${snap}`)).body.snapshot.consumes_quota, true);
  assert.ok(!('encryption_key_id' in (await show(asAlice, '3.65'))), 'Jacket makes no encrypted volumes (3.64)');
});

volumeTest('3.66')('3.66: an in-use volume is snapshotted without force; a false force is refused', async () => {
  const v = await asAlice('3.66', 'POST', '/volumes', { volume: { size: 1, name: 'inuse366' } });
  await statusOf('volumes', 'volume', v.body.volume.id, 'available');
  // In use through the attachments API: reserved, then completed (3.44).
  const att = await asAlice('3.66', 'POST', '/attachments', { attachment: { volume_uuid: v.body.volume.id, instance_uuid: '0b2f7c5e-1f39-4a5c-9a57-0f0a4c6a1d11' } });
  assert.equal(att.status, 200, att.text);
  assert.equal((await asAlice('3.66', 'POST', `/attachments/${att.body.attachment.id}/action`, { 'os-complete': {} })).status, 204);
  await statusOf('volumes', 'volume', v.body.volume.id, 'in-use');
  await refused(
    asAlice('3.65', 'POST', '/snapshots', { snapshot: { volume_id: v.body.volume.id } }),
    400,
    `Invalid volume: Volume ${v.body.volume.id} status must be available, but current status is: in-use.`,
  );
  await refused(
    asAlice('3.66', 'POST', '/snapshots', { snapshot: { volume_id: v.body.volume.id, force: false } }),
    400,
    "Since microversion 3.66 the 'force' flag is invalid for this request.  For backward compatability, however, when the 'force' flag is passed with a value evaluating to True, it is silently ignored.",
  );
  const s1 = await asAlice('3.66', 'POST', '/snapshots', { snapshot: { volume_id: v.body.volume.id, name: 'no-force' } });
  assert.equal(s1.status, 202, s1.text);
  const s2 = await asAlice('3.66', 'POST', '/snapshots', { snapshot: { volume_id: v.body.volume.id, force: 'true' } });
  assert.equal(s2.status, 202, s2.text);
  await statusOf('snapshots', 'snapshot', s1.body.snapshot.id, 'available');
  await statusOf('snapshots', 'snapshot', s2.body.snapshot.id, 'available');
  assert.equal((await asAlice('3.66', 'GET', `/volumes/${v.body.volume.id}`)).body.volume.status, 'in-use');
});

volumeTest('3.58')("3.58: a group's and a group snapshot's project_id in their detail views, for admins", async () => {
  assert.equal((await asAdmin('3.58', 'POST', '/group_types', { group_type: { name: 'mv358-gt' } })).status, 202);
  const vt = ((await asAdmin('3.58', 'GET', '/types')).body.volume_types as { id: string }[])[0];
  const g = await asAlice('3.58', 'POST', '/groups', { group: { group_type: 'mv358-gt', volume_types: [vt.id], name: 'g358' } });
  assert.equal(g.status, 202, g.text);
  const gid = g.body.group.id;
  await waitFor('group available', async () => ((await asAlice('3.58', 'GET', `/groups/${gid}`)).body.group.status === 'available' ? true : undefined), 120000);
  const gs = await asAlice('3.58', 'POST', '/group_snapshots', { group_snapshot: { group_id: gid, name: 'gs358' } });
  assert.equal(gs.status, 202, gs.text);
  const gsid = gs.body.group_snapshot.id;
  await waitFor('group snapshot available', async () => ((await asAlice('3.58', 'GET', `/group_snapshots/${gsid}`)).body.group_snapshot.status === 'available' ? true : undefined), 120000);
  const group = async (who: typeof asAlice, v: string) => (await who(v, 'GET', `/groups/${gid}`)).body.group as Record<string, unknown>;
  const snapOf = async (who: typeof asAlice, v: string) => (await who(v, 'GET', `/group_snapshots/${gsid}`)).body.group_snapshot as Record<string, unknown>;
  assert.ok(!('project_id' in (await group(asAdmin, '3.57'))));
  assert.equal((await group(asAdmin, '3.58')).project_id, alice.projectId);
  assert.ok(!('project_id' in (await group(asAlice, '3.58'))), 'members do not pass the policy');
  assert.ok(!('project_id' in (await snapOf(asAdmin, '3.57'))));
  assert.equal((await snapOf(asAdmin, '3.58')).project_id, alice.projectId);
  assert.ok(!('project_id' in (await snapOf(asAlice, '3.58'))));
  const listed = (await asAdmin('3.58', 'GET', '/groups/detail?all_tenants=1')).body.groups as Record<string, unknown>[];
  assert.equal(listed.find((x) => x.id === gid)?.project_id, alice.projectId);
});

volumeTest('3.54')('3.54: attachment create takes the attach mode', async () => {
  const v = await asAlice('3.54', 'POST', '/volumes', { volume: { size: 1, name: 'mode354' } });
  await statusOf('volumes', 'volume', v.body.volume.id, 'available');
  const body = (mode: string) => ({ attachment: { volume_uuid: v.body.volume.id, instance_uuid: '3b0c9d56-2c41-4c7e-8d3e-6a1f2e9b7c01', mode } });
  await refused(
    asAlice('3.53', 'POST', '/attachments', body('ro')),
    400,
    `Invalid input for field/attribute attachment. Value: {'volume_uuid': '${v.body.volume.id}', 'instance_uuid': '3b0c9d56-2c41-4c7e-8d3e-6a1f2e9b7c01', 'mode': 'ro'}. Additional properties are not allowed ('mode' was unexpected)`,
  );
  await refused(asAlice('3.54', 'POST', '/attachments', body('rx')), 400, "Invalid input for field/attribute mode. Value: rx. 'rx' is not one of ['rw', 'ro']");
  const r = await asAlice('3.54', 'POST', '/attachments', body('ro'));
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.attachment.attach_mode, 'ro');
  assert.equal((await asAlice('3.54', 'GET', `/attachments/${r.body.attachment.id}`)).body.attachment.attach_mode, 'ro');
  assert.equal((await asAlice('3.54', 'DELETE', `/attachments/${r.body.attachment.id}`)).status, 200);
});
