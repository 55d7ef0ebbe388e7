// /servers: the core of Nova's server API at 2.1 — list, list detail, show, update, plus create
// (create.ts) and delete (delete.ts). Lists run in the table query: a project's partition is already in
// Nova's default order (created_at desc, id desc), so limit/marker and the equality filters go to
// Table Storage; the regex filters (name, ip) are applied while reading, stopping once the page is full.
import type { RequestContext, Route } from '../../../http/router';
import type { Services } from '../../../services';
import { json, noContent } from '../../../http/respond';
import { badRequest } from '../../../http/errors';
import { schemaAt, validateBody } from '../../../api/validation';
import { allowed, authorize } from '../../../api/policy';
import { pageRequest, nextLinks } from '../../../api/pagination';
import { odata, type Stored } from '../../../store/tables';
import { CHANGES_ORDER, computeRoute, computeUrl, projectOf } from '../../common';
import { getServerAny, serverRepo, updateServer, vmStatesForStatus, visibleServer, novaTime, PK_ALL, type ServerRecord, type OrderIndexRow } from '../model';
import { canonicalIpv6, createServerSchemas, strictBool, truthy, updateServerSchemas, type CreateServerBody, type UpdateServerBody } from '../schemas';
import { basicView, createView, fullView, hostStatusFor, loadFlavorSpecs, loadLiveGroups, serverGroupsOf, showsUserData } from '../views';
import { loadUserData } from '../userData';
import { loadImageProperties } from '../imageMeta';
import { createServers } from '../service/create';
import { deleteServer } from '../service/delete';
import { tagFilter } from '../service/tags';

// ---- list filters (servers.py _get_servers, at 2.1) ----

interface Filters {
  odata: string[];
  match: ((s: ServerRecord) => boolean)[];
  /** A filter that can match nothing (unknown status): answer an empty list. */
  empty: boolean;
}

const badQuery = (param: string, value: string, why: string) => badRequest(`Invalid input for query parameters ${param}. Value: ${value}. ${why}`);

function regexOf(param: string, v: string): RegExp {
  try {
    // Python's re.search semantics; MySQL's REGEXP (Nova's database filter) ignores case.
    return new RegExp(v, 'i');
  } catch {
    throw badQuery(param, v, `'${v}' is not a 'regex'`);
  }
}

