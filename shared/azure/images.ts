// Managed images (Glance images and server snapshots on Azure).
import type { DriverContext } from './driver';

export interface ImageDriver {}

export function imageDriver(_ctx: DriverContext): ImageDriver {
  return {};
}
