// Moving a volume's bytes out of Azure's disk and into Jacket's own page blobs (backups and uploaded
// images): the disk is exported with a read SAS (grant access), its written page ranges are read in
// Put Page sized chunks and written to a page blob sized data + 512 that ends with a fixed VHD footer
// (shared/storage/vhd.ts) — a file Azure can Import as a disk again.
// Incremental copies: Azurite answers 501 to a page-range diff (azure-facts.md), so the changed ranges
// are found by comparison instead. The new blob starts as a server-side copy of the parent's blob
// (through a throwaway snapshot of it); then
// every 4 MiB window that holds data in the disk or in the parent is read from both, and only the
// 512-byte sectors that differ are written (or cleared, where the disk now reads zeros).
import { createHash } from 'node:crypto';
import { BlobServiceClient, PageBlobClient, AnonymousCredential } from '@azure/storage-blob';
import type { JacketConfig } from '../config';
import { blobService } from '../azure/clients';
import { buildFixedVhdFooter, SECTOR_SIZE, VHD_FOOTER_SIZE } from '../storage/vhd';

export const BACKUPS_CONTAINER = 'backups';
export const backupBlobName = (backupId: string) => `backup-${backupId}.vhd`;
/** Azure's limit for one Put Page, and the window the comparison reads. */
export const CHUNK = 4 * 1024 * 1024;

const services = new WeakMap<JacketConfig, BlobServiceClient>();
const ready = new WeakMap<JacketConfig, Promise<unknown>>();

/** A page blob in the backups container (created on first use). */
export async function backupBlob(cfg: JacketConfig, name: string): Promise<PageBlobClient> {
  let s = services.get(cfg);
  if (!s) {
    s = blobService(cfg.storage);
    services.set(cfg, s);
  }
  const c = s.getContainerClient(BACKUPS_CONTAINER);
  let r = ready.get(cfg);
  if (!r) {
    r = c.createIfNotExists().catch((e) => {
      ready.delete(cfg);
      throw e;
    });
    ready.set(cfg, r);
  }
  await r;
  return c.getPageBlobClient(name);
}

export interface Range {
  start: number;
  /** exclusive */
  end: number;
}

/** Sorted, merged ranges clipped to [0, limit). */
export function mergeRanges(ranges: Range[], limit: number): Range[] {
  const sorted = ranges
    .map((r) => ({ start: Math.max(0, r.start), end: Math.min(limit, r.end) }))
    .filter((r) => r.end > r.start)
    .sort((a, b) => a.start - b.start);
  const out: Range[] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last && r.start <= last.end) last.end = Math.max(last.end, r.end);
    else out.push({ ...r });
  }
  return out;
}

/** CHUNK-aligned windows covering the ranges. */
export function windowsOf(ranges: Range[]): Range[] {
  const out: Range[] = [];
  for (const r of ranges) {
    for (let a = Math.floor(r.start / CHUNK) * CHUNK; a < r.end; a += CHUNK) {
      const last = out[out.length - 1];
      if (last && last.start === a) continue;
      out.push({ start: a, end: a + CHUNK });
    }
  }
  return out;
}

/**
 * Runs of 512-byte sectors where `next` differs from `prev`: 'write' (new data) or 'clear' (the
 * sector now reads zeros). Offsets are relative to the buffers.
 */
export function changedRuns(prev: Buffer, next: Buffer): { op: 'write' | 'clear'; start: number; end: number }[] {
  const out: { op: 'write' | 'clear'; start: number; end: number }[] = [];
  const zero = Buffer.alloc(SECTOR_SIZE);
  for (let o = 0; o < next.length; o += SECTOR_SIZE) {
    const a = prev.subarray(o, o + SECTOR_SIZE);
    const b = next.subarray(o, o + SECTOR_SIZE);
    if (a.equals(b)) continue;
    const op = b.equals(zero.subarray(0, b.length)) ? 'clear' : 'write';
    const last = out[out.length - 1];
    if (last && last.op === op && last.end === o) last.end = o + b.length;
    else out.push({ op, start: o, end: o + b.length });
  }
  return out;
}

/** The written page ranges of a blob (a disk's export SAS is a page blob URL); all of it if not listed. */
async function writtenRanges(blob: PageBlobClient, dataBytes: number): Promise<Range[]> {
  try {
    const r = await blob.getPageRanges(0, dataBytes);
    return mergeRanges((r.pageRange ?? []).map((p) => ({ start: p.offset, end: p.offset + (p.count ?? dataBytes - p.offset) })), dataBytes);
  } catch {
    return [{ start: 0, end: dataBytes }];
  }
}

