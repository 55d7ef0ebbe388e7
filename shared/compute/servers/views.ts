// Server bodies as Nova's view builder writes them (nova/api/openstack/compute/views/servers.py plus
// the extended attributes merged into show/detail): basic (index), full (show/detail, with the OS-EXT-*
// keys; OS-EXT-SRV-ATTR:* for admins only), plain full (update, rebuild), and create's short body. By
// microversion: 2.3 more OS-EXT-SRV-ATTR keys and volumes' delete_on_termination, 2.9 locked, 2.16
// host_status (show/detail), 2.19 description, 2.26 tags, 2.47 the embedded flavor, 2.90 the hostname for
// everyone, 2.96 pinned_availability_zone, 2.98 the image's properties, 2.100 scheduler_hints.
import { createHash } from 'node:crypto';
import type { RequestContext } from '../../http/router';
import { allowed, isAdmin } from '../../api/policy';
import { computeUrl } from '../common';
import { statusOf, type ServerRecord } from './model';
import { volumesAttachedView } from './volumes';
import { computerName } from '../../azure/vms';
import { listServices } from '../../servicegroup/registry';
import { getFlavor } from '../flavors/store';
import { getGroup } from '../serverGroups/model';

function links(ctx: RequestContext, id: string) {
  return [
    { rel: 'self', href: computeUrl(ctx, `/servers/${id}`) },
    { rel: 'bookmark', href: `${ctx.services.config.publicUrl}/compute/servers/${id}` },
  ];
}

const bookmark = (ctx: RequestContext, kind: string, id: string) => [{ rel: 'bookmark', href: `${ctx.services.config.publicUrl}/compute/${kind}/${encodeURIComponent(id)}` }];

/**
 * Nova's hostId: sha224 of project id + host, '' before the instance has a host. Remembered per
 * (project, host): a page of servers of one project on Jacket's one host hashes the same input each
 * time. Bounded: cleared when it holds more than HOST_IDS_MAX pairs.
 */
const hostIds = new Map<string, string>();
const HOST_IDS_MAX = 10_000;
export function hostId(s: Pick<ServerRecord, 'project_id' | 'host'>): string {
  if (!s.host) return '';
  const key = s.project_id + s.host;
  let h = hostIds.get(key);
  if (h === undefined) {
    if (hostIds.size >= HOST_IDS_MAX) hostIds.clear();
    h = createHash('sha224').update(key).digest('hex');
    hostIds.set(key, h);
  }
  return h;
}

/** Azure writes MACs as 00-0D-3A-..; Neutron and Nova show 00:0d:3a:... */
export const novaMac = (mac: string) => mac.toLowerCase().replace(/-/g, ':');

export function addresses(s: ServerRecord, extended: boolean) {
  const out: Record<string, Record<string, unknown>[]> = {};
  for (const n of s.nics) {
    if (!n.addr) continue;
    const a: Record<string, unknown> = { version: n.version, addr: n.addr };
    if (extended) {
      a['OS-EXT-IPS:type'] = 'fixed';
      a['OS-EXT-IPS-MAC:mac_addr'] = n.mac ? novaMac(n.mac) : '';
    }
    (out[n.network_name] ??= []).push(a);
    // A port's other fixed IPs follow its first, as Nova's info cache lists a VIF's fixed IPs.
    for (const more of n.more_addrs ?? []) out[n.network_name].push({ ...a, addr: more });
    // A floating IP follows its fixed address in the same network, as Nova's info cache lists them.
    if (n.floating) {
      const f: Record<string, unknown> = { version: 4, addr: n.floating };
      if (extended) {
        f['OS-EXT-IPS:type'] = 'floating';
        f['OS-EXT-IPS-MAC:mac_addr'] = a['OS-EXT-IPS-MAC:mac_addr'];
      }
      out[n.network_name].push(f);
    }
  }
  return out;
}

export function basicView(ctx: RequestContext, s: ServerRecord) {
  return { id: s.id, name: s.name, links: links(ctx, s.id) };
}

const PROGRESS_STATUSES = ['ACTIVE', 'BUILD', 'REBUILD', 'RESIZE', 'VERIFY_RESIZE', 'MIGRATING'];

/** Nova's launched_at: the UTC datetime's isoformat(), microseconds and offset. */
const usageTime = (t: string | null) => (t ? t.replace(/\.(\d{3})Z$/, '.$1000+00:00').replace(/(:\d\d)Z$/, '$1.000000+00:00') : null);

