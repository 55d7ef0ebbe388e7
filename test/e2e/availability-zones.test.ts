// Availability zones and the extension list through the real `openstack` CLI and plain HTTP; the stack
// has two configured zones and no flavor catalog, so the built-in default flavors are seeded.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, type Stack, type Creds } from '../support/stack';
import { assertNovaResponse } from '../support/oracle';
import { DEFAULT_FLAVORS } from '../../shared/compute/flavors/store';

let stack: Stack;
let alice: Creds;

before(async () => {
  stack = await startStack({
    settings: {
      JACKET_AZURE_LOCATION: 'westeurope',
      JACKET_CATALOG: JSON.stringify({
        availability_zones: [
          { name: 'az-1', azure_zone: '1' },
          { name: 'az-2', azure_zone: '2' },
        ],
      }),
    },
  });
  alice = await stack.makeProjectUser('project-a', 'alice');
});
after(() => stack?.stop());

test('openstack availability zone list --compute: zones for admins (detail) and members (list)', async () => {
  type Row = { 'Zone Name': string; 'Zone Status': string; 'Host Name'?: string; 'Service Name'?: string };
  const mine = await stack.oscJson<Row[]>(['availability', 'zone', 'list', '--compute'], alice);
  assert.deepEqual(
    mine.map((z) => [z['Zone Name'], z['Zone Status']]),
    [
      ['az-1', 'available'],
      ['az-2', 'available'],
    ],
  );
  const long = await stack.oscJson<Row[]>(['availability', 'zone', 'list', '--compute', '--long']);
  assert.deepEqual(
    long.map((z) => [z['Zone Name'], z['Host Name'], z['Service Name']]),
    [
      ['az-1', 'westeurope-1', 'nova-compute'],
      ['az-2', 'westeurope-2', 'nova-compute'],
    ],
  );

  const tA = await stack.token(alice);
  const index = await stack.http('GET', '/compute/v2.1/os-availability-zone', { token: tA });
  assert.equal(index.status, 200);
  assertNovaResponse('availability_zone', 'AvailabilityZoneController', 'index', '2.1', index.body);
  assert.deepEqual(index.body.availabilityZoneInfo[0], { zoneName: 'az-1', zoneState: { available: true }, hosts: null });
  const denied = await stack.http('GET', '/compute/v2.1/os-availability-zone/detail', { token: tA });
  assert.equal(denied.status, 403);
  assert.equal(denied.body.forbidden.message, "Policy doesn't allow os_compute_api:os-availability-zone:detail to be performed.");
  const detail = await stack.http('GET', '/compute/v2.1/os-availability-zone/detail', { token: await stack.token() });
  assert.equal(detail.status, 200);
  assertNovaResponse('availability_zone', 'AvailabilityZoneController', 'detail', '2.1', detail.body);
  assert.equal(detail.headers.get('openstack-api-version'), 'compute 2.1');
  assert.equal((await stack.http('GET', '/compute/v2.1/os-availability-zone')).status, 401, 'a token is needed');
});

test('openstack extension list --compute, and GET /extensions/{alias}', async () => {
  const exts = await stack.oscJson<{ Name: string; Alias: string }[]>(['extension', 'list', '--compute']);
  assert.ok(exts.length > 90, `${exts.length} extensions`);
  assert.ok(exts.some((e) => e.Alias === 'OS-FLV-EXT-DATA' && e.Name === 'FlavorExtraData'));
  const tA = await stack.token(alice);
  const list = await stack.http('GET', '/compute/v2.1/extensions', { token: tA });
  assertNovaResponse('extension_info', 'ExtensionInfoController', 'index', '2.1', list.body);
  assert.equal(list.body.extensions.length, exts.length);
  const one = await stack.http('GET', '/compute/v2.1/extensions/os-flavor-access', { token: tA });
  assert.equal(one.status, 200);
  assertNovaResponse('extension_info', 'ExtensionInfoController', 'show', '2.1', one.body);
  assert.equal(one.body.extension.name, 'FlavorAccess');
  const none = await stack.http('GET', '/compute/v2.1/extensions/os-nothing', { token: tA });
  assert.equal(none.status, 404);
  assert.deepEqual(none.body, { itemNotFound: { code: 404, message: 'The resource could not be found.' } });
});

test('without a flavor catalog the built-in default flavors are seeded, each on its Azure size', async () => {
  const tA = await stack.token(alice);
  const detail = await stack.http('GET', '/compute/v2.1/flavors/detail', { token: tA });
  assertNovaResponse('flavors', 'FlavorsController', 'detail', '2.1', detail.body);
  assert.deepEqual(
    detail.body.flavors.map((f: { id: string; name: string; vcpus: number; ram: number; disk: number }) => [f.id, f.name, f.vcpus, f.ram, f.disk]),
    DEFAULT_FLAVORS.map((f) => [f.id, f.name, f.vcpus, f.ram, f.disk]),
  );
  const specs = await stack.http('GET', '/compute/v2.1/flavors/4/os-extra_specs', { token: tA });
  assert.deepEqual(specs.body, { extra_specs: { 'azure:vm_size': 'Standard_D2s_v3' } });
});
