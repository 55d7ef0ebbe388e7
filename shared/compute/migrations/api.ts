// GET /os-migrations (nova/api/openstack/compute/migrations.py): the migration records of resizes and
// cold migrations (migrations/model.ts), filtered as Nova's migration_get_all_by_filters filters them.
// Below 2.59 in its unsorted order (oldest first); from 2.59 newest first (created_at, id desc), paged
// (limit, marker = a migration uuid, migrations_links), filtered on changes-since (updated_at), each
// record with its uuid, and the query strict (index_query_v259: unknown keys 400). Policies as Nova's: index
// (project manager or admin) for the list, index:all_projects (admin) unless the caller filters on its
// own project_id, index:host (admin) or the host fields are null. From 2.23 each record carries
// migration_type, and `links` only an in-progress live migration would have (Jacket makes none).
import type { RequestContext, Route } from '../../http/router';
import { json } from '../../http/respond';
import { allowed, authorize } from '../../api/policy';
import { badRequest } from '../../http/errors';
import { validateQuery } from '../../api/validation';
import { nextLinks, MAX_LIMIT } from '../../api/pagination';
import { CHANGES_ORDER, computeRoute, computeUrl, QUERY_PARAM } from '../common';
import { listMigrations, type MigrationFilters, type MigrationRecord } from './model';

/** Nova's times from the DB: naive UTC, microseconds ("2016-01-29T13:42:02.000000"). */
const dbTime = (t: string) => t.replace(/Z$/, '').replace(/\.(\d{3})$/, '.$1000');

/** migrations.index_query_v259: the filters Nova lists, paging and changes-since; nothing else. */
const indexQueryV259 = {
  type: 'object',
  properties: {
    hidden: QUERY_PARAM.multi,
    host: QUERY_PARAM.multi,
    instance_uuid: QUERY_PARAM.multi,
    source_compute: QUERY_PARAM.multi,
    status: QUERY_PARAM.multi,
    migration_type: QUERY_PARAM.multi,
    limit: QUERY_PARAM.limit,
    marker: QUERY_PARAM.marker,
    'changes-since': QUERY_PARAM.changesSince,
  },
  additionalProperties: false,
};
/** migrations.index_query_v266: and changes-before. */
const indexQueryV266 = { ...indexQueryV259, properties: { ...indexQueryV259.properties, 'changes-before': QUERY_PARAM.changesSince } };

/** migrations.index_query_v280: and user_id, project_id (each once). */
const indexQueryV280 = { ...indexQueryV266, properties: { ...indexQueryV266.properties, user_id: QUERY_PARAM.once, project_id: QUERY_PARAM.once } };

function view(m: MigrationRecord, withType: boolean, withHost: boolean, withUuid: boolean, withOwner = false) {
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
  if (withUuid) v.uuid = m.uuid;
  // 2.80: who started it, and the server's project (index_response_v280).
  if (withOwner) Object.assign(v, { user_id: m.user_id, project_id: m.project_id });
  return v;
}

/** oslo's bool_from_string, as a Boolean column compares the query's string. */
const truthy = (v: string) => ['1', 't', 'true', 'on', 'y', 'yes'].includes(v.trim().toLowerCase());

async function index(ctx: RequestContext) {
  const paged = !!ctx.microversion?.atLeast('2.59');
  const before266 = !!ctx.microversion?.atLeast('2.66');
  const v280 = !!ctx.microversion?.atLeast('2.80');
  if (paged) validateQuery(v280 ? indexQueryV280 : before266 ? indexQueryV266 : indexQueryV259, ctx.query);
  // Nova copies req.GET into its filters: a repeated key gives its last value.
  const q = (k: string) => {
    const all = ctx.query.getAll(k);
    return all.length ? all[all.length - 1] : undefined;
  };
  const projectId = q('project_id');
  if (!projectId || projectId !== ctx.auth?.projectId) authorize(ctx, 'os_compute_api:os-migrations:index:all_projects');
  const withHost = allowed(ctx, 'os_compute_api:os-migrations:index:host');
  const hidden = q('hidden');
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
  const rows = await listMigrations(ctx.services, f);
  const withType = !!ctx.microversion?.atLeast('2.23');
  if (!paged) {
    // changes-since / changes-before: ignored below 2.59, as Nova drops them.
    return json({ migrations: rows.reverse().map((m) => view(m, withType, withHost, false)) });
  }
  // Newest first (the rows' order); the marker is looked up among all records, then the page after it.
  const limit = Math.min(q('limit') !== undefined ? Number(q('limit')) : MAX_LIMIT, MAX_LIMIT);
  const marker = q('marker');
  const since = q('changes-since') !== undefined ? Date.parse(q('changes-since')!) : undefined;
  // 2.66: updated_at <= changes-before, which may not come before changes-since.
  const until = before266 && q('changes-before') !== undefined ? Date.parse(q('changes-before')!) : undefined;
  if (since !== undefined && until !== undefined && until < since) throw badRequest(CHANGES_ORDER);
  let from = 0;
  if (marker !== undefined) {
    const all = f.uuid === undefined && Object.values(f).every((v) => v === undefined) ? rows : await listMigrations(ctx.services, {});
    const at = all.find((m) => m.uuid === marker);
    if (!at) throw badRequest(`Marker ${marker} could not be found.`);
    from = rows.findIndex((m) => m.id < at.id);
    if (from < 0) from = rows.length;
  }
  // A record not updated yet has a NULL updated_at, which no changes-since matches.
  const page =
    limit === 0
      ? []
      : rows
          .slice(from)
          .filter((m) => since === undefined || (m.updated_at !== null && Date.parse(m.updated_at) >= since))
          .filter((m) => until === undefined || (m.updated_at !== null && Date.parse(m.updated_at) <= until))
          .slice(0, limit);
  const links = nextLinks(
    computeUrl(ctx, '/os-migrations'),
    ctx.query,
    page.map((m) => ({ id: m.uuid })),
    { limit, marker },
  );
  return json({ migrations: page.map((m) => view(m, withType, withHost, true, v280)), ...(links ? { migrations_links: links } : {}) });
}

export const migrationRoutes: Route[] = [computeRoute('migrations-list', 'GET', '/os-migrations', 'os_compute_api:os-migrations:index', index)];
