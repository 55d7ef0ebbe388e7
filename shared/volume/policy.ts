// Cinder's policies that Jacket enforces, with upstream's defaults (cinder/policies/*.py, 2025.x):
// xena_system_admin_or_project_reader -> 'project_reader_or_admin', xena_system_admin_or_project_member
// -> 'project_member_or_admin', admin_api -> 'admin'. Routes name these (TypeScript checks the name);
// shared/api/policy.ts reads them.
import type { PolicyDefaults } from '../api/rules';

export const VOLUME_POLICIES = {
  // volumes.py
  'volume:create': 'project_member_or_admin',
  'volume:get': 'project_reader_or_admin',
  'volume:get_all': 'project_reader_or_admin',
  'volume:update': 'project_member_or_admin',
  'volume:delete': 'project_member_or_admin',
  'volume:force_delete': 'admin',
  'volume_extension:volume_host_attribute': 'admin',
  'volume_extension:volume_tenant_attribute': 'project_reader_or_admin',
  'volume_extension:volume_mig_status_attribute': 'admin',
  // volume_actions.py
  'volume:extend': 'project_member_or_admin',
  'volume:extend_attached_volume': 'project_member_or_admin',
  'volume:retype': 'project_member_or_admin',
  // asked inside volume/api.py revert_to_snapshot (3.40), after the lookups
  'volume:revert_to_snapshot': 'project_member_or_admin',
  // asked inside volume/api.py reimage (3.68), after the lookups: the second for a reserved volume
  'volume:reimage': 'project_member_or_admin',
  'volume:reimage_reserved': 'project_member_or_admin',
  'volume_extension:volume_admin_actions:reset_status': 'admin',
  'volume_extension:volume_admin_actions:force_delete': 'admin',
  'volume_extension:volume_admin_actions:force_detach': 'admin',
  'volume_extension:volume_admin_actions:migrate_volume': 'admin',
  // admin_actions.py _extend_volume_completion (3.71), asked after the lookup (rule:admin_api)
  'volume_extension:volume_admin_actions:extend_volume_completion': 'admin',
  'volume:update_readonly_flag': 'project_member_or_admin',
  'volume_extension:volume_actions:upload_image': 'project_member_or_admin',
  'volume_extension:volume_actions:upload_public': 'admin',
  'volume_extension:volume_actions:initialize_connection': 'project_member_or_admin',
  'volume_extension:volume_actions:terminate_connection': 'project_member_or_admin',
  'volume_extension:volume_actions:roll_detaching': 'project_member_or_admin',
  'volume_extension:volume_actions:reserve': 'project_member_or_admin',
  'volume_extension:volume_actions:unreserve': 'project_member_or_admin',
  'volume_extension:volume_actions:begin_detaching': 'project_member_or_admin',
  'volume_extension:volume_actions:attach': 'project_member_or_admin',
  'volume_extension:volume_actions:detach': 'project_member_or_admin',
  // volume_metadata.py
  'volume:get_volume_metadata': 'project_reader_or_admin',
  'volume:create_volume_metadata': 'project_member_or_admin',
  'volume:update_volume_metadata': 'project_member_or_admin',
  'volume:delete_volume_metadata': 'project_member_or_admin',
  'volume_extension:volume_image_metadata:show': 'project_reader_or_admin',
  'volume_extension:volume_image_metadata:set': 'project_member_or_admin',
  'volume_extension:volume_image_metadata:remove': 'project_member_or_admin',
  // snapshots.py, snapshot_metadata.py, snapshot_actions.py
  'volume:create_snapshot': 'project_member_or_admin',
  'volume:get_snapshot': 'project_reader_or_admin',
  'volume:get_all_snapshots': 'project_reader_or_admin',
  'volume:update_snapshot': 'project_member_or_admin',
  'volume:delete_snapshot': 'project_member_or_admin',
  'volume_extension:extended_snapshot_attributes': 'project_reader_or_admin',
  'volume:get_snapshot_metadata': 'project_reader_or_admin',
  'volume:update_snapshot_metadata': 'project_member_or_admin',
  'volume:delete_snapshot_metadata': 'project_member_or_admin',
  'volume_extension:snapshot_admin_actions:reset_status': 'admin',
  'volume_extension:snapshot_admin_actions:force_delete': 'admin',
  'snapshot_extension:snapshot_actions:update_snapshot_status': 'project_member_or_admin',
  // backups.py, backup_actions.py
  'backup:create': 'project_member_or_admin',
  'backup:get': 'project_reader_or_admin',
  'backup:get_all': 'project_reader_or_admin',
  'backup:update': 'project_member_or_admin',
  'backup:delete': 'project_member_or_admin',
  'backup:restore': 'project_member_or_admin',
  'backup:backup_project_attribute': 'admin',
  'backup:export-import': 'admin',
  'backup:backup-import': 'admin',
  'volume_extension:backup_admin_actions:reset_status': 'admin',
  'volume_extension:backup_admin_actions:force_delete': 'admin',
  // volume_type.py, type_extra_specs.py
  'volume_extension:type_get_all': 'project_reader_or_admin',
  'volume_extension:type_get': 'project_reader_or_admin',
  'volume_extension:type_create': 'admin',
  'volume_extension:type_update': 'admin',
  'volume_extension:type_delete': 'admin',
  'volume_extension:access_types_extra_specs': 'project_reader_or_admin',
  'volume_extension:access_types_qos_specs_id': 'admin',
  'volume_extension:types_extra_specs:read_sensitive': 'admin',
  // volume_access.py: adds os-volume-type-access:is_public to show, list and create
  'volume_extension:volume_type_access': 'project_member_or_admin',
  'volume_extension:types_extra_specs:index': 'project_reader_or_admin',
  'volume_extension:types_extra_specs:show': 'project_reader_or_admin',
  'volume_extension:types_extra_specs:create': 'admin',
  'volume_extension:types_extra_specs:update': 'admin',
  'volume_extension:types_extra_specs:delete': 'admin',
  // qos_specs.py
  'volume_extension:qos_specs_manage:get_all': 'admin',
  'volume_extension:qos_specs_manage:create': 'admin',
  'volume_extension:qos_specs_manage:get': 'admin',
  'volume_extension:qos_specs_manage:update': 'admin',
  'volume_extension:qos_specs_manage:delete': 'admin',
  // default_types.py (3.62): RULE_ADMIN_API each, the target project's own reader included (no
  // project-scoped default); the handlers ask them after the project lookup (defaultTypes/api.ts).
  'volume_extension:default_set_or_update': 'admin',
  'volume_extension:default_get': 'admin',
  'volume_extension:default_get_all': 'admin',
  'volume_extension:default_unset': 'admin',
  // volume_transfer.py (SYSTEM_READER_OR_PROJECT_READER / SYSTEM_ADMIN_OR_PROJECT_MEMBER)
  'volume:get_all_transfers': 'project_reader_or_admin',
  'volume:create_transfer': 'project_member_or_admin',
  'volume:get_transfer': 'project_reader_or_admin',
  'volume:accept_transfer': 'project_member_or_admin',
  'volume:delete_transfer': 'project_member_or_admin',
  // messages.py (SYSTEM_READER_OR_PROJECT_READER / SYSTEM_ADMIN_OR_PROJECT_MEMBER)
  'message:get_all': 'project_reader_or_admin',
  'message:get': 'project_reader_or_admin',
  'message:delete': 'project_member_or_admin',
  // quotas.py, limits.py
  'volume_extension:quotas:show': 'project_reader_or_admin',
  'volume_extension:quotas:update': 'admin',
  'volume_extension:quotas:delete': 'admin',
  'limits_extension:used_limits': 'project_reader_or_admin',
  // quota_class.py
  'volume_extension:quota_classes:get': 'admin',
  'volume_extension:quota_classes:update': 'admin',
  // services.py, scheduler_stats.py, capabilities.py
  'volume_extension:services:index': 'admin',
  'volume_extension:services:update': 'admin',
  // volume/api.py freeze_host, thaw_host, failover (asked after services:update)
  'volume:freeze_host': 'admin',
  'volume:thaw_host': 'admin',
  'volume:failover_host': 'admin',
  'scheduler_extension:scheduler_stats:get_pools': 'admin',
  'volume_extension:capabilities': 'admin',
  // manageable_volumes.py, manageable_snapshots.py (shared/volume/manage/)
  'volume_extension:list_manageable': 'admin',
  'volume_extension:volume_manage': 'admin',
  'volume_extension:volume_unmanage': 'admin',
  'snapshot_extension:list_manageable': 'admin',
  'snapshot_extension:snapshot_manage': 'admin',
  'snapshot_extension:snapshot_unmanage': 'admin',
  // group_types.py (group types and their specs; list and show have no policy of their own)
  'group:group_types:create': 'admin',
  'group:group_types:update': 'admin',
  'group:group_types:delete': 'admin',
  'group:access_group_types_specs': 'admin',
  'group:group_types_specs:get': 'admin',
  'group:group_types_specs:get_all': 'admin',
  'group:group_types_specs:create': 'admin',
  'group:group_types_specs:update': 'admin',
  'group:group_types_specs:delete': 'admin',
  // groups.py, group_actions.py (generic volume groups, 3.13)
  'group:get_all': 'project_reader_or_admin',
  'group:create': 'project_member_or_admin',
  'group:get': 'project_reader_or_admin',
  'group:update': 'project_member_or_admin',
  'group:delete': 'project_member_or_admin',
  // group_snapshots.py (3.14)
  'group:get_all_group_snapshots': 'project_reader_or_admin',
  'group:create_group_snapshot': 'project_member_or_admin',
  'group:get_group_snapshot': 'project_reader_or_admin',
  'group:delete_group_snapshot': 'project_member_or_admin',
  // group_actions.py, group_snapshot_actions.py (3.20, 3.19)
  'group:reset_status': 'admin',
  'group:reset_group_snapshot_status': 'admin',
  'group:group_project_attribute': 'admin',
  'group:group_snapshot_project_attribute': 'admin',
  // group_actions.py (3.38)
  'group:enable_replication': 'project_member_or_admin',
  'group:disable_replication': 'project_member_or_admin',
  'group:failover_replication': 'project_member_or_admin',
  'group:list_replication_targets': 'project_member_or_admin',
  // clusters.py
  'clusters:get_all': 'admin',
  'clusters:get': 'admin',
  'clusters:update': 'admin',
  // attachments.py (3.27)
  'volume:attachment_create': 'project_member_or_admin',
  'volume:attachment_update': 'project_member_or_admin',
  'volume:attachment_delete': 'project_member_or_admin',
  // attachments.py complete (3.44)
  'volume:attachment_complete': 'project_member_or_admin',
  // workers.py (3.24)
  'workers:cleanup': 'admin',
} as const satisfies PolicyDefaults;

