// The volume side of attachments (Cinder 3.0): a volume is attached to at most one server (Jacket's
// volumes are not multiattach), so the attachment lives on the volume record itself, and every status
// change is ETag-conditional on it: available -> attaching/reserved -> in-use -> detaching -> available.
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
}

/** A volume record with its attachment (absent when detached). */
export type AttachableVolume = VolumeRecord & { attachment?: VolumeAttachment };

export const attachmentOf = (v: VolumeRecord): VolumeAttachment | undefined => (v as AttachableVolume).attachment;

/** The `attachments` of Cinder's volume view: only a completed attachment shows; host_name for admins only. */
export function attachmentsView(ctx: RequestContext, v: VolumeRecord) {
  const a = attachmentOf(v);
  if (!a || v.attach_status !== 'attached') return [];
  return [
    {
      id: v.id,
      attachment_id: a.id,
      volume_id: v.id,
      server_id: a.server_id,
      host_name: isAdmin(ctx.auth!) ? a.host_name : null,
      device: a.device,
      attached_at: a.attached_at,
    },
  ];
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

/** Nova's reserve for a server: available -> attaching, with the attachment's server and device. */
export async function reserveForServer(s: Services, project: string, id: string, serverId: string, device: string): Promise<Stored<AttachableVolume> | undefined> {
  return transition(
    s,
    project,
    id,
    (v) => v.status === 'available' && v.attach_status === 'detached',
    (v) => ({ ...v, status: 'attaching', attach_status: 'attaching', attachment: { id: randomUUID(), server_id: serverId, host_name: null, device, attached_at: null, created_at: cinderTime() } }),
  );
}

const heldBy = (v: AttachableVolume, serverId: string) => v.attachment?.server_id === serverId;

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
    (x) => {
      const { attachment: _gone, ...rest } = x;
      return { ...rest, status: 'error', attach_status: 'detached' };
    },
  );
}

/** The attach finished: in-use, attached, with its time. */
export async function markAttached(s: Services, project: string, id: string, serverId: string, hostName: string | null): Promise<void> {
  await transition(
    s,
    project,
    id,
    (v) => heldBy(v, serverId) && v.status !== 'in-use',
    (v) => ({ ...v, status: 'in-use', attach_status: 'attached', attachment: { ...v.attachment!, host_name: hostName, attached_at: cinderTime() } }),
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
    (v) => v.attachment?.id === attachmentId,
    (v) => ({ ...v, status: 'in-use', attach_status: 'attached', attachment: v.attachment!.origin === 'cinder' ? { ...v.attachment!, status: 'attached' } : v.attachment }),
  );
}

/** Cinder's begin_detaching for a server's volume: in-use -> detaching. */
export async function beginDetaching(s: Services, project: string, id: string, serverId: string): Promise<Stored<AttachableVolume> | undefined> {
  return transition(
    s,
    project,
    id,
    (v) => heldBy(v, serverId) && v.status === 'in-use' && v.attach_status === 'attached',
    (v) => ({ ...v, status: 'detaching', attach_status: 'detaching' }),
  );
}

/** Back to in-use after a detach that did not happen (Cinder's roll_detaching). */
export async function rollDetaching(s: Services, project: string, id: string, serverId: string): Promise<void> {
  await transition(
    s,
    project,
    id,
    (v) => heldBy(v, serverId) && v.status === 'detaching',
    (v) => ({ ...v, status: 'in-use', attach_status: 'attached' }),
  );
}

/** The server let go of the volume (detached, failed attach, server deleted): available, no attachment. */
export async function releaseFromServer(s: Services, project: string, id: string, serverId: string): Promise<Stored<AttachableVolume> | undefined> {
  return transition(
    s,
    project,
    id,
    (v) => heldBy(v, serverId),
    // An extend under way (3.42) keeps its status: its work lands the volume by its attachments then,
    // as Cinder's manager does (available once detached).
    ({ attachment: _gone, ...v }) => ({ ...v, status: v.status === 'extending' ? 'extending' : 'available', attach_status: 'detached' }),
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
    (v) => v.attachment?.id === attachmentId,
    (v) => ({ ...v, status: 'detaching', attach_status: 'detaching' }),
  );
}

/**
 * The record side of Cinder's manager detach_volume for a forced detach with no server behind it (a
 * host attachment, or no attachment at all): available and detached, the attachment (if `attachmentId`
 * names it, or none is given) gone. Undefined when the attachment changed meanwhile.
 */
export async function finishForceDetach(s: Services, project: string, id: string, attachmentId: string | null): Promise<Stored<AttachableVolume> | undefined> {
  return transition(
    s,
    project,
    id,
    (v) => (attachmentId === null ? !v.attachment : v.attachment?.id === attachmentId),
    ({ attachment: _gone, ...v }) => ({ ...v, status: 'available', attach_status: 'detached' }),
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
      // cinder/volume/api.py reserve_volume (non-multiattach): only from available.
      return change(
        cur,
        (v) => v.status === 'available',
        (v) => ({ ...v, status: 'attaching' }),
        `Invalid volume: Volume status must be available to reserve, but the status is ${cur.value.status}.`,
      );
    }
    case 'os-unreserve': {
      validateBody(empty('os-unreserve'), ctx.body);
      const cur = await load();
      // Cinder's unreserve_volume only acts on an attaching volume and answers 202 either way.
      await transition(
        s,
        cur.partitionKey,
        cur.rowKey,
        (v) => v.status === 'attaching' && !v.attachment,
        (v) => ({ ...v, status: 'available' }),
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
      return change(
        cur,
        (v) => ['available', 'attaching', 'reserved'].includes(v.status) && (!v.attachment || v.attachment.server_id === (b.instance_uuid ?? null)),
        (v) => ({
          ...v,
          status: 'in-use',
          attach_status: 'attached',
          attachment: {
            id: v.attachment?.id ?? randomUUID(),
            server_id: b.instance_uuid ?? null,
            host_name: b.host_name ?? null,
            device: b.mountpoint,
            attached_at: cinderTime(),
            // Nova's own attachment (its reserve, completed by this call) stays Nova's.
            ...(v.attachment ? (v.attachment.origin ? { origin: v.attachment.origin } : {}) : { origin: 'cinder' as const }),
            created_at: v.attachment?.created_at ?? cinderTime(),
          },
        }),
        `Invalid volume: Volume ${cur.rowKey} status must be available or attaching to attach, but the status is ${cur.value.status}.`,
      );
    }
    case 'os-detach': {
      validateBody(detachSchema, ctx.body);
      const cur = await load();
      return change(
        cur,
        (v) => v.attach_status === 'attached' || v.status === 'detaching' || v.status === 'in-use',
        ({ attachment: _gone, ...v }) => ({ ...v, status: 'available', attach_status: 'detached' }),
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
