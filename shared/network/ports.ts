// /v2.0/ports: one port per server NIC, and the ports a project makes (portService.ts). The servers
// module writes the records of its NICs through PortStore when it creates or deletes one. Table
// 'ports', one partition per project (a project's listing is one partition query), row key = port id.
import type { RequestContext, Route } from '../http/router';
import { json, noContent } from '../http/respond';
import { isAdmin } from '../api/policy';
import type { Services } from '../services';
import { ConcurrencyError, type Repository } from '../store/tables';
import { conflict, badRequest as httpBadRequest } from '../http/errors';
import { asBool, asString, badRequest, listResponse, networkRoute, neutronError, neutronTime, ownerFor, resourceBody, selectFields, type Body, type CollectionSpec } from './common';
import { createPort, deletePort, updatePort } from './portService';
import { networkLedger } from './quotas';
import { ROUTER_INTERFACE, routerInterfacePorts } from './routerStore';

export interface PortRecord {
  id: string;
  project_id: string;
  name: string;
  network_id: string;
  /** The server's id (Nova's device_id), '' when unattached. */
  device_id: string;
  /** 'compute:<availability zone>' for server NICs, as Nova sets it. */
  device_owner: string;
  mac_address: string;
  fixed_ips: { subnet_id: string; ip_address: string }[];
  security_groups: string[];
  /**
   * Neutron's allowed address pairs (each MAC given or the port's own). On Azure they turn the NIC's IP
   * forwarding on: Azure's source check is per NIC, not per address (docs/network.md).
   */
  allowed_address_pairs?: AddressPair[];
  /** False: no security groups, no NSG on the NIC and IP forwarding on, as Neutron's port security off. Absent is true. */
  port_security_enabled?: boolean;
  /** ACTIVE once the NIC is attached to a running VM, DOWN otherwise. */
  status: 'ACTIVE' | 'DOWN' | 'BUILD';
  description?: string;
  /** The Azure NIC this port is (resource id). */
  azureNicId?: string;
  /**
   * Made through POST /ports (portService.ts), not by a server create: a server booted on it leaves it
   * when deleted, as Nova keeps a port the user made.
   */
  user_made?: boolean;
  created_at: string;
  updated_at: string;
}

export interface AddressPair {
  ip_address: string;
  /** Absent: the port's own MAC (rendered as it is now: Azure gives it when a VM first runs on the NIC). */
  mac_address?: string;
}

/** Whether a port's NIC needs Azure's IP forwarding: allowed address pairs, or port security off. */
export const portForwards = (p: Pick<PortRecord, 'allowed_address_pairs' | 'port_security_enabled'>): boolean => p.port_security_enabled === false || (p.allowed_address_pairs?.length ?? 0) > 0;

const INDEXED = ['network_id', 'device_id', 'device_owner'] as const;

/** The port records API the servers module uses (and this module reads through). */
export class PortStore {
  constructor(private readonly services: Services) {}

  private repo(): Repository<PortRecord> {
    return this.services.tables.repository<PortRecord>('ports', [...INDEXED]);
  }

  /** Records (or replaces) a port. */
  async put(port: PortRecord): Promise<void> {
    await this.repo().upsert(port.project_id, port.id, port);
  }

  /**
   * Binds a port the user made to a server (Nova's port binding), under the record's ETag: of two
   * servers racing for one port exactly one gets it; the other gets Nova's 409. Idempotent for the
   * same server. A router's interface (routers.ts) binds with its router's id, ACTIVE at once.
   */
  async bind(projectId: string, id: string, serverId: string, deviceOwner: string, status: PortRecord['status'] = 'BUILD'): Promise<PortRecord> {
    const next = await this.repo().update(projectId, id, (p) => {
      if (p.device_id && p.device_id !== serverId) throw conflict(`Port ${id} is still in use.`);
      return { ...p, device_id: serverId, device_owner: deviceOwner, status, updated_at: neutronTime() };
    });
    if (!next) throw httpBadRequest(`Port ${id} could not be found.`);
    return next.value;
  }

