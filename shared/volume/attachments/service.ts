// The volume side of attachments (Cinder 3.0): a volume's attachments live on the volume record itself
// (a list: a multiattach volume, an Azure shared disk, has one per server), and every status change is
// ETag-conditional on it: available -> attaching/reserved -> in-use -> detaching -> available, a
// multiattach volume staying in-use until its last attachment goes (cinder/volume/manager.py
// detach_volume: in-use while attachments remain).
// Nova's attach/detach (shared/compute/servers/work/volumeAttach.ts) drives these through the functions below;
// the same transitions answer the os-reserve/os-attach/... volume actions as Cinder answers them.
import { randomUUID } from 'node:crypto';
import type { Services } from '../../services';
import type { RequestContext } from '../../http/router';
import { accepted, json } from '../../http/respond';
import { badRequest } from '../../http/errors';
import { validateBody } from '../../api/validation';
import { isAdmin } from '../../api/policy';
import type { Stored } from '../../store/tables';
import { cinderTime } from '../common';
import { findVolume, jacketTags, volumeTables, type VolumeRecord } from '../model';
import { STORAGE_PROTOCOL } from '../pools/api';

export interface VolumeAttachment {
  /** Cinder's attachment id. */
  id: string;
  server_id: string | null;
  host_name: string | null;
  device: string | null;
  attached_at: string | null;
  /**
   * 'cinder' when the attachment was made through Cinder's API (os-attach, the attachments API of
   * 3.27) rather than by Jacket's Nova: a record only, with no disk on any VM behind it.
   */
  origin?: 'cinder';
  /** An attachments-API attachment's own status (reserved, attaching, attached); Nova's follow the volume's attach_status. */
  status?: 'reserved' | 'attaching' | 'attached';
  /** The connector an attachments-API update or create gave (its connection made). */
  connector?: Record<string, unknown>;
  attach_mode?: string;
  created_at?: string;
  /** A Nova attachment its server is letting go of (begin_detaching, a forced detach): detaching. */
  detaching?: boolean;
}

/**
 * A volume record with its attachments (none when detached). Records written before multiattach hold
 * at most one, as `attachment`; they read as a list of it and are rewritten as `attachments` on their
 * next change (withAttachments).
 */
export type AttachableVolume = VolumeRecord & { attachments?: VolumeAttachment[]; attachment?: VolumeAttachment };

/** Every attachment the volume carries (old records' single `attachment` included). */
export const attachmentsOf = (v: VolumeRecord): VolumeAttachment[] => {
  const x = v as AttachableVolume;
  return x.attachments ?? (x.attachment ? [x.attachment] : []);
};

/** The volume's attachment to this server, if any (a server holds a volume once). */
export const attachmentOn = (v: VolumeRecord, serverId: string): VolumeAttachment | undefined => attachmentsOf(v).find((a) => a.server_id === serverId);

/** The volume's attachment with this id, if any. */
export const attachmentById = (v: VolumeRecord, id: string): VolumeAttachment | undefined => attachmentsOf(v).find((a) => a.id === id);

/** The record with these attachments (an old record's single `attachment` migrated into the list). */
export function withAttachments<V extends AttachableVolume>(v: V, list: VolumeAttachment[]): V {
  const { attachment: _old, attachments: _list, ...rest } = v;
  return (list.length > 0 ? { ...rest, attachments: list } : rest) as V;
}

/**
 * An attachment's attach status: an attachments-API one keeps its own; Nova's (and os-attach's) is
 * attaching until its attach completes, detaching while its server lets go, attached otherwise. An
 * old record's single attachment follows the volume, as it did.
 */
export function attachStatusOf(v: VolumeRecord, a: VolumeAttachment): string {
  if (a.status) return a.status;
  if ((v as AttachableVolume).attachment && !(v as AttachableVolume).attachments) return v.attach_status === 'detached' ? 'reserved' : v.attach_status;
  if (a.detaching) return 'detaching';
  return a.attached_at === null ? 'attaching' : 'attached';
}

/** The volume's state once `list` is what is left: in-use while one is attached (manager.py detach_volume), else available. */
const landedBy = (list: VolumeAttachment[], v: VolumeRecord) =>
  list.some((a) => attachStatusOf(v, a) === 'attached') ? { status: 'in-use', attach_status: 'attached' as const } : { status: 'available', attach_status: 'detached' as const };

/**
 * The volume without attachment `id`: its state by the attachments left (an extend under way keeps its
 * status; a reimage under way keeps downloading, and the status it returns to is the landed one).
 */
