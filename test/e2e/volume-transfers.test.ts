// Cinder volume transfers end to end: the real `openstack volume transfer request create/list/show/
// accept/delete` and HTTP, with the volume, its snapshots and their quota usage moving to the accepting
// project, the disk's project tag following in the ARM emulator; wrong keys, other projects, the
// receiver's quota and racing accepts refused as Cinder refuses them, with nothing changed.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Stack } from '../support/stack';
import { startArmStack, waitFor as until } from '../support/armStack';
import { tokenProjectId, type ProjectUser } from '../support/fixtures';
import { assertCinderShape } from '../support/cinderShapes';
import { createAzureClients, type AzureClients } from '../../shared/azure/clients';
import { volumeTables } from '../../shared/volume/model';
import { volumeLedger } from '../../shared/volume/quotas/engine';

type User = ProjectUser;
let stack: Stack;
let arm: AzureClients;
let alice: User;
let bob: User;
let carol: User;
const tok: Record<string, string> = {};
let tAdmin: string;
let adminProject: string;
const RG = 'ops_resource_group';

before(async () => {
  stack = (await startArmStack({ asyncDelayMs: 50 })).stack;
  arm = createAzureClients(stack.cloud.services.config);
  alice = await stack.makeProjectUser('vt-a', 'vtalice');
  bob = await stack.makeProjectUser('vt-b', 'vtbob');
  carol = await stack.makeProjectUser('vt-c', 'vtcarol');
  [tok.a, tok.b, tok.c, tAdmin] = await Promise.all([stack.token(alice), stack.token(bob), stack.token(carol), stack.token()]);
  adminProject = await tokenProjectId(stack, tAdmin);
});
after(async () => {
  await stack?.stop();
});

const as = (u: User, method: string, p: string, body?: unknown) => stack.http(method, `/volume/v3/${u.projectId}${p}`, { token: tok[u === alice ? 'a' : u === bob ? 'b' : 'c'], body });
const asAdmin = (method: string, p: string, body?: unknown) => stack.http(method, `/volume/v3/${adminProject}${p}`, { token: tAdmin, body });

async function newVolume(u: User, name: string, size = 1): Promise<string> {
  const r = await as(u, 'POST', '/volumes', { volume: { size, name } });
  assert.equal(r.status, 202, r.text);
  const id = r.body.volume.id as string;
  await until(`${name} available`, async () => ((await as(u, 'GET', `/volumes/${id}`)).body?.volume?.status === 'available' ? true : undefined));
  return id;
}

/** in_use and reserved per resource, as quota show --usage gives them. */
async function usage(u: User): Promise<Record<string, { in_use: number; reserved: number }>> {
  const r = await as(u, 'GET', `/os-quota-sets/${u.projectId}?usage=true`);
  assert.equal(r.status, 200, r.text);
  return r.body.quota_set;
}
const used = async (u: User) => {
  const q = await usage(u);
  return { volumes: q.volumes.in_use, gigabytes: q.gigabytes.in_use, snapshots: q.snapshots.in_use, reserved: q.volumes.reserved + q.gigabytes.reserved + q.snapshots.reserved };
};

/** Everything a refusal must leave as it was: the volume (giver's view), the transfer, both projects' usage. */
async function state(volumeId: string, transferId: string, giver: User, others: User[]) {
  const vol = await as(giver, 'GET', `/volumes/${volumeId}`);
  const tr = await as(giver, 'GET', `/os-volume-transfer/${transferId}`);
  return {
    volume: { status: vol.status, vstatus: vol.body?.volume?.status, tenant: vol.body?.volume?.['os-vol-tenant-attr:tenant_id'] },
    transfer: tr.status,
    usage: await Promise.all([giver, ...others].map(used)),
  };
}