/** What a view needs beyond the record, read beforehand for the page (see ./userData.ts). */
export interface ViewExtras {
  /** user_data by server id, for admins' OS-EXT-SRV-ATTR:user_data from 2.3. */
  userData?: Map<string, string | null>;
  /** 2.16's host_status of the compute host (Jacket has one), when the caller may see it. */
  hostStatus?: { status: HostStatus; unknownOnly: boolean };
  /** 2.47: the flavor's extra specs by flavor id, for records written before the server kept its own. */
  flavorSpecs?: Map<string, Record<string, string>>;
  /** 2.71: the ids of the server groups the server is in (show, update and rebuild only: serverGroupsOf). */
  serverGroups?: string[];
  /** 2.98: image properties by image id, for records written before the server kept them (./imageMeta.ts). */
  imageProperties?: Map<string, Record<string, string>>;
  /** 2.100 in the detail list: the server groups (by id) of the page that still exist (loadLiveGroups). */
  liveGroups?: Set<string>;
}

/** Nova's instance.hostname: the record's, else (records older than 2.3's support) made from the name as at create. */
const hostnameOf = (s: ServerRecord) => s.hostname ?? computerName(s.name, s.os_type, s.id);

/**
 * 2.100's scheduler_hints: Nova's request_spec.scheduler_hints, each value a list of strings (RequestSpec
 * _from_hints), kept at create. A record written before has only its server group to tell: Jacket takes
 * no other hint, so `{"group": [<id>]}` for a server created into one, else `{}`. Once the group is
 * deleted Nova's request spec drops the `group` hint as it loads (RequestSpec._from_db_object): so here,
 * the group's existence read by serverGroupsOf (show, update, rebuild) or loadLiveGroups (detail).
 */
function schedulerHintsOf(s: ServerRecord, extras: ViewExtras): Record<string, unknown> {
  const hints: Record<string, unknown> = s.scheduler_hints ?? (s.server_group ? { group: [s.server_group.id] } : {});
  if (!('group' in hints) || !s.server_group) return hints;
  const gone = extras.serverGroups ? !extras.serverGroups.includes(s.server_group.id) : extras.liveGroups ? !extras.liveGroups.has(s.server_group.id) : false;
  if (!gone) return hints;
  const { group: _gone, ...rest } = hints; // eslint-disable-line @typescript-eslint/no-unused-vars
  return rest;
}

/** The server groups of a detail page that still exist, for 2.100's `group` hint: one read per group. */
export async function loadLiveGroups(ctx: RequestContext, recs: ServerRecord[]): Promise<Set<string> | undefined> {
  if (!ctx.microversion?.atLeast('2.100')) return undefined;
  const ids = [...new Set(recs.flatMap((r) => (r.server_group ? [r.server_group.id] : [])))];
  const found = await Promise.all(ids.map(async (id) => ((await getGroup(ctx.services, id)) ? id : undefined)));
  return new Set(found.filter((id): id is string => id !== undefined));
}

/** nova/api/openstack/compute/views/servers.py _get_image: the id and bookmark, from 2.98 with the properties. */
function imageView(ctx: RequestContext, s: ServerRecord, extras: ViewExtras) {
  if (!s.image_id) return '';
  const v: Record<string, unknown> = { id: s.image_id, links: bookmark(ctx, 'images', s.image_id) };
  if (ctx.microversion?.atLeast('2.98')) v.properties = s.image_properties ?? extras.imageProperties?.get(s.image_id) ?? {};
  return v;
}

/**
 * 2.71's server_groups (Nova's _get_server_groups: InstanceGroup.get_by_instance_uuid), for show,
 * update and rebuild, not for the detail list. The server keeps the group it was created into; it is
 * listed while that group exists and still has it as a member (a deleted group has none), as Nova's
 * membership rows are.
 */
export async function serverGroupsOf(ctx: RequestContext, s: ServerRecord): Promise<string[] | undefined> {
  if (!ctx.microversion?.atLeast('2.71')) return undefined;
  if (!s.server_group) return [];
  const g = await getGroup(ctx.services, s.server_group.id);
  return g?.value.members.some((m) => m.id === s.id) ? [g.value.id] : [];
}

/** Whether 2.47's embedded flavor shows extra_specs (Nova: os-flavor-extra-specs:index, fatal=False). */
const showsExtraSpecs = (ctx: RequestContext) => (ctx.microversion?.atLeast('2.47') ?? false) && allowed(ctx, 'os_compute_api:os-flavor-extra-specs:index');

