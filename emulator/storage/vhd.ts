// The emulator's view of the fixed VHD footer, on top of Jacket's one VHD module
// (shared/storage/vhd.ts): the emulator writes footers on the disks it makes and checks them on imports.
import { buildFixedVhdFooter, isFixedVhdFooter, parseVhdFooter, VHD_FOOTER_SIZE } from '../../shared/storage/vhd';

export const FOOTER_SIZE = VHD_FOOTER_SIZE;

/** A fixed-disk footer for `dataSizeBytes` of data, with the emulator's creator tag. */
export function vhdFooter(dataSizeBytes: number, now = new Date()): Buffer {
  return buildFixedVhdFooter({ sizeBytes: dataSizeBytes, timestamp: now, creatorApplication: 'jemu' });
}

/** True for a valid fixed-disk footer (cookie, disk type and checksum), as Azure requires of imports. */
export function isVhdFooter(buf: Buffer): boolean {
  return buf.length === FOOTER_SIZE && isFixedVhdFooter(buf);
}

/** Data size recorded in a footer (current size). */
export function footerDataSize(buf: Buffer): number {
  return parseVhdFooter(buf).currentSize;
}
