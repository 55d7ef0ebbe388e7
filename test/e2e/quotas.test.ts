// Quota sets, quota classes, the quota engine's checks and /limits, through the real `openstack` CLI
// and plain HTTP. /limits reads the region's usage from the ARM emulator through the real
// @azure/arm-compute client. Server usage is the compute quota ledger's: these tests set it there
// directly (servers' own create/delete/resize keep it in test/e2e/server-quotas.test.ts).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, type Stack, type Creds } from '../support/stack';
import { assertNovaResponse } from '../support/oracle';
import { startHarness, createLinuxVm, type Harness } from '../emulator/harness';
import { defaultSeed } from '../../emulator/server';
import { checkInstanceQuota, checkQuota, computeLedger } from '../../shared/compute/quotas/engine';
import { ApiError } from '../../shared/http/errors';

let arm: Harness;
let stack: Stack;
let alice: Creds & { projectId: string; userId: string };
let bob: Creds & { projectId: string; userId: string };
let carol: Creds & { projectId: string; userId: string };
let tAlice: string;
let tAdmin: string;
/** Sets a project's server usage in the ledger (no server records are made here). */
async function setServerUsage(projectId: string, usage: { instances: number; cores: number; ram: number }): Promise<void> {
  const ledger = computeLedger(stack.cloud.services);
  const { used } = await ledger.usage(projectId);
  await ledger.adjust(projectId, { instances: usage.instances - (used.instances ?? 0), cores: usage.cores - (used.cores ?? 0), ram: usage.ram - (used.ram ?? 0) });
}

before(async () => {
  // The region: 12 vCPUs and 3 VMs allowed, one 4-vCPU VM already running outside Jacket.
  arm = await startHarness({ seed: { ...defaultSeed(), coresQuota: 12, virtualMachinesQuota: 3 } });
  await createLinuxVm(arm, 'outside-vm', { hardwareProfile: { vmSize: 'Standard_D4s_v3' } });
  stack = await startStack({
    settings: {
      JACKET_ARM_ENDPOINT: arm.emu.url,
      JACKET_AZURE_CREDENTIAL: 'static',
      JACKET_ARM_CA_CERT: arm.emu.caCertPath,
      JACKET_CATALOG: JSON.stringify({ quotas: { key_pairs: 50 } }),
    },
  });
  alice = await stack.makeProjectUser('q-project-a', 'q-alice');
  bob = await stack.makeProjectUser('q-project-b', 'q-bob');
  carol = await stack.makeProjectUser('q-project-c', 'q-carol');
  tAlice = await stack.token(alice);
  tAdmin = await stack.token();
});
after(async () => {
  await stack?.stop();
  await arm?.stop();
});

const qs = (p: string) => `/compute/v2.1/os-quota-sets/${p}`;
const rowsOf = (rows: { Resource: string; Limit: number }[]) => Object.fromEntries(rows.map((r) => [r.Resource, r.Limit]));

test("openstack quota show / --default: Nova's defaults with the catalog's override; bodies match upstream at 2.1", async () => {
  const shown = rowsOf(await stack.oscJson(['quota', 'show', '--compute'], alice));
  assert.equal(shown.cores, 20);
  assert.equal(shown.instances, 10);
  assert.equal(shown.ram, 51200);
  assert.equal(shown['key-pairs'], 50, 'catalog.quotas.key_pairs');
  assert.equal(shown['server-groups'], 10);
  const dflt = rowsOf(await stack.oscJson(['quota', 'show', '--default', '--compute'], alice));
  assert.deepEqual(dflt, shown);
  const show = await stack.http('GET', qs(alice.projectId), { token: tAlice });
  assert.equal(show.status, 200);
  assertNovaResponse('quota_sets', 'QuotaSetsController', 'show', '2.1', show.body);
  assert.equal(show.body.quota_set.id, alice.projectId);
  assert.equal(show.body.quota_set.floating_ips, -1, 'deprecated network quotas are shown at 2.1');
  const defaults = await stack.http('GET', `${qs(alice.projectId)}/defaults`, { token: tAlice });
  assertNovaResponse('quota_sets', 'QuotaSetsController', 'defaults', '2.1', defaults.body);
  const detail = await stack.http('GET', `${qs(alice.projectId)}/detail`, { token: tAlice });
  assertNovaResponse('quota_sets', 'QuotaSetsController', 'detail', '2.1', detail.body);
  assert.deepEqual(detail.body.quota_set.cores, { in_use: 0, limit: 20, reserved: 0 });
});

