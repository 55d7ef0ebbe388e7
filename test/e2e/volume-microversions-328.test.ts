// Block Storage microversions 3.28 to 3.30 (docs/volumes.md "Microversions"), each API at the version
// before and at it, against the ARM emulator: get_pools filters (3.28), the group snapshot list's
// filters, sort and paging (3.29), and the snapshot list's sort by name (3.30).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Stack, Creds } from '../support/stack';
import { startArmStack, waitFor, type ArmStack } from '../support/armStack';
import { reportState } from '../../shared/servicegroup/registry';
import { refused } from '../support/nova';

let env: ArmStack;
let stack: Stack;
let alice: Creds & { projectId: string; userId: string };
let tA: string;
let tAdmin: string;
let adminProject: string;

const at = (v: string) => ({ 'OpenStack-API-Version': `volume ${v}` });
const asAlice = (v: string, method: string, p: string, body?: unknown) => stack.http(method, `/volume/v3/${alice.projectId}${p}`, { token: tA, body, headers: at(v) });
const asAdmin = (v: string, method: string, p: string, body?: unknown) => stack.http(method, `/volume/v3/${adminProject}${p}`, { token: tAdmin, body, headers: at(v) });
const statusOf = (kind: string, key: string, id: string, want: string) =>
  waitFor(`${key} ${id} ${want}`, async () => ((await asAlice('3.14', 'GET', `/${kind}/${id}`)).body?.[key]?.status === want ? true : undefined), 120000);

before(async () => {
  env = await startArmStack({ asyncDelayMs: 0 });
  stack = env.stack;
  alice = await stack.makeProjectUser('mv328-a', 'mv328alice');
  [tA, tAdmin] = await Promise.all([stack.token(alice), stack.token()]);
  const me = await stack.http('GET', '/identity/v3/auth/tokens', { token: tAdmin, headers: { 'X-Subject-Token': tAdmin } });
  adminProject = me.body.token.project.id;
  // cinder-volume's heartbeat (the pools' backend_state and timestamp).
  await reportState(stack.cloud.services, 'worker', new Date(), true);
});
after(() => env?.stop());

test('3.28: get_pools filters by name and by capability (ignored below 3.28)', async () => {
  const names = async (v: string, query = '') => {
    const r = await asAdmin(v, 'GET', `/scheduler-stats/get_pools${query}`);
    assert.equal(r.status, 200, r.text);
    return (r.body.pools as { name: string }[]).map((p) => p.name);
  };
  const all = await names('3.27');
  assert.ok(all.length >= 1 && all.every((n) => n.startsWith('jacket@azure#')), all.join());
  const first = all[0];
  const sku = first.split('#')[1];
  // Below 3.28 Cinder clears the filters: every pool, whatever the query.
  assert.deepEqual(await names('3.27', '?name=nope'), all);
  assert.deepEqual(await names('3.27', '?vendor_name=nobody'), all);
  // From 3.28: the pool's name exactly; a capability as a string, a boolean or a number's text.
  assert.deepEqual(await names('3.28', `?name=${encodeURIComponent(first)}`), [first]);
  assert.deepEqual(await names('3.28', '?name=nope'), []);
  assert.deepEqual(await names('3.28', `?pool_name=${sku}`), [first]);
  assert.deepEqual(await names('3.28', '?vendor_name=Microsoft'), all);
  assert.deepEqual(await names('3.28', '?vendor_name=nobody'), []);
  assert.deepEqual(await names('3.28', '?multiattach=false&thick_provisioning_support=yes'), all);
  assert.deepEqual(await names('3.28', '?multiattach=true'), []);
  assert.deepEqual(await names('3.28', '?reserved_percentage=0&total_capacity_gb=infinite'), all);
  assert.deepEqual(await names('3.28', '?reserved_percentage=0.0'), [], 'a number compares as its text');
  // A key no capability has, or one whose capability is None, matches no pool.
  assert.deepEqual(await names('3.28', '?no_such_capability=1'), []);
  assert.deepEqual(await names('3.28', '?filter_function=None'), []);
  // volume_type is 3.35's: popped below it.
  assert.deepEqual(await names('3.28', '?volume_type=whatever'), all);
  // An empty name filters nothing (Cinder's `if name`).
  assert.deepEqual(await names('3.28', '?name='), all);
  const detailed = await asAdmin('3.28', 'GET', `/scheduler-stats/get_pools?detail=true&name=${encodeURIComponent(first)}`);
  assert.equal(detailed.body.pools.length, 1);
  assert.equal(detailed.body.pools[0].capabilities.pool_name, sku);
  await refused(asAdmin('3.28', 'GET', '/scheduler-stats/get_pools?detail=maybe'), 400, "Value 'maybe' for 'detail' is not a boolean.");
  await refused(asAlice('3.28', 'GET', '/scheduler-stats/get_pools'), 403, "Policy doesn't allow scheduler_extension:scheduler_stats:get_pools to be performed.");
  // The CLI lists the pools at 3.28 (it sends no filters).
  const cli = await stack.oscJson<{ Name: string }[]>(['--os-volume-api-version', '3.28', 'volume', 'backend', 'pool', 'list']);
  assert.deepEqual(cli.map((p) => p.Name).sort(), [...all].sort());
});

