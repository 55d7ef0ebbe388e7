// A read-only Placement API (openstack/placement, microversions 1.0-1.14) over Jacket's hypervisors:
// one resource provider per os-hypervisors row (one per availability zone; shared/compute/hypervisors),
// whose figures the update-hypervisors timer computes from Azure's regional usage and the server
// records. Horizon's Admin > Compute > Hypervisors page reads it (openstack_dashboard/api/placement.py),
// as does any tool that asks Placement what a cloud can hold. Writes are refused for everyone
// (policy.ts): only Jacket's timer writes these providers. docs/placement.md.
import type { RequestContext, Route } from '../http/router';
import type { Services } from '../services';
import { routeMaker } from '../http/router';
import { json } from '../http/respond';
import { badRequest, notFound } from '../http/errors';
import { PLACEMENT } from '../api/microversion';
import { authorize, policyDenied } from '../api/policy';
import { hypervisorRows, hypervisorUuid, type HypervisorRow } from '../compute/hypervisors/api';
import { availabilityZones } from '../compute/zones/api';
import { getServerAny, serverRepo, type ServerRecord } from '../compute/servers/model';
import { odata } from '../store/tables';
import type { PlacementPolicy } from './policy';

export const PLACEMENT_PREFIX = '/placement';
const route = routeMaker<PlacementPolicy>('placement', PLACEMENT_PREFIX, PLACEMENT);

/** os-resource-classes' standard classes (os_resource_classes/__init__.py STANDARDS), in its order. */
export const STANDARD_CLASSES = [
  'VCPU',
  'MEMORY_MB',
  'DISK_GB',
  'PCI_DEVICE',
  'SRIOV_NET_VF',
  'NUMA_SOCKET',
  'NUMA_CORE',
  'NUMA_THREAD',
  'NUMA_MEMORY_MB',
  'IPV4_ADDRESS',
  'VGPU',
  'VGPU_DISPLAY_HEAD',
  'NET_BW_EGR_KILOBIT_PER_SEC',
  'NET_BW_IGR_KILOBIT_PER_SEC',
  'PCPU',
  'MEM_ENCRYPTION_CONTEXT',
  'FPGA',
  'PGPU',
  'NET_PACKET_RATE_KILOPACKET_PER_SEC',
  'NET_PACKET_RATE_EGR_KILOPACKET_PER_SEC',
  'NET_PACKET_RATE_IGR_KILOPACKET_PER_SEC',
];

/**
 * The traits Nova's compute manager would report for a driver with Jacket's capabilities
 * (nova/virt/driver.py CAPABILITY_TRAITS_MAP; COMPUTE_NODE on every compute node provider): interface
 * attach (os-interface), volume extend (Azure grows attached disks), VHD images. Not: device tagging,
 * tagged attach, multiattach, trusted certificates (Jacket answers those as a driver without them).
 */
const TRAITS = ['COMPUTE_IMAGE_TYPE_VHD', 'COMPUTE_NET_ATTACH_INTERFACE', 'COMPUTE_NODE', 'COMPUTE_VOLUME_EXTEND'];

const UUID = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

interface Provider {
  row: HypervisorRow;
  uuid: string;
  generation: number;
}

async function providers(s: Services): Promise<Provider[]> {
  return (await hypervisorRows(s)).map((row) => ({ row, uuid: hypervisorUuid(row.hypervisor_hostname), generation: row.generation ?? 0 }));
}

/** Placement's 404 for a provider path (handlers/*.py: "No resource provider with uuid <u> found..."). */
async function providerOf(ctx: RequestContext, what: string): Promise<Provider> {
  const uuid = ctx.params.uuid;
  const p = (await providers(ctx.services)).find((x) => x.uuid === uuid.toLowerCase());
  if (!p) throw notFound(`No resource provider with uuid ${uuid} found${what}`);
  return p;
}

const providerUrl = (p: Provider) => `${PLACEMENT_PREFIX}/resource_providers/${p.uuid}`;

