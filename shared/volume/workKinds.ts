// The work-queue kinds of volumes and snapshots (handlers in ./work.ts).
export const VOLUME_CREATE = 'volume-create';
export const VOLUME_DELETE = 'volume-delete';
export const VOLUME_EXTEND = 'volume-extend';
export const SNAPSHOT_CREATE = 'snapshot-create';
export const SNAPSHOT_DELETE = 'snapshot-delete';
