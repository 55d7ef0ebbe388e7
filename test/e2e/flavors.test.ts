// Flavors, extra specs and flavor access through the real `openstack` CLI and plain HTTP, with the
// Azure size check answered by the ARM emulator (the real @azure/arm-compute client lists its vmSizes).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, type Stack, type Creds } from '../support/stack';
import { assertNovaResponse } from '../support/oracle';
import { startHarness, type Harness } from '../emulator/harness';
import { loadConfig } from '../../shared/config';
import { createServices } from '../../shared/services';
import { ensureSeeded, getFlavor } from '../../shared/compute/flavors/store';

const CATALOG = {
  flavors: [
    { id: '1', name: 'm1.tiny', vcpus: 1, ram: 1024, disk: 1, vm_size: 'Standard_B1s' },
    { id: '2', name: 'm1.small', vcpus: 1, ram: 2048, disk: 20, swap: 512, ephemeral: 5, rxtx_factor: 2.0, vm_size: 'Standard_B1ms' },
    { id: '3', name: 'm1.medium', vcpus: 2, ram: 4096, disk: 40, vm_size: 'Standard_B2s', extra_specs: { 'hw:cpu_policy': 'shared' } },
    { id: 'old', name: 'm1.retired', vcpus: 2, ram: 8192, disk: 80, vm_size: 'Standard_D2s_v3', disabled: true },
  ],
};

let arm: Harness;
let stack: Stack;
let alice: Creds & { projectId: string };
let bob: Creds & { projectId: string };
let admin: string;
let tA: string;
let tB: string;

const F = '/compute/v2.1/flavors';

before(async () => {
  arm = await startHarness();
  stack = await startStack({
    settings: {
      JACKET_CATALOG: JSON.stringify(CATALOG),
      JACKET_ARM_ENDPOINT: arm.emu.url,
      JACKET_AZURE_CREDENTIAL: 'static',
      JACKET_ARM_CA_CERT: arm.emu.caCertPath,
      JACKET_AZURE_SUBSCRIPTION_ID: arm.subscriptionId,
      JACKET_AZURE_LOCATION: arm.location,
    },
  });
  alice = await stack.makeProjectUser('project-a', 'alice');
  bob = await stack.makeProjectUser('project-b', 'bob');
  [admin, tA, tB] = await Promise.all([stack.token(), stack.token(alice), stack.token(bob)]);
});
after(async () => {
  await stack?.stop();
  await arm?.stop();
});

const ids = (body: { flavors: { id: string }[] }) => body.flavors.map((f) => f.id);

