// Policy end to end: the pipeline enforces each route's upstream policy with upstream's defaults. A
// project reader lists but cannot create; a project member cannot run an admin action and is told the
// action's own upstream policy name; an admin of another project may (as Nova's and Cinder's admin can).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startArmStack, waitFor, type ArmStack } from '../support/armStack';
import type { Creds } from '../support/stack';

let arm: ArmStack;
let member: Creds & { projectId: string; userId: string };
let reader: Creds & { projectId: string; userId: string };
let tMember: string;
let tReader: string;
let tAdmin: string;
let adminProject: string;
let imageId: string;
let netId: string;

const nova = (method: string, p: string, token: string, body?: unknown) => arm.stack.http(method, `/compute/v2.1${p}`, { token, body });
const cinder = (method: string, p: string, token: string, project: string, body?: unknown) => arm.stack.http(method, `/volume/v3/${project}${p}`, { token, body });
const novaDenied = (name: string) => ({ forbidden: { code: 403, message: `Policy doesn't allow ${name} to be performed.` } });

before(async () => {
  arm = await startArmStack();
  const stack = arm.stack;
  member = await stack.makeProjectUser('pol', 'polmember');
  tAdmin = await stack.token();
  // A reader in the member's project.
  const password = 'Pw-polreader-1a';
  const u = await stack.http('POST', '/identity/v3/users', { token: tAdmin, body: { user: { name: 'polreader', password, default_project_id: member.projectId } } });
  assert.equal(u.status, 201, u.text);
  const roles = await stack.http('GET', '/identity/v3/roles?name=reader', { token: tAdmin });
  const g = await stack.http('PUT', `/identity/v3/projects/${member.projectId}/users/${u.body.user.id}/roles/${roles.body.roles[0].id}`, { token: tAdmin });
  assert.equal(g.status, 204, g.text);
  reader = { username: 'polreader', password, project: 'pol', projectId: member.projectId, userId: u.body.user.id };
  [tMember, tReader] = await Promise.all([stack.token(member), stack.token(reader)]);
  const me = await stack.http('GET', '/identity/v3/auth/tokens', { token: tAdmin, headers: { 'X-Subject-Token': tAdmin } });
  adminProject = me.body.token.project.id;
  const imgs = await stack.http('GET', '/image/v2/images?name=ubuntu-22.04', { token: tMember });
  imageId = imgs.body.images[0].id;
  const nets = await stack.http('GET', '/network/v2.0/networks?name=private', { token: tMember });
  netId = nets.body.networks[0].id;
});
after(async () => {
  arm?.control.close();
  await arm?.stop();
});

