// os-keypairs through the real `openstack` CLI and plain HTTP: generate, import (checked against
// ssh-keygen), list, show, delete, per-user isolation, validation and the key_pairs quota.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createPrivateKey } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startStack, type Stack, type Creds } from '../support/stack';
import { assertNovaResponse } from '../support/oracle';

let stack: Stack;
let alice: Creds & { projectId: string; userId: string };
let bob: Creds & { projectId: string; userId: string };
let dir: string;

before(async () => {
  stack = await startStack({ settings: { JACKET_REGIONAL_USAGE: 'off' } });
  alice = await stack.makeProjectUser('kp-project-a', 'kp-alice');
  bob = await stack.makeProjectUser('kp-project-b', 'kp-bob');
  dir = mkdtempSync(path.join(tmpdir(), 'jacket-kp-'));
});
after(async () => {
  await stack?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The fingerprint ssh-keygen computes for a public key file, MD5 form without the "MD5:" prefix. */
function sshKeygenMd5(file: string): string {
  const out = execFileSync('ssh-keygen', ['-l', '-E', 'md5', '-f', file], { encoding: 'utf8' });
  return /MD5:([0-9a-f:]+)/.exec(out)![1];
}

test('openstack keypair create k1 > k1.pem: a private key whose public half Jacket stored', async () => {
  // OSC 10.x makes the pair on the client and imports the public half (Nova dropped generation in 2.92).
  const pem = await stack.oscOk(['keypair', 'create', 'k1'], alice);
  assert.match(pem, /^-----BEGIN (OPENSSH|RSA) PRIVATE KEY-----\n[\s\S]+-----END (OPENSSH|RSA) PRIVATE KEY-----\n/);
  const shown = await stack.oscJson(['keypair', 'show', 'k1'], alice);
  assert.equal(shown.name, 'k1');
  assert.equal(shown.user_id, alice.userId);
  assert.ok(!shown.private_key, 'the private key is never shown again');
  const pub = (await stack.oscOk(['keypair', 'show', '--public-key', 'k1'], alice)).trim();
  const keyFile = path.join(dir, 'k1.pem');
  writeFileSync(keyFile, pem.trimEnd() + '\n', { mode: 0o600 });
  const derived = execFileSync('ssh-keygen', ['-y', '-f', keyFile], { encoding: 'utf8' }).trim();
  assert.equal(pub.split(' ').slice(0, 2).join(' '), derived.split(' ').slice(0, 2).join(' '));
  const pubFile = path.join(dir, 'k1.pub');
  writeFileSync(pubFile, pub + '\n');
  assert.equal(shown.fingerprint, sshKeygenMd5(pubFile));
});

test("openstack keypair create --public-key imports ed25519, ecdsa and rsa keys with ssh-keygen's fingerprint", async () => {
  for (const [type, bits] of [
    ['ed25519', ''],
    ['ecdsa', '384'],
    ['rsa', '3072'],
  ]) {
    const file = path.join(dir, `id_${type}`);
    execFileSync('ssh-keygen', ['-q', '-t', type, ...(bits ? ['-b', bits] : []), '-N', '', '-C', `test@${type}`, '-f', file]);
    const kp = await stack.oscJson(['keypair', 'create', '--public-key', `${file}.pub`, `imported-${type}`], alice);
    assert.equal(kp.name, `imported-${type}`);
    assert.equal(kp.fingerprint, sshKeygenMd5(`${file}.pub`));
    const pub = (await stack.oscOk(['keypair', 'show', '--public-key', `imported-${type}`], alice)).trim();
    assert.equal(pub, readFileSync(`${file}.pub`, 'utf8').trim());
  }
  const list = await stack.oscJson<{ Name: string; Fingerprint: string }[]>(['keypair', 'list'], alice);
  assert.deepEqual(list.map((k) => k.Name).sort(), ['imported-ecdsa', 'imported-ed25519', 'imported-rsa', 'k1']);
});

test("server-side generation and the 2.1 bodies match Nova's schemas and statuses (200 create, 202 delete)", async () => {
  const t = await stack.token(alice);
  const gen = await stack.http('POST', '/compute/v2.1/os-keypairs', { token: t, body: { keypair: { name: 'http key_1' } } });
  assert.equal(gen.status, 200);
  assertNovaResponse('keypairs', 'KeypairController', 'create', '2.1', gen.body);
  assert.ok(!('type' in gen.body.keypair), 'no type field at 2.1');
  // Server-side generation (2.1-2.91): a 2048-bit RSA key in PKCS#1 PEM whose public half and MD5
  // fingerprint are what ssh-keygen derives from it.
  const pem: string = gen.body.keypair.private_key;
  assert.match(pem, /^-----BEGIN RSA PRIVATE KEY-----\n/);
  assert.equal(createPrivateKey(pem).asymmetricKeyDetails?.modulusLength, 2048);
  assert.match(gen.body.keypair.public_key, /^ssh-rsa [A-Za-z0-9+/=]+ Generated-by-Nova$/);
  const keyFile = path.join(dir, 'gen.pem');
  writeFileSync(keyFile, pem, { mode: 0o600 });
  const derived = execFileSync('ssh-keygen', ['-y', '-f', keyFile], { encoding: 'utf8' }).trim();
  assert.equal(derived.split(' ')[1], gen.body.keypair.public_key.split(' ')[1]);
  writeFileSync(`${keyFile}.pub`, gen.body.keypair.public_key + '\n');
  assert.equal(gen.body.keypair.fingerprint, sshKeygenMd5(`${keyFile}.pub`));
  const list = await stack.http('GET', '/compute/v2.1/os-keypairs', { token: t });
  assert.equal(list.status, 200);
  assertNovaResponse('keypairs', 'KeypairController', 'index', '2.1', list.body);
  const show = await stack.http('GET', `/compute/v2.1/os-keypairs/${encodeURIComponent('http key_1')}`, { token: t });
  assert.equal(show.status, 200);
  assertNovaResponse('keypairs', 'KeypairController', 'show', '2.1', show.body);
  assert.equal(show.body.keypair.public_key, gen.body.keypair.public_key);
  assert.equal(show.body.keypair.fingerprint, gen.body.keypair.fingerprint);
  assert.equal(show.body.keypair.deleted, false);
  assert.ok(Number.isInteger(show.body.keypair.id));
  const del = await stack.http('DELETE', `/compute/v2.1/os-keypairs/${encodeURIComponent('http key_1')}`, { token: t });
  assert.equal(del.status, 202);
  assert.equal(del.text, '');
  const gone = await stack.http('GET', `/compute/v2.1/os-keypairs/${encodeURIComponent('http key_1')}`, { token: t });
  assert.equal(gone.status, 404);
  assert.equal(gone.body.itemNotFound.message, `Keypair http key_1 not found for user ${alice.userId}`);
});

test('bad names, bad keys and duplicates are refused and change nothing', async () => {
  const t = await stack.token(alice);
  const post = (keypair: unknown) => stack.http('POST', '/compute/v2.1/os-keypairs', { token: t, body: { keypair } });
  for (const name of ['bad/name', 'Ünicode', ' padded', '', 'x'.repeat(256)]) {
    const r = await post({ name });
    assert.equal(r.status, 400, `name ${JSON.stringify(name)}`);
    assert.match(r.body.badRequest.message, /^Invalid input for field\/attribute name\. /);
  }
  const extra = await post({ name: 'ok', type: 'x509' });
  assert.equal(extra.status, 400, 'type is not accepted at 2.1');
  for (const public_key of ['not a key', 'ssh-rsa AAAA', 'ssh-dss AAAAB3NzaC1kc3MAAACBAP', 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA==']) {
    const r = await post({ name: 'badkey', public_key });
    assert.equal(r.status, 400, public_key);
    assert.equal(r.body.badRequest.message, 'Keypair data is invalid: failed to generate fingerprint');
  }
  const dup = await stack.osc(['keypair', 'create', 'k1'], alice);
  assert.notEqual(dup.code, 0);
  assert.match(dup.stderr, /409.*Key pair 'k1' already exists\./);
  const names = (await stack.http('GET', '/compute/v2.1/os-keypairs', { token: t })).body.keypairs.map((k: { keypair: { name: string } }) => k.keypair.name);
  assert.ok(!names.includes('badkey') && !names.includes('ok'), names.join(','));
});

test('another user never sees, reads or deletes my key pairs (404)', async () => {
  const tb = await stack.token(bob);
  const list = await stack.http('GET', '/compute/v2.1/os-keypairs', { token: tb });
  assert.deepEqual(list.body.keypairs, []);
  const show = await stack.osc(['keypair', 'show', 'k1'], bob);
  assert.notEqual(show.code, 0);
  assert.match(show.stderr, /No Keypair found for k1/);
  const del = await stack.http('DELETE', '/compute/v2.1/os-keypairs/k1', { token: tb });
  assert.equal(del.status, 404);
  // bob may use the same name: names are unique per user
  const own = await stack.http('POST', '/compute/v2.1/os-keypairs', { token: tb, body: { keypair: { name: 'k1' } } });
  assert.equal(own.status, 200);
  assert.equal((await stack.http('GET', '/compute/v2.1/os-keypairs/k1', { token: await stack.token(alice) })).body.keypair.user_id, alice.userId);
});

test("the key_pairs quota is enforced with Nova's 403, and openstack keypair delete frees a slot", async () => {
  const admin = await stack.token();
  const set = await stack.http('PUT', `/compute/v2.1/os-quota-sets/${alice.projectId}`, { token: admin, body: { quota_set: { key_pairs: 4 } } });
  assert.equal(set.status, 200);
  const t = await stack.token(alice);
  const over = await stack.http('POST', '/compute/v2.1/os-keypairs', { token: t, body: { keypair: { name: 'one-too-many' } } });
  assert.equal(over.status, 403);
  assert.equal(over.body.forbidden.message, 'Quota exceeded, too many key pairs.');
  assert.equal((await stack.http('GET', '/compute/v2.1/os-keypairs/one-too-many', { token: t })).status, 404);
  await stack.oscOk(['keypair', 'delete', 'k1'], alice);
  const list = await stack.oscJson<{ Name: string }[]>(['keypair', 'list'], alice);
  assert.ok(!list.some((k) => k.Name === 'k1'));
  const fits = await stack.http('POST', '/compute/v2.1/os-keypairs', { token: t, body: { keypair: { name: 'fits-now' } } });
  assert.equal(fits.status, 200);
});
