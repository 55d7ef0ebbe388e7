// Block Storage microversions 3.31 (generic resource filters: a member's unknown filter is a 400 on
// every list), 3.33 (GET /resource_filters), 3.34 (LIKE filters configured as `key~`), 3.35 (the pool
// list's volume_type) and 3.45 (with_count), each at the version before and at it, against the ARM
// emulator (docs/volumes.md "Microversions", "Resource filters"). The cloud runs with an operator's
// filter configuration that differs from Cinder's shipped file for snapshots only (`name~` in place of
// `name`), so the shipped file is checked on every other resource and the LIKE rules on snapshots.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Stack, Creds } from '../support/stack';
import { startArmStack, waitFor, type ArmStack } from '../support/armStack';
import { volumeTest } from '../support/advertised';
import { reportState } from '../../shared/servicegroup/registry';
import { DEFAULT_RESOURCE_FILTERS } from '../../shared/volume/filters';
import { refused } from '../support/nova';

const SNAPSHOT_FILTERS = ['name~', 'status', 'volume_id', 'metadata', 'availability_zone', 'consumes_quota'];
const CATALOG = { resource_filters: { ...DEFAULT_RESOURCE_FILTERS, snapshot: SNAPSHOT_FILTERS } };

let env: ArmStack;
let stack: Stack;
let alice: Creds & { projectId: string; userId: string };
let tA: string;
let tAdmin: string;
let adminProject: string;
const vols: Record<string, string> = {};
let snap: string;
let backup: string;

const at = (v: string) => ({ 'OpenStack-API-Version': `volume ${v}` });
const asAlice = (v: string, method: string, p: string, body?: unknown) => stack.http(method, `/volume/v3/${alice.projectId}${p}`, { token: tA, body, headers: at(v) });
const asAdmin = (v: string, method: string, p: string, body?: unknown) => stack.http(method, `/volume/v3/${adminProject}${p}`, { token: tAdmin, body, headers: at(v) });
/** The ids a list answers (200 expected), by its collection key. */
async function ids(r: Promise<{ status: number; body: Record<string, unknown>; text: string }>, key: string): Promise<string[]> {
  const x = await r;
  assert.equal(x.status, 200, x.text);
  return (x.body[key] as { id: string }[]).map((i) => i.id).sort();
}
const statusOf = (kind: string, key: string, id: string, want: string) =>
  waitFor(`${key} ${id} ${want}`, async () => ((await asAlice('3.30', 'GET', `/${kind}/${id}`)).body?.[key]?.status === want ? true : undefined), 120000);

before(async () => {
  env = await startArmStack({ asyncDelayMs: 0, settings: { JACKET_CATALOG: JSON.stringify(CATALOG) } });
  stack = env.stack;
  alice = await stack.makeProjectUser('mv331-a', 'mv331alice');
  [tA, tAdmin] = await Promise.all([stack.token(alice), stack.token()]);
  const me = await stack.http('GET', '/identity/v3/auth/tokens', { token: tAdmin, headers: { 'X-Subject-Token': tAdmin } });
  adminProject = me.body.token.project.id;
  await reportState(stack.cloud.services, 'worker', new Date(), true);
  for (const name of ['alpha-one', 'alpha-two', 'beta']) {
    const r = await asAlice('3.30', 'POST', '/volumes', { volume: { size: 1, name } });
    assert.equal(r.status, 202, r.text);
    vols[name] = r.body.volume.id;
  }
  for (const id of Object.values(vols)) await statusOf('volumes', 'volume', id, 'available');
  const s = await asAlice('3.30', 'POST', '/snapshots', { snapshot: { volume_id: vols.beta, name: 'snap-beta' } });
  assert.equal(s.status, 202, s.text);
  snap = s.body.snapshot.id;
  await statusOf('snapshots', 'snapshot', snap, 'available');
  const b = await asAlice('3.30', 'POST', '/backups', { backup: { volume_id: vols['alpha-one'], name: 'bk-alpha' } });
  assert.equal(b.status, 202, b.text);
  backup = b.body.backup.id;
  await statusOf('backups', 'backup', backup, 'available');
});
after(() => env?.stop());

