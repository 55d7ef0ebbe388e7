/**
 * Microsoft.Compute/virtualMachines/extensions. VMAccessForLinux (Microsoft.OSTCExtensions) and
 * VMAccessAgent (Microsoft.Compute) act on the emulated guest: they reset passwords and SSH keys.
 */
import { ArmError, notFound } from '../arm/errors';
import type { Ctx } from '../arm/http';
import { list, ok } from '../arm/http';
import { accepted, lroBody, noContent, tagsOf } from '../arm/replies';
import type { Router } from '../arm/router';
import type { Emulator } from '../emulator';
import { T } from '../state';
import { appendSerial } from './bootDiagnostics';
import type { ExtensionRecord, VmRecord } from './model';
import { passwordProblem, sshKeyProblem, usernameProblem } from './validation';
import { getVm, guardVm } from './vmLookup';

const BASE = '/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Compute/virtualMachines/{vm}/extensions';

interface KnownExtension {
  publisher: string;
  type: string;
  osType: 'Linux' | 'Windows';
  versions: string[];
}

const CATALOG: KnownExtension[] = [
  { publisher: 'Microsoft.OSTCExtensions', type: 'VMAccessForLinux', osType: 'Linux', versions: ['1.4', '1.5'] },
  { publisher: 'Microsoft.Compute', type: 'VMAccessAgent', osType: 'Windows', versions: ['2.0', '2.4'] },
  { publisher: 'Microsoft.Azure.Extensions', type: 'CustomScript', osType: 'Linux', versions: ['2.0', '2.1'] },
  { publisher: 'Microsoft.Compute', type: 'CustomScriptExtension', osType: 'Windows', versions: ['1.10'] },
];

export function renderExtension(e: ExtensionRecord): any {
  const props: any = {
    publisher: e.publisher,
    type: e.extType,
    typeHandlerVersion: e.typeHandlerVersion,
    provisioningState: e.provisioningState,
  };
  if (e.autoUpgradeMinorVersion !== undefined) props.autoUpgradeMinorVersion = e.autoUpgradeMinorVersion;
  if (e.enableAutomaticUpgrade !== undefined) props.enableAutomaticUpgrade = e.enableAutomaticUpgrade;
  if (e.forceUpdateTag !== undefined) props.forceUpdateTag = e.forceUpdateTag;
  if (e.settings !== undefined) props.settings = e.settings;
  return {
    name: e.name.split('/').pop(),
    id: e.id,
    type: 'Microsoft.Compute/virtualMachines/extensions',
    location: e.location,
    ...(e.tags ? { tags: e.tags } : {}),
    properties: props,
  };
}

export function renderExtensionInstanceView(e: ExtensionRecord): any {
  const failed = e.provisioningState === 'Failed';
  return {
    name: e.name.split('/').pop(),
    type: `${e.publisher}.${e.extType}`,
    typeHandlerVersion: e.typeHandlerVersion,
    statuses: [
      {
        code: `ProvisioningState/${e.provisioningState.toLowerCase()}`,
        level: failed ? 'Error' : 'Info',
        displayStatus: failed ? 'Provisioning failed' : e.provisioningState === 'Succeeded' ? 'Provisioning succeeded' : `Provisioning ${e.provisioningState.toLowerCase()}`,
        message: e.statusMessage,
      },
    ],
  };
}

function extFailure(name: string, message: string): ArmError {
  return new ArmError(
    200,
    'VMExtensionProvisioningError',
    `VM has reported a failure when processing extension '${name}' (publisher and type). Error message: '${message}'. More information on troubleshooting is available at https://aka.ms/VMExtensionLinuxTroubleshoot`,
  );
}

