// Cinder quotas, limits, availability zones and extensions end to end: the real `openstack` CLI
// (quota show/set, limits show --absolute asking Nova and Cinder, availability zone list --volume,
// extension list --volume) and HTTP, with Cinder's 413s on create, extend, snapshot and backup.
// Bodies are checked against Cinder's API samples.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Stack } from '../support/stack';
import { startArmStack } from '../support/armStack';
import { race, tokenProjectId, type ProjectUser } from '../support/fixtures';
import { assertCinderShape } from '../support/cinderShapes';

let stack: Stack;
let carol: ProjectUser, dave: ProjectUser;
let tC: string, tD: string, tAdmin: string;
let adminProject: string;

before(async () => {
  stack = (await startArmStack({ asyncDelayMs: 50 })).stack;
  carol = await stack.makeProjectUser('vq-c', 'vqcarol');
  dave = await stack.makeProjectUser('vq-d', 'vqdave');
  [tC, tD, tAdmin] = await Promise.all([stack.token(carol), stack.token(dave), stack.token()]);
  adminProject = await tokenProjectId(stack, tAdmin);
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

test('6 and 20 parallel creates against a quota with two left admit exactly two; quota show --usage matches the records after', async () => {
  // A project of its own, with two volumes already: volumes quota at used + 2 for each round.
  const erin = await stack.makeProjectUser('vq-race', 'vqerin');
  const tE = await stack.token(erin);
  const asErin = (method: string, p: string, body?: unknown) => stack.http(method, `/volume/v3/${erin.projectId}${p}`, { token: tE, body });
  const setQuota = (q: Record<string, number>) => asAdmin('PUT', `/os-quota-sets/${erin.projectId}`, { quota_set: q });
  for (const n of [6, 20]) {
    const count = (await asErin('GET', '/volumes')).body.volumes.length;
    assert.equal((await setQuota({ volumes: count + 2, gigabytes: 1000 })).status, 200);
    // Everyone waits at the barrier, then all requests go at once.
    const answers = await race(n, (i) => asErin('POST', '/volumes', { volume: { size: 1, name: `race-${n}-${i}` } }));
    const statuses = answers.map((a) => a.status).sort();
    assert.deepEqual(statuses, [...Array(2).fill(202), ...Array(n - 2).fill(413)], JSON.stringify(answers.filter((a) => a.status !== 202 && a.status !== 413).map((a) => a.text)));
    const refused = answers.find((a) => a.status === 413)!;
    assert.match(refused.body.overLimit.message, /^Maximum number of volumes allowed \(\d+\) exceeded for quota 'volumes'\.$/);
  }
  // Gigabytes race too: 100 GB left, eight 30 GB creates → three fit.
  const usedGb = (await asErin('GET', '/volumes/detail')).body.volumes.reduce((a: number, v: { size: number }) => a + v.size, 0);
  assert.equal((await setQuota({ volumes: 100, gigabytes: usedGb + 100 })).status, 200);
  const gb = await Promise.all(Array.from({ length: 8 }, (_, i) => asErin('POST', '/volumes', { volume: { size: 30, name: `gb-${i}` } })));
  assert.equal(gb.filter((a) => a.status === 202).length, 3, gb.map((a) => a.status).join(','));

  // The counters match the records: quota show --usage (CLI) and the API agree with a recount.
  const vols = (await asErin('GET', '/volumes/detail')).body.volumes;
  const usage = await asAdmin('GET', `/os-quota-sets/${erin.projectId}?usage=true`);
  assert.equal(usage.body.quota_set.volumes.in_use, vols.length);
  assert.equal(
    usage.body.quota_set.gigabytes.in_use,
    vols.reduce((a: number, v: { size: number }) => a + v.size, 0),
  );
  assert.equal(usage.body.quota_set.volumes.reserved, 0);
  const cli = await stack.oscJson(['quota', 'show', '--usage', '--volume', erin.projectId]);
  const row = (cli as { Resource: string; 'In Use': number }[]).find((r) => r.Resource === 'volumes');
  assert.ok(row, JSON.stringify(cli));
  assert.equal(row['In Use'], vols.length);
  // Deleting gives the usage back.
  const one = vols[0];
  await waitStatusOf(asErin, one.id);
  assert.equal((await asErin('DELETE', `/volumes/${one.id}`)).status, 202);
  const end = Date.now() + 60000;
  while ((await asErin('GET', `/volumes/${one.id}`)).status !== 404) {
    if (Date.now() > end) throw new Error('volume not deleted');
    await new Promise((r) => setTimeout(r, 200));
  }
  const after = await asAdmin('GET', `/os-quota-sets/${erin.projectId}?usage=true`);
  assert.equal(after.body.quota_set.volumes.in_use, vols.length - 1);
  assert.equal(after.body.quota_set.gigabytes.in_use, usage.body.quota_set.gigabytes.in_use - one.size);
});

async function waitStatusOf(get: (m: string, p: string) => Promise<{ body: any }>, id: string) {
  const end = Date.now() + 60000;
  for (;;) {
    const s = (await get('GET', `/volumes/${id}`)).body.volume?.status;
    if (s === 'available' || s === 'error') return;
    if (Date.now() > end) throw new Error(`volume ${id} stayed ${s}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