test('a project reader lists servers and volumes but may not create either (403 naming the upstream policy)', async () => {
  // Listing through the CLI works for a reader.
  await arm.stack.oscJson(['server', 'list'], reader);
  await arm.stack.oscJson(['volume', 'list'], reader);
  assert.equal((await nova('GET', '/servers/detail', tReader)).status, 200);
  assert.equal((await cinder('GET', '/volumes/detail', tReader, reader.projectId)).status, 200);

  const srv = await nova('POST', '/servers', tReader, { server: { name: 'nope', flavorRef: '3', imageRef: imageId, networks: [{ uuid: netId }] } });
  assert.equal(srv.status, 403, srv.text);
  assert.deepEqual(srv.body, novaDenied('os_compute_api:servers:create'));
  const cli = await arm.stack.osc(['volume', 'create', '--size', '1', 'nope'], reader);
  assert.notEqual(cli.code, 0);
  assert.match(cli.stderr, /Policy doesn't allow volume:create to be performed/);
  const vol = await cinder('POST', '/volumes', tReader, reader.projectId, { volume: { size: 1, name: 'nope' } });
  assert.equal(vol.status, 403, vol.text);
  assert.deepEqual(vol.body, { forbidden: { code: 403, message: "Policy doesn't allow volume:create to be performed." } });

  // Nothing was created.
  assert.deepEqual((await nova('GET', '/servers', tMember)).body.servers, []);
  assert.deepEqual((await cinder('GET', '/volumes', tMember, member.projectId)).body.volumes, []);

  // Each service refuses in its own words: Neutron (oslo.policy) and Glance.
  const net = await arm.stack.http('POST', '/network/v2.0/networks', { token: tReader, body: { network: { name: 'nope' } } });
  assert.equal(net.status, 403, net.text);
  assert.deepEqual(net.body, { NeutronError: { type: 'PolicyNotAuthorized', message: 'rule:create_network is disallowed by policy', detail: '' } });
  const img = await arm.stack.http('POST', '/image/v2/images', { token: tReader, body: { name: 'nope', disk_format: 'vhd', container_format: 'bare' } });
  assert.equal(img.status, 403, img.text);
  assert.match(img.text, /You are not authorized to complete add_image action\./);
});

test("a member runs a member action but not an admin one: 403 names the action's own upstream policy; another project's admin may", async () => {
  const created = await nova('POST', '/servers', tMember, { server: { name: 'pol1', flavorRef: '3', imageRef: imageId, networks: [{ uuid: netId }] } });
  assert.equal(created.status, 202, created.text);
  const id = created.body.server.id as string;
  const vr = await cinder('POST', '/volumes', tMember, member.projectId, { volume: { size: 1, name: 'polv' } });
  assert.equal(vr.status, 202, vr.text);
  const volId = vr.body.volume.id as string;
  await waitFor('server ACTIVE', async () => ((await nova('GET', `/servers/${id}`, tMember)).body.server?.status === 'ACTIVE' ? true : undefined));
  await waitFor('volume available', async () => ((await cinder('GET', `/volumes/${volId}`, tMember, member.projectId)).body.volume?.status === 'available' ? true : undefined));

  // A reader may not even run a member action; its refusal names os_compute_api:servers:reboot.
  const rb = await nova('POST', `/servers/${id}/action`, tReader, { reboot: { type: 'SOFT' } });
  assert.equal(rb.status, 403, rb.text);
  assert.deepEqual(rb.body, novaDenied('os_compute_api:servers:reboot'));

  // Member: resetState (admin) refused with its own policy; the server is untouched.
  const rs = await nova('POST', `/servers/${id}/action`, tMember, { 'os-resetState': { state: 'error' } });
  assert.equal(rs.status, 403, rs.text);
  assert.deepEqual(rs.body, novaDenied('os_compute_api:os-admin-actions:reset_state'));
  assert.equal((await nova('GET', `/servers/${id}`, tMember)).body.server.status, 'ACTIVE');
  // Member: Cinder's admin actions likewise.
  const vs = await cinder('POST', `/volumes/${volId}/action`, tMember, member.projectId, { 'os-reset_status': { status: 'error' } });
  assert.equal(vs.status, 403, vs.text);
  assert.deepEqual(vs.body, { forbidden: { code: 403, message: "Policy doesn't allow volume_extension:volume_admin_actions:reset_status to be performed." } });
  const fd = await cinder('POST', `/volumes/${volId}/action`, tMember, member.projectId, { 'os-force_delete': {} });
  assert.equal(fd.status, 403, fd.text);
  assert.deepEqual(fd.body, { forbidden: { code: 403, message: "Policy doesn't allow volume_extension:volume_admin_actions:force_delete to be performed." } });
  assert.equal((await cinder('GET', `/volumes/${volId}`, tMember, member.projectId)).body.volume.status, 'available');
  // Through the CLI, the member's refusal carries the same name.
  const cli = await arm.stack.osc(['volume', 'set', '--state', 'error', volId], member);
  assert.notEqual(cli.code, 0);
  assert.match(cli.stderr, /volume_extension:volume_admin_actions:reset_status/);

  // A member action passes the same enforcement point: os-extend names volume:extend, which a member holds.
  const ex = await cinder('POST', `/volumes/${volId}/action`, tMember, member.projectId, { 'os-extend': { new_size: 2 } });
  assert.equal(ex.status, 202, ex.text);
  await waitFor('volume extended', async () => {
    const v = (await cinder('GET', `/volumes/${volId}`, tMember, member.projectId)).body.volume;
    return v?.status === 'available' && v.size === 2 ? true : undefined;
  });

  // The admin of another project acts on the member's resources, as Nova's and Cinder's admin can.
  const ars = await nova('POST', `/servers/${id}/action`, tAdmin, { 'os-resetState': { state: 'active' } });
  assert.equal(ars.status, 202, ars.text);
  const avs = await cinder('POST', `/volumes/${volId}/action`, tAdmin, adminProject, { 'os-reset_status': { status: 'error' } });
  assert.equal(avs.status, 202, avs.text);
  assert.equal((await cinder('GET', `/volumes/${volId}`, tMember, member.projectId)).body.volume.status, 'error');
  // Cinder's URL project must be the token's, for admins too (400 before any policy).
  const wrong = await cinder('GET', '/volumes', tAdmin, member.projectId);
  assert.equal(wrong.status, 400, wrong.text);

  // A data-filtering policy: all_tenants is admin-only (os_compute_api:servers:index:get_all_tenants).
  const all = await nova('GET', '/servers?all_tenants=1', tMember);
  assert.equal(all.status, 403, all.text);
  assert.deepEqual(all.body, novaDenied('os_compute_api:servers:index:get_all_tenants'));
  const allAdmin = await nova('GET', '/servers?all_tenants=1', tAdmin);
  assert.ok(allAdmin.body.servers.some((s: { id: string }) => s.id === id));
});
