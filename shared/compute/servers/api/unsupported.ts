// Server actions Azure cannot do, each answering as Nova's API answers when the virt driver lacks the
// feature (nova/api/openstack/compute/*.py), after the same policy, body, lock and state checks, and
// changing nothing. docs/servers.md lists each with the reason.
//   pause/unpause, rescue/unrescue, os-get{VNC,SPICE,Serial}Console  501 "The requested functionality
//       is not supported." (common.raise_feature_not_supported, what these controllers answer for a
//       driver's NotImplementedError); os-getRDPConsole 400 (removed upstream with Hyper-V). The
//       console actions exist up to 2.5 (a bare 404 from 2.6, as Nova's api_version answers).
//   POST /servers/{id}/remote-consoles   from 2.6 (mks from 2.8): 404 below it, as Nova answers below a
//       method's version; rdp 400, a type the protocol lacks 400, then 501 as the actions.
//   trigger_crash_dump                   from 2.17 (404 below): 202, its event Error (no NMI on Azure).
//   addFixedIp/removeFixedIp             one IP per port on Azure: NoMoreFixedIps / FixedIpNotFoundForInstance.
//   injectNetworkInfo                    202, nothing to do (the base driver's no-op; Azure's DHCP informs the guest).
//   resetNetwork                         410 (removed upstream).
//   evacuate                             400 ComputeServiceInUse while the compute host is up; when it is
//       down, accepted and then NoValidHost (ERROR), there being no other host.
//   os-migrateLive                       400 MigrationPreCheckError (no live migration on demand on Azure);
//       from 2.34 202, the action live-migration in Error (Nova's pre-checks run after the answer).
//   evacuate (2.29) and os-migrateLive (2.30) `force`: without a host 400, as Nova.
import type { RequestContext, Route } from '../../../http/router';
import type { ApiResponse } from '../../../http/types';
import type { ComputePolicy } from '../../policy';
import { registerServerAction } from '../actions/registry';
import { guard } from '../work/power';
import { checkInstanceLock, checkInstanceState, updateServer, visibleServer, type ServerRecord, type VmState } from '../model';
import { booleanLike as boolish, fqdn as hostName, truthy } from '../schemas';
import { generatePassword } from '../passwords';
import { faultOf } from '../work/common';
import { finishAction, startAction } from '../instanceActions';
import { computeHost, listServices } from '../../../servicegroup/registry';
import { ApiError, badRequest, conflict, notFound, notImplemented } from '../../../http/errors';
import { accepted, json } from '../../../http/respond';
import { schemaAt, validateBody, type SchemaByVersion } from '../../../api/validation';
import { computeRoute } from '../../common';
import { imageStore } from '../../../image/model';
import { volumeApi } from '../../../volume/computeApi';
import { rootVolumeOf, volumesOf } from '../volumes';

const NOT_SUPPORTED = 'The requested functionality is not supported.';
const featureNotSupported = () => notImplemented(NOT_SUPPORTED);

const emptyActionSchema = (name: string) => ({ type: 'object', properties: { [name]: {} }, required: [name], additionalProperties: false });
const anyValueSchema = (name: string) => ({ type: 'object', required: [name] });
const ipFormat = { type: 'string', oneOf: [{ format: 'ipv4' }, { format: 'ipv6' }] };
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

/**
 * rescue (rescue.py _rescue, compute/api.py rescue): the lock and state checks, then the rescue image
 * (one the caller cannot see: 400 UnsupportedRescueImage), the volumes' status (each in-use, else 409
 * InvalidVolume) and the volume-backed rule: below 2.87 a volume-backed server cannot be rescued
 * (400 InstanceNotRescuable). From 2.87 Nova allows it when the image (the rescue image, else the
 * server's: for a volume-backed one its root volume's Glance metadata) has hw_rescue_bus and
 * hw_rescue_device and the host has the COMPUTE_RESCUE_BFV trait; Jacket's host has no traits (its
 * driver has no rescue), so with those properties the answer is the host's refusal, and without them
 * the same refusal as below 2.87. A server that passes answers the driver's 501.
 */
