// Block Storage microversions 3.9 and up (issue 12), each checked at the version before it and at it
// (OpenStack-API-Version: volume 3.N) over HTTP and through the real `openstack` CLI where a command
// exists, against Cinder's controllers (cinder/api/v3/) and samples, with the ARM emulator.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Stack, Creds } from '../support/stack';
import { startArmStack, waitFor, type ArmStack } from '../support/armStack';
import { assertCinderShape } from '../support/cinderShapes';

type User = Creds & { projectId: string; userId: string };
let env: ArmStack;
let stack: Stack;
let alice: User;
let bob: User;
let tA: string;
let tB: string;
let tAdmin: string;
let adminProject: string;

before(async () => {
  env = await startArmStack({ asyncDelayMs: 50 });
  stack = env.stack;
  alice = await stack.makeProjectUser('mv39-a', 'mv39alice');
  bob = await stack.makeProjectUser('mv39-b', 'mv39bob');
  [tA, tB, tAdmin] = await Promise.all([stack.token(alice), stack.token(bob), stack.token()]);
  const me = await stack.http('GET', '/identity/v3/auth/tokens', { token: tAdmin, headers: { 'X-Subject-Token': tAdmin } });
  adminProject = me.body.token.project.id;
});
after(async () => {
  await env?.stop();
});

const at = (v: string) => ({ 'OpenStack-API-Version': `volume ${v}` });
const asAlice = (v: string, method: string, p: string, body?: unknown) => stack.http(method, `/volume/v3/${alice.projectId}${p}`, { token: tA, body, headers: at(v) });
const asBob = (v: string, method: string, p: string, body?: unknown) => stack.http(method, `/volume/v3/${bob.projectId}${p}`, { token: tB, body, headers: at(v) });
const asAdmin = (v: string, method: string, p: string, body?: unknown) => stack.http(method, `/volume/v3/${adminProject}${p}`, { token: tAdmin, body, headers: at(v) });
const NO_METHOD = 'The resource could not be found.';

async function volume(name: string): Promise<any> {
  const r = await asAlice('3.0', 'POST', '/volumes', { volume: { size: 1, name } });
  assert.equal(r.status, 202, r.text);
  return waitFor(`volume ${name}`, async () => {
    const g = (await asAlice('3.0', 'GET', `/volumes/${r.body.volume.id}`)).body.volume;
    if (g.status === 'error') throw new Error(`volume ${name} error`);
    return g.status === 'available' ? g : undefined;
  });
}

test('3.9: PUT /backups/{id} updates name and description; 404 below 3.9; the CLI sets them', async () => {
  const v = await volume('bk-src');
  const c = await asAlice('3.0', 'POST', '/backups', { backup: { volume_id: v.id, name: 'bk1', description: 'first' } });
  assert.equal(c.status, 202, c.text);
  const id = c.body.backup.id as string;
  await waitFor('backup available', async () => ((await asAlice('3.0', 'GET', `/backups/${id}`)).body.backup.status === 'available' ? true : undefined), 120000);

  const old = await asAlice('3.8', 'PUT', `/backups/${id}`, { backup: { name: 'x' } });
  assert.equal(old.status, 404, old.text);
  assert.equal(old.body.itemNotFound.message, NO_METHOD);

  const r = await asAlice('3.9', 'PUT', `/backups/${id}`, { backup: { name: '  renamed ', description: 'second' } });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.body.backup, { id, name: 'renamed', links: r.body.backup.links });
  assertCinderShape('backups/v3.9/backup-update-response.json', r.body);
  let shown = (await asAlice('3.9', 'GET', `/backups/${id}`)).body.backup;
  assert.equal(shown.name, 'renamed');
  assert.equal(shown.description, 'second');
  assert.ok(shown.updated_at);
  // only the keys named change; null clears
  assert.equal((await asAlice('3.9', 'PUT', `/backups/${id}`, { backup: { description: null } })).status, 200);
  shown = (await asAlice('3.9', 'GET', `/backups/${id}`)).body.backup;
  assert.equal(shown.name, 'renamed');
  assert.equal(shown.description, null);

  // the schema (400), another project's backup (404), nothing changed
  for (const body of [{ backup: { name: 'a'.repeat(256) } }, { backup: { size: 2 } }, { name: 'x' }, { backup: 'x' }]) {
    const bad = await asAlice('3.9', 'PUT', `/backups/${id}`, body);
    assert.equal(bad.status, 400, `${JSON.stringify(body)}: ${bad.text}`);
  }
  const other = await asBob('3.9', 'PUT', `/backups/${id}`, { backup: { name: 'mine' } });
  assert.equal(other.status, 404);
  assert.equal(other.body.itemNotFound.message, `Backup ${id} could not be found.`);
  assert.equal((await asAdmin('3.9', 'PUT', `/backups/${id}`, { backup: { name: 'by-admin' } })).status, 200);
  assert.equal((await asAlice('3.9', 'GET', `/backups/${id}`)).body.backup.name, 'by-admin');

  // the CLI
  await stack.oscOk(['--os-volume-api-version', '3.9', 'volume', 'backup', 'set', '--name', 'cli-name', '--description', 'cli-desc', id], alice);
  shown = (await asAlice('3.9', 'GET', `/backups/${id}`)).body.backup;
  assert.equal(shown.name, 'cli-name');
  assert.equal(shown.description, 'cli-desc');
});