test('configured flavors are seeded: openstack flavor list, list --long and show', async () => {
  const list = await stack.oscJson<{ ID: string; Name: string; RAM: number; Disk: number; Ephemeral: number; VCPUs: number; 'Is Public': boolean }[]>(['flavor', 'list'], alice);
  assert.deepEqual(
    list.map((f) => [f.ID, f.Name, f.RAM, f.Disk, f.Ephemeral, f.VCPUs, f['Is Public']]),
    [
      ['1', 'm1.tiny', 1024, 1, 0, 1, true],
      ['2', 'm1.small', 2048, 20, 5, 1, true],
      ['3', 'm1.medium', 4096, 40, 0, 2, true],
    ],
    'members do not see the disabled flavor',
  );
  const long = await stack.oscJson<Record<string, unknown>[]>(['flavor', 'list', '--long']);
  const small = long.find((f) => f.Name === 'm1.small')!;
  assert.equal(small.Swap, 512);
  assert.equal(small['RXTX Factor'], 2);
  assert.deepEqual(small.Properties, { 'azure:vm_size': 'Standard_B1ms' });
  assert.deepEqual(long.find((f) => f.Name === 'm1.medium')!.Properties, { 'azure:vm_size': 'Standard_B2s', 'hw:cpu_policy': 'shared' });
  assert.ok(
    long.some((f) => f.ID === 'old'),
    'admins see disabled flavors',
  );
  const show = await stack.oscJson<Record<string, unknown>>(['flavor', 'show', 'm1.tiny'], alice);
  assert.equal(show.id, '1');
  assert.equal(show.ram, 1024);
  assert.equal(show.vcpus, 1);
  assert.equal(show['OS-FLV-DISABLED:disabled'], false);
  assert.deepEqual(show.properties, { 'azure:vm_size': 'Standard_B1s' });

  // the same through HTTP, against Nova's own response schemas
  const index = await stack.http('GET', F, { token: tA });
  assert.equal(index.status, 200);
  assertNovaResponse('flavors', 'FlavorsController', 'index', '2.1', index.body);
  assert.deepEqual(index.body.flavors[0].links, [
    { rel: 'self', href: `${stack.url}/compute/v2.1/flavors/1` },
    { rel: 'bookmark', href: `${stack.url}/compute/flavors/1` },
  ]);
  const detail = await stack.http('GET', `${F}/detail`, { token: admin });
  assertNovaResponse('flavors', 'FlavorsController', 'detail', '2.1', detail.body);
  const d = Object.fromEntries(detail.body.flavors.map((f: { id: string }) => [f.id, f]));
  assert.equal(d['1'].swap, '', 'swap 0 is "" before 2.75');
  assert.equal(d['2'].swap, 512);
  assert.equal(d['2'].rxtx_factor, 2);
  assert.equal(d['2']['OS-FLV-EXT-DATA:ephemeral'], 5);
  assert.equal(d.old['OS-FLV-DISABLED:disabled'], true);
  const one = await stack.http('GET', `${F}/old`, { token: tA });
  assert.equal(one.status, 200, 'a disabled public flavor can still be shown');
  assertNovaResponse('flavors', 'FlavorsController', 'show', '2.1', one.body);
  const specs = await stack.http('GET', `${F}/3/os-extra_specs`, { token: tA });
  assertNovaResponse('flavors_extraspecs', 'FlavorExtraSpecsController', 'index', '2.1', specs.body);
  const spec = await stack.http('GET', `${F}/3/os-extra_specs/hw:cpu_policy`, { token: tA });
  assert.deepEqual(spec.body, { 'hw:cpu_policy': 'shared' });
  assertNovaResponse('flavors_extraspecs', 'FlavorExtraSpecsController', 'show', '2.1', spec.body);
  const nokey = await stack.http('GET', `${F}/3/os-extra_specs/nope`, { token: tA });
  assert.equal(nokey.status, 404);
  assert.equal(nokey.body.itemNotFound.message, 'Flavor 3 has no extra specs with key nope.');
});

