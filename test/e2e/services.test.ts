// Admin and ops views end to end (issue 12): `openstack compute service list/set/delete` over Nova's
// os-services at 2.1 (heartbeats written as the worker and timers write them; up/down from their age),
// disabling nova-compute makes a build end in ERROR with NoValidHost; os-hosts and
// os-hypervisors/{pattern}/servers; `openstack volume service list/set` over Cinder's os-services at 3.0
// (disabling cinder-volume leaves new volumes in error); `openstack volume backend pool list [--long]`
// and `volume backend capability show` over scheduler-stats/get_pools and capabilities. Bodies are
// checked against Nova's 2.1 response schemas and Cinder's samples; members get 403.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startArmStack, waitFor, type ArmStack } from '../support/armStack';
import { imageId, networkId, oneUser, type ProjectUser } from '../support/fixtures';
import { assertNovaResponse } from '../support/oracle';
import { assertCinderShape, cinderSample } from '../support/cinderShapes';
import type { Services } from '../../shared/services';
import { reportState, SERVICE_DOWN_TIME_MS } from '../../shared/servicegroup/registry';

let arm: ArmStack;
let s: Services;
let alice: ProjectUser;
let tAlice: string, tAdmin: string;
let adminProject: string;
let host: string;
let image: string, net: string;
const nova = (method: string, path: string, opts: { token?: string; body?: unknown } = {}) => arm.stack.http(method, `/compute/v2.1${path}`, { token: opts.token ?? tAdmin, body: opts.body });
const cinder = (method: string, path: string, opts: { token?: string; body?: unknown; project?: string } = {}) =>
  arm.stack.http(method, `/volume/v3/${opts.project ?? adminProject}${path}`, { token: opts.token ?? tAdmin, body: opts.body });
/** The worker side's heartbeat, as each work item and timer invocation writes it. */
const workerBeat = (at = new Date()) => reportState(s, 'worker', at, true);

async function boot(name: string, token = tAlice) {
  const r = await nova('POST', '/servers', { token, body: { server: { name, flavorRef: '3', imageRef: image, networks: [{ uuid: net }] } } });
  assert.equal(r.status, 202, r.text);
  return r.body.server.id as string;
}
const serverState = async (id: string) => (await nova('GET', `/servers/${id}`)).body.server;

before(async () => {
  arm = await startArmStack();
  s = arm.stack.cloud.services;
  host = `azure-${arm.emu.location}`;
  ({ user: alice, token: tAlice, tAdmin } = await oneUser(arm.stack, 'svc-a', 'alice'));
  adminProject = (await arm.stack.http('GET', '/identity/v3/auth/tokens', { token: tAdmin, headers: { 'X-Subject-Token': tAdmin } })).body.token.project.id;
  [image, net] = await Promise.all([imageId(arm.stack, tAlice), networkId(arm.stack, tAlice)]);
  await workerBeat();
});
after(() => arm?.stop());

