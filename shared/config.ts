// Typed, validated settings. Every setting is an app setting (environment variable) in Azure and in
// local.settings.json; local.settings.sample.json documents each one. Nothing else reads process.env.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseNcrontab, ScheduleError } from './timers/ncrontab';

export type AuthMode = 'builtin' | 'external';

export interface JacketConfig {
  /** Base URL clients use to reach this app (no trailing slash), e.g. https://jacket.example.com */
  publicUrl: string;
  /** Region name shown in the service catalog. */
  region: string;
  /**
   * The storage account's connection string when one is used (Azurite locally, or a key-based account);
   * '' with an identity-based connection. Build clients with shared/azure/clients.ts (blobService,
   * queueClient, tableClient), which handle both; never with fromConnectionString directly.
   */
  storageConnectionString: string;
  /** How Jacket (and the queue trigger, connection "JACKET_STORAGE") reaches its storage account. */
  storage: StorageConnection;
  /** Prefix for every table name, so several deployments can share one account. */
  storagePrefix: string;
  /** The Storage Queue the worker reads (the Functions trigger names it as %JACKET_WORK_QUEUE%). */
  workQueue: string;
  auth: {
    mode: AuthMode;
    /** HMAC keys for built-in tokens; the first signs, all verify (rotation). */
    tokenKeys: Buffer[];
    tokenTtlSeconds: number;
    /** External mode: the existing Keystone's /v3 URL. */
    keystoneUrl?: string;
    externalCacheSeconds: number;
    /**
     * How long one instance trusts a clean revocation check of a token (0: check every request).
     * A revocation made by this instance takes effect at once; one made by another instance within
     * this many seconds (keystonemiddleware's token cache: up to 300 s). docs/identity.md.
     */
    revocationRecheckSeconds: number;
  };
  bootstrap?: { username: string; password: string; projectName: string };
  /**
   * The operator's catalog: what exists beforehand and is mapped, not created, by Jacket (flavors,
   * marketplace images, networks -> subnets, security groups -> NSGs, availability zones, quotas...).
   * One JSON document from JACKET_CATALOG (inline) or JACKET_CATALOG_FILE; each resource module owns and
   * validates its own section (e.g. catalog.flavors), and falls back to its defaults when absent.
   */
  catalog: Record<string, unknown>;
  azure: {
    subscriptionId: string;
    resourceGroup: string;
    location: string;
    storageAccount: string;
    /** ARM endpoint; the local cloud points this at the ARM emulator. */
    armEndpoint: string;
    /** 'default' = DefaultAzureCredential (managed identity in Azure); 'static' = a fixed token (emulator). */
    credential: 'default' | 'static';
    /** Extra CA certificate (PEM path) trusted for ARM calls: the local emulator's self-signed one. */
    armCaCertPath?: string;
    /** 'arm' = /limits tightens cores/instances by the region's Compute usages; 'off' = Nova quotas only. */
    regionalUsage: 'arm' | 'off';
    /** os-stop deallocates the VM (no compute billing while SHUTOFF); false = power off only (keeps the host). */
    stopDeallocates: boolean;
    /**
     * Projects make their own networks and subnets (a virtual network per network, docs/network.md);
     * false = only the operator's catalog networks, and Neutron's network/subnet writes answer 501.
     */
    projectNetworks: boolean;
    /**
     * Where a server created with `networks: "none"` (Compute 2.37) gets the NIC every Azure VM needs:
     * a virtual network, subnet and deny-all NSG Jacket makes on demand in its resource group, outside
     * Neutron (docs/servers.md).
     */
    isolated: { vnet: string; subnet: string; nsg: string };
  };
  /** The timer-triggered sweeps (shared/timers, docs/timers.md). */
  timers: {
    /** NCRONTAB schedules (6 fields, UTC); Azure reads the same settings as %JACKET_SWEEP_*_SCHEDULE%. */
    nicsSchedule: string;
    disksSchedule: string;
    imagesSchedule: string;
    blobsSchedule: string;
    /** Report what would be deleted, delete nothing. */
    dryRun: boolean;
    /** How long one instance holds a sweep's lease (longer than a sweep takes). */
    leaseSeconds: number;
    /** The periodic tasks (docs/reconciliation.md): power state sync, orphan VMs, reclaim, stale tasks, resize confirm, hypervisors. */
    reconcileSchedule: string;
    vmsSchedule: string;
    reclaimSchedule: string;
    staleTasksSchedule: string;
    resizeConfirmSchedule: string;
    hypervisorsSchedule: string;
  };
  /** Nova's periodic-task settings (docs/reconciliation.md). */
  periodic: {
    /** Nova's reclaim_instance_interval (seconds): > 0 makes DELETE a soft delete, reclaimed after it. */
    reclaimInstanceInterval: number;
    /** Nova's resize_confirm_window (seconds): > 0 confirms VERIFY_RESIZE servers older than it. */
    resizeConfirmWindow: number;
    /** A task_state unchanged for this long is a crashed action (finished or rolled back). */
    staleTaskSeconds: number;
    /** A server whose VM vanished from Azure: 'error' (ERROR with a fault) or 'delete' (cleaned up). */
    missingVm: 'error' | 'delete';
  };
  /** The long-action engine (shared/work/engine.ts, docs/long-actions.md). */
  work: {
    /** Polls wait what Azure's Retry-After says, but never less than this nor more than pollCapSeconds. */
    pollFloorSeconds: number;
    pollCapSeconds: number;
    /** A step that fails this many times in a row (Azure 5xx/429/409, a dropped connection)... */
    retryFailures: number;
    /** ...or keeps failing for this long, gives up: the resource lands in upstream's error state. */
    retrySeconds: number;
    /** A long action whose step has not run for this long lost its message: it is resumed. */
    staleSeconds: number;
    /** Resumptions of one action before the engine gives it up. */
    staleResumes: number;
    /** The bytes one backup/upload step copies before it hands over to the next queue message. */
    copyChunkBytes: number;
  };
}