test('private flavor with an Azure size: create --private --project, access set/unset, properties, delete', async () => {
  const made = await stack.oscJson<Record<string, unknown>>([
    'flavor',
    'create',
    '--vcpus',
    '2',
    '--ram',
    '8192',
    '--disk',
    '40',
    '--property',
    'azure:vm_size=Standard_D2s_v3',
    '--private',
    '--project',
    'project-a',
    'd2.private',
  ]);
  const id = made.id as string;
  assert.match(id, /^[0-9a-f-]{36}$/);
  assert.equal(made['os-flavor-access:is_public'], false);
  assert.deepEqual(made.properties, { 'azure:vm_size': 'Standard_D2s_v3' });
  // project-a sees it (list and show), project-b does not (404, as Nova)
  assert.ok((await stack.oscJson<{ ID: string }[]>(['flavor', 'list'], alice)).some((f) => f.ID === id));
  assert.ok(!(await stack.oscJson<{ ID: string }[]>(['flavor', 'list'], bob)).some((f) => f.ID === id));
  const hidden = await stack.http('GET', `${F}/${id}`, { token: tB });
  assert.equal(hidden.status, 404);
  assert.deepEqual(hidden.body, { itemNotFound: { code: 404, message: `Flavor ${id} could not be found.` } });
  assert.equal((await stack.http('GET', `${F}/${id}/os-extra_specs`, { token: tB })).status, 404);
  assert.equal((await stack.http('GET', `${F}/${id}`, { token: tA })).status, 200);
  // admins: public listing hides it, is_public=none and is_public=false show it
  assert.ok(!ids((await stack.http('GET', F, { token: admin })).body).includes(id));
  assert.ok(ids((await stack.http('GET', `${F}?is_public=none`, { token: admin })).body).includes(id));
  assert.deepEqual(ids((await stack.http('GET', `${F}?is_public=false`, { token: admin })).body), [id]);
  const access = await stack.http('GET', `${F}/${id}/os-flavor-access`, { token: admin });
  assertNovaResponse('flavor_access', 'FlavorAccessController', 'index', '2.1', access.body);
  assert.deepEqual(access.body, { flavor_access: [{ flavor_id: id, tenant_id: alice.projectId }] });

  await stack.oscOk(['flavor', 'set', '--project', 'project-b', '--property', 'hw:numa_nodes=1', id]);
  assert.equal((await stack.http('GET', `${F}/${id}`, { token: tB })).status, 200, 'project-b was given access');
  let shown = await stack.oscJson<Record<string, unknown>>(['flavor', 'show', id]);
  assert.deepEqual(shown.properties, { 'azure:vm_size': 'Standard_D2s_v3', 'hw:numa_nodes': '1' });
  assert.deepEqual((shown.access_project_ids as string[]).sort(), [alice.projectId, bob.projectId].sort());
  await stack.oscOk(['flavor', 'unset', '--project', 'project-b', '--property', 'hw:numa_nodes', id]);
  assert.equal((await stack.http('GET', `${F}/${id}`, { token: tB })).status, 404, 'project-b lost access');
  shown = await stack.oscJson<Record<string, unknown>>(['flavor', 'show', id]);
  assert.deepEqual(shown.properties, { 'azure:vm_size': 'Standard_D2s_v3' });
  assert.deepEqual(shown.access_project_ids, [alice.projectId]);

  await stack.oscOk(['flavor', 'delete', id]);
  const gone = await stack.http('GET', `${F}/${id}`, { token: admin });
  assert.equal(gone.status, 404);
  assert.ok(!(await stack.oscJson<{ ID: string }[]>(['flavor', 'list'], alice)).some((f) => f.ID === id), 'the access rows went with it');
  // the name is free again
  const again = await stack.http('POST', F, { token: admin, body: { flavor: { name: 'd2.private', ram: 512, vcpus: 1, disk: 0, id: 'again' } } });
  assert.equal(again.status, 200);
  assertNovaResponse('flavors', 'FlavorsController', 'create', '2.1', again.body);
  const del = await stack.http('DELETE', `${F}/again`, { token: admin });
  assert.equal(del.status, 202);
  assert.equal(del.text, '');
});

