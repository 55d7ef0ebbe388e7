/**
 * Disk, snapshot and image bytes as page blobs in Azurite (container owned by the emulator), and the
 * boot-diagnostics blobs. Azurite lacks page-range diff, incremental copy and put-page-from-URL, so copies
 * read the source's written page ranges and write them as pages.
 */
import { AnonymousCredential, BlobSASPermissions, BlobServiceClient, ContainerClient, PageBlobClient, StorageSharedKeyCredential } from '@azure/storage-blob';
import { FOOTER_SIZE, isVhdFooter, vhdFooter } from './vhd';

const MAX_PAGE_WRITE = 4 * 1024 * 1024;

export interface ConnectionInfo {
  accountName: string;
  accountKey: string;
  blobEndpoint: string;
}

export function parseConnectionString(cs: string): ConnectionInfo {
  const parts = new Map<string, string>();
  for (const kv of cs.split(';')) {
    const i = kv.indexOf('=');
    if (i > 0) parts.set(kv.slice(0, i).trim().toLowerCase(), kv.slice(i + 1).trim());
  }
  if (parts.get('usedevelopmentstorage') === 'true') {
    return {
      accountName: 'devstoreaccount1',
      accountKey: 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==',
      blobEndpoint: 'http://127.0.0.1:10000/devstoreaccount1',
    };
  }
  const accountName = parts.get('accountname');
  const accountKey = parts.get('accountkey');
  const blobEndpoint = parts.get('blobendpoint');
  if (!accountName || !accountKey || !blobEndpoint) {
    throw new Error('blobConnectionString needs AccountName, AccountKey and BlobEndpoint');
  }
  return { accountName, accountKey, blobEndpoint: blobEndpoint.replace(/\/+$/, '') };
}

export class SourceBlobError extends Error {}

export class DiskBlobs {
  readonly service: BlobServiceClient;
  readonly container: ContainerClient;
  readonly info: ConnectionInfo;
  private readonly credential: StorageSharedKeyCredential;

  constructor(connectionString: string, containerName: string) {
    this.info = parseConnectionString(connectionString);
    this.credential = new StorageSharedKeyCredential(this.info.accountName, this.info.accountKey);
    this.service = BlobServiceClient.fromConnectionString(connectionString);
    this.container = this.service.getContainerClient(containerName);
  }

  async init(): Promise<void> {
    await this.container.createIfNotExists();
  }

  blob(name: string): PageBlobClient {
    return this.container.getPageBlobClient(name);
  }

  /** Creates a page blob of dataSize + footer bytes; optional first sector content. */
  async createDisk(name: string, dataSizeBytes: number, firstSector?: Buffer): Promise<void> {
    const b = this.blob(name);
    await b.create(dataSizeBytes + FOOTER_SIZE);
    if (firstSector) {
      const sector = Buffer.alloc(512);
      firstSector.copy(sector, 0, 0, Math.min(512, firstSector.length));
      await b.uploadPages(sector, 0, 512);
    }
    await b.uploadPages(vhdFooter(dataSizeBytes), dataSizeBytes, FOOTER_SIZE);
  }

  /** Creates a page blob of exactly sizeBytes (direct upload target: the client writes the footer). */
  async createRaw(name: string, sizeBytes: number): Promise<void> {
    await this.blob(name).create(sizeBytes);
  }

  async exists(name: string): Promise<boolean> {
    return this.blob(name).exists();
  }

  async delete(name: string): Promise<void> {
    await this.container.getBlobClient(name).deleteIfExists({ deleteSnapshots: 'include' });
  }

  async size(name: string): Promise<number> {
    return (await this.blob(name).getProperties()).contentLength ?? 0;
  }

  /**
   * Copies the data of `src` (a page blob with or without a VHD footer) into a new disk blob `dst`
   * holding dstDataSize bytes of data plus a fresh footer. Only written ranges are moved.
   */
  async copyToDisk(src: PageBlobClient, dst: string, dstDataSize: number): Promise<void> {
    const srcSize = (await src.getProperties()).contentLength ?? 0;
    let srcData = srcSize;
    if (srcSize >= FOOTER_SIZE) {
      const tail = await src.downloadToBuffer(srcSize - FOOTER_SIZE, FOOTER_SIZE);
      if (isVhdFooter(tail)) srcData = srcSize - FOOTER_SIZE;
    }
    const out = this.blob(dst);
    await out.create(dstDataSize + FOOTER_SIZE);
    await this.copyRanges(src, out, Math.min(srcData, dstDataSize));
    await out.uploadPages(vhdFooter(dstDataSize), dstDataSize, FOOTER_SIZE);
  }

