// Block Storage microversions above 3.0, each exercised at the version before it and at it
// (OpenStack-API-Version: volume 3.N), against Cinder's schemas, samples and answers
// (cinder/api/openstack/rest_api_version_history.rst); and the version documents' maximum.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Stack } from '../support/stack';
import { startArmStack, waitFor } from '../support/armStack';
import { oneUser, tokenProjectId, type ProjectUser } from '../support/fixtures';
import { assertCinderShape } from '../support/cinderShapes';
import { VOLUME } from '../../shared/api/microversion';

type User = ProjectUser;
let stack: Stack;
let alice: User;
let tA: string;
let tAdmin: string;
let adminProject: string;
const MAX = '3.71';

before(async () => {
  stack = (await startArmStack({ asyncDelayMs: 50 })).stack;
  ({ user: alice, token: tA, tAdmin } = await oneUser(stack, 'mv-a', 'mvalice'));
  adminProject = await tokenProjectId(stack, tAdmin);
});
after(async () => {
  await stack?.stop();
});

const at = (v: string) => ({ 'OpenStack-API-Version': `volume ${v}` });
const asAlice = (v: string, method: string, p: string, body?: unknown) => stack.http(method, `/volume/v3/${alice.projectId}${p}`, { token: tA, body, headers: at(v) });
const asAdmin = (v: string, method: string, p: string, body?: unknown) => stack.http(method, `/volume/v3/${adminProject}${p}`, { token: tAdmin, body, headers: at(v) });

async function volume(name: string, extra: Record<string, unknown> = {}): Promise<any> {
  const r = await asAlice('3.0', 'POST', '/volumes', { volume: { size: 1, name, ...extra } });
  assert.equal(r.status, 202, JSON.stringify(r.body));
  return waitFor(`volume ${name} available`, async () => {
    const g = await asAlice('3.0', 'GET', `/volumes/${r.body.volume.id}`);
    if (g.body.volume.status === 'error') throw new Error(`volume ${name} error`);
    return g.body.volume.status === 'available' ? g.body.volume : undefined;
  });
}

async function imageActive(id: string): Promise<any> {
  return waitFor('image active', async () => {
    const r = await stack.http('GET', `/image/v2/images/${id}`, { token: tA });
    if (r.body?.status === 'killed') throw new Error('image killed');
    return r.body?.status === 'active' ? r.body : undefined;
  });
}

test('version documents, latest and the range', async () => {
  assert.equal(VOLUME.max, MAX);
  const root = await stack.http('GET', '/volume');
  assert.equal(root.status, 300);
  assert.equal(root.body.versions[0].version, MAX);
  assert.equal(root.body.versions[0].min_version, '3.0');
  const v3 = await stack.http('GET', '/volume/v3');
  assert.equal(v3.body.versions[0].version, MAX);
  const latest = await asAlice('latest', 'GET', '/volumes');
  assert.equal(latest.status, 200);
  assert.equal(latest.headers.get('openstack-api-version'), `volume ${MAX}`);
  const [maj, min] = MAX.split('.').map(Number);
  const above = await asAlice(`${maj}.${min + 1}`, 'GET', '/volumes');
  assert.equal(above.status, 406);
  assert.match(JSON.stringify(above.body), new RegExp(`maximum is ${MAX.replace('.', '\\.')}`));
  const none = await stack.http('GET', `/volume/v3/${alice.projectId}/volumes`, { token: tA });
  assert.equal(none.headers.get('openstack-api-version'), 'volume 3.0');
});

let imageId: string;

