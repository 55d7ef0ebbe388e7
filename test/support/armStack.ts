// The end-to-end stack with the ARM emulator: Azurite, the emulator (keeping disk bytes in that
// Azurite) and the app pointed at it, plus SDK clients and the emulator's control API for checks.
import type { ComputeManagementClient } from '@azure/arm-compute';
import type { NetworkManagementClient } from '@azure/arm-network';
import { startEmulator, type RunningEmulator } from '../../emulator/server';
import { EmulatorControl } from '../../emulator/control';
import { computeClient, networkClient, testCertDir } from '../emulator/harness';
import { startStack, type Stack } from './stack';

export interface ArmStack {
  stack: Stack;
  emu: RunningEmulator;
  control: EmulatorControl;
  compute: ComputeManagementClient;
  network: NetworkManagementClient;
  stop(): Promise<void>;
}

export async function startArmStack(opts: { asyncDelayMs?: number; settings?: Record<string, string> } = {}): Promise<ArmStack> {
  let emu: RunningEmulator | undefined;
  const stack = await startStack({
    settings: opts.settings,
    beforeHost: async (azurite) => {
      emu = await startEmulator({ port: 0, certDir: testCertDir(), asyncDelayMs: opts.asyncDelayMs ?? 300, blobConnectionString: azurite.connectionString });
      const e = emu;
      return {
        settings: { JACKET_ARM_ENDPOINT: e.url, JACKET_AZURE_CREDENTIAL: 'static', JACKET_ARM_CA_CERT: e.caCertPath },
        stop: () => e.stop(),
      };
    },
  });
  const e = emu!;
  return {
    stack,
    emu: e,
    control: new EmulatorControl(e.url, e.caCertPath),
    compute: computeClient(e),
    network: networkClient(e),
    stop: () => stack.stop(),
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `f` until it returns something other than undefined. */
export async function waitFor<T>(what: string, f: () => Promise<T | undefined>, timeoutMs = 60000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(250);
  }
}
