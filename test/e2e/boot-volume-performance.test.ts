// A new volume attached at boot whose type provisions performance (Premium SSD v2 with back-end QoS
// specs, docs/volumes.md "QoS specs"): the build's VM makes the disk (a VM's data disk cannot name IOPS
// or MB/s, so Azure gives it its default), then the boot-volume step PATCHes the type's IOPS and MB/s
// onto it, so the volume performs as one made alone would.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startArmStack, waitFor, type ArmStack } from '../support/armStack';
import type { Creds } from '../support/stack';

let env: ArmStack;
let alice: Creds & { projectId: string; userId: string };
const RG = 'ops_resource_group';

before(async () => {
  const volumeTypes = [{ name: 'fast-default', extra_specs: { 'azure:sku': 'PremiumV2_LRS' }, default: true }];
  env = await startArmStack({ settings: { JACKET_CATALOG: JSON.stringify({ volumeTypes }) } });
  alice = await env.stack.makeProjectUser('bvp-a', 'alice');
});
after(() => env?.stop());

test("a blank Premium SSD v2 volume at boot gets its type's QoS IOPS and MB/s once the VM made its disk", async () => {
  await env.stack.oscOk(['volume', 'qos', 'create', '--consumer', 'back-end', '--property', 'total_iops_sec=7000', '--property', 'total_bytes_sec=300000000', 'pv2']);
  await env.stack.oscOk(['volume', 'qos', 'associate', 'pv2', 'fast-default']);
  await env.control.clearRequests();
  const srv = await env.stack.oscJson(
    ['server', 'create', '--image', 'ubuntu-22.04', '--flavor', 'm1.medium', '--network', 'private', '--block-device', 'source_type=blank,destination_type=volume,volume_size=4', '--wait', 'bvp-1'],
    alice,
  );
  assert.equal(srv.status, 'ACTIVE');
  const vols = await env.stack.oscJson<{ ID: string; Status: string }[]>(['volume', 'list'], alice);
  assert.equal(vols.length, 1);
  const id = vols[0].ID;
  await waitFor('volume in-use', async () => ((await env.stack.oscJson(['volume', 'show', id], alice)).status === 'in-use' ? true : undefined), 90000);
  // The VM PUT made the disk without performance; a PATCH then set the type's.
  const reqs = await env.control.requests();
  const put = reqs.find((q) => q.method === 'PUT' && q.path.endsWith(`/virtualMachines/${srv.id}`));
  const dd = (put?.requestBody as { properties: { storageProfile: { dataDisks: Record<string, any>[] } } }).properties.storageProfile.dataDisks;
  assert.deepEqual([dd[0].createOption, dd[0].managedDisk.storageAccountType, dd[0].diskIOPSReadWrite], ['Empty', 'PremiumV2_LRS', undefined]);
  await waitFor('disk performance', async () => {
    const d = await env.compute.disks.get(RG, `volume-${id}`);
    return d.diskIopsReadWrite === 7000 && d.diskMBpsReadWrite === 300 ? true : undefined;
  });
  const patch = reqs
    .concat(await env.control.requests())
    .find((q) => q.method === 'PATCH' && q.path.endsWith(`/disks/volume-${id}`) && (q.requestBody as any)?.properties?.diskIOPSReadWrite !== undefined);
  assert.ok(patch, 'a PATCH of the disk set its performance');
});
