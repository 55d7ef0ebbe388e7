// Server records and Nova's instance state machine (nova/compute/vm_states.py, task_states.py,
// power_state.py, api/openstack/common.py status mapping).
//
// Storage (docs/servers.md):
//   table 'servers'      PartitionKey = project id, RowKey = orderKey(created, id): a project's listing is
//                        one partition query already in Nova's default order (created_at desc, id desc),
//                        so limit/marker run in the query.
//   table 'serverindex'  PK 'id'  RK = server id  -> {project_id, rowKey}: show/delete by id, admins' lookups;
//                        PK 'all' RK = orderKey    -> {project_id, id}: the cross-project (all_tenants) listing
//                        and the sweeps, in the same order.
// State changes are ETag-conditional (Repository.update / replace).
import type { Services } from '../../services';
import type { RequestContext } from '../../http/router';
import { isAdmin, type AuthContext } from '../../api/policy';
import { conflict, notFound } from '../../http/errors';
import type { Repository, Stored } from '../../store/tables';
import { invertHex } from '../../store/order';
import { deleteUserData } from './userData';
import { deleteInstanceMigrations } from '../migrations/model';
import type { GroupPolicy } from '../serverGroups/model';

/** nova/compute/vm_states.py */
export type VmState = 'active' | 'building' | 'paused' | 'suspended' | 'stopped' | 'rescued' | 'resized' | 'soft-delete' | 'deleted' | 'error' | 'shelved' | 'shelved_offloaded';

/** nova/compute/task_states.py (the ones Jacket sets so far, plus those the later actions will). */
export type TaskState =
  | 'scheduling'
  | 'networking'
  | 'spawning'
  | 'deleting'
  | 'rebooting'
  | 'rebooting_hard'
  | 'powering-off'
  | 'powering-on'
  | 'resize_prep'
  | 'resize_migrating'
  | 'resize_finish'
  | 'resize_reverting'
  | 'resize_confirming'
  | 'rebuilding'
  | 'image_snapshot'
  | 'image_backup'
  | 'updating_password'
  // the lifecycle actions (power.ts, lifecycle.ts)
  | 'suspending'
  | 'resuming'
  | 'shelving'
  | 'shelving_offloading'
  | 'unshelving'
  | 'migrating'
  // deferred delete (actions/deferredDelete.ts)
  | 'soft-deleting'
  | 'restoring'
  // os-interface (work/interfaces.ts): not Nova's (it attaches synchronously); Azure stops the VM for it
  | 'interface-attaching'
  | 'interface-detaching'
  | null;

/** nova/compute/power_state.py */
export const POWER = { NOSTATE: 0, RUNNING: 1, PAUSED: 3, SHUTDOWN: 4, CRASHED: 6, SUSPENDED: 7 } as const;
export type PowerState = (typeof POWER)[keyof typeof POWER];

export interface ServerNic {
  network_id: string;
  network_name: string;
  subnet_id: string;
  /** The Neutron port id (the port record Jacket writes) and the Azure NIC name. */
  port_id: string;
  nic_name: string;
  /** Requested fixed IP, if any. */
  fixed_ip?: string;
  /** Known once Azure has allocated them. */
  addr?: string;
  /** A port with several fixed IPs (its NIC's secondary IP configurations): the addresses after the first. */
  more_addrs?: string[];
  mac?: string;
  version: 4 | 6;
  /** The floating IP on this port (Neutron's, shared/network/floatingIpService.ts), shown in addresses. */
  floating?: string;
  /** A port the user made (POST /ports): the server boots on its NIC and leaves it when deleted. */
  preexisting?: boolean;
}

export interface ServerFault {
  code: number;
  message: string;
  details?: string;
  created: string;
}

