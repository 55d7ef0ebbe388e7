// Compute microversion 2.53 (docs/microversions.md): services and hypervisors by uuid. Each API at 2.52
// and at 2.53, bodies checked against Nova's response schema for that version (test/support/oracle.ts),
// refusals against Nova's status and words; and the real `openstack` CLI at 2.53.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { startArmStack, waitFor, type ArmStack } from '../support/armStack';
import { assertNovaResponse } from '../support/oracle';
import { novaAt, cliVersion, refused } from '../support/nova';
import { oneUser, imageId, networkId } from '../support/fixtures';
import type { Services } from '../../shared/services';
import { reportState } from '../../shared/servicegroup/registry';
import { updateHypervisors } from '../../shared/compute/hypervisors/api';

let arm: ArmStack;
let s: Services;
let tAlice: string;
let tAdmin: string;
let host: string;
let server: string;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const nova = novaAt(() => arm.stack);

before(async () => {
  arm = await startArmStack({ asyncDelayMs: 0 });
  s = arm.stack.cloud.services;
  host = `azure-${arm.emu.location}`;
  const u = await oneUser(arm.stack, 'mv253-a', 'mv253alice');
  tAlice = u.token;
  tAdmin = u.tAdmin;
  const [image, net] = await Promise.all([imageId(arm.stack, tAlice), networkId(arm.stack, tAlice)]);
  const r = await nova(tAlice, '2.53')('POST', '/servers', { server: { name: 'mv253', flavorRef: '3', imageRef: image, networks: [{ uuid: net }] } });
  assert.equal(r.status, 202, r.text);
  server = r.body.server.id;
  await waitFor('mv253 ACTIVE', async () => ((await nova(tAlice, '2.53')('GET', `/servers/${server}`)).body.server.status === 'ACTIVE' ? true : undefined), 120000);
  await reportState(s, 'worker', new Date(), true);
  await reportState(s, 'api', new Date(), true);
  await updateHypervisors(s);
});
after(() => arm?.stop());

test('2.53 services: the id is the service uuid (stable); PUT /os-services/{uuid} with status, disabled_reason, forced_down answers the whole service', async () => {
  const old = await nova(tAdmin, '2.52')('GET', '/os-services');
  assert.equal(old.status, 200, old.text);
  assertNovaResponse('services', 'ServiceController', 'index', '2.52', old.body);
  assert.deepEqual(
    old.body.services.map((v: { id: number }) => v.id),
    [1, 2, 3],
  );
  const list = await nova(tAdmin, '2.53')('GET', '/os-services');
  assert.equal(list.status, 200, list.text);
  assertNovaResponse('services', 'ServiceController', 'index', '2.53', list.body);
  const ids = list.body.services.map((v: { id: string }) => v.id);
  for (const id of ids) assert.match(id, UUID);
  assert.equal(new Set(ids).size, 3);
  assert.deepEqual((await nova(tAdmin, '2.53')('GET', '/os-services')).body.services, list.body.services);
  const byBinary = (b: string) => list.body.services.find((v: { binary: string }) => v.binary === b);
  const compute = byBinary('nova-compute');
  assert.equal(compute.host, host);
  // the list keeps its other keys and order
  assert.deepEqual(
    list.body.services.map((v: Record<string, unknown>) => ({ ...v, id: 0 })),
    old.body.services.map((v: Record<string, unknown>) => ({ ...v, id: 0 })),
  );

  const put = (body: unknown, id = compute.id, mv = '2.53', token = tAdmin) => nova(token, mv)('PUT', `/os-services/${id}`, body);
  const dis = await put({ status: 'disabled', disabled_reason: 'patching' });
  assert.equal(dis.status, 200, dis.text);
  assertNovaResponse('services', 'ServiceController', 'update', '2.53', dis.body);
  assert.deepEqual(dis.body.service, { ...compute, status: 'disabled', disabled_reason: 'patching', updated_at: dis.body.service.updated_at });
  assert.equal((await nova(tAdmin, '2.53')('GET', '/os-services?binary=nova-compute')).body.services[0].disabled_reason, 'patching');
  // the hypervisor follows its service
  assert.equal((await nova(tAdmin, '2.53')('GET', '/os-hypervisors')).body.hypervisors[0].status, 'disabled');
  // disabled without a reason clears the reason
  const bare = await put({ status: 'disabled' });
  assert.equal(bare.status, 200, bare.text);
  assert.equal(bare.body.service.disabled_reason, null);
  assert.equal(bare.body.service.status, 'disabled');
  const forced = await put({ forced_down: 'yes' });
  assert.equal(forced.status, 200, forced.text);
  assertNovaResponse('services', 'ServiceController', 'update', '2.53', forced.body);
  assert.equal(forced.body.service.forced_down, true);
  assert.equal(forced.body.service.state, 'down');
  assert.equal(forced.body.service.status, 'disabled');
  const back = await put({ status: 'enabled', forced_down: false });
  assert.equal(back.status, 200, back.text);
  assert.deepEqual(back.body.service, { ...compute, updated_at: back.body.service.updated_at });
  // enabling an enabled service is still an update (Nova sets the fields whatever they were)
  assert.equal((await put({ status: 'enabled' })).status, 200);

  await refused(put({ status: 'enabled', disabled_reason: 'why' }), 400, "Specifying 'disabled_reason' with status 'enabled' is invalid.");
  await refused(put({}), 400, "No updates were requested. Fields 'status' or 'forced_down' should be specified.");
  await refused(put({ disabled_reason: 'alone' }), 400, "No updates were requested. Fields 'status' or 'forced_down' should be specified.");
  await refused(put({ status: 'off' }), 400, /^Invalid input for field\/attribute status\. Value: off\. 'off' is not one of \['enabled', 'disabled'\]$/);
  await refused(put({ forced_down: 'maybe' }), 400, /^Invalid input for field\/attribute forced_down\. Value: maybe\./);
  await refused(put({ host, binary: 'nova-compute' }, 'disable'), 400, /^Additional properties are not allowed/);
  // the old actions are ids now: not a uuid
  await refused(put({ status: 'disabled' }, 'disable'), 400, 'Invalid uuid disable');
  await refused(put({ status: 'disabled' }, '3'), 400, 'Invalid uuid 3');
  const unknown = randomUUID();
  await refused(put({ status: 'disabled' }, unknown), 404, `Service ${unknown} could not be found.`);
  await refused(put({ status: 'disabled' }, byBinary('nova-scheduler').id), 400, 'Updating a nova-scheduler service is not supported. Only nova-compute services can be updated.');
  assert.equal((await put({ status: 'disabled' }, compute.id, '2.53', tAlice)).status, 403);
  // at 2.52 the path is still an action and the body names the service
  await refused(put({ status: 'disabled' }, compute.id, '2.52'), 400, "'host' is a required property");
  await refused(put({ host, binary: 'nova-compute' }, compute.id, '2.52'), 404, 'Unknown action');
  const old252 = await put({ host, binary: 'nova-compute' }, 'enable', '2.52');
  assert.equal(old252.status, 200, old252.text);
  assertNovaResponse('services', 'ServiceController', 'update', '2.52', old252.body);
  assert.deepEqual(old252.body, { service: { host, binary: 'nova-compute', status: 'enabled' } });
});

