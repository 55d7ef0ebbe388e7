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

  it('application security groups: NIC IP configurations and NSG rules name them, checked as Azure does; in use cannot be deleted', async () => {
    const asgs = h.network.applicationSecurityGroups;
    const web = await asgs.beginCreateOrUpdateAndWait(h.resourceGroup, 'asg-web', { location: h.location, tags: { jacket: 'security-group' } });
    assert.equal(web.provisioningState, 'Succeeded');
    assert.ok(web.resourceGuid);
    await asgs.beginCreateOrUpdateAndWait(h.resourceGroup, 'asg-db', { location: h.location });
    const listed: string[] = [];
    for await (const a of asgs.list(h.resourceGroup)) listed.push(a.name!);
    assert.deepEqual(listed.sort(), ['asg-db', 'asg-web']);
    const all: string[] = [];
    for await (const a of asgs.listAll()) all.push(a.name!);
    assert.equal(all.length, 2);
    assert.deepEqual((await asgs.get(h.resourceGroup, 'asg-web')).tags, { jacket: 'security-group' });
    const missing = web.id!.replace('asg-web', 'asg-none');
    // A NIC joins an ASG in its IP configuration; a missing ASG is a missing reference.
    const nic = await createNic(h, 'nic-asg', { ipConfigurations: [{ name: 'ipconfig1', subnet: { id: h.subnetId }, applicationSecurityGroups: [{ id: web.id }] }] });
    assert.deepEqual(
      nic.ipConfigurations?.[0].applicationSecurityGroups?.map((a) => a.id),
      [web.id],
    );
    await assert.rejects(
      createNic(h, 'nic-asg-bad', { ipConfigurations: [{ name: 'ipconfig1', subnet: { id: h.subnetId }, applicationSecurityGroups: [{ id: missing }] }] }),
      (e: any) => e.statusCode === 400 && e.code === 'InvalidResourceReference',
    );
    // Every IP configuration of a NIC names the same ASGs (Azure's AllIpConfigurations... refusal).
    await assert.rejects(
      createNic(h, 'nic-asg-bad', {
        ipConfigurations: [
          { name: 'ipconfig1', primary: true, subnet: { id: h.subnetId }, applicationSecurityGroups: [{ id: web.id }] },
          { name: 'ipconfig2', subnet: { id: h.subnetId } },
        ],
      }),
      (e: any) => e.statusCode === 400 && e.code === 'AllIpConfigurationsOnANicMustBelongToTheSameApplicationSecurityGroups',
    );
    const tooMany = Array.from({ length: 21 }, () => ({ id: web.id }));
    await assert.rejects(
      createNic(h, 'nic-asg-bad', { ipConfigurations: [{ name: 'ipconfig1', subnet: { id: h.subnetId }, applicationSecurityGroups: tooMany }] }),
      (e: any) => e.statusCode === 400 && e.code === 'IpConfigurationApplicationSecurityGroupsLimitExceeded',
    );
    // A NIC of another virtual network cannot join an ASG whose members are in this one.
    await h.network.virtualNetworks.beginCreateOrUpdateAndWait(h.resourceGroup, 'vnet-asg', {
      location: h.location,
      addressSpace: { addressPrefixes: ['10.9.0.0/16'] },
      subnets: [{ name: 's', addressPrefix: '10.9.0.0/24' }],
    });
    const otherSubnet = h.subnetId.replace('jacket-vnet', 'vnet-asg').replace(/subnets\/default$/, 'subnets/s');
    await assert.rejects(
      createNic(h, 'nic-asg-bad', { ipConfigurations: [{ name: 'ipconfig1', subnet: { id: otherSubnet }, applicationSecurityGroups: [{ id: web.id }] }] }),
      (e: any) => e.statusCode === 400 && e.code === 'ApplicationSecurityGroupNetworkInterfacesMustBeInSameVnet',
    );
    await h.network.virtualNetworks.beginDeleteAndWait(h.resourceGroup, 'vnet-asg');
    // A rule's source is an ASG; naming prefixes on the same side too is refused, as is a missing ASG.
    const rule = { protocol: 'Tcp', access: 'Allow', direction: 'Inbound', priority: 100, sourcePortRange: '*', destinationAddressPrefix: '*', destinationPortRange: '5432' };
    const nsg = await h.network.networkSecurityGroups.beginCreateOrUpdateAndWait(h.resourceGroup, 'nsg-asg', {
      location: h.location,
      securityRules: [{ name: 'from-web', ...rule, sourceApplicationSecurityGroups: [{ id: web.id }] }],
    });
    assert.deepEqual(
      nsg.securityRules?.[0].sourceApplicationSecurityGroups?.map((a) => a.id),
      [web.id],
    );
    assert.equal(nsg.securityRules?.[0].sourceAddressPrefix, undefined);
    await assert.rejects(
      h.network.securityRules.beginCreateOrUpdateAndWait(h.resourceGroup, 'nsg-asg', 'both', {
        ...rule,
        priority: 101,
        sourceAddressPrefix: '10.0.0.0/8',
        sourceApplicationSecurityGroups: [{ id: web.id }],
      }),
      (e: any) => e.statusCode === 400 && e.code === 'SecurityRuleParameterContainsAddressPrefixAndApplicationSecurityGroup',
    );
    await assert.rejects(
      h.network.securityRules.beginCreateOrUpdateAndWait(h.resourceGroup, 'nsg-asg', 'gone', {
        ...rule,
        priority: 102,
        destinationAddressPrefix: undefined,
        destinationApplicationSecurityGroups: [{ id: missing }],
        sourceAddressPrefix: '*',
      }),
      (e: any) => e.statusCode === 400 && e.code === 'InvalidResourceReference',
    );
    const egress = await h.network.securityRules.beginCreateOrUpdateAndWait(h.resourceGroup, 'nsg-asg', 'to-db', {
      ...rule,
      direction: 'Outbound',
      sourceAddressPrefix: '*',
      destinationAddressPrefix: undefined,
      destinationApplicationSecurityGroups: [{ id: (await asgs.get(h.resourceGroup, 'asg-db')).id }],
    });
    assert.match(egress.destinationApplicationSecurityGroups?.[0].id ?? '', /asg-db$/);
    // In use by a NIC or a rule: Azure refuses the delete; freed, it goes.
    await assert.rejects(
      asgs.beginDeleteAndWait(h.resourceGroup, 'asg-web'),
      (e: any) => e.statusCode === 400 && e.code === 'InUseApplicationSecurityGroupCannotBeDeleted' && /IpConfiguration/.test(e.message),
    );
    await h.network.networkInterfaces.beginDeleteAndWait(h.resourceGroup, 'nic-asg');
    await assert.rejects(
      asgs.beginDeleteAndWait(h.resourceGroup, 'asg-web'),
      (e: any) => e.statusCode === 400 && e.code === 'InUseApplicationSecurityGroupCannotBeDeleted' && /SecurityRule/.test(e.message),
    );
    await h.network.networkSecurityGroups.beginDeleteAndWait(h.resourceGroup, 'nsg-asg');
    await asgs.beginDeleteAndWait(h.resourceGroup, 'asg-web');
    await asgs.beginDeleteAndWait(h.resourceGroup, 'asg-db');
    await assert.rejects(asgs.get(h.resourceGroup, 'asg-web'), (e: any) => e.statusCode === 404);
    await asgs.beginDeleteAndWait(h.resourceGroup, 'asg-web'); // 204 for a missing resource
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
    // Azure's range checks: a subnet outside the address space, or overlapping another, is refused.
    await assert.rejects(
      h.network.subnets.beginCreateOrUpdateAndWait(h.resourceGroup, 'vnet-2', 'out', { addressPrefix: '10.3.0.0/24' }),
      (e: any) => e.statusCode === 400 && e.code === 'NetcfgSubnetRangeOutsideVnet',
    );
    await assert.rejects(
      h.network.subnets.beginCreateOrUpdateAndWait(h.resourceGroup, 'vnet-2', 'over', { addressPrefix: '10.2.1.128/25' }),
      (e: any) => e.statusCode === 400 && e.code === 'NetcfgSubnetRangesOverlap',
    );
    await assert.rejects(
      h.network.virtualNetworks.beginCreateOrUpdateAndWait(h.resourceGroup, 'vnet-2', {
        location: h.location,
        addressSpace: { addressPrefixes: ['10.2.0.0/16'] },
        subnets: [
          { name: 'a', addressPrefix: '10.2.1.0/24' },
          { name: 'c', addressPrefix: '10.2.0.0/23' },
        ],
      }),
      (e: any) => e.statusCode === 400 && e.code === 'NetcfgSubnetRangesOverlap',
    );
    assert.deepEqual(
      (await h.network.virtualNetworks.get(h.resourceGroup, 'vnet-2')).subnets?.map((x) => x.name),
      ['a'],
    );
    const s = await h.network.subnets.beginCreateOrUpdateAndWait(h.resourceGroup, 'vnet-2', 'b', { addressPrefix: '10.2.2.0/24', networkSecurityGroup: { id: h.nsgId } });
    assert.equal(s.networkSecurityGroup?.id, h.nsgId);
    await assert.rejects(h.network.subnets.beginDeleteAndWait(h.resourceGroup, 'jacket-vnet', 'default'), (e: any) => e.statusCode === 400 && e.code === 'InUseSubnetCannotBeDeleted');
    await h.network.subnets.beginDeleteAndWait(h.resourceGroup, 'vnet-2', 'b');
    await h.network.virtualNetworks.beginDeleteAndWait(h.resourceGroup, 'vnet-2');
    const names: string[] = [];
    for await (const x of h.network.virtualNetworks.listAll()) names.push(x.name!);
    assert.deepEqual(names, ['jacket-vnet']);
  });
  it('peers virtual networks as Azure does: Initiated, Connected, Disconnected, overlaps refused, address spaces synced on request', async () => {
    const rg = h.resourceGroup;
    const vnet = (name: string, prefix: string) =>
      h.network.virtualNetworks.beginCreateOrUpdateAndWait(rg, name, { location: h.location, addressSpace: { addressPrefixes: [prefix] }, subnets: [{ name: 's', addressPrefix: prefix }] });
    const a = await vnet('peer-a', '10.71.0.0/24');
    const b = await vnet('peer-b', '10.72.0.0/24');
    await vnet('peer-c', '10.71.0.0/25');
    const state = async (v: string, p: string) => {
      const x = await h.network.virtualNetworkPeerings.get(rg, v, p);
      return [x.peeringState, x.peeringSyncLevel];
    };
    await h.network.virtualNetworkPeerings.beginCreateOrUpdateAndWait(rg, 'peer-a', 'to-b', { remoteVirtualNetwork: { id: b.id }, allowVirtualNetworkAccess: true });
    assert.deepEqual(await state('peer-a', 'to-b'), ['Initiated', 'FullyInSync']);
    await h.network.virtualNetworkPeerings.beginCreateOrUpdateAndWait(rg, 'peer-b', 'to-a', { remoteVirtualNetwork: { id: a.id } });
    assert.deepEqual(await state('peer-a', 'to-b'), ['Connected', 'FullyInSync']);
    assert.equal((await h.network.virtualNetworks.get(rg, 'peer-a')).virtualNetworkPeerings?.[0].name, 'to-b');
    // b grows: a's side is out of sync until it is PUT with syncRemoteAddressSpace; b's PUT keeps its peering.
    await h.network.virtualNetworks.beginCreateOrUpdateAndWait(rg, 'peer-b', {
      location: h.location,
      addressSpace: { addressPrefixes: ['10.72.0.0/24', '10.73.0.0/24'] },
      subnets: [
        { name: 's', addressPrefix: '10.72.0.0/24' },
        { name: 't', addressPrefix: '10.73.0.0/24' },
      ],
    });
    assert.deepEqual(await state('peer-a', 'to-b'), ['Connected', 'RemoteNotInSync']);
    assert.deepEqual(await state('peer-b', 'to-a'), ['Connected', 'LocalNotInSync']);
    await h.network.virtualNetworkPeerings.beginCreateOrUpdateAndWait(rg, 'peer-a', 'to-b', { remoteVirtualNetwork: { id: b.id } }, { syncRemoteAddressSpace: 'true' });
    assert.deepEqual(await state('peer-a', 'to-b'), ['Connected', 'FullyInSync']);
    // Overlapping address spaces cannot peer.
    await assert.rejects(
      h.network.virtualNetworkPeerings.beginCreateOrUpdateAndWait(rg, 'peer-a', 'to-c', { remoteVirtualNetwork: { id: (await h.network.virtualNetworks.get(rg, 'peer-c')).id } }),
      (e: { code?: string }) => e.code === 'VnetAddressSpacesOverlap',
    );
    // One side deleted: the other is Disconnected, and the missing side cannot be made against it until it is PUT again.
    await h.network.virtualNetworkPeerings.beginDeleteAndWait(rg, 'peer-b', 'to-a');
    assert.deepEqual((await state('peer-a', 'to-b'))[0], 'Disconnected');
    await assert.rejects(
      h.network.virtualNetworkPeerings.beginCreateOrUpdateAndWait(rg, 'peer-b', 'to-a', { remoteVirtualNetwork: { id: a.id } }),
      (e: { code?: string }) => e.code === 'RemotePeeringIsDisconnected',
    );
    await h.network.virtualNetworkPeerings.beginCreateOrUpdateAndWait(rg, 'peer-a', 'to-b', { remoteVirtualNetwork: { id: b.id } });
    assert.deepEqual((await state('peer-a', 'to-b'))[0], 'Initiated');
    await h.network.virtualNetworkPeerings.beginCreateOrUpdateAndWait(rg, 'peer-b', 'to-a', { remoteVirtualNetwork: { id: a.id } });
    assert.deepEqual((await state('peer-b', 'to-a'))[0], 'Connected');
    // The remote network deleted: Disconnected.
    await h.network.virtualNetworkPeerings.beginDeleteAndWait(rg, 'peer-b', 'to-a');
    await h.network.virtualNetworks.beginDeleteAndWait(rg, 'peer-b');
    assert.deepEqual((await state('peer-a', 'to-b'))[0], 'Disconnected');
  });
});