registerServerAction({
  name: 'rescue',
  policy: 'os_compute_api:os-rescue',
  schema: objectAction('rescue', { adminPass: { type: 'string' }, rescue_image_ref: { type: 'string', format: 'uuid' } }, [], true),
  handler: async (ctx, args) => {
    const a = (args ?? {}) as { rescue_image_ref?: string };
    const srv = (await visibleServer(ctx)).value;
    checkInstanceLock(srv, ctx.auth!);
    checkInstanceState(srv, 'rescue', { vm: ['active', 'stopped', 'error'], task: [null] });
    let props: Record<string, string> | undefined;
    if (a.rescue_image_ref) {
      const img = await imageStore(ctx.services).visible(ctx.auth!, a.rescue_image_ref);
      if (!img) throw badRequest(`Requested rescue image '${a.rescue_image_ref}' is not supported`);
      props = img.image.properties;
    }
    let rootMetadata: Record<string, string> = {};
    for (const v of volumesOf(srv)) {
      const vol = await volumeApi.getIn(ctx.services, v.volume_project_id, v.volume_id);
      const status = vol?.value.status ?? 'deleted';
      if (status !== 'in-use') throw conflict(`Invalid volume: volume '${v.volume_id}' status must be 'in-use'. Currently in '${status}' status`);
      if (v.lun === null) rootMetadata = vol?.value.image_metadata ?? {};
    }
    if (rootVolumeOf(srv)) {
      props ??= rootMetadata;
      const bfvImage = 'hw_rescue_bus' in props && 'hw_rescue_device' in props;
      const reason = ctx.microversion?.atLeast('2.87') && bfvImage ? 'Host unable to rescue a volume-backed instance' : 'Cannot rescue a volume-backed instance';
      throw badRequest(`Instance ${srv.id} cannot be rescued: ${reason}`);
    }
    throw featureNotSupported();
  },
});
unsupported('unrescue', 'os_compute_api:os-unrescue', emptyActionSchema('unrescue'), { method: 'unrescue', vm: ['rescued'] });

/**
 * compute/api.py get_*_console's checks: no host is 409 InstanceNotReady, a deleting or migrating
 * server 409; the caller then answers as the compute manager and the driver do.
 */
function consoleChecks(srv: ServerRecord, method: string): void {
  if (!srv.host) throw conflict(`Instance ${srv.id} is not ready`);
  const t = srv.task_state;
  if (t === 'deleting' || t === 'migrating') throw conflict(`Cannot '${method}' instance ${srv.id} while it is in task_state ${t}`);
}

/** remote_consoles.py get_*_console (2.1-2.5 actions): the checks, then the driver's 501. */
function console(name: string, types: string[], method: string) {
  registerServerAction({
    name,
    policy: 'os_compute_api:os-remote-consoles',
    schema: objectAction(name, { type: { type: 'string', enum: types } }, ['type']),
    // Replaced by POST /servers/{id}/remote-consoles at 2.6.
    versions: { max: '2.5' },
    handler: async (ctx) => {
      consoleChecks((await visibleServer(ctx)).value, method);
      throw featureNotSupported();
    },
  });
}
console('os-getVNCConsole', ['novnc', 'xvpvnc'], 'get_vnc_console');
console('os-getSPICEConsole', ['spice-html5'], 'get_spice_console');
console('os-getSerialConsole', ['serial'], 'get_serial_console');

registerServerAction({
  name: 'os-getRDPConsole',
  policy: 'os_compute_api:os-remote-consoles',
  schema: anyValueSchema('os-getRDPConsole'),
  versions: { max: '2.5' },
  // Removed upstream with the Hyper-V driver (29.0.0): a bare webob 400.
  handler: async () => {
    throw badRequest('The server could not comply with the request since it is either malformed or otherwise incorrect.');
  },
});

