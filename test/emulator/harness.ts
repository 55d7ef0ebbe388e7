/**
 * Test harness: an in-memory Azurite Blob + the ARM emulator on free ports, and the real Azure SDK
 * clients pointed at it (TLS trust through the SDK's tlsOptions, so no special env is needed).
 *
 *   const h = await startHarness();
 *   await h.compute.virtualMachines.get(h.resourceGroup, 'vm1');
 *   await h.stop();
 */
import * as fs from 'node:fs';
import * as https from 'node:https';
import * as os from 'node:os';
import * as path from 'node:path';
import type { AccessToken, TokenCredential } from '@azure/core-auth';
import { ComputeManagementClient } from '@azure/arm-compute';
import { NetworkManagementClient } from '@azure/arm-network';
import { BlobServiceClient } from '@azure/storage-blob';
import { startAzuriteBlob, RunningAzurite } from '../../emulator/azurite';
import { EmulatorControl } from '../../emulator/control';
import { startEmulator, RunningEmulator, EmulatorOptions } from '../../emulator/server';

export const TEST_TOKEN = 'emulator-test-token';

/** A TokenCredential that always returns the same bearer token (what local Jacket uses too). */
export function staticCredential(token = TEST_TOKEN): TokenCredential {
  return {
    async getToken(): Promise<AccessToken> {
      return { token, expiresOnTimestamp: Date.now() + 3600_000 };
    },
  };
}

export interface RetrySettings {
  maxRetries?: number;
  retryDelayInMs?: number;
  maxRetryDelayInMs?: number;
}

/** Options for the SDK clients: the emulator's endpoint, its CA and (fast) retries. */
export function sdkOptions(emu: { url: string; caCertPath: string }, retry: RetrySettings = {}) {
  const ca = fs.readFileSync(emu.caCertPath, 'utf8');
  return {
    endpoint: emu.url,
    $host: emu.url,
    credentialScopes: ['https://management.azure.com/.default'],
    tlsOptions: { ca },
    retryOptions: { maxRetries: retry.maxRetries ?? 3, retryDelayInMs: retry.retryDelayInMs ?? 20, maxRetryDelayInMs: retry.maxRetryDelayInMs ?? 100 },
  };
}

export function computeClient(emu: RunningEmulator | { url: string; caCertPath: string; subscriptionId: string }, retry?: RetrySettings): ComputeManagementClient {
  return new ComputeManagementClient(staticCredential(), emu.subscriptionId, sdkOptions(emu, retry));
}

export function networkClient(emu: RunningEmulator | { url: string; caCertPath: string; subscriptionId: string }, retry?: RetrySettings): NetworkManagementClient {
  return new NetworkManagementClient(staticCredential(), emu.subscriptionId, sdkOptions(emu, retry));
}

export interface Harness {
  azurite: RunningAzurite;
  emu: RunningEmulator;
  control: EmulatorControl;
  compute: ComputeManagementClient;
  network: NetworkManagementClient;
  blob: BlobServiceClient;
  subscriptionId: string;
  location: string;
  resourceGroup: string;
  /** Seeded subnet / NSG / vnet ids. */
  subnetId: string;
  nsgId: string;
  vnetId: string;
  /** ARM id helper: id('Microsoft.Compute', 'disks', 'd1') in the harness resource group. */
  id(provider: string, type: string, name: string): string;
  stop(): Promise<void>;
}

export interface HarnessOptions extends Partial<Omit<EmulatorOptions, 'blobConnectionString'>> {
  retry?: RetrySettings;
}

let certDir: string | undefined;

/** A cert directory shared by every harness of this process (created once). */
export function testCertDir(): string {
  certDir ??= path.join(os.tmpdir(), 'jacket-emulator-test-cert');
  return certDir;
}

