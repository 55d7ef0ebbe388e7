// NCRONTAB schedules as the Functions timer trigger reads them (six fields, UTC), their next
// occurrences, the expressions refused, and the schedule settings' validation in the config.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { parseNcrontab, ScheduleError } from '../../shared/timers/ncrontab';
import { loadConfig, ConfigError } from '../../shared/config';

const next = (expr: string, after: string) => parseNcrontab(expr).next(new Date(after)).toISOString();

test('next occurrences of the documented NCRONTAB examples (UTC)', () => {
  // Azure Functions' timer trigger examples: every 5 minutes, at the top of every hour, every 2 hours,
  // 9-5 every hour on weekdays, 9:30 every weekday, at 9:30 on the 1st and the 15th of each month.
  assert.equal(next('0 */5 * * * *', '2026-03-10T10:02:33Z'), '2026-03-10T10:05:00.000Z');
  assert.equal(next('0 0 * * * *', '2026-03-10T10:02:33Z'), '2026-03-10T11:00:00.000Z');
  assert.equal(next('0 0 */2 * * *', '2026-03-10T11:00:00Z'), '2026-03-10T12:00:00.000Z');
  assert.equal(next('0 0 9-17 * * MON-FRI', '2026-03-13T17:30:00Z'), '2026-03-16T09:00:00.000Z'); // Friday evening -> Monday
  assert.equal(next('0 30 9 * * 1-5', '2026-03-14T08:00:00Z'), '2026-03-16T09:30:00.000Z');
  assert.equal(next('0 30 9 1,15 * *', '2026-03-02T00:00:00Z'), '2026-03-15T09:30:00.000Z');
  // Seconds are a field of their own; the default sweep schedule is every ten minutes on the minute.
  assert.equal(next('*/15 * * * * *', '2026-03-10T10:02:33.500Z'), '2026-03-10T10:02:45.000Z');
  assert.equal(next('0 */10 * * * *', '2026-12-31T23:55:00Z'), '2027-01-01T00:00:00.000Z');
  // Names and 7 for Sunday; a year boundary.
  assert.equal(next('0 0 0 * JAN SUN', '2026-12-31T12:00:00Z'), '2027-01-03T00:00:00.000Z');
  assert.equal(next('0 0 0 * * 7', '2026-03-10T00:00:00Z'), '2026-03-15T00:00:00.000Z');
  // Leap day: the next 29th of February after 2026 is in 2028.
  assert.equal(next('0 0 12 29 2 *', '2026-01-01T00:00:00Z'), '2028-02-29T12:00:00.000Z');
});

test('the next occurrence is strictly after the given time', () => {
  assert.equal(next('0 */10 * * * *', '2026-03-10T10:10:00.000Z'), '2026-03-10T10:20:00.000Z');
  const s = parseNcrontab('* * * * * *');
  assert.equal(s.next(new Date('2026-03-10T10:10:00.000Z')).toISOString(), '2026-03-10T10:10:01.000Z');
  assert.equal(s.next(new Date('2026-03-10T10:10:00.999Z')).toISOString(), '2026-03-10T10:10:01.000Z');
});

test('day and day-of-week both restricted must both match (NCrontab), not either (vixie cron)', () => {
  // Friday the 13th: 2026-02-13 and 2026-03-13 are Fridays; with OR semantics the 2nd of January (a
  // Friday) would come first.
  assert.equal(next('0 0 0 13 * FRI', '2026-01-01T00:00:00Z'), '2026-02-13T00:00:00.000Z');
  assert.equal(next('0 0 0 13 * FRI', '2026-02-13T00:00:00Z'), '2026-03-13T00:00:00.000Z');
  // Every second of those days: the days in between are skipped, not walked second by second.
  assert.equal(next('* * * 13 * FRI', '2026-02-14T00:00:00Z'), '2026-03-13T00:00:00.000Z');
  assert.equal(next('* * * 13 * FRI', '2026-03-13T10:00:00Z'), '2026-03-13T10:00:01.000Z');
  // Only one restricted: either field alone.
  assert.equal(next('0 0 0 * * FRI', '2026-01-01T00:00:00Z'), '2026-01-02T00:00:00.000Z');
  assert.equal(next('0 0 0 13 * *', '2026-01-01T00:00:00Z'), '2026-01-13T00:00:00.000Z');
});

test('expressions that are not six-field NCRONTAB are refused with the reason', () => {
  const refused: [string, RegExp][] = [
    ['*/5 * * * *', /must have 6 fields.*got 5/],
    ['0 0 0 * * * 2026', /must have 6 fields.*got 7/],
    ['@daily', /must have 6 fields/],
    ['', /must have 6 fields/],
    ['0 0 0 L * *', /day field item "L"/],
    ['0 0 0 ? * MON', /day field item "\?"/],
    ['0 0 0 * * 5#3', /day-of-week field item "5#3"/],
    ['0 0 0 15W * *', /day field item "15W"/],
    ['H * * * * *', /second field item "H"/],
    ['0 0 0 * * FOO', /day-of-week field item "FOO"/],
    ['0 0 0 * MON *', /month field item "MON"/],
    ['*/0 * * * * *', /second field item "\*\/0"/],
    ['60 * * * * *', /60/],
    ['0 0 24 * * *', /24/],
    ['0 0 0 30 2 *', /./], // never: the 30th of February
    ['0 0 0 31 2 MON', /never occurs/],
  ];
  for (const [expr, why] of refused) {
    assert.throws(
      () => parseNcrontab(expr),
      (e: unknown) => e instanceof ScheduleError && why.test((e as Error).message),
      `refused: "${expr}"`,
    );
  }
});

