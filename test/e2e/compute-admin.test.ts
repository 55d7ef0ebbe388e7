// Nova's admin APIs of issue 12 end to end on the ARM emulator stack: os-aggregates through HTTP and the
// real `openstack aggregate` CLI (and `openstack hypervisor show`, which reads them), with Nova's errors
// and Jacket's zone rule (the compute host joins no aggregate that has an availability zone);
// os-server-external-events (per-event codes, 207; nothing to do on Azure); os-instance_usage_audit_log (no audit task runs on Jacket: Nova's answer from an empty task log, the
// compute host not run). Bodies are checked against Nova's response schemas; members get 403.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startArmStack, waitFor, type ArmStack } from '../support/armStack';
import { imageId, networkId, oneUser } from '../support/fixtures';
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

const C = 'AggregateController';

test('os-aggregates over HTTP: create, list, show, update, set_metadata, add/remove host, delete; Nova errors; nothing changed by refusals', async () => {
  const c = await nova('POST', '/os-aggregates', { body: { aggregate: { name: 'agg-http', availability_zone: 'london' } } });
  assert.equal(c.status, 200, c.text);
  assertNovaResponse('aggregates', C, 'create', '2.1', c.body);
  const id = c.body.aggregate.id as number;
  assert.equal(typeof id, 'number');
  assert.equal(c.body.aggregate.availability_zone, 'london');
  assert.equal(c.body.aggregate.uuid, undefined, 'uuid only from 2.41');

  // Name uniqueness (409), bad bodies (400), bad ids (400), unknown ids (404).
  assert.equal((await nova('POST', '/os-aggregates', { body: { aggregate: { name: 'agg-http' } } })).status, 409);
  assert.equal((await nova('POST', '/os-aggregates', { body: { aggregate: { name: 'x', availability_zone: 'a:b' } } })).status, 400);
  assert.equal((await nova('POST', '/os-aggregates', { body: { aggregate: {} } })).status, 400);
  const badId = await nova('GET', '/os-aggregates/abc');
  assert.equal(badId.status, 400);
  assert.equal(badId.body.badRequest.message, 'Invalid input received: id must be an integer');
  const none = await nova('GET', '/os-aggregates/999999');
  assert.equal(none.status, 404);
  assert.equal(none.body.itemNotFound.message, 'Aggregate 999999 could not be found.');

  const sh = await nova('GET', `/os-aggregates/${id}`);
  assert.equal(sh.status, 200);
  assertNovaResponse('aggregates', C, 'show', '2.1', sh.body);
  assert.deepEqual(sh.body.aggregate.metadata, { availability_zone: 'london' });
  assert.deepEqual(sh.body.aggregate.hosts, []);

  // The compute host cannot join an aggregate with a zone (Jacket's zones are Azure's): Nova's 409.
  const az = await nova('POST', `/os-aggregates/${id}/action`, { body: { add_host: { host } } });
  assert.equal(az.status, 409, az.text);
  assert.match(az.body.conflictingRequest.message, new RegExp(`^Cannot add host to aggregate ${id}\\. Reason: The availability zone london cannot be given to the compute host`));
  const unknownHost = await nova('POST', `/os-aggregates/${id}/action`, { body: { add_host: { host: 'nohost' } } });
  assert.equal(unknownHost.status, 404);
  assert.equal(unknownHost.body.itemNotFound.message, 'Compute host nohost could not be found.');

  // A zoneless aggregate takes the host; twice is 409; then its zone cannot be set (400) and it cannot be deleted (400).
  const z = (await nova('POST', '/os-aggregates', { body: { aggregate: { name: 'agg-plain' } } })).body.aggregate;
  assert.equal(z.availability_zone, null);
  const add = await nova('POST', `/os-aggregates/${z.id}/action`, { body: { add_host: { host } } });
  assert.equal(add.status, 200, add.text);
  assertNovaResponse('aggregates', C, '_add_host', '2.1', add.body);
  assert.deepEqual(add.body.aggregate.hosts, [host]);
  const again = await nova('POST', `/os-aggregates/${z.id}/action`, { body: { add_host: { host } } });
  assert.equal(again.status, 409);
  assert.equal(again.body.conflictingRequest.message, `Aggregate ${z.id} already has host ${host}.`);
  const setZone = await nova('PUT', `/os-aggregates/${z.id}`, { body: { aggregate: { name: 'agg-renamed', availability_zone: 'paris' } } });
  assert.equal(setZone.status, 400, setZone.text);
  assert.match(setZone.body.badRequest.message, new RegExp(`^Cannot update aggregate ${z.id}\\. Reason: `));
  const metaZone = await nova('POST', `/os-aggregates/${z.id}/action`, { body: { set_metadata: { metadata: { availability_zone: 'paris' } } } });
  assert.equal(metaZone.status, 400);
  assert.match(metaZone.body.badRequest.message, new RegExp(`^Cannot update metadata of aggregate ${z.id}\\. Reason: `));
  const del = await nova('DELETE', `/os-aggregates/${z.id}`);
  assert.equal(del.status, 400);
  assert.equal(del.body.badRequest.message, `Cannot remove host from aggregate ${z.id}. Reason: Host aggregate is not empty.`);
  const unchanged = (await nova('GET', `/os-aggregates/${z.id}`)).body.aggregate;
  assert.equal(unchanged.name, 'agg-plain');
  assert.deepEqual(unchanged.metadata, {});

  // Rename: the old name is free again, the new one taken; empty zone refused.
  const ren = await nova('PUT', `/os-aggregates/${z.id}`, { body: { aggregate: { name: ' agg-renamed ' } } });
  assert.equal(ren.status, 200, ren.text);
  assertNovaResponse('aggregates', C, 'update', '2.1', ren.body);
  assert.equal(ren.body.aggregate.name, 'agg-renamed');
  assert.ok(ren.body.aggregate.updated_at);
  assert.equal((await nova('PUT', `/os-aggregates/${id}`, { body: { aggregate: { name: 'agg-renamed' } } })).status, 409);
  const nullZone = await nova('PUT', `/os-aggregates/${id}`, { body: { aggregate: { availability_zone: null } } });
  assert.equal(nullZone.status, 400);
  assert.equal(nullZone.body.badRequest.message, `Cannot update aggregate ${id}. Reason: Aggregate agg-http does not support empty named availability zone.`);

  // set_metadata merges; null deletes.
  const m1 = await nova('POST', `/os-aggregates/${z.id}/action`, { body: { set_metadata: { metadata: { ssd: 'true', gpu: 'no' } } } });
  assert.equal(m1.status, 200);
  assertNovaResponse('aggregates', C, '_set_metadata', '2.1', m1.body);
  const m2 = await nova('POST', `/os-aggregates/${z.id}/action`, { body: { set_metadata: { metadata: { gpu: null, absent: null } } } });
  assert.deepEqual(m2.body.aggregate.metadata, { ssd: 'true' });

  // remove_host: Nova's one 404 message; then delete works and the name is free.
  const rmMissing = await nova('POST', `/os-aggregates/${id}/action`, { body: { remove_host: { host } } });
  assert.equal(rmMissing.status, 404);
  assert.equal(rmMissing.body.itemNotFound.message, `Cannot remove host ${host} in aggregate ${id}`);
  const rm = await nova('POST', `/os-aggregates/${z.id}/action`, { body: { remove_host: { host } } });
  assert.equal(rm.status, 200);
  assertNovaResponse('aggregates', C, '_remove_host', '2.1', rm.body);
  assert.deepEqual(rm.body.aggregate.hosts, []);

  const list = await nova('GET', '/os-aggregates');
  assertNovaResponse('aggregates', C, 'index', '2.1', list.body);
  assert.deepEqual(
    list.body.aggregates.map((a: any) => a.name),
    ['agg-http', 'agg-renamed'],
  );
  assert.equal((await nova('DELETE', `/os-aggregates/${z.id}`)).status, 200);
  assert.equal((await nova('DELETE', `/os-aggregates/${z.id}`)).status, 404);
  assert.equal((await nova('DELETE', `/os-aggregates/${id}`)).status, 200);
  const reuse = await nova('POST', '/os-aggregates', { body: { aggregate: { name: 'agg-renamed' } } });
  assert.equal(reuse.status, 200);
  assert.ok(reuse.body.aggregate.id > z.id, 'ids are not reused');
  await nova('DELETE', `/os-aggregates/${reuse.body.aggregate.id}`);

  // 2.81's images route is beyond the advertised maximum: 404 at what Jacket serves.
  assert.equal((await nova('POST', `/os-aggregates/${id}/images`, { body: { cache: [{ id: host }] } })).status, 404);

  // Admin only.
  for (const [m, p, b] of [
    ['GET', '/os-aggregates', undefined],
    ['POST', '/os-aggregates', { aggregate: { name: 'member' } }],
    ['POST', `/os-aggregates/${id}/action`, { add_host: { host } }],
  ] as const) {
    assert.equal((await nova(m, p, { token: tAlice, body: b })).status, 403, `${m} ${p}`);
  }
});

