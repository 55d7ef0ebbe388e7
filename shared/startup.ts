// Work a process does once before serving: the identity bootstrap (idempotent).
import type { Services } from './services';
import { bootstrap } from './identity/bootstrap';

const done = new WeakMap<Services, Promise<unknown>>();

export function bootstrapOnce(s: Services): Promise<unknown> {
  let p = done.get(s);
  if (!p) {
    p = bootstrap(s).catch((e) => {
      done.delete(s);
      throw e;
    });
    done.set(s, p);
  }
  return p;
}
