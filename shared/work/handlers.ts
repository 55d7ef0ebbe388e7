// Every long-action kind the worker runs, listed explicitly (no registration by import side effect).
// A module with long actions exports its WorkKind[]; add it here.
import type { WorkKind } from './types';
import { VOLUME_WORK } from '../volume/work';
import { BACKUP_WORK } from '../volume/backupWork';
import { UPLOAD_WORK } from '../volume/imageUpload';
// TRANSITIONAL: modules that still register by import (registry.ts); each moves into WORK_KINDS.
import '../image/managedImage';
import '../compute/servers/build';
import '../compute/servers/actions/resizeWork';
import '../compute/servers/actions/imageWork';
import '../compute/servers/actions/password';
import '../compute/servers/actions/rebuildWork';
import '../compute/servers/actions/powerWork';
import '../compute/volumeAttachWork';

export const WORK_KINDS: WorkKind[] = [
  ...VOLUME_WORK, // volume create/delete/extend, snapshot create/delete
  ...BACKUP_WORK, // backup create/delete/restore
  ...UPLOAD_WORK, // volume upload to image
];