/**
 * handlers/resource_provider.py _serialize_provider: links to aggregates from 1.1, traits from 1.6,
 * allocations from 1.11; the tree from 1.14 (Jacket's providers are roots: no parent, their own root).
 */
function providerView(ctx: RequestContext, p: Provider) {
  const mv = ctx.microversion!;
  const url = providerUrl(p);
  const rels = ['inventories', 'usages'];
  if (mv.atLeast('1.1')) rels.push('aggregates');
  if (mv.atLeast('1.6')) rels.push('traits');
  if (mv.atLeast('1.11')) rels.push('allocations');
  const view: Record<string, unknown> = {
    uuid: p.uuid,
    name: p.row.hypervisor_hostname,
    generation: p.generation,
    links: [{ rel: 'self', href: url }, ...rels.map((rel) => ({ rel, href: `${url}/${rel}` }))],
  };
  if (mv.atLeast('1.14')) Object.assign(view, { parent_provider_uuid: null, root_provider_uuid: p.uuid });
  return view;
}

/**
 * The inventories: the zone's share of Azure's regional vCPU quota, memory and disk in the proportions
 * of the servers (hypervisors/api.ts). Azure does not overcommit: allocation_ratio 1.0. What other VMs
 * of the subscription use is `reserved` (not Nova's to hand out); max_unit the whole total.
 */
function inventories(p: Provider): Record<string, Record<string, number>> {
  const r = p.row;
  const other = r.other ?? { vcpus: 0, memory_mb: 0, local_gb: 0 };
  const inv = (total: number, reserved: number) => ({ total, reserved: Math.min(reserved, total), min_unit: 1, max_unit: Math.max(1, total), step_size: 1, allocation_ratio: 1.0 });
  return { VCPU: inv(r.vcpus, other.vcpus), MEMORY_MB: inv(r.memory_mb, other.memory_mb), DISK_GB: inv(r.local_gb, other.local_gb) };
}

/** Usage is the sum of Jacket's servers' allocations: the used figures less what is not Jacket's. */
function usages(p: Provider): Record<string, number> {
  const r = p.row;
  const other = r.other ?? { vcpus: 0, memory_mb: 0, local_gb: 0 };
  return { VCPU: Math.max(0, r.vcpus_used - other.vcpus), MEMORY_MB: Math.max(0, r.memory_mb_used - other.memory_mb), DISK_GB: Math.max(0, r.local_gb_used - other.local_gb) };
}

/** A server's allocation: its flavor on its zone's provider, once it has a host (as hypervisors count it). */
const serverResources = (v: ServerRecord) => ({ VCPU: v.flavor.vcpus, MEMORY_MB: v.flavor.ram, DISK_GB: v.flavor.disk + v.flavor.ephemeral });

/** Query parameters by version (schemas/resource_provider.py GET_RPS_SCHEMA_1_0 / 1_3 / 1_4): others 400. */
function checkQuery(ctx: RequestContext, allowed: string[]): void {
  for (const k of new Set(ctx.query.keys())) {
    if (!allowed.includes(k)) throw badRequest(`Invalid query string parameters: Additional properties are not allowed ('${k}' was unexpected)`);
  }
}

async function root(ctx: RequestContext) {
  // handlers/root.py: a relative self link, "so placement never tracks proxy addresses".
  return json({ versions: [{ id: `v${PLACEMENT.min}`, max_version: PLACEMENT.max, min_version: PLACEMENT.min, status: 'CURRENT', links: [{ rel: 'self', href: '' }] }] });
}

/** A `resources` filter (1.4): "VCPU:2,MEMORY_MB:1024" (util.normalize_resources_qs_param). */
function parseResources(v: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const part of v.split(',')) {
    const [rc, amount, ...rest] = part.split(':');
    const n = Number(amount);
    if (!rc || amount === undefined || rest.length > 0 || !/^\d+$/.test(amount)) {
      throw badRequest(`Badly formed resources parameter. Expected resources query string parameter in form: ?resources=VCPU:2,MEMORY_MB:1024. Got: ${v}.`);
    }
    if (n < 1) throw badRequest(`Requested resource ${rc} expected positive integer amount. Got: ${amount}.`);
    out.set(rc, n);
  }
  return out;
}

