// `npm start`'s settings (local/settings.ts): local.settings.json Values, then the environment, over
// the local defaults; the real-Azure switch; the saved state (local/state.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig } from '../../shared/config';
import { LOCAL_DEFAULTS, localMode, mergeSettings, readLocalSettingsFile } from '../../local/settings';
import { LocalState } from '../../local/state';
import { REPO_ROOT } from '../support/paths';

const tmp = () => mkdtempSync(path.join(tmpdir(), 'jacket-local-'));

test('local.settings.json Values, then the environment, over the defaults; empty values count as unset', () => {
  const dir = tmp();
  try {
    const file = path.join(dir, 'local.settings.json');
    writeFileSync(
      file,
      JSON.stringify({
        IsEncrypted: false,
        Values: { JACKET_SWEEP_NICS_SCHEDULE: '*/30 * * * * *', JACKET_REGION: 'FileRegion', JACKET_BOOTSTRAP_PASSWORD: 'from-file', JACKET_KEYSTONE_URL: '', JACKET_SWEEP_LEASE_SECONDS: 60 },
      }),
    );
    const s = mergeSettings(readLocalSettingsFile(file), { JACKET_REGION: 'EnvRegion', JACKET_KEYSTONE_URL: '', PATH: '/bin' });
    assert.equal(s.JACKET_SWEEP_NICS_SCHEDULE, '*/30 * * * * *', 'from the file');
    assert.equal(s.JACKET_REGION, 'EnvRegion', 'the environment wins over the file');
    assert.equal(s.JACKET_BOOTSTRAP_PASSWORD, 'from-file', 'the file wins over the defaults');
    assert.equal(s.JACKET_BOOTSTRAP_USERNAME, LOCAL_DEFAULTS.JACKET_BOOTSTRAP_USERNAME);
    assert.equal(s.JACKET_SWEEP_LEASE_SECONDS, '60', 'numbers are taken as the host takes them: as strings');
    assert.equal('JACKET_KEYSTONE_URL' in s, false);
    assert.equal(mergeSettings({}, { JACKET_ADMIN_PASSWORD: 'older-variable' }).JACKET_BOOTSTRAP_PASSWORD, 'older-variable');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('no local.settings.json is fine; a broken one is an error naming the file', () => {
  const dir = tmp();
  try {
    assert.deepEqual(readLocalSettingsFile(path.join(dir, 'absent.json')), {});
    const bad = path.join(dir, 'local.settings.json');
    writeFileSync(bad, '{ "Values": ');
    assert.throws(
      () => readLocalSettingsFile(bad),
      (e: Error) => e instanceof ConfigError && e.message.includes(bad),
    );
    writeFileSync(bad, JSON.stringify({ Values: { JACKET_CATALOG: { flavors: [] } } }));
    assert.throws(() => readLocalSettingsFile(bad), /JACKET_CATALOG must be a string/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the shipped sample, copied as local.settings.json, is a valid local configuration in emulator mode', () => {
  const s = mergeSettings(readLocalSettingsFile(path.join(REPO_ROOT, 'local.settings.sample.json')), {});
  assert.equal(localMode(s), 'emulator');
  // What npm start adds itself in emulator mode: the URL it listens on, Azurite, the token key in .local/.
  assert.doesNotThrow(() =>
    loadConfig({
      ...s,
      JACKET_PUBLIC_URL: 'http://127.0.0.1:8774',
      JACKET_STORAGE_CONNECTION_STRING: 'UseDevelopmentStorage=true',
      JACKET_TOKEN_KEYS: s.JACKET_TOKEN_KEYS ?? Buffer.alloc(32).toString('base64'),
    }),
  );
});

test("real-Azure mode: a real subscription and Azure's ARM endpoint (or none); anything else is the emulator", () => {
  const sub = '11111111-2222-3333-4444-555555555555';
  assert.equal(localMode({}), 'emulator');
  assert.equal(localMode({ JACKET_AZURE_SUBSCRIPTION_ID: '00000000-0000-0000-0000-000000000000' }), 'emulator');
  assert.equal(localMode({ JACKET_AZURE_SUBSCRIPTION_ID: sub }), 'azure');
  assert.equal(localMode({ JACKET_AZURE_SUBSCRIPTION_ID: sub, JACKET_ARM_ENDPOINT: 'https://management.azure.com' }), 'azure');
  assert.equal(localMode({ JACKET_AZURE_SUBSCRIPTION_ID: sub, JACKET_ARM_ENDPOINT: 'https://127.0.0.1:8443' }), 'emulator');
});

test('the state directory keeps the token key and account key, saves the emulator atomically, and --fresh clears the cloud but keeps the certificate', () => {
  const dir = tmp();
  try {
    const a = new LocalState(dir);
    const key = a.tokenKeys();
    assert.equal(Buffer.from(key, 'base64').length, 32);
    assert.equal(new LocalState(dir).tokenKeys(), key, 'the same key on the next start');
    assert.equal(new LocalState(dir).azuriteKey(), a.azuriteKey());
    a.saveEmulator({ resourceGroups: [], tables: { x: [] } });
    assert.deepEqual(new LocalState(dir).loadEmulator(), { resourceGroups: [], tables: { x: [] } });
    assert.equal(existsSync(path.join(dir, 'emulator.json.tmp')), false);
    mkdirSync(a.certDir, { recursive: true });
    writeFileSync(path.join(a.certDir, 'cert.pem'), 'x');
    mkdirSync(a.azuriteDir, { recursive: true });
    a.clear();
    assert.equal(a.loadEmulator(), undefined);
    assert.equal(existsSync(a.azuriteDir), false);
    assert.notEqual(a.tokenKeys(), key, 'a fresh cloud has a new token key');
    assert.equal(readFileSync(path.join(a.certDir, 'cert.pem'), 'utf8'), 'x');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
