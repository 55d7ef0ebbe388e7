// Cinder 3.42 (VOLUME_EXTEND_INUSE) end to end against the ARM emulator: os-extend of an in-use volume is
// refused below 3.42 with Cinder's status message; from 3.42 it needs volume:extend_attached_volume, and
// the attached data disk grows under the running VM (Azure's Expand without downtime), the volume comes
// back in-use at its new size and Nova hears volume-extended (the server's extend_volume action). Where
// Azure cannot grow the disk under its VM (here a Premium SSD v2 disk) the extend ends as Cinder's manager
// ends a driver failure: error_extending, the growth's quota given back, the user message. The real
// `openstack --os-volume-api-version 3.42 volume set --size` drives it.
import { before, after } from 'node:test';
import { volumeAdvertises, volumeTest } from '../support/advertised';
import assert from 'node:assert/strict';
import { startArmStack, waitFor, type ArmStack } from '../support/armStack';
import { listActions } from '../../shared/compute/servers/instanceActions';
import type { Creds } from '../support/stack';
import { tokenProjectId } from '../support/fixtures';

let env: ArmStack;
let alice: Creds & { projectId: string; userId: string };
let reader: Creds;
let tAlice: string;
let tReader: string;
let tAdmin: string;
let serverId: string;
const RG = 'ops_resource_group';

const cinder =
  (mv: string, token = tAlice) =>
  (method: string, p: string, body?: unknown) =>
    env.stack.http(method, `/volume/v3/${alice.projectId}${p}`, { token, body, headers: { 'OpenStack-API-Version': `volume ${mv}` } });
const extend = (id: string, size: number, mv: string, token = tAlice) => cinder(mv, token)('POST', `/volumes/${id}/action`, { 'os-extend': { new_size: size } });
const settled = (id: string, want: (v: Record<string, any>) => boolean, what: string) =>
  waitFor(
    `volume ${id} ${what}`,
    async () => {
      const v = (await cinder('3.0')('GET', `/volumes/${id}`)).body?.volume;
      return v && want(v) ? v : undefined;
    },
    90000,
  );
const message = (r: { body: any }) => (Object.values(r.body)[0] as { message: string }).message;
const gigabytesInUse = async () => (await cinder('3.0')('GET', `/os-quota-sets/${alice.projectId}?usage=True`)).body.quota_set.gigabytes.in_use as number;

/** A volume made and attached to the server through the CLI; in-use. */
async function attachedVolume(name: string, type?: string): Promise<string> {
  const vol = await env.stack.oscJson(['volume', 'create', '--size', '1', ...(type ? ['--type', type] : []), name], alice);
  await settled(vol.id, (v) => v.status === 'available', 'available');
  await env.stack.oscOk(['server', 'add', 'volume', 'ext1', name], alice);
  await settled(vol.id, (v) => v.status === 'in-use', 'in-use');
  return vol.id;
}

const vtest = volumeTest('3.42');

before(async () => {
  if (!volumeAdvertises('3.42')) return;
  env = await startArmStack({ asyncDelayMs: 0 });
  alice = await env.stack.makeProjectUser('ext-a', 'alice');
  [tAlice, tAdmin] = await Promise.all([env.stack.token(alice), env.stack.token()]);
  // A reader of alice's project: sees her volumes, holds neither extend policy.
  const u = await env.stack.http('POST', '/identity/v3/users', { token: tAdmin, body: { user: { name: 'ext-reader', password: 'Pw-reader-1a', default_project_id: alice.projectId } } });
  const role = (await env.stack.http('GET', '/identity/v3/roles?name=reader', { token: tAdmin })).body.roles[0].id;
  await env.stack.http('PUT', `/identity/v3/projects/${alice.projectId}/users/${u.body.user.id}/roles/${role}`, { token: tAdmin });
  reader = { username: 'ext-reader', password: 'Pw-reader-1a', project: 'ext-a' };
  tReader = await env.stack.token(reader);
  const srv = await env.stack.oscJson(['server', 'create', '--flavor', 'm1.medium', '--image', 'ubuntu-22.04', '--network', 'private', '--wait', 'ext1'], alice);
  assert.equal(srv.status, 'ACTIVE');
  serverId = srv.id;
});
after(() => env?.stop());

