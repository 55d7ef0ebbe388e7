// Block Storage microversions 3.67 (URLs without the project: Cinder maps both forms at every version),
// 3.69 (shared_targets may be null: never on Azure), 3.70 (transfers of encrypted volumes: Jacket has
// none, so transfers are alike) and 3.71 (os-extend_volume_completion), each at the version before and
// at it, against the ARM emulator (docs/volumes.md "Microversions"). OSC and cinderclient take the
// volumev3 endpoint of the catalog, which names the project, so no CLI sends a project-less URL: HTTP only.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Stack, Creds } from '../support/stack';
import { startArmStack, waitFor, type ArmStack } from '../support/armStack';
import { volumeTest } from '../support/advertised';
import { reportState } from '../../shared/servicegroup/registry';
import { refused } from '../support/nova';

let env: ArmStack;
let stack: Stack;
let alice: Creds & { projectId: string; userId: string };
let bob: Creds & { projectId: string; userId: string };
let tA: string;
let tB: string;
let tAdmin: string;
let adminProject: string;
let vol: string;
let vol2: string;
let base: string;

const at = (v: string) => ({ 'OpenStack-API-Version': `volume ${v}` });
const asAlice = (v: string, method: string, p: string, body?: unknown) => stack.http(method, `/volume/v3/${alice.projectId}${p}`, { token: tA, body, headers: at(v) });
/** The same request without the project in the URL (3.67's form). */
const bare = (token: string, v: string, method: string, p: string, body?: unknown) => stack.http(method, `/volume/v3${p}`, { token, body, headers: at(v) });
const asAdmin = (v: string, method: string, p: string, body?: unknown) => stack.http(method, `/volume/v3/${adminProject}${p}`, { token: tAdmin, body, headers: at(v) });
const statusOf = (id: string, want: string) => waitFor(`volume ${id} ${want}`, async () => ((await asAlice('3.30', 'GET', `/volumes/${id}`)).body?.volume?.status === want ? true : undefined), 120000);

async function newVolume(name: string): Promise<string> {
  const v = await asAlice('3.30', 'POST', '/volumes', { volume: { size: 1, name } });
  assert.equal(v.status, 202, v.text);
  await statusOf(v.body.volume.id, 'available');
  return v.body.volume.id;
}

before(async () => {
  env = await startArmStack({ asyncDelayMs: 0 });
  stack = env.stack;
  base = stack.cloud.services.config.publicUrl;
  [alice, bob] = await Promise.all([stack.makeProjectUser('mv367-a', 'mv367alice'), stack.makeProjectUser('mv367-b', 'mv367bob')]);
  [tA, tB, tAdmin] = await Promise.all([stack.token(alice), stack.token(bob), stack.token()]);
  const me = await stack.http('GET', '/identity/v3/auth/tokens', { token: tAdmin, headers: { 'X-Subject-Token': tAdmin } });
  adminProject = me.body.token.project.id;
  await reportState(stack.cloud.services, 'worker', new Date(), true);
  [vol, vol2] = await Promise.all([newVolume('mv367-one'), newVolume('mv367-two')]);
});
after(() => env?.stop());

volumeTest('3.67')('3.67: every Cinder URL works without the project (at every version, as Cinder routes both), links follow the URL', async () => {
  for (const v of ['3.66', '3.67']) {
    // The list, the detailed list (no project called "volumes"), a show: the token's project.
    const list = await bare(tA, v, 'GET', '/volumes');
    assert.equal(list.status, 200, list.text);
    assert.deepEqual(list.body.volumes.map((x: { id: string }) => x.id).sort(), [vol, vol2].sort());
    const self = list.body.volumes.find((x: { id: string }) => x.id === vol).links;
    assert.deepEqual(self, [
      { href: `${base}/volume/v3/volumes/${vol}`, rel: 'self' },
      { href: `${base}/volume/volumes/${vol}`, rel: 'bookmark' },
    ]);
    const detail = await bare(tA, v, 'GET', '/volumes/detail');
    assert.equal(detail.status, 200, detail.text);
    assert.equal(detail.body.volumes.length, 2);
    assert.equal(detail.body.volumes[0]['os-vol-tenant-attr:tenant_id'], alice.projectId);
    const show = await bare(tA, v, 'GET', `/volumes/${vol}`);
    assert.equal(show.status, 200, show.text);
    assert.equal(show.body.volume.id, vol);
    // The pagination link leaves the project out too; with the project in the URL, both keep it.
    const page = await bare(tA, v, 'GET', '/volumes?limit=1');
    assert.equal(page.status, 200, page.text);
    assert.equal(page.body.volumes_links[0].href, `${base}/volume/v3/volumes?limit=1&marker=${page.body.volumes[0].id}`);
    const withProject = await asAlice(v, 'GET', '/volumes?limit=1');
    assert.equal(withProject.status, 200, withProject.text);
    assert.equal(withProject.body.volumes_links[0].href, `${base}/volume/v3/${alice.projectId}/volumes?limit=1&marker=${withProject.body.volumes[0].id}`);
    assert.equal(withProject.body.volumes[0].links[0].href, `${base}/volume/v3/${alice.projectId}/volumes/${withProject.body.volumes[0].id}`);
    assert.equal((await asAlice(v, 'GET', '/volumes/detail')).status, 200);
    // Another project, or no project id at all, in the URL: refused before anything, as before.
    await refused(stack.http('GET', `/volume/v3/${bob.projectId}/volumes`, { token: tA, headers: at(v) }), 400, 'Malformed request url');
    await refused(stack.http('GET', '/volume/v3/notaproject/volumes', { token: tA, headers: at(v) }), 400, 'Malformed request url');
    // Another project's volume stays out of reach without the project.
    await refused(bare(tB, v, 'GET', `/volumes/${vol}`), 404, `Volume ${vol} could not be found.`);
    // Other resources and a write: a snapshot list, the limits, an update.
    assert.equal((await bare(tA, v, 'GET', '/snapshots/detail')).status, 200);
    assert.equal((await bare(tA, v, 'GET', '/limits')).status, 200);
    const upd = await bare(tA, v, 'PUT', `/volumes/${vol}`, { volume: { description: `at ${v}` } });
    assert.equal(upd.status, 200, upd.text);
    assert.equal(upd.body.volume.links[0].href, `${base}/volume/v3/volumes/${vol}`);
  }
  // The version document does not depend on the project.
  const doc = await stack.http('GET', '/volume/v3');
  assert.equal(doc.status, 200, doc.text);
  assert.equal(doc.body.versions[0].links.find((l: { rel: string }) => l.rel === 'self').href, `${base}/volume/v3/`);
});

