// Moving a disk's bytes out of Azure and into Jacket's own page blobs (backups and uploaded images):
// the disk or snapshot is exported with a read SAS (grant access), its written page ranges are read in
// Put Page sized windows (4 MiB) and written to a page blob sized data + 512 that ends with a fixed VHD
// footer (shared/storage/vhd.ts) — a file Azure can Import as a disk again.
//
// Backups copy in chunks (Cinder's chunked backup driver, cinder/backup/chunkeddriver.py): one call
// copies the next chunk of config.work.copyChunkBytes that holds data and returns the offset after
// it, which the caller records; a retried or resumed step starts again from the last offset recorded,
// so no invocation ever copies more than one chunk and a killed worker loses at most one chunk. Chunks
// holding no data are skipped. The footer is written last (writeFooter): a blob with a footer is whole.
//
// Incremental copies: Azurite answers 501 to a page-range diff (azure-facts.md), so the changed ranges
// are found by comparison instead. The new blob starts as a server-side copy of the parent's blob
// (through a throwaway snapshot of it); then every 4 MiB window that holds data in the disk or in the
// parent is read from both, and only the 512-byte sectors that differ are written (or cleared, where
// the disk now reads zeros).
import { createHash } from 'node:crypto';
import type { PageBlobClient, BlobServiceClient } from '@azure/storage-blob';
import { blobSdk } from './clients';
import { absentOn404 } from './errors';
import { buildFixedVhdFooter, SECTOR_SIZE, VHD_FOOTER_SIZE } from '../storage/vhd';

/** Azure's limit for one Put Page, and the window the comparison reads. */
export const WINDOW = 4 * 1024 * 1024;

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

/** WINDOW-aligned windows covering the ranges. */
export function windowsOf(ranges: Range[]): Range[] {
  const out: Range[] = [];
  for (const r of ranges) {
    for (let a = Math.floor(r.start / WINDOW) * WINDOW; a < r.end; a += WINDOW) {
      const last = out[out.length - 1];
      if (last && last.start === a) continue;
      out.push({ start: a, end: a + WINDOW });
    }
  }
  return out;
}

/**
 * The next chunk to copy: the first chunkBytes-aligned span at or after `from` that overlaps a range
 * holding data, clipped to `limit`; undefined when no data is left.
 */
