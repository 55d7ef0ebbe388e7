/** IPv4 arithmetic for subnets: Azure reserves the first four addresses and the last one. */

export function ipToInt(ip: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(ip);
  if (!m) return undefined;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return undefined;
  return ((parts[0] << 24) >>> 0) + (parts[1] << 16) + (parts[2] << 8) + parts[3];
}

export function intToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export interface Cidr {
  base: number;
  bits: number;
  size: number;
}

export function parseCidr(cidr: string): Cidr | undefined {
  const [ip, bitsStr] = cidr.split('/');
  const base = ipToInt(ip ?? '');
  const bits = Number(bitsStr);
  if (base === undefined || !Number.isInteger(bits) || bits < 0 || bits > 32) return undefined;
  const size = 2 ** (32 - bits);
  return { base: base - (base % size), bits, size };
}

export function inCidr(ip: string, cidr: string): boolean {
  const n = ipToInt(ip);
  const c = parseCidr(cidr);
  return n !== undefined && c !== undefined && n >= c.base && n < c.base + c.size;
}

/** True for the addresses Azure keeps for itself in every subnet. */
export function isReserved(ip: string, cidr: string): boolean {
  const n = ipToInt(ip)!;
  const c = parseCidr(cidr)!;
  return n - c.base < 4 || n === c.base + c.size - 1;
}

/** First free usable address of the subnet, or undefined when full. */
export function firstFree(cidr: string, used: Set<string>): string | undefined {
  const c = parseCidr(cidr);
  if (!c) return undefined;
  for (let n = c.base + 4; n < c.base + c.size - 1; n++) {
    const ip = intToIp(n);
    if (!used.has(ip)) return ip;
  }
  return undefined;
}
