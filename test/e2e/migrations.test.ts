// GET /os-migrations end to end: resizes (confirmed, reverted, refused by Azure) and a cold migrate
// (Azure redeploy) write Nova's migration records, which the admin lists through the real
// `openstack server migration list` and HTTP at 2.1 and 2.23, every body checked against Nova's schema.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startArmStack, waitFor, type ArmStack } from '../support/armStack';
import { assertNovaResponse } from '../support/oracle';
import type { Creds } from '../support/stack';
import { computeTest } from '../support/advertised';

let env: ArmStack;
let alice: Creds & { projectId: string; userId: string };
let tAlice: string;
let tAdmin: string;
let srvA: string;
let srvB: string;
const HOST = 'azure-eastus';

const http = (method: string, p: string, token: string, mv?: string, body?: unknown) =>
  env.stack.http(method, `/compute/v2.1${p}`, { token, body, headers: mv ? { 'OpenStack-API-Version': `compute ${mv}` } : {} });
const show = async (id: string) => (await http('GET', `/servers/${id}`, tAdmin)).body.server;
const untilStatus = (id: string, status: string) => waitFor(`${id} ${status}`, async () => ((await show(id)).status === status ? true : undefined), 120000);

/** GET /os-migrations?query at `mv` (admin), its body checked against Nova's schema at that version. */
async function list(mv: string, query = '', token = tAdmin): Promise<any[]> {
  const r = await http('GET', `/os-migrations${query}`, token, mv);
  assert.equal(r.status, 200, r.text);
  assertNovaResponse('migrations', 'MigrationsController', 'index', mv, r.body);
  return r.body.migrations;
}

/** The statuses the newest record of `server` goes through until `last`, as seen polling the list. */
async function watchStatuses(server: string, last: string): Promise<string[]> {
  const seen: string[] = [];
  await waitFor(`migration of ${server} ${last}`, async () => {
    const [newest] = (await list('2.23', `?instance_uuid=${server}`)).slice(-1);
    if (newest && seen[seen.length - 1] !== newest.status) seen.push(newest.status);
    return newest?.status === last ? true : undefined;
  });
  return seen;
}

/** `seen` follows `order` (statuses may be skipped between two polls, never revisited). */
function assertOrdered(seen: string[], order: string[]): void {
  const at = seen.map((x) => order.indexOf(x));
  assert.ok(
    at.every((i, k) => i >= 0 && (k === 0 || i > at[k - 1])),
    `statuses out of Nova's order: ${seen.join(' > ')}`,
  );
}

before(async () => {
  env = await startArmStack();
  alice = await env.stack.makeProjectUser('mg-a', 'alice');
  [tAlice, tAdmin] = await Promise.all([env.stack.token(alice), env.stack.token()]);
  const [a, b] = await Promise.all([
    env.stack.oscJson(['server', 'create', '--flavor', 'm1.medium', '--image', 'ubuntu-22.04', '--network', 'private', '--wait', 'mg-a'], alice),
    env.stack.oscJson(['server', 'create', '--flavor', 'm1.medium', '--image', 'ubuntu-22.04', '--network', 'private', '--wait', 'mg-b'], alice),
  ]);
  assert.equal(a.status, 'ACTIVE');
  assert.equal(b.status, 'ACTIVE');
  [srvA, srvB] = [a.id, b.id];
});
after(async () => {
  env?.control.close();
  await env?.stop();
});

test('no migration yet: an empty list at 2.1 and 2.23, and from the CLI', async () => {
  assert.deepEqual(await list('2.1'), []);
  assert.deepEqual(await list('2.23'), []);
  assert.deepEqual(await env.stack.oscJson(['server', 'migration', 'list']), []);
});

