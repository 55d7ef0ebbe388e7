// The read-only Placement API end to end: the version document and negotiation, the resource providers
// (Jacket's hypervisors) with inventories, usages, aggregates and traits that follow a server booted on
// the ARM emulator, allocations by provider and by consumer, and the refusals (member 403, unknown
// provider 404, bad query 400, writes 403 for admins too, 406 above 1.6) in Placement's error shape.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startArmStack, waitFor, type ArmStack } from '../support/armStack';
import { oneUser, imageId, networkId } from '../support/fixtures';
import { computeHypervisors } from '../../shared/compute/hypervisors/api';

let env: ArmStack;
let tAlice: string, tAdmin: string;
let aliceProject: string;
let serverId: string;
const V = (v: string) => ({ 'OpenStack-API-Version': `placement ${v}` });
const get = (p: string, token = tAdmin, v = '1.14') => env.stack.http('GET', `/placement${p}`, { token, headers: V(v) });

before(async () => {
  env = await startArmStack();
  const u = await oneUser(env.stack, 'pl-a', 'alice');
  tAlice = u.token;
  aliceProject = u.user.projectId;
  tAdmin = u.tAdmin;
  const r = await env.stack.http('POST', '/compute/v2.1/servers', {
    token: tAlice,
    body: { server: { name: 'pl1', flavorRef: '3', imageRef: await imageId(env.stack, tAlice), networks: [{ uuid: await networkId(env.stack, tAlice) }] } },
  });
  assert.equal(r.status, 202, r.text);
  serverId = r.body.server.id;
  await waitFor('ACTIVE', async () => ((await env.stack.http('GET', `/compute/v2.1/servers/${serverId}`, { token: tAlice })).body.server.status === 'ACTIVE' ? true : undefined));
});
after(() => env?.stop());

test('the version document, the catalog entry, and negotiation up to 1.14', async () => {
  const root = await env.stack.http('GET', '/placement');
  assert.equal(root.status, 200);
  assert.deepEqual(root.body, { versions: [{ id: 'v1.0', max_version: '1.14', min_version: '1.0', status: 'CURRENT', links: [{ rel: 'self', href: '' }] }] });
  const tok = await env.stack.http('GET', '/identity/v3/auth/tokens', { token: tAdmin, headers: { 'X-Subject-Token': tAdmin } });
  const svc = (tok.body.token.catalog as { type: string; endpoints: { url: string }[] }[]).find((c) => c.type === 'placement');
  assert.ok(svc?.endpoints[0].url.endsWith('/placement'));
  const latest = await get('/resource_providers', tAdmin, 'latest');
  assert.equal(latest.status, 200);
  assert.equal(latest.headers.get('openstack-api-version'), 'placement 1.14');
  const high = await get('/resource_providers', tAdmin, '1.15');
  assert.equal(high.status, 406);
  assert.equal(high.body.errors[0].status, 406);
  assert.match(high.body.errors[0].request_id, /^req-/);
});

