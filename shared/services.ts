// The long-lived objects every handler uses, built once per process from the config.
import { loadConfig, type JacketConfig } from './config';
import { TableStore } from './store/tables';
import { IdentityStore } from './identity/model';
import { Revocations } from './identity/revocation';
import { makeAuthenticator, type Authenticator } from './identity/authenticate';
import { WorkQueue } from './work/queue';

export interface Services {
  config: JacketConfig;
  tables: TableStore;
  identity: IdentityStore;
  revocations: Revocations;
  auth: Authenticator;
  work: WorkQueue;
}

export function createServices(config: JacketConfig): Services {
  const tables = new TableStore(config.storageConnectionString, config.storagePrefix);
  const revocations = new Revocations(tables, config.auth.tokenTtlSeconds * 1000);
  return {
    config,
    tables,
    identity: new IdentityStore(tables),
    revocations,
    auth: makeAuthenticator(config, revocations),
    work: new WorkQueue(config.storageConnectionString, config.workQueue),
  };
}

let shared: Services | undefined;
/** The process-wide services for the Azure Functions host (config from app settings). */
export function services(): Services {
  shared ??= createServices(loadConfig());
  return shared;
}
