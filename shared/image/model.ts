// Image records (Glance's image model) and who may see them. Customised images live in Table Storage,
// partitioned by owner project; a small index (partition = first two hex digits of the id) maps an id
// to its owner so that show-by-id is two point reads. Marketplace images come from the catalog.
import type { Services } from '../services';
import type { AuthContext } from '../api/policy';
import { isAdmin } from '../api/policy';
import { odata, type Repository, type Stored } from '../store/tables';
import { findMarketplace, marketplaceImages, marketplaceRecord } from './catalog';

export type Visibility = 'public' | 'private' | 'shared' | 'community';
export type ImageStatus = 'queued' | 'saving' | 'active' | 'killed' | 'deleted' | 'pending_delete' | 'deactivated' | 'uploading' | 'importing';

export interface ImageRecord {
  id: string;
  name: string | null;
  owner: string | null;
  visibility: Visibility;
  status: ImageStatus;
  disk_format: string | null;
  container_format: string | null;
  min_disk: number;
  min_ram: number;
  protected: boolean;
  os_hidden: boolean;
  tags: string[];
  /** Glance's extra properties (strings), shown at the top level of the image. */
  properties: Record<string, string>;
  size: number | null;
  virtual_size: number | null;
  checksum: string | null;
  os_hash_algo: string | null;
  os_hash_value: string | null;
  created_at: string;
  updated_at: string;
  /** Jacket: a catalog image (not stored). */
  marketplace?: boolean;
  /** Jacket: where the bytes are. dataBytes = the image without any VHD footer. */
  blob?: { name: string; dataBytes: number; blobBytes: number; originalFooter?: string };
  /** Jacket: the ARM id of the managed image made from the blob. */
  managedImageId?: string;
  /** Jacket: deletion requested; hidden from the API until the cleanup step removes the record. */
  deleting?: boolean;
}

interface OwnerIndex {
  owner: string;
}

/** The partition of records without an owner (created by an unscoped admin token). */
const NO_OWNER = '-';
const partitionOf = (owner: string | null) => owner ?? NO_OWNER;
const indexPartition = (id: string) => id.slice(0, 2).toLowerCase();

export const glanceTime = (d = new Date()) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

/** The fields a new image's maker chooses; everything else starts as Glance starts a queued image. */
export type NewImage = Pick<ImageRecord, 'id' | 'name' | 'owner' | 'visibility'> & Partial<Omit<ImageRecord, 'id' | 'name' | 'owner' | 'visibility'>>;

/** A new, queued image record with Glance's defaults (no data yet, not deleting). */
export function newImageRecord(fields: NewImage): ImageRecord {
  const now = glanceTime();
  return {
    status: 'queued',
    disk_format: null,
    container_format: null,
    min_disk: 0,
    min_ram: 0,
    protected: false,
    os_hidden: false,
    tags: [],
    properties: {},
    size: null,
    virtual_size: null,
    checksum: null,
    os_hash_algo: null,
    os_hash_value: null,
    created_at: now,
    updated_at: now,
    // Indexed: Glance's listings read 'deleting eq false'.
    deleting: false,
    ...fields,
  };
}

export class ImageStore {
  readonly records: Repository<ImageRecord>;
  private readonly index: Repository<OwnerIndex>;

  constructor(private readonly services: Services) {
    this.records = services.tables.repository<ImageRecord>('images', ['visibility', 'status', 'name', 'disk_format', 'container_format', 'deleting']);
    this.index = services.tables.repository<OwnerIndex>('imageowners');
  }

  /** Any image by id, marketplace or stored, deleted ones included (for the work steps). */
  async getAny(id: string): Promise<Stored<ImageRecord> | undefined> {
    const ix = await this.index.get(indexPartition(id), id);
    if (!ix) return undefined;
    return this.records.get(ix.value.owner, id);
  }

  /** The image as `auth` may see it: marketplace, or stored and visible; undefined otherwise (404). */
  async visible(auth: AuthContext, id: string): Promise<{ image: ImageRecord; etag?: string } | undefined> {
    const m = findMarketplace(this.services.config, id);
    if (m) return { image: m };
    const s = await this.getAny(id);
    if (!s || s.value.deleting || !canSee(auth, s.value)) return undefined;
    return { image: s.value, etag: s.etag };
  }

  async create(img: ImageRecord): Promise<void> {
    // Index first, and only if the id is new (AlreadyExistsError otherwise): a crash between the two
    // leaves an index row pointing nowhere, which reads as absent.
    await this.index.create(indexPartition(img.id), img.id, { owner: partitionOf(img.owner) });
    await this.records.create(partitionOf(img.owner), img.id, img);
  }

