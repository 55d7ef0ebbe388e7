/** Fixed VHD footer (512 bytes, big-endian), as the VHD specification and Azure expect. */
import { randomBytes } from 'node:crypto';

export const FOOTER_SIZE = 512;

export function chsGeometry(sizeBytes: number): { cylinders: number; heads: number; sectorsPerTrack: number } {
  let totalSectors = Math.floor(sizeBytes / 512);
  if (totalSectors > 65535 * 16 * 255) totalSectors = 65535 * 16 * 255;
  let sectorsPerTrack: number;
  let heads: number;
  let cylinderTimesHeads: number;
  if (totalSectors >= 65535 * 16 * 63) {
    sectorsPerTrack = 255;
    heads = 16;
    cylinderTimesHeads = Math.floor(totalSectors / sectorsPerTrack);
  } else {
    sectorsPerTrack = 17;
    cylinderTimesHeads = Math.floor(totalSectors / sectorsPerTrack);
    heads = Math.floor((cylinderTimesHeads + 1023) / 1024);
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
  return { cylinders: Math.floor(cylinderTimesHeads / heads), heads, sectorsPerTrack };
}

export function vhdFooter(dataSizeBytes: number, now = new Date()): Buffer {
  const f = Buffer.alloc(FOOTER_SIZE);
  f.write('conectix', 0, 'ascii');
  f.writeUInt32BE(0x00000002, 8);
  f.writeUInt32BE(0x00010000, 12);
  f.writeBigUInt64BE(0xffffffffffffffffn, 16);
  f.writeUInt32BE(Math.max(0, Math.floor((now.getTime() - Date.UTC(2000, 0, 1)) / 1000)) >>> 0, 24);
  f.write('jemu', 28, 'ascii');
  f.writeUInt32BE(0x000a0000, 32);
  f.writeUInt32BE(0x5769326b, 36);
  f.writeBigUInt64BE(BigInt(dataSizeBytes), 40);
  f.writeBigUInt64BE(BigInt(dataSizeBytes), 48);
  const g = chsGeometry(dataSizeBytes);
  f.writeUInt16BE(g.cylinders, 56);
  f.writeUInt8(g.heads, 58);
  f.writeUInt8(g.sectorsPerTrack, 59);
  f.writeUInt32BE(2, 60);
  randomBytes(16).copy(f, 68);
  f.writeUInt8(0, 84);
  let sum = 0;
  for (let i = 0; i < FOOTER_SIZE; i++) sum += f[i];
  f.writeUInt32BE(~sum >>> 0, 64);
  return f;
}

export function isVhdFooter(buf: Buffer): boolean {
  return buf.length >= 8 && buf.subarray(0, 8).toString('ascii') === 'conectix';
}

/** Data size recorded in a footer (current size). */
export function footerDataSize(buf: Buffer): number {
  return Number(buf.readBigUInt64BE(48));
}
