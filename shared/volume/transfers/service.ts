// Volume transfers (cinder/transfer/api.py, cinder/db transfer_*): offer a volume to another project,
// cancel the offer, accept it. The rules the controller (./api.ts) calls after validating a request.
//
// Create: the volume must be available (and its snapshots too, Cinder's no_snapshots=False at 3.0);
// the transfer record (salt + HMAC-SHA1(salt, auth_key), as Cinder stores it; the key itself is
// returned once and never stored or logged) is written, then the volume turns `awaiting-transfer`
// under its ETag. Cancel turns it `available` again and removes the record.
//
// Accept moves records between partitions, which Table storage cannot do in one transaction, so the
// volume record is the lock: the accept that replaces the donor's record under its ETag with an
// `accepting` mark (status still awaiting-transfer) owns the move; a racing accept or cancel sees the
// mark (or loses on the ETag) and is refused — exactly one wins. Then, all refusable checks first,
// each undoing what came before it so a refusal leaves nothing changed: the receiver's quota is
// reserved (Cinder's 413s), each snapshot is claimed under its ETag (`moving_to`, so its delete is
// refused; one not available is Cinder's 400 and undoes the claims). Then the move, in an order that
// never leaves a record unreachable: the receiver's copy of each snapshot and of the volume is written
// (with its index rows) before the donor's copy is deleted; the quota reservations are committed and
// the donor's usage released; the transfer goes; a work item retags the disk and snapshots. A worker
// that dies mid-move leaves the mark: after 5 minutes the same project's retried accept resumes the move,
// every step being idempotent (a counter moved twice is repaired by the ledger's hourly recount).
import { createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { RequestContext } from '../../http/router';
import { badRequest, notFound } from '../../http/errors';
import { isAdmin } from '../../api/policy';
import { ConcurrencyError, type Stored } from '../../store/tables';
import { startWork } from '../../work/ledger';
import { log } from '../../log';
import { cinderTime, compareBy, getSortParams, limitParam, offsetParam, processSortParams, projectOf, type SortKey } from '../common';
import { dependentsOf, findVolume, volumeTables, type SnapshotRecord, type TransferRecord, type VolumeRecord } from '../model';
import { reserveTransfer, snapshotDeltas, typeNameOf, volumeDeltas, volumeLedger } from '../quotas/engine';
import { VOLUME_TRANSFER_RETAG } from '../workKinds';

/** cinder.conf volume_transfer_salt_length / volume_transfer_key_length. */
const SALT_LENGTH = 8;
const KEY_LENGTH = 16;

/** A random hex string (Cinder's _get_random_string: hex digits, so a user can type the key). */
const randomHex = (n: number) =>
  randomBytes(Math.ceil(n / 2))
    .toString('hex')
    .slice(0, n);

/** Cinder's _get_crypt_hash: HMAC-SHA1 keyed by the salt over the auth key, hex. */
export const cryptHash = (salt: string, authKey: string) => createHmac('sha1', salt).update(authKey, 'utf8').digest('hex');

function keyMatches(t: TransferRecord, authKey: string): boolean {
  const a = Buffer.from(cryptHash(t.salt, authKey), 'hex');
  const b = Buffer.from(t.crypt_hash, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}

/** A claim older than this belongs to a request that died (a Functions HTTP request lives at most 230 s). */
const RESUME_AFTER_MS = 5 * 60 * 1000;

const transferNotFound = (id: string) => notFound(`Transfer ${id} could not be found.`);
const notAwaiting = (id: string, volumeId: string) => badRequest(`Invalid volume: Transfer ${id}: Volume id ${volumeId} expected in awaiting-transfer state.`);

/** A transfer by id, any project (accept uses Cinder's elevated context). */
async function transferById(ctx: RequestContext, id: string): Promise<Stored<TransferRecord> | undefined> {
  const t = volumeTables(ctx.services);
  const p = (await t.index.get('transfer', id))?.value.project_id;
  return p ? t.transfers.get(p, id) : undefined;
}

/** Cinder's _transfer_get: the caller's project's transfer (its volume's project), or any for admins. */
export async function findTransfer(ctx: RequestContext, id: string): Promise<Stored<TransferRecord>> {
  const own = await volumeTables(ctx.services).transfers.get(projectOf(ctx), id);
  if (own) return own;
  if (isAdmin(ctx.auth!)) {
    const any = await transferById(ctx, id);
    if (any) return any;
  }
  throw transferNotFound(id);
}

/** The snapshots of a volume, as records (Cinder's snapshot_get_all_for_volume: whoever made them). */
async function snapshotsOf(ctx: RequestContext, volumeId: string): Promise<Stored<SnapshotRecord>[]> {
  const t = volumeTables(ctx.services);
  const deps = await dependentsOf(ctx.services, volumeId, 'snapshot');
  const recs = await Promise.all(deps.map((d) => t.snapshots.get(d.value.project_id, d.rowKey)));
  return recs.filter((r): r is Stored<SnapshotRecord> => r !== undefined);
}

/** transfer/api.py create. Returns the record and the auth key (shown once). */
export async function createTransfer(ctx: RequestContext, volumeId: string, name: string | null, noSnapshots = false): Promise<{ transfer: TransferRecord; authKey: string }> {
  const vol = await findVolume(ctx, volumeId);
  if (vol.value.status !== 'available') throw badRequest('Invalid volume: status must be available');
  // The snapshots go with the volume unless no_snapshots (3.55) leaves them with the donor.
  if (!noSnapshots) {
    for (const s of await snapshotsOf(ctx, vol.value.id)) if (s.value.status !== 'available') throw badRequest(`Invalid snapshot: snapshot: ${s.value.id} status must be available`);
  }
  const t = volumeTables(ctx.services);
  const project = vol.partitionKey;
  const salt = randomHex(SALT_LENGTH);
  const authKey = randomHex(KEY_LENGTH);
  const rec: TransferRecord = {
    id: randomUUID(),
    volume_id: vol.value.id,
    display_name: name,
    salt,
    crypt_hash: cryptHash(salt, authKey),
    created_at: cinderTime(),
    no_snapshots: noSnapshots,
    source_project_id: project,
  };
  await t.index.upsert('transfer', rec.id, { project_id: project });
  await t.transfers.create(project, rec.id, rec);
  // db transfer_create: the conditional update available -> awaiting-transfer.
  try {
    await t.volumes.replace(project, vol.rowKey, { ...vol.value, status: 'awaiting-transfer', transfer_id: rec.id, updated_at: cinderTime() }, vol.etag);
  } catch (e) {
    await t.transfers.delete(project, rec.id);
    await t.index.delete('transfer', rec.id);
    if (e instanceof ConcurrencyError) throw badRequest(`Invalid volume: Transfer ${rec.id}: Volume id ${vol.value.id} expected in available state.`);
    throw e;
  }
  log.info('volume transfer created', { transfer: rec.id, volume: rec.volume_id, project, requestId: ctx.requestId });
  return { transfer: rec, authKey };
}

/** transfer/api.py delete (db transfer_destroy): the volume back to available, the record gone. */
export async function deleteTransfer(ctx: RequestContext, cur: Stored<TransferRecord>): Promise<void> {
  const t = volumeTables(ctx.services);
  const tr = cur.value;
  for (let i = 0; ; i++) {
    const vol = await t.volumes.get(cur.partitionKey, tr.volume_id);
    // An accept owns the volume: for everyone else the transfer is gone (Cinder's accept deletes it in
    // the same transaction).
    if (vol?.value.accepting) throw transferNotFound(tr.id);
    if (!vol || vol.value.status !== 'awaiting-transfer' || vol.value.transfer_id !== tr.id) {
      log.warn('transfer cancelled while its volume was not awaiting it', { transfer: tr.id, volume: tr.volume_id, status: vol?.value.status ?? 'gone' });
      break;
    }
    try {
      await t.volumes.replace(cur.partitionKey, vol.rowKey, { ...vol.value, status: 'available', transfer_id: undefined, updated_at: cinderTime() }, vol.etag);
      break;
    } catch (e) {
      if (!(e instanceof ConcurrencyError) || i >= 10) throw e;
    }
  }
  await t.transfers.delete(cur.partitionKey, cur.rowKey);
  await t.index.delete('transfer', tr.id);
}

/** Reads, changes and writes a record under its ETag until it sticks (another writer may touch it meanwhile). */
async function retry<T>(f: () => Promise<T>): Promise<T> {
  for (let i = 0; ; i++) {
    try {
      return await f();
    } catch (e) {
      if (!(e instanceof ConcurrencyError) || i >= 20) throw e;
    }
  }
}

/** transfer/api.py accept. Returns what Cinder's accept answers (id, display_name, volume_id). */
export async function acceptTransfer(ctx: RequestContext, id: string, authKey: string): Promise<{ id: string; display_name: string | null; volume_id: string }> {
  const s = ctx.services;
  const t = volumeTables(s);
  const tr = await transferById(ctx, id);
  if (!tr) throw transferNotFound(id);
  if (!keyMatches(tr.value, authKey)) {
    log.warn('volume transfer accept with an invalid auth key', { transfer: id, project: projectOf(ctx), requestId: ctx.requestId });
    throw badRequest(`Invalid auth key: Attempt to transfer ${id} with invalid auth key.`);
  }
  const donor = tr.partitionKey;
  const receiver = projectOf(ctx);
  const user = ctx.auth!.userId;
  const volumeId = tr.value.volume_id;
  const vol = await t.volumes.get(donor, volumeId);
  if (!vol) throw notFound(`Volume ${volumeId} could not be found.`);
  const mark = { transfer_id: id, project_id: receiver, user_id: user, at: new Date().toISOString() };
  // A claim older than any request lives was left by a request that died mid-move: the same project's
  // retry resumes it. A younger one is a racing accept still at work: refused like any other loser.
  const held = vol.value.accepting;
  const resuming = held?.transfer_id === id && held.project_id === receiver && Date.now() - Date.parse(held.at) > RESUME_AFTER_MS;
  if (!resuming) {
    if (vol.value.accepting || vol.value.status !== 'awaiting-transfer' || vol.value.transfer_id !== id) throw notAwaiting(id, volumeId);
    // The claim: one accept wins the volume under its ETag.
    try {
      await t.volumes.replace(donor, volumeId, { ...vol.value, accepting: mark }, vol.etag);
    } catch (e) {
      if (e instanceof ConcurrencyError) throw notAwaiting(id, volumeId);
      throw e;
    }
  }
  const unclaim = () => t.volumes.update(donor, volumeId, (x) => (x.accepting?.transfer_id === id && x.accepting.project_id === receiver ? { ...x, accepting: undefined } : undefined));
  const same = receiver === donor;
  const v = vol.value;
  const typeName = await typeNameOf(s, v.volume_type_id);
  // Snapshots still to move: in the donor's partitions (a resumed move may have moved some).
  // (none with no_snapshots: they stay the donor's, see below)
  const snaps = tr.value.no_snapshots ? [] : (await snapshotsOf(ctx, volumeId)).filter((x) => same || x.partitionKey !== receiver);
  const ledger = volumeLedger(s);
  if (!same) {
    try {
      await reserveTransfer(
        s,
        receiver,
        { id: volumeId, size: v.size },
        typeName,
        snaps.map((x) => ({ id: x.value.id, size: x.value.size })),
      );
    } catch (e) {
      if (!resuming) await unclaim();
      throw e;
    }
  }
  // Claim the snapshots (available only), or undo everything.
  const claimed: Stored<SnapshotRecord>[] = [];
  const undo = async () => {
    for (const c of claimed) await t.snapshots.update(c.partitionKey, c.rowKey, (x) => (x.moving_to === receiver ? { ...x, moving_to: undefined } : undefined)).catch(() => undefined);
    if (!same) await ledger.rollback(receiver, [volumeId, ...snaps.map((x) => x.value.id)]);
    if (!resuming) await unclaim();
  };
  for (const sn of snaps) {
    if (sn.value.moving_to === receiver) {
      claimed.push(sn);
      continue;
    }
    const refused = badRequest(`Invalid snapshot: Transfer ${id}: Snapshot ${sn.value.id} is not in the expected available state.`);
    if (sn.value.status !== 'available' || sn.value.moving_to) {
      await undo();
      throw refused;
    }
    try {
      claimed.push(await t.snapshots.replace(sn.partitionKey, sn.rowKey, { ...sn.value, moving_to: receiver }, sn.etag));
    } catch (e) {
      await undo();
      if (e instanceof ConcurrencyError) throw refused;
      throw e;
    }
  }
  // The move. Nothing below refuses: every step is idempotent, and a retried accept resumes it.
  const now = cinderTime();
  for (const c of claimed) {
    const from = c.partitionKey;
    await retry(async () => {
      const cur = await t.snapshots.get(from, c.rowKey);
      if (!cur) return;
      const moved: SnapshotRecord = { ...cur.value, project_id: receiver, user_id: user, volume_project_id: receiver, moving_to: undefined, updated_at: now };
      if (from === receiver) {
        await t.snapshots.replace(from, c.rowKey, moved, cur.etag);
        return;
      }
      await t.snapshots.upsert(receiver, c.rowKey, moved);
      await t.index.upsert('snapshot', c.rowKey, { project_id: receiver });
      await t.deps.upsert(volumeId, c.rowKey, { kind: 'snapshot', project_id: receiver });
      await t.snapshots.delete(from, c.rowKey, cur.etag);
    });
    if (from !== receiver) {
      await ledger.commit(receiver, [c.rowKey]);
      await ledger.release(from, snapshotDeltas(typeName, c.value.size));
    }
  }
  await retry(async () => {
    const cur = await t.volumes.get(donor, volumeId);
    if (!cur) return;
    const moved: VolumeRecord = { ...cur.value, project_id: receiver, user_id: user, status: 'available', transfer_id: undefined, accepting: undefined, updated_at: now };
    if (same) {
      await t.volumes.replace(donor, volumeId, moved, cur.etag);
      return;
    }
    await t.typeUse.upsert(moved.volume_type_id, volumeId, { project_id: receiver });
    await t.volumes.upsert(receiver, volumeId, moved);
    await t.index.upsert('volume', volumeId, { project_id: receiver });
    await t.volumes.delete(donor, volumeId, cur.etag);
  });
  if (!same) {
    await ledger.commit(receiver, [volumeId]);
    await ledger.release(donor, volumeDeltas(typeName, v.size));
  }
  // Snapshots left with the donor (no_snapshots) now find their volume in the receiver's project.
  if (tr.value.no_snapshots && !same) {
    for (const sn of await snapshotsOf(ctx, volumeId)) {
      await retry(() => t.snapshots.update(sn.partitionKey, sn.rowKey, (x) => (x.volume_project_id === receiver ? undefined : { ...x, volume_project_id: receiver })).then(() => undefined));
    }
  }
  await t.transfers.delete(donor, id);
  await t.index.delete('transfer', id);
  log.info('volume transferred', { transfer: id, volume: volumeId, from: donor, to: receiver, snapshots: claimed.length, requestId: ctx.requestId });
  // The disk and snapshots keep their names and resource group; only their project tag changes.
  if (!same) await startWork(s, { kind: VOLUME_TRANSFER_RETAG, id: volumeId, data: { project: receiver }, requestId: ctx.requestId });
  return { id, display_name: tr.value.display_name, volume_id: volumeId };
}

/** Cinder's Transfer model columns a list filter may name (others match nothing, as in Cinder). */
const FILTER_COLUMNS: Record<string, (x: TransferRecord) => unknown> = {
  id: (x) => x.id,
  volume_id: (x) => x.volume_id,
  display_name: (x) => x.display_name,
  created_at: (x) => x.created_at,
  no_snapshots: (x) => x.no_snapshots,
  source_project_id: (x) => x.source_project_id,
  destination_project_id: () => null,
  accepted: () => false,
  deleted: () => false,
};

export const SUPPORT_TRANSFER_PAGINATION = '3.59';
const PAGE_KEYS = ['limit', 'marker', 'offset', 'sort', 'sort_key', 'sort_dir'];

/**
 * transfer/api.py get_all: the caller's project's transfers (admins with all_tenants: all). Below 3.59
 * every query parameter but all_tenants is a filter on the Transfer model (`name` meaning display_name);
 * one that is not a column matches nothing — so `limit`/`offset` empty the list, as they reach
 * Cinder's database as filters — and the order is oldest first (created_at, id). From 3.59
 * (SUPPORT_TRANSFER_PAGINATION) limit, marker, offset and the sort parameters page the list as the
 * database does (default created_at desc, id desc; an unknown sort key 400, an unknown marker 404).
 * The view then slices the page again by `offset` and `limit` (common.limited reads them at every
 * version), so from 3.59 an offset is applied twice, as Cinder does.
 */
export async function listTransfers(ctx: RequestContext, q: URLSearchParams): Promise<TransferRecord[]> {
  const t = volumeTables(ctx.services);
  const paged = ctx.microversion?.atLeast(SUPPORT_TRANSFER_PAGINATION) ?? false;
  const limit = limitParam(q);
  const offset = offsetParam(q);
  const sort = paged ? processSortParams(getSortParams(q)) : undefined;
  const marker = paged ? (q.get('marker') ?? undefined) : undefined;
  const filters = new Map<string, string>();
  let allTenants = false;
  for (const [k, val] of q) {
    if (paged && PAGE_KEYS.includes(k)) continue;
    if (k === 'all_tenants') allTenants = ['true', 't', 'yes', 'y', 'on', '1'].includes(val.trim().toLowerCase());
    else filters.set(k === 'name' ? 'display_name' : k, val);
  }
  let projects: string[];
  const byProject = filters.get('project_id');
  filters.delete('project_id');
  if (isAdmin(ctx.auth!) && allTenants) projects = byProject ? [byProject] : [...new Set((await t.index.list('transfer')).map((r) => r.value.project_id))];
  else projects = byProject && byProject !== projectOf(ctx) ? [] : [projectOf(ctx)];
  for (const k of filters.keys()) if (!(k in FILTER_COLUMNS)) return [];
  let out: TransferRecord[] = [];
  for (const p of projects) for (const r of await t.transfers.list(p)) if ([...filters].every(([k, val]) => String(FILTER_COLUMNS[k](r.value)) === val)) out.push(r.value);
  const column = (x: TransferRecord, k: string) => FILTER_COLUMNS[k]?.(x);
  if (!sort) {
    out.sort(compareBy<TransferRecord>(OLDEST_FIRST, column));
    return out.slice(offset, offset + limit);
  }
  if (sort.some((k) => !(k.key in FILTER_COLUMNS))) throw badRequest('Invalid input received: Invalid sort key');
  const cmp = compareBy<TransferRecord>(sort, column);
  out.sort(cmp);
  if (marker !== undefined) {
    const m = (await transferById(ctx, marker))?.value;
    if (!m) throw notFound(`Marker ${marker} could not be found.`);
    out = out.filter((x) => cmp(x, m) > 0);
  }
  const page = out.slice(offset, offset + limit);
  return page.slice(offset, offset + limit);
}

const OLDEST_FIRST: SortKey[] = [
  { key: 'created_at', dir: 'asc' },
  { key: 'id', dir: 'asc' },
];
