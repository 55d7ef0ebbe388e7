// Compute 2.37's create schema (networks required: the list, "auto" or "none") and what the sweeps make
// of the isolated resources of a server with networks "none" (docs/servers.md "Servers with no network").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Microversion } from '../../shared/api/microversion';
import { schemaAt, validateBody } from '../../shared/api/validation';
import { createServerSchemas } from '../../shared/compute/servers/schemas';
import { ApiError } from '../../shared/http/errors';
import { isolationTags } from '../../shared/azure/network';
import { nicName, serverTags } from '../../shared/azure/vms';
import { jacketServerOfNic } from '../../shared/timers/nics';
import { jacketGroupOfNsg } from '../../shared/timers/nsgs';
import { loadConfig } from '../../shared/config';

const NET = '6a1f0c5e-5d3e-4d3b-9a3e-2f1e0c9b8a71';
const body = (networks?: unknown) => ({ server: { name: 's', flavorRef: '1', imageRef: NET, ...(networks === undefined ? {} : { networks }) } });
const refusal = (mv: string, b: unknown) => {
  try {
    validateBody(schemaAt(Microversion.parse(mv), createServerSchemas), b);
    return undefined;
  } catch (e) {
    assert.ok(e instanceof ApiError);
    assert.equal(e.status, 400);
    return e.message;
  }
};

test('create_v237: networks required, a list without tags, "auto" or "none"; 2.36 unchanged', () => {
  assert.equal(refusal('2.36', body()), undefined);
  assert.equal(refusal('2.36', body([{ uuid: NET, tag: 't' }])), undefined);
  assert.ok(refusal('2.36', body('auto')));
  assert.match(refusal('2.37', body()) ?? '', /'networks' is a required property/);
  for (const ok of ['auto', 'none', [], [{ uuid: NET }], [{ port: NET }]]) assert.equal(refusal('2.37', body(ok)), undefined, JSON.stringify(ok));
  for (const bad of ['some', 'AUTO', [{ uuid: NET, tag: 't' }], [{ uuid: 'not-a-uuid' }], {}]) assert.ok(refusal('2.37', body(bad)), JSON.stringify(bad));
});

test('the isolated NIC is swept as a server NIC; the isolation NSG is no security group NSG', () => {
  const id = '0b9c5a36-7c1e-4f7e-9a51-0d2f1c3b4a55';
  assert.equal(jacketServerOfNic({ name: nicName(id, 0), tags: serverTags({ id, project_id: 'p' }) }), id);
  assert.equal(jacketGroupOfNsg({ name: 'jacket-isolated-deny-all', tags: isolationTags }), undefined);
});

test('the isolated network names are settings, with defaults', () => {
  const base = { JACKET_PUBLIC_URL: 'https://j.example.com', JACKET_STORAGE_CONNECTION_STRING: 'UseDevelopmentStorage=true', JACKET_TOKEN_KEYS: Buffer.alloc(32, 1).toString('base64') };
  assert.deepEqual(loadConfig(base).azure.isolated, { vnet: 'jacket-isolated', subnet: 'no-network', nsg: 'jacket-isolated-deny-all' });
  assert.deepEqual(loadConfig({ ...base, JACKET_ISOLATED_VNET: 'v', JACKET_ISOLATED_SUBNET: 's', JACKET_ISOLATED_NSG: 'n' }).azure.isolated, { vnet: 'v', subnet: 's', nsg: 'n' });
});

test('create_v242 (not advertised): the device tag is back on networks items and block devices; "auto"/"none" stay', () => {
  const bdm = { boot_index: 0, uuid: NET, source_type: 'image', destination_type: 'local', tag: 'root' };
  assert.ok(refusal('2.41', body([{ uuid: NET, tag: 'nic' }])));
  assert.ok(refusal('2.41', { server: { ...body('auto').server, block_device_mapping_v2: [bdm] } }));
  assert.equal(refusal('2.42', body([{ uuid: NET, tag: 'nic' }])), undefined);
  assert.equal(refusal('2.42', { server: { ...body('none').server, block_device_mapping_v2: [bdm] } }), undefined);
  assert.ok(refusal('2.42', body([{ uuid: NET, tag: 'a/b' }])));
  assert.ok(refusal('2.42', body()));
  for (const ok of ['auto', 'none']) assert.equal(refusal('2.42', body(ok)), undefined);
});