volumeTest('3.31')('3.31: a member filter outside the configured ones is a 400 on every list; admins pass (but for pools)', async () => {
  const all = Object.values(vols).sort();
  // 3.30: the volume list drops a member's unknown filter (remove_invalid_filter_options).
  assert.deepEqual(await ids(asAlice('3.30', 'GET', '/volumes?foo=bar'), 'volumes'), all);
  await refused(asAlice('3.31', 'GET', '/volumes?foo=bar'), 400, 'Invalid filters foo are found in query options.');
  await refused(asAlice('3.31', 'GET', '/volumes/detail?foo=1&status=available&bar=2'), 400, 'Invalid filters foo,bar are found in query options.');
  // glance_metadata is no member filter in the shipped file: dropped below 3.31, refused from it.
  assert.deepEqual(await ids(asAlice('3.30', 'GET', '/volumes?glance_metadata={}'), 'volumes'), all);
  await refused(asAlice('3.31', 'GET', "/volumes?glance_metadata={'a':'b'}"), 400, 'Invalid filters glance_metadata are found in query options.');
  // all_tenants is never held against a member (cinderclient sends it): dropped, the project's list.
  assert.deepEqual(await ids(asAlice('3.31', 'GET', '/volumes?all_tenants=1'), 'volumes'), all);
  // Configured filters work as before; paging and sort keys are no filters.
  assert.deepEqual(await ids(asAlice('3.31', 'GET', '/volumes?name=beta&limit=5&sort=name:asc&offset=0'), 'volumes'), [vols.beta]);
  // Keys must be ASCII, for admins too.
  await refused(asAdmin('3.31', 'GET', `/volumes?${encodeURIComponent('näme')}=x`), 400, 'Filter keys can only contain ASCII characters.');
  // An admin's unknown key reaches the database: no such column, no volumes.
  assert.deepEqual(await ids(asAdmin('3.31', 'GET', `/volumes?all_tenants=1&project_id=${alice.projectId}&foo=bar`), 'volumes'), []);

  // The other lists, each by its resource's configured filters.
  assert.deepEqual(await ids(asAlice('3.30', 'GET', '/snapshots?foo=bar'), 'snapshots'), [snap]);
  await refused(asAlice('3.31', 'GET', '/snapshots?foo=bar'), 400, 'Invalid filters foo are found in query options.');
  assert.deepEqual(await ids(asAlice('3.30', 'GET', '/backups?foo=bar'), 'backups'), [backup]);
  await refused(asAlice('3.31', 'GET', '/backups/detail?foo=bar'), 400, 'Invalid filters foo are found in query options.');
  assert.deepEqual(await ids(asAlice('3.31', 'GET', `/backups?volume_id=${vols['alpha-one']}`), 'backups'), [backup]);
  assert.equal((await asAlice('3.30', 'GET', '/attachments?foo=bar')).status, 200);
  await refused(asAlice('3.31', 'GET', '/attachments?foo=bar'), 400, 'Invalid filters foo are found in query options.');
  assert.equal((await asAlice('3.31', 'GET', `/attachments?volume_id=${vols.beta}`)).status, 200);
  // Groups: the shipped file lets members filter by name only.
  assert.equal((await asAlice('3.30', 'GET', '/groups?status=available')).status, 200);
  await refused(asAlice('3.31', 'GET', '/groups?status=available'), 400, 'Invalid filters status are found in query options.');
  assert.equal((await asAlice('3.31', 'GET', '/groups/detail?name=x&list_volume=true')).status, 200);
  assert.equal((await asAdmin('3.31', 'GET', '/groups?status=available')).status, 200);
  await refused(asAlice('3.31', 'GET', '/group_snapshots?group_type_id=x'), 400, 'Invalid filters group_type_id are found in query options.');
  assert.equal((await asAlice('3.31', 'GET', '/group_snapshots?status=available')).status, 200);
  assert.deepEqual(await ids(asAlice('3.30', 'GET', '/messages?foo=bar'), 'messages'), []);
  await refused(asAlice('3.31', 'GET', '/messages?foo=bar'), 400, 'Invalid filters foo are found in query options.');
  assert.equal((await asAlice('3.31', 'GET', '/messages?event_id=VOLUME_000001')).status, 200);
  // Pools: admins are checked too (name and volume_type only); capability filters end at 3.31.
  const pools = async (v: string, q: string) => {
    const r = await asAdmin(v, 'GET', `/scheduler-stats/get_pools${q}`);
    assert.equal(r.status, 200, r.text);
    return (r.body.pools as { name: string }[]).map((p) => p.name);
  };
  const every = await pools('3.30', '');
  assert.deepEqual(await pools('3.30', '?vendor_name=Microsoft'), every);
  await refused(asAdmin('3.31', 'GET', '/scheduler-stats/get_pools?vendor_name=Microsoft'), 400, 'Invalid filters vendor_name are found in query options.');
  assert.deepEqual(await pools('3.31', `?detail=true&name=${encodeURIComponent(every[0])}&all_tenants=1`), [every[0]]);

  // The CLI lists at 3.31 (the SDK sends all_tenants; a member's is dropped) and filters by name.
  const cli = await stack.oscJson<{ ID: string }[]>(['--os-volume-api-version', '3.31', 'volume', 'list', '--name', 'beta'], alice);
  assert.deepEqual(
    cli.map((v) => v.ID),
    [vols.beta],
  );
});

