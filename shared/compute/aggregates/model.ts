// Host aggregate records (Nova's API-database aggregates, aggregate_hosts and aggregate_metadata) in one
// table, `aggregates`:
// - partition 'a': one row per aggregate, keyed by its integer id zero-padded (so a partition read
//   lists them in id order, as Nova's AggregateList.get_all), holding its hosts and metadata: every
//   change is one ETag-conditional replace of that row;
// - partition 'n': one row per aggregate name (hex-encoded key), created before the aggregate and
//   deleted after it, so two racing creates or renames cannot both take a name (Nova's
//   AggregateNameExists);
// - partition 's', row 'id': the last id given, taken under its ETag (Nova's autoincrement).
import type { Services } from '../../services';
import { AlreadyExistsError, ConcurrencyError, type Stored } from '../../store/tables';

export interface AggregateRecord {
  id: number;
  uuid: string;
  name: string;
  hosts: string[];
  metadata: Record<string, string>;
  created_at: string;
  updated_at: string | null;
}

interface NameRow {
  id: number;
}
interface SeqRow {
  last: number;
}

const AGG = 'a';
const NAME = 'n';
const SEQ = 's';

const aggRepo = (s: Services) => s.tables.repository<AggregateRecord>('aggregates', []);
const nameRepo = (s: Services) => s.tables.repository<NameRow>('aggregates', []);
const seqRepo = (s: Services) => s.tables.repository<SeqRow>('aggregates', []);

const rowKey = (id: number) => String(id).padStart(10, '0');
const nameKey = (name: string) => Buffer.from(name, 'utf8').toString('hex');

/** Nova's naive UTC timestamps with microseconds ("2013-08-18T12:17:56.380226"). */
export const naiveNow = () => new Date().toISOString().slice(0, 23) + '000';

const pause = () => new Promise((r) => setTimeout(r, 2 + Math.floor(Math.random() * 20)));

export class NameTaken extends Error {}

export async function listAggregates(s: Services): Promise<AggregateRecord[]> {
  return (await aggRepo(s).list(AGG)).map((r) => r.value);
}

export async function getAggregate(s: Services, id: number): Promise<Stored<AggregateRecord> | undefined> {
  return aggRepo(s).get(AGG, rowKey(id));
}

/** The next id, under the sequence row's ETag. */
async function nextId(s: Services): Promise<number> {
  const repo = seqRepo(s);
  for (let attempt = 0; ; attempt++) {
    const cur = await repo.get(SEQ, 'id');
    try {
      if (!cur) {
        await repo.create(SEQ, 'id', { last: 1 });
        return 1;
      }
      await repo.replace(SEQ, 'id', { last: cur.value.last + 1 }, cur.etag);
      return cur.value.last + 1;
    } catch (e) {
      if (!(e instanceof ConcurrencyError || e instanceof AlreadyExistsError) || attempt >= 60) throw e;
      await pause();
    }
  }
}

/**
 * Claims `name` for aggregate `id`; NameTaken when another aggregate holds it. A claim left by a
 * create or rename that stopped halfway (its aggregate gone or named otherwise) is taken over.
 */
export async function claimName(s: Services, name: string, id: number): Promise<void> {
  const repo = nameRepo(s);
  for (let attempt = 0; ; attempt++) {
    try {
      await repo.create(NAME, nameKey(name), { id });
      return;
    } catch (e) {
      if (!(e instanceof AlreadyExistsError) || attempt >= 5) throw e;
    }
    const cur = await repo.get(NAME, nameKey(name));
    if (!cur) continue;
    if (cur.value.id === id) return;
    const holder = await getAggregate(s, cur.value.id);
    if (holder && holder.value.name === name) throw new NameTaken();
    try {
      await repo.replace(NAME, nameKey(name), { id }, cur.etag);
      return;
    } catch (e) {
      if (!(e instanceof ConcurrencyError)) throw e;
    }
  }
}

/** Lets go of `name` if aggregate `id` holds it. */
export async function releaseName(s: Services, name: string, id: number): Promise<void> {
  const cur = await nameRepo(s).get(NAME, nameKey(name));
  if (cur && cur.value.id === id) await nameRepo(s).delete(NAME, nameKey(name), cur.etag);
}

export async function createAggregate(s: Services, rec: Omit<AggregateRecord, 'id'>): Promise<AggregateRecord> {
  const id = await nextId(s);
  await claimName(s, rec.name, id);
  const v = { ...rec, id };
  await aggRepo(s).create(AGG, rowKey(id), v);
  return v;
}

/**
 * Read-modify-write of one aggregate under its ETag: `mutate` returns the new record (it may throw
 * Nova's errors, which then change nothing); undefined when the aggregate does not exist.
 */
export async function updateAggregate(s: Services, id: number, mutate: (v: AggregateRecord) => AggregateRecord): Promise<AggregateRecord | undefined> {
  const repo = aggRepo(s);
  for (let attempt = 0; ; attempt++) {
    const cur = await repo.get(AGG, rowKey(id));
    if (!cur) return undefined;
    const v = mutate(structuredClone(cur.value));
    try {
      await repo.replace(AGG, rowKey(id), v, cur.etag);
      return v;
    } catch (e) {
      if (!(e instanceof ConcurrencyError) || attempt >= 60) throw e;
      await pause();
    }
  }
}

/** Deletes the aggregate if `check` accepts it as stored (under its ETag), then its name claim. */
export async function deleteAggregate(s: Services, id: number, check: (v: AggregateRecord) => void): Promise<boolean> {
  const repo = aggRepo(s);
  for (let attempt = 0; ; attempt++) {
    const cur = await repo.get(AGG, rowKey(id));
    if (!cur) return false;
    check(cur.value);
    try {
      await repo.delete(AGG, rowKey(id), cur.etag);
    } catch (e) {
      if (!(e instanceof ConcurrencyError) || attempt >= 60) throw e;
      await pause();
      continue;
    }
    await releaseName(s, cur.value.name, id);
    return true;
  }
}
