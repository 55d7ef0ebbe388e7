// One route table serves both hosts: functions/http.ts registers each route as an Azure Function, and
// local/host.ts matches requests against the same table. Paths use {param} segments.
import type { ApiRequest, ApiResponse } from './types';
import type { ServiceKind } from './errors';
import type { AuthContext, PolicyName } from '../api/policy';
import type { Microversion, VersionedService } from '../api/microversion';
import type { Services } from '../services';

export type Method = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface RequestContext {
  req: ApiRequest;
  params: Record<string, string>;
  query: URLSearchParams;
  /** Parsed JSON body (undefined when empty), or the raw bytes for routes with rawBody. */
  body: unknown;
  auth?: AuthContext;
  microversion?: Microversion;
  requestId: string;
  services: Services;
  /** The URL left out the route's project segment (Route.projectOptional): links leave it out too. */
  projectless?: boolean;
}

export interface Route {
  /** Unique; also the Azure Function name. */
  name: string;
  method: Method;
  path: string;
  service: ServiceKind;
  /** The microversioned API this route belongs to, if any. */
  versioned?: VersionedService;
  /**
   * The policy the pipeline enforces: a name from the service's policy file (see shared/api/policy.ts),
   * or, for action routes, a function from the parsed body to the action's own policy name (it may
   * also read ctx.microversion: a method that exists only from some microversion checks its policy there).
   */
  policy: RoutePolicy;
  /**
   * The path parameter that must be the token's project (Cinder's URLs carry it): any other answers
   * 400 "Malformed request url", for admins too, before the policy check, as Cinder does.
   */
  projectParam?: string;
  /**
   * The route also answers without its projectParam segment (Cinder 3.67, PROJECT_ID_OPTIONAL_IN_URL: the
   * ProjectMapper of cinder/api/v3/router.py maps every /v3/{project_id}/X as /v3/X too, at every
   * microversion, the mapper knowing none): the project is then the token's.
   */
  projectOptional?: boolean;
  /**
   * The microversions the method exists in (Nova's @wsgi.api_version on it): outside them the pipeline
   * answers a bare 404 (VersionNotFoundForAPIMethod) before the policy check, as Nova's dispatch does.
   */
  versions?: { min?: string; max?: string };
  /**
   * A query schema that refuses unknown parameters from a microversion on (Nova's *_query_v275, whose
   * additionalProperties turned False at 2.75): checked before the policy, as Nova's query_schema
   * decorator runs before the method. The values are the handler's to check (`strictQuery`).
   */
  strictQuery?: { from: string; schema: object };
  /** Keep the body as bytes instead of parsing JSON (image upload). */
  rawBody?: boolean;
  /** Leave the body unread and hand it over as ctx.req.stream (uploads too large to buffer). */
  streamBody?: boolean;
  handler: (ctx: RequestContext) => Promise<ApiResponse>;
}

/** A policy name, or a function naming it from the parsed body (and the negotiated microversion). */
export type RoutePolicy<P extends PolicyName = PolicyName> = P | ((body: unknown, ctx: RequestContext) => P);

export interface Match {
  route: Route;
  params: Record<string, string>;
  /** Matched without the route's projectParam segment (projectOptional): the project is the token's. */
  projectless?: boolean;
}

interface Compiled {
  route: Route;
  segments: string[];
  projectless?: boolean;
  /** Literal segments rank above parameters, so /servers/detail beats /servers/{id}. */
  score: number;
}

export function splitPath(path: string): string[] {
  return path.split('/').filter((s) => s.length > 0);
}

export class Router {
  private readonly compiled: Compiled[];

  constructor(public readonly routes: Route[]) {
    const names = new Set<string>();
    for (const r of routes) {
      if (names.has(r.name)) throw new Error(`duplicate route name ${r.name}`);
      names.add(r.name);
    }
    const compile = (route: Route, segments: string[], projectless?: boolean): Compiled => {
      const score = segments.reduce((s, seg, i) => s + (seg.startsWith('{') ? 0 : 2 ** (20 - i)), 0);
      return { route, segments, score, ...(projectless ? { projectless } : {}) };
    };
    // A project-less twin has its collection as a literal where the other has {project_id}, so it ranks
    // above: /v3/volumes/detail is the detailed list, never project "volumes"'s /detail, as Cinder's
    // hex-only project_id_regex decides; a project id that is no collection still reaches the project
    // check (400 "Malformed request url" when it is not the token's), as before.
    this.compiled = routes
      .flatMap((route) => {
        const segments = splitPath(route.path);
        const own = compile(route, segments);
        if (!route.projectOptional || route.projectParam === undefined) return [own];
        const token = `{${route.projectParam}}`;
        return [
          own,
          compile(
            route,
            segments.filter((seg) => seg !== token),
            true,
          ),
        ];
      })
      .sort((a, b) => b.score - a.score);
  }

  /** The route for method+path; `allowed` lists the methods of routes whose path matched, for 405. */
  match(method: string, path: string): { match?: Match; allowed: Method[] } {
    const parts = splitPath(path);
    const allowed: Method[] = [];
    const wanted = method === 'HEAD' ? ['HEAD', 'GET'] : [method];
    let best: Match | undefined;
    for (const c of this.compiled) {
      const params = matchSegments(c.segments, parts);
      if (!params) continue;
      allowed.push(c.route.method);
      const m: Match = { route: c.route, params, ...(c.projectless ? { projectless: true } : {}) };
      if (!best && wanted.includes(c.route.method)) {
        best = m;
      } else if (best && c.route.method === 'HEAD' && method === 'HEAD' && best.route.method === 'GET') {
        best = m;
      }
    }
    return { match: best, allowed };
  }
}

function matchSegments(pattern: string[], parts: string[]): Record<string, string> | undefined {
  if (pattern.length !== parts.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i];
    if (p.startsWith('{') && p.endsWith('}')) {
      let v: string;
      try {
        v = decodeURIComponent(parts[i]);
      } catch {
        return undefined;
      }
      params[p.slice(1, -1)] = v;
    } else if (p !== parts[i]) {
      return undefined;
    }
  }
  return params;
}

/**
 * A route maker for one API: `name` gets the API's prefix (unique Azure Function names), `path` is
 * below the API's root, and `policy` names an upstream policy of the API's policy file — `P` is that
 * file's names, so a typo does not compile.
 */
export function routeMaker<P extends PolicyName>(service: ServiceKind, pathPrefix: string, versioned?: VersionedService) {
  return (
    name: string,
    method: Method,
    path: string,
    policy: RoutePolicy<P | 'public' | 'authenticated'>,
    handler: (ctx: RequestContext) => Promise<ApiResponse>,
    extra: Partial<Pick<Route, 'rawBody' | 'streamBody' | 'versions' | 'strictQuery'>> = {},
  ): Route => ({
    name: `${service}-${name}`,
    method,
    path: pathPrefix + path,
    service,
    ...(versioned ? { versioned } : {}),
    policy,
    handler,
    ...extra,
  });
}

/**
 * Route.strictQuery for a Nova query schema made strict at `from` (2.75 for most): only `keys` are
 * allowed, any other is 400 `Additional properties are not allowed ('<k>' was unexpected)`.
 */
export function strictQuery(keys: readonly string[], from = '2.75'): Route['strictQuery'] {
  return { from, schema: { type: 'object', properties: Object.fromEntries(keys.map((k) => [k, {}])), additionalProperties: false } };
}
