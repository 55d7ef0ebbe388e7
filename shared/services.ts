// The long-lived objects every handler uses, built once per process from the config.
import { loadConfig, type JacketConfig } from './config';
import { TableStore } from './store/tables';
import { IdentityStore } from './identity/model';
import { Revocations } from './identity/revocation';
import { makeAuthenticator, type Authenticator } from './identity/authenticate';
import { WorkQueue } from './work/queue';
import { createAzureDriver, type AzureDriver } from './azure/driver';
import { queueClient } from './azure/clients';
import { offerPoisonDepthReader } from './metrics';

export interface Services {
  config: JacketConfig;
  tables: TableStore;
  identity: IdentityStore;
  revocations: Revocations;
  auth: Authenticator;
  work: WorkQueue;
  /** The Azure driver layer (shared/azure/driver.ts): every ARM and Blob call goes through it. */
  azure: AzureDriver;
}

export function createServices(config: JacketConfig): Services {
  const tables = new TableStore(config.storage, config.storagePrefix);
  const revocations = new Revocations(tables, config.auth.tokenTtlSeconds * 1000, config.auth.revocationRecheckSeconds * 1000);
  let azure: AzureDriver | undefined;
  return {
    config,
    get azure() {
      return (azure ??= createAzureDriver(config));
    },
    tables,
    identity: new IdentityStore(tables),
    revocations,
    auth: makeAuthenticator(config, revocations),
    work: new WorkQueue(config.storage, config.workQueue),
  };
}

let shared: Services | undefined;
/** The process-wide services for the Azure Functions host (config from app settings). */
export function services(): Services {
  shared ??= createServices(loadConfig());
  return shared;
}

// The poison queue's depth for the telemetry gauge (shared/telemetry.ts, read when the meter collects),
// with this process's services.
offerPoisonDepthReader(async () => {
  const cfg = services().config;
  const queue = `${cfg.workQueue}-poison`;
  const props = await queueClient(cfg.storage, queue).getProperties();
  return { queue, depth: props.approximateMessagesCount ?? 0 };
});