test('CLI: create, list, show, accept by another project; the volume, its snapshot and their usage move; wrong key refused', async () => {
  const vol = await newVolume(alice, 'xfer-1');
  const snap = await as(alice, 'POST', '/snapshots', { snapshot: { volume_id: vol, name: 'xfer-1-s' } });
  assert.equal(snap.status, 202, snap.text);
  const snapId = snap.body.snapshot.id as string;
  await until('snapshot available', async () => ((await as(alice, 'GET', `/snapshots/${snapId}`)).body?.snapshot?.status === 'available' ? true : undefined));
  const before = { a: await used(alice), b: await used(bob) };
  assert.deepEqual(before.a, { volumes: 1, gigabytes: 2, snapshots: 1, reserved: 0 });

  const created = await stack.oscJson<Record<string, string>>(['volume', 'transfer', 'request', 'create', '--name', 'to-bob', vol], alice);
  assert.equal(created.name, 'to-bob');
  assert.equal(created.volume_id, vol);
  assert.match(created.auth_key, /^[0-9a-f]{16}$/);
  assert.ok(created.created_at && created.id);
  const tid = created.id;
  assert.equal((await as(alice, 'GET', `/volumes/${vol}`)).body.volume.status, 'awaiting-transfer');
  // A volume awaiting transfer cannot be deleted (Cinder's delete message names the transfer).
  assert.equal((await as(alice, 'DELETE', `/volumes/${vol}`)).status, 400);

  // The auth key is shown once: never in show or list, and not stored (only its salted hash).
  const shown = await stack.oscJson<Record<string, string>>(['volume', 'transfer', 'request', 'show', tid], alice);
  assert.deepEqual(Object.keys(shown).sort(), ['created_at', 'id', 'name', 'volume_id']);
  const raw = await as(alice, 'GET', `/os-volume-transfer/${tid}`);
  assertCinderShape('volume_transfer/volume-transfer-show-response.json', raw.body);
  assert.ok(!raw.text.includes(created.auth_key));
  const rec = (await volumeTables(stack.cloud.services).transfers.get(alice.projectId, tid))!.value;
  assert.ok(!JSON.stringify(rec).includes(created.auth_key));
  assert.match(rec.crypt_hash, /^[0-9a-f]{40}$/);
  const listed = await stack.oscJson<{ ID: string; Name: string; Volume: string }[]>(['volume', 'transfer', 'request', 'list'], alice);
  assert.deepEqual(listed, [{ ID: tid, Name: 'to-bob', Volume: vol }]);

  // Other projects see nothing of it (Cinder filters transfers by their volume's project).
  assert.deepEqual(await stack.oscJson(['volume', 'transfer', 'request', 'list'], bob), []);
  const bobShow = await as(bob, 'GET', `/os-volume-transfer/${tid}`);
  assert.equal(bobShow.status, 404);
  assert.equal(bobShow.body.itemNotFound.message, `Transfer ${tid} could not be found.`);
  assert.notEqual((await stack.osc(['volume', 'transfer', 'request', 'show', tid], bob)).code, 0);
  assert.equal((await as(bob, 'DELETE', `/os-volume-transfer/${tid}`)).status, 404);
  // Admins list every project's with all_tenants.
  const adminAll = await asAdmin('GET', '/os-volume-transfer/detail?all_tenants=1');
  assert.ok(adminAll.body.transfers.some((x: { id: string }) => x.id === tid));
  assert.ok(!(await asAdmin('GET', '/os-volume-transfer')).body.transfers.some((x: { id: string }) => x.id === tid));

  // A wrong key: Cinder's InvalidAuthKey, 400; nothing changes.
  const st0 = await state(vol, tid, alice, [bob]);
  const wrong = await as(bob, 'POST', `/os-volume-transfer/${tid}/accept`, { accept: { auth_key: '0000000000000000' } });
  assert.equal(wrong.status, 400);
  assert.equal(wrong.body.badRequest.message, `Invalid auth key: Attempt to transfer ${tid} with invalid auth key.`);
  const wrongCli = await stack.osc(['volume', 'transfer', 'request', 'accept', '--auth-key', 'nope', tid], bob);
  assert.notEqual(wrongCli.code, 0);
  assert.match(wrongCli.stderr, /invalid auth key/i);
  assert.deepEqual(await state(vol, tid, alice, [bob]), st0);
  const missing = await as(bob, 'POST', `/os-volume-transfer/00000000-0000-4000-8000-000000000000/accept`, { accept: { auth_key: created.auth_key } });
  assert.equal(missing.status, 404);

  // Accepted by bob through the CLI.
  const acc = await stack.oscJson<Record<string, string>>(['volume', 'transfer', 'request', 'accept', '--auth-key', created.auth_key, tid], bob);
  assert.equal(acc.id, tid);
  assert.equal(acc.volume_id, vol);
  const bobVol = await as(bob, 'GET', `/volumes/${vol}`);
  assert.equal(bobVol.status, 200);
  assert.equal(bobVol.body.volume.status, 'available');
  assert.equal(bobVol.body.volume.user_id, bob.userId);
  assert.equal(bobVol.body.volume['os-vol-tenant-attr:tenant_id'], bob.projectId);
  assert.equal((await as(alice, 'GET', `/volumes/${vol}`)).status, 404);
  assert.ok((await as(bob, 'GET', '/volumes')).body.volumes.some((x: { id: string }) => x.id === vol));
  assert.ok(!(await as(alice, 'GET', '/volumes')).body.volumes.some((x: { id: string }) => x.id === vol));
  // Its snapshot moved with it (no_snapshots is False at 3.0).
  assert.equal((await as(bob, 'GET', `/snapshots/${snapId}`)).status, 200);
  assert.equal((await as(alice, 'GET', `/snapshots/${snapId}`)).status, 404);
  // Usage: the giver's released, the receiver's committed.
  assert.deepEqual(await used(alice), { volumes: 0, gigabytes: 0, snapshots: 0, reserved: 0 });
  assert.deepEqual(await used(bob), { volumes: before.b.volumes + 1, gigabytes: before.b.gigabytes + 2, snapshots: before.b.snapshots + 1, reserved: 0 });
  // The transfer is gone for everyone.
  assert.equal((await as(alice, 'GET', `/os-volume-transfer/${tid}`)).status, 404);
  assert.deepEqual(await stack.oscJson(['volume', 'transfer', 'request', 'list'], alice), []);
  // The disk stays where it is; its project tag follows (and the snapshot's).
  await until('disk retagged', async () => ((await arm.compute.disks.get(RG, `volume-${vol}`)).tags?.['jacket-project-id'] === bob.projectId ? true : undefined));
  await until('snapshot retagged', async () => ((await arm.compute.snapshots.get(RG, `snapshot-${snapId}`)).tags?.['jacket-project-id'] === bob.projectId ? true : undefined));
  // The receiver owns it fully: it deletes the volume and its snapshot.
  assert.equal((await as(bob, 'DELETE', `/volumes/${vol}?cascade=true`)).status, 202);
  await until('volume deleted', async () => ((await as(bob, 'GET', `/volumes/${vol}`)).status === 404 ? true : undefined));
  assert.deepEqual(await used(bob), before.b);
});

