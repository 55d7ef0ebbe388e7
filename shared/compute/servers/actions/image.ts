// createImage and createBackup (nova/api/openstack/compute/servers.py _action_create_image,
// create_backup.py; compute/api.py snapshot/backup; compute/utils.py create_image) at 2.1.
// The image record is made at once (queued, as Nova asks Glance first); the work step snapshots the VM's
// OS disk on Azure and makes the image active. A server's OS disk is specialized (never generalized),
// and a managed image needs a generalized source (azure-facts.md): so the image keeps the Azure snapshot
// and a server booted from it gets a copy of it as its OS disk (create.ts, the build's disk steps in build.ts).
import { randomUUID } from 'node:crypto';
import type { RequestContext } from '../../../http/router';
import type { Services } from '../../../services';
import { accepted, json } from '../../../http/respond';
import { ApiError, forbidden } from '../../../http/errors';
import { computeUrl } from '../../common';
import { checkAbsolute } from '../../quotas/engine';
import { imageStore, newImageRecord, type ImageRecord } from '../../../image/model';
import { checkInstanceState, visibleServer, type ServerRecord } from '../model';
import { registerServerAction } from './registry';
import { startTask, K2_ACTION } from './taskStart';
import { SNAPSHOT_KIND } from '../work/image';
import { startWork } from '../../../work/ledger';

const metadataSchema = { type: 'object', patternProperties: { '^[a-zA-Z0-9-_:. ]{1,255}$': { type: 'string', maxLength: 255 } }, additionalProperties: false };
// Nova's 'name' format: printable characters without leading/trailing whitespace.
const nameSchema = { type: 'string', format: 'name', minLength: 1, maxLength: 255 };

const createImageSchema = {
  type: 'object',
  properties: {
    createImage: { type: 'object', properties: { name: nameSchema, metadata: metadataSchema }, required: ['name'], additionalProperties: false },
  },
  required: ['createImage'],
  additionalProperties: false,
};

const createBackupSchema = {
  type: 'object',
  properties: {
    createBackup: {
      type: 'object',
      properties: {
        name: nameSchema,
        backup_type: { type: 'string' },
        rotation: { type: ['integer', 'string'], pattern: '^[0-9]*$', minimum: 0, minLength: 1 },
        metadata: metadataSchema,
      },
      required: ['name', 'backup_type', 'rotation'],
      additionalProperties: false,
    },
  },
  required: ['createBackup'],
  additionalProperties: false,
};

/** Image properties a snapshot does not inherit (nova/compute/utils.py NON_INHERITABLE_IMAGE_PROPERTIES, plus Azure's own). */
const NOT_INHERITED = new Set([
  'cache_in_nova',
  'bittorrent',
  'img_signature_hash_method',
  'img_signature',
  'img_signature_key_type',
  'img_signature_certificate_uuid',
  'stores',
  'os_glance_importing_to_stores',
  'os_glance_failed_import',
]);
const NOT_INHERITED_PREFIX = ['azure_', 'os_glance', 'img_signature'];

/** nova/api/openstack/common.py check_img_metadata_properties_quota (before 2.39). */
async function checkMetadataQuota(s: Services, srv: ServerRecord, userId: string, metadata: Record<string, string>): Promise<void> {
  if (Object.keys(metadata).length === 0) return;
  try {
    await checkAbsolute(s, srv.project_id, userId, { metadata_items: Object.keys(metadata).length });
  } catch (e) {
    if (e instanceof ApiError && e.status === 403) throw forbidden('Image metadata limit exceeded');
    throw e;
  }
}

/** nova/compute/utils.py create_image + initialize_instance_snapshot_metadata. */
async function snapshotRecord(ctx: RequestContext, srv: ServerRecord, name: string, type: 'snapshot' | 'backup', extra: Record<string, string>): Promise<ImageRecord> {
  const base = srv.image_id ? ((await imageStore(ctx.services).getAny(srv.image_id))?.value ?? (await imageStore(ctx.services).visible(ctx.auth!, srv.image_id))?.image) : undefined;
  const inherited: Record<string, string> = {};
  for (const [k, v] of Object.entries(base?.properties ?? {})) {
    if (!NOT_INHERITED.has(k) && !NOT_INHERITED_PREFIX.some((p) => k.startsWith(p))) inherited[k] = v;
  }
  const project = ctx.auth!.projectId ?? srv.project_id;
  const props: Record<string, string> = {
    ...inherited,
    base_image_ref: srv.image_id,
    image_location: 'snapshot',
    image_state: 'available',
    owner_id: srv.project_id,
    instance_uuid: srv.id,
    user_id: ctx.auth!.userId,
    image_type: type,
  };
  if (project !== srv.project_id) props.instance_owner = srv.project_id;
  Object.assign(props, extra);
  // Azure: the OS type of the disk travels with the image (a server booted from it needs it).
  props.azure_os_type = srv.os_type;
  if (srv.azure.admin_username) props.os_admin_user = inherited.os_admin_user ?? srv.azure.admin_username;
  return newImageRecord({
    id: randomUUID(),
    name,
    owner: project,
    // Nova: private for the owner's own snapshot, shared when someone else (an admin) takes it.
    visibility: project === srv.project_id ? 'private' : 'shared',
    // A snapshot's formats are set when its data exists; a backup keeps the source's.
    disk_format: type === 'backup' ? (base?.disk_format ?? null) : null,
    container_format: type === 'backup' ? (base?.container_format ?? null) : null,
    min_disk: Math.max(srv.flavor.disk, base?.min_disk ?? 0),
    min_ram: base?.min_ram ?? 0,
    properties: props,
  });
}

