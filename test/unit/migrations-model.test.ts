// The migration records against Azurite: integer ids unique and increasing under concurrent starts
// (the ETag-conditional counter), newest-first storage, status moves that never go back, filters in
// the table query, and an instance's records removed with it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startAzurite, type RunningAzurite } from '../../local/azurite';
import { TableStore } from '../../shared/store/tables';
import type { Services } from '../../shared/services';
import type { ServerRecord } from '../../shared/compute/servers/model';
import { createMigration, deleteInstanceMigrations, failInstanceMigrations, getMigration, listMigrations, setMigrationStatus } from '../../shared/compute/migrations/model';

let az: RunningAzurite;
let s: Services;
const who = { userId: 'u1', projectId: 'p1' };
const server = (id: string, flavor = '3') => ({ id, host: 'azure-eastus', flavor: { id: flavor } }) as unknown as ServerRecord;
const A = '11111111-1111-4111-8111-111111111111';
const B = '22222222-2222-4222-8222-222222222222';
/** The id of one of A's records: the concurrent starts below take their ids in whatever order they win. */
let aId = 0;

before(async () => {
  az = await startAzurite();
  s = { tables: new TableStore(az.connectionString, 'unitmig'), config: { azure: { location: 'eastus' } } } as unknown as Services;
});
after(() => az?.stop());

test('concurrent starts get distinct integer ids 1..n; the list is newest first', async () => {
  const made = await Promise.all(Array.from({ length: 8 }, (_, i) => createMigration(s, server(i % 2 ? B : A), 'resize', '4', who)));
  const ids = made.map((m) => m.id).sort((a, b) => a - b);
  aId = Math.min(...made.filter((m) => m.instance_uuid === A).map((m) => m.id));
  assert.deepEqual(ids, [1, 2, 3, 4, 5, 6, 7, 8]);
  const listed = await listMigrations(s, {});
  assert.deepEqual(
    listed.map((m) => m.id),
    [8, 7, 6, 5, 4, 3, 2, 1],
  );
  const m = listed[0];
  assert.equal(m.status, 'pre-migrating');
  assert.equal(m.old_instance_type_id, 3);
  assert.equal(m.new_instance_type_id, 4);
  assert.equal(m.source_compute, 'azure-eastus');
  assert.equal(m.updated_at, null);
  const next = await createMigration(s, server(A, 'a-uuid-flavor'), 'migration', 'a-uuid-flavor', who);
  assert.equal(next.id, 9);
  assert.equal(next.old_instance_type_id, null, 'a flavor id that is not an integer has no instance type id');
});

test('status moves: from-guarded, never back from a final state', async () => {
  assert.equal(await setMigrationStatus(s, aId, 'migrating', ['pre-migrating']), true);
  assert.equal(await setMigrationStatus(s, aId, 'finished'), true);
  assert.equal(await setMigrationStatus(s, aId, 'error', ['pre-migrating', 'migrating']), false, 'a finished move is not failed late');
  const m = await getMigration(s, aId);
  assert.equal(m?.status, 'finished');
  assert.ok(m?.updated_at);
  assert.equal(await setMigrationStatus(s, undefined, 'error'), false, 'a row without a record is ignored');
  assert.equal(await setMigrationStatus(s, 999, 'error'), false);
});

test('filters run in the query, quotes escaped; deleting an instance removes only its records', async () => {
  assert.equal((await listMigrations(s, { instance_uuid: A })).length, 5);
  assert.equal((await listMigrations(s, { instance_uuid: A, status: 'finished' })).length, 1);
  assert.equal((await listMigrations(s, { migration_type: 'migration' })).length, 1);
  assert.equal((await listMigrations(s, { host: 'azure-eastus' })).length, 9);
  assert.equal((await listMigrations(s, { node: 'azure-eastus', source_compute: 'elsewhere' })).length, 0, 'node and source_compute both apply');
  assert.equal((await listMigrations(s, { host: 'azure-eastus', source_compute: 'ignored-with-host' })).length, 9, "source_compute counts only without host (Nova's elif)");
  assert.equal((await listMigrations(s, { status: "it's" })).length, 0);
  assert.equal((await listMigrations(s, { hidden: true })).length, 0);
  assert.equal((await listMigrations(s, { hidden: false })).length, 9);
  await deleteInstanceMigrations(s, B);
  const left = await listMigrations(s, {});
  assert.equal(left.length, 5);
  assert.ok(left.every((m) => m.instance_uuid === A));
});

test('an interrupted move (stale-task rollback): the instance records still under way end error, a finished one stays', async () => {
  assert.equal(await failInstanceMigrations(s, A), 4);
  const byId = new Map((await listMigrations(s, { instance_uuid: A })).map((m) => [m.id, m.status]));
  assert.equal(byId.get(aId), 'finished');
  assert.deepEqual(
    [...byId].filter(([id]) => id !== aId).map(([, st]) => st),
    ['error', 'error', 'error', 'error'],
  );
  assert.equal(await failInstanceMigrations(s, A), 0, 'nothing left to fail');
});
