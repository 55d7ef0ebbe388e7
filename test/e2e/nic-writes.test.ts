// The driver's read-modify-writes of a NIC (shared/azure/network.ts changeNic) against the ARM emulator:
// two writers of one NIC at once (a security group change and a floating IP association, each a GET
// then a PUT of the whole NIC) both land. The PUT carries the read's etag as If-Match; the slower
// writer's PUT meets ARM's 412, reads again and writes on top of the other's change instead of putting
// the NIC it read back (which would drop the other's public IP).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startArmStack, type ArmStack } from '../support/armStack';

const RG = 'ops_resource_group';
let arm: ArmStack;

before(async () => {
  arm = await startArmStack({ asyncDelayMs: 0 });
});
after(async () => {
  await arm?.stop();
});

test('two writers of one NIC: the later PUT meets 412 on the stale etag, reads again, and both changes stay', async () => {
  const net = arm.network;
  const location = arm.emu.location;
  const vnet = await net.virtualNetworks.beginCreateOrUpdateAndWait(RG, 'nicw-vnet', {
    location,
    addressSpace: { addressPrefixes: ['10.77.0.0/16'] },
    subnets: [{ name: 's', addressPrefix: '10.77.1.0/24' }],
  });
  const subnetId = vnet.subnets![0].id!;
  const nic = await net.networkInterfaces.beginCreateOrUpdateAndWait(RG, 'nicw-nic', { location, ipConfigurations: [{ name: 'ipconfig1', primary: true, subnet: { id: subnetId } }] });
  const nsg = await net.networkSecurityGroups.beginCreateOrUpdateAndWait(RG, 'nicw-nsg', { location });
  const pip = await net.publicIPAddresses.beginCreateOrUpdateAndWait(RG, 'nicw-pip', { location, sku: { name: 'Standard' }, publicIPAllocationMethod: 'Static' });
  const driver = arm.stack.cloud.services.azure.network;

  // The first PUT of the NIC (the NSG writer's, which reads first) is held 500 ms: the public IP
  // writer reads after it and puts its change meanwhile.
  await arm.control.clearRequests();
  await arm.control.addFault({ method: 'PUT', path: `/networkInterfaces/${nic.name}$`, latencyMs: 500, count: 1 });
  const nsgWrite = driver.setNicNsg(nic.name!, nsg.id!);
  await new Promise((r) => setTimeout(r, 150));
  const pipWrite = driver.setNicPublicIp(nic.name!, pip.id!);
  assert.deepEqual(await Promise.all([nsgWrite, pipWrite]), [true, true]);

  const now = await net.networkInterfaces.get(RG, nic.name!);
  assert.equal(now.networkSecurityGroup?.id?.toLowerCase(), nsg.id!.toLowerCase(), 'the NSG writer landed');
  assert.equal(now.ipConfigurations![0].publicIPAddress?.id?.toLowerCase(), pip.id!.toLowerCase(), "the public IP writer's change was not put back");
  const puts = (await arm.control.requests()).filter((r) => r.method === 'PUT' && r.path.endsWith(`/networkInterfaces/${nic.name}`));
  assert.deepEqual(puts.map((r) => r.status).sort(), [200, 200, 412], 'one PUT met the stale etag and was sent again');
});