function filtersOf(ctx: RequestContext): Filters {
  const q = ctx.query;
  const f: Filters = { odata: [], match: [], empty: false };
  const admin = allowed(ctx, 'os_compute_api:servers:allow_all_filters');
  const name = q.get('name');
  if (name !== null) {
    const re = regexOf('name', name);
    f.match.push((s) => re.test(s.name));
  }
  const statuses = q.getAll('status');
  if (statuses.length) {
    const states = vmStatesForStatus(statuses);
    // A status that maps to no state: Nova's empty list, and from 2.38 its 400.
    if (states.length === 0 && ctx.microversion?.atLeast('2.38')) throw badRequest('Invalid status value');
    if (states.length === 0) f.empty = true;
    else {
      f.odata.push(`(${states.map((v) => odata`vm_state eq ${v}`).join(' or ')})`);
      f.match.push((s) => states.includes(s.vm_state));
    }
  }
  const image = q.get('image');
  if (image !== null) {
    // Nova accepts the image's id or its URL (the last path segment is the id).
    const id = image.split('/').pop() ?? image;
    f.odata.push(odata`image_id eq ${id}`);
    f.match.push((s) => s.image_id === id);
  }
  const flavor = q.get('flavor');
  if (flavor !== null) {
    const id = flavor.split('/').pop() ?? flavor;
    f.odata.push(odata`flavor_id eq ${id}`);
    f.match.push((s) => s.flavor_id === id);
  }
  const since = q.get('changes-since');
  if (since !== null) {
    const t = Date.parse(since);
    if (Number.isNaN(t) || !/^\d{4}-\d{2}-\d{2}T/.test(since)) throw badQuery('changes-since', since, `'${since}' is not a 'date-time'`);
    const iso = novaTime(new Date(t));
    f.odata.push(odata`updated_at ge ${iso}`);
    f.match.push((s) => s.updated_at >= iso);
  }
  // changes-before: a filter from 2.66 (index_query_v266); below it Nova drops it for non-admins
  // (remove_invalid_options) and applies it for admins (allow_all_filters), parsed by hand.
  const before = q.get('changes-before');
  if (before !== null && (ctx.microversion?.atLeast('2.66') || admin)) {
    const t = Date.parse(before);
    if (Number.isNaN(t) || !/^\d{4}-\d{2}-\d{2}T/.test(before)) {
      throw ctx.microversion?.atLeast('2.66') ? badQuery('changes-before', before, `'${before}' is not a 'date-time'`) : badRequest('Invalid filter field: changes-before.');
    }
    if (since !== null && t < Date.parse(since)) throw badRequest(CHANGES_ORDER);
    const iso = novaTime(new Date(t));
    f.odata.push(odata`updated_at le ${iso}`);
    f.match.push((s) => s.updated_at <= iso);
  }
  // ip, and ip6 (admins' at any version, everyone's from 2.5): Nova asks Neutron for ports whose
  // addresses match either (ip_address_substr) and lists the servers of both sets.
  // The query schema checks both regexes at every version, for everyone (400), before any is dropped.
  const ip = q.get('ip');
  const ip6 = q.get('ip6');
  const ipRe = ip === null ? undefined : regexOf('ip', ip);
  const ip6Re = ip6 === null ? undefined : regexOf('ip6', ip6);
  const ipRes = [ipRe, admin || ctx.microversion?.atLeast('2.5') ? ip6Re : undefined].filter((re): re is RegExp => re !== undefined);
  if (ipRes.length) f.match.push((s) => s.nics.some((n) => n.addr !== undefined && ipRes.some((re) => re.test(n.addr!))));
  const reservation = q.get('reservation_id');
  if (reservation !== null) {
    f.odata.push(odata`reservation_id eq ${reservation}`);
    f.match.push((s) => s.reservation_id === reservation);
  }
  // 2.26: the tag filters, for everyone (comma-separated tags; the query schema checks each value as a
  // regex). Below 2.26 they are dropped (Nova's non-admins; an admin's reaches Nova's database unsplit).
  if (ctx.microversion?.atLeast('2.26')) {
    for (const kind of ['tags', 'tags-any', 'not-tags', 'not-tags-any'] as const) {
      const v = q.getAll(kind).pop();
      if (v === undefined) continue;
      regexOf(kind, v);
      f.match.push(tagFilter(kind, v.split(',')));
    }
  }
  // 2.73: `locked` for everyone (an admin's reaches Nova's database at any version), a strict boolean
  // (common.is_locked: oslo's bool_from_string, strict).
  const locked = q.getAll('locked').pop();
  if (locked !== undefined && (admin || ctx.microversion?.atLeast('2.73'))) {
    const want = strictBool(locked);
    f.match.push((s) => Boolean(s.locked) === want);
  }
  instanceColumnFilters(ctx, f, admin);
  // Admin-only filters; Nova drops them silently for others (remove_invalid_options).
  // host: an exact match on the instance's host (nova/db/main/api.py exact_match_filter_names); node:
  // a regex over its node (the regex filters), Jacket's node being its host. Not indexed columns: the
  // rows are matched while reading. webob's req.GET (a MultiDict) gives the last value of a repeat.
  const host = q.getAll('host').pop();
  if (admin && host !== undefined) f.match.push((s) => s.host === host);
  const node = q.getAll('node').pop();
  if (admin && node !== undefined) {
    const re = regexOf('node', node);
    f.match.push((s) => s.host !== null && re.test(s.host));
  }
  return f;
}

/** The statuses whose _STATE_MAP entry is a vm_state's `default`: with none of them, Nova's status filter sets task_state itself. */
const DEFAULT_STATUSES = new Set(['ACTIVE', 'BUILD', 'SHUTOFF', 'VERIFY_RESIZE', 'PAUSED', 'SUSPENDED', 'RESCUE', 'ERROR', 'DELETED', 'SOFT_DELETED', 'SHELVED', 'SHELVED_OFFLOADED']);

/** A datetime column as MySQL's REGEXP reads it (Nova's regex filters run on the database's text of the column). */
const dbText = (t: string | null | undefined) => (t ? new Date(t).toISOString().slice(0, 19).replace('T', ' ') : null);

/**
 * The instance columns Nova filters on: for admins at any version (allow_all_filters), for everyone from
 * 2.83 (_get_server_search_options); below it a member's are dropped (remove_invalid_options). The
 * query schema checks the regex-typed ones (format 'regex') at every version, for everyone, first.
 * nova/db/main/api.py matches user_id, vm_state and task_state exactly (exact_match_filter_names) and
 * the rest as a regex over the column's text (MySQL REGEXP, which ignores case): a NULL column (a key
 * name never given, a server never launched, terminated_at of a live one) matches nothing. webob's
 * req.GET gives the last value of a repeat. user_id, vm_state and task_state are indexed columns and go
 * to the table query; the others are matched while reading, as the name and ip filters.
 */
