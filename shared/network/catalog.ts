// The operator's network catalog: existing Azure subnets published as Neutron networks (one subnet each)
// and existing NSGs published as security groups. Read from config.catalog.networks and
// config.catalog.securityGroups, validated once per config, with defaults when a section is absent.
// Ids are the configured ones or derived from the Azure names, so they never change between restarts.
import { createHash } from 'node:crypto';
import type { ValidateFunction } from 'ajv';
import { ConfigError, type JacketConfig } from '../config';

export interface NetworkDef {
  id: string;
  name: string;
  description: string;
  shared: boolean;
  /** Owner project; '' = the operator's (shown as the bootstrap admin project). */
  project_id: string;
  'router:external': boolean;
  mtu: number;
  subnet: SubnetDef;
  /**
   * The Azure subnet. An external network (router:external) has none: it stands for Azure's public
   * addresses, handed out as floating IPs (public IPs, floatingIpService.ts); vnet and subnet are ''.
   */
  azure: { vnet: string; subnet: string; resourceGroup: string };
}

export interface SubnetDef {
  id: string;
  name: string;
  cidr: string;
  gateway_ip: string | null;
  allocation_pools: { start: string; end: string }[];
  dns_nameservers: string[];
  ip_version: 4 | 6;
}

export interface SecurityGroupDef {
  id: string;
  name: string;
  description: string;
  project_id: string;
  /** `asg`: the application security group of a group a project made (in Jacket's resource group); the operator's have none. */
  azure: { nsg: string; resourceGroup: string; asg?: string };
}

export interface NetworkCatalog {
  networks: NetworkDef[];
  securityGroups: SecurityGroupDef[];
}

const uuid = { type: 'string', format: 'uuid' };
const name = { type: 'string', minLength: 1, maxLength: 255 };
const azureName = { type: 'string', minLength: 1, maxLength: 80 };

const networksSchema = {
  type: 'array',
  items: {
    type: 'object',
    required: ['name', 'subnet'],
    // An internal network names its Azure subnet; an external one (public addresses) names none.
    if: { properties: { 'router:external': { const: true } }, required: ['router:external'] },
    then: { not: { required: ['azure'] } },
    else: { required: ['azure'] },
    additionalProperties: false,
    properties: {
      id: uuid,
      name,
      description: { type: 'string', maxLength: 255 },
      shared: { type: 'boolean' },
      project_id: { type: 'string', minLength: 1, maxLength: 64 },
      'router:external': { type: 'boolean' },
      mtu: { type: 'integer', minimum: 68, maximum: 9000 },
      subnet: {
        type: 'object',
        required: ['cidr'],
        additionalProperties: false,
        properties: {
          id: uuid,
          name: { type: 'string', maxLength: 255 },
          cidr: { type: 'string', minLength: 1 },
          gateway_ip: { type: ['string', 'null'] },
          allocation_pools: {
            type: 'array',
            items: { type: 'object', required: ['start', 'end'], additionalProperties: false, properties: { start: { type: 'string' }, end: { type: 'string' } } },
          },
          dns_nameservers: { type: 'array', items: { type: 'string' } },
          ip_version: { enum: [4, 6] },
        },
      },
      azure: {
        type: 'object',
        required: ['vnet', 'subnet'],
        additionalProperties: false,
        properties: { vnet: azureName, subnet: azureName, resourceGroup: { type: 'string', minLength: 1, maxLength: 90 } },
      },
    },
  },
};

const securityGroupsSchema = {
  type: 'array',
  items: {
    type: 'object',
    required: ['name', 'azure'],
    additionalProperties: false,
    properties: {
      id: uuid,
      name,
      description: { type: 'string', maxLength: 255 },
      project_id: { type: 'string', minLength: 1, maxLength: 64 },
      azure: {
        type: 'object',
        required: ['nsg'],
        additionalProperties: false,
        properties: { nsg: azureName, resourceGroup: { type: 'string', minLength: 1, maxLength: 90 } },
      },
    },
  },
};

// Compiled when the catalog is first parsed, not at import: compiling costs ~70 ms of every cold start
// (and ajv itself loads then, as in shared/api/validation.ts).
let validators: { networks: ValidateFunction; securityGroups: ValidateFunction } | undefined;
function catalogValidators() {
  if (!validators) {
    /* eslint-disable @typescript-eslint/no-require-imports */
    const Ajv = (require('ajv') as typeof import('ajv')).default;
    const addFormats = (require('ajv-formats') as typeof import('ajv-formats')).default;
    /* eslint-enable @typescript-eslint/no-require-imports */
    const ajv = new Ajv({ allErrors: false, strict: false });
    addFormats(ajv, ['uuid']);
    validators = { networks: ajv.compile(networksSchema), securityGroups: ajv.compile(securityGroupsSchema) };
  }
  return validators;
}

