// Cinder's quota classes (/os-quota-class-sets) end to end: the `default` class feeds every project's
// defaults (show, defaults, enforcement), through the real `openstack quota set --class` and HTTP.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Stack } from '../support/stack';
import { startArmStack, waitFor } from '../support/armStack';
import { tokenProjectId, type ProjectUser } from '../support/fixtures';
import { cinderSample } from '../support/cinderShapes';

/**
 * The sample's keys and types, its per-type resources (type lvmdriver-1) standing for this cloud's
 * (the one type, __DEFAULT__): every value a number.
 */
function assertClassShape(file: string, body: any) {
  const sample = (cinderSample(file) as { quota_class_set: Record<string, unknown> }).quota_class_set;
  const want = Object.keys(sample)
    .map((k) => k.replace(/_lvmdriver-1$/, '___DEFAULT__'))
    .sort();
  assert.deepEqual(Object.keys(body.quota_class_set).sort(), want, file);
  for (const [k, v] of Object.entries(body.quota_class_set)) assert.equal(typeof v, k === 'id' ? 'string' : 'number', k);
}

let stack: Stack;
let close: () => void;
let carol: ProjectUser, dan: ProjectUser;
let tC: string, tD: string, tAdmin: string, adminProject: string;

before(async () => {
  const s = await startArmStack({ asyncDelayMs: 50 });
  stack = s.stack;
  close = () => s.control.close();
  carol = await stack.makeProjectUser('qc-c', 'qccarol');
  dan = await stack.makeProjectUser('qc-d', 'qcdan');
  [tC, tD, tAdmin] = await Promise.all([stack.token(carol), stack.token(dan), stack.token()]);
  adminProject = await tokenProjectId(stack, tAdmin);
});
after(async () => {
  close?.();
  await stack?.stop();
});

const asAdmin = (method: string, p: string, body?: unknown) => stack.http(method, `/volume/v3/${adminProject}${p}`, { token: tAdmin, body });
const asCarol = (method: string, p: string, body?: unknown) => stack.http(method, `/volume/v3/${carol.projectId}${p}`, { token: tC, body });
const bad = (message: string) => ({ badRequest: { code: 400, message } });

test("quota set --class default: the default class is every project's default; show and update as Cinder", async () => {
  const before = await asAdmin('GET', '/os-quota-class-sets/default');
  assert.equal(before.status, 200, before.text);
  assertClassShape('quota-classes-show-response.json', before.body);
  assert.equal(before.body.quota_class_set.id, 'default');
  assert.equal(before.body.quota_class_set.volumes, 10);
  assert.equal(before.body.quota_class_set.volumes___DEFAULT__, -1);

  // Members: Cinder's admin-only policies.
  const mGet = await asCarol('GET', '/os-quota-class-sets/default');
  assert.equal(mGet.status, 403, mGet.text);
  assert.deepEqual(mGet.body, { forbidden: { code: 403, message: "Policy doesn't allow volume_extension:quota_classes:get to be performed." } });
  const mPut = await asCarol('PUT', '/os-quota-class-sets/default', { quota_class_set: { volumes: 1 } });
  assert.equal(mPut.status, 403, mPut.text);
  assert.deepEqual(mPut.body, { forbidden: { code: 403, message: "Policy doesn't allow volume_extension:quota_classes:update to be performed." } });

  // Bad bodies: 400, nothing stored.
  const badKey = await asAdmin('PUT', '/os-quota-class-sets/default', { quota_class_set: { volumes: 5, disks: 1, cores: 2 } });
  assert.equal(badKey.status, 400, badKey.text);
  assert.deepEqual(badKey.body, bad('Invalid input received: Bad key(s) in quota class set: disks, cores'));
  for (const v of [-2, 'abc', '-1', 2147483648, null]) {
    const r = await asAdmin('PUT', '/os-quota-class-sets/default', { quota_class_set: { volumes: v } });
    assert.equal(r.status, 400, `${String(v)}: ${r.text}`);
  }
  assert.equal((await asAdmin('PUT', '/os-quota-class-sets/default', {})).status, 400);
  assert.equal((await asAdmin('GET', '/os-quota-class-sets/default')).body.quota_class_set.volumes, 10);

  // The CLI (--class takes the class as its positional argument).
  await stack.oscOk(['quota', 'set', '--class', '--volumes', '20', 'default']);
  const shown = (await asAdmin('GET', '/os-quota-class-sets/default')).body.quota_class_set;
  assert.equal(shown.volumes, 20);
  assert.equal(shown.gigabytes, 1000);
  // Every project without its own value: show, defaults, and the CLI's view of both.
  assert.equal((await asCarol('GET', `/os-quota-sets/${carol.projectId}`)).body.quota_set.volumes, 20);
  assert.equal((await asCarol('GET', `/os-quota-sets/${carol.projectId}/defaults`)).body.quota_set.volumes, 20);
  const cliDefaults = await stack.oscJson<{ Resource: string; Limit: number }[]>(['quota', 'show', '--default', '--volume', carol.projectId], carol);
  assert.equal(cliDefaults.find((r) => r.Resource === 'volumes')?.Limit, 20, JSON.stringify(cliDefaults));
  // A project's own value stays above the class.
  assert.equal((await asAdmin('PUT', `/os-quota-sets/${dan.projectId}`, { quota_set: { volumes: 3 } })).status, 200);
  assert.equal((await stack.http('GET', `/volume/v3/${dan.projectId}/os-quota-sets/${dan.projectId}`, { token: tD })).body.quota_set.volumes, 3);

  // Update answers the class without its id (Cinder's update view); a per-type key is a resource too.
  const upd = await asAdmin('PUT', '/os-quota-class-sets/default', { quota_class_set: { volumes: '1', volumes___DEFAULT__: 4 } });
  assert.equal(upd.status, 200, upd.text);
  assertClassShape('quota-classes-update-response.json', upd.body);
  assert.equal(upd.body.quota_class_set.id, undefined);
  assert.equal(upd.body.quota_class_set.volumes, 1);
  assert.equal(upd.body.quota_class_set.volumes___DEFAULT__, 4);

  // Enforced: carol (no own limit) may hold one volume now.
  const v1 = await asCarol('POST', '/volumes', { volume: { size: 1, name: 'one' } });
  assert.equal(v1.status, 202, v1.text);
  await waitFor('volume available', async () => ((await asCarol('GET', `/volumes/${v1.body.volume.id}`)).body.volume?.status === 'available' ? true : undefined));
  const v2 = await asCarol('POST', '/volumes', { volume: { size: 1, name: 'two' } });
  assert.equal(v2.status, 413, v2.text);
  assert.match(v2.text, /VolumeLimitExceeded|Maximum number of volumes allowed \(1\) exceeded/);

  // Another class: its own values over the defaults; the defaults unchanged.
  const gold = await asAdmin('PUT', '/os-quota-class-sets/gold', { quota_class_set: { snapshots: 50 } });
  assert.equal(gold.status, 200, gold.text);
  assert.equal(gold.body.quota_class_set.snapshots, 50);
  assert.equal(gold.body.quota_class_set.volumes, 1);
  const goldShow = (await asAdmin('GET', '/os-quota-class-sets/gold')).body.quota_class_set;
  assert.equal(goldShow.id, 'gold');
  assert.equal(goldShow.snapshots, 50);
  assert.equal((await asAdmin('GET', '/os-quota-class-sets/default')).body.quota_class_set.snapshots, 10);
});