export interface ServerRecord {
  id: string;
  project_id: string;
  user_id: string;
  name: string;
  reservation_id: string;
  launch_index: number;
  created_at: string;
  updated_at: string;
  launched_at: string | null;
  vm_state: VmState;
  task_state: TaskState;
  power_state: PowerState;
  /**
   * The flavor as it was at boot (or resize), as Nova keeps instance.flavor: 2.47 shows it embedded.
   * `extra_specs` is absent on records written before it was kept (the view then reads the flavor's).
   */
  flavor: { id: string; name: string; vcpus: number; ram: number; disk: number; ephemeral: number; swap: number; vm_size: string; extra_specs?: Record<string, string> };
  /** '' when booted from a volume (not yet supported). */
  image_id: string;
  os_type: 'linux' | 'windows';
  key_name: string | null;
  metadata: Record<string, string>;
  security_groups: { id: string; name: string }[];
  nics: ServerNic[];
  /**
   * Created with networks "none" (2.37): the name of its one Azure NIC, in Jacket's isolated subnet
   * and not a Neutron port, so in no `nics`, addresses or os-interface list; deleted with the server.
   */
  isolated_nic?: string;
  accessIPv4: string;
  accessIPv6: string;
  availability_zone: string;
  config_drive: string;
  disk_config: 'AUTO' | 'MANUAL';
  /** Set once the VM request reached Azure (Nova's instance.host). */
  host: string | null;
  fault?: ServerFault;
  progress: number;
  azure: { vm: string; os_disk: string; admin_username: string };
  /** Nova's display_description (2.19): the name at a create below 2.19; absent on older records (then the name). */
  description?: string | null;
  /**
   * Nova's instance.hostname (2.3's OS-EXT-SRV-ATTR:hostname): the name made from the server's name, or
   * the one given at create (2.90, an FQDN from 2.94); update and rebuild change it (2.90), as Nova's
   * database field. Absent on older records.
   */
  hostname?: string;
  /**
   * The Azure VM's computer name, fixed at create (Azure cannot rename it): made from the hostname.
   * Absent on records written before 2.90, where it is `hostname` (which then never changes).
   */
  computer_name?: string;
  /**
   * 2.98: the image's properties as Nova keeps them in system_metadata (image_* keys of ImageMetaProps'
   * names, strings of at most 255), set at create and rebuild; absent on older records (read from the image).
   */
  image_properties?: Record<string, string>;
  /** Nova's instance.user_data (./userData.ts): inline, or kept aside when long; absent on older records (none). */
  user_data?: string | null;
  user_data_external?: boolean;
  /** Nova's instance.locked / locked_by (lock_server.py); absent = unlocked. */
  locked?: boolean;
  locked_by?: 'owner' | 'admin' | null;
  /** 2.73: the reason given to lock (Nova's system_metadata locked_reason), gone at unlock. */
  locked_reason?: string | null;
  /** The server group it was booted into (scheduler hint `group`); it leaves the group when its record goes. */
  server_group?: { id: string; policy: GroupPolicy };
  /** Nova's instance tags (server_tags.py, 2.26): unique, sorted; absent = none. */
  tags?: string[];
  /** 2.63: the trusted image certificate ids given at create or rebuild (Nova's instance.trusted_certs); null or absent for none. */
  trusted_certs?: string[] | null;
  /**
   * Nova's request_spec.availability_zone (2.96 `pinned_availability_zone`): the zone the create asked
   * for, changed by an unshelve that names one or `null` (2.91, which unpins); absent or null = unpinned.
   */
  pinned_availability_zone?: string | null;
  /** Nova's request_spec.scheduler_hints as the create gave them (2.100 `scheduler_hints`); absent = none. */
  scheduler_hints?: Record<string, unknown>;
  /** Indexed copies for filters in the table query. */
  flavor_id: string;
  vcpus: number;
  memory_mb: number;
}

export interface IdIndexRow {
  project_id: string;
  rowKey: string;
}
export interface OrderIndexRow {
  project_id: string;
  id: string;
}

