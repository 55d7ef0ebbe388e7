// Image bytes as Azure wants them: a fixed VHD page blob `image-<uuid>.vhd` in the `images` container.
// Uploads stream through in pages of at most 4 MiB (never the whole image in memory); the data is
// padded to a whole MiB and our own footer (shared/storage/vhd.ts) is written last, so a blob with a
// footer is complete. A VHD upload keeps its data and has its footer checked and, when its size is not
// a whole MiB, rebuilt for the aligned size (the original footer is kept to give back on download).
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { BlobServiceClient, type PageBlobClient } from '@azure/storage-blob';
import type { JacketConfig } from '../config';
import { blobService } from '../azure/clients';
import { alignToMiB, buildFixedVhdFooter, isFixedVhdFooter, parseVhdFooter, VHD_FOOTER_SIZE, SECTOR_SIZE } from '../storage/vhd';

export const IMAGES_CONTAINER = 'images';
/** Azure's limit for one Put Page. */
const PAGE_CHUNK = 4 * 1024 * 1024;

/** Why an upload was refused (the API turns it into a 400/413). */
export class ImageDataError extends Error {
  constructor(
    message: string,
    readonly status: 400 | 413 = 400,
  ) {
    super(message);
  }
}

export const blobNameOf = (imageId: string) => `image-${imageId}.vhd`;

const services = new WeakMap<JacketConfig, BlobServiceClient>();
function service(cfg: JacketConfig): BlobServiceClient {
  let s = services.get(cfg);
  if (!s) {
    s = blobService(cfg.storage);
    services.set(cfg, s);
  }
  return s;
}

const containersReady = new WeakMap<JacketConfig, Promise<unknown>>();
export async function imageBlob(cfg: JacketConfig, name: string): Promise<PageBlobClient> {
  const c = service(cfg).getContainerClient(IMAGES_CONTAINER);
  let ready = containersReady.get(cfg);
  if (!ready) {
    ready = c.createIfNotExists().catch((e) => {
      containersReady.delete(cfg);
      throw e;
    });
    containersReady.set(cfg, ready);
  }
  await ready;
  return c.getPageBlobClient(name);
}

export interface WrittenImage {
  /** Bytes received (Glance's size) and their digests. */
  uploadedBytes: number;
  md5: string;
  sha512: string;
  /** The disk data, without any footer. */
  dataBytes: number;
  /** Page blob length: aligned data + 512. */
  blobBytes: number;
  /** The client's own footer (base64) when it sent a VHD whose footer we had to rebuild. */
  originalFooter?: string;
}

/**
 * Streams `source` into a new page blob as a fixed VHD. `format` raw: the bytes are the disk; vhd: the
 * last 512 bytes must be a valid fixed VHD footer whose current size is the rest.
 */
