// POST /servers/{server_id}/action: the body's one key names the action ({"reboot": {...}}). Each
// action module registers its handler, its upstream policy and its request schema here.
import type { RequestContext } from '../../../http/router';
import type { ApiResponse } from '../../../http/types';
import type { Policy } from '../../../api/policy';
import { enforce } from '../../../api/policy';
import { badRequest } from '../../../http/errors';
import { validateBody } from '../../../api/validation';

export interface ServerAction {
  /** The body key, e.g. 'reboot', 'os-start', 'createImage'. */
  name: string;
  policy: Policy;
  /** Schema of the whole body ({"reboot": {...}}), mirroring Nova's for this action at 2.1. */
  schema: object;
  handler: (ctx: RequestContext, args: unknown) => Promise<ApiResponse>;
}

const actions = new Map<string, ServerAction>();

export function registerServerAction(a: ServerAction): void {
  if (actions.has(a.name)) throw new Error(`server action ${a.name} registered twice`);
  actions.set(a.name, a);
}

export function registeredActions(): string[] {
  return [...actions.keys()].sort();
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
  enforce(action.policy, ctx.auth);
  validateBody(action.schema, body);
  return action.handler(ctx, (body as Record<string, unknown>)[key]);
}
