// Jacket's page blobs in its storage account. Images: a fixed VHD page blob `image-<uuid>.vhd` in the
// `images` container, streamed in on upload (pages of at most 4 MiB, never the whole image in memory;
// the data padded to a whole MiB and our own footer (shared/storage/vhd.ts) written last, so a blob with
// a footer is complete; a VHD upload keeps its data and has its footer checked and, when its size is
// not a whole MiB, rebuilt for the aligned size, the original kept to give back on download), streamed
// out on download, deleted with the image. The blob sweep (shared/timers/blobs.ts) lists Jacket's
// containers, re-reads a candidate's properties and deletes it on the ETag it read.
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { PageBlobClient } from '@azure/storage-blob';
import type { DriverContext } from './context';
import { absentOn404, azureFailure } from './errors';
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

/** What the blob sweep needs of a blob (from the listing or a fresh properties read). */
export interface BlobState {
  name: string;
  blobType?: string;
  leaseState?: string;
  metadata?: Record<string, string>;
  etag?: string;
}

/** Where an image's bytes are, as the image record keeps it. */
export interface StoredImageBlob {
  dataBytes: number;
  blobBytes: number;
  originalFooter?: string;
}

export interface BlobDriver {
  /** The image's page blob client (the `images` container is made on first use). */
  imageBlob(name: string): Promise<PageBlobClient>;
  /**
   * Streams `source` into a new page blob as a fixed VHD. `format` raw: the bytes are the disk; vhd: the
   * last 512 bytes must be a valid fixed VHD footer whose current size is the rest.
   */
  uploadImage(name: string, source: AsyncIterable<Uint8Array>, opts: { format: 'raw' | 'vhd'; expectedBytes?: number; maxBytes: number }): Promise<WrittenImage>;
  /** The image as it was uploaded: the data (raw), or the data and the VHD footer (vhd). */
  downloadImage(name: string, b: StoredImageBlob, format: string | null): Promise<Readable>;
  /** Removes the image blob; true when it was there. */
  deleteImage(name: string): Promise<boolean>;
  /** Every blob of a container with its metadata (nothing when the container does not exist). */
  list(container: string): AsyncIterable<BlobState>;
  /** A blob's current properties, or undefined when it is gone. */
  state(container: string, name: string): Promise<BlobState | undefined>;
  /** Deletes the blob only if its ETag is still `etag`: 'changed' when it was rewritten, 'gone' when absent. */
  deleteIfUnchanged(container: string, name: string, etag: string | undefined): Promise<'deleted' | 'gone' | 'changed'>;
}

/** The `images` container is created once per storage account client. */
const containersReady = new WeakMap<object, Promise<unknown>>();

export function blobDriver(ctx: DriverContext): BlobDriver {
  const service = () => ctx.clients().blobs;
  const container = (name: string) => service().getContainerClient(name);
  async function imageBlob(name: string): Promise<PageBlobClient> {
    const svc = service();
    const c = svc.getContainerClient(IMAGES_CONTAINER);
    let ready = containersReady.get(svc);
    if (!ready) {
      ready = c.createIfNotExists().catch((e) => {
        containersReady.delete(svc);
        throw e;
      });
      containersReady.set(svc, ready);
    }
    await ready;
    return c.getPageBlobClient(name);
  }
  return {
    imageBlob,
    uploadImage: async (name, source, opts) => writePageBlob(await imageBlob(name), source, opts),
    downloadImage: async (name, b, format) => readPageBlob(await imageBlob(name), b, format),
    deleteImage: async (name) => (await (await imageBlob(name)).deleteIfExists({ deleteSnapshots: 'include' })).succeeded,
    async *list(name) {
      const c = container(name);
      if (!(await c.exists())) return;
      for await (const b of c.listBlobsFlat({ includeMetadata: true })) {
        yield { name: b.name, blobType: b.properties.blobType, leaseState: b.properties.leaseState, metadata: b.metadata, etag: b.properties.etag };
      }
    },
    async state(c, name) {
      const p = await absentOn404(() => container(c).getBlobClient(name).getProperties());
      return p && { name, blobType: p.blobType, leaseState: p.leaseState, metadata: p.metadata, etag: p.etag };
    },
    async deleteIfUnchanged(c, name, etag) {
      try {
        await container(c)
          .getBlobClient(name)
          .delete({ deleteSnapshots: 'include', ...(etag ? { conditions: { ifMatch: etag } } : {}) });
        return 'deleted';
      } catch (e) {
        const f = azureFailure(e);
        if (f.kind === 'notFound') return 'gone';
        if (f.status === 412) return 'changed';
        throw e;
      }
    },
  };
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
async function writePageBlob(blob: PageBlobClient, source: AsyncIterable<Uint8Array>, opts: { format: 'raw' | 'vhd'; expectedBytes?: number; maxBytes: number }): Promise<WrittenImage> {
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
  const footer = keepClientFooter ? clientFooter! : buildFixedVhdFooter({ sizeBytes: aligned, ...(clientFooter ? { uniqueId: parseVhdFooter(clientFooter).uniqueId } : {}) });
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
async function readPageBlob(blob: PageBlobClient, b: StoredImageBlob, format: string | null): Promise<Readable> {
  if (format === 'vhd' && !b.originalFooter && b.blobBytes === b.dataBytes + VHD_FOOTER_SIZE) {
    return (await blob.download(0, b.blobBytes)).readableStreamBody as Readable;
  }
  const data = (await blob.download(0, b.dataBytes)).readableStreamBody as Readable;
  if (format !== 'vhd') return data;
  const footer = b.originalFooter ? Buffer.from(b.originalFooter, 'base64') : await blob.downloadToBuffer(b.blobBytes - VHD_FOOTER_SIZE, VHD_FOOTER_SIZE);
  return Readable.from(
    (async function* () {
      for await (const c of data) yield c as Buffer;
      yield footer;
    })(),
  );
}