test('3.1: os-volume_upload_image takes visibility and protected', async () => {
  const v = await volume('mv-up');
  // 3.0's schema has neither key: 400, nothing changed
  const old = await asAlice('3.0', 'POST', `/volumes/${v.id}/action`, { 'os-volume_upload_image': { image_name: 'x', visibility: 'community' } });
  assert.equal(old.status, 400);
  assert.equal((await asAlice('3.0', 'GET', `/volumes/${v.id}`)).body.volume.status, 'available');
  // 3.1's schema: the enum and the boolean strings
  for (const bad of [{ visibility: 'everyone' }, { protected: 'maybe' }, { visibility: true }]) {
    const r = await asAlice('3.1', 'POST', `/volumes/${v.id}/action`, { 'os-volume_upload_image': { image_name: 'x', ...bad } });
    assert.equal(r.status, 400, JSON.stringify(bad));
  }
  // public needs volume_extension:volume_actions:upload_public (admin)
  const pub = await asAlice('3.1', 'POST', `/volumes/${v.id}/action`, { 'os-volume_upload_image': { image_name: 'x', visibility: 'public' } });
  assert.equal(pub.status, 403);
  assert.match(JSON.stringify(pub.body), /volume_extension:volume_actions:upload_public/);
  // a member's community, protected upload
  const r = await asAlice('3.1', 'POST', `/volumes/${v.id}/action`, { 'os-volume_upload_image': { image_name: 'mv-img', disk_format: 'raw', visibility: 'community', protected: 'True' } });
  assert.equal(r.status, 202, JSON.stringify(r.body));
  assertCinderShape('volume_actions/volume-upload-to-image-response.json', r.body);
  assert.equal(r.body['os-volume_upload_image'].visibility, 'community');
  assert.equal(r.body['os-volume_upload_image'].protected, true);
  imageId = r.body['os-volume_upload_image'].image_id;
  const img = await imageActive(imageId);
  assert.equal(img.visibility, 'community');
  assert.equal(img.protected, true);
  // at 3.0 Cinder leaves both to Glance's defaults
  await waitFor('volume back', async () => ((await asAlice('3.0', 'GET', `/volumes/${v.id}`)).body.volume.status === 'available' ? true : undefined));
  const r0 = await asAlice('3.0', 'POST', `/volumes/${v.id}/action`, { 'os-volume_upload_image': { image_name: 'mv-img0', disk_format: 'raw' } });
  assert.equal(r0.status, 202);
  assert.equal(r0.body['os-volume_upload_image'].visibility, 'private');
  assert.equal(r0.body['os-volume_upload_image'].protected, false);
  const img0 = await imageActive(r0.body['os-volume_upload_image'].image_id);
  assert.equal(img0.visibility, 'private');
  assert.equal(img0.protected, false);
  // an admin may publish (through the real CLI, which sends 3.1 for these flags)
  await waitFor('volume back', async () => ((await asAlice('3.0', 'GET', `/volumes/${v.id}`)).body.volume.status === 'available' ? true : undefined));
  const adminUp = await asAdmin('3.1', 'POST', `/volumes/${v.id}/action`, { 'os-volume_upload_image': { image_name: 'mv-pub', disk_format: 'raw', visibility: 'public' } });
  assert.equal(adminUp.status, 202, JSON.stringify(adminUp.body));
  assert.equal(adminUp.body['os-volume_upload_image'].visibility, 'public');
  assert.equal((await imageActive(adminUp.body['os-volume_upload_image'].image_id)).visibility, 'public');
  // the real CLI: openstacksdk sends these flags at 3.1 once the endpoint advertises it (with a 3.0
  // endpoint it refuses them: "--os-volume-api-version 3.1 or greater is required")
  await waitFor('volume back', async () => ((await asAlice('3.0', 'GET', `/volumes/${v.id}`)).body.volume.status === 'available' ? true : undefined));
  const cli = await stack.oscJson(['--os-volume-api-version', '3.1', 'image', 'create', '--volume', v.id, '--disk-format', 'raw', '--shared', '--protected', 'mv-cli'], alice);
  const cliImg = await imageActive(cli.image_id);
  assert.equal(cliImg.visibility, 'shared');
  assert.equal(cliImg.protected, true);
});