/** The extra specs 2.47 needs and the records lack (older records): read from the flavors, once each. */
export async function loadFlavorSpecs(ctx: RequestContext, recs: ServerRecord[]): Promise<ViewExtras['flavorSpecs']> {
  if (!showsExtraSpecs(ctx)) return undefined;
  const ids = [...new Set(recs.filter((r) => r.flavor.extra_specs === undefined).map((r) => r.flavor.id))];
  if (ids.length === 0) return undefined;
  const found = await Promise.all(ids.map(async (id) => [id, (await getFlavor(ctx.services, id))?.value.extra_specs ?? {}] as const));
  return new Map(found);
}

/**
 * nova/api/openstack/compute/views/servers.py _get_flavor: the id and a bookmark link up to 2.46; from
 * 2.47 the flavor as the server has it (Nova's instance.flavor), extra_specs only for callers allowed
 * to list extra specs.
 */
function flavorView(ctx: RequestContext, s: ServerRecord, extras: ViewExtras) {
  if (!ctx.microversion?.atLeast('2.47')) return { id: s.flavor.id, links: bookmark(ctx, 'flavors', s.flavor.id) };
  const f = s.flavor;
  const v: Record<string, unknown> = { vcpus: f.vcpus, ram: f.ram, disk: f.disk, ephemeral: f.ephemeral, swap: f.swap, original_name: f.name };
  if (showsExtraSpecs(ctx)) v.extra_specs = f.extra_specs ?? extras.flavorSpecs?.get(f.id) ?? {};
  return v;
}

export type HostStatus = 'UP' | 'DOWN' | 'MAINTENANCE' | 'UNKNOWN';

/**
 * The compute host's status as Nova's get_instance_host_status words it (forced down: DOWN, disabled:
 * MAINTENANCE, else UP or, heartbeats missed, UNKNOWN), for show/detail from 2.16 when the caller passes
 * servers:show:host_status (any status) or its unknown-only variant (UNKNOWN only); else undefined.
 */
export async function hostStatusFor(ctx: RequestContext, rec?: ServerRecord): Promise<ViewExtras['hostStatus']> {
  if (!ctx.microversion?.atLeast('2.16')) return undefined;
  const target = rec ? { projectId: rec.project_id } : undefined;
  const unknownOnly = allowed(ctx, 'os_compute_api:servers:show:host_status', target) ? false : allowed(ctx, 'os_compute_api:servers:show:host_status:unknown-only', target) ? true : undefined;
  if (unknownOnly === undefined) return undefined;
  const svc = (await listServices(ctx.services, 'compute')).find((v) => v.binary === 'nova-compute');
  const status: HostStatus = !svc ? 'UNKNOWN' : svc.forced_down ? 'DOWN' : svc.disabled ? 'MAINTENANCE' : svc.up ? 'UP' : 'UNKNOWN';
  return { status, unknownOnly };
}

/** Whether show/detail at this request carry 2.3's OS-EXT-SRV-ATTR:user_data (so its rows are worth reading). */
export const showsUserData = (ctx: RequestContext) => (ctx.microversion?.atLeast('2.3') ?? false) && allowed(ctx, 'os_compute_api:os-extended-server-attributes');

