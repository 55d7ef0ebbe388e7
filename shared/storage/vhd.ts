/**
 * Fixed VHD footer: build, parse and size helpers.
 *
 * A fixed VHD is the raw disk data followed by a 512-byte footer. Azure page blobs and managed disk
 * uploads (createOption Upload) only accept fixed VHDs whose data portion is a whole number of MiB;
 * an Upload disk's uploadSizeBytes (footer included) must lie in 20 MiB + 512 .. 32 TiB + 512.
 *
 * Layout (all big-endian), see docs/vhd.md and the VHD specification:
 *   0 cookie "conectix" | 8 features | 12 format version | 16 data offset (u64) | 24 timestamp |
 *   28 creator application | 32 creator version | 36 creator host OS | 40 original size (u64) |
 *   48 current size (u64) | 56 geometry (u16 cylinders, u8 heads, u8 sectors/track) | 60 disk type |
 *   64 checksum | 68 unique id (16 bytes) | 84 saved state | 85..511 reserved (zero)
 */
import { randomUUID } from 'node:crypto';

export const VHD_FOOTER_SIZE = 512;
export const MIB = 1024 * 1024;
export const SECTOR_SIZE = 512;

export const VHD_COOKIE = 'conectix';
/** Features field: bit 1 ("reserved") must always be set. */
export const VHD_FEATURES = 0x00000002;
export const VHD_FORMAT_VERSION = 0x00010000;
/** Data offset of a fixed disk (no dynamic header). */
export const VHD_FIXED_DATA_OFFSET = 0xffffffffffffffffn;
export const VHD_DISK_TYPE_FIXED = 2;
export const VHD_DISK_TYPE_DYNAMIC = 3;
export const VHD_DISK_TYPE_DIFFERENCING = 4;
/** "Wi2k" */
export const VHD_HOST_OS_WINDOWS = 0x5769326b;
export const DEFAULT_CREATOR_APPLICATION = 'jckt';
export const DEFAULT_CREATOR_VERSION = 0x00010000;

/** Largest sector count the CHS geometry can describe (65535 cylinders, 16 heads, 255 sectors). */
export const VHD_MAX_CHS_SECTORS = 65535 * 16 * 255;
/** From this many sectors on, the geometry switches to 255 sectors per track. */
export const VHD_CHS_255_THRESHOLD = 65535 * 16 * 63;

/** Azure Upload disks: smallest and largest uploadSizeBytes, footer included. */
export const AZURE_UPLOAD_MIN_BYTES = 20 * MIB + VHD_FOOTER_SIZE;
export const AZURE_UPLOAD_MAX_BYTES = 32 * 1024 * 1024 * MIB + VHD_FOOTER_SIZE;

/** 2000-01-01T00:00:00Z (the VHD timestamp epoch) in Unix milliseconds. */
const VHD_EPOCH_MS = Date.UTC(2000, 0, 1, 0, 0, 0);

const OFF = {
  cookie: 0,
  features: 8,
  formatVersion: 12,
  dataOffset: 16,
  timestamp: 24,
  creatorApplication: 28,
  creatorVersion: 32,
  creatorHostOs: 36,
  originalSize: 40,
  currentSize: 48,
  geometry: 56,
  diskType: 60,
  checksum: 64,
  uniqueId: 68,
  savedState: 84,
} as const;

/** Byte offsets of the footer fields (exported for tests and diagnostics). */
export const VHD_FOOTER_OFFSETS: Readonly<typeof OFF> = OFF;

export interface ChsGeometry {
  cylinders: number;
  heads: number;
  sectorsPerTrack: number;
}

export interface BuildFixedVhdFooterOptions {
  /** Size of the disk data in bytes (without the footer); a positive multiple of 512. */
  sizeBytes: number;
  /** UUID string ("xxxxxxxx-xxxx-...") or 16 raw bytes; random when omitted. */
  uniqueId?: string | Buffer;
  /** Creation time; now when omitted. Must lie in 2000-01-01 .. 2136-02-07 (u32 seconds). */
  timestamp?: Date;
  /** Four ASCII characters; default 'jckt'. */
  creatorApplication?: string;
  /** u32, default 0x00010000. */
  creatorVersion?: number;
  /** u32, default 0x5769326B ("Wi2k"). */
  creatorHostOs?: number;
}

