// The snapshot work step (server-snapshot) behind createImage and createBackup: an Azure snapshot of the
// server's OS disk (Copy, full), polled until Succeeded; then the image becomes active (azure_type
// snapshot, azure_uri = the snapshot's id) and the server's task_state returns to None. For a backup,
// Nova's rotation follows (compute/manager.py _rotate_backups): of this server's backups of that type,
// newest first, those beyond `rotation` are deleted through the image-delete step, which removes the
// Azure snapshot too. A failed snapshot deletes the image again, as Nova does.
import type { Services } from '../../../services';
import type { WorkItem, WorkKind, WorkResult } from '../../../work/types';
import { again, done } from '../../../work/types';
import { pollDelay } from '../../../work/pace';
import { startWork } from '../../../work/ledger';
import { azureFailure, type AzureFailure } from '../../../azure/errors';
import { log } from '../../../log';
import { imageStore, glanceTime, type ImageRecord } from '../../../image/model';
import { DELETE_KIND, managedImageName } from '../../../image/managedImage';
import { ConcurrencyError } from '../../../store/tables';
import { getServerAny, updateServer } from '../model';
import { actionRef as ref } from './common';
import { finishAction } from '../instanceActions';

export const SNAPSHOT_KIND = 'server-snapshot';
const GiB = 1024 ** 3;

async function endTask(s: Services, item: WorkItem, ok: boolean, traceback?: string): Promise<void> {
  const cur = await getServerAny(s, item.id);
  if (cur) await updateServer(s, cur, (v) => (v.task_state === 'image_snapshot' || v.task_state === 'image_backup' ? { ...v, task_state: null } : undefined));
  const a = ref(item);
  if (a) await finishAction(s, a, ok, traceback);
}

/** Marks the image deleted and lets the image-delete step remove the Azure snapshot and the record. */
export async function deleteImage(s: Services, img: ImageRecord, etag: string, requestId?: string): Promise<boolean> {
  try {
    await imageStore(s).replace({ ...img, deleting: true, status: 'deleted', updated_at: glanceTime() }, etag);
  } catch (e) {
    if (e instanceof ConcurrencyError) return false;
    throw e;
  }
  await startWork(s, { kind: DELETE_KIND, id: img.id, requestId, data: { managed: false } });
  return true;
}

async function failSnapshot(s: Services, item: WorkItem, imageId: string, f: Pick<AzureFailure, 'code' | 'message'>): Promise<WorkResult> {
  log.warn('server snapshot failed on Azure', { server: item.id, image: imageId, code: f.code, requestId: item.requestId });
  const img = await imageStore(s).getAny(imageId);
  if (img && !img.value.deleting) await deleteImage(s, img.value, img.etag, item.requestId);
  await endTask(s, item, false, `Azure error ${f.code}: ${f.message}`.slice(0, 255));
  return { status: 'done' };
}

/**
 * Nova's _rotate_backups: this server's backups of `type` (the owner's partition: one project's images),
 * newest first; the ones beyond `rotation` are deleted. Only active ones are counted: a backup still
 * being made is needed by its own step. Protected images are kept (Glance refuses their deletion and
 * Nova carries on).
 */
export async function rotateBackups(s: Services, owner: string | null, serverId: string, type: string, rotation: number, requestId?: string): Promise<string[]> {
  const rows = await imageStore(s).records.list(owner ?? '-', 'deleting eq false');
  const backups = rows
    .filter((r) => r.value.status === 'active' && r.value.properties.image_type === 'backup' && r.value.properties.backup_type === type && r.value.properties.instance_uuid === serverId)
    .sort((a, b) => (a.value.created_at === b.value.created_at ? (a.value.id < b.value.id ? 1 : -1) : a.value.created_at < b.value.created_at ? 1 : -1));
  const deleted: string[] = [];
  for (const r of backups.slice(rotation)) {
    if (r.value.protected) continue;
    if (await deleteImage(s, r.value, r.etag, requestId)) deleted.push(r.value.id);
  }
  return deleted;
}

async function snapshotStep(item: WorkItem, s: Services): Promise<WorkResult> {
  const imageId = String(item.data?.image ?? '');
  const store = imageStore(s);
  const vms = s.azure.vms;
  const name = managedImageName(imageId);
  const img = await store.getAny(imageId);
  const cur = await getServerAny(s, item.id);
  if (!img || img.value.deleting) {
    // The image was deleted meanwhile: drop what was made for it.
    await vms.deleteOsSnapshot(name);
    await endTask(s, item, false, 'The image was deleted during the snapshot.');
    return done();
  }
  if (img.value.status === 'active') return done();
  const sn = await vms.osSnapshot(name);
  if (!sn) {
    const vm = cur ? await vms.vm(cur.value.azure.vm) : undefined;
    if (!cur || !vm?.osDisk.id) return failSnapshot(s, item, imageId, { code: 'ResourceNotFound', message: 'The server or its OS disk is missing on Azure.' });
    let retryAfter: number | undefined;
    try {
      retryAfter = (
        await vms.putOsSnapshot(name, {
          location: s.config.azure.location,
          tags: { jacket: 'image', 'jacket-image-id': imageId, 'jacket-server-id': cur.value.id, 'jacket-project-id': img.value.owner ?? '' },
          creationData: { createOption: 'Copy', sourceResourceId: vm.osDisk.id },
          incremental: false,
        })
      ).retryAfterSeconds;
    } catch (e) {
      const f = azureFailure(e);
      if (f.kind !== 'client') throw e; // the engine retries
      return failSnapshot(s, item, imageId, f);
    }
    await store.update(img.value, (v) => (v.status === 'queued' ? { ...v, status: 'saving', updated_at: glanceTime() } : undefined));
    return again(item, pollDelay(s, retryAfter));
  }
  if (sn.provisioningState === 'Failed' || sn.provisioningState === 'Canceled') {
    await vms.deleteOsSnapshot(name);
    return failSnapshot(s, item, imageId, { code: 'SnapshotFailed', message: `The snapshot of the OS disk ended ${sn.provisioningState}.` });
  }
  if (sn.provisioningState !== 'Succeeded') return again(item, pollDelay(s));
  const bytes = (sn.diskSizeGB ?? 0) * GiB;
  const activated = await store.update(img.value, (v) =>
    v.deleting || v.status === 'active'
      ? undefined
      : {
          ...v,
          status: 'active',
          disk_format: 'vhd',
          container_format: 'bare',
          size: bytes,
          virtual_size: bytes,
          properties: { ...v.properties, azure_type: 'snapshot', azure_uri: sn.id, azure_os_type: v.properties.azure_os_type ?? 'linux' },
          updated_at: glanceTime(),
        },
  );
  await endTask(s, item, true);
  const type = item.data?.backup_type;
  if (typeof type === 'string' && activated) {
    const deleted = await rotateBackups(s, activated.value.owner, item.id, type, Number(item.data?.rotation ?? 0), item.requestId);
    if (deleted.length) log.info('backups rotated', { server: item.id, type, deleted, requestId: item.requestId });
  }
  return done();
}

/** Given up, as Nova's snapshot failure: the image deleted, the server back to no task (not ERROR). */
export const snapshotKind: WorkKind = {
  kind: SNAPSHOT_KIND,
  run: snapshotStep,
  deadlineSeconds: 6 * 3600,
  giveUp: async (item, s, f) => {
    await failSnapshot(s, item, String(item.data?.image ?? ''), f);
  },
};
