// "Only what Jacket created": the sweeps' name-and-tags proofs over the driver's inventory items
// (shared/timers/disks.ts, nics.ts, reconcile.ts). Both the name and the tags must say Jacket made it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { jacketOwnerOf } from '../../shared/timers/disks';
import { jacketServerOfNic } from '../../shared/timers/nics';
import { jacketGroupOfNsg } from '../../shared/timers/nsgs';
import { jacketGroupOfAsg } from '../../shared/timers/asgs';
import { jacketServerOf } from '../../shared/timers/reconcile';

const id = randomUUID();

test('disks and snapshots: volume-, snapshot-, OS and rebuild disks need their name and tags', () => {
  assert.deepEqual(jacketOwnerOf({ name: `volume-${id}`, tags: { jacket: 'volume', 'jacket-volume-id': id } }, 'disk'), { kind: 'volume', id });
  assert.deepEqual(jacketOwnerOf({ name: `volume-${id}-0a1b2c3d`, tags: { jacket: 'volume', 'jacket-volume-id': id } }, 'disk'), { kind: 'volume', id });
  assert.equal(jacketOwnerOf({ name: `volume-${id}`, tags: {} }, 'disk'), undefined, 'named like ours, not tagged');
  assert.equal(jacketOwnerOf({ name: `volume-${id}`, tags: { jacket: 'volume', 'jacket-volume-id': randomUUID() } }, 'disk'), undefined, 'tag names another volume');
  assert.deepEqual(jacketOwnerOf({ name: id, tags: {} }, 'disk'), { kind: 'os', id }, 'an OS disk is proven by its UUID name (Azure does not copy VM tags)');
  assert.equal(jacketOwnerOf({ name: id, tags: { jacket: 'volume' } }, 'disk'), undefined);
  assert.deepEqual(jacketOwnerOf({ name: `${id}-rk2x9`, tags: { jacket: 'server', 'jacket-server-id': id } }, 'disk'), { kind: 'os', id });
  assert.equal(jacketOwnerOf({ name: `${id}-rk2x9`, tags: {} }, 'disk'), undefined);
  assert.deepEqual(jacketOwnerOf({ name: `snapshot-${id}`, tags: { jacket: 'snapshot', 'jacket-snapshot-id': id } }, 'snapshot'), { kind: 'snapshot', id });
  assert.equal(jacketOwnerOf({ name: `snapshot-${id}`, tags: { jacket: 'snapshot' } }, 'snapshot'), undefined);
  assert.equal(jacketOwnerOf({ name: 'data-disk', tags: { jacket: 'volume' } }, 'disk'), undefined);
});

test('NICs and VMs: tagged as a server and named by its id', () => {
  const tags = { jacket: 'server', 'jacket-server-id': id };
  assert.equal(jacketServerOfNic({ name: id, tags }), id);
  assert.equal(jacketServerOfNic({ name: `${id}-1`, tags }), id);
  assert.equal(jacketServerOfNic({ name: 'web-nic', tags }), undefined);
  assert.equal(jacketServerOfNic({ name: id, tags: { owner: 'someone' } }), undefined);
  assert.equal(jacketServerOf({ name: id, tags }), id);
  assert.equal(jacketServerOf({ name: id, tags: { jacket: 'server', 'jacket-server-id': randomUUID() } }), undefined);
  assert.equal(jacketServerOf({ name: 'vm1', tags }), undefined);
});

test('security groups’ NSGs and ASGs: tagged as a security group and named by its id', () => {
  const tags = { jacket: 'security-group', 'jacket-security-group-id': id, 'jacket-project-id': randomUUID() };
  assert.equal(jacketGroupOfNsg({ name: `sg-${id}`, tags }), id);
  assert.equal(jacketGroupOfAsg({ name: `asg-${id}`, tags }), id);
  // The other kind's name, another group's name, no tags, a non-UUID id: not Jacket's to judge.
  assert.equal(jacketGroupOfAsg({ name: `sg-${id}`, tags }), undefined);
  assert.equal(jacketGroupOfAsg({ name: `asg-${randomUUID()}`, tags }), undefined);
  assert.equal(jacketGroupOfAsg({ name: `asg-${id}`, tags: {} }), undefined);
  assert.equal(jacketGroupOfAsg({ name: 'asg-web', tags: { ...tags, 'jacket-security-group-id': 'web' } }), undefined);
});
