// One set of ARM clients per config for the sweeps (the SDK clients keep their connections).
import type { JacketConfig } from '../config';
import { createAzureClients, type AzureClients } from '../azure/clients';

const cache = new WeakMap<JacketConfig, AzureClients>();
export function sweepArm(cfg: JacketConfig): AzureClients {
  let c = cache.get(cfg);
  if (!c) {
    c = createAzureClients(cfg);
    cache.set(cfg, c);
  }
  return c;
}