export function nextChunk(ranges: Range[], from: number, chunkBytes: number, limit: number): Range | undefined {
  const first = mergeRanges(ranges, limit).find((r) => r.end > from);
  if (!first) return undefined;
  const start = Math.max(from, Math.floor(Math.max(first.start, from) / chunkBytes) * chunkBytes);
  return { start, end: Math.min(limit, Math.floor(start / chunkBytes) * chunkBytes + chunkBytes) };
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

/** The written page ranges of a blob within [from, limit) (a disk's export SAS is a page blob URL); all of it if not listed. */
async function writtenRanges(blob: PageBlobClient, limit: number, from = 0): Promise<Range[]> {
  if (from >= limit) return [];
  try {
    const r = await blob.getPageRanges(from, limit - from);
    return mergeRanges(
      (r.pageRange ?? []).map((p) => ({ start: p.offset, end: p.offset + (p.count ?? limit - p.offset) })),
      limit,
    );
  } catch {
    return [{ start: from, end: limit }];
  }
}

async function read(blob: PageBlobClient, r: Range, limit: number): Promise<Buffer> {
  const end = Math.min(r.end, limit);
  const buf = Buffer.alloc(r.end - r.start);
  if (end > r.start) (await blob.downloadToBuffer(r.start, end - r.start)).copy(buf);
  return buf;
}

const overlaps = (w: Range, rs: Range[]) => rs.some((r) => r.start < w.end && r.end > w.start);

/** Where Jacket keeps a blob: a container of its storage account and the blob's name. */
export interface BlobRef {
  container: string;
  name: string;
}

/** What a copy has done so far: recorded by the caller after each chunk, handed back on the next. */
export interface CopyProgress {
  /** The offset the next chunk starts at or after. */
  next: number;
  /** Bytes read from the disk, and written to the target (only the differences for an incremental). */
  copiedBytes: number;
  changedBytes: number;
  /** Chunks copied (a resumed copy does not count the chunks before its offset again). */
  chunks: number;
}

export interface ChunkedCopy {
  /** The export SAS of the disk or snapshot. */
  sasUrl: string;
  target: BlobRef;
  /** The disk's data size in bytes (its GiB size). */
  dataBytes: number;
  chunkBytes: number;
  /** The parent backup's blob, for an incremental copy. */
  parent?: BlobRef;
}

export interface CopyResult {
  copiedBytes: number;
  changedBytes: number;
  md5?: string;
  sha512?: string;
}

/** The chunked disk-to-blob copy and the blob operations around it, bound to one Blob service client. */
export function diskCopier(blobs: () => BlobServiceClient) {
  const ready = new Map<string, Promise<unknown>>();
  /** A page blob of Jacket's storage account; its container is created on first use. */
  const pageBlob = async (ref: BlobRef): Promise<PageBlobClient> => {
    const c = blobs().getContainerClient(ref.container);
    let r = ready.get(ref.container);
    if (!r) {
      r = c.createIfNotExists().catch((e) => {
        ready.delete(ref.container);
        throw e;
      });
      ready.set(ref.container, r);
    }
    await r;
    return c.getPageBlobClient(ref.name);
  };
  const sourceOf = (sasUrl: string) => {
    const { PageBlobClient, AnonymousCredential } = blobSdk();
    return new PageBlobClient(sasUrl, new AnonymousCredential());
  };

  /** Copies the windows of `span` that hold data in the source (or the parent) into the target. */
  async function copyWindows(
    source: PageBlobClient,
    target: PageBlobClient,
    parent: PageBlobClient | undefined,
    limit: number,
    srcRanges: Range[],
    parentRanges: Range[],
    onData?: (offset: number, data: Buffer) => void,
  ) {
    let copied = 0;
    let changed = 0;
    const windows = windowsOf(mergeRanges([...srcRanges, ...parentRanges], limit)).map((w) => ({ start: w.start, end: Math.min(w.end, limit) }));
    for (const w of windows) {
      const inSource = overlaps(w, srcRanges);
      const next = inSource ? await read(source, w, limit) : Buffer.alloc(w.end - w.start);
      if (inSource) copied += next.length;
      onData?.(w.start, next);
      if (!parent) {
        if (inSource) {
          await target.uploadPages(next, w.start, next.length);
          changed += next.length;
        }
        continue;
      }
      const prev = overlaps(w, parentRanges) ? await read(parent, w, limit) : Buffer.alloc(w.end - w.start);
      for (const run of changedRuns(prev, next)) {
        if (run.op === 'write') await target.uploadPages(next.subarray(run.start, run.end), w.start + run.start, run.end - run.start);
        else await target.clearPages(w.start + run.start, run.end - run.start);
        changed += run.end - run.start;
      }
    }
    return { copied, changed };
  }

  /**
   * The target, created (or overwritten: a copy that starts over starts clean) with room for the
   * footer; for an incremental, a server-side copy of the parent's blob.
   */
  async function prepare(target: BlobRef, dataBytes: number, metadata: Record<string, string>, parentRef?: BlobRef): Promise<void> {
    const t = await pageBlob(target);
    if (!parentRef) {
      await t.create(dataBytes + VHD_FOOTER_SIZE, { metadata });
      return;
    }
    // Copy from a snapshot of the parent, deleted once the copy is done: a stable source for Azure,
    // and Azurite's copies share the source's page list (a later Put Page on the copy would show in
    // the source), which the throwaway snapshot absorbs instead of the parent.
    const parent = await pageBlob(parentRef);
    const snap = (await parent.createSnapshot()).snapshot!;
    const from = parent.withSnapshot(snap);
    try {
      const poller = await t.beginCopyFromURL(from.url);
      await poller.pollUntilDone();
    } finally {
      await from.delete().catch(() => undefined);
    }
    await t.setMetadata(metadata);
    const props = await t.getProperties();
    if (props.contentLength !== dataBytes + VHD_FOOTER_SIZE) await t.resize(dataBytes + VHD_FOOTER_SIZE);
  }

  return {
    pageBlob,
    prepare,
    /** The blob's URL in Jacket's storage account (what a disk Import names as its source). */
    blobUrl: (ref: BlobRef) => blobs().getContainerClient(ref.container).getPageBlobClient(ref.name).url,
    /** Deletes a blob; a missing blob or container (a copy that never started) is already gone. */
    async deleteBlob(ref: BlobRef): Promise<void> {
      await absentOn404(() => blobs().getContainerClient(ref.container).getPageBlobClient(ref.name).delete());
    },

    /**
     * Copies the next chunk holding data at or after progress.next; answers the progress after it,
     * or done when no data is left (then the footer goes: writeFooter).
     */
    async copyChunk(c: ChunkedCopy, progress: CopyProgress): Promise<{ progress: CopyProgress; done: boolean }> {
      const source = sourceOf(c.sasUrl);
      const parent = c.parent ? await pageBlob(c.parent) : undefined;
      // One listing of what is left decides the chunk and what in it to read.
      const srcLeft = await writtenRanges(source, c.dataBytes, progress.next);
      const parentLeft = parent ? await writtenRanges(parent, c.dataBytes, progress.next) : [];
      const chunk = nextChunk([...srcLeft, ...parentLeft], progress.next, c.chunkBytes, c.dataBytes);
      if (!chunk) return { progress: { ...progress, next: c.dataBytes }, done: true };
      const inChunk = (rs: Range[]) =>
        mergeRanges(rs, chunk.end)
          .filter((r) => r.end > chunk.start)
          .map((r) => ({ start: Math.max(r.start, chunk.start), end: r.end }));
      const srcRanges = inChunk(srcLeft);
      const parentRanges = inChunk(parentLeft);
      const r = await copyWindows(source, await pageBlob(c.target), parent, chunk.end, srcRanges, parentRanges);
      const next = { next: chunk.end, copiedBytes: progress.copiedBytes + r.copied, changedBytes: progress.changedBytes + r.changed, chunks: progress.chunks + 1 };
      return { progress: next, done: chunk.end >= c.dataBytes };
    },

    async writeFooter(target: BlobRef, dataBytes: number): Promise<void> {
      const footer = buildFixedVhdFooter({ sizeBytes: dataBytes });
      await (await pageBlob(target)).uploadPages(footer, dataBytes, VHD_FOOTER_SIZE);
    },

    /**
     * The whole copy in one call, hashing the bytes as Glance would see them (md5, sha512): the data
     * (raw), or data and footer (vhd). Used by upload-to-image, whose checksums need the bytes in order.
     */
    async copyWhole(sasUrl: string, target: BlobRef, dataBytes: number, metadata: Record<string, string>, hash: 'raw' | 'vhd'): Promise<CopyResult> {
      const source = sourceOf(sasUrl);
      await prepare(target, dataBytes, metadata);
      const md5 = createHash('md5');
      const sha512 = createHash('sha512');
      let hashed = 0;
      const hashUpTo = (end: number, data?: Buffer) => {
        // Gaps between windows are zeros on the disk: hash them as such.
        while (hashed < end) {
          const n = Math.min(WINDOW, end - hashed);
          const zeros = Buffer.alloc(n);
          md5.update(zeros);
          sha512.update(zeros);
          hashed += n;
        }
        if (data) {
          md5.update(data);
          sha512.update(data);
          hashed += data.length;
        }
      };
      const srcRanges = await writtenRanges(source, dataBytes);
      const r = await copyWindows(source, await pageBlob(target), undefined, dataBytes, srcRanges, [], (offset, data) => hashUpTo(offset, data));
      const footer = buildFixedVhdFooter({ sizeBytes: dataBytes });
      hashUpTo(dataBytes, hash === 'vhd' ? footer : undefined);
      await (await pageBlob(target)).uploadPages(footer, dataBytes, VHD_FOOTER_SIZE);
      return { copiedBytes: r.copied, changedBytes: r.changed, md5: md5.digest('hex'), sha512: sha512.digest('hex') };
    },
  };
}

export type DiskCopier = ReturnType<typeof diskCopier>;