function instanceColumnFilters(ctx: RequestContext, f: Filters, admin: boolean): void {
  const q = ctx.query;
  const last = (k: string) => q.getAll(k).pop();
  const regexes: [string, (s: ServerRecord) => string | null][] = [
    ['availability_zone', (s) => s.availability_zone ?? null],
    ['config_drive', (s) => s.config_drive ?? null],
    ['key_name', (s) => s.key_name ?? null],
    ['created_at', (s) => dbText(s.created_at)],
    ['launched_at', (s) => dbText(s.launched_at)],
    // Jacket removes a server's record once Azure confirms its delete: no listed server is terminated.
    ['terminated_at', () => null],
    ['power_state', (s) => String(s.power_state)],
    ['progress', (s) => (s.progress === undefined || s.progress === null ? null : String(s.progress))],
  ];
  const applies = admin || (ctx.microversion?.atLeast('2.83') ?? false);
  for (const [key, column] of regexes) {
    const v = last(key);
    if (v === undefined) continue;
    const re = regexOf(key, v);
    if (!applies) continue;
    f.match.push((s) => {
      const text = column(s);
      return text !== null && re.test(text);
    });
  }
  if (!applies) return;
  const user = last('user_id');
  if (user !== undefined) {
    f.odata.push(odata`user_id eq ${user}`);
    f.match.push((s) => s.user_id === user);
  }
  // A status filter sets vm_state over the caller's, and task_state too unless a status it names is a
  // vm_state's default (servers.py _get_servers).
  const statuses = q.getAll('status');
  const vm = last('vm_state');
  if (vm !== undefined && !statuses.length) {
    f.odata.push(odata`vm_state eq ${vm}`);
    f.match.push((s) => s.vm_state === vm);
  }
  const task = last('task_state');
  if (task !== undefined && (!statuses.length || statuses.some((st) => DEFAULT_STATUSES.has(st.toUpperCase())))) {
    f.odata.push(odata`task_state eq ${task}`);
    f.match.push((s) => s.task_state === task);
  }
}

const allTenants = (q: URLSearchParams) => q.has('all_tenants') && !['false', '0', 'off', 'no'].includes((q.get('all_tenants') ?? '').toLowerCase());

/** Reads rows in order from the project's partition, after the marker, until `limit` match. */
async function listProject(s: Services, projectId: string, f: Filters, limit: number, afterRowKey?: string): Promise<ServerRecord[]> {
  const client = await s.tables.client('servers');
  const parts = [odata`PartitionKey eq ${projectId}`, ...(afterRowKey ? [odata`RowKey gt ${afterRowKey}`] : []), ...f.odata];
  const out: ServerRecord[] = [];
  if (limit === 0) return out;
  // Only the document: the indexed columns beside it serve the filter, not the view.
  const queryOptions = { filter: parts.join(' and '), select: ['doc'] };
  for await (const page of client.listEntities<{ doc: string }>({ queryOptions }).byPage({ maxPageSize: Math.min(Math.max(limit, 10), 1000) })) {
    for (const e of page) {
      const rec = JSON.parse(e.doc) as ServerRecord;
      if (f.match.every((m) => m(rec))) out.push(rec);
      if (out.length >= limit) return out;
    }
  }
  return out;
}

/** all_tenants: the 'all' index partition holds every server in the same order; records by point reads. */
async function listAll(s: Services, f: Filters, limit: number, afterRowKey?: string): Promise<ServerRecord[]> {
  const client = await s.tables.client('serverindex');
  const parts = [odata`PartitionKey eq ${PK_ALL}`, ...(afterRowKey ? [odata`RowKey gt ${afterRowKey}`] : [])];
  const out: ServerRecord[] = [];
  if (limit === 0) return out;
  const repo = serverRepo(s);
  for await (const page of client.listEntities<{ doc: string }>({ queryOptions: { filter: parts.join(' and ') } }).byPage({ maxPageSize: Math.min(Math.max(limit, 10), 1000) })) {
    const rows = page.map((e) => ({ rk: e.rowKey as string, ix: JSON.parse(e.doc) as OrderIndexRow }));
    const recs = await Promise.all(rows.map((r) => repo.get(r.ix.project_id, r.rk)));
    for (const r of recs) {
      if (r && f.match.every((m) => m(r.value))) out.push(r.value);
      if (out.length >= limit) return out;
    }
  }
  return out;
}

