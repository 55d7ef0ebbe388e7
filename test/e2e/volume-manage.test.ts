// Managing existing Azure disks as volumes (Cinder's os-volume-manage at 3.0, os-unmanage) end to
// end through the ARM emulator: disks made outside Jacket are listed (Jacket's own are not), sorted
// and paged as Cinder's manageable lists; managing one adopts the disk in place (its name kept, its own
// tags kept, Jacket's added, its size counted), a bad reference ends error_managing with the disk
// untouched, unmanaging keeps the disk and strips Jacket's tags; /manageable_volumes is 404 at 3.7.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startArmStack, waitFor, type ArmStack } from '../support/armStack';
import { aliceAndBob, tokenProjectId, type ProjectUser } from '../support/fixtures';
import { assertCinderShape, cinderSample } from '../support/cinderShapes';

let env: ArmStack;
let alice: ProjectUser;
let tAlice: string, tAdmin: string;
let adminProject: string;
const RG = 'ops_resource_group';
const HOST = 'jacket@azure#Standard_LRS';

const at = (v: string) => ({ 'OpenStack-API-Version': `volume ${v}` });
const asAlice = (v: string, method: string, p: string, body?: unknown) => env.stack.http(method, `/volume/v3/${alice.projectId}${p}`, { token: tAlice, body, headers: at(v) });
const asAdmin = (v: string, method: string, p: string, body?: unknown) => env.stack.http(method, `/volume/v3/${adminProject}${p}`, { token: tAdmin, body, headers: at(v) });

async function outsideDisk(name: string, sizeGB: number, tags: Record<string, string> = {}) {
  await env.compute.disks.beginCreateOrUpdateAndWait(
    RG,
    name,
    { location: 'eastus', diskSizeGB: sizeGB, sku: { name: 'Standard_LRS' }, creationData: { createOption: 'Empty' }, tags },
    { updateIntervalInMs: 50 },
  );
}

before(async () => {
  env = await startArmStack({ asyncDelayMs: 50, settings: { JACKET_WORK_RETRY_FAILURES: '2', JACKET_WORK_POLL_CAP_SECONDS: '1' } });
  ({ alice, tAlice, tAdmin } = await aliceAndBob(env.stack, ['man-a', 'manalice'], ['man-b', 'manbob']));
  adminProject = await tokenProjectId(env.stack, tAdmin);
  await outsideDisk('legacy-a', 2, { owner: 'ops' });
  await outsideDisk('legacy-b', 1);
  await outsideDisk('legacy-c', 3);
  await outsideDisk('jk-tagged', 1, { jacket: 'backup' });
});
after(() => env?.stop());

const names = (b: any): string[] => b['manageable-volumes'].map((e: any) => e.reference['source-name']);