test('3.10: the group_id filter matches no volume (no generic groups); ignored below 3.10', async () => {
  const v = await volume('grp-src');
  const gid = '6b0d4b7e-2f7a-4d59-9f53-7a1c2e8d9b10';
  for (const p of ['/volumes', '/volumes/detail']) {
    const old = await asAlice('3.9', 'GET', `${p}?group_id=${gid}`);
    assert.equal(old.status, 200);
    assert.ok(
      old.body.volumes.some((x: any) => x.id === v.id),
      `${p} at 3.9 lists as if the filter were absent`,
    );
    const now = await asAlice('3.10', 'GET', `${p}?group_id=${gid}`);
    assert.equal(now.status, 200);
    assert.deepEqual(now.body.volumes, []);
    // group_id=None (IS NULL) names every volume: none is in a group
    const none = await asAlice('3.10', 'GET', `${p}?group_id=None`);
    assert.ok(none.body.volumes.some((x: any) => x.id === v.id));
  }
  const cli = await stack.oscJson(['--os-volume-api-version', '3.10', 'volume', 'list'], alice);
  assert.ok(cli.some((x: any) => x.ID === v.id));
});

test('3.11: group types and their specs; 404 below 3.11; admin writes; the CLI', async () => {
  for (const [method, p] of [
    ['GET', '/group_types'],
    ['GET', '/group_types/default'],
    ['POST', '/group_types'],
    ['GET', '/group_types/x/group_specs'],
  ] as const) {
    const r = await asAlice('3.10', method, p, method === 'POST' ? { group_type: { name: 'x' } } : undefined);
    assert.equal(r.status, 404, `${p}: ${r.text}`);
    assert.equal(r.body.itemNotFound.message, NO_METHOD);
  }
  // Cinder's seeded type; no default_group_type configured
  const l = await asAdmin('3.11', 'GET', '/group_types');
  assert.equal(l.status, 200, l.text);
  const seeded = l.body.group_types.find((t: any) => t.name === 'default_cgsnapshot_type');
  assert.deepEqual(seeded.group_specs, { consistent_group_snapshot_enabled: '<is> True' });
  assertCinderShape('group-types-list-response.json', l.body);
  const def = await asAlice('3.11', 'GET', '/group_types/default');
  assert.equal(def.status, 404);
  assert.equal(def.body.itemNotFound.message, 'Default group type can not be found.');

  // create: admin only, 202 with the show view; names unique
  assert.equal((await asAlice('3.11', 'POST', '/group_types', { group_type: { name: 'gt1' } })).status, 403);
  const c = await asAdmin('3.11', 'POST', '/group_types', { group_type: { name: 'gt1', description: 'first', group_specs: { consistent_group_snapshot_enabled: '<is> False' } } });
  assert.equal(c.status, 202, c.text);
  assertCinderShape('group-type-show-response.json', c.body);
  const id = c.body.group_type.id as string;
  const dup = await asAdmin('3.11', 'POST', '/group_types', { group_type: { name: 'gt1' } });
  assert.equal(dup.status, 409);
  assert.equal(dup.body.conflictingRequest.message, 'Group Type gt1 already exists.');
  assert.equal((await asAdmin('3.11', 'POST', '/group_types', { group_type: { name: '   ' } })).status, 400);
  // members see it without its specs; a private one not at all
  const asMember = await asAlice('3.11', 'GET', `/group_types/${id}`);
  assert.deepEqual(asMember.body.group_type, { id, name: 'gt1', description: 'first', is_public: true });
  const priv = await asAdmin('3.11', 'POST', '/group_types', { group_type: { name: 'gt-private', is_public: false } });
  assert.equal((await asAlice('3.11', 'GET', `/group_types/${priv.body.group_type.id}`)).status, 404);
  assert.ok(!(await asAlice('3.11', 'GET', '/group_types')).body.group_types.some((t: any) => t.name === 'gt-private'));
  assert.ok((await asAdmin('3.11', 'GET', '/group_types?is_public=false')).body.group_types.some((t: any) => t.name === 'gt-private'));
  assert.equal((await asAdmin('3.11', 'GET', '/group_types?is_public=maybe')).status, 400);

  // update
  assert.equal((await asAdmin('3.11', 'PUT', `/group_types/${id}`, { group_type: {} })).body.badRequest.message, 'Specify group type name, description or a combination thereof.');
  const u = await asAdmin('3.11', 'PUT', `/group_types/${id}`, { group_type: { name: 'gt1-renamed', description: 'second' } });
  assert.equal(u.status, 200, u.text);
  assert.equal(u.body.group_type.name, 'gt1-renamed');
  assert.equal((await asAdmin('3.11', 'PUT', `/group_types/${id}`, { group_type: { name: 'gt-private' } })).status, 409);
  assert.equal((await asAdmin('3.11', 'POST', '/group_types', { group_type: { name: 'gt1' } })).status, 202, 'the old name is free again');

  // specs
  const sc = await asAdmin('3.11', 'POST', `/group_types/${id}/group_specs`, { group_specs: { key1: 'value1', key2: 'value2' } });
  assert.equal(sc.status, 202, sc.text);
  assertCinderShape('group-type-specs-create-response.json', sc.body);
  const sl = await asAdmin('3.11', 'GET', `/group_types/${id}/group_specs`);
  assert.deepEqual(sl.body.group_specs, { consistent_group_snapshot_enabled: '<is> False', key1: 'value1', key2: 'value2' });
  assert.deepEqual((await asAdmin('3.11', 'GET', `/group_types/${id}/group_specs/key1`)).body, { key1: 'value1' });
  const su = await asAdmin('3.11', 'PUT', `/group_types/${id}/group_specs/key1`, { key1: 'v1b' });
  assert.equal(su.status, 200);
  assert.deepEqual(su.body, { key1: 'v1b' });
  assert.equal((await asAdmin('3.11', 'PUT', `/group_types/${id}/group_specs/key1`, { key2: 'x' })).body.badRequest.message, 'Request body and URI mismatch');
  assert.equal((await asAdmin('3.11', 'DELETE', `/group_types/${id}/group_specs/key2`)).status, 202);
  const gone = await asAdmin('3.11', 'GET', `/group_types/${id}/group_specs/key2`);
  assert.equal(gone.body.itemNotFound.message, `Group Type ${id} has no extra spec with key key2.`);
  assert.equal((await asAdmin('3.11', 'DELETE', `/group_types/${id}/group_specs/key2`)).body.itemNotFound.message, `Group Type ${id} has no specs with key key2.`);
  assert.equal((await asAlice('3.11', 'GET', `/group_types/${id}/group_specs`)).status, 403);

  // delete
  assert.equal((await asAlice('3.11', 'DELETE', `/group_types/${id}`)).status, 403);
  assert.equal((await asAdmin('3.11', 'DELETE', `/group_types/${id}`)).status, 202);
  const missing = await asAdmin('3.11', 'GET', `/group_types/${id}`);
  assert.equal(missing.body.itemNotFound.message, `Group type ${id} could not be found.`);

  // the CLI
  const made = await stack.oscJson(['--os-volume-api-version', '3.11', 'volume', 'group', 'type', 'create', '--description', 'from cli', 'gt-cli']);
  assert.equal(made.name ?? made.Name, 'gt-cli', JSON.stringify(made));
  const listed = await stack.oscJson(['--os-volume-api-version', '3.11', 'volume', 'group', 'type', 'list']);
  assert.ok(
    listed.some((t: any) => (t.Name ?? t.name) === 'gt-cli'),
    JSON.stringify(listed),
  );
  await stack.oscOk(['--os-volume-api-version', '3.11', 'volume', 'group', 'type', 'set', '--property', 'k=v', 'gt-cli']);
  const shown = await stack.oscJson(['--os-volume-api-version', '3.11', 'volume', 'group', 'type', 'show', 'gt-cli']);
  assert.match(JSON.stringify(shown), /"k": ?"v"|k='v'/);
  await stack.oscOk(['--os-volume-api-version', '3.11', 'volume', 'group', 'type', 'delete', 'gt-cli']);
  assert.ok(!(await asAdmin('3.11', 'GET', '/group_types')).body.group_types.some((t: any) => t.name === 'gt-cli'));
});

