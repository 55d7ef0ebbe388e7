// Block Storage 3.62 (DEFAULT_TYPE_OVERRIDES): per-project default volume types, /default-types, as
// cinder/api/v3/default_types.py answers them, and the default's use by volume create, GET /types/default
// and type delete (docs/volumes.md "Default volume types"). HTTP only, one stack: OSC has no
// default-type command to drive.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Stack, Creds } from '../support/stack';
import { startArmStack, type ArmStack } from '../support/armStack';
import { volumeTest } from '../support/advertised';
import { assertCinderShape } from '../support/cinderShapes';
import { reportState } from '../../shared/servicegroup/registry';
import { refused } from '../support/nova';

let env: ArmStack;
let stack: Stack;
let alice: Creds & { projectId: string; userId: string };
let bob: Creds & { projectId: string; userId: string };
let tA: string;
let tB: string;
let tAdmin: string;
let adminProject: string;
let gold: string;
let silver: string;

const NOT_AUTHORIZED = 'You are not authorized to perform this operation.';
const at = (v: string) => ({ 'OpenStack-API-Version': `volume ${v}` });
const as = (token: () => string, project: () => string) => (v: string, method: string, p: string, body?: unknown) =>
  stack.http(method, `/volume/v3/${project()}${p}`, { token: token(), body, headers: at(v) });
const asAlice = as(
  () => tA,
  () => alice.projectId,
);
const asBob = as(
  () => tB,
  () => bob.projectId,
);
const asAdmin = as(
  () => tAdmin,
  () => adminProject,
);

async function makeType(name: string): Promise<string> {
  const r = await asAdmin('3.62', 'POST', '/types', { volume_type: { name } });
  assert.equal(r.status, 200, r.text);
  return r.body.volume_type.id;
}

/** The project's default as an admin reads it (undefined when unset). */
async function defaultOf(project: string): Promise<string | undefined> {
  const r = await asAdmin('3.62', 'GET', `/default-types/${project}`);
  if (r.status === 404) return undefined;
  assert.equal(r.status, 200, r.text);
  return r.body.default_type.volume_type_id;
}

before(async () => {
  env = await startArmStack({ asyncDelayMs: 0 });
  stack = env.stack;
  [alice, bob] = await Promise.all([stack.makeProjectUser('dt362-a', 'dt362alice'), stack.makeProjectUser('dt362-b', 'dt362bob')]);
  [tA, tB, tAdmin] = await Promise.all([stack.token(alice), stack.token(bob), stack.token()]);
  const me = await stack.http('GET', '/identity/v3/auth/tokens', { token: tAdmin, headers: { 'X-Subject-Token': tAdmin } });
  adminProject = me.body.token.project.id;
  await reportState(stack.cloud.services, 'worker', new Date(), true);
  [gold, silver] = await Promise.all([makeType('gold362'), makeType('silver362')]);
});
after(() => env?.stop());

volumeTest('3.62')('3.62: /default-types does not exist below 3.62', async () => {
  const gone = 'The resource could not be found.';
  await refused(asAdmin('3.61', 'GET', '/default-types'), 404, gone);
  await refused(asAdmin('3.61', 'GET', `/default-types/${alice.projectId}`), 404, gone);
  await refused(asAdmin('3.61', 'PUT', `/default-types/${alice.projectId}`, { default_type: { volume_type: 'gold362' } }), 404, gone);
  await refused(asAdmin('3.61', 'DELETE', `/default-types/${alice.projectId}`), 404, gone);
  assert.equal(await defaultOf(alice.projectId), undefined);
});

