// GET /volumes/summary (cinder/api/v3/volumes.py summary, microversion 3.12 VOLUME_SUMMARY): the count
// and total size of the caller's project's volumes, or every project's for an admin's all_tenants=true.
// Below 3.12 Cinder has no method for the route: 404 before any policy. Cinder reads no other filter
// (VolumeList.get_volume_summary is not given them). From 3.36 (VOLUME_SUMMARY_METADATA) the answer adds
// `metadata`: every distinct (key, value) pair of those volumes' metadata, grouped by key as
// db.get_volume_summary groups them ({key: [value, ...]}, {} when none).
import type { RequestContext, Route } from '../../http/router';
import { json } from '../../http/respond';
import { notFound } from '../../http/errors';
import { isAdmin } from '../../api/policy';
import { cinderRoute, getBoolParam, projectOf } from '../common';
import { volumeTables, type VolumeRecord } from '../model';
import type { VolumePolicy } from '../policy';

const VOLUME_SUMMARY = '3.12';
const VOLUME_SUMMARY_METADATA = '3.36';
const supported = (ctx: RequestContext) => ctx.microversion?.atLeast(VOLUME_SUMMARY) ?? false;
const from312 =
  (p: VolumePolicy) =>
  (_b: unknown, ctx: RequestContext): VolumePolicy | 'authenticated' =>
    supported(ctx) ? p : 'authenticated';

async function summary(ctx: RequestContext) {
  if (!supported(ctx)) throw notFound('The resource could not be found.');
  const admin = isAdmin(ctx.auth!);
  // remove_invalid_filter_options drops all_tenants for members; an admin's must be a boolean (get_bool_param).
  const allTenants = admin && getBoolParam(ctx.query, 'all_tenants');
  const withMetadata = ctx.microversion!.atLeast(VOLUME_SUMMARY_METADATA);
  const t = volumeTables(ctx.services);
  const projects = allTenants ? [...new Set((await t.index.list('volume')).map((r) => r.value.project_id))] : [projectOf(ctx)];
  let count = 0;
  let size = 0;
  // key -> its distinct values, in the order first met (the database's DISTINCT gives no order either).
  const metadata = new Map<string, Set<string>>();
  for (const p of projects) {
    // The documents only when the metadata is asked for: below 3.36 the size column is enough.
    for (const r of await t.volumes.columns(withMetadata ? ['size', 'doc'] : ['size'], { partition: p })) {
      // The ordered copies (RowKey '~…', model.ts) are not volumes.
      if (r.rowKey.startsWith('~')) continue;
      count++;
      size += Number(r.size) || 0;
      if (!withMetadata) continue;
      for (const [k, v] of Object.entries((JSON.parse(r.doc as string) as VolumeRecord).metadata ?? {})) {
        const values = metadata.get(k) ?? new Set<string>();
        metadata.set(k, values.add(v));
      }
    }
  }
  const body: { total_size: number; total_count: number; metadata?: Record<string, string[]> } = { total_size: size, total_count: count };
  if (withMetadata) body.metadata = Object.fromEntries([...metadata].map(([k, vs]) => [k, [...vs]]));
  return json({ 'volume-summary': body });
}

export const volumeSummaryRoutes: Route[] = [cinderRoute('volumes-summary', 'GET', '/volumes/summary', from312('volume:get_all'), summary)];
