// The work-queue kinds of volumes and snapshots (handlers in ./work.ts).
export const VOLUME_CREATE = 'volume-create';
export const VOLUME_DELETE = 'volume-delete';
export const VOLUME_EXTEND = 'volume-extend';
export const VOLUME_RETYPE = 'volume-retype';
export const SNAPSHOT_CREATE = 'snapshot-create';
export const SNAPSHOT_DELETE = 'snapshot-delete';
export const BACKUP_CREATE = 'backup-create';
export const BACKUP_DELETE = 'backup-delete';
export const BACKUP_RESTORE = 'backup-restore';
export const VOLUME_UPLOAD_IMAGE = 'volume-upload-image';
export const VOLUME_TRANSFER_RETAG = 'volume-transfer-retag';
export const VOLUME_MANAGE = 'volume-manage';
export const VOLUME_UNMANAGE = 'volume-unmanage';
export const SNAPSHOT_MANAGE = 'snapshot-manage';
export const SNAPSHOT_UNMANAGE = 'snapshot-unmanage';
export const GROUP_DELETE = 'group-delete';