async function listServers(ctx: RequestContext, detail: boolean) {
  const s = ctx.services;
  const q = ctx.query;
  const page = pageRequest(q);
  const f = filtersOf(ctx);
  const all = allTenants(q);
  if (all) authorize(ctx, detail ? 'os_compute_api:servers:detail:get_all_tenants' : 'os_compute_api:servers:index:get_all_tenants');
  // Without all_tenants, tenant_id is ignored (lp:#1185290); with it, it narrows to one project.
  const tenant = all ? (q.get('tenant_id') ?? q.get('project_id')) : null;
  const scope = all ? tenant : projectOf(ctx);
  let after: string | undefined;
  if (page.marker !== undefined) {
    const m: Stored<ServerRecord> | undefined = await getServerAny(s, page.marker);
    if (!m || (scope !== null && m.value.project_id !== scope)) throw badRequest(`marker [${page.marker}] not found`);
    after = m.rowKey;
  }
  const items = f.empty ? [] : scope !== null ? await listProject(s, scope, f, page.limit, after) : await listAll(s, f, page.limit, after);
  const extras = detail
    ? {
        userData: showsUserData(ctx) ? await loadUserData(s, items) : undefined,
        hostStatus: await hostStatusFor(ctx),
        flavorSpecs: await loadFlavorSpecs(ctx, items),
        imageProperties: await loadImageProperties(ctx, items),
        liveGroups: await loadLiveGroups(ctx, items),
      }
    : {};
  const body: Record<string, unknown> = { servers: items.map((r) => (detail ? fullView(ctx, r, true, extras) : basicView(ctx, r))) };
  const next = nextLinks(computeUrl(ctx, detail ? '/servers/detail' : '/servers'), q, items, page);
  if (next) body.servers_links = next;
  return json(body);
}

/** POST /servers (nova/api/openstack/compute/servers.py create): validate, create, render. */
async function create(ctx: RequestContext) {
  const whole = validateBody<CreateServerBody & { 'os:scheduler_hints'?: Record<string, unknown>; 'OS-SCH-HNT:scheduler_hints'?: Record<string, unknown> }>(
    schemaAt(ctx.microversion, createServerSchemas),
    ctx.body,
  );
  const body = whole.server;
  // 2.63: the policy is checked only when certificate ids are given (Nova skips it for none or null).
  if (body.trusted_image_certificates?.length) authorize(ctx, 'os_compute_api:servers:create:trusted_certs');
  // 2.74: a requested destination is for admins (servers.py _process_hosts_for_create); the service checks the host.
  if (ctx.microversion?.atLeast('2.74') && (body.host || body.hypervisor_hostname)) authorize(ctx, 'compute:servers:create:requested_destination');
  // Nova reads os:scheduler_hints, else the older OS-SCH-HNT:scheduler_hints.
  const made = await createServers(ctx, body, whole['os:scheduler_hints'] ?? whole['OS-SCH-HNT:scheduler_hints'] ?? {});
  if (truthy(body.return_reservation_id)) return json({ reservation_id: made.reservationId }, 202);
  return json({ server: createView(ctx, made.servers[0], made.password) }, 202);
}

/** DELETE /servers/{id}: 204 whether it deletes, soft-deletes or is already deleting. */
async function remove(ctx: RequestContext) {
  await deleteServer(ctx, await visibleServer(ctx));
  return noContent();
}

async function show(ctx: RequestContext) {
  const rec = (await visibleServer(ctx)).value;
  const userData = showsUserData(ctx) ? await loadUserData(ctx.services, [rec]) : undefined;
  return json({
    server: fullView(ctx, rec, true, {
      userData,
      hostStatus: await hostStatusFor(ctx, rec),
      flavorSpecs: await loadFlavorSpecs(ctx, [rec]),
      serverGroups: await serverGroupsOf(ctx, rec),
      imageProperties: await loadImageProperties(ctx, [rec]),
    }),
  });
}

