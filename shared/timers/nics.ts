// The NIC sweep: NICs in the resource group that Jacket made for a server (tag jacket=server, name
// <server-id> or <server-id>-<n>), attached to no VM, whose server record no longer claims them, are
// candidates; one that was a candidate in the previous pass too is re-read and deleted.
import type { NetworkInterface } from '@azure/arm-network';
import type { Services } from '../services';
import { runSweep, type SweepReport, type Outcome } from './sweep';
import { sweepArm } from './arm';
import { log } from '../log';
import { UUID, serverClaim, armError } from './owners';

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
      async remove(n): Promise<Outcome> {
        const name = n.name!;
        let fresh: NetworkInterface;
        try {
          fresh = await network.networkInterfaces.get(rg, name);
        } catch (e) {
          if (armError(e).status === 404) return 'gone';
          throw e;
        }
        const why = await whyNot(s, fresh);
        if (why) return why;
        try {
          await network.networkInterfaces.beginDeleteAndWait(rg, name, { updateIntervalInMs: 500 });
          return 'deleted';
        } catch (e) {
          const f = armError(e);
          if (f.status === 404) return 'gone';
          // Azure holds a NIC of a VM that failed to create for a while: try again next pass.
          if (f.code === 'NicReservedForAnotherVm') return 'reserved';
          if (f.code === 'NicInUse') return 'attached';
          log.warn('sweep could not delete a NIC', { sweep: NIC_SWEEP, name, status: f.status, code: f.code, error: f.message });
          return 'delete-failed';
        }
      },
    }),
  );
}