test('resize + confirm, resize + revert, a refused resize and a migrate each leave a record with Nova status and type', async () => {
  // 1: resize to m1.large, confirmed.
  await env.stack.oscOk(['server', 'resize', '--flavor', 'm1.large', '--wait', srvA], alice);
  let [m] = await list('2.23', `?instance_uuid=${srvA}`);
  assert.equal(m.status, 'finished', 'a resize waiting in VERIFY_RESIZE is finished');
  assert.equal(m.migration_type, 'resize');
  await env.stack.oscOk(['server', 'resize', 'confirm', srvA], alice);
  [m] = await list('2.23', `?instance_uuid=${srvA}`);
  assert.equal(m.status, 'confirmed');

  // 2: resize back to m1.medium, watched on its way (Azure's first PATCH answers 500, so the record
  // waits in 'pre-migrating' for the engine's retry), then reverted.
  await env.control.addFault({ method: 'PATCH', path: `/virtualMachines/${srvA}`, count: 1, status: 500, code: 'InternalServerError', message: 'injected: once' });
  const r = await http('POST', `/servers/${srvA}/action`, tAlice, undefined, { resize: { flavorRef: '3' } });
  assert.equal(r.status, 202, r.text);
  const seen = await watchStatuses(srvA, 'finished');
  assert.equal(seen[0], 'pre-migrating', `written when the action is accepted: ${seen.join(' > ')}`);
  assert.ok(seen.includes('migrating'), `migrating while Azure resizes: ${seen.join(' > ')}`);
  assertOrdered(seen, ['pre-migrating', 'migrating', 'post-migrating', 'finished']);
  await untilStatus(srvA, 'VERIFY_RESIZE');
  await env.stack.oscOk(['server', 'resize', 'revert', srvA], alice);
  await untilStatus(srvA, 'ACTIVE');
  [, m] = await list('2.23', `?instance_uuid=${srvA}`);
  assert.equal(m.status, 'reverted');

  // 3 (from m1.large again, the revert's flavor): Azure refuses the next resize's PATCH: the server stays ACTIVE, the record ends 'error'.
  await env.control.addFault({ method: 'PATCH', path: `/virtualMachines/${srvA}`, count: 1, status: 409, code: 'OperationNotAllowed', message: 'injected: size not available' });
  const refused = await http('POST', `/servers/${srvA}/action`, tAlice, undefined, { resize: { flavorRef: '2' } });
  assert.equal(refused.status, 202, refused.text);
  await waitFor('the refused resize to end', async () => {
    const s = await show(srvA);
    return s.status === 'ACTIVE' && s['OS-EXT-STS:task_state'] === null ? true : undefined;
  });

  // 4: migrate B (admin): an Azure redeploy, confirmed at once.
  await env.stack.oscOk(['server', 'migrate', '--wait', srvB]);
  assert.equal((await show(srvB)).status, 'ACTIVE');
  const [mb] = await list('2.23', `?instance_uuid=${srvB}`);
  assert.deepEqual([mb.status, mb.migration_type], ['confirmed', 'migration']);

  // The list at 2.1 (Nova's unsorted order: oldest first): no migration_type, no uuid, no links.
  const all = await list('2.1');
  assert.equal(all.length, 4, JSON.stringify(all));
  assert.deepEqual(
    all.map((x) => [x.instance_uuid, x.status, x.old_instance_type_id, x.new_instance_type_id]),
    [
      [srvA, 'confirmed', 3, 4],
      [srvA, 'reverted', 4, 3],
      [srvA, 'error', 4, 2],
      [srvB, 'confirmed', 3, 3],
    ],
  );
  for (const x of all) {
    assert.equal(x.migration_type, undefined);
    assert.equal(x.uuid, undefined);
    assert.deepEqual([x.source_compute, x.dest_compute, x.source_node, x.dest_node, x.dest_host], [HOST, HOST, HOST, HOST, HOST]);
    assert.match(x.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/);
    assert.match(x.updated_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/);
  }
  const ids = all.map((x) => x.id);
  assert.ok(
    ids.every((id, i) => Number.isInteger(id) && (i === 0 || id > ids[i - 1])),
    `ids increase: ${ids.join(',')}`,
  );

  // At 2.23: migration_type; links only for in-progress live migrations (none here).
  const v223 = await list('2.23');
  assert.deepEqual(
    v223.map((x) => x.migration_type),
    ['resize', 'resize', 'resize', 'migration'],
  );
  assert.ok(v223.every((x) => !('links' in x)));

  // The server's in-progress live migrations are still none.
  const sm = await http('GET', `/servers/${srvA}/migrations`, tAdmin, '2.23');
  assert.equal(sm.status, 200);
  assert.deepEqual(sm.body, { migrations: [] });
});

test('openstack server migration list, --server, --status and --type', async () => {
  const rows = await env.stack.oscJson(['server', 'migration', 'list']);
  assert.equal(rows.length, 4);
  const b = rows.find((x: any) => x['Server UUID'] === srvB);
  assert.equal(b.Status, 'confirmed');
  assert.equal(b.Type, 'migration');
  assert.equal(b['Source Compute'], HOST);
  assert.equal(b['Old Flavor'], 3);
  assert.ok(Number.isInteger(b.Id));

  const ofA = await env.stack.oscJson(['server', 'migration', 'list', '--server', srvA]);
  assert.deepEqual(ofA.map((x: any) => x.Status).sort(), ['confirmed', 'error', 'reverted']);
  const reverted = await env.stack.oscJson(['server', 'migration', 'list', '--status', 'reverted']);
  assert.deepEqual(
    reverted.map((x: any) => [x['Server UUID'], x.Type]),
    [[srvA, 'resize']],
  );
  const cold = await env.stack.oscJson(['server', 'migration', 'list', '--type', 'cold-migration']);
  assert.deepEqual(
    cold.map((x: any) => x['Server UUID']),
    [srvB],
  );
  // At 2.1 the CLI shows neither Id nor Type.
  const old = await env.stack.oscJson(['--os-compute-api-version', '2.1', 'server', 'migration', 'list', '--server', srvB]);
  assert.equal(old.length, 1);
  assert.equal(old[0].Status, 'confirmed');
  assert.equal('Type' in old[0], false);
});

