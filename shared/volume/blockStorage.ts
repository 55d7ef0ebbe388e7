// The block storage resources on Azure managed disks: volume types, volumes (and their actions and
// metadata), snapshots (and their metadata). shared/volume/routes.ts lists this one group.
import type { Route } from '../http/router';
import { volumeTypeRoutes } from './volumeTypes';
import { volumeRoutes } from './volumes';
import { volumeActionRoutes } from './volumeActions';
import { snapshotRoutes } from './snapshots';
import { metadataRoutes } from './metadata';

export const blockStorageRoutes: Route[] = [...volumeTypeRoutes, ...volumeRoutes, ...volumeActionRoutes, ...snapshotRoutes, ...metadataRoutes];
