// The emulator's own fixed-VHD footer code: it writes footers on the disks it makes and checks the
// footer of every VHD imported into a disk or image, as Azure does.
//
// Deliberately NOT built on the product's shared/storage/vhd.ts (the TypeScript projects forbid it:
// tsconfig.emulator.json has no reference to the app). It is written from Microsoft's "Virtual Hard
// Disk Image Format Specification" (October 2006, v1.0, "Hard Disk Footer Format" and "Appendix: CHS
// Calculation"), so a footer bug in the product is caught by the emulator rather than written and
// accepted by the same code. test/emulator/vhd.test.ts checks that both agree byte for byte.
//
// The spec, as used here: all fields big-endian; the footer is the last 512 bytes of a fixed disk;
// fields in order, with their sizes in bytes:
//   Cookie 8 ("conectix") · Features 4 (bit 0x2 "reserved" always set) · File Format Version 4
//   (0x00010000) · Data Offset 8 (no dynamic header: all ones) · Time Stamp 4 (seconds since
//   2000-01-01T00:00:00Z) · Creator Application 4 · Creator Version 4 · Creator Host OS 4 ("Wi2k")
//   · Original Size 8 · Current Size 8 (bytes of disk data) · Disk Geometry 4 (cylinders 2, heads 1,
//   sectors per track 1) · Disk Type 4 (2 = fixed) · Checksum 4 · Unique Id 16 · Saved State 1 ·
//   Reserved 427 (zero).
// Checksum: the one's complement of the sum of all footer bytes, the checksum field left out.
import { randomBytes } from 'node:crypto';

const FIELDS = [
  ['cookie', 8],
  ['features', 4],
  ['version', 4],
  ['dataOffset', 8],
  ['timeStamp', 4],
  ['creatorApp', 4],
  ['creatorVersion', 4],
  ['creatorHostOs', 4],
  ['originalSize', 8],
  ['currentSize', 8],
  ['geometry', 4],
  ['diskType', 4],
  ['checksum', 4],
  ['uniqueId', 16],
  ['savedState', 1],
  ['reserved', 427],
] as const;
type Field = (typeof FIELDS)[number][0];

/** Byte offset of each field, summed from the sizes in the spec's order. */
const AT = {} as Record<Field, number>;
let end = 0;
for (const [name, size] of FIELDS) {
  AT[name] = end;
  end += size;
}

export const FOOTER_SIZE = end; // 512
const COOKIE = Buffer.from('conectix', 'ascii');
const FIXED = 2;
const TIME_ZERO = Date.parse('2000-01-01T00:00:00Z');

/** The spec's CHS calculation, step by step (the sector count is capped at 65535 × 16 × 255). */
function geometry(dataSizeBytes: number): [cylinders: number, heads: number, sectorsPerTrack: number] {
  const sectors = Math.min(Math.trunc(dataSizeBytes / 512), 65535 * 16 * 255);
  let spt: number;
  let heads: number;
  let cth: number; // cylinders × heads
  if (sectors >= 65535 * 16 * 63) {
    spt = 255;
    heads = 16;
    cth = Math.trunc(sectors / spt);
  } else {
    spt = 17;
    cth = Math.trunc(sectors / spt);
    heads = Math.max(4, Math.trunc((cth + 1023) / 1024));
    if (cth >= heads * 1024 || heads > 16) {
      spt = 31;
      heads = 16;
      cth = Math.trunc(sectors / spt);
    }
    if (cth >= heads * 1024) {
      spt = 63;
      heads = 16;
      cth = Math.trunc(sectors / spt);
    }
  }
  return [Math.trunc(cth / heads), heads, spt];
}

function checksum(footer: Buffer): number {
  let sum = 0;
  footer.forEach((byte, i) => {
    if (i < AT.checksum || i >= AT.checksum + 4) sum += byte;
  });
  return (0xffffffff - (sum % 0x100000000)) >>> 0; // one's complement of the 32-bit sum
}

/** A fixed-disk footer for `dataSizeBytes` of data (a multiple of 512), with the emulator's creator tag "jemu". */
export function vhdFooter(dataSizeBytes: number, now = new Date(), uniqueId: Buffer = randomBytes(16)): Buffer {
  if (!Number.isSafeInteger(dataSizeBytes) || dataSizeBytes <= 0 || dataSizeBytes % 512 !== 0) {
    throw new RangeError(`a fixed VHD holds a positive whole number of 512-byte sectors, not ${dataSizeBytes} bytes`);
  }
  const f = Buffer.alloc(FOOTER_SIZE);
  COOKIE.copy(f, AT.cookie);
  f.writeUInt32BE(0x2, AT.features);
  f.writeUInt32BE(0x00010000, AT.version);
  f.fill(0xff, AT.dataOffset, AT.dataOffset + 8);
  f.writeUInt32BE(Math.floor((now.getTime() - TIME_ZERO) / 1000), AT.timeStamp);
  f.write('jemu', AT.creatorApp, 'ascii');
  f.writeUInt32BE(0x00010000, AT.creatorVersion);
  f.write('Wi2k', AT.creatorHostOs, 'ascii');
  f.writeBigUInt64BE(BigInt(dataSizeBytes), AT.originalSize);
  f.writeBigUInt64BE(BigInt(dataSizeBytes), AT.currentSize);
  const [c, h, s] = geometry(dataSizeBytes);
  f.writeUInt16BE(c, AT.geometry);
  f.writeUInt8(h, AT.geometry + 2);
  f.writeUInt8(s, AT.geometry + 3);
  f.writeUInt32BE(FIXED, AT.diskType);
  uniqueId.copy(f, AT.uniqueId, 0, 16);
  f.writeUInt32BE(checksum(f), AT.checksum);
  return f;
}

/** True for a valid fixed-disk footer (512 bytes, cookie, disk type 2, checksum), as Azure requires of imports. */
export function isVhdFooter(buf: Buffer): boolean {
  return buf.length === FOOTER_SIZE && buf.subarray(AT.cookie, AT.cookie + 8).equals(COOKIE) && buf.readUInt32BE(AT.diskType) === FIXED && buf.readUInt32BE(AT.checksum) === checksum(buf);
}

/** Data size recorded in a footer (current size). */
export function footerDataSize(buf: Buffer): number {
  return Number(buf.readBigUInt64BE(AT.currentSize));
}

/** The geometry a footer records (for tests and diagnostics). */
export function footerGeometry(buf: Buffer): { cylinders: number; heads: number; sectorsPerTrack: number } {
  return { cylinders: buf.readUInt16BE(AT.geometry), heads: buf.readUInt8(AT.geometry + 2), sectorsPerTrack: buf.readUInt8(AT.geometry + 3) };
}