async function read(blob: PageBlobClient, r: Range, limit: number): Promise<Buffer> {
  const end = Math.min(r.end, limit);
  const buf = Buffer.alloc(r.end - r.start);
  if (end > r.start) (await blob.downloadToBuffer(r.start, end - r.start)).copy(buf);
  return buf;
}

const overlaps = (w: Range, rs: Range[]) => rs.some((r) => r.start < w.end && r.end > w.start);

export interface CopyResult {
  /** Bytes read from the disk. */
  copiedBytes: number;
  /** Bytes written to the target (all data for a full copy, only the differences for an incremental). */
  changedBytes: number;
  md5?: string;
  sha512?: string;
}

export interface CopyOptions {
  /** The disk's data size in bytes (its GiB size). */
  dataBytes: number;
  /** Blob metadata naming the record that owns the blob (the sweep's proof). */
  metadata: Record<string, string>;
  /** The parent backup's blob: copy it server-side first, then write only what differs. */
  parent?: PageBlobClient;
  /** Hash the bytes as Glance would see them (md5, sha512) for an image: the data (raw), or data and footer (vhd). */
  hash?: 'raw' | 'vhd';
}

/**
 * Copies the disk behind `sasUrl` into `target` (created or overwritten, so a retried step starts
 * again cleanly) and writes the fixed VHD footer last: a blob with a footer is complete.
 */
export async function copyDiskToBlob(sasUrl: string, target: PageBlobClient, o: CopyOptions): Promise<CopyResult> {
  const source = new PageBlobClient(sasUrl, new AnonymousCredential());
  const size = o.dataBytes;
  const srcRanges = await writtenRanges(source, size);
  let parentRanges: Range[] = [];
  if (o.parent) {
    // Copy from a snapshot of the parent, deleted once the copy is done: a stable source for Azure,
    // and Azurite's copies share the source's page list (a later Put Page on the copy would show in
    // the source), which the throwaway snapshot absorbs instead of the parent.
    const snap = (await o.parent.createSnapshot()).snapshot!;
    const from = o.parent.withSnapshot(snap);
    try {
      const poller = await target.beginCopyFromURL(from.url);
      await poller.pollUntilDone();
    } finally {
      await from.delete().catch(() => undefined);
    }
    await target.setMetadata(o.metadata);
    const props = await target.getProperties();
    if (props.contentLength !== size + VHD_FOOTER_SIZE) await target.resize(size + VHD_FOOTER_SIZE);
    parentRanges = await writtenRanges(o.parent, size);
  } else {
    await target.create(size + VHD_FOOTER_SIZE, { metadata: o.metadata });
  }
  const md5 = o.hash ? createHash('md5') : undefined;
  const sha512 = o.hash ? createHash('sha512') : undefined;
  let copied = 0;
  let changed = 0;
  let hashed = 0;
  const hashUpTo = (end: number, data?: Buffer) => {
    // Gaps between windows are zeros on the disk: hash them as such.
    while (hashed < end) {
      const n = Math.min(CHUNK, end - hashed);
      const zeros = Buffer.alloc(n);
      md5?.update(zeros);
      sha512?.update(zeros);
      hashed += n;
    }
    if (data) {
      md5?.update(data);
      sha512?.update(data);
      hashed += data.length;
    }
  };
  const windows = windowsOf(mergeRanges([...srcRanges, ...parentRanges], size)).map((w) => ({ start: w.start, end: Math.min(w.end, size) }));
  for (const w of windows) {
    const next = overlaps(w, srcRanges) ? await read(source, w, size) : Buffer.alloc(w.end - w.start);
    if (overlaps(w, srcRanges)) copied += next.length;
    if (o.hash) hashUpTo(w.start, next);
    if (!o.parent) {
      if (overlaps(w, srcRanges)) {
        await target.uploadPages(next, w.start, next.length);
        changed += next.length;
      }
      continue;
    }
    const prev = overlaps(w, parentRanges) ? await read(o.parent, w, size) : Buffer.alloc(w.end - w.start);
    for (const run of changedRuns(prev, next)) {
      if (run.op === 'write') await target.uploadPages(next.subarray(run.start, run.end), w.start + run.start, run.end - run.start);
      else await target.clearPages(w.start + run.start, run.end - run.start);
      changed += run.end - run.start;
    }
  }
  const footer = buildFixedVhdFooter({ sizeBytes: size });
  if (o.hash) hashUpTo(size, o.hash === 'vhd' ? footer : undefined);
  await target.uploadPages(footer, size, VHD_FOOTER_SIZE);
  return { copiedBytes: copied, changedBytes: changed, ...(o.hash ? { md5: md5!.digest('hex'), sha512: sha512!.digest('hex') } : {}) };
}