test('openstack aggregate create/list/show/set --property/add host/remove host/delete, and hypervisor show lists the host aggregates', async () => {
  const osc = (args: string[]) => arm.stack.oscOk(args);
  const created = await arm.stack.oscJson(['aggregate', 'create', '--zone', 'rome', 'cli-zone']);
  assert.equal(created.name, 'cli-zone');
  assert.equal(created.availability_zone, 'rome');
  const plain = await arm.stack.oscJson(['aggregate', 'create', 'cli-plain']);
  await osc(['aggregate', 'set', '--property', 'ssd=true', 'cli-plain']);
  const added = await arm.stack.oscJson(['aggregate', 'add', 'host', 'cli-plain', host]);
  assert.deepEqual(added.hosts, [host]);
  const shown = await arm.stack.oscJson(['aggregate', 'show', 'cli-plain']);
  assert.deepEqual(shown.hosts, [host]);
  assert.deepEqual(shown.properties, { ssd: 'true' });
  assert.equal(shown.id, plain.id);
  const rows = await arm.stack.oscJson(['aggregate', 'list']);
  assert.deepEqual(rows.map((r: any) => r.Name).sort(), ['cli-plain', 'cli-zone']);

  const hv = (await arm.stack.oscJson(['hypervisor', 'list']))[0];
  const hvShow = await arm.stack.oscJson(['hypervisor', 'show', String(hv.ID)]);
  assert.deepEqual(hvShow.aggregates, ['cli-plain']);

  await assert.rejects(osc(['aggregate', 'add', 'host', 'cli-zone', host]), /Cannot add host to aggregate/);
  await assert.rejects(osc(['aggregate', 'delete', 'cli-plain']), /Host aggregate is not empty/);
  const removed = await arm.stack.oscJson(['aggregate', 'remove', 'host', 'cli-plain', host]);
  assert.deepEqual(removed.hosts, []);
  await osc(['aggregate', 'delete', 'cli-plain', 'cli-zone']);
  assert.deepEqual(await arm.stack.oscJson(['aggregate', 'list']), []);
});

