// The block storage resources on Azure managed disks: volume types, volumes (and their actions and
// metadata), snapshots (and their metadata), backups, volume transfers, quotas and limits, zones and extensions, services and pools, user messages, managing existing disks. shared/volume/routes.ts lists this one group.
import type { Route } from '../http/router';
import { volumeTypeRoutes } from './types/api';
import { volumeRoutes } from './volumes/api';
import { volumeActionRoutes } from './volumes/actions';
import { snapshotRoutes } from './snapshots/api';
import { metadataRoutes } from './volumes/metadata';
import { backupRoutes } from './backups/api';
import { quotaSetRoutes } from './quotas/api';
import { quotaClassRoutes } from './quotas/classes';
import { qosSpecsRoutes } from './qos/api';
import { backupRecordRoutes } from './backups/records';
import { limitRoutes } from './quotas/limits';
import { zoneExtensionRoutes } from './zonesExtensions';
import { transferRoutes } from './transfers/api';
import { volumeServiceRoutes } from './services/api';
import { poolRoutes } from './pools/api';
import { messageRoutes } from './messages/api';
import { clusterRoutes } from './clusters/api';
import { manageRoutes } from './manage/api';
import { backupUpdateRoutes } from './backups/update';
import { groupTypeRoutes } from './groupTypes/api';
import { volumeSummaryRoutes } from './volumes/summary';
import { groupRoutes } from './groups/api';
import { groupSnapshotRoutes } from './groups/snapshotsApi';
import { workerRoutes } from './services/workers';
import { attachmentRoutes } from './attachments/api';
import { resourceFilterRoutes } from './filters';
import { defaultTypeRoutes } from './defaultTypes/api';

export const blockStorageRoutes: Route[] = [
  ...volumeTypeRoutes,
  ...volumeRoutes,
  ...volumeActionRoutes,
  ...snapshotRoutes,
  ...metadataRoutes,
  // Before backupRoutes: /backups/import_record is no backup id.
  ...backupRecordRoutes,
  ...backupRoutes,
  ...transferRoutes,
  ...quotaSetRoutes,
  ...quotaClassRoutes,
  ...qosSpecsRoutes,
  ...limitRoutes,
  ...zoneExtensionRoutes,
  ...volumeServiceRoutes,
  ...poolRoutes,
  ...messageRoutes,
  ...clusterRoutes,
  ...manageRoutes,
  ...backupUpdateRoutes,
  ...groupTypeRoutes,
  ...volumeSummaryRoutes,
  ...groupRoutes,
  ...groupSnapshotRoutes,
  ...workerRoutes,
  ...attachmentRoutes,
  ...resourceFilterRoutes,
  ...defaultTypeRoutes,
];
