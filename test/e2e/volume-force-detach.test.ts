// Cinder's os-force_detach end to end through HTTP (the openstack CLI has no command for it;
// cinderclient's `cinder force-detach` sends this body) against the ARM emulator: an admin detaches a
// volume Nova attached, the data disk leaves the VM and the server's views drop it; refusals as Cinder
// answers them change nothing.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Stack } from '../support/stack';
import { startArmStack, waitFor } from '../support/armStack';
import { aliceAndBob, tokenProjectId, type ProjectUser } from '../support/fixtures';
import type { EmulatorControl } from '../../emulator/control';
import { createAzureClients, type AzureClients } from '../../shared/azure/clients';
import { listActions } from '../../shared/compute/servers/instanceActions';
import { WORK_KINDS } from '../../shared/work/handlers';
import { getServerAny, updateServer } from '../../shared/compute/servers/model';
import { volumesOf, withVolumes } from '../../shared/compute/servers/volumes';
import { volumeTables } from '../../shared/volume/model';

let stack: Stack;
let control: EmulatorControl;
let arm: AzureClients;
let alice: ProjectUser;
let tA: string, tAdmin: string;
let adminProject: string;
let serverId: string;
const RG = 'ops_resource_group';

before(async () => {
  ({ stack, control } = await startArmStack({ asyncDelayMs: 100 }));
  arm = createAzureClients(stack.cloud.services.config);
  ({ alice, tAlice: tA, tAdmin } = await aliceAndBob(stack, ['fdt-a', 'fdtalice'], ['fdt-b', 'fdtbob']));
  adminProject = await tokenProjectId(stack, tAdmin);
  const srv = await stack.oscJson(['server', 'create', '--flavor', 'm1.medium', '--image', 'ubuntu-22.04', '--network', 'private', '--wait', 'fdt1'], alice);
  assert.equal(srv.status, 'ACTIVE');
  serverId = srv.id;
});
after(async () => {
  control?.close();
  await stack?.stop();
});

const asAlice = (method: string, p: string, body?: unknown) => stack.http(method, `/volume/v3/${alice.projectId}${p}`, { token: tA, body });
const asAdmin = (method: string, p: string, body?: unknown) => stack.http(method, `/volume/v3/${adminProject}${p}`, { token: tAdmin, body });
const nova = (method: string, p: string, body?: unknown) => stack.http(method, `/compute/v2.1${p}`, { token: tA, body });
const forceDetach = (id: string, body: unknown) => asAdmin('POST', `/volumes/${id}/action`, { 'os-force_detach': body });
const dataDisks = async () => (await arm.compute.virtualMachines.get(RG, serverId)).storageProfile?.dataDisks ?? [];

const waitStatus = (id: string, want: string) =>
  waitFor(`volume ${id} ${want}`, async () => {
    const r = await asAlice('GET', `/volumes/${id}`);
    return r.body?.volume?.status === want ? (r.body.volume as Record<string, any>) : undefined;
  });

async function newVolume(name: string): Promise<string> {
  const r = await asAlice('POST', '/volumes', { volume: { size: 1, name } });
  assert.equal(r.status, 202, r.text);
  await waitStatus(r.body.volume.id, 'available');
  return r.body.volume.id as string;
}

async function attached(name: string): Promise<{ id: string; attachmentId: string }> {
  const id = await newVolume(name);
  await stack.oscOk(['server', 'add', 'volume', 'fdt1', name], alice);
  const v = await waitStatus(id, 'in-use');
  return { id, attachmentId: v.attachments[0].attachment_id as string };
}