async function update(ctx: RequestContext) {
  const b = validateBody<UpdateServerBody>(schemaAt(ctx.microversion, updateServerSchemas), ctx.body).server;
  const cur = await visibleServer(ctx);
  const stored = await updateServer(ctx.services, cur, (v) => ({
    ...v,
    ...(b.name !== undefined ? { name: b.name } : {}),
    ...(b.accessIPv4 !== undefined ? { accessIPv4: b.accessIPv4 } : {}),
    ...(b.accessIPv6 !== undefined ? { accessIPv6: canonicalIpv6(b.accessIPv6) } : {}),
    ...(b['OS-DCF:diskConfig'] !== undefined ? { disk_config: b['OS-DCF:diskConfig'] } : {}),
    // 2.19: null removes it.
    ...(b.description !== undefined ? { description: b.description } : {}),
    // 2.90: Nova changes instance.hostname only (the guest reads it from the metadata service); Azure
    // cannot rename a VM's computer name, so the VM keeps the one it was made with.
    ...(b.hostname !== undefined ? { hostname: b.hostname, computer_name: v.computer_name ?? v.hostname } : {}),
  }));
  const rec = (stored ?? cur).value;
  // From 2.75 the answer is the whole server, as show renders it (the policy-gated parts by their policies).
  const whole = ctx.microversion?.atLeast('2.75') ?? false;
  const extras = whole ? { userData: showsUserData(ctx) ? await loadUserData(ctx.services, [rec]) : undefined, hostStatus: await hostStatusFor(ctx, rec) } : {};
  return json({
    server: fullView(ctx, rec, whole, {
      ...extras,
      flavorSpecs: await loadFlavorSpecs(ctx, [rec]),
      serverGroups: await serverGroupsOf(ctx, rec),
      imageProperties: await loadImageProperties(ctx, [rec]),
    }),
  });
}

/**
 * index_query_v275 (servers.py index and detail): every parameter index_query_v273 names, the
 * joined-table names Nova refuses later, the paging ones, and names starting with "_" (its
 * patternProperties); no other from 2.75. sort_key's values narrow to VALID_SORT_KEYS_V275 (the
 * formerly ignored keys are refused); Jacket lists in creation order whatever the key (docs/servers.md).
 */
const SORT_KEYS_V275 = [
  'access_ip_v4',
  'access_ip_v6',
  'auto_disk_config',
  'availability_zone',
  'config_drive',
  'created_at',
  'display_description',
  'display_name',
  'host',
  'hostname',
  'image_ref',
  'instance_type_id',
  'kernel_id',
  'key_name',
  'launch_index',
  'launched_at',
  'locked',
  'locked_by',
  'node',
  'power_state',
  'progress',
  'project_id',
  'ramdisk_id',
  'root_device_name',
  'task_state',
  'terminated_at',
  'updated_at',
  'user_id',
  'uuid',
  'vm_state',
];
// prettier-ignore
const LIST_KEYS_V275 = [
  'user_id', 'project_id', 'tenant_id', 'launch_index', 'image_ref', 'image', 'kernel_id', 'ramdisk_id', 'hostname', 'key_name', 'power_state', 'vm_state', 'task_state',
  'host', 'node', 'flavor', 'reservation_id', 'launched_at', 'terminated_at', 'availability_zone', 'name', 'display_name', 'description', 'display_description',
  'locked_by', 'uuid', 'root_device_name', 'config_drive', 'access_ip_v4', 'access_ip_v6', 'auto_disk_config', 'progress', 'sort_dir', 'all_tenants', 'soft_deleted',
  'deleted', 'status', 'changes-since', 'ip', 'ip6', 'created_at', 'block_device_mapping', 'services', 'metadata', 'system_metadata', 'info_cache', 'security_groups',
  'pci_devices', 'limit', 'marker', 'tags', 'tags-any', 'not-tags', 'not-tags-any', 'changes-before', 'locked',
];
const LIST_QUERY_V275 = {
  from: '2.75',
  schema: {
    type: 'object',
    properties: { ...Object.fromEntries(LIST_KEYS_V275.map((k) => [k, {}])), sort_key: { type: 'array', items: { type: 'string', enum: SORT_KEYS_V275 } } },
    patternProperties: { '^_': {} },
    additionalProperties: false,
  },
};

export const serverRoutes: Route[] = [
  computeRoute('servers-list', 'GET', '/servers', 'os_compute_api:servers:index', (ctx) => listServers(ctx, false), { strictQuery: LIST_QUERY_V275 }),
  computeRoute('servers-detail', 'GET', '/servers/detail', 'os_compute_api:servers:detail', (ctx) => listServers(ctx, true), { strictQuery: LIST_QUERY_V275 }),
  computeRoute('servers-create', 'POST', '/servers', 'os_compute_api:servers:create', create),
  computeRoute('servers-show', 'GET', '/servers/{server_id}', 'os_compute_api:servers:show', show),
  computeRoute('servers-update', 'PUT', '/servers/{server_id}', 'os_compute_api:servers:update', update),
  computeRoute('servers-delete', 'DELETE', '/servers/{server_id}', 'os_compute_api:servers:delete', remove),
];
