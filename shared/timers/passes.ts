// The two-pass rule: a resource is deleted only when it was a candidate in this pass and in the pass
// just before it, so something that is unattached for a moment (a NIC whose VM is still being
// requested) is never taken. Each sweep keeps its candidates in its own partition of
// 'sweepcandidates' (RowKey = kind:name), stamped with the pass that last saw them; the partition holds
// only current candidates, so reading it is bounded by what the sweep found last time.
import type { Services } from '../services';
import type { Repository, Stored } from '../store/tables';

interface CandidateRow {
  /** The pass that last found it a candidate. */
  pass: number;
  /** The pass that first did (for the logs: how long it has been an orphan). */
  since: number;
}

export class CandidateMemory {
  private readonly repo: Repository<CandidateRow>;
  private previous = new Map<string, Stored<CandidateRow>>();
  private readonly current = new Set<string>();

  constructor(
    services: Services,
    private readonly sweep: string,
    private readonly pass: number,
  ) {
    this.repo = services.tables.repository<CandidateRow>('sweepcandidates');
  }

  async load(): Promise<void> {
    this.previous = new Map((await this.repo.list(this.sweep)).map((r) => [r.rowKey, r]));
  }

  /** Records `key` as a candidate of this pass; true when the previous pass had it too. */
  async mark(key: string): Promise<boolean> {
    const prev = this.previous.get(key)?.value;
    const confirmed = prev?.pass === this.pass - 1;
    this.current.add(key);
    await this.repo.upsert(this.sweep, key, { pass: this.pass, since: confirmed ? prev!.since : this.pass });
    return confirmed;
  }

  /** Deleted (or gone): no longer a candidate. */
  async forget(key: string): Promise<void> {
    this.current.delete(key);
    await this.repo.delete(this.sweep, key);
  }

  /** Drops the candidates of earlier passes that this pass did not find again. */
  async prune(): Promise<void> {
    for (const [key, row] of this.previous) {
      if (this.current.has(key)) continue;
      await this.repo.delete(this.sweep, key, row.etag).catch(() => undefined); // a newer pass rewrote it
    }
  }
}

/** RowKey-safe (Table Storage forbids / \ # ? and control characters; ARM names never have them). */
export const candidateKey = (kind: string, name: string) => `${kind}:${name.toLowerCase()}`.replace(/[/\\#?\u0000-\u001f]/g, '_');
