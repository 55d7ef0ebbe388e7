// /default-types: per-project default volume types (Block Storage 3.62, DEFAULT_TYPE_OVERRIDES;
// cinder/api/v3/default_types.py). Below 3.62 the routes do not exist (Cinder's 404). The policies are
// asked in the handlers, not by the pipeline, because Cinder asks them inside
// api_utils.validate_project_and_authorize: after the body's schema and the target project's Keystone
// lookup, and refuses in that helper's words rather than oslo.policy's.
import type { RequestContext, Route } from '../../http/router';
import { json, noContent } from '../../http/respond';
import { ApiError, badRequest, forbidden, notFound } from '../../http/errors';
import { validateBody } from '../../api/validation';
import { allowed } from '../../api/policy';
import { cinderRoute } from '../common';
import type { VolumePolicy } from '../policy';
import { typeByNameOrId } from '../types/store';
import { defaultTypeStore, type DefaultTypeRecord } from './store';

export const DEFAULT_TYPE_OVERRIDES = '3.62';

/** cinder/api/schemas/default_types.py create_or_update: no top-level `required`, as upstream. */
const createOrUpdate = {
  type: 'object',
  properties: {
    default_type: {
      type: 'object',
      properties: { volume_type: { type: 'string', format: 'name', minLength: 1, maxLength: 255 } },
      required: ['volume_type'],
      additionalProperties: false,
    },
  },
};

const NOT_AUTHORIZED = 'You are not authorized to perform this operation.';

/** api_utils.validate_project_and_authorize: Keystone's project first (404), then the policy for it (403). */
async function validateProjectAndAuthorize(ctx: RequestContext, projectId: string, policy: VolumePolicy): Promise<void> {
  if (!(await ctx.services.identity.getProject(projectId))) throw notFound(`Project with id ${projectId} not found.`);
  if (!allowed(ctx, policy, { projectId })) throw forbidden(NOT_AUTHORIZED);
}

const view = (d: DefaultTypeRecord) => ({ project_id: d.project_id, volume_type_id: d.volume_type_id });

async function createUpdate(ctx: RequestContext) {
  const body = validateBody<{ default_type?: { volume_type: string } }>(createOrUpdate, ctx.body);
  // The schema lets a body without default_type through; Cinder's body['default_type'] then raises a
  // KeyError, which its FaultWrapper answers with a bare 500. Jacket answers no input with a 5xx: it is
  // the 400 jsonschema would give had upstream's schema required the key (docs/volumes.md).
  if (body.default_type === undefined) throw badRequest("Invalid input for field/attribute default_type. Value: None. 'default_type' is a required property");
  const projectId = ctx.params.target_project_id;
  await validateProjectAndAuthorize(ctx, projectId, 'volume_extension:default_set_or_update');
  let typeId: string;
  try {
    typeId = (await typeByNameOrId(ctx, body.default_type.volume_type)).id;
  } catch (e) {
    // VolumeTypeNotFound becomes HTTPBadRequest with its message here, not the usual 404.
    if (e instanceof ApiError && e.status === 404) throw badRequest(e.message);
    throw e;
  }
  return json({ default_type: view(await defaultTypeStore(ctx.services).set(projectId, typeId)) });
}

async function detail(ctx: RequestContext) {
  const projectId = ctx.params.target_project_id;
  await validateProjectAndAuthorize(ctx, projectId, 'volume_extension:default_get');
  const d = await defaultTypeStore(ctx.services).get(projectId);
  if (!d) throw notFound(`Default type for project ${projectId} not found.`);
  return json({ default_type: view(d) });
}

async function index(ctx: RequestContext) {
  if (!allowed(ctx, 'volume_extension:default_get_all')) throw forbidden(NOT_AUTHORIZED);
  return json({ default_types: (await defaultTypeStore(ctx.services).list()).map(view) });
}

async function remove(ctx: RequestContext) {
  const projectId = ctx.params.target_project_id;
  try {
    await validateProjectAndAuthorize(ctx, projectId, 'volume_extension:default_unset');
  } catch (e) {
    // Cinder unsets a deleted project's default anyway (and, the lookup failing first, asks no policy).
    if (!(e instanceof ApiError && e.status === 404)) throw e;
  }
  await defaultTypeStore(ctx.services).unset(projectId);
  return noContent();
}

/** The pipeline asks no policy: each handler asks its own (see the top of this file). */
const inHandler = (_policy: VolumePolicy) => (): 'authenticated' => 'authenticated';
const since = { versions: { min: DEFAULT_TYPE_OVERRIDES } };

export const defaultTypeRoutes: Route[] = [
  cinderRoute('default-types-set', 'PUT', '/default-types/{target_project_id}', inHandler('volume_extension:default_set_or_update'), createUpdate, since),
  cinderRoute('default-types-show', 'GET', '/default-types/{target_project_id}', inHandler('volume_extension:default_get'), detail, since),
  cinderRoute('default-types-list', 'GET', '/default-types', inHandler('volume_extension:default_get_all'), index, since),
  cinderRoute('default-types-unset', 'DELETE', '/default-types/{target_project_id}', inHandler('volume_extension:default_unset'), remove, since),
];
