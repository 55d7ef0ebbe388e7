// /servers/{server_id}/shares (nova/api/openstack/compute/server_shares.py, from 2.97; a bare 404
// below it): Manila shares mounted into a server over virtiofs. Jacket has no Manila and Azure VMs no
// virtiofs or file-backed memory, so its one compute host has neither COMPUTE_STORAGE_VIRTIO_FS nor
// COMPUTE_MEM_BACKING_FILE: as Nova with such a host, no server ever has a share mapping, the list is
// empty, show and delete find none (404 ShareNotFound), and create, once the server is stopped (409
// otherwise), is refused by hardware.check_shares_supported before Manila is asked (409
// ForbiddenSharesNotConfiguredCorrectly). The server is found through its instance mapping, as tags.
import type { RequestContext, Route } from '../../../http/router';
import type { ApiResponse } from '../../../http/types';
import { strictQuery } from '../../../http/router';
import { json } from '../../../http/respond';
import { conflict, notFound } from '../../../http/errors';
import { validateBody } from '../../../api/validation';
import { computeRoute } from '../../common';
import { checkInstanceState } from '../model';
import { mappedServer } from './mapping';

/** server_shares.create: parameter_types.share_id and share_tag. */
const createSchema = {
  type: 'object',
  properties: {
    share: {
      type: 'object',
      properties: {
        share_id: { type: 'string', format: 'uuid' },
        tag: { type: 'string', minLength: 1, maxLength: 255, pattern: '^[a-zA-Z0-9-]*$' },
      },
      required: ['share_id'],
      additionalProperties: false,
    },
  },
  required: ['share'],
  additionalProperties: false,
};

const shareNotFound = (shareId: string) => notFound(`Share ${shareId} could not be found.`);

async function index(ctx: RequestContext) {
  await mappedServer(ctx, 'os_compute_api:os-server-shares:index');
  return json({ shares: [] });
}

async function create(ctx: RequestContext): Promise<ApiResponse> {
  validateBody(createSchema, ctx.body);
  const cur = await mappedServer(ctx, 'os_compute_api:os-server-shares:create');
  // _check_instance_in_valid_state: only a stopped server takes a share.
  checkInstanceState(cur.value, 'create share', { vm: ['stopped'] });
  // hardware.check_shares_supported: every compute is new enough; the host lacks the virtiofs trait.
  throw conflict('Feature not supported because either compute or instance are not configured correctly.');
}

async function show(ctx: RequestContext): Promise<ApiResponse> {
  await mappedServer(ctx, 'os_compute_api:os-server-shares:show');
  throw shareNotFound(ctx.params.share_id);
}

async function remove(ctx: RequestContext): Promise<ApiResponse> {
  const cur = await mappedServer(ctx, 'os_compute_api:os-server-shares:delete');
  checkInstanceState(cur.value, 'delete share', { vm: ['stopped', 'error'] });
  throw shareNotFound(ctx.params.share_id);
}

const v297 = { versions: { min: '2.97' } };
const noQuery = { ...v297, strictQuery: strictQuery([], '2.97') };
export const serverShareRoutes: Route[] = [
  computeRoute('server-shares-list', 'GET', '/servers/{server_id}/shares', 'os_compute_api:os-server-shares:index', index, noQuery),
  computeRoute('server-shares-create', 'POST', '/servers/{server_id}/shares', 'os_compute_api:os-server-shares:create', create, v297),
  computeRoute('server-shares-show', 'GET', '/servers/{server_id}/shares/{share_id}', 'os_compute_api:os-server-shares:show', show, noQuery),
  computeRoute('server-shares-delete', 'DELETE', '/servers/{server_id}/shares/{share_id}', 'os_compute_api:os-server-shares:delete', remove, v297),
];