export function dropAttachment<V extends AttachableVolume>(v: V, id: string): V {
  const left = attachmentsOf(v).filter((a) => a.id !== id);
  const landed = landedBy(left, withAttachments(v, left));
  if (v.reimage && v.status === 'downloading') return { ...withAttachments(v, left), attach_status: landed.attach_status, previous_status: landed.status as VolumeRecord['status'] };
  return { ...withAttachments(v, left), ...landed, status: v.status === 'extending' ? 'extending' : landed.status };
}

/** The record with attachment `id` changed by `f`. */
const changeAttachment = <V extends AttachableVolume>(v: V, id: string, f: (a: VolumeAttachment) => VolumeAttachment): V =>
  withAttachments(
    v,
    attachmentsOf(v).map((a) => (a.id === id ? f(a) : a)),
  );

/** The `attachments` of Cinder's volume view (views/volumes.py): each attached one; host_name for admins only. */
export function attachmentsView(ctx: RequestContext, v: VolumeRecord) {
  return attachmentsOf(v)
    .filter((a) => attachStatusOf(v, a) === 'attached')
    .map((a) => ({
      id: v.id,
      attachment_id: a.id,
      volume_id: v.id,
      server_id: a.server_id,
      host_name: isAdmin(ctx.auth!) ? a.host_name : null,
      device: a.device,
      attached_at: a.attached_at,
    }));
}

/**
 * What the driver's initialize_connection gives for a volume: a managed disk has no iSCSI/RBD target,
 * so what a connector needs is the disk's ARM id, which an Azure VM attaches by (docs/volume-attachments.md).
 */
export const connectionData = (v: VolumeRecord) => ({ volume_id: v.id, managed_disk_name: v.disk.name, managed_disk_id: v.disk.armId ?? null, access_mode: 'rw', encrypted: false });

/** Nova's words for a volume that cannot be attached (compute/api.py _check_attach, InvalidVolume). */
export const notAvailable = (v: Pick<VolumeRecord, 'id' | 'status'>) => badRequest(`Invalid volume: volume '${v.id}' status must be 'available'. Currently in '${v.status}'`);

/** A volume by project and id (the work steps and Nova's side, which know the project). */
export async function volumeAt(s: Services, project: string, id: string): Promise<Stored<AttachableVolume> | undefined> {
  return (await volumeTables(s).volumes.get(project, id)) as Stored<AttachableVolume> | undefined;
}

/**
 * Changes a volume if `allowed` accepts its current state (ETag-conditional, retried). Returns the
 * stored volume, or undefined when it is gone or `allowed` refused (nothing changed).
 */
export async function transition(
  s: Services,
  project: string,
  id: string,
  allowed: (v: AttachableVolume) => boolean,
  next: (v: AttachableVolume) => AttachableVolume,
): Promise<Stored<AttachableVolume> | undefined> {
  let refused = false;
  const stored = await volumeTables(s).volumes.update(project, id, (cur) => {
    const v = cur as AttachableVolume;
    if (!allowed(v)) {
      refused = true;
      return undefined;
    }
    return { ...next(v), updated_at: cinderTime() };
  });
  return refused ? undefined : (stored as Stored<AttachableVolume> | undefined);
}

/** cinder/volume/api.py reserve_volume: a multiattach volume is reserved from in-use as well. */
export const reservable = (v: VolumeRecord) => v.status === 'available' || (v.multiattach === true && v.status === 'in-use');

/**
 * Nova's reserve for a server: available (or, multiattach, in-use on other servers) -> attaching, with
 * a new attachment of the server and device.
 */
export async function reserveForServer(s: Services, project: string, id: string, serverId: string, device: string): Promise<Stored<AttachableVolume> | undefined> {
  return transition(
    s,
    project,
    id,
    (v) => reservable(v) && (v.status === 'in-use' || v.attach_status === 'detached') && !attachmentOn(v, serverId),
    (v) =>
      withAttachments({ ...v, status: 'attaching', attach_status: 'attaching' }, [
        ...attachmentsOf(v),
        { id: randomUUID(), server_id: serverId, host_name: null, device, attached_at: null, created_at: cinderTime() },
      ]),
  );
}

const heldBy = (v: AttachableVolume, serverId: string) => attachmentOn(v, serverId) !== undefined;

/**
 * A boot volume the server's VM made from the image (volumes/service.ts `bootOf`) is there: its disk
 * gets the volume's tags, as a disk the volume service makes has them (the disk sweep's proof of
 * ownership, shared/timers/disks.ts), then the volume is in-use on the server.
 */