test('os-force_detach of a volume Nova attached: 202, the disk off the VM, the volume available, the server without it', async () => {
  const { id, attachmentId } = await attached('fdt-v1');
  assert.equal((await dataDisks()).length, 1);

  // Refusals first, each changing nothing: a member (403), a body outside the schema (400), an
  // attachment the volume does not carry (409, Cinder's attachment_deletion_allowed).
  const member = await asAlice('POST', `/volumes/${id}/action`, { 'os-force_detach': { attachment_id: attachmentId } });
  assert.equal(member.status, 403, member.text);
  assert.deepEqual(member.body, { forbidden: { code: 403, message: "Policy doesn't allow volume_extension:volume_admin_actions:force_detach to be performed." } });
  for (const body of [null, { attachment_id: attachmentId, extra: 1 }, { attachment_id: 5 }, { connector: 5 }, 'x']) {
    const r = await forceDetach(id, body);
    assert.equal(r.status, 400, `${JSON.stringify(body)}: ${r.text}`);
  }
  const other = await forceDetach(id, { attachment_id: '5f1d2c1e-0000-4000-8000-000000000001' });
  assert.equal(other.status, 409, other.text);
  assert.deepEqual(other.body, { conflictingRequest: { code: 409, message: 'Detach volume from instance  using the Compute API' } });
  assert.equal((await asAlice('GET', `/volumes/${id}`)).body.volume.status, 'in-use');
  assert.equal((await dataDisks()).length, 1);

  // The admin's force detach with cinderclient's body (attachment and connector).
  const r = await forceDetach(id, { attachment_id: attachmentId, connector: { initiator: 'iqn.2012-07.org.fake:01', host: 'h1' } });
  assert.equal(r.status, 202, r.text);
  assert.equal(r.text, '');
  const back = await waitStatus(id, 'available');
  assert.equal(back.attach_status ?? 'detached', 'detached');
  assert.deepEqual(back.attachments, []);
  assert.equal((await dataDisks()).length, 0);
  assert.equal((await arm.compute.disks.get(RG, `volume-${id}`)).managedBy ?? null, null);
  // Nova's view agrees: no mapping, nothing in volumes_attached.
  assert.deepEqual((await nova('GET', `/servers/${serverId}/os-volume_attachments`)).body.volumeAttachments, []);
  assert.deepEqual((await nova('GET', `/servers/${serverId}`)).body.server['os-extended-volumes:volumes_attached'], []);
  assert.equal((await nova('GET', `/servers/${serverId}/os-volume_attachments/${id}`)).status, 404);

  // Again: the attachment is gone (409); without one, the volume stays available (202).
  assert.equal((await forceDetach(id, { attachment_id: attachmentId })).status, 409);
  assert.equal((await forceDetach(id, {})).status, 202);
  assert.equal((await asAlice('GET', `/volumes/${id}`)).body.volume.status, 'available');

  // And it attaches again, at the LUN it left.
  await stack.oscOk(['server', 'add', 'volume', 'fdt1', 'fdt-v1'], alice);
  await waitStatus(id, 'in-use');
  assert.equal((await dataDisks()).length, 1);
  await stack.oscOk(['server', 'remove', 'volume', 'fdt1', 'fdt-v1'], alice);
  await waitStatus(id, 'available');
});

test('os-force_detach without attachment_id takes the only attachment; a detach Nova already runs finishes as one', async () => {
  const { id } = await attached('fdt-v2');
  // A Nova detach is under way (volume detaching): the force detach joins it.
  const rm = await nova('DELETE', `/servers/${serverId}/os-volume_attachments/${id}`);
  assert.equal(rm.status, 202, rm.text);
  assert.equal((await forceDetach(id, {})).status, 202);
  await waitStatus(id, 'available');
  assert.equal((await dataDisks()).length, 0);
  assert.deepEqual((await nova('GET', `/servers/${serverId}/os-volume_attachments`)).body.volumeAttachments, []);
  const acts = (await listActions(stack.cloud.services, serverId)).map((a) => `${a.action}:${a.events[0]?.result}`);
  assert.ok(acts.includes('detach_volume:Success'), acts.join());
});

