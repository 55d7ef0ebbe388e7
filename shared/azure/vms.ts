// Virtual machines and their NICs: create (NIC + VM PUT), delete with cascade, power actions, extensions, data disk attach/detach, instance view, boot diagnostics. Owned by compute.
import type { DriverContext } from './driver';

export interface VmDriver {}

export function vmDriver(_ctx: DriverContext): VmDriver {
  return {};
}
