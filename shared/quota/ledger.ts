// Quota usage as counters with reservations (Nova's and Cinder's model: quota_usages + reservations,
// committed or rolled back), one Table row per project and service, every change ETag-conditional.
//
// Why counters: a check that counts the project's records costs O(N) reads and, worse, is not exact
// under concurrency (two requests count the same usage and both pass). Here a check is one point read
// and one conditional write of the project's row, whatever N is, and two racing requests cannot both
// take the last unit: the loser's write fails on the ETag, it reads again and sees the winner's
// reservation.
//
// The row: `used` per resource, and `pending` reservations keyed by the id of the record they are for
// (a server, a volume). The lifecycle, driven by the service that owns the records:
//   reserve  check deltas against limits (used + unexpired reservations + delta ≤ limit) and hold them;
//   commit   the records exist: their reservations become `used` (a no-op for a reservation a recount
//            already absorbed — see below — so commit is idempotent);
//   rollback the action was refused after reserving: drop its reservations;
//   release  a record went: its usage is given back.
// A reservation expires (RESERVATION_TTL_MS) if the request that made it dies before commit/rollback.
// `recount` rebuilds `used` from the records (the first use of a project — migration of existing data —
// and the periodic repair): it drops the reservations whose record it counted, so a record written
// between reserve and commit is never counted twice; a racing change makes its write fail on the ETag
// and it counts again. Drift it repairs is reported to the caller (logged and emitted by the timer).
import { randomInt } from 'node:crypto';
import type { Services } from '../services';
import { ConcurrencyError, AlreadyExistsError, type Stored } from '../store/tables';
import { log } from '../log';

export type Deltas = Record<string, number>;

/** What a service counts from its records for one project: usage per resource, and which records it counted. */
export interface Counted {
  used: Deltas;
  ids: Set<string>;
}

export interface LedgerRow {
  used: Deltas;
  pending: Record<string, { deltas: Deltas; expires: string }>;
  /** When `used` was last rebuilt from the records. */
  counted: string;
}

/** The requested deltas would exceed a limit (the caller words the error as its API does). */
export class OverQuota extends Error {
  constructor(
    readonly resource: string,
    readonly requested: number,
    /** used + unexpired reservations, before this request */
    readonly inUse: number,
    readonly limit: number,
  ) {
    super(`Quota exceeded for ${resource}: requested ${requested}, ${inUse} of ${limit} in use`);
  }
}

/** A reservation outlives its request only by this much (the request writes its records within seconds). */
export const RESERVATION_TTL_MS = 10 * 60 * 1000;

/**
 * The periodic recount: a project's row older than this is rebuilt from the records on its next use
 * (one partition read per project per hour at most), so drift from a crash between a record's
 * removal and its release is repaired, and reported (log warning `quota usage drift repaired`).
 */
export const RECOUNT_AFTER_MS = 60 * 60 * 1000;

/** Racing writers of one project's row retry this many times (each with a short random pause). */
const ATTEMPTS = 60;

const sum = (a: Deltas, b: Deltas, sign = 1): Deltas => {
  const out = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = (out[k] ?? 0) + sign * v;
  return out;
};

/** Reservations not yet expired, summed per resource. */
export function reservedOf(row: LedgerRow, now = Date.now()): Deltas {
  let out: Deltas = {};
  for (const p of Object.values(row.pending)) if (Date.parse(p.expires) > now) out = sum(out, p.deltas);
  return out;
}

function withoutExpired(row: LedgerRow, now: number): LedgerRow {
  const pending = Object.fromEntries(Object.entries(row.pending).filter(([, p]) => Date.parse(p.expires) > now));
  return { ...row, pending };
}

const pause = () => new Promise((r) => setTimeout(r, randomInt(2, 25)));

export class QuotaLedger {
  constructor(
    private readonly s: Services,
    /** The partition: one ledger per service ('compute', 'volume'). */
    private readonly service: string,
    /** Counts one project's usage from the service's records (the source of truth). */
    private readonly count: (s: Services, project: string) => Promise<Counted>,
  ) {}

  private repo() {
    return this.s.tables.repository<LedgerRow>('quotausage');
  }

  /** The project's row, made by counting the records when it does not exist yet (first use, migration). */
  private async row(project: string): Promise<Stored<LedgerRow>> {
    const cur = await this.repo().get(this.service, project);
    if (cur && Date.now() - Date.parse(cur.value.counted) > RECOUNT_AFTER_MS) {
      const drift = await this.recount(project);
      if (Object.keys(drift).length > 0) log.warn('quota usage drift repaired', { service: this.service, project, drift: JSON.stringify(drift) });
      return (await this.repo().get(this.service, project))!;
    }
    if (cur) return cur;
    const counted = await this.count(this.s, project);
    try {
      return await this.repo().create(this.service, project, { used: counted.used, pending: {}, counted: new Date().toISOString() });
    } catch (e) {
      if (e instanceof AlreadyExistsError) return (await this.repo().get(this.service, project))!;
      throw e;
    }
  }

