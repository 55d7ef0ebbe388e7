// Nova's server quotas (instances, cores, ram) as counters with reservations, end to end: parallel
// POST /servers released together at a barrier against a quota with two left admit exactly two, for
// each of the three resources; os-quota-sets detail and /limits match the server records afterwards;
// deleting gives the usage back; a resize holds its growth and a revert gives it back (issue 11).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startArmStack, waitFor, type ArmStack } from '../support/armStack';
import { imageId, networkId, oneUser, race as raceAll, type ProjectUser } from '../support/fixtures';

let arm: ArmStack;
let erin: ProjectUser;
let tErin: string, tAdmin: string;
let image: string, net: string;
/** Flavor 3 (m1.medium): 2 vCPUs, 4096 MB. */
const FLAVOR = { id: '3', vcpus: 2, ram: 4096 };

before(async () => {
  arm = await startArmStack({ asyncDelayMs: 0 });
  ({ user: erin, token: tErin, tAdmin } = await oneUser(arm.stack, 'sq-race', 'sqerin'));
  [image, net] = await Promise.all([imageId(arm.stack, tErin), networkId(arm.stack, tErin)]);
});
after(() => arm?.stop());

const asErin = (method: string, p: string, body?: unknown) => arm.stack.http(method, `/compute/v2.1${p}`, { token: tErin, body });
const setQuota = (q: Record<string, number>) => arm.stack.http('PUT', `/compute/v2.1/os-quota-sets/${erin.projectId}`, { token: tAdmin, body: { quota_set: q } });

async function servers(): Promise<{ id: string; status: string; flavor: { vcpus?: number; ram?: number } }[]> {
  return (await asErin('GET', '/servers/detail')).body.servers;
}

/** `n` creates released together at a barrier; their answers. */
function race(n: number, tag: string) {
  return raceAll(n, (i) => asErin('POST', '/servers', { server: { name: `${tag}-${i}`, flavorRef: FLAVOR.id, imageRef: image, networks: [{ uuid: net }] } }));
}

async function usage(): Promise<Record<string, { in_use: number; limit: number; reserved: number }>> {
  const r = await arm.stack.http('GET', `/compute/v2.1/os-quota-sets/${erin.projectId}/detail`, { token: tAdmin });
  assert.equal(r.status, 200, r.text);
  return r.body.quota_set;
}

async function waitGone(id: string) {
  await waitFor(`server ${id} gone`, async () => ((await asErin('GET', `/servers/${id}`)).status === 404 ? true : undefined), 120000);
}

