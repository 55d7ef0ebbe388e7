// Compute microversions 2.38-2.40 (docs/microversions.md): the invalid `status` filter (2.38), the
// image-metadata proxy and maxImageMeta gone (2.39), os-simple-tenant-usage paging (2.40) — each at the
// version before and at it, bodies checked against Nova's response schemas (test/support/oracle.ts).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startArmStack, waitFor, type ArmStack } from '../support/armStack';
import { assertNovaResponse } from '../support/oracle';
import type { Creds } from '../support/stack';

let arm: ArmStack;
let alice: Creds & { projectId: string; userId: string };
let tAlice: string;
let tAdmin: string;
let image: string;
let net: string;
const servers: string[] = [];

before(async () => {
  arm = await startArmStack({ asyncDelayMs: 0 });
  alice = await arm.stack.makeProjectUser('mv238-a', 'mv238alice');
  [tAlice, tAdmin] = await Promise.all([arm.stack.token(alice), arm.stack.token()]);
  image = (await arm.stack.http('GET', '/image/v2/images?name=ubuntu-22.04', { token: tAlice })).body.images[0].id;
  net = (await arm.stack.http('GET', '/network/v2.0/networks?name=private', { token: tAlice })).body.networks[0].id;
});
after(async () => {
  arm?.control.close();
  await arm?.stop();
});

/** A Nova call at microversion `mv`. */
const nova = (token: string, mv: string) => (method: string, p: string, body?: unknown) =>
  arm.stack.http(method, `/compute/v2.1${p}`, { token, body, headers: { 'OpenStack-API-Version': `compute ${mv}` } });
const msg = (body: unknown) => Object.values(body as Record<string, { message: string }>)[0].message;

async function boot(name: string): Promise<string> {
  const r = await nova(tAlice, '2.36')('POST', '/servers', { server: { name, flavorRef: '1', imageRef: image, networks: [{ uuid: net }] } });
  assert.equal(r.status, 202, r.text);
  const id = r.body.server.id as string;
  await waitFor(
    `server ${id} ACTIVE`,
    async () => {
      const s = (await nova(tAlice, '2.36')('GET', `/servers/${id}`)).body?.server;
      if (s?.status === 'ERROR') throw new Error(`server ${id} went ERROR: ${JSON.stringify(s.fault)}`);
      return s?.status === 'ACTIVE' ? s : undefined;
    },
    120000,
  );
  return id;
}

test('2.38: a status that names no state is an empty list up to 2.37 and 400 Invalid status value from 2.38', async () => {
  const old = await nova(tAlice, '2.36')('GET', '/servers?status=bogus');
  assert.equal(old.status, 200, old.text);
  assert.deepEqual(old.body.servers, []);
  assertNovaResponse('servers', 'ServersController', 'index', '2.36', old.body);
  for (const p of ['/servers?status=bogus', '/servers/detail?status=bogus', '/servers?status=active&status=bogus2']) {
    const r = await nova(tAlice, '2.38')('GET', p);
    if (p.includes('bogus2')) {
      // One known status among the values maps to a state: no refusal (Nova checks the mapped states).
      assert.equal(r.status, 200, r.text);
      continue;
    }
    assert.equal(r.status, 400, `${p}: ${r.text}`);
    assert.equal(msg(r.body), 'Invalid status value');
  }
  const ok = await nova(tAlice, '2.38')('GET', '/servers?status=ACTIVE');
  assert.equal(ok.status, 200, ok.text);
  assertNovaResponse('servers', 'ServersController', 'index', '2.38', ok.body);
});

