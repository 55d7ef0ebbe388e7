// os-server-groups end to end (docs/server-groups.md): the real CLI and HTTP against the ARM emulator.
// A group is a record; its members join at server create (scheduler hint `group`) under the group's
// ETag, with server_group_members checked there; server_groups is a ledger counter. On Azure,
// anti-affinity members join an availability set `avset-<group>`, affinity members a proximity
// placement group `ppg-<group>`; the resource goes when the group is deleted and no VM is left in it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startArmStack, waitFor, type ArmStack } from '../support/armStack';
import { assertNovaResponse } from '../support/oracle';
import { absentOnAzure, aliceAndBob, imageId, networkId, race, type ProjectUser } from '../support/fixtures';

const RG = 'ops_resource_group';
let arm: ArmStack;
let alice: ProjectUser;
let tAlice: string, tBob: string, tAdmin: string;
let image: string, net: string;

before(async () => {
  arm = await startArmStack({ asyncDelayMs: 0 });
  ({ alice, tAlice, tBob, tAdmin } = await aliceAndBob(arm.stack, ['sg-a', 'sgalice'], ['sg-b', 'sgbob']));
  [image, net] = await Promise.all([imageId(arm.stack, tAlice), networkId(arm.stack, tAlice)]);
});
after(() => arm?.stop());

const nova = (token: string) => (method: string, p: string, body?: unknown) => arm.stack.http(method, `/compute/v2.1${p}`, { token, body });
const asAlice = (method: string, p: string, body?: unknown) => nova(tAlice)(method, p, body);

const bootBody = (name: string, group?: string) => ({
  server: { name, flavorRef: '3', imageRef: image, networks: [{ uuid: net }] },
  ...(group ? { 'os:scheduler_hints': { group } } : {}),
});

async function waitStatus(id: string, status: string, token = tAlice) {
  return waitFor(
    `server ${id} ${status}`,
    async () => {
      const r = await nova(token)('GET', `/servers/${id}`);
      if (r.body?.server?.status === 'ERROR' && status !== 'ERROR') throw new Error(`server ${id} went ERROR: ${JSON.stringify(r.body.server.fault)}`);
      return r.body?.server?.status === status ? r.body.server : undefined;
    },
    120000,
  );
}
async function waitGone(id: string, token = tAlice) {
  await waitFor(`server ${id} gone`, async () => ((await nova(token)('GET', `/servers/${id}`)).status === 404 ? true : undefined), 120000);
}
const members = async (id: string) => (await asAlice('GET', `/os-server-groups/${id}`)).body.server_group.members as string[];

test('CLI: server group create/list/show, boot into an anti-affinity group (an availability set on Azure), delete the server and the group', async () => {
  const g = await arm.stack.oscJson<{ id: string; name: string; policy?: string; policies?: string | string[]; members: string | string[] }>(
    ['server', 'group', 'create', '--policy', 'anti-affinity', 'g1'],
    alice,
  );
  assert.equal(g.name, 'g1');
  assert.match(JSON.stringify(g.policies ?? g.policy), /anti-affinity/);
  const listed = await arm.stack.oscJson<{ ID: string; Name: string }[]>(['server', 'group', 'list'], alice);
  assert.deepEqual(
    listed.map((x) => [x.ID, x.Name]),
    [[g.id, 'g1']],
  );
  const shown = await arm.stack.oscJson<{ id: string; name: string }>(['server', 'group', 'show', g.id], alice);
  assert.equal(shown.id, g.id);
  // By name too (the CLI finds it in the list).
  assert.equal((await arm.stack.oscJson<{ id: string }>(['server', 'group', 'show', 'g1'], alice)).id, g.id);

  const srv = await arm.stack.oscJson<{ id: string; status: string }>(['server', 'create', '--flavor', '3', '--image', image, '--network', net, '--hint', `group=${g.id}`, '--wait', 'g1-vm'], alice);
  assert.equal(srv.status, 'ACTIVE');
  assert.deepEqual(await members(g.id), [srv.id]);
  // On Azure: the VM is in the availability set made for the group, tagged as Jacket's.
  const vm = await arm.compute.virtualMachines.get(RG, srv.id);
  assert.match(vm.availabilitySet?.id ?? '', new RegExp(`/availabilitySets/avset-${g.id}$`, 'i'));
  assert.equal(vm.proximityPlacementGroup, undefined);
  const avset = await arm.compute.availabilitySets.get(RG, `avset-${g.id}`);
  assert.equal(avset.sku?.name, 'Aligned');
  assert.equal(avset.platformFaultDomainCount, 2);
  assert.equal(avset.platformUpdateDomainCount, 20);
  assert.deepEqual(avset.tags, { jacket: 'server-group', 'jacket-server-group-id': g.id, 'jacket-project-id': alice.projectId });
  assert.deepEqual(
    (avset.virtualMachines ?? []).map((v) => v.id?.toLowerCase()),
    [vm.id?.toLowerCase()],
  );

  // The server's delete takes it out of the group; the group's delete takes the empty set away.
  await arm.stack.oscOk(['server', 'delete', '--wait', srv.id], alice);
  assert.deepEqual(await members(g.id), []);
  assert.ok(await arm.compute.availabilitySets.get(RG, `avset-${g.id}`), 'the set stays while its group does');
  await arm.stack.oscOk(['server', 'group', 'delete', 'g1'], alice);
  assert.equal((await asAlice('GET', `/os-server-groups/${g.id}`)).status, 404);
  await waitFor('the availability set deleted', async () => ((await absentOnAzure(arm.compute.availabilitySets.get(RG, `avset-${g.id}`))) ? true : undefined));
});