test('3.29: group snapshot lists filter, sort and page (ignored below 3.29)', async () => {
  await stack.oscJson(['--os-volume-api-version', '3.11', 'volume', 'group', 'type', 'create', 'mv329-gt']);
  const vt = ((await asAdmin('3.29', 'GET', '/types')).body.volume_types as { id: string }[])[0];
  const g = (await asAlice('3.29', 'POST', '/groups', { group: { group_type: 'mv329-gt', volume_types: [vt.id], name: 'g329' } })).body.group;
  await statusOf('groups', 'group', g.id, 'available');
  // Made b, c, a: created_at desc is a, c, b; by name a, b, c.
  const made: Record<string, string> = {};
  for (const n of ['gs-b', 'gs-c', 'gs-a']) {
    const r = await asAlice('3.29', 'POST', '/group_snapshots', { group_snapshot: { group_id: g.id, name: n } });
    assert.equal(r.status, 202, r.text);
    made[n] = r.body.group_snapshot.id;
    await statusOf('group_snapshots', 'group_snapshot', made[n], 'available');
  }
  const [a, b, c] = [made['gs-a'], made['gs-b'], made['gs-c']];
  const list = async (v: string, query: string, who = asAlice, path = '/group_snapshots') => {
    const r = await who(v, 'GET', `${path}${query}`);
    assert.equal(r.status, 200, r.text);
    return r.body as { group_snapshots: { id: string; name: string }[]; group_snapshot_links?: { rel: string; href: string }[] };
  };
  const ids = async (v: string, query: string, who = asAlice) => (await list(v, query, who)).group_snapshots.map((x) => x.id);

  // 3.28: the query reaches no database; newest first. The view still reads `limit` for its next link.
  assert.deepEqual(await ids('3.28', ''), [a, c, b]);
  assert.deepEqual(await ids('3.28', '?sort=name:asc&name=gs-b&offset=1'), [a, c, b]);
  const l28 = await list('3.28', '?limit=1');
  assert.deepEqual(
    l28.group_snapshots.map((x) => x.id),
    [a, c, b],
  );
  assert.equal(l28.group_snapshot_links?.[0].rel, 'next');
  assert.match(l28.group_snapshot_links![0].href, new RegExp(`/volume/v3/${alice.projectId}/group_snapshots\\?.*marker=${b}`));
  await refused(asAlice('3.28', 'GET', '/group_snapshots?limit=x'), 400, 'limit param must be an integer');
  assert.ok(!(await ids('3.28', '?all_tenants=1', asAdmin)).includes(a), "an admin's all_tenants widens nothing below 3.29");

  // 3.29: sort, filters, marker, offset, limit and the next link.
  assert.deepEqual(await ids('3.29', ''), [a, c, b]);
  assert.deepEqual(await ids('3.29', '?sort=name:asc'), [a, b, c]);
  assert.deepEqual(await ids('3.29', '?sort_key=name&sort_dir=desc'), [c, b, a]);
  assert.deepEqual(await ids('3.29', '?name=gs-b'), [b]);
  assert.deepEqual(await ids('3.29', `?group_id=${g.id}&status=available&sort=name:asc`), [a, b, c]);
  assert.deepEqual(await ids('3.29', '?status=error'), []);
  assert.deepEqual(await ids('3.29', '?name~=S-C'), [c], 'key~ is a LIKE');
  assert.deepEqual(await ids('3.29', `?sort=name:asc&marker=${a}`), [b, c]);
  assert.deepEqual(await ids('3.29', `?sort=name:asc&marker=${a}&offset=1`), [c]);
  const page = await list('3.29', '?sort=name:asc&limit=2', asAlice, '/group_snapshots/detail');
  assert.deepEqual(
    page.group_snapshots.map((x) => x.name),
    ['gs-a', 'gs-b'],
  );
  const next = new URL(page.group_snapshot_links![0].href);
  assert.equal(next.pathname, `/volume/v3/${alice.projectId}/group_snapshots`);
  assert.equal(next.searchParams.get('marker'), b);
  // A key that is no GroupSnapshot column: an empty list, before the sort is checked.
  assert.deepEqual(await ids('3.29', '?bogus=1'), []);
  assert.deepEqual(await ids('3.29', '?bogus=1&sort=name:up'), []);
  await refused(asAlice('3.29', 'GET', '/group_snapshots?sort=name:up'), 400, "Invalid input received: Unknown sort direction, must be 'desc' or 'asc'.");
  await refused(asAlice('3.29', 'GET', '/group_snapshots?sort=size'), 400, 'Invalid input received: Invalid sort key');
  await refused(asAlice('3.29', 'GET', '/group_snapshots?sort=name&sort_key=name'), 400, "The 'sort_key' and 'sort_dir' parameters are deprecated and cannot be used with the 'sort' parameter.");
  await refused(asAlice('3.29', 'GET', '/group_snapshots?limit=-1'), 400, 'limit param must be positive');
  await refused(asAlice('3.29', 'GET', '/group_snapshots?offset=x'), 400, 'offset must be an integer.');
  const unknown = '6f519a48-3183-46cf-a32f-41815f814546';
  await refused(asAlice('3.29', 'GET', `/group_snapshots?marker=${unknown}`), 404, `GroupSnapshot ${unknown} could not be found.`);
  // An admin's all_tenants (any value) lists every project's; project_id then filters.
  assert.ok(!(await ids('3.29', '', asAdmin)).includes(a));
  assert.deepEqual(await ids('3.29', `?all_tenants=1&project_id=${alice.projectId}&sort=name:asc`, asAdmin), [a, b, c]);
  assert.deepEqual(await ids('3.29', `?all_tenants=0&project_id=${alice.projectId}&name=gs-c`, asAdmin), [c]);
  // A member's all_tenants is dropped (Jacket's groups rule; docs/volumes.md).
  assert.deepEqual(await ids('3.29', '?all_tenants=1&sort=name:asc'), [a, b, c]);

  // The CLI: openstacksdk sends all_tenants=False on every list, which from 3.29 widens an admin's.
  const cliIds = async (v: string, who?: Creds) => (await stack.oscJson<{ ID: string }[]>(['--os-volume-api-version', v, 'volume', 'group', 'snapshot', 'list'], who)).map((x) => x.ID);
  assert.ok(!(await cliIds('3.28')).includes(a));
  assert.ok((await cliIds('3.29')).includes(a));
  assert.deepEqual((await cliIds('3.29', alice)).sort(), [a, b, c].sort());
});

