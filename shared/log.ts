// Structured logs: one JSON object a line, so Application Insights (or any log sink) can query fields.
// Secrets never reach here: callers pass ids, never passwords, keys or tokens.
type Fields = Record<string, unknown>;

let sink: (line: string) => void = (line) => process.stdout.write(line + '\n');
let level: 'debug' | 'info' | 'warn' | 'error' | 'silent' = (process.env.JACKET_LOG_LEVEL as never) || 'info';
const ORDER = { debug: 0, info: 1, warn: 2, error: 3, silent: 4 } as const;

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
  if (ORDER[lvl] < ORDER[level]) return;
  sink(JSON.stringify({ t: new Date().toISOString(), level: lvl, msg, ...fields }));
}

export const log = {
  debug: (m: string, f?: Fields) => emit('debug', m, f),
  info: (m: string, f?: Fields) => emit('info', m, f),
  warn: (m: string, f?: Fields) => emit('warn', m, f),
  error: (m: string, f?: Fields) => emit('error', m, f),
  setLevel(l: typeof level) {
    level = l;
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