/** A name-based UUID (v5 layout over SHA-1), stable for the same input. */
export function stableUuid(input: string): string {
  const h = createHash('sha1').update(`jacket:${input}`).digest();
  h[6] = (h[6] & 0x0f) | 0x50;
  h[8] = (h[8] & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

// ---- addresses (IPv4 and IPv6 as BigInt) ----

function parseIp(ip: string): { v: 4 | 6; n: bigint } | undefined {
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(ip)) {
    const parts = ip.split('.').map(Number);
    if (parts.some((p) => p > 255)) return undefined;
    return { v: 4, n: parts.reduce((a, p) => (a << 8n) | BigInt(p), 0n) };
  }
  if (!ip.includes(':') || !/^[0-9a-fA-F:]+$/.test(ip)) return undefined;
  const halves = ip.split('::');
  if (halves.length > 2) return undefined;
  const head = halves[0] ? halves[0].split(':') : [];
  const tail = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
  const missing = 8 - head.length - tail.length;
  if ((halves.length === 1 && missing !== 0) || missing < 0) return undefined;
  const groups = [...head, ...Array(halves.length === 2 ? missing : 0).fill('0'), ...tail];
  if (groups.some((g) => !/^[0-9a-fA-F]{1,4}$/.test(g))) return undefined;
  return { v: 6, n: groups.reduce((a, g) => (a << 16n) | BigInt(parseInt(g, 16)), 0n) };
}

/** A dotted-quad IPv4 address as a number, or undefined (IPv6 and malformed addresses alike). */
export function ipv4ToInt(ip: string): bigint | undefined {
  const a = parseIp(ip);
  return a?.v === 4 ? a.n : undefined;
}

export function formatIp(v: 4 | 6, n: bigint): string {
  if (v === 4) return [24n, 16n, 8n, 0n].map((s) => String((n >> s) & 255n)).join('.');
  const groups = Array.from({ length: 8 }, (_, i) => ((n >> BigInt((7 - i) * 16)) & 0xffffn).toString(16));
  // compress the longest run of zero groups, as RFC 5952 (and Python's ipaddress) print it
  let best = [-1, 0];
  for (let i = 0; i < 8;) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > best[1] && j - i > 1) best = [i, j - i];
    i = j;
  }
  if (best[0] < 0) return groups.join(':');
  return `${groups.slice(0, best[0]).join(':')}::${groups.slice(best[0] + best[1]).join(':')}`;
}

export interface Cidr {
  v: 4 | 6;
  network: bigint;
  prefix: number;
  last: bigint;
}

export function parseCidr(cidr: string): Cidr | undefined {
  const [ip, len] = cidr.split('/');
  const a = parseIp(ip);
  if (!a || len === undefined || !/^\d+$/.test(len)) return undefined;
  const bits = a.v === 4 ? 32 : 128;
  const prefix = Number(len);
  if (prefix > bits) return undefined;
  const hostBits = BigInt(bits - prefix);
  const network = (a.n >> hostBits) << hostBits;
  if (network !== a.n) return undefined; // host bits set: not a network address
  return { v: a.v, network, prefix, last: network | ((1n << hostBits) - 1n) };
}

/**
 * A prefix as a security group rule takes it (an address, or a CIDR with host bits set), normalised as
 * Neutron's normalized_cidr: host bits cleared, an address alone as /32 or /128. Undefined if invalid.
 */
export function normalizeCidr(raw: string): { cidr: string; version: 4 | 6 } | undefined {
  const [ip, len, extra] = raw.split('/');
  const a = parseIp(ip);
  if (!a || extra !== undefined || (len !== undefined && !/^\d{1,3}$/.test(len))) return undefined;
  const bits = a.v === 4 ? 32 : 128;
  const prefix = len === undefined ? bits : Number(len);
  if (prefix > bits) return undefined;
  const hostBits = BigInt(bits - prefix);
  return { cidr: `${formatIp(a.v, (a.n >> hostBits) << hostBits)}/${prefix}`, version: a.v };
}

function inCidr(c: Cidr, ip: string): boolean {
  const a = parseIp(ip);
  return !!a && a.v === c.v && a.n >= c.network && a.n <= c.last;
}

// ---- the catalog ----

function fail(section: string, errors: { instancePath: string; message?: string }[] | null | undefined): never {
  const e = errors?.[0];
  throw new ConfigError(`catalog.${section}${e?.instancePath ?? ''} ${e?.message ?? 'is invalid'}`);
}

