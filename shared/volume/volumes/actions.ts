// POST /volumes/{id}/action: os-extend (detached volumes, and in-use ones from 3.42; grown on the work queue), os-retype
// (./retype.ts), revert (3.40, ./revert.ts), os-reimage (3.68, ./reimage.ts), os-set_bootable, the admins' os-reset_status and os-force_detach, and the attach, image and metadata
// actions of their own modules. Other actions answer as Cinder does for an action it does not know.
import { startWork } from '../../work/ledger';
import type { RequestContext, Route } from '../../http/router';
import { accepted } from '../../http/respond';
import { badRequest } from '../../http/errors';
import { validateBody } from '../../api/validation';
import { actionPolicy, authorize } from '../../api/policy';
import { VOLUME_ACTION_POLICIES } from '../policy';
import { actionName, cinderRoute, cinderTime } from '../common';
import { findVolume, volumeTables, type VolumeRecord } from '../model';
import { MAX_DISK_GB } from './service';
import { VOLUME_EXTEND } from '../workKinds';
import { uploadToImage } from '../images/upload';
import { setImageMetadata, showImageMetadata, unsetImageMetadata } from '../images/metadata';
import { extendKey, reserveExtend, volumeLedger } from '../quotas/engine';
import { typeStore } from '../types/store';
import { attachAction, attachmentsOf } from '../attachments/service';
import { retype } from './retype';
import { migrateVolume } from './migrate';
import { extendVolumeCompletion, forceDeleteVolume, forceDetachVolume, updateReadonlyFlag } from './adminActions';
import { unmanageAction } from '../manage/api';
import { revertVolume } from './revert';
import { reimageVolume } from './reimage';

const extendSchema = {
  type: 'object',
  required: ['os-extend'],
  additionalProperties: false,
  properties: {
    'os-extend': {
      type: 'object',
      required: ['new_size'],
      additionalProperties: false,
      properties: { new_size: { type: ['integer', 'string'], pattern: '^[0-9]+$', minimum: 1, maximum: 2147483647 } },
    },
  },
};

const VOLUME_STATUSES = [
  'creating',
  'available',
  'deleting',
  'error',
  'error_deleting',
  'error_managing',
  'managing',
  'attaching',
  'in-use',
  'detaching',
  'maintenance',
  'restoring-backup',
  'error_restoring',
  'reserved',
  'awaiting-transfer',
  'backing-up',
  'error_backing-up',
  'error_extending',
  'downloading',
  'uploading',
  'retyping',
  'extending',
];
const ATTACH_STATUSES = ['attached', 'detached'];
const MIGRATION_STATUSES = ['migrating', 'error', 'success', 'completing', 'none', 'starting'];

const resetSchema = {
  type: 'object',
  required: ['os-reset_status'],
  additionalProperties: false,
  properties: {
    'os-reset_status': {
      type: 'object',
      additionalProperties: false,
      properties: { status: { type: ['string', 'null'] }, attach_status: { type: ['string', 'null'] }, migration_status: { type: ['string', 'null'] } },
    },
  },
};

const TRUE_STRINGS = ['True', 'TRUE', 'true', '1', 'ON', 'On', 'on', 'YES', 'Yes', 'yes', 'y', 't'];
const FALSE_STRINGS = ['False', 'FALSE', 'false', '0', 'OFF', 'Off', 'off', 'NO', 'No', 'no', 'n', 'f'];
const bootableSchema = {
  type: 'object',
  required: ['os-set_bootable'],
  additionalProperties: false,
  properties: {
    'os-set_bootable': {
      type: 'object',
      required: ['bootable'],
      additionalProperties: false,
      properties: { bootable: { type: ['boolean', 'string'], enum: [true, ...TRUE_STRINGS, false, ...FALSE_STRINGS] } },
    },
  },
};