test('the manageable list: disks Jacket did not make, Cinder shapes, sort and paging, host and policy checks', async () => {
  // a Jacket volume's disk is not listed
  const mine = await asAdmin('3.0', 'POST', '/volumes', { volume: { size: 1, name: 'jackets-own' } });
  assert.equal(mine.status, 202);
  await waitFor('own volume', async () => ((await asAdmin('3.0', 'GET', `/volumes/${mine.body.volume.id}`)).body.volume.status === 'available' ? true : undefined), 60000);

  const d = await asAdmin('3.0', 'GET', `/os-volume-manage/detail?host=${encodeURIComponent(HOST)}`);
  assert.equal(d.status, 200, d.text);
  // Cinder's default order: reference desc
  assert.deepEqual(names(d.body), ['legacy-c', 'legacy-b', 'legacy-a']);
  // the sample's unmanaged entry (its first is an already managed one, which Jacket does not list)
  assert.deepEqual(Object.keys(d.body['manageable-volumes'][0]).sort(), Object.keys((cinderSample('volume-manage-list-detail-response.json') as any)['manageable-volumes'][1]).sort());
  const c = d.body['manageable-volumes'][0];
  assert.deepEqual(c, { reference: { 'source-name': 'legacy-c' }, size: 3, safe_to_manage: true, reason_not_safe: null, cinder_id: null, extra_info: null });
  const s = await asAdmin('3.0', 'GET', `/os-volume-manage?host=jacket@azure`);
  assert.equal(s.status, 200, s.text);
  assertCinderShape('volume-manage-list-response.json', s.body);
  assert.deepEqual(Object.keys(s.body['manageable-volumes'][0]).sort(), ['reference', 'safe_to_manage', 'size']);

  // sort, limit, offset, marker (a JSON reference)
  const bySize = await asAdmin('3.0', 'GET', `/os-volume-manage?host=jacket&sort=size:asc`);
  assert.deepEqual(names(bySize.body), ['legacy-b', 'legacy-a', 'legacy-c']);
  const page = await asAdmin('3.0', 'GET', `/os-volume-manage?host=jacket&sort=reference:asc&limit=1&marker=${encodeURIComponent(JSON.stringify({ 'source-name': 'legacy-a' }))}`);
  assert.deepEqual(names(page.body), ['legacy-b']);
  const off = await asAdmin('3.0', 'GET', `/os-volume-manage?host=jacket&sort_key=reference&sort_dir=asc&offset=2`);
  assert.deepEqual(names(off.body), ['legacy-c']);

  // Cinder's 400s and 404s
  const errs: [string, number, string][] = [
    ['', 400, 'Invalid input received: Host field is missing.'],
    ['?host=jacket&sort=name', 400, 'Invalid sort keys passed: name'],
    ['?host=jacket&sort=size:up', 400, 'Invalid sort dirs passed: up'],
    ['?host=jacket&sort=size&sort_key=size', 400, "The 'sort_key' and 'sort_dir' parameters are deprecated and cannot be used with the 'sort' parameter."],
    ['?host=jacket&limit=x', 400, 'limit param must be an integer'],
    ['?host=jacket&offset=-1', 400, 'offset must be >= 0'],
    ['?host=jacket&marker=nope', 400, 'Invalid input received: marker nope can not be analysed, please use json like format'],
    [`?host=jacket&marker=${encodeURIComponent('{"source-name": "gone"}')}`, 400, "Invalid input received: marker not found: {'source-name': 'gone'}"],
    ['?host=other@x', 404, 'Service cinder-volume could not be found on host other@x.'],
  ];
  for (const [q, status, message] of errs) {
    const r = await asAdmin('3.0', 'GET', `/os-volume-manage${q}`);
    assert.equal(r.status, status, `${q}: ${r.text}`);
    assert.equal(Object.values(r.body as Record<string, { message: string }>)[0].message, message, q);
  }
  // admin only
  const member = await asAlice('3.0', 'GET', `/os-volume-manage?host=jacket`);
  assert.equal(member.status, 403);
  // /manageable_volumes is 3.8's: 404 before any policy check at 3.7
  for (const [method, p] of [
    ['GET', '/manageable_volumes?host=jacket'],
    ['GET', '/manageable_volumes/detail?host=jacket'],
    ['POST', '/manageable_volumes'],
  ]) {
    const r = await asAlice('3.7', method, p, method === 'POST' ? { volume: { host: HOST, ref: { 'source-name': 'legacy-a' } } } : undefined);
    assert.equal(r.status, 404, `${p}: ${r.text}`);
    assert.equal(r.body.itemNotFound.message, 'The resource could not be found.');
  }
});

