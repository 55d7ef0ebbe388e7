// The Table Storage repository against Azurite: ETag concurrency, read-modify-write, paging.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startAzurite, type RunningAzurite } from '../../local/azurite';
import { TableStore, ConcurrencyError, AlreadyExistsError, odata, type Repository } from '../../shared/store/tables';

interface Thing {
  id: string;
  name: string;
  n: number;
  tags?: string[];
}

let az: RunningAzurite;
let repo: Repository<Thing>;

before(async () => {
  az = await startAzurite();
  repo = new TableStore(az.connectionString, 'unit').repository<Thing>('things', ['name', 'n']);
});
after(() => az?.stop());

test('create, get, and create again conflicts', async () => {
  const s = await repo.create('p1', 'a', { id: 'a', name: 'alpha', n: 1, tags: ['x'] });
  assert.ok(s.etag);
  assert.deepEqual((await repo.get('p1', 'a'))?.value, { id: 'a', name: 'alpha', n: 1, tags: ['x'] });
  await assert.rejects(repo.create('p1', 'a', { id: 'a', name: 'again', n: 2 }), AlreadyExistsError);
  assert.equal(await repo.get('p1', 'missing'), undefined);
});

test('replace with a stale ETag fails and changes nothing', async () => {
  const first = await repo.create('p1', 'b', { id: 'b', name: 'beta', n: 1 });
  await repo.replace('p1', 'b', { id: 'b', name: 'beta', n: 2 }, first.etag);
  await assert.rejects(repo.replace('p1', 'b', { id: 'b', name: 'beta', n: 99 }, first.etag), ConcurrencyError);
  assert.equal((await repo.get('p1', 'b'))?.value.n, 2);
  await assert.rejects(repo.delete('p1', 'b', first.etag), ConcurrencyError);
  assert.ok(await repo.get('p1', 'b'));
});

test('concurrent read-modify-write updates all land (ETag retries)', async () => {
  await repo.create('p1', 'c', { id: 'c', name: 'counter', n: 0 });
  await Promise.all(Array.from({ length: 5 }, () => repo.update('p1', 'c', (v) => ({ ...v, n: v.n + 1 }), 20)));
  assert.equal((await repo.get('p1', 'c'))?.value.n, 5);
  assert.equal(await repo.update('p1', 'nope', (v) => v), undefined);
});

test('page: marker, limit and filters run in the table query, within one partition', async () => {
  for (let i = 0; i < 12; i++) {
    const id = `item-${String(i).padStart(2, '0')}`;
    await repo.create('p2', id, { id, name: i % 2 ? 'odd' : 'even', n: i });
  }
  await repo.create('p3', 'item-00', { id: 'item-00', name: 'other project', n: 0 });
  const first = await repo.page('p2', { limit: 5 });
  assert.deepEqual(
    first.map((r) => r.rowKey),
    ['item-00', 'item-01', 'item-02', 'item-03', 'item-04'],
  );
  const second = await repo.page('p2', { limit: 5, afterRowKey: 'item-04' });
  assert.deepEqual(
    second.map((r) => r.rowKey),
    ['item-05', 'item-06', 'item-07', 'item-08', 'item-09'],
  );
  const odd = await repo.page('p2', { limit: 100, filter: odata`name eq ${'odd'} and n gt ${4}` });
  assert.deepEqual(
    odd.map((r) => r.value.n),
    [5, 7, 9, 11],
  );
  assert.equal((await repo.list('p2')).length, 12);
  assert.deepEqual(
    (await repo.listPrefix('p2', 'item-1')).map((r) => r.rowKey),
    ['item-10', 'item-11'],
  );
});

test('delete is idempotent', async () => {
  await repo.create('p4', 'd', { id: 'd', name: 'delta', n: 0 });
  assert.equal(await repo.delete('p4', 'd'), true);
  assert.equal(await repo.delete('p4', 'd'), false);
});