async function snapshot(ctx: RequestContext, kind: 'snapshot' | 'backup', name: string, metadata: Record<string, string>, backup?: { type: string; rotation: number }) {
  const s = ctx.services;
  const cur = await visibleServer(ctx);
  const method = kind === 'snapshot' ? 'createImage' : 'createBackup';
  // Nova checks the state (not the lock: a lock guards against changes, a snapshot changes nothing).
  const allowedVm = ['active', 'stopped', 'paused', 'suspended'] as const;
  checkInstanceState(cur.value, method, { vm: [...allowedVm], task: [null] });
  // Nova's createImage and createBackup check it up to 2.38 only (2.39 leaves image quotas to Glance).
  if (!ctx.microversion?.atLeast('2.39')) await checkMetadataQuota(s, cur.value, ctx.auth!.userId, metadata);
  const extra = backup ? { ...metadata, backup_type: backup.type } : metadata;
  const image = await snapshotRecord(ctx, cur.value, name.trim(), kind, extra);
  await imageStore(s).create(image);
  let started;
  try {
    started = await startTask(ctx, cur, {
      method,
      vm: [...allowedVm],
      lock: false,
      set: (v) => ({ ...v, task_state: kind === 'snapshot' ? 'image_snapshot' : 'image_backup' }),
      action: kind === 'snapshot' ? K2_ACTION.CREATE_IMAGE : K2_ACTION.BACKUP,
      event: kind === 'snapshot' ? 'compute_snapshot_instance' : 'compute_backup_instance',
    });
  } catch (e) {
    // As Nova: the image made for a snapshot that cannot start is deleted again.
    await imageStore(s).remove(image);
    throw e;
  }
  await startWork(s, {
    kind: SNAPSHOT_KIND,
    id: started.server.id,
    data: { action: started.action.rowKey, image: image.id, ...(backup ? { backup_type: backup.type, rotation: backup.rotation } : {}) },
    requestId: ctx.requestId,
  });
  return image;
}

async function createImage(ctx: RequestContext, args: unknown) {
  const b = args as { name: string; metadata?: Record<string, string> };
  const image = await snapshot(ctx, 'snapshot', b.name, b.metadata ?? {});
  // From 2.45: the image id in the body, no Location (create_image_response_v245).
  if (ctx.microversion?.atLeast('2.45')) return json({ image_id: image.id }, 202);
  // Before 2.45: 202, no body, Location = Glance's URL of the image (glance.API().generate_image_url).
  return accepted(undefined, { Location: `${ctx.services.config.publicUrl}/image/images/${image.id}` });
}

async function createBackup(ctx: RequestContext, args: unknown) {
  const b = args as { name: string; backup_type: string; rotation: number | string; metadata?: Record<string, string> };
  const rotation = Number(b.rotation);
  const image = await snapshot(ctx, 'backup', b.name, b.metadata ?? {}, { type: b.backup_type, rotation });
  // From 2.45: the image id in the body whatever the rotation, no Location (create_backup_response_v245).
  if (ctx.microversion?.atLeast('2.45')) return json({ image_id: image.id }, 202);
  // Before 2.45: Location (this API's images URL) only when rotation > 0.
  return accepted(undefined, rotation > 0 ? { Location: computeUrl(ctx, `/images/${image.id}`) } : {});
}

registerServerAction({ name: 'createImage', policy: 'os_compute_api:servers:create_image', schema: createImageSchema, handler: createImage });
registerServerAction({ name: 'createBackup', policy: 'os_compute_api:os-create-backup', schema: createBackupSchema, handler: createBackup });