test('HTTP bodies as Cinder; delete cancels (volume available again); the v3 /volume-transfers twin', async () => {
  const vol = await newVolume(alice, 'xfer-2');
  const c = await as(alice, 'POST', '/os-volume-transfer', { transfer: { volume_id: vol, name: '  spaced  ' } });
  assert.equal(c.status, 202, c.text);
  assertCinderShape('volume_transfer/volume-transfer-create-response.json', c.body);
  assert.equal(c.body.transfer.name, 'spaced');
  const tid = c.body.transfer.id;
  assert.ok(c.body.transfer.links[0].href.endsWith(`/volume/v3/${alice.projectId}/os-volume-transfer/${tid}`));
  assertCinderShape('volume_transfer/volume-transfers-list-response.json', (await as(alice, 'GET', '/os-volume-transfer')).body);
  assertCinderShape('volume_transfer/volume-transfers-list-detailed-response.json', (await as(alice, 'GET', '/os-volume-transfer/detail')).body);
  assert.equal((await as(alice, 'GET', '/os-volume-transfer?name=spaced')).body.transfers.length, 1);
  assert.equal((await as(alice, 'GET', '/os-volume-transfer?name=other')).body.transfers.length, 0);
  assert.deepEqual((await as(alice, 'GET', '/volume-transfers/detail')).body, (await as(alice, 'GET', '/os-volume-transfer/detail')).body);
  // A second transfer of the same volume: it is no longer available.
  const again = await as(alice, 'POST', '/os-volume-transfer', { transfer: { volume_id: vol } });
  assert.equal(again.status, 400);
  assert.equal(again.body.badRequest.message, 'Invalid volume: status must be available');
  // Bad bodies change nothing.
  assert.equal((await as(alice, 'POST', '/os-volume-transfer', { transfer: { volume_id: 'nope' } })).status, 400);
  assert.equal((await as(alice, 'POST', '/os-volume-transfer', { transfer: { volume_id: vol, no_snapshots: true } })).status, 400);
  assert.equal((await as(alice, 'POST', `/os-volume-transfer/${tid}/accept`, { accept: {} })).status, 400);
  // Another project's volume cannot be offered.
  const bobsView = await as(bob, 'POST', '/os-volume-transfer', { transfer: { volume_id: vol } });
  assert.equal(bobsView.status, 404);
  assert.equal(bobsView.body.itemNotFound.message, `Volume ${vol} could not be found.`);

  await stack.oscOk(['volume', 'transfer', 'request', 'delete', tid], alice);
  assert.equal((await as(alice, 'GET', `/volumes/${vol}`)).body.volume.status, 'available');
  assert.equal((await as(alice, 'GET', `/os-volume-transfer/${tid}`)).status, 404);
  const late = await as(bob, 'POST', `/os-volume-transfer/${tid}/accept`, { accept: { auth_key: c.body.transfer.auth_key } });
  assert.equal(late.status, 404);
  assert.equal(late.body.itemNotFound.message, `Transfer ${tid} could not be found.`);

  // The same through /volume-transfers: create, accept by bob.
  const v3 = await as(alice, 'POST', '/volume-transfers', { transfer: { volume_id: vol, name: 'v3' } });
  assert.equal(v3.status, 202, v3.text);
  assert.equal(v3.body.transfer.name, 'v3');
  const a3 = await as(bob, 'POST', `/volume-transfers/${v3.body.transfer.id}/accept`, { accept: { auth_key: v3.body.transfer.auth_key } });
  assert.equal(a3.status, 202, a3.text);
  assertCinderShape('volume_transfer/volume-transfer-accept-response.json', a3.body);
  assert.equal((await as(bob, 'GET', `/volumes/${vol}`)).body.volume.status, 'available');
  assert.equal((await as(bob, 'DELETE', `/volumes/${vol}`)).status, 202);
});

