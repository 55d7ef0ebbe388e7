// Cinder's os-retype (`openstack volume set --type`) and os-set_bootable end to end against the ARM
// emulator: a retype is a PATCH of the managed disk's SKU on the work queue, with the per-type quota
// keys moved from the old type to the new; Azure refuses it for a disk a running VM holds, and the
// volume goes back to in-use with its old type, as Cinder leaves a volume its driver could not retype.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startArmStack, waitFor, type ArmStack } from '../support/armStack';
import type { Creds } from '../support/stack';

let env: ArmStack;
let alice: Creds & { projectId: string; userId: string };
let tAlice: string;
const RG = 'ops_resource_group';

const cinder = (method: string, p: string, body?: unknown) => env.stack.http(method, `/volume/v3/${alice.projectId}${p}`, { token: tAlice, body });
const settled = (id: string, want: (v: Record<string, unknown>) => boolean, what: string) =>
  waitFor(
    `volume ${id} ${what}`,
    async () => {
      const v = (await cinder('GET', `/volumes/${id}`)).body?.volume;
      return v && want(v) ? v : undefined;
    },
    90000,
  );
const retypeBody = (newType: string, policy?: string) => ({ 'os-retype': { new_type: newType, ...(policy ? { migration_policy: policy } : {}) } });

before(async () => {
  env = await startArmStack();
  alice = await env.stack.makeProjectUser('retype-a', 'alice');
  tAlice = await env.stack.token(alice);
  await env.stack.oscJson(['volume', 'type', 'create', '--property', 'azure:sku=Premium_LRS', 'fast']);
});
after(async () => {
  env?.control.close();
  await env?.stop();
});

test('openstack volume set --type: the disk gets the new SKU, the volume the new type, the per-type quota moves', async () => {
  const v = await env.stack.oscJson(['volume', 'create', '--size', '2', 'r1'], alice);
  await settled(v.id, (x) => x.status === 'available', 'available');
  assert.equal((await env.compute.disks.get(RG, `volume-${v.id}`)).sku?.name, 'Standard_LRS');
  await env.stack.oscOk(['volume', 'set', '--type', 'fast', 'r1'], alice);
  const done = await settled(v.id, (x) => x.status === 'available' && x.volume_type === 'fast', 'retyped');
  assert.equal(done.size, 2);
  assert.equal((await env.compute.disks.get(RG, `volume-${v.id}`)).sku?.name, 'Premium_LRS');
  // Only the per-type keys move (Cinder's retype): volumes and gigabytes stay as they were.
  const q = (await cinder('GET', `/os-quota-sets/${alice.projectId}?usage=True`)).body.quota_set;
  assert.equal(q.volumes_fast.in_use, 1);
  assert.equal(q.gigabytes_fast.in_use, 2);
  assert.equal(q.volumes___DEFAULT__.in_use, 0);
  assert.equal(q.gigabytes___DEFAULT__.in_use, 0);
  assert.equal(q.volumes.in_use, 1);
  assert.equal(q.gigabytes.in_use, 2);
  assert.equal(q.volumes_fast.reserved, 0);

  // Refusals as Cinder words them; nothing changes.
  const same = await cinder('POST', `/volumes/${v.id}/action`, retypeBody('fast'));
  assert.equal(same.status, 400);
  assert.equal(same.body.badRequest.message, 'Invalid input received: New volume_type same as original: fast.');
  const unknown = await cinder('POST', `/volumes/${v.id}/action`, retypeBody('nope'));
  assert.equal(unknown.status, 404);
  assert.equal(unknown.body.itemNotFound.message, 'Volume type with name nope could not be found.');
  const policy = await cinder('POST', `/volumes/${v.id}/action`, retypeBody('__DEFAULT__', 'sometimes'));
  assert.equal(policy.status, 400);
  assert.equal((await cinder('GET', `/volumes/${v.id}`)).body.volume.volume_type, 'fast');

  // set_bootable: 200, the flag as asked; strings as Cinder's bool_from_string takes them.
  const boot = await cinder('POST', `/volumes/${v.id}/action`, { 'os-set_bootable': { bootable: 'yes' } });
  assert.equal(boot.status, 200);
  assert.equal((await cinder('GET', `/volumes/${v.id}`)).body.volume.bootable, 'true');
  await env.stack.oscOk(['volume', 'set', '--non-bootable', 'r1'], alice);
  assert.equal((await cinder('GET', `/volumes/${v.id}`)).body.volume.bootable, 'false');
  const badBool = await cinder('POST', `/volumes/${v.id}/action`, { 'os-set_bootable': { bootable: 'maybe' } });
  assert.equal(badBool.status, 400);

  // Back to the default type: the quota moves back.
  await env.stack.oscOk(['volume', 'set', '--type', '__DEFAULT__', 'r1'], alice);
  await settled(v.id, (x) => x.status === 'available' && x.volume_type === '__DEFAULT__', 'retyped back');
  assert.equal((await env.compute.disks.get(RG, `volume-${v.id}`)).sku?.name, 'Standard_LRS');
  const q2 = (await cinder('GET', `/os-quota-sets/${alice.projectId}?usage=True`)).body.quota_set;
  assert.equal(q2.volumes_fast.in_use, 0);
  assert.equal(q2.volumes___DEFAULT__.in_use, 1);
  assert.equal(q2.gigabytes___DEFAULT__.in_use, 2);
  await env.stack.oscOk(['volume', 'delete', 'r1'], alice);
});

test('retype of a volume a running VM holds: Azure refuses the SKU change, the volume is in-use again with its old type', async () => {
  const v = await env.stack.oscJson(['volume', 'create', '--size', '1', 'r2'], alice);
  await settled(v.id, (x) => x.status === 'available', 'available');
  const srv = await env.stack.oscJson(['server', 'create', '--image', 'ubuntu-22.04', '--flavor', 'm1.small', '--network', 'private', '--wait', 'rs'], alice);
  assert.equal(srv.status, 'ACTIVE');
  await env.stack.oscOk(['server', 'add', 'volume', 'rs', 'r2'], alice);
  await settled(v.id, (x) => x.status === 'in-use', 'in-use');
  const r = await cinder('POST', `/volumes/${v.id}/action`, retypeBody('fast'));
  assert.equal(r.status, 202);
  // Give the work its turn, then the volume is back where it was.
  await waitFor(
    'the retype to end',
    async () => {
      const reqs = await env.control.requests();
      return reqs.some((q) => q.method === 'PATCH' && q.path.endsWith(`/disks/volume-${v.id}`) && q.status === 409) ? true : undefined;
    },
    90000,
  );
  const back = await settled(v.id, (x) => x.status === 'in-use', 'in-use again');
  assert.equal(back.volume_type, '__DEFAULT__');
  assert.equal((await env.compute.disks.get(RG, `volume-${v.id}`)).sku?.name, 'Standard_LRS');
  const q = (await cinder('GET', `/os-quota-sets/${alice.projectId}?usage=True`)).body.quota_set;
  assert.equal(q.volumes_fast.reserved, 0);
  assert.equal(q.volumes_fast.in_use, 0);
  await env.stack.oscOk(['server', 'remove', 'volume', 'rs', 'r2'], alice);
  await settled(v.id, (x) => x.status === 'available', 'available');
  await env.stack.oscOk(['server', 'delete', '--wait', 'rs'], alice);
  await env.stack.oscOk(['volume', 'delete', 'r2'], alice);
});
