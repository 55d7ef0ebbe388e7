// Block storage end to end: Cinder v3 volumes and snapshots through the real `openstack` CLI and HTTP,
// landing as managed disks and incremental snapshots in the ARM emulator (bytes in Azurite), response
// bodies checked against Cinder's API reference samples.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { tmpdir } from 'node:os';
import { startStack, type Stack, type Creds } from '../support/stack';
import { assertCinderShape } from '../support/cinderShapes';
import { startEmulator, type RunningEmulator } from '../../emulator/server';
import { EmulatorControl } from '../../emulator/control';
import { createAzureClients, type AzureClients } from '../../shared/azure/clients';

let stack: Stack;
let emu: RunningEmulator;
let control: EmulatorControl;
let arm: AzureClients;
let alice: Creds & { projectId: string; userId: string };
let bob: Creds & { projectId: string; userId: string };
let tA: string;
let tB: string;
let tAdmin: string;
let adminProject: string;
const RG = 'ops_resource_group';

before(async () => {
  stack = await startStack({
    beforeHost: async (azurite) => {
      emu = await startEmulator({ port: 0, blobConnectionString: azurite.connectionString, asyncDelayMs: 200, certDir: path.join(tmpdir(), 'jacket-emulator-test-cert') });
      return { settings: { JACKET_ARM_ENDPOINT: emu.url, JACKET_AZURE_CREDENTIAL: 'static', JACKET_ARM_CA_CERT: emu.caCertPath }, stop: () => emu.stop() };
    },
  });
  control = new EmulatorControl(emu.url, emu.caCertPath);
  arm = createAzureClients(stack.cloud.services.config);
  alice = await stack.makeProjectUser('vol-a', 'alice');
  bob = await stack.makeProjectUser('vol-b', 'bob');
  [tA, tB, tAdmin] = await Promise.all([stack.token(alice), stack.token(bob), stack.token()]);
  const me = await stack.http('GET', '/identity/v3/auth/tokens', { token: tAdmin, headers: { 'X-Subject-Token': tAdmin } });
  adminProject = me.body.token.project.id;
});
after(async () => {
  control?.close();
  await stack?.stop();
});

const cinder = (method: string, p: string, token: string, projectId: string, body?: unknown) => stack.http(method, `/volume/v3/${projectId}${p}`, { token, body });
const asAlice = (method: string, p: string, body?: unknown) => cinder(method, p, tA, alice.projectId, body);

async function waitVolume(id: string, want: string, token = tA, projectId = alice.projectId, ms = 60000): Promise<Record<string, any>> {
  const end = Date.now() + ms;
  for (;;) {
    const r = await cinder('GET', `/volumes/${id}`, token, projectId);
    if (r.body?.volume?.status === want) return r.body.volume;
    if (Date.now() > end) throw new Error(`volume ${id} stayed ${r.body?.volume?.status} (wanted ${want}): ${r.text}`);
    await new Promise((res) => setTimeout(res, 250));
  }
}

async function waitSnapshot(id: string, want: string, ms = 60000): Promise<Record<string, any>> {
  const end = Date.now() + ms;
  for (;;) {
    const r = await asAlice('GET', `/snapshots/${id}`);
    if (r.body?.snapshot?.status === want) return r.body.snapshot;
    if (Date.now() > end) throw new Error(`snapshot ${id} stayed ${r.body?.snapshot?.status} (wanted ${want})`);
    await new Promise((res) => setTimeout(res, 250));
  }
}

async function waitGone(p: string, ms = 60000): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    const r = await asAlice('GET', p);
    if (r.status === 404) return;
    if (Date.now() > end) throw new Error(`${p} still there: ${r.text}`);
    await new Promise((res) => setTimeout(res, 250));
  }
}

test('openstack volume create/list/show/set/unset/extend/delete on a managed disk', async () => {
  const created = await stack.oscJson(['volume', 'create', '--size', '1', '--description', 'first', 'v1'], alice);
  assert.equal(created.name, 'v1');
  assert.equal(created.size, 1);
  const v = await waitVolume(created.id, 'available');
  assertCinderShape('volumes/volume-show-response.json', { volume: v }, { hidden: ['os-vol-host-attr:host', 'os-vol-mig-status-attr:migstat', 'os-vol-mig-status-attr:name_id'] });
  assert.equal(v.volume_type, '__DEFAULT__');
  // what reached Azure: the disk, its size, SKU, creation data and tags
  const disk = await arm.compute.disks.get(RG, `volume-${created.id}`);
  assert.equal(disk.diskSizeGB, 1);
  assert.equal(disk.sku?.name, 'Standard_LRS');
  assert.equal(disk.creationData?.createOption, 'Empty');
  assert.deepEqual(disk.tags, { jacket: 'volume', 'jacket-volume-id': created.id, 'jacket-project-id': alice.projectId });

  const list = await stack.oscJson<{ ID: string; Name: string; Status: string; Size: number }[]>(['volume', 'list'], alice);
  assert.deepEqual(list.map((r) => [r.ID, r.Name, r.Status, r.Size]), [[created.id, 'v1', 'available', 1]]);
  const long = await stack.oscJson<Record<string, unknown>[]>(['volume', 'list', '--long'], alice);
  assert.equal(long[0].Type, '__DEFAULT__');
  const shown = await stack.oscJson(['volume', 'show', 'v1'], alice);
  assert.equal(shown.status, 'available');

  await stack.oscOk(['volume', 'set', '--name', 'v1b', '--description', 'renamed', '--property', 'tier=gold', '--property', 'team=ops', 'v1'], alice);
  await stack.oscOk(['volume', 'unset', '--property', 'team', 'v1b'], alice);
  const after = (await asAlice('GET', `/volumes/${created.id}`)).body.volume;
  assert.equal(after.name, 'v1b');
  assert.equal(after.description, 'renamed');
  assert.deepEqual(after.metadata, { tier: 'gold' });

  await stack.oscOk(['volume', 'set', '--size', '2', 'v1b'], alice);
  const grown = await waitVolume(created.id, 'available');
  assert.equal(grown.size, 2);
  assert.equal((await arm.compute.disks.get(RG, `volume-${created.id}`)).diskSizeGB, 2);

  await stack.oscOk(['volume', 'delete', 'v1b'], alice);
  await waitGone(`/volumes/${created.id}`);
  await assert.rejects(arm.compute.disks.get(RG, `volume-${created.id}`), (e: { statusCode?: number }) => e.statusCode === 404);
});