/** os-set_bootable (volume_actions.py _set_bootable): volume_api.update's rules, 200 with no body. */
async function setBootable(ctx: RequestContext) {
  const raw = validateBody<{ 'os-set_bootable': { bootable: boolean | string } }>(bootableSchema, ctx.body)['os-set_bootable'].bootable;
  const bootable = raw === true || (typeof raw === 'string' && TRUE_STRINGS.includes(raw));
  const cur = await findVolume(ctx, ctx.params.volume_id);
  if (cur.value.status === 'maintenance') throw badRequest('Invalid volume: The volume cannot be updated during maintenance.');
  await volumeTables(ctx.services).volumes.update(cur.partitionKey, cur.rowKey, (v) => ({ ...v, bootable, updated_at: cinderTime() }));
  return { status: 200, headers: {}, body: undefined };
}

/** VOLUME_EXTEND_INUSE (cinder/api/microversions.py). */
const EXTEND_INUSE = '3.42';

const pyTuple = (xs: string[]) => `(${xs.map((x) => `'${x}'`).join(', ')})`;

/**
 * os-extend (volume_actions.py _extend, volume/api.py extend / extend_attached_volume / _extend): from
 * 3.42 (VOLUME_EXTEND_INUSE) an in-use volume is extended attached, under its own policy
 * volume:extend_attached_volume; otherwise the volume must be available (volume:extend). Each policy
 * is asked after the lookup, as Cinder's volume API does. The volume goes to extending (its previous
 * status kept) and the disk grows on the work queue; an attached disk grows under its running VM where
 * Azure can expand it without downtime, and the extend fails (error_extending) where it cannot.
 */
async function extend(ctx: RequestContext) {
  const b = validateBody<{ 'os-extend': { new_size: number | string } }>(extendSchema, ctx.body)['os-extend'];
  const cur = await findVolume(ctx, ctx.params.volume_id);
  const v = cur.value;
  const attached = ctx.microversion?.atLeast(EXTEND_INUSE) === true && v.status === 'in-use';
  authorize(ctx, attached ? 'volume:extend_attached_volume' : 'volume:extend', { projectId: v.project_id });
  const newSize = Number(b.new_size);
  if (newSize <= v.size) {
    throw badRequest(`Invalid input received: New size for extend must be greater than current size. (current: ${v.size}, extended: ${newSize}).`);
  }
  if (newSize > MAX_DISK_GB) throw badRequest(`Invalid input received: Volume size '${newSize}'GB is larger than the largest Azure managed disk (${MAX_DISK_GB}GB).`);
  const expected = attached ? 'in-use' : 'available';
  const refuse = (status: string) => badRequest(`Invalid volume: Volume ${v.id} status must be '{'status': '${expected}'}' to extend, currently ${status}.`);
  if (v.status !== expected) throw refuse(v.status);
  const typeName = (await typeStore(ctx.services).get(v.volume_type_id))?.value.name ?? '';
  // The growth is held until the disk has grown (committed by the extend work) or the extend failed.
  await reserveExtend(ctx.services, cur.partitionKey, v.id, typeName, newSize - v.size, newSize);
  const next: VolumeRecord = { ...v, status: 'extending', previous_status: v.status, extend_to: newSize, updated_at: cinderTime() };
  await volumeTables(ctx.services)
    .volumes.replace(cur.partitionKey, cur.rowKey, next, cur.etag)
    .catch(async () => {
      await volumeLedger(ctx.services).rollback(cur.partitionKey, [extendKey(v.id)]);
      throw refuse('changing');
    });
  await startWork(ctx.services, { kind: VOLUME_EXTEND, id: v.id, data: { project: cur.partitionKey, size: newSize, user: ctx.auth?.userId }, requestId: ctx.requestId });
  return accepted();
}

