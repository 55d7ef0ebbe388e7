// Aggregates below the HTTP pipeline, against Azurite: the view's `uuid` from 2.41 (checked against Nova's
// 2.40 and 2.41 response schemas: 2.41 cannot be requested end to end until it is advertised), the 2.81
// images route (404 below 2.81; 202 and nothing cached, as Nova for a driver without an image cache),
// and the records under races: one of two same-name creates wins, concurrent host and metadata writes
// all land, a rename frees the old name.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startAzurite, type RunningAzurite } from '../../local/azurite';
import { TableStore } from '../../shared/store/tables';
import type { Services } from '../../shared/services';
import type { RequestContext } from '../../shared/http/router';
import { ApiError } from '../../shared/http/errors';
import { Microversion } from '../../shared/api/microversion';
import { aggregateRoutes, aggregateView } from '../../shared/compute/aggregates/api';
import * as svc from '../../shared/compute/aggregates/service';
import { assertNovaResponse } from '../support/oracle';

let az: RunningAzurite;
let s: Services;
const mv = (v: string) => Microversion.parse(v);

before(async () => {
  az = await startAzurite();
  s = { tables: new TableStore(az.connectionString, 'unitagg'), config: { azure: { location: 'eastus' } } } as unknown as Services;
});
after(() => az?.stop());

const handler = (name: string) => aggregateRoutes.find((r) => r.name === `compute-${name}`)!.handler;
const ctxAt = (v: string, id: string, body: unknown) => ({ params: { id }, body, microversion: mv(v), services: s, query: new URLSearchParams() }) as unknown as RequestContext;
const status = async (p: Promise<unknown>) => {
  try {
    return ((await p) as { status: number }).status;
  } catch (e) {
    if (e instanceof ApiError) return e.status;
    throw e;
  }
};

test('the view: uuid from 2.41 only, each body valid for Nova at its version', async () => {
  const a = await svc.create(s, 'view', 'london');
  const at = (v: string) => aggregateView(a, mv(v));
  assert.equal('uuid' in at('2.40'), false);
  assert.equal(at('2.41').uuid, a.uuid);
  assertNovaResponse('aggregates', 'AggregateController', 'show', '2.40', { aggregate: at('2.40') });
  assertNovaResponse('aggregates', 'AggregateController', 'show', '2.41', { aggregate: at('2.41') });
  assertNovaResponse('aggregates', 'AggregateController', 'create', '2.40', { aggregate: aggregateView(a, mv('2.40'), true) });
  assertNovaResponse('aggregates', 'AggregateController', 'create', '2.41', { aggregate: aggregateView(a, mv('2.41'), true) });
  assertNovaResponse('aggregates', 'AggregateController', 'index', '2.41', { aggregates: [at('2.41')] });
  assert.throws(() => assertNovaResponse('aggregates', 'AggregateController', 'show', '2.40', { aggregate: at('2.41') }));
});

test('POST /os-aggregates/{id}/images: only from 2.81; 202 at 2.81; duplicates 400; unknown aggregate 404; bad id 400', async () => {
  const a = await svc.create(s, 'images', null);
  const images = handler('aggregates-images');
  const img = '70a599e0-31e7-49b7-b260-868f441e862b';
  // Below 2.81 the pipeline answers 404 before the handler (Route.versions), as Nova's dispatch does.
  assert.deepEqual(aggregateRoutes.find((r) => r.name === 'compute-aggregates-images')!.versions, { min: '2.81' });
  assert.equal(await status(images(ctxAt('2.81', String(a.id), { cache: [{ id: img }] }))), 202);
  assert.equal(await status(images(ctxAt('2.81', String(a.id), { cache: [{ id: img }, { id: img }] }))), 400);
  assert.equal(await status(images(ctxAt('2.81', String(a.id), { cache: [] }))), 400);
  assert.equal(await status(images(ctxAt('2.81', '987654', { cache: [{ id: img }] }))), 404);
  assert.equal(await status(images(ctxAt('2.81', 'x', { cache: [{ id: img }] }))), 400);
});

test('races: one same-name create wins; concurrent metadata writes all land; a rename frees the old name', async () => {
  const results = await Promise.allSettled(Array.from({ length: 4 }, () => svc.create(s, 'race', null)));
  assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
  for (const r of results) if (r.status === 'rejected') assert.equal((r.reason as ApiError).status, 409);
  const won = (results.find((r) => r.status === 'fulfilled') as PromiseFulfilledResult<{ id: number }>).value;
  await Promise.all(Array.from({ length: 6 }, (_, i) => svc.setMetadata(s, won.id, { [`k${i}`]: String(i) })));
  assert.deepEqual(Object.keys((await svc.show(s, won.id)).metadata).sort(), ['k0', 'k1', 'k2', 'k3', 'k4', 'k5']);
  await svc.update(s, won.id, { name: 'race2' });
  const again = await svc.create(s, 'race', null);
  assert.notEqual(again.id, won.id);
  await assert.rejects(svc.create(s, 'race2', null), (e: ApiError) => e.status === 409);
});