test("manage adopts the disk in place; unmanage keeps it and strips Jacket's tags; a bad ref ends error_managing", async () => {
  // body and host checks first, nothing made
  const bad: [unknown, number, RegExp][] = [
    [{ volume: { host: HOST } }, 400, /ref/],
    [{ volume: { ref: { 'source-name': 'legacy-a' } } }, 400, /^Invalid input received: Host field is missing\.$/],
    [{ volume: { host: HOST, ref: { 'source-name': 'legacy-a' }, volume_type: 'nope' } }, 400, /^Invalid volume type: Cannot find requested 'nope' volume type$/],
    [{ volume: { host: 'elsewhere@b', ref: { 'source-name': 'legacy-a' } } }, 400, /^Host 'elsewhere@b' not found$/],
  ];
  for (const [body, status, msg] of bad) {
    const r = await asAdmin('3.0', 'POST', '/os-volume-manage', body);
    assert.equal(r.status, status, r.text);
    assert.match(Object.values(r.body as Record<string, { message: string }>)[0].message, msg);
  }
  assert.equal((await asAlice('3.0', 'POST', '/os-volume-manage', { volume: { host: HOST, ref: { 'source-name': 'legacy-a' } } })).status, 403);

  const r = await asAdmin('3.0', 'POST', '/os-volume-manage', { volume: { host: HOST, ref: { 'source-name': 'legacy-a' }, name: ' adopted ', metadata: { k: 'v' }, bootable: 'yes' } });
  assert.equal(r.status, 202, r.text);
  assert.equal(r.body.volume.status, 'managing');
  assert.equal(r.body.volume.size, 0);
  assert.equal(r.body.volume.name, 'adopted');
  // legacy_detail, the volume create's answer (the 2014 sample predates its later fields)
  const made = await asAdmin('3.0', 'POST', '/volumes', { volume: { size: 1 } });
  assert.deepEqual(Object.keys(r.body.volume).sort(), Object.keys(made.body.volume).sort());
  const id = r.body.volume.id as string;
  const v = await waitFor(
    'managed',
    async () => {
      const x = (await asAdmin('3.0', 'GET', `/volumes/${id}`)).body.volume;
      return x.status === 'available' ? x : undefined;
    },
    60000,
  );
  assert.equal(v.size, 2);
  assert.equal(v.bootable, 'true');
  assert.deepEqual(v.metadata, { k: 'v' });
  let disk = await env.compute.disks.get(RG, 'legacy-a');
  assert.equal(disk.tags?.owner, 'ops', 'the disk keeps its own tags');
  assert.equal(disk.tags?.jacket, 'volume');
  assert.equal(disk.tags?.['jacket-volume-id'], id);
  // no longer manageable, and managing its Jacket name again is refused
  const after1 = await asAdmin('3.0', 'GET', `/os-volume-manage?host=jacket`);
  assert.deepEqual(names(after1.body).sort(), ['legacy-b', 'legacy-c']);
  const usage = await asAdmin('3.0', 'GET', `/os-quota-sets/${adminProject}?usage=True`);
  assert.ok(usage.body.quota_set.gigabytes.in_use >= 3, JSON.stringify(usage.body.quota_set.gigabytes));

  // a ref Azure has no disk for: error_managing, nothing else touched; deleting it deletes no disk
  const miss = await asAdmin('3.0', 'POST', '/os-volume-manage', { volume: { host: HOST, ref: { 'source-name': 'no-such-disk' } } });
  assert.equal(miss.status, 202);
  await waitFor('error_managing', async () => ((await asAdmin('3.0', 'GET', `/volumes/${miss.body.volume.id}`)).body.volume.status === 'error_managing' ? true : undefined), 60000);
  // a Jacket volume's disk is refused at once (check_already_managed_volume), another Jacket-tagged disk by the work
  const own = await asAdmin('3.0', 'POST', '/os-volume-manage', { volume: { host: HOST, ref: { 'source-name': `volume-${id}` } } });
  assert.equal(own.status, 400, own.text);
  assert.equal(own.body.badRequest.message, 'Invalid volume: Unable to manage existing volume. The volume is already managed');
  const tagged = await asAdmin('3.0', 'POST', '/os-volume-manage', { volume: { host: HOST, ref: { 'source-name': 'jk-tagged' } } });
  assert.equal(tagged.status, 202);
  await waitFor('error_managing (Jacket disk)', async () => ((await asAdmin('3.0', 'GET', `/volumes/${tagged.body.volume.id}`)).body.volume.status === 'error_managing' ? true : undefined), 60000);
  assert.deepEqual((await env.compute.disks.get(RG, 'jk-tagged')).tags, { jacket: 'backup' });
  assert.equal((await asAdmin('3.0', 'DELETE', `/volumes/${miss.body.volume.id}`)).status, 202);

  // unmanage: admin only; the record goes, the disk stays without Jacket's tags and is manageable again
  assert.equal((await asAlice('3.0', 'POST', `/volumes/${id}/action`, { 'os-unmanage': null })).status, 403);
  const u = await asAdmin('3.0', 'POST', `/volumes/${id}/action`, { 'os-unmanage': null });
  assert.equal(u.status, 202, u.text);
  await waitFor('unmanaged', async () => ((await asAdmin('3.0', 'GET', `/volumes/${id}`)).status === 404 ? true : undefined), 60000);
  disk = await env.compute.disks.get(RG, 'legacy-a');
  assert.deepEqual(disk.tags, { owner: 'ops' });
  const again = await asAdmin('3.0', 'GET', `/os-volume-manage?host=jacket&sort=reference:asc`);
  assert.deepEqual(names(again.body), ['legacy-a', 'legacy-b', 'legacy-c']);
});