  /**
   * Writes the Azure NIC a server's build made (and the address Azure gave it) into the port's record,
   * under its ETag and only while the record is there: a delete that raced the NIC's PUT may have
   * removed the port already, and a blind upsert would bring it back, held by a server that is gone.
   */
  async recordNic(projectId: string, id: string, azureNicId: string, fixedIps?: PortRecord['fixed_ips']): Promise<void> {
    await this.repo().update(projectId, id, (p) => ({ ...p, azureNicId, ...(fixedIps ? { fixed_ips: fixedIps } : {}), updated_at: neutronTime() }));
  }

  /**
   * Changes a port's security groups under its record's ETag: `change` gets the groups the record holds
   * now (again after a racing write) and returns the new list, or undefined to leave it. Returns the
   * list before and after, or undefined when the record is gone or nothing changed.
   */
  async changeGroups(projectId: string, id: string, change: (groups: string[]) => string[] | undefined): Promise<{ before: string[]; after: string[] } | undefined> {
    let seen: { before: string[]; after: string[] } | undefined;
    const next = await this.repo().update(projectId, id, (p) => {
      const after = change(p.security_groups);
      seen = after && { before: p.security_groups, after };
      return after && { ...p, security_groups: after, updated_at: neutronTime() };
    });
    return next && seen;
  }

  /**
   * Read-modify-write of a port's record under its ETag: `change` gets the record held now (again after
   * a racing write) and returns the new one, or undefined to leave it; what it throws is the answer.
   * Undefined when the record is gone. Still losing after `attempts` rounds: Neutron's 409, never a 5xx.
   */
  async change(projectId: string, id: string, change: (p: PortRecord) => PortRecord | undefined, attempts = 10): Promise<PortRecord | undefined> {
    try {
      return (await this.repo().update(projectId, id, change, attempts))?.value;
    } catch (e) {
      if (e instanceof ConcurrencyError) throw neutronError(409, 'Conflict', `Port ${id} was changed by other requests meanwhile; try again.`);
      throw e;
    }
  }

  /** A server's port as its VM runs or not: its status, and the MAC Azure gave the NIC (under the record's ETag). */
  async markStatus(projectId: string, id: string, status: PortRecord['status'], mac?: string): Promise<void> {
    await this.repo().update(projectId, id, (p) => ({ ...p, status, ...(mac ? { mac_address: mac.toLowerCase().replace(/-/g, ':') } : {}), updated_at: neutronTime() }));
  }

  /** Undoes bind (a create refused after binding, or the server's delete): only if `serverId` holds it. */
  async unbind(projectId: string, id: string, serverId: string): Promise<void> {
    await this.repo().update(projectId, id, (p) => (p.device_id === serverId ? { ...p, device_id: '', device_owner: '', status: 'DOWN', updated_at: neutronTime() } : undefined));
  }

  /** Deletes the record; the one call that removed it gives its `port` usage back. */
  async remove(projectId: string, id: string): Promise<boolean> {
    const gone = await this.repo().delete(projectId, id);
    if (gone) await networkLedger(this.services).release(projectId, { port: 1 });
    return gone;
  }

  async get(projectId: string, id: string): Promise<PortRecord | undefined> {
    return (await this.repo().get(projectId, id))?.value;
  }

  /** One project's ports, narrowed in the table query by the indexed columns given. */
  async listProject(projectId: string, where: Partial<Record<(typeof INDEXED)[number], string[]>> = {}): Promise<PortRecord[]> {
    return (await this.repo().list(projectId, whereFilter(where))).map((s) => s.value);
  }