export async function startHarness(opts: HarnessOptions = {}): Promise<Harness> {
  const azurite = await startAzuriteBlob();
  let emu: RunningEmulator;
  try {
    const { retry: _r, ...emuOpts } = opts;
    emu = await startEmulator({ port: 0, certDir: testCertDir(), asyncDelayMs: 0, ...emuOpts, blobConnectionString: azurite.connectionString });
  } catch (e) {
    await azurite.stop();
    throw e;
  }
  const rg = emu.emulator.cfg.seed.resourceGroups[0];
  const sub = emu.subscriptionId;
  const vnet = emu.emulator.cfg.seed.virtualNetworks[0];
  const nsg = emu.emulator.cfg.seed.networkSecurityGroups[0];
  const id = (provider: string, type: string, name: string) => `/subscriptions/${sub}/resourceGroups/${rg}/providers/${provider}/${type}/${name}`;
  const control = new EmulatorControl(emu.url, emu.caCertPath);
  return {
    azurite,
    emu,
    control,
    compute: computeClient(emu, opts.retry),
    network: networkClient(emu, opts.retry),
    blob: BlobServiceClient.fromConnectionString(azurite.connectionString),
    subscriptionId: sub,
    location: emu.location,
    resourceGroup: rg,
    vnetId: `/subscriptions/${sub}/resourceGroups/${vnet.resourceGroup}/providers/Microsoft.Network/virtualNetworks/${vnet.name}`,
    subnetId: `/subscriptions/${sub}/resourceGroups/${vnet.resourceGroup}/providers/Microsoft.Network/virtualNetworks/${vnet.name}/subnets/${vnet.subnets[0].name}`,
    nsgId: `/subscriptions/${sub}/resourceGroups/${nsg.resourceGroup}/providers/Microsoft.Network/networkSecurityGroups/${nsg.name}`,
    id,
    async stop() {
      control.close();
      await emu.stop();
      await azurite.stop();
    },
  };
}

/** A valid OpenSSH RSA public key for tests (key material is random, format is real). */
export function testSshKey(): string {
  const type = Buffer.from('ssh-rsa');
  const parts = [type, Buffer.from([0, 0, 0, 3, 1, 0, 1]), Buffer.alloc(257, 7)];
  const lens = parts.map((p, i) => {
    if (i === 1) return Buffer.alloc(0);
    const l = Buffer.alloc(4);
    l.writeUInt32BE(p.length);
    return l;
  });
  const blob = Buffer.concat([lens[0], parts[0], parts[1], lens[2], parts[2]]);
  return `ssh-rsa ${blob.toString('base64')} test@jacket`;
}

/** Creates a NIC in the seeded subnet. */
export async function createNic(h: Harness, name: string, extra: Record<string, unknown> = {}) {
  return h.network.networkInterfaces.beginCreateOrUpdateAndWait(h.resourceGroup, name, {
    location: h.location,
    ipConfigurations: [{ name: 'ipconfig1', subnet: { id: h.subnetId }, privateIPAllocationMethod: 'Dynamic' }],
    ...extra,
  });
}

/** Creates a small Linux VM (marketplace Ubuntu, password auth) with a new NIC. */
export async function createLinuxVm(h: Harness, name: string, over: Record<string, any> = {}) {
  const nic = await createNic(h, `${name}-nic`);
  const params: any = {
    location: h.location,
    hardwareProfile: { vmSize: 'Standard_B1s' },
    storageProfile: {
      imageReference: { publisher: 'Canonical', offer: '0001-com-ubuntu-server-jammy', sku: '22_04-lts-gen2', version: 'latest' },
      osDisk: { createOption: 'FromImage', managedDisk: { storageAccountType: 'Standard_LRS' }, deleteOption: 'Delete' },
    },
    osProfile: { computerName: name, adminUsername: 'jacket', adminPassword: 'Jacket-Pass-123', customData: Buffer.from('#cloud-config\n').toString('base64') },
    networkProfile: { networkInterfaces: [{ id: nic.id, primary: true, deleteOption: 'Delete' }] },
    diagnosticsProfile: { bootDiagnostics: { enabled: true } },
    ...over,
  };
  return { nic, vm: await h.compute.virtualMachines.createOrUpdate(h.resourceGroup, name, params) };
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: any;
}

/** A raw HTTPS call to the emulator (bearer token and api-version are up to the caller). */
export function armRequest(h: Harness, method: string, pathAndQuery: string, body?: unknown, headers: Record<string, string> = { Authorization: `Bearer ${TEST_TOKEN}` }): Promise<RawResponse> {
  const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  const url = new URL(pathAndQuery, h.emu.url);
  return new Promise((resolve, reject) => {
    const req = https.request(
      url,
      {
        method,
        ca: fs.readFileSync(h.emu.caCertPath),
        headers: { ...headers, ...(data ? { 'Content-Type': 'application/json', 'Content-Length': String(data.length) } : {}) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text ? JSON.parse(text) : undefined });
        });
      },
    );
    req.on('error', reject);
    if (data) req.write(data);
    req.end();
  });
}