test("the receiver's quota: Cinder's 413s, and nothing changes", async () => {
  const vol = await newVolume(alice, 'xfer-3', 2);
  const c = await as(alice, 'POST', '/os-volume-transfer', { transfer: { volume_id: vol, name: 'to-carol' } });
  const tid = c.body.transfer.id;
  const key = c.body.transfer.auth_key;
  const accept = () => as(carol, 'POST', `/os-volume-transfer/${tid}/accept`, { accept: { auth_key: key } });
  const st0 = await state(vol, tid, alice, [carol]);

  await stack.oscOk(['quota', 'set', '--volumes', '0', 'vt-c']);
  let r = await accept();
  assert.equal(r.status, 413);
  assert.equal(r.headers.get('retry-after'), '0');
  assert.equal(r.body.overLimit.message, "Maximum number of volumes allowed (0) exceeded for quota 'volumes'.");
  assert.deepEqual(await state(vol, tid, alice, [carol]), st0);

  await stack.oscOk(['quota', 'set', '--volumes', '10', '--gigabytes', '1', 'vt-c']);
  r = await accept();
  assert.equal(r.status, 413);
  assert.equal(r.body.overLimit.message, 'Requested volume or snapshot exceeds allowed gigabytes quota. Requested 2G, quota is 1G and 0G has been consumed.');
  assert.deepEqual(await state(vol, tid, alice, [carol]), st0);

  await stack.oscOk(['quota', 'set', '--gigabytes', '1000', '--per-volume-gigabytes', '1', 'vt-c']);
  r = await accept();
  assert.equal(r.status, 413);
  assert.equal(r.body.overLimit.message, 'Requested volume size 2G is larger than maximum allowed limit 1G.');
  assert.deepEqual(await state(vol, tid, alice, [carol]), st0);

  await stack.oscOk(['quota', 'set', '--per-volume-gigabytes', '-1', 'vt-c']);
  r = await accept();
  assert.equal(r.status, 202, r.text);
  assert.equal((await as(carol, 'GET', `/volumes/${vol}`)).body.volume.status, 'available');
  assert.deepEqual(await used(carol), { volumes: 1, gigabytes: 2, snapshots: 0, reserved: 0 });
  assert.equal((await as(carol, 'DELETE', `/volumes/${vol}`)).status, 202);
  await until('volume deleted', async () => ((await as(carol, 'GET', `/volumes/${vol}`)).status === 404 ? true : undefined));
});

