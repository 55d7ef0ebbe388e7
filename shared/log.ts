// Structured logs: one JSON object a line, so Application Insights (or any log sink) can query fields.
// Secrets never reach here: callers pass ids, never passwords, keys or tokens.
import { AsyncLocalStorage } from 'node:async_hooks';

type Fields = Record<string, unknown>;

let sink: (line: string) => void = (line) => process.stdout.write(line + '\n');
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';
let level: LogLevel = (process.env.JACKET_LOG_LEVEL as never) || 'info';
/** The level the app is configured with, before any set-log (shared/servicegroup/registry.ts) changes it. */
const configured = level;
const ORDER = { debug: 0, info: 1, warn: 2, error: 3, silent: 4 } as const;

/**
 * The part of the app a log line comes from ('api': the HTTP functions, 'worker': the queue worker and
 * timers), entered where each starts, and the level set for it (Cinder's set-log, 3.32: one Functions
 * process runs both, and each logs at its services' level). A scope with no level uses `level`.
 */
const scope = new AsyncLocalStorage<string>();
const scopeLevels = new Map<string, LogLevel>();
const current = (): LogLevel => {
  const sc = scope.getStore();
  return (sc !== undefined && scopeLevels.get(sc)) || level;
};

/** Observers of every log event whatever the level (shared/metrics.ts derives metrics from them). */
type Hook = (lvl: 'debug' | 'info' | 'warn' | 'error', msg: string, fields: Fields) => void;
const hooks: Hook[] = [];

function emit(lvl: 'debug' | 'info' | 'warn' | 'error', msg: string, fields?: Fields) {
  for (const h of hooks) {
    try {
      h(lvl, msg, fields ?? {});
    } catch {
      // a metrics hook must never break the caller
    }
  }
  if (ORDER[lvl] < ORDER[current()]) return;
  sink(JSON.stringify({ t: new Date().toISOString(), level: lvl, msg, ...fields }));
}

export const log = {
  debug: (m: string, f?: Fields) => emit('debug', m, f),
  info: (m: string, f?: Fields) => emit('info', m, f),
  warn: (m: string, f?: Fields) => emit('warn', m, f),
  error: (m: string, f?: Fields) => emit('error', m, f),
  setLevel(l: LogLevel) {
    level = l;
  },
  configuredLevel: (): LogLevel => configured,
  /** The level of a scope's lines from now on, in every async continuation of this process. */
  setScopeLevel(sc: string, l: LogLevel) {
    scopeLevels.set(sc, l);
  },
  /** Marks the rest of the current async flow as the scope's (AsyncLocalStorage.enterWith). */
  enterScope(sc: string) {
    scope.enterWith(sc);
  },
  setSink(s: (line: string) => void) {
    sink = s;
  },
  /** A metric line (msg "metric"): written unless logging is silent, and never seen by the hooks. */
  metric(fields: Fields) {
    if (level === 'silent') return;
    sink(JSON.stringify({ t: new Date().toISOString(), level: 'info', msg: 'metric', ...fields }));
  },
  addHook(h: Hook) {
    hooks.push(h);
  },
};
