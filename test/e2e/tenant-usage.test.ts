// os-simple-tenant-usage end to end: servers built on the ARM emulator, one deleted inside the window
// (it still counts the hours it lived, from the usage ledger), one still running; HTTP bodies checked
// against Nova's schemas at 2.1, and the real `openstack usage list` / `usage show`.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startArmStack, waitFor, type ArmStack } from '../support/armStack';
import type { Stack, Creds } from '../support/stack';
import { assertNovaResponse } from '../support/oracle';

let arm: ArmStack;
let stack: Stack;
let alice: Creds & { projectId: string; userId: string };
let bob: Creds & { projectId: string; userId: string };
let tAlice: string;
let tAdmin: string;
let goneId: string;
let liveId: string;
let windowStart: string;
let goneAt: number;
const MV = '2.1';
const C = 'SimpleTenantUsageController';
const FLAVOR = { id: '3', vcpus: 2, ram: 4096, disk: 40 }; // m1.medium

/** Nova's query format: naive UTC, seconds. */
const naive = (d: Date) => d.toISOString().slice(0, 19);
const usagePath = (q: Record<string, string>, project?: string) => `/compute/v2.1/os-simple-tenant-usage${project ? `/${project}` : ''}?${new URLSearchParams(q).toString()}`;
const close = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) < 1e-6 * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);

before(async () => {
  arm = await startArmStack();
  stack = arm.stack;
  alice = await stack.makeProjectUser('use-a', 'alice');
  bob = await stack.makeProjectUser('use-b', 'bob');
  [tAlice, tAdmin] = await Promise.all([stack.token(alice), stack.token()]);
  windowStart = naive(new Date(Date.now() - 2000));
  const image = (await stack.http('GET', '/image/v2/images?name=ubuntu-22.04', { token: tAlice })).body.images[0].id;
  const network = (await stack.http('GET', '/network/v2.0/networks?name=private', { token: tAlice })).body.networks[0].id;
  const create = async (name: string) => {
    const r = await stack.http('POST', '/compute/v2.1/servers', { token: tAlice, body: { server: { name, flavorRef: FLAVOR.id, imageRef: image, networks: [{ uuid: network }] } } });
    assert.equal(r.status, 202, r.text);
    return r.body.server.id as string;
  };
  [goneId, liveId] = await Promise.all([create('gone'), create('stays')]);
  for (const id of [goneId, liveId]) {
    await waitFor(`${id} ACTIVE`, async () => ((await stack.http('GET', `/compute/v2.1/servers/${id}`, { token: tAlice })).body.server?.status === 'ACTIVE' ? true : undefined));
  }
  assert.equal((await stack.http('DELETE', `/compute/v2.1/servers/${goneId}`, { token: tAlice })).status, 204);
  await waitFor(`${goneId} gone`, async () => ((await stack.http('GET', `/compute/v2.1/servers/${goneId}`, { token: tAlice })).status === 404 ? true : undefined));
  goneAt = Date.now();
});
after(async () => {
  arm?.control.close();
  await arm?.stop();
});

type ServerUsage = {
  instance_id: string;
  name: string;
  state: string;
  hours: number;
  started_at: string;
  ended_at: string | null;
  uptime: number;
  vcpus: number;
  memory_mb: number;
  local_gb: number;
  flavor: string;
  tenant_id: string;
};

test("one project's usage: a server deleted in the window counts the hours it lived, a live one up to now", async () => {
  const r = await stack.http('GET', usagePath({ start: windowStart, end: '2999-01-01T00:00:00' }, alice.projectId), { token: tAlice });
  assert.equal(r.status, 200, r.text);
  assertNovaResponse('simple_tenant_usage', C, 'show', MV, r.body);
  const u = r.body.tenant_usage;
  assert.equal(u.tenant_id, alice.projectId);
  assert.ok(Date.parse(`${u.stop}Z`) <= Date.now() && Date.parse(`${u.stop}Z`) >= goneAt, 'the end is clipped to now');
  assert.equal(u.start, windowStart);
  const rows = u.server_usages as ServerUsage[];
  assert.deepEqual(rows.map((s) => s.instance_id).sort(), [goneId, liveId].sort(), 'the deleted server is still there');
  const gone = rows.find((s) => s.instance_id === goneId)!;
  const live = rows.find((s) => s.instance_id === liveId)!;
  assert.equal(gone.state, 'terminated');
  assert.equal(gone.name, 'gone');
  assert.ok(gone.ended_at && Date.parse(`${gone.ended_at}Z`) <= goneAt);
  const lived = (Date.parse(`${gone.ended_at}Z`) - Date.parse(`${gone.started_at}Z`)) / 3.6e6;
  assert.ok(lived > 0);
  close(gone.hours, lived, 'hours of the deleted server');
  assert.equal(gone.uptime, Math.trunc(lived * 3600));
  assert.equal(live.state, 'active');
  assert.equal(live.ended_at, null);
  close(live.hours, (Date.parse(`${u.stop}Z`) - Date.parse(`${live.started_at}Z`)) / 3.6e6, 'hours of the live server');
  for (const s of rows) {
    assert.deepEqual([s.vcpus, s.memory_mb, s.local_gb, s.flavor, s.tenant_id], [FLAVOR.vcpus, FLAVOR.ram, FLAVOR.disk, 'm1.medium', alice.projectId]);
  }
  const hours = gone.hours + live.hours;
  close(u.total_hours, hours, 'total_hours');
  close(u.total_vcpus_usage, FLAVOR.vcpus * hours, 'total_vcpus_usage');
  close(u.total_memory_mb_usage, FLAVOR.ram * hours, 'total_memory_mb_usage');
  close(u.total_local_gb_usage, FLAVOR.disk * hours, 'total_local_gb_usage');

  // a window opening after the deletion holds the live server only; one closing before any launch, nothing
  const later = await stack.http('GET', usagePath({ start: new Date(goneAt).toISOString().slice(0, 23) }, alice.projectId), { token: tAlice });
  assertNovaResponse('simple_tenant_usage', C, 'show', MV, later.body);
  assert.deepEqual(
    later.body.tenant_usage.server_usages.map((s: ServerUsage) => s.instance_id),
    [liveId],
  );
  const before = await stack.http('GET', usagePath({ start: '2000-01-01T00:00:00', end: '2000-01-02T00:00:00.5' }, alice.projectId), { token: tAlice });
  assert.equal(before.status, 200);
  assertNovaResponse('simple_tenant_usage', C, 'show', MV, before.body);
  assert.deepEqual(before.body, { tenant_usage: {} });
});

