// GET /volumes/summary (cinder/api/v3/volumes.py summary, microversion 3.12 VOLUME_SUMMARY): the count
// and total size of the caller's project's volumes, or every project's for an admin's all_tenants=true.
// Below 3.12 Cinder has no method for the route: 404 before any policy. Cinder reads no other filter
// (VolumeList.get_volume_summary is not given them). The distinct metadata joins at 3.36 (not
// advertised), so the answer has total_count and total_size only.
import type { RequestContext, Route } from '../../http/router';
import { json } from '../../http/respond';
import { notFound } from '../../http/errors';
import { isAdmin } from '../../api/policy';
import { cinderRoute, getBoolParam, projectOf } from '../common';
import { volumeTables } from '../model';
import type { VolumePolicy } from '../policy';

const VOLUME_SUMMARY = '3.12';
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
  const t = volumeTables(ctx.services);
  const projects = allTenants ? [...new Set((await t.index.list('volume')).map((r) => r.value.project_id))] : [projectOf(ctx)];
  let count = 0;
  let size = 0;
  for (const p of projects) {
    for (const r of await t.volumes.columns(['size'], { partition: p })) {
      // The ordered copies (RowKey '~…', model.ts) are not volumes.
      if (r.rowKey.startsWith('~')) continue;
      count++;
      size += Number(r.size) || 0;
    }
  }
  return json({ 'volume-summary': { total_size: size, total_count: count } });
}

export const volumeSummaryRoutes: Route[] = [cinderRoute('volumes-summary', 'GET', '/volumes/summary', from312('volume:get_all'), summary)];