function wantedResources(v: string): Map<string, number> {
  const want = parseResources(v);
  for (const rc of want.keys()) if (!STANDARD_CLASSES.includes(rc)) throw badRequest(`Invalid resource class in resources parameter: No such resource class ${rc}.`);
  return want;
}

/** What a provider can still take of a class (rp_obj: (total - reserved) * ratio - used). */
const capacity = (inv: Record<string, number>) => (inv.total - inv.reserved) * inv.allocation_ratio;

/** Whether the provider has room for every amount asked, each within its max_unit. */
function fits(p: Provider, want: Map<string, number>): boolean {
  const inv = inventories(p);
  const used = usages(p);
  return [...want].every(([rc, n]) => inv[rc] !== undefined && n <= inv[rc].max_unit && capacity(inv[rc]) - (used[rc] ?? 0) >= n);
}

async function listProviders(ctx: RequestContext) {
  const mv = ctx.microversion!;
  checkQuery(ctx, ['name', 'uuid', ...(mv.atLeast('1.3') ? ['member_of'] : []), ...(mv.atLeast('1.4') ? ['resources'] : []), ...(mv.atLeast('1.14') ? ['in_tree'] : [])]);
  let list = await providers(ctx.services);
  const inTree = ctx.query.get('in_tree');
  if (inTree !== null) {
    if (!UUID.test(inTree)) throw badRequest(`Invalid query string parameters: '${inTree}' is not a 'uuid'`);
    // Every provider is its own tree's root.
    list = list.filter((p) => p.uuid === inTree.toLowerCase());
  }
  const name = ctx.query.get('name');
  if (name !== null) list = list.filter((p) => p.row.hypervisor_hostname === name);
  const uuid = ctx.query.get('uuid');
  if (uuid !== null) {
    if (!UUID.test(uuid)) throw badRequest(`Invalid query string parameters: '${uuid}' is not a 'uuid'`);
    list = list.filter((p) => p.uuid === uuid.toLowerCase());
  }
  const memberOf = ctx.query.get('member_of');
  if (memberOf !== null) {
    // "in:<uuid>,<uuid>" or one uuid; Jacket's providers are in no aggregate yet (aggregates below).
    const ids = memberOf.startsWith('in:') ? memberOf.slice(3).split(',') : [memberOf];
    if (ids.some((x) => !UUID.test(x))) throw badRequest(`Invalid query string parameters: Expected 'member_of' parameter to contain valid UUID(s). Got: ${memberOf}`);
    list = [];
  }
  const resources = ctx.query.get('resources');
  if (resources !== null) {
    const want = wantedResources(resources);
    list = list.filter((p) => fits(p, want));
  }
  return json({ resource_providers: list.map((p) => providerView(ctx, p)) });
}

async function showProvider(ctx: RequestContext) {
  return json(providerView(ctx, await providerOf(ctx, '')));
}

async function listInventories(ctx: RequestContext) {
  const p = await providerOf(ctx, '');
  return json({ resource_provider_generation: p.generation, inventories: inventories(p) });
}

async function showInventory(ctx: RequestContext) {
  const p = await providerOf(ctx, '');
  const rc = ctx.params.resource_class;
  const inv = inventories(p)[rc];
  if (!inv) throw notFound(`No inventory of class ${rc} for ${p.uuid}`);
  return json({ resource_provider_generation: p.generation, ...inv });
}

async function listUsages(ctx: RequestContext) {
  const p = await providerOf(ctx, '');
  return json({ resource_provider_generation: p.generation, usages: usages(p) });
}