test('quota sets: members may read only their own; updates and deletes are admin-only; unknown projects are 400', async () => {
  const other = await stack.http('GET', qs(bob.projectId), { token: tAlice });
  assert.equal(other.status, 403);
  assert.equal(other.body.forbidden.message, "Policy doesn't allow os_compute_api:os-quota-sets:show to be performed.");
  assert.equal((await stack.http('GET', `${qs(bob.projectId)}/detail`, { token: tAlice })).status, 403);
  const cli = await stack.osc(['quota', 'set', '--cores', '99', 'q-project-a'], alice);
  assert.notEqual(cli.code, 0);
  const put = await stack.http('PUT', qs(alice.projectId), { token: tAlice, body: { quota_set: { cores: 99 } } });
  assert.equal(put.status, 403);
  assert.equal((await stack.http('DELETE', qs(alice.projectId), { token: tAlice })).status, 403);
  const unknown = await stack.http('GET', qs('no-such-project'), { token: tAdmin });
  assert.equal(unknown.status, 400);
  assert.equal(unknown.body.badRequest.message, 'Project ID no-such-project is not a valid project.');
  for (const body of [{ quota_set: { cores: -2 } }, { quota_set: { cores: 'ten' } }, { quota_set: { bogus: 1 } }, { quota_set: { cores: 1, force: 'maybe' } }, { quota: {} }]) {
    const r = await stack.http('PUT', qs(alice.projectId), { token: tAdmin, body });
    assert.equal(r.status, 400, JSON.stringify(body));
    // Nova names the last path element, or gives the bare message at the root ({"quota": {}}).
    assert.match(r.body.badRequest.message, /^(Invalid input for field\/attribute (cores|quota_set|force)\. Value: |'quota_set' is a required property$)/);
  }
  assert.equal((await stack.http('GET', qs(alice.projectId), { token: tAlice })).body.quota_set.cores, 20, 'nothing changed');
});

test('openstack quota set --cores 30 PROJECT (admin), and the update body matches upstream', async () => {
  await stack.oscOk(['quota', 'set', '--cores', '30', 'q-project-a']);
  assert.equal(rowsOf(await stack.oscJson(['quota', 'show', '--compute', 'q-project-a']))['cores'], 30);
  const put = await stack.http('PUT', qs(alice.projectId), { token: tAdmin, body: { quota_set: { instances: '12', ram: -1 } } });
  assert.equal(put.status, 200);
  assertNovaResponse('quota_sets', 'QuotaSetsController', 'update', '2.1', put.body);
  assert.ok(!('id' in put.body.quota_set), 'update answers without id, as upstream');
  assert.deepEqual([put.body.quota_set.cores, put.body.quota_set.instances, put.body.quota_set.ram], [30, 12, -1]);
  assert.equal((await stack.http('GET', qs(bob.projectId), { token: await stack.token(bob) })).body.quota_set.cores, 20, 'other projects keep the defaults');
});

test('openstack quota show --usage, and a limit below usage needs force', async () => {
  await setServerUsage(alice.projectId, { instances: 3, cores: 18, ram: 4096 });
  const rows = await stack.oscJson<{ Resource: string; Limit: number; 'In Use': number; Reserved: number }[]>(['quota', 'show', '--usage', '--compute'], alice);
  const cores = rows.find((r) => r.Resource === 'cores')!;
  assert.deepEqual([cores.Limit, cores['In Use'], cores.Reserved], [30, 18, 0]);
  assert.equal(rows.find((r) => r.Resource === 'instances')!['In Use'], 3);
  const low = await stack.http('PUT', qs(alice.projectId), { token: tAdmin, body: { quota_set: { cores: 10, instances: 5 } } });
  assert.equal(low.status, 400);
  assert.equal(low.body.badRequest.message, 'Quota limit 10 for cores must be greater than or equal to already used and reserved 18.');
  assert.equal((await stack.http('GET', qs(alice.projectId), { token: tAlice })).body.quota_set.instances, 12, 'a bad value changes nothing');
  const forced = await stack.http('PUT', qs(alice.projectId), { token: tAdmin, body: { quota_set: { cores: 10, force: 'True' } } });
  assert.equal(forced.status, 200);
  assert.equal(forced.body.quota_set.cores, 10);
  await stack.oscOk(['quota', 'set', '--cores', '20', 'q-project-a']);
});

