// Identity through the real `openstack` CLI and plain HTTP, against Azurite and the local host.
import { randomUUID } from 'node:crypto';
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { COMPUTE, PLACEMENT, VOLUME } from '../../shared/api/microversion';
import { startStack, type Stack, type Creds } from '../support/stack';
import { assertNovaResponse } from '../support/oracle';

let stack: Stack;
let alice: Creds & { projectId: string; userId: string };
let bob: Creds & { projectId: string; userId: string };

before(async () => {
  stack = await startStack();
  alice = await stack.makeProjectUser('project-a', 'alice');
  bob = await stack.makeProjectUser('project-b', 'bob');
});
after(() => stack?.stop());

test('openstack token issue gives a project-scoped token', async () => {
  const t = await stack.oscJson(['token', 'issue'], alice);
  assert.equal(t.project_id, alice.projectId);
  assert.equal(t.user_id, alice.userId);
  const expires = new Date(t.expires).getTime();
  assert.ok(expires > Date.now() + 55 * 60 * 1000 && expires <= Date.now() + 61 * 60 * 1000, `expiry ${t.expires} is about an hour away`);
});

test('openstack catalog list shows identity, compute and volumev3 endpoints', async () => {
  const cat = await stack.oscJson<{ Name: string; Type: string; Endpoints: unknown }[]>(['catalog', 'list'], alice);
  const types = cat.map((c) => c.Type).sort();
  assert.deepEqual(types, ['compute', 'identity', 'image', 'network', 'placement', 'volumev3']);
  const vol = JSON.stringify(cat.find((c) => c.Type === 'volumev3')!.Endpoints);
  assert.ok(vol.includes(`${stack.url}/volume/v3/${alice.projectId}`), vol);
  const compute = JSON.stringify(cat.find((c) => c.Type === 'compute')!.Endpoints);
  for (const iface of ['public', 'internal', 'admin']) assert.ok(compute.includes(iface), `compute has a ${iface} endpoint`);
});

test('openstack versions show lists the versions each API advertises', async () => {
  const v = await stack.oscJson<Record<string, string>[]>(['versions', 'show'], alice);
  const byType = new Map(v.map((r) => [r['Service Type'], r]));
  // The advertised range is one constant per API (shared/api/microversion.ts).
  assert.equal(byType.get('compute')?.['Max Microversion'], COMPUTE.max);
  assert.equal(byType.get('compute')?.['Min Microversion'], COMPUTE.min);
  assert.equal(byType.get('block-storage')?.['Max Microversion'], VOLUME.max);
  assert.equal(byType.get('placement')?.['Max Microversion'], PLACEMENT.max);
  assert.equal(byType.get('identity')?.Version, '3.14');
});

test('project, user and role admin through the CLI, and the new user can log in', async () => {
  const p = await stack.oscJson(['project', 'create', '--description', 'CLI made', 'cli-project']);
  assert.equal(p.name, 'cli-project');
  assert.equal(p.description, 'CLI made');
  const u = await stack.oscJson(['user', 'create', '--project', 'cli-project', '--password', 'Carol-pass-1', 'carol']);
  assert.equal(u.name, 'carol');
  assert.equal(u.default_project_id, p.id);
  assert.ok(!('password' in u), 'no password in the response');
  await stack.oscOk(['role', 'add', '--project', 'cli-project', '--user', 'carol', 'member']);
  const assignments = await stack.oscJson<{ Role: string; User: string; Project: string }[]>(['role', 'assignment', 'list', '--names', '--user', 'carol']);
  assert.deepEqual(
    assignments.map((a) => [a.Role, a.User, a.Project]),
    [['member', 'carol@Default', 'cli-project@Default']],
  );
  const t = await stack.oscJson(['token', 'issue'], { username: 'carol', password: 'Carol-pass-1', project: 'cli-project' });
  assert.equal(t.project_id, p.id);
  // duplicate names conflict, as in Keystone
  const dup = await stack.osc(['project', 'create', 'cli-project']);
  assert.notEqual(dup.code, 0);
  assert.match(dup.stderr, /409.*Duplicate entry found with name cli-project/);
  const roles = await stack.oscJson<{ Name: string }[]>(['role', 'list']);
  assert.deepEqual(roles.map((r) => r.Name).sort(), ['admin', 'manager', 'member', 'reader', 'service']);
});