async function resetStatus(ctx: RequestContext) {
  const b = validateBody<{ 'os-reset_status': { status?: string | null; attach_status?: string | null; migration_status?: string | null } }>(resetSchema, ctx.body)['os-reset_status'];
  if (!b.status && !b.attach_status && !b.migration_status) throw badRequest("Must specify 'status', 'attach_status' or 'migration_status' for update.");
  if (b.status && !VOLUME_STATUSES.includes(b.status.toLowerCase())) {
    throw badRequest(`Volume status: ${b.status} is invalid, valid statuses are: ${pyTuple(VOLUME_STATUSES)}.`);
  }
  if (b.attach_status && !ATTACH_STATUSES.includes(b.attach_status.toLowerCase())) {
    throw badRequest(`Volume attach status: ${b.attach_status} is invalid, valid statuses are: ['attached', 'detached'].`);
  }
  if (b.migration_status && !MIGRATION_STATUSES.includes(b.migration_status.toLowerCase())) {
    throw badRequest(`Volume migration status: ${b.migration_status} is invalid, valid statuses are: ${pyTuple(MIGRATION_STATUSES)}.`);
  }
  const cur = await findVolume(ctx, ctx.params.volume_id);
  // admin_actions.py _reset_status: its tuple ('deleting', 'error_deleting' 'detaching') joins the last
  // two strings, so only 'deleting' is refused; in-use needs an attachment.
  const to = b.status?.toLowerCase();
  if (to === 'deleting') throw badRequest('Cannot reset-state to deleting');
  if (to === 'in-use' && attachmentsOf(cur.value).length === 0) throw badRequest('Cannot reset-state to in-use because volume does not have any attachments.');
  await volumeTables(ctx.services).volumes.update(cur.partitionKey, cur.rowKey, (v) => ({
    ...v,
    ...(b.status ? { status: b.status.toLowerCase() as VolumeRecord['status'] } : {}),
    ...(b.attach_status ? { attach_status: b.attach_status.toLowerCase() as VolumeRecord['attach_status'] } : {}),
    ...(b.migration_status ? { migration_status: b.migration_status.toLowerCase() === 'none' ? null : b.migration_status.toLowerCase() } : {}),
    updated_at: cinderTime(),
  }));
  return accepted();
}

/** Dispatches on the body's single key, as Cinder's action routing does. */
async function action(ctx: RequestContext) {
  const keys = [actionName(ctx)];
  if (keys[0] === 'os-extend') return extend(ctx);
  if (keys[0] === 'os-reset_status') return resetStatus(ctx);
  if (keys[0] === 'os-retype') return retype(ctx);
  if (keys[0] === 'os-set_bootable') return setBootable(ctx);
  if (keys[0] === 'os-force_delete') return forceDeleteVolume(ctx);
  if (keys[0] === 'os-update_readonly_flag') return updateReadonlyFlag(ctx);
  if (keys[0] === 'os-force_detach') return forceDetachVolume(ctx);
  if (keys[0] === 'os-extend_volume_completion') return extendVolumeCompletion(ctx);
  if (keys[0] === 'os-migrate_volume') return migrateVolume(ctx);
  if (keys[0] === 'os-volume_upload_image') return uploadToImage(ctx);
  if (keys[0] === 'os-show_image_metadata') return showImageMetadata(ctx);
  if (keys[0] === 'os-set_image_metadata') return setImageMetadata(ctx);
  if (keys[0] === 'os-unset_image_metadata') return unsetImageMetadata(ctx);
  if (keys[0] === 'os-unmanage') return unmanageAction(ctx);
  // 3.40 (its policy is asked after the lookups; below 3.40 a bare 404).
  if (keys[0] === 'revert') return revertVolume(ctx);
  // 3.68, the same way (volume:reimage or volume:reimage_reserved, by the volume's status).
  if (keys[0] === 'os-reimage') return reimageVolume(ctx);
  const attach = await attachAction(ctx, keys[0]);
  if (attach) return attach;
  // Cinder's Resource answers an action nobody registered with 400.
  throw badRequest(`There is no such action: ${keys[0]}`);
}

const byAction = actionPolicy(VOLUME_ACTION_POLICIES);
// os-extend's policy depends on the volume's status (from 3.42) and os-extend_volume_completion's is
// asked after the lookup (admin_actions.py), so both handlers ask their own.
const isExtend = (body: unknown) => byAction(body) === 'volume:extend' || byAction(body) === 'volume_extension:volume_admin_actions:extend_volume_completion';

export const volumeActionRoutes: Route[] = [
  // Each action has its own upstream policy (VOLUME_ACTION_POLICIES), which the pipeline enforces;
  // os-extend's and os-extend_volume_completion's are asked by their handlers, after the lookup.
  cinderRoute('volume-action', 'POST', '/volumes/{volume_id}/action', (body) => (isExtend(body) ? 'authenticated' : byAction(body)), action),
];
