// Cinder quotas, limits, availability zones and extensions end to end: the real `openstack` CLI
// (quota show/set, limits show --absolute asking Nova and Cinder, availability zone list --volume,
// extension list --volume) and HTTP, with Cinder's 413s on create, extend, snapshot and backup.
// Bodies are checked against Cinder's API samples.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { tmpdir } from 'node:os';
import { startStack, type Stack, type Creds } from '../support/stack';
import { assertCinderShape } from '../support/cinderShapes';
import { startEmulator, type RunningEmulator } from '../../emulator/server';

let stack: Stack;
let emu: RunningEmulator;
let carol: Creds & { projectId: string; userId: string };
let dave: Creds & { projectId: string; userId: string };
let tC: string;
let tD: string;
let tAdmin: string;
let adminProject: string;

before(async () => {
  stack = await startStack({
    beforeHost: async (azurite) => {
      emu = await startEmulator({ port: 0, blobConnectionString: azurite.connectionString, asyncDelayMs: 50, certDir: path.join(tmpdir(), 'jacket-emulator-test-cert') });
      return { settings: { JACKET_ARM_ENDPOINT: emu.url, JACKET_AZURE_CREDENTIAL: 'static', JACKET_ARM_CA_CERT: emu.caCertPath }, stop: () => emu.stop() };
    },
  });
  carol = await stack.makeProjectUser('vq-c', 'vqcarol');
  dave = await stack.makeProjectUser('vq-d', 'vqdave');
  [tC, tD, tAdmin] = await Promise.all([stack.token(carol), stack.token(dave), stack.token()]);
  const me = await stack.http('GET', '/identity/v3/auth/tokens', { token: tAdmin, headers: { 'X-Subject-Token': tAdmin } });
  adminProject = me.body.token.project.id;
});
after(async () => {
  await stack?.stop();
});

const asCarol = (method: string, p: string, body?: unknown) => stack.http(method, `/volume/v3/${carol.projectId}${p}`, { token: tC, body });
const asAdmin = (method: string, p: string, body?: unknown) => stack.http(method, `/volume/v3/${adminProject}${p}`, { token: tAdmin, body });

async function waitStatus(p: string, key: string, want: string): Promise<Record<string, any>> {
  const end = Date.now() + 60000;
  for (;;) {
    const r = await asCarol('GET', p);
    if (r.body?.[key]?.status === want) return r.body[key];
    if (Date.now() > end) throw new Error(`${p} stayed ${r.body?.[key]?.status}`);
    await new Promise((res) => setTimeout(res, 200));
  }
}

