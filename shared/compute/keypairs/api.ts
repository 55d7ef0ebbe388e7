// os-keypairs (api/openstack/compute/keypairs.py, compute/api.py KeypairAPI): per-user key pairs,
// generated (private key returned once, never stored) or imported (public key checked). From 2.2 a key
// pair has a type, ssh (the default) or x509 (./x509.ts), create answers 201 and delete 204; from 2.10
// an admin names the user (body or ?user_id=). Records live in one partition per user, keyed by name.
import { createHash, createPublicKey, generateKeyPair, type JsonWebKey } from 'node:crypto';
import { promisify } from 'node:util';
import type { RequestContext, Route } from '../../http/router';
import type { Services } from '../../services';
import { json, accepted } from '../../http/respond';
import { badRequest, conflict, notFound } from '../../http/errors';
import { schemaAt, validateBody, type SchemaByVersion } from '../../api/validation';
import { AlreadyExistsError } from '../../store/tables';
import { computeRoute, computeUrl, projectOf } from '../common';
import { nextLinks, novaPageQuery } from '../../api/pagination';
import { checkQuota, registerUsageCounter } from '../quotas/engine';
import { authorize } from '../../api/policy';
import { generateWinrmX509, x509Fingerprint } from './x509';
import { strictQuery } from '../../http/router';

const keypairName = {
  allOf: [
    { type: 'string', format: 'name', minLength: 1, maxLength: 255 },
    { type: 'string', pattern: '^[_\\- a-zA-Z0-9]+$', minLength: 1, maxLength: 255 },
  ],
};
const createSchemaWith = (extra: Record<string, unknown>) => ({
  type: 'object',
  properties: {
    keypair: { type: 'object', properties: { name: keypairName, public_key: { type: 'string' }, ...extra }, required: ['name'], additionalProperties: false },
  },
  required: ['keypair'],
  additionalProperties: false,
});
const keyType = { type: 'string', enum: ['ssh', 'x509'] };
/** keypairs.create at 2.1 (schemas/keypairs.py create): no type. */
export const createKeypairSchema = createSchemaWith({});
/** create_v22 (2.2-2.9): the type. */
export const createKeypairSchemaV22 = createSchemaWith({ type: keyType });
/** create_v210 (2.10-2.91): and the user it is for. */
export const createKeypairSchemaV210 = createSchemaWith({ type: keyType, user_id: { type: 'string' } });
/**
 * create_v292 (2.92-): keypair_name_special_chars_v292 (names may also hold '@' and '.') and public_key
 * required: Nova generates no key pair from 2.92.
 */
export const createKeypairSchemaV292 = (() => {
  const inner = createKeypairSchemaV210.properties.keypair;
  // Nova's ^[_\-\@\. a-zA-Z0-9]+$, written without the identity escape '\@' a unicode RegExp refuses.
  const name = { allOf: [keypairName.allOf[0], { ...keypairName.allOf[1], pattern: '^[_\\-@. a-zA-Z0-9]+$' }] };
  return { ...createKeypairSchemaV210, properties: { keypair: { ...inner, properties: { ...inner.properties, name }, required: ['name', 'public_key'] } } };
})();

export type KeypairType = 'ssh' | 'x509';

interface KeypairRecord {
  /** Integer id as Nova shows it (a row id upstream): creation time in microseconds, unique enough per user. */
  id: number;
  name: string;
  user_id: string;
  public_key: string;
  fingerprint: string;
  created_at: string;
  /** Absent on records made before 2.2 was served: ssh. */
  type?: KeypairType;
}

const repo = (s: Services) => s.tables.repository<KeypairRecord>('keypairs');
const partition = (userId: string) => encodeURIComponent(userId);

// ---------------------------------------------------------------------------------------------
// OpenSSH public key wire format (RFC 4253 6.6, RFC 5656, RFC 8709): string type, then the key's fields.

function sshString(b: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(b.length);
  return Buffer.concat([len, b]);
}

