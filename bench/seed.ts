// Seeding N records the way a bulk import would: straight into the tables, in batch transactions. Each
// seeded record is a copy of a real one that the bench made through the public API, so every shape is
// the app's own (whatever tables the app keeps for it today: the record, its index rows, its usage
// rows): every row in the app's tables whose PartitionKey or RowKey names the original's id is copied
// with that id replaced by a fresh one (and any key the app derives from the id, such as the servers'
// orderKey, which the caller names with `derive` using the app's own key function). The ARM emulator's resources named after the id (the VM, its
// NIC and disks, a volume's disk) are copied in the emulator's in-process store the same way, so the
// timers find an Azure that agrees with the records.
import { randomUUID } from 'node:crypto';
import type { TableEntity, TransactionAction } from '@azure/data-tables';
import type { BenchStack } from './stack';

/** Tables that hold bookkeeping, not the resource: a copy there would be a second live action etc. */
const NOT_COPIED = ['workledger', 'staletasks', 'timerleases', 'sweepcandidates', 'revocations'];

type Row = TableEntity<Record<string, unknown>>;

export interface Template {
  id: string;
  /** Keys the app derives from an id besides the id itself (e.g. a sort key). */
  derive: (id: string) => string[];
  rows: Array<{ table: string; entity: Row }>;
  /** Emulator resources (type, JSON) named after the id. */
  armResources: Array<{ type: string; resource: unknown }>;
}

function replaceDeep(v: unknown, re: RegExp, to: string): unknown {
  if (typeof v === 'string') return v.replace(re, to);
  if (Array.isArray(v)) return v.map((x) => replaceDeep(x, re, to));
  if (v instanceof Date) return new Date(v.getTime());
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, replaceDeep(x, re, to)]));
  return v;
}

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Everything that makes up the resource `id` in the tables and in the emulator, to copy later. */
export async function captureTemplate(b: BenchStack, id: string, derive: (id: string) => string[] = () => []): Promise<Template> {
  const rows: Template['rows'] = [];
  const svc = b.tableService();
  const tokens = [id, ...derive(id)].map((t) => t.toLowerCase());
  const has = (s: unknown) => typeof s === 'string' && tokens.some((t) => s.toLowerCase().includes(t));
  for await (const t of svc.listTables()) {
    const full = t.name!;
    if (!full.startsWith(b.tablePrefix)) continue;
    const name = full.slice(b.tablePrefix.length);
    if (NOT_COPIED.includes(name)) continue;
    for await (const e of b.rawTable(name).listEntities<Record<string, unknown>>()) {
      if (!has(e.partitionKey) && !has(e.rowKey)) continue;
      const entity: Row = { partitionKey: e.partitionKey!, rowKey: e.rowKey! };
      for (const [k, v] of Object.entries(e)) if (k !== 'etag' && k !== 'timestamp' && !k.startsWith('odata')) entity[k] = v;
      rows.push({ table: name, entity });
    }
  }
  const armResources: Template['armResources'] = [];
  const store = b.emu.emulator.store as unknown as { tables: Map<string, Map<string, { id: string }>> };
  for (const [type, table] of store.tables) {
    for (const r of table.values()) if (has(r.id.split('/').pop())) armResources.push({ type, resource: JSON.parse(JSON.stringify(r)) });
  }
  if (rows.length === 0) throw new Error(`no table rows name ${id}: nothing to copy`);
  return { id, derive, rows, armResources };
}

/**
 * Adds `count` copies of the template (fresh ids), in batches of 100 rows per partition; `withArm`
 * copies the emulator's resources too. Returns the new ids.
 */
export async function seedCopies(b: BenchStack, t: Template, count: number, withArm: boolean): Promise<string[]> {
  const ids: string[] = [];
  const byPartition = new Map<string, { table: string; pk: string; actions: TransactionAction[] }>();
  const from = t.derive(t.id);
  for (let i = 0; i < count; i++) {
    const nid = randomUUID();
    ids.push(nid);
    // Derived keys first (they may contain the id in another form), then the id itself.
    const swaps = [...from.map((f, k) => [new RegExp(esc(f), 'gi'), t.derive(nid)[k]] as const), [new RegExp(esc(t.id), 'gi'), nid] as const];
    const swap = (v: unknown) => swaps.reduce((acc, [re, to]) => replaceDeep(acc, re, to), v);
    for (const { table, entity } of t.rows) {
      const e = swap(entity) as Row;
      const key = `${table}\u0000${e.partitionKey}`;
      let p = byPartition.get(key);
      if (!p) byPartition.set(key, (p = { table, pk: e.partitionKey, actions: [] }));
      p.actions.push(['create', e]);
    }
    if (withArm) {
      for (const { type, resource } of t.armResources) {
        const r = swap(resource) as { id: string; name: string; resourceGroup: string };
        b.emu.emulator.store.put(type, r);
      }
    }
  }
  const batches: Array<{ table: string; actions: TransactionAction[] }> = [];
  for (const p of byPartition.values()) for (let i = 0; i < p.actions.length; i += 100) batches.push({ table: p.table, actions: p.actions.slice(i, i + 100) });
  let next = 0;
  const worker = async () => {
    while (next < batches.length) {
      const batch = batches[next++];
      await b.rawTable(batch.table).submitTransaction(batch.actions);
    }
  };
  await Promise.all(Array.from({ length: 4 }, worker));
  return ids;
}