test('azure:vm_size must be a size the region offers (ARM vmSizes); bad specs change nothing', async () => {
  const f = await stack.http('POST', F, { token: admin, body: { flavor: { name: 'sized', ram: '4096', vcpus: '2', disk: '10', id: 77, rxtx_factor: '1.5', 'os-flavor-access:is_public': 'yes' } } });
  assert.equal(f.status, 200);
  assert.equal(f.body.flavor.id, '77', 'a numeric id is stored as a string');
  assert.equal(f.body.flavor.ram, 4096);
  assert.equal(f.body.flavor.rxtx_factor, 1.5);
  assert.equal(f.body.flavor['os-flavor-access:is_public'], true);
  const specs = () => stack.http('GET', `${F}/77/os-extra_specs`, { token: admin }).then((r) => r.body.extra_specs);
  assert.deepEqual(await specs(), {}, 'a flavor made through the API has no size until one is set');

  const bad = await stack.http('POST', `${F}/77/os-extra_specs`, { token: admin, body: { extra_specs: { 'azure:vm_size': 'Standard_Imaginary_v9', other: 'x' } } });
  assert.equal(bad.status, 400);
  assert.equal(bad.body.badRequest.message, `Invalid extra spec azure:vm_size: Standard_Imaginary_v9 is not a VM size offered in Azure region ${arm.location}.`);
  assert.deepEqual(await specs(), {}, 'nothing was stored');
  const cli = await stack.osc(['flavor', 'set', '--property', 'azure:vm_size=Standard_M128s', '77']);
  assert.notEqual(cli.code, 0, 'a size Azure knows but this region does not offer is refused');
  assert.match(cli.stderr, /Standard_M128s is not a VM size offered in Azure region/);
  assert.deepEqual(await specs(), {});

  const ok = await stack.http('POST', `${F}/77/os-extra_specs`, { token: admin, body: { extra_specs: { 'azure:vm_size': 'standard_e2s_v3', weight: 3 } } });
  assert.equal(ok.status, 200);
  assertNovaResponse('flavors_extraspecs', 'FlavorExtraSpecsController', 'create', '2.1', ok.body);
  assert.deepEqual(await specs(), { 'azure:vm_size': 'standard_e2s_v3', weight: '3' }, 'values are stored as strings');
  const put = await stack.http('PUT', `${F}/77/os-extra_specs/azure:vm_size`, { token: admin, body: { 'azure:vm_size': 'Standard_D4s_v3' } });
  assert.equal(put.status, 200);
  assertNovaResponse('flavors_extraspecs', 'FlavorExtraSpecsController', 'update', '2.1', put.body);
  const mismatch = await stack.http('PUT', `${F}/77/os-extra_specs/weight`, { token: admin, body: { 'azure:vm_size': 'Standard_D2s_v3' } });
  assert.equal(mismatch.status, 400);
  assert.equal(mismatch.body.badRequest.message, 'Request body and URI mismatch');
  const badKey = await stack.http('POST', `${F}/77/os-extra_specs`, { token: admin, body: { extra_specs: { 'bad/key': 'x' } } });
  assert.equal(badKey.status, 400);
  const del = await stack.http('DELETE', `${F}/77/os-extra_specs/weight`, { token: admin });
  assert.equal(del.status, 200);
  assert.equal(del.text, '');
  assert.equal((await stack.http('DELETE', `${F}/77/os-extra_specs/weight`, { token: admin })).status, 404);
  assert.deepEqual(await specs(), { 'azure:vm_size': 'Standard_D4s_v3' });
  assert.equal((await stack.http('POST', `${F}/nope/os-extra_specs`, { token: admin, body: { extra_specs: { a: 'b' } } })).status, 404);
  assert.equal((await stack.http('DELETE', `${F}/77`, { token: admin })).status, 202);
});