volumeTest('3.31')('3.31: the volume filters below 3.31 popped by version now apply: created_at/updated_at comparisons and consumes_quota', async () => {
  const all = Object.values(vols).sort();
  const beta = (await asAlice('3.31', 'GET', `/volumes/${vols.beta}`)).body.volume;
  const t = String(beta.created_at);
  // 3.30: popped below 3.60 (ignored); 3.31: compared.
  assert.deepEqual(await ids(asAlice('3.30', 'GET', `/volumes?created_at=gt:${t}`), 'volumes'), all);
  assert.deepEqual(await ids(asAlice('3.31', 'GET', `/volumes?created_at=gte:${t}`), 'volumes'), [vols.beta]);
  assert.deepEqual(await ids(asAlice('3.31', 'GET', `/volumes?created_at=lt:${t}`), 'volumes'), [vols['alpha-one'], vols['alpha-two']].sort());
  assert.deepEqual(await ids(asAlice('3.31', 'GET', '/volumes?created_at=gt:2000-01-01T00:00:00Z'), 'volumes'), all);
  // The comparisons are ORed, as the database does.
  assert.deepEqual(await ids(asAlice('3.31', 'GET', `/volumes?created_at=lt:2000-01-01,gte:${t}`), 'volumes'), [vols.beta]);
  assert.deepEqual(await ids(asAlice('3.31', 'GET', '/volumes?updated_at=lt:2000-01-01'), 'volumes'), []);
  await refused(asAlice('3.31', 'GET', '/volumes?created_at=after:2020-01-01'), 400, 'Invalid after operator');
  await refused(asAlice('3.31', 'GET', '/volumes?created_at=2020-01-01'), 400, 'Invalid 2020-01-01 operator');
  await refused(asAlice('3.31', 'GET', '/volumes?created_at=gt:yesterday'), 400, 'Invalid yesterday value');
  // consumes_quota (use_quota): every Jacket volume and snapshot counts against quota.
  assert.deepEqual(await ids(asAlice('3.31', 'GET', '/volumes?consumes_quota=true'), 'volumes'), all);
  assert.deepEqual(await ids(asAlice('3.31', 'GET', '/volumes?consumes_quota=false'), 'volumes'), []);
  await refused(asAlice('3.31', 'GET', '/volumes?consumes_quota=maybe'), 400, "Value 'maybe' for 'use_quota' is not a boolean.");
  assert.deepEqual(await ids(asAlice('3.31', 'GET', '/snapshots?consumes_quota=false'), 'snapshots'), []);
});

volumeTest('3.33')('3.33: GET /resource_filters shows the configured filters (404 below 3.33)', async () => {
  await refused(asAlice('3.32', 'GET', '/resource_filters'), 404, 'The resource could not be found.');
  const r = await asAlice('3.33', 'GET', '/resource_filters');
  assert.equal(r.status, 200, r.text);
  const got = Object.fromEntries((r.body.resource_filters as { resource: string; filters: string[] }[]).map((x) => [x.resource, x.filters]));
  assert.deepEqual(got, { ...DEFAULT_RESOURCE_FILTERS, snapshot: SNAPSHOT_FILTERS });
  assert.deepEqual(Object.keys(r.body.resource_filters[0]).sort(), ['filters', 'resource'], "the sample's shape");
  const one = await asAlice('3.33', 'GET', '/resource_filters?resource=volume');
  assert.deepEqual(one.body, { resource_filters: [{ resource: 'volume', filters: DEFAULT_RESOURCE_FILTERS.volume }] });
  assert.deepEqual((await asAlice('3.33', 'GET', '/resource_filters?resource=nope')).body, { resource_filters: [] });
  // The CLI's `block storage resource filter list`.
  const cli = await stack.oscJson<{ Resource: string; Filters: unknown }[]>(['--os-volume-api-version', '3.33', 'block', 'storage', 'resource', 'filter', 'list'], alice);
  assert.deepEqual(cli.map((x) => x.Resource).sort(), Object.keys(got).sort());
});

