// Compute microversion 2.58 (docs/microversions.md): os-instance-actions pages (limit, marker = a
// request id, links), filters on changes-since and shows updated_at. The list at 2.57 and at 2.58,
// bodies checked against Nova's response schema for that version, refusals against Nova's words, and
// the real `openstack server event list` at 2.58. (2.59, os-migrations, is in migrations.test.ts.)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startArmStack, waitFor, type ArmStack } from '../support/armStack';
import { assertNovaResponse } from '../support/oracle';
import { oneUser, imageId, networkId, type ProjectUser } from '../support/fixtures';

let arm: ArmStack;
let alice: ProjectUser;
let tAlice: string;
let server: string;

const nova = (mv: string) => (method: string, p: string, body?: unknown) => arm.stack.http(method, `/compute/v2.1${p}`, { token: tAlice, body, headers: { 'OpenStack-API-Version': `compute ${mv}` } });
const C = 'InstanceActionsController';

before(async () => {
  arm = await startArmStack({ asyncDelayMs: 0 });
  const u = await oneUser(arm.stack, 'mv258-a', 'mv258alice');
  alice = u.user;
  tAlice = u.token;
  const [image, net] = await Promise.all([imageId(arm.stack, tAlice), networkId(arm.stack, tAlice)]);
  const r = await nova('2.57')('POST', '/servers', { server: { name: 'mv258', flavorRef: '3', imageRef: image, networks: [{ uuid: net }] } });
  assert.equal(r.status, 202, r.text);
  server = r.body.server.id;
  await waitFor('mv258 ACTIVE', async () => ((await nova('2.57')('GET', `/servers/${server}`)).body.server.status === 'ACTIVE' ? true : undefined), 120000);
  // Four more actions: lock, unlock, lock, unlock (recorded at once, no Azure work).
  for (const a of ['lock', 'unlock', 'lock', 'unlock']) assert.equal((await nova('2.57')('POST', `/servers/${server}/action`, { [a]: null })).status, 202);
});
after(() => arm?.stop());

test('2.58: instance actions page by request id with links, filter on changes-since, and carry updated_at', async () => {
  const path = `/servers/${server}/os-instance-actions`;
  // 2.57: every action, no updated_at; limit is not read.
  const old = await nova('2.57')('GET', `${path}?limit=1`);
  assert.equal(old.status, 200, old.text);
  assertNovaResponse('instance_actions', C, 'index', '2.57', old.body);
  assert.equal(old.body.instanceActions.length, 5);
  assert.ok(!('links' in old.body));

  const all = (await nova('2.58')('GET', path)).body;
  assertNovaResponse('instance_actions', C, 'index', '2.58', all);
  const actions = all.instanceActions as { action: string; request_id: string; updated_at: string; start_time: string }[];
  assert.deepEqual(
    actions.map((a) => a.action),
    ['unlock', 'lock', 'unlock', 'lock', 'create'],
    'newest first',
  );
  assert.ok(actions.every((a) => typeof a.updated_at === 'string' && a.updated_at >= a.start_time));
  assert.ok(!('links' in all), 'fewer than the default limit: no link');

  // Pages of 2, following the links; the last page has none.
  const seen: string[] = [];
  let url: string | undefined = `${path}?limit=2`;
  let pages = 0;
  while (url) {
    const r = await nova('2.58')('GET', url);
    assert.equal(r.status, 200, r.text);
    assertNovaResponse('instance_actions', C, 'index', '2.58', r.body);
    seen.push(...r.body.instanceActions.map((a: { request_id: string }) => a.request_id));
    pages++;
    if (r.body.links) {
      const next = new URL(r.body.links[0].href);
      assert.equal(next.pathname, `/compute/v2.1${path}`);
      assert.equal(next.searchParams.get('marker'), seen[seen.length - 1]);
      url = `${path}?${next.searchParams}`;
    } else url = undefined;
  }
  assert.equal(pages, 3);
  assert.deepEqual(
    seen,
    actions.map((a) => a.request_id),
  );
  assert.deepEqual((await nova('2.58')('GET', `${path}?limit=0`)).body.instanceActions, []);

  // changes-since: the actions updated at or after the time (Nova's updated_at >= changes-since).
  const t = actions[1].updated_at;
  const since = (await nova('2.58')('GET', `${path}?changes-since=${encodeURIComponent(t + 'Z')}`)).body.instanceActions;
  assert.ok(since.length >= 2 && since.every((a: { updated_at: string }) => a.updated_at >= t));
  assert.deepEqual((await nova('2.58')('GET', `${path}?changes-since=2999-01-01T00:00:00Z`)).body.instanceActions, []);

  // show carries updated_at from 2.58.
  const one = await nova('2.58')('GET', `${path}/${actions[4].request_id}`);
  assertNovaResponse('instance_actions', C, 'show', '2.58', one.body);
  assert.equal(one.body.instanceAction.updated_at, actions[4].updated_at);
  assert.ok(!('updated_at' in (await nova('2.57')('GET', `${path}/${actions[4].request_id}`)).body.instanceAction));

  // Refusals: the strict query schema, and an unknown marker in Nova's own words (its actions_get
  // reports the failed lookup's result, None).
  const bad = async (query: string, message: string | RegExp) => {
    const r = await nova('2.58')('GET', `${path}${query}`);
    assert.equal(r.status, 400, r.text);
    if (typeof message === 'string') assert.equal(r.body.badRequest.message, message);
    else assert.match(r.body.badRequest.message, message);
  };
  await bad('?marker=req-00000000-0000-4000-8000-000000000000', 'Marker None could not be found.');
  await bad('?limit=x', /Invalid input for query parameters limit/);
  await bad('?changes-since=soon', /Invalid input for query parameters changes-since/);
  await bad('?changes-before=2020-01-01T00:00:00Z', /Additional properties are not allowed \('changes-before' was unexpected\)/);
  // The unknown server is still 404 after a valid query.
  assert.equal((await nova('2.58')('GET', '/servers/00000000-0000-4000-8000-000000000000/os-instance-actions?limit=1')).status, 404);

  // The CLI at 2.58: server event list --limit/--marker.
  const cli = await arm.stack.oscJson<Record<string, unknown>[]>(['--os-compute-api-version', '2.58', 'server', 'event', 'list', '--limit', '2', server], alice);
  assert.deepEqual(
    cli.map((r) => r['Request ID']),
    actions.slice(0, 2).map((a) => a.request_id),
  );
  const cli2 = await arm.stack.oscJson<Record<string, unknown>[]>(['--os-compute-api-version', '2.58', 'server', 'event', 'list', '--limit', '2', '--marker', actions[1].request_id, server], alice);
  assert.deepEqual(
    cli2.map((r) => r['Request ID']),
    actions.slice(2, 4).map((a) => a.request_id),
  );
});
