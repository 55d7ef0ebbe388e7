// Security group rules come from the mapped NSG's securityRules, read through ARM on each request, and
// are translated to Neutron's rule model:
// - Only Allow rules are shown: Neutron rules only allow. Deny rules are skipped (a Deny that shadows an
//   Allow of lower priority is therefore not visible here).
// - Azure's defaultSecurityRules are not shown (they name service tags, not prefixes).
// - Direction Inbound/Outbound -> ingress/egress; protocol Tcp/Udp/Icmp/Esp/Ah -> lower case, * -> null
//   (with a port range, * becomes one tcp and one udp rule, since Neutron ports need a protocol).
// - The remote side (source prefix for ingress, destination prefix for egress): *, Any, 0.0.0.0/0 and
//   ::/0 -> remote_ip_prefix null (emitted once per ethertype), a CIDR or address -> that prefix;
//   a service tag (Internet, VirtualNetwork, ...) cannot be a prefix, so that rule is skipped, and so is
//   one whose remote side names application security groups.
// - Destination port ranges -> port_range_min/max (* -> null); several prefixes or ranges -> one rule each.
// Rule ids are name-based UUIDs of the group, the Azure rule name and the expansion, so they are stable.
import type { AzureSecurityRule } from '../azure/network';
import { stableUuid } from './catalog';

export type { AzureSecurityRule };

export interface NeutronRule {
  id: string;
  security_group_id: string;
  direction: 'ingress' | 'egress';
  ethertype: 'IPv4' | 'IPv6';
  protocol: string | null;
  port_range_min: number | null;
  port_range_max: number | null;
  remote_ip_prefix: string | null;
  remote_group_id: string | null;
  description: string;
  project_id: string;
  tenant_id: string;
}

const ANY = new Set(['*', 'any', '0.0.0.0/0', '::/0']);
const PROTOCOLS: Record<string, string | null> = { tcp: 'tcp', udp: 'udp', icmp: 'icmp', esp: 'esp', ah: 'ah', '*': null };

function prefixesOf(single: string | undefined, many: string[] | undefined): string[] {
  const all = [...(many ?? []), ...(single ? [single] : [])];
  return all.length ? all : ['*'];
}

/** A prefix as Neutron prints it (an address becomes /32 or /128), or undefined for a service tag. */
function neutronPrefix(p: string): { prefix: string | null; ethertypes: ('IPv4' | 'IPv6')[] } | undefined {
  const s = p.trim();
  if (ANY.has(s.toLowerCase())) {
    if (s === '0.0.0.0/0') return { prefix: null, ethertypes: ['IPv4'] };
    if (s === '::/0') return { prefix: null, ethertypes: ['IPv6'] };
    return { prefix: null, ethertypes: ['IPv4', 'IPv6'] };
  }
  if (/^\d{1,3}(\.\d{1,3}){3}(\/\d{1,2})?$/.test(s)) return { prefix: s.includes('/') ? s : `${s}/32`, ethertypes: ['IPv4'] };
  if (/^[0-9a-fA-F:]+(\/\d{1,3})?$/.test(s) && s.includes(':')) return { prefix: s.includes('/') ? s : `${s}/128`, ethertypes: ['IPv6'] };
  return undefined;
}

function portRange(r: string): [number | null, number | null] | undefined {
  const s = r.trim();
  if (s === '*') return [null, null];
  const m = /^(\d+)(?:-(\d+))?$/.exec(s);
  if (!m) return undefined;
  return [Number(m[1]), Number(m[2] ?? m[1])];
}

export function translateRules(sg: { id: string }, owner: string, azure: AzureSecurityRule[]): NeutronRule[] {
  const out: NeutronRule[] = [];
  const sorted = [...azure].sort((a, b) => (a.priority ?? 0) - (b.priority ?? 0));
  for (const r of sorted) {
    if ((r.access ?? '').toLowerCase() !== 'allow') continue;
    const dir = (r.direction ?? '').toLowerCase();
    if (dir !== 'inbound' && dir !== 'outbound') continue;
    const proto = (r.protocol ?? '*').toLowerCase();
    if (!(proto in PROTOCOLS)) continue;
    // A remote side naming application security groups is not an address range: not shown (it is no prefix, nor "any").
    if ((dir === 'inbound' ? r.sourceApplicationSecurityGroups : r.destinationApplicationSecurityGroups)?.length) continue;
    const remote = dir === 'inbound' ? prefixesOf(r.sourceAddressPrefix, r.sourceAddressPrefixes) : prefixesOf(r.destinationAddressPrefix, r.destinationAddressPrefixes);
    const ranges = PROTOCOLS[proto] === 'icmp' ? ['*'] : prefixesOf(r.destinationPortRange, r.destinationPortRanges);
    for (const rawPrefix of remote) {
      const p = neutronPrefix(rawPrefix);
      if (!p) continue;
      for (const rawRange of ranges) {
        const range = portRange(rawRange);
        if (!range) continue;
        const protocols = PROTOCOLS[proto] === null && range[0] !== null ? ['tcp', 'udp'] : [PROTOCOLS[proto]];
        for (const protocol of protocols) {
          for (const ethertype of p.ethertypes) {
            out.push({
              id: stableUuid(`sg-rule:${sg.id}:${r.name}:${rawPrefix}:${rawRange}:${protocol}:${ethertype}`),
              security_group_id: sg.id,
              direction: dir === 'inbound' ? 'ingress' : 'egress',
              ethertype,
              protocol,
              port_range_min: range[0],
              port_range_max: range[1],
              remote_ip_prefix: p.prefix,
              remote_group_id: null,
              description: r.description ?? '',
              project_id: owner,
              tenant_id: owner,
            });
          }
        }
      }
    }
  }
  return out;
}
