// The periodic tasks that keep servers and Azure in agreement, end to end: servers made through the
// API, changed behind Jacket's back with the ARM emulator's control API (power state, deletion) or by
// leaving a crashed action in the records, then the periodic function called as the timer calls it,
// and the result read through the real `openstack` CLI and the API (bodies checked against Nova's).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startArmStack, waitFor, type ArmStack } from '../support/armStack';
import { imageId, networkId, oneUser, settledServer, type ProjectUser } from '../support/fixtures';
import { assertNovaResponse } from '../support/oracle';
import { createServices, type Services } from '../../shared/services';
import type { JacketConfig } from '../../shared/config';
import { log } from '../../shared/log';
import { reconcileServers, sweepVms, MISSING_VM_MESSAGE } from '../../shared/timers/reconcile';
import { finishStaleTasks } from '../../shared/timers/staleTasks';
import { confirmResizes } from '../../shared/timers/resizeConfirm';
import { getServerAny, removeServer, updateServer } from '../../shared/compute/servers/model';
import { startAction } from '../../shared/compute/servers/instanceActions';

let arm: ArmStack;
let s: Services;
let alice: ProjectUser;
let tAlice: string, tAdmin: string;
const RG = 'ops_resource_group';
const http = (method: string, path: string, token: string, body?: unknown) => arm.stack.http(method, `/compute/v2.1${path}`, { token, body });

/** The same services with some settings changed (the stack's queue and tables). */
const withConfig = (change: (c: JacketConfig) => JacketConfig): Services => createServices(change(s.config));

async function show(id: string, token = tAdmin) {
  const r = await http('GET', `/servers/${id}`, token);
  assert.equal(r.status, 200, r.text);
  assertNovaResponse('servers', 'ServersController', 'show', '2.1', r.body);
  return r.body.server;
}
const waitStatus = (id: string, status: string) => settledServer(show, id, status);
const vmId = (id: string) => `/subscriptions/${arm.emu.subscriptionId}/resourceGroups/${RG}/providers/Microsoft.Compute/virtualMachines/${id}`;
const vmExists = async (id: string) => {
  try {
    await arm.compute.virtualMachines.get(RG, id);
    return true;
  } catch (e) {
    if ((e as { statusCode?: number }).statusCode === 404) return false;
    throw e;
  }
};

let image: string, net: string;
async function createServer(name: string): Promise<string> {
  const r = await http('POST', '/servers', tAlice, { server: { name, flavorRef: '3', imageRef: image, networks: [{ uuid: net }] } });
  assert.equal(r.status, 202, r.text);
  return r.body.server.id;
}

before(async () => {
  arm = await startArmStack();
  s = arm.stack.cloud.services;
  ({ user: alice, token: tAlice, tAdmin } = await oneUser(arm.stack, 'rc-a', 'alice'));
  [image, net] = await Promise.all([imageId(arm.stack, tAlice), networkId(arm.stack, tAlice)]);
});
after(() => arm?.stop());

test("power sync: a VM deallocated behind Jacket's back shows SHUTOFF, started again shows ACTIVE", async () => {
  const id = await createServer('rc-power');
  await waitStatus(id, 'ACTIVE');
  await arm.control.setPowerState(vmId(id), 'deallocated');
  const r1 = await reconcileServers(s);
  assert.equal(r1.ran, true);
  assert.equal(r1.outcomes.shutoff, 1, JSON.stringify(r1));
  assert.ok(r1.ids.includes(id));
  const cli = await arm.stack.oscJson(['server', 'show', id], alice);
  assert.equal(cli.status, 'SHUTOFF');
  assert.equal(cli['OS-EXT-STS:power_state'], 4);
  assert.equal(cli['OS-EXT-STS:vm_state'], 'stopped');
  // in sync now: nothing changes on the next pass
  const r2 = await reconcileServers(s);
  assert.equal(r2.ids.includes(id), false);
  await arm.control.setPowerState(vmId(id), 'running');
  const r3 = await reconcileServers(s);
  assert.equal(r3.outcomes.running, 1, JSON.stringify(r3));
  const back = await show(id);
  assert.equal(back.status, 'ACTIVE');
  assert.equal(back['OS-EXT-STS:power_state'], 1);
});

