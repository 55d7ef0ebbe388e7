import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createLinuxVm, createNic, startHarness, Harness, testSshKey } from './harness';
import { checkAndStop } from './specCheck';

let h: Harness;
before(async () => {
  h = await startHarness();
});
after(() => checkAndStop(h));

const statusCodes = (iv: any) => (iv?.statuses ?? []).map((s: any) => s.code);

describe('virtual machines through the real SDK', () => {
  it('creates a Linux VM from a marketplace image with a real OS disk blob', async () => {
    const { vm, nic } = await createLinuxVm(h, 'vm1');
    assert.equal(vm.provisioningState, 'Succeeded');
    assert.equal(vm.hardwareProfile?.vmSize, 'Standard_B1s');
    assert.equal(vm.storageProfile?.imageReference?.exactVersion, '22.04.202411190');
    assert.equal(vm.osProfile?.adminPassword, undefined, 'password never returned');
    assert.equal(vm.osProfile?.customData, undefined, 'customData never returned');
    const osDiskId = vm.storageProfile!.osDisk!.managedDisk!.id!;
    const disk = await h.compute.disks.get(h.resourceGroup, osDiskId.split('/').pop()!);
    assert.equal(disk.managedBy, vm.id);
    assert.equal(disk.diskState, 'Attached');
    assert.equal(disk.diskSizeGB, 30);
    const n = await h.network.networkInterfaces.get(h.resourceGroup, nic.name!);
    assert.equal(n.virtualMachine?.id, vm.id);
    assert.match(n.macAddress ?? '', /^00-0D-3A/);
    const withView = await h.compute.virtualMachines.get(h.resourceGroup, 'vm1', { expand: 'instanceView' });
    assert.deepEqual(statusCodes(withView.instanceView), ['ProvisioningState/succeeded', 'PowerState/running']);
  });

  it('powerOff, start, restart, deallocate, redeploy change the power state', async () => {
    const iv = async () => statusCodes(await h.compute.virtualMachines.instanceView(h.resourceGroup, 'vm1'));
    await h.compute.virtualMachines.powerOff(h.resourceGroup, 'vm1', { skipShutdown: true });
    assert.ok((await iv()).includes('PowerState/stopped'));
    await h.compute.virtualMachines.start(h.resourceGroup, 'vm1');
    assert.ok((await iv()).includes('PowerState/running'));
    await h.compute.virtualMachines.restart(h.resourceGroup, 'vm1');
    assert.ok((await iv()).includes('PowerState/running'));
    await h.compute.virtualMachines.deallocate(h.resourceGroup, 'vm1');
    assert.ok((await iv()).includes('PowerState/deallocated'));
    const disks = await h.compute.disks.listByResourceGroup(h.resourceGroup);
    for await (const d of disks) if (d.managedBy) assert.equal(d.diskState, 'Reserved');
    await h.compute.virtualMachines.redeploy(h.resourceGroup, 'vm1');
    assert.ok((await iv()).includes('PowerState/running'));
  });

  it('retrieves boot diagnostics as SAS URIs to the serial log in Azurite', async () => {
    const r = await h.compute.virtualMachines.retrieveBootDiagnosticsData(h.resourceGroup, 'vm1', { sasUriExpirationTimeInMinutes: 60 });
    assert.ok(r.serialConsoleLogBlobUri && r.consoleScreenshotBlobUri);
    const res = await fetch(r.serialConsoleLogBlobUri!);
    assert.equal(res.status, 200);
    const text = await res.text();
    assert.match(text, /vm1 login:/);
    assert.match(text, /customData\) received: 14 bytes/);
  });

  it('lists VMs and available sizes', async () => {
    const names: string[] = [];
    for await (const v of h.compute.virtualMachines.list(h.resourceGroup)) names.push(v.name!);
    assert.deepEqual(names, ['vm1']);
    const sizes: string[] = [];
    for await (const s of h.compute.virtualMachines.listAvailableSizes(h.resourceGroup, 'vm1')) sizes.push(s.name!);
    assert.ok(sizes.includes('Standard_D2s_v3'));
  });

  it('creates a VM with SSH keys and an empty data disk, then deletes it honouring deleteOption', async () => {
    const nic = await createNic(h, 'vm2-nic');
    const vm = await h.compute.virtualMachines.createOrUpdate(h.resourceGroup, 'vm2', {
      location: h.location,
      hardwareProfile: { vmSize: 'Standard_D2s_v3' },
      storageProfile: {
        imageReference: { publisher: 'Canonical', offer: '0001-com-ubuntu-server-jammy', sku: '22_04-lts-gen2', version: 'latest' },
        osDisk: { createOption: 'FromImage', deleteOption: 'Detach' },
        dataDisks: [{ lun: 0, createOption: 'Empty', diskSizeGB: 8, deleteOption: 'Delete' }],
      },
      osProfile: {
        computerName: 'vm2',
        adminUsername: 'jacket',
        linuxConfiguration: { disablePasswordAuthentication: true, ssh: { publicKeys: [{ path: '/home/jacket/.ssh/authorized_keys', keyData: testSshKey() }] } },
      },
      networkProfile: { networkInterfaces: [{ id: nic.id, deleteOption: 'Detach' }] },
    });
    assert.equal(vm.storageProfile?.dataDisks?.length, 1);
    const osDiskName = vm.storageProfile!.osDisk!.name!;
    const dataDiskName = vm.storageProfile!.dataDisks![0].name!;
    await h.compute.virtualMachines.delete(h.resourceGroup, 'vm2');
    await assert.rejects(h.compute.virtualMachines.get(h.resourceGroup, 'vm2'), (e: any) => e.statusCode === 404 && e.code === 'ResourceNotFound');
    const os = await h.compute.disks.get(h.resourceGroup, osDiskName);
    assert.equal(os.diskState, 'Unattached', 'OS disk with deleteOption Detach survives');
    await assert.rejects(h.compute.disks.get(h.resourceGroup, dataDiskName), (e: any) => e.statusCode === 404);
    const n = await h.network.networkInterfaces.get(h.resourceGroup, 'vm2-nic');
    assert.equal(n.virtualMachine, undefined, 'NIC with deleteOption Detach survives, detached');
  });
});
