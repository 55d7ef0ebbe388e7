// Helpers every Nova resource module uses: its routes, project scoping and pagination.
import type { Method, Route, RequestContext } from '../http/router';
import type { Rule } from '../api/policy';
import type { ApiResponse } from '../http/types';
import { COMPUTE } from '../api/microversion';

export const COMPUTE_PREFIX = '/compute/v2.1';

/** A Nova route: path below /compute/v2.1, with the upstream policy name and Jacket's rule for it. */
export function computeRoute(
  name: string,
  method: Method,
  path: string,
  policyName: string,
  rule: Rule,
  handler: (ctx: RequestContext) => Promise<ApiResponse>,
  extra: Partial<Pick<Route, 'rawBody'>> = {},
): Route {
  return { name: `compute-${name}`, method, path: COMPUTE_PREFIX + path, service: 'compute', versioned: COMPUTE, policy: { name: policyName, rule }, handler, ...extra };
}

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