test("a VM deleted behind Jacket's back: ERROR with a fault, or (JACKET_MISSING_VM=delete) the server is deleted", async () => {
  const [a, b] = [await createServer('rc-gone-a'), await createServer('rc-gone-b')];
  await Promise.all([waitStatus(a, 'ACTIVE'), waitStatus(b, 'ACTIVE')]);
  await arm.control.deleteResource(vmId(a));
  const r = await reconcileServers(s);
  assert.ok(r.ids.includes(a), JSON.stringify(r));
  const v = await show(a, tAlice);
  assert.equal(v.status, 'ERROR');
  assert.equal(v.fault.message, MISSING_VM_MESSAGE);
  assert.equal(v.fault.code, 500);
  // already reported: a second pass leaves it alone
  assert.equal((await reconcileServers(s)).ids.includes(a), false);

  await arm.control.deleteResource(vmId(b));
  const del = withConfig((c) => ({ ...c, periodic: { ...c.periodic, missingVm: 'delete' } }));
  const r2 = await reconcileServers(del, new Date());
  // b, and a too: an ERROR server whose VM is gone is cleaned up under this setting
  assert.ok(r2.ids.includes(b) && r2.ids.includes(a), JSON.stringify(r2));
  await waitFor(`server ${b} deleted`, async () => ((await http('GET', `/servers/${b}`, tAlice)).status === 404 ? true : undefined));
  const cli = await arm.stack.osc(['server', 'show', b], alice);
  assert.notEqual(cli.code, 0);
  assert.match(cli.stderr, new RegExp(b));
});

test('a pass reads Azure with one list of VM states, not a GET per server; a VM known missing costs nothing', async () => {
  const ids = [await createServer('rc-list-a'), await createServer('rc-list-b'), await createServer('rc-list-c')];
  await Promise.all(ids.map((id) => waitStatus(id, 'ACTIVE')));
  const seq = (await arm.control.requests()).reduce((m, r) => Math.max(m, r.seq), 0);
  const r = await reconcileServers(s);
  assert.equal(r.ran, true);
  const calls = (await arm.control.requests(seq)).filter((c) => c.path.includes('Microsoft.Compute'));
  // The whole pass is VirtualMachines_ListAll?statusOnly=true: one call, whatever the number of servers
  // (other tests' servers included), and no per-VM GET.
  assert.deepEqual(
    calls.map((c) => `${c.method} ${c.path.replace(/\/subscriptions\/[^/]+/, '')}`),
    ['GET /providers/Microsoft.Compute/virtualMachines'],
    JSON.stringify(calls.map((c) => `${c.method} ${c.path}`)),
  );
  assert.ok(
    ids.every((id) => !r.ids.includes(id)),
    'in sync: nothing changed',
  );

  // Deleted behind Jacket's back: the first pass confirms with one GET (a list may lag a new VM) and
  // marks ERROR; later passes know it is missing and read nothing more for it.
  await arm.control.deleteResource(vmId(ids[0]));
  const seq2 = (await arm.control.requests()).reduce((m, x) => Math.max(m, x.seq), 0);
  const r2 = await reconcileServers(s);
  assert.ok(r2.ids.includes(ids[0]), JSON.stringify(r2));
  const gets = (await arm.control.requests(seq2)).filter((c) => c.path.includes(`/virtualMachines/${ids[0]}`));
  assert.equal(gets.length, 1, JSON.stringify(gets));
  const seq3 = (await arm.control.requests()).reduce((m, x) => Math.max(m, x.seq), 0);
  const r3 = await reconcileServers(s);
  assert.equal(r3.ids.includes(ids[0]), false);
  assert.equal((await arm.control.requests(seq3)).filter((c) => c.path.includes(`/virtualMachines/${ids[0]}`)).length, 0);
  assert.equal((await show(ids[0], tAlice)).status, 'ERROR');
});

test('a VM whose record is gone is deleted on the second sweep pass, not the first; a metric line is emitted', async () => {
  const id = await createServer('rc-orphan');
  const keep = await createServer('rc-keep');
  await Promise.all([waitStatus(id, 'ACTIVE'), waitStatus(keep, 'ACTIVE')]);
  await removeServer(s, (await getServerAny(s, id))!); // deleted in Jacket, still running on Azure
  const lines: Record<string, unknown>[] = [];
  log.setLevel('info');
  log.setSink((l) => lines.push(JSON.parse(l)));
  try {
    const p1 = await sweepVms(s);
    assert.equal(p1.deleted, 0);
    assert.equal(p1.skipped['first-pass'], 1, JSON.stringify(p1));
    assert.ok((p1.skipped['server-record'] ?? 0) >= 1);
    assert.equal(await vmExists(id), true);
    const p2 = await sweepVms(s);
    assert.deepEqual(p2.deletedNames, [id]);
  } finally {
    log.setSink((l) => process.stdout.write(l + '\n'));
    log.setLevel('silent');
  }
  assert.equal(await vmExists(id), false);
  assert.equal(await vmExists(keep), true);
  const metric = lines.find((l) => l.msg === 'metric' && l.metric === 'jacket.sweep.deleted' && l.sweep === 'sweep-vms' && l.value === 1);
  assert.ok(metric, JSON.stringify(lines.filter((l) => l.msg === 'metric')));
  const done = lines.find((l) => l.msg === 'sweep done' && l.sweep === 'sweep-vms');
  assert.ok(done);
});

