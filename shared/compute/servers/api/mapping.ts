// Finding a server as Nova's controllers that go through its instance mapping do (server_tags.py,
// server_shares.py: _get_instance_mapping, context.can with the mapping's project, then get_instance).
// The mapping ignores projects and outlives the instance: another project's server is 403 (the policy's
// project target), an id never seen is 404 "has no mapping to a cell", a deleted one 404 "could not be found".
import type { RequestContext } from '../../../http/router';
import type { ComputePolicy } from '../../policy';
import type { Stored } from '../../../store/tables';
import { notFound } from '../../../http/errors';
import { authorize } from '../../../api/policy';
import { getServerAny, instanceNotFound, type ServerRecord } from '../model';
import { deletedServerProject } from '../instanceActions';

/** The server `ctx.params.server_id`, after `policy` on its project. */
export async function mappedServer(ctx: RequestContext, policy: ComputePolicy): Promise<Stored<ServerRecord>> {
  const id = ctx.params.server_id;
  const cur = await getServerAny(ctx.services, id);
  const project = cur?.value.project_id ?? (await deletedServerProject(ctx.services, id));
  if (project === undefined) throw notFound(`Instance ${id} has no mapping to a cell.`);
  authorize(ctx, policy, { projectId: project });
  if (!cur) throw instanceNotFound(id);
  return cur;
}
