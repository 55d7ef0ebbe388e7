/** Emulator options, seed data and their defaults. */

export interface VmSizeSeed {
  name: string;
  numberOfCores: number;
  memoryInMB: number;
  maxDataDiskCount: number;
  osDiskSizeInMB: number;
  resourceDiskSizeInMB: number;
  /** Quota family reported by the usages API, e.g. standardBSFamily. */
  family: string;
}

export interface MarketplaceImageSeed {
  publisher: string;
  offer: string;
  sku: string;
  versions: string[];
  osType: 'Linux' | 'Windows';
  hyperVGeneration: 'V1' | 'V2';
  /** Size of the OS disk the image produces. */
  osDiskSizeGB: number;
}

export interface SubnetSeed {
  name: string;
  addressPrefix: string;
  networkSecurityGroup?: string;
}

export interface VnetSeed {
  resourceGroup: string;
  name: string;
  addressPrefixes: string[];
  subnets: SubnetSeed[];
}

export interface NsgSeed {
  resourceGroup: string;
  name: string;
}

export interface EmulatorSeed {
  resourceGroups: string[];
  virtualNetworks: VnetSeed[];
  networkSecurityGroups: NsgSeed[];
  vmSizes: VmSizeSeed[];
  /** VM sizes Azure knows but which are not available in the location (answer SkuNotAvailable). */
  restrictedVmSizes: string[];
  /** Total regional vCPU quota ("cores" in the usages API). */
  coresQuota: number;
  /** Per-family vCPU quota; families not listed get coresQuota. */
  familyQuotas: Record<string, number>;
  /** Quota on the number of virtual machines ("virtualMachines" in the usages API). */
  virtualMachinesQuota: number;
  marketplaceImages: MarketplaceImageSeed[];
}

export interface ApiVersions {
  /** Microsoft.Compute except disks/snapshots (virtualMachines, images, locations/*). */
  compute: string[];
  /** Microsoft.Compute disks and snapshots (DiskRP). */
  disk: string[];
  network: string[];
  /** Microsoft.Compute/skus (the SDK sends 2021-07-01). */
  skus: string[];
  /** Microsoft.Resources (resource groups). */
  resources: string[];
}

export interface ThrottleBudget {
  /** Token bucket size. */
  capacity: number;
  /** Tokens added per second. */
  refillPerSecond: number;
}

export interface ThrottleConfig {
  reads: ThrottleBudget;
  writes: ThrottleBudget;
  deletes: ThrottleBudget;
}

export interface EmulatorOptions {
  port?: number;
  host?: string;
  subscriptionId?: string;
  location?: string;
  /** Azurite Blob connection string; disk bytes and serial logs live in `diskContainer`. */
  blobConnectionString: string;
  /** Container the emulator owns in Azurite (default emulator-disks). */
  diskContainer?: string;
  /** How long each long-running operation stays non-terminal (default 0). */
  asyncDelayMs?: number;
  seed?: Partial<EmulatorSeed>;
  /** Where the TLS certificate is kept (default <os tmpdir>/jacket-emulator-cert). */
  certDir?: string;
  apiVersions?: Partial<ApiVersions>;
  throttle?: Partial<ThrottleConfig>;
  /** Log each request to stderr. */
  log?: boolean;
  /** How long a NIC stays reserved for its deleted VM (NicReservedForAnotherVm); Azure: about 180 s. */
  nicReservationMs?: number;
  /**
   * Check PUT/PATCH/POST bodies against the operation's request schema in the Azure specs (when the
   * spec files are found: ../shared/reference/azure-rest-api-specs or AZURE_SPECS_DIR). Default true.
   */
  validateRequests?: boolean;
}

export const DEFAULT_SUBSCRIPTION = '00000000-0000-0000-0000-000000000000';
export const DEFAULT_TENANT = '00000000-0000-0000-0000-000000000001';

export const DEFAULT_API_VERSIONS: ApiVersions = {
  compute: ['2024-11-01', '2026-03-01'],
  disk: ['2025-01-02'],
  network: ['2024-05-01', '2025-05-01'],
  skus: ['2021-07-01'],
  resources: ['2021-04-01', '2022-09-01', '2024-03-01', '2024-11-01', '2025-04-01'],
};

/** ARM's subscription token buckets (reads 250/25 per s, writes and deletes 200/10 per s). */
export const DEFAULT_THROTTLE: ThrottleConfig = {
  reads: { capacity: 250, refillPerSecond: 25 },
  writes: { capacity: 200, refillPerSecond: 10 },
  deletes: { capacity: 200, refillPerSecond: 10 },
};

