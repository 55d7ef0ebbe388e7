// Azure Table Storage access. Each record is one entity: the JSON document in `doc`, plus a few scalar
// columns copied from it so that list filters run in the table query. Every state change is
// conditional on the ETag read with it (optimistic concurrency); a lost race surfaces as ConcurrencyError.
import type { TableClient, TableEntityResult } from '@azure/data-tables';
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

  repository<T extends object>(name: string, indexed: readonly (keyof T & string)[] = [], derived?: Derived<T>): Repository<T> {
    return new Repository<T>(() => this.client(name), name, indexed, derived);
  }
}

type Entity = Record<string, unknown> & { partitionKey: string; rowKey: string; doc: string };

/**
 * Extra scalar columns computed from the record on every write (beside the indexed copies), so that a
 * reader can `select` just them instead of the whole `doc` (Repository.columns). Rows written before a
 * column existed lack it: readers must treat a missing column as unknown.
 */
export type Derived<T> = (value: T) => Record<string, string | number | boolean | undefined>;

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
  ) {}

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
    const r = await c.upsertEntity(this.toEntity(pk, rk, value), 'Replace');
    return { partitionKey: pk, rowKey: rk, value, etag: r.etag ?? '' };
  }

  /** Delete; with an etag, only if unchanged. Returns false when it was already gone. */
  async delete(pk: string, rk: string, etag?: string): Promise<boolean> {
    if (!isValidKey(pk) || !isValidKey(rk)) return false;
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
    const f = odata`PartitionKey eq ${pk}` + (filter ? ` and (${filter})` : '');
    const out: Stored<T>[] = [];
    for await (const e of c.listEntities<Record<string, unknown>>({ queryOptions: { filter: f } })) out.push(this.fromEntity(e));
    return out;
  }

  /** One page in RowKey order, filtered and limited in the table query itself. */
  async page(pk: string, opts: PageOptions): Promise<Stored<T>[]> {
    const c = await this.getClient();
    const parts = [odata`PartitionKey eq ${pk}`];
    if (opts.afterRowKey !== undefined) parts.push(odata`RowKey gt ${opts.afterRowKey}`);
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

  /** Rows of every partition matching `filter`, in (PartitionKey, RowKey) order, at most `limit`. */
  async queryAll(filter: string, limit: number): Promise<Stored<T>[]> {
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
  async columns(select: readonly string[], opts: { partition?: string; filter?: string } = {}): Promise<ColumnRow[]> {
    const c = await this.getClient();
    const parts = [opts.partition !== undefined ? odata`PartitionKey eq ${opts.partition}` : '', opts.filter ? `(${opts.filter})` : ''].filter((x) => x);
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