volumeTest('3.34')('3.34: a filter configured as `key~` allows both key and key~ (LIKE); admins LIKE any column', async () => {
  // Snapshots are configured with `name~` only: below 3.34 `name~` itself is configured, `name` is not.
  await refused(asAlice('3.33', 'GET', '/snapshots?name=snap-beta'), 400, 'Invalid filters name are found in query options.');
  assert.deepEqual(await ids(asAlice('3.33', 'GET', '/snapshots?name~=BETA'), 'snapshots'), [snap]);
  assert.deepEqual(await ids(asAlice('3.34', 'GET', '/snapshots?name=snap-beta'), 'snapshots'), [snap]);
  assert.deepEqual(await ids(asAlice('3.34', 'GET', '/snapshots?name~=snap_b%25a'), 'snapshots'), [snap], "LIKE's own wildcards");
  assert.deepEqual(await ids(asAlice('3.34', 'GET', '/snapshots?name~=alpha'), 'snapshots'), []);
  // Volumes keep the shipped file: `name~` is no member filter at any version.
  await refused(asAlice('3.34', 'GET', '/volumes?name~=alpha'), 400, 'Invalid filters name~ are found in query options.');
  // An admin's `name~` is the display name's LIKE from 3.31 (ignored below: the model's property).
  const wide = `all_tenants=1&project_id=${alice.projectId}`;
  assert.deepEqual(await ids(asAdmin('3.34', 'GET', `/volumes?${wide}&name~=ALPHA`), 'volumes'), [vols['alpha-one'], vols['alpha-two']].sort());
  assert.deepEqual(await ids(asAdmin('3.30', 'GET', `/volumes?${wide}&name~=ALPHA`), 'volumes'), Object.values(vols).sort());
  assert.deepEqual(await ids(asAdmin('3.34', 'GET', `/backups?all_tenants=1&name~=bk-`), 'backups'), [backup]);
});

volumeTest('3.35')('3.35: the pool list filters by volume type (popped below 3.35)', async () => {
  const ssd = await asAdmin('3.35', 'POST', '/types', { volume_type: { name: 'mv335-ssd', extra_specs: { 'azure:sku': 'Premium_LRS' } } });
  assert.equal(ssd.status, 200, ssd.text);
  const names = async (v: string, q: string) => {
    const r = await asAdmin(v, 'GET', `/scheduler-stats/get_pools${q}`);
    assert.equal(r.status, 200, r.text);
    return (r.body.pools as { name: string }[]).map((p) => p.name);
  };
  const every = await names('3.34', '');
  assert.ok(every.includes('jacket@azure#Premium_LRS'), every.join());
  assert.deepEqual(await names('3.34', '?volume_type=mv335-ssd'), every);
  assert.deepEqual(await names('3.35', '?volume_type=mv335-ssd'), ['jacket@azure#Premium_LRS']);
  assert.deepEqual(await names('3.35', `?volume_type=${ssd.body.volume_type.id}`), ['jacket@azure#Premium_LRS']);
  assert.deepEqual(await names('3.35', `?volume_type=mv335-ssd&name=${encodeURIComponent(every.find((n) => !n.endsWith('Premium_LRS'))!)}`), []);
  await refused(asAdmin('3.35', 'GET', '/scheduler-stats/get_pools?volume_type=nope'), 404, 'Volume type with name nope could not be found.');
  const cli = await stack.oscJson<{ Name: string }[]>(['--os-volume-api-version', '3.35', 'volume', 'backend', 'pool', 'list']);
  assert.deepEqual(cli.map((p) => p.Name).sort(), [...every].sort());
});

volumeTest('3.45')('3.45: with_count counts the filtered list before paging (a filter below 3.45)', async () => {
  // 3.44: with_count is a filter: a member's is refused (3.31), an admin's names no column.
  await refused(asAlice('3.44', 'GET', '/volumes?with_count=true'), 400, 'Invalid filters with_count are found in query options.');
  assert.deepEqual(await ids(asAdmin('3.44', 'GET', `/volumes?all_tenants=1&project_id=${alice.projectId}&with_count=true`), 'volumes'), []);
  const r = await asAlice('3.45', 'GET', '/volumes?with_count=true&limit=1');
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.volumes.length, 1);
  assert.equal(r.body.count, 3);
  assert.ok(r.body.volumes_links, 'the next link still there');
  const d = await asAlice('3.45', 'GET', '/volumes/detail?with_count=1&name=beta');
  assert.equal(d.body.count, 1);
  assert.equal((await asAlice('3.45', 'GET', '/volumes?with_count=false')).body.count, undefined);
  assert.equal((await asAlice('3.45', 'GET', '/volumes')).body.count, undefined);
  await refused(asAlice('3.45', 'GET', '/volumes?with_count=maybe'), 400, "Value 'maybe' for 'with_count' is not a boolean.");
  assert.equal((await asAlice('3.45', 'GET', '/snapshots/detail?with_count=true')).body.count, 1);
  assert.equal((await asAlice('3.45', 'GET', '/backups?with_count=true&status=error')).body.count, 0);
  assert.equal((await asAlice('3.45', 'GET', '/backups/detail?with_count=true')).body.count, 1);
});