export type VolumePolicy = keyof typeof VOLUME_POLICIES;

/** POST /volumes/{id}/action: each action's own policy (cinder/api/contrib/volume_actions.py, admin_actions.py...). */
export const VOLUME_ACTION_POLICIES = {
  'os-extend': 'volume:extend',
  'os-retype': 'volume:retype',
  // cinder/api/contrib/volume_actions.py _set_bootable: no policy of its own, volume_api.update's.
  'os-set_bootable': 'volume:update',
  'os-reset_status': 'volume_extension:volume_admin_actions:reset_status',
  'os-force_delete': 'volume_extension:volume_admin_actions:force_delete',
  'os-force_detach': 'volume_extension:volume_admin_actions:force_detach',
  'os-migrate_volume': 'volume_extension:volume_admin_actions:migrate_volume',
  'os-extend_volume_completion': 'volume_extension:volume_admin_actions:extend_volume_completion',
  'os-update_readonly_flag': 'volume:update_readonly_flag',
  'os-volume_upload_image': 'volume_extension:volume_actions:upload_image',
  'os-show_image_metadata': 'volume_extension:volume_image_metadata:show',
  'os-set_image_metadata': 'volume_extension:volume_image_metadata:set',
  'os-unset_image_metadata': 'volume_extension:volume_image_metadata:remove',
  'os-reserve': 'volume_extension:volume_actions:reserve',
  'os-unreserve': 'volume_extension:volume_actions:unreserve',
  'os-begin_detaching': 'volume_extension:volume_actions:begin_detaching',
  'os-roll_detaching': 'volume_extension:volume_actions:roll_detaching',
  'os-attach': 'volume_extension:volume_actions:attach',
  'os-detach': 'volume_extension:volume_actions:detach',
  'os-initialize_connection': 'volume_extension:volume_actions:initialize_connection',
  'os-terminate_connection': 'volume_extension:volume_actions:terminate_connection',
  'os-unmanage': 'volume_extension:volume_unmanage',
} as const satisfies Record<string, VolumePolicy>;

/** POST /snapshots/{id}/action (cinder/api/contrib/admin_actions.py SnapshotAdminController). */
export const SNAPSHOT_ACTION_POLICIES = {
  'os-reset_status': 'volume_extension:snapshot_admin_actions:reset_status',
  'os-force_delete': 'volume_extension:snapshot_admin_actions:force_delete',
  // cinder/api/contrib/snapshot_actions.py (Nova's assisted snapshots report their progress).
  'os-update_snapshot_status': 'snapshot_extension:snapshot_actions:update_snapshot_status',
  'os-unmanage': 'snapshot_extension:snapshot_unmanage',
} as const satisfies Record<string, VolumePolicy>;

/** POST /backups/{id}/action (cinder/api/contrib/admin_actions.py BackupAdminController). */
export const BACKUP_ACTION_POLICIES = {
  'os-reset_status': 'volume_extension:backup_admin_actions:reset_status',
  'os-force_delete': 'volume_extension:backup_admin_actions:force_delete',
} as const satisfies Record<string, VolumePolicy>;
