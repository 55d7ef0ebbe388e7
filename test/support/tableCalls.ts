// Counting the Table Storage calls the app makes: the tests that hold a listing or a sweep to a number
// of reads wrap the services' table clients while the code under test runs.
import type { Services } from '../../shared/services';

/** Runs `f`, counting the Table calls `services` makes meanwhile, as `<table> getEntity` / `<table> listEntities`. */
export async function countTableCalls<T>(services: Services, f: () => Promise<T>): Promise<{ value: T; counts: Map<string, number> }> {
  const counts = new Map<string, number>();
  const tables = services.tables;
  const orig = tables.client.bind(tables);
  tables.client = async (name: string) => {
    const c = await orig(name);
    return new Proxy(c, {
      get(target, prop, receiver) {
        const v = Reflect.get(target, prop, receiver);
        if (typeof v !== 'function') return v;
        return (...args: unknown[]) => {
          if (prop === 'getEntity' || prop === 'listEntities') counts.set(`${name} ${prop}`, (counts.get(`${name} ${prop}`) ?? 0) + 1);
          return (v as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
  };
  try {
    return { value: await f(), counts };
  } finally {
    delete (tables as { client?: unknown }).client;
  }
}

/** The calls of one kind (`getEntity`, `listEntities`) over every table. */
export function totalCalls(counts: Map<string, number>, op: 'getEntity' | 'listEntities'): number {
  let n = 0;
  for (const [k, c] of counts) if (k.endsWith(` ${op}`)) n += c;
  return n;
}