test("bootstrap makes keystone-manage bootstrap's roles, and tokens carry the roles they imply", async () => {
  const admin = await stack.token();
  const list = await stack.http('GET', '/identity/v3/roles', { token: admin });
  assert.equal(list.status, 200);
  const ids = new Map<string, string>(list.body.roles.map((r: { name: string; id: string }) => [r.name, r.id]));
  assert.deepEqual([...ids.keys()].sort(), ['admin', 'manager', 'member', 'reader', 'service']);
  const rolesOf = async (token: string) => {
    const v = await stack.http('GET', '/identity/v3/auth/tokens', { token, headers: { 'X-Subject-Token': token } });
    assert.equal(v.status, 200);
    const roles = v.body.token.roles as { id: string; name: string }[];
    for (const r of roles) assert.equal(r.id, ids.get(r.name), `${r.name} has its own id`);
    return roles.map((r) => r.name).sort();
  };
  // admin implies manager implies member implies reader (keystone/cmd/bootstrap.py)
  assert.deepEqual(await rolesOf(admin), ['admin', 'manager', 'member', 'reader']);
  const mgr = await stack.makeProjectUser('project-m', 'mona', 'manager');
  const tm = await stack.token(mgr);
  assert.deepEqual(await rolesOf(tm), ['manager', 'member', 'reader']);
  // a manager is a member: it may create in its project (project_member_or_admin)
  const kp = await stack.http('POST', '/compute/v2.1/os-keypairs', { token: tm, body: { keypair: { name: 'mona-key' } } });
  assert.equal(kp.status, 200, kp.text);
  const svc = await stack.makeProjectUser('project-s', 'sven', 'service');
  assert.deepEqual(await rolesOf(await stack.token(svc)), ['service']);
  // the roles the policies name cannot be deleted
  const del = await stack.http('DELETE', `/identity/v3/roles/${ids.get('manager')}`, { token: admin });
  assert.equal(del.status, 403);
});

test('an unscoped token carries no catalog, and /auth/catalog refuses it as Keystone does', async () => {
  const auth = { identity: { methods: ['password'], password: { user: { name: 'alice', domain: { id: 'default' }, password: alice.password } } }, scope: 'unscoped' };
  const r = await stack.http('POST', '/identity/v3/auth/tokens', { body: { auth } });
  assert.equal(r.status, 201);
  const t = r.headers.get('x-subject-token')!;
  // keystone-v3-samples/admin/auth-password-unscoped-response.json: these keys and no others
  assert.deepEqual(Object.keys(r.body.token).sort(), ['audit_ids', 'expires_at', 'issued_at', 'methods', 'user']);
  const v = await stack.http('GET', '/identity/v3/auth/tokens', { token: t, headers: { 'X-Subject-Token': t } });
  assert.equal(v.status, 200);
  assert.ok(!('catalog' in v.body.token), 'validation renders no catalog either');
  const c = await stack.http('GET', '/identity/v3/auth/catalog', { token: t });
  assert.equal(c.status, 403);
  assert.equal(c.body.error.message, 'A project-scoped token is required to produce a service catalog.');
  // a scoped token gets the catalog, with Keystone's one self link
  const scoped = await stack.token(alice);
  const ok = await stack.http('GET', '/identity/v3/auth/catalog', { token: scoped });
  assert.equal(ok.status, 200);
  assert.deepEqual(ok.body.links, { self: `${stack.url}/identity/v3/auth/catalog` });
  assert.deepEqual(ok.body.catalog.map((e: { type: string }) => e.type).sort(), ['compute', 'identity', 'image', 'network', 'placement', 'volumev3']);
});

test('a bad password gets 401', async () => {
  const r = await stack.osc(['token', 'issue'], { ...alice, password: 'wrong-password' });
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /HTTP 401/);
  const h = await stack.http('POST', '/identity/v3/auth/tokens', {
    body: { auth: { identity: { methods: ['password'], password: { user: { name: 'alice', domain: { id: 'default' }, password: 'nope' } } } } },
  });
  assert.equal(h.status, 401);
  assert.deepEqual(Object.keys(h.body.error).sort(), ['code', 'message', 'title']);
  assert.equal(h.body.error.code, 401);
  assert.equal(h.headers.get('x-subject-token'), null);
});