volumeTest('3.62')('3.62: an admin sets (by name or id), updates, reads, lists and unsets a project default', async () => {
  const set = await asAdmin('3.62', 'PUT', `/default-types/${bob.projectId}`, { default_type: { volume_type: 'silver362' } });
  assert.equal(set.status, 200, set.text);
  assertCinderShape('set-default-type-response.json', set.body);
  assert.deepEqual(set.body, { default_type: { project_id: bob.projectId, volume_type_id: silver } });
  // Setting again replaces (project_default_volume_type_set updates the row); an id works as well as a name.
  const upd = await asAdmin('3.62', 'PUT', `/default-types/${bob.projectId}`, { default_type: { volume_type: gold } });
  assert.equal(upd.status, 200, upd.text);
  assert.deepEqual(upd.body, { default_type: { project_id: bob.projectId, volume_type_id: gold } });
  const one = await asAdmin('3.62', 'GET', `/default-types/${bob.projectId}`);
  assert.equal(one.status, 200, one.text);
  assertCinderShape('get-default-type-response.json', one.body);
  assert.deepEqual(one.body, { default_type: { project_id: bob.projectId, volume_type_id: gold } });
  const all = await asAdmin('3.62', 'GET', '/default-types');
  assert.equal(all.status, 200, all.text);
  assertCinderShape('get-default-types-response.json', all.body);
  assert.deepEqual(all.body.default_types, [{ project_id: bob.projectId, volume_type_id: gold }]);
  // A name spelt like a UUID is found by name when no type has it as its id (get_by_name_or_id).
  const uuidName = '0f5c2a9e-7d1b-4c3e-8a6f-2b4d6e8f0a1c';
  const odd = await makeType(uuidName);
  const byUuidName = await asAdmin('3.62', 'PUT', `/default-types/${bob.projectId}`, { default_type: { volume_type: uuidName } });
  assert.equal(byUuidName.status, 200, byUuidName.text);
  assert.equal(byUuidName.body.default_type.volume_type_id, odd);
  const del = await asAdmin('3.62', 'DELETE', `/default-types/${bob.projectId}`);
  assert.equal(del.status, 204, del.text);
  await refused(asAdmin('3.62', 'GET', `/default-types/${bob.projectId}`), 404, `Default type for project ${bob.projectId} not found.`);
  assert.deepEqual((await asAdmin('3.62', 'GET', '/default-types')).body, { default_types: [] });
  // Unsetting what is not set is still a 204 (a hard delete of nothing).
  assert.equal((await asAdmin('3.62', 'DELETE', `/default-types/${bob.projectId}`)).status, 204);
});

volumeTest('3.62')("3.62: members may not set, read, list or unset defaults, their own project's included", async () => {
  const put = await asAdmin('3.62', 'PUT', `/default-types/${alice.projectId}`, { default_type: { volume_type: 'silver362' } });
  assert.equal(put.status, 200, put.text);
  await refused(asAlice('3.62', 'PUT', `/default-types/${alice.projectId}`, { default_type: { volume_type: 'gold362' } }), 403, NOT_AUTHORIZED);
  await refused(asAlice('3.62', 'GET', `/default-types/${alice.projectId}`), 403, NOT_AUTHORIZED);
  await refused(asAlice('3.62', 'GET', '/default-types'), 403, NOT_AUTHORIZED);
  await refused(asAlice('3.62', 'DELETE', `/default-types/${alice.projectId}`), 403, NOT_AUTHORIZED);
  await refused(asBob('3.62', 'DELETE', `/default-types/${alice.projectId}`), 403, NOT_AUTHORIZED);
  // The project lookup comes before the policy: a member learns of a missing project first.
  await refused(asAlice('3.62', 'GET', '/default-types/no-such-project'), 404, 'Project with id no-such-project not found.');
  // And the body's schema before both.
  const bad = await asAlice('3.62', 'PUT', `/default-types/${alice.projectId}`, { default_type: {} });
  assert.equal(bad.status, 400, bad.text);
  assert.equal(await defaultOf(alice.projectId), silver);
  assert.equal((await asAdmin('3.62', 'DELETE', `/default-types/${alice.projectId}`)).status, 204);
});

