// Every long-action kind the worker runs, listed explicitly (no registration by import side effect).
// A module with long actions exports its WorkKind[]; add it here.
import type { WorkKind } from './types';
import { IMAGE_WORK_KINDS } from '../image/managedImage';
// TRANSITIONAL: modules that still register by import (registry.ts); each moves into WORK_KINDS.
import '../volume/work';
import '../compute/servers/build';
import '../compute/servers/actions/resizeWork';
import '../compute/servers/actions/imageWork';
import '../compute/servers/actions/password';
import '../compute/servers/actions/rebuildWork';
import '../compute/servers/actions/powerWork';
import '../compute/volumeAttachWork';

export const WORK_KINDS: WorkKind[] = [
  ...IMAGE_WORK_KINDS,
];