  /** Across projects (admins): bounded by `limit` rows, narrowed by the indexed columns given. */
  async listAll(where: Partial<Record<(typeof INDEXED)[number] | 'RowKey', string[]>>, limit: number): Promise<PortRecord[]> {
    const client = await this.services.tables.client('ports');
    const filter = whereFilter(where);
    const out: PortRecord[] = [];
    const pages = client.listEntities<{ doc: string }>({ queryOptions: filter ? { filter } : {} }).byPage({ maxPageSize: Math.min(limit, 1000) });
    for await (const page of pages) {
      for (const e of page) {
        out.push(JSON.parse(e.doc) as PortRecord);
        if (out.length >= limit) return out;
      }
    }
    return out;
  }
}

/** An OData string literal (quotes doubled). */
const quote = (v: string) => `'${v.replace(/'/g, "''")}'`;

function whereFilter(where: Record<string, string[] | undefined>): string | undefined {
  const parts = Object.entries(where)
    .filter((e): e is [string, string[]] => !!e[1] && e[1].length > 0)
    .map(([k, vs]) => `(${vs.map((v) => `${k} eq ${quote(v)}`).join(' or ')})`);
  return parts.length ? parts.join(' and ') : undefined;
}

export const portStore = (s: Services) => new PortStore(s);

const portNotFound = (id: string) => neutronError(404, 'PortNotFound', `Port ${id} could not be found.`);

export function portBody(p: PortRecord): Body {
  return {
    id: p.id,
    name: p.name,
    description: p.description ?? '',
    network_id: p.network_id,
    admin_state_up: true,
    status: p.status,
    mac_address: p.mac_address,
    fixed_ips: p.fixed_ips,
    device_id: p.device_id,
    device_owner: p.device_owner,
    security_groups: p.security_groups,
    allowed_address_pairs: (p.allowed_address_pairs ?? []).map((a) => ({ ip_address: a.ip_address, mac_address: a.mac_address ?? p.mac_address })),
    port_security_enabled: p.port_security_enabled !== false,
    project_id: p.project_id,
    tenant_id: p.project_id,
  };
}

/** fixed_ips=ip_address=10.0.0.4 / fixed_ips=subnet_id=<id>: any listed value matches (Neutron's OR). */
function fixedIpsMatch(item: Body, values: string[]): boolean {
  const ips = item.fixed_ips as { subnet_id: string; ip_address: string }[];
  return values.some((v) => {
    const [k, val] = v.split('=', 2);
    if (val === undefined || (k !== 'ip_address' && k !== 'subnet_id')) {
      throw neutronError(400, 'InvalidInput', `Invalid input for operation: Invalid data format for fixed IP: '${v}'.`);
    }
    return ips.some((ip) => ip[k] === val);
  });
}

const portsSpec: CollectionSpec = {
  collection: 'ports',
  filters: {
    id: asString,
    name: asString,
    description: asString,
    network_id: asString,
    device_id: asString,
    device_owner: asString,
    mac_address: asString,
    status: asString,
    admin_state_up: asBool,
    port_security_enabled: asBool,
    project_id: asString,
    tenant_id: asString,
  },
  matchers: { fixed_ips: fixedIpsMatch },
  sortKeys: ['id', 'name', 'network_id', 'device_id', 'device_owner', 'mac_address', 'status', 'admin_state_up', 'project_id', 'tenant_id', 'description'],
  notFound: portNotFound,
};

/** Up to this many ports are read for one admin listing across projects. */
const ADMIN_SCAN_LIMIT = 1000;

