// The request pipeline every route goes through, whichever host runs it: request id, route match,
// authentication, policy, microversion negotiation, body parsing, error bodies in the service's shape.
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import type { ApiRequest, ApiResponse } from './types';
import { ApiError, badRequest, faultBody, type ServiceKind } from './errors';
import { splitPath, type Router, type RequestContext } from './router';
import { parseJsonBody } from './body';
import { authorize } from '../api/policy';
import { negotiate, versionHeaders } from '../api/microversion';
import { validateQuery } from '../api/validation';
import type { Services } from '../services';
import { log } from '../log';
import { reportState } from '../servicegroup/registry';

export function serviceOfPath(path: string): ServiceKind {
  if (path.startsWith('/compute')) return 'compute';
  if (path.startsWith('/volume')) return 'volume';
  if (path.startsWith('/identity')) return 'identity';
  if (path.startsWith('/network')) return 'network';
  if (path.startsWith('/image')) return 'image';
  if (path.startsWith('/placement')) return 'placement';
  return 'root';
}

function baseHeaders(service: ServiceKind, requestId: string): Record<string, string> {
  const h: Record<string, string> = { 'x-openstack-request-id': requestId };
  if (service === 'compute') h['x-compute-request-id'] = requestId;
  return h;
}

/**
 * Nova and Cinder answer 404 for a URL whose last segment is empty (`/servers/`, `/volumes/`,
 * `/os-simple-tenant-usage/`): no route has an empty id. A version root (`/compute/v2.1/`) is what
 * keystoneauth's discovery asks for, and stays served.
 */
function emptyTrailingSegment(service: ServiceKind, path: string, routePath: string): boolean {
  return (service === 'compute' || service === 'volume') && path.endsWith('/') && splitPath(routePath).length > 2;
}

export async function handle(router: Router, services: Services, req: ApiRequest): Promise<ApiResponse> {
  const requestId = `req-${randomUUID()}`;
  const started = Date.now();
  let service = serviceOfPath(req.path);
  let res: ApiResponse;
  let ctx: RequestContext | undefined;
  let routeName = '-';
  // A safe request's revocation check, still running beside its handler (Authenticator.authenticateEarly).
  let rest: Promise<void> | undefined;
  try {
    const { match, allowed } = router.match(req.method, req.path);
    if (!match) {
      if (allowed.length > 0) {
        throw new ApiError(405, 'The method specified is not allowed for this resource.', {
          Allow: [...new Set(allowed)].join(', '),
        });
      }
      throw new ApiError(404, 'The resource could not be found.');
    }
    const { route, params, projectless } = match;
    routeName = route.name;
    service = route.service;
    if (emptyTrailingSegment(service, req.path, route.path)) throw new ApiError(404, 'The resource could not be found.');
    ctx = { req, params, query: req.query, body: undefined, requestId, services, ...(projectless ? { projectless } : {}) };
    // The API side of the services (nova-scheduler, nova-conductor, cinder-scheduler) beats as it serves.
    // Its log lines are the API side's, at the level set-log gave it (registry.ts applyLogLevel).
    log.enterScope('api');
    if (service === 'compute' || service === 'volume') await reportState(services, 'api');
    // The one policy enforcement point: the route's policy, looked up in its service's policy file.
    if (route.policy !== 'public') {
      const token = req.headers['x-auth-token'];
      // Only GET and HEAD start early: they change nothing a revoked token could be blamed for (at most
      // the idempotent first-use set-up every reader triggers), and their answer is held below.
      if ((req.method === 'GET' || req.method === 'HEAD') && services.auth.authenticateEarly) {
        const early = services.auth.authenticateEarly(token);
        ctx.auth = early.auth;
        rest = early.rest;
      } else {
        ctx.auth = await services.auth.authenticate(token);
      }
    }
    // A project-less URL acts on the token's project (Cinder's context.project_id); a token with none
    // (unscoped) still has no project to act on and is refused as on a URL naming one.
    if (projectless && route.projectParam !== undefined && ctx.auth?.projectId) params[route.projectParam] = ctx.auth.projectId;
    if (route.projectParam !== undefined && (params[route.projectParam] === undefined || params[route.projectParam] !== ctx.auth?.projectId)) {
      throw badRequest('Malformed request url');
    }
    if (route.versioned && route.versions) {
      ctx.microversion = negotiate(route.versioned, req.headers);
      if (!ctx.microversion.matches(route.versions.min, route.versions.max)) throw new ApiError(404, 'The resource could not be found.');
    }
    if (route.strictQuery && route.versioned && negotiate(route.versioned, req.headers).atLeast(route.strictQuery.from)) validateQuery(route.strictQuery.schema, req.query);
    if (typeof route.policy === 'string') authorize(ctx, route.policy, undefined, service);
    if (route.versioned) ctx.microversion = negotiate(route.versioned, req.headers);
    ctx.body = route.rawBody ? req.body : parseJsonBody(service, req);
    // An action route's policy is the action's own, named by the body.
    if (typeof route.policy === 'function') authorize(ctx, route.policy(ctx.body, ctx), undefined, service);
    res = await route.handler(ctx);
    if (rest) {
      const answer = res;
      await rest.catch((e: unknown) => {
        if (answer.body instanceof Readable) answer.body.destroy();
        throw e;
      });
    }
    if (route.versioned && ctx.microversion) {
      res.headers = { ...versionHeaders(route.versioned, ctx.microversion), ...res.headers };
    }
  } catch (e) {
    // A revoked token's answer is its 401, whatever the rest of the request came to.
    const cause = rest
      ? await rest.then(
          () => e,
          (revoked: unknown) => revoked,
        )
      : e;
    res = errorResponse(service, cause, requestId, services.config.publicUrl);
  }
  res.headers = { ...baseHeaders(service, requestId), ...res.headers };
  if (req.method === 'HEAD') res.body = undefined;
  log.info('request', {
    requestId,
    method: req.method,
    path: req.path,
    route: routeName,
    status: res.status,
    ms: Date.now() - started,
    project: ctx?.auth?.projectId,
    user: ctx?.auth?.userId,
  });
  return res;
}

function errorResponse(service: ServiceKind, e: unknown, requestId: string, publicUrl: string): ApiResponse {
  if (e instanceof ApiError) {
    // Authentication failures answer as keystonemiddleware does, for every service.
    if (e.status === 401) {
      return {
        status: 401,
        headers: { 'WWW-Authenticate': `Keystone uri="${publicUrl}/identity"`, ...e.headers },
        body: faultBody('identity', 401, e.message),
      };
    }
    return { status: e.status, headers: e.headers, body: faultBody(service, e.status, e.message, e.type, requestId) };
  }
  log.error('unhandled error', { requestId, error: e instanceof Error ? (e.stack ?? e.message) : String(e) });
  const message =
    service === 'identity'
      ? 'An unexpected error prevented the server from fulfilling your request.'
      : 'Unexpected API Error. Please report this at http://bugs.launchpad.net/nova/ and attach the Nova API log if possible.';
  return { status: 500, headers: {}, body: faultBody(service, 500, message, undefined, requestId) };
}
