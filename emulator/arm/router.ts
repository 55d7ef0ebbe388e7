/** Path templates to handlers, matched case-insensitively as ARM does. */
import { ArmError } from './errors';
import type { ApiGroup, Handler } from './http';

export interface Route {
  method: string;
  template: string;
  api: ApiGroup;
  handler: Handler;
  /** Spec operationId, for documentation and the README coverage table. */
  operationId?: string;
  regex: RegExp;
  keys: string[];
}

export interface RouteMatch {
  route: Route;
  params: Record<string, string>;
}

function compile(template: string): { regex: RegExp; keys: string[] } {
  const keys: string[] = [];
  const src = template
    .split('/')
    .map((seg) => {
      const m = /^\{(\w+)\}$/.exec(seg);
      if (m) {
        keys.push(m[1]);
        return '([^/]+)';
      }
      return seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    })
    .join('/');
  return { regex: new RegExp(`^${src}/?$`, 'i'), keys };
}

export class Router {
  readonly routes: Route[] = [];

  add(method: string, template: string, api: ApiGroup, handler: Handler, operationId?: string): void {
    const { regex, keys } = compile(template);
    this.routes.push({ method: method.toUpperCase(), template, api, handler, operationId, regex, keys });
  }

  match(method: string, path: string): RouteMatch | 'method-not-allowed' | undefined {
    let pathMatched = false;
    for (const route of this.routes) {
      const m = route.regex.exec(path);
      if (!m) continue;
      pathMatched = true;
      if (route.method !== method.toUpperCase()) continue;
      const params: Record<string, string> = {};
      route.keys.forEach((k, i) => (params[k] = decodeURIComponent(m[i + 1])));
      return { route, params };
    }
    return pathMatched ? 'method-not-allowed' : undefined;
  }

  /** Which api group would serve this path (for api-version checks before routing). */
  apiGroupFor(path: string): ApiGroup | undefined {
    for (const route of this.routes) if (route.regex.test(path)) return route.api;
    return undefined;
  }
}

/** ARM's answer for a path no registered route serves. */
export function unknownRoute(method: string, path: string, apiVersion: string): ArmError {
  const m = /\/providers\/([^/]+)\/(.*)$/i.exec(path);
  if (!m) {
    return new ArmError(404, 'NotFound', `The requested path '${path}' was not found.`);
  }
  const ns = m[1];
  if (!/^microsoft\.(compute|network)$/i.test(ns)) {
    return new ArmError(404, 'NoRegisteredProviderFound', `No registered resource provider found for namespace '${ns}' and API version '${apiVersion}'.`);
  }
  const parts = m[2].split('/').filter(Boolean);
  const type = parts.filter((_, i) => i % 2 === 0).join('/');
  return new ArmError(404, 'InvalidResourceType', `The resource type '${type}' could not be found in the namespace '${ns}' for api version '${apiVersion}'.`);
}

export function methodNotAllowed(method: string): ArmError {
  return new ArmError(405, 'MethodNotAllowed', `The requested resource does not support http method '${method}'.`);
}
