// os-interface (nova/api/openstack/compute/attach_interfaces.py): a server's ports, and attaching or
// detaching one — `openstack server add port` / `server remove port` / `server add network`. Nova
// attaches synchronously; on Azure a NIC is added or removed only while the VM is deallocated, so the
// request binds the port (under its record's ETag: of two servers racing for one port one wins), sets
// the server's task_state and queues the change (work/interfaces.ts: deallocate, change, start); the
// attach answers 200 with the attachment at once, its port DOWN until the VM runs with it.
import type { RequestContext, Route } from '../../../http/router';
import type { ApiResponse } from '../../../http/types';
import { accepted, json } from '../../../http/respond';
import { ApiError, badRequest, conflict, forbidden, notFound } from '../../../http/errors';
import { schemaAt, validateBody, type SchemaByVersion } from '../../../api/validation';
import { computeRoute } from '../../common';
import { startWork } from '../../../work/ledger';
import { defaultNetworks, type NetworkDef } from '../../../network/catalog';
import { allNetworks } from '../../../network/projectNetworkStore';
import { portStore, type PortRecord } from '../../../network/ports';
import { createPort, portNicName } from '../../../network/portService';
import { isUuid } from '../../../network/common';
import { checkInstanceLock, checkInstanceState, visibleServer, type ServerNic, type ServerRecord } from '../model';
import { startTask } from '../actions/taskStart';
import { finishAction, startAction } from '../instanceActions';
import { INTERFACE_KIND, releasePort, type InterfaceWork } from '../work/interfaces';

const ipFormat = { type: 'string', oneOf: [{ format: 'ipv4' }, { format: 'ipv6' }] };
/** attach_interfaces.create (2.1–2.48). */
const attachSchema = {
  type: 'object',
  properties: {
    interfaceAttachment: {
      type: 'object',
      properties: {
        net_id: { type: 'string', format: 'uuid' },
        port_id: { type: 'string', format: 'uuid' },
        fixed_ips: { type: 'array', minItems: 1, maxItems: 1, items: { type: 'object', properties: { ip_address: ipFormat }, required: ['ip_address'], additionalProperties: false } },
      },
      additionalProperties: false,
    },
  },
  additionalProperties: false,
};

/** attach_interfaces.create_v249 (2.49 on): `tag` (1-60 characters, no '/' or ','). */
const attachV249Schema = {
  ...attachSchema,
  properties: {
    interfaceAttachment: {
      ...attachSchema.properties.interfaceAttachment,
      properties: { ...attachSchema.properties.interfaceAttachment.properties, tag: { type: 'string', minLength: 1, maxLength: 60, pattern: '^[^,/]*$' } },
    },
  },
};

const attachSchemas: SchemaByVersion = [
  ['2.1', attachSchema],
  ['2.49', attachV249Schema],
];

const TAGGED_ATTACH = 'Tagged network interface attachment is not supported for this server instance.';

/**
 * Nova's interfaceAttachment view (_translate_interface_attachment_view) of a port. From 2.70 it has the
 * port's device `tag`: always null on Jacket, which refuses tagged attaches (above) and whose builds
 * abort on tagged networks (2.32/2.42), so no port of a server carries one.
 */
function attachmentView(ctx: RequestContext, p: PortRecord) {
  return {
    port_state: p.status,
    fixed_ips: p.fixed_ips.map((f) => ({ subnet_id: f.subnet_id, ip_address: f.ip_address })),
    port_id: p.id,
    net_id: p.network_id,
    mac_addr: p.mac_address,
    ...(ctx.microversion?.atLeast('2.70') ? { tag: null } : {}),
  };
}

const serverPorts = (ctx: RequestContext, srv: ServerRecord) => portStore(ctx.services).listProject(srv.project_id, { device_id: [srv.id] });

async function list(ctx: RequestContext): Promise<ApiResponse> {
  const srv = (await visibleServer(ctx)).value;
  return json({ interfaceAttachments: (await serverPorts(ctx, srv)).map((p) => attachmentView(ctx, p)) });
}