test('3.2: the bootable filter is strict', async () => {
  assert.ok(imageId, 'needs the 3.1 image');
  const boot = await volume('mv-boot', { imageRef: imageId });
  assert.equal(boot.bootable, 'true');
  const plain = await volume('mv-plain');
  const names = async (v: string, q: string) => {
    const r = await asAlice(v, 'GET', `/volumes/detail?${q}`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return (r.body.volumes as { name: string }[]).map((x) => x.name).filter((n) => n === 'mv-boot' || n === 'mv-plain');
  };
  // 3.0/3.1: only False/false/FALSE are false; any other value (0, no, xyz) lists the bootable ones
  for (const v of ['3.0', '3.1']) {
    assert.deepEqual(await names(v, 'bootable=false'), ['mv-plain']);
    assert.deepEqual(await names(v, 'bootable=True'), ['mv-boot']);
    assert.deepEqual(await names(v, 'bootable=0'), ['mv-boot']);
    assert.deepEqual(await names(v, 'bootable=xyz'), ['mv-boot']);
  }
  // 3.2: oslo's strict booleans; anything else 400
  assert.deepEqual(await names('3.2', 'bootable=0'), ['mv-plain']);
  assert.deepEqual(await names('3.2', 'bootable=no'), ['mv-plain']);
  assert.deepEqual(await names('3.2', 'bootable=1'), ['mv-boot']);
  assert.deepEqual(await names('3.2', 'bootable=yes'), ['mv-boot']);
  const bad = await asAlice('3.2', 'GET', '/volumes?bootable=xyz');
  assert.equal(bad.status, 400);
  assert.equal(bad.body.badRequest.message, "Invalid input received: 'bootable = xyz'");
  assert.equal((await asAlice('3.2', 'GET', '/volumes/detail?bootable=maybe')).status, 400);
  // filters of later versions are ignored before them (Cinder pops them), for admins too
  assert.deepEqual((await names('3.2', 'group_id=00000000-0000-4000-8000-000000000000')).sort(), ['mv-boot', 'mv-plain']);
  const adminGm = await asAdmin('3.2', 'GET', `/volumes/detail?all_tenants=1&glance_metadata=${encodeURIComponent(`{"image_id": "${imageId}"}`)}`);
  assert.ok((adminGm.body.volumes as { name: string }[]).some((x) => x.name === 'mv-plain'));
  assert.equal(plain.bootable, 'false');
});

test('3.4: admins filter volumes by glance_metadata; members have it dropped; below 3.4 it is ignored', async () => {
  assert.ok(imageId, 'needs the 3.1 image');
  const gm = (v: string, json: string, admin: boolean) =>
    (admin ? asAdmin : asAlice)(v, 'GET', `/volumes/detail?${admin ? 'all_tenants=1&' : ''}glance_metadata=${encodeURIComponent(json)}`).then((r) => {
      assert.equal(r.status, 200, JSON.stringify(r.body));
      return (r.body.volumes as { name: string }[]).map((x) => x.name).filter((n) => n === 'mv-boot' || n === 'mv-plain');
    });
  const byImage = `{"image_id": "${imageId}"}`;
  // 3.3: popped as a filter of a later version, for everyone
  assert.deepEqual((await gm('3.3', byImage, true)).sort(), ['mv-boot', 'mv-plain']);
  // 3.4: an admin's matches the volume's Glance metadata (Python dict repr as the clients send it, or JSON)
  assert.deepEqual(await gm('3.4', byImage, true), ['mv-boot']);
  assert.deepEqual(await gm('3.4', `{'image_id': '${imageId}'}`, true), ['mv-boot']);
  assert.deepEqual(await gm('3.4', '{"image_id": "00000000-0000-4000-8000-000000000000"}', true), []);
  // a value that is not a dict matches nothing in Cinder's database
  assert.deepEqual(await gm('3.4', 'not-a-dict', true), []);
  // members: not among the filters they may use, so dropped
  assert.deepEqual((await gm('3.4', byImage, false)).sort(), ['mv-boot', 'mv-plain']);
});
