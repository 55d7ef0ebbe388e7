// Pure parts of quotas and limits: the Azure merge, the /limits view per microversion, catalog
// defaults, and the OpenSSH key handling behind key pairs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { absoluteLimits, tighter } from '../../shared/compute/quotas/limits';
import { configuredDefaults, NOVA_DEFAULTS, tooManyInstancesMessage } from '../../shared/compute/quotas/engine';
import { fingerprintOf, generateSshRsa } from '../../shared/compute/keypairs/api';
import { Microversion } from '../../shared/api/microversion';
import type { JacketConfig } from '../../shared/config';
import { ApiError } from '../../shared/http/errors';

test("tighter: the smaller of Nova's limit and Azure's room plus the project's own use", () => {
  assert.equal(tighter(20, 0, undefined), 20, "no Azure figure: Nova's limit");
  assert.equal(tighter(20, 2, { current: 90, limit: 100 }), 12);
  assert.equal(tighter(20, 2, { current: 10, limit: 100 }), 20);
  assert.equal(tighter(-1, 5, { current: 10, limit: 100 }), 95, 'unlimited yields to Azure');
  assert.equal(tighter(20, 0, { current: 120, limit: 100 }), 0, 'never negative');
});

test('absolute limits: all of them at 2.1, fewer at later microversions', () => {
  const used = { ...NOVA_DEFAULTS, cores: 3 };
  const at21 = absoluteLimits(NOVA_DEFAULTS, used, { microversion: Microversion.parse('2.1') });
  assert.equal(Object.keys(at21).length, 19);
  assert.equal(at21.maxImageMeta, 128);
  assert.equal(at21.totalCoresUsed, 3);
  const at257 = absoluteLimits(NOVA_DEFAULTS, used, { microversion: Microversion.parse('2.57') });
  for (const k of ['maxImageMeta', 'maxPersonality', 'maxTotalFloatingIps', 'totalSecurityGroupsUsed']) assert.ok(!(k in at257), k);
});

test("catalog.quotas overrides Nova's defaults and is validated", () => {
  const cfg = (quotas: unknown) => ({ catalog: { quotas } }) as unknown as JacketConfig;
  assert.equal(configuredDefaults(cfg({ cores: 64 })).cores, 64);
  assert.equal(configuredDefaults(cfg(undefined)).instances, 10);
  assert.throws(() => configuredDefaults(cfg({ gpus: 1 })), /unknown quota resource "gpus"/);
  assert.throws(() => configuredDefaults(cfg({ cores: -2 })), /catalog.quotas.cores/);
});

test('TooManyInstances wording lists every resource over quota', () => {
  assert.equal(tooManyInstancesMessage(['cores'], ['4'], ['18'], ['20']), 'Quota exceeded for cores: Requested 4, but already used 18 of 20 cores');
  assert.equal(
    tooManyInstancesMessage(['cores', 'ram'], ['4', '2048'], ['18', '50000'], ['20', '51200']),
    'Quota exceeded for cores, ram: Requested 4, 2048, but already used 18, 50000 of 20, 51200 cores, ram',
  );
});

test('generated RSA keys round-trip through the import check with the same fingerprint', async () => {
  const k = await generateSshRsa();
  assert.equal(fingerprintOf(k.publicKey), k.fingerprint);
  assert.match(k.fingerprint, /^([0-9a-f]{2}:){15}[0-9a-f]{2}$/);
  // a blob whose inner type disagrees with the outer one is refused
  const blob = Buffer.from(k.publicKey.split(' ')[1], 'base64');
  assert.throws(
    () => fingerprintOf(`ssh-ed25519 ${blob.toString('base64')}`),
    (e: unknown) => e instanceof ApiError && e.status === 400,
  );
  // trailing bytes after the key are refused
  assert.throws(() => fingerprintOf(`ssh-rsa ${Buffer.concat([blob, Buffer.from([0])]).toString('base64')}`), /failed to generate fingerprint/);
});
