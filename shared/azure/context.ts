// What every sub-driver is built from (shared/azure/driver.ts composes them): the config, the SDK
// clients made on first use, and the one builder of resource ids. Its own file so the sub-drivers do not
// import the composition that imports them.
import type { JacketConfig } from '../config';
import { createAzureClients, type AzureClients } from './clients';

export interface DriverContext {
  cfg: JacketConfig;
  /** The SDK clients, made on first use (a process that never calls Azure never builds a credential). */
  clients(): AzureClients;
  /** The resource group's ARM id prefix and resource ids, built in one place. */
  armId(provider: 'Microsoft.Compute' | 'Microsoft.Network' | 'Microsoft.Storage', type: string, name: string, resourceGroup?: string): string;
}

export function driverContext(cfg: JacketConfig, clients?: AzureClients): DriverContext {
  let c = clients;
  return {
    cfg,
    clients: () => (c ??= createAzureClients(cfg)),
    armId: (provider, type, name, resourceGroup = cfg.azure.resourceGroup) => `/subscriptions/${cfg.azure.subscriptionId}/resourceGroups/${resourceGroup}/providers/${provider}/${type}/${name}`,
  };
}