test('all projects (admin): totals, per-server rows with detailed=1; members get 403', async () => {
  const detailed = await stack.http('GET', usagePath({ start: windowStart, detailed: '1' }), { token: tAdmin });
  assert.equal(detailed.status, 200, detailed.text);
  assertNovaResponse('simple_tenant_usage', C, 'index', MV, detailed.body);
  const mine = detailed.body.tenant_usages.filter((t: { tenant_id: string }) => t.tenant_id === alice.projectId);
  assert.equal(mine.length, 1);
  assert.equal(mine[0].server_usages.length, 2);
  assert.ok(!detailed.body.tenant_usages.some((t: { tenant_id: string }) => t.tenant_id === bob.projectId), 'no servers, no entry');
  const totals = await stack.http('GET', usagePath({ start: windowStart }), { token: tAdmin });
  assertNovaResponse('simple_tenant_usage', C, 'index', MV, totals.body);
  const t = totals.body.tenant_usages.find((x: { tenant_id: string }) => x.tenant_id === alice.projectId);
  assert.ok(t && !('server_usages' in t), 'no server rows without detailed=1');
  assert.ok(t.total_vcpus_usage > 0);

  const member = await stack.http('GET', usagePath({}), { token: tAlice });
  assert.equal(member.status, 403);
  assert.equal(member.body.forbidden.message, "Policy doesn't allow os_compute_api:os-simple-tenant-usage:list to be performed.");
  const other = await stack.http('GET', usagePath({}, bob.projectId), { token: tAlice });
  assert.equal(other.status, 403);
  assert.equal(other.body.forbidden.message, "Policy doesn't allow os_compute_api:os-simple-tenant-usage:show to be performed.");
  const adminOther = await stack.http('GET', usagePath({ start: windowStart }, alice.projectId), { token: tAdmin });
  assert.equal(adminOther.body.tenant_usage.server_usages.length, 2, 'admins read any project');
});

test("bad periods are 400 in Nova's words", async () => {
  for (const start of ['yesterday', '2020-01-01T00:00:00Z', '2020-02-30T00:00:00', '2020-01-01 00:00:00']) {
    const r = await stack.http('GET', usagePath({ start }, alice.projectId), { token: tAlice });
    assert.equal(r.status, 400, start);
    assert.deepEqual(r.body, { badRequest: { code: 400, message: 'Invalid datetime string: Datetime is in invalid format' } });
  }
  const reversed = await stack.http('GET', usagePath({ start: '2020-01-02T00:00:00', end: '2020-01-01T00:00:00' }), { token: tAdmin });
  assert.equal(reversed.status, 400);
  assert.equal(reversed.body.badRequest.message, 'Invalid start time. The start time cannot occur after the end time.');
});

test("openstack usage list and usage show --project count the deleted server's hours", async () => {
  const list = await stack.oscJson<Record<string, unknown>[]>(['usage', 'list'], stack.admin);
  // -f json prints the project id; the SDK sends detailed=True, and Nova lists server rows only for
  // detailed=1, so the Servers column is empty here as against Nova.
  const row = list.find((r) => r.Project === alice.projectId);
  assert.ok(row, JSON.stringify(list));
  assert.equal(row.Servers, null);
  assert.ok(Number(row['CPU Hours']) > 0 && Number(row['RAM MB-Hours']) > 0 && Number(row['Disk GB-Hours']) > 0, JSON.stringify(row));
  // a member cannot look projects up by name (Keystone answers 403), so the CLI is given the id
  const shown = await stack.oscJson<Record<string, unknown>>(['usage', 'show', '--project', alice.projectId], alice);
  const servers = shown.Servers;
  assert.equal(Array.isArray(servers) ? servers.length : Number(servers), 2, JSON.stringify(shown));
  close(Number(shown['CPU Hours']) / Number(shown['RAM MB-Hours']), FLAVOR.vcpus / FLAVOR.ram, 'CPU to RAM hours');
});