  /** Read-modify-write of the project's row under its ETag, retried on a lost race. */
  private async change<R>(project: string, mutate: (row: LedgerRow, now: number) => { next?: LedgerRow; result: R }): Promise<R> {
    for (let i = 0; ; i++) {
      const cur = await this.row(project);
      const now = Date.now();
      const { next, result } = mutate(withoutExpired(structuredClone(cur.value), now), now);
      if (!next) return result;
      try {
        await this.repo().replace(this.service, project, next, cur.etag);
        return result;
      } catch (e) {
        if (!(e instanceof ConcurrencyError) || i + 1 >= ATTEMPTS) throw e;
        await pause();
      }
    }
  }

  /**
   * Holds `entries` (one per record to be made, keyed by its id) against `limits` (-1 or absent:
   * unlimited), all or nothing. Throws OverQuota for the first resource that would go over.
   */
  reserve(project: string, entries: { id: string; deltas: Deltas }[], limits: Deltas, ttlMs = RESERVATION_TTL_MS): Promise<void> {
    const total = entries.reduce((acc, e) => sum(acc, e.deltas), {} as Deltas);
    return this.change(project, (row, now) => {
      const reserved = reservedOf(row, now);
      for (const [r, delta] of Object.entries(total)) {
        const limit = limits[r];
        if (delta <= 0 || limit === undefined || limit < 0) continue;
        const inUse = (row.used[r] ?? 0) + (reserved[r] ?? 0);
        if (inUse + delta > limit) throw new OverQuota(r, delta, inUse, limit);
      }
      const expires = new Date(now + ttlMs).toISOString();
      for (const e of entries) row.pending[e.id] = { deltas: e.deltas, expires };
      return { next: row, result: undefined };
    });
  }

  /** The records of these reservations exist: their deltas become usage. Idempotent. */
  commit(project: string, ids: string[]): Promise<void> {
    return this.change(project, (row) => {
      let changed = false;
      for (const id of ids) {
        const p = row.pending[id];
        if (!p) continue; // already committed, rolled back, or absorbed by a recount
        row.used = sum(row.used, p.deltas);
        delete row.pending[id];
        changed = true;
      }
      return { next: changed ? row : undefined, result: undefined };
    });
  }

  /** The action that reserved was refused before making its records: the reservations go. */
  rollback(project: string, ids: string[]): Promise<void> {
    return this.change(project, (row) => {
      const had = ids.filter((id) => row.pending[id]);
      for (const id of had) delete row.pending[id];
      return { next: had.length ? row : undefined, result: undefined };
    });
  }

  /** A record went (or shrank): its usage is given back (never below zero). */
  release(project: string, deltas: Deltas): Promise<void> {
    return this.adjust(project, Object.fromEntries(Object.entries(deltas).map(([k, v]) => [k, -v])));
  }

  /**
   * A record changed in place without a reservation (a resize reverted to a bigger flavor): its
   * deltas are applied as they are, negative ones giving back (never below zero). No limit is checked.
   */
  adjust(project: string, deltas: Deltas): Promise<void> {
    return this.change(project, (row) => {
      const used = sum(row.used, deltas);
      for (const k of Object.keys(used)) used[k] = Math.max(0, used[k]);
      return { next: { ...row, used }, result: undefined };
    });
  }

  /** Usage as the APIs show it: committed, and reserved by requests in flight. */
  async usage(project: string): Promise<{ used: Deltas; reserved: Deltas }> {
    const row = await this.row(project);
    return { used: row.value.used, reserved: reservedOf(row.value) };
  }

  /**
   * Rebuilds `used` from the records and drops the reservations of records it counted. Returns the
   * drift it repaired (counted − recorded, per resource; empty when the counters were right).
   */
  async recount(project: string): Promise<Deltas> {
    for (let i = 0; ; i++) {
      const cur = (await this.repo().get(this.service, project)) ?? (await this.row(project));
      const counted = await this.count(this.s, project);
      const now = Date.now();
      const row = withoutExpired(structuredClone(cur.value), now);
      const drift: Deltas = {};
      for (const k of new Set([...Object.keys(row.used), ...Object.keys(counted.used)])) {
        const d = (counted.used[k] ?? 0) - (row.used[k] ?? 0);
        if (d !== 0) drift[k] = d;
      }
      // A reservation whose record was counted is in `used` now; keeping it would count it twice.
      // Its commit will find nothing to move (commit is a no-op then).
      for (const id of Object.keys(row.pending))
        if (counted.ids.has(id)) {
          for (const [k, v] of Object.entries(row.pending[id].deltas)) drift[k] = (drift[k] ?? 0) - v;
          delete row.pending[id];
        }
      for (const k of Object.keys(drift)) if (drift[k] === 0) delete drift[k];
      try {
        await this.repo().replace(this.service, project, { used: counted.used, pending: row.pending, counted: new Date(now).toISOString() }, cur.etag);
        return drift;
      } catch (e) {
        if (!(e instanceof ConcurrencyError) || i + 1 >= ATTEMPTS) throw e;
        await pause();
      }
    }
  }
}
