// The disk sweep: managed disks and snapshots Jacket made that nothing holds or owns.
//   volume-<id>, volume-<id>-<8hex> (a restore over the volume made it)
//                  tag jacket=volume, jacket-volume-id=<id>: owned while the volume's record names it
//                  (a detached volume is never an orphan) or while it is a snapshot/copy source;
//   <server-id>    a server's OS disk (named by the server UUID; Azure does not copy the VM's tags to
//                  it, so the name proves it), and <server-id>-r<suffix> (a rebuild's new OS disk, tag
//                  jacket=server, jacket-server-id=<id>): owned while the server record's os_disk names
//                  it and the record claims it (owners.ts), or while the server is being rebuilt;
//   snapshot-<id>  tag jacket=snapshot: owned while the volume snapshot's record exists.
// A disk held by a VM (managedBy) or busy (being created, uploaded, exported) is never a candidate.
// Candidates of two passes in a row are re-read and deleted.
import type { Disk, Snapshot } from '@azure/arm-compute';
import type { Services } from '../services';
import { runSweep, type SweepReport } from './sweep';
import { sweepArm, recheckAndDelete } from './arm';
import { UUID, osDiskClaim, volumeClaim, snapshotClaim } from './owners';

export const DISK_SWEEP = 'sweep-disks';

type Owner = { kind: 'volume' | 'os' | 'snapshot'; id: string };

/** What made it, if its name and tags prove it is Jacket's. */
export function jacketOwnerOf(r: { name?: string; tags?: Record<string, string> }, type: 'disk' | 'snapshot'): Owner | undefined {
  const name = r.name ?? '';
  const tags = r.tags ?? {};
  if (type === 'snapshot') {
    const m = /^snapshot-(.+)$/.exec(name);
    return m && UUID.test(m[1]) && tags.jacket === 'snapshot' && tags['jacket-snapshot-id'] === m[1] ? { kind: 'snapshot', id: m[1] } : undefined;
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

async function whyNot(s: Services, r: Disk | Snapshot, type: 'disk' | 'snapshot'): Promise<string | undefined> {
  const owner = jacketOwnerOf(r, type);
  if (!owner) return 'not-jacket';
  if (type === 'disk') {
    const d = r as Disk;
    if (d.managedBy || (d.managedByExtended?.length ?? 0) > 0) return 'attached';
    if (d.diskState && IN_USE.includes(d.diskState)) return 'busy';
  }
  if (r.provisioningState !== 'Succeeded' && r.provisioningState !== 'Failed') return 'busy';
  if (owner.kind === 'volume') return volumeClaim(s, owner.id, r.name!);
  if (owner.kind === 'snapshot') return snapshotClaim(s, owner.id);
  return osDiskClaim(s, owner.id, r.name!);
}

export function sweepDisks(s: Services, now: Date = new Date()): Promise<SweepReport> {
  const rg = s.config.azure.resourceGroup;
  const { compute } = sweepArm(s.config);
  const poll = { updateIntervalInMs: 500 };
  return runSweep(s, DISK_SWEEP, now, async (run) => {
    await run.over(compute.disks.listByResourceGroup(rg), {
      kind: 'disk',
      name: (d) => d.name ?? '',
      evaluate: (d) => whyNot(s, d, 'disk'),
      remove: (d) =>
        recheckAndDelete(
          { sweep: DISK_SWEEP, kind: 'disk', name: d.name! },
          () => compute.disks.get(rg, d.name!),
          (cur) => whyNot(s, cur, 'disk'),
          () => compute.disks.delete(rg, d.name!, poll),
        ),
    });
    await run.over(compute.snapshots.listByResourceGroup(rg), {
      kind: 'snapshot',
      name: (x) => x.name ?? '',
      evaluate: (x) => whyNot(s, x, 'snapshot'),
      remove: (x) =>
        recheckAndDelete(
          { sweep: DISK_SWEEP, kind: 'snapshot', name: x.name! },
          () => compute.snapshots.get(rg, x.name!),
          (cur) => whyNot(s, cur, 'snapshot'),
          () => compute.snapshots.delete(rg, x.name!, poll),
        ),
    });
  });
}