vtest('os-extend of an in-use volume: refused below 3.42; from 3.42 the data disk grows under the running VM and Nova hears volume-extended', async () => {
  const id = await attachedVolume('grow1');
  const before = await gigabytesInUse();

  // Below 3.42 an in-use volume must be available to extend (volume/api.py _extend's refusal).
  for (const mv of ['3.0', '3.41']) {
    const r = await extend(id, 2, mv);
    assert.equal(r.status, 400, `${mv}: ${r.text}`);
    assert.equal(message(r), `Invalid volume: Volume ${id} status must be '{'status': 'available'}' to extend, currently in-use.`);
  }
  // 3.42 through the CLI: extending, then in-use again at the new size, still attached.
  await env.stack.oscOk(['--os-volume-api-version', '3.42', 'volume', 'set', '--size', '3', 'grow1'], alice);
  const grown = await settled(id, (v) => v.size === 3 && v.status === 'in-use', 'grown in-use');
  assert.equal(grown.attachments.length, 1);
  assert.equal(grown.attachments[0].server_id, serverId);
  assert.equal(await gigabytesInUse(), before + 2);

  // What Azure holds: the disk at 3 GiB, still a data disk of the VM, which never stopped.
  const disk = await env.compute.disks.get(RG, `volume-${id}`);
  assert.equal(disk.diskSizeGB, 3);
  assert.equal(disk.diskState, 'Attached');
  const vm = await env.compute.virtualMachines.get(RG, serverId, { expand: 'instanceView' });
  assert.equal(vm.storageProfile?.dataDisks?.find((d) => d.name === `volume-${id}`)?.diskSizeGB, 3);
  assert.ok(vm.instanceView?.statuses?.some((s) => s.code === 'PowerState/running'));
  const patches = (await env.control.requests()).filter((q) => q.method === 'PATCH' && q.path.endsWith(`/disks/volume-${id}`));
  assert.equal(patches.length, 1);
  assert.equal(patches[0].status, 202);
  const deallocs = (await env.control.requests()).filter((q) => q.path.includes(`/virtualMachines/${serverId}/`) && /deallocate|powerOff|restart/.test(q.path));
  assert.deepEqual(deallocs, []);

  // Nova's side: the volume-extended event recorded the server's extend_volume action.
  const act = await waitFor('extend_volume action', async () => (await listActions(env.stack.cloud.services, serverId)).find((a) => a.action === 'extend_volume'));
  assert.equal(act.events[0]?.event, 'compute_extend_volume');
  assert.equal(act.events[0]?.result, 'Success');
  assert.equal(act.user_id, alice.userId);
  const listed = await env.stack.http('GET', `/compute/v2.1/servers/${serverId}/os-instance-actions`, { token: tAlice });
  assert.ok(
    listed.body.instanceActions.some((a: { action: string }) => a.action === 'extend_volume'),
    listed.text,
  );

  // An available volume still extends at 3.42, back to available.
  const free = await env.stack.oscJson(['volume', 'create', '--size', '1', 'free1'], alice);
  await settled(free.id, (v) => v.status === 'available', 'available');
  assert.equal((await extend(free.id, 2, '3.42')).status, 202);
  await settled(free.id, (v) => v.size === 2 && v.status === 'available', 'grown available');
});

vtest('policy: volume:extend_attached_volume for an in-use volume from 3.42, volume:extend otherwise, each asked after the lookup', async () => {
  const id = await attachedVolume('pol1');
  const r = await extend(id, 2, '3.42', tReader);
  assert.equal(r.status, 403, r.text);
  assert.equal(message(r), "Policy doesn't allow volume:extend_attached_volume to be performed.");
  const r41 = await extend(id, 2, '3.41', tReader);
  assert.equal(r41.status, 403, r41.text);
  assert.equal(message(r41), "Policy doesn't allow volume:extend to be performed.");
  // An unknown volume is Cinder's 404 before any policy.
  const missing = await extend('00000000-0000-4000-8000-000000000000', 2, '3.42', tReader);
  assert.equal(missing.status, 404, missing.text);
  // The admin may extend anyone's attached volume (in the admin's own project's URL).
  const adminProject = await tokenProjectId(env.stack, tAdmin);
  const a = await env.stack.http('POST', `/volume/v3/${adminProject}/volumes/${id}/action`, {
    token: tAdmin,
    body: { 'os-extend': { new_size: 2 } },
    headers: { 'OpenStack-API-Version': 'volume 3.42' },
  });
  assert.equal(a.status, 202, a.text);
  await settled(id, (v) => v.size === 2 && v.status === 'in-use', 'grown by the admin');
});

