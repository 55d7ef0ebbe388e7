// GET /limits: Cinder's absolute limits (cinder/api/v3/limits.py with the os-used-limits extension):
// the project's quota limits and its usage, no rate limits. From 3.39 (LIMITS_ADMIN_FILTER) an admin
// may name another project (?project_id=, or the older ?tenant_id=).
import type { RequestContext, Route } from '../../http/router';
import { json } from '../../http/respond';
import { isAdmin } from '../../api/policy';
import { cinderRoute, projectOf } from '../common';
import { projectLimits, projectUsage } from './engine';

/** Cinder's names for the absolute limits and the used counts beside them. */
const LIMIT_NAMES: Record<string, string> = {
  volumes: 'maxTotalVolumes',
  snapshots: 'maxTotalSnapshots',
  gigabytes: 'maxTotalVolumeGigabytes',
  backups: 'maxTotalBackups',
  backup_gigabytes: 'maxTotalBackupGigabytes',
};
const USED_NAMES: Record<string, string> = {
  volumes: 'totalVolumesUsed',
  snapshots: 'totalSnapshotsUsed',
  gigabytes: 'totalGigabytesUsed',
  backups: 'totalBackupsUsed',
  backup_gigabytes: 'totalBackupGigabytesUsed',
};

export const LIMITS_ADMIN_FILTER = '3.39';

/**
 * The project whose limits are shown (v3/limits.py): below 3.39, or for a non-admin, Cinder pops
 * project_id and tenant_id and shows the caller's own project, without an error.
 */
function limitsProject(ctx: RequestContext): string {
  if (!ctx.microversion?.atLeast(LIMITS_ADMIN_FILTER) || !isAdmin(ctx.auth!)) return projectOf(ctx);
  return ctx.query.get('project_id') ?? ctx.query.get('tenant_id') ?? projectOf(ctx);
}

async function index(ctx: RequestContext) {
  const project = limitsProject(ctx);
  const [limits, used] = await Promise.all([projectLimits(ctx.services, project), projectUsage(ctx.services, project)]);
  const absolute: Record<string, number> = {};
  for (const [k, n] of Object.entries(LIMIT_NAMES)) absolute[n] = limits[k];
  for (const [k, n] of Object.entries(USED_NAMES)) absolute[n] = used[k] ?? 0;
  return json({ limits: { rate: [], absolute } });
}

export const limitRoutes: Route[] = [cinderRoute('limits', 'GET', '/limits', 'limits_extension:used_limits', index)];
