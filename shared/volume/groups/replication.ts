// Group replication (3.38, GROUP_REPLICATION): enable_replication, disable_replication,
// failover_replication and list_replication_targets (v3/groups.py, group/api.py). Jacket's one backend
// has no replication: it reports no replication capability, so no group it holds can be of a
// replication type in Cinder's sense, and every group answers as Cinder answers a group whose type is
// not replication-enabled — after the body's schema, the group's lookup (404) and the action's policy
// (asked by group/api.py with the group as target), _check_type's InvalidGroupType, 400. Nothing changes.
import type { RequestContext } from '../../http/router';
import { badRequest } from '../../http/errors';
import { validateBody } from '../../api/validation';
import { authorize } from '../../api/policy';
import { booleanSchema } from '../common';
import { findGroup } from '../model';

export const GROUP_REPLICATION = '3.38';

export const REPLICATION_ACTIONS = ['enable_replication', 'disable_replication', 'failover_replication', 'list_replication_targets'] as const;
export type ReplicationAction = (typeof REPLICATION_ACTIONS)[number];

const objectBody = (a: string) => ({ type: 'object', properties: { [a]: { type: 'object' } }, required: [a], additionalProperties: false });
/** cinder/api/schemas/groups.py failover_replication (allow_attached_volume: parameter_types.boolean). */
const failoverSchema = {
  type: 'object',
  properties: {
    failover_replication: {
      type: 'object',
      properties: { allow_attached_volume: booleanSchema, secondary_backend_id: { type: ['string', 'null'], minLength: 0, maxLength: 255 } },
      additionalProperties: false,
    },
  },
  required: ['failover_replication'],
  additionalProperties: false,
};
const schemas: Record<ReplicationAction, object> = {
  enable_replication: objectBody('enable_replication'),
  disable_replication: objectBody('disable_replication'),
  failover_replication: failoverSchema,
  list_replication_targets: objectBody('list_replication_targets'),
};

/** POST /groups/{id}/action with one of the replication actions, at 3.38 or later. */
export async function groupReplication(ctx: RequestContext, a: ReplicationAction): Promise<never> {
  validateBody(schemas[a], ctx.body);
  const g = await findGroup(ctx, ctx.params.group_id);
  authorize(ctx, `group:${a}`, { projectId: g.value.project_id });
  // group/api.py _check_type; list_replication_targets lets the InvalidGroupType through, the other
  // three turn it into HTTPBadRequest: the same 400 body either way.
  throw badRequest(`Invalid group type: Group ${g.value.id} is not a replication group type.`);
}