test('the volume-force-detach step is resumable (a lost enqueue after the mapping turned detaching) and its give-up never leaves the volume detaching', async () => {
  const s = stack.cloud.services;
  const kind = WORK_KINDS.find((k) => k.kind === 'volume-force-detach')!;
  const { id, attachmentId } = await attached('fdt-v4');
  const vol = (await volumeTables(s).volumes.get(alice.projectId, id))!;
  assert.ok(vol);
  const item = { kind: kind.kind, id, data: { project: vol.partitionKey, server: serverId, attachment: attachmentId } };
  const setVolume = (status: string, attach: string) => volumeTables(s).volumes.update(vol.partitionKey, id, (v) => ({ ...v, status, attach_status: attach }) as typeof v);
  const setMapping = async (status: 'attached' | 'detaching') => {
    const cur = (await getServerAny(s, serverId))!;
    await updateServer(s, cur, (x) =>
      withVolumes(
        x,
        volumesOf(x).map((m) => (m.volume_id === id ? { ...m, status } : m)),
      ),
    );
  };

  // Given up before the hand-over (mapping still attached): back to in-use, the disk still on the VM.
  await setVolume('detaching', 'detaching');
  await kind.giveUp(item, s, { kind: 'server', code: 'X', message: 'x', attempts: 9 } as never);
  assert.equal((await asAlice('GET', `/volumes/${id}`)).body.volume.status, 'in-use');

  // The step ran as far as the mapping, and its volume-detach message was lost: run again, it hands over.
  await setVolume('detaching', 'detaching');
  await setMapping('detaching');
  assert.equal((await kind.run(item, s)).status, 'done');
  await waitStatus(id, 'available');
  assert.equal((await dataDisks()).length, 0);
  assert.deepEqual((await nova('GET', `/servers/${serverId}/os-volume_attachments`)).body.volumeAttachments, []);
  // A stale item for an attachment that is gone does nothing.
  assert.equal((await kind.run(item, s)).status, 'done');
  assert.equal((await asAlice('GET', `/volumes/${id}`)).body.volume.status, 'available');
});

test('os-force_detach of a host attachment (os-attach host_name) and of an unattached volume: available at once; maintenance 400', async () => {
  const id = await newVolume('fdt-v3');
  const act = (body: unknown) => asAlice('POST', `/volumes/${id}/action`, body);
  assert.equal((await act({ 'os-attach': { host_name: 'backup-host', mountpoint: '/dev/vdb' } })).status, 202);
  const v = (await asAdmin('GET', `/volumes/${id}`)).body.volume;
  assert.equal(v.status, 'in-use');
  assert.equal((await forceDetach(id, { attachment_id: v.attachments[0].attachment_id, connector: null })).status, 202);
  const after = (await asAlice('GET', `/volumes/${id}`)).body.volume;
  assert.equal(after.status, 'available');
  assert.deepEqual(after.attachments, []);

  // Not attached at all: the manager's "not attached" branch leaves it available and detached.
  await stack.oscOk(['volume', 'set', '--state', 'error', id]);
  assert.equal((await forceDetach(id, {})).status, 202);
  assert.equal((await asAlice('GET', `/volumes/${id}`)).body.volume.status, 'available');

  await stack.oscOk(['volume', 'set', '--state', 'maintenance', id]);
  const m = await forceDetach(id, {});
  assert.equal(m.status, 400);
  assert.equal(m.body.badRequest.message, 'Invalid volume: The volume cannot be detached in maintenance mode.');
  assert.equal((await asAlice('GET', `/volumes/${id}`)).body.volume.status, 'maintenance');
  await stack.oscOk(['volume', 'set', '--state', 'available', id]);
});

test('os-force_detach of an unknown volume is 404; a server root volume is 400 (Azure cannot detach an OS disk)', async () => {
  const none = await forceDetach('0b1e6a3c-0000-4000-8000-00000000dead', {});
  assert.equal(none.status, 404, none.text);
  const srv = await stack.oscJson(['server', 'create', '--image', 'ubuntu-22.04', '--boot-from-volume', '40', '--flavor', 'm1.medium', '--network', 'private', '--wait', 'fdt-bfv'], alice);
  const rootId = (await nova('GET', `/servers/${srv.id}/os-volume_attachments`)).body.volumeAttachments[0].volumeId as string;
  const root = await waitStatus(rootId, 'in-use');
  const r = await forceDetach(root.id, {});
  assert.equal(r.status, 400, r.text);
  assert.match(r.body.badRequest.message, /Azure cannot detach a VM's OS disk/);
  assert.equal((await asAlice('GET', `/volumes/${root.id}`)).body.volume.status, 'in-use');
});
