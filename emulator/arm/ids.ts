/** ARM resource ids: building, parsing and case-insensitive keys. */

export interface ParsedId {
  subscriptionId: string;
  resourceGroup: string;
  provider: string;
  /** e.g. virtualMachines, or virtualMachines/extensions for a child */
  type: string;
  /** e.g. vm1, or vm1/ext1 for a child */
  name: string;
  /** Segments after providers/ns: [type, name, childType, childName, ...] */
  segments: string[];
}

export function resourceId(sub: string, rg: string, provider: string, ...typeNamePairs: string[]): string {
  return `/subscriptions/${sub}/resourceGroups/${rg}/providers/${provider}/${typeNamePairs.join('/')}`;
}

export function parseResourceId(id: string): ParsedId | undefined {
  const m = /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/([^/]+)\/(.+)$/i.exec(id.trim());
  if (!m) return undefined;
  const segments = m[4].split('/').filter((s) => s.length > 0);
  if (segments.length < 2 || segments.length % 2 !== 0) return undefined;
  const types: string[] = [];
  const names: string[] = [];
  for (let i = 0; i < segments.length; i += 2) {
    types.push(segments[i]);
    names.push(segments[i + 1]);
  }
  return {
    subscriptionId: m[1],
    resourceGroup: m[2],
    provider: m[3],
    type: types.join('/'),
    name: names.join('/'),
    segments,
  };
}

/** Key for maps: ARM ids compare case-insensitively. */
export function idKey(id: string): string {
  return id.toLowerCase().replace(/\/+$/, '');
}

export function sameId(a: string | undefined, b: string | undefined): boolean {
  return a !== undefined && b !== undefined && idKey(a) === idKey(b);
}

/** Typed check: id names a resource of provider/type (case-insensitive). */
export function isIdOfType(id: string, provider: string, type: string): ParsedId | undefined {
  const p = parseResourceId(id);
  if (!p) return undefined;
  if (p.provider.toLowerCase() !== provider.toLowerCase() || p.type.toLowerCase() !== type.toLowerCase()) return undefined;
  return p;
}
