// POST /servers/{server_id}/action: the body's one key names the action ({"reboot": {...}}). Each
// action module registers its handler, its upstream policy name and its request schema here. The
// pipeline enforces the action's policy (serverActionPolicy names it from the body) before dispatch.
import type { RequestContext } from '../../../http/router';
import type { ApiResponse } from '../../../http/types';
import type { ComputePolicy } from '../../policy';
import { badRequest, notFound } from '../../../http/errors';
import { schemaAt, validateBody, type SchemaByVersion } from '../../../api/validation';

export interface ServerAction {
  /** The body key, e.g. 'reboot', 'os-start', 'createImage'. */
  name: string;
  /** The action's upstream policy (compute/policy.ts), e.g. os_compute_api:servers:reboot. */
  policy: ComputePolicy;
  /** Schema of the whole body ({"reboot": {...}}), mirroring Nova's for this action; several when it changes by microversion. */
  schema: object | SchemaByVersion;
  handler: (ctx: RequestContext, args: unknown) => Promise<ApiResponse>;
  /** The microversions the action exists in (Nova's @wsgi.api_version on it); outside them a bare 404. */
  versions?: { min?: string; max?: string };
}

const actions = new Map<string, ServerAction>();

export function registerServerAction(a: ServerAction): void {
  if (actions.has(a.name)) throw new Error(`server action ${a.name} registered twice`);
  actions.set(a.name, a);
}

export function registeredActions(): string[] {
  return [...actions.keys()].sort();
}

/**
 * The route's policy: the policy of the action the body names (the first key Nova knows, as dispatch
 * picks it); a body naming no known action only needs a token and then answers 400 from dispatch.
 */
export function serverActionPolicy(body: unknown): ComputePolicy | 'authenticated' {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return 'authenticated';
  const key = Object.keys(body).find((k) => actions.has(k));
  return key === undefined ? 'authenticated' : actions.get(key)!.policy;
}

export async function dispatchServerAction(ctx: RequestContext): Promise<ApiResponse> {
  const body = ctx.body;
  if (typeof body !== 'object' || body === null || Array.isArray(body) || Object.keys(body).length === 0) {
    throw badRequest('Malformed request body');
  }
  // Nova takes the first key it knows (nova/api/openstack/wsgi.py get_action_args).
  const key = Object.keys(body).find((k) => actions.has(k));
  if (!key) throw badRequest(`There is no such action: ${Object.keys(body)[0]}`);
  const action = actions.get(key)!;
  // Nova's api_version decorator runs before the body schema: VersionNotFoundForAPIMethod is a bare 404.
  if (action.versions && ctx.microversion && !ctx.microversion.matches(action.versions.min, action.versions.max)) throw notFound('The resource could not be found.');
  validateBody(Array.isArray(action.schema) ? schemaAt(ctx.microversion, action.schema as SchemaByVersion) : action.schema, body);
  return action.handler(ctx, (body as Record<string, unknown>)[key]);
}