test('2.53 services: DELETE /os-services/{uuid} (400 Invalid uuid otherwise, 404 unknown, 409 while hosting servers); integers still below', async () => {
  const list = (await nova(tAdmin, '2.53')('GET', '/os-services')).body.services as { id: string; binary: string }[];
  const of = (b: string) => list.find((v) => v.binary === b)!.id;
  const del = (id: string, mv = '2.53') => nova(tAdmin, mv)('DELETE', `/os-services/${id}`);
  await refused(del('2'), 400, 'Invalid uuid 2');
  const unknown = randomUUID();
  await refused(del(unknown), 404, `Service ${unknown} not found.`);
  await refused(del(of('nova-compute')), 409, 'Unable to delete compute service that is hosting instances. Migrate or delete the instances first.');
  await refused(del(of('nova-conductor'), '2.52'), 400, 'Invalid input received: id must be an integer');
  const gone = await del(of('nova-conductor'));
  assert.equal(gone.status, 204, gone.text);
  assert.deepEqual(
    (await nova(tAdmin, '2.53')('GET', '/os-services')).body.services.map((v: { binary: string }) => v.binary),
    ['nova-scheduler', 'nova-compute'],
  );
  // its next heartbeat registers it again, with the same uuid
  await reportState(s, 'api', new Date(), true);
  assert.equal((await nova(tAdmin, '2.53')('GET', '/os-services?binary=nova-conductor')).body.services[0].id, of('nova-conductor'));
});

