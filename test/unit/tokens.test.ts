import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { signToken, verifyToken, newAuditId, type TokenPayload } from '../../shared/identity/tokens';
import { hashPassword, verifyPassword } from '../../shared/identity/passwords';

const key = randomBytes(32);
const payload = (over: Partial<TokenPayload> = {}): TokenPayload => ({
  v: 1,
  u: 'u1',
  un: 'alice',
  ud: 'default',
  p: 'p1',
  pn: 'demo',
  pd: 'default',
  r: ['member'],
  ri: ['r1'],
  m: ['password'],
  iat: Date.now(),
  exp: Date.now() + 60000,
  a: [newAuditId()],
  ...over,
});

test('a signed token verifies and carries its payload', () => {
  const p = payload();
  const r = verifyToken(signToken(p, key), [key]);
  assert.ok(r.ok);
  assert.deepEqual(r.ok && r.payload, p);
});

test('tampered, foreign-key and expired tokens are refused', () => {
  const t = signToken(payload(), key);
  const [body, mac] = t.split('.');
  const forged = Buffer.from(JSON.stringify({ ...payload(), r: ['admin'] })).toString('base64url');
  assert.deepEqual(verifyToken(`${forged}.${mac}`, [key]), { ok: false, reason: 'signature' });
  assert.deepEqual(verifyToken(`${body}.${mac.slice(0, -2)}AA`, [key]), { ok: false, reason: 'signature' });
  assert.deepEqual(verifyToken(t, [randomBytes(32)]), { ok: false, reason: 'signature' });
  assert.deepEqual(verifyToken(signToken(payload({ exp: Date.now() - 1 }), key), [key]), { ok: false, reason: 'expired' });
  assert.deepEqual(verifyToken('garbage', [key]), { ok: false, reason: 'malformed' });
});

test('key rotation: tokens signed with an older key still verify while it is listed', () => {
  const old = randomBytes(32);
  const t = signToken(payload(), old);
  assert.ok(verifyToken(t, [key, old]).ok);
  assert.ok(!verifyToken(t, [key]).ok);
});

test('tokens hold only ids, names, roles, methods, times and audit ids — never the key', () => {
  const t = signToken(payload(), key);
  const decoded = JSON.parse(Buffer.from(t.split('.')[0], 'base64url').toString());
  assert.deepEqual(Object.keys(decoded).sort(), ['a', 'exp', 'iat', 'm', 'p', 'pd', 'pn', 'r', 'ri', 'u', 'ud', 'un', 'v']);
  assert.ok(!t.includes(key.toString('base64url')) && !t.includes(key.toString('base64')));
});

test('scrypt password hashes verify only the right password and are salted', async () => {
  const h1 = await hashPassword('S3cret!');
  const h2 = await hashPassword('S3cret!');
  assert.notEqual(h1, h2);
  assert.ok(h1.startsWith('scrypt$'));
  assert.ok(await verifyPassword('S3cret!', h1));
  assert.ok(!(await verifyPassword('s3cret!', h1)));
  assert.ok(!(await verifyPassword('S3cret!', undefined)));
  assert.ok(!(await verifyPassword('S3cret!', 'md5$abc')));
});