export async function markBootDiskMade(s: Services, project: string, id: string, serverId: string, hostName: string | null): Promise<void> {
  const v = (await volumeAt(s, project, id))?.value;
  if (!v || !heldBy(v, serverId)) return;
  // A data disk the VM made has Azure's default performance (a VM's data disk cannot name IOPS or MB/s):
  // a Premium SSD v2 or Ultra volume gets its type's QoS with its tags, as a volume made alone has it.
  const perf = v.disk.iops !== undefined || v.disk.mbps !== undefined ? { iops: v.disk.iops, mbps: v.disk.mbps } : undefined;
  if (v.status === 'attaching') await s.azure.disks.setTags('disks', v.disk.name, jacketTags('volume', v.id, v.project_id, v.id), perf);
  // A volume made from a snapshot at boot is a full copy now: the snapshot may go (as finishCreate lets it).
  if (v.snapshot_id) await volumeTables(s).deps.delete(v.snapshot_id, v.id);
  await markAttached(s, project, id, serverId, hostName);
}

/**
 * The build of the server that was to make this boot volume's disk ended without the VM (refused,
 * deleted while building): if the disk exists after all, the volume is released (available), as Nova
 * leaves a volume it made; if not, the volume is in error — a record with no disk behind it, which
 * the user deletes (its delete finds no disk and removes the record).
 */
export async function releaseBootVolume(s: Services, project: string, id: string, serverId: string): Promise<void> {
  const v = (await volumeAt(s, project, id))?.value;
  if (!v || !heldBy(v, serverId)) return;
  if (await s.azure.disks.disk(v.disk.name)) {
    await releaseFromServer(s, project, id, serverId);
    return;
  }
  await transition(
    s,
    project,
    id,
    (x) => heldBy(x, serverId) && x.status === 'attaching',
    (x) => ({
      ...withAttachments(
        x,
        attachmentsOf(x).filter((a) => a.server_id !== serverId),
      ),
      status: 'error',
      attach_status: 'detached',
    }),
  );
}

/** The attach finished: in-use, attached, with its time. */
export async function markAttached(s: Services, project: string, id: string, serverId: string, hostName: string | null): Promise<void> {
  await transition(
    s,
    project,
    id,
    // Once: a retry after the attach completed changes nothing (another server's attachment keeps a
    // multiattach volume in-use, so the attachment's own time tells).
    (v) => heldBy(v, serverId) && (v.status !== 'in-use' || attachmentOn(v, serverId)!.attached_at === null),
    (v) => ({
      ...changeAttachment(v, attachmentOn(v, serverId)!.id, (a) => ({ ...a, host_name: hostName, attached_at: cinderTime() })),
      status: 'in-use',
      attach_status: 'attached',
    }),
  );
}

/**
 * attachments.py complete (3.44 NEW_ATTACH_COMPLETION): the attachment attached, the volume in-use and
 * attached, whatever either's state was (Cinder checks neither). An attachments-API attachment keeps
 * its own status (attached now); Nova's follows the volume's. Undefined when the volume no longer
 * carries this attachment (it was deleted meanwhile).
 */
export async function completeAttachment(s: Services, project: string, id: string, attachmentId: string): Promise<Stored<AttachableVolume> | undefined> {
  return transition(
    s,
    project,
    id,
    (v) => attachmentById(v, attachmentId) !== undefined,
    (v) => ({ ...changeAttachment(v, attachmentId, (a) => (a.origin === 'cinder' ? { ...a, status: 'attached' } : a)), status: 'in-use', attach_status: 'attached' }),
  );
}

/** Cinder's begin_detaching for a server's volume: in-use -> detaching. */
export async function beginDetaching(s: Services, project: string, id: string, serverId: string): Promise<Stored<AttachableVolume> | undefined> {
  return transition(
    s,
    project,
    id,
    (v) => heldBy(v, serverId) && v.status === 'in-use' && v.attach_status === 'attached',
    (v) => ({ ...changeAttachment(v, attachmentOn(v, serverId)!.id, (a) => ({ ...a, detaching: true })), status: 'detaching', attach_status: 'detaching' }),
  );
}

/** Back to in-use after a detach that did not happen (Cinder's roll_detaching). */
export async function rollDetaching(s: Services, project: string, id: string, serverId: string): Promise<void> {
  await transition(
    s,
    project,
    id,
    (v) => heldBy(v, serverId) && v.status === 'detaching',
    (v) => ({ ...changeAttachment(v, attachmentOn(v, serverId)!.id, ({ detaching: _d, ...a }) => a), status: 'in-use', attach_status: 'attached' }),
  );
}