test('openstack compute service list: the app parts as Nova services, up from their heartbeats; filters; 2.1 schema; members 403', async () => {
  // The CLI negotiates the highest version, so it shows each service's uuid (2.53).
  const rows = await arm.stack.oscJson(['compute', 'service', 'list']);
  const uuids = (await arm.stack.http('GET', '/compute/v2.1/os-services', { token: tAdmin, headers: { 'OpenStack-API-Version': 'compute 2.53' } })).body.services.map((v: { id: string }) => v.id);
  assert.deepEqual(
    rows.map((r: Record<string, unknown>) => [r.ID, r.Binary, r.Host, r.Zone, r.Status, r.State]),
    [
      [uuids[0], 'nova-scheduler', 'jacket', 'internal', 'enabled', 'up'],
      [uuids[1], 'nova-conductor', 'jacket', 'internal', 'enabled', 'up'],
      [uuids[2], 'nova-compute', host, 'nova', 'enabled', 'up'],
    ],
  );
  const all = await nova('GET', '/os-services');
  assert.equal(all.status, 200, all.text);
  assertNovaResponse('services', 'ServiceController', 'index', '2.1', all.body);
  assert.match(all.body.services[2].updated_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/);
  assert.deepEqual(
    (await nova('GET', '/os-services?binary=nova-compute')).body.services.map((x: { host: string }) => x.host),
    [host],
  );
  assert.deepEqual(
    (await nova('GET', '/os-services?host=jacket')).body.services.map((x: { binary: string }) => x.binary),
    ['nova-scheduler', 'nova-conductor'],
  );
  assert.deepEqual((await nova('GET', '/os-services?host=nowhere')).body.services, []);
  assert.equal((await nova('GET', '/os-services', { token: tAlice })).status, 403);

  // A heartbeat older than service_down_time: down; the next one: up again.
  await workerBeat(new Date(Date.now() - SERVICE_DOWN_TIME_MS - 5000));
  const stale = (await nova('GET', '/os-services?binary=nova-compute')).body.services[0];
  assert.equal(stale.state, 'down');
  assert.equal((await nova('GET', '/os-hypervisors')).body.hypervisors[0].state, 'down');
  await workerBeat();
  assert.equal((await nova('GET', '/os-services?binary=nova-compute')).body.services[0].state, 'up');
});

test('openstack compute service set --disable: builds end in ERROR with NoValidHost until --enable; Nova 2.1 errors', async () => {
  await arm.stack.oscOk(['compute', 'service', 'set', '--disable', '--disable-reason', 'patching', host, 'nova-compute']);
  const svc = (await arm.stack.oscJson(['compute', 'service', 'list', '--service', 'nova-compute', '--long']))[0];
  assert.equal(svc.Status, 'disabled');
  assert.equal(svc['Disabled Reason'], 'patching');
  const hv = (await nova('GET', '/os-hypervisors/detail')).body.hypervisors[0];
  assert.equal(hv.status, 'disabled');
  assert.equal(hv.service.disabled_reason, 'patching');
  assert.equal(hv.service.id, 3);

  const id = await boot('nohost');
  const failed = await waitFor('nohost ERROR', async () => {
    const v = await serverState(id);
    return v.status === 'ERROR' ? v : undefined;
  });
  assert.equal(failed.fault.code, 500);
  assert.equal(failed.fault.message, 'No valid host was found. There are not enough hosts available.');

  // The HTTP answers, checked against the 2.1 schema.
  const dis = await nova('PUT', '/os-services/disable', { body: { host, binary: 'nova-compute' } });
  assert.equal(dis.status, 200, dis.text);
  assertNovaResponse('services', 'ServiceController', 'update', '2.1', dis.body);
  assert.deepEqual(dis.body, { service: { host, binary: 'nova-compute', status: 'disabled' } });
  const en = await nova('PUT', '/os-services/enable', { body: { host, binary: 'nova-compute' } });
  assertNovaResponse('services', 'ServiceController', 'update', '2.1', en.body);
  assert.deepEqual(en.body, { service: { host, binary: 'nova-compute', status: 'enabled' } });
  const withReason = await nova('PUT', '/os-services/disable-log-reason', { body: { host, binary: 'nova-compute', disabled_reason: 'why' } });
  assert.deepEqual(withReason.body, { service: { host, binary: 'nova-compute', status: 'disabled', disabled_reason: 'why' } });
  await arm.stack.oscOk(['compute', 'service', 'set', '--enable', host, 'nova-compute']);
  const back = (await nova('GET', '/os-services?binary=nova-compute')).body.services[0];
  assert.equal(back.status, 'enabled');
  assert.equal(back.disabled_reason, null);

  const err = async (path: string, body: unknown, status: number, message: string) => {
    const r = await nova('PUT', path, { body });
    assert.equal(r.status, status, `${path} ${JSON.stringify(body)}: ${r.text}`);
    assert.equal((r.body.badRequest ?? r.body.itemNotFound).message, message);
  };
  await err('/os-services/disable', { host: 'jacket', binary: 'nova-scheduler' }, 400, 'Updating a nova-scheduler service is not supported. Only nova-compute services can be updated.');
  await err('/os-services/disable', { host: 'nowhere', binary: 'nova-compute' }, 404, "Host 'nowhere' is not mapped to any cell");
  await err('/os-services/force-down', { host, binary: 'nova-compute' }, 404, 'Unknown action');
  await err('/os-services/disable-log-reason', { host, binary: 'nova-compute' }, 400, 'Missing disabled reason field');
  const forced = await nova('PUT', '/os-services/force-down', { body: { host, binary: 'nova-compute', forced_down: true } });
  assert.equal(forced.status, 400); // forced_down is not in the 2.1 schema
  assert.equal((await nova('PUT', '/os-services/enable', { token: tAlice, body: { host, binary: 'nova-compute' } })).status, 403);

  // Enabled again: a build goes through.
  const ok = await boot('afterwards');
  await waitFor('afterwards ACTIVE', async () => ((await serverState(ok)).status === 'ACTIVE' ? true : undefined));
});

