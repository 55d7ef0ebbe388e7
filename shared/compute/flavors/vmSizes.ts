// Which Azure VM sizes the region offers, for the `azure:vm_size` extra spec check. Read from ARM
// (Microsoft.Compute/locations/{location}/vmSizes, through s.azure.regional: a throttled read is tried
// once more after its Retry-After, at most 2 s) and cached per process for a few minutes: the list
// changes rarely and every extra-spec write would otherwise cost an ARM call.
import type { Services } from '../../services';
import { ApiError } from '../../http/errors';
import { log } from '../../log';

export interface VmSizeCatalog {
  /** The region's size names, lower-cased (Azure compares size names case-insensitively). */
  offered(): Promise<Set<string>>;
}

export const VM_SIZE_CACHE_MS = 5 * 60 * 1000;

/** Caches `load` for `ttlMs`; a failed load is not cached. */
export function cachedCatalog(load: () => Promise<Iterable<string>>, ttlMs = VM_SIZE_CACHE_MS, now: () => number = Date.now): VmSizeCatalog {
  let cached: { at: number; sizes: Promise<Set<string>> } | undefined;
  return {
    offered() {
      if (!cached || now() - cached.at >= ttlMs) {
        const sizes = load().then((names) => new Set([...names].map((n) => n.toLowerCase())));
        const entry = { at: now(), sizes };
        cached = entry;
        sizes.catch(() => {
          if (cached === entry) cached = undefined;
        });
      }
      return cached.sizes;
    },
  };
}

function armCatalog(s: Services): VmSizeCatalog {
  return cachedCatalog(() => s.azure.regional.vmSizes(s.config.azure.location));
}

const catalogs = new WeakMap<Services, VmSizeCatalog>();

/** The catalog for this process's services: ARM, unless one was set (tests without an ARM endpoint). */
export function vmSizeCatalog(s: Services): VmSizeCatalog {
  let c = catalogs.get(s);
  if (!c) {
    c = armCatalog(s);
    catalogs.set(s, c);
  }
  return c;
}

export function setVmSizeCatalog(s: Services, c: VmSizeCatalog): void {
  catalogs.set(s, c);
}

/** 400 unless the region offers `size`; 503 when ARM cannot be asked right now (nothing is changed). */
export async function checkVmSizeOffered(s: Services, size: string): Promise<void> {
  let offered: Set<string>;
  try {
    offered = await vmSizeCatalog(s).offered();
  } catch (e) {
    log.error('vm size catalog unavailable', { location: s.config.azure.location, error: e instanceof Error ? e.message : String(e) });
    throw new ApiError(503, `The VM sizes of Azure region ${s.config.azure.location} cannot be read right now; try again later.`);
  }
  if (!offered.has(size.toLowerCase())) {
    throw new ApiError(400, `Invalid extra spec azure:vm_size: ${size} is not a VM size offered in Azure region ${s.config.azure.location}.`);
  }
}
