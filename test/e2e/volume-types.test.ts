// Volume types end to end: the default type, admin-made types with the azure:sku extra spec through
// the real CLI, the SKU reaching the managed disk in the ARM emulator, members' view and 403s.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { tmpdir } from 'node:os';
import { startStack, type Stack, type Creds } from '../support/stack';
import { assertCinderShape } from '../support/cinderShapes';
import { startEmulator } from '../../emulator/server';
import { createAzureClients, type AzureClients } from '../../shared/azure/clients';

let stack: Stack;
let arm: AzureClients;
let alice: Creds & { projectId: string; userId: string };
let tA: string;

before(async () => {
  stack = await startStack({
    beforeHost: async (azurite) => {
      const emu = await startEmulator({ port: 0, blobConnectionString: azurite.connectionString, asyncDelayMs: 200, certDir: path.join(tmpdir(), 'jacket-emulator-test-cert') });
      return { settings: { JACKET_ARM_ENDPOINT: emu.url, JACKET_AZURE_CREDENTIAL: 'static', JACKET_ARM_CA_CERT: emu.caCertPath }, stop: () => emu.stop() };
    },
  });
  arm = createAzureClients(stack.cloud.services.config);
  alice = await stack.makeProjectUser('types-a', 'alice');
  tA = await stack.token(alice);
});
after(() => stack?.stop());

const asAlice = (method: string, p: string, body?: unknown) => stack.http(method, `/volume/v3/${alice.projectId}${p}`, { token: tA, body });

test('volume types: __DEFAULT__, create/set/show/list/delete with azure:sku, volumes get the SKU', async () => {
  const t = await stack.oscJson(['volume', 'type', 'create', '--property', 'azure:sku=Premium_LRS', '--description', 'SSD', 'fast']);
  assert.equal(t.name, 'fast');
  const list = await stack.oscJson<{ Name: string }[]>(['volume', 'type', 'list']);
  assert.deepEqual(list.map((r) => r.Name).sort(), ['__DEFAULT__', 'fast']);
  await stack.oscOk(['volume', 'type', 'set', '--description', 'premium SSD', '--property', 'note=x', 'fast']);
  await stack.oscOk(['volume', 'type', 'unset', '--property', 'note', 'fast']);
  const shown = await stack.oscJson(['volume', 'type', 'show', 'fast']);
  assert.equal(shown.description, 'premium SSD');
  assert.match(JSON.stringify(shown.properties), /azure:sku.*Premium_LRS/);
  const admin = await stack.token();
  const adminProject = (await stack.http('GET', '/identity/v3/auth/tokens', { token: admin, headers: { 'X-Subject-Token': admin } })).body.token.project.id;
  const asAdmin = await stack.http('GET', `/volume/v3/${adminProject}/types/${t.id}`, { token: admin });
  assertCinderShape('volume_type/volume-type-show-response.json', asAdmin.body);
  // members see public types without sensitive specs, and cannot change them
  const mine = await asAlice('GET', `/types/${t.id}`);
  assertCinderShape('volume_type/volume-type-show-response.json', mine.body, { hidden: ['qos_specs_id'] });
  assert.deepEqual(mine.body.volume_type.extra_specs, {});
  const denied = await stack.osc(['volume', 'type', 'create', 'sneaky'], alice);
  assert.notEqual(denied.code, 0);
  assert.match(denied.stderr, /403/);
  assert.equal((await asAlice('POST', `/types/${t.id}/extra_specs`, { extra_specs: { a: 'b' } })).status, 403);
  assert.equal((await stack.http('POST', `/volume/v3/${adminProject}/types/${t.id}/extra_specs`, { token: admin, body: { extra_specs: { 'azure:sku': 'Gold' } } })).status, 400);
  const dup = await stack.http('POST', `/volume/v3/${adminProject}/types`, { token: admin, body: { volume_type: { name: 'fast' } } });
  assert.equal(dup.status, 409);

  const v = await stack.oscJson(['volume', 'create', '--type', 'fast', '--size', '1', 'v4'], alice);
  const end = Date.now() + 60000;
  while ((await asAlice('GET', `/volumes/${v.id}`)).body.volume.status !== 'available') {
    assert.ok(Date.now() < end, 'volume became available');
    await new Promise((r) => setTimeout(r, 250));
  }
  assert.equal((await asAlice('GET', `/volumes/${v.id}`)).body.volume.volume_type, 'fast');
  assert.equal((await arm.compute.disks.get('ops_resource_group', `volume-${v.id}`)).sku?.name, 'Premium_LRS');
  // a type in use keeps its specs and cannot go
  const inUse = await stack.osc(['volume', 'type', 'delete', 'fast']);
  assert.notEqual(inUse.code, 0);
  assert.match(inUse.stderr, /in use/);
  assert.equal((await stack.http('PUT', `/volume/v3/${adminProject}/types/${t.id}/extra_specs/azure:sku`, { token: admin, body: { 'azure:sku': 'Standard_LRS' } })).status, 400);
  assert.equal((await stack.http('DELETE', `/volume/v3/${adminProject}/types/${t.id}`, { token: admin })).status, 400);
  await stack.oscOk(['volume', 'delete', 'v4'], alice);
  while ((await asAlice('GET', `/volumes/${v.id}`)).status !== 404) {
    assert.ok(Date.now() < end + 60000, 'volume went away');
    await new Promise((r) => setTimeout(r, 250));
  }
  await stack.oscOk(['volume', 'type', 'delete', 'fast']);
  assert.equal((await asAlice('GET', `/types/${t.id}`)).status, 404);
  const def = await stack.http('DELETE', `/volume/v3/${adminProject}/types/${list.length ? (await asAlice('GET', '/types/default')).body.volume_type.id : ''}`, { token: admin });
  assert.equal(def.status, 400);
  assert.match(def.body.badRequest.message, /is a default volume type and cannot be deleted/);
});