test('the CLI: volume delete --remote unmanages; create --remote-source manages', async () => {
  const r = await asAdmin('3.0', 'POST', '/os-volume-manage', { volume: { host: HOST, ref: { 'source-name': 'legacy-b' }, name: 'cli-b' } });
  assert.equal(r.status, 202);
  await waitFor('managed b', async () => ((await asAdmin('3.0', 'GET', `/volumes/${r.body.volume.id}`)).body.volume.status === 'available' ? true : undefined), 60000);
  await env.stack.oscOk(['volume', 'delete', '--remote', 'cli-b']);
  await waitFor('unmanaged b', async () => ((await asAdmin('3.0', 'GET', `/volumes/${r.body.volume.id}`)).status === 404 ? true : undefined), 60000);
  assert.deepEqual((await env.compute.disks.get(RG, 'legacy-b')).tags ?? {}, {});
  // The SDK sends its own fixed microversion (3.71) for manage: Cinder's maximum, which Jacket serves.
  // Without --bootable/--non-bootable the SDK sends "bootable": null, which Cinder's manage schema
  // (parameter_types.boolean) refuses, as Jacket does; with one it manages.
  const noFlag = await env.stack.osc(['volume', 'create', '--remote-source', 'source-name=legacy-c', '--host', HOST, 'cli-c']);
  assert.notEqual(noFlag.code, 0);
  assert.match(noFlag.stderr, /Invalid input for field\/attribute bootable\. Value: None\. None is not of type 'boolean', 'string'/);
  const created = await env.stack.oscJson<{ id: string; name: string }>(['volume', 'create', '--remote-source', 'source-name=legacy-c', '--host', HOST, '--non-bootable', 'cli-c']);
  assert.equal(created.name, 'cli-c');
  await waitFor('managed c', async () => ((await asAdmin('3.0', 'GET', `/volumes/${created.id}`)).body.volume.status === 'available' ? true : undefined), 60000);
  // Given back (the next test needs legacy-c unmanaged).
  await env.stack.oscOk(['volume', 'delete', '--remote', 'cli-c']);
  await waitFor('unmanaged c', async () => ((await asAdmin('3.0', 'GET', `/volumes/${created.id}`)).status === 404 ? true : undefined), 60000);
});

