// /os-volume-transfer (cinder/api/contrib/volume_transfer.py) and its v3 twin /volume-transfers
// (cinder/api/v3/volume_transfer.py, routed by Cinder's v3 router at every microversion; the SDK uses
// it from 3.55, and for lookups by name): create, list, list detailed, show, delete (cancel), accept.
// Bodies as Cinder's transfer view builder (no_snapshots from 3.55, the history fields from 3.57); links name
// os-volume-transfer for both, as Cinder's view does. The rules are ./service.ts.
import type { RequestContext, Route } from '../../http/router';
import { json, accepted } from '../../http/respond';
import { schemaAt, validateBody, type SchemaByVersion } from '../../api/validation';
import { booleanSchema, cinderRoute, collectionUrl, limitParam, resourceLinks } from '../common';
import { nextLinks } from '../../api/pagination';
import type { TransferRecord } from '../model';
import { acceptTransfer, createTransfer, deleteTransfer, findTransfer, listTransfers } from './service';

const COLLECTION = 'os-volume-transfer';

/** volume_transfer.create (3.0–3.54). */
const createSchema = {
  type: 'object',
  required: ['transfer'],
  additionalProperties: false,
  properties: {
    transfer: {
      type: 'object',
      required: ['volume_id'],
      additionalProperties: false,
      properties: {
        name: { oneOf: [{ type: 'string', format: 'name_skip_leading_trailing_spaces' }, { type: 'null' }] },
        volume_id: { type: 'string', format: 'uuid' },
      },
    },
  },
};

/** TRANSFER_WITH_SNAPSHOTS (3.55): create_v355 takes no_snapshots; the detail and create views show it. */
export const TRANSFER_WITH_SNAPSHOTS = '3.55';
export const TRANSFER_WITH_HISTORY = '3.57';
const createSchema355 = structuredClone(createSchema);
(createSchema355.properties.transfer.properties as Record<string, unknown>).no_snapshots = booleanSchema;
const CREATE_SCHEMAS: SchemaByVersion = [
  ['3.0', createSchema],
  [TRANSFER_WITH_SNAPSHOTS, createSchema355],
];

/** volume_transfer.accept. */
const acceptSchema = {
  type: 'object',
  required: ['accept'],
  additionalProperties: false,
  properties: { accept: { type: 'object', required: ['auth_key'], additionalProperties: false, properties: { auth_key: { type: ['string', 'integer'] } } } },
};

const links = (ctx: RequestContext, id: string) => resourceLinks(ctx, COLLECTION, id);

export const transferSummary = (ctx: RequestContext, x: Pick<TransferRecord, 'id' | 'volume_id' | 'display_name'>) => ({
  id: x.id,
  volume_id: x.volume_id,
  name: x.display_name,
  links: links(ctx, x.id),
});
export const transferDetail = (ctx: RequestContext, x: TransferRecord) => ({
  id: x.id,
  created_at: x.created_at,
  name: x.display_name,
  volume_id: x.volume_id,
  links: links(ctx, x.id),
  ...(ctx.microversion?.atLeast(TRANSFER_WITH_SNAPSHOTS) ? { no_snapshots: x.no_snapshots } : {}),
  // 3.57 (TRANSFER_WITH_HISTORY): the transfer's history fields. An accepted transfer is gone from the
  // lists (Cinder soft-deletes it), so a listed one is never accepted yet.
  ...(ctx.microversion?.atLeast(TRANSFER_WITH_HISTORY) ? { destination_project_id: null, source_project_id: x.source_project_id, accepted: false } : {}),
});

async function create(ctx: RequestContext) {
  const b = validateBody<{ transfer: { volume_id: string; name?: string | null; no_snapshots?: boolean | string } }>(schemaAt(ctx.microversion, CREATE_SCHEMAS), ctx.body).transfer;
  const name = typeof b.name === 'string' ? b.name.trim() : null;
  // strutils.bool_from_string, not strict (the schema has already held the value to Cinder's booleans).
  const noSnapshots = b.no_snapshots === undefined ? false : ['1', 't', 'true', 'on', 'y', 'yes'].includes(String(b.no_snapshots).trim().toLowerCase());
  // 3.70 (TRANSFER_ENCRYPTED_VOLUME) lifts transfer/api.py's refusal of a volume with an encryption key
  // ("transferring encrypted volume is not supported", and below it of one without its snapshots); Jacket
  // makes no encrypted volume (views.ts: encrypted false), so every version transfers alike.
  const { transfer, authKey } = await createTransfer(ctx, b.volume_id, name, noSnapshots);
  return accepted({ transfer: { ...transferDetail(ctx, transfer), auth_key: authKey } });
}

async function listing(ctx: RequestContext, detailed: boolean) {
  const all = await listTransfers(ctx, ctx.query);
  // The view's next link (any version): the page is full by the request's limit (or the maximum).
  const next = nextLinks(collectionUrl(ctx, `/${COLLECTION}`), ctx.query, all, { limit: limitParam(ctx.query) });
  return json({ transfers: all.map((x) => (detailed ? transferDetail(ctx, x) : transferSummary(ctx, x))), ...(next ? { transfers_links: next } : {}) });
}

const show = async (ctx: RequestContext) => json({ transfer: transferDetail(ctx, (await findTransfer(ctx, ctx.params.transfer_id)).value) });

async function remove(ctx: RequestContext) {
  await deleteTransfer(ctx, await findTransfer(ctx, ctx.params.transfer_id));
  return accepted();
}

async function accept(ctx: RequestContext) {
  const a = validateBody<{ accept: { auth_key: string | number } }>(acceptSchema, ctx.body).accept;
  return accepted({ transfer: transferSummary(ctx, await acceptTransfer(ctx, ctx.params.transfer_id, String(a.auth_key))) });
}

const routesUnder = (prefix: string, tag: string): Route[] => [
  cinderRoute(`${tag}-create`, 'POST', prefix, 'volume:create_transfer', create),
  cinderRoute(`${tag}-list`, 'GET', prefix, 'volume:get_all_transfers', (ctx) => listing(ctx, false)),
  cinderRoute(`${tag}-detail`, 'GET', `${prefix}/detail`, 'volume:get_all_transfers', (ctx) => listing(ctx, true)),
  cinderRoute(`${tag}-show`, 'GET', `${prefix}/{transfer_id}`, 'volume:get_transfer', show),
  cinderRoute(`${tag}-delete`, 'DELETE', `${prefix}/{transfer_id}`, 'volume:delete_transfer', remove),
  cinderRoute(`${tag}-accept`, 'POST', `${prefix}/{transfer_id}/accept`, 'volume:accept_transfer', accept),
];

export const transferRoutes: Route[] = [...routesUnder('/os-volume-transfer', 'transfers'), ...routesUnder('/volume-transfers', 'volume-transfers')];