test("each call renders a type with exactly upstream's keys for the caller's role", async () => {
  const admin = await stack.token();
  const adminProject = (await stack.http('GET', '/identity/v3/auth/tokens', { token: admin, headers: { 'X-Subject-Token': admin } })).body.token.project.id;
  const asAdmin = (method: string, p: string, body?: unknown) => stack.http(method, `/volume/v3/${adminProject}${p}`, { token: admin, body });
  // create and update: types_manage's view (no qos_specs_id); the type-access key on create only
  const c = await asAdmin('POST', '/types', { volume_type: { name: 'keys', description: 'k', extra_specs: { 'azure:sku': 'Premium_LRS', multiattach: '<is> False' } } });
  assert.equal(c.status, 200);
  assertCinderShape('volume_type/volume-type-create-response.json', c.body);
  const id = c.body.volume_type.id;
  const u = await asAdmin('PUT', `/types/${id}`, { volume_type: { description: 'keys again' } });
  assert.equal(u.status, 200);
  assertCinderShape('volume_type/volume-type-update-response.json', u.body);
  assert.equal(u.body.volume_type.description, 'keys again');
  // show and list: qos_specs_id for admins, the type-access key for admins and members
  assertCinderShape('volume_type/volume-type-show-response.json', (await asAdmin('GET', `/types/${id}`)).body);
  assertCinderShape('volume_type/volume-types-list-response.json', (await asAdmin('GET', '/types')).body);
  // GET /types/default: the extension finds nothing cached under 'default', so no type-access key
  assertCinderShape('volume_type/volume-type-default-response.json', (await asAdmin('GET', '/types/default')).body);
  const mine = await asAlice('GET', `/types/${id}`);
  assertCinderShape('volume_type/volume-type-show-response.json', mine.body, { hidden: ['qos_specs_id'] });
  assert.deepEqual(mine.body.volume_type.extra_specs, { multiattach: '<is> False' }, 'user-visible specs only');
  assertCinderShape('volume_type/volume-types-list-response.json', (await asAlice('GET', '/types')).body, { hidden: ['qos_specs_id'] });
  // a reader is not a member: volume_extension:volume_type_access hides the key
  const rita = await stack.makeProjectUser('types-r', 'rita', 'reader');
  const tR = await stack.token(rita);
  const asRita = await stack.http('GET', `/volume/v3/${rita.projectId}/types/${id}`, { token: tR });
  assert.equal(asRita.status, 200);
  assertCinderShape('volume_type/volume-type-show-response.json', asRita.body, { hidden: ['qos_specs_id', 'os-volume-type-access:is_public'] });
  assert.equal((await asAdmin('DELETE', `/types/${id}`)).status, 202);
});
