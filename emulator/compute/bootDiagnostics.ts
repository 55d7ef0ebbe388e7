/** Serial console output of emulated boots, kept as blobs in Azurite; SAS URIs for retrieveBootDiagnosticsData. */
import type { Emulator } from '../emulator';
import type { VmRecord } from './model';

/** A 1x1 white 24-bit BMP, the "screenshot" of every emulated console. */
const SCREENSHOT = Buffer.from('424d3a0000000000000036000000280000000100000001000000010018000000000004000000130b0000130b00000000000000000000ffffff00', 'hex');

function ts(seconds: number): string {
  return `[${seconds.toFixed(6).padStart(12, ' ')}]`;
}

export function bootLog(vm: VmRecord, reason: string): string {
  const host = vm.osProfile?.computerName ?? vm.name;
  const now = new Date().toISOString();
  if (vm.osType === 'Windows') {
    return [
      `${now} Emulated boot (${reason}) of ${vm.name} (vmId ${vm.vmId})`,
      'Windows Boot Manager',
      `Computer is booting, SAC started and initialized.`,
      `SAC> Machine name: ${host}`,
      'SAC> Windows is ready.',
      '',
    ].join('\r\n');
  }
  const customData = vm.secrets.customData ? Buffer.from(vm.secrets.customData, 'base64').length : 0;
  const image = vm.imageReference?.offer ? `${vm.imageReference.publisher}:${vm.imageReference.offer}:${vm.imageReference.sku}:${vm.imageReference.exactVersion}` : 'custom image';
  return [
    `${ts(0)} Linux version 6.8.0-1017-azure (emulated boot '${reason}' of ${vm.name}, vmId ${vm.vmId}, ${now})`,
    `${ts(0.5)} Command line: BOOT_IMAGE=/boot/vmlinuz root=LABEL=cloudimg-rootfs console=ttyS0`,
    `${ts(2.1)} cloud-init[612]: Cloud-init v. 24.3.1 running 'init' (image ${image})`,
    `${ts(2.3)} cloud-init[612]: hostname: ${host}`,
    `${ts(2.4)} cloud-init[612]: user-data (customData) received: ${customData} bytes`,
    `${ts(2.6)} cloud-init[612]: admin user: ${vm.osProfile?.adminUsername ?? '(unchanged)'}`,
    `${ts(5.0)} cloud-init[899]: Cloud-init v. 24.3.1 finished. Datasource DataSourceAzure.`,
    '',
    `Ubuntu 22.04.5 LTS ${host} ttyS0`,
    '',
    `${host} login: `,
    '',
  ].join('\n');
}

export async function recordBoot(emu: Emulator, vm: VmRecord, reason: string): Promise<void> {
  vm.bootCount += 1;
  await emu.blobs.appendLog(vm.serialLogBlob, bootLog(vm, reason));
  await emu.blobs.putBlock(vm.screenshotBlob, SCREENSHOT, 'image/bmp');
}

export async function appendSerial(emu: Emulator, vm: VmRecord, line: string): Promise<void> {
  await emu.blobs.appendLog(vm.serialLogBlob, `${line}\n`);
}

export async function bootDiagnosticsUris(emu: Emulator, vm: VmRecord, minutes: number): Promise<{ consoleScreenshotBlobUri: string; serialConsoleLogBlobUri: string }> {
  const seconds = minutes * 60;
  return {
    consoleScreenshotBlobUri: await emu.blobs.sasUrl(vm.screenshotBlob, 'r', seconds),
    serialConsoleLogBlobUri: await emu.blobs.sasUrl(vm.serialLogBlob, 'r', seconds),
  };
}

export async function deleteBootDiagnostics(emu: Emulator, vm: VmRecord): Promise<void> {
  await emu.blobs.delete(vm.serialLogBlob);
  await emu.blobs.delete(vm.screenshotBlob);
}
