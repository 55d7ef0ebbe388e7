// The volume record's attachments (shared/volume/attachments/service.ts): a list, several for a
// multiattach volume; records written before multiattach carry one `attachment` and must read the same.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { attachmentById, attachmentOn, attachmentsOf, attachStatusOf, dropAttachment, withAttachments, type AttachableVolume, type VolumeAttachment } from '../../shared/volume/attachments/service';
import type { VolumeRecord } from '../../shared/volume/model';

const base = { id: 'v1', status: 'in-use', attach_status: 'attached', multiattach: true } as unknown as VolumeRecord;
const at = (id: string, server: string, attached = true): VolumeAttachment => ({
  id,
  server_id: server,
  host_name: null,
  device: '/dev/sdc',
  attached_at: attached ? '2026-01-01T00:00:00.000000' : null,
});

test('an old record with one `attachment` reads as a list of it, and is rewritten as a list', () => {
  const old = { ...base, multiattach: undefined, attachment: at('a1', 's1') } as AttachableVolume;
  assert.deepEqual(
    attachmentsOf(old).map((a) => a.id),
    ['a1'],
  );
  assert.equal(attachmentOn(old, 's1')?.id, 'a1');
  assert.equal(attachmentById(old, 'a1')?.server_id, 's1');
  assert.equal(attachStatusOf({ ...old, attach_status: 'detaching' }, old.attachment!), 'detaching', "an old record's attachment follows the volume");
  const rewritten = withAttachments(old, attachmentsOf(old));
  assert.equal('attachment' in rewritten, false);
  assert.deepEqual(
    rewritten.attachments?.map((a) => a.id),
    ['a1'],
  );
  const gone = dropAttachment(old, 'a1');
  assert.equal('attachment' in gone, false);
  assert.equal('attachments' in gone, false);
  assert.equal(gone.status, 'available');
  assert.equal(gone.attach_status, 'detached');
});

test('a multiattach volume stays in-use until its last attachment goes; an extend keeps its status', () => {
  const two = withAttachments(base as AttachableVolume, [at('a1', 's1'), at('a2', 's2')]);
  const one = dropAttachment(two, 'a1');
  assert.equal(one.status, 'in-use');
  assert.deepEqual(
    attachmentsOf(one).map((a) => a.server_id),
    ['s2'],
  );
  const none = dropAttachment(one, 'a2');
  assert.equal(none.status, 'available');
  assert.deepEqual(attachmentsOf(none), []);
  assert.equal(dropAttachment({ ...two, status: 'extending' }, 'a1').status, 'extending');
  // Only a pending attachment left: nothing attached, so available.
  assert.equal(dropAttachment(withAttachments(base as AttachableVolume, [at('a1', 's1'), at('a2', 's2', false)]), 'a1').status, 'available');
  assert.equal(attachStatusOf(two, { ...at('a3', 's3', false) }), 'attaching');
  assert.equal(attachStatusOf(two, { ...at('a3', 's3'), detaching: true }), 'detaching');
});

test('a reimage under way (3.68) keeps downloading when an attachment goes; the status it returns to is the landed one', () => {
  const reserved = withAttachments({ ...base, status: 'reserved' } as AttachableVolume, [at('a1', 's1', false)]);
  const reimage = { image_id: 'i', source: { kind: 'blob' as const, image_id: 'i', blob_name: 'b' }, image_metadata: {}, disk_name: 'volume-x-1' };
  const left = dropAttachment({ ...reserved, status: 'downloading', previous_status: 'reserved', reimage }, 'a1');
  assert.equal(left.status, 'downloading');
  assert.equal(left.previous_status, 'available');
  assert.equal(left.attach_status, 'detached');
  assert.deepEqual(attachmentsOf(left), []);
});