/**
 * trigger_crash_dump (2.17; a bare 404 below it, as Nova's versioned method is not found). Azure has
 * no API to send a VM an NMI, so it answers as Nova with a driver lacking it: the compute API's checks
 * (lock, host, state: 409), then the action recorded and the cast answered 202; the compute manager's
 * driver call raises NotImplementedError, so the event compute_trigger_crash_dump ends Error and the
 * server is left as it was.
 */
registerServerAction({
  name: 'trigger_crash_dump',
  policy: 'os_compute_api:servers:trigger_crash_dump',
  schema: { type: 'object', properties: { trigger_crash_dump: { type: 'null' } }, required: ['trigger_crash_dump'], additionalProperties: false },
  versions: { min: '2.17' },
  handler: async (ctx) => {
    const cur = await visibleServer(ctx);
    guard(ctx, cur.value, { method: 'trigger_crash_dump', vm: ['active', 'paused', 'rescued', 'resized', 'error'], host: true });
    const action = await startAction(ctx.services, cur.value, 'trigger_crash_dump', ctx.requestId, ctx.auth!.userId, 'compute_trigger_crash_dump');
    await finishAction(ctx.services, action, false, 'NotImplementedError: Azure cannot send a virtual machine a non-maskable interrupt.');
    return accepted();
  },
});

