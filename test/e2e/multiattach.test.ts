// Multiattach volumes end to end against the ARM emulator: a volume type with the extra spec
// `multiattach="<is> True"` makes volumes whose disk is an Azure shared disk (maxShares), and Compute
// 2.60 attaches one volume to several servers — a data disk on each VM — with Nova's refusals below
// 2.60 and Cinder's for a type whose SKU Azure cannot share. The Compute tests run once COMPUTE's
// maximum reaches 2.60 (test/support/advertised.ts); until then they report as skipped.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Stack } from '../support/stack';
import { startArmStack, waitFor } from '../support/armStack';
import { aliceAndBob, tokenProjectId, type ProjectUser } from '../support/fixtures';
import { computeTest } from '../support/advertised';
import type { EmulatorControl } from '../../emulator/control';
import { createAzureClients, type AzureClients } from '../../shared/azure/clients';

let stack: Stack;
let control: EmulatorControl;
let arm: AzureClients;
let alice: ProjectUser;
let tA: string, tAdmin: string;
let adminProject: string;
const RG = 'ops_resource_group';
const servers: Record<string, string> = {};
let volumeId: string;

const asAlice = (method: string, p: string, body?: unknown, mv = '3.0') =>
  stack.http(method, `/volume/v3/${alice.projectId}${p}`, { token: tA, body, headers: { 'OpenStack-API-Version': `volume ${mv}` } });
const asAdmin = (method: string, p: string, body?: unknown) => stack.http(method, `/volume/v3/${adminProject}${p}`, { token: tAdmin, body });
const nova = (method: string, p: string, body: unknown, mv: string) => stack.http(method, `/compute/v2.1${p}`, { token: tA, body, headers: { 'OpenStack-API-Version': `compute ${mv}` } });
const vmDisks = async (name: string) => ((await arm.compute.virtualMachines.get(RG, name)).storageProfile?.dataDisks ?? []).map((d) => d.managedDisk?.id?.split('/').pop());
const volume = async (id: string) => (await asAlice('GET', `/volumes/${id}`)).body.volume as Record<string, any>;

const waitVolume = (id: string, what: string, ok: (v: Record<string, any>) => boolean) =>
  waitFor(`volume ${id} ${what}`, async () => {
    const v = await volume(id);
    return ok(v) ? v : undefined;
  });

before(async () => {
  ({ stack, control } = await startArmStack({ asyncDelayMs: 100 }));
  arm = createAzureClients(stack.cloud.services.config);
  ({ alice, tAlice: tA, tAdmin } = await aliceAndBob(stack, ['mat-a', 'matalice'], ['mat-b', 'matbob']));
  adminProject = await tokenProjectId(stack, tAdmin);
  // The admin's types: a shareable SKU, and one Azure cannot share (Standard HDD).
  await stack.oscOk(['volume', 'type', 'create', '--property', 'multiattach=<is> True', '--property', 'azure:sku=StandardSSD_LRS', 'shared']);
  await stack.oscOk(['volume', 'type', 'create', '--property', 'multiattach=<is> True', '--property', 'azure:sku=Standard_LRS', 'shared-hdd']);
});
after(async () => {
  control?.close();
  await stack?.stop();
});

test('a multiattach type makes multiattach volumes on shared disks; the body flag and unshareable SKUs are refused as Cinder refuses them', async () => {
  const v = await stack.oscJson(['volume', 'create', '--type', 'shared', '--size', '1', 'mat-v1'], alice);
  volumeId = v.id;
  const made = await waitVolume(volumeId, 'available', (x) => x.status === 'available');
  assert.equal(made.multiattach, true);
  assert.deepEqual(made.attachments, []);
  const disk = await arm.compute.disks.get(RG, `volume-${volumeId}`);
  assert.equal(disk.maxShares, 3, 'a 1 GiB Standard SSD (E1-E20) is shared by up to 3 VMs');
  // A plain volume stays single.
  const plain = await asAlice('POST', '/volumes', { volume: { size: 1, name: 'mat-plain' } });
  assert.equal(plain.body.volume.multiattach, false);

  // v3/volumes.py create: the deprecated body flag, 400 whatever the type.
  const flag = await asAlice('POST', '/volumes', { volume: { size: 1, multiattach: true } });
  assert.equal(flag.status, 400, flag.text);
  assert.equal(
    flag.body.badRequest.message,
    'multiattach parameter has been removed. The default behavior is to use multiattach enabled volume types. Contact your administrator to create a multiattach enabled volume type and use it to create multiattach volumes.',
  );
  assert.equal((await asAlice('POST', '/volumes', { volume: { size: 1, multiattach: false } })).status, 202, 'false is no request for multiattach');

  // A type whose SKU Azure cannot share: no backend has the capability, the volume ends in error.
  const hdd = await stack.oscJson(['volume', 'create', '--type', 'shared-hdd', '--size', '1', 'mat-hdd'], alice);
  await waitVolume(hdd.id, 'error', (x) => x.status === 'error');
  assert.equal(await arm.compute.disks.get(RG, `volume-${hdd.id}`).catch(() => 'none'), 'none', 'no disk was made');

  // The pools report multiattach for the SKUs Azure shares.
  const pools = (await asAdmin('GET', '/scheduler-stats/get_pools?detail=true')).body.pools as Array<{ name: string; capabilities: Record<string, unknown> }>;
  const byPool = Object.fromEntries(pools.map((p) => [p.capabilities.pool_name, p.capabilities.multiattach]));
  assert.equal(byPool.StandardSSD_LRS, true);
  assert.equal(byPool.Standard_LRS, false);
});

