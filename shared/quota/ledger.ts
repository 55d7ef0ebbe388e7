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
//   release  a record went: its usage is given back. A release keyed by the record's id (`releaseOnce`)
//            is remembered in `released` until `forget`, so the service can give the usage back
//            *before* removing the record (no reader sees the record gone and its usage still
//            counted) and a retried step that finds the record still there does not give it twice.
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
  /**
   * Records whose usage `releaseOnce` gave back while they still exist (their removal follows, then
   * `forget`). Kept until `expires` at most: only a crash between the removal and `forget` leaves one.
   */
  released?: Record<string, { deltas: Deltas; expires: string }>;
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

/** A `releaseOnce` is remembered this long at most (the step that removes the record retries within an hour). */
export const RELEASE_MEMORY_MS = 24 * 60 * 60 * 1000;

/** Racing writers of one project's row retry this many times (each with a short random pause). */
const ATTEMPTS = 60;

const sum = (a: Deltas, b: Deltas, sign = 1): Deltas => {
  const out = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = (out[k] ?? 0) + sign * v;
  return out;
};

/** `deltas` applied to `used` (negative ones giving back), no resource below zero. */
const applied = (used: Deltas, deltas: Deltas, sign = 1): Deltas => {
  const out = sum(used, deltas, sign);
  for (const k of Object.keys(out)) out[k] = Math.max(0, out[k]);
  return out;
};

/** Reservations not yet expired, summed per resource. */
export function reservedOf(row: LedgerRow, now = Date.now()): Deltas {
  let out: Deltas = {};
  for (const p of Object.values(row.pending)) if (Date.parse(p.expires) > now) out = sum(out, p.deltas);
  return out;
}

function withoutExpired(row: LedgerRow, now: number): LedgerRow {
  const live = <T extends { expires: string }>(m: Record<string, T>) => Object.fromEntries(Object.entries(m).filter(([, p]) => Date.parse(p.expires) > now));
  const out: LedgerRow = { ...row, pending: live(row.pending) };
  if (row.released) {
    const released = live(row.released);
    if (Object.keys(released).length) out.released = released;
    else delete out.released;
  }
  return out;
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
   * The record `id` is about to go: its usage is given back now, once. A repeat for the same id
   * (a retried step that found the record still there) changes nothing. Call `forget` once the
   * record is removed.
   */
  releaseOnce(project: string, id: string, deltas: Deltas): Promise<void> {
    return this.change(project, (row, now) => {
      if (row.released?.[id]) return { result: undefined };
      const used = applied(row.used, deltas, -1);
      const released = { ...row.released, [id]: { deltas, expires: new Date(now + RELEASE_MEMORY_MS).toISOString() } };
      return { next: { ...row, used, released }, result: undefined };
    });
  }

  /** The record a `releaseOnce` was for is removed: the memory of its release goes (no write when there is none). */
  forget(project: string, id: string): Promise<void> {
    return this.change(project, (row) => {
      if (!row.released?.[id]) return { result: undefined };
      const { [id]: _gone, ...rest } = row.released;
      const next: LedgerRow = { ...row, released: rest };
      if (!Object.keys(rest).length) delete next.released;
      return { next, result: undefined };
    });
  }

  /**
   * A record changed in place without a reservation (a resize reverted to a bigger flavor): its
   * deltas are applied as they are, negative ones giving back (never below zero). No limit is checked.
   */
  adjust(project: string, deltas: Deltas): Promise<void> {
    return this.change(project, (row) => {
      return { next: { ...row, used: applied(row.used, deltas) }, result: undefined };
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
      // A record whose usage releaseOnce gave back is on its way out: counted, but not in use. A
      // remembered release whose record is gone has done its work.
      const used = { ...counted.used };
      const released: Record<string, { deltas: Deltas; expires: string }> = {};
      for (const [id, r] of Object.entries(row.released ?? {}))
        if (counted.ids.has(id)) {
          released[id] = r;
          for (const [k, v] of Object.entries(r.deltas)) {
            used[k] = Math.max(0, (used[k] ?? 0) - v);
            drift[k] = (drift[k] ?? 0) - v;
          }
        }
      for (const k of Object.keys(drift)) if (drift[k] === 0) delete drift[k];
      const next: LedgerRow = { used, pending: row.pending, counted: new Date(now).toISOString() };
      if (Object.keys(released).length) next.released = released;
      try {
        await this.repo().replace(this.service, project, next, cur.etag);
        return drift;
      } catch (e) {
        if (!(e instanceof ConcurrencyError) || i + 1 >= ATTEMPTS) throw e;
        await pause();
      }
    }
  }
}