/** 1.1: the provider's aggregates. Jacket's host aggregates are not mirrored into Placement yet: none. */
async function listAggregates(ctx: RequestContext) {
  await providerOf(ctx, '');
  return json({ aggregates: [] });
}

async function listProviderTraits(ctx: RequestContext) {
  const p = await providerOf(ctx, '');
  return json({ resource_provider_generation: p.generation, traits: TRAITS });
}

/** The servers on a provider: placed (a host) in its zone. Admin only and rare: one scan of the records. */
async function serversOn(s: Services, p: Provider): Promise<ServerRecord[]> {
  return (await serverRepo(s).queryAll("PartitionKey gt ''", 100_000)).map((r) => r.value).filter((v) => v.host && v.availability_zone === p.row.zone);
}

async function providerAllocations(ctx: RequestContext) {
  const p = await providerOf(ctx, '');
  const allocations: Record<string, { resources: Record<string, number> }> = {};
  for (const v of await serversOn(ctx.services, p)) allocations[v.id] = { resources: serverResources(v) };
  return json({ allocations, resource_provider_generation: p.generation });
}

/**
 * 1.10 GET /allocation_candidates?resources=...: each provider with room for all of it (Jacket's
 * providers share nothing, so one provider per request), and the summaries of the classes asked.
 * The requests are lists up to 1.11 and keyed by provider from 1.12 (handlers/allocation_candidate.py).
 */
async function allocationCandidates(ctx: RequestContext) {
  checkQuery(ctx, ['resources']);
  const resources = ctx.query.get('resources');
  if (resources === null) throw badRequest("Invalid query string parameters: 'resources' is a required property");
  const want = wantedResources(resources);
  const fitting = (await providers(ctx.services)).filter((p) => fits(p, want));
  const asked = Object.fromEntries(want);
  const keyed = ctx.microversion!.atLeast('1.12');
  const allocation_requests = fitting.map((p) => ({ allocations: keyed ? { [p.uuid]: { resources: asked } } : [{ resource_provider: { uuid: p.uuid }, resources: asked }] }));
  const provider_summaries = Object.fromEntries(
    fitting.map((p) => {
      const inv = inventories(p);
      const used = usages(p);
      return [p.uuid, { resources: Object.fromEntries([...want.keys()].map((rc) => [rc, { capacity: capacity(inv[rc]), used: used[rc] ?? 0 }])) }];
    }),
  );
  return json({ allocation_requests, provider_summaries });
}

/**
 * 1.9 GET /usages?project_id=[&user_id=]: a project's (or user's) usage across providers, the sum of its
 * placed servers' allocations; only the classes it uses. A project reader sees their own project's.
 */
async function projectUsages(ctx: RequestContext) {
  checkQuery(ctx, ['project_id', 'user_id']);
  const project = ctx.query.get('project_id');
  const user = ctx.query.get('user_id');
  if (project === null) throw badRequest("Invalid query string parameters: 'project_id' is a required property");
  for (const v of [project, user]) if (v !== null && (v.length < 1 || v.length > 255)) throw badRequest(`Invalid query string parameters: '${v}' is too long or too short`);
  authorize(ctx, 'placement:usages', { projectId: project }, 'placement');
  const out: Record<string, number> = {};
  for (const r of await serverRepo(ctx.services).queryAll(odata`PartitionKey eq ${project}`, 100_000)) {
    const v = r.value;
    if (!v.host || (user !== null && v.user_id !== user)) continue;
    for (const [rc, n] of Object.entries(serverResources(v))) out[rc] = (out[rc] ?? 0) + n;
  }
  return json({ usages: out });
}

