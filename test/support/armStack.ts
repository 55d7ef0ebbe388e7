// The end-to-end stack with the ARM emulator: Azurite, the emulator (keeping disk bytes in that
// Azurite) and the app pointed at it, plus SDK clients and the emulator's control API for checks.
import type { ComputeManagementClient } from '@azure/arm-compute';
import type { NetworkManagementClient } from '@azure/arm-network';
import { startEmulator, type RunningEmulator } from '../../emulator/server';
import { EmulatorControl } from '../../emulator/control';
import { computeClient, networkClient, testCertDir } from '../emulator/harness';
import { startStack, type Stack } from './stack';

export { waitFor } from './wait';

export interface ArmStack {
  stack: Stack;
  emu: RunningEmulator;
  control: EmulatorControl;
  compute: ComputeManagementClient;
  network: NetworkManagementClient;
  /** Closes the control API's connections and stops the stack. */
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
  const control = new EmulatorControl(e.url, e.caCertPath);
  return {
    stack,
    emu: e,
    control,
    compute: computeClient(e),
    network: networkClient(e),
    stop: () => {
      control.close();
      return stack.stop();
    },
  };
}

/** A VM's power state from its instance view (`running`, `deallocated`, …); undefined when Azure has no such VM. */
export async function powerState(arm: ArmStack, id: string, resourceGroup = 'ops_resource_group'): Promise<string | undefined> {
  try {
    const v = await arm.compute.virtualMachines.instanceView(resourceGroup, id);
    return v.statuses?.find((x) => x.code?.startsWith('PowerState/'))?.code?.slice('PowerState/'.length);
  } catch (e) {
    if ((e as { statusCode?: number }).statusCode === 404) return undefined;
    throw e;
  }
}