volumeTest('3.69')('3.69: shared_targets may be null, but an Azure disk (no iSCSI, no NVMe-oF) is false', async () => {
  for (const v of ['3.68', '3.69']) {
    const r = await asAlice(v, 'GET', `/volumes/${vol}`);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.volume.shared_targets, false);
    const d = await asAlice(v, 'GET', '/volumes/detail');
    assert.ok(d.body.volumes.every((x: { shared_targets: unknown }) => x.shared_targets === false));
  }
});

volumeTest('3.70')('3.70: transfers (encrypted volumes allowed) are the same as before, Jacket having no encrypted volume', async () => {
  const bodies: Record<string, Record<string, unknown>> = {};
  for (const v of ['3.69', '3.70']) {
    const t = await asAlice(v, 'POST', '/volume-transfers', { transfer: { volume_id: vol2, name: `t${v}` } });
    assert.equal(t.status, 202, t.text);
    bodies[v] = t.body.transfer;
    if (v === '3.69') {
      assert.equal((await asAlice(v, 'DELETE', `/volume-transfers/${t.body.transfer.id}`)).status, 202);
      continue;
    }
    const a = await stack.http('POST', `/volume/v3/${bob.projectId}/volume-transfers/${t.body.transfer.id}/accept`, {
      token: tB,
      headers: at(v),
      body: { accept: { auth_key: t.body.transfer.auth_key } },
    });
    assert.equal(a.status, 202, a.text);
    assert.equal(a.body.transfer.volume_id, vol2);
  }
  assert.deepEqual(Object.keys(bodies['3.70']).sort(), Object.keys(bodies['3.69']).sort());
  assert.equal(bodies['3.70'].no_snapshots, false);
  const mine = await bare(tB, '3.70', 'GET', `/volumes/${vol2}`);
  assert.equal(mine.status, 200, mine.text);
});

volumeTest('3.71')('3.71: os-extend_volume_completion, an admin action with upstream checks (no version gate, as upstream)', async () => {
  const done = (error: unknown) => ({ 'os-extend_volume_completion': { error } });
  for (const v of ['3.70', '3.71']) {
    // Members: the admin policy, asked after the lookup (another project's volume is 404 first).
    await refused(asAlice(v, 'POST', `/volumes/${vol}/action`, done(false)), 403, "Policy doesn't allow volume_extension:volume_admin_actions:extend_volume_completion to be performed.");
    await refused(stack.http('POST', `/volume/v3/${bob.projectId}/volumes/${vol}/action`, { token: tB, headers: at(v), body: done(false) }), 404, `Volume ${vol} could not be found.`);
    // The schema: error a string, null or boolean; nothing else.
    await refused(asAdmin(v, 'POST', `/volumes/${vol}/action`, done(1)), 400, /error/);
    await refused(asAdmin(v, 'POST', `/volumes/${vol}/action`, { 'os-extend_volume_completion': { error: false, size: 2 } }), 400, /Additional properties are not allowed/);
    // A volume not extending (Jacket never waits for Nova): upstream's InvalidVolume.
    await refused(asAdmin(v, 'POST', `/volumes/${vol}/action`, done(false)), 400, 'Invalid volume: Volume is not being extended.');
    await refused(asAdmin(v, 'POST', '/volumes/6a1c4f55-8d5e-4a4a-9f2b-2c8f1d0e9a77/action', done(true)), 404, 'Volume 6a1c4f55-8d5e-4a4a-9f2b-2c8f1d0e9a77 could not be found.');
  }
  // An extending volume without the admin metadata a deferring driver leaves: the next check.
  assert.equal((await asAdmin('3.71', 'POST', `/volumes/${vol}/action`, { 'os-reset_status': { status: 'extending' } })).status, 202);
  await refused(asAdmin('3.71', 'POST', `/volumes/${vol}/action`, done(null)), 400, 'Invalid volume: Required volume admin metadata is malformed or missing.');
  assert.equal((await asAdmin('3.71', 'POST', `/volumes/${vol}/action`, { 'os-reset_status': { status: 'available' } })).status, 202);
  const after = await asAlice('3.71', 'GET', `/volumes/${vol}`);
  assert.equal(after.body.volume.status, 'available');
  assert.equal(after.body.volume.size, 1);
});