test('6 and 20 parallel creates with two left admit exactly two, for instances, cores and ram; usage matches the records', async () => {
  const rounds: [number, string, (have: { instances: number; cores: number; ram: number }) => Record<string, number>, RegExp][] = [
    [6, 'inst', (h) => ({ instances: h.instances + 2, cores: -1, ram: -1 }), /^Quota exceeded for instances: Requested 1, but already used \d+ of \d+ instances$/],
    [20, 'inst20', (h) => ({ instances: h.instances + 2, cores: -1, ram: -1 }), /^Quota exceeded for instances: Requested 1, but already used \d+ of \d+ instances$/],
    [6, 'cores', (h) => ({ instances: -1, cores: h.cores + 2 * FLAVOR.vcpus, ram: -1 }), /^Quota exceeded for cores: Requested 2, but already used \d+ of \d+ cores$/],
    [6, 'ram', (h) => ({ instances: -1, cores: -1, ram: h.ram + 2 * FLAVOR.ram }), /^Quota exceeded for ram: Requested 4096, but already used \d+ of \d+ ram$/],
  ];
  for (const [n, tag, quota, refusal] of rounds) {
    const have = await servers();
    const h = { instances: have.length, cores: have.length * FLAVOR.vcpus, ram: have.length * FLAVOR.ram };
    assert.equal((await setQuota(quota(h))).status, 200);
    const answers = await race(n, tag);
    const statuses = answers.map((a) => a.status).sort();
    assert.deepEqual(statuses, [...Array(2).fill(202), ...Array(n - 2).fill(403)], `${tag}: ${answers.map((a) => a.text.slice(0, 160)).join(' | ')}`);
    for (const a of answers.filter((x) => x.status === 403)) assert.match(a.body.forbidden.message, refusal);
  }
  const all = await servers();
  assert.equal(all.length, 8);
  const u = await usage();
  assert.deepEqual([u.instances.in_use, u.cores.in_use, u.ram.in_use], [8, 8 * FLAVOR.vcpus, 8 * FLAVOR.ram]);
  assert.equal(u.instances.reserved, 0);
  const limits = (await asErin('GET', '/limits')).body.limits.absolute;
  assert.deepEqual([limits.totalInstancesUsed, limits.totalCoresUsed, limits.totalRAMUsed], [8, 8 * FLAVOR.vcpus, 8 * FLAVOR.ram]);
  const cli = await arm.stack.oscJson<{ Resource: string; 'In Use': number }[]>(['quota', 'show', '--usage', '--compute'], erin);
  assert.equal(cli.find((r) => r.Resource === 'instances')?.['In Use'], 8, JSON.stringify(cli));

  // Deleting gives the usage back once Azure has confirmed each deletion.
  for (const srv of all.slice(0, 6)) {
    await waitFor(`${srv.id} settled`, async () => (['ACTIVE', 'ERROR'].includes((await asErin('GET', `/servers/${srv.id}`)).body.server?.status) ? true : undefined), 120000);
    assert.equal((await asErin('DELETE', `/servers/${srv.id}`)).status, 204);
  }
  for (const srv of all.slice(0, 6)) await waitGone(srv.id);
  const after = await usage();
  assert.deepEqual([after.instances.in_use, after.cores.in_use, after.ram.in_use], [2, 2 * FLAVOR.vcpus, 2 * FLAVOR.ram]);
});

test('a resize holds its growth against the ram quota; a revert gives it back', async () => {
  const [a, b] = await servers();
  for (const srv of [a, b]) await waitFor(`${srv.id} ACTIVE`, async () => ((await asErin('GET', `/servers/${srv.id}`)).body.server.status === 'ACTIVE' ? true : undefined), 120000);
  // Room for one upsize from flavor 3 (4096 MB) to flavor 4 (8192 MB): two racing resizes, one wins.
  assert.equal((await setQuota({ instances: -1, cores: -1, ram: 2 * FLAVOR.ram + 4096 })).status, 200);
  const answers = await Promise.all([a, b].map((srv) => asErin('POST', `/servers/${srv.id}/action`, { resize: { flavorRef: '4' } })));
  assert.deepEqual(answers.map((x) => x.status).sort(), [202, 403], answers.map((x) => x.text).join(' | '));
  const winner = [a, b][answers.findIndex((x) => x.status === 202)];
  await waitFor('VERIFY_RESIZE', async () => ((await asErin('GET', `/servers/${winner.id}`)).body.server.status === 'VERIFY_RESIZE' ? true : undefined), 120000);
  const loser = answers.find((x) => x.status === 403)!;
  assert.match(loser.body.forbidden.message, /^Quota exceeded for ram: Requested 4096, but already used \d+ of \d+ ram$/);
  assert.equal((await usage()).ram.in_use, 2 * FLAVOR.ram + 4096, 'the growth is usage once the new flavor applies');
  assert.equal((await asErin('POST', `/servers/${winner.id}/action`, { revertResize: null })).status, 202);
  await waitFor('ACTIVE again', async () => ((await asErin('GET', `/servers/${winner.id}`)).body.server.status === 'ACTIVE' ? true : undefined), 120000);
  assert.equal((await usage()).ram.in_use, 2 * FLAVOR.ram, 'the revert gave the growth back');
});
