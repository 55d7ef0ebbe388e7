// Nova's admin APIs of issue 12 end to end on the ARM emulator stack: os-instance_usage_audit_log (no
// audit task runs on Jacket: Nova's answer from an empty task log, the compute host not run). Bodies are
// checked against Nova's response schemas; members get 403.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startArmStack, type ArmStack } from '../support/armStack';
import { oneUser } from '../support/fixtures';
import { assertNovaResponse } from '../support/oracle';
import { reportState } from '../../shared/servicegroup/registry';

let arm: ArmStack;
let tAlice: string, tAdmin: string;
let host: string;
const nova = (method: string, path: string, opts: { token?: string; body?: unknown; mv?: string } = {}) =>
  arm.stack.http(method, `/compute/v2.1${path}`, { token: opts.token ?? tAdmin, body: opts.body, headers: opts.mv ? { 'OpenStack-API-Version': `compute ${opts.mv}` } : {} });

before(async () => {
  arm = await startArmStack();
  host = `azure-${arm.emu.location}`;
  ({ token: tAlice, tAdmin } = await oneUser(arm.stack, 'cadm-a', 'alice'));
  // nova-compute registers with its first heartbeat (the worker's).
  await reportState(arm.stack.cloud.services, 'worker', new Date(), true);
});
after(() => arm?.stop());

/** Upstream's response schema types hosts_not_run as UUIDs (its functional tests name hosts by UUID); Nova fills it with host names. */
const withoutHostNames = (b: any, key: string) => ({ [key]: { ...b[key], hosts_not_run: [] } });

test('os-instance_usage_audit_log: no audit task, every compute host not run, last completed month; show by timestamp; 400; members 403', async () => {
  const r = await nova('GET', '/os-instance_usage_audit_log');
  assert.equal(r.status, 200, r.text);
  assertNovaResponse('instance_usage_audit_log', 'InstanceUsageAuditLogController', 'index', '2.1', withoutHostNames(r.body, 'instance_usage_audit_logs'));
  const now = new Date();
  const first = (y: number, m: number) => new Date(Date.UTC(y, m, 1)).toISOString().slice(0, 10) + ' 00:00:00';
  assert.deepEqual(r.body.instance_usage_audit_logs, {
    period_beginning: first(now.getUTCFullYear(), now.getUTCMonth() - 1),
    period_ending: first(now.getUTCFullYear(), now.getUTCMonth()),
    num_hosts: 1,
    num_hosts_done: 0,
    num_hosts_running: 0,
    num_hosts_not_run: 1,
    hosts_not_run: [host],
    total_instances: 0,
    total_errors: 0,
    overall_status: '0 of 1 hosts done. 0 errors.',
    log: {},
  });

  // The period completed before the given time; the 1st itself belongs to the month before.
  for (const [id, begin, end] of [
    ['2012-07-05 10:00:00', '2012-06-01 00:00:00', '2012-07-01 00:00:00'],
    ['2012-07-01 00:00:00', '2012-05-01 00:00:00', '2012-06-01 00:00:00'],
    ['2012-01-15 08:30:00.5', '2011-12-01 00:00:00', '2012-01-01 00:00:00'],
  ]) {
    const s = await nova('GET', `/os-instance_usage_audit_log/${encodeURIComponent(id)}`);
    assert.equal(s.status, 200, s.text);
    assertNovaResponse('instance_usage_audit_log', 'InstanceUsageAuditLogController', 'show', '2.1', withoutHostNames(s.body, 'instance_usage_audit_log'));
    assert.equal(s.body.instance_usage_audit_log.period_beginning, begin, id);
    assert.equal(s.body.instance_usage_audit_log.period_ending, end, id);
    assert.deepEqual(s.body.instance_usage_audit_log.hosts_not_run, [host]);
  }

  for (const bad of ['2012-07-05', '2012-13-01 00:00:00', '2012-02-30 00:00:00', '2012-07-05T10:00:00', '2012-07-05 10:00:00.']) {
    const b = await nova('GET', `/os-instance_usage_audit_log/${encodeURIComponent(bad)}`);
    assert.equal(b.status, 400, bad);
    assert.equal(b.body.badRequest.message, `Invalid timestamp for date ${bad}`);
  }

  for (const path of ['/os-instance_usage_audit_log', '/os-instance_usage_audit_log/2012-07-05%2010:00:00']) {
    const f = await nova('GET', path, { token: tAlice });
    assert.equal(f.status, 403, path);
  }
});
