// Images under persistent ARM faults, end to end on the long-action engine with a small retry budget
// (JACKET_WORK_RETRY_FAILURES=3, polls capped at 2 s): an import whose managed-image PUT keeps failing
// ends in Glance's `killed` within the budget and stops calling Azure; a deletion whose DELETE keeps
// failing is given up hidden and marked, and the image sweep finishes it once Azure recovers. And the
// sweeps, now listing through the driver's inventory and asking the owning services, still delete only
// Jacket-tagged orphans that two passes in a row agreed on.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BlobServiceClient } from '@azure/storage-blob';
import { startArmStack, waitFor, type ArmStack } from '../support/armStack';
import type { Creds } from '../support/stack';
import type { Services } from '../../shared/services';
import { sweepImages } from '../../shared/timers/images';
import { sweepDisks } from '../../shared/timers/disks';
import { sweepNics } from '../../shared/timers/nics';
import { ledger } from '../../shared/work/ledger';
import type { SweepReport } from '../../shared/timers/sweep';

let arm: ArmStack;
let s: Services;
let blobs: BlobServiceClient;
let alice: Creds & { projectId: string; userId: string };
let tAlice: string;
let dir: string;
const RG = 'ops_resource_group';
const FAST = { updateIntervalInMs: 100 };
/** The engine's budget in this stack: 3 failed tries in a row, backoff 1 s then 2 s (the cap). */
const RETRY_FAILURES = 3;
/** What the budget allows, with room for the queue's own latency: the image must be stable by then. */
const BUDGET_MS = 30_000;