test('HTTP at 2.1: Nova shapes; affinity is a proximity placement group; a group deleted under a live member keeps its PPG until that member goes', async () => {
  const c = await asAlice('POST', '/os-server-groups', { server_group: { name: 'near', policies: ['affinity'] } });
  assert.equal(c.status, 200, c.text);
  assertNovaResponse('server_groups', 'ServerGroupController', 'create', '2.1', c.body);
  const g = c.body.server_group;
  assert.deepEqual(g, { id: g.id, name: 'near', policies: ['affinity'], members: [], metadata: {} });
  const l = await asAlice('GET', '/os-server-groups');
  assertNovaResponse('server_groups', 'ServerGroupController', 'index', '2.1', l.body);

  const b = await asAlice('POST', '/servers', bootBody('near-1', g.id));
  assert.equal(b.status, 202, b.text);
  const id = b.body.server.id;
  await waitStatus(id, 'ACTIVE');
  const s = await asAlice('GET', `/os-server-groups/${g.id}`);
  assertNovaResponse('server_groups', 'ServerGroupController', 'show', '2.1', s.body);
  assert.deepEqual(s.body.server_group.members, [id]);
  const vm = await arm.compute.virtualMachines.get(RG, id);
  assert.match(vm.proximityPlacementGroup?.id ?? '', new RegExp(`/proximityPlacementGroups/ppg-${g.id}$`, 'i'));
  assert.equal(vm.availabilitySet, undefined);
  const ppg = await arm.compute.proximityPlacementGroups.get(RG, `ppg-${g.id}`);
  assert.equal(ppg.tags?.jacket, 'server-group');

  // Nova deletes a group with members; the member keeps running, so its PPG stays (Azure would refuse anyway).
  const d = await asAlice('DELETE', `/os-server-groups/${g.id}`);
  assert.equal(d.status, 204);
  assert.equal(d.text, '');
  await new Promise((r) => setTimeout(r, 1500));
  assert.ok(await arm.compute.proximityPlacementGroups.get(RG, `ppg-${g.id}`), 'in use: kept');
  assert.equal((await asAlice('DELETE', `/servers/${id}`)).status, 204);
  await waitGone(id);
  await waitFor('the PPG deleted after its last member', async () => ((await absentOnAzure(arm.compute.proximityPlacementGroups.get(RG, `ppg-${g.id}`))) ? true : undefined));
});

