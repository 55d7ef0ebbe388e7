// Every long-action kind the worker runs, listed explicitly (no registration by import side effect).
// A module with long actions exports its WorkKind[]; add it here.
import type { WorkKind } from './types';
import { IMAGE_WORK_KINDS } from '../image/managedImage';
import { VOLUME_WORK } from '../volume/volumes/work';
import { volumeRetype } from '../volume/volumes/retype';
import { volumeMigrate } from '../volume/volumes/migrate';
import { volumeRevert } from '../volume/volumes/revert';
import { volumeReimage } from '../volume/volumes/reimage';
import { BACKUP_WORK } from '../volume/backups/work';
import { UPLOAD_WORK } from '../volume/images/upload';
import { TRANSFER_WORK } from '../volume/transfers/work';
import { MANAGE_WORK } from '../volume/manage/work';
import { GROUP_WORK } from '../volume/groups/service';
import { GROUP_SNAPSHOT_WORK } from '../volume/groups/snapshots';
import { SERVER_BUILD_KINDS } from '../compute/servers/work/build';
import { resizeKind } from '../compute/servers/work/resize';
import { interfaceKind } from '../compute/servers/work/interfaces';
import { snapshotKind } from '../compute/servers/work/image';
import { passwordKind } from '../compute/servers/actions/password';
import { rebuildKind } from '../compute/servers/work/rebuild';
import { powerKind } from '../compute/servers/work/power';
import { VOLUME_ATTACH_KINDS } from '../compute/servers/work/volumeAttach';
import { SERVER_GROUP_KINDS } from '../compute/serverGroups/work';
import { volumeExtendedEventKind } from '../compute/externalEvents/api';

// Compute (Nova): server build/delete, actions, volume attachments, server groups' Azure placement cleanup, Cinder's volume-extended event.
const COMPUTE_KINDS: WorkKind[] = [
  ...SERVER_BUILD_KINDS,
  powerKind,
  resizeKind,
  snapshotKind,
  passwordKind,
  rebuildKind,
  ...VOLUME_ATTACH_KINDS,
  ...SERVER_GROUP_KINDS,
  interfaceKind,
  volumeExtendedEventKind,
];
// Block storage (Cinder): volume create/delete/extend/retype/migrate/revert, snapshot create/delete, backup create/delete/restore, upload to image, transfer retag, manage/unmanage, groups and group snapshots.
const VOLUME_KINDS: WorkKind[] = [
  ...VOLUME_WORK,
  volumeRetype,
  volumeMigrate,
  volumeRevert,
  volumeReimage,
  ...BACKUP_WORK,
  ...UPLOAD_WORK,
  ...TRANSFER_WORK,
  ...MANAGE_WORK,
  ...GROUP_WORK,
  ...GROUP_SNAPSHOT_WORK,
];

export const WORK_KINDS: WorkKind[] = [...COMPUTE_KINDS, ...VOLUME_KINDS, ...IMAGE_WORK_KINDS];