test('providers are the hypervisors: inventories, usages and allocations follow the servers; aggregates and traits', async () => {
  await computeHypervisors(env.stack.cloud.services);
  const hv = (await env.stack.http('GET', '/compute/v2.1/os-hypervisors/detail', { token: tAdmin })).body.hypervisors as { hypervisor_hostname: string; vcpus: number; vcpus_used: number }[];
  const list = await get('/resource_providers');
  assert.equal(list.status, 200, list.text);
  const rps = list.body.resource_providers as { uuid: string; name: string; generation: number; links: { rel: string; href: string }[] }[];
  assert.deepEqual(rps.map((p) => p.name).sort(), hv.map((h) => h.hypervisor_hostname).sort());
  const rp = rps[0];
  assert.deepEqual(
    rp.links.map((l) => l.rel),
    ['self', 'inventories', 'usages', 'aggregates', 'traits', 'allocations'],
  );
  // 1.14: roots of their own trees
  assert.equal((rp as unknown as { parent_provider_uuid: null }).parent_provider_uuid, null);
  assert.equal((rp as unknown as { root_provider_uuid: string }).root_provider_uuid, rp.uuid);
  assert.equal('root_provider_uuid' in (await get(`/resource_providers/${rp.uuid}`, tAdmin, '1.13')).body, false);
  assert.equal((await get(`/resource_providers?in_tree=${rp.uuid}`)).body.resource_providers.length, 1);
  // 1.0: no aggregates or traits links; those routes 404 below their versions
  assert.deepEqual(
    (await get(`/resource_providers/${rp.uuid}`, tAdmin, '1.0')).body.links.map((l: { rel: string }) => l.rel),
    ['self', 'inventories', 'usages'],
  );
  assert.equal((await get(`/resource_providers/${rp.uuid}/aggregates`, tAdmin, '1.0')).status, 404);
  assert.equal((await get(`/resource_providers/${rp.uuid}/traits`, tAdmin, '1.5')).status, 404);

  const inv = await get(`/resource_providers/${rp.uuid}/inventories`);
  assert.equal(inv.status, 200);
  assert.equal(inv.body.resource_provider_generation, rp.generation);
  assert.deepEqual(Object.keys(inv.body.inventories).sort(), ['DISK_GB', 'MEMORY_MB', 'VCPU']);
  const h = hv.find((x) => x.hypervisor_hostname === rp.name)!;
  assert.equal(inv.body.inventories.VCPU.total, h.vcpus);
  assert.equal(inv.body.inventories.VCPU.allocation_ratio, 1.0);
  const one = await get(`/resource_providers/${rp.uuid}/inventories/VCPU`);
  assert.equal(one.body.total, h.vcpus);
  assert.equal((await get(`/resource_providers/${rp.uuid}/inventories/PCPU`)).status, 404);

  // The server (m1.medium: 2 vCPUs, 4096 MiB, 40 GB) is the usage of its zone's provider, and its allocation.
  const alloc = await get(`/allocations/${serverId}`);
  assert.equal(alloc.status, 200);
  const [[rpOf, a]] = Object.entries(alloc.body.allocations) as [string, { resources: Record<string, number> }][];
  assert.deepEqual(a.resources, { VCPU: 2, MEMORY_MB: 4096, DISK_GB: 40 });
  const usage = await get(`/resource_providers/${rpOf}/usages`);
  assert.deepEqual(usage.body.usages, { VCPU: 2, MEMORY_MB: 4096, DISK_GB: 40 });
  const byRp = await get(`/resource_providers/${rpOf}/allocations`);
  assert.deepEqual(byRp.body.allocations[serverId], { resources: { VCPU: 2, MEMORY_MB: 4096, DISK_GB: 40 } });
  assert.deepEqual((await get('/allocations/3b6e8b9c-0000-4000-8000-000000000000')).body, { allocations: {} });
  // 1.12: the consumer's project and user; 1.11 not
  const consumer = (await get(`/allocations/${serverId}`)).body;
  assert.equal(consumer.project_id, aliceProject);
  assert.equal('project_id' in (await get(`/allocations/${serverId}`, tAdmin, '1.11')).body, false);
  // 1.9: a project's usage, for its own reader too; another project's is 403 to them
  assert.deepEqual((await get(`/usages?project_id=${aliceProject}`)).body, { usages: { VCPU: 2, MEMORY_MB: 4096, DISK_GB: 40 } });
  assert.deepEqual((await get(`/usages?project_id=${aliceProject}`, tAlice)).body, { usages: { VCPU: 2, MEMORY_MB: 4096, DISK_GB: 40 } });
  assert.equal((await get('/usages?project_id=someone-else', tAlice)).status, 403);
  assert.equal((await get('/usages')).status, 400);
  assert.equal((await get(`/usages?project_id=${aliceProject}`, tAdmin, '1.8')).status, 404);
  // 1.10: allocation candidates (a list of allocations up to 1.11, keyed by provider from 1.12)
  const cand = (await get('/allocation_candidates?resources=VCPU:1,MEMORY_MB:512')).body;
  assert.ok(rpOf in cand.provider_summaries, JSON.stringify(cand));
  assert.deepEqual(cand.provider_summaries[rpOf].resources.VCPU.used, 2);
  const mine = cand.allocation_requests.find((r: { allocations: Record<string, unknown> }) => rpOf in r.allocations);
  assert.deepEqual(mine.allocations[rpOf], { resources: { VCPU: 1, MEMORY_MB: 512 } });
  const old = (await get('/allocation_candidates?resources=VCPU:1', tAdmin, '1.10')).body;
  assert.ok(Array.isArray(old.allocation_requests[0].allocations));
  assert.equal((await get('/allocation_candidates')).status, 400);

  assert.deepEqual((await get(`/resource_providers/${rp.uuid}/aggregates`)).body, { aggregates: [] });
  const traits = await get(`/resource_providers/${rp.uuid}/traits`);
  assert.ok(traits.body.traits.includes('COMPUTE_NODE'));
  assert.equal((await get('/traits/COMPUTE_NODE')).status, 204);
  assert.equal((await get('/resource_classes/VCPU')).body.name, 'VCPU');

  // A second server moves the usage and the generation.
  const before = (await get(`/resource_providers/${rpOf}`)).body.generation as number;
  const r = await env.stack.http('POST', '/compute/v2.1/servers', {
    token: tAlice,
    body: { server: { name: 'pl2', flavorRef: '3', imageRef: await imageId(env.stack, tAlice), networks: [{ uuid: await networkId(env.stack, tAlice) }] } },
  });
  const id2 = r.body.server.id as string;
  await waitFor('ACTIVE', async () => ((await env.stack.http('GET', `/compute/v2.1/servers/${id2}`, { token: tAlice })).body.server.status === 'ACTIVE' ? true : undefined));
  await computeHypervisors(env.stack.cloud.services);
  assert.equal((await get(`/resource_providers/${rpOf}/usages`)).body.usages.VCPU, 4);
  assert.equal((await get(`/resource_providers/${rpOf}`)).body.generation, before + 1);
  // resources filter (1.4): room for 2 vCPUs, not for more than the total
  assert.equal(
    (await get('/resource_providers?resources=VCPU:2')).body.resource_providers.some((p: { uuid: string }) => p.uuid === rpOf),
    true,
  );
  assert.equal((await get(`/resource_providers?resources=VCPU:${h.vcpus + 1}`)).body.resource_providers.length, 0);
});