/**
 * The storage connection, read the way the Functions host reads a connection named JACKET_STORAGE:
 * a connection string (JACKET_STORAGE, or JACKET_STORAGE_CONNECTION_STRING), or identity-based
 * (JACKET_STORAGE__accountName, or JACKET_STORAGE__blobServiceUri / __queueServiceUri /
 * __tableServiceUri) with the app's managed identity (DefaultAzureCredential), and no key anywhere.
 */
export type StorageConnection = { kind: 'connectionString'; connectionString: string } | { kind: 'identity'; accountName: string; blobUrl: string; queueUrl: string; tableUrl: string };

export class ConfigError extends Error {}

type Env = Record<string, string | undefined>;

function required(env: Env, name: string): string {
  const v = env[name];
  if (v === undefined || v.trim() === '') throw new ConfigError(`setting ${name} is required`);
  return v.trim();
}

function optional(env: Env, name: string, dflt: string): string {
  const v = env[name];
  return v === undefined || v.trim() === '' ? dflt : v.trim();
}

function positiveInt(env: Env, name: string, dflt: number): number {
  const raw = optional(env, name, String(dflt));
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new ConfigError(`setting ${name} must be a positive integer, got "${raw}"`);
  return n;
}

function tokenKeys(env: Env, mode: AuthMode): Buffer[] {
  const raw = env.JACKET_TOKEN_KEYS;
  if (!raw || raw.trim() === '') {
    if (mode === 'external') return [randomBytes(32)]; // unused: external Keystone issues tokens
    throw new ConfigError('setting JACKET_TOKEN_KEYS is required (comma-separated base64 keys of at least 32 bytes)');
  }
  return raw.split(',').map((k, i) => {
    const key = Buffer.from(k.trim(), 'base64');
    if (key.length < 32) throw new ConfigError(`JACKET_TOKEN_KEYS entry ${i + 1} must decode to at least 32 bytes`);
    return key;
  });
}

