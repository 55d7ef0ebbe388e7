// Every long-action kind the worker runs, listed explicitly (no registration by import side effect).
// A module with long actions exports its WorkKind[]; add it here.
import type { WorkKind } from './types';
import { IMAGE_WORK_KINDS } from '../image/managedImage';
// TRANSITIONAL: modules that still register by import (registry.ts); each moves into WORK_KINDS.
import '../volume/work';
// Compute (Nova): server build/delete, actions, volume attachments.
import { SERVER_BUILD_KINDS } from '../compute/servers/build';
import { resizeKind } from '../compute/servers/actions/resizeWork';
import { snapshotKind } from '../compute/servers/actions/imageWork';
import { passwordKind } from '../compute/servers/actions/password';
import { rebuildKind } from '../compute/servers/actions/rebuildWork';
import { powerKind } from '../compute/servers/actions/powerWork';
import { VOLUME_ATTACH_KINDS } from '../compute/volumeAttachWork';

const COMPUTE_KINDS: WorkKind[] = [...SERVER_BUILD_KINDS, powerKind, resizeKind, snapshotKind, passwordKind, rebuildKind, ...VOLUME_ATTACH_KINDS];

export const WORK_KINDS: WorkKind[] = [...COMPUTE_KINDS, ...IMAGE_WORK_KINDS];
