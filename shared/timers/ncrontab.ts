// NCRONTAB schedules as the Azure Functions timer trigger reads them: six fields, "second minute hour
// day month day-of-week", in UTC. Next occurrences come from cron-parser (a maintained library); this
// module holds it to NCRONTAB's grammar — numbers, month and day names, '*', lists, ranges and steps;
// none of cron-parser's extensions (L, W, #, H, ?, @daily) — and to NCrontab's day rule: when both the
// day and the day-of-week fields are restricted, a time must match both (vixie cron matches either).
import type { CronExpression } from 'cron-parser';

/**
 * cron-parser (with luxon, ~20 modules) loads on the first schedule parsed — when the config is read —
 * not when an entry point that imports the config is loaded (cold start, issue 11).
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const cron = () => (require('cron-parser') as typeof import('cron-parser')).CronExpressionParser;

export class ScheduleError extends Error {}

export interface Schedule {
  readonly expression: string;
  /** The first occurrence strictly after `after`. */
  next(after: Date): Date;
}

const NAMES: Record<number, readonly string[]> = {
  4: ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'],
  5: ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'],
};
const FIELD = ['second', 'minute', 'hour', 'day', 'month', 'day-of-week'];

function checkItem(item: string, index: number, expr: string): void {
  const m = /^(\*|[0-9A-Za-z]+(?:-[0-9A-Za-z]+)?)(?:\/(\d+))?$/.exec(item);
  const bad = () => new ScheduleError(`"${expr}": ${FIELD[index]} field item "${item}" is not NCRONTAB (numbers, names, *, ranges a-b, steps /n, lists)`);
  if (!m) throw bad();
  if (m[2] !== undefined && Number(m[2]) === 0) throw bad();
  if (m[1] === '*') return;
  for (const atom of m[1].split('-')) {
    if (/^\d+$/.test(atom)) continue;
    if (!NAMES[index]?.includes(atom.toUpperCase())) throw bad();
  }
}

const restricted = (raw: string) => raw !== '*';

/** Parses a six-field NCRONTAB expression; ScheduleError when it is not one. */
export function parseNcrontab(expression: string): Schedule {
  const expr = expression.trim();
  const fields = expr.split(/\s+/);
  if (fields.length !== 6) throw new ScheduleError(`"${expression}" must have 6 fields (second minute hour day month day-of-week), got ${fields.length}`);
  fields.forEach((f, i) => f.split(',').forEach((item) => checkItem(item, i, expr)));
  let probe: CronExpression;
  try {
    probe = cron().parse(expr, { tz: 'UTC', currentDate: new Date(0) });
  } catch (e) {
    throw new ScheduleError(`"${expression}": ${(e as Error).message}`);
  }
  const both = restricted(fields[3]) && restricted(fields[5]);
  const days = new Set<number>(probe.fields.dayOfMonth.values as number[]);
  const weekdays = new Set<number>((probe.fields.dayOfWeek.values as number[]).map((d) => d % 7));
  const schedule: Schedule = {
    expression: expr,
    next(after: Date): Date {
      let from = after;
      // cron-parser yields the union of the two day fields; a day matching only one is skipped whole.
      // Twenty-eight years repeat the calendar, so this many days find any combination that can match.
      for (let i = 0; i < 28 * 366; i++) {
        const d = cron().parse(expr, { tz: 'UTC', currentDate: from }).next().toDate();
        if (!both || (days.has(d.getUTCDate()) && weekdays.has(d.getUTCDay()))) return d;
        from = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1) - 1);
      }
      throw new ScheduleError(`"${expr}" never occurs`);
    },
  };
  // Under NCrontab's rule some day combinations never happen (the 31st on a Monday in February): refuse now.
  if (both) schedule.next(new Date(0));
  return schedule;
}