registerServerAction({
  name: 'addFixedIp',
  // Nova's api_version 2.1-2.43: a bare 404 from 2.44 (nova-network's actions, removed from the API).
  versions: { max: '2.43' },
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
  // Nova's api_version 2.1-2.43: a bare 404 from 2.44 (nova-network's actions, removed from the API).
  versions: { max: '2.43' },
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

/**
 * evacuate from 2.29 and os-migrateLive from 2.30 take `force` (default false): it skips the scheduler's
 * check of the named host, so forcing without a host is Nova's 400. With a host, Jacket's answers are
 * the same forced or not: its only compute host is the server's own or the name is unknown.
 */
function forcedDestination(force: boolean | string | undefined, host: string | null | undefined): void {
  if (force !== undefined && truthy(force) && !host) throw badRequest("Can't force to a non-provided destination");
}

/**
 * evacuate (evacuate.py _evacuate): rebuilds a server away from a compute host that is down. Jacket
 * has one compute host, so while it is up the answer is Nova's 400 ComputeServiceInUse; when it is down
 * (missed heartbeats, or forced down from 2.11) the request is taken as Nova takes it and its
 * scheduling then finds no other host: the server ends in ERROR with NoValidHost, the instance action
 * `evacuate` in Error. Before 2.14 the body needs onSharedStorage and the answer carries adminPass;
 * from 2.14 onSharedStorage is refused by the schema and the answer has no body.
 */
registerServerAction({
  name: 'evacuate',
  policy: 'os_compute_api:os-evacuate',
  schema: [
    ['2.1', objectAction('evacuate', { adminPass: { type: 'string' }, host: hostName, onSharedStorage: boolish }, ['onSharedStorage'])],
    ['2.14', objectAction('evacuate', { adminPass: { type: 'string' }, host: hostName })],
    // evacuate_v229: force (skip the scheduler for the named host).
    ['2.29', objectAction('evacuate', { adminPass: { type: 'string' }, host: hostName, force: boolish })],
    // evacuate_v268: forced evacuation left the API (2.68); `force` is an additional property again.
    ['2.68', objectAction('evacuate', { adminPass: { type: 'string' }, host: hostName })],
  ],
  handler: async (ctx, args) => {
    const a = args as { host?: string; adminPass?: string; onSharedStorage?: boolean | string; force?: boolean | string };
    const v214 = ctx.microversion?.atLeast('2.14') ?? false;
    const cur = await visibleServer(ctx);
    const onSharedStorage = !v214 && truthy(a.onSharedStorage);
    if (ctx.microversion?.matches('2.29', '2.67')) forcedDestination(a.force, a.host);
    if (a.adminPass !== undefined && onSharedStorage) throw badRequest("admin password can't be changed on existing disk");
    const password = a.adminPass ?? (onSharedStorage ? null : generatePassword());
    const azureHost = `azure-${ctx.services.config.azure.location}`;
    if (a.host !== undefined && a.host !== azureHost) throw notFound(`Compute host ${a.host} not found.`);
    if (a.host !== undefined && a.host === cur.value.host) throw badRequest("The target host can't be the same one.");
    checkInstanceState(cur.value, 'evacuate', { vm: ['active', 'stopped', 'error'], task: [null] });
    const svc = (await listServices(ctx.services, 'compute')).find((x) => x.binary === 'nova-compute' && x.host === (cur.value.host ?? azureHost));
    if (!svc || svc.up) throw badRequest(`Compute service of ${cur.value.host ?? azureHost} is still in use.`);
    // Accepted; the conductor's rebuild then finds no host but the one that is down.
    const action = await startAction(ctx.services, cur.value, 'evacuate', ctx.requestId, ctx.auth!.userId, 'rebuild_server');
    await updateServer(ctx.services, cur, (v) => ({
      ...v,
      vm_state: 'error',
      task_state: null,
      fault: faultOf({ code: 'NoValidHost', message: 'No valid host was found. There are not enough hosts available.' }),
    }));
    await finishAction(ctx.services, action, false, 'NoValidHost', 'No valid host was found. There are not enough hosts available.');
    return v214 ? { status: 200, headers: {} } : json({ adminPass: password });
  },
});

registerServerAction({
  name: 'os-migrateLive',
  // Nova's default is PROJECT_MANAGER_OR_ADMIN; Jacket has no manager role: admin.
  policy: 'os_compute_api:os-migrate-server:migrate_live',
  // migrate_live (up to 2.24); migrate_live_v2_25: block_migration may be "auto", disk_over_commit is gone.
  schema: [
    ['2.1', objectAction('os-migrateLive', { block_migration: boolish, disk_over_commit: boolish, host: { ...hostName, type: ['string', 'null'] } }, ['block_migration', 'disk_over_commit', 'host'])],
    ['2.25', objectAction('os-migrateLive', { block_migration: { ...boolish, enum: [...boolish.enum, 'auto'] }, host: { ...hostName, type: ['string', 'null'] } }, ['block_migration', 'host'])],
    // migrate_live_v2_30: force (skip the scheduler for the named host).
    [
      '2.30',
      objectAction('os-migrateLive', { block_migration: { ...boolish, enum: [...boolish.enum, 'auto'] }, host: { ...hostName, type: ['string', 'null'] }, force: boolish }, [
        'block_migration',
        'host',
      ]),
    ],
    // migrate_live_v2_68: forced live migration left the API (2.68).
    ['2.68', objectAction('os-migrateLive', { block_migration: { ...boolish, enum: [...boolish.enum, 'auto'] }, host: { ...hostName, type: ['string', 'null'] } }, ['block_migration', 'host'])],
  ],
  handler: async (ctx, args) => {
    const a = args as { host: string | null; force?: boolean | string };
    const cur = await visibleServer(ctx);
    if (ctx.microversion?.matches('2.30', '2.67')) forcedDestination(a.force, a.host);
    checkInstanceLock(cur.value, ctx.auth!);
    checkInstanceState(cur.value, 'os-migrateLive', { vm: ['active', 'paused'], task: [null] });
    const preCheck = 'Migration pre-check error: Azure does not live-migrate a virtual machine on request (use migrate, a cold move).';
    if (!ctx.microversion?.atLeast('2.34')) {
      if (a.host) throw badRequest(`Compute host ${a.host} could not be found.`);
      throw badRequest(preCheck);
    }
    // From 2.34 the conductor's pre-checks run after the answer (Nova casts live_migrate_instance): only
    // an unknown host is still refused here (the compute API looks its nodes up first). The action
    // `live-migration` is recorded and its conductor event ends Error; the server is left as it was
    // (MigrationPreCheckError puts back the vm_state it had and clears the task).
    if (a.host && a.host !== computeHost(ctx.services.config)) throw badRequest(`Compute host ${a.host} could not be found.`);
    const action = await startAction(ctx.services, cur.value, 'live-migration', ctx.requestId, ctx.auth!.userId, 'conductor_live_migrate_instance');
    await finishAction(ctx.services, action, false, `MigrationPreCheckError: ${preCheck}`);
    return accepted();
  },
});

// ---- routes beside the action route ----

/** remote_consoles.create_v26 and create_v28 (2.8 adds mks/webmks). */
const remoteConsoleSchema = (protocols: string[], types: string[]) => ({
  type: 'object',
  properties: {
    remote_console: {
      type: 'object',
      properties: { protocol: { type: 'string', enum: protocols }, type: { type: 'string', enum: types } },
      required: ['protocol', 'type'],
      additionalProperties: false,
    },
  },
  required: ['remote_console'],
  additionalProperties: false,
});
const remoteConsoleSchemas: SchemaByVersion = [
  ['2.6', remoteConsoleSchema(['vnc', 'spice', 'serial', 'rdp'], ['novnc', 'xvpvnc', 'spice-html5', 'serial', 'rdp-html5'])],
  ['2.8', remoteConsoleSchema(['vnc', 'spice', 'serial', 'rdp', 'mks'], ['novnc', 'xvpvnc', 'spice-html5', 'serial', 'rdp-html5', 'webmks'])],
  // create_v299: spice-direct (a SPICE client's own connection, through the spice-direct proxy).
  ['2.99', remoteConsoleSchema(['vnc', 'spice', 'serial', 'rdp', 'mks'], ['novnc', 'xvpvnc', 'spice-html5', 'serial', 'rdp-html5', 'webmks', 'spice-direct'])],
];
/**
 * Each protocol's compute API method and the console types its compute manager accepts (spice also
 * spice-direct, which only the 2.99 schema lets through).
 */
const CONSOLE_PROTOCOLS: Record<string, { method: string; types: string[] }> = {
  vnc: { method: 'get_vnc_console', types: ['novnc'] },
  spice: { method: 'get_spice_console', types: ['spice-html5', 'spice-direct'] },
  serial: { method: 'get_serial_console', types: ['serial'] },
  mks: { method: 'get_mks_console', types: ['webmks'] },
};

/**
 * POST /servers/{id}/remote-consoles (remote_consoles.py create), from 2.6 (a bare 404 below it, as
 * Nova's versioned method is not found): rdp is 400 (removed upstream); then the compute API's checks
 * (409), the compute manager's console type check (400 ConsoleTypeInvalid), and the driver's 501.
 */
async function remoteConsole(ctx: RequestContext): Promise<ApiResponse> {
  if (!ctx.microversion?.atLeast('2.6')) throw notFound('The resource could not be found.');
  const b = validateBody<{ remote_console: { protocol: string; type: string } }>(schemaAt(ctx.microversion, remoteConsoleSchemas), ctx.body).remote_console;
  const srv = (await visibleServer(ctx)).value;
  if (b.protocol === 'rdp') throw badRequest(`Unavailable console type ${b.protocol}.`);
  const p = CONSOLE_PROTOCOLS[b.protocol];
  consoleChecks(srv, p.method);
  if (!p.types.includes(b.type)) throw badRequest(`Invalid console type ${b.type}`);
  throw featureNotSupported();
}

export const unsupportedServerRoutes: Route[] = [computeRoute('server-remote-consoles', 'POST', '/servers/{server_id}/remote-consoles', 'os_compute_api:os-remote-consoles', remoteConsole)];