test('filters as Nova applies them (last value of a repeated key; host matches source or destination)', async () => {
  const n = async (query: string, mv = '2.23') => (await list(mv, query)).length;
  assert.equal(await n(`?instance_uuid=${srvB}`), 1);
  assert.equal(await n(`?instance_uuid=${srvB.toUpperCase()}`), 1);
  assert.equal(await n(`?instance_uuid=${srvA}&status=error`), 1);
  assert.equal(await n('?status=confirmed'), 2);
  assert.equal(await n('?status=reverted&status=confirmed'), 2, 'the last value counts');
  assert.equal(await n('?migration_type=resize'), 3);
  assert.equal(await n('?migration_type=migration', '2.1'), 1, 'the filter applies below 2.23 too');
  assert.equal(await n(`?host=${HOST}`), 4);
  assert.equal(await n('?host=elsewhere'), 0);
  assert.equal(await n(`?source_compute=${HOST}`), 4);
  assert.equal(await n('?source_compute=elsewhere'), 0);
  assert.equal(await n('?hidden=0'), 4);
  assert.equal(await n('?hidden=1'), 0, 'no record is hidden');
  assert.equal(await n(`?user_id=${alice.userId}`), 3, 'the resizes are alice’s');
  assert.equal(await n('?changes-since=2999-01-01T00:00:00Z'), 4, 'changes-since is ignored below 2.59');
  assert.equal(await n('?unknown=1', '2.1'), 4, 'the 2.1 query schema takes any parameter');
});

test('2.59: newest first, paged by uuid (migrations_links), changes-since on updated_at, a strict query', async () => {
  const old = await list('2.58');
  assert.equal(old.length, 4);
  assert.ok(old.every((m) => !('uuid' in m)));
  const all = await list('2.59');
  assert.deepEqual(
    all.map((m) => m.id),
    old.map((m) => m.id).reverse(),
    'created_at, id descending',
  );
  assert.ok(all.every((m) => /^[0-9a-f-]{36}$/.test(m.uuid)));
  // Pages of 3: a full page links to the next, the marker being its last uuid; the last page has no link.
  const p1 = await http('GET', '/os-migrations?limit=3', tAdmin, '2.59');
  assertNovaResponse('migrations', 'MigrationsController', 'index', '2.59', p1.body);
  assert.deepEqual(
    p1.body.migrations.map((m: { id: number }) => m.id),
    all.slice(0, 3).map((m) => m.id),
  );
  const next = new URL(p1.body.migrations_links[0].href);
  assert.equal(next.pathname, '/compute/v2.1/os-migrations');
  assert.equal(next.searchParams.get('marker'), all[2].uuid);
  const p2 = await http('GET', `/os-migrations?${next.searchParams}`, tAdmin, '2.59');
  assertNovaResponse('migrations', 'MigrationsController', 'index', '2.59', p2.body);
  assert.deepEqual(
    p2.body.migrations.map((m: { id: number }) => m.id),
    [all[3].id],
  );
  assert.ok(!('migrations_links' in p2.body));
  assert.deepEqual(await list('2.59', '?limit=0'), []);
  // Filters still apply with paging; the marker is any record's uuid.
  assert.deepEqual(
    (await list('2.59', `?instance_uuid=${srvA}&marker=${all[0].uuid}`)).map((m) => m.id),
    all
      .slice(1)
      .filter((m) => m.instance_uuid === srvA)
      .map((m) => m.id),
  );
  // changes-since: records updated at or after the time.
  const newest = all[0].updated_at as string;
  assert.ok(newest);
  const since = await list('2.59', `?changes-since=${encodeURIComponent(newest + 'Z')}`);
  assert.ok(since.length >= 1 && since.every((m) => m.updated_at >= newest));
  assert.deepEqual(await list('2.59', '?changes-since=2999-01-01T00:00:00Z'), []);
  // Refusals: Nova's query schema (unknown keys, repeated limit, bad values) and an unknown marker.
  const bad = async (query: string, message: string | RegExp) => {
    const r = await http('GET', `/os-migrations${query}`, tAdmin, '2.59');
    assert.equal(r.status, 400, r.text);
    if (typeof message === 'string') assert.equal(r.body.badRequest.message, message);
    else assert.match(r.body.badRequest.message, message);
  };
  await bad('?marker=00000000-0000-4000-8000-000000000000', 'Marker 00000000-0000-4000-8000-000000000000 could not be found.');
  await bad('?limit=-1', /Invalid input for query parameters limit/);
  await bad('?limit=1&limit=2', /Invalid input for query parameters limit/);
  await bad('?changes-since=yesterday', /Invalid input for query parameters changes-since/);
  await bad(`?project_id=${alice.projectId}`, /Additional properties are not allowed \('project_id' was unexpected\)/);
  await bad('?unknown=1', /Additional properties are not allowed/);
  // The CLI at 2.59 pages with --limit/--marker.
  const rows = await env.stack.oscJson<Record<string, unknown>[]>(['--os-compute-api-version', '2.59', 'server', 'migration', 'list', '--limit', '2']);
  assert.deepEqual(
    rows.map((r) => r.UUID),
    all.slice(0, 2).map((m) => m.uuid),
  );
  const more = await env.stack.oscJson<Record<string, unknown>[]>(['--os-compute-api-version', '2.59', 'server', 'migration', 'list', '--limit', '2', '--marker', all[1].uuid]);
  assert.deepEqual(
    more.map((r) => r.UUID),
    all.slice(2, 4).map((m) => m.uuid),
  );
});

