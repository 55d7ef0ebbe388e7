// /servers/{server_id}/migrations (nova/api/openstack/compute/server_migrations.py): a server's
// in-progress live migrations — force_complete (2.22), list and show (2.23), abort (2.24). Azure
// live-migrates only for its own maintenance and Jacket never starts one (os-migrateLive answers its
// pre-check error), so a server has no live migration record and no task_state 'migrating': the list is
// empty, show is Nova's 404, and force_complete / abort meet Nova's compute API checks (lock, then
// vm_state / task_state, 409) or, past them, Nova's answer for a migration that does not exist.
// Each method is a bare 404 below its version (Route.versions, before the policy, as Nova's dispatch).
import type { RequestContext, Route } from '../../../http/router';
import { json } from '../../../http/respond';
import { badRequest, notFound } from '../../../http/errors';
import { validateBody } from '../../../api/validation';
import { computeRoute } from '../../common';
import { checkInstanceLock, checkInstanceState, visibleServer } from '../model';

/** server_migrations.force_complete */
const forceCompleteSchema = {
  type: 'object',
  properties: { force_complete: { type: 'null' } },
  required: ['force_complete'],
  additionalProperties: false,
};

/** objects.Migration.get_by_id_and_instance: no live migration record exists on Jacket. */
const migrationNotFound = (id: string, serverId: string) => `Migration ${id} not found for instance ${serverId}`;

/** POST .../migrations/{id}/action {"force_complete": null}: compute/api.py live_migrate_force_complete. */
async function action(ctx: RequestContext): Promise<never> {
  const body = ctx.body;
  if (typeof body !== 'object' || body === null || Array.isArray(body) || Object.keys(body).length === 0) throw badRequest('Malformed request body');
  if (!('force_complete' in body)) throw badRequest(`There is no such action: ${Object.keys(body)[0]}`);
  validateBody(forceCompleteSchema, body);
  const srv = (await visibleServer(ctx)).value;
  checkInstanceLock(srv, ctx.auth!);
  checkInstanceState(srv, 'force_complete', { vm: ['active'], task: ['migrating'] });
  // MigrationNotFoundForInstance is a 400 here (Nova's controller maps it so).
  throw badRequest(migrationNotFound(ctx.params.migration_id, srv.id));
}

/** GET .../migrations: get_migrations_in_progress_by_instance(..., 'live-migration'). */
async function index(ctx: RequestContext) {
  await visibleServer(ctx);
  return json({ migrations: [] });
}

/** GET .../migrations/{id}: the in-progress live migration, of which there is none. */
async function show(ctx: RequestContext): Promise<never> {
  const srv = (await visibleServer(ctx)).value;
  throw notFound(`In-progress live migration ${ctx.params.migration_id} is not found for server ${srv.id}.`);
}

/** DELETE .../migrations/{id}: compute/api.py live_migrate_abort (lock, task_state migrating, the record). */
async function remove(ctx: RequestContext): Promise<never> {
  const srv = (await visibleServer(ctx)).value;
  checkInstanceLock(srv, ctx.auth!);
  checkInstanceState(srv, 'abort live migration', { task: ['migrating'] });
  throw notFound(migrationNotFound(ctx.params.migration_id, srv.id));
}

export const serverMigrationRoutes: Route[] = [
  computeRoute('server-migrations-action', 'POST', '/servers/{server_id}/migrations/{migration_id}/action', 'os_compute_api:servers:migrations:force_complete', action, { versions: { min: '2.22' } }),
  computeRoute('server-migrations-list', 'GET', '/servers/{server_id}/migrations', 'os_compute_api:servers:migrations:index', index, { versions: { min: '2.23' } }),
  computeRoute('server-migrations-show', 'GET', '/servers/{server_id}/migrations/{migration_id}', 'os_compute_api:servers:migrations:show', show, { versions: { min: '2.23' } }),
  computeRoute('server-migrations-delete', 'DELETE', '/servers/{server_id}/migrations/{migration_id}', 'os_compute_api:servers:migrations:delete', remove, { versions: { min: '2.24' } }),
];
