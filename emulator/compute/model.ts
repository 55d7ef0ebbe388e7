/** Stored shapes of the Microsoft.Compute resources. */
import type { StoredResource } from '../state';

export type PowerState = 'starting' | 'running' | 'stopping' | 'stopped' | 'deallocating' | 'deallocated';

export interface DiskAccess {
  access: 'Read' | 'Write';
  /** Read: blob snapshot whose SAS was handed out. Write: staging blob the client writes. */
  snapshot?: string;
  staging?: string;
  url: string;
}

export interface DiskRecord extends StoredResource {
  kind: 'disk' | 'snapshot';
  location: string;
  tags?: Record<string, string>;
  zones?: string[];
  sku: string;
  osType?: 'Linux' | 'Windows';
  hyperVGeneration?: 'V1' | 'V2';
  creationData: any;
  diskSizeGB: number;
  /** Bytes of data (the blob holds these plus a 512-byte VHD footer). */
  dataBytes: number;
  uniqueId: string;
  timeCreated: string;
  provisioningState: string;
  /** VM id when attached (disks only); for a shared disk, the first of `managedByExtended`. */
  managedBy?: string;
  /** Shared disks (maxShares > 1): every VM the disk is attached to (DiskRP.json managedByExtended). */
  managedByExtended?: string[];
  /** DiskRP.json maxShares: how many VMs may attach the disk at once (absent: 1, not shared). */
  maxShares?: number;
  blobName: string;
  access?: DiskAccess;
  /** Upload disks stay ReadyToUpload until their first write-access is revoked. */
  awaitingUpload?: boolean;
  incremental?: boolean;
  incrementalSnapshotFamilyId?: string;
  networkAccessPolicy: string;
  publicNetworkAccess: string;
  supportedCapabilities?: any;
  /** Provisioned performance (Premium SSD v2 and Ultra disks only): diskIOPSReadWrite, diskMBpsReadWrite. */
  iops?: number;
  mbps?: number;
  /** Generalized images' disks: the disk was made from an image that was generalized. */
}

export interface VmDiskRef {
  lun?: number;
  name: string;
  diskId: string;
  createOption: string;
  caching: string;
  storageAccountType: string;
  deleteOption: 'Delete' | 'Detach';
  diskSizeGB: number;
  toBeDetached?: boolean;
  writeAcceleratorEnabled?: boolean;
}

export interface VmNicRef {
  id: string;
  primary: boolean;
  deleteOption: 'Delete' | 'Detach';
}

export interface ImageRef {
  /** Marketplace */
  publisher?: string;
  offer?: string;
  sku?: string;
  version?: string;
  exactVersion?: string;
  /** Managed image */
  id?: string;
}

export interface VmRecord extends StoredResource {
  location: string;
  tags?: Record<string, string>;
  zones?: string[];
  vmId: string;
  vmSize: string;
  osType: 'Linux' | 'Windows';
  hyperVGeneration: 'V1' | 'V2';
  imageReference?: ImageRef;
  osDisk: VmDiskRef;
  dataDisks: VmDiskRef[];
  osProfile?: any;
  /** Never returned by GET, as in Azure. */
  secrets: { adminPassword?: string; customData?: string };
  /** Guest accounts as changed by VMAccess extensions: username -> what was set. */
  guestUsers: Record<string, { password?: boolean; sshKeys: string[] }>;
  nics: VmNicRef[];
  bootDiagnostics?: { enabled: boolean; storageUri?: string };
  additionalCapabilities?: any;
  securityProfile?: any;
  priority?: string;
  licenseType?: string;
  userData?: string;
  provisioningState: string;
  provisioningError?: { code: string; message: string };
  /** ARM ids of its availability set / proximity placement group (set at creation only), and its domains in the set. */
  availabilitySet?: string;
  proximityPlacementGroup?: string;
  platformFaultDomain?: number;
  platformUpdateDomain?: number;
  powerState: PowerState;
  hibernated: boolean;
  generalized: boolean;
  timeCreated: string;
  /** Serial log blob name. */
  serialLogBlob: string;
  screenshotBlob: string;
  bootCount: number;
}

export interface ExtensionRecord extends StoredResource {
  vmId: string;
  location: string;
  tags?: Record<string, string>;
  publisher: string;
  extType: string;
  typeHandlerVersion: string;
  autoUpgradeMinorVersion?: boolean;
  enableAutomaticUpgrade?: boolean;
  settings?: any;
  provisioningState: string;
  statusMessage?: string;
  forceUpdateTag?: string;
}

export interface ImageDisk {
  lun?: number;
  blobName: string;
  diskSizeGB: number;
  source: { managedDisk?: string; snapshot?: string; blobUri?: string };
  storageAccountType?: string;
  caching?: string;
}

export interface ImageRecord extends StoredResource {
  location: string;
  tags?: Record<string, string>;
  uniqueId: string;
  sourceVirtualMachine?: string;
  osType: 'Linux' | 'Windows';
  osState: 'Generalized' | 'Specialized';
  hyperVGeneration: 'V1' | 'V2';
  osDisk: ImageDisk;
  dataDisks: ImageDisk[];
  zoneResilient: boolean;
  provisioningState: string;
}

export interface AvailabilitySetRecord extends StoredResource {
  location: string;
  tags?: Record<string, string>;
  sku: 'Aligned' | 'Classic';
  platformFaultDomainCount: number;
  platformUpdateDomainCount: number;
  proximityPlacementGroup?: string;
}

export interface ProximityPlacementGroupRecord extends StoredResource {
  location: string;
  tags?: Record<string, string>;
  proximityPlacementGroupType: string;
}