test('racing accepts (two projects, three each): exactly one wins; the losers change nothing', async () => {
  const vol = await newVolume(alice, 'xfer-4');
  const c = await as(alice, 'POST', '/os-volume-transfer', { transfer: { volume_id: vol } });
  const tid = c.body.transfer.id;
  const key = c.body.transfer.auth_key;
  const before = { a: await used(alice), b: await used(bob), c: await used(carol) };
  const tries = [bob, carol, bob, carol, bob, carol].map((u) => as(u, 'POST', `/os-volume-transfer/${tid}/accept`, { accept: { auth_key: key } }).then((r) => ({ u, r })));
  const results = await Promise.all(tries);
  const wins = results.filter((x) => x.r.status === 202);
  assert.equal(wins.length, 1, JSON.stringify(results.map((x) => [x.r.status, x.r.text])));
  for (const x of results.filter((y) => y.r.status !== 202)) {
    assert.ok([400, 404].includes(x.r.status), x.r.text);
    if (x.r.status === 400) assert.equal(x.r.body.badRequest.message, `Invalid volume: Transfer ${tid}: Volume id ${vol} expected in awaiting-transfer state.`);
  }
  const winner = wins[0].u;
  const loser = winner === bob ? carol : bob;
  assert.equal((await as(winner, 'GET', `/volumes/${vol}`)).body.volume.status, 'available');
  assert.equal((await as(loser, 'GET', `/volumes/${vol}`)).status, 404);
  assert.equal((await as(alice, 'GET', `/volumes/${vol}`)).status, 404);
  assert.deepEqual(await used(alice), { ...before.a, volumes: before.a.volumes - 1, gigabytes: before.a.gigabytes - 1 });
  const w = winner === bob ? before.b : before.c;
  assert.deepEqual(await used(winner), { ...w, volumes: w.volumes + 1, gigabytes: w.gigabytes + 1 });
  assert.deepEqual(await used(loser), winner === bob ? before.c : before.b);
  // The index and order rows follow: the winner's admin-free lookups and lists see it once.
  assert.equal((await as(winner, 'GET', '/volumes/detail')).body.volumes.filter((x: { id: string }) => x.id === vol).length, 1);
  assert.equal((await asAdmin('GET', `/volumes/${vol}`)).body.volume['os-vol-tenant-attr:tenant_id'], winner.projectId);
});