const INDEXED = ['user_id', 'vm_state', 'task_state', 'flavor_id', 'image_id', 'updated_at', 'vcpus', 'memory_mb', 'reservation_id'] as const;
export const serverRepo = (s: Services): Repository<ServerRecord> => s.tables.repository<ServerRecord>('servers', [...INDEXED]);
const idIndex = (s: Services) => s.tables.repository<IdIndexRow>('serverindex');
const orderIndex = (s: Services) => s.tables.repository<OrderIndexRow>('serverindex');
export const PK_ID = 'id';
export const PK_ALL = 'all';

const MAX_TIME = 99999999999999;
/** Sorts ascending in Nova's default order: newest first, then id descending (shared/store/order.ts). */
export function orderKey(createdAt: string, id: string): string {
  const inv = String(MAX_TIME - Date.parse(createdAt)).padStart(14, '0');
  return `${inv}-${invertHex(id)}`;
}

/** Nova's time format for created/updated: seconds, Z. */
export const novaTime = (d = new Date()) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

export async function insertServer(s: Services, rec: ServerRecord): Promise<Stored<ServerRecord>> {
  const rk = orderKey(rec.created_at, rec.id);
  // Index rows first: a crash before the record leaves index rows pointing nowhere, read as absent.
  await idIndex(s).upsert(PK_ID, rec.id, { project_id: rec.project_id, rowKey: rk });
  await orderIndex(s).upsert(PK_ALL, rk, { project_id: rec.project_id, id: rec.id });
  return serverRepo(s).create(rec.project_id, rk, rec);
}

/** The record by id in any project (undefined when absent). */
export async function getServerAny(s: Services, id: string): Promise<Stored<ServerRecord> | undefined> {
  if (!/^[0-9a-fA-F-]{36}$/.test(id)) return undefined;
  const ix = await idIndex(s).get(PK_ID, id.toLowerCase());
  if (!ix) return undefined;
  return serverRepo(s).get(ix.value.project_id, ix.value.rowKey);
}

/** Read-modify-write of one server (ETag retries); undefined when it is gone. */
export async function updateServer(s: Services, cur: Stored<ServerRecord>, mutate: (v: ServerRecord) => ServerRecord | undefined): Promise<Stored<ServerRecord> | undefined> {
  return serverRepo(s).update(cur.partitionKey, cur.rowKey, (v) => {
    const next = mutate(v);
    return next ? { ...next, updated_at: novaTime() } : undefined;
  });
}

export async function removeServer(s: Services, cur: Stored<ServerRecord>): Promise<void> {
  await deleteUserData(s, cur.value);
  // Nova's instance_destroy soft-deletes the instance's migrations: they leave GET /os-migrations.
  await deleteInstanceMigrations(s, cur.value.id);
  await serverRepo(s).delete(cur.partitionKey, cur.rowKey);
  await orderIndex(s).delete(PK_ALL, cur.rowKey);
  await idIndex(s).delete(PK_ID, cur.value.id);
}

/**
 * Neutron's network-changed event, as Nova's info cache takes it: the floating IP now on `portId` of
 * the server (null: none). The floating IP service calls it after Azure has the change; a server that
 * is gone, or has no such port, is left alone.
 */
export async function noteFloatingIp(s: Services, serverId: string, portId: string, address: string | null): Promise<void> {
  const cur = await getServerAny(s, serverId);
  if (!cur) return;
  await updateServer(s, cur, (v) => {
    const nic = v.nics.find((n) => n.port_id === portId);
    if (!nic || (nic.floating ?? null) === address) return undefined;
    if (address) nic.floating = address;
    else delete nic.floating;
    return v;
  });
}

export const instanceNotFound = (id: string) => notFound(`Instance ${id} could not be found.`);