test('a token of project A cannot read project B or act as admin', async () => {
  const r = await stack.osc(['project', 'show', bob.projectId], alice);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /403.*You are not authorized to perform the requested action/);
  const own = await stack.oscJson(['project', 'show', alice.projectId], alice);
  assert.equal(own.id, alice.projectId);
  const tA = await stack.token(alice);
  const tB = await stack.token(bob);
  // alice may not validate bob's token, nor list projects or create users
  assert.equal((await stack.http('GET', '/identity/v3/auth/tokens', { token: tA, headers: { 'X-Subject-Token': tB } })).status, 403);
  assert.equal((await stack.http('GET', '/identity/v3/projects', { token: tA })).status, 403);
  const denied = await stack.http('POST', '/identity/v3/users', { token: tA, body: { user: { name: 'mallory' } } });
  assert.equal(denied.status, 403);
  assert.equal(denied.body.error.title, 'Forbidden');
  // and nothing was created
  const admin = await stack.token();
  const users = await stack.http('GET', '/identity/v3/users?name=mallory', { token: admin });
  assert.deepEqual(users.body.users, []);
  // alice's token lists only her project
  const mine = await stack.http('GET', '/identity/v3/auth/projects', { token: tA });
  assert.deepEqual(
    mine.body.projects.map((p: { id: string }) => p.id),
    [alice.projectId],
  );
});

test('token validate, check and revoke (openstack token revoke)', async () => {
  const t = await stack.oscJson(['token', 'issue'], alice);
  const v = await stack.http('GET', '/identity/v3/auth/tokens', { token: t.id, headers: { 'X-Subject-Token': t.id } });
  assert.equal(v.status, 200);
  assert.equal(v.body.token.project.id, alice.projectId);
  assert.deepEqual(v.body.token.roles.map((r: { name: string }) => r.name).sort(), ['member', 'reader']);
  assert.equal((await stack.http('HEAD', '/identity/v3/auth/tokens', { token: t.id, headers: { 'X-Subject-Token': t.id } })).status, 200);
  await stack.oscOk(['token', 'revoke', t.id]);
  const after = await stack.http('GET', '/identity/v3/auth/projects', { token: t.id });
  assert.equal(after.status, 401);
  assert.match(after.headers.get('www-authenticate') ?? '', /^Keystone uri=/);
  // A GET's reads start beside the revocation check (shared/http/pipeline.ts): whatever they come to (a
  // page, a 404, a policy 403, a wrong project in the URL), a revoked token's answer is its 401 alone.
  for (const p of ['/compute/v2.1/servers/detail', `/compute/v2.1/servers/${randomUUID()}`, '/compute/v2.1/os-hypervisors', `/volume/v3/${randomUUID()}/volumes`]) {
    const r = await stack.http('GET', p, { token: t.id });
    assert.equal(r.status, 401, p);
    assert.deepEqual(Object.keys(r.body), ['error'], p);
  }
  const post = await stack.http('POST', '/compute/v2.1/os-keypairs', { token: t.id, body: { keypair: { name: 'after-revoke' } } });
  assert.equal(post.status, 401);
});

test("removing a role ends the user's tokens on that project", async () => {
  const dave = await stack.makeProjectUser('project-d', 'dave');
  const t = await stack.token(dave);
  assert.equal((await stack.http('GET', '/identity/v3/auth/projects', { token: t })).status, 200);
  await stack.oscOk(['role', 'remove', '--project', 'project-d', '--user', 'dave', 'member']);
  assert.equal((await stack.http('GET', '/identity/v3/auth/projects', { token: t })).status, 401);
  const again = await stack.osc(['token', 'issue'], dave);
  assert.notEqual(again.code, 0, 'no roles left on the project: no scoped token');
});

test("version documents match Nova's own response schemas", async () => {
  const list = await stack.http('GET', '/compute');
  assert.equal(list.status, 200);
  assertNovaResponse('versions', 'Versions', 'index', '2.1', list.body);
  const show = await stack.http('GET', '/compute/v2.1');
  assert.equal(show.status, 200);
  assertNovaResponse('versions', 'VersionsV2', 'index', '2.1', show.body);
  assert.equal(show.headers.get('openstack-api-version'), 'compute 2.1');
  assert.equal(show.headers.get('x-openstack-nova-api-version'), '2.1');
  assert.ok(show.headers.get('x-compute-request-id')?.startsWith('req-'));
  const vol = await stack.http('GET', '/volume/v3');
  assert.equal(vol.body.versions[0].id, 'v3.0');
  assert.equal(vol.headers.get('openstack-api-version'), 'volume 3.0');
  const bad = await stack.http('GET', '/compute/v2.1', { headers: { 'OpenStack-API-Version': 'compute 2.999' } });
  assert.equal(bad.status, 406);
  assert.equal(bad.body.notAcceptable.code, 406);
});