test("the quota engine refuses what does not fit with Nova's 403 messages", async () => {
  const s = stack.cloud.services;
  // alice: cores 20 with 18 used, instances 12 with 3 used, ram unlimited.
  await assert.rejects(checkQuota(s, alice.projectId, alice.userId, { cores: 4, ram: 1024 }), (e: unknown) => {
    assert.ok(e instanceof ApiError);
    assert.equal(e.status, 403);
    assert.equal(e.message, 'Quota exceeded for cores: Requested 4, but already used 18 of 20 cores');
    return true;
  });
  await checkQuota(s, alice.projectId, alice.userId, { cores: 2, instances: 1 });
  // server create of 1-3 two-vCPU instances: only one more fits
  assert.equal(await checkInstanceQuota(s, alice.projectId, alice.userId, { vcpus: 2, ram: 512 }, 1, 3), 1);
  await assert.rejects(checkInstanceQuota(s, alice.projectId, alice.userId, { vcpus: 4, ram: 512 }, 2, 2), (e: unknown) => {
    assert.ok(e instanceof ApiError);
    assert.equal(e.message, 'Quota exceeded for cores: Requested 8, but already used 18 of 20 cores');
    return true;
  });
});

test('per-user quotas (?user_id=): show, update within what the project has left, delete', async () => {
  const uq = `${qs(alice.projectId)}?user_id=${alice.userId}`;
  const set = await stack.http('PUT', uq, { token: tAdmin, body: { quota_set: { instances: 4, key_pairs: 2 } } });
  assert.equal(set.status, 200);
  assert.equal(set.body.quota_set.instances, 4);
  assert.equal(set.body.quota_set.cores, 20, "unset user limits fall back to the project's");
  const shown = await stack.http('GET', uq, { token: tAlice });
  assertNovaResponse('quota_sets', 'QuotaSetsController', 'show', '2.1', shown.body);
  assert.equal(shown.body.quota_set.key_pairs, 2);
  assert.equal((await stack.http('GET', qs(alice.projectId), { token: tAlice })).body.quota_set.instances, 12, 'the project limit is unchanged');
  const tooBig = await stack.http('PUT', uq, { token: tAdmin, body: { quota_set: { instances: 13 } } });
  assert.equal(tooBig.status, 400);
  assert.equal(tooBig.body.badRequest.message, 'Quota limit 13 for instances must be less than or equal to 12.');
  // the per-user key_pairs limit is what the key pair API enforces
  for (const name of ['a', 'b']) assert.equal((await stack.http('POST', '/compute/v2.1/os-keypairs', { token: tAlice, body: { keypair: { name } } })).status, 200);
  const third = await stack.http('POST', '/compute/v2.1/os-keypairs', { token: tAlice, body: { keypair: { name: 'c' } } });
  assert.equal(third.status, 403);
  assert.equal(third.body.forbidden.message, 'Quota exceeded, too many key pairs.');
  const del = await stack.http('DELETE', uq, { token: tAdmin });
  assert.equal(del.status, 202);
  assert.equal((await stack.http('GET', uq, { token: tAlice })).body.quota_set.key_pairs, 50);
});