/** What the VMAccess extensions do inside the guest. */
async function applyVmAccess(emu: Emulator, vm: VmRecord, e: ExtensionRecord, settings: any, prot: any): Promise<string> {
  const name = e.name.split('/').pop()!;
  if (e.extType === 'VMAccessForLinux') {
    const user: string | undefined = prot?.username;
    if (prot?.remove_user) {
      delete vm.guestUsers[prot.remove_user];
      await appendSerial(emu, vm, `VMAccess: removed user ${prot.remove_user}`);
      return `Deleted user ${prot.remove_user}`;
    }
    if (!user) {
      if (prot?.reset_ssh) return 'Reset ssh configuration';
      throw extFailure(name, 'Enable failed: username is required');
    }
    const prob = usernameProblem(user, 'Linux');
    if (prob) throw extFailure(name, `Enable failed: ${prob}`);
    const g = (vm.guestUsers[user] ??= { sshKeys: [] });
    if (prot.password !== undefined) {
      const p = passwordProblem(String(prot.password), 'Linux');
      if (p) throw extFailure(name, `Enable failed: ${p}`);
      g.password = true;
    }
    if (prot.ssh_key !== undefined) {
      const p = sshKeyProblem(String(prot.ssh_key));
      if (p) throw extFailure(name, `Enable failed: the ssh key is invalid`);
      g.sshKeys.push(String(prot.ssh_key).trim());
    }
    await appendSerial(emu, vm, `VMAccess: updated user ${user} (password ${prot.password !== undefined ? 'set' : 'unchanged'}, ssh key ${prot.ssh_key !== undefined ? 'added' : 'unchanged'})`);
    return `Succeeded in resetting access for user ${user}`;
  }
  if (e.extType === 'VMAccessAgent') {
    const user: string | undefined = settings?.username ?? settings?.UserName;
    const password: string | undefined = prot?.password ?? prot?.Password;
    if (!user) throw extFailure(name, 'The username was not specified');
    const prob = usernameProblem(user, 'Windows');
    if (prob) throw extFailure(name, prob);
    if (password !== undefined) {
      const p = passwordProblem(password, 'Windows');
      if (p) throw extFailure(name, p);
    }
    const g = (vm.guestUsers[user] ??= { sshKeys: [] });
    if (password !== undefined) g.password = true;
    await appendSerial(emu, vm, `VMAccessAgent: reset password for ${user}`);
    return `Password reset for ${user}`;
  }
  return 'Enable succeeded';
}