test('quotas: 4 parallel boots into a group with server_group_members 2 admit exactly 2; server_groups counted as a ledger (3 racing creates, 1 left); /limits shows the true usage', async () => {
  const groupsBefore = (await asAlice('GET', '/os-server-groups')).body.server_groups.length;
  assert.equal(
    (await arm.stack.http('PUT', `/compute/v2.1/os-quota-sets/${alice.projectId}`, { token: tAdmin, body: { quota_set: { server_group_members: 2, server_groups: groupsBefore + 2 } } })).status,
    200,
  );
  const g = (await asAlice('POST', '/os-server-groups', { server_group: { name: 'race', policies: ['anti-affinity'] } })).body.server_group;

  const answers = await race(4, (i) => asAlice('POST', '/servers', bootBody(`race-${i}`, g.id)));
  assert.deepEqual(answers.map((a) => a.status).sort(), [202, 202, 403, 403], answers.map((a) => a.text.slice(0, 200)).join(' | '));
  for (const a of answers.filter((x) => x.status === 403)) assert.equal(a.body.forbidden.message, 'Quota exceeded, too many servers in group');
  const admitted = answers.filter((a) => a.status === 202).map((a) => a.body.server.id as string);
  assert.deepEqual((await members(g.id)).sort(), [...admitted].sort());
  // The refused ones made nothing: no server record, and the instance usage was given back.
  const names = ((await asAlice('GET', '/servers')).body.servers as { name: string }[]).map((x) => x.name).filter((n) => n.startsWith('race-'));
  assert.equal(names.length, 2);

  // server_groups: one left, three racing creates.
  const gs = await Promise.all([0, 1, 2].map((i) => asAlice('POST', '/os-server-groups', { server_group: { name: `q${i}`, policies: ['affinity'] } })));
  assert.deepEqual(gs.map((x) => x.status).sort(), [200, 403, 403], gs.map((x) => x.text).join(' | '));
  for (const x of gs.filter((y) => y.status === 403)) assert.equal(x.body.forbidden.message, 'Quota exceeded, too many server groups.');
  const count = (await asAlice('GET', '/os-server-groups')).body.server_groups.length;
  assert.equal(count, groupsBefore + 2);
  const limits = (await asAlice('GET', '/limits')).body.limits.absolute;
  assert.equal(limits.totalServerGroupsUsed, count);
  assert.equal(limits.maxServerGroups, groupsBefore + 2);
  assert.equal(limits.maxServerGroupMembers, 2);
  const detail = (await arm.stack.http('GET', `/compute/v2.1/os-quota-sets/${alice.projectId}/detail`, { token: tAdmin })).body.quota_set;
  assert.equal(detail.server_groups.in_use, count);
  const rows = await arm.stack.oscJson<{ Resource: string; 'In Use'?: number; Limit?: number }[]>(['quota', 'show', '--usage', '--compute'], alice);
  const sg = rows.find((r) => r.Resource === 'server-groups' || r.Resource === 'server_groups');
  assert.ok(sg, JSON.stringify(rows));
  assert.equal(sg['In Use'], count);

  // Deleting a member frees its place in the group; deleting a group gives server_groups back.
  assert.equal((await asAlice('DELETE', `/servers/${admitted[0]}`)).status, 204);
  await waitGone(admitted[0]);
  assert.deepEqual(await members(g.id), [admitted[1]]);
  const third = await asAlice('POST', '/servers', bootBody('race-again', g.id));
  assert.equal(third.status, 202, third.text);
  const made = gs.find((x) => x.status === 200)!.body.server_group.id;
  assert.equal((await asAlice('DELETE', `/os-server-groups/${made}`)).status, 204);
  assert.equal((await asAlice('GET', '/limits')).body.limits.absolute.totalServerGroupsUsed, count - 1);
  for (const id of [admitted[1], third.body.server.id]) assert.equal((await asAlice('DELETE', `/servers/${id}`)).status, 204);
  for (const id of [admitted[1], third.body.server.id]) await waitGone(id);
  assert.equal((await asAlice('DELETE', `/os-server-groups/${g.id}`)).status, 204);
});

