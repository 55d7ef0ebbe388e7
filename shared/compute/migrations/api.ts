// GET /os-migrations (nova/api/openstack/compute/migrations.py) at 2.1-2.58's shape: the migration
// records of resizes and cold migrations (migrations/model.ts), filtered as Nova's
// migration_get_all_by_filters filters them, in its unsorted order (oldest first; sorting and
// limit/marker/changes-since arrive at 2.59, above Jacket's maximum). Policies as Nova's: index
// (project manager or admin) for the list, index:all_projects (admin) unless the caller filters on its
// own project_id, index:host (admin) or the host fields are null. From 2.23 each record carries
// migration_type, and `links` only an in-progress live migration would have (Jacket makes none).
import type { RequestContext, Route } from '../../http/router';
import { json } from '../../http/respond';
import { allowed, authorize } from '../../api/policy';
import { computeRoute } from '../common';
import { listMigrations, type MigrationFilters, type MigrationRecord } from './model';

/** Nova's times from the DB: naive UTC, microseconds ("2016-01-29T13:42:02.000000"). */
const dbTime = (t: string) => t.replace(/Z$/, '').replace(/\.(\d{3})$/, '.$1000');

function view(m: MigrationRecord, withType: boolean, withHost: boolean) {
  const v: Record<string, unknown> = {
    created_at: dbTime(m.created_at),
    dest_compute: withHost ? m.dest_compute : null,
    dest_host: withHost ? m.dest_host : null,
    dest_node: withHost ? m.dest_node : null,
    id: m.id,
    instance_uuid: m.instance_uuid,
    new_instance_type_id: m.new_instance_type_id,
    old_instance_type_id: m.old_instance_type_id,
    source_compute: withHost ? m.source_compute : null,
    source_node: withHost ? m.source_node : null,
    status: m.status,
    updated_at: m.updated_at ? dbTime(m.updated_at) : null,
  };
  if (withType) v.migration_type = m.migration_type;
  return v;
}

/** oslo's bool_from_string, as a Boolean column compares the query's string. */
const truthy = (v: string) => ['1', 't', 'true', 'on', 'y', 'yes'].includes(v.trim().toLowerCase());

async function index(ctx: RequestContext) {
  // Nova copies req.GET into its filters: a repeated key gives its last value.
  const q = (k: string) => {
    const all = ctx.query.getAll(k);
    return all.length ? all[all.length - 1] : undefined;
  };
  const projectId = q('project_id');
  if (!projectId || projectId !== ctx.auth?.projectId) authorize(ctx, 'os_compute_api:os-migrations:index:all_projects');
  const withHost = allowed(ctx, 'os_compute_api:os-migrations:index:host');
  const hidden = q('hidden');
  // changes-since / changes-before: ignored below 2.59, as Nova drops them.
  const f: MigrationFilters = {
    status: q('status'),
    host: q('host'),
    source_compute: q('source_compute'),
    node: q('node'),
    migration_type: q('migration_type'),
    hidden: hidden === undefined ? undefined : truthy(hidden),
    // Server ids are stored in lower case; Nova's database compares them without regard to case.
    instance_uuid: q('instance_uuid')?.toLowerCase(),
    user_id: q('user_id'),
    project_id: projectId,
    uuid: q('uuid'),
  };
  const rows = (await listMigrations(ctx.services, f)).reverse();
  const withType = !!ctx.microversion?.atLeast('2.23');
  return json({ migrations: rows.map((m) => view(m, withType, withHost)) });
}

export const migrationRoutes: Route[] = [computeRoute('migrations-list', 'GET', '/os-migrations', 'os_compute_api:os-migrations:index', index)];
