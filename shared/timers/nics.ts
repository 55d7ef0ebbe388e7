// The NIC sweep: NICs in the resource group that Jacket made for a server (tag jacket=server, name
// <server-id> or <server-id>-<n>), attached to no VM, whose server no longer claims them (the servers'
// own answer, shared/compute/ownership.ts), are candidates, and so are NICs made for a port
// (jacket=port, port-<id>) whose port record is gone; one that was a candidate in the previous
// pass too is re-read and deleted. Listing, re-reading and deleting go through s.azure.inventory.
// The server records are read per NIC, not in a batch like the disk sweep's volume owners: only a NIC
// no VM holds is asked about (an orphan, or a server still being built), so these are few whatever
// the number of servers, and a batch would read every server to answer them.
// The same pass then sweeps the NSGs of deleted security groups (nsgs.ts), their application security
// groups (asgs.ts: after the NSGs, whose rules may name them) and the public IPs of deleted floating IPs
// (publicIps.ts), and the virtual networks of deleted project networks (vnets.ts): after the NICs, so
// what a NIC deleted in this pass held is seen unheld.
import type { Services } from '../services';
import type { InventoryItem } from '../azure/inventory';
import { serverOwnsNic } from '../compute/ownership';
import { runSweep, type SweepReport, type Outcome } from './sweep';
import { recheckAndDelete, UUID } from './arm';
import { nsgSweepTarget } from './nsgs';
import { asgSweepTarget } from './asgs';
import { vnetSweepTarget } from './vnets';
import { portNicName } from '../network/portService';
import { portStore } from '../network/ports';
import { publicIpSweepTarget } from './publicIps';
import { natGatewaySweepTarget } from './natGateways';

export const NIC_SWEEP = 'sweep-nics';

/** The server id a NIC belongs to, if tags and name both say Jacket made it. */
export function jacketServerOfNic(nic: Pick<InventoryItem, 'name' | 'tags'>): string | undefined {
  const sid = nic.tags['jacket-server-id'];
  if (nic.tags.jacket !== 'server' || !sid || !UUID.test(sid)) return undefined;
  return nic.name === sid || new RegExp(`^${sid}-\\d+$`).test(nic.name) ? sid : undefined;
}

/** The port id a NIC stands for, if its tags and name both say Jacket made it for POST /ports. */
export function jacketPortOfNic(nic: Pick<InventoryItem, 'name' | 'tags'>): { port: string; project: string } | undefined {
  const id = nic.tags['jacket-port-id'];
  const project = nic.tags['jacket-project-id'];
  if (nic.tags.jacket !== 'port' || !id || !UUID.test(id) || !project) return undefined;
  return nic.name === portNicName(id) ? { port: id, project } : undefined;
}

async function whyNot(s: Services, nic: InventoryItem): Promise<string | undefined> {
  const port = jacketPortOfNic(nic);
  if (port) {
    // A port's NIC is the record's while the record exists (a server booted on it holds it too).
    if (nic.heldBy) return 'attached';
    if (nic.provisioningState !== 'Succeeded' && nic.provisioningState !== 'Failed') return 'busy';
    return (await portStore(s).get(port.project, port.port)) ? 'port-record' : undefined;
  }
  const sid = jacketServerOfNic(nic);
  if (!sid) return 'not-jacket';
  if (nic.heldBy) return 'attached';
  if (nic.provisioningState !== 'Succeeded' && nic.provisioningState !== 'Failed') return 'busy';
  return serverOwnsNic(s, sid);
}

export function sweepNics(s: Services, now: Date = new Date()): Promise<SweepReport> {
  return runSweep(s, NIC_SWEEP, now, async (run) => {
    await run.over(s.azure.inventory.list('nic'), {
      kind: 'nic',
      name: (n) => n.name,
      evaluate: (n) => whyNot(s, n),
      remove: (n): Promise<Outcome> =>
        recheckAndDelete(
          s,
          NIC_SWEEP,
          'nic',
          n.name,
          (fresh) => whyNot(s, fresh),
          // Azure holds a NIC of a VM that failed to create for a while: try again next pass.
          { NicReservedForAnotherVm: 'reserved', NicInUse: 'attached' },
        ),
    });
    await run.over(s.azure.inventory.list('nsg'), nsgSweepTarget(s, NIC_SWEEP));
    await run.over(s.azure.inventory.list('asg'), asgSweepTarget(s, NIC_SWEEP));
    // NAT gateways before public IPs: an address a NAT gateway left this pass is judged from the next.
    await run.over(s.azure.inventory.list('nat'), natGatewaySweepTarget(s, NIC_SWEEP));
    await run.over(s.azure.inventory.list('pip'), publicIpSweepTarget(s, NIC_SWEEP));
    await run.over(s.azure.inventory.list('vnet'), vnetSweepTarget(s, NIC_SWEEP));
  });
}
