// Server actions Azure cannot do, each answering as Nova's API answers when the virt driver lacks the
// feature (nova/api/openstack/compute/*.py), after the same policy, body, lock and state checks, and
// changing nothing. docs/servers.md lists each with the reason.
//   pause/unpause, rescue/unrescue, os-get{VNC,SPICE,Serial}Console  501 "The requested functionality
//       is not supported." (common.raise_feature_not_supported, what these controllers answer for a
//       driver's NotImplementedError); os-getRDPConsole 400 (removed upstream with Hyper-V).
//   POST /servers/{id}/remote-consoles   from 2.6: 404 at 2.1, as Nova answers below a method's version.
//   trigger_crash_dump                   from 2.17: 404 at 2.1; later 400 TriggerCrashDumpNotSupported.
//   addFixedIp/removeFixedIp             one IP per port on Azure: NoMoreFixedIps / FixedIpNotFoundForInstance.
//   injectNetworkInfo                    202, nothing to do (the base driver's no-op; Azure's DHCP informs the guest).
//   resetNetwork                         410 (removed upstream).
//   evacuate                             the Azure "host" is never down: 400 ComputeServiceInUse.
//   os-migrateLive                       400 MigrationPreCheckError (no live migration on demand on Azure).
import type { RequestContext, Route } from '../../../http/router';
import type { ApiResponse } from '../../../http/types';
import type { ComputePolicy } from '../../policy';
import { registerServerAction } from '../actions/registry';
import { guard } from '../work/power';
import { checkInstanceLock, checkInstanceState, visibleServer, type VmState } from '../model';
import { ApiError, badRequest, conflict, notFound, notImplemented } from '../../../http/errors';
import { accepted } from '../../../http/respond';
import { computeRoute } from '../../common';

const NOT_SUPPORTED = 'The requested functionality is not supported.';
const featureNotSupported = () => notImplemented(NOT_SUPPORTED);

const emptyActionSchema = (name: string) => ({ type: 'object', properties: { [name]: {} }, required: [name], additionalProperties: false });
const anyValueSchema = (name: string) => ({ type: 'object', required: [name] });
const ipFormat = { type: 'string', oneOf: [{ format: 'ipv4' }, { format: 'ipv6' }] };
const boolish = {
  type: ['boolean', 'string'],
  enum: [true, 'True', 'TRUE', 'true', '1', 'ON', 'On', 'on', 'YES', 'Yes', 'yes', false, 'False', 'FALSE', 'false', '0', 'OFF', 'Off', 'off', 'NO', 'No', 'no'],
};
const hostName = { type: 'string', minLength: 1, maxLength: 255, pattern: '^[a-zA-Z0-9-._]*$' };
const objectAction = (name: string, properties: Record<string, unknown>, required: string[] = [], nullable = false) => ({
  type: 'object',
  properties: { [name]: { type: nullable ? ['object', 'null'] : 'object', properties, required, additionalProperties: false } },
  required: [name],
  additionalProperties: false,
});

/** Registers an action that runs Nova's checks for it and then answers 501. */
function unsupported(name: string, policy: ComputePolicy, schema: object, g?: { method: string; vm: VmState[] }) {
  registerServerAction({
    name,
    policy: policy,
    schema,
    handler: async (ctx) => {
      const cur = await visibleServer(ctx);
      if (g) {
        checkInstanceLock(cur.value, ctx.auth!);
        checkInstanceState(cur.value, g.method, { vm: g.vm, task: [null] });
      }
      throw featureNotSupported();
    },
  });
}

unsupported('pause', 'os_compute_api:os-pause-server:pause', emptyActionSchema('pause'), { method: 'pause', vm: ['active'] });
unsupported('unpause', 'os_compute_api:os-pause-server:unpause', emptyActionSchema('unpause'), { method: 'unpause', vm: ['paused'] });
unsupported('rescue', 'os_compute_api:os-rescue', objectAction('rescue', { adminPass: { type: 'string' }, rescue_image_ref: { type: 'string', format: 'uuid' } }, [], true), {
  method: 'rescue',
  vm: ['active', 'stopped', 'error'],
});
unsupported('unrescue', 'os_compute_api:os-unrescue', emptyActionSchema('unrescue'), { method: 'unrescue', vm: ['rescued'] });

/** remote_consoles.py get_*_console: no host is 409 InstanceNotReady; a deleting/migrating server 409; then the driver's 501. */
function console(name: string, types: string[]) {
  registerServerAction({
    name,
    policy: 'os_compute_api:os-remote-consoles',
    schema: objectAction(name, { type: { type: 'string', enum: types } }, ['type']),
    handler: async (ctx) => {
      const cur = await visibleServer(ctx);
      if (!cur.value.host) throw conflict(`Instance ${cur.value.id} is not ready`);
      const t = cur.value.task_state;
      if (t === 'deleting' || t === 'migrating') throw conflict(`Cannot 'get_vnc_console' instance ${cur.value.id} while it is in task_state ${t}`);
      throw featureNotSupported();
    },
  });
}
console('os-getVNCConsole', ['novnc', 'xvpvnc']);
console('os-getSPICEConsole', ['spice-html5']);
console('os-getSerialConsole', ['serial']);

registerServerAction({
  name: 'os-getRDPConsole',
  policy: 'os_compute_api:os-remote-consoles',
  schema: anyValueSchema('os-getRDPConsole'),
  // Removed upstream with the Hyper-V driver (29.0.0): a bare webob 400.
  handler: async () => {
    throw badRequest('The server could not comply with the request since it is either malformed or otherwise incorrect.');
  },
});