test('members get 403 on admin calls; bad bodies get 400 or 409 and change nothing', async () => {
  const r = await stack.osc(['flavor', 'create', '--vcpus', '1', '--ram', '512', '--disk', '1', 'mine'], alice);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /403.*Policy doesn't allow os_compute_api:os-flavor-manage:create to be performed/);
  const denied: [string, string, unknown, string][] = [
    ['POST', F, { flavor: { name: 'mine', ram: 512, vcpus: 1, disk: 1 } }, 'os-flavor-manage:create'],
    ['DELETE', `${F}/1`, undefined, 'os-flavor-manage:delete'],
    ['POST', `${F}/1/os-extra_specs`, { extra_specs: { a: 'b' } }, 'os-flavor-extra-specs:create'],
    ['PUT', `${F}/1/os-extra_specs/a`, { a: 'b' }, 'os-flavor-extra-specs:update'],
    ['DELETE', `${F}/1/os-extra_specs/azure:vm_size`, undefined, 'os-flavor-extra-specs:delete'],
    ['GET', `${F}/1/os-flavor-access`, undefined, 'os-flavor-access'],
    ['POST', `${F}/1/action`, { addTenantAccess: { tenant: alice.projectId } }, 'os-flavor-access:add_tenant_access'],
    ['POST', `${F}/1/action`, { removeTenantAccess: { tenant: alice.projectId } }, 'os-flavor-access:remove_tenant_access'],
  ];
  for (const [method, path, body, policy] of denied) {
    const res = await stack.http(method, path, { token: tA, body });
    assert.equal(res.status, 403, `${method} ${path}`);
    assert.deepEqual(res.body, { forbidden: { code: 403, message: `Policy doesn't allow os_compute_api:${policy} to be performed.` } });
  }
  const before = (await stack.http('GET', `${F}/detail?is_public=none`, { token: admin })).body;

  const bodies: [unknown, RegExp][] = [
    [{ flavor: { name: 'x', vcpus: 1, disk: 1 } }, /'ram' is a required property/],
    [{ flavor: { name: 'x', ram: 0, vcpus: 1, disk: 1 } }, /ram/],
    [{ flavor: { name: 'x', ram: '0', vcpus: 1, disk: 1 } }, /ram must be >= 1/],
    [{ flavor: { name: ' x', ram: 1, vcpus: 1, disk: 1 } }, /name/],
    [{ flavor: { name: 'x', ram: 1, vcpus: 1, disk: -1 } }, /disk/],
    [{ flavor: { name: 'x', ram: 1, vcpus: 1, disk: 1, 'os-flavor-access:is_public': 'maybe' } }, /is_public/],
    [{ flavor: { name: 'x', ram: 1, vcpus: 1, disk: 1, rxtx_factor: 0 } }, /rxtx_factor/],
    [{ flavor: { name: 'x', ram: 1, vcpus: 1, disk: 1, id: 'bad/id' } }, /id/],
    [{ flavor: { name: 'x', ram: 1, vcpus: 1, disk: 1, description: 'only from 2.55' } }, /Additional properties are not allowed/],
    [{ flavour: {} }, /flavor/],
  ];
  for (const [body, msg] of bodies) {
    const res = await stack.http('POST', F, { token: admin, body });
    assert.equal(res.status, 400, JSON.stringify(body));
    assert.match(res.body.badRequest.message, msg);
  }
  const dupName = await stack.http('POST', F, { token: admin, body: { flavor: { name: 'm1.tiny', ram: 1, vcpus: 1, disk: 1 } } });
  assert.equal(dupName.status, 409);
  assert.equal(dupName.body.conflictingRequest.message, 'Flavor with name m1.tiny already exists.');
  const dupId = await stack.http('POST', F, { token: admin, body: { flavor: { name: 'fresh', ram: 1, vcpus: 1, disk: 1, id: '1' } } });
  assert.equal(dupId.status, 409);
  assert.equal(dupId.body.conflictingRequest.message, 'Flavor with ID 1 already exists.');

  // access changes: unknown project 400, twice 409, absent 404; public flavors have no access list
  const act = (id: string, body: unknown) => stack.http('POST', `${F}/${id}/action`, { token: admin, body });
  const noProject = await act('old', { addTenantAccess: { tenant: 'no-such-project' } });
  assert.equal(noProject.status, 400);
  assert.equal(noProject.body.badRequest.message, 'Project ID no-such-project is not a valid project.');
  assert.equal((await act('old', { addTenantAccess: {} })).status, 400);
  assert.equal((await act('old', { rebuild: {} })).status, 404);
  assert.equal((await act('nope', { addTenantAccess: { tenant: bob.projectId } })).status, 404);
  const removeAbsent = await act('1', { removeTenantAccess: { tenant: bob.projectId } });
  assert.equal(removeAbsent.status, 404);
  assert.equal(removeAbsent.body.itemNotFound.message, `Flavor access not found for 1 / ${bob.projectId} combination.`);
  const publicAccess = await stack.http('GET', `${F}/1/os-flavor-access`, { token: admin });
  assert.equal(publicAccess.status, 404);
  assert.equal(publicAccess.body.itemNotFound.message, 'Access list not available for public flavors.');

  const after = (await stack.http('GET', `${F}/detail?is_public=none`, { token: admin })).body;
  assert.deepEqual(after, before, 'nothing changed');
  assert.equal((await stack.http('PUT', `${F}/1`, { token: admin, body: { flavor: { description: 'x' } } })).status, 404, 'update is a 2.55 API');
});