test('os-server-external-events at 2.1: 200 for a server with a host; 404/422 per event and 207; later event names refused; nothing recorded; members 403', async () => {
  const [image, net] = await Promise.all([imageId(arm.stack, tAlice), networkId(arm.stack, tAlice)]);
  const boot = async (name: string) => {
    const r = await nova('POST', '/servers', { token: tAlice, body: { server: { name, flavorRef: '1', imageRef: image, networks: [{ uuid: net }] } } });
    assert.equal(r.status, 202, r.text);
    return r.body.server.id as string;
  };
  const hosted = await boot('ev-hosted');
  await waitFor('ev-hosted ACTIVE', async () => ((await nova('GET', `/servers/${hosted}`)).body.server.status === 'ACTIVE' ? true : undefined));
  // A server that never got a host: nova-compute disabled, the build ends in NoValidHost.
  assert.equal((await nova('PUT', '/os-services/disable', { body: { host, binary: 'nova-compute' } })).status, 200);
  const hostless = await boot('ev-hostless');
  await waitFor('ev-hostless ERROR', async () => ((await nova('GET', `/servers/${hostless}`)).body.server.status === 'ERROR' ? true : undefined));
  assert.equal((await nova('PUT', '/os-services/enable', { body: { host, binary: 'nova-compute' } })).status, 200);
  const actionsBefore = (await nova('GET', `/servers/${hosted}/os-instance-actions`)).body.instanceActions.length;

  const ok = await nova('POST', '/os-server-external-events', {
    body: {
      events: [
        { name: 'network-changed', server_uuid: hosted, tag: 'port-1' },
        { name: 'network-vif-plugged', server_uuid: hosted, status: 'completed' },
      ],
    },
  });
  assert.equal(ok.status, 200, ok.text);
  assertNovaResponse('server_external_events', 'ServerExternalEventsController', 'create', '2.1', ok.body);
  assert.deepEqual(ok.body.events, [
    { name: 'network-changed', server_uuid: hosted, tag: 'port-1', status: 'completed', code: 200 },
    { name: 'network-vif-plugged', server_uuid: hosted, status: 'completed', code: 200 },
  ]);

  const missing = '6f2a4d8e-0000-4000-8000-000000000000';
  const mixed = await nova('POST', '/os-server-external-events', {
    body: {
      events: [
        { name: 'network-vif-deleted', server_uuid: hosted },
        { name: 'network-vif-unplugged', server_uuid: missing },
        { name: 'network-changed', server_uuid: hostless },
      ],
    },
  });
  assert.equal(mixed.status, 207, mixed.text);
  assertNovaResponse('server_external_events', 'ServerExternalEventsController', 'create', '2.1', mixed.body);
  assert.deepEqual(
    mixed.body.events.map((e: any) => [e.status, e.code]),
    [
      ['completed', 200],
      ['failed', 404],
      ['failed', 422],
    ],
  );
  // Every event failed: still 207 (today's Nova has no overall 404).
  const allFailed = await nova('POST', '/os-server-external-events', { body: { events: [{ name: 'network-changed', server_uuid: missing }] } });
  assert.equal(allFailed.status, 207);
  assert.deepEqual(allFailed.body.events, [{ name: 'network-changed', server_uuid: missing, status: 'failed', code: 404 }]);

  // Names of later versions, bad bodies: 400 at 2.1.
  for (const body of [
    { events: [{ name: 'volume-extended', server_uuid: hosted, tag: 'vol' }] },
    { events: [{ name: 'power-update', server_uuid: hosted, tag: 'POWER_ON' }] },
    { events: [] },
    { events: [{ name: 'network-changed', server_uuid: 'not-a-uuid' }] },
    { events: [{ name: 'network-changed', server_uuid: hosted, extra: 1 }] },
  ]) {
    assert.equal((await nova('POST', '/os-server-external-events', { body })).status, 400, JSON.stringify(body));
  }
  // Network events record no instance action (as Nova).
  assert.equal((await nova('GET', `/servers/${hosted}/os-instance-actions`)).body.instanceActions.length, actionsBefore);
  assert.equal((await nova('POST', '/os-server-external-events', { token: tAlice, body: { events: [{ name: 'network-changed', server_uuid: hosted }] } })).status, 403);
  for (const id of [hosted, hostless]) assert.equal((await nova('DELETE', `/servers/${id}`)).status, 204);
});