test('quota classes: the default class supplies defaults; admin only; 2.1 bodies match upstream', async () => {
  const denied = await stack.http('GET', '/compute/v2.1/os-quota-class-sets/default', { token: tAlice });
  assert.equal(denied.status, 403);
  assert.equal(denied.body.forbidden.message, "Policy doesn't allow os_compute_api:os-quota-class-sets:show to be performed.");
  const put = await stack.http('PUT', '/compute/v2.1/os-quota-class-sets/default', { token: tAdmin, body: { quota_class_set: { instances: 15, server_groups: 7 } } });
  assert.equal(put.status, 200);
  assertNovaResponse('quota_classes', 'QuotaClassSetsController', 'update', '2.1', put.body);
  const show = await stack.http('GET', '/compute/v2.1/os-quota-class-sets/default', { token: tAdmin });
  assertNovaResponse('quota_classes', 'QuotaClassSetsController', 'show', '2.1', show.body);
  assert.equal(show.body.quota_class_set.instances, 15);
  assert.equal(show.body.quota_class_set.key_pairs, 50);
  // projects without their own limits follow the default class (CLI: quota set --class)
  await stack.oscOk(['quota', 'set', '--class', '--ram', '40000', 'default']);
  const carolQuota = rowsOf(await stack.oscJson(['quota', 'show', '--compute'], carol));
  assert.deepEqual([carolQuota.instances, carolQuota.ram, carolQuota['server-groups']], [15, 40000, 7]);
  assert.equal((await stack.http('GET', qs(alice.projectId), { token: tAlice })).body.quota_set.instances, 12, "a project's own limit wins");
  const bad = await stack.http('PUT', '/compute/v2.1/os-quota-class-sets/default', { token: tAdmin, body: { quota_class_set: { instances: 'x' } } });
  assert.equal(bad.status, 400);
});

test("deleting a project's quotas (202) reverts it to the defaults", async () => {
  await stack.oscOk(['quota', 'delete', '--compute', 'q-project-a']);
  const shown = (await stack.http('GET', qs(alice.projectId), { token: tAlice })).body.quota_set;
  assert.deepEqual([shown.cores, shown.instances, shown.ram], [20, 15, 40000]);
  const del = await stack.http('DELETE', qs(alice.projectId), { token: tAdmin });
  assert.equal(del.status, 202);
  assert.equal(del.text, '');
});

test('limits: absolute limits and usage, cores and instances tightened by the Azure region', async () => {
  // Region: 12 vCPUs with 4 in use, 3 VMs with 1 in use. alice uses 18 cores / 3 instances in Nova terms.
  const r = await stack.http('GET', '/compute/v2.1/limits', { token: tAlice });
  assert.equal(r.status, 200);
  assertNovaResponse('limits', 'LimitsController', 'index', '2.1', r.body);
  const a = r.body.limits.absolute;
  assert.deepEqual(r.body.limits.rate, []);
  assert.equal(a.maxTotalCores, 20, 'Nova 20 vs Azure 12 - 4 + 18 = 26');
  assert.equal(a.maxTotalInstances, 5, 'Nova 15 vs Azure 3 - 1 + 3 = 5');
  assert.deepEqual([a.totalCoresUsed, a.totalInstancesUsed, a.totalRAMUsed], [18, 3, 4096]);
  assert.deepEqual([a.maxTotalRAMSize, a.maxTotalKeypairs, a.maxServerMeta, a.maxImageMeta, a.maxTotalFloatingIps], [40000, 50, 128, 128, -1]);
  // bob uses nothing: Azure's room (8 vCPUs, 2 VMs) is tighter than Nova's defaults
  const b = (await stack.http('GET', '/compute/v2.1/limits', { token: await stack.token(bob) })).body.limits.absolute;
  assert.deepEqual([b.maxTotalCores, b.maxTotalInstances, b.totalCoresUsed], [8, 2, 0]);
  // another project's limits are admin-only
  const denied = await stack.http('GET', `/compute/v2.1/limits?tenant_id=${bob.projectId}`, { token: tAlice });
  assert.equal(denied.status, 403);
  assert.equal(denied.body.forbidden.message, "Policy doesn't allow os_compute_api:limits:other_project to be performed.");
  const asAdmin = await stack.http('GET', `/compute/v2.1/limits?tenant_id=${alice.projectId}`, { token: tAdmin });
  assert.equal(asAdmin.body.limits.absolute.totalCoresUsed, 18);
});

test('openstack limits show --absolute (compute and volume limits, as the SDK names them)', async () => {
  const r = await stack.osc(['limits', 'show', '--absolute', '-f', 'json'], bob);
  assert.equal(r.code, 0, r.stderr);
  const rows = Object.fromEntries((JSON.parse(r.stdout) as { Name: string; Value: number }[]).map((x) => [x.Name, x.Value]));
  assert.equal(rows.max_total_cores, 8);
  assert.equal(rows.max_total_instances, 2);
  assert.equal(rows.max_total_keypairs, 50);
  // the volume half comes from Cinder's /limits
  assert.equal(typeof rows.max_total_volumes, 'number');
  assert.equal(typeof rows.total_gigabytes_used, 'number');
});
