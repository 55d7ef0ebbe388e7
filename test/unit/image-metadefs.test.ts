// Glance's metadata definitions catalog as Jacket serves it (shared/image/api/metadefs.ts): the one
// read-only namespace Horizon needs (docs/horizon.md), filtered by resource type, and Glance's 404.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RequestContext } from '../../shared/http/router';
import { glanceMetadefRoutes } from '../../shared/image/api/metadefs';

function call(name: string, query = '', params: Record<string, string> = {}) {
  const route = glanceMetadefRoutes.find((r) => r.name === `image-${name}`)!;
  return route.handler({ query: new URLSearchParams(query), params } as unknown as RequestContext);
}

test('the namespace list answers the resource types Horizon asks about, nothing for others', async () => {
  for (const t of ['OS::Glance::Image', 'OS::Nova::Flavor', 'OS::Nova::Server', 'OS::Cinder::Volumes', 'OS::Cinder::Volume']) {
    const r = await call('metadefs-namespaces-list', `resource_types=${encodeURIComponent(t)}&limit=1000&sort_key=namespace&sort_dir=asc`);
    assert.equal(r.status, 200);
    const body = r.body as { namespaces: { namespace: string; resource_type_associations: { name: string }[] }[]; schema: string };
    assert.deepEqual(
      body.namespaces.map((n) => n.namespace),
      ['OS::Jacket::Azure'],
      t,
    );
    assert.ok(body.namespaces[0].resource_type_associations.some((a) => a.name === t));
    assert.equal(body.schema, '/v2/schemas/metadefs/namespaces');
  }
  assert.deepEqual(((await call('metadefs-namespaces-list', 'resource_types=OS::Trove::Instance')).body as { namespaces: unknown[] }).namespaces, []);
  assert.deepEqual(((await call('metadefs-namespaces-list', 'visibility=private')).body as { namespaces: unknown[] }).namespaces, []);
  assert.equal(((await call('metadefs-namespaces-list')).body as { namespaces: unknown[] }).namespaces.length, 1);
});

test('a namespace is shown by name; any other is Glance 404', async () => {
  const shown = await call('metadefs-namespaces-show', 'resource_type=OS::Glance::Image', { namespace: 'OS::Jacket::Azure' });
  assert.equal(shown.status, 200);
  assert.equal((shown.body as { namespace: string }).namespace, 'OS::Jacket::Azure');
  await assert.rejects(call('metadefs-namespaces-show', '', { namespace: 'OS::Compute::Quota' }), (e: { status?: number; message?: string }) => {
    assert.equal(e.status, 404);
    assert.equal(e.message, 'Metadata definition namespace=OS::Compute::Quota was not found.');
    return true;
  });
});

test('the namespace schema describes what the list and show return (python-glanceclient validates against it)', async () => {
  const schema = (await call('schemas-metadefs-namespace')).body as { properties: Record<string, unknown>; additionalProperties: boolean; required: string[] };
  const ns = (await call('metadefs-namespaces-show', '', { namespace: 'OS::Jacket::Azure' })).body as Record<string, unknown>;
  assert.equal(schema.additionalProperties, false);
  for (const k of Object.keys(ns)) assert.ok(k in schema.properties, `${k} is in the schema`);
  for (const k of schema.required) assert.ok(k in ns, `${k} is present`);
  const coll = (await call('schemas-metadefs-namespaces')).body as { name: string };
  assert.equal(coll.name, 'namespaces');
});