test('os-hosts and os-hypervisors/{pattern}/servers as Nova 2.1 renders them; host actions 501', async () => {
  const hosts = (await arm.stack.oscJson(['host', 'list'])) as { 'Host Name': string; Service: string; Zone: string }[];
  assert.deepEqual(
    hosts.map((h) => [h['Host Name'], h.Service, h.Zone]),
    [
      ['jacket', 'scheduler', 'internal'],
      ['jacket', 'conductor', 'internal'],
      [host, 'compute', 'nova'],
    ],
  );
  const index = await nova('GET', '/os-hosts');
  assertNovaResponse('hosts', 'HostController', 'index', '2.1', index.body);
  assert.equal((await nova('GET', '/os-hosts?zone=internal')).body.hosts.length, 2);

  const shown = await arm.stack.oscJson(['host', 'show', host]);
  const projects = shown.map((r: { Project: string }) => r.Project);
  assert.deepEqual(projects.slice(0, 3), ['(total)', '(used_now)', '(used_max)']);
  assert.ok(projects.includes(alice.projectId), JSON.stringify(shown));
  const show = await nova('GET', `/os-hosts/${host}`);
  assertNovaResponse('hosts', 'HostController', 'show', '2.1', show.body);
  const mine = show.body.host.find((r: { resource: { project: string } }) => r.resource.project === alice.projectId).resource;
  assert.equal(mine.cpu, 2); // the one ACTIVE server, flavor 3 (the NoValidHost one has no host)
  assert.equal(mine.memory_mb, 4096);
  assert.equal((await nova('GET', '/os-hosts/jacket')).body.itemNotFound.message, "Host 'jacket' is not mapped to any cell");
  for (const a of ['reboot', 'shutdown', 'startup']) {
    const r = await nova('GET', `/os-hosts/${host}/${a}`);
    assert.equal(r.status, 501, a);
    assert.equal(r.body.notImplemented.message, 'The requested functionality is not supported.');
  }
  assert.equal((await nova('GET', '/os-hosts/nowhere/reboot')).status, 404);
  assert.equal((await nova('PUT', `/os-hosts/${host}`, { body: { status: 'disable' } })).status, 501);
  assert.equal((await nova('PUT', `/os-hosts/${host}`, { body: { other: 1 } })).status, 400);
  assert.equal((await nova('GET', '/os-hosts', { token: tAlice })).status, 403);

  const hs = await nova('GET', `/os-hypervisors/${arm.emu.location.slice(0, 4)}/servers`);
  assert.equal(hs.status, 200, hs.text);
  assertNovaResponse('hypervisors', 'HypervisorsController', 'servers', '2.1', hs.body);
  const names = hs.body.hypervisors[0].servers.map((x: { name: string }) => x.name);
  assert.deepEqual(names, ['afterwards']);
  assert.equal((await nova('GET', '/os-hypervisors/nowhere/servers')).body.itemNotFound.message, "No hypervisor matching 'nowhere' could be found.");
  assert.equal((await nova('GET', `/os-hypervisors/${arm.emu.location}/servers`, { token: tAlice })).status, 403);
});