/** The server of the path as the caller may see it: their project's, or any for admins; else Nova's 404. */
export async function visibleServer(ctx: RequestContext, id = ctx.params.server_id): Promise<Stored<ServerRecord>> {
  const cur = await getServerAny(ctx.services, id);
  const a = ctx.auth!;
  if (!cur || (!isAdmin(a) && cur.value.project_id !== a.projectId)) throw instanceNotFound(id);
  return cur;
}

// ---- status (nova/api/openstack/common.py _STATE_MAP) ----

const STATE_MAP: Record<string, Record<string, string>> = {
  active: {
    default: 'ACTIVE',
    rebooting: 'REBOOT',
    reboot_pending: 'REBOOT',
    reboot_started: 'REBOOT',
    rebooting_hard: 'HARD_REBOOT',
    reboot_pending_hard: 'HARD_REBOOT',
    reboot_started_hard: 'HARD_REBOOT',
    updating_password: 'PASSWORD',
    rebuilding: 'REBUILD',
    rebuild_block_device_mapping: 'REBUILD',
    rebuild_spawning: 'REBUILD',
    migrating: 'MIGRATING',
    resize_prep: 'RESIZE',
    resize_migrating: 'RESIZE',
    resize_migrated: 'RESIZE',
    resize_finish: 'RESIZE',
  },
  building: { default: 'BUILD' },
  stopped: { default: 'SHUTOFF', resize_prep: 'RESIZE', resize_migrating: 'RESIZE', resize_migrated: 'RESIZE', resize_finish: 'RESIZE', rebuilding: 'REBUILD' },
  resized: { default: 'VERIFY_RESIZE', resize_reverting: 'REVERT_RESIZE' },
  paused: { default: 'PAUSED', migrating: 'MIGRATING' },
  suspended: { default: 'SUSPENDED' },
  rescued: { default: 'RESCUE' },
  error: { default: 'ERROR', rebuilding: 'REBUILD' },
  deleted: { default: 'DELETED' },
  'soft-delete': { default: 'SOFT_DELETED' },
  shelved: { default: 'SHELVED' },
  shelved_offloaded: { default: 'SHELVED_OFFLOADED' },
};

export function statusOf(vm: VmState, task: TaskState): string {
  const m = STATE_MAP[vm];
  if (!m) return 'UNKNOWN';
  return (task && m[task]) || m.default;
}

/** The vm_states a status filter selects (task_and_vm_state_from_status, simplified to vm_state). */
export function vmStatesForStatus(statuses: string[]): VmState[] {
  const out = new Set<VmState>();
  for (const st of statuses.map((x) => x.toUpperCase())) {
    for (const [vm, m] of Object.entries(STATE_MAP)) {
      if (Object.values(m).includes(st)) out.add(vm as VmState);
    }
  }
  return [...out];
}

/**
 * nova/compute/api.py check_instance_state: 409 InstanceInvalidState, in Nova's words, unless the
 * server's vm_state and task_state are among the allowed ones (undefined = any).
 */
export function checkInstanceState(server: ServerRecord, method: string, allowed: { vm?: VmState[]; task?: TaskState[] }): void {
  if (allowed.vm && !allowed.vm.includes(server.vm_state)) {
    throw conflict(`Cannot '${method}' instance ${server.id} while it is in vm_state ${server.vm_state}`);
  }
  if (allowed.task && !allowed.task.includes(server.task_state)) {
    // common.raise_http_conflict_for_instance_invalid_state: a None state gets the generic wording.
    if (server.task_state === null) throw conflict(`Instance ${server.id} is in an invalid state for '${method}'`);
    throw conflict(`Cannot '${method}' instance ${server.id} while it is in task_state ${server.task_state}`);
  }
}

/** nova/compute/api.py check_instance_lock: a locked server refuses non-admins with 409 InstanceIsLocked. */
export function checkInstanceLock(server: ServerRecord, auth: AuthContext): void {
  if (server.locked && !isAdmin(auth)) throw conflict(`Instance ${server.id} is locked`);
}