test('pagination, sorting and filters as Nova does them', async () => {
  const page1 = await stack.http('GET', `${F}?limit=2`, { token: tA });
  assert.deepEqual(ids(page1.body), ['1', '2']);
  assertNovaResponse('flavors', 'FlavorsController', 'index', '2.1', page1.body);
  const next = new URL(page1.body.flavors_links[0].href);
  assert.equal(page1.body.flavors_links[0].rel, 'next');
  assert.equal(next.pathname, '/compute/v2.1/flavors');
  assert.equal(next.searchParams.get('marker'), '2');
  const page2 = await stack.http('GET', `${next.pathname}${next.search}`, { token: tA });
  assert.deepEqual(ids(page2.body), ['3']);
  assert.equal(page2.body.flavors_links, undefined, 'the last page has no next link');
  const detailPage = await stack.http('GET', `${F}/detail?limit=1&marker=1`, { token: tA });
  assert.deepEqual(ids(detailPage.body), ['2']);
  assert.match(detailPage.body.flavors_links[0].href, /\/compute\/v2\.1\/flavors\/detail\?/);
  assert.equal((await stack.http('GET', F, { token: tA })).body.flavors_links, undefined, 'no link without a limit');

  const byRam = await stack.http('GET', `${F}/detail?sort_key=memory_mb&sort_dir=desc&is_public=none`, { token: admin });
  const rams = byRam.body.flavors.map((f: { ram: number }) => f.ram);
  assert.deepEqual(
    rams,
    [...rams].sort((a: number, b: number) => b - a),
  );
  // by name: m1.medium (3) < m1.small (2) < m1.tiny (1); the marker is a flavor id
  const byName = await stack.http('GET', `${F}?sort_key=name&limit=2&marker=3`, { token: tA });
  assert.deepEqual(
    byName.body.flavors.map((f: { name: string }) => f.name),
    ['m1.small', 'm1.tiny'],
  );
  assert.equal(new URL(byName.body.flavors_links[0].href).searchParams.get('sort_key'), 'name');
  assert.deepEqual(ids((await stack.http('GET', `${F}?minRam=2048&minDisk=20`, { token: tA })).body), ['2', '3']);
  assert.deepEqual(ids((await stack.http('GET', `${F}?minDisk=40`, { token: admin })).body), ['3', 'old']);

  const errors: [string, string][] = [
    ['sort_key=bogus', "Invalid input for query parameters sort_key. Value: bogus. 'bogus' is not one of"],
    ['sort_dir=up', "Invalid input for query parameters sort_dir. Value: up. 'up' is not one of ['asc', 'desc']"],
    ['limit=-1', 'Invalid input for query parameters limit.'],
    ['minRam=abc', 'Invalid minRam filter [abc]'],
    ['minDisk=1.5', 'Invalid minDisk filter [1.5]'],
    ['marker=nope', 'marker [nope] not found'],
  ];
  for (const [q, msg] of errors) {
    const res = await stack.http('GET', `${F}?${q}`, { token: tA });
    assert.equal(res.status, 400, q);
    assert.ok(res.body.badRequest.message.startsWith(msg), `${q}: ${res.body.badRequest.message}`);
  }
  const badPublic = await stack.http('GET', `${F}?is_public=maybe`, { token: admin });
  assert.equal(badPublic.status, 400);
  assert.equal(badPublic.body.badRequest.message, 'Invalid is_public filter [maybe]');
  // members cannot widen their view with is_public, nor page from a flavor they cannot see
  assert.deepEqual(ids((await stack.http('GET', `${F}?is_public=none`, { token: tA })).body), ['1', '2', '3']);
  assert.equal((await stack.http('GET', `${F}?marker=old`, { token: tA })).status, 200, 'a disabled public flavor is a valid marker');
});

test('seeding is idempotent: a deleted default flavor stays deleted when another process starts', async () => {
  assert.equal((await stack.http('DELETE', `${F}/3`, { token: admin })).status, 202);
  const other = createServices(loadConfig(stack.cloud.settings));
  await ensureSeeded(other);
  assert.equal(await getFlavor(other, '3'), undefined);
  assert.ok(await getFlavor(other, '1'));
  assert.deepEqual(ids((await stack.http('GET', F, { token: tA })).body), ['1', '2']);
});
