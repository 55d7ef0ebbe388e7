import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig, ConfigError } from '../../shared/config';

const base = {
  JACKET_PUBLIC_URL: 'https://jacket.example.com/',
  JACKET_STORAGE_CONNECTION_STRING: 'UseDevelopmentStorage=true',
  JACKET_TOKEN_KEYS: Buffer.alloc(32, 7).toString('base64'),
};

test('defaults follow the design', () => {
  const c = loadConfig(base);
  assert.equal(c.publicUrl, 'https://jacket.example.com');
  assert.equal(c.azure.resourceGroup, 'ops_resource_group');
  assert.equal(c.azure.storageAccount, 'ops0storage0account');
  assert.equal(c.auth.tokenTtlSeconds, 3600);
  assert.equal(c.auth.mode, 'builtin');
  assert.equal(c.workQueue, 'jacket-work');
  assert.equal(c.bootstrap, undefined);
  assert.deepEqual(c.catalog, {});
});

test('bad settings fail with the setting named', () => {
  const bad: [Record<string, string>, RegExp][] = [
    [{ JACKET_PUBLIC_URL: '' }, /JACKET_PUBLIC_URL is required/],
    [{ JACKET_STORAGE_ACCOUNT: 'ops_storage_account' }, /lowercase letters and digits/],
    [{ JACKET_TOKEN_KEYS: 'c2hvcnQ=' }, /at least 32 bytes/],
    [{ JACKET_AUTH_MODE: 'ldap' }, /builtin or external/],
    [{ JACKET_AUTH_MODE: 'external' }, /JACKET_KEYSTONE_URL is required/],
    [{ JACKET_BOOTSTRAP_USERNAME: 'admin' }, /go together/],
    [{ JACKET_TOKEN_TTL_SECONDS: '0' }, /positive integer/],
    [{ JACKET_WORK_QUEUE: 'Bad_Name' }, /not a valid queue name/],
    [{ JACKET_CATALOG: '[1]' }, /must be a JSON object/],
    [{ JACKET_CATALOG: '{' }, /not valid JSON/],
  ];
  for (const [over, msg] of bad)
    assert.throws(
      () => loadConfig({ ...base, ...over }),
      (e: unknown) => e instanceof ConfigError && msg.test((e as Error).message),
      JSON.stringify(over),
    );
});

test('token keys: several for rotation; external mode needs none', () => {
  const k2 = Buffer.alloc(48, 1).toString('base64');
  assert.equal(loadConfig({ ...base, JACKET_TOKEN_KEYS: `${base.JACKET_TOKEN_KEYS},${k2}` }).auth.tokenKeys.length, 2);
  const ext = loadConfig({ ...base, JACKET_TOKEN_KEYS: '', JACKET_AUTH_MODE: 'external', JACKET_KEYSTONE_URL: 'https://keystone.example.com/v3/' });
  assert.equal(ext.auth.keystoneUrl, 'https://keystone.example.com/v3');
});

test('the catalog comes from inline JSON', () => {
  assert.deepEqual(loadConfig({ ...base, JACKET_CATALOG: '{"flavors": []}' }).catalog, { flavors: [] });
});