export interface VhdFooter {
  cookie: string;
  features: number;
  formatVersion: number;
  dataOffset: bigint;
  timestamp: Date;
  creatorApplication: string;
  creatorVersion: number;
  creatorHostOs: number;
  originalSize: number;
  currentSize: number;
  geometry: ChsGeometry;
  diskType: number;
  checksum: number;
  checksumValid: boolean;
  uniqueId: string;
  savedState: number;
}

function assertByteCount(name: string, value: number): void {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`${name} must be a non-negative safe integer, got ${String(value)}`);
  }
}

function assertUint32(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    throw new RangeError(`${name} must be an unsigned 32-bit integer, got ${String(value)}`);
  }
}

/** Round a byte count up to a whole number of MiB. */
export function alignToMiB(bytes: number): number {
  assertByteCount('bytes', bytes);
  const aligned = Math.ceil(bytes / MIB) * MIB;
  if (!Number.isSafeInteger(aligned)) {
    throw new RangeError(`bytes ${bytes} cannot be aligned to MiB within safe integer range`);
  }
  return aligned;
}

/** Size of the page blob (data rounded up to whole MiB, plus the 512-byte footer) for a fixed VHD. */
export function vhdBlobSize(dataBytes: number): number {
  return alignToMiB(dataBytes) + VHD_FOOTER_SIZE;
}

/**
 * Whether a blob of this size (footer included) is acceptable as an Azure Upload disk:
 * the data part is a whole number of MiB and the total lies in 20 MiB + 512 .. 32 TiB + 512.
 */
export function isValidAzureUploadSize(blobBytes: number): boolean {
  if (!Number.isSafeInteger(blobBytes)) return false;
  if (blobBytes < AZURE_UPLOAD_MIN_BYTES || blobBytes > AZURE_UPLOAD_MAX_BYTES) return false;
  return (blobBytes - VHD_FOOTER_SIZE) % MIB === 0;
}

/**
 * CHS geometry as defined by the VHD specification (Appendix "CHS calculation"), integer division
 * throughout. The sector count is capped at 65535*16*255.
 */
export function chsGeometry(sizeBytes: number): ChsGeometry {
  assertByteCount('sizeBytes', sizeBytes);
  const totalSectors = Math.min(Math.floor(sizeBytes / SECTOR_SIZE), VHD_MAX_CHS_SECTORS);
  let sectorsPerTrack: number;
  let heads: number;
  let cylinderTimesHeads: number;

  if (totalSectors >= VHD_CHS_255_THRESHOLD) {
    sectorsPerTrack = 255;
    heads = 16;
    cylinderTimesHeads = Math.floor(totalSectors / sectorsPerTrack);
  } else {
    sectorsPerTrack = 17;
    cylinderTimesHeads = Math.floor(totalSectors / sectorsPerTrack);
    heads = Math.ceil(cylinderTimesHeads / 1024);
    if (heads < 4) heads = 4;
    if (cylinderTimesHeads >= heads * 1024 || heads > 16) {
      sectorsPerTrack = 31;
      heads = 16;
      cylinderTimesHeads = Math.floor(totalSectors / sectorsPerTrack);
    }
    if (cylinderTimesHeads >= heads * 1024) {
      sectorsPerTrack = 63;
      heads = 16;
      cylinderTimesHeads = Math.floor(totalSectors / sectorsPerTrack);
    }
  }
  const cylinders = Math.floor(cylinderTimesHeads / heads);
  return { cylinders, heads, sectorsPerTrack };
}