registerServerAction({
  name: 'trigger_crash_dump',
  policy: 'os_compute_api:servers:trigger_crash_dump',
  schema: { type: 'object', properties: { trigger_crash_dump: { type: 'null' } }, required: ['trigger_crash_dump'], additionalProperties: false },
  handler: async (ctx) => {
    // From 2.17; below it Nova's versioned method is not found: a bare 404.
    if (!ctx.microversion?.atLeast('2.17')) throw notFound('The resource could not be found.');
    const cur = await visibleServer(ctx);
    guard(ctx, cur.value, { method: 'trigger_crash_dump', vm: ['active', 'paused', 'rescued', 'resized', 'error'], host: true });
    throw badRequest('Triggering crash dump is not supported');
  },
});

registerServerAction({
  name: 'addFixedIp',
  policy: 'os_compute_api:os-multinic:add',
  schema: objectAction('addFixedIp', { networkId: { type: ['string', 'number'], minLength: 1, maxLength: 36 } }, ['networkId']),
  handler: async (ctx, args) => {
    const cur = await visibleServer(ctx);
    checkInstanceLock(cur.value, ctx.auth!);
    throw badRequest(`No fixed IP addresses available for network: ${(args as { networkId: string | number }).networkId}`);
  },
});

registerServerAction({
  name: 'removeFixedIp',
  policy: 'os_compute_api:os-multinic:remove',
  schema: objectAction('removeFixedIp', { address: ipFormat }, ['address']),
  handler: async (ctx, args) => {
    const address = (args as { address: string }).address;
    const cur = await visibleServer(ctx);
    checkInstanceLock(cur.value, ctx.auth!);
    if (!cur.value.nics.some((n) => n.addr === address)) throw badRequest(`Instance ${cur.value.id} does not have fixed IP '${address}'.`);
    // The address is the port's only IP configuration on Azure: it cannot be removed from the NIC.
    throw badRequest(`Removing fixed IP '${address}' is not supported: on Azure it is the only IP of the server's network interface.`);
  },
});

registerServerAction({
  name: 'injectNetworkInfo',
  policy: 'os_compute_api:os-admin-actions:inject_network_info',
  schema: emptyActionSchema('injectNetworkInfo'),
  handler: async (ctx) => {
    const cur = await visibleServer(ctx);
    checkInstanceLock(cur.value, ctx.auth!);
    return accepted();
  },
});

registerServerAction({
  name: 'resetNetwork',
  policy: 'os_compute_api:os-admin-actions:reset_network',
  schema: anyValueSchema('resetNetwork'),
  handler: async () => {
    throw new ApiError(410, 'This resource is no longer available.  No forwarding address is given.');
  },
});

registerServerAction({
  name: 'evacuate',
  policy: 'os_compute_api:os-evacuate',
  schema: objectAction('evacuate', { adminPass: { type: 'string' }, host: hostName, onSharedStorage: boolish }, ['onSharedStorage']),
  handler: async (ctx, args) => {
    const a = args as { host?: string };
    const cur = await visibleServer(ctx);
    const azureHost = `azure-${ctx.services.config.azure.location}`;
    if (a.host !== undefined && a.host !== azureHost) throw notFound(`Compute host ${a.host} not found.`);
    if (a.host !== undefined && a.host === cur.value.host) throw badRequest("The target host can't be the same one.");
    checkInstanceState(cur.value, 'evacuate', { vm: ['active', 'stopped', 'error'], task: [null] });
    // Evacuation rebuilds a server away from a dead host; Azure's host service never is.
    throw badRequest(`Compute service of ${cur.value.host ?? azureHost} is still in use.`);
  },
});

registerServerAction({
  name: 'os-migrateLive',
  // Nova's default is PROJECT_MANAGER_OR_ADMIN; Jacket has no manager role: admin.
  policy: 'os_compute_api:os-migrate-server:migrate_live',
  schema: objectAction('os-migrateLive', { block_migration: boolish, disk_over_commit: boolish, host: { ...hostName, type: ['string', 'null'] } }, ['block_migration', 'disk_over_commit', 'host']),
  handler: async (ctx, args) => {
    const a = args as { host: string | null };
    const cur = await visibleServer(ctx);
    checkInstanceLock(cur.value, ctx.auth!);
    checkInstanceState(cur.value, 'os-migrateLive', { vm: ['active', 'paused'], task: [null] });
    if (a.host) throw badRequest(`Compute host ${a.host} could not be found.`);
    throw badRequest('Migration pre-check error: Azure does not live-migrate a virtual machine on request (use migrate, a cold move).');
  },
});

// ---- routes beside the action route ----

/** attach_interfaces.py create at 2.1: body checks, lock and state, then the driver's refusal. */
/** POST /servers/{id}/remote-consoles exists from 2.6 only. */
async function remoteConsole(ctx: RequestContext): Promise<ApiResponse> {
  if (!ctx.microversion?.atLeast('2.6')) throw notFound('The resource could not be found.');
  await visibleServer(ctx);
  throw featureNotSupported();
}

export const unsupportedServerRoutes: Route[] = [computeRoute('server-remote-consoles', 'POST', '/servers/{server_id}/remote-consoles', 'os_compute_api:os-remote-consoles', remoteConsole)];
