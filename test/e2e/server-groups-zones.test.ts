// Server groups in availability zones that map to Azure zones (docs/server-groups.md): an availability
// set cannot hold a zoned VM, so a strict anti-affinity member booted in such a zone ends ERROR with
// Nova's NoValidHost before any Azure call; an affinity member's proximity placement group takes its
// zone along.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startArmStack, waitFor, type ArmStack } from '../support/armStack';
import type { Creds } from '../support/stack';

const RG = 'ops_resource_group';
let arm: ArmStack;
let alice: Creds & { projectId: string; userId: string };
let token: string;
let image: string;
let net: string;

before(async () => {
  arm = await startArmStack({
    asyncDelayMs: 0,
    settings: {
      JACKET_CATALOG: JSON.stringify({
        availability_zones: [
          { name: 'az-1', azure_zone: '1' },
          { name: 'az-2', azure_zone: '2' },
        ],
      }),
    },
  });
  alice = await arm.stack.makeProjectUser('sgz', 'sgzalice');
  token = await arm.stack.token(alice);
  image = (await arm.stack.http('GET', '/image/v2/images?name=ubuntu-22.04', { token })).body.images[0].id;
  net = (await arm.stack.http('GET', '/network/v2.0/networks?name=private', { token })).body.networks[0].id;
});
after(async () => {
  arm?.control.close();
  await arm?.stop();
});

const nova = (method: string, p: string, body?: unknown) => arm.stack.http(method, `/compute/v2.1${p}`, { token, body });
const boot = (name: string, group: string) =>
  nova('POST', '/servers', { server: { name, flavorRef: '3', imageRef: image, networks: [{ uuid: net }], availability_zone: 'az-1' }, 'os:scheduler_hints': { group } });
const settled = (id: string) =>
  waitFor(
    `server ${id} settled`,
    async () => {
      const s = (await nova('GET', `/servers/${id}`)).body.server;
      return s.status === 'ACTIVE' || s.status === 'ERROR' ? s : undefined;
    },
    120000,
  );

test('anti-affinity in a zoned availability zone: ERROR NoValidHost, nothing PUT on Azure for the VM or a set', async () => {
  const g = (await nova('POST', '/os-server-groups', { server_group: { name: 'spread', policies: ['anti-affinity'] } })).body.server_group;
  await arm.control.clearRequests();
  const b = await boot('spread-1', g.id);
  assert.equal(b.status, 202, b.text);
  const s = await settled(b.body.server.id);
  assert.equal(s.status, 'ERROR');
  assert.equal(s.fault.code, 500);
  assert.match(s.fault.message, /^No valid host was found\. Anti-affinity server groups are Azure availability sets, which cannot hold a VM in availability zone az-1\.$/);
  const puts = (await arm.control.requests()).filter((r) => r.method === 'PUT' && /(virtualMachines|availabilitySets)\//i.test(r.path));
  assert.deepEqual(puts, []);
  assert.equal((await nova('DELETE', `/servers/${b.body.server.id}`)).status, 204);
  await waitFor('gone', async () => ((await nova('GET', `/servers/${b.body.server.id}`)).status === 404 ? true : undefined), 120000);
  assert.deepEqual((await nova('GET', `/os-server-groups/${g.id}`)).body.server_group.members, []);
});

test('affinity in a zoned availability zone: the VM is in zone 1 and in the group proximity placement group', async () => {
  const g = (await nova('POST', '/os-server-groups', { server_group: { name: 'near', policies: ['affinity'] } })).body.server_group;
  const b = await boot('near-1', g.id);
  assert.equal(b.status, 202, b.text);
  const s = await settled(b.body.server.id);
  assert.equal(s.status, 'ACTIVE', JSON.stringify(s.fault));
  const vm = await arm.compute.virtualMachines.get(RG, b.body.server.id);
  assert.deepEqual(vm.zones, ['1']);
  assert.match(vm.proximityPlacementGroup?.id ?? '', new RegExp(`/proximityPlacementGroups/ppg-${g.id}$`, 'i'));
});