test('crashed actions: a stuck power action or cold migrate is rolled back with a fault, a stuck delete is resumed', async () => {
  const stuck = await createServer('rc-stuck');
  const dying = await createServer('rc-dying');
  const moving = await createServer('rc-moving');
  await Promise.all([waitStatus(stuck, 'ACTIVE'), waitStatus(dying, 'ACTIVE'), waitStatus(moving, 'ACTIVE')]);
  // A cold migrate (resize_migrating, like a resize, but no resize row to resume from): rolled back at once.
  const m = (await getServerAny(s, moving))!;
  await updateServer(s, m, (v) => ({ ...v, task_state: 'resize_migrating' }));
  // An os-stop whose work item was lost: task_state set, instance action open, nothing queued.
  const cur = (await getServerAny(s, stuck))!;
  await updateServer(s, cur, (v) => ({ ...v, task_state: 'powering-off' }));
  await startAction(s, cur.value, 'stop', 'req-lost-stop', alice.userId, 'compute_stop_instance');
  const d = (await getServerAny(s, dying))!;
  await updateServer(s, d, (v) => ({ ...v, task_state: 'deleting' }));

  // Not yet stale: untouched.
  const early = await finishStaleTasks(s);
  assert.equal(early.changed, 0, JSON.stringify(early));
  const later = new Date(Date.now() + (s.config.periodic.staleTaskSeconds + 60) * 1000);
  const r = await finishStaleTasks(s, later);
  assert.equal(r.outcomes['rolled-back'], 2, JSON.stringify(r));
  assert.equal(r.outcomes['re-enqueued'], 1, JSON.stringify(r));

  const v = await show(stuck, tAlice);
  assert.equal(v.status, 'ACTIVE');
  assert.equal(v['OS-EXT-STS:task_state'], null);
  // Nova shows a fault only in ERROR: the record keeps it
  assert.equal(v.fault, undefined);
  assert.match((await getServerAny(s, stuck))!.value.fault!.message, /^The powering-off task did not finish within 30 minutes/);
  const mv = await show(moving, tAlice);
  assert.equal(mv.status, 'ACTIVE');
  assert.equal(mv['OS-EXT-STS:task_state'], null);
  const actions = await http('GET', `/servers/${stuck}/os-instance-actions/req-lost-stop`, tAlice);
  assert.equal(actions.status, 200, actions.text);
  assert.equal(actions.body.instanceAction.message, 'Error');
  // the delete's teardown ran again from the re-enqueued step
  await waitFor(`server ${dying} deleted`, async () => ((await http('GET', `/servers/${dying}`, tAlice)).status === 404 ? true : undefined));
  assert.equal(await vmExists(dying), false);
});

test('resize_confirm_window: a VERIFY_RESIZE server is confirmed by the timer after the window', async () => {
  const id = await createServer('rc-resize');
  await waitStatus(id, 'ACTIVE');
  const r = await http('POST', `/servers/${id}/action`, tAlice, { resize: { flavorRef: '4' } });
  assert.equal(r.status, 202, r.text);
  await waitStatus(id, 'VERIFY_RESIZE');
  assert.equal((await confirmResizes(s)).ran, false); // window 0 (Nova's default): off
  const on = withConfig((c) => ({ ...c, periodic: { ...c.periodic, resizeConfirmWindow: 60 } }));
  assert.equal((await confirmResizes(on)).changed, 0); // not yet past the window
  const rep = await confirmResizes(on, new Date(Date.now() + 120_000));
  assert.deepEqual(rep.ids, [id]);
  const cli = await arm.stack.oscJson(['server', 'show', id], alice);
  assert.equal(cli.status, 'ACTIVE');
  assert.match(JSON.stringify(cli.flavor), /m1\.large/);
  const acts = await http('GET', `/servers/${id}/os-instance-actions`, tAlice);
  assert.ok(acts.body.instanceActions.some((a: { action: string }) => a.action === 'confirmResize'));
  // Nova's _poll_unconfirmed_resizes confirms the migration record too.
  const migs = await http('GET', `/os-migrations?instance_uuid=${id}`, tAdmin);
  assert.deepEqual(
    migs.body.migrations.map((m: { status: string }) => m.status),
    ['confirmed'],
  );
});
