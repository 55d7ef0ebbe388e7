// Block Storage microversions 3.6 and up (issue 12), each checked at the version before it and at it
// (OpenStack-API-Version: volume 3.N) over HTTP and through the real `openstack` CLI where a command
// exists, against Cinder's controllers (cinder/api/v3/) and samples. No Azure: the local stack alone.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, type Stack, type Creds } from '../support/stack';
import { cinderSample } from '../support/cinderShapes';

type User = Creds & { projectId: string; userId: string };
let stack: Stack;
let alice: User;
let tA: string;
let tAdmin: string;
let adminProject: string;

before(async () => {
  stack = await startStack();
  alice = await stack.makeProjectUser('mv36-a', 'mv36alice');
  [tA, tAdmin] = await Promise.all([stack.token(alice), stack.token()]);
  const me = await stack.http('GET', '/identity/v3/auth/tokens', { token: tAdmin, headers: { 'X-Subject-Token': tAdmin } });
  adminProject = me.body.token.project.id;
});
after(async () => {
  await stack?.stop();
});

const at = (v: string) => ({ 'OpenStack-API-Version': `volume ${v}` });
const asAlice = (v: string, method: string, p: string, body?: unknown) => stack.http(method, `/volume/v3/${alice.projectId}${p}`, { token: tA, body, headers: at(v) });
const asAdmin = (v: string, method: string, p: string, body?: unknown) => stack.http(method, `/volume/v3/${adminProject}${p}`, { token: tAdmin, body, headers: at(v) });
const NO_METHOD = 'The resource could not be found.';

test('3.6: consistency groups are not served at any version, so their 3.6 update has nowhere to apply', async () => {
  const id = '2d1e4b4c-6a8e-4a55-9f3e-0c3f8a7a1b11';
  for (const v of ['3.5', '3.6']) {
    const r = await asAlice(v, 'PUT', `/consistencygroups/${id}`, { consistencygroup: { name: '', description: '' } });
    assert.equal(r.status, 404, `${v}: ${r.text}`);
  }
  // and none can exist: Cinder looks a create's consistencygroup_id up as a generic group (404)
  const c = await asAlice('3.6', 'POST', '/volumes', { volume: { size: 1, consistencygroup_id: id } });
  assert.equal(c.status, 404, c.text);
  assert.equal(c.body.itemNotFound.message, `Group ${id} could not be found.`);
});

