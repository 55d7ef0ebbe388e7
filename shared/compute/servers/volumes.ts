// A server's volumes (Nova's block device mappings of destination 'volume'): kept on the server record
// itself, so the LUN a new attachment takes is chosen under the server's ETag (two attaches racing
// never share a LUN) and show/detail read them without another query.
import type { ServerRecord } from './model';

export interface ServerVolume {
  volume_id: string;
  /** The volume's project (an admin may attach another project's volume). */
  volume_project_id: string;
  /** Azure's LUN for a data disk; null for the root volume (the OS disk). */
  lun: number | null;
  /** /dev/sda for the root volume, then /dev/sdb... in LUN order. */
  device: string;
  status: 'attaching' | 'attached' | 'detaching';
  delete_on_termination: boolean;
  /** The attach or detach instance action running, if any. */
  action?: string;
  /** A blank volume mapped at boot: the build's VM makes its disk (Empty), so until then it has none. */
  made?: boolean;
  /**
   * Nova's bdm.uuid (2.89), given when the mapping is made (attach, boot); absent on mappings written
   * before, which derive one (api/volumeAttachments.ts bdmUuidOf).
   */
  bdm_uuid?: string;
  /** Nova's bdm.attachment_id (2.89): the Cinder attachment the attach reserved (else read from the volume). */
  attachment_id?: string;
}

export type ServerWithVolumes = ServerRecord & { volumes?: ServerVolume[] };

export const volumesOf = (s: ServerRecord): ServerVolume[] => (s as ServerWithVolumes).volumes ?? [];

export const withVolumes = (s: ServerRecord, volumes: ServerVolume[]): ServerRecord => ({ ...s, volumes }) as ServerWithVolumes;

export const rootVolumeOf = (s: ServerRecord): ServerVolume | undefined => volumesOf(s).find((v) => v.lun === null);

/** Device names in Azure's LUN order after the OS disk (sda). */
export const deviceForLun = (lun: number) => `/dev/sd${lun < 25 ? String.fromCharCode(98 + lun) : `a${String.fromCharCode(97 + lun - 25)}`}`;

/** The lowest LUN not taken, or undefined when `max` data disks are already there. */
export function freeLun(s: ServerRecord, max: number): number | undefined {
  const taken = new Set(
    volumesOf(s)
      .map((v) => v.lun)
      .filter((l): l is number => l !== null),
  );
  if (taken.size >= max) return undefined;
  for (let l = 0; l < 64; l++) if (!taken.has(l)) return l;
  return undefined;
}

/** os-extended-volumes:volumes_attached: the ids, and from 2.3 delete_on_termination. */
export const volumesAttachedView = (s: ServerRecord, withDelete: boolean) =>
  volumesOf(s).map((v) => (withDelete ? { id: v.volume_id, delete_on_termination: v.delete_on_termination } : { id: v.volume_id }));