/** mpint: big-endian two's complement, minimal, with a 0x00 lead byte when the high bit is set. */
function sshMpint(unsigned: Buffer): Buffer {
  let i = 0;
  while (i < unsigned.length - 1 && unsigned[i] === 0) i++;
  let b = unsigned.subarray(i);
  if (b[0] & 0x80) b = Buffer.concat([Buffer.from([0]), b]);
  return sshString(b);
}

class Reader {
  private pos = 0;
  constructor(private readonly buf: Buffer) {}
  string(): Buffer {
    if (this.pos + 4 > this.buf.length) throw new Error('truncated');
    const n = this.buf.readUInt32BE(this.pos);
    if (this.pos + 4 + n > this.buf.length) throw new Error('truncated');
    const out = this.buf.subarray(this.pos + 4, this.pos + 4 + n);
    this.pos += 4 + n;
    return out;
  }
  /** A positive mpint, as unsigned big-endian bytes. */
  mpint(): Buffer {
    const b = this.string();
    if (b.length === 0 || b[0] & 0x80) throw new Error('mpint is not positive');
    return b[0] === 0 ? b.subarray(1) : b;
  }
  done(): boolean {
    return this.pos === this.buf.length;
  }
}

const b64url = (b: Buffer) => b.toString('base64url');
const CURVES: Record<string, { crv: string; size: number }> = {
  nistp256: { crv: 'P-256', size: 32 },
  nistp384: { crv: 'P-384', size: 48 },
  nistp521: { crv: 'P-521', size: 66 },
};

/** The key inside an OpenSSH blob as a JWK, so node:crypto can check it is a real key. */
function blobToJwk(type: string, blob: Buffer): JsonWebKey {
  const r = new Reader(blob);
  if (r.string().toString('latin1') !== type) throw new Error('key type mismatch');
  let jwk: JsonWebKey;
  if (type === 'ssh-rsa') {
    const e = r.mpint();
    const n = r.mpint();
    jwk = { kty: 'RSA', e: b64url(e), n: b64url(n) };
  } else if (type === 'ssh-ed25519') {
    const k = r.string();
    if (k.length !== 32) throw new Error('bad ed25519 key length');
    jwk = { kty: 'OKP', crv: 'Ed25519', x: b64url(k) };
  } else if (type.startsWith('ecdsa-sha2-')) {
    const curveName = type.slice('ecdsa-sha2-'.length);
    const curve = CURVES[curveName];
    if (!curve || r.string().toString('latin1') !== curveName) throw new Error('unknown curve');
    const q = r.string();
    if (q.length !== 1 + 2 * curve.size || q[0] !== 4) throw new Error('bad curve point');
    jwk = { kty: 'EC', crv: curve.crv, x: b64url(q.subarray(1, 1 + curve.size)), y: b64url(q.subarray(1 + curve.size)) };
  } else {
    throw new Error('unsupported key type');
  }
  if (!r.done()) throw new Error('trailing bytes');
  return jwk;
}

/** Nova's 2.1 fingerprint: MD5 of the decoded key blob, as colon-separated hex pairs. */
export function md5Fingerprint(blob: Buffer): string {
  return createHash('md5').update(blob).digest('hex').match(/../g)!.join(':');
}

/**
 * Checks an imported OpenSSH public key ("type base64 [comment]": ssh-rsa, ecdsa-sha2-nistp*,
 * ssh-ed25519) and returns its fingerprint; anything else is Nova's 400 InvalidKeypair.
 */
export function fingerprintOf(publicKey: string): string {
  try {
    const parts = publicKey.trim().split(/\s+/);
    if (parts.length < 2 || !/^[A-Za-z0-9+/]+={0,2}$/.test(parts[1])) throw new Error('not an OpenSSH public key');
    const blob = Buffer.from(parts[1], 'base64');
    createPublicKey({ key: blobToJwk(parts[0], blob), format: 'jwk' });
    return md5Fingerprint(blob);
  } catch {
    throw badRequest('Keypair data is invalid: failed to generate fingerprint');
  }
}