function subnetOf(raw: Record<string, any>, where: string, vnetKey: string): SubnetDef {
  // eslint-disable-line @typescript-eslint/no-explicit-any
  const c = parseCidr(raw.cidr);
  if (!c) throw new ConfigError(`${where}.subnet.cidr "${raw.cidr}" is not a network address in CIDR notation`);
  if (raw.ip_version !== undefined && raw.ip_version !== c.v) throw new ConfigError(`${where}.subnet.ip_version does not match its cidr`);
  // Azure reserves the first four addresses of a subnet (network, gateway, two DNS) and, for IPv4,
  // the broadcast address: the gateway is the first host, VMs get addresses from the fifth on.
  const gateway = raw.gateway_ip === undefined ? formatIp(c.v, c.network + 1n) : raw.gateway_ip;
  if (gateway !== null && !inCidr(c, gateway)) throw new ConfigError(`${where}.subnet.gateway_ip ${gateway} is not in ${raw.cidr}`);
  const pools: { start: string; end: string }[] = raw.allocation_pools ?? [{ start: formatIp(c.v, c.network + 4n), end: formatIp(c.v, c.v === 4 ? c.last - 1n : c.last) }];
  for (const p of pools) {
    if (!inCidr(c, p.start) || !inCidr(c, p.end)) throw new ConfigError(`${where}.subnet.allocation_pools ${p.start}-${p.end} is not in ${raw.cidr}`);
  }
  for (const d of raw.dns_nameservers ?? []) if (!parseIp(d)) throw new ConfigError(`${where}.subnet.dns_nameservers ${d} is not an IP address`);
  return {
    id: raw.id ?? stableUuid(`subnet:${vnetKey}`),
    name: raw.name ?? '',
    cidr: `${formatIp(c.v, c.network)}/${c.prefix}`,
    gateway_ip: gateway,
    allocation_pools: pools,
    dns_nameservers: raw.dns_nameservers ?? [],
    ip_version: c.v,
  };
}

const DEFAULT_NETWORKS = [
  { name: 'private', shared: true, subnet: { name: 'private-subnet', cidr: '10.0.0.0/24' }, azure: { vnet: 'jacket-vnet', subnet: 'default' } },
  // Azure's public addresses, as floating IPs: they come from anywhere in Azure's pool, so the subnet
  // claims no narrower range and hands out nothing itself (no pools, no gateway).
  { name: 'public', 'router:external': true, shared: false, subnet: { name: 'public-subnet', cidr: '0.0.0.0/0', gateway_ip: null, allocation_pools: [] } },
];
const DEFAULT_SECURITY_GROUPS = [{ name: 'default', description: 'Default security group', azure: { nsg: 'jacket-nsg' } }];

export function parseNetworkCatalog(cfg: JacketConfig): NetworkCatalog {
  const rawNets = cfg.catalog.networks ?? DEFAULT_NETWORKS;
  const { networks: checkNetworks, securityGroups: checkSecurityGroups } = catalogValidators();
  if (!checkNetworks(rawNets)) fail('networks', checkNetworks.errors);
  const rawSgs = cfg.catalog.securityGroups ?? DEFAULT_SECURITY_GROUPS;
  if (!checkSecurityGroups(rawSgs)) fail('securityGroups', checkSecurityGroups.errors);
  const rg = cfg.azure.resourceGroup;
  const networks = (rawNets as Record<string, any>[]).map((n, i): NetworkDef => {
    // eslint-disable-line @typescript-eslint/no-explicit-any
    const resourceGroup = n.azure?.resourceGroup ?? rg;
    const key = n.azure ? `${resourceGroup}/${n.azure.vnet}/${n.azure.subnet}`.toLowerCase() : `${resourceGroup}/public-ips/${n.name}`.toLowerCase();
    return {
      id: n.id ?? stableUuid(`network:${key}`),
      name: n.name,
      description: n.description ?? '',
      shared: n.shared ?? !n.project_id,
      project_id: n.project_id ?? '',
      'router:external': n['router:external'] ?? false,
      mtu: n.mtu ?? 1500,
      subnet: subnetOf(n.subnet, `catalog.networks[${i}]`, key),
      azure: { vnet: n.azure?.vnet ?? '', subnet: n.azure?.subnet ?? '', resourceGroup },
    };
  });
  const securityGroups = (rawSgs as Record<string, any>[]).map((s): SecurityGroupDef => {
    // eslint-disable-line @typescript-eslint/no-explicit-any
    const resourceGroup = s.azure.resourceGroup ?? rg;
    return {
      id: s.id ?? stableUuid(`security-group:${resourceGroup}/${s.azure.nsg}`.toLowerCase()),
      name: s.name,
      description: s.description ?? '',
      project_id: s.project_id ?? '',
      azure: { nsg: s.azure.nsg, resourceGroup },
    };
  });
  const ids = [...networks.flatMap((n) => [n.id, n.subnet.id]), ...securityGroups.map((s) => s.id)];
  const dup = ids.find((id, i) => ids.indexOf(id) !== i);
  if (dup) throw new ConfigError(`catalog: id ${dup} is used twice in networks/securityGroups`);
  return { networks, securityGroups };
}

const parsed = new WeakMap<JacketConfig, NetworkCatalog>();

/** The validated catalog of this config (parsed once). */
export function networkCatalog(cfg: JacketConfig): NetworkCatalog {
  let c = parsed.get(cfg);
  if (!c) {
    c = parseNetworkCatalog(cfg);
    parsed.set(cfg, c);
  }
  return c;
}

/**
 * The networks a server of the project lands on when none is named (nova/network/neutron.py
 * _get_available_networks): the project's own internal networks, else the shared internal ones.
 * Exactly one is the choice; more is Nova's ambiguity (409), none leaves nothing to use.
 */
export function defaultNetworks(networks: NetworkDef[], projectId: string): NetworkDef[] {
  const internal = networks.filter((n) => !n['router:external']);
  const own = internal.filter((n) => n.project_id === projectId);
  return own.length ? own : internal.filter((n) => n.shared);
}
