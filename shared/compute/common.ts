// Helpers every Nova resource module uses: its routes, project scoping and pagination.
import { routeMaker, type RequestContext } from '../http/router';
import { COMPUTE } from '../api/microversion';
import { ApiError, forbidden } from '../http/errors';
import type { ComputePolicy, ImageProxyPolicy } from './policy';

export const COMPUTE_PREFIX = '/compute/v2.1';

/** A Nova route: path below /compute/v2.1, with its upstream policy name (compute/policy.ts). */
export const computeRoute = routeMaker<ComputePolicy | ImageProxyPolicy>('compute', COMPUTE_PREFIX, COMPUTE);

/**
 * The project a request acts on: the token's project. Project policies have already required one; a
 * route whose upstream policy needs no project (key pairs: admin or owner) refuses an unscoped token here.
 */
export function projectOf(ctx: RequestContext): string {
  const p = ctx.auth?.projectId;
  if (!p) throw forbidden('This action needs a project-scoped token.');
  return p;
}

/** An absolute URL of this API, for links. */
export function computeUrl(ctx: RequestContext, path: string): string {
  return `${ctx.services.config.publicUrl}${COMPUTE_PREFIX}${path}`;
}

/** webob's HTTPGone (its explanation, whitespace collapsed as webob does) in Nova's computeFault body: an API removed upstream. */
export const gone = () => new ApiError(410, 'This resource is no longer available. No forwarding address is given.');

/**
 * Nova's MAX_PROXY_API_SUPPORT_VERSION: the APIs that proxy to another service (images, floating IPs
 * and pools, security groups and rules) exist up to 2.35; from 2.36 the pipeline answers a bare 404.
 */
export const PROXY_API = { versions: { max: '2.35' } };

/** parameter_types.single_param: a string given at most once. */
const SINGLE = { type: 'array', items: { type: 'string' }, maxItems: 1 };

/**
 * Nova's query parameter schemas (schemas/*.py, parameter_types): each value a list, as Nova validates
 * `req.GET.dict_of_lists()`; `limit`/`marker`/`changes-since` of the paged lists (2.35 and later).
 */
export const QUERY_PARAM = {
  limit: { type: 'array', items: { type: ['integer', 'string'], pattern: '^[0-9]*$', minimum: 0, minLength: 1 }, maxItems: 1 },
  marker: SINGLE,
  /** Any string, at most once (2.80's migration user_id and project_id). */
  once: SINGLE,
  changesSince: { type: 'array', items: { type: 'string', format: 'date-time' }, maxItems: 1 },
  /** A filter any number of times (Nova reads the last). */
  multi: { type: 'array', items: { type: 'string' } },
};

/** 2.66: Nova's refusal of a changes-before earlier than changes-since (servers, instance actions, migrations). */
export const CHANGES_ORDER = 'The value of changes-since must be less than or equal to changes-before.';