test('3.8: /manageable_volumes and /manageable_snapshots; the CLI lists them; a snapshot of a volume is managed and unmanaged', async () => {
  // the v3 routes at 3.8: the same lists and manage
  const v = await asAdmin('3.8', 'GET', `/manageable_volumes/detail?host=${encodeURIComponent(HOST)}&sort=reference:asc`);
  assert.equal(v.status, 200, v.text);
  assert.ok(names(v.body).includes('legacy-a'));
  assert.equal((await asAlice('3.8', 'GET', '/manageable_volumes?host=jacket')).status, 403);
  const cli = await env.stack.oscJson(['--os-volume-api-version', '3.8', 'block', 'storage', 'volume', 'manageable', 'list', HOST]);
  assert.ok(
    cli.some((e: any) => JSON.stringify(e.reference ?? e.Reference).includes('legacy-a')),
    JSON.stringify(cli),
  );

  // an Azure snapshot taken outside Jacket of a Jacket volume's disk, and one of an outside disk
  const vol = await asAdmin('3.8', 'POST', '/volumes', { volume: { size: 1, name: 'snap-src' } });
  const volId = vol.body.volume.id as string;
  await waitFor('snap-src', async () => ((await asAdmin('3.8', 'GET', `/volumes/${volId}`)).body.volume.status === 'available' ? true : undefined), 60000);
  const diskId = (await env.compute.disks.get(RG, `volume-${volId}`)).id!;
  const snapOf = (name: string, source: string, tags: Record<string, string> = {}) =>
    env.compute.snapshots.beginCreateOrUpdateAndWait(
      RG,
      name,
      { location: 'eastus', incremental: true, creationData: { createOption: 'Copy', sourceResourceId: source }, tags },
      { updateIntervalInMs: 50 },
    );
  await snapOf('ext-snap', diskId, { who: 'ops' });
  await snapOf('ext-snap-other', (await env.compute.disks.get(RG, 'legacy-c')).id!);

  const at37 = await asAdmin('3.7', 'GET', '/manageable_snapshots?host=jacket');
  assert.equal(at37.status, 404);
  const sl = await asAdmin('3.8', 'GET', '/manageable_snapshots/detail?host=jacket&sort=reference:asc');
  assert.equal(sl.status, 200, sl.text);
  assertCinderShape('snapshot-manage-list-detail-response.json', sl.body);
  assert.deepEqual(
    sl.body['manageable-snapshots'].map((e: any) => [e.reference['source-name'], e.source_reference['source-name'], e.safe_to_manage, e.reason_not_safe]),
    [
      ['ext-snap', `volume-${volId}`, true, null],
      ['ext-snap-other', 'legacy-c', false, 'source volume not managed'],
    ],
  );
  const ss = await asAdmin('3.8', 'GET', '/os-snapshot-manage?host=jacket&sort=reference:asc');
  assertCinderShape('snapshot-manage-list-response.json', ss.body);
  const scli = await env.stack.oscJson(['--os-volume-api-version', '3.8', 'block', 'storage', 'snapshot', 'manageable', 'list', HOST]);
  assert.equal(scli.length, 2, JSON.stringify(scli));

  // manage: 202 in creating (Cinder's create_snapshot_in_db), then available with the Azure snapshot's own name
  const bad = await asAdmin('3.8', 'POST', '/manageable_snapshots', { snapshot: { volume_id: '3f6f7d58-9a51-4d7e-9b0e-1c2d3e4f5a6b', ref: { 'source-name': 'ext-snap' } } });
  assert.equal(bad.status, 404, bad.text);
  const m = await asAdmin('3.8', 'POST', '/manageable_snapshots', {
    snapshot: { volume_id: volId, ref: { 'source-name': 'ext-snap' }, name: 'adopted-snap', description: 'from Azure', metadata: { k: 'v' } },
  });
  assert.equal(m.status, 202, m.text);
  // (the sample's updated_at is the string "null"; Cinder's is null before any update)
  assertCinderShape('snapshot_manage_extensions/snapshot-manage-response.json', { snapshot: { ...m.body.snapshot, updated_at: 'null' } });
  assert.equal(m.body.snapshot.updated_at, null);
  assert.equal(m.body.snapshot.status, 'creating');
  const snapId = m.body.snapshot.id as string;
  await waitFor('snapshot managed', async () => ((await asAdmin('3.8', 'GET', `/snapshots/${snapId}`)).body.snapshot.status === 'available' ? true : undefined), 60000);
  const tags = (await env.compute.snapshots.get(RG, 'ext-snap')).tags;
  assert.equal(tags?.who, 'ops');
  assert.equal(tags?.['jacket-snapshot-id'], snapId);
  // the volume now has a snapshot: its delete is refused
  assert.equal((await asAdmin('3.8', 'DELETE', `/volumes/${volId}`)).status, 400);
  // a volume made from the managed snapshot copies the adopted Azure snapshot
  const clone = await asAdmin('3.8', 'POST', '/volumes', { volume: { snapshot_id: snapId, name: 'from-managed' } });
  assert.equal(clone.status, 202, clone.text);
  await waitFor('clone', async () => ((await asAdmin('3.8', 'GET', `/volumes/${clone.body.volume.id}`)).body.volume.status === 'available' ? true : undefined), 60000);
  assert.match((await env.compute.disks.get(RG, `volume-${clone.body.volume.id}`)).creationData?.sourceResourceId ?? '', /snapshots\/ext-snap$/);

  // a snapshot of another disk: error, the Azure snapshot untouched
  const other = await asAdmin('3.8', 'POST', '/os-snapshot-manage', { snapshot: { volume_id: volId, ref: { 'source-name': 'ext-snap-other' } } });
  assert.equal(other.status, 202);
  await waitFor('snapshot error', async () => ((await asAdmin('3.8', 'GET', `/snapshots/${other.body.snapshot.id}`)).body.snapshot.status === 'error' ? true : undefined), 60000);
  assert.deepEqual((await env.compute.snapshots.get(RG, 'ext-snap-other')).tags ?? {}, {});
  assert.equal((await asAdmin('3.8', 'DELETE', `/snapshots/${other.body.snapshot.id}`)).status, 202);

  // unmanage: the record goes, the Azure snapshot stays with its own tags only
  const u = await asAdmin('3.8', 'POST', `/snapshots/${snapId}/action`, { 'os-unmanage': null });
  assert.equal(u.status, 202, u.text);
  await waitFor('snapshot unmanaged', async () => ((await asAdmin('3.8', 'GET', `/snapshots/${snapId}`)).status === 404 ? true : undefined), 60000);
  assert.deepEqual((await env.compute.snapshots.get(RG, 'ext-snap')).tags, { who: 'ops' });
  await waitFor('other snapshot deleted', async () => ((await asAdmin('3.8', 'GET', `/snapshots/${other.body.snapshot.id}`)).status === 404 ? true : undefined), 60000);
  assert.ok(await env.compute.snapshots.get(RG, 'ext-snap-other'), 'a failed manage deletes nothing');
});