test("bad input gets Nova's 400/404 and changes nothing; other projects' groups: 403/404, all_projects for admins; limit/offset", async () => {
  const before = (await asAlice('GET', '/os-server-groups')).body.server_groups;
  const cases: [unknown, RegExp][] = [
    [{ server_group: { name: 'x', policies: ['spread'] } }, /^Invalid input for field\/attribute 0\. Value: spread\. 'spread' is not one of \['anti-affinity', 'affinity'\]$/],
    // The soft policies arrive with 2.15; Jacket advertises 2.1.
    [{ server_group: { name: 'x', policies: ['soft-anti-affinity'] } }, /is not one of/],
    [{ server_group: { name: 'x', policies: ['affinity', 'anti-affinity'] } }, /is too long|has non-unique|Additional items/],
    [{ server_group: { name: 'x', policies: [] } }, /should be non-empty|is too short/],
    [{ server_group: { name: '', policies: ['affinity'] } }, /Invalid input for field\/attribute name/],
    [{ server_group: { name: 'x' } }, /'policies' is a required property/],
    [{ server_group: { name: 'x', policies: ['affinity'], rules: {} } }, /Additional properties are not allowed \('rules' was unexpected\)/],
  ];
  for (const [body, message] of cases) {
    const r = await asAlice('POST', '/os-server-groups', body);
    assert.equal(r.status, 400, JSON.stringify(body));
    assert.match(r.body.badRequest.message, message, JSON.stringify(body));
  }
  const cli = await arm.stack.osc(['server', 'group', 'create', '--policy', 'spread', 'bad'], alice);
  assert.notEqual(cli.code, 0);
  assert.deepEqual((await asAlice('GET', '/os-server-groups')).body.server_groups, before);

  const unknown = '0b5c0e5e-0000-4000-8000-000000000000';
  for (const id of [unknown, 'not-a-uuid', 'a%2Fb']) {
    const r = await asAlice('GET', `/os-server-groups/${id}`);
    assert.equal(r.status, 404, id);
    if (id === unknown) assert.equal(r.body.itemNotFound.message, `Instance group ${unknown} could not be found.`);
    assert.equal((await asAlice('DELETE', `/os-server-groups/${id}`)).status, 404);
  }
  // Boot into an unknown group: 400 InstanceGroupNotFound, no server made.
  const serversBefore = (await asAlice('GET', '/servers')).body.servers.length;
  const b = await asAlice('POST', '/servers', bootBody('lost', unknown));
  assert.equal(b.status, 400, b.text);
  assert.equal(b.body.badRequest.message, `Instance group ${unknown} could not be found.`);
  const b2 = await asAlice('POST', '/servers', bootBody('lost', 'nope'));
  assert.equal(b2.status, 400, b2.text);
  assert.equal((await asAlice('GET', '/servers')).body.servers.length, serversBefore);

  // Another project's group: visible to its project and admins only.
  const bg = (await nova(tBob)('POST', '/os-server-groups', { server_group: { name: 'bobs', policies: ['affinity'] } })).body.server_group;
  const seen = await asAlice('GET', `/os-server-groups/${bg.id}`);
  assert.equal(seen.status, 403);
  assert.equal(seen.body.forbidden.message, "Policy doesn't allow os_compute_api:os-server-groups:show to be performed.");
  assert.equal((await asAlice('DELETE', `/os-server-groups/${bg.id}`)).status, 403);
  assert.ok(!(await asAlice('GET', '/os-server-groups?all_projects=True')).body.server_groups.some((x: { id: string }) => x.id === bg.id), 'all_projects is ignored for non-admins');
  const boot = await asAlice('POST', '/servers', bootBody('into-bobs', bg.id));
  assert.equal(boot.status, 400);
  assert.equal((await nova(tAdmin)('GET', `/os-server-groups/${bg.id}`)).status, 200);
  const all = (await nova(tAdmin)('GET', '/os-server-groups?all_projects=True')).body.server_groups.map((x: { id: string }) => x.id);
  assert.ok(all.includes(bg.id));

  // limit/offset as Nova's common.limited.
  const two = (await nova(tBob)('POST', '/os-server-groups', { server_group: { name: 'bobs2', policies: ['anti-affinity'] } })).body.server_group;
  const page = async (q: string) => (await nova(tBob)('GET', `/os-server-groups${q}`)).body.server_groups.map((x: { id: string }) => x.id);
  assert.deepEqual(await page(''), [bg.id, two.id]);
  assert.deepEqual(await page('?limit=1'), [bg.id]);
  assert.deepEqual(await page('?limit=1&offset=1'), [two.id]);
  assert.deepEqual(await page('?offset=2'), []);
  const neg = await nova(tBob)('GET', '/os-server-groups?limit=-1');
  assert.equal(neg.status, 400);
  assert.match(neg.body.badRequest.message, /^Invalid input for query parameters limit\./);
});

test('a strict group member Azure cannot place ends ERROR as NoValidHost, and leaves the group when deleted', async () => {
  const g = (await asAlice('POST', '/os-server-groups', { server_group: { name: 'tight', policies: ['affinity'] } })).body.server_group;
  await arm.control.addFault({
    method: 'PUT',
    path: '/virtualMachines/',
    failAsync: true,
    code: 'OverconstrainedAllocationRequest',
    message: 'Allocation failed. VM(s) with the following constraints cannot be allocated, because the condition is too restrictive.',
  });
  const b = await asAlice('POST', '/servers', bootBody('tight-1', g.id));
  assert.equal(b.status, 202, b.text);
  const id = b.body.server.id;
  const srv = await waitStatus(id, 'ERROR');
  assert.equal(srv.fault.code, 500);
  assert.match(srv.fault.message, /^No valid host was found\. Allocation failed/);
  assert.deepEqual(await members(g.id), [id]);
  assert.equal((await asAlice('DELETE', `/servers/${id}`)).status, 204);
  await waitGone(id);
  assert.deepEqual(await members(g.id), []);
  assert.equal((await asAlice('DELETE', `/os-server-groups/${g.id}`)).status, 204);
});