test('2.53 hypervisors: the id is the compute node uuid and the service its uuid; show and uptime by uuid; 400 Invalid uuid, 404 unknown', async () => {
  const services = (await nova(tAdmin, '2.53')('GET', '/os-services?binary=nova-compute')).body.services;
  const old = await nova(tAdmin, '2.52')('GET', '/os-hypervisors/detail');
  assertNovaResponse('hypervisors', 'HypervisorsController', 'detail', '2.52', old.body);
  assert.equal(old.body.hypervisors[0].id, 1);
  assert.equal(old.body.hypervisors[0].service.id, 3);
  const list = await nova(tAdmin, '2.53')('GET', '/os-hypervisors');
  assert.equal(list.status, 200, list.text);
  assertNovaResponse('hypervisors', 'HypervisorsController', 'index', '2.53', list.body);
  const hv = list.body.hypervisors[0];
  assert.match(hv.id, UUID);
  assert.equal(hv.hypervisor_hostname, old.body.hypervisors[0].hypervisor_hostname);
  assert.equal(hv.servers, undefined);
  // the compute node's uuid is its Placement resource provider's
  const rp = await arm.stack.http('GET', `/placement/resource_providers/${hv.id}`, { token: tAdmin });
  assert.equal(rp.status, 200, rp.text);
  const detail = await nova(tAdmin, '2.53')('GET', '/os-hypervisors/detail');
  assertNovaResponse('hypervisors', 'HypervisorsController', 'detail', '2.53', detail.body);
  assert.equal(detail.body.hypervisors[0].id, hv.id);
  assert.equal(detail.body.hypervisors[0].service.id, services[0].id);
  const show = await nova(tAdmin, '2.53')('GET', `/os-hypervisors/${hv.id}`);
  assert.equal(show.status, 200, show.text);
  assertNovaResponse('hypervisors', 'HypervisorsController', 'show', '2.53', show.body);
  assert.deepEqual(show.body.hypervisor, detail.body.hypervisors[0]);
  await refused(nova(tAdmin, '2.53')('GET', '/os-hypervisors/1'), 400, 'Invalid uuid 1');
  const unknown = randomUUID();
  await refused(nova(tAdmin, '2.53')('GET', `/os-hypervisors/${unknown}`), 404, `Hypervisor with ID '${unknown}' could not be found.`);
  await refused(nova(tAdmin, '2.52')('GET', `/os-hypervisors/${hv.id}`), 404, `Hypervisor with ID '${hv.id}' could not be found.`);
  assert.equal((await nova(tAdmin, '2.52')('GET', '/os-hypervisors/1')).status, 200);
  // uptime: by uuid, still Azure's 501
  await refused(nova(tAdmin, '2.53')('GET', `/os-hypervisors/${hv.id}/uptime`), 501, 'The requested functionality is not supported.');
  await refused(nova(tAdmin, '2.53')('GET', '/os-hypervisors/1/uptime'), 400, 'Invalid uuid 1');
  await refused(nova(tAdmin, '2.53')('GET', `/os-hypervisors/${unknown}/uptime`), 404, `Hypervisor with ID '${unknown}' could not be found.`);
  assert.equal((await nova(tAlice, '2.53')('GET', `/os-hypervisors/${hv.id}`)).status, 403);
});

