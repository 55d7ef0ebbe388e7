// Built-in tokens: a signed, expiring payload (like Keystone's Fernet tokens, but HMAC-SHA256 over
// base64url JSON). Revocation lives in the revocations table (see revocation.ts), keyed by audit id,
// user and project. The payload holds no secret: only ids, names, roles, times and audit ids.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export interface TokenPayload {
  v: 1;
  /** user id, name, domain id */
  u: string;
  un: string;
  ud: string;
  /** project scope: id, name, domain id (absent = unscoped) */
  p?: string;
  pn?: string;
  pd?: string;
  /** role names and ids on the project: the assigned ones and those they imply (tokens issued before
   *  implied roles were listed hold only the assigned ones; implied roles are added again on use) */
  r: string[];
  ri: string[];
  /** auth methods */
  m: string[];
  /** issued at, expires at: epoch milliseconds */
  iat: number;
  exp: number;
  /** audit ids: this token's, then the one it was rescoped from */
  a: string[];
  /** the application credential it was made from: id, name, unrestricted */
  ac?: { id: string; n: string; u: boolean };
}

const b64url = (b: Buffer) => b.toString('base64url');

export function newAuditId(): string {
  return b64url(randomBytes(16)).slice(0, 22);
}

export function signToken(payload: TokenPayload, key: Buffer): string {
  const body = b64url(Buffer.from(JSON.stringify(payload), 'utf8'));
  const mac = createHmac('sha256', key).update(body).digest();
  return `${body}.${b64url(mac)}`;
}

export type TokenCheck = { ok: true; payload: TokenPayload } | { ok: false; reason: 'malformed' | 'signature' | 'expired' };

/** Verify with any of the keys (the first signs; the others are kept while rotating). */
export function verifyToken(token: string, keys: Buffer[], now = Date.now()): TokenCheck {
  const dot = token.indexOf('.');
  if (dot <= 0 || token.length > 8192) return { ok: false, reason: 'malformed' };
  const body = token.slice(0, dot);
  // Compare the encoded MAC text, not decoded bytes: base64 decoders ignore the spare bits of the
  // last character, and a token must have exactly one spelling.
  const mac = Buffer.from(token.slice(dot + 1), 'utf8');
  const good = keys.some((k) => {
    const want = Buffer.from(b64url(createHmac('sha256', k).update(body).digest()), 'utf8');
    return want.length === mac.length && timingSafeEqual(want, mac);
  });
  if (!good) return { ok: false, reason: 'signature' };
  let payload: TokenPayload;
  try {
    payload = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as TokenPayload;
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  if (payload.v !== 1 || typeof payload.exp !== 'number') return { ok: false, reason: 'malformed' };
  if (payload.exp <= now) return { ok: false, reason: 'expired' };
  return { ok: true, payload };
}
