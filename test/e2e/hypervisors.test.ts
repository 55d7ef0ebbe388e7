// /os-hypervisors end to end: the available-resource update (called as its timer calls it) reads the
// ARM emulator's regional Compute usages and the server records; `openstack hypervisor list` and
// `hypervisor stats show` (admin) show the emulator's figures; every body is checked against Nova's
// response schema at 2.1; members get 403; Nova's 404 and 501 answers.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startArmStack, waitFor, type ArmStack } from '../support/armStack';
import { imageId, networkId, oneUser } from '../support/fixtures';
import { assertNovaResponse } from '../support/oracle';
import type { Services } from '../../shared/services';
import { updateHypervisors } from '../../shared/compute/hypervisors/api';
import { ArmRegionalUsage, setRegionalUsage } from '../../shared/compute/quotas/limits';
import { log } from '../../shared/log';

let arm: ArmStack;
let s: Services;
let tAlice: string, tAdmin: string;
const http = (path: string, token: string) => arm.stack.http('GET', `/compute/v2.1${path}`, { token });

/** The emulator's regional vCPU usage and limit, as Azure's usages API reports them. */
async function cores(): Promise<{ current: number; limit: number }> {
  for await (const u of arm.compute.usage.list(arm.emu.location)) if (u.name?.value === 'cores') return { current: u.currentValue, limit: u.limit };
  throw new Error('no cores usage');
}

before(async () => {
  arm = await startArmStack();
  s = arm.stack.cloud.services;
  setRegionalUsage(s, new ArmRegionalUsage(s, 0)); // no cache: each update reads Azure again
  ({ token: tAlice, tAdmin } = await oneUser(arm.stack, 'hv-a', 'alice'));
  const [image, net] = await Promise.all([imageId(arm.stack, tAlice), networkId(arm.stack, tAlice)]);
  const r = await arm.stack.http('POST', '/compute/v2.1/servers', { token: tAlice, body: { server: { name: 'hv1', flavorRef: '3', imageRef: image, networks: [{ uuid: net }] } } });
  assert.equal(r.status, 202, r.text);
  await waitFor('hv1 ACTIVE', async () => ((await http(`/servers/${r.body.server.id}`, tAlice)).body.server.status === 'ACTIVE' ? true : undefined));
});
after(() => arm?.stop());

test("openstack hypervisor stats show / hypervisor list reflect the emulator's regional usage and quota", async () => {
  const rep = await updateHypervisors(s);
  assert.equal(rep.ran, true);
  assert.equal(rep.changed, 1);
  const az = await cores();
  assert.ok(az.current >= 2, JSON.stringify(az)); // hv1's flavor has 2 vCPUs

  const stats = await arm.stack.oscJson(['hypervisor', 'stats', 'show']);
  assert.equal(stats.count, 1);
  assert.equal(stats.vcpus, az.limit);
  assert.equal(stats.vcpus_used, az.current);
  assert.equal(stats.running_vms, 1);
  assert.equal(stats.memory_mb_used, 4096); // flavor 3: 4 GiB
  const list = await arm.stack.oscJson(['hypervisor', 'list']);
  assert.equal(list.length, 1);
  assert.equal(list[0]['Hypervisor Hostname'], arm.emu.location);
  assert.equal(list[0].State, 'up');

  // the subscription's quota raised: the next update shows it
  await arm.control.setConfig({ coresQuota: 350 });
  await updateHypervisors(s);
  assert.equal((await arm.stack.oscJson(['hypervisor', 'stats', 'show'])).vcpus, 350);
});

test("list, detail, show, statistics, search match Nova's 2.1 schemas; members 403; Nova's 404 and 501", async () => {
  const index = await http('/os-hypervisors', tAdmin);
  assert.equal(index.status, 200, index.text);
  assertNovaResponse('hypervisors', 'HypervisorsController', 'index', '2.1', index.body);
  const detail = await http('/os-hypervisors/detail', tAdmin);
  assertNovaResponse('hypervisors', 'HypervisorsController', 'detail', '2.1', detail.body);
  const h = detail.body.hypervisors[0];
  assert.equal(h.free_ram_mb, h.memory_mb - h.memory_mb_used);
  assert.equal(h.service.host, `azure-${arm.emu.location}`);
  const show = await http(`/os-hypervisors/${h.id}`, tAdmin);
  assert.equal(show.status, 200);
  assertNovaResponse('hypervisors', 'HypervisorsController', 'show', '2.1', show.body);
  assert.deepEqual(show.body.hypervisor, h);
  const stats = await http('/os-hypervisors/statistics', tAdmin);
  assertNovaResponse('hypervisors', 'HypervisorsController', 'statistics', '2.1', stats.body);
  const search = await http(`/os-hypervisors/${arm.emu.location.slice(0, 3)}/search`, tAdmin);
  assert.equal(search.status, 200);
  assertNovaResponse('hypervisors', 'HypervisorsController', 'search', '2.1', search.body);

  for (const p of ['/os-hypervisors', '/os-hypervisors/detail', '/os-hypervisors/statistics', `/os-hypervisors/${h.id}`]) {
    const r = await http(p, tAlice);
    assert.equal(r.status, 403, p);
  }
  const missing = await http('/os-hypervisors/99', tAdmin);
  assert.equal(missing.status, 404);
  assert.equal(missing.body.itemNotFound.message, "Hypervisor with ID '99' could not be found.");
  const notInt = await http('/os-hypervisors/abc', tAdmin);
  assert.equal(notInt.body.itemNotFound.message, "Hypervisor with ID 'abc' could not be found.");
  const none = await http('/os-hypervisors/nowhere/search', tAdmin);
  assert.equal(none.status, 404);
  assert.equal(none.body.itemNotFound.message, "No hypervisor matching 'nowhere' could be found.");
  const up = await http(`/os-hypervisors/${h.id}/uptime`, tAdmin);
  assert.equal(up.status, 501);
  assert.equal(up.body.notImplemented.message, 'The requested functionality is not supported.');
});

test('ARM throttling on the usage read is counted as a metric line (and retried once by the driver after Retry-After)', async () => {
  await arm.control.addFault({ method: 'GET', path: '/usages', status: 429, code: 'TooManyRequests', message: 'injected throttling', headers: { 'Retry-After': '1' }, count: 1 });
  const lines: Record<string, unknown>[] = [];
  log.setLevel('info');
  log.setSink((l) => lines.push(JSON.parse(l)));
  try {
    const rep = await updateHypervisors(s);
    assert.equal(rep.ran, true);
  } finally {
    log.setSink((l) => process.stdout.write(l + '\n'));
    log.setLevel('silent');
  }
  const m = lines.find((l) => l.msg === 'metric' && l.metric === 'jacket.arm.throttled');
  assert.ok(m, JSON.stringify(lines.filter((l) => l.msg === 'metric')));
  assert.equal(m.operation, 'Microsoft.Compute/locations/usages');
  assert.equal(m.method, 'GET');
  // the figures were still read (the driver's one retry after Retry-After, shared/azure/throttle.ts)
  assert.equal((await arm.stack.oscJson(['hypervisor', 'stats', 'show'])).vcpus, 350);
  assert.ok(lines.some((l) => l.msg === 'metric' && l.metric === 'jacket.periodic.changed' && l.task === 'update-hypervisors'));
});