test('2.53 hypervisors: hypervisor_hostname_pattern and with_servers on the lists (and with_servers on show) replace /search and /servers (404 from 2.53); uuid markers', async () => {
  const hv = (await nova(tAdmin, '2.53')('GET', '/os-hypervisors')).body.hypervisors[0];
  const name = hv.hypervisor_hostname as string;
  const get = (p: string, mv = '2.53') => nova(tAdmin, mv)('GET', p);
  const mine = { name: 'mv253', uuid: server };

  const found = await get(`/os-hypervisors?hypervisor_hostname_pattern=${name.slice(1, -1)}`);
  assert.equal(found.status, 200, found.text);
  assertNovaResponse('hypervisors', 'HypervisorsController', 'index', '2.53', found.body);
  assert.deepEqual(found.body, { hypervisors: [hv] });
  const withServers = await get(`/os-hypervisors?hypervisor_hostname_pattern=${name}&with_servers=true`);
  assertNovaResponse('hypervisors', 'HypervisorsController', 'index', '2.53', withServers.body);
  assert.deepEqual(withServers.body.hypervisors[0].servers, [mine]);
  const detail = await get('/os-hypervisors/detail?with_servers=1');
  assert.equal(detail.status, 200, detail.text);
  assertNovaResponse('hypervisors', 'HypervisorsController', 'detail', '2.53', detail.body);
  assert.deepEqual(detail.body.hypervisors[0].servers, [mine]);
  assert.equal((await get('/os-hypervisors?with_servers=false')).body.hypervisors[0].servers, undefined);
  const show = await get(`/os-hypervisors/${hv.id}?with_servers=yes`);
  assertNovaResponse('hypervisors', 'HypervisorsController', 'show', '2.53', show.body);
  assert.deepEqual(show.body.hypervisor.servers, [mine]);

  await refused(get('/os-hypervisors?hypervisor_hostname_pattern=nowhere'), 404, "No hypervisor matching 'nowhere' could be found.");
  await refused(get(`/os-hypervisors/detail?hypervisor_hostname_pattern=${name}&limit=1`), 400, 'Paging over hypervisors with the hypervisor_hostname_pattern query parameter is not supported.');
  await refused(get(`/os-hypervisors?hypervisor_hostname_pattern=${name}&marker=${hv.id}`), 400, 'Paging over hypervisors with the hypervisor_hostname_pattern query parameter is not supported.');
  await refused(get('/os-hypervisors?with_servers=maybe'), 400, /^Invalid input for query parameters with_servers\. Value: maybe\. 'maybe' is not one of /);
  await refused(get(`/os-hypervisors/${hv.id}?with_servers=maybe`), 400, /^Invalid input for query parameters with_servers\. Value: maybe\./);
  await refused(get('/os-hypervisors?hypervisor_hostname_pattern=a%2Fb'), 400, /^Invalid input for query parameters hypervisor_hostname_pattern\. Value: a\/b\. 'a\/b' does not match/);
  await refused(get('/os-hypervisors?foo=1'), 400, "Additional properties are not allowed ('foo' was unexpected)");
  await refused(get(`/os-hypervisors/${hv.id}?foo=1`), 400, "Additional properties are not allowed ('foo' was unexpected)");
  await refused(get('/os-hypervisors?limit=1&limit=2'), 400, /^Invalid input for query parameters limit\. Value: \['1', '2'\]\. \['1', '2'\] is too long$/);
  // below 2.53 the parameters are not read
  const ignored = await get('/os-hypervisors?hypervisor_hostname_pattern=nowhere&with_servers=true&foo=1', '2.52');
  assert.equal(ignored.status, 200, ignored.text);
  assert.equal(ignored.body.hypervisors[0].servers, undefined);

  // paging: the marker is the uuid the list shows
  const page = await get('/os-hypervisors?limit=1');
  assertNovaResponse('hypervisors', 'HypervisorsController', 'index', '2.53', page.body);
  assert.equal(new URL(page.body.hypervisors_links[0].href).searchParams.get('marker'), hv.id);
  const next = await get(`/os-hypervisors?limit=1&marker=${hv.id}`);
  assert.equal(next.status, 200, next.text);
  assert.deepEqual(next.body.hypervisors, []);
  const unknown = randomUUID();
  await refused(get(`/os-hypervisors?marker=${unknown}`), 400, `marker [${unknown}] not found`);

  // the old routes end at 2.52
  const search = await get(`/os-hypervisors/${name}/search`, '2.52');
  assert.equal(search.status, 200, search.text);
  assertNovaResponse('hypervisors', 'HypervisorsController', 'search', '2.52', search.body);
  const servers = await get(`/os-hypervisors/${name}/servers`, '2.52');
  assertNovaResponse('hypervisors', 'HypervisorsController', 'servers', '2.52', servers.body);
  assert.deepEqual(servers.body.hypervisors[0].servers, [mine]);
  assert.equal((await get(`/os-hypervisors/${name}/search`)).status, 404);
  assert.equal((await get(`/os-hypervisors/${name}/servers`)).status, 404);
});

test('openstack --os-compute-api-version 2.53: compute service list/set by uuid, hypervisor list/show', async () => {
  const rows = await arm.stack.oscJson<Record<string, unknown>[]>([...cliVersion('2.53'), 'compute', 'service', 'list']);
  const listed = (await nova(tAdmin, '2.53')('GET', '/os-services')).body.services as { id: string; binary: string }[];
  assert.deepEqual(
    rows.map((r) => [r.ID, r.Binary]),
    listed.map((v) => [v.id, v.binary]),
  );
  await arm.stack.oscOk([...cliVersion('2.53'), 'compute', 'service', 'set', '--disable', '--disable-reason', 'cli', host, 'nova-compute']);
  const svc = (await nova(tAdmin, '2.53')('GET', '/os-services?binary=nova-compute')).body.services[0];
  assert.equal(svc.status, 'disabled');
  assert.equal(svc.disabled_reason, 'cli');
  await arm.stack.oscOk([...cliVersion('2.53'), 'compute', 'service', 'set', '--enable', host, 'nova-compute']);
  assert.equal((await nova(tAdmin, '2.53')('GET', '/os-services?binary=nova-compute')).body.services[0].status, 'enabled');

  const hv = (await nova(tAdmin, '2.53')('GET', '/os-hypervisors')).body.hypervisors[0];
  const hvs = await arm.stack.oscJson<Record<string, unknown>[]>([...cliVersion('2.53'), 'hypervisor', 'list']);
  assert.deepEqual(
    hvs.map((r) => [r.ID, r['Hypervisor Hostname']]),
    [[hv.id, hv.hypervisor_hostname]],
  );
  const shown = await arm.stack.oscJson<Record<string, unknown>>([...cliVersion('2.53'), 'hypervisor', 'show', hv.id]);
  assert.equal(shown.id, hv.id);
  assert.equal(shown.hypervisor_hostname, hv.hypervisor_hostname);
});