test("3.12: GET /volumes/summary counts the project's volumes (all projects for an admin's all_tenants); 404 below 3.12; the CLI", async () => {
  const old = await asAlice('3.11', 'GET', '/volumes/summary');
  assert.equal(old.status, 404);
  assert.equal(old.body.itemNotFound.message, NO_METHOD);
  await volume('sum-extra');
  const mine = (await asAlice('3.12', 'GET', '/volumes')).body.volumes as any[];
  const detail = (await asAlice('3.12', 'GET', '/volumes/detail')).body.volumes as any[];
  const r = await asAlice('3.12', 'GET', '/volumes/summary');
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.body, { 'volume-summary': { total_size: detail.reduce((n, v) => n + v.size, 0), total_count: mine.length } });
  assert.ok(r.body['volume-summary'].total_count >= 3);
  // the sample has 3.36's metadata, which 3.12 does not carry
  assertCinderShape('volumes/volumes-list-summary-response.json', r.body, { hidden: ['metadata'] });
  // members' all_tenants is dropped; another project counts its own (none)
  assert.deepEqual((await asAlice('3.12', 'GET', '/volumes/summary?all_tenants=1')).body, r.body);
  assert.deepEqual((await asBob('3.12', 'GET', '/volumes/summary')).body, { 'volume-summary': { total_size: 0, total_count: 0 } });
  // an admin's all_tenants covers every project; must be a boolean
  const all = await asAdmin('3.12', 'GET', '/volumes/summary?all_tenants=true');
  assert.ok(all.body['volume-summary'].total_count >= r.body['volume-summary'].total_count);
  const bad = await asAdmin('3.12', 'GET', '/volumes/summary?all_tenants=maybe');
  assert.equal(bad.status, 400);
  assert.equal(bad.body.badRequest.message, "Value 'maybe' for 'all_tenants' is not a boolean.");
  // the CLI
  const cli = await stack.oscJson(['--os-volume-api-version', '3.12', 'volume', 'summary'], alice);
  assert.equal(cli['Total Count'] ?? cli.total_count, r.body['volume-summary'].total_count, JSON.stringify(cli));
  assert.equal(cli['Total Size'] ?? cli.total_size, r.body['volume-summary'].total_size);
  const cliAll = await stack.oscJson(['--os-volume-api-version', '3.12', 'volume', 'summary', '--all-projects']);
  assert.equal(cliAll['Total Count'] ?? cliAll.total_count, all.body['volume-summary'].total_count, JSON.stringify(cliAll));
});