/** One's complement of the byte sum of a 512-byte footer, skipping the checksum field (64..67). */
export function vhdFooterChecksum(footer: Buffer): number {
  assertFooterLength(footer);
  let sum = 0;
  for (let i = 0; i < VHD_FOOTER_SIZE; i++) {
    if (i >= OFF.checksum && i < OFF.checksum + 4) continue;
    sum += footer[i]!;
  }
  return ~sum >>> 0;
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** UUID string to 16 bytes in RFC 4122 (string) order, as qemu writes it. */
function uuidToBytes(uuid: string): Buffer {
  if (!UUID_RE.test(uuid)) {
    throw new TypeError(`uniqueId must be a UUID string like 01234567-89ab-cdef-0123-456789abcdef, got ${uuid}`);
  }
  return Buffer.from(uuid.replace(/-/g, ''), 'hex');
}

function bytesToUuid(bytes: Buffer): string {
  const h = bytes.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

function toVhdTimestamp(date: Date): number {
  const ms = date.getTime();
  if (!Number.isFinite(ms)) throw new RangeError('timestamp is an invalid Date');
  const seconds = Math.floor((ms - VHD_EPOCH_MS) / 1000);
  if (seconds < 0 || seconds > 0xffffffff) {
    throw new RangeError(`timestamp ${date.toISOString()} is outside the VHD range (2000-01-01 .. 2136-02-07)`);
  }
  return seconds;
}

/** Build the 512-byte footer of a fixed VHD whose data is sizeBytes long. */
export function buildFixedVhdFooter(opts: BuildFixedVhdFooterOptions): Buffer {
  const { sizeBytes } = opts;
  assertByteCount('sizeBytes', sizeBytes);
  if (sizeBytes === 0 || sizeBytes % SECTOR_SIZE !== 0) {
    throw new RangeError(`sizeBytes must be a positive multiple of ${SECTOR_SIZE}, got ${sizeBytes}`);
  }

  const creatorApplication = opts.creatorApplication ?? DEFAULT_CREATOR_APPLICATION;
  if (creatorApplication.length !== 4 || !/^[\x00-\x7f]{4}$/.test(creatorApplication)) {
    throw new RangeError(`creatorApplication must be exactly 4 ASCII characters, got ${JSON.stringify(creatorApplication)}`);
  }
  const creatorVersion = opts.creatorVersion ?? DEFAULT_CREATOR_VERSION;
  assertUint32('creatorVersion', creatorVersion);
  const creatorHostOs = opts.creatorHostOs ?? VHD_HOST_OS_WINDOWS;
  assertUint32('creatorHostOs', creatorHostOs);

  let uniqueId: Buffer;
  if (opts.uniqueId === undefined) {
    uniqueId = uuidToBytes(randomUUID());
  } else if (Buffer.isBuffer(opts.uniqueId)) {
    if (opts.uniqueId.length !== 16) {
      throw new RangeError(`uniqueId buffer must be 16 bytes, got ${opts.uniqueId.length}`);
    }
    uniqueId = opts.uniqueId;
  } else {
    uniqueId = uuidToBytes(opts.uniqueId);
  }
  const timestamp = toVhdTimestamp(opts.timestamp ?? new Date());
  const geometry = chsGeometry(sizeBytes);

  const buf = Buffer.alloc(VHD_FOOTER_SIZE); // reserved area and saved state stay zero
  buf.write(VHD_COOKIE, OFF.cookie, 'latin1');
  buf.writeUInt32BE(VHD_FEATURES, OFF.features);
  buf.writeUInt32BE(VHD_FORMAT_VERSION, OFF.formatVersion);
  buf.writeBigUInt64BE(VHD_FIXED_DATA_OFFSET, OFF.dataOffset);
  buf.writeUInt32BE(timestamp, OFF.timestamp);
  buf.write(creatorApplication, OFF.creatorApplication, 'latin1');
  buf.writeUInt32BE(creatorVersion, OFF.creatorVersion);
  buf.writeUInt32BE(creatorHostOs, OFF.creatorHostOs);
  buf.writeBigUInt64BE(BigInt(sizeBytes), OFF.originalSize);
  buf.writeBigUInt64BE(BigInt(sizeBytes), OFF.currentSize);
  buf.writeUInt16BE(geometry.cylinders, OFF.geometry);
  buf.writeUInt8(geometry.heads, OFF.geometry + 2);
  buf.writeUInt8(geometry.sectorsPerTrack, OFF.geometry + 3);
  buf.writeUInt32BE(VHD_DISK_TYPE_FIXED, OFF.diskType);
  uniqueId.copy(buf, OFF.uniqueId);
  buf.writeUInt8(0, OFF.savedState);
  buf.writeUInt32BE(vhdFooterChecksum(buf), OFF.checksum);
  return buf;
}

function assertFooterLength(buf: Buffer): void {
  if (!Buffer.isBuffer(buf) || buf.length !== VHD_FOOTER_SIZE) {
    const got = Buffer.isBuffer(buf) ? `${buf.length} bytes` : typeof buf;
    throw new Error(`VHD footer must be exactly ${VHD_FOOTER_SIZE} bytes, got ${got}`);
  }
}

function readSize(buf: Buffer, offset: number, name: string): number {
  const value = buf.readBigUInt64BE(offset);
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new Error(`VHD footer ${name} ${value} exceeds the supported range`);
  }
  return Number(value);
}

/**
 * Parse a 512-byte VHD footer (any disk type). Throws if the buffer is not 512 bytes or the cookie is
 * not "conectix"; a bad checksum is reported through checksumValid rather than thrown.
 */
export function parseVhdFooter(buf: Buffer): VhdFooter {
  assertFooterLength(buf);
  const cookie = buf.toString('latin1', OFF.cookie, OFF.cookie + 8);
  if (cookie !== VHD_COOKIE) {
    throw new Error(`not a VHD footer: cookie is ${JSON.stringify(cookie)}, expected "${VHD_COOKIE}"`);
  }
  const checksum = buf.readUInt32BE(OFF.checksum);
  return {
    cookie,
    features: buf.readUInt32BE(OFF.features),
    formatVersion: buf.readUInt32BE(OFF.formatVersion),
    dataOffset: buf.readBigUInt64BE(OFF.dataOffset),
    timestamp: new Date(VHD_EPOCH_MS + buf.readUInt32BE(OFF.timestamp) * 1000),
    creatorApplication: buf.toString('latin1', OFF.creatorApplication, OFF.creatorApplication + 4),
    creatorVersion: buf.readUInt32BE(OFF.creatorVersion),
    creatorHostOs: buf.readUInt32BE(OFF.creatorHostOs),
    originalSize: readSize(buf, OFF.originalSize, 'original size'),
    currentSize: readSize(buf, OFF.currentSize, 'current size'),
    geometry: {
      cylinders: buf.readUInt16BE(OFF.geometry),
      heads: buf.readUInt8(OFF.geometry + 2),
      sectorsPerTrack: buf.readUInt8(OFF.geometry + 3),
    },
    diskType: buf.readUInt32BE(OFF.diskType),
    checksum,
    checksumValid: checksum === vhdFooterChecksum(buf),
    uniqueId: bytesToUuid(buf.subarray(OFF.uniqueId, OFF.uniqueId + 16)),
    savedState: buf.readUInt8(OFF.savedState),
  };
}

/**
 * True when buf is a fixed VHD footer: "conectix" cookie, disk type 2 and a valid checksum.
 * A wrong cookie, type or checksum gives false; a buffer that is not 512 bytes long throws
 * (pass the last 512 bytes of the file, not the file).
 */
export function isFixedVhdFooter(buf: Buffer): boolean {
  assertFooterLength(buf);
  if (buf.toString('latin1', OFF.cookie, OFF.cookie + 8) !== VHD_COOKIE) return false;
  if (buf.readUInt32BE(OFF.diskType) !== VHD_DISK_TYPE_FIXED) return false;
  return buf.readUInt32BE(OFF.checksum) === vhdFooterChecksum(buf);
}