/** show/detail (extended = true) or update and rebuild (extended = false). */
export function fullView(ctx: RequestContext, s: ServerRecord, extended = true, extras: ViewExtras = {}) {
  const mv = ctx.microversion;
  const status = statusOf(s.vm_state, s.task_state);
  const v: Record<string, unknown> = {
    id: s.id,
    name: s.name,
    status,
    tenant_id: s.project_id,
    user_id: s.user_id,
    metadata: s.metadata,
    hostId: hostId(s),
    image: imageView(ctx, s, extras),
    flavor: flavorView(ctx, s, extras),
    created: s.created_at,
    updated: s.updated_at,
    addresses: addresses(s, extended),
    accessIPv4: s.accessIPv4,
    accessIPv6: s.accessIPv6,
    links: links(ctx, s.id),
    'OS-DCF:diskConfig': s.disk_config,
  };
  if (PROGRESS_STATUSES.includes(status)) v.progress = s.progress;
  if (s.fault && (s.vm_state === 'error' || s.vm_state === 'deleted')) {
    const f: Record<string, unknown> = { code: s.fault.code, created: s.fault.created, message: s.fault.message };
    // Nova shows details to admins, and to everyone for faults that are not 500s.
    if (s.fault.details && (isAdmin(ctx.auth!) || s.fault.code !== 500)) f.details = s.fault.details;
    v.fault = f;
  }
  if (mv?.atLeast('2.9')) v.locked = Boolean(s.locked);
  if (mv?.atLeast('2.73')) v.locked_reason = s.locked_reason ?? null;
  // Nova's display_description; below 2.19 a create sets it to the name (records older than 2.19's support lack it).
  if (mv?.atLeast('2.19')) v.description = s.description === undefined ? s.name : s.description;
  if (mv?.atLeast('2.26')) v.tags = s.tags ?? [];
  // 2.63: in show, detail, update and rebuild (null for none).
  if (mv?.atLeast('2.63')) v.trusted_image_certificates = s.trusted_certs?.length ? s.trusted_certs : null;
  if (extras.serverGroups) v.server_groups = extras.serverGroups;
  // 2.100: in show, detail, update and rebuild, `{}` for none.
  if (mv?.atLeast('2.100')) v.scheduler_hints = schedulerHintsOf(s, extras);
  if (!extended) return v;
  v.key_name = s.key_name;
  v.config_drive = s.config_drive;
  v.security_groups = [...new Set(s.security_groups.map((g) => g.name))].map((n) => ({ name: n }));
  v['OS-EXT-AZ:availability_zone'] = s.availability_zone;
  v['OS-EXT-STS:vm_state'] = s.vm_state;
  v['OS-EXT-STS:task_state'] = s.task_state;
  v['OS-EXT-STS:power_state'] = s.power_state;
  v['OS-SRV-USG:launched_at'] = usageTime(s.launched_at);
  v['OS-SRV-USG:terminated_at'] = null;
  v['os-extended-volumes:volumes_attached'] = volumesAttachedView(s, mv?.atLeast('2.3') ?? false);
  if (allowed(ctx, 'os_compute_api:os-extended-server-attributes')) {
    v['OS-EXT-SRV-ATTR:host'] = s.host;
    v['OS-EXT-SRV-ATTR:hypervisor_hostname'] = s.host;
    v['OS-EXT-SRV-ATTR:instance_name'] = s.azure.vm;
    if (mv?.atLeast('2.3')) {
      // Nova's instance.hostname (the VM's computer name unless 2.90's update or rebuild changed it); no
      // kernel or ramdisk images on Azure (Nova's '' for an image without them); the OS disk is the root
      // device once the VM is placed (Nova names it at build).
      v['OS-EXT-SRV-ATTR:hostname'] = hostnameOf(s);
      v['OS-EXT-SRV-ATTR:kernel_id'] = '';
      v['OS-EXT-SRV-ATTR:launch_index'] = s.launch_index;
      v['OS-EXT-SRV-ATTR:ramdisk_id'] = '';
      v['OS-EXT-SRV-ATTR:reservation_id'] = s.reservation_id;
      v['OS-EXT-SRV-ATTR:root_device_name'] = s.host ? '/dev/sda' : null;
      v['OS-EXT-SRV-ATTR:user_data'] = extras.userData?.has(s.id) ? extras.userData.get(s.id) : (s.user_data ?? null);
    }
  } else if (mv?.atLeast('2.90')) {
    // 2.90: the hostname for everyone (the other extended attributes stay behind their policy).
    v['OS-EXT-SRV-ATTR:hostname'] = hostnameOf(s);
  }
  // 2.96 (with the zone, Nova's show_AZ): the zone the create asked for (request_spec.availability_zone),
  // null when it named none; records written before do not know, and show null (unpinned).
  if (mv?.atLeast('2.96')) v.pinned_availability_zone = s.pinned_availability_zone ?? null;
  // host_status (2.16): '' for a server without a host (Nova's HostStatus.NONE).
  const hs = extras.hostStatus;
  if (hs) {
    const status = s.host ? hs.status : '';
    if (!hs.unknownOnly || status === 'UNKNOWN') v.host_status = status;
  }
  return v;
}

export function createView(ctx: RequestContext, s: ServerRecord, adminPass?: string) {
  const v: Record<string, unknown> = {
    id: s.id,
    links: links(ctx, s.id),
    'OS-DCF:diskConfig': s.disk_config,
    security_groups: [...new Set(s.security_groups.map((g) => g.name))].map((n) => ({ name: n })),
  };
  if (adminPass !== undefined) v.adminPass = adminPass;
  return v;
}