computeTest('2.80')('2.80: each record names who started it (user_id, project_id) and the list filters on them', async () => {
  const old = await list('2.79');
  assert.ok(old.length > 0 && old.every((m) => !('user_id' in m) && !('project_id' in m)));
  // 2.66's strict query has no user_id or project_id.
  assert.equal((await http('GET', `/os-migrations?user_id=${alice.userId}`, tAdmin, '2.79')).status, 400);

  const all = await list('2.80');
  assert.equal(all.length, old.length);
  // Alice resized her servers; the cold migrate was the admin's.
  const byAlice = all.filter((m) => m.user_id === alice.userId);
  assert.ok(byAlice.length > 0 && byAlice.every((m) => m.project_id === alice.projectId));
  assert.ok(all.some((m) => m.user_id !== alice.userId));
  assert.deepEqual(
    (await list('2.80', `?user_id=${alice.userId}`)).map((m) => m.uuid),
    byAlice.map((m) => m.uuid),
  );
  assert.deepEqual(
    (await list('2.80', `?project_id=${alice.projectId}`)).map((m) => m.uuid),
    all.filter((m) => m.project_id === alice.projectId).map((m) => m.uuid),
  );
  // single_param: once only.
  const twice = await http('GET', `/os-migrations?user_id=${alice.userId}&user_id=x`, tAdmin, '2.80');
  assert.equal(twice.status, 400, twice.text);
  assert.match(twice.body.badRequest.message, /^Invalid input for query parameters user_id\./);
});

test('policy: a member is refused (os-migrations:index), the CLI says so', async () => {
  const r = await http('GET', '/os-migrations', tAlice, '2.23');
  assert.equal(r.status, 403);
  assert.equal(r.body.forbidden.message, "Policy doesn't allow os_compute_api:os-migrations:index to be performed.");
  const cli = await env.stack.osc(['server', 'migration', 'list'], alice);
  assert.notEqual(cli.code, 0);
  assert.match(cli.stderr, /os_compute_api:os-migrations:index/);
  // A project manager passes index but needs index:all_projects for more than its own project.
  const mgr = await env.stack.makeProjectUser('mg-m', 'mona', 'manager');
  const tMgr = await env.stack.token(mgr);
  const all = await http('GET', '/os-migrations', tMgr, '2.23');
  assert.equal(all.status, 403);
  assert.equal(all.body.forbidden.message, "Policy doesn't allow os_compute_api:os-migrations:index:all_projects to be performed.");
  // Its own project's: listed, without host fields (index:host is admin).
  const own = await list('2.23', `?project_id=${mgr.projectId}`, tMgr);
  assert.deepEqual(own, []);
});

test('a deleted server takes its migration records with it (Nova soft-deletes them)', async () => {
  await env.stack.oscOk(['server', 'delete', '--wait', srvB], alice);
  const left = await list('2.23');
  assert.equal(left.length, 3);
  assert.ok(left.every((x) => x.instance_uuid === srvA));
});