before(async () => {
  arm = await startArmStack({
    asyncDelayMs: 100,
    settings: { JACKET_WORK_RETRY_FAILURES: String(RETRY_FAILURES), JACKET_WORK_POLL_CAP_SECONDS: '2', JACKET_WORK_POLL_FLOOR_SECONDS: '1' },
  });
  s = arm.stack.cloud.services;
  blobs = BlobServiceClient.fromConnectionString(arm.stack.cloud.settings.JACKET_STORAGE_CONNECTION_STRING);
  alice = await arm.stack.makeProjectUser('imgfail-a', 'ifalice');
  tAlice = await arm.stack.token(alice);
  dir = mkdtempSync(path.join(tmpdir(), 'jacket-imgfail-'));
});
after(async () => {
  arm?.control.close();
  await arm?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const glance = (method: string, p: string) => arm.stack.http(method, `/image/v2${p}`, { token: tAlice });
const skipped = (r: SweepReport, reason: string) => r.skipped[reason] ?? 0;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const imagePath = (id: string) => `/providers/Microsoft.Compute/images/image-${id}$`;

async function createImage(name: string): Promise<string> {
  const file = path.join(dir, `${name}.raw`);
  writeFileSync(file, Buffer.alloc(1024 * 1024, 5));
  const created = await arm.stack.oscJson(['image', 'create', '--disk-format', 'raw', '--container-format', 'bare', '--file', file, name], alice);
  return created.id as string;
}

async function ledgerRow(kind: string, id: string) {
  return ledger(s).get('work', `${kind}:${id}`);
}

test('an import whose managed-image PUT fails persistently (500 x20) ends killed within the retry budget, and stops calling Azure', async () => {
  // The fault must be in place before the upload: match any image PUT, then check it was ours.
  const fault = await arm.control.addFault({ method: 'PUT', path: '/providers/Microsoft.Compute/images/image-', status: 500, code: 'InternalServerError', message: 'injected: persistent', count: 20 });
  try {
    const started = Date.now();
    const id = await createImage('doomed-import');
    const killed = await waitFor('image killed', async () => ((await glance('GET', `/images/${id}`)).body?.status === 'killed' ? true : undefined), BUDGET_MS);
    assert.equal(killed, true);
    const took = Date.now() - started;
    const shown = await arm.stack.oscJson(['image', 'show', id], alice);
    assert.equal(shown.status, 'killed');
    const puts = await arm.control.countRequests('PUT', imagePath(id));
    assert.equal(puts, RETRY_FAILURES, `one PUT per try of the budget (${puts})`);
    assert.equal(await arm.control.countRequests('GET', imagePath(id)), 0, 'no GET before the PUT');
    // Stable: nothing more is tried, and the action left the ledger.
    await sleep(3000);
    assert.equal(await arm.control.countRequests('PUT', imagePath(id)), RETRY_FAILURES);
    assert.equal((await glance('GET', `/images/${id}`)).body.status, 'killed');
    assert.equal(await ledgerRow('image-managed-create', id), undefined);
    // A killed image has no data to give, and deleting it removes the blob and the record.
    assert.equal((await glance('GET', `/images/${id}/file`)).status, 204);
    await arm.stack.oscOk(['image', 'delete', id], alice);
    await waitFor(
      'killed image cleaned up',
      async () => {
        const gone = (await glance('GET', `/images/${id}`)).status === 404 && !(await blobs.getContainerClient('images').getBlobClient(`image-${id}.vhd`).exists());
        return gone && (await ledgerRow('image-delete', id)) === undefined ? true : undefined;
      },
      BUDGET_MS,
    );
    console.log(`# import fault: killed after ${took} ms, ${puts} PUTs`);
  } finally {
    await arm.control.clearFaults();
    void fault;
  }
});

test('a deletion whose DELETE fails past the budget stays hidden and marked; the image sweep finishes it once Azure recovers', async () => {
  const id = await createImage('doomed-delete');
  await waitFor('image active', async () => ((await glance('GET', `/images/${id}`)).body?.status === 'active' ? true : undefined), BUDGET_MS);
  // ARM calls of an upload at the floor: one PUT (no GET before it), then GETs paced by Retry-After.
  assert.equal(await arm.control.countRequests('PUT', imagePath(id)), 1);
  const polls = await arm.control.countRequests('GET', imagePath(id));
  assert.ok(polls >= 1 && polls <= 3, `polls ${polls}`);
  console.log(`# upload: 1 PUT, ${polls} GET`);
  assert.ok(await arm.compute.images.get(RG, `image-${id}`));
  await arm.control.addFault({ method: 'DELETE', path: imagePath(id), status: 500, code: 'InternalServerError', message: 'injected', count: RETRY_FAILURES });
  assert.equal((await glance('DELETE', `/images/${id}`)).status, 204);
  // Given up after the budget: the ledger row goes, the record stays marked (deleting) and hidden.
  await waitFor(
    'deletion given up',
    async () => ((await arm.control.countRequests('DELETE', imagePath(id))) >= RETRY_FAILURES && !(await ledgerRow('image-delete', id)) ? true : undefined),
    BUDGET_MS,
  );
  assert.equal((await glance('GET', `/images/${id}`)).status, 404);
  assert.ok(await arm.compute.images.get(RG, `image-${id}`), 'the managed image is still on Azure');
  assert.ok(await blobs.getContainerClient('images').getBlobClient(`image-${id}.vhd`).exists(), 'the blob waits for the managed image');

  // The fault is spent: the sweep (two passes) runs the step again, and the engine follows Azure's delete.
  const first = await sweepImages(s);
  assert.equal(first.deleted, 0);
  assert.ok(skipped(first, 'first-pass') >= 1, JSON.stringify(first));
  await waitFor(
    'image deletion finished by the sweep',
    async () => {
      const r = await sweepImages(s);
      return r.deletedNames.includes(id) ||
        (await arm.compute.images.get(RG, `image-${id}`).then(
          () => false,
          () => true,
        ))
        ? true
        : undefined;
    },
    BUDGET_MS,
  );
  await waitFor('blob and record gone', async () => (!(await blobs.getContainerClient('images').getBlobClient(`image-${id}.vhd`).exists()) ? true : undefined), BUDGET_MS);
  assert.equal((await glance('GET', `/images/${id}`)).status, 404);
});

test('the sweeps delete only Jacket-tagged orphans that two passes agreed on', async () => {
  const vnet = arm.emu.emulator.cfg.seed.virtualNetworks[0];
  const subnet = `/subscriptions/${arm.emu.subscriptionId}/resourceGroups/${vnet.resourceGroup}/providers/Microsoft.Network/virtualNetworks/${vnet.name}/subnets/${vnet.subnets[0].name}`;
  const orphanVolume = randomUUID();
  const foreignVolume = randomUUID();
  const disk = (name: string, tags: Record<string, string>) =>
    arm.compute.disks.createOrUpdate(RG, name, { location: 'eastus', sku: { name: 'Standard_LRS' }, diskSizeGB: 1, creationData: { createOption: 'Empty' }, tags }, FAST);
  await disk(`volume-${orphanVolume}`, { jacket: 'volume', 'jacket-volume-id': orphanVolume });
  await disk(`volume-${foreignVolume}`, { owner: 'someone-else' }); // named like ours, not tagged
  const orphanServer = randomUUID();
  const nic = (name: string, tags: Record<string, string>) =>
    arm.network.networkInterfaces.beginCreateOrUpdateAndWait(
      RG,
      name,
      { location: 'eastus', tags, ipConfigurations: [{ name: 'ipconfig1', subnet: { id: subnet }, privateIPAllocationMethod: 'Dynamic' }] },
      FAST,
    );
  await nic(orphanServer, { jacket: 'server', 'jacket-server-id': orphanServer });
  await nic('foreign-nic', { jacket: 'server', 'jacket-server-id': orphanServer }); // tagged, but not Jacket's naming
  // A volume made through the API: its disk is owned (the volumes' own answer).
  const vol = await arm.stack.oscJson(['volume', 'create', '--size', '1', 'kept'], alice);
  await waitFor(
    'volume available',
    async () => ((await arm.stack.http('GET', `/volume/v3/${alice.projectId}/volumes/${vol.id}`, { token: tAlice })).body?.volume?.status === 'available' ? true : undefined),
    BUDGET_MS,
  );

  const d1 = await sweepDisks(s);
  const n1 = await sweepNics(s);
  assert.equal(d1.deleted + n1.deleted, 0, 'nothing on the first pass');
  assert.ok(skipped(d1, 'first-pass') >= 1 && skipped(n1, 'first-pass') >= 1);
  assert.ok(skipped(d1, 'volume-record') >= 1, JSON.stringify(d1));
  const d2 = await sweepDisks(s);
  const n2 = await sweepNics(s);
  assert.deepEqual(d2.deletedNames, [`volume-${orphanVolume}`]);
  assert.deepEqual(n2.deletedNames, [orphanServer]);
  assert.ok(skipped(d2, 'not-jacket') >= 1 && skipped(n2, 'not-jacket') >= 1);
  const exists = (p: Promise<unknown>) =>
    p.then(
      () => true,
      (e) => (e.statusCode === 404 ? false : Promise.reject(e)),
    );
  assert.equal(await exists(arm.compute.disks.get(RG, `volume-${orphanVolume}`)), false);
  assert.equal(await exists(arm.compute.disks.get(RG, `volume-${foreignVolume}`)), true);
  assert.equal(await exists(arm.compute.disks.get(RG, `volume-${vol.id}`)), true, 'a volume record owns its disk');
  assert.equal(await exists(arm.network.networkInterfaces.get(RG, orphanServer)), false);
  assert.equal(await exists(arm.network.networkInterfaces.get(RG, 'foreign-nic')), true);
});
