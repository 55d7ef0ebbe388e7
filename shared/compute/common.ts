// Helpers every Nova resource module uses: its routes, project scoping and pagination.
import { routeMaker, type RequestContext } from '../http/router';
import { COMPUTE } from '../api/microversion';

export const COMPUTE_PREFIX = '/compute/v2.1';

/** A Nova route: path below /compute/v2.1, with the upstream policy name and Jacket's rule for it. */
export const computeRoute = routeMaker('compute', COMPUTE_PREFIX, COMPUTE);

/** The project a request acts on: the token's project (policy has already required one). */
export function projectOf(ctx: RequestContext): string {
  const p = ctx.auth?.projectId;
  if (!p) throw new Error('project-scoped route reached without a project-scoped token');
  return p;
}

/** An absolute URL of this API, for links. */
export function computeUrl(ctx: RequestContext, path: string): string {
  return `${ctx.services.config.publicUrl}${COMPUTE_PREFIX}${path}`;
}