test('2.39: image metadata answers up to 2.38 and 404 from 2.39; /limits drops maxImageMeta', async () => {
  const at238 = await nova(tAlice, '2.38')('GET', `/images/${image}/metadata`);
  assert.equal(at238.status, 200, at238.text);
  assert.equal(typeof at238.body.metadata, 'object');
  for (const [m, p] of [
    ['GET', `/images/${image}/metadata`],
    ['GET', `/images/${image}/metadata/os_distro`],
    ['POST', `/images/${image}/metadata`],
    ['PUT', `/images/${image}/metadata`],
    ['DELETE', `/images/${image}/metadata/os_distro`],
  ] as const) {
    const r = await nova(tAlice, '2.39')(m, p, m === 'POST' || m === 'PUT' ? { metadata: { k: 'v' } } : undefined);
    assert.equal(r.status, 404, `${m} ${p}: ${r.text}`);
  }
  const l238 = await nova(tAlice, '2.38')('GET', '/limits');
  assertNovaResponse('limits', 'LimitsController', 'index', '2.38', l238.body);
  assert.equal(typeof l238.body.limits.absolute.maxImageMeta, 'number');
  const l239 = await nova(tAlice, '2.39')('GET', '/limits');
  assertNovaResponse('limits', 'LimitsController', 'index', '2.39', l239.body);
  assert.ok(!('maxImageMeta' in l239.body.limits.absolute), JSON.stringify(l239.body.limits.absolute));
  assert.equal(l239.body.limits.absolute.maxServerMeta, l238.body.limits.absolute.maxServerMeta);

  // createImage / createBackup check the image metadata against metadata_items (128) up to 2.38 only.
  const bob = await arm.stack.makeProjectUser('mv238-b', 'mv238bob');
  const tBob = await arm.stack.token(bob);
  const r = await nova(tBob, '2.36')('POST', '/servers', { server: { name: 'img', flavorRef: '1', imageRef: image, networks: [{ uuid: net }] } });
  assert.equal(r.status, 202, r.text);
  const id = r.body.server.id as string;
  await waitFor(`server ${id} ACTIVE`, async () => ((await nova(tBob, '2.36')('GET', `/servers/${id}`)).body?.server?.status === 'ACTIVE' ? true : undefined), 120000);
  const metadata = Object.fromEntries(Array.from({ length: 129 }, (_, i) => [`k${i}`, 'v']));
  for (const body of [{ createImage: { name: 'snap', metadata } }, { createBackup: { name: 'bak', backup_type: 'daily', rotation: 1, metadata } }]) {
    const over = await nova(tBob, '2.38')('POST', `/servers/${id}/action`, body);
    assert.equal(over.status, 403, over.text);
    assert.equal(msg(over.body), 'Image metadata limit exceeded');
  }
  const ok = await nova(tBob, '2.39')('POST', `/servers/${id}/action`, { createImage: { name: 'snap', metadata } });
  assert.equal(ok.status, 202, ok.text);
});