volumeTest('3.62')('3.62: bad bodies, unknown types and unknown projects change nothing', async () => {
  for (const body of [
    { default_type: {} },
    { default_type: { volume_type: '' } },
    { default_type: { volume_type: 'gold362', extra: 1 } },
    { default_type: 'gold362' },
    { default_type: { volume_type: 'x'.repeat(256) } },
  ]) {
    const r = await asAdmin('3.62', 'PUT', `/default-types/${alice.projectId}`, body);
    assert.equal(r.status, 400, `${JSON.stringify(body).slice(0, 80)}: ${r.text}`);
  }
  // No default_type at all passes upstream's schema (it requires nothing at the top) and then fails
  // there with a bare 500; Jacket answers no input with a 5xx, so it is a 400 naming the key.
  await refused(asAdmin('3.62', 'PUT', `/default-types/${alice.projectId}`, {}), 400, "Invalid input for field/attribute default_type. Value: None. 'default_type' is a required property");
  // An unknown type is VolumeTypeNotFound's message as a 400 (default_types.py turns it into HTTPBadRequest).
  await refused(asAdmin('3.62', 'PUT', `/default-types/${alice.projectId}`, { default_type: { volume_type: 'nope362' } }), 400, 'Volume type with name nope362 could not be found.');
  const missing = '6a0c1f8e-4b9e-4a61-9d2b-0c1d2e3f4a5b';
  await refused(asAdmin('3.62', 'PUT', `/default-types/${alice.projectId}`, { default_type: { volume_type: missing } }), 400, `Volume type ${missing} could not be found.`);
  // The target project must be Keystone's.
  await refused(asAdmin('3.62', 'PUT', '/default-types/no-such-project', { default_type: { volume_type: 'gold362' } }), 404, 'Project with id no-such-project not found.');
  await refused(asAdmin('3.62', 'GET', '/default-types/no-such-project'), 404, 'Project with id no-such-project not found.');
  // ...except to unset: Cinder unsets a deleted project's default anyway.
  assert.equal((await asAdmin('3.62', 'DELETE', '/default-types/no-such-project')).status, 204);
  assert.equal(await defaultOf(alice.projectId), undefined);
  assert.deepEqual((await asAdmin('3.62', 'GET', '/default-types')).body, { default_types: [] });
});

volumeTest('3.62')("3.62: a volume without a type takes its project's default, another project's the configured one; a default type cannot be deleted", async () => {
  const put = await asAdmin('3.62', 'PUT', `/default-types/${alice.projectId}`, { default_type: { volume_type: 'gold362' } });
  assert.equal(put.status, 200, put.text);
  const va = await asAlice('3.62', 'POST', '/volumes', { volume: { size: 1, name: 'dt362-a' } });
  assert.equal(va.status, 202, va.text);
  assert.equal(va.body.volume.volume_type, 'gold362');
  const vb = await asBob('3.62', 'POST', '/volumes', { volume: { size: 1, name: 'dt362-b' } });
  assert.equal(vb.status, 202, vb.text);
  assert.equal(vb.body.volume.volume_type, '__DEFAULT__');
  // get_default_volume_type(context) answers GET /types/default too, at any microversion.
  assert.equal((await asAlice('3.0', 'GET', '/types/default')).body.volume_type.id, gold);
  assert.equal((await asBob('3.0', 'GET', '/types/default')).body.volume_type.name, '__DEFAULT__');
  // The project-default check comes before "in use" (volume_types.destroy before db volume_type_destroy).
  await refused(asAdmin('3.62', 'DELETE', `/types/${gold}`), 400, `The volume type ${gold} is a default volume type and cannot be deleted.`);
  assert.equal((await asAdmin('3.62', 'DELETE', `/default-types/${alice.projectId}`)).status, 204);
  await refused(asAdmin('3.62', 'DELETE', `/types/${gold}`), 400, 'Target volume type is still in use.');
  // An unused type that is some project's default: refused until unset, then deleted.
  const put2 = await asAdmin('3.62', 'PUT', `/default-types/${bob.projectId}`, { default_type: { volume_type: silver } });
  assert.equal(put2.status, 200, put2.text);
  await refused(asAdmin('3.62', 'DELETE', `/types/${silver}`), 400, `The volume type ${silver} is a default volume type and cannot be deleted.`);
  assert.equal((await asAdmin('3.62', 'DELETE', `/default-types/${bob.projectId}`)).status, 204);
  assert.equal((await asAdmin('3.62', 'DELETE', `/types/${silver}`)).status, 202);
  // With no project default left, alice's next volume is the configured default's again.
  const va2 = await asAlice('3.62', 'POST', '/volumes', { volume: { size: 1, name: 'dt362-a2' } });
  assert.equal(va2.status, 202, va2.text);
  assert.equal(va2.body.volume.volume_type, '__DEFAULT__');
});