async function listPorts(ctx: RequestContext) {
  const q = ctx.query;
  const auth = ctx.auth!;
  const where = { network_id: q.getAll('network_id'), device_id: q.getAll('device_id'), device_owner: q.getAll('device_owner') };
  const store = portStore(ctx.services);
  let records: PortRecord[];
  const projects = [...q.getAll('project_id'), ...q.getAll('tenant_id')].filter((p) => p);
  if (!isAdmin(auth)) {
    records = await store.listProject(auth.projectId!, where);
  } else if (projects.length) {
    records = (await Promise.all([...new Set(projects)].map((p) => store.listProject(p, where)))).flat();
  } else {
    records = await store.listAll(where, ADMIN_SCAN_LIMIT);
  }
  // The ports of router interfaces added by subnet (routerStore.ts), unless the filter leaves them out.
  if (!where.device_owner.length || where.device_owner.includes(ROUTER_INTERFACE)) {
    const scope = !isAdmin(auth) ? [auth.projectId!] : projects.length ? [...new Set(projects)] : undefined;
    records = [...records, ...(await routerInterfacePorts(ctx.services, scope, new Set(records.map((r) => r.id))))];
  }
  return listResponse(ctx, '/ports', records.map(portBody), portsSpec);
}

/** The port of a router interface added by subnet (no record of its own: routerStore.ts), as the caller may see it. */
async function routerPort(ctx: RequestContext, id: string): Promise<PortRecord | undefined> {
  const auth = ctx.auth!;
  return (await routerInterfacePorts(ctx.services, isAdmin(auth) ? undefined : [auth.projectId!])).find((p) => p.id === id.toLowerCase());
}

async function showPort(ctx: RequestContext) {
  const id = ctx.params.port_id;
  const auth = ctx.auth!;
  const store = portStore(ctx.services);
  const p = (isAdmin(auth) ? (await store.listAll({ RowKey: [id] }, 1))[0] : await store.get(auth.projectId!, id)) ?? (await routerPort(ctx, id));
  if (!p) throw portNotFound(id);
  return json({ port: selectFields(ctx.query, portBody(p)) });
}

/** The caller's port (admins: any project's), or Neutron's 404. */
async function ownPort(ctx: RequestContext, action: 'update' | 'delete'): Promise<PortRecord> {
  const id = ctx.params.port_id;
  const auth = ctx.auth!;
  const store = portStore(ctx.services);
  const p = isAdmin(auth) ? (await store.listAll({ RowKey: [id.toLowerCase()] }, 1))[0] : await store.get(auth.projectId!, id.toLowerCase());
  if (p) return p;
  const r = await routerPort(ctx, id);
  if (!r) throw portNotFound(id);
  // Neutron's l3 prevent_l3_port_deletion; an update has no record to change (Azure makes no router port).
  if (action === 'delete') throw neutronError(409, 'ServicePortInUse', `Port ${r.id} cannot be deleted directly via the port API: has device owner ${ROUTER_INTERFACE}.`);
  throw badRequest(
    `Port ${r.id} is router ${r.device_id}'s interface on subnet ${r.fixed_ips[0].subnet_id}, which Azure needs no port for: it cannot be changed (remove the interface from the router instead).`,
  );
}

async function createPortRoute(ctx: RequestContext) {
  const body = resourceBody(ctx, 'port');
  const projectId = ownerFor(ctx, body);
  return json({ port: portBody(await createPort(ctx.services, ctx.auth!, projectId, body)) }, 201);
}

async function updatePortRoute(ctx: RequestContext) {
  const body = resourceBody(ctx, 'port');
  return json({ port: portBody(await updatePort(ctx.services, ctx.auth!, await ownPort(ctx, 'update'), body)) });
}

async function deletePortRoute(ctx: RequestContext) {
  await deletePort(ctx.services, await ownPort(ctx, 'delete'));
  return noContent();
}

export const portReadRoutes: Route[] = [networkRoute('ports-list', 'GET', '/ports', 'get_port', listPorts), networkRoute('ports-show', 'GET', '/ports/{port_id}', 'get_port', showPort)];

export const portWriteRoutes: Route[] = [
  networkRoute('ports-create', 'POST', '/ports', 'create_port', createPortRoute),
  networkRoute('ports-update', 'PUT', '/ports/{port_id}', 'update_port', updatePortRoute),
  networkRoute('ports-delete', 'DELETE', '/ports/{port_id}', 'delete_port', deletePortRoute),
];