/** The server let go of the volume (detached, failed attach, server deleted): its attachment gone; available when it was the last. */
export async function releaseFromServer(s: Services, project: string, id: string, serverId: string): Promise<Stored<AttachableVolume> | undefined> {
  return transition(
    s,
    project,
    id,
    (v) => heldBy(v, serverId),
    // An extend under way (3.42) keeps its status: its work lands the volume by its attachments then,
    // as Cinder's manager does (available once detached).
    (v) => dropAttachment(v, attachmentOn(v, serverId)!.id),
  );
}

/**
 * os-force_detach begins (admin_actions.py _force_detach): the volume still carrying `attachmentId`
 * goes to detaching, whatever its attach was doing; the Azure side then runs through Nova's detach
 * (FORCE_DETACH_KIND). Undefined when the attachment changed meanwhile.
 */
export async function beginForceDetach(s: Services, project: string, id: string, attachmentId: string): Promise<Stored<AttachableVolume> | undefined> {
  return transition(
    s,
    project,
    id,
    (v) => attachmentById(v, attachmentId) !== undefined,
    (v) => ({ ...changeAttachment(v, attachmentId, (a) => ({ ...a, detaching: true })), status: 'detaching', attach_status: 'detaching' }),
  );
}

/**
 * The record side of Cinder's manager detach_volume for a forced detach with no server behind it (a
 * host attachment, or no attachment at all): the attachment (if `attachmentId` names it) gone, the
 * volume available and detached unless others remain. Undefined when the attachment changed meanwhile.
 */
export async function finishForceDetach(s: Services, project: string, id: string, attachmentId: string | null): Promise<Stored<AttachableVolume> | undefined> {
  return transition(
    s,
    project,
    id,
    (v) => (attachmentId === null ? attachmentsOf(v).length === 0 : attachmentById(v, attachmentId) !== undefined),
    (v) => (attachmentId === null ? { ...v, status: 'available', attach_status: 'detached' } : dropAttachment(v, attachmentId)),
  );
}

// ---- the volume actions Nova's old attach flow calls (Cinder 3.0 volume_actions.py) ----

const empty = (name: string) => ({ type: 'object', required: [name], additionalProperties: false, properties: { [name]: {} } });

const attachSchema = {
  type: 'object',
  required: ['os-attach'],
  additionalProperties: false,
  properties: {
    'os-attach': {
      type: 'object',
      required: ['mountpoint'],
      additionalProperties: false,
      anyOf: [{ required: ['instance_uuid'] }, { required: ['host_name'] }],
      properties: {
        instance_uuid: { type: 'string', format: 'uuid' },
        host_name: { type: 'string', maxLength: 255 },
        mountpoint: { type: 'string', minLength: 1, maxLength: 255 },
        mode: { type: 'string', enum: ['rw', 'ro'] },
      },
    },
  },
};

const detachSchema = {
  type: 'object',
  required: ['os-detach'],
  additionalProperties: false,
  properties: {
    'os-detach': {
      type: ['object', 'null'],
      additionalProperties: false,
      properties: { attachment_id: { oneOf: [{ type: 'string', format: 'uuid' }, { type: 'null' }] } },
    },
  },
};

const connectionSchema = (name: string, types: string[]) => ({
  type: 'object',
  required: [name],
  additionalProperties: false,
  properties: { [name]: { type: 'object', required: ['connector'], additionalProperties: false, properties: { connector: { type: types } } } },
});