/** GET /allocations/{consumer}: a server's allocation on its zone's provider; {} for any other consumer. */
async function consumerAllocations(ctx: RequestContext) {
  const id = ctx.params.consumer_uuid;
  const cur = UUID.test(id) ? await getServerAny(ctx.services, id.toLowerCase()) : undefined;
  const allocations: Record<string, { generation: number; resources: Record<string, number> }> = {};
  if (cur?.value.host) {
    const zone = availabilityZones(ctx.services.config).find((z) => z.name === cur.value.availability_zone)?.name;
    const p = (await providers(ctx.services)).find((x) => x.row.zone === zone);
    if (p) allocations[p.uuid] = { generation: p.generation, resources: serverResources(cur.value) };
  }
  // 1.12: the consumer's project and user beside allocations that exist.
  if (cur && Object.keys(allocations).length > 0 && ctx.microversion!.atLeast('1.12')) return json({ allocations, project_id: cur.value.project_id, user_id: cur.value.user_id });
  return json({ allocations });
}

const classView = (name: string) => ({ name, links: [{ rel: 'self', href: `${PLACEMENT_PREFIX}/resource_classes/${name}` }] });

async function listClasses() {
  return json({ resource_classes: STANDARD_CLASSES.map(classView) });
}

async function showClass(ctx: RequestContext) {
  const name = ctx.params.name;
  if (!STANDARD_CLASSES.includes(name)) throw notFound(`No such resource class ${name}.`);
  return json(classView(name));
}

/** 1.6 GET /traits: the traits Jacket's providers carry (name=in:a,b / startswith:X filters). */
async function listTraits(ctx: RequestContext) {
  checkQuery(ctx, ['name', 'associated']);
  let list = TRAITS;
  const name = ctx.query.get('name');
  if (name !== null) {
    if (name.startsWith('in:')) list = list.filter((t) => name.slice(3).split(',').includes(t));
    else if (name.startsWith('startswith:')) list = list.filter((t) => t.startsWith(name.slice(11)));
    else throw badRequest(`Badly formatted name parameter. Expected name query string parameter in form: ?name=[in|startswith]:[name1,name2|prefix]. Got: "${name}"`);
  }
  return json({ traits: list });
}

async function showTrait(ctx: RequestContext) {
  if (!TRAITS.includes(ctx.params.name)) throw notFound(`No such trait(s): ${ctx.params.name}.`);
  return { status: 204, headers: {}, body: undefined };
}

/** Every write at 1.0-1.6: refused by policy for everyone, admins included (policy.ts). */
function refused(name: PlacementPolicy) {
  return async (): Promise<never> => {
    throw policyDenied(name, 'placement');
  };
}

/** 1.0 at the version before a route's: Placement's dispatcher answers 404 for a method it lacks there. */
const from = (min: string) => ({ versions: { min } });

