// The NIC sweep: NICs in the resource group that Jacket made for a server (tag jacket=server, name
// <server-id> or <server-id>-<n>), attached to no VM, whose server record no longer claims them, are
// candidates; one that was a candidate in the previous pass too is re-read and deleted.
import type { NetworkInterface } from '@azure/arm-network';
import type { Services } from '../services';
import { runSweep, type SweepReport, type Outcome } from './sweep';
import { sweepArm, recheckAndDelete } from './arm';
import { UUID, serverClaim } from './owners';

export const NIC_SWEEP = 'sweep-nics';

/** The server id a NIC belongs to, if tags and name both say Jacket made it. */
export function jacketServerOfNic(nic: NetworkInterface): string | undefined {
  const sid = nic.tags?.['jacket-server-id'];
  if (nic.tags?.jacket !== 'server' || !sid || !UUID.test(sid)) return undefined;
  const name = nic.name ?? '';
  return name === sid || new RegExp(`^${sid}-\\d+$`).test(name) ? sid : undefined;
}

async function whyNot(s: Services, nic: NetworkInterface): Promise<string | undefined> {
  const sid = jacketServerOfNic(nic);
  if (!sid) return 'not-jacket';
  if (nic.virtualMachine?.id) return 'attached';
  if (nic.provisioningState !== 'Succeeded' && nic.provisioningState !== 'Failed') return 'busy';
  return serverClaim(s, sid);
}

export function sweepNics(s: Services, now: Date = new Date()): Promise<SweepReport> {
  const rg = s.config.azure.resourceGroup;
  const { network } = sweepArm(s.config);
  return runSweep(s, NIC_SWEEP, now, (run) =>
    run.over(network.networkInterfaces.list(rg), {
      kind: 'nic',
      name: (n) => n.name ?? '',
      evaluate: (n) => whyNot(s, n),
      remove: (n): Promise<Outcome> =>
        recheckAndDelete(
          { sweep: NIC_SWEEP, kind: 'nic', name: n.name! },
          () => network.networkInterfaces.get(rg, n.name!),
          (fresh) => whyNot(s, fresh),
          () => network.networkInterfaces.beginDeleteAndWait(rg, n.name!, { updateIntervalInMs: 500 }),
          // Azure holds a NIC of a VM that failed to create for a while: try again next pass.
          { NicReservedForAnotherVm: 'reserved', NicInUse: 'attached' },
        ),
    }),
  );
}
