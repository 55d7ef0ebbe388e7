// GET /limits: Nova's absolute limits and usage (api/openstack/compute/limits.py + views/limits.py),
// with the cores and instances limits tightened by what the Azure region still has room for: Nova's
// quota says what the project may use, the subscription's regional quota what Azure will let it use.
import type { RequestContext, Route } from '../../http/router';
import type { Services } from '../../services';
import { json } from '../../http/respond';
import { forbidden } from '../../http/errors';
import { authorize } from '../../api/policy';
import type { RegionalFigure } from '../../azure/regional';
import { log } from '../../log';
import { displayedUsage, effectiveLimits, type Limits, type QuotaResource } from './engine';
import { computeRoute } from '../common';
import { strictQuery } from '../../http/router';

export type { RegionalFigure };
/** The subscription's regional compute quotas that bear on Nova's: vCPUs and VM count. */
export interface RegionalQuota {
  cores?: RegionalFigure;
  instances?: RegionalFigure;
}
/** Where regional usage comes from; undefined means "unknown" and leaves Nova's limits as they are. */
export interface RegionalUsage {
  read(): Promise<RegionalQuota | undefined>;
}

const CACHE_MS = 30_000;

/**
 * Reads the Compute usages API (Usage_List, through s.azure.regional; a throttled read is tried once
 * more after its Retry-After, at most 2 s) for the configured location, cached briefly per process.
 */
export class ArmRegionalUsage implements RegionalUsage {
  private cached?: { at: number; value: RegionalQuota | undefined };
  private inflight?: Promise<RegionalQuota | undefined>;

  constructor(
    private readonly services: Services,
    private readonly ttlMs = CACHE_MS,
  ) {}

  async read(): Promise<RegionalQuota | undefined> {
    if (this.cached && Date.now() - this.cached.at < this.ttlMs) return this.cached.value;
    this.inflight ??= this.fetch().finally(() => (this.inflight = undefined));
    return this.inflight;
  }

  private async fetch(): Promise<RegionalQuota | undefined> {
    const a = this.services.config.azure;
    let value: RegionalQuota | undefined;
    try {
      const usage = await this.services.azure.regional.usage(a.location);
      const q: RegionalQuota = {};
      if (usage.has('cores')) q.cores = usage.get('cores');
      if (usage.has('virtualMachines')) q.instances = usage.get('virtualMachines');
      value = q;
    } catch (e) {
      // Limits stay readable when ARM is not: Nova's own limits are shown, and the failure is cached
      // like a success so a broken ARM connection does not slow every request.
      log.warn('regional usage unavailable', { location: a.location, error: e instanceof Error ? e.message : String(e) });
    }
    this.cached = { at: Date.now(), value };
    return value;
  }
}

const NONE: RegionalUsage = { read: async () => undefined };
const sources = new WeakMap<Services, RegionalUsage>();

/** The regional usage source for these services: ARM unless the setting turns it off. */
export function regionalUsageOf(s: Services): RegionalUsage {
  let r = sources.get(s);
  if (!r) {
    r = s.config.azure.regionalUsage === 'off' ? NONE : new ArmRegionalUsage(s);
    sources.set(s, r);
  }
  return r;
}

/** Replaces the regional usage source (tests, or a host that already knows the figures). */
export function setRegionalUsage(s: Services, r: RegionalUsage): void {
  sources.set(s, r);
}

/**
 * The tighter of Nova's limit and Azure's room: Azure's limit less Azure's current usage is what is
 * left in the region, and adding the project's own usage (already part of Azure's) makes it a total
 * comparable with Nova's. -1 (unlimited) yields to any Azure figure.
 */
export function tighter(novaLimit: number, projectUsed: number, azure?: RegionalFigure): number {
  if (!azure) return novaLimit;
  const azureTotal = Math.max(0, azure.limit - azure.current + projectUsed);
  return novaLimit < 0 ? azureTotal : Math.min(novaLimit, azureTotal);
}

/** Absolute limit names per quota resource (views/limits.py). */
const LIMIT_NAMES: [QuotaResource, string[]][] = [
  ['ram', ['maxTotalRAMSize']],
  ['instances', ['maxTotalInstances']],
  ['cores', ['maxTotalCores']],
  ['key_pairs', ['maxTotalKeypairs']],
  ['floating_ips', ['maxTotalFloatingIps']],
  ['metadata_items', ['maxServerMeta', 'maxImageMeta']],
  ['injected_files', ['maxPersonality']],
  ['injected_file_content_bytes', ['maxPersonalitySize']],
  ['security_groups', ['maxSecurityGroups']],
  ['security_group_rules', ['maxSecurityGroupRules']],
  ['server_groups', ['maxServerGroups']],
  ['server_group_members', ['maxServerGroupMembers']],
];
const USED_NAMES: [string, QuotaResource][] = [
  ['totalRAMUsed', 'ram'],
  ['totalCoresUsed', 'cores'],
  ['totalInstancesUsed', 'instances'],
  ['totalFloatingIpsUsed', 'floating_ips'],
  ['totalSecurityGroupsUsed', 'security_groups'],
  ['totalServerGroupsUsed', 'server_groups'],
];

/** The "absolute" object of /limits at microversion `mv` (2.36 drops network limits, 2.39 maxImageMeta, 2.57 personality). */
export function absoluteLimits(limits: Limits, used: Limits, ctx: Pick<RequestContext, 'microversion'>): Record<string, number> {
  const mv = ctx.microversion;
  const hidden: QuotaResource[] = [];
  if (mv?.atLeast('2.36')) hidden.push('floating_ips', 'security_groups', 'security_group_rules');
  if (mv?.atLeast('2.57')) hidden.push('injected_files', 'injected_file_content_bytes');
  const out: Record<string, number> = {};
  for (const [r, names] of LIMIT_NAMES) {
    if (hidden.includes(r)) continue;
    for (const n of names) if (!(n === 'maxImageMeta' && mv?.atLeast('2.39'))) out[n] = limits[r];
  }
  for (const [n, r] of USED_NAMES) if (!hidden.includes(r)) out[n] = used[r];
  return out;
}

async function index(ctx: RequestContext) {
  const a = ctx.auth!;
  let projectId = a.projectId;
  if (ctx.query.has('tenant_id')) {
    // Another project's limits are admin-only, even when the id given is one's own (upstream checks it whenever present).
    authorize(ctx, 'os_compute_api:limits:other_project');
    projectId = ctx.query.get('tenant_id')!;
  }
  if (!projectId) throw forbidden("Policy doesn't allow os_compute_api:limits to be performed.");
  const s = ctx.services;
  const [limits, used, regional] = await Promise.all([effectiveLimits(s, projectId), displayedUsage(s, projectId), regionalUsageOf(s).read()]);
  const merged: Limits = {
    ...limits,
    cores: tighter(limits.cores, used.cores, regional?.cores),
    instances: tighter(limits.instances, used.instances, regional?.instances),
  };
  return json({ limits: { rate: [], absolute: absoluteLimits(merged, used, ctx) } });
}

export const limitsRoutes: Route[] = [computeRoute('limits', 'GET', '/limits', 'os_compute_api:limits', index, { strictQuery: strictQuery(['tenant_id']) })];