  update(img: ImageRecord, mutate: (v: ImageRecord) => ImageRecord | undefined) {
    return this.records.update(partitionOf(img.owner), img.id, mutate);
  }

  replace(img: ImageRecord, etag: string) {
    return this.records.replace(partitionOf(img.owner), img.id, img, etag);
  }

  async remove(img: ImageRecord): Promise<void> {
    await this.records.delete(partitionOf(img.owner), img.id);
    await this.index.delete(indexPartition(img.id), img.id);
  }

  /**
   * The ids that have both an index row and a record, read in two key-only queries over the whole
   * tables (1000 rows a request): what getAny would find, for many ids at once (the blob sweep).
   */
  async idsWithRecords(): Promise<Set<string>> {
    const [index, records] = await Promise.all([this.index.columns(['doc']), this.records.columns([])]);
    const stored = new Set(records.map((r) => `${r.partitionKey}/${r.rowKey}`));
    const out = new Set<string>();
    for (const r of index) {
      let owner: string | undefined;
      try {
        owner = typeof r.doc === 'string' ? (JSON.parse(r.doc) as OwnerIndex).owner : undefined;
      } catch {
        owner = undefined;
      }
      if (owner !== undefined && stored.has(`${owner}/${r.rowKey}`)) out.add(r.rowKey);
    }
    return out;
  }

  /** Exists already (an id given at create)? Marketplace ids count. */
  async exists(id: string): Promise<boolean> {
    return findMarketplace(this.services.config, id) !== undefined || (await this.index.get(indexPartition(id), id)) !== undefined;
  }

  /**
   * The images `auth` may list, before sorting and paging: the caller's own partition plus public
   * images (and community ones when asked for), each read with the filter in the table query.
   * Admins list every partition. `filter` is an OData condition on the indexed columns.
   */
  async listVisible(auth: AuthContext, filter: string | undefined, visibility: Visibility | 'all' | undefined): Promise<ImageRecord[]> {
    const and = (f: string) => (filter ? `(${f}) and (${filter})` : f);
    const live = 'deleting eq false';
    const out = new Map<string, ImageRecord>();
    const add = (rows: Stored<ImageRecord>[]) => rows.forEach((r) => out.set(r.value.id, r.value));
    const client = await this.services.tables.client('images');
    const query = async (f: string) => {
      const rows: ImageRecord[] = [];
      for await (const e of client.listEntities<{ doc: string }>({ queryOptions: { filter: f } })) rows.push(JSON.parse(e.doc) as ImageRecord);
      return rows;
    };
    if (isAdmin(auth)) {
      (await query(and(live))).forEach((r) => out.set(r.id, r));
    } else {
      if (auth.projectId) add(await this.records.list(auth.projectId, and(live)));
      const others: string[] = [];
      if (visibility === undefined || visibility === 'public' || visibility === 'all') others.push(odata`visibility eq ${'public'}`);
      if (visibility === 'community' || visibility === 'all') others.push(odata`visibility eq ${'community'}`);
      if (others.length) (await query(and(`${live} and (${others.join(' or ')})`))).forEach((r) => out.set(r.id, r));
    }
    const stored = [...out.values()].filter((r) => canSee(auth, r) && visibilityMatches(auth, r, visibility));
    const market = marketplaceImages(this.services.config)
      .map(marketplaceRecord)
      .filter((r) => visibility === undefined || visibility === 'all' || visibility === 'public');
    return [...market, ...stored];
  }
}

/** Glance's visibility rules (without members: a shared image is seen by its owner only). */
export function canSee(auth: AuthContext, img: ImageRecord): boolean {
  if (img.marketplace || isAdmin(auth)) return true;
  if (img.visibility === 'public' || img.visibility === 'community') return true;
  return img.owner !== null && img.owner === auth.projectId;
}

/** The default listing shows public images and one's own (community only when owned or asked for). */
function visibilityMatches(auth: AuthContext, img: ImageRecord, v: Visibility | 'all' | undefined): boolean {
  if (v === 'all') return true;
  if (v !== undefined) return img.visibility === v;
  if (img.visibility === 'community') return img.owner === auth.projectId;
  return true;
}

/** May `auth` change or delete it? Owners and admins; marketplace images nobody. */
export function canModify(auth: AuthContext, img: ImageRecord): boolean {
  if (img.marketplace) return false;
  return isAdmin(auth) || (img.owner !== null && img.owner === auth.projectId);
}

const stores = new WeakMap<Services, ImageStore>();
export function imageStore(services: Services): ImageStore {
  let s = stores.get(services);
  if (!s) {
    s = new ImageStore(services);
    stores.set(services, s);
  }
  return s;
}