function loadCatalog(env: Env): Record<string, unknown> {
  const inline = env.JACKET_CATALOG?.trim();
  const file = env.JACKET_CATALOG_FILE?.trim();
  if (inline && file) throw new ConfigError('set JACKET_CATALOG or JACKET_CATALOG_FILE, not both');
  let text: string | undefined = inline;
  if (file) {
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      throw new ConfigError(`JACKET_CATALOG_FILE ${file} cannot be read: ${(e as Error).message}`);
    }
  }
  if (!text) return {};
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new ConfigError(`the catalog setting is not valid JSON: ${(e as Error).message}`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new ConfigError('the catalog setting must be a JSON object');
  return doc as Record<string, unknown>;
}

function regionalUsage(v: string): 'arm' | 'off' {
  if (v !== 'arm' && v !== 'off') throw new ConfigError(`JACKET_REGIONAL_USAGE must be arm or off, got "${v}"`);
  return v;
}

function missingVm(v: string): 'error' | 'delete' {
  if (v !== 'error' && v !== 'delete') throw new ConfigError(`JACKET_MISSING_VM must be error or delete, got "${v}"`);
  return v;
}

function schedule(env: Env, name: string, dflt: string): string {
  const v = optional(env, name, dflt);
  try {
    return parseNcrontab(v).expression;
  } catch (e) {
    if (e instanceof ScheduleError) throw new ConfigError(`setting ${name}: ${e.message}`);
    throw e;
  }
}

function nonNegativeInt(env: Env, name: string, dflt: number): number {
  const raw = optional(env, name, String(dflt));
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new ConfigError(`setting ${name} must be a non-negative integer, got "${raw}"`);
  return n;
}

function bool(env: Env, name: string, dflt: boolean): boolean {
  const v = optional(env, name, String(dflt)).toLowerCase();
  if (v !== 'true' && v !== 'false') throw new ConfigError(`setting ${name} must be true or false, got "${v}"`);
  return v === 'true';
}

function queueName(name: string): string {
  if (!/^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$/.test(name)) throw new ConfigError(`JACKET_WORK_QUEUE "${name}" is not a valid queue name`);
  return name;
}