test('refusals in Placement shape: member 403, unknown provider 404, bad query 400, every write 403', async () => {
  const member = await get('/resource_providers', tAlice);
  assert.equal(member.status, 403);
  assert.match(member.body.errors[0].detail, /Policy does not allow placement:resource_providers:list to be performed\./);
  const missing = await get('/resource_providers/3b6e8b9c-0000-4000-8000-000000000000/inventories');
  assert.equal(missing.status, 404);
  assert.equal(missing.body.errors[0].title, 'Not Found');
  assert.match(missing.body.errors[0].detail, /No resource provider with uuid 3b6e8b9c-0000-4000-8000-000000000000 found/);
  const bad = await get('/resource_providers?color=red');
  assert.equal(bad.status, 400);
  assert.match(bad.body.errors[0].detail, /'color' was unexpected/);
  assert.equal((await get('/resource_providers?resources=VCPU', tAdmin)).status, 400);
  assert.equal((await get('/resource_providers?resources=VCPU:1', tAdmin, '1.3')).status, 400);
  const rp = (await get('/resource_providers')).body.resource_providers[0].uuid as string;
  const write = await env.stack.http('PUT', `/placement/resource_providers/${rp}/inventories`, {
    token: tAdmin,
    headers: V('1.6'),
    body: { resource_provider_generation: 0, inventories: { VCPU: { total: 1 } } },
  });
  assert.equal(write.status, 403);
  assert.match(write.body.errors[0].detail, /placement:resource_providers:inventories:update/);
  const created = await env.stack.http('POST', '/placement/resource_providers', { token: tAdmin, headers: V('1.6'), body: { name: 'x' } });
  assert.equal(created.status, 403);
  // nothing changed
  assert.equal(
    (await get('/resource_providers')).body.resource_providers.some((p: { name: string }) => p.name === 'x'),
    false,
  );
});

test("a service account (the service role, as Nova's own calls Placement) reads as an admin does, and writes nothing", async () => {
  const svc = await env.stack.makeProjectUser('pl-service', 'nova-svc', 'service');
  const token = await env.stack.token(svc);
  const list = await get('/resource_providers', token);
  assert.equal(list.status, 200, list.text);
  assert.ok(list.body.resource_providers.length > 0);
  const usages = await get(`/usages?project_id=${aliceProject}`, token);
  assert.equal(usages.status, 200, usages.text);
  assert.ok(usages.body.usages.VCPU > 0, JSON.stringify(usages.body));
  const write = await env.stack.http('POST', '/placement/resource_providers', { token, headers: V('1.14'), body: { name: 'x' } });
  assert.equal(write.status, 403);
  // The service role is no admin elsewhere: Nova's admin-only APIs refuse it.
  assert.equal((await env.stack.http('GET', '/compute/v2.1/os-hypervisors', { token })).status, 403);
  // Nova's SERVICE_ROLE API (os-server-external-events) takes it.
  const ev = await env.stack.http('POST', '/compute/v2.1/os-server-external-events', { token, body: { events: [{ name: 'network-changed', server_uuid: serverId }] } });
  assert.equal(ev.status, 200, ev.text);
});