  /** Copies every written range of src below `limit` into dst at the same offsets. */
  async copyRanges(src: PageBlobClient, dst: PageBlobClient, limit: number): Promise<number> {
    const ranges = await src.getPageRanges(0, undefined);
    let moved = 0;
    for (const r of ranges.pageRange ?? []) {
      const start = r.offset ?? 0;
      // The SDK reports count as (inclusive end - start), so the range holds count + 1 bytes.
      const end = Math.min(start + (r.count ?? 0) + 1, limit);
      for (let off = start; off < end; off += MAX_PAGE_WRITE) {
        const len = Math.min(MAX_PAGE_WRITE, end - off);
        const buf = await src.downloadToBuffer(off, len);
        await dst.uploadPages(buf, off, len);
        moved += len;
      }
    }
    return moved;
  }

  /** Grows a disk blob: moves the footer to the new end. */
  async resizeDisk(name: string, oldDataSize: number, newDataSize: number): Promise<void> {
    const b = this.blob(name);
    await b.clearPages(oldDataSize, FOOTER_SIZE);
    await b.resize(newDataSize + FOOTER_SIZE);
    await b.uploadPages(vhdFooter(newDataSize), newDataSize, FOOTER_SIZE);
  }

  /** Read-only SAS on a point-in-time blob snapshot; deleting the snapshot revokes it. */
  async grantRead(name: string, seconds: number): Promise<{ url: string; snapshot: string }> {
    const snap = await this.blob(name).createSnapshot();
    const snapshot = snap.snapshot!;
    const url = await this.blob(name)
      .withSnapshot(snapshot)
      .generateSasUrl({ permissions: BlobSASPermissions.parse('r'), expiresOn: new Date(Date.now() + seconds * 1000) });
    return { url, snapshot };
  }

  async revokeSnapshot(name: string, snapshot: string): Promise<void> {
    await this.blob(name).withSnapshot(snapshot).deleteIfExists();
  }

  async sasUrl(name: string, permissions: string, seconds: number): Promise<string> {
    return this.container.getBlobClient(name).generateSasUrl({ permissions: BlobSASPermissions.parse(permissions), expiresOn: new Date(Date.now() + seconds * 1000) });
  }

  /**
   * A client for a source blob URI given to Import: blobs of our own Azurite account are read with its
   * key; others (or SAS URLs) are read as given.
   */
  sourceClient(uri: string): PageBlobClient {
    let u: URL;
    try {
      u = new URL(uri);
    } catch {
      throw new SourceBlobError(`The source blob URI '${uri}' is not a valid URI.`);
    }
    const own = new URL(this.info.blobEndpoint);
    const ownPrefix = own.pathname.replace(/\/+$/, '');
    if (u.host === own.host && u.pathname.startsWith(`${ownPrefix}/`) && !u.searchParams.has('sig')) {
      const rest = u.pathname.slice(ownPrefix.length + 1);
      const slash = rest.indexOf('/');
      if (slash < 0) throw new SourceBlobError(`The source blob URI '${uri}' does not name a blob.`);
      const container = decodeURIComponent(rest.slice(0, slash));
      const blob = decodeURIComponent(rest.slice(slash + 1));
      return this.service.getContainerClient(container).getPageBlobClient(blob);
    }
    return new PageBlobClient(uri, new AnonymousCredential());
  }

  /** Appends to a boot-diagnostics serial log (append blob). */
  async appendLog(name: string, text: string): Promise<void> {
    const b = this.container.getAppendBlobClient(name);
    await b.createIfNotExists({ blobHTTPHeaders: { blobContentType: 'text/plain' } });
    const buf = Buffer.from(text, 'utf8');
    await b.appendBlock(buf, buf.length);
  }

  async putBlock(name: string, data: Buffer, contentType: string): Promise<void> {
    await this.container.getBlockBlobClient(name).upload(data, data.length, { blobHTTPHeaders: { blobContentType: contentType } });
  }

  async deletePrefix(prefix: string): Promise<void> {
    for await (const b of this.container.listBlobsFlat({ prefix })) {
      await this.container.getBlobClient(b.name).deleteIfExists({ deleteSnapshots: 'include' });
    }
  }

  async clearAll(): Promise<void> {
    await this.deletePrefix('');
  }
}
