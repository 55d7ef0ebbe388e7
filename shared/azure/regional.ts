// Regional facts: compute usage (quotas), VM sizes, resource SKUs, marketplace image lookups.
import type { DriverContext } from './driver';

export interface RegionalDriver {}

export function regionalDriver(_ctx: DriverContext): RegionalDriver {
  return {};
}