test('3.7: /clusters for a deployment with no cluster; 404 below 3.7; admin only', async () => {
  // below 3.7 no method: 404 before any policy check (a member too)
  for (const [who, p] of [
    [asAdmin, '/clusters'],
    [asAdmin, '/clusters/detail'],
    [asAdmin, '/clusters/jacket'],
    [asAlice, '/clusters'],
  ] as const) {
    const r = await who('3.6', 'GET', p);
    assert.equal(r.status, 404, `${p}: ${r.text}`);
    assert.equal(r.body.itemNotFound.message, NO_METHOD);
  }
  const old = await asAdmin('3.6', 'PUT', '/clusters/enable', { name: 'c' });
  assert.equal(old.status, 404);
  assert.equal(old.body.itemNotFound.message, NO_METHOD);

  // at 3.7: empty lists, Cinder's filter checks
  for (const p of ['/clusters', '/clusters/detail', '/clusters?is_up=true&disabled=0&name=x&binary=cinder-volume&num_hosts=1&num_down_hosts=0']) {
    const r = await asAdmin('3.7', 'GET', p);
    assert.equal(r.status, 200, `${p}: ${r.text}`);
    assert.deepEqual(r.body, { clusters: [] });
  }
  const badKey = await asAdmin('3.7', 'GET', '/clusters?frozen=true');
  assert.equal(badKey.status, 400); // replication fields are filters only from 3.26
  assert.equal(badKey.body.badRequest.message, 'Invalid input received: Invalid filter keys: frozen');
  const badBool = await asAdmin('3.7', 'GET', '/clusters/detail?is_up=maybe');
  assert.equal(badBool.status, 400);
  assert.equal(badBool.body.badRequest.message, "Value 'maybe' for 'is_up' is not a boolean.");

  const show = await asAdmin('3.7', 'GET', '/clusters/mycluster');
  assert.equal(show.status, 404);
  assert.equal(show.body.itemNotFound.message, "Cluster {'binary': 'cinder-volume', 'name': 'mycluster'} could not be found.");

  // enable/disable: schema first (even for a member), then policy, then the lookup
  const noName = await asAlice('3.7', 'PUT', '/clusters/disable', { binary: 'cinder-volume' });
  assert.equal(noName.status, 400);
  const blank = await asAdmin('3.7', 'PUT', '/clusters/enable', { name: '  ' });
  assert.equal(blank.status, 400);
  assert.equal(blank.body.badRequest.message, "An invalid 'name' value was provided. The 'name' can not be empty.");
  assert.equal((await asAdmin('3.7', 'PUT', '/clusters/enable', { name: 'c', disabled_reason: 'x' })).status, 400); // enable has no reason
  const enable = await asAdmin('3.7', 'PUT', '/clusters/enable', { name: 'cluster_name', binary: 'cinder-volume' });
  assert.equal(enable.status, 404);
  assert.equal(enable.body.itemNotFound.message, "Cluster {'binary': 'cinder-volume', 'name': 'cluster_name'} could not be found.");
  const disable = await asAdmin('3.7', 'PUT', '/clusters/disable', { name: 'c', binary: null, disabled_reason: 'maintenance' });
  assert.equal(disable.status, 404);
  assert.equal(disable.body.itemNotFound.message, "Cluster {'binary': None, 'name': 'c'} could not be found.");

  // members: the admin policies
  assert.equal((await asAlice('3.7', 'GET', '/clusters')).status, 403);
  assert.equal((await asAlice('3.7', 'GET', '/clusters/detail')).status, 403);
  assert.equal((await asAlice('3.7', 'GET', '/clusters/x')).status, 403);
  assert.equal((await asAlice('3.7', 'PUT', '/clusters/enable', { name: 'c' })).status, 403);

  // the CLI
  assert.deepEqual(await stack.oscJson(['--os-volume-api-version', '3.7', 'block', 'storage', 'cluster', 'list']), []);
  assert.deepEqual(await stack.oscJson(['--os-volume-api-version', '3.7', 'block', 'storage', 'cluster', 'list', '--long']), []);
  const cliShow = await stack.osc(['--os-volume-api-version', '3.7', 'block', 'storage', 'cluster', 'show', 'mycluster']);
  assert.notEqual(cliShow.code, 0);
  assert.match(cliShow.stderr, /Cluster .*mycluster.* could not be found/);
  const cliSet = await stack.osc(['--os-volume-api-version', '3.7', 'block', 'storage', 'cluster', 'set', '--disable', '--disable-reason', 'maintenance', 'mycluster']);
  assert.notEqual(cliSet.code, 0);
  assert.match(cliSet.stderr, /Cluster .*mycluster.* could not be found/);
  const cliOld = await stack.osc(['--os-volume-api-version', '3.6', 'block', 'storage', 'cluster', 'list']);
  assert.notEqual(cliOld.code, 0);
  assert.match(cliOld.stderr, /3\.7/);
});

test('3.7: os-services name each service cluster (none)', async () => {
  const old = await asAdmin('3.6', 'GET', '/os-services');
  assert.equal(old.status, 200);
  assert.ok(old.body.services.length >= 1);
  for (const s of old.body.services) assert.equal('cluster' in s, false);
  const now = await asAdmin('3.7', 'GET', '/os-services');
  assert.equal(now.status, 200);
  assert.ok(now.body.services.length >= 1);
  for (const s of now.body.services) assert.equal(s.cluster, null);
  const sched = now.body.services.find((s: { binary: string }) => s.binary === 'cinder-scheduler');
  assert.ok(sched, 'cinder-scheduler listed');
  // the sample's cinder-scheduler keys and cluster, which the sample's cinder-volume has (the local
  // stack runs no cinder-volume worker)
  const sample = cinderSample('services-list-response.json') as { services: Record<string, unknown>[] };
  assert.equal(sample.services[2].cluster, null);
  assert.deepEqual(Object.keys(sched).sort(), [...Object.keys(sample.services[0]), 'cluster'].sort());
  // the CLI at 3.7 still lists the services
  const rows = await stack.oscJson(['--os-volume-api-version', '3.7', 'volume', 'service', 'list']);
  assert.ok(rows.some((r: { Binary: string }) => r.Binary === 'cinder-scheduler'));
});