test('DELETE /os-services/{id}: 204 and gone until its next heartbeat; 409 for a compute host with servers; 404, 400', async () => {
  const busy = await nova('DELETE', '/os-services/3');
  assert.equal(busy.status, 409, busy.text);
  assert.equal(busy.body.conflictingRequest.message, 'Unable to delete compute service that is hosting instances. Migrate or delete the instances first.');
  await reportState(s, 'api', new Date(), true); // a heartbeat just written: the next is REPORT_INTERVAL away
  const gone = await nova('DELETE', '/os-services/2');
  assert.equal(gone.status, 204, gone.text);
  assert.deepEqual(
    (await nova('GET', '/os-services')).body.services.map((x: { binary: string }) => x.binary),
    ['nova-scheduler', 'nova-compute'],
  );
  await reportState(s, 'api', new Date(), true); // the HTTP side beats again: registered again
  assert.equal((await nova('GET', '/os-services')).body.services.length, 3);
  const missing = await nova('DELETE', '/os-services/99');
  assert.equal(missing.status, 404);
  assert.equal(missing.body.itemNotFound.message, 'Service 99 not found.');
  const notInt = await nova('DELETE', '/os-services/abc');
  assert.equal(notInt.status, 400);
  assert.equal(notInt.body.badRequest.message, 'Invalid input received: id must be an integer');
});

test('openstack volume service list / set: cinder-scheduler and cinder-volume jacket@azure as Cinder 3.0; disabled backend, volumes in error', async () => {
  const rows = await arm.stack.oscJson(['volume', 'service', 'list']);
  assert.deepEqual(
    rows.map((r: Record<string, unknown>) => [r.Binary, r.Host, r.Zone, r.Status, r.State]),
    [
      ['cinder-scheduler', 'jacket', 'nova', 'enabled', 'up'],
      ['cinder-volume', 'jacket@azure', 'nova', 'enabled', 'up'],
    ],
  );
  const list = await cinder('GET', '/os-services');
  assert.equal(list.status, 200, list.text);
  const sample = cinderSample('services-list-response.json') as { services: Record<string, unknown>[] };
  assert.deepEqual(Object.keys(list.body.services[0]).sort(), Object.keys(sample.services[0]).sort());
  // the volume service's keys as the sample's, less cluster (3.7)
  assert.deepEqual(
    Object.keys(list.body.services[1]).sort(),
    Object.keys(sample.services[2])
      .filter((k) => k !== 'cluster')
      .sort(),
  );
  assert.match(list.body.services[1].updated_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/);
  assert.equal((await cinder('GET', '/os-services?binary=cinder-volume')).body.services.length, 1);
  assert.equal((await cinder('GET', '/os-services?host=jacket')).body.services.length, 2); // jacket and its backend jacket@azure
  assert.equal((await cinder('GET', '/os-services?host=jacket@azure')).body.services.length, 1);
  assert.equal((await cinder('GET', '/os-services', { token: tAlice, project: alice.projectId })).status, 403);

  await arm.stack.oscOk(['volume', 'service', 'set', '--disable', '--disable-reason', 'full', 'jacket@azure', 'cinder-volume']);
  const long = (await arm.stack.oscJson(['volume', 'service', 'list', '--long', '--service', 'cinder-volume']))[0];
  assert.equal(long.Status, 'disabled');
  assert.equal(long['Disabled Reason'], 'full');
  const v = await arm.stack.oscJson(['volume', 'create', '--size', '1', 'nobackend']);
  const errored = await waitFor('nobackend error', async () => {
    const x = (await cinder('GET', `/volumes/${v.id}`)).body.volume;
    return x.status === 'error' ? x : undefined;
  });
  assert.equal(errored.status, 'error');

  const en = await cinder('PUT', '/os-services/enable', { body: { host: 'jacket@azure', binary: 'cinder-volume' } });
  assert.equal(en.status, 200, en.text);
  assertCinderShape('os-services/service-enable-response.json', en.body);
  const dis = await cinder('PUT', '/os-services/disable', { body: { host: 'jacket@azure', binary: 'cinder-volume' } });
  assertCinderShape('os-services/service-disable-response.json', dis.body);
  const why = await cinder('PUT', '/os-services/disable-log-reason', { body: { host: 'jacket@azure', binary: 'cinder-volume', disabled_reason: 'test2' } });
  assertCinderShape('os-services/service-disable-log-reason-response.json', why.body);
  assert.equal((await cinder('GET', '/os-services?binary=cinder-volume')).body.services[0].disabled_reason, 'test2');
  await arm.stack.oscOk(['volume', 'service', 'set', '--enable', 'jacket@azure', 'cinder-volume']);
  assert.equal((await cinder('GET', '/os-services?binary=cinder-volume')).body.services[0].status, 'enabled');
  const ok = await arm.stack.oscJson(['volume', 'create', '--size', '1', 'withbackend']);
  await waitFor('withbackend available', async () => ((await cinder('GET', `/volumes/${ok.id}`)).body.volume.status === 'available' ? true : undefined));

  const nf = await cinder('PUT', '/os-services/disable', { body: { host: 'nowhere', binary: 'cinder-volume' } });
  assert.equal(nf.status, 404);
  assert.equal(nf.body.itemNotFound.message, 'Service cinder-volume could not be found on host nowhere.');
  const noHost = await cinder('PUT', '/os-services/disable', { body: { binary: 'cinder-volume' } });
  assert.equal(noHost.status, 400);
  assert.equal(noHost.body.badRequest.message, 'Invalid input received: Host field is missing.');
});