export async function writeImageBlob(
  blob: PageBlobClient,
  source: AsyncIterable<Uint8Array>,
  opts: { format: 'raw' | 'vhd'; expectedBytes?: number; maxBytes: number },
): Promise<WrittenImage> {
  const md5 = createHash('md5');
  const sha512 = createHash('sha512');
  let capacity = opts.expectedBytes ? alignToMiB(opts.expectedBytes) + VHD_FOOTER_SIZE : 0;
  await blob.create(capacity);
  const grow = async (needed: number) => {
    if (needed <= capacity) return;
    capacity = alignToMiB(Math.max(needed, capacity * 2));
    await blob.resize(capacity);
  };
  let written = 0;
  let received = 0;
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  const take = (n: number): Buffer => {
    const all = Buffer.concat(pending, pendingBytes);
    pending = [all.subarray(n)];
    pendingBytes = all.length - n;
    return all.subarray(0, n);
  };
  const writePages = async (buf: Buffer) => {
    await grow(written + buf.length);
    await blob.uploadPages(buf, written, buf.length);
    written += buf.length;
  };
  for await (const chunk of source) {
    const b = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    received += b.length;
    if (received > opts.maxBytes) throw new ImageDataError('The provided image is too large.', 413);
    md5.update(b);
    sha512.update(b);
    pending.push(b);
    pendingBytes += b.length;
    // Hold back a footer's worth: for a VHD the last 512 bytes are not data.
    while (pendingBytes >= PAGE_CHUNK + VHD_FOOTER_SIZE) await writePages(take(PAGE_CHUNK));
  }
  let rest = take(pendingBytes);
  let clientFooter: Buffer | undefined;
  if (opts.format === 'vhd') {
    if (received < VHD_FOOTER_SIZE * 2) throw new ImageDataError('The image data is not a VHD: it is shorter than a VHD footer and one sector.');
    clientFooter = Buffer.from(rest.subarray(rest.length - VHD_FOOTER_SIZE));
    rest = rest.subarray(0, rest.length - VHD_FOOTER_SIZE);
    if (!isFixedVhdFooter(clientFooter)) {
      throw new ImageDataError('The image data is not a fixed VHD (no valid fixed-disk footer at its end). Convert it with: qemu-img convert -O vpc -o subformat=fixed,force_size');
    }
    const f = parseVhdFooter(clientFooter);
    if (f.currentSize !== written + rest.length) {
      throw new ImageDataError(`The VHD footer gives a disk size of ${f.currentSize} bytes but ${written + rest.length} bytes of data were sent.`);
    }
  }
  const dataBytes = written + rest.length;
  if (dataBytes === 0) throw new ImageDataError('The image data is empty.');
  if (rest.length > 0) {
    // Pages are 512-aligned: pad the last one with zeros (the blob's unwritten pages read as zeros too).
    const padded = Buffer.alloc(Math.ceil(rest.length / SECTOR_SIZE) * SECTOR_SIZE);
    rest.copy(padded);
    await writePages(padded);
  }
  const aligned = alignToMiB(dataBytes);
  const blobBytes = aligned + VHD_FOOTER_SIZE;
  if (capacity !== blobBytes) {
    await blob.resize(blobBytes);
    capacity = blobBytes;
  }
  const keepClientFooter = clientFooter !== undefined && aligned === dataBytes;
  const footer = keepClientFooter
    ? clientFooter!
    : buildFixedVhdFooter({ sizeBytes: aligned, ...(clientFooter ? { uniqueId: parseVhdFooter(clientFooter).uniqueId } : {}) });
  await blob.uploadPages(footer, aligned, VHD_FOOTER_SIZE);
  return {
    uploadedBytes: received,
    md5: md5.digest('hex'),
    sha512: sha512.digest('hex'),
    dataBytes,
    blobBytes,
    ...(clientFooter && !keepClientFooter ? { originalFooter: clientFooter.toString('base64') } : {}),
  };
}

/**
 * The image as it was uploaded: the data (raw), or the data and the VHD footer (vhd; the client's own
 * footer if we rebuilt it). Streams from the blob.
 */
export async function readImageBlob(blob: PageBlobClient, b: { dataBytes: number; blobBytes: number; originalFooter?: string }, format: string | null): Promise<Readable> {
  if (format === 'vhd' && !b.originalFooter && b.blobBytes === b.dataBytes + VHD_FOOTER_SIZE) {
    return (await blob.download(0, b.blobBytes)).readableStreamBody as Readable;
  }
  const data = (await blob.download(0, b.dataBytes)).readableStreamBody as Readable;
  if (format !== 'vhd') return data;
  const footer = b.originalFooter ? Buffer.from(b.originalFooter, 'base64') : (await blob.downloadToBuffer(b.blobBytes - VHD_FOOTER_SIZE, VHD_FOOTER_SIZE));
  return Readable.from(
    (async function* () {
      for await (const c of data) yield c as Buffer;
      yield footer;
    })(),
  );
}

/** Removes the blob; true when it was there. */
export async function deleteImageBlob(blob: PageBlobClient): Promise<boolean> {
  return (await blob.deleteIfExists({ deleteSnapshots: 'include' })).succeeded;
}