export function registerExtensions(r: Router): void {
  r.add(
    'GET',
    BASE,
    'compute',
    (ctx) => {
      const vm = getVm(ctx);
      return list(
        ctx.emu.store
          .list<ExtensionRecord>(T.extension)
          .filter((e) => e.vmId.toLowerCase() === vm.id.toLowerCase())
          .map(renderExtension),
      );
    },
    'VirtualMachineExtensions_List',
  );
  r.add(
    'GET',
    `${BASE}/{ext}`,
    'compute',
    (ctx) => {
      const vm = getVm(ctx);
      const e = ctx.emu.store.get<ExtensionRecord>(T.extension, `${vm.id}/extensions/${ctx.params.ext}`);
      if (!e) throw notFound('Microsoft.Compute/virtualMachines/extensions', `${vm.name}/${ctx.params.ext}`, vm.resourceGroup);
      return ok(renderExtension(e));
    },
    'VirtualMachineExtensions_Get',
  );
  const put = (isPatch: boolean) => (ctx: Ctx) => {
    const emu = ctx.emu;
    const vm = getVm(ctx);
    const id = `${vm.id}/extensions/${ctx.params.ext}`;
    const existing = emu.store.get<ExtensionRecord>(T.extension, id);
    if (isPatch && !existing) throw notFound('Microsoft.Compute/virtualMachines/extensions', `${vm.name}/${ctx.params.ext}`, vm.resourceGroup);
    const p = ctx.body?.properties ?? {};
    const publisher: string = p.publisher ?? existing?.publisher;
    const type: string = p.type ?? existing?.extType;
    const version: string = p.typeHandlerVersion ?? existing?.typeHandlerVersion;
    if (!isPatch) emu.requireLocation(ctx.body?.location);
    if (!publisher || !type || !version) {
      throw new ArmError(400, 'InvalidParameter', "Required parameters 'publisher', 'type' and 'typeHandlerVersion' must be provided.", 'properties');
    }
    const known = CATALOG.find((c) => c.publisher.toLowerCase() === publisher.toLowerCase() && c.type.toLowerCase() === type.toLowerCase());
    const major = version.split('.')[0];
    if (!known || !known.versions.some((v) => v.split('.')[0] === major) || known.osType !== vm.osType) {
      throw new ArmError(
        404,
        'ArtifactNotFound',
        `The VM extension with publisher '${publisher}', type '${type}' and type handler version '${version}' could not be found in the extension repository for ${vm.osType}.`,
        'typeHandlerVersion',
      );
    }
    const clash = emu.store
      .list<ExtensionRecord>(T.extension)
      .find(
        (e) =>
          e.vmId.toLowerCase() === vm.id.toLowerCase() &&
          e.id.toLowerCase() !== id.toLowerCase() &&
          e.publisher.toLowerCase() === publisher.toLowerCase() &&
          e.extType.toLowerCase() === type.toLowerCase(),
      );
    if (clash) {
      throw new ArmError(
        400,
        'BadRequest',
        `Multiple VMExtensions per handler not supported for OS type '${vm.osType}'. VMExtension '${clash.name.split('/').pop()}' with handler '${publisher}.${type}' already added or specified in input.`,
      );
    }
    guardVm(ctx, vm, 'extension');
    if (vm.powerState !== 'running') {
      throw new ArmError(409, 'OperationNotAllowed', `Cannot modify extensions in the VM when the VM is not running.`);
    }
    const e: ExtensionRecord = existing ?? {
      id,
      name: `${vm.name}/${ctx.params.ext}`,
      resourceGroup: vm.resourceGroup,
      vmId: vm.id,
      location: vm.location,
      publisher: known.publisher,
      extType: known.type,
      typeHandlerVersion: version,
      provisioningState: 'Creating',
    };
    e.typeHandlerVersion = version;
    if (p.autoUpgradeMinorVersion !== undefined) e.autoUpgradeMinorVersion = p.autoUpgradeMinorVersion;
    if (p.enableAutomaticUpgrade !== undefined) e.enableAutomaticUpgrade = p.enableAutomaticUpgrade;
    if (p.forceUpdateTag !== undefined) e.forceUpdateTag = p.forceUpdateTag;
    if (p.settings !== undefined) e.settings = p.settings;
    if (ctx.body?.tags !== undefined) e.tags = tagsOf(ctx.body);
    e.provisioningState = existing ? 'Updating' : 'Creating';
    emu.store.put(T.extension, e);
    const settings = e.settings;
    const prot = p.protectedSettings;
    const op = emu.ops.start(ctx, {
      kind: 'compute',
      name: 'extension',
      resourceId: vm.id,
      location: vm.location,
      work: async () => {
        e.statusMessage = await applyVmAccess(emu, vm, e, settings, prot);
        e.provisioningState = 'Succeeded';
      },
      onFailed: (err) => {
        e.provisioningState = 'Failed';
        e.statusMessage = err.message;
      },
    });
    return lroBody(ctx, existing ? 200 : 201, renderExtension(e), op);
  };
  r.add('PUT', `${BASE}/{ext}`, 'compute', put(false), 'VirtualMachineExtensions_CreateOrUpdate');
  r.add('PATCH', `${BASE}/{ext}`, 'compute', put(true), 'VirtualMachineExtensions_Update');
  r.add(
    'DELETE',
    `${BASE}/{ext}`,
    'compute',
    (ctx) => {
      const emu = ctx.emu;
      const vm = getVm(ctx);
      const e = emu.store.get<ExtensionRecord>(T.extension, `${vm.id}/extensions/${ctx.params.ext}`);
      if (!e) return noContent;
      guardVm(ctx, vm, 'deleteExtension');
      e.provisioningState = 'Deleting';
      const op = emu.ops.start(ctx, {
        kind: 'compute',
        name: 'deleteExtension',
        resourceId: vm.id,
        location: vm.location,
        work: () => {
          emu.store.delete(T.extension, e.id);
        },
        onFailed: () => {
          e.provisioningState = 'Failed';
        },
      });
      return accepted(ctx, op);
    },
    'VirtualMachineExtensions_Delete',
  );
}

export function deleteExtensionsOf(emu: Emulator, vm: VmRecord): void {
  for (const e of emu.store.list<ExtensionRecord>(T.extension)) if (e.vmId.toLowerCase() === vm.id.toLowerCase()) emu.store.delete(T.extension, e.id);
}
