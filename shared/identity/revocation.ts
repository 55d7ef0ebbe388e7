// Token revocation events, as Keystone keeps them: a token is revoked when its audit id is listed, or
// when its user, project or application credential has an event issued after the token was. One single-partition query per check.
//
// A clean check is trusted for a few seconds (recheckMs, JACKET_REVOCATION_RECHECK_SECONDS, default 5)
// by the instance that made it: a client's burst of calls with one token (a dashboard page, a CLI
// polling with --wait) reads the revocations once, not once per call. Any revocation this instance
// writes forgets every trusted check at once, so on one instance (and in the local cloud) a revoked
// token fails on its next request; another instance sees it within recheckMs. keystonemiddleware, in
// front of every upstream service, caches a validated token for token_cache_time (300 s by default).
import { odata, type Repository, type TableStore } from '../store/tables';

interface RevocationRecord {
  /** Tokens issued at or before this instant (epoch ms) are revoked. */
  issued_before: number;
  /** Epoch ms after which the event no longer matters (every token it covers has expired). */
  expires: number;
}

const PK = 'rev';
/** Bound on remembered clean checks (one per live token seen in recheckMs); cleared when reached. */
const CLEAN_MAX = 10_000;

export class Revocations {
  private readonly repo: Repository<RevocationRecord>;
  /** Tokens (by the key of their check) found clean, and when: trusted for recheckMs. */
  private readonly clean = new Map<string, number>();
  /** Moves on every revocation written here: a check that began before it must not be trusted. */
  private epoch = 0;

  constructor(
    tables: TableStore,
    private readonly tokenTtlMs: number,
    private readonly recheckMs = 0,
  ) {
    this.repo = tables.repository<RevocationRecord>('revocations');
  }

  private async put(key: string, issuedBefore = Date.now()): Promise<void> {
    // Before and after the write: no check in flight across it may be trusted.
    this.forget();
    await this.repo.upsert(PK, key, { issued_before: issuedBefore, expires: issuedBefore + this.tokenTtlMs });
    this.forget();
  }

  private forget(): void {
    this.epoch++;
    this.clean.clear();
  }
  revokeAudit = (auditId: string) => this.put(`audit:${auditId}`);
  revokeUser = (userId: string) => this.put(`user:${userId}`);
  revokeProject = (projectId: string) => this.put(`project:${projectId}`);
  /** A role removed from a user on a project ends that user's tokens for that project only. */
  revokeUserOnProject = (userId: string, projectId: string) => this.put(`userproject:${userId}:${projectId}`);
  /** A deleted application credential ends every token made from it (ids are never reused). */
  revokeAppCred = (appCredId: string) => this.put(`appcred:${appCredId}`);

  async isRevoked(t: { auditIds: string[]; userId: string; projectId?: string; appCredId?: string; issuedAt: number }): Promise<boolean> {
    const keys = [...t.auditIds.map((a) => `audit:${a}`), `user:${t.userId}`];
    if (t.projectId) keys.push(`project:${t.projectId}`, `userproject:${t.userId}:${t.projectId}`);
    if (t.appCredId) keys.push(`appcred:${t.appCredId}`);
    const memo = keys.join('|') + `|${t.issuedAt}`;
    const now = Date.now();
    if (this.recheckMs > 0 && now - (this.clean.get(memo) ?? -Infinity) < this.recheckMs) return false;
    const epoch = this.epoch;
    const filter = keys.map((k) => odata`RowKey eq ${k}`).join(' or ');
    const hits = await this.repo.list(PK, filter);
    const revoked = hits.some((h) => h.rowKey.startsWith('audit:') || t.issuedAt <= h.value.issued_before);
    if (!revoked && this.recheckMs > 0 && epoch === this.epoch) {
      if (this.clean.size >= CLEAN_MAX) this.clean.clear();
      this.clean.set(memo, now);
    }
    return revoked;
  }
}