const generateRsa = promisify(generateKeyPair);

/** A new 2048-bit RSA pair: the private key as PKCS#1 PEM (as paramiko writes it), the public one in OpenSSH form. */
export async function generateSshRsa(): Promise<{ privateKey: string; publicKey: string; fingerprint: string }> {
  const { privateKey, publicKey } = await generateRsa('rsa', {
    modulusLength: 2048,
    publicExponent: 0x10001,
    privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  const jwk = createPublicKey(publicKey).export({ format: 'jwk' });
  const blob = Buffer.concat([sshString(Buffer.from('ssh-rsa')), sshMpint(Buffer.from(jwk.e!, 'base64url')), sshMpint(Buffer.from(jwk.n!, 'base64url'))]);
  return { privateKey, publicKey: `ssh-rsa ${blob.toString('base64')} Generated-by-Nova`, fingerprint: md5Fingerprint(blob) };
}

// ---------------------------------------------------------------------------------------------
// The API. Nova's policy is "admin or the owner" on the user named by user_id (a query/body
// parameter only from 2.10), with no role needed; below 2.10 every call acts on the caller's own key pairs.

const notFoundFor = (name: string, userId: string) => notFound(`Keypair ${name} not found for user ${userId}`);
/** Names from the path: only ones create could have stored are looked up (others cannot be table keys); '@' and '.' from 2.92's names. */
const storableName = (name: string) => name.length <= 255 && /^[_\-@. a-zA-Z0-9]+$/.test(name);

// Key pairs count per user (the quota engine checks them against the user's and project's limits).
registerUsageCounter('key_pairs', async (_projectId, userId, s) => (userId ? (await repo(s).list(partition(userId))).length : 0));

const createSchemas: SchemaByVersion = [
  ['2.1', createKeypairSchema],
  ['2.2', createKeypairSchemaV22],
  ['2.10', createKeypairSchemaV210],
  ['2.92', createKeypairSchemaV292],
];

/** The user a call acts on: from 2.10 the ?user_id= (its first value) or the body's, else the caller; policy checked on it. */
function targetUser(ctx: RequestContext, policy: 'index' | 'create' | 'show' | 'delete', named?: string): string {
  const asked = ctx.microversion?.atLeast('2.10') ? (named ?? ctx.query.getAll('user_id')[0]) : undefined;
  const userId = asked || ctx.auth!.userId;
  authorize(ctx, `os_compute_api:os-keypairs:${policy}`, { userId });
  return userId;
}

const typeOf = (r: KeypairRecord): KeypairType => r.type ?? 'ssh';

async function create(ctx: RequestContext) {
  const s = ctx.services;
  const b = validateBody<{ keypair: { name: string; public_key?: string; type?: KeypairType; user_id?: string } }>(schemaAt(ctx.microversion, createSchemas), ctx.body).keypair;
  const withType = ctx.microversion?.atLeast('2.2') ?? false;
  const type: KeypairType = b.type ?? 'ssh';
  const userId = targetUser(ctx, 'create', b.user_id);
  const projectId = projectOf(ctx);
  const name = b.name.trim();
  await checkQuota(s, projectId, userId, { key_pairs: 1 });
  let privateKey: string | undefined;
  let publicKey: string;
  let fingerprint: string;
  if (b.public_key !== undefined) {
    fingerprint = type === 'x509' ? x509Fingerprint(b.public_key) : fingerprintOf(b.public_key);
    publicKey = b.public_key;
  } else if (type === 'x509') {
    ({ privateKey, certificate: publicKey, fingerprint } = await generateWinrmX509(userId));
  } else {
    ({ privateKey, publicKey, fingerprint } = await generateSshRsa());
  }
  const now = new Date();
  const rec: KeypairRecord = { id: now.getTime() * 1000 + Math.floor(Math.random() * 1000), name, user_id: userId, public_key: publicKey, fingerprint, created_at: now.toISOString(), type };
  try {
    await repo(s).create(partition(userId), name, rec);
  } catch (e) {
    if (e instanceof AlreadyExistsError) throw conflict(`Key pair '${name}' already exists.`);
    throw e;
  }
  // Re-check after the write (Nova's recheck_quota): a concurrent create may have taken the last slot.
  try {
    await checkQuota(s, projectId, userId, { key_pairs: 0 });
  } catch (e) {
    await repo(s).delete(partition(userId), name);
    throw e;
  }
  const body: Record<string, unknown> = { name, public_key: publicKey, fingerprint, user_id: userId };
  if (withType) body.type = type;
  if (privateKey !== undefined) body.private_key = privateKey;
  return json({ keypair: body }, withType ? 201 : 200);
}

/**
 * GET /os-keypairs: the user's key pairs by name (Nova's query orders by name). From 2.35 paged
 * (index_query_v235, common.get_limit_and_marker): the marker a key pair name of that user (else 400
 * `Marker <m> could not be found.`), `keypairs_links` with the next page's marker when the page is full.
 */
async function list(ctx: RequestContext) {
  const withType = ctx.microversion?.atLeast('2.2') ?? false;
  const paged = ctx.microversion?.atLeast('2.35') ?? false;
  const page = paged ? novaPageQuery(ctx.query) : undefined;
  const userId = targetUser(ctx, 'index');
  const all = (await repo(ctx.services).list(partition(userId))).map((r) => r.value).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  let rows = all;
  if (page) {
    let start = 0;
    if (page.marker !== undefined) {
      const i = all.findIndex((r) => r.name === page.marker);
      if (i < 0) throw badRequest(`Marker ${page.marker} could not be found.`);
      start = i + 1;
    }
    rows = all.slice(start, start + page.limit);
  }
  const links = page
    ? nextLinks(
        computeUrl(ctx, '/os-keypairs'),
        ctx.query,
        rows.map((r) => ({ id: r.name })),
        page,
      )
    : undefined;
  return json({
    keypairs: rows.map((r) => ({
      keypair: { name: r.name, public_key: r.public_key, fingerprint: r.fingerprint, ...(withType ? { type: typeOf(r) } : {}) },
    })),
    ...(links ? { keypairs_links: links } : {}),
  });
}

async function show(ctx: RequestContext) {
  const userId = targetUser(ctx, 'show');
  const name = ctx.params.name;
  const rec = storableName(name) ? (await repo(ctx.services).get(partition(userId), name))?.value : undefined;
  if (!rec) throw notFoundFor(name, userId);
  return json({
    keypair: {
      name: rec.name,
      public_key: rec.public_key,
      fingerprint: rec.fingerprint,
      user_id: rec.user_id,
      created_at: rec.created_at,
      deleted: false,
      deleted_at: null,
      updated_at: null,
      id: rec.id,
      ...(ctx.microversion?.atLeast('2.2') ? { type: typeOf(rec) } : {}),
    },
  });
}

async function remove(ctx: RequestContext) {
  const userId = targetUser(ctx, 'delete');
  const name = ctx.params.name;
  if (!storableName(name) || !(await repo(ctx.services).delete(partition(userId), name))) throw notFoundFor(name, userId);
  return ctx.microversion?.atLeast('2.2') ? { status: 204, headers: {} } : accepted();
}

export const keypairRoutes: Route[] = [
  computeRoute('keypairs-list', 'GET', '/os-keypairs', 'os_compute_api:os-keypairs:index', list, { strictQuery: strictQuery(['user_id', 'limit', 'marker']) }),
  computeRoute('keypairs-create', 'POST', '/os-keypairs', 'os_compute_api:os-keypairs:create', create),
  computeRoute('keypairs-show', 'GET', '/os-keypairs/{name}', 'os_compute_api:os-keypairs:show', show, { strictQuery: strictQuery(['user_id']) }),
  computeRoute('keypairs-delete', 'DELETE', '/os-keypairs/{name}', 'os_compute_api:os-keypairs:delete', remove, { strictQuery: strictQuery(['user_id']) }),
];