/** An attach/detach volume action, or undefined when `key` is not one of them. */
export async function attachAction(ctx: RequestContext, key: string) {
  const s = ctx.services;
  const load = async () => (await findVolume(ctx, ctx.params.volume_id)) as Stored<AttachableVolume>;
  const change = async (cur: Stored<AttachableVolume>, allowed: (v: AttachableVolume) => boolean, next: (v: AttachableVolume) => AttachableVolume, refusal: string) => {
    const done = await transition(s, cur.partitionKey, cur.rowKey, allowed, next);
    if (!done) throw badRequest(refusal);
    return accepted();
  };
  switch (key) {
    case 'os-reserve': {
      validateBody(empty('os-reserve'), ctx.body);
      const cur = await load();
      // cinder/volume/api.py reserve_volume: from available (a multiattach volume: or in-use).
      return change(
        cur,
        reservable,
        (v) => ({ ...v, status: 'attaching' }),
        `Invalid volume: Volume status must be ${cur.value.multiattach ? 'available or in-use' : 'available'} to reserve, but the status is ${cur.value.status}.`,
      );
    }
    case 'os-unreserve': {
      validateBody(empty('os-unreserve'), ctx.body);
      const cur = await load();
      // Cinder's unreserve_volume only acts on an attaching volume (one no attachment of which is
      // still attaching, here) and answers 202 either way: in-use when it has attachments, else available.
      await transition(
        s,
        cur.partitionKey,
        cur.rowKey,
        (v) => v.status === 'attaching' && !attachmentsOf(v).some((a) => attachStatusOf(v, a) !== 'attached'),
        (v) => ({ ...v, status: attachmentsOf(v).length > 0 ? 'in-use' : 'available' }),
      );
      return accepted();
    }
    case 'os-begin_detaching': {
      validateBody(empty('os-begin_detaching'), ctx.body);
      const cur = await load();
      return change(
        cur,
        (v) => v.status === 'in-use' && v.attach_status === 'attached',
        (v) => ({ ...v, status: 'detaching' }),
        "Invalid volume: Unable to detach volume. Volume status must be 'in-use' and attach_status must be 'attached' to detach.",
      );
    }
    case 'os-roll_detaching': {
      validateBody(empty('os-roll_detaching'), ctx.body);
      const cur = await load();
      await transition(
        s,
        cur.partitionKey,
        cur.rowKey,
        (v) => v.status === 'detaching',
        (v) => ({ ...v, status: 'in-use', attach_status: 'attached' }),
      );
      return accepted();
    }
    case 'os-attach': {
      const b = validateBody<{ 'os-attach': { instance_uuid?: string; host_name?: string; mountpoint: string; mode?: string } }>(attachSchema, ctx.body)['os-attach'];
      if (b.mode === 'ro') throw badRequest('Invalid input received: Jacket attaches managed disks read-write only.');
      const cur = await load();
      // The attachment this completes: the pending one of this instance (Nova's reserve); else a new one
      // (a non-multiattach volume takes it only when it has none).
      const pendingOf = (v: AttachableVolume) => attachmentsOf(v).find((a) => a.server_id === (b.instance_uuid ?? null) && attachStatusOf(v, a) !== 'attached');
      return change(
        cur,
        (v) =>
          [...['available', 'attaching', 'reserved'], ...(v.multiattach ? ['in-use'] : [])].includes(v.status) &&
          (attachmentsOf(v).length === 0 || pendingOf(v) !== undefined || (v.multiattach === true && !attachmentsOf(v).some((a) => a.server_id === (b.instance_uuid ?? null)))),
        (v) => {
          const pending = pendingOf(v);
          const next: VolumeAttachment = {
            id: pending?.id ?? randomUUID(),
            server_id: b.instance_uuid ?? null,
            host_name: b.host_name ?? null,
            device: b.mountpoint,
            attached_at: cinderTime(),
            // Nova's own attachment (its reserve, completed by this call) stays Nova's.
            ...(pending ? (pending.origin ? { origin: pending.origin } : {}) : { origin: 'cinder' as const }),
            created_at: pending?.created_at ?? cinderTime(),
          };
          const rest = attachmentsOf(v).filter((a) => a.id !== pending?.id);
          return withAttachments({ ...v, status: 'in-use', attach_status: 'attached' }, [...rest, next]);
        },
        `Invalid volume: Volume ${cur.rowKey} status must be available or attaching to attach, but the status is ${cur.value.status}.`,
      );
    }
    case 'os-detach': {
      const wanted = validateBody<{ 'os-detach': { attachment_id?: string | null } | null }>(detachSchema, ctx.body)['os-detach']?.attachment_id ?? null;
      const cur = await load();
      // manager.py detach_volume: without an attachment_id, only a volume with one attachment.
      if (wanted === null && attachmentsOf(cur.value).length > 1) throw badRequest('Invalid volume: Detach volume failed: More than one attachment, but no attachment_id provided.');
      const which = (v: AttachableVolume) => (wanted === null ? attachmentsOf(v)[0] : attachmentById(v, wanted));
      return change(
        cur,
        (v) => (v.attach_status === 'attached' || v.status === 'detaching' || v.status === 'in-use') && (wanted === null || which(v) !== undefined),
        (v) => {
          const a = which(v);
          return a ? dropAttachment(v, a.id) : { ...withAttachments(v, []), status: 'available', attach_status: 'detached' };
        },
        'Invalid volume: Volume must be attached in order to detach.',
      );
    }
    case 'os-initialize_connection': {
      validateBody(connectionSchema('os-initialize_connection', ['object', 'string']), ctx.body);
      const v = (await load()).value;
      return json({ connection_info: { driver_volume_type: STORAGE_PROTOCOL, data: connectionData(v) } });
    }
    case 'os-terminate_connection': {
      validateBody(connectionSchema('os-terminate_connection', ['string', 'object', 'null']), ctx.body);
      await load();
      return accepted();
    }
    default:
      return undefined;
  }
}