test('openstack volume backend pool list [--long] and capability show: one pool per disk SKU, capabilities as a driver reports them', async () => {
  const names = (await arm.stack.oscJson(['volume', 'backend', 'pool', 'list'])).map((p: { Name: string }) => p.Name);
  assert.ok(names.includes('jacket@azure#Standard_LRS'), JSON.stringify(names));
  const long = await arm.stack.oscJson(['volume', 'backend', 'pool', 'list', '--long']);
  const std = long.find((p: { Name: string }) => p.Name === 'jacket@azure#Standard_LRS');
  assert.ok(std, JSON.stringify(long));
  const caps = std.Capabilities;
  assert.equal(caps.volume_backend_name, 'azure');
  assert.equal(caps.vendor_name, 'Microsoft');
  assert.equal(caps.total_capacity_gb, 'infinite');
  assert.equal(caps.free_capacity_gb, 'infinite');
  assert.equal(caps.QoS_support, false);
  assert.equal(caps.total_volumes, 2); // nobackend and withbackend
  assert.equal(caps.allocated_capacity_gb, 2);

  const detail = await cinder('GET', '/scheduler-stats/get_pools?detail=true');
  assert.equal(detail.status, 200, detail.text);
  for (const p of detail.body.pools) {
    for (const k of ['total_capacity_gb', 'free_capacity_gb', 'volume_backend_name', 'reserved_percentage', 'driver_version', 'storage_protocol', 'QoS_support']) assert.ok(k in p.capabilities, k);
  }
  assert.deepEqual(Object.keys((await cinder('GET', '/scheduler-stats/get_pools')).body.pools[0]), ['name']);
  assert.equal((await cinder('GET', '/scheduler-stats/get_pools?detail=maybe')).status, 400);
  assert.equal((await cinder('GET', '/scheduler-stats/get_pools', { token: tAlice, project: alice.projectId })).status, 403);

  const capRows = await arm.stack.oscJson(['volume', 'backend', 'capability', 'show', 'jacket@azure']);
  assert.deepEqual(capRows.map((r: { Key: string }) => r.Key).sort(), ['compression', 'qos', 'replication', 'thin_provisioning']);
  const cap = await cinder('GET', '/capabilities/jacket@azure');
  assert.equal(cap.status, 200);
  assert.deepEqual(Object.keys(cap.body).sort(), Object.keys(cinderSample('backend-capabilities-response.json') as object).sort());
  assert.equal(cap.body.namespace, 'OS::Storage::Capabilities::jacket@azure');
  assert.equal((await cinder('GET', '/capabilities/nowhere')).status, 404);
});
