// Cinder's user-message vocabulary (cinder/message/message_field.py, api.py, api/v3/messages.py): event
// ids from the Resource/Action/Detail codes, user_message as the controller composes it, the TTL.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ACTIONS, DETAILS, MESSAGE_TTL_SECONDS, eventId, isExpired, userMessage } from '../../shared/volume/messages/service';

test('event ids: VOLUME_<resource>_<action id>_<detail id>', () => {
  assert.equal(eventId('VOLUME', ACTIONS.SCHEDULE_ALLOCATE_VOLUME[0], DETAILS.NO_BACKEND_AVAILABLE[0]), 'VOLUME_VOLUME_001_003');
  assert.equal(eventId('VOLUME', ACTIONS.CREATE_VOLUME_FROM_BACKEND[0], DETAILS.DRIVER_FAILED_CREATE[0]), 'VOLUME_VOLUME_008_012');
  assert.equal(eventId('VOLUME', ACTIONS.EXTEND_VOLUME[0], DETAILS.DRIVER_FAILED_EXTEND[0]), 'VOLUME_VOLUME_007_010');
  assert.equal(eventId('VOLUME', ACTIONS.COPY_VOLUME_TO_IMAGE[0], DETAILS.FAILED_TO_UPLOAD_VOLUME[0]), 'VOLUME_VOLUME_003_004');
  assert.equal(eventId('VOLUME_SNAPSHOT', ACTIONS.SNAPSHOT_CREATE[0], DETAILS.SNAPSHOT_CREATE_ERROR[0]), 'VOLUME_VOLUME_SNAPSHOT_009_013');
  assert.equal(eventId('VOLUME_SNAPSHOT', ACTIONS.SNAPSHOT_DELETE[0], DETAILS.SNAPSHOT_DELETE_ERROR[0]), 'VOLUME_VOLUME_SNAPSHOT_010_016');
  assert.equal(eventId('VOLUME_BACKUP', ACTIONS.BACKUP_CREATE[0], DETAILS.BACKUP_CREATE_DRIVER_ERROR[0]), 'VOLUME_VOLUME_BACKUP_013_020');
  assert.equal(eventId('VOLUME_BACKUP', ACTIONS.BACKUP_DELETE[0], DETAILS.BACKUP_DELETE_DRIVER_ERROR[0]), 'VOLUME_VOLUME_BACKUP_014_025');
  assert.equal(eventId('VOLUME_BACKUP', ACTIONS.BACKUP_RESTORE[0], DETAILS.BACKUP_RESTORE_ERROR[0]), 'VOLUME_VOLUME_BACKUP_015_026');
});

test('user_message: "<action>:<detail>" with no space; unknown ids as translate_action/translate_detail answer', () => {
  assert.equal(userMessage({ action_id: '001', detail_id: '003' }), 'schedule allocate volume:Could not find any available weighted backend.');
  assert.equal(userMessage({ action_id: '013', detail_id: '020' }), 'create backup:Backup driver failed to create backup.');
  assert.equal(userMessage({ action_id: '999', detail_id: '999' }), 'unknown action:An unknown error occurred.');
});

test('message_ttl 30 days; a message past guaranteed_until is expired', () => {
  assert.equal(MESSAGE_TTL_SECONDS, 2592000);
  const now = new Date('2026-01-02T00:00:00Z');
  assert.equal(isExpired({ expires_at: '2026-01-01T23:59:59.999000' }, now), true);
  assert.equal(isExpired({ expires_at: '2026-01-02T00:00:00.001000' }, now), false);
});