export const placementRoutes: Route[] = [
  { name: 'placement-root', method: 'GET', path: PLACEMENT_PREFIX, service: 'placement', policy: 'public', handler: root },
  route('rp-list', 'GET', '/resource_providers', 'placement:resource_providers:list', listProviders),
  route('rp-create', 'POST', '/resource_providers', 'placement:resource_providers:create', refused('placement:resource_providers:create')),
  route('rp-show', 'GET', '/resource_providers/{uuid}', 'placement:resource_providers:show', showProvider),
  route('rp-update', 'PUT', '/resource_providers/{uuid}', 'placement:resource_providers:update', refused('placement:resource_providers:update')),
  route('rp-delete', 'DELETE', '/resource_providers/{uuid}', 'placement:resource_providers:delete', refused('placement:resource_providers:delete')),
  route('inv-list', 'GET', '/resource_providers/{uuid}/inventories', 'placement:resource_providers:inventories:list', listInventories),
  route('inv-create', 'POST', '/resource_providers/{uuid}/inventories', 'placement:resource_providers:inventories:create', refused('placement:resource_providers:inventories:create')),
  route('inv-replace', 'PUT', '/resource_providers/{uuid}/inventories', 'placement:resource_providers:inventories:update', refused('placement:resource_providers:inventories:update')),
  route(
    'inv-delete-all',
    'DELETE',
    '/resource_providers/{uuid}/inventories',
    'placement:resource_providers:inventories:delete',
    refused('placement:resource_providers:inventories:delete'),
    from('1.5'),
  ),
  route('inv-show', 'GET', '/resource_providers/{uuid}/inventories/{resource_class}', 'placement:resource_providers:inventories:show', showInventory),
  route('inv-update', 'PUT', '/resource_providers/{uuid}/inventories/{resource_class}', 'placement:resource_providers:inventories:update', refused('placement:resource_providers:inventories:update')),
  route(
    'inv-delete',
    'DELETE',
    '/resource_providers/{uuid}/inventories/{resource_class}',
    'placement:resource_providers:inventories:delete',
    refused('placement:resource_providers:inventories:delete'),
  ),
  route('usages', 'GET', '/resource_providers/{uuid}/usages', 'placement:resource_providers:usages', listUsages),
  route('rp-aggregates', 'GET', '/resource_providers/{uuid}/aggregates', 'placement:resource_providers:aggregates:list', listAggregates, from('1.1')),
  route(
    'rp-aggregates-update',
    'PUT',
    '/resource_providers/{uuid}/aggregates',
    'placement:resource_providers:aggregates:update',
    refused('placement:resource_providers:aggregates:update'),
    from('1.1'),
  ),
  route('rp-traits', 'GET', '/resource_providers/{uuid}/traits', 'placement:resource_providers:traits:list', listProviderTraits, from('1.6')),
  route('rp-traits-update', 'PUT', '/resource_providers/{uuid}/traits', 'placement:resource_providers:traits:update', refused('placement:resource_providers:traits:update'), from('1.6')),
  route('rp-traits-delete', 'DELETE', '/resource_providers/{uuid}/traits', 'placement:resource_providers:traits:delete', refused('placement:resource_providers:traits:delete'), from('1.6')),
  route('rp-allocations', 'GET', '/resource_providers/{uuid}/allocations', 'placement:resource_providers:allocations:list', providerAllocations),
  route('allocations-show', 'GET', '/allocations/{consumer_uuid}', 'placement:allocations:list', consumerAllocations),
  route('allocations-manage', 'POST', '/allocations', 'placement:allocations:manage', refused('placement:allocations:manage'), from('1.13')),
  route('allocation-candidates', 'GET', '/allocation_candidates', 'placement:allocation_candidates:list', allocationCandidates, from('1.10')),
  route('usages-project', 'GET', '/usages', 'placement:usages', projectUsages, from('1.9')),
  route('allocations-update', 'PUT', '/allocations/{consumer_uuid}', 'placement:allocations:update', refused('placement:allocations:update')),
  route('allocations-delete', 'DELETE', '/allocations/{consumer_uuid}', 'placement:allocations:delete', refused('placement:allocations:delete')),
  route('rc-list', 'GET', '/resource_classes', 'placement:resource_classes:list', listClasses, from('1.2')),
  route('rc-create', 'POST', '/resource_classes', 'placement:resource_classes:create', refused('placement:resource_classes:create'), from('1.2')),
  route('rc-show', 'GET', '/resource_classes/{name}', 'placement:resource_classes:show', showClass, from('1.2')),
  route('rc-update', 'PUT', '/resource_classes/{name}', 'placement:resource_classes:update', refused('placement:resource_classes:update'), from('1.2')),
  route('rc-delete', 'DELETE', '/resource_classes/{name}', 'placement:resource_classes:delete', refused('placement:resource_classes:delete'), from('1.2')),
  route('traits-list', 'GET', '/traits', 'placement:traits:list', listTraits, from('1.6')),
  route('traits-show', 'GET', '/traits/{name}', 'placement:traits:show', showTrait, from('1.6')),
  route('traits-update', 'PUT', '/traits/{name}', 'placement:traits:update', refused('placement:traits:update'), from('1.6')),
  route('traits-delete', 'DELETE', '/traits/{name}', 'placement:traits:delete', refused('placement:traits:delete'), from('1.6')),
];