function storageConnection(env: Env): StorageConnection {
  const cs = env.JACKET_STORAGE?.trim() || env.JACKET_STORAGE_CONNECTION_STRING?.trim();
  if (cs) return { kind: 'connectionString', connectionString: cs };
  const account = env.JACKET_STORAGE__accountName?.trim();
  const uri = (svc: 'blob' | 'queue' | 'table') => {
    const name = `JACKET_STORAGE__${svc}ServiceUri`;
    const v = env[name]?.trim().replace(/\/+$/, '');
    if (v) {
      if (!/^https?:\/\//.test(v)) throw new ConfigError(`setting ${name} must be an http(s) URL`);
      return v;
    }
    if (!account) throw new ConfigError(`setting ${name} is required when JACKET_STORAGE__accountName is not set`);
    return `https://${account}.${svc}.core.windows.net`;
  };
  if (!account && !env.JACKET_STORAGE__blobServiceUri && !env.JACKET_STORAGE__queueServiceUri && !env.JACKET_STORAGE__tableServiceUri) {
    throw new ConfigError('setting JACKET_STORAGE__accountName (identity-based) or JACKET_STORAGE_CONNECTION_STRING is required');
  }
  if (account && !/^[a-z0-9]{3,24}$/.test(account)) throw new ConfigError('setting JACKET_STORAGE__accountName must be 3-24 lowercase letters and digits');
  const blobUrl = uri('blob');
  return { kind: 'identity', accountName: account ?? new URL(blobUrl).hostname.split('.')[0], blobUrl, queueUrl: uri('queue'), tableUrl: uri('table') };
}

/** Whole 4 MiB Put Page windows (Azure's limit for one Put Page); default 1 GiB per step. */
function copyChunk(env: Env): number {
  const n = positiveInt(env, 'JACKET_WORK_COPY_CHUNK_BYTES', 1024 ** 3);
  if (n % (4 * 1024 * 1024) !== 0) throw new ConfigError('setting JACKET_WORK_COPY_CHUNK_BYTES must be a multiple of 4194304 (4 MiB)');
  return n;
}

export function loadConfig(env: Env = process.env): JacketConfig {
  const mode = optional(env, 'JACKET_AUTH_MODE', 'builtin');
  if (mode !== 'builtin' && mode !== 'external') throw new ConfigError(`JACKET_AUTH_MODE must be builtin or external, got "${mode}"`);
  const publicUrl = required(env, 'JACKET_PUBLIC_URL').replace(/\/+$/, '');
  if (!/^https?:\/\//.test(publicUrl)) throw new ConfigError('JACKET_PUBLIC_URL must be an http(s) URL');
  const storageAccount = optional(env, 'JACKET_STORAGE_ACCOUNT', 'ops0storage0account');
  if (!/^[a-z0-9]{3,24}$/.test(storageAccount)) {
    throw new ConfigError('JACKET_STORAGE_ACCOUNT must be 3-24 lowercase letters and digits (Azure storage account rules)');
  }
  const prefix = optional(env, 'JACKET_STORAGE_PREFIX', 'jacket');
  if (!/^[a-z][a-z0-9]{0,19}$/.test(prefix)) throw new ConfigError('JACKET_STORAGE_PREFIX must be lowercase letters and digits, starting with a letter, at most 20');
  const credential = optional(env, 'JACKET_AZURE_CREDENTIAL', 'default');
  if (credential !== 'default' && credential !== 'static') throw new ConfigError('JACKET_AZURE_CREDENTIAL must be default or static');
  const storage = storageConnection(env);
  const cfg: JacketConfig = {
    catalog: loadCatalog(env),
    publicUrl,
    region: optional(env, 'JACKET_REGION', 'RegionOne'),
    storageConnectionString: storage.kind === 'connectionString' ? storage.connectionString : '',
    storage,
    storagePrefix: prefix,
    workQueue: queueName(optional(env, 'JACKET_WORK_QUEUE', 'jacket-work')),
    auth: {
      mode,
      tokenKeys: tokenKeys(env, mode),
      tokenTtlSeconds: positiveInt(env, 'JACKET_TOKEN_TTL_SECONDS', 3600),
      keystoneUrl: env.JACKET_KEYSTONE_URL?.trim().replace(/\/+$/, '') || undefined,
      externalCacheSeconds: positiveInt(env, 'JACKET_KEYSTONE_CACHE_SECONDS', 60),
      revocationRecheckSeconds: nonNegativeInt(env, 'JACKET_REVOCATION_RECHECK_SECONDS', 5),
    },
    azure: {
      subscriptionId: optional(env, 'JACKET_AZURE_SUBSCRIPTION_ID', '00000000-0000-0000-0000-000000000000'),
      resourceGroup: optional(env, 'JACKET_AZURE_RESOURCE_GROUP', 'ops_resource_group'),
      location: optional(env, 'JACKET_AZURE_LOCATION', 'eastus'),
      storageAccount,
      armEndpoint: optional(env, 'JACKET_ARM_ENDPOINT', 'https://management.azure.com').replace(/\/+$/, ''),
      credential,
      armCaCertPath: env.JACKET_ARM_CA_CERT?.trim() || undefined,
      regionalUsage: regionalUsage(optional(env, 'JACKET_REGIONAL_USAGE', 'arm')),
      stopDeallocates: bool(env, 'JACKET_STOP_DEALLOCATES', true),
      projectNetworks: bool(env, 'JACKET_PROJECT_NETWORKS', true),
      isolated: {
        vnet: optional(env, 'JACKET_ISOLATED_VNET', 'jacket-isolated'),
        subnet: optional(env, 'JACKET_ISOLATED_SUBNET', 'no-network'),
        nsg: optional(env, 'JACKET_ISOLATED_NSG', 'jacket-isolated-deny-all'),
      },
    },
    timers: {
      nicsSchedule: schedule(env, 'JACKET_SWEEP_NICS_SCHEDULE', '0 */10 * * * *'),
      disksSchedule: schedule(env, 'JACKET_SWEEP_DISKS_SCHEDULE', '0 5-59/10 * * * *'),
      imagesSchedule: schedule(env, 'JACKET_SWEEP_IMAGES_SCHEDULE', '0 */15 * * * *'),
      blobsSchedule: schedule(env, 'JACKET_SWEEP_BLOBS_SCHEDULE', '0 7-59/15 * * * *'),
      dryRun: bool(env, 'JACKET_SWEEP_DRY_RUN', false),
      leaseSeconds: positiveInt(env, 'JACKET_SWEEP_LEASE_SECONDS', 300),
      reconcileSchedule: schedule(env, 'JACKET_RECONCILE_SCHEDULE', '30 */10 * * * *'),
      vmsSchedule: schedule(env, 'JACKET_SWEEP_VMS_SCHEDULE', '0 2-59/10 * * * *'),
      reclaimSchedule: schedule(env, 'JACKET_RECLAIM_SCHEDULE', '0 * * * * *'),
      staleTasksSchedule: schedule(env, 'JACKET_STALE_TASKS_SCHEDULE', '0 */5 * * * *'),
      resizeConfirmSchedule: schedule(env, 'JACKET_RESIZE_CONFIRM_SCHEDULE', '20 * * * * *'),
      hypervisorsSchedule: schedule(env, 'JACKET_HYPERVISORS_SCHEDULE', '40 */5 * * * *'),
    },
    periodic: {
      reclaimInstanceInterval: nonNegativeInt(env, 'JACKET_RECLAIM_INSTANCE_INTERVAL', 0),
      resizeConfirmWindow: nonNegativeInt(env, 'JACKET_RESIZE_CONFIRM_WINDOW', 0),
      staleTaskSeconds: positiveInt(env, 'JACKET_STALE_TASK_SECONDS', 1800),
      missingVm: missingVm(optional(env, 'JACKET_MISSING_VM', 'error')),
    },
    work: {
      pollFloorSeconds: positiveInt(env, 'JACKET_WORK_POLL_FLOOR_SECONDS', 1),
      pollCapSeconds: positiveInt(env, 'JACKET_WORK_POLL_CAP_SECONDS', 60),
      retryFailures: positiveInt(env, 'JACKET_WORK_RETRY_FAILURES', 10),
      retrySeconds: positiveInt(env, 'JACKET_WORK_RETRY_SECONDS', 900),
      staleSeconds: positiveInt(env, 'JACKET_WORK_STALE_SECONDS', 900),
      staleResumes: positiveInt(env, 'JACKET_WORK_STALE_RESUMES', 3),
      copyChunkBytes: copyChunk(env),
    },
  };
  if (cfg.work.pollCapSeconds < cfg.work.pollFloorSeconds) throw new ConfigError('JACKET_WORK_POLL_CAP_SECONDS must not be below JACKET_WORK_POLL_FLOOR_SECONDS');
  if (mode === 'external' && !cfg.auth.keystoneUrl) throw new ConfigError('JACKET_KEYSTONE_URL is required when JACKET_AUTH_MODE=external');
  const bu = env.JACKET_BOOTSTRAP_USERNAME?.trim();
  const bp = env.JACKET_BOOTSTRAP_PASSWORD;
  if (bu || bp) {
    if (!bu || !bp) throw new ConfigError('JACKET_BOOTSTRAP_USERNAME and JACKET_BOOTSTRAP_PASSWORD go together');
    cfg.bootstrap = { username: bu, password: bp, projectName: optional(env, 'JACKET_BOOTSTRAP_PROJECT', 'admin') };
  }
  return cfg;
}