async function show(ctx: RequestContext): Promise<ApiResponse> {
  const srv = (await visibleServer(ctx)).value;
  const id = ctx.params.port_id;
  const port = isUuid(id) ? await portStore(ctx.services).get(srv.project_id, id.toLowerCase()) : undefined;
  if (!port || port.device_id !== srv.id) throw notFound(`Instance ${srv.id} does not have a port with id ${id}`);
  return json({ interfaceAttachment: attachmentView(ctx, port) });
}

/** Nova: ACTIVE, PAUSED, STOPPED with no task (Azure has no paused VM). */
const STATES: { vm: ServerRecord['vm_state'][]; task: ServerRecord['task_state'][] } = { vm: ['active', 'stopped'], task: [null] };

async function attach(ctx: RequestContext): Promise<ApiResponse> {
  const cur = await visibleServer(ctx);
  const b =
    validateBody<{ interfaceAttachment?: { net_id?: string; port_id?: string; fixed_ips?: { ip_address: string }[]; tag?: string } }>(schemaAt(ctx.microversion, attachSchemas), ctx.body ?? {})
      .interfaceAttachment ?? {};
  if (b.net_id && b.port_id) throw badRequest('Must not input both network_id and port_id');
  if (b.fixed_ips && !b.net_id) throw badRequest('Must input network_id when request IP address');
  const srv = cur.value;
  // Nova's checks before any change: lock, then state (check_instance_state), then the port.
  checkInstanceLock(srv, ctx.auth!);
  checkInstanceState(srv, 'attach_interface', STATES);
  const s = ctx.services;
  const ports = portStore(s);
  if (b.tag !== undefined) return refuseTagged(ctx, srv, b.port_id);
  const networks = await allNetworks(s, { projectId: srv.project_id, admin: false });
  let port: PortRecord;
  let made = false;
  if (b.port_id) {
    const p = await ports.get(srv.project_id, b.port_id.toLowerCase());
    if (!p) throw notFound(`Port id ${b.port_id} could not be found.`);
    if (p.device_id || !p.user_made || !p.azureNicId) throw conflict(`Port ${p.id} is still in use.`);
    port = p;
  } else {
    // Nova allocates a port on the network named, else on the project's default one (as server create).
    let net: NetworkDef;
    if (b.net_id) {
      const id = b.net_id.toLowerCase();
      const named = networks.find((n) => n.id === id && !n['router:external'] && (n.shared || n.project_id === srv.project_id));
      if (!named) throw notFound(`Network ${b.net_id} could not be found.`);
      net = named;
    } else {
      const nets = defaultNetworks(networks, srv.project_id);
      if (nets.length !== 1) throw conflict('Multiple possible networks found, use a Network ID to be more specific.');
      net = nets[0];
    }
    try {
      port = await createPort(s, ctx.auth!, srv.project_id, { network_id: net.id, ...(b.fixed_ips ? { fixed_ips: [{ ip_address: b.fixed_ips[0].ip_address }] } : {}) });
    } catch (e) {
      // Neutron's refusals as Nova relays them: the port quota as PortLimitExceeded (403), an address
      // taken as a conflict, the rest (outside the pool, a bad address) as 400.
      if (e instanceof ApiError && e.status === 409 && e.message.startsWith('Quota exceeded for resources')) throw forbidden('Maximum number of ports exceeded');
      if (e instanceof ApiError && e.status < 500) throw e.status === 409 ? conflict(e.message) : badRequest(e.message);
      throw e;
    }
    made = true;
  }
  const nic: ServerNic = {
    network_id: port.network_id,
    network_name: networks.find((n) => n.id === port.network_id)?.name ?? '',
    subnet_id: port.fixed_ips[0]?.subnet_id ?? '',
    port_id: port.id,
    nic_name: portNicName(port.id),
    ...(port.fixed_ips[0] ? { addr: port.fixed_ips[0].ip_address } : {}),
    ...(port.fixed_ips.length > 1 ? { more_addrs: port.fixed_ips.slice(1).map((f) => f.ip_address) } : {}),
    version: 4,
    preexisting: !made,
  };
  // The port is the server's before the task starts: a racing attach of the same port gets Nova's 409.
  const bound = await ports.bind(srv.project_id, port.id, srv.id, `compute:${srv.availability_zone}`);
  let started;
  try {
    started = await startTask(ctx, cur, {
      method: 'attach_interface',
      vm: STATES.vm,
      lock: true,
      set: (v) => ({ ...v, task_state: 'interface-attaching' }),
      action: 'attach_interface',
      event: 'compute_attach_interface',
    });
  } catch (e) {
    await releasePort(s, srv, nic);
    throw e;
  }
  const work: InterfaceWork = { action: started.action.rowKey, op: 'attach', nic, wasRunning: srv.vm_state === 'active' };
  await startWork(s, { kind: INTERFACE_KIND, id: srv.id, data: { ...work }, requestId: ctx.requestId });
  return json({ interfaceAttachment: attachmentView(ctx, { ...bound, status: 'DOWN' }) });
}

