// The disk sweep: managed disks and snapshots Jacket made that nothing holds or owns.
//   volume-<id>, volume-<id>-<8hex> (a restore over the volume made it)
//                  tag jacket=volume, jacket-volume-id=<id>: owned while the volume's record names it
//                  (a detached volume is never an orphan) or while it is a snapshot/copy source;
//   <server-id>    a server's OS disk (named by the server UUID; Azure does not copy the VM's tags to
//                  it, so the name proves it), and <server-id>-r<suffix> (a rebuild's new OS disk, tag
//                  jacket=server, jacket-server-id=<id>): owned while the server record's os_disk names
//                  it and the record claims it, or while the server is being rebuilt;
//   snapshot-<id>  tag jacket=snapshot: owned while the volume snapshot's record exists;
//   backup-<id>    tag jacket=backup (a backup's temporary snapshot, the copy's source): owned while the
//                  backup is being made; one a dead worker or a failed delete left behind is swept.
// Whether a record owns a disk is the owning service's answer (shared/compute/ownership.ts,
// shared/volume/ownership.ts); listing, re-reading and deleting go through s.azure.inventory.
// A disk held by a VM (managedBy) or busy (being created, uploaded, exported) is never a candidate.
// Candidates of two passes in a row are re-read and deleted.
import type { Services } from '../services';
import type { InventoryItem } from '../azure/inventory';
import { serverOwnsOsDisk } from '../compute/ownership';
import { volumeOwnsDisk, snapshotOwnsAzureSnapshot, backupOwnsAzureSnapshot, volumeOwnerView } from '../volume/ownership';
import { runSweep, type SweepReport } from './sweep';
import { recheckAndDelete, UUID } from './arm';

export const DISK_SWEEP = 'sweep-disks';

type Owner = { kind: 'volume' | 'os' | 'snapshot' | 'backup'; id: string };

/** What made it, if its name and tags prove it is Jacket's. */
export function jacketOwnerOf(r: Pick<InventoryItem, 'name' | 'tags'>, type: 'disk' | 'snapshot'): Owner | undefined {
  const { name, tags } = r;
  if (type === 'snapshot') {
    const m = /^snapshot-(.+)$/.exec(name);
    if (m) return UUID.test(m[1]) && tags.jacket === 'snapshot' && tags['jacket-snapshot-id'] === m[1] ? { kind: 'snapshot', id: m[1] } : undefined;
    const b = /^backup-(.+)$/.exec(name);
    return b && UUID.test(b[1]) && tags.jacket === 'backup' && tags['jacket-backup-id'] === b[1] ? { kind: 'backup', id: b[1] } : undefined;
  }
  const v = /^volume-(.{36})(-[0-9a-f]{8})?$/.exec(name);
  if (v && UUID.test(v[1]) && tags.jacket === 'volume' && tags['jacket-volume-id'] === v[1]) return { kind: 'volume', id: v[1] };
  if (UUID.test(name) && (tags.jacket === undefined || (tags.jacket === 'server' && tags['jacket-server-id'] === name))) return { kind: 'os', id: name };
  // A rebuild's OS disk carries the server's tags (rebuild.ts names it <id>-r<base36 time>).
  const rb = /^(.{36})-r[0-9a-z]+$/.exec(name);
  if (rb && UUID.test(rb[1]) && tags.jacket === 'server' && tags['jacket-server-id'] === rb[1]) return { kind: 'os', id: rb[1] };
  return undefined;
}

/** Disk states in which something is using the disk (attached, reserved, exported or uploading). */
const IN_USE = ['Attached', 'Reserved', 'ActiveSAS', 'ActiveSASFrozen', 'ActiveUpload', 'ReadyToUpload', 'Frozen'];

/** How a pass asks the volumes' owners: in batches while evaluating, per resource when re-checking. */
type VolumeOwners = Pick<ReturnType<typeof volumeOwnerView>, 'disk' | 'azureSnapshot'>;
const freshOwners = (s: Services): VolumeOwners => ({ disk: (id, name) => volumeOwnsDisk(s, id, name), azureSnapshot: (id) => snapshotOwnsAzureSnapshot(s, id) });

async function whyNot(s: Services, owners: VolumeOwners, r: InventoryItem): Promise<string | undefined> {
  const type = r.kind === 'snapshot' ? 'snapshot' : 'disk';
  const owner = jacketOwnerOf(r, type);
  if (!owner) return 'not-jacket';
  if (type === 'disk') {
    if (r.heldBy || (r.alsoHeldBy?.length ?? 0) > 0) return 'attached';
    if (r.diskState && IN_USE.includes(r.diskState)) return 'busy';
  }
  if (r.provisioningState !== 'Succeeded' && r.provisioningState !== 'Failed') return 'busy';
  if (owner.kind === 'volume') return owners.disk(owner.id, r.name);
  if (owner.kind === 'snapshot') return owners.azureSnapshot(owner.id);
  // A backup's snapshot under a read SAS is being copied (or its grant not yet revoked): not a candidate.
  if (owner.kind === 'backup') return r.diskState && IN_USE.includes(r.diskState) ? 'busy' : backupOwnsAzureSnapshot(s, owner.id);
  return serverOwnsOsDisk(s, owner.id, r.name);
}

export function sweepDisks(s: Services, now: Date = new Date()): Promise<SweepReport> {
  return runSweep(s, DISK_SWEEP, now, async (run) => {
    // Volume, snapshot and backup owners: read in batches, once per pass (shared/volume/ownership.ts);
    // a server's OS disk is asked only when no VM holds it (an orphan or a server being built or
    // rebuilt: few), so per disk. The re-check before a delete reads fresh, per resource.
    const batched = volumeOwnerView(s);
    const fresh = freshOwners(s);
    for (const kind of ['disk', 'snapshot'] as const) {
      await run.over(s.azure.inventory.list(kind), {
        kind,
        name: (d) => d.name,
        evaluate: (d) => whyNot(s, batched, d),
        remove: (d) => recheckAndDelete(s, DISK_SWEEP, kind, d.name, (cur) => whyNot(s, fresh, cur)),
      });
    }
  });
}
