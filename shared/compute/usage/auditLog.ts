// /os-instance_usage_audit_log (admin; nova/api/openstack/compute/instance_usage_audit_log.py): the report
// of Nova's periodic instance-usage audit task (compute's _instance_usage_audit, which writes one
// task_log row per host and period when instance_usage_audit is on). Jacket runs no such task (usage
// notifications are not emitted), so its task log is always empty and the answer is the one Nova gives
// from an empty task_log: every compute-topic host (disabled ones too, as Nova counts them) listed as not
// run, no log entries, "0 of N hosts done. 0 errors.". The period is Nova's default audit period, the
// last completed month (instance_usage_audit_period = month). docs/services.md.
import type { RequestContext, Route } from '../../http/router';
import { json } from '../../http/respond';
import { badRequest } from '../../http/errors';
import { computeRoute } from '../common';
import { listServices } from '../../servicegroup/registry';

/** Nova's utils.last_completed_audit_period for unit 'month' (offset 0 → day 1), in UTC. */
export function lastCompletedMonth(before: Date): { begin: Date; end: Date } {
  const y = before.getUTCFullYear();
  const m = before.getUTCMonth();
  let end = new Date(Date.UTC(y, m, 1));
  // The period ending at `before` itself is not yet completed (Nova: `if end >= rightnow`).
  if (end.getTime() >= before.getTime()) end = new Date(Date.UTC(y, m - 1, 1));
  const begin = new Date(Date.UTC(end.getUTCFullYear(), end.getUTCMonth() - 1, 1));
  return { begin, end };
}

/** Python's str(datetime) of a naive UTC time: "2012-06-01 00:00:00" (microseconds only when set). */
export function pyDatetime(d: Date): string {
  const iso = d.toISOString();
  const ms = d.getUTCMilliseconds();
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}${ms ? `.${String(ms * 1000).padStart(6, '0')}` : ''}`;
}

/**
 * The {before_timestamp} of show, as Nova's strptime reads it: "%Y-%m-%d %H:%M:%S", or with ".%f" when
 * the id holds a dot (strptime takes 1-2 digit fields and 1-6 fraction digits; the date must exist).
 * Anything else: Nova's 400.
 */
export function parseBeforeTimestamp(id: string): Date {
  const invalid = () => badRequest(`Invalid timestamp for date ${id}`);
  const dotted = id.includes('.');
  const m = /^(\d{4})-(\d{1,2})-(\d{1,2}) (\d{1,2}):(\d{1,2}):(\d{1,2})(?:\.(\d{1,6}))?$/.exec(id);
  if (!m || dotted !== (m[7] !== undefined)) throw invalid();
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number);
  const frac = m[7] === undefined ? 0 : Number(m[7].padEnd(6, '0'));
  if (y < 1 || mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || s > 59) throw invalid();
  const t = new Date(Date.UTC(y, mo - 1, d, h, mi, s, Math.floor(frac / 1000)));
  t.setUTCFullYear(y); // years below 100 are not 19xx
  if (t.getUTCDate() !== d) throw invalid(); // e.g. 2012-02-30
  return t;
}

async function auditReport(ctx: RequestContext, before: Date) {
  const { begin, end } = lastCompletedMonth(before);
  const hosts = [...new Set((await listServices(ctx.services, 'compute')).filter((v) => v.topic === 'compute').map((v) => v.host))];
  // No task_log rows: nothing done, running or logged; every host not run.
  return {
    period_beginning: pyDatetime(begin),
    period_ending: pyDatetime(end),
    num_hosts: hosts.length,
    num_hosts_done: 0,
    num_hosts_running: 0,
    num_hosts_not_run: hosts.length,
    hosts_not_run: hosts,
    total_instances: 0,
    total_errors: 0,
    overall_status: `${hosts.length === 0 ? 'ALL' : `0 of ${hosts.length}`} hosts done. 0 errors.`,
    log: {},
  };
}

async function index(ctx: RequestContext) {
  return json({ instance_usage_audit_logs: await auditReport(ctx, new Date()) });
}

async function show(ctx: RequestContext) {
  const before = parseBeforeTimestamp(ctx.params.before_timestamp);
  return json({ instance_usage_audit_log: await auditReport(ctx, before) });
}

export const instanceUsageAuditLogRoutes: Route[] = [
  computeRoute('instance-usage-audit-log-list', 'GET', '/os-instance_usage_audit_log', 'os_compute_api:os-instance-usage-audit-log:list', index),
  computeRoute('instance-usage-audit-log-show', 'GET', '/os-instance_usage_audit_log/{before_timestamp}', 'os_compute_api:os-instance-usage-audit-log:show', show),
];
