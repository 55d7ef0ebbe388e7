// The one store for Cinder's global, name-unique type records (volume types, group types): records in
// one partition, a name index whose row is the uniqueness (case-insensitive, as Cinder's collation),
// and operator/upstream seeds made once per process with ids derived from their names, so every
// instance seeds the same record. The type modules say what they store and seed; this says how.
import { createHash } from 'node:crypto';
import type { Services } from '../services';
import type { RequestContext } from '../http/router';
import { isAdmin } from '../api/policy';
import { badRequest, conflict } from '../http/errors';
import { AlreadyExistsError, type Stored } from '../store/tables';

export interface NamedRecord {
  id: string;
  name: string;
  is_public: boolean;
}

export interface NamedStoreSpec<T extends NamedRecord> {
  /** Table of the records, and of the name rows; the partition both use (as each was first written). */
  table: string;
  pk: string;
  namesTable: string;
  /** Salt of the seeded ids ("jacket-volume-type"). */
  seedSalt: string;
  /** The records to make once (each keeps its id from seededId). */
  seeds: (s: Services, seededId: (name: string) => string) => T[];
}

const seeded = new WeakMap<Services, Map<string, Promise<void>>>();

/** A stable UUID-shaped id from a seed's name. */
function seededIdOf(salt: string, name: string): string {
  const h = createHash('sha256').update(`${salt}:${name}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export class NamedStore<T extends NamedRecord> {
  constructor(
    private readonly s: Services,
    private readonly spec: NamedStoreSpec<T>,
  ) {}

  private get pk() {
    return this.spec.pk;
  }

  private get records() {
    return this.s.tables.repository<T>(this.spec.table, ['name'] as (keyof T & string)[]);
  }
  private get names() {
    return this.s.tables.repository<{ id: string }>(this.spec.namesTable);
  }

  /** Makes the seeds once per process (idempotent across instances: a taken name or id is kept). */
  async ready(): Promise<void> {
    let bySvc = seeded.get(this.s);
    if (!bySvc) seeded.set(this.s, (bySvc = new Map()));
    let p = bySvc.get(this.spec.table);
    if (!p) {
      const map = bySvc;
      p = (async () => {
        for (const t of this.spec.seeds(this.s, (n) => seededIdOf(this.spec.seedSalt, n))) {
          if (await this.records.get(this.pk, t.id)) continue;
          await this.insert(t).catch((e) => {
            if (!(e instanceof AlreadyExistsError)) throw e;
          });
        }
      })().catch((e) => {
        map.delete(this.spec.table);
        throw e;
      });
      map.set(this.spec.table, p);
    }
    await p;
  }

  /** The name row first: a duplicate name fails before any record exists; the row goes if the record fails. */
  async insert(t: T): Promise<void> {
    await this.names.create(this.pk, t.name.toLowerCase(), { id: t.id });
    try {
      await this.records.create(this.pk, t.id, t);
    } catch (e) {
      await this.names.delete(this.pk, t.name.toLowerCase());
      throw e;
    }
  }

  async get(id: string): Promise<Stored<T> | undefined> {
    await this.ready();
    return this.records.get(this.pk, id);
  }

  async byName(name: string): Promise<Stored<T> | undefined> {
    await this.ready();
    const row = await this.names.get(this.pk, name.toLowerCase());
    return row ? this.records.get(this.pk, row.value.id) : undefined;
  }

  async list(): Promise<T[]> {
    await this.ready();
    return (await this.records.list(this.pk)).map((r) => r.value);
  }

  replace(cur: Stored<T>, next: T): Promise<Stored<T>> {
    return this.records.replace(this.pk, cur.rowKey, next, cur.etag);
  }

  /** A new name: its row first (AlreadyExistsError when taken), then the record (ETag), then the old row goes. */
  async rename(cur: Stored<T>, next: T): Promise<Stored<T>> {
    await this.names.create(this.pk, next.name.toLowerCase(), { id: next.id });
    let stored: Stored<T>;
    try {
      stored = await this.replace(cur, next);
    } catch (e) {
      await this.names.delete(this.pk, next.name.toLowerCase());
      throw e;
    }
    await this.names.delete(this.pk, cur.value.name.toLowerCase());
    return stored;
  }

  /** An update: a rename when the name changed (case-insensitively), else a replace; a taken name is 409 `taken(name)`. */
  async update(cur: Stored<T>, next: T, taken: (name: string) => string): Promise<Stored<T>> {
    try {
      return next.name.toLowerCase() !== cur.value.name.toLowerCase() ? await this.rename(cur, next) : await this.replace(cur, next);
    } catch (e) {
      if (e instanceof AlreadyExistsError) throw conflict(taken(next.name));
      throw e;
    }
  }

  /** A create: a taken name is 409 `taken(name)`. */
  async create(t: T, taken: (name: string) => string): Promise<void> {
    await this.ready();
    try {
      await this.insert(t);
    } catch (e) {
      if (e instanceof AlreadyExistsError) throw conflict(taken(t.name));
      throw e;
    }
  }

  async remove(cur: Stored<T>): Promise<void> {
    await this.records.delete(this.pk, cur.rowKey, cur.etag);
    await this.names.delete(this.pk, cur.value.name.toLowerCase());
  }
}

/**
 * The list filter both type APIs apply (api_utils._parse_is_public): non-admins see public records
 * only; admins get public ones unless they ask (`None` for all, else a strict boolean, else Cinder's
 * 400 `Invalid is_public filter [x]`).
 */
export function publicFilter<T extends NamedRecord>(ctx: RequestContext, all: T[]): T[] {
  const raw = ctx.query.get('is_public');
  if (!isAdmin(ctx.auth!) || raw === null) return all.filter((t) => t.is_public);
  if (raw.toLowerCase() === 'none') return all;
  const s = raw.trim().toLowerCase();
  const want = ['1', 't', 'true', 'on', 'y', 'yes'].includes(s) ? true : ['0', 'f', 'false', 'off', 'n', 'no'].includes(s) ? false : undefined;
  if (want === undefined) throw badRequest(`Invalid is_public filter [${raw}]`);
  return all.filter((t) => t.is_public === want);
}
