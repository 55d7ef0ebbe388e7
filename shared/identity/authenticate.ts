// Turning an X-Auth-Token into an AuthContext: built-in tokens are verified here; in external mode an
// operator's Keystone validates them (cached briefly), so Jacket can join an existing OpenStack.
import { createHash } from 'node:crypto';
import type { JacketConfig } from '../config';
import { unauthorized } from '../http/errors';
import { effectiveRoles, type AuthContext } from '../api/policy';
import { verifyToken, type TokenPayload } from './tokens';
import type { Revocations } from './revocation';
import { log } from '../log';

export interface Authenticator {
  authenticate(token: string | undefined): Promise<AuthContext>;
  /**
   * For a safe request (GET, HEAD): the token's claims as soon as they are verified, and the rest of
   * the check still running beside them. The pipeline starts the handler's reads at once and holds its
   * answer until `rest` settles, so a revoked token still gets its 401 and nothing it read; the
   * revocation query no longer adds a round trip before every read (docs/performance.md). Without it
   * (external mode), `authenticate` is used.
   */
  authenticateEarly?(token: string | undefined): { auth: AuthContext; rest: Promise<void> };
}

export function contextFromPayload(token: string, p: TokenPayload): AuthContext {
  return {
    userId: p.u,
    userName: p.un,
    userDomainId: p.ud,
    projectId: p.p,
    projectName: p.pn,
    projectDomainId: p.pd,
    roles: effectiveRoles(p.r),
    token,
    auditIds: p.a,
    expiresAt: new Date(p.exp),
    issuedAt: new Date(p.iat),
    methods: p.m,
    ...(p.ac ? { appCred: { id: p.ac.id, name: p.ac.n, unrestricted: p.ac.u } } : {}),
  };
}

export class BuiltinAuthenticator implements Authenticator {
  constructor(
    private readonly keys: Buffer[],
    private readonly revocations: Revocations,
  ) {}

  async authenticate(token: string | undefined): Promise<AuthContext> {
    return contextFromPayload(token ?? '', await this.check(token));
  }

  authenticateEarly(token: string | undefined): { auth: AuthContext; rest: Promise<void> } {
    const p = this.verify(token);
    const rest = this.revocations.isRevoked({ auditIds: p.a, userId: p.u, projectId: p.p, appCredId: p.ac?.id, issuedAt: p.iat }).then((revoked) => {
      if (revoked) throw unauthorized();
    });
    // Awaited by the pipeline on every path; this only keeps a rejection seen before then from
    // counting as unhandled.
    rest.catch(() => undefined);
    return { auth: contextFromPayload(token ?? '', p), rest };
  }

  /** The payload of a token whose signature and expiry check out (not yet the revocation check), or 401. */
  private verify(token: string | undefined): TokenPayload {
    if (!token) throw unauthorized();
    const r = verifyToken(token, this.keys);
    if (!r.ok) throw unauthorized();
    return r.payload;
  }

  /** The verified payload of a live, unrevoked token, or 401. */
  async check(token: string | undefined): Promise<TokenPayload> {
    const p = this.verify(token);
    if (await this.revocations.isRevoked({ auditIds: p.a, userId: p.u, projectId: p.p, appCredId: p.ac?.id, issuedAt: p.iat })) throw unauthorized();
    return p;
  }
}

interface KeystoneTokenBody {
  token: {
    methods: string[];
    user: { id: string; name: string; domain: { id: string } };
    project?: { id: string; name: string; domain: { id: string } };
    roles?: { name: string }[];
    expires_at: string;
    issued_at: string;
    audit_ids: string[];
    application_credential?: { id: string; name: string; restricted: boolean };
  };
}

export class ExternalAuthenticator implements Authenticator {
  private readonly cache = new Map<string, { ctx: AuthContext; until: number }>();

  constructor(
    private readonly keystoneUrl: string,
    private readonly cacheSeconds: number,
    private readonly fetchImpl: typeof fetch = fetch,
  ) {}

  async authenticate(token: string | undefined): Promise<AuthContext> {
    if (!token) throw unauthorized();
    const key = createHash('sha256').update(token).digest('hex');
    const now = Date.now();
    const hit = this.cache.get(key);
    if (hit && hit.until > now) return hit.ctx;
    // A token may validate itself (Keystone's identity:validate_token allows the token's subject).
    const res = await this.fetchImpl(`${this.keystoneUrl}/auth/tokens?nocatalog`, {
      headers: { 'X-Auth-Token': token, 'X-Subject-Token': token, Accept: 'application/json' },
    });
    if (res.status === 401 || res.status === 403 || res.status === 404) {
      this.cache.delete(key);
      throw unauthorized();
    }
    if (!res.ok) {
      log.error('external keystone validation failed', { status: res.status });
      throw new Error(`Keystone answered ${res.status} to token validation`);
    }
    const t = ((await res.json()) as KeystoneTokenBody).token;
    const ctx: AuthContext = {
      userId: t.user.id,
      userName: t.user.name,
      userDomainId: t.user.domain.id,
      projectId: t.project?.id,
      projectName: t.project?.name,
      projectDomainId: t.project?.domain.id,
      roles: effectiveRoles((t.roles ?? []).map((r) => r.name)),
      token,
      auditIds: t.audit_ids,
      expiresAt: new Date(t.expires_at),
      issuedAt: new Date(t.issued_at),
      methods: t.methods,
      ...(t.application_credential ? { appCred: { id: t.application_credential.id, name: t.application_credential.name, unrestricted: !t.application_credential.restricted } } : {}),
    };
    const until = Math.min(now + this.cacheSeconds * 1000, ctx.expiresAt.getTime());
    this.cache.set(key, { ctx, until });
    if (this.cache.size > 10000) this.cache.delete(this.cache.keys().next().value as string);
    return ctx;
  }
}

export function makeAuthenticator(cfg: JacketConfig, revocations: Revocations): Authenticator {
  if (cfg.auth.mode === 'external') return new ExternalAuthenticator(cfg.auth.keystoneUrl!, cfg.auth.externalCacheSeconds);
  return new BuiltinAuthenticator(cfg.auth.tokenKeys, revocations);
}
