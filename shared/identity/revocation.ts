// Token revocation events, as Keystone keeps them: a token is revoked when its audit id is listed, or
// when its user, project or application credential has an event issued after the token was. One single-partition query per check.
import { odata, type Repository, type TableStore } from '../store/tables';

interface RevocationRecord {
  /** Tokens issued at or before this instant (epoch ms) are revoked. */
  issued_before: number;
  /** Epoch ms after which the event no longer matters (every token it covers has expired). */
  expires: number;
}

const PK = 'rev';

export class Revocations {
  private readonly repo: Repository<RevocationRecord>;
  constructor(
    tables: TableStore,
    private readonly tokenTtlMs: number,
  ) {
    this.repo = tables.repository<RevocationRecord>('revocations');
  }

  private async put(key: string, issuedBefore = Date.now()): Promise<void> {
    await this.repo.upsert(PK, key, { issued_before: issuedBefore, expires: issuedBefore + this.tokenTtlMs });
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
    const filter = keys.map((k) => odata`RowKey eq ${k}`).join(' or ');
    const hits = await this.repo.list(PK, filter);
    return hits.some((h) => h.rowKey.startsWith('audit:') || t.issuedAt <= h.value.issued_before);
  }
}
