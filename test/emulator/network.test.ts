import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createNic, startHarness, Harness } from './harness';
import { assertRecordedResponsesValid } from './specCheck';

let h: Harness;
before(async () => {
  h = await startHarness();
});
after(async () => {
  if (!h) return;
  try {
    await assertRecordedResponsesValid(h);
  } finally {
    await h.stop();
  }
});

describe('network resources through the real @azure/arm-network client', () => {
  it('serves the seeded virtual network, subnet and NSG', async () => {
    const vnet = await h.network.virtualNetworks.get(h.resourceGroup, 'jacket-vnet');
    assert.deepEqual(vnet.addressSpace?.addressPrefixes, ['10.0.0.0/16']);
    const subnet = await h.network.subnets.get(h.resourceGroup, 'jacket-vnet', 'default');
    assert.equal(subnet.addressPrefix, '10.0.0.0/24');
    const subnets: string[] = [];
    for await (const s of h.network.subnets.list(h.resourceGroup, 'jacket-vnet')) subnets.push(s.name!);
    assert.deepEqual(subnets, ['default']);
    const nsg = await h.network.networkSecurityGroups.get(h.resourceGroup, 'jacket-nsg');
    assert.equal(nsg.defaultSecurityRules?.length, 6);
  });

  it('creates NICs with dynamic (first free after the 4 reserved) and static private IPs', async () => {
    const a = await createNic(h, 'nic-a');
    assert.equal(a.ipConfigurations?.[0].privateIPAddress, '10.0.0.4');
    assert.equal(a.provisioningState, 'Succeeded');
    const b = await h.network.networkInterfaces.beginCreateOrUpdateAndWait(h.resourceGroup, 'nic-b', {
      location: h.location,
      ipConfigurations: [{ name: 'ipconfig1', subnet: { id: h.subnetId }, privateIPAllocationMethod: 'Static', privateIPAddress: '10.0.0.50' }],
      networkSecurityGroup: { id: h.nsgId },
    });
    assert.equal(b.ipConfigurations?.[0].privateIPAddress, '10.0.0.50');
    assert.equal(b.networkSecurityGroup?.id, h.nsgId);
    const c = await createNic(h, 'nic-c');
    assert.equal(c.ipConfigurations?.[0].privateIPAddress, '10.0.0.5');
    const nsg = await h.network.networkSecurityGroups.get(h.resourceGroup, 'jacket-nsg');
    assert.deepEqual(
      nsg.networkInterfaces?.map((n) => n.id),
      [b.id],
    );
    const subnet = await h.network.subnets.get(h.resourceGroup, 'jacket-vnet', 'default');
    assert.equal(subnet.ipConfigurations?.length, 3);
  });

  it('refuses a static IP in use, outside the subnet, or reserved', async () => {
    const mk = (ip: string) =>
      h.network.networkInterfaces.beginCreateOrUpdateAndWait(h.resourceGroup, 'nic-x', {
        location: h.location,
        ipConfigurations: [{ name: 'ipconfig1', subnet: { id: h.subnetId }, privateIPAllocationMethod: 'Static', privateIPAddress: ip }],
      });
    await assert.rejects(mk('10.0.0.50'), (e: any) => e.statusCode === 400 && e.code === 'PrivateIPAddressInUse');
    await assert.rejects(mk('10.1.0.9'), (e: any) => e.statusCode === 400 && e.code === 'PrivateIPAddressNotInSubnet');
    await assert.rejects(mk('10.0.0.1'), (e: any) => e.statusCode === 400 && e.code === 'PrivateIPAddressInReservedRange');
    await assert.rejects(
      h.network.networkInterfaces.beginCreateOrUpdateAndWait(h.resourceGroup, 'nic-y', {
        location: h.location,
        ipConfigurations: [{ name: 'ipconfig1', subnet: { id: `${h.vnetId}/subnets/nope` } }],
      }),
      (e: any) => e.statusCode === 400 && e.code === 'InvalidResourceReference',
    );
  });

  it('updates a NIC (NSG association) keeping its dynamic IP, lists and deletes NICs', async () => {
    const a = await h.network.networkInterfaces.beginCreateOrUpdateAndWait(h.resourceGroup, 'nic-a', {
      location: h.location,
      ipConfigurations: [{ name: 'ipconfig1', subnet: { id: h.subnetId }, privateIPAllocationMethod: 'Dynamic' }],
      networkSecurityGroup: { id: h.nsgId },
      tags: { owner: 'jacket' },
    });
    assert.equal(a.ipConfigurations?.[0].privateIPAddress, '10.0.0.4');
    assert.equal(a.networkSecurityGroup?.id, h.nsgId);
    const names: string[] = [];
    for await (const n of h.network.networkInterfaces.list(h.resourceGroup)) names.push(n.name!);
    assert.deepEqual(names.sort(), ['nic-a', 'nic-b', 'nic-c']);
    const all: string[] = [];
    for await (const n of h.network.networkInterfaces.listAll()) all.push(n.name!);
    assert.equal(all.length, 3);
    await h.network.networkInterfaces.beginDeleteAndWait(h.resourceGroup, 'nic-c');
    await assert.rejects(h.network.networkInterfaces.get(h.resourceGroup, 'nic-c'), (e: any) => e.statusCode === 404 && e.code === 'ResourceNotFound');
    await h.network.networkInterfaces.beginDeleteAndWait(h.resourceGroup, 'nic-c'); // 204 for a missing resource
  });

  it('NSGs with rules: create, get, list, refuse deleting one in use', async () => {
    const nsg = await h.network.networkSecurityGroups.beginCreateOrUpdateAndWait(h.resourceGroup, 'nsg-2', {
      location: h.location,
      securityRules: [
        {
          name: 'ssh',
          protocol: 'Tcp',
          access: 'Allow',
          direction: 'Inbound',
          priority: 100,
          sourceAddressPrefix: '*',
          sourcePortRange: '*',
          destinationAddressPrefix: '*',
          destinationPortRange: '22',
        },
      ],
    });
    assert.equal(nsg.securityRules?.[0].destinationPortRange, '22');
    const rule = await h.network.securityRules.beginCreateOrUpdateAndWait(h.resourceGroup, 'nsg-2', 'icmp', {
      protocol: 'Icmp',
      access: 'Allow',
      direction: 'Inbound',
      priority: 110,
      sourceAddressPrefix: '*',
      sourcePortRange: '*',
      destinationAddressPrefix: '*',
      destinationPortRange: '*',
    });
    assert.equal(rule.priority, 110);
    const rules: string[] = [];
    for await (const r of h.network.securityRules.list(h.resourceGroup, 'nsg-2')) rules.push(r.name!);
    assert.deepEqual(rules, ['ssh', 'icmp']);
    await h.network.securityRules.beginDeleteAndWait(h.resourceGroup, 'nsg-2', 'icmp');
    await assert.rejects(
      h.network.networkSecurityGroups.beginCreateOrUpdateAndWait(h.resourceGroup, 'nsg-3', {
        location: h.location,
        securityRules: [
          {
            name: 'bad',
            protocol: 'Tcp',
            access: 'Allow',
            direction: 'Inbound',
            priority: 5000,
            sourceAddressPrefix: '*',
            sourcePortRange: '*',
            destinationAddressPrefix: '*',
            destinationPortRange: '*',
          },
        ],
      }),
      (e: any) => e.statusCode === 400 && e.code === 'SecurityRuleInvalidPriority',
    );
    await assert.rejects(h.network.networkSecurityGroups.beginDeleteAndWait(h.resourceGroup, 'jacket-nsg'), (e: any) => e.statusCode === 400 && e.code === 'InUseNetworkSecurityGroupCannotBeDeleted');
    await h.network.networkSecurityGroups.beginDeleteAndWait(h.resourceGroup, 'nsg-2');
    const nsgs: string[] = [];
    for await (const n of h.network.networkSecurityGroups.list(h.resourceGroup)) nsgs.push(n.name!);
    assert.deepEqual(nsgs, ['jacket-nsg']);
  });

  it('public IPs: static Standard address, association with a NIC, refuses delete while associated', async () => {
    const pip = await h.network.publicIPAddresses.beginCreateOrUpdateAndWait(h.resourceGroup, 'pip-1', {
      location: h.location,
      sku: { name: 'Standard' },
      publicIPAllocationMethod: 'Static',
      dnsSettings: { domainNameLabel: 'jacket-vm' },
    });
    assert.match(pip.ipAddress ?? '', /^20\.51\.0\.\d+$/);
    assert.equal(pip.dnsSettings?.fqdn, `jacket-vm.${h.location}.cloudapp.azure.com`);
    await assert.rejects(
      h.network.publicIPAddresses.beginCreateOrUpdateAndWait(h.resourceGroup, 'pip-2', { location: h.location, sku: { name: 'Standard' }, publicIPAllocationMethod: 'Dynamic' }),
      (e: any) => e.statusCode === 400 && e.code === 'StandardSkuPublicIPAddressesMustBeStatic',
    );
    const nic = await h.network.networkInterfaces.beginCreateOrUpdateAndWait(h.resourceGroup, 'nic-pip', {
      location: h.location,
      ipConfigurations: [{ name: 'ipconfig1', subnet: { id: h.subnetId }, publicIPAddress: { id: pip.id } }],
    });
    assert.equal(nic.ipConfigurations?.[0].publicIPAddress?.id, pip.id);
    const linked = await h.network.publicIPAddresses.get(h.resourceGroup, 'pip-1');
    assert.equal(linked.ipConfiguration?.id, nic.ipConfigurations?.[0].id);
    await assert.rejects(h.network.publicIPAddresses.beginDeleteAndWait(h.resourceGroup, 'pip-1'), (e: any) => e.statusCode === 400 && e.code === 'PublicIPAddressCannotBeDeleted');
    await h.network.networkInterfaces.beginDeleteAndWait(h.resourceGroup, 'nic-pip');
    await h.network.publicIPAddresses.beginDeleteAndWait(h.resourceGroup, 'pip-1');
    const left: string[] = [];
    for await (const p of h.network.publicIPAddresses.list(h.resourceGroup)) left.push(p.name!);
    assert.deepEqual(left, []);
  });

  it('virtual networks: create with subnets, add a subnet, refuse deleting a subnet in use', async () => {
    const v = await h.network.virtualNetworks.beginCreateOrUpdateAndWait(h.resourceGroup, 'vnet-2', {
      location: h.location,
      addressSpace: { addressPrefixes: ['10.2.0.0/16'] },
      subnets: [{ name: 'a', addressPrefix: '10.2.1.0/24' }],
    });
    assert.equal(v.subnets?.length, 1);
    const s = await h.network.subnets.beginCreateOrUpdateAndWait(h.resourceGroup, 'vnet-2', 'b', { addressPrefix: '10.2.2.0/24', networkSecurityGroup: { id: h.nsgId } });
    assert.equal(s.networkSecurityGroup?.id, h.nsgId);
    await assert.rejects(h.network.subnets.beginDeleteAndWait(h.resourceGroup, 'jacket-vnet', 'default'), (e: any) => e.statusCode === 400 && e.code === 'InUseSubnetCannotBeDeleted');
    await h.network.subnets.beginDeleteAndWait(h.resourceGroup, 'vnet-2', 'b');
    await h.network.virtualNetworks.beginDeleteAndWait(h.resourceGroup, 'vnet-2');
    const names: string[] = [];
    for await (const x of h.network.virtualNetworks.listAll()) names.push(x.name!);
    assert.deepEqual(names, ['jacket-vnet']);
  });
});
