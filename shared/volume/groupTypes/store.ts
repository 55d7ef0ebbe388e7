// Group types (Cinder's group_types and group_type_specs tables): global records in one partition, a
// name index for uniqueness, and Cinder's seeded `default_cgsnapshot_type` (its initial migration
// creates it with consistent_group_snapshot_enabled = "<is> True"), made once with an id derived from
// its name so every instance seeds the same record.
import { createHash } from 'node:crypto';
import type { Services } from '../../services';
import type { RequestContext } from '../../http/router';
import { isAdmin } from '../../api/policy';
import { notFound } from '../../http/errors';
import { AlreadyExistsError, type Stored } from '../../store/tables';
import { cinderTime } from '../common';

export interface GroupTypeRecord {
  id: string;
  name: string;
  description: string | null;
  is_public: boolean;
  group_specs: Record<string, string | null>;
  created_at: string;
  updated_at: string | null;
}

const PK = 'grouptype';
export const DEFAULT_CGSNAPSHOT_TYPE = 'default_cgsnapshot_type';

function seededId(name: string): string {
  const h = createHash('sha256').update(`jacket-group-type:${name}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

const seeded = new WeakMap<Services, Promise<void>>();

export class GroupTypeStore {
  constructor(private readonly s: Services) {}
  private get types() {
    return this.s.tables.repository<GroupTypeRecord>('volgrouptypes', ['name']);
  }
  private get names() {
    return this.s.tables.repository<{ id: string }>('volgrouptypenames');
  }

  /** Seeds default_cgsnapshot_type once per process (idempotent across instances). */
  ready(): Promise<void> {
    let p = seeded.get(this.s);
    if (!p) {
      p = (async () => {
        const id = seededId(DEFAULT_CGSNAPSHOT_TYPE);
        if (await this.types.get(PK, id)) return;
        const now = cinderTime();
        await this.insert({
          id,
          name: DEFAULT_CGSNAPSHOT_TYPE,
          description: 'Default group type for migrating cgsnapshot',
          is_public: true,
          group_specs: { consistent_group_snapshot_enabled: '<is> True' },
          created_at: now,
          updated_at: now,
        }).catch((e) => {
          if (!(e instanceof AlreadyExistsError)) throw e;
        });
      })();
      p.catch(() => seeded.delete(this.s));
      seeded.set(this.s, p);
    }
    return p;
  }

  /** The name first (its row is the uniqueness), then the record; the name row goes if the record fails. */
  async insert(t: GroupTypeRecord): Promise<void> {
    await this.names.create(PK, t.name.toLowerCase(), { id: t.id });
    try {
      await this.types.create(PK, t.id, t);
    } catch (e) {
      await this.names.delete(PK, t.name.toLowerCase());
      throw e;
    }
  }
  async get(id: string): Promise<Stored<GroupTypeRecord> | undefined> {
    await this.ready();
    return this.types.get(PK, id);
  }
  async list(): Promise<GroupTypeRecord[]> {
    await this.ready();
    return (await this.types.list(PK)).map((r) => r.value);
  }
  replace(cur: Stored<GroupTypeRecord>, next: GroupTypeRecord): Promise<Stored<GroupTypeRecord>> {
    return this.types.replace(PK, cur.rowKey, next, cur.etag);
  }
  /** A new name: its row first (409 when taken), then the record, then the old name's row. */
  async rename(cur: Stored<GroupTypeRecord>, next: GroupTypeRecord): Promise<Stored<GroupTypeRecord>> {
    await this.names.create(PK, next.name.toLowerCase(), { id: next.id });
    try {
      const out = await this.replace(cur, next);
      await this.names.delete(PK, cur.value.name.toLowerCase());
      return out;
    } catch (e) {
      await this.names.delete(PK, next.name.toLowerCase());
      throw e;
    }
  }
  async remove(cur: Stored<GroupTypeRecord>): Promise<void> {
    await this.types.delete(PK, cur.rowKey, cur.etag);
    await this.names.delete(PK, cur.value.name.toLowerCase());
  }
}

export const groupTypeStore = (s: Services) => new GroupTypeStore(s);

/**
 * A group type the caller may see (db _group_type_get: admins any, others the public ones — no group
 * type access API is served, so no project is granted a private one); else Cinder's 404.
 */
export async function visibleGroupType(ctx: RequestContext, id: string): Promise<Stored<GroupTypeRecord>> {
  const t = await groupTypeStore(ctx.services).get(id);
  if (!t || (!t.value.is_public && !isAdmin(ctx.auth!))) throw notFound(`Group type ${id} could not be found.`);
  return t;
}