vtest('where Azure cannot expand without downtime (a Premium SSD v2 disk under a running VM): error_extending, quota given back, the user message', async () => {
  await env.stack.oscOk(['volume', 'type', 'create', '--property', 'azure:sku=PremiumV2_LRS', 'pv2']);
  const id = await attachedVolume('pv2vol', 'pv2');
  const before = await gigabytesInUse();
  const r = await extend(id, 4, '3.42');
  assert.equal(r.status, 202, r.text);
  const failed = await settled(id, (v) => v.status === 'error_extending', 'error_extending');
  assert.equal(failed.size, 1);
  assert.equal(failed.attachments.length, 1, 'still attached');
  assert.equal(await gigabytesInUse(), before);

  // Azure's answer: 409 Conflict, once (a refusal, not retried); the disk is as it was.
  const patches = (await env.control.requests()).filter((q) => q.method === 'PATCH' && q.path.endsWith(`/disks/volume-${id}`));
  assert.equal(patches.length, 1);
  assert.equal(patches[0].status, 409);
  assert.equal((patches[0].responseBody as any)?.error?.code, 'Conflict');
  assert.equal((patches[0].responseBody as any)?.error?.message, 'Disk resizing is allowed only when creating a VM or when the VM is deallocated.');
  assert.equal((await env.compute.disks.get(RG, `volume-${id}`)).diskSizeGB, 1);

  // Cinder's manager: the driver failed the extend.
  const msgs = (await cinder('3.3')('GET', '/messages')).body.messages.filter((m: { resource_uuid: string }) => m.resource_uuid === id);
  assert.equal(msgs.length, 1);
  assert.equal(msgs[0].user_message, 'extend volume:Volume Driver failed to extend volume.');
  assert.equal(msgs[0].event_id, 'VOLUME_VOLUME_007_010');
  // Nothing reached Nova: the server's extend_volume actions are the two of the extends that succeeded.
  assert.equal((await listActions(env.stack.cloud.services, serverId)).filter((a) => a.action === 'extend_volume').length, 2);
});

vtest('the server deleted while its volume is being extended: the volume is detached and its extend lands it available at the new size', async () => {
  const srv = await env.stack.oscJson(['server', 'create', '--flavor', 'm1.medium', '--image', 'ubuntu-22.04', '--network', 'private', '--wait', 'ext2'], alice);
  const vol = await env.stack.oscJson(['volume', 'create', '--size', '1', 'race1'], alice);
  await settled(vol.id, (v) => v.status === 'available', 'available');
  await env.stack.oscOk(['server', 'add', 'volume', 'ext2', 'race1'], alice);
  await settled(vol.id, (v) => v.status === 'in-use', 'in-use');
  const before = await gigabytesInUse();
  // Azure takes its time with the resize: the server's delete comes first.
  await env.control.addFault({ method: 'PATCH', path: `/disks/volume-${vol.id}$`, latencyMs: 4000 });
  assert.equal((await extend(vol.id, 2, '3.42')).status, 202);
  await env.stack.oscOk(['server', 'delete', '--wait', srv.id], alice);
  const mid = (await cinder('3.0')('GET', `/volumes/${vol.id}`)).body.volume;
  assert.equal(mid.attachments.length, 0);
  const done = await settled(vol.id, (v) => v.status === 'available' && v.size === 2, 'grown, detached');
  assert.equal(done.attachments.length, 0);
  assert.equal(await gigabytesInUse(), before + 1);
  assert.equal((await env.compute.disks.get(RG, `volume-${vol.id}`)).diskSizeGB, 2);
});
