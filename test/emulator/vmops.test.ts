import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createLinuxVm, createNic, startHarness, Harness, testSshKey } from './harness';
import { checkAndStop } from './specCheck';

let h: Harness;
before(async () => {
  h = await startHarness({ retry: { maxRetries: 0 } });
  await createLinuxVm(h, 'lin');
});
after(() => checkAndStop(h));

const vmId = (n: string) => h.id('Microsoft.Compute', 'virtualMachines', n);
const codes = async (n: string) => (await h.compute.virtualMachines.instanceView(h.resourceGroup, n)).statuses!.map((s) => s.code);

describe('VM updates', () => {
  it('resizes with PATCH (hardwareProfile.vmSize) and PUT', async () => {
    const vm = await h.compute.virtualMachines.update(h.resourceGroup, 'lin', { hardwareProfile: { vmSize: 'Standard_B2s' } });
    assert.equal(vm.hardwareProfile?.vmSize, 'Standard_B2s');
    const cur = await h.compute.virtualMachines.get(h.resourceGroup, 'lin');
    const { osProfile, ...rest } = cur;
    const again = await h.compute.virtualMachines.createOrUpdate(h.resourceGroup, 'lin', {
      ...rest,
      osProfile: { computerName: osProfile!.computerName, adminUsername: osProfile!.adminUsername },
      hardwareProfile: { vmSize: 'Standard_D2s_v3' },
    });
    assert.equal(again.hardwareProfile?.vmSize, 'Standard_D2s_v3');
    assert.equal(again.provisioningState, 'Succeeded');
  });

  it('attaches (Empty and existing disks) and detaches data disks by LUN', async () => {
    const d = await h.compute.disks.createOrUpdate(h.resourceGroup, 'extra', { location: h.location, creationData: { createOption: 'Empty' }, diskSizeGB: 4 });
    const vm = await h.compute.virtualMachines.update(h.resourceGroup, 'lin', {
      storageProfile: {
        dataDisks: [
          { lun: 0, createOption: 'Attach', managedDisk: { id: d.id } },
          { lun: 1, createOption: 'Empty', diskSizeGB: 2, name: 'lin-data1', deleteOption: 'Delete' },
        ],
      },
    });
    assert.deepEqual(
      vm.storageProfile!.dataDisks!.map((x) => [x.lun, x.name]),
      [
        [0, 'extra'],
        [1, 'lin-data1'],
      ],
    );
    assert.equal((await h.compute.disks.get(h.resourceGroup, 'extra')).managedBy, vm.id);
    // a disk attached to one VM cannot be attached to another
    const nic = await createNic(h, 'other-nic');
    await assert.rejects(
      h.compute.virtualMachines.createOrUpdate(h.resourceGroup, 'other', {
        location: h.location,
        hardwareProfile: { vmSize: 'Standard_B1s' },
        storageProfile: { osDisk: { createOption: 'Attach', osType: 'Linux', managedDisk: { id: d.id } } },
        networkProfile: { networkInterfaces: [{ id: nic.id }] },
      }),
      (e: any) => e.statusCode === 409 && e.code === 'OperationNotAllowed',
    );
    // detach with toBeDetached
    const v2 = await h.compute.virtualMachines.update(h.resourceGroup, 'lin', {
      storageProfile: {
        dataDisks: [
          { lun: 0, createOption: 'Attach', managedDisk: { id: d.id }, toBeDetached: true },
          { lun: 1, createOption: 'Empty' },
        ],
      },
    });
    assert.deepEqual(
      v2.storageProfile!.dataDisks!.map((x) => x.lun),
      [1],
    );
    assert.equal((await h.compute.disks.get(h.resourceGroup, 'extra')).diskState, 'Unattached');
    // detach by omission
    const v3 = await h.compute.virtualMachines.update(h.resourceGroup, 'lin', { storageProfile: { dataDisks: [] } });
    assert.deepEqual(v3.storageProfile!.dataDisks, []);
    assert.equal((await h.compute.disks.get(h.resourceGroup, 'lin-data1')).diskState, 'Unattached');
  });

  it('attachDetachDataDisks attaches (auto LUN) and detaches in one operation', async () => {
    const a = await h.compute.disks.createOrUpdate(h.resourceGroup, 'ad-a', { location: h.location, creationData: { createOption: 'Empty' }, diskSizeGB: 1 });
    const b = await h.compute.disks.createOrUpdate(h.resourceGroup, 'ad-b', { location: h.location, creationData: { createOption: 'Empty' }, diskSizeGB: 1 });
    const sp1 = await h.compute.virtualMachines.attachDetachDataDisks(h.resourceGroup, 'lin', { dataDisksToAttach: [{ diskId: a.id! }, { diskId: b.id!, lun: 5 }] });
    assert.deepEqual(
      sp1.dataDisks?.map((d) => [d.lun, d.name]),
      [
        [0, 'ad-a'],
        [5, 'ad-b'],
      ],
    );
    const sp2 = await h.compute.virtualMachines.attachDetachDataDisks(h.resourceGroup, 'lin', { dataDisksToDetach: [{ diskId: a.id! }] });
    assert.deepEqual(
      sp2.dataDisks?.map((d) => d.name),
      ['ad-b'],
    );
    assert.equal((await h.compute.disks.get(h.resourceGroup, 'ad-a')).diskState, 'Unattached');
    await assert.rejects(
      h.compute.virtualMachines.attachDetachDataDisks(h.resourceGroup, 'lin', { dataDisksToDetach: [{ diskId: a.id! }] }),
      (e: any) => e.statusCode === 400 && e.code === 'InvalidParameter',
    );
    await h.compute.virtualMachines.attachDetachDataDisks(h.resourceGroup, 'lin', { dataDisksToDetach: [{ diskId: b.id! }] });
  });

  it('refuses more data disks than the size allows', async () => {
    const disks = Array.from({ length: 5 }, (_, i) => ({ lun: i, createOption: 'Empty' as const, diskSizeGB: 1 }));
    await h.compute.virtualMachines.update(h.resourceGroup, 'lin', { hardwareProfile: { vmSize: 'Standard_B1s' } });
    await assert.rejects(h.compute.virtualMachines.update(h.resourceGroup, 'lin', { storageProfile: { dataDisks: disks } }), (e: any) => e.statusCode === 409 && e.code === 'OperationNotAllowed');
  });

  it('swaps the OS disk of a deallocated VM (specialized disk reuse) and boots from an attached OS disk', async () => {
    const vm = await h.compute.virtualMachines.get(h.resourceGroup, 'lin');
    const snap = await h.compute.snapshots.createOrUpdate(h.resourceGroup, 'lin-os-snap', {
      location: h.location,
      creationData: { createOption: 'Copy', sourceResourceId: vm.storageProfile!.osDisk!.managedDisk!.id },
    });
    const osCopy = await h.compute.disks.createOrUpdate(h.resourceGroup, 'lin-os-copy', { location: h.location, creationData: { createOption: 'Copy', sourceResourceId: snap.id } });
    assert.equal(osCopy.osType, 'Linux');
    await assert.rejects(
      h.compute.virtualMachines.update(h.resourceGroup, 'lin', { storageProfile: { osDisk: { createOption: 'Attach', managedDisk: { id: osCopy.id }, name: osCopy.name } } }),
      (e: any) => e.statusCode === 409 && e.code === 'OperationNotAllowed',
    );
    await h.compute.virtualMachines.deallocate(h.resourceGroup, 'lin');
    const swapped = await h.compute.virtualMachines.update(h.resourceGroup, 'lin', { storageProfile: { osDisk: { createOption: 'Attach', managedDisk: { id: osCopy.id }, name: osCopy.name } } });
    assert.equal(swapped.storageProfile?.osDisk?.name, 'lin-os-copy');
    assert.equal((await h.compute.disks.get(h.resourceGroup, vm.storageProfile!.osDisk!.name!)).diskState, 'Unattached');
    await h.compute.virtualMachines.start(h.resourceGroup, 'lin');
    // a specialized disk attached as the OS disk of a new VM (no osProfile)
    const restore = await h.compute.disks.createOrUpdate(h.resourceGroup, 'restore-os', { location: h.location, creationData: { createOption: 'Copy', sourceResourceId: snap.id } });
    const nic = await createNic(h, 'attach-nic');
    const attached = await h.compute.virtualMachines.createOrUpdate(h.resourceGroup, 'attached', {
      location: h.location,
      hardwareProfile: { vmSize: 'Standard_B1s' },
      storageProfile: { osDisk: { createOption: 'Attach', osType: 'Linux', managedDisk: { id: restore.id } } },
      networkProfile: { networkInterfaces: [{ id: nic.id }] },
    });
    assert.equal(attached.osProfile, undefined);
    assert.ok((await codes('attached')).includes('PowerState/running'));
    await assert.rejects(h.compute.virtualMachines.reimage(h.resourceGroup, 'attached'), (e: any) => e.statusCode === 409 && e.code === 'OperationNotAllowed');
  });

  it('reimages a VM created from an image (OS disk bytes rewritten)', async () => {
    // 'lin' now boots from an attached (swapped-in) OS disk: nothing to reimage from
    await assert.rejects(h.compute.virtualMachines.reimage(h.resourceGroup, 'lin'), (e: any) => e.statusCode === 409 && e.code === 'OperationNotAllowed');
    await createLinuxVm(h, 'vm-re');
    await h.compute.virtualMachines.reimage(h.resourceGroup, 'vm-re', { parameters: { osProfile: { adminPassword: 'New-Pass-789' } } });
    assert.ok((await codes('vm-re')).includes('PowerState/running'));
  });

  it('hibernates a VM with hibernation enabled', async () => {
    await h.compute.virtualMachines.deallocate(h.resourceGroup, 'vm-re');
    await h.compute.virtualMachines.update(h.resourceGroup, 'vm-re', { additionalCapabilities: { hibernationEnabled: true } });
    await h.compute.virtualMachines.start(h.resourceGroup, 'vm-re');
    await h.compute.virtualMachines.deallocate(h.resourceGroup, 'vm-re', { hibernate: true });
    const c = await codes('vm-re');
    assert.ok(c.includes('PowerState/deallocated') && c.includes('HibernationState/Hibernated'), c.join());
    await h.compute.virtualMachines.start(h.resourceGroup, 'vm-re');
  });
});

