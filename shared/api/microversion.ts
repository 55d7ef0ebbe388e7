// Microversion negotiation as nova/api/openstack/api_version_request.py and cinder's twin do it.
import { ApiError, badRequest } from '../http/errors';

export class Microversion {
  constructor(
    public readonly major: number,
    public readonly minor: number,
  ) {}
  static parse(s: string): Microversion {
    const m = /^([1-9]\d*)\.([1-9]\d*|0)$/.exec(s.trim());
    if (!m) throw badRequest(`API Version String ${s.trim()} is of invalid format. Must be of format MajorNum.MinorNum.`);
    return new Microversion(Number(m[1]), Number(m[2]));
  }
  /**
   * The versions the code compares against ("2.26", "3.13"): parsed once each. A list renders every
   * item at the caller's version, so the same few constants are asked for thousands of times a page.
   */
  private static readonly constants = new Map<string, Microversion>();
  private static constant(v: string): Microversion {
    let m = Microversion.constants.get(v);
    if (!m) Microversion.constants.set(v, (m = Microversion.parse(v)));
    return m;
  }
  compare(o: Microversion): number {
    return this.major !== o.major ? this.major - o.major : this.minor - o.minor;
  }
  /** True when min <= this <= max (either bound may be omitted). */
  matches(min?: string, max?: string): boolean {
    if (min && this.compare(Microversion.constant(min)) < 0) return false;
    if (max && this.compare(Microversion.constant(max)) > 0) return false;
    return true;
  }
  atLeast(v: string): boolean {
    return this.compare(Microversion.constant(v)) >= 0;
  }
  toString(): string {
    return `${this.major}.${this.minor}`;
  }
}

export interface VersionedService {
  /** The service type named in OpenStack-API-Version ("compute", "volume"). */
  serviceType: string;
  min: string;
  /** The highest microversion Jacket fully honours; raise it only with the features it brings. */
  max: string;
  /** Nova also reads and writes its legacy header. */
  legacyHeader?: string;
}

export const COMPUTE: VersionedService = {
  serviceType: 'compute',
  min: '2.1',
  // docs/microversions.md: what each version up to this one changes, and how Jacket honours it.
  max: '2.100',
  legacyHeader: 'x-openstack-nova-api-version',
};

/** Placement's read side at 1.0-1.14 (docs/placement.md): Horizon 27 asks for 1.14. */
export const PLACEMENT: VersionedService = { serviceType: 'placement', min: '1.0', max: '1.14' };

export const VOLUME: VersionedService = { serviceType: 'volume', min: '3.0', max: '3.71' };

/** Reads the requested version from the headers; answers 400 on bad syntax and 406 outside the range. */
export function negotiate(svc: VersionedService, headers: Record<string, string>): Microversion {
  let requested: string | undefined;
  const generic = headers['openstack-api-version'];
  if (generic) {
    // "compute 2.10" (several services may be listed, comma separated)
    for (const part of generic.split(',')) {
      const [type, ver] = part.trim().split(/\s+/, 2);
      if (type?.toLowerCase() === svc.serviceType && ver) requested = ver;
    }
  }
  if (requested === undefined && svc.legacyHeader && headers[svc.legacyHeader]) requested = headers[svc.legacyHeader];
  const min = Microversion.parse(svc.min);
  const max = Microversion.parse(svc.max);
  if (requested === undefined) return min;
  if (requested.trim().toLowerCase() === 'latest') return max;
  const v = Microversion.parse(requested);
  if (v.compare(min) < 0 || v.compare(max) > 0) {
    throw new ApiError(406, `Version ${v} is not supported by the API. Minimum is ${svc.min} and maximum is ${svc.max}.`);
  }
  return v;
}

export function versionHeaders(svc: VersionedService, v: Microversion): Record<string, string> {
  const h: Record<string, string> = { 'OpenStack-API-Version': `${svc.serviceType} ${v}` };
  const vary = ['OpenStack-API-Version'];
  if (svc.legacyHeader) {
    h['X-OpenStack-Nova-API-Version'] = v.toString();
    vary.push('X-OpenStack-Nova-API-Version');
  }
  h.Vary = vary.join(', ');
  return h;
}
