// Images end to end: Glance v2 under /image through the real `openstack` CLI and HTTP, Nova's image
// proxy and image metadata checked against Nova's own response schemas, uploads landing as fixed VHD
// page blobs in Azurite and managed images in the ARM emulator.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BlobServiceClient } from '@azure/storage-blob';
import Ajv from 'ajv';
import type { Stack } from '../support/stack';
import { startArmStack, waitFor } from '../support/armStack';
import { absentOnAzure, aliceAndBob, type ProjectUser } from '../support/fixtures';
import { assertNovaResponse } from '../support/oracle';
import type { RunningEmulator } from '../../emulator/server';
import { createAzureClients, type AzureClients } from '../../shared/azure/clients';
import { alignToMiB, buildFixedVhdFooter, parseVhdFooter, MIB } from '../../shared/storage/vhd';

let stack: Stack;
let alice: ProjectUser, bob: ProjectUser;
let tA: string, tB: string, tAdmin: string;
let arm: AzureClients;
let blobs: BlobServiceClient;
let dir: string;
let emu: RunningEmulator;
const MV = '2.1';

before(async () => {
  ({ stack, emu } = await startArmStack({ asyncDelayMs: 300 }));
  ({ alice, bob, tAlice: tA, tBob: tB, tAdmin } = await aliceAndBob(stack, ['img-a', 'alice'], ['img-b', 'bob']));
  arm = createAzureClients(stack.cloud.services.config);
  blobs = BlobServiceClient.fromConnectionString(stack.cloud.services.config.storageConnectionString);
  dir = mkdtempSync(path.join(tmpdir(), 'jacket-images-'));
});
after(async () => {
  await stack?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const glance = (method: string, p: string, token: string, opts: { body?: unknown; headers?: Record<string, string> } = {}) => stack.http(method, `/image/v2${p}`, { token, ...opts });
const nova = (method: string, p: string, token: string, body?: unknown) => stack.http(method, `/compute/v2.1${p}`, { token, body });

/** Waits until image `id`'s blob and managed image are both gone. */
const imageGone = (id: string, what: string) =>
  waitFor(what, async () =>
    !(await blobs.getContainerClient('images').getBlobClient(`image-${id}.vhd`).exists()) &&
    (await absentOnAzure(arm.compute.images.get(stack.cloud.services.config.azure.resourceGroup, `image-${id}`)))
      ? true
      : undefined,
  );

/** Polls the image until its status is `want` (the managed-image step runs on the work queue). */
async function waitStatus(id: string, want: string, token = tA, ms = 60000): Promise<Record<string, unknown>> {
  const end = Date.now() + ms;
  for (;;) {
    const r = await glance('GET', `/images/${id}`, token);
    if (r.body?.status === want) return r.body;
    if (Date.now() > end) throw new Error(`image ${id} stayed ${r.body?.status} (wanted ${want})`);
    await new Promise((res) => setTimeout(res, 300));
  }
}

async function uploadRaw(name: string, data: Buffer, token = tA, disk = 'raw'): Promise<string> {
  const c = await glance('POST', '/images', token, { body: { name, disk_format: disk, container_format: 'bare' } });
  assert.equal(c.status, 201, c.text);
  const res = await fetch(`${stack.url}/image/v2/images/${c.body.id}/file`, {
    method: 'PUT',
    headers: { 'X-Auth-Token': token, 'Content-Type': 'application/octet-stream' },
    body: data,
  });
  assert.equal(res.status, 204, await res.text());
  return c.body.id as string;
}

async function download(id: string, token = tA): Promise<{ status: number; headers: Headers; data: Buffer }> {
  const res = await fetch(`${stack.url}/image/v2/images/${id}/file`, { headers: { 'X-Auth-Token': token } });
  return { status: res.status, headers: res.headers, data: Buffer.from(await res.arrayBuffer()) };
}

test('marketplace images: openstack image list/show, versions document, read-only', async () => {
  const list = await stack.oscJson<{ ID: string; Name: string; Status: string }[]>(['image', 'list'], alice);
  const names = list.map((i) => i.Name);
  assert.ok(names.includes('ubuntu-22.04') && names.includes('windows-server-2022'), names.join());
  const ubuntu = await stack.oscJson(['image', 'show', 'ubuntu-22.04'], alice);
  assert.equal(ubuntu.status, 'active');
  assert.equal(ubuntu.visibility, 'public');
  assert.equal(ubuntu.disk_format, 'vhd');
  assert.equal(ubuntu.protected, true);
  assert.equal(ubuntu.properties.azure_publisher, 'Canonical');
  assert.equal(ubuntu.properties.azure_offer, '0001-com-ubuntu-server-jammy');
  assert.equal(ubuntu.properties.azure_sku, '22_04-lts-gen2');
  assert.equal(ubuntu.properties.os_type, 'linux');

  const v = await stack.http('GET', '/image');
  assert.equal(v.status, 300);
  assert.equal(v.body.versions[0].status, 'CURRENT');
  assert.equal(v.body.versions[0].links[0].href, `${stack.url}/image/v2/`);

  // protected: no delete, no change, no data
  const del = await glance('DELETE', `/images/${ubuntu.id}`, tAdmin);
  assert.equal(del.status, 403);
  assert.deepEqual(del.body, { code: '403 Forbidden', title: 'Forbidden', message: `Image ${ubuntu.id} is protected and cannot be deleted.<br /><br />\n\n` });
  const patch = await glance('PATCH', `/images/${ubuntu.id}`, tA, {
    body: [{ op: 'add', path: '/k', value: 'v' }],
    headers: { 'Content-Type': 'application/openstack-images-v2.1-json-patch' },
  });
  assert.equal(patch.status, 403);
  assert.equal((await download(ubuntu.id)).status, 204);
});

test('openstack image create uploads a raw file as a fixed VHD page blob with a managed image; image save gives the bytes back', async () => {
  const data = randomBytes(3 * MIB + 12345);
  const file = path.join(dir, 'disk.raw');
  writeFileSync(file, data);
  const created = await stack.oscJson(['image', 'create', '--disk-format', 'raw', '--container-format', 'bare', '--file', file, 'myimg'], alice);
  assert.equal(created.name, 'myimg');
  const img = await waitStatus(created.id, 'active');
  assert.equal(img.size, data.length);
  assert.equal(img.virtual_size, data.length);
  assert.equal(img.checksum, createHash('md5').update(data).digest('hex'));
  assert.equal(img.os_hash_algo, 'sha512');
  assert.equal(img.os_hash_value, createHash('sha512').update(data).digest('hex'));
  assert.equal(img.owner, alice.projectId);
  assert.equal(img.visibility, 'shared');

  // the blob: a page blob of the MiB-aligned data plus our footer
  const blob = blobs.getContainerClient('images').getPageBlobClient(`image-${created.id}.vhd`);
  const props = await blob.getProperties();
  assert.equal(props.blobType, 'PageBlob');
  assert.equal(props.contentLength, alignToMiB(data.length) + 512);
  assert.equal(props.contentLength, 4 * MIB + 512);
  const footer = parseVhdFooter(await blob.downloadToBuffer(4 * MIB, 512));
  assert.equal(footer.diskType, 2);
  assert.equal(footer.currentSize, 4 * MIB);
  assert.equal(footer.checksumValid, true);
  assert.deepEqual(await blob.downloadToBuffer(0, data.length), data);
  assert.deepEqual(await blob.downloadToBuffer(data.length, 4 * MIB - data.length), Buffer.alloc(4 * MIB - data.length));

  // the managed image, made from that blob
  const managed = await arm.compute.images.get(stack.cloud.services.config.azure.resourceGroup, `image-${created.id}`);
  assert.equal(managed.provisioningState, 'Succeeded');
  assert.equal(managed.storageProfile?.osDisk?.blobUri, blob.url);
  assert.equal(managed.storageProfile?.osDisk?.osType, 'Linux');
  assert.equal(managed.storageProfile?.osDisk?.osState, 'Generalized');
  assert.equal(img.azure_type, 'image');
  assert.equal(img.azure_uri, managed.id);
  assert.equal(img.azure_os_type, 'linux');

  const out = path.join(dir, 'out.raw');
  await stack.oscOk(['image', 'save', '--file', out, 'myimg'], alice);
  assert.deepEqual(readFileSync(out), data);
  const d = await download(created.id);
  assert.equal(d.headers.get('content-md5'), img.checksum);
  assert.equal(d.headers.get('content-length'), String(data.length));

  // an active image takes no second upload
  const again = await fetch(`${stack.url}/image/v2/images/${created.id}/file`, {
    method: 'PUT',
    headers: { 'X-Auth-Token': tA, 'Content-Type': 'application/octet-stream' },
    body: Buffer.alloc(512),
  });
  assert.equal(again.status, 409);
});

test('openstack image set/unset --property; PATCH refuses read-only attributes and bad values', async () => {
  await stack.oscOk(['image', 'set', '--property', 'purpose=testing', 'myimg'], alice);
  let shown = await stack.oscJson(['image', 'show', 'myimg'], alice);
  assert.equal(shown.properties.purpose, 'testing');
  await stack.oscOk(['image', 'unset', '--property', 'purpose', 'myimg'], alice);
  shown = await stack.oscJson(['image', 'show', 'myimg'], alice);
  assert.equal(shown.properties.purpose, undefined);

  const patch = (ops: unknown, token = tA) => glance('PATCH', `/images/${shown.id}`, token, { body: ops, headers: { 'Content-Type': 'application/openstack-images-v2.1-json-patch' } });
  const ro = await patch([{ op: 'replace', path: '/status', value: 'queued' }]);
  assert.equal(ro.status, 403);
  assert.equal(ro.body.message, "Attribute 'status' is read-only.<br /><br />\n\n");
  assert.equal((await patch([{ op: 'remove', path: '/nope' }])).status, 409);
  assert.equal((await patch([{ op: 'replace', path: '/min_disk', value: -1 }])).status, 400);
  assert.equal((await patch([{ op: 'replace', path: '/visibility', value: 'public' }])).status, 403);
  const named = await patch([{ op: 'replace', path: '/min_ram', value: 512 }]);
  assert.equal(named.status, 200);
  assert.equal(named.body.min_ram, 512);
  const wrongType = await glance('PATCH', `/images/${shown.id}`, tA, { body: [] });
  assert.equal(wrongType.status, 415);
  // bob may not change alice's image, nor see it
  assert.equal((await patch([{ op: 'add', path: '/x', value: 'y' }], tB)).status, 404);
});

test('Glance schemas describe every image Jacket serves (glanceclient validates its models with them)', async () => {
  const one = await glance('GET', '/schemas/image', tA);
  assert.equal(one.status, 200, one.text);
  assert.equal(one.body.name, 'image');
  assert.deepEqual(one.body.additionalProperties, { type: 'string' });
  const many = await glance('GET', '/schemas/images', tA);
  assert.equal(many.status, 200);
  assert.equal(many.body.name, 'images');
  assert.deepEqual(many.body.properties.images.items, one.body);
  // As warlock does in glanceclient: each image of the list must validate against the schema.
  const ajv = new Ajv({ strict: false, allErrors: true });
  const valid = ajv.compile(one.body);
  for (const token of [tA, tAdmin]) {
    const list = await glance('GET', '/images', token);
    assert.ok(list.body.images.length > 1);
    for (const img of list.body.images) assert.ok(valid(img), `${img.name}: ${JSON.stringify(valid.errors)}`);
    const validList = ajv.compile(many.body);
    assert.ok(validList(list.body), JSON.stringify(validList.errors));
  }
  assert.equal((await glance('GET', '/schemas/image', '')).status, 401);
});

test('deactivate/reactivate (admin): downloads refused to members and boots refused while deactivated; image tasks list', async () => {
  const id = (await glance('GET', '/images?name=myimg', tA)).body.images[0].id as string;
  const act = (action: string, token: string) => glance('POST', `/images/${id}/actions/${action}`, token);
  assert.equal((await act('deactivate', tA)).status, 403, 'admin only by default');
  await stack.oscOk(['image', 'set', '--deactivate', id]);
  assert.equal((await waitStatus(id, 'deactivated')).status, 'deactivated');
  assert.equal((await act('deactivate', tAdmin)).status, 204, 'already deactivated: no-op');
  const refused = await download(id);
  assert.equal(refused.status, 403);
  assert.match(refused.data.toString(), /The requested image has been deactivated\. Image data download is forbidden\./);
  assert.equal((await download(id, tAdmin)).status, 200);
  const net = (await stack.http('GET', '/network/v2.0/networks?name=private', { token: tA })).body.networks[0].id;
  const boot = await nova('POST', '/servers', tA, { server: { name: 'from-deactivated', flavorRef: '1', imageRef: id, networks: [{ uuid: net }] } });
  assert.equal(boot.status, 400, boot.text);
  assert.equal(boot.body.badRequest.message, `Image ${id} is not active.`);
  await stack.oscOk(['image', 'set', '--activate', id]);
  assert.equal((await waitStatus(id, 'active')).status, 'active');
  assert.equal((await act('reactivate', tAdmin)).status, 204, 'already active: no-op');
  // Only active ⇄ deactivated: a queued image is refused in Glance's words; a marketplace image is Azure's.
  const queued = await glance('POST', '/images', tA, { body: { name: 'empty', disk_format: 'raw', container_format: 'bare' } });
  const q = await glance('POST', `/images/${queued.body.id}/actions/deactivate`, tAdmin);
  assert.equal(q.status, 403);
  assert.match(q.text, /Not allowed to deactivate image in status 'queued'/);
  assert.equal((await glance('DELETE', `/images/${queued.body.id}`, tA)).status, 204);
  const market = (await glance('GET', '/images?name=ubuntu-22.04', tA)).body.images[0].id;
  assert.equal((await glance('POST', `/images/${market}/actions/deactivate`, tAdmin)).status, 403);
  assert.equal((await waitStatus(market, 'active')).status, 'active');
  // Tasks: Jacket runs no Glance import tasks; unknown and other projects' images are 404.
  const tasks = await glance('GET', `/images/${id}/tasks`, tA);
  assert.equal(tasks.status, 200);
  assert.deepEqual(tasks.body, { tasks: [] });
  assert.equal((await glance('GET', `/images/${id}/tasks`, tB)).status, 404);
  assert.equal((await glance('GET', '/images/00000000-0000-0000-0000-000000000000/tasks', tA)).status, 404);
});

test("a project never sees another project's private image; admins see all", async () => {
  const r = await stack.osc(['image', 'show', 'myimg'], bob);
  assert.notEqual(r.code, 0);
  const id = (await glance('GET', '/images?name=myimg', tA)).body.images[0].id;
  const show = await glance('GET', `/images/${id}`, tB);
  assert.equal(show.status, 404);
  assert.deepEqual(show.body, { code: '404 Not Found', title: 'Not Found', message: `No image found with ID ${id}<br /><br />\n\n` });
  const bobList = await glance('GET', '/images', tB);
  assert.ok(!bobList.body.images.some((i: { id: string }) => i.id === id));
  assert.equal((await nova('GET', `/images/${id}`, tB)).status, 404);
  assert.equal((await download(id, tB)).status, 404);
  const adminList = await glance('GET', '/images', tAdmin);
  assert.ok(adminList.body.images.some((i: { id: string }) => i.id === id));
});

test('Glance list: filters, sorting, limit/marker with first/next links; openstack image list follows next, --limit/--marker page', async () => {
  const ids: string[] = [];
  for (const n of ['page-1', 'page-2', 'page-3']) {
    const c = await glance('POST', '/images', tA, { body: { name: n, disk_format: 'raw', container_format: 'bare', tags: ['paging'] } });
    assert.equal(c.status, 201);
    ids.push(c.body.id);
  }
  const first = await glance('GET', '/images?tag=paging&limit=2&sort=name:asc', tA);
  assert.equal(first.status, 200);
  assert.deepEqual(
    first.body.images.map((i: { name: string }) => i.name),
    ['page-1', 'page-2'],
  );
  assert.equal(first.body.schema, '/v2/schemas/images');
  assert.equal(first.body.first, '/v2/images?tag=paging&limit=2&sort=name%3Aasc');
  assert.match(first.body.next, /^\/v2\/images\?.*marker=/);
  const second = await glance('GET', first.body.next.replace(/^\/v2/, ''), tA);
  assert.deepEqual(
    second.body.images.map((i: { name: string }) => i.name),
    ['page-3'],
  );
  assert.equal(second.body.next, undefined);
  const desc = await glance('GET', '/images?tag=paging&sort_key=name&sort_dir=desc', tA);
  assert.deepEqual(
    desc.body.images.map((i: { name: string }) => i.name),
    ['page-3', 'page-2', 'page-1'],
  );
  const queued = await glance('GET', '/images?status=queued&visibility=shared', tA);
  assert.deepEqual(queued.body.images.map((i: { id: string }) => i.id).sort(), [...ids].sort());
  assert.equal((await glance('GET', '/images?sort_key=bogus', tA)).status, 400);
  assert.equal((await glance('GET', '/images?limit=x', tA)).status, 400);
  assert.equal((await glance('GET', '/images?marker=00000000-0000-0000-0000-000000000000', tA)).status, 400);

  // past Glance's default page of 25 the CLI follows the next links; --limit/--marker page by hand
  await Promise.all(Array.from({ length: 20 }, (_, i) => glance('POST', '/images', tA, { body: { name: `bulk-${i}`, tags: ['bulk'] } })));
  const direct = await glance('GET', '/images', tA);
  assert.equal(direct.body.images.length, 25);
  assert.ok(direct.body.next);
  const all = await stack.oscJson<{ ID: string }[]>(['image', 'list'], alice);
  assert.equal(all.length, 26);
  assert.equal(new Set(all.map((i) => i.ID)).size, 26);
  const byHand = await stack.oscJson<{ ID: string }[]>(['image', 'list', '--limit', '2', '--marker', direct.body.images[1].id], alice);
  // (the CLI sorts what it got by name, so compare the page as a set)
  assert.deepEqual(
    byHand.map((i) => i.ID).sort(),
    direct.body.images
      .slice(2, 4)
      .map((i: { id: string }) => i.id)
      .sort(),
  );
});

test('Nova image proxy and image metadata match upstream schemas', async () => {
  const id = (await glance('GET', '/images?name=myimg', tA)).body.images[0].id;
  const index = await nova('GET', '/images', tA);
  assert.equal(index.status, 200);
  assertNovaResponse('images', 'ImagesController', 'index', MV, index.body);
  assert.ok(index.body.images.some((i: { id: string }) => i.id === id));
  const detail = await nova('GET', '/images/detail?limit=2', tA);
  assertNovaResponse('images', 'ImagesController', 'detail', MV, detail.body);
  assert.equal(detail.body.images.length, 2);
  assert.match(detail.body.images_links[0].href, /\/compute\/v2\.1\/images\/detail\?.*marker=/);
  const show = await nova('GET', `/images/${id}`, tA);
  assertNovaResponse('images', 'ImagesController', 'show', MV, show.body);
  assert.equal(show.body.image.status, 'ACTIVE');
  assert.equal(show.body.image.progress, 100);
  assert.equal(show.body.image['OS-EXT-IMG-SIZE:size'], 3 * MIB + 12345);
  assert.equal(show.body.image.minRam, 512);
  const queued = await nova('GET', '/images/detail?name=page-1', tA);
  assertNovaResponse('images', 'ImagesController', 'detail', MV, queued.body);
  assert.equal(queued.body.images[0].status, 'SAVING');
  assert.equal(queued.body.images[0].progress, 25);

  const meta = (p: string) => `/images/${id}/metadata${p}`;
  let r = await nova('POST', meta(''), tA, { metadata: { color: 'blue', size: 'L' } });
  assert.equal(r.status, 200);
  assertNovaResponse('image_metadata', 'ImageMetadataController', 'create', MV, r.body);
  assert.equal(r.body.metadata.color, 'blue');
  r = await nova('GET', meta('/color'), tA);
  assertNovaResponse('image_metadata', 'ImageMetadataController', 'show', MV, r.body);
  assert.deepEqual(r.body, { meta: { color: 'blue' } });
  r = await nova('PUT', meta('/color'), tA, { meta: { color: 'red' } });
  assertNovaResponse('image_metadata', 'ImageMetadataController', 'update', MV, r.body);
  assert.equal((await nova('PUT', meta('/color'), tA, { meta: { other: 'x' } })).status, 400);
  r = await nova('GET', meta(''), tA);
  assertNovaResponse('image_metadata', 'ImageMetadataController', 'index', MV, r.body);
  assert.equal(r.body.metadata.color, 'red');
  r = await nova('DELETE', meta('/size'), tA);
  assert.equal(r.status, 204);
  r = await nova('DELETE', meta('/size'), tA);
  assert.equal(r.status, 404);
  assert.equal(r.body.itemNotFound.message, 'Invalid metadata key');
  r = await nova('PUT', meta(''), tA, { metadata: { only: 'this' } });
  assertNovaResponse('image_metadata', 'ImageMetadataController', 'update_all', MV, r.body);
  assert.deepEqual((await glance('GET', `/images/${id}`, tA)).body.only, 'this');
  assert.equal((await nova('POST', meta(''), tA, { metadata: { 'bad/key': 'x' } })).status, 400);
  const tooMany = Object.fromEntries(Array.from({ length: 129 }, (_, i) => [`k${i}`, 'v']));
  assert.equal((await nova('PUT', meta(''), tA, { metadata: tooMany })).status, 403);

  // marketplace images are not the member's to change or delete; unknown ids are 404
  const ubuntu = index.body.images.find((i: { name: string }) => i.name === 'ubuntu-22.04').id;
  assert.equal((await nova('POST', `/images/${ubuntu}/metadata`, tA, { metadata: { a: 'b' } })).status, 403);
  const del = await nova('DELETE', `/images/${ubuntu}`, tA);
  assert.equal(del.status, 403);
  assert.equal(del.body.forbidden.message, 'You are not allowed to delete the image.');
  const missing = await nova('GET', '/images/00000000-0000-0000-0000-000000000000', tA);
  assert.equal(missing.status, 404);
  assert.equal(missing.body.itemNotFound.message, 'Image not found.');
});

test('a fixed VHD upload is checked, realigned to whole MiB and downloaded as sent; bad uploads change nothing', async () => {
  const dataBytes = 1.5 * MIB;
  const vhd = Buffer.concat([randomBytes(dataBytes), buildFixedVhdFooter({ sizeBytes: dataBytes })]);
  const id = await uploadRaw('vhd-img', vhd, tA, 'vhd');
  const img = await waitStatus(id, 'active');
  assert.equal(img.size, vhd.length);
  assert.equal(img.virtual_size, dataBytes);
  const blob = blobs.getContainerClient('images').getPageBlobClient(`image-${id}.vhd`);
  assert.equal((await blob.getProperties()).contentLength, 2 * MIB + 512);
  assert.equal(parseVhdFooter(await blob.downloadToBuffer(2 * MIB, 512)).currentSize, 2 * MIB);
  const d = await download(id);
  assert.deepEqual(d.data, vhd);

  // not a VHD: 400, image back to queued, no blob left
  const c = await glance('POST', '/images', tA, { body: { name: 'not-vhd', disk_format: 'vhd', container_format: 'bare' } });
  const bad = await fetch(`${stack.url}/image/v2/images/${c.body.id}/file`, {
    method: 'PUT',
    headers: { 'X-Auth-Token': tA, 'Content-Type': 'application/octet-stream' },
    body: randomBytes(4096),
  });
  assert.equal(bad.status, 400);
  assert.match(((await bad.json()) as { message: string }).message, /not a fixed VHD/);
  assert.equal((await glance('GET', `/images/${c.body.id}`, tA)).body.status, 'queued');
  assert.equal(await blobs.getContainerClient('images').getBlobClient(`image-${c.body.id}.vhd`).exists(), false);

  // a chunked upload of unknown length (the blob grows as pages arrive, across several 4 MiB pages)
  const big = randomBytes(9 * MIB + 7);
  const c2 = await glance('POST', '/images', tA, { body: { name: 'chunked', disk_format: 'raw', container_format: 'bare' } });
  const parts = [big.subarray(0, 5 * MIB), big.subarray(5 * MIB)];
  const streamed = await fetch(`${stack.url}/image/v2/images/${c2.body.id}/file`, {
    method: 'PUT',
    headers: { 'X-Auth-Token': tA, 'Content-Type': 'application/octet-stream' },
    body: new ReadableStream({
      pull(ctl) {
        const p = parts.shift();
        if (p) ctl.enqueue(p);
        else ctl.close();
      },
    }),
    duplex: 'half',
  } as RequestInit);
  assert.equal(streamed.status, 204, await streamed.text());
  assert.equal((await waitStatus(c2.body.id, 'active')).size, big.length);
  const bigBlob = blobs.getContainerClient('images').getPageBlobClient(`image-${c2.body.id}.vhd`);
  assert.equal((await bigBlob.getProperties()).contentLength, 10 * MIB + 512);
  assert.deepEqual((await download(c2.body.id)).data, big);

  // Glance's refusals
  const noFormat = await glance('POST', '/images', tA, { body: { name: 'no-format' } });
  const nf = await fetch(`${stack.url}/image/v2/images/${noFormat.body.id}/file`, {
    method: 'PUT',
    headers: { 'X-Auth-Token': tA, 'Content-Type': 'application/octet-stream' },
    body: Buffer.alloc(1024),
  });
  assert.equal(nf.status, 400);
  const qcow = await glance('POST', '/images', tA, { body: { name: 'q', disk_format: 'qcow2', container_format: 'bare' } });
  assert.equal(qcow.status, 400);
  assert.match(qcow.body.message, /^Provided object does not match schema 'image': 'qcow2' is not one of/);
  assert.equal((await glance('POST', '/images', tA, { body: { name: 'p', visibility: 'public' } })).status, 403);
  assert.equal((await glance('POST', '/images', tA, { body: { name: 's', status: 'active' } })).status, 403);
  const dup = await glance('POST', '/images', tA, { body: { id, name: 'dup' } });
  assert.equal(dup.status, 409);
  assert.equal((await glance('GET', '/images?name=q', tA)).body.images.length, 0);
});

test('openstack image delete removes the record, the managed image and the blob', async () => {
  const id = (await glance('GET', '/images?name=myimg', tA)).body.images[0].id;
  await stack.oscOk(['image', 'delete', 'myimg'], alice);
  assert.equal((await glance('GET', `/images/${id}`, tA)).status, 404);
  await imageGone(id, 'the managed image and the blob gone');
  // and the record is gone from the table, not only hidden
  assert.equal((await glance('GET', `/images/${id}`, tAdmin)).status, 404);
  assert.equal((await nova('DELETE', `/images/${id}`, tA)).status, 404);
});

test('ARM failures: a failed managed image leaves the image killed; a failed delete is retried until all is gone', async () => {
  const c = await glance('POST', '/images', tA, { body: { name: 'doomed', disk_format: 'raw', container_format: 'bare' } });
  const id = c.body.id as string;
  emu.emulator.faults.add({ method: 'PUT', path: `/providers/Microsoft.Compute/images/image-${id}$`, failAsync: true, code: 'InternalError', message: 'injected' });
  const res = await fetch(`${stack.url}/image/v2/images/${id}/file`, {
    method: 'PUT',
    headers: { 'X-Auth-Token': tA, 'Content-Type': 'application/octet-stream' },
    body: randomBytes(MIB),
  });
  assert.equal(res.status, 204);
  await waitStatus(id, 'killed');
  const shown = await nova('GET', `/images/${id}`, tA);
  assertNovaResponse('images', 'ImagesController', 'show', MV, shown.body);
  assert.equal(shown.body.image.status, 'ERROR');
  assert.equal((await download(id)).status, 204);

  // the first ARM delete fails; the work queue retries the step and the cleanup completes
  emu.emulator.faults.add({ method: 'DELETE', path: `/providers/Microsoft.Compute/images/image-${id}$`, status: 500, code: 'InternalServerError', message: 'injected' });
  assert.equal((await glance('DELETE', `/images/${id}`, tA)).status, 204);
  assert.equal((await glance('GET', `/images/${id}`, tA)).status, 404);
  await imageGone(id, 'the cleanup after the failed delete');
  const deletes = emu.emulator.recorder.list().filter((r: { method: string; path: string }) => r.method === 'DELETE' && r.path.endsWith(`/images/image-${id}`));
  assert.ok(deletes.length >= 2, `ARM delete was retried (${deletes.length} calls)`);
});
