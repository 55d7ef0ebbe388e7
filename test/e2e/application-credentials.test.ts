// Keystone application credentials (issue 12): create/list/show/delete through the real CLI and the
// API, the CLI authenticating with OS_AUTH_TYPE=v3applicationcredential, the token a credential gives,
// restricted credentials, expiry, cross-user isolation, the credential's end with its user or role,
// and the secret never shown again nor logged.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, type Stack, type Creds } from '../support/stack';
import { log } from '../../shared/log';

let stack: Stack;
let alice: Creds & { projectId: string; userId: string };
let bob: Creds & { projectId: string; userId: string };
const logLines: string[] = [];
const secrets: string[] = [];

before(async () => {
  // Every log line the stack writes, at every level, to look for secrets in at the end.
  log.setLevel('debug');
  log.setSink((l) => logLines.push(l));
  stack = await startStack({ settings: { JACKET_REGIONAL_USAGE: 'off' } });
  alice = await stack.makeProjectUser('ac-project-a', 'ac-alice');
  bob = await stack.makeProjectUser('ac-project-b', 'ac-bob');
});
after(async () => {
  await stack?.stop();
  log.setSink((l) => process.stdout.write(l + '\n'));
  log.setLevel('silent');
});

const V3 = '/identity/v3';
const authByAppCred = (ac: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  stack.http('POST', `${V3}/auth/tokens`, { body: { auth: { identity: { methods: ['application_credential'], application_credential: ac }, ...extra } } });

async function create(who: Creds, userId: string, body: Record<string, unknown>) {
  return stack.http('POST', `${V3}/users/${userId}/application_credentials`, { token: await stack.token(who), body: { application_credential: body } });
}

test('openstack application credential create/list/show, then the CLI authenticating with it, then delete', async () => {
  const made = await stack.oscJson<Record<string, any>>(['application', 'credential', 'create', 'ci', '--description', 'CI runner'], alice);
  assert.equal(made.Name, 'ci');
  assert.equal(made['Project ID'], alice.projectId);
  assert.equal(made.Unrestricted, false);
  assert.equal(made.Description, 'CI runner');
  assert.deepEqual(made['Access Rules'], []);
  // Keystone's generated secret: 64 random bytes, URL-safe base64 without padding.
  assert.match(made.Secret, /^[A-Za-z0-9_-]{86}$/);
  secrets.push(made.Secret);
  // Defaults to every role of the token: member and the reader it implies.
  assert.deepEqual(made.Roles.map((r: { name: string; domain_id: null }) => [r.name, r.domain_id]).sort(), [
    ['member', null],
    ['reader', null],
  ]);

  const listed = await stack.oscJson<Record<string, any>[]>(['application', 'credential', 'list'], alice);
  assert.deepEqual(
    listed.map((c) => c.Name),
    ['ci'],
  );
  const shown = await stack.oscJson<Record<string, any>>(['application', 'credential', 'show', 'ci'], alice);
  assert.equal(shown.ID, made.ID);
  assert.equal(shown.Secret, undefined);

  const ac = { applicationCredentialId: made.ID, applicationCredentialSecret: made.Secret };
  const tok = await stack.oscJson<Record<string, any>>(['token', 'issue'], ac);
  assert.equal(tok.project_id, alice.projectId);
  assert.equal(tok.user_id, alice.userId);
  await stack.oscJson(['server', 'list'], ac);
  await stack.oscJson(['volume', 'list'], ac);

  // A token made before the delete stops working with it.
  const before = await authByAppCred({ id: made.ID, secret: made.Secret });
  assert.equal(before.status, 201);
  const early = before.headers.get('x-subject-token')!;
  assert.equal((await stack.http('GET', '/compute/v2.1/servers', { token: early })).status, 200);

  await stack.oscOk(['application', 'credential', 'delete', 'ci'], alice);
  assert.deepEqual(await stack.oscJson(['application', 'credential', 'list'], alice), []);
  const after = await stack.osc(['server', 'list'], ac);
  assert.notEqual(after.code, 0);
  assert.match(after.stderr, /Could not find Application Credential/);
  assert.equal((await stack.http('GET', '/compute/v2.1/servers', { token: early })).status, 401);
});

test("the token a credential gives: the credential's project and roles, methods and application_credential as Keystone renders them", async () => {
  const c = await create(alice, alice.userId, { name: 'reader-only', roles: [{ name: 'reader' }], secret: 'my-own-secret-1' });
  assert.equal(c.status, 201, c.text);
  const cred = c.body.application_credential;
  secrets.push('my-own-secret-1');
  assert.equal(cred.secret, 'my-own-secret-1');
  assert.deepEqual(
    cred.roles.map((r: { name: string; domain_id: null }) => [r.name, r.domain_id]),
    [['reader', null]],
  );
  assert.deepEqual(cred.access_rules, []);
  assert.equal(cred.expires_at, null);
  assert.equal(cred.links.self, `${stack.url}${V3}/users/${alice.userId}/application_credentials/${cred.id}`);

  const byId = await authByAppCred({ id: cred.id, secret: 'my-own-secret-1' });
  assert.equal(byId.status, 201, byId.text);
  const t = byId.body.token;
  assert.deepEqual(t.methods, ['application_credential']);
  assert.deepEqual(t.application_credential, { id: cred.id, name: 'reader-only', restricted: true });
  assert.equal(t.project.id, alice.projectId);
  assert.deepEqual(
    t.roles.map((r: { name: string }) => r.name),
    ['reader'],
  );
  assert.ok(Array.isArray(t.catalog) && t.catalog.length > 0);
  const tok = byId.headers.get('x-subject-token')!;
  const validated = await stack.http('GET', `${V3}/auth/tokens`, { token: tok, headers: { 'X-Subject-Token': tok } });
  assert.deepEqual(validated.body.token.application_credential, { id: cred.id, name: 'reader-only', restricted: true });
  // The reader role is all it carries: Cinder lists for it and refuses it a create.
  assert.equal((await stack.http('GET', `/volume/v3/${alice.projectId}/volumes`, { token: tok })).status, 200);
  assert.equal((await stack.http('POST', `/volume/v3/${alice.projectId}/volumes`, { token: tok, body: { volume: { size: 1 } } })).status, 403);

  // By name, for a user by id or by name + domain.
  for (const user of [{ id: alice.userId }, { name: alice.username, domain: { id: 'default' } }]) {
    const byName = await authByAppCred({ name: 'reader-only', secret: 'my-own-secret-1', user });
    assert.equal(byName.status, 201, byName.text);
    assert.equal(byName.body.token.application_credential.id, cred.id);
  }

  // A wrong secret, an unknown name: 401. A scope in the request: Keystone's 401.
  assert.equal((await authByAppCred({ id: cred.id, secret: 'wrong' })).status, 401);
  assert.equal((await authByAppCred({ name: 'nope', secret: 'x', user: { id: alice.userId } })).status, 401);
  const scoped = await authByAppCred({ id: cred.id, secret: 'my-own-secret-1' }, { scope: { project: { id: alice.projectId } } });
  assert.equal(scoped.status, 401);
  assert.equal(scoped.body.error.message, 'Application credentials cannot request a scope.');
});

test('restricted credentials cannot make or delete credentials (403 in Keystone words); unrestricted ones can', async () => {
  const r = (await create(alice, alice.userId, { name: 'restricted', secret: 'restricted-secret-1' })).body.application_credential;
  const u = (await create(alice, alice.userId, { name: 'unrestricted', secret: 'unrestricted-secret-1', unrestricted: true })).body.application_credential;
  secrets.push('restricted-secret-1', 'unrestricted-secret-1');
  assert.equal(u.unrestricted, true);
  const rTok = (await authByAppCred({ id: r.id, secret: 'restricted-secret-1' })).headers.get('x-subject-token')!;
  const uTok = (await authByAppCred({ id: u.id, secret: 'unrestricted-secret-1' })).headers.get('x-subject-token')!;

  const refused = await stack.http('POST', `${V3}/users/${alice.userId}/application_credentials`, { token: rTok, body: { application_credential: { name: 'child' } } });
  assert.equal(refused.status, 403);
  assert.equal(
    refused.body.error.message,
    "You are not authorized to perform the requested action: Using method 'application_credential' is not allowed for managing additional application credentials.",
  );
  const del = await stack.http('DELETE', `${V3}/users/${alice.userId}/application_credentials/${u.id}`, { token: rTok });
  assert.equal(del.status, 403);
  // Reading is allowed.
  assert.equal((await stack.http('GET', `${V3}/users/${alice.userId}/application_credentials`, { token: rTok })).status, 200);

  const child = await stack.http('POST', `${V3}/users/${alice.userId}/application_credentials`, { token: uTok, body: { application_credential: { name: 'child' } } });
  assert.equal(child.status, 201, child.text);
  secrets.push(child.body.application_credential.secret);
  assert.equal((await stack.http('DELETE', `${V3}/users/${alice.userId}/application_credentials/${child.body.application_credential.id}`, { token: uTok })).status, 204);
});

test('create: name unique per user (409), roles only from the token (400), project-scoped token, access rules refused, owner only', async () => {
  const first = await create(alice, alice.userId, { name: 'dup', secret: 'dup-secret-1' });
  assert.equal(first.status, 201);
  secrets.push('dup-secret-1');
  const dup = await create(alice, alice.userId, { name: 'dup' });
  assert.equal(dup.status, 409);
  assert.equal(dup.body.error.message, 'Conflict occurred attempting to store application_credential - Duplicate entry found with name dup.');
  // Another user may use the same name.
  const bobs = await create(bob, bob.userId, { name: 'dup' });
  assert.equal(bobs.status, 201);
  secrets.push(bobs.body.application_credential.secret);

  const admin = await create(alice, alice.userId, { name: 'escalate', roles: [{ name: 'admin' }] });
  assert.equal(admin.status, 400);
  assert.equal(admin.body.error.message, 'Invalid application credential: Cannot create an application credential with unassigned role');
  assert.equal((await create(alice, alice.userId, { name: 'r', roles: [{ name: 'no-such-role' }] })).status, 404);

  const rules = await create(alice, alice.userId, { name: 'rules', access_rules: [{ service: 'compute', method: 'GET', path: '/servers' }] });
  assert.equal(rules.status, 400);
  assert.match(rules.body.error.message, /^Invalid application credential: /);
  assert.equal((await create(alice, alice.userId, { name: 'past', expires_at: '2001-01-01T00:00:00' })).status, 400);
  assert.equal((await create(alice, alice.userId, { name: 'bad-time', expires_at: 'tomorrow' })).status, 400);

  // An unscoped token cannot make one: the credential needs a project.
  const unscoped = await stack.http('POST', `${V3}/auth/tokens`, {
    body: { auth: { identity: { methods: ['password'], password: { user: { id: alice.userId, password: alice.password } } }, scope: 'unscoped' } },
  });
  const noProject = await stack.http('POST', `${V3}/users/${alice.userId}/application_credentials`, {
    token: unscoped.headers.get('x-subject-token')!,
    body: { application_credential: { name: 'unscoped' } },
  });
  assert.equal(noProject.status, 403);

  // Only the user themself: not another user, not even an admin (Keystone's RULE_OWNER).
  for (const who of [bob, stack.admin]) {
    const other = await stack.http('POST', `${V3}/users/${alice.userId}/application_credentials`, { token: await stack.token(who), body: { application_credential: { name: 'theirs' } } });
    assert.equal(other.status, 403);
    assert.equal(other.body.error.message, 'You are not authorized to perform the requested action: identity:create_application_credential.');
  }

  // Access rules: none to list, none to show.
  const ar = await stack.http('GET', `${V3}/users/${alice.userId}/access_rules`, { token: await stack.token(alice) });
  assert.equal(ar.status, 200);
  assert.deepEqual(ar.body.access_rules, []);
});

test('another user can neither see nor delete my credentials; an admin can', async () => {
  const mine = (await create(alice, alice.userId, { name: 'private', secret: 'private-secret-1' })).body.application_credential;
  secrets.push('private-secret-1');
  const bobTok = await stack.token(bob);
  const base = `${V3}/users/${alice.userId}/application_credentials`;
  assert.equal((await stack.http('GET', base, { token: bobTok })).status, 403);
  assert.equal((await stack.http('GET', `${base}/${mine.id}`, { token: bobTok })).status, 403);
  assert.equal((await stack.http('DELETE', `${base}/${mine.id}`, { token: bobTok })).status, 403);
  // Nor through his own user's path.
  assert.equal((await stack.http('GET', `${V3}/users/${bob.userId}/application_credentials/${mine.id}`, { token: bobTok })).status, 403);
  assert.equal((await stack.http('DELETE', `${V3}/users/${bob.userId}/application_credentials/${mine.id}`, { token: bobTok })).status, 403);
  const bobsList = await stack.http('GET', `${V3}/users/${bob.userId}/application_credentials`, { token: bobTok });
  assert.ok(!bobsList.body.application_credentials.some((c: { id: string }) => c.id === mine.id));
  // The CLI as bob does not find it by name.
  assert.notEqual((await stack.osc(['application', 'credential', 'show', 'private'], bob)).code, 0);

  const adminTok = await stack.token();
  const seen = await stack.http('GET', `${base}?name=private`, { token: adminTok });
  assert.equal(seen.status, 200);
  assert.deepEqual(
    seen.body.application_credentials.map((c: { id: string }) => c.id),
    [mine.id],
  );
  assert.equal((await stack.http('GET', `${base}/${mine.id}`, { token: await stack.token(alice) })).status, 200);
  assert.equal((await stack.http('DELETE', `${base}/${mine.id}`, { token: adminTok })).status, 204);
  assert.equal((await stack.http('GET', `${base}/${mine.id}`, { token: adminTok })).status, 404);
});

test('an expired credential gives no token, and the tokens it gave expire with it', async () => {
  const expiresAt = new Date(Date.now() + 3000).toISOString();
  const c = await create(alice, alice.userId, { name: 'short', secret: 'short-secret-1', expires_at: expiresAt.replace('Z', '') });
  assert.equal(c.status, 201, c.text);
  secrets.push('short-secret-1');
  assert.equal(c.body.application_credential.expires_at, expiresAt.replace(/\.(\d{3})Z$/, '.$1000'));
  const ok = await authByAppCred({ id: c.body.application_credential.id, secret: 'short-secret-1' });
  assert.equal(ok.status, 201);
  assert.equal(ok.body.token.expires_at, expiresAt.replace(/\.(\d{3})Z$/, '.$1000Z'));
  await new Promise((r) => setTimeout(r, Date.parse(expiresAt) - Date.now() + 200));
  const late = await authByAppCred({ id: c.body.application_credential.id, secret: 'short-secret-1' });
  assert.equal(late.status, 401);
  assert.equal((await stack.http('GET', '/compute/v2.1/servers', { token: ok.headers.get('x-subject-token')! })).status, 401);
});

test("removing the user's role on the project, or deleting the user, deletes their credentials and ends their tokens", async () => {
  const carol = await stack.makeProjectUser('ac-project-c', 'ac-carol');
  const c = (await create(carol, carol.userId, { name: 'carol-ci', secret: 'carol-secret-1' })).body.application_credential;
  secrets.push('carol-secret-1');
  const tok = (await authByAppCred({ id: c.id, secret: 'carol-secret-1' })).headers.get('x-subject-token')!;
  const admin = await stack.token();
  const member = (await stack.http('GET', `${V3}/roles?name=member`, { token: admin })).body.roles[0].id;
  assert.equal((await stack.http('DELETE', `${V3}/projects/${carol.projectId}/users/${carol.userId}/roles/${member}`, { token: admin })).status, 204);
  assert.equal((await stack.http('GET', '/compute/v2.1/servers', { token: tok })).status, 401);
  assert.equal((await authByAppCred({ id: c.id, secret: 'carol-secret-1' })).status, 404);

  // Deleting the user deletes the rest.
  assert.equal((await stack.http('PUT', `${V3}/projects/${carol.projectId}/users/${carol.userId}/roles/${member}`, { token: admin })).status, 204);
  const d = (await create(carol, carol.userId, { name: 'carol-2', secret: 'carol-secret-2' })).body.application_credential;
  secrets.push('carol-secret-2');
  assert.equal((await stack.http('DELETE', `${V3}/users/${carol.userId}`, { token: admin })).status, 204);
  assert.equal((await authByAppCred({ id: d.id, secret: 'carol-secret-2' })).status, 404);
  assert.deepEqual((await stack.http('GET', `${V3}/users/${carol.userId}/application_credentials`, { token: admin })).body.application_credentials, []);
});

test('secrets never appear in list or show responses, nor in any log line', async () => {
  const c = await create(alice, alice.userId, { name: 'quiet', secret: 'quiet-secret-1' });
  secrets.push('quiet-secret-1');
  const tok = await stack.token(alice);
  const list = await stack.http('GET', `${V3}/users/${alice.userId}/application_credentials`, { token: tok });
  const show = await stack.http('GET', `${V3}/users/${alice.userId}/application_credentials/${c.body.application_credential.id}`, { token: tok });
  for (const r of [list, show]) {
    assert.equal(r.status, 200);
    assert.doesNotMatch(r.text, /secret/);
    for (const s of secrets) assert.ok(!r.text.includes(s));
  }
  assert.ok(
    logLines.some((l) => l.includes('"msg":"request"')),
    'the stack logged its requests',
  );
  assert.ok(secrets.length >= 8);
  for (const s of secrets) {
    const leaked = logLines.find((l) => l.includes(s));
    assert.equal(leaked, undefined, `a secret reached the log: ${leaked}`);
  }
});