test('2.40: os-simple-tenant-usage pages over the servers with limit/marker and next links', async () => {
  servers.push(...(await Promise.all([boot('u1'), boot('u2'), boot('u3')])));
  const sorted = [...servers].sort();
  const start = new Date(Date.now() - 3600_000).toISOString().slice(0, 19);
  const q = (extra: Record<string, string>) => new URLSearchParams({ start, ...extra }).toString();
  const C = 'SimpleTenantUsageController';

  // 2.39: limit and marker are not read; every server at once, no links.
  const old = await nova(tAdmin, '2.39')('GET', `/os-simple-tenant-usage/${alice.projectId}?${q({ limit: '1' })}`);
  assert.equal(old.status, 200, old.text);
  assertNovaResponse('simple_tenant_usage', C, 'show', '2.39', old.body);
  assert.deepEqual(old.body.tenant_usage.server_usages.map((s: { instance_id: string }) => s.instance_id).sort(), sorted);
  assert.ok(!('tenant_usage_links' in old.body));

  // 2.40, show: pages of 2 in (project, uuid) order; the last page has no link.
  const p1 = await nova(tAlice, '2.40')('GET', `/os-simple-tenant-usage/${alice.projectId}?${q({ limit: '2' })}`);
  assert.equal(p1.status, 200, p1.text);
  assertNovaResponse('simple_tenant_usage', C, 'show', '2.40', p1.body);
  assert.deepEqual(
    p1.body.tenant_usage.server_usages.map((s: { instance_id: string }) => s.instance_id),
    sorted.slice(0, 2),
  );
  const link = p1.body.tenant_usage_links[0];
  assert.equal(link.rel, 'next');
  const next = new URL(link.href);
  assert.match(next.pathname, new RegExp(`/os-simple-tenant-usage/${alice.projectId}$`));
  assert.equal(next.searchParams.get('marker'), sorted[1]);
  assert.equal(next.searchParams.get('limit'), '2');
  assert.equal(next.searchParams.get('start'), start);
  const p2 = await nova(tAlice, '2.40')('GET', `/os-simple-tenant-usage/${alice.projectId}?${next.searchParams.toString()}`);
  assert.equal(p2.status, 200, p2.text);
  assertNovaResponse('simple_tenant_usage', C, 'show', '2.40', p2.body);
  assert.deepEqual(
    p2.body.tenant_usage.server_usages.map((s: { instance_id: string }) => s.instance_id),
    sorted.slice(2),
  );
  assert.ok(!('tenant_usage_links' in p2.body), JSON.stringify(p2.body));
  // The totals of a page are the page's servers' only. (Comparing two pages' totals would race the
  // clock: the later page's one server can have run longer than the earlier page's two together.)
  for (const page of [p1, p2]) {
    const u = page.body.tenant_usage as { total_hours: number; server_usages: { hours: number }[] };
    const sum = u.server_usages.reduce((a, s) => a + s.hours, 0);
    assert.ok(Math.abs(u.total_hours - sum) <= 1e-9 * Math.max(1, sum), `${u.total_hours} vs ${sum}`);
  }

  // 2.40, index (admin): the same paging over every project's servers; alice's three in order within it.
  const seen: string[] = [];
  let url: string | undefined = `/os-simple-tenant-usage?${q({ limit: '1', detailed: '1' })}`;
  for (let i = 0; url && i < 1000; i++) {
    const r = await nova(tAdmin, '2.40')('GET', url);
    assert.equal(r.status, 200, r.text);
    assertNovaResponse('simple_tenant_usage', C, 'index', '2.40', r.body);
    const rows = (r.body.tenant_usages as { server_usages: { instance_id: string }[] }[]).flatMap((t) => t.server_usages);
    assert.ok(rows.length <= 1);
    seen.push(...rows.map((s) => s.instance_id));
    const l = r.body.tenant_usages_links?.[0]?.href as string | undefined;
    url = l ? `/os-simple-tenant-usage?${new URL(l).searchParams.toString()}` : undefined;
  }
  assert.deepEqual(
    seen.filter((id) => servers.includes(id)),
    sorted,
  );
  assert.equal(new Set(seen).size, seen.length, 'no server twice across pages');

  // Refusals: an unknown marker is Nova's MarkerNotFound 400; a limit that is not digits, the query schema's 400.
  const badMarker = await nova(tAdmin, '2.40')('GET', `/os-simple-tenant-usage?${q({ marker: '00000000-0000-4000-8000-000000000000' })}`);
  assert.equal(badMarker.status, 400, badMarker.text);
  assert.equal(msg(badMarker.body), 'Marker 00000000-0000-4000-8000-000000000000 could not be found.');
  const badLimit = await nova(tAdmin, '2.40')('GET', `/os-simple-tenant-usage?${q({ limit: '-1' })}`);
  assert.equal(badLimit.status, 400, badLimit.text);
  assert.match(msg(badLimit.body), /^Invalid input for query parameters limit/);
  // Below 2.40 the same marker is not read.
  assert.equal((await nova(tAdmin, '2.39')('GET', `/os-simple-tenant-usage?${q({ marker: '00000000-0000-4000-8000-000000000000' })}`)).status, 200);

  // The CLI at 2.40 (openstacksdk follows tenant_usage_links) still sees all three servers.
  const shown = await arm.stack.oscJson<Record<string, unknown>>(['--os-compute-api-version', '2.40', 'usage', 'show', '--project', alice.projectId, '--start', start.slice(0, 10)], alice);
  const n = shown.Servers;
  assert.equal(Array.isArray(n) ? n.length : Number(n), 3, JSON.stringify(shown));
});