/**
 * 2.49: Azure cannot tag a NIC for the guest, so a tagged attach gets Nova's answer for a driver without
 * supports_tagged_attach_interface. As Nova: the compute API records the action attach_interface and
 * looks the port up (404), then the compute manager's attach_interface (a synchronous call) refuses the
 * tag first thing — its event compute_attach_interface ends Error — and the API answers 400. Nothing
 * else changes.
 */
async function refuseTagged(ctx: RequestContext, srv: ServerRecord, portId: string | undefined): Promise<never> {
  const s = ctx.services;
  // Nova's show_port runs with an elevated context: a port of any project is found.
  if (portId && (await portStore(s).listAll({ RowKey: [portId.toLowerCase()] }, 1)).length === 0) {
    await startAction(s, srv, 'attach_interface', ctx.requestId, ctx.auth!.userId, null);
    throw notFound(`Port id ${portId} could not be found.`);
  }
  const action = await startAction(s, srv, 'attach_interface', ctx.requestId, ctx.auth!.userId, 'compute_attach_interface');
  await finishAction(s, action, false, `NetworkInterfaceTaggedAttachNotSupported: ${TAGGED_ATTACH}`);
  throw badRequest(TAGGED_ATTACH);
}

async function detach(ctx: RequestContext): Promise<ApiResponse> {
  const cur = await visibleServer(ctx);
  const srv = cur.value;
  const id = ctx.params.port_id;
  checkInstanceLock(srv, ctx.auth!);
  checkInstanceState(srv, 'detach_interface', STATES);
  const k = isUuid(id) ? srv.nics.findIndex((n) => n.port_id === id.toLowerCase()) : -1;
  if (k < 0) throw notFound(`Port ${id} is not attached`);
  // Azure keeps a VM's primary NIC for its life (it can be swapped, not removed). A server created with
  // networks "none" keeps its isolated NIC as the primary one: each port attached later can be detached.
  if (k === 0 && !srv.isolated_nic) throw badRequest(`Port ${id} is the primary interface of instance ${srv.id}: Azure cannot detach a VM's primary network interface.`);
  const nic = srv.nics[k];
  const started = await startTask(ctx, cur, {
    method: 'detach_interface',
    vm: STATES.vm,
    lock: true,
    set: (v) => ({ ...v, task_state: 'interface-detaching' }),
    action: 'detach_interface',
    event: 'compute_detach_interface',
  });
  const work: InterfaceWork = { action: started.action.rowKey, op: 'detach', nic, wasRunning: srv.vm_state === 'active' };
  await startWork(ctx.services, { kind: INTERFACE_KIND, id: srv.id, data: { ...work }, requestId: ctx.requestId });
  return accepted();
}

export const interfaceRoutes: Route[] = [
  computeRoute('server-interfaces', 'GET', '/servers/{server_id}/os-interface', 'os_compute_api:os-attach-interfaces:list', list),
  computeRoute('server-interface-attach', 'POST', '/servers/{server_id}/os-interface', 'os_compute_api:os-attach-interfaces:create', attach),
  computeRoute('server-interface', 'GET', '/servers/{server_id}/os-interface/{port_id}', 'os_compute_api:os-attach-interfaces:show', show),
  computeRoute('server-interface-detach', 'DELETE', '/servers/{server_id}/os-interface/{port_id}', 'os_compute_api:os-attach-interfaces:delete', detach),
];