test("an accept cut short mid-move (the worker dies before the giver's record goes) is resumed by the same project's retry after 5 minutes; nothing is lost or counted twice", async () => {
  const vol = await newVolume(alice, 'xfer-crash');
  const c = await as(alice, 'POST', '/os-volume-transfer', { transfer: { volume_id: vol } });
  assert.equal(c.status, 202, c.text);
  const tid = c.body.transfer.id;
  const key = c.body.transfer.auth_key;
  const before = { a: await used(alice), b: await used(bob) };
  // The fault: every write to the giver's volumes partition fails once the receiver's copy of the
  // volume is written (the move's last step before the giver's record is deleted), as a dead worker would.
  const s = stack.cloud.services;
  const tables = s.tables;
  const orig = tables.client.bind(tables);
  let armed = true;
  let receiverWritten = false;
  let cut = 0;
  tables.client = async (name: string) => {
    const client = await orig(name);
    if (name !== 'volumes') return client;
    return new Proxy(client, {
      get(target, prop, receiver) {
        const v = Reflect.get(target, prop, receiver);
        if (typeof v !== 'function') return v;
        return (...args: unknown[]) => {
          const first = prop === 'submitTransaction' ? (args[0] as [string, { partitionKey: string }][])[0] : undefined;
          const pk = first ? first[1].partitionKey : prop === 'deleteEntity' ? (args[0] as string) : undefined;
          if (prop === 'submitTransaction' && pk === bob.projectId) receiverWritten = true;
          if (armed && receiverWritten && pk === alice.projectId) {
            cut++;
            return Promise.reject(new Error('injected: the worker died'));
          }
          return (v as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
  };
  let first;
  try {
    first = await as(bob, 'POST', `/os-volume-transfer/${tid}/accept`, { accept: { auth_key: key } });
  } finally {
    armed = false;
    delete (tables as { client?: unknown }).client;
  }
  assert.equal(first.status, 500, first.text);
  assert.ok(cut >= 1);
  // Cut short: the receiver's copy exists, the giver's record still holds the claim.
  const t = volumeTables(s);
  assert.ok(await t.volumes.get(bob.projectId, vol), "the receiver's record was written");
  const held = (await t.volumes.get(alice.projectId, vol))!;
  assert.equal(held.value.accepting?.project_id, bob.projectId);
  // Within the 5 minutes a retry is a racing accept still at work: refused, nothing changes.
  const early = await as(bob, 'POST', `/os-volume-transfer/${tid}/accept`, { accept: { auth_key: key } });
  assert.equal(early.status, 400, early.text);
  // Another project cannot take over the claim, however old.
  await t.volumes.update(alice.projectId, vol, (v) => ({ ...v, accepting: { ...v.accepting!, at: new Date(Date.now() - 6 * 60 * 1000).toISOString() } }));
  assert.equal((await as(carol, 'POST', `/os-volume-transfer/${tid}/accept`, { accept: { auth_key: key } })).status, 400);
  // The same project's retry after 5 minutes resumes the move and finishes it.
  const resumed = await as(bob, 'POST', `/os-volume-transfer/${tid}/accept`, { accept: { auth_key: key } });
  assert.equal(resumed.status, 202, resumed.text);
  assert.equal(resumed.body.transfer.volume_id, vol);
  assert.equal((await as(bob, 'GET', `/volumes/${vol}`)).body.volume.status, 'available');
  assert.equal((await as(alice, 'GET', `/volumes/${vol}`)).status, 404);
  assert.equal(await t.volumes.get(alice.projectId, vol), undefined, "the giver's record is gone");
  for (const [u, n] of [
    [alice, 0],
    [bob, 1],
  ] as const)
    assert.equal((await as(u, 'GET', '/volumes/detail?limit=50')).body.volumes.filter((x: { id: string }) => x.id === vol).length, n, `listed once, by the receiver only (${u.projectId})`);
  assert.equal((await as(alice, 'GET', `/os-volume-transfer/${tid}`)).status, 404);
  // Usage moved once, and the recount agrees.
  assert.deepEqual(await used(alice), { ...before.a, volumes: before.a.volumes - 1, gigabytes: before.a.gigabytes - 1 });
  assert.deepEqual(await used(bob), { ...before.b, volumes: before.b.volumes + 1, gigabytes: before.b.gigabytes + 1 });
  for (const u of [alice, bob]) await volumeLedger(s).recount(u.projectId);
  assert.deepEqual(await used(alice), { ...before.a, volumes: before.a.volumes - 1, gigabytes: before.a.gigabytes - 1 });
  assert.deepEqual(await used(bob), { ...before.b, volumes: before.b.volumes + 1, gigabytes: before.b.gigabytes + 1 });
});
