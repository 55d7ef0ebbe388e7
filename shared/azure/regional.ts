// Regional facts of the subscription: compute usage against its quotas (for /limits and the
// hypervisors' figures) and the VM sizes the region offers (for flavors' azure:vm_size). Both are read
// inside an HTTP request or a timer, so a throttled read gets one short retry (throttle.ts).
import type { DriverContext } from './context';
import { onceMoreIfThrottled } from './throttle';

/** One regional quota as Azure reports it (Usage_List). */
export interface RegionalFigure {
  current: number;
  limit: number;
}

export interface RegionalDriver {
  /** The region's compute usages by Azure's name (cores, virtualMachines, standardDSv3Family, ...). */
  usage(location?: string): Promise<Map<string, RegionalFigure>>;
  /** The VM size names the region offers (VirtualMachineSizes_List). */
  vmSizes(location?: string): Promise<string[]>;
}

export function regionalDriver(ctx: DriverContext): RegionalDriver {
  const compute = () => ctx.clients().compute;
  return {
    usage: (location = ctx.cfg.azure.location) =>
      onceMoreIfThrottled(async () => {
        const out = new Map<string, RegionalFigure>();
        for await (const u of compute().usage.list(location)) if (u.name?.value) out.set(u.name.value, { current: u.currentValue, limit: u.limit });
        return out;
      }),
    vmSizes: (location = ctx.cfg.azure.location) =>
      onceMoreIfThrottled(async () => {
        const names: string[] = [];
        for await (const size of compute().virtualMachineSizes.list(location)) if (size.name) names.push(size.name);
        return names;
      }),
  };
}
