// The block storage resources on Azure managed disks: volume types, volumes (and their actions and
// metadata), snapshots (and their metadata), backups, quotas and limits, zones and extensions. shared/volume/routes.ts lists this one group.
import type { Route } from '../http/router';
import { volumeTypeRoutes } from './volumeTypes';
import { volumeRoutes } from './volumes';
import { volumeActionRoutes } from './volumeActions';
import { snapshotRoutes } from './snapshots';
import { metadataRoutes } from './metadata';
import { backupRoutes } from './backups';
import { quotaSetRoutes } from './quotaSets';
import { limitRoutes } from './limits';
import { zoneExtensionRoutes } from './zonesExtensions';

export const blockStorageRoutes: Route[] = [
  ...volumeTypeRoutes,
  ...volumeRoutes,
  ...volumeActionRoutes,
  ...snapshotRoutes,
  ...metadataRoutes,
  ...backupRoutes,
  ...quotaSetRoutes,
  ...limitRoutes,
  ...zoneExtensionRoutes,
];