describe('VM extensions', () => {
  it('VMAccessForLinux resets a password and adds an SSH key; GET/list/DELETE', async () => {
    const ext = await h.compute.virtualMachineExtensions.createOrUpdate(h.resourceGroup, 'vm-re', 'enablevmaccess', {
      location: h.location,
      publisher: 'Microsoft.OSTCExtensions',
      typePropertiesType: 'VMAccessForLinux',
      typeHandlerVersion: '1.5',
      autoUpgradeMinorVersion: true,
      protectedSettings: { username: 'jacket', password: 'Reset-Pass-321', ssh_key: testSshKey() },
    });
    assert.equal(ext.provisioningState, 'Succeeded');
    assert.equal((ext as any).protectedSettings, undefined, 'protected settings are never returned');
    const rec = await h.control.getResource(vmId('vm-re'));
    assert.equal(rec.guestUsers.jacket.password, true);
    assert.equal(rec.guestUsers.jacket.sshKeys.length, 1);
    const got = await h.compute.virtualMachineExtensions.get(h.resourceGroup, 'vm-re', 'enablevmaccess');
    assert.equal(got.typePropertiesType, 'VMAccessForLinux');
    const listed = await h.compute.virtualMachineExtensions.list(h.resourceGroup, 'vm-re');
    assert.equal(listed.value?.length, 1);
    const view = await h.compute.virtualMachines.instanceView(h.resourceGroup, 'vm-re');
    assert.equal(view.extensions?.[0].statuses?.[0].code, 'ProvisioningState/succeeded');
    // one instance per handler
    await assert.rejects(
      h.compute.virtualMachineExtensions.createOrUpdate(h.resourceGroup, 'vm-re', 'second', {
        location: h.location,
        publisher: 'Microsoft.OSTCExtensions',
        typePropertiesType: 'VMAccessForLinux',
        typeHandlerVersion: '1.5',
      }),
      (e: any) => e.statusCode === 400,
    );
    // a weak password fails the extension like the guest agent would
    await assert.rejects(
      h.compute.virtualMachineExtensions.createOrUpdate(h.resourceGroup, 'vm-re', 'enablevmaccess', {
        location: h.location,
        publisher: 'Microsoft.OSTCExtensions',
        typePropertiesType: 'VMAccessForLinux',
        typeHandlerVersion: '1.5',
        protectedSettings: { username: 'jacket', password: 'weak' },
      }),
      (e: any) => /VMExtensionProvisioningError/.test(e.message),
    );
    await h.compute.virtualMachineExtensions.delete(h.resourceGroup, 'vm-re', 'enablevmaccess');
    await assert.rejects(h.compute.virtualMachineExtensions.get(h.resourceGroup, 'vm-re', 'enablevmaccess'), (e: any) => e.statusCode === 404);
  });

  it('extensions need a running VM; unknown handlers are not found', async () => {
    await h.compute.virtualMachines.powerOff(h.resourceGroup, 'vm-re');
    await assert.rejects(
      h.compute.virtualMachineExtensions.createOrUpdate(h.resourceGroup, 'vm-re', 'enablevmaccess', {
        location: h.location,
        publisher: 'Microsoft.OSTCExtensions',
        typePropertiesType: 'VMAccessForLinux',
        typeHandlerVersion: '1.5',
        protectedSettings: { username: 'jacket', password: 'Reset-Pass-321' },
      }),
      (e: any) => e.statusCode === 409 && e.code === 'OperationNotAllowed',
    );
    await h.compute.virtualMachines.start(h.resourceGroup, 'vm-re');
    await assert.rejects(
      h.compute.virtualMachineExtensions.createOrUpdate(h.resourceGroup, 'vm-re', 'x', { location: h.location, publisher: 'Contoso', typePropertiesType: 'Nope', typeHandlerVersion: '1.0' }),
      (e: any) => e.statusCode === 404 && e.code === 'ArtifactNotFound',
    );
  });

  it('a Windows VM with VMAccessAgent password reset', async () => {
    const nic = await createNic(h, 'win-nic');
    const vm = await h.compute.virtualMachines.createOrUpdate(h.resourceGroup, 'win1', {
      location: h.location,
      hardwareProfile: { vmSize: 'Standard_D2s_v3' },
      storageProfile: {
        imageReference: { publisher: 'MicrosoftWindowsServer', offer: 'WindowsServer', sku: '2022-datacenter-azure-edition', version: 'latest' },
        osDisk: { createOption: 'FromImage', deleteOption: 'Delete' },
      },
      osProfile: { computerName: 'win1', adminUsername: 'jacketadmin', adminPassword: 'Windows-Pass-123' },
      networkProfile: { networkInterfaces: [{ id: nic.id }] },
    });
    assert.equal(vm.storageProfile?.osDisk?.osType, 'Windows');
    assert.equal(vm.storageProfile?.osDisk?.diskSizeGB, 127);
    assert.ok(vm.osProfile?.windowsConfiguration);
    const ext = await h.compute.virtualMachineExtensions.createOrUpdate(h.resourceGroup, 'win1', 'VMAccessAgent', {
      location: h.location,
      publisher: 'Microsoft.Compute',
      typePropertiesType: 'VMAccessAgent',
      typeHandlerVersion: '2.4',
      settings: { username: 'jacketadmin' },
      protectedSettings: { password: 'Another-Pass-456' },
    });
    assert.equal(ext.provisioningState, 'Succeeded');
    assert.deepEqual(ext.settings, { username: 'jacketadmin' });
    await h.compute.virtualMachines.delete(h.resourceGroup, 'win1');
  });
});