const test260 = computeTest('2.60');

test260('Compute 2.60 attaches the volume to two servers (a data disk on each VM); 2.59 is refused; detach one, then the other', async () => {
  for (const name of ['mat-s1', 'mat-s2']) {
    const srv = await stack.oscJson(['server', 'create', '--flavor', 'm1.medium', '--image', 'ubuntu-22.04', '--network', 'private', '--wait', name], alice);
    assert.equal(srv.status, 'ACTIVE');
    servers[name] = srv.id;
  }
  // Below 2.60: Nova's 400, nothing attached.
  const old = await nova('POST', `/servers/${servers['mat-s1']}/os-volume_attachments`, { volumeAttachment: { volumeId } }, '2.59');
  assert.equal(old.status, 400, old.text);
  assert.deepEqual(old.body, { badRequest: { code: 400, message: 'Multiattach volumes are only supported starting with compute API version 2.60.' } });
  assert.equal((await volume(volumeId)).status, 'available');

  await stack.oscOk(['--os-compute-api-version', '2.60', 'server', 'add', 'volume', 'mat-s1', 'mat-v1'], alice);
  const one = await waitVolume(volumeId, 'in-use on one server', (x) => x.status === 'in-use' && x.attachments.length === 1);
  assert.equal(one.attachments[0].server_id, servers['mat-s1']);
  await stack.oscOk(['--os-compute-api-version', '2.60', 'server', 'add', 'volume', 'mat-s2', 'mat-v1'], alice);
  const two = await waitVolume(volumeId, 'in-use on two servers', (x) => x.status === 'in-use' && x.attachments.length === 2);
  assert.deepEqual(new Set(two.attachments.map((a: any) => a.server_id)), new Set([servers['mat-s1'], servers['mat-s2']]));
  assert.notEqual(two.attachments[0].attachment_id, two.attachments[1].attachment_id);

  // Azure: one shared disk, a data disk of both VMs.
  const disk = await arm.compute.disks.get(RG, `volume-${volumeId}`);
  assert.equal(disk.maxShares, 3);
  assert.equal(disk.managedByExtended?.length, 2);
  for (const name of ['mat-s1', 'mat-s2']) assert.ok((await vmDisks(servers[name])).includes(`volume-${volumeId}`), `a data disk of ${name}'s VM`);

  // Cinder's attachments API (3.27) lists each.
  const listed = await asAlice('GET', `/attachments?volume_id=${volumeId}`, undefined, '3.27');
  assert.equal(listed.status, 200, listed.text);
  assert.deepEqual(new Set(listed.body.attachments.map((a: any) => a.instance)), new Set([servers['mat-s1'], servers['mat-s2']]));
  assert.ok(listed.body.attachments.every((a: any) => a.status === 'attached'));

  // The same server again: Nova's 400.
  const again = await nova('POST', `/servers/${servers['mat-s1']}/os-volume_attachments`, { volumeAttachment: { volumeId } }, '2.60');
  assert.equal(again.status, 400, again.text);

  // Swap from a volume with two attachments: Nova's MultiattachSwapVolumeNotSupported.
  const spare = await asAlice('POST', '/volumes', { volume: { size: 1, name: 'mat-spare' } });
  await waitVolume(spare.body.volume.id, 'available', (x) => x.status === 'available');
  const swapAdmin = await stack.http('PUT', `/compute/v2.1/servers/${servers['mat-s1']}/os-volume_attachments/${volumeId}`, {
    token: tAdmin,
    body: { volumeAttachment: { volumeId: spare.body.volume.id } },
    headers: { 'OpenStack-API-Version': 'compute 2.60' },
  });
  assert.equal(swapAdmin.status, 400, swapAdmin.text);
  assert.equal(swapAdmin.body.badRequest.message, 'Swapping multi-attach volumes with more than one read/write attachment is not supported.');

  // Detach from the first: the second keeps it, the volume stays in-use.
  await stack.oscOk(['--os-compute-api-version', '2.60', 'server', 'remove', 'volume', 'mat-s1', 'mat-v1'], alice);
  const left = await waitVolume(volumeId, 'on the second server only', (x) => x.status === 'in-use' && x.attachments.length === 1);
  assert.equal(left.attachments[0].server_id, servers['mat-s2']);
  const after1 = await arm.compute.disks.get(RG, `volume-${volumeId}`);
  assert.equal(after1.managedByExtended?.length, 1);
  assert.ok(after1.managedByExtended![0].toLowerCase().endsWith(`/${servers['mat-s2']}`.toLowerCase()));
  assert.ok(!(await vmDisks(servers['mat-s1'])).includes(`volume-${volumeId}`));
  assert.ok((await vmDisks(servers['mat-s2'])).includes(`volume-${volumeId}`));

  // Then the second: available, no attachments, the disk on no VM.
  await stack.oscOk(['--os-compute-api-version', '2.60', 'server', 'remove', 'volume', 'mat-s2', 'mat-v1'], alice);
  const free = await waitVolume(volumeId, 'available', (x) => x.status === 'available');
  assert.deepEqual(free.attachments, []);
  const after2 = await arm.compute.disks.get(RG, `volume-${volumeId}`);
  assert.equal(after2.diskState, 'Unattached');
  assert.deepEqual(after2.managedByExtended, []);
});