test('sweep settings: defaults, overrides, refusal of a bad schedule or dry-run value', () => {
  const base = { JACKET_PUBLIC_URL: 'http://x', JACKET_STORAGE_CONNECTION_STRING: 'UseDevelopmentStorage=true', JACKET_TOKEN_KEYS: randomBytes(32).toString('base64') };
  const d = loadConfig(base).timers;
  assert.deepEqual(d, {
    nicsSchedule: '0 */10 * * * *',
    disksSchedule: '0 5-59/10 * * * *',
    imagesSchedule: '0 */15 * * * *',
    blobsSchedule: '0 7-59/15 * * * *',
    dryRun: false,
    leaseSeconds: 300,
    vmsSchedule: '0 2-59/10 * * * *',
    reconcileSchedule: '30 */10 * * * *',
    reclaimSchedule: '0 * * * * *',
    staleTasksSchedule: '0 */5 * * * *',
    resizeConfirmSchedule: '20 * * * * *',
    hypervisorsSchedule: '40 */5 * * * *',
  });
  // the periodic tasks' settings (docs/reconciliation.md): Nova's defaults, 0 = off
  assert.deepEqual(loadConfig(base).periodic, { reclaimInstanceInterval: 0, resizeConfirmWindow: 0, staleTaskSeconds: 1800, missingVm: 'error' });
  assert.equal(loadConfig({ ...base, JACKET_RECLAIM_INSTANCE_INTERVAL: '600' }).periodic.reclaimInstanceInterval, 600);
  assert.throws(() => loadConfig({ ...base, JACKET_RECLAIM_INSTANCE_INTERVAL: '-1' }), /JACKET_RECLAIM_INSTANCE_INTERVAL must be a non-negative integer/);
  assert.throws(() => loadConfig({ ...base, JACKET_MISSING_VM: 'ignore' }), /JACKET_MISSING_VM must be error or delete/);
  assert.throws(() => loadConfig({ ...base, JACKET_RECONCILE_SCHEDULE: '* * *' }), /JACKET_RECONCILE_SCHEDULE/);
  const o = loadConfig({ ...base, JACKET_SWEEP_NICS_SCHEDULE: ' 30 * * * * * ', JACKET_SWEEP_DRY_RUN: 'TRUE', JACKET_SWEEP_LEASE_SECONDS: '60' }).timers;
  assert.equal(o.nicsSchedule, '30 * * * * *');
  assert.equal(o.dryRun, true);
  assert.equal(o.leaseSeconds, 60);
  assert.throws(
    () => loadConfig({ ...base, JACKET_SWEEP_DISKS_SCHEDULE: '*/10 * * * *' }),
    (e: unknown) => e instanceof ConfigError && /JACKET_SWEEP_DISKS_SCHEDULE.*6 fields/.test((e as Error).message),
  );
  assert.throws(() => loadConfig({ ...base, JACKET_SWEEP_DRY_RUN: 'yes' }), /JACKET_SWEEP_DRY_RUN must be true or false/);
});

test('functions/timers.ts registers one timer function per sweep on its %SETTING% schedule', async () => {
  // A stand-in for the host's '@azure/functions-core' (the real one exists only inside the Functions host).
  const Module = (await import('node:module')).default as unknown as { _resolveFilename: (r: string, ...rest: unknown[]) => string; _cache: Record<string, unknown> };
  const registered: { name: string; trigger: { type: string; schedule?: string }; handler: unknown }[] = [];
  const core = {
    setProgrammingModel: () => undefined,
    registerFunction: (m: { name: string; bindings: Record<string, { type: string; schedule?: string }> }, handler: unknown) => {
      registered.push({ name: m.name, trigger: Object.values(m.bindings).find((b) => /Trigger$/.test(b.type))!, handler });
      return { dispose: () => undefined };
    },
    registerHook: () => ({ dispose: () => undefined }),
    log: () => undefined,
  };
  const original = Module._resolveFilename;
  Module._resolveFilename = function (request: string, ...rest: unknown[]) {
    return request === '@azure/functions-core' ? request : original.call(this, request, ...rest);
  };
  Module._cache['@azure/functions-core'] = { id: '@azure/functions-core', filename: '@azure/functions-core', loaded: true, exports: core };
  try {
    await import('../../functions/timers');
  } finally {
    Module._resolveFilename = original;
    delete Module._cache['@azure/functions-core'];
  }
  const timers = registered.filter((r) => r.trigger.type === 'timerTrigger').map((r) => [r.name, r.trigger.schedule]);
  assert.deepEqual(timers, [
    ['sweep-nics', '%JACKET_SWEEP_NICS_SCHEDULE%'],
    ['sweep-disks', '%JACKET_SWEEP_DISKS_SCHEDULE%'],
    ['sweep-images', '%JACKET_SWEEP_IMAGES_SCHEDULE%'],
    ['sweep-blobs', '%JACKET_SWEEP_BLOBS_SCHEDULE%'],
    ['sweep-vms', '%JACKET_SWEEP_VMS_SCHEDULE%'],
    ['reconcile-servers', '%JACKET_RECONCILE_SCHEDULE%'],
    ['reclaim-servers', '%JACKET_RECLAIM_SCHEDULE%'],
    ['stale-tasks', '%JACKET_STALE_TASKS_SCHEDULE%'],
    ['stale-work', '%JACKET_STALE_TASKS_SCHEDULE%'],
    ['resize-confirm', '%JACKET_RESIZE_CONFIRM_SCHEDULE%'],
    ['update-hypervisors', '%JACKET_HYPERVISORS_SCHEDULE%'],
  ]);
  assert.ok(registered.every((r) => typeof r.handler === 'function'));
});
