// Azure Table Storage access. Each record is one entity: the JSON document in `doc`, plus a few scalar
// columns copied from it so that list filters run in the table query. Every state change is
// conditional on the ETag read with it (optimistic concurrency); a lost race surfaces as ConcurrencyError.
import type { TableClient, TableEntityResult, TransactionAction } from '@azure/data-tables';
import type { StorageConnection } from '../config';
import { tableClient, tablesSdk } from '../azure/clients';

export class ConcurrencyError extends Error {
  constructor(what: string) {
    super(`${what} was changed by another request`);
  }
}
export class AlreadyExistsError extends Error {
  constructor(what: string) {
    super(`${what} already exists`);
  }
}

export interface Stored<T> {
  partitionKey: string;
  rowKey: string;
  value: T;
  etag: string;
}

function statusOf(e: unknown): number | undefined {
  return typeof e === 'object' && e !== null && 'statusCode' in e ? (e as { statusCode?: number }).statusCode : undefined;
}

/**
 * Whether a string can be a PartitionKey or RowKey: Table storage refuses '/', '\\', '#', '?',
 * control characters and keys over 1 KiB with a 400 — and ids come from URLs, so a request for
 * `/servers/a%2Fb` must find nothing (404 at once) instead of failing in the service.
 */
export function isValidKey(k: string): boolean {
  // eslint-disable-next-line no-control-regex
  return Buffer.byteLength(k, 'utf8') <= 1024 && !/[/\\#?\u0000-\u001f\u007f-\u009f]/.test(k) && !/[\uD800-\uDFFF]/.test(k.replace(/[\uD800-\uDBFF][\uDC00-\uDFFF]/g, ''));
}

export class TableStore {
  private readonly clients = new Map<string, TableClient>();
  private readonly ready = new Map<string, Promise<void>>();

  private readonly connection: StorageConnection;

  constructor(
    /** A StorageConnection (shared/config.ts), or a connection string (Azurite in tests). */
    connection: StorageConnection | string,
    private readonly prefix: string,
  ) {
    this.connection = typeof connection === 'string' ? { kind: 'connectionString', connectionString: connection } : connection;
  }

  /** A client for the logical table `name`, created on first use. */
  async client(name: string): Promise<TableClient> {
    const full = `${this.prefix}${name}`;
    if (!/^[A-Za-z][A-Za-z0-9]{2,62}$/.test(full)) throw new Error(`invalid table name ${full}`);
    let c = this.clients.get(full);
    if (!c) {
      c = tableClient(this.connection, full);
      this.clients.set(full, c);
    }
    let r = this.ready.get(full);
    if (!r) {
      const client = c;
      r = client.createTable().catch((e) => {
        this.ready.delete(full);
        throw e;
      });
      this.ready.set(full, r);
    }
    await r;
    return c;
  }

  repository<T extends object>(name: string, indexed: readonly (keyof T & string)[] = [], derived?: Derived<T>, copyKey?: CopyKey<T>): Repository<T> {
    return new Repository<T>(() => this.client(name), name, indexed, derived, copyKey);
  }
}

type Entity = Record<string, unknown> & { partitionKey: string; rowKey: string; doc: string };

/**
 * Extra scalar columns computed from the record on every write (beside the indexed copies), so that a
 * reader can `select` just them instead of the whole `doc` (Repository.columns). Rows written before a
 * column existed lack it: readers must treat a missing column as unknown.
 */
export type Derived<T> = (value: T) => Record<string, string | number | boolean | undefined>;

/**
 * A second copy of every record in its own partition, under RowKey COPY_PREFIX + copyKey(record):
 * Microsoft's intra-partition secondary index pattern (Table storage design guide). The copy is
 * written in the same entity group transaction as the record (create, replace, upsert and delete each
 * send one batch of the two), so the two never disagree, and a listing in the copy key's order is one
 * range query that returns whole records (Repository.copyPage) instead of an index query plus a point
 * read per record. The key must be a function of fields that never change (a sort key of created_at
 * and id, say). Records' own RowKeys must sort before COPY_PREFIX (ids do); every other reader of a
 * repository with copies skips the copies.
 */
export type CopyKey<T> = (value: T) => string;
export const COPY_PREFIX = '~';

/** One row as Repository.columns reads it: its keys and the selected columns (absent when unset). */
export type ColumnRow = { partitionKey: string; rowKey: string } & Record<string, unknown>;

export interface PageOptions {
  /** Extra OData filter, ANDed with the partition condition. */
  filter?: string;
  limit: number;
  /** Return rows with RowKey strictly greater than this (marker pagination). */
  afterRowKey?: string;
}

export class Repository<T extends object> {
  constructor(
    private readonly getClient: () => Promise<TableClient>,
    private readonly name: string,
    private readonly indexed: readonly (keyof T & string)[],
    private readonly derived?: Derived<T>,
    private readonly copyKey?: CopyKey<T>,
  ) {}

  /** The condition that keeps a repository's copies out of its record reads (none without copies). */
  private get recordsOnly(): string | undefined {
    return this.copyKey ? odata`RowKey lt ${COPY_PREFIX}` : undefined;
  }

  /** The copy's row: the record's columns, and `copy_of`, the record's RowKey. */
  private copyEntity(pk: string, rk: string, value: T): Entity {
    return { ...this.toEntity(pk, COPY_PREFIX + this.copyKey!(value), value), copy_of: rk };
  }

  /**
   * The record's write and its copy's upsert in one transaction; returns the record's new ETag. A
   * failed transaction fails whole, with the failing operation's status (409, 412, 404).
   */
  private async writeWithCopy(c: TableClient, record: ['create'] | ['upsert'] | ['update', string], pk: string, rk: string, value: T): Promise<string> {
    const e = this.toEntity(pk, rk, value);
    const first: TransactionAction = record[0] === 'create' ? ['create', e] : record[0] === 'upsert' ? ['upsert', e, 'Replace'] : ['update', e, 'Replace', { etag: record[1] }];
    const r = await c.submitTransaction([first, ['upsert', this.copyEntity(pk, rk, value), 'Replace']]);
    return r.subResponses[0]?.etag ?? '';
  }

  private toEntity(pk: string, rk: string, value: T): Entity {
    const e: Entity = { partitionKey: pk, rowKey: rk, doc: JSON.stringify(value) };
    for (const k of this.indexed) {
      const v = (value as Record<string, unknown>)[k];
      if (v !== undefined && v !== null) (e as Record<string, unknown>)[k] = typeof v === 'object' ? JSON.stringify(v) : v;
    }
    for (const [k, v] of Object.entries(this.derived?.(value) ?? {})) if (v !== undefined) (e as Record<string, unknown>)[k] = v;
    return e;
  }

  private fromEntity(e: TableEntityResult<Record<string, unknown>>): Stored<T> {
    return {
      partitionKey: e.partitionKey as string,
      rowKey: e.rowKey as string,
      value: JSON.parse(e.doc as string) as T,
      etag: e.etag,
    };
  }

  async get(pk: string, rk: string): Promise<Stored<T> | undefined> {
    if (!isValidKey(pk) || !isValidKey(rk)) return undefined;
    const c = await this.getClient();
    try {
      return this.fromEntity(await c.getEntity<Record<string, unknown>>(pk, rk));
    } catch (e) {
      if (statusOf(e) === 404) return undefined;
      throw e;
    }
  }

  async create(pk: string, rk: string, value: T): Promise<Stored<T>> {
    const c = await this.getClient();
    try {
      if (this.copyKey) return { partitionKey: pk, rowKey: rk, value, etag: await this.writeWithCopy(c, ['create'], pk, rk, value) };
      const r = await c.createEntity(this.toEntity(pk, rk, value));
      return { partitionKey: pk, rowKey: rk, value, etag: r.etag ?? '' };
    } catch (e) {
      if (statusOf(e) === 409) throw new AlreadyExistsError(`${this.name} ${pk}/${rk}`);
      throw e;
    }
  }

  /** Replace the record only if it still carries `etag`. */
  async replace(pk: string, rk: string, value: T, etag: string): Promise<Stored<T>> {
    const c = await this.getClient();
    try {
      if (this.copyKey) return { partitionKey: pk, rowKey: rk, value, etag: await this.writeWithCopy(c, ['update', etag], pk, rk, value) };
      const r = await c.updateEntity(this.toEntity(pk, rk, value), 'Replace', { etag });
      return { partitionKey: pk, rowKey: rk, value, etag: r.etag ?? '' };
    } catch (e) {
      const s = statusOf(e);
      if (s === 412 || s === 404) throw new ConcurrencyError(`${this.name} ${pk}/${rk}`);
      throw e;
    }
  }

  async upsert(pk: string, rk: string, value: T): Promise<Stored<T>> {
    const c = await this.getClient();
    if (this.copyKey) return { partitionKey: pk, rowKey: rk, value, etag: await this.writeWithCopy(c, ['upsert'], pk, rk, value) };
    const r = await c.upsertEntity(this.toEntity(pk, rk, value), 'Replace');
    return { partitionKey: pk, rowKey: rk, value, etag: r.etag ?? '' };
  }

  /** Delete; with an etag, only if unchanged. Returns false when it was already gone. */
  async delete(pk: string, rk: string, etag?: string): Promise<boolean> {
    if (!isValidKey(pk) || !isValidKey(rk)) return false;
    if (this.copyKey) return this.deleteWithCopy(pk, rk, etag);
    const c = await this.getClient();
    try {
      await c.deleteEntity(pk, rk, etag ? { etag } : undefined);
      return true;
    } catch (e) {
      const s = statusOf(e);
      if (s === 404) return false;
      if (s === 412) throw new ConcurrencyError(`${this.name} ${pk}/${rk}`);
      throw e;
    }
  }

  /**
   * Delete of a record with a copy. The copy's key comes from the record, so it is read first. Without
   * an ETag the two go in one transaction. With one, the SDK's transactions cannot make a delete
   * conditional, so a transaction fences on it instead: an empty Merge of the record on that ETag with
   * the copy's delete; then the record alone on the ETag the Merge gave it. A write that slips in
   * between fails the second step (ConcurrencyError) and has already put the copy back; a crash in
   * between leaves the record without its copy, which its next write or the owner's repair restores.
   */
  private async deleteWithCopy(pk: string, rk: string, etag?: string): Promise<boolean> {
    const cur = await this.get(pk, rk);
    if (!cur) return false;
    if (etag !== undefined && etag !== cur.etag) throw new ConcurrencyError(`${this.name} ${pk}/${rk}`);
    const c = await this.getClient();
    const copy = { partitionKey: pk, rowKey: COPY_PREFIX + this.copyKey!(cur.value) };
    const one = async (key: string, on?: string) => {
      try {
        await c.deleteEntity(pk, key, on ? { etag: on } : undefined);
        return true;
      } catch (e) {
        const s = statusOf(e);
        if (s === 404) return false;
        if (s === 412) throw new ConcurrencyError(`${this.name} ${pk}/${rk}`);
        throw e;
      }
    };
    if (etag === undefined) {
      try {
        await c.submitTransaction([
          ['delete', { partitionKey: pk, rowKey: rk }],
          ['delete', copy],
        ]);
        return true;
      } catch (e) {
        if (statusOf(e) !== 404) throw e;
      }
      // One of the two was missing: each alone.
      const gone = await one(rk);
      await one(copy.rowKey);
      return gone;
    }
    let fenced: string;
    try {
      const r = await c.submitTransaction([
        ['update', { partitionKey: pk, rowKey: rk }, 'Merge', { etag }],
        ['delete', copy],
      ]);
      fenced = r.subResponses[0]?.etag ?? '';
    } catch (e) {
      const s = statusOf(e);
      if (s === 412) throw new ConcurrencyError(`${this.name} ${pk}/${rk}`);
      if (s !== 404) throw e;
      // The record is gone (false) or has no copy (the record alone, on the caller's ETag).
      return one(rk, etag);
    }
    return one(rk, fenced);
  }

  /**
   * Read-modify-write with ETag retries: `mutate` gets the current value and returns the new one
   * (or undefined to leave it). Returns the stored result, or undefined when the record is absent.
   */
  async update(pk: string, rk: string, mutate: (v: T) => T | undefined, attempts = 5): Promise<Stored<T> | undefined> {
    for (let i = 0; ; i++) {
      const cur = await this.get(pk, rk);
      if (!cur) return undefined;
      const next = mutate(structuredClone(cur.value));
      if (next === undefined) return cur;
      try {
        return await this.replace(pk, rk, next, cur.etag);
      } catch (e) {
        if (!(e instanceof ConcurrencyError) || i + 1 >= attempts) throw e;
      }
    }
  }

  /** All records of a partition matching an optional filter (use for small, bounded partitions). */
  async list(pk: string, filter?: string): Promise<Stored<T>[]> {
    const c = await this.getClient();
    const f = [odata`PartitionKey eq ${pk}`, ...[this.recordsOnly, filter].filter((x) => x).map((x) => `(${x})`)].join(' and ');
    const out: Stored<T>[] = [];
    for await (const e of c.listEntities<Record<string, unknown>>({ queryOptions: { filter: f } })) out.push(this.fromEntity(e));
    return out;
  }

  /** One page in RowKey order, filtered and limited in the table query itself. */
  async page(pk: string, opts: PageOptions): Promise<Stored<T>[]> {
    const c = await this.getClient();
    const parts = [odata`PartitionKey eq ${pk}`];
    if (opts.afterRowKey !== undefined) parts.push(odata`RowKey gt ${opts.afterRowKey}`);
    if (this.recordsOnly) parts.push(this.recordsOnly);
    if (opts.filter) parts.push(`(${opts.filter})`);
    const out: Stored<T>[] = [];
    const pages = c.listEntities<Record<string, unknown>>({ queryOptions: { filter: parts.join(' and ') } }).byPage({ maxPageSize: Math.min(opts.limit, 1000) });
    for await (const page of pages) {
      for (const e of page) {
        out.push(this.fromEntity(e));
        if (out.length >= opts.limit) return out;
      }
    }
    return out;
  }

  /**
   * One page of a partition's records in their copies' order (CopyKey), after the copy key `after`:
   * one range query, whole records. `rowKey` of each result is the record's copy key (the marker for
   * the next page), not the record's RowKey.
   */
  async copyPage(pk: string, opts: Omit<PageOptions, 'afterRowKey'> & { after?: string }): Promise<Stored<T>[]> {
    if (!this.copyKey) throw new Error(`${this.name} keeps no copies`);
    const c = await this.getClient();
    const parts = [odata`PartitionKey eq ${pk}`, odata`RowKey gt ${COPY_PREFIX + (opts.after ?? '')}`];
    if (opts.filter) parts.push(`(${opts.filter})`);
    const out: Stored<T>[] = [];
    if (opts.limit <= 0) return out;
    const pages = c.listEntities<Record<string, unknown>>({ queryOptions: { filter: parts.join(' and ') } }).byPage({ maxPageSize: Math.min(opts.limit, 1000) });
    for await (const page of pages) {
      for (const e of page) {
        const r = this.fromEntity(e);
        out.push({ ...r, rowKey: r.rowKey.slice(COPY_PREFIX.length) });
        if (out.length >= opts.limit) return out;
      }
    }
    return out;
  }

  /**
   * Removes the copy under `key` if its record is gone (an orphan: the record was deleted by a writer
   * that did not know the copies). Returns whether it did.
   */
  async dropOrphanCopy(pk: string, key: string): Promise<boolean> {
    const c = await this.getClient();
    let copy: TableEntityResult<Record<string, unknown>>;
    try {
      copy = await c.getEntity<Record<string, unknown>>(pk, COPY_PREFIX + key);
    } catch (e) {
      if (statusOf(e) === 404) return false;
      throw e;
    }
    if (typeof copy.copy_of !== 'string' || (await this.get(pk, copy.copy_of))) return false;
    try {
      await c.deleteEntity(pk, COPY_PREFIX + key, { etag: copy.etag });
      return true;
    } catch (e) {
      const s = statusOf(e);
      if (s === 404 || s === 412) return false;
      throw e;
    }
  }

  /** The copy keys of a partition's copies (the repair reads them beside the records). */
  async copyKeys(pk: string): Promise<string[]> {
    const rows = await this.columns([], { partition: pk, copies: true });
    return rows.map((r) => r.rowKey.slice(COPY_PREFIX.length));
  }

  /** Rows of every partition matching `filter`, in (PartitionKey, RowKey) order, at most `limit`. */
  async queryAll(filter: string, limit: number): Promise<Stored<T>[]> {
    if (this.recordsOnly) filter = `(${filter}) and ${this.recordsOnly}`;
    const c = await this.getClient();
    const out: Stored<T>[] = [];
    const pages = c.listEntities<Record<string, unknown>>({ queryOptions: { filter } }).byPage({ maxPageSize: Math.min(limit, 1000) });
    for await (const page of pages) {
      for (const e of page) {
        out.push(this.fromEntity(e));
        if (out.length >= limit) return out;
      }
    }
    return out;
  }

  /**
   * The keys and the `select`ed columns of every row of one partition (or, without `partition`, of the
   * whole table), without their documents: 1000 rows per request. For readers that need a few facts
   * about many records at once (the sweeps' owner lookups) instead of one GET per record.
   */
  async columns(select: readonly string[], opts: { partition?: string; filter?: string; copies?: boolean } = {}): Promise<ColumnRow[]> {
    const c = await this.getClient();
    const which = opts.copies ? odata`RowKey ge ${COPY_PREFIX}` : (this.recordsOnly ?? '');
    const parts = [opts.partition !== undefined ? odata`PartitionKey eq ${opts.partition}` : '', opts.filter ? `(${opts.filter})` : '', which].filter((x) => x);
    const queryOptions = { select: ['PartitionKey', 'RowKey', ...select], ...(parts.length ? { filter: parts.join(' and ') } : {}) };
    const out: ColumnRow[] = [];
    for await (const page of c.listEntities<Record<string, unknown>>({ queryOptions }).byPage({ maxPageSize: 1000 })) {
      for (const e of page) out.push(e as unknown as ColumnRow);
    }
    return out;
  }

  /** Rows of one partition whose RowKey starts with `prefix`. */
  async listPrefix(pk: string, prefix: string): Promise<Stored<T>[]> {
    const end = prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
    return this.list(pk, odata`RowKey ge ${prefix} and RowKey lt ${end}`);
  }
}

/**
 * The Table SDK's OData filter escaping (`odata\`PartitionKey eq ${pk}\``), loading the SDK on first
 * use rather than when the module is imported (cold start, issue 11).
 */
export function odata(strings: TemplateStringsArray, ...values: unknown[]): string {
  return tablesSdk().odata(strings, ...values);
}