export const DEFAULT_VM_SIZES: VmSizeSeed[] = [
  { name: 'Standard_B1s', numberOfCores: 1, memoryInMB: 1024, maxDataDiskCount: 2, osDiskSizeInMB: 1047552, resourceDiskSizeInMB: 4096, family: 'standardBSFamily' },
  { name: 'Standard_B1ms', numberOfCores: 1, memoryInMB: 2048, maxDataDiskCount: 2, osDiskSizeInMB: 1047552, resourceDiskSizeInMB: 4096, family: 'standardBSFamily' },
  { name: 'Standard_B2s', numberOfCores: 2, memoryInMB: 4096, maxDataDiskCount: 4, osDiskSizeInMB: 1047552, resourceDiskSizeInMB: 8192, family: 'standardBSFamily' },
  { name: 'Standard_B2ms', numberOfCores: 2, memoryInMB: 8192, maxDataDiskCount: 4, osDiskSizeInMB: 1047552, resourceDiskSizeInMB: 16384, family: 'standardBSFamily' },
  { name: 'Standard_D2s_v3', numberOfCores: 2, memoryInMB: 8192, maxDataDiskCount: 4, osDiskSizeInMB: 1047552, resourceDiskSizeInMB: 16384, family: 'standardDSv3Family' },
  { name: 'Standard_D4s_v3', numberOfCores: 4, memoryInMB: 16384, maxDataDiskCount: 8, osDiskSizeInMB: 1047552, resourceDiskSizeInMB: 32768, family: 'standardDSv3Family' },
  { name: 'Standard_D8s_v3', numberOfCores: 8, memoryInMB: 32768, maxDataDiskCount: 16, osDiskSizeInMB: 1047552, resourceDiskSizeInMB: 65536, family: 'standardDSv3Family' },
  { name: 'Standard_D2s_v5', numberOfCores: 2, memoryInMB: 8192, maxDataDiskCount: 4, osDiskSizeInMB: 1047552, resourceDiskSizeInMB: 0, family: 'standardDSv5Family' },
  { name: 'Standard_E2s_v3', numberOfCores: 2, memoryInMB: 16384, maxDataDiskCount: 4, osDiskSizeInMB: 1047552, resourceDiskSizeInMB: 32768, family: 'standardESv3Family' },
];

export const DEFAULT_MARKETPLACE_IMAGES: MarketplaceImageSeed[] = [
  { publisher: 'Canonical', offer: '0001-com-ubuntu-server-jammy', sku: '22_04-lts-gen2', versions: ['22.04.202409110', '22.04.202411190'], osType: 'Linux', hyperVGeneration: 'V2', osDiskSizeGB: 30 },
  { publisher: 'Canonical', offer: 'ubuntu-24_04-lts', sku: 'server', versions: ['24.04.202411030'], osType: 'Linux', hyperVGeneration: 'V2', osDiskSizeGB: 30 },
  { publisher: 'Debian', offer: 'debian-12', sku: '12-gen2', versions: ['0.20241111.1929'], osType: 'Linux', hyperVGeneration: 'V2', osDiskSizeGB: 30 },
  {
    publisher: 'MicrosoftWindowsServer',
    offer: 'WindowsServer',
    sku: '2022-datacenter-azure-edition',
    versions: ['20348.2762.241006', '20348.2849.241109'],
    osType: 'Windows',
    hyperVGeneration: 'V2',
    osDiskSizeGB: 127,
  },
  { publisher: 'MicrosoftWindowsServer', offer: 'WindowsServer', sku: '2019-datacenter-gensecond', versions: ['17763.6414.241004'], osType: 'Windows', hyperVGeneration: 'V2', osDiskSizeGB: 127 },
];

export function defaultSeed(): EmulatorSeed {
  return {
    resourceGroups: ['ops_resource_group'],
    virtualNetworks: [
      {
        resourceGroup: 'ops_resource_group',
        name: 'jacket-vnet',
        addressPrefixes: ['10.0.0.0/16'],
        subnets: [{ name: 'default', addressPrefix: '10.0.0.0/24' }],
      },
    ],
    networkSecurityGroups: [{ resourceGroup: 'ops_resource_group', name: 'jacket-nsg' }],
    vmSizes: DEFAULT_VM_SIZES.map((s) => ({ ...s })),
    restrictedVmSizes: ['Standard_NC6s_v3', 'Standard_M128s'],
    coresQuota: 100,
    familyQuotas: {},
    virtualMachinesQuota: 25000,
    marketplaceImages: DEFAULT_MARKETPLACE_IMAGES.map((i) => ({ ...i, versions: [...i.versions] })),
  };
}

export interface ResolvedConfig {
  host: string;
  port: number;
  subscriptionId: string;
  location: string;
  blobConnectionString: string;
  diskContainer: string;
  asyncDelayMs: number;
  seed: EmulatorSeed;
  certDir: string;
  apiVersions: ApiVersions;
  throttle: ThrottleConfig;
  log: boolean;
  nicReservationMs: number;
  validateRequests: boolean;
}

const FORBIDDEN_CONTAINERS = ['vhds', 'volumes', 'snapshots', 'images', 'backups'];

export function resolveConfig(opts: EmulatorOptions, defaultCertDir: string): ResolvedConfig {
  if (!opts.blobConnectionString) throw new Error('startEmulator: blobConnectionString is required');
  const diskContainer = opts.diskContainer ?? 'emulator-disks';
  if (FORBIDDEN_CONTAINERS.includes(diskContainer)) {
    throw new Error(`startEmulator: container ${diskContainer} belongs to Jacket; pick another diskContainer`);
  }
  const seed = { ...defaultSeed(), ...(opts.seed ?? {}) };
  return {
    host: opts.host ?? '127.0.0.1',
    port: opts.port ?? 0,
    subscriptionId: opts.subscriptionId ?? DEFAULT_SUBSCRIPTION,
    location: (opts.location ?? 'eastus').toLowerCase(),
    blobConnectionString: opts.blobConnectionString,
    diskContainer,
    asyncDelayMs: opts.asyncDelayMs ?? 0,
    seed,
    certDir: opts.certDir ?? defaultCertDir,
    apiVersions: { ...DEFAULT_API_VERSIONS, ...(opts.apiVersions ?? {}) },
    throttle: { ...DEFAULT_THROTTLE, ...(opts.throttle ?? {}) },
    log: opts.log ?? false,
    nicReservationMs: opts.nicReservationMs ?? 180_000,
    validateRequests: opts.validateRequests ?? true,
  };
}
