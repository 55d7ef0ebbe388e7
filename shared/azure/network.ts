// Network reads and writes other than a server's NICs: NSGs and their rules, virtual networks, subnets.
import type { DriverContext } from './driver';

export interface NetworkDriver {}

export function networkDriver(_ctx: DriverContext): NetworkDriver {
  return {};
}
