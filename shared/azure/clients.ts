// The Azure SDK clients of the driver layer, built once per config: the real @azure/arm-compute and
// @azure/arm-network clients and the Blob service client. Only the endpoint and credential change
// between Azure and the local ARM emulator (JACKET_ARM_ENDPOINT, JACKET_AZURE_CREDENTIAL=static,
// JACKET_ARM_CA_CERT). Nothing outside shared/azure/ imports this file or an Azure SDK package.
//
// The SDK's own retry is off (maxRetries 0): one driver call is one request, so a step never sleeps
// through a Retry-After inside a function, and the emulator's request log counts what Azure would.
// The long-action engine (shared/work/engine.ts) owns retries, paced by Retry-After.
import { readFileSync } from 'node:fs';
import https from 'node:https';
import type { ComputeManagementClient } from '@azure/arm-compute';
import type { NetworkManagementClient } from '@azure/arm-network';
import type { BlobServiceClient } from '@azure/storage-blob';
import type { QueueClient } from '@azure/storage-queue';
import type { TableClient } from '@azure/data-tables';
import type { TokenCredential } from '@azure/core-auth';
import type { PipelinePolicy } from '@azure/core-rest-pipeline';
import type { JacketConfig, StorageConnection } from '../config';
import { armThrottlePolicy } from '../metrics';

/*
 * The management, Blob and identity SDKs are loaded on first use, not when a Functions entry point is
 * imported (cold start, issue 11): @azure/arm-network alone is ~340 modules, @azure/arm-compute ~130,
 * @azure/storage-blob ~110 with its common code, and most requests (tokens, lists, shows, a server
 * create that only enqueues) never call Azure in the same process. Tables and the queue are needed by
 * nearly every request, but not to register the functions: they too load on the first client built
 * (~90 modules, about a third of an entry point's import, measured in the bundle: docs/performance.md).
 * `require` is deliberate: these are synchronous factories, and the types still come from the
 * `import type` lines above.
 */
/* eslint-disable @typescript-eslint/no-require-imports */
/**
 * Each loader requires its package once and keeps it: `require` of a loaded module still resolves the
 * name against the file system cache on every call, and `odata` (shared/store/tables.ts) asks for the
 * Table SDK several times per request.
 */
function once<T>(load: () => T): () => T {
  let m: T | undefined;
  return () => (m ??= load());
}
const sdk = {
  compute: once(() => require('@azure/arm-compute') as typeof import('@azure/arm-compute')),
  network: once(() => require('@azure/arm-network') as typeof import('@azure/arm-network')),
  blob: once(() => require('@azure/storage-blob') as typeof import('@azure/storage-blob')),
  identity: once(() => require('@azure/identity') as typeof import('@azure/identity')),
  tables: once(() => require('@azure/data-tables') as typeof import('@azure/data-tables')),
  queue: once(() => require('@azure/storage-queue') as typeof import('@azure/storage-queue')),
};
/* eslint-enable @typescript-eslint/no-require-imports */

/** The Blob SDK's module, loaded on first use (shared/azure/ code that builds its own Blob clients). */
export const blobSdk = sdk.blob;
/** The Table SDK's module, loaded on first use (shared/store/tables.ts: odata). */
export const tablesSdk = sdk.tables;

export interface AzureClients {
  compute: ComputeManagementClient;
  network: NetworkManagementClient;
  blobs: BlobServiceClient;
}

/** A fixed bearer token, for the local ARM emulator only (it checks that one is sent). */
export const staticCredential: TokenCredential = {
  getToken: async () => ({ token: 'jacket-local-emulator', expiresOnTimestamp: Date.now() + 3600 * 1000 }),
};

/** Trusts an extra CA (the emulator's self-signed certificate) for ARM calls only. */
function trustPolicy(caPath: string): PipelinePolicy {
  const agent = new https.Agent({ ca: readFileSync(caPath), keepAlive: true });
  return {
    name: 'jacketTrustArmCa',
    sendRequest: (req, next) => {
      req.agent = agent;
      return next(req);
    },
  };
}

/**
 * The identity for Azure (ARM and identity-based storage): DefaultAzureCredential — the app's managed
 * identity in Azure, `az login` or AZURE_* environment variables locally. One per process: it caches
 * tokens, and building one per client would ask the identity endpoint again for each.
 */
let defaultCredential: TokenCredential | undefined;
export function azureCredential(): TokenCredential {
  return (defaultCredential ??= new (sdk.identity().DefaultAzureCredential)());
}

/**
 * Storage clients for a connection (shared/config.ts StorageConnection): a connection string
 * (Azurite locally) or the account's endpoints with DefaultAzureCredential (identity-based, no key).
 */
export function blobService(conn: StorageConnection): BlobServiceClient {
  const { BlobServiceClient } = sdk.blob();
  return conn.kind === 'connectionString' ? BlobServiceClient.fromConnectionString(conn.connectionString) : new BlobServiceClient(conn.blobUrl, azureCredential());
}

export function queueClient(conn: StorageConnection, name: string): QueueClient {
  const { QueueClient } = sdk.queue();
  return conn.kind === 'connectionString' ? new QueueClient(conn.connectionString, name) : new QueueClient(`${conn.queueUrl}/${name}`, azureCredential());
}

export function tableClient(conn: StorageConnection, name: string): TableClient {
  const { TableClient } = sdk.tables();
  return conn.kind === 'connectionString' ? TableClient.fromConnectionString(conn.connectionString, name, { allowInsecureConnection: true }) : new TableClient(conn.tableUrl, name, azureCredential());
}

const built = new WeakMap<JacketConfig, AzureClients>();

/** The clients of this config: built on first use and shared by every caller (one connection pool each). */
export function createAzureClients(cfg: JacketConfig): AzureClients {
  let c = built.get(cfg);
  if (!c) {
    c = buildClients(cfg);
    built.set(cfg, c);
  }
  return c;
}

function buildClients(cfg: JacketConfig): AzureClients {
  const a = cfg.azure;
  const credential = () => (a.credential === 'static' ? staticCredential : azureCredential());
  const additionalPolicies: { policy: PipelinePolicy; position: 'perCall' | 'perRetry' }[] = a.armCaCertPath ? [{ policy: trustPolicy(a.armCaCertPath), position: 'perCall' as const }] : [];
  additionalPolicies.push({ policy: armThrottlePolicy(), position: 'perRetry' }); // the 429 metric (shared/metrics.ts)
  const retryOptions = { maxRetries: 0 };
  // Each client (and its SDK) is made on first use: a Blob-only caller never loads the ARM SDKs.
  let compute: ComputeManagementClient | undefined;
  let network: NetworkManagementClient | undefined;
  let blobs: BlobServiceClient | undefined;
  return {
    get compute() {
      return (compute ??= new (sdk.compute().ComputeManagementClient)(credential(), a.subscriptionId, { endpoint: a.armEndpoint, additionalPolicies, retryOptions }));
    },
    get network() {
      return (network ??= new (sdk.network().NetworkManagementClient)(credential(), a.subscriptionId, { endpoint: a.armEndpoint, additionalPolicies, retryOptions }));
    },
    get blobs() {
      return (blobs ??= blobService(cfg.storage));
    },
  };
}