test('3.30: the snapshot list sorts by name (display_name); below 3.30 the key is refused', async () => {
  const v = (await asAlice('3.0', 'POST', '/volumes', { volume: { size: 1, name: 'mv330' } })).body.volume;
  await statusOf('volumes', 'volume', v.id, 'available');
  const made: Record<string, string> = {};
  for (const n of ['snap-b', 'snap-c', 'snap-a']) {
    const r = await asAlice('3.0', 'POST', '/snapshots', { snapshot: { volume_id: v.id, name: n } });
    assert.equal(r.status, 202, r.text);
    made[n] = r.body.snapshot.id;
  }
  const names = async (ver: string, query: string, path = '/snapshots') => {
    const r = await asAlice(ver, 'GET', `${path}?volume_id=${v.id}&${query}`);
    assert.equal(r.status, 200, r.text);
    return (r.body.snapshots as { name: string }[]).map((x) => x.name);
  };
  const invalid = 'Invalid input received: Invalid sort key';
  await refused(asAlice('3.29', 'GET', `/snapshots?volume_id=${v.id}&sort=name:asc`), 400, invalid);
  await refused(asAlice('3.29', 'GET', `/snapshots/detail?volume_id=${v.id}&sort_key=name`), 400, invalid);
  await refused(asAlice('3.0', 'GET', `/snapshots?sort=status,name`), 400, invalid);
  // display_name is the column itself, sortable at every version.
  assert.deepEqual(await names('3.29', 'sort=display_name:asc'), ['snap-a', 'snap-b', 'snap-c']);
  assert.deepEqual(await names('3.30', 'sort=name:asc'), ['snap-a', 'snap-b', 'snap-c']);
  assert.deepEqual(await names('3.30', 'sort_key=name', '/snapshots/detail'), ['snap-c', 'snap-b', 'snap-a']);
  assert.deepEqual(await names('3.30', 'sort=name:desc&limit=1&offset=1'), ['snap-b']);
  assert.deepEqual(await names('3.30', ''), ['snap-a', 'snap-c', 'snap-b'], 'created_at desc without a sort');
});
