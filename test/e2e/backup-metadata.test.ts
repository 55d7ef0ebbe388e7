// Cinder 3.43 (BACKUP_METADATA) end to end against the ARM emulator: backup create and update take
// `metadata` from 3.43 (schemas create_backup_v343, update_backup_v343), which replaces the backup's on
// update; the detail views show it from 3.43 ({} when none) and not below. The real
// `openstack --os-volume-api-version 3.43 volume backup create/set --property` drives it too.
import { before, after } from 'node:test';
import { volumeAdvertises, volumeTest } from '../support/advertised';
import assert from 'node:assert/strict';
import { startArmStack, waitFor, type ArmStack } from '../support/armStack';
import type { Creds } from '../support/stack';

let env: ArmStack;
let alice: Creds & { projectId: string; userId: string };
let tAlice: string;
let volumeId: string;

const cinder = (mv: string) => (method: string, p: string, body?: unknown) =>
  env.stack.http(method, `/volume/v3/${alice.projectId}${p}`, { token: tAlice, body, headers: { 'OpenStack-API-Version': `volume ${mv}` } });
const available = (p: string, key: 'volume' | 'backup') =>
  waitFor(
    `${p} available`,
    async () => {
      const v = (await cinder('3.43')('GET', p)).body?.[key];
      if (v?.status === 'error') throw new Error(`${p} error`);
      return v?.status === 'available' ? (v as Record<string, any>) : undefined;
    },
    90000,
  );

const vtest = volumeTest('3.43');

before(async () => {
  if (!volumeAdvertises('3.43')) return;
  env = await startArmStack({ asyncDelayMs: 0 });
  alice = await env.stack.makeProjectUser('bkm-a', 'alice');
  tAlice = await env.stack.token(alice);
  const v = await cinder('3.0')('POST', '/volumes', { volume: { size: 1, name: 'bkm-vol' } });
  assert.equal(v.status, 202, v.text);
  volumeId = v.body.volume.id;
  await available(`/volumes/${volumeId}`, 'volume');
});
after(() => env?.stop());

vtest('3.43: backup create and update take metadata; the detail views show it from 3.43 only', async () => {
  // Below 3.43 the schema has no metadata.
  const early = await cinder('3.42')('POST', '/backups', { backup: { volume_id: volumeId, metadata: { k: 'v' } } });
  assert.equal(early.status, 400, early.text);
  // Keys and values as parameter_types.extra_specs.
  for (const metadata of [{ 'bad!key': 'v' }, { k: 1 }, { k: 'x'.repeat(256) }]) {
    const bad = await cinder('3.43')('POST', '/backups', { backup: { volume_id: volumeId, metadata } });
    assert.equal(bad.status, 400, `${JSON.stringify(metadata)}: ${bad.text}`);
  }

  const c = await cinder('3.43')('POST', '/backups', { backup: { volume_id: volumeId, name: 'b1', metadata: { purpose: 'nightly', 'os:tier': 'gold' } } });
  assert.equal(c.status, 202, c.text);
  assert.deepEqual(Object.keys(c.body.backup).sort(), ['id', 'links', 'name'], 'the create answer is the summary');
  const id = c.body.backup.id;
  const shown = await available(`/backups/${id}`, 'backup');
  assert.deepEqual(shown.metadata, { purpose: 'nightly', 'os:tier': 'gold' });
  const at342 = (await cinder('3.42')('GET', `/backups/${id}`)).body.backup;
  assert.equal('metadata' in at342, false);
  const detail = (await cinder('3.43')('GET', '/backups/detail')).body.backups.find((b: { id: string }) => b.id === id);
  assert.deepEqual(detail.metadata, { purpose: 'nightly', 'os:tier': 'gold' });
  const summary = (await cinder('3.43')('GET', '/backups')).body.backups.find((b: { id: string }) => b.id === id);
  assert.equal('metadata' in summary, false);

  // Update replaces the metadata (backup_metadata_update with delete=True); name alone leaves it.
  const u342 = await cinder('3.42')('PUT', `/backups/${id}`, { backup: { metadata: { a: 'b' } } });
  assert.equal(u342.status, 400, u342.text);
  const nul = await cinder('3.43')('PUT', `/backups/${id}`, { backup: { metadata: null } });
  assert.equal(nul.status, 400, 'update_backup_v343 takes an object, not null');
  const u = await cinder('3.43')('PUT', `/backups/${id}`, { backup: { metadata: { purpose: 'weekly' } } });
  assert.equal(u.status, 200, u.text);
  assert.deepEqual(Object.keys(u.body.backup).sort(), ['id', 'links', 'name']);
  assert.deepEqual((await cinder('3.43')('GET', `/backups/${id}`)).body.backup.metadata, { purpose: 'weekly' });
  assert.equal((await cinder('3.43')('PUT', `/backups/${id}`, { backup: { name: 'renamed' } })).status, 200);
  assert.deepEqual((await cinder('3.43')('GET', `/backups/${id}`)).body.backup.metadata, { purpose: 'weekly' });
  assert.equal((await cinder('3.43')('PUT', `/backups/${id}`, { backup: { metadata: {} } })).status, 200);
  assert.deepEqual((await cinder('3.43')('GET', `/backups/${id}`)).body.backup.metadata, {});

  // A backup made without metadata shows {} from 3.43.
  const plain = await cinder('3.43')('POST', '/backups', { backup: { volume_id: volumeId, name: 'b2', metadata: null } });
  assert.equal(plain.status, 202, plain.text);
  assert.deepEqual((await available(`/backups/${plain.body.backup.id}`, 'backup')).metadata, {});
});

vtest('openstack --os-volume-api-version 3.43 volume backup create/set --property', async () => {
  const b = await env.stack.oscJson(['--os-volume-api-version', '3.43', 'volume', 'backup', 'create', '--name', 'cli-b', '--property', 'owner=ops', 'bkm-vol'], alice);
  const shown = await available(`/backups/${b.id}`, 'backup');
  assert.deepEqual(shown.metadata, { owner: 'ops' });
  await env.stack.oscOk(['--os-volume-api-version', '3.43', 'volume', 'backup', 'set', '--property', 'env=prod', 'cli-b'], alice);
  assert.deepEqual((await cinder('3.43')('GET', `/backups/${b.id}`)).body.backup.metadata, { owner: 'ops', env: 'prod' });
  await env.stack.oscOk(['--os-volume-api-version', '3.43', 'volume', 'backup', 'set', '--no-property', 'cli-b'], alice);
  assert.deepEqual((await cinder('3.43')('GET', `/backups/${b.id}`)).body.backup.metadata, {});
});