test('quota sets: show, defaults, usage, update through the CLI, delete; members read their own only', async () => {
  const shown = await asCarol('GET', `/os-quota-sets/${carol.projectId}`);
  assert.equal(shown.status, 200);
  assertCinderShape('quota_sets/quotas-show-response.json', shown.body);
  assert.equal(shown.body.quota_set.volumes, 10);
  assertCinderShape('quota_sets/quotas-show-defaults-response.json', (await asCarol('GET', `/os-quota-sets/${carol.projectId}/defaults`)).body);
  const other = await asCarol('GET', `/os-quota-sets/${dave.projectId}`);
  assert.equal(other.status, 403);
  assert.equal(other.body.forbidden.message, "Policy doesn't allow volume_extension:quotas:show to be performed.");
  const memberSet = await asCarol('PUT', `/os-quota-sets/${carol.projectId}`, { quota_set: { volumes: 50 } });
  assert.equal(memberSet.status, 403);

  await stack.oscOk(['quota', 'set', '--volumes', '2', '--gigabytes', '3', '--snapshots', '1', '--backups', '0', 'vq-c']);
  const cli = await stack.oscJson<{ Resource: string; Limit: number }[]>(['quota', 'show', '--volume', 'vq-c']);
  const limits = Object.fromEntries(cli.map((r) => [r.Resource, r.Limit]));
  assert.equal(limits.volumes, 2, JSON.stringify(cli));
  assert.equal(limits.gigabytes, 3);
  assert.equal(limits.backups, 0);

  // bad updates are 400 and change nothing
  const badKey = await asAdmin('PUT', `/os-quota-sets/${carol.projectId}`, { quota_set: { volumes: 5, bogus: 1 } });
  assert.equal(badKey.status, 400);
  assert.equal(badKey.body.badRequest.message, 'Bad key(s) in quota set: bogus');
  const badValue = await asAdmin('PUT', `/os-quota-sets/${carol.projectId}`, { quota_set: { volumes: -2 } });
  assert.equal(badValue.status, 400);
  assert.equal((await asCarol('GET', `/os-quota-sets/${carol.projectId}`)).body.quota_set.volumes, 2);

  // enforcement: Cinder's 413s with Retry-After 0
  const v1 = await asCarol('POST', '/volumes', { volume: { size: 2, name: 'q1' } });
  assert.equal(v1.status, 202, v1.text);
  const big = await asCarol('POST', '/volumes', { volume: { size: 2, name: 'q2' } });
  assert.equal(big.status, 413);
  assert.equal(big.headers.get('retry-after'), '0');
  assert.equal(big.body.overLimit.message, 'Requested volume or snapshot exceeds allowed gigabytes quota. Requested 2G, quota is 3G and 2G has been consumed.');
  const v2 = await asCarol('POST', '/volumes', { volume: { size: 1, name: 'q2' } });
  assert.equal(v2.status, 202, v2.text);
  const third = await asCarol('POST', '/volumes', { volume: { size: 1, name: 'q3' } });
  assert.equal(third.status, 413);
  assert.equal(third.body.overLimit.message, "Maximum number of volumes allowed (2) exceeded for quota 'volumes'.");
  await waitStatus(`/volumes/${v1.body.volume.id}`, 'volume', 'available');
  await waitStatus(`/volumes/${v2.body.volume.id}`, 'volume', 'available');
  const extend = await asCarol('POST', `/volumes/${v2.body.volume.id}/action`, { 'os-extend': { new_size: 2 } });
  assert.equal(extend.status, 413);
  const backup = await asCarol('POST', '/backups', { backup: { volume_id: v2.body.volume.id } });
  assert.equal(backup.status, 413);
  assert.equal(backup.body.overLimit.message, 'Maximum number of backups allowed (0) exceeded');
  const snap = await asCarol('POST', '/snapshots', { snapshot: { volume_id: v2.body.volume.id } });
  assert.equal(snap.status, 413);
  assert.match(snap.body.overLimit.message, /exceeds allowed gigabytes quota/);
  const volumes = (await asCarol('GET', '/volumes')).body.volumes;
  assert.equal(volumes.length, 2, 'nothing was created by the refused calls');

  // usage details; a limit below what is in use is refused
  const usage = await asCarol('GET', `/os-quota-sets/${carol.projectId}?usage=true`);
  assertCinderShape('quota_sets/quotas-show-usage-response.json', usage.body);
  assert.deepEqual(usage.body.quota_set.volumes, { in_use: 2, limit: 2, reserved: 0 });
  assert.deepEqual(usage.body.quota_set.gigabytes, { in_use: 3, limit: 3, reserved: 0 });
  assert.equal(usage.body.quota_set.volumes___DEFAULT__.in_use, 2);
  const below = await asAdmin('PUT', `/os-quota-sets/${carol.projectId}`, { quota_set: { volumes: 1 } });
  assert.equal(below.status, 400);
  assert.equal(below.body.badRequest.message, 'Quota volumes limit must be equal or greater than existing resources.');

  // absolute limits from both services through the CLI
  const abs = await stack.oscJson<{ Name: string; Value: number }[]>(['limits', 'show', '--absolute'], carol);
  const byName = Object.fromEntries(abs.map((r) => [r.Name, r.Value]));
  // (the SDK names the fields: max_total_volumes is Cinder's maxTotalVolumes)
  assert.equal(byName.max_total_volumes, 2, JSON.stringify(abs));
  assert.equal(byName.total_volumes_used, 2);
  assert.equal(byName.total_gigabytes_used, 3);
  assert.equal(byName.max_total_backups, 0);
  assert.equal(typeof byName.max_total_cores, 'number', 'the compute part is there too');
  assertCinderShape('limits/limits-show-response.json', (await asCarol('GET', '/limits')).body);

  // delete: back to the defaults
  const del = await asAdmin('DELETE', `/os-quota-sets/${carol.projectId}`);
  assert.equal(del.status, 200);
  assert.equal((await asCarol('GET', `/os-quota-sets/${carol.projectId}`)).body.quota_set.volumes, 10);
  for (const v of volumes) assert.equal((await asCarol('DELETE', `/volumes/${v.id}`)).status, 202);
});

test('availability zones and extensions through the CLI', async () => {
  const zones = await stack.oscJson<{ 'Zone Name': string; 'Zone Status': string }[]>(['availability', 'zone', 'list', '--volume'], dave);
  assert.deepEqual(
    zones.map((z) => [z['Zone Name'], z['Zone Status']]),
    [['nova', 'available']],
  );
  assertCinderShape('availability-zone-list-response.json', (await stack.http('GET', `/volume/v3/${dave.projectId}/os-availability-zone`, { token: tD })).body);
  const ext = await stack.oscJson<{ Alias: string }[]>(['extension', 'list', '--volume'], dave);
  const aliases = ext.map((e) => e.Alias);
  for (const a of ['backups', 'os-quota-sets', 'os-vol-image-meta', 'os-availability-zone', 'os-used-limits']) assert.ok(aliases.includes(a), a);
  const body = (await stack.http('GET', `/volume/v3/${dave.projectId}/extensions`, { token: tD })).body;
  assertCinderShape('extensions/extensions-list-response.json', body);
  const one = await stack.http('GET', `/volume/v3/${dave.projectId}/extensions/backups`, { token: tD });
  assert.equal(one.body.extension.name, 'Backups');
  assert.equal((await stack.http('GET', `/volume/v3/${dave.projectId}/extensions/nope`, { token: tD })).status, 404);
});
