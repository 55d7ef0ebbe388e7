// GET /os-console-auth-tokens/{console_token} (nova/api/openstack/compute/console_auth_tokens.py): an
// admin reads the connection a console token stands for. Jacket hands out no console (every remote
// console answers the driver's 501, servers/api/unsupported.ts), so it never issued a token and every
// token is Nova's answer for one it cannot validate: 404 "Token not found". Below 2.31 the API served
// only the rdp-html5 consoles removed upstream with Hyper-V: a bare 400 before the policy, as Nova.
// From 2.99 the query is strict (show_query_v299: any parameter is 400, before the policy) and the body
// would carry tls_port for a spice-direct console.
import type { RequestContext } from '../../http/router';
import type { ApiResponse } from '../../http/types';
import { strictQuery } from '../../http/router';
import { badRequest, notFound } from '../../http/errors';
import { computeRoute } from '../common';
import type { ComputePolicy } from '../policy';

/** webob's HTTPBadRequest without an explanation. */
const BARE_400 = 'The server could not comply with the request since it is either malformed or otherwise incorrect.';

const below231 = (ctx: RequestContext) => !(ctx.microversion?.atLeast('2.31') ?? false);

async function show(ctx: RequestContext): Promise<ApiResponse> {
  if (below231(ctx)) throw badRequest(BARE_400);
  // Nova's _show: an empty token is 400 "token not provided" (the route never matches one here); any
  // other is looked up in every cell, and Jacket keeps none.
  if (!ctx.params.console_token) throw badRequest('token not provided');
  throw notFound('Token not found');
}

/** The policy is checked after the 2.31 check (inside Nova's _show): below it anyone gets the 400. */
const policy = (_body: unknown, ctx: RequestContext): ComputePolicy | 'authenticated' => (below231(ctx) ? 'authenticated' : 'os_compute_api:os-console-auth-tokens');

export const consoleAuthTokenRoutes = [computeRoute('console-auth-tokens-show', 'GET', '/os-console-auth-tokens/{console_token}', policy, show, { strictQuery: strictQuery([], '2.99') })];
