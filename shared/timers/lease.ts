// One lease row per sweep in Table Storage, so that when several instances fire the same timer at once
// only one acts. A claim is an ETag-conditional write (create when absent, replace when expired or
// ours); losing the race means another instance holds it. The row also counts the sweep's passes,
// which the two-pass rule (passes.ts) needs.
import type { Services } from '../services';
import { AlreadyExistsError, ConcurrencyError, type Repository } from '../store/tables';

interface LeaseRow {
  holder: string;
  /** Epoch ms; the lease is free after this. */
  expires: number;
  /** Passes run so far, this one included. */
  pass: number;
}

export interface Lease {
  name: string;
  holder: string;
  pass: number;
  etag: string;
}

const PK = 'sweep';
const leases = (s: Services): Repository<LeaseRow> => s.tables.repository<LeaseRow>('timerleases');

/** Claims the lease of `name` for `holder` until now + ttl; undefined when another holder has it. */
export async function claimLease(s: Services, name: string, holder: string, now: Date, ttlMs: number): Promise<Lease | undefined> {
  const repo = leases(s);
  const expires = now.getTime() + ttlMs;
  const cur = await repo.get(PK, name);
  try {
    if (!cur) {
      const r = await repo.create(PK, name, { holder, expires, pass: 1 });
      return { name, holder, pass: 1, etag: r.etag };
    }
    if (cur.value.expires > now.getTime() && cur.value.holder !== holder) return undefined;
    const pass = cur.value.pass + 1;
    const r = await repo.replace(PK, name, { holder, expires, pass }, cur.etag);
    return { name, holder, pass, etag: r.etag };
  } catch (e) {
    if (e instanceof AlreadyExistsError || e instanceof ConcurrencyError) return undefined;
    throw e;
  }
}

/** Frees the lease if it is still ours (a lease taken over after expiry is left to its new holder). */
export async function releaseLease(s: Services, lease: Lease): Promise<void> {
  const repo = leases(s);
  const cur = await repo.get(PK, lease.name);
  if (!cur || cur.etag !== lease.etag) return;
  try {
    await repo.replace(PK, lease.name, { ...cur.value, expires: 0 }, cur.etag);
  } catch (e) {
    if (!(e instanceof ConcurrencyError)) throw e;
  }
}
