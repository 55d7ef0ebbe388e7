// Nova's policies that Jacket enforces, with upstream's defaults (nova/policies/*.py, 2025.x):
// project_reader_or_admin / project_member_or_admin / project_manager_or_admin as named there,
// context_is_admin and service_or_admin as 'admin', '@' as 'authenticated', and the keypair
// policies' "(rule:context_is_admin) or user_id:%(user_id)s" as 'admin_or_owner'.
// Routes name these (TypeScript checks the name); shared/api/policy.ts reads them.
import type { PolicyDefaults } from '../api/rules';

export const COMPUTE_POLICIES = {
  // servers.py
  'os_compute_api:servers:index': 'project_reader_or_admin',
  'os_compute_api:servers:detail': 'project_reader_or_admin',
  'os_compute_api:servers:index:get_all_tenants': 'admin',
  'os_compute_api:servers:detail:get_all_tenants': 'admin',
  'os_compute_api:servers:allow_all_filters': 'admin',
  'os_compute_api:servers:show': 'project_reader_or_admin',
  'os_compute_api:servers:show:host_status': 'admin',
  'os_compute_api:servers:show:host_status:unknown-only': 'admin',
  'os_compute_api:servers:create': 'project_member_or_admin',
  // 2.63: trusted_image_certificates given on create or rebuild (null on rebuild counts as given)
  'os_compute_api:servers:create:trusted_certs': 'project_member_or_admin',
  'os_compute_api:servers:rebuild:trusted_certs': 'project_member_or_admin',
  // 2.74: host / hypervisor_hostname at create (nova/policies/servers.py REQUESTED_DESTINATION).
  'compute:servers:create:requested_destination': 'admin',
  'os_compute_api:servers:update': 'project_member_or_admin',
  'os_compute_api:servers:delete': 'project_member_or_admin',
  'os_compute_api:servers:reboot': 'project_member_or_admin',
  'os_compute_api:servers:start': 'project_member_or_admin',
  'os_compute_api:servers:stop': 'project_member_or_admin',
  'os_compute_api:servers:rebuild': 'project_member_or_admin',
  'os_compute_api:servers:resize': 'project_member_or_admin',
  'os_compute_api:servers:confirm_resize': 'project_member_or_admin',
  'os_compute_api:servers:revert_resize': 'project_member_or_admin',
  'os_compute_api:servers:create_image': 'project_member_or_admin',
  'os_compute_api:servers:trigger_crash_dump': 'project_member_or_admin',
  // extended_server_attributes.py (host fields in server views)
  'os_compute_api:os-extended-server-attributes': 'admin',
  // admin_actions.py
  'os_compute_api:os-admin-actions:reset_state': 'admin',
  'os_compute_api:os-admin-actions:inject_network_info': 'admin',
  // resetNetwork left Nova in Victoria (410 since); this was its last default
  'os_compute_api:os-admin-actions:reset_network': 'admin',
  // admin_password.py, console_output.py, create_backup.py, remote_consoles.py
  'os_compute_api:os-admin-password': 'project_member_or_admin',
  'os_compute_api:os-console-output': 'project_member_or_admin',
  'os_compute_api:os-create-backup': 'project_member_or_admin',
  'os_compute_api:os-remote-consoles': 'project_member_or_admin',
  // deferred_delete.py
  'os_compute_api:os-deferred-delete:restore': 'project_member_or_admin',
  'os_compute_api:os-deferred-delete:force': 'project_member_or_admin',
  // evacuate.py, migrate_server.py
  'os_compute_api:os-evacuate': 'admin',
  'os_compute_api:os-migrate-server:migrate': 'project_manager_or_admin',
  'os_compute_api:os-migrate-server:migrate:host': 'admin',
  'os_compute_api:os-migrate-server:migrate_live': 'project_manager_or_admin',
  // servers_migrations.py (2.22-2.24: /servers/{id}/migrations)
  'os_compute_api:servers:migrations:index': 'project_manager_or_admin',
  'os_compute_api:servers:migrations:index:host': 'admin',
  'os_compute_api:servers:migrations:show': 'admin',
  'os_compute_api:servers:migrations:force_complete': 'project_manager_or_admin',
  'os_compute_api:servers:migrations:delete': 'project_manager_or_admin',
  // migrations.py (GET /os-migrations): the list (without host fields unless index:host), all or
  // another project's migrations (index:all_projects: the list without project_id filter is that)
  'os_compute_api:os-migrations:index': 'project_manager_or_admin',
  'os_compute_api:os-migrations:index:all_projects': 'admin',
  'os_compute_api:os-migrations:index:host': 'admin',
  // server_tags.py (2.26)
  'os_compute_api:os-server-tags:index': 'project_reader_or_admin',
  'os_compute_api:os-server-tags:show': 'project_reader_or_admin',
  'os_compute_api:os-server-tags:update': 'project_member_or_admin',
  'os_compute_api:os-server-tags:update_all': 'project_member_or_admin',
  'os_compute_api:os-server-tags:delete': 'project_member_or_admin',
  'os_compute_api:os-server-tags:delete_all': 'project_member_or_admin',
  // server_shares.py (2.97)
  'os_compute_api:os-server-shares:index': 'project_reader_or_admin',
  'os_compute_api:os-server-shares:create': 'project_member_or_admin',
  'os_compute_api:os-server-shares:show': 'project_reader_or_admin',
  'os_compute_api:os-server-shares:delete': 'project_member_or_admin',
  // console_auth_tokens.py
  'os_compute_api:os-console-auth-tokens': 'admin',
  // floating_ips.py, multinic.py
  'os_compute_api:os-floating-ips:add': 'project_member_or_admin',
  'os_compute_api:os-floating-ips:remove': 'project_member_or_admin',
  'os_compute_api:os-floating-ips:list': 'project_reader_or_admin',
  'os_compute_api:os-floating-ips:show': 'project_reader_or_admin',
  'os_compute_api:os-floating-ips:create': 'project_member_or_admin',
  'os_compute_api:os-floating-ips:delete': 'project_member_or_admin',
  // security_groups.py
  'os_compute_api:os-security-groups:get': 'project_reader_or_admin',
  'os_compute_api:os-security-groups:show': 'project_reader_or_admin',
  'os_compute_api:os-security-groups:create': 'project_member_or_admin',
  'os_compute_api:os-security-groups:update': 'project_member_or_admin',
  'os_compute_api:os-security-groups:delete': 'project_member_or_admin',
  'os_compute_api:os-security-groups:rule:create': 'project_member_or_admin',
  'os_compute_api:os-security-groups:rule:delete': 'project_member_or_admin',
  'os_compute_api:os-security-groups:list': 'project_reader_or_admin',
  'os_compute_api:os-security-groups:add': 'project_member_or_admin',
  'os_compute_api:os-security-groups:remove': 'project_member_or_admin',
  // floating_ip_pools.py
  'os_compute_api:os-floating-ip-pools': 'authenticated',
  'os_compute_api:os-multinic:add': 'project_member_or_admin',
  'os_compute_api:os-multinic:remove': 'project_member_or_admin',
  // lock_server.py
  'os_compute_api:os-lock-server:lock': 'project_member_or_admin',
  'os_compute_api:os-lock-server:unlock': 'project_member_or_admin',
  'os_compute_api:os-lock-server:unlock:unlock_override': 'admin',
  // pause_server.py, rescue.py
  'os_compute_api:os-pause-server:pause': 'project_member_or_admin',
  'os_compute_api:os-pause-server:unpause': 'project_member_or_admin',
  'os_compute_api:os-rescue': 'project_member_or_admin',
  'os_compute_api:os-unrescue': 'project_member_or_admin',
  // shelve.py, suspend_server.py
  'os_compute_api:os-shelve:shelve': 'project_member_or_admin',
  'os_compute_api:os-shelve:unshelve': 'project_member_or_admin',
  // 2.91: unshelve to a named host
  'os_compute_api:os-shelve:unshelve_to_host': 'admin',
  'os_compute_api:os-shelve:shelve_offload': 'admin',
  'os_compute_api:os-suspend-server:suspend': 'project_member_or_admin',
  'os_compute_api:os-suspend-server:resume': 'project_member_or_admin',
  // server_diagnostics.py, instance_actions.py
  'os_compute_api:os-server-diagnostics': 'admin',
  // server_topology.py (2.78); its host:index (admin) governs node details Jacket never has.
  'compute:server:topology:index': 'project_reader_or_admin',
  'os_compute_api:os-instance-actions:list': 'project_reader_or_admin',
  'os_compute_api:os-instance-actions:show': 'project_reader_or_admin',
  'os_compute_api:os-instance-actions:events': 'admin',
  'os_compute_api:os-instance-actions:events:details': 'admin',
  // attach_interfaces.py
  'os_compute_api:os-attach-interfaces:list': 'project_reader_or_admin',
  'os_compute_api:os-attach-interfaces:show': 'project_reader_or_admin',
  'os_compute_api:os-attach-interfaces:create': 'project_member_or_admin',
  'os_compute_api:os-attach-interfaces:delete': 'project_member_or_admin',
  // server_metadata.py, ips.py, server_password.py
  'os_compute_api:server-metadata:index': 'project_reader_or_admin',
  'os_compute_api:server-metadata:show': 'project_reader_or_admin',
  'os_compute_api:server-metadata:create': 'project_member_or_admin',
  'os_compute_api:server-metadata:update_all': 'project_member_or_admin',
  'os_compute_api:server-metadata:update': 'project_member_or_admin',
  'os_compute_api:server-metadata:delete': 'project_member_or_admin',
  'os_compute_api:ips:index': 'project_reader_or_admin',
  'os_compute_api:ips:show': 'project_reader_or_admin',
  'os_compute_api:os-server-password:show': 'project_reader_or_admin',
  'os_compute_api:os-server-password:clear': 'project_member_or_admin',
  // volumes_attachments.py
  'os_compute_api:os-volumes-attachments:index': 'project_reader_or_admin',
  'os_compute_api:os-volumes-attachments:show': 'project_reader_or_admin',
  'os_compute_api:os-volumes-attachments:create': 'project_member_or_admin',
  'os_compute_api:os-volumes-attachments:delete': 'project_member_or_admin',
  // 2.85: PUT naming the attached volume itself (delete_on_termination); another volume is :swap.
  'os_compute_api:os-volumes-attachments:update': 'project_member_or_admin',
  'os_compute_api:os-volumes-attachments:swap': 'admin_or_service',
  // flavor_manage.py, flavor_extra_specs.py, flavor_access.py
  'os_compute_api:os-flavor-manage:create': 'admin',
  'os_compute_api:os-flavor-manage:update': 'admin',
  'os_compute_api:os-flavor-manage:delete': 'admin',
  'os_compute_api:os-flavor-extra-specs:index': 'project_reader_or_admin',
  'os_compute_api:os-flavor-extra-specs:show': 'project_reader_or_admin',
  'os_compute_api:os-flavor-extra-specs:create': 'admin',
  'os_compute_api:os-flavor-extra-specs:update': 'admin',
  'os_compute_api:os-flavor-extra-specs:delete': 'admin',
  'os_compute_api:os-flavor-access': 'admin',
  'os_compute_api:os-flavor-access:add_tenant_access': 'admin',
  'os_compute_api:os-flavor-access:remove_tenant_access': 'admin',
  // availability_zone.py, extensions.py, keypairs.py, limits.py
  'os_compute_api:os-availability-zone:list': 'authenticated',
  'os_compute_api:os-availability-zone:detail': 'admin',
  'os_compute_api:extensions': 'authenticated',
  'os_compute_api:os-keypairs:index': 'admin_or_owner',
  'os_compute_api:os-keypairs:create': 'admin_or_owner',
  'os_compute_api:os-keypairs:show': 'admin_or_owner',
  'os_compute_api:os-keypairs:delete': 'admin_or_owner',
  'os_compute_api:limits': 'authenticated',
  'os_compute_api:limits:other_project': 'admin',
  // server_groups.py
  'os_compute_api:os-server-groups:create': 'project_member_or_admin',
  'os_compute_api:os-server-groups:delete': 'project_member_or_admin',
  'os_compute_api:os-server-groups:index': 'project_reader_or_admin',
  'os_compute_api:os-server-groups:index:all_projects': 'admin',
  'os_compute_api:os-server-groups:show': 'project_reader_or_admin',
  // quota_sets.py, quota_class_sets.py
  'os_compute_api:os-quota-sets:show': 'project_reader_or_admin',
  'os_compute_api:os-quota-sets:detail': 'project_reader_or_admin',
  'os_compute_api:os-quota-sets:defaults': 'authenticated',
  'os_compute_api:os-quota-sets:update': 'admin',
  'os_compute_api:os-quota-sets:delete': 'admin',
  'os_compute_api:os-quota-class-sets:show': 'admin',
  'os_compute_api:os-quota-class-sets:update': 'admin',
  // simple_tenant_usage.py, hypervisors.py
  'os_compute_api:os-simple-tenant-usage:show': 'project_reader_or_admin',
  'os_compute_api:os-simple-tenant-usage:list': 'admin',
  // aggregates.py (compute:aggregates:images is the 2.81 policy's new-style name)
  'os_compute_api:os-aggregates:index': 'admin',
  'os_compute_api:os-aggregates:create': 'admin',
  'os_compute_api:os-aggregates:show': 'admin',
  'os_compute_api:os-aggregates:update': 'admin',
  'os_compute_api:os-aggregates:delete': 'admin',
  'os_compute_api:os-aggregates:add_host': 'admin',
  'os_compute_api:os-aggregates:remove_host': 'admin',
  'os_compute_api:os-aggregates:set_metadata': 'admin',
  'compute:aggregates:images': 'admin',
  // server_external_events.py (Nova's default is the service role: service_or_admin here)
  'os_compute_api:os-server-external-events:create': 'admin_or_service',
  // instance_usage_audit_log.py
  'os_compute_api:os-instance-usage-audit-log:list': 'admin',
  'os_compute_api:os-instance-usage-audit-log:show': 'admin',
  'os_compute_api:os-hypervisors:list': 'admin',
  'os_compute_api:os-hypervisors:list-detail': 'admin',
  'os_compute_api:os-hypervisors:statistics': 'admin',
  'os_compute_api:os-hypervisors:show': 'admin',
  'os_compute_api:os-hypervisors:uptime': 'admin',
  'os_compute_api:os-hypervisors:search': 'admin',
  'os_compute_api:os-hypervisors:servers': 'admin',
  // services.py, hosts.py
  'os_compute_api:os-services:list': 'admin',
  'os_compute_api:os-services:update': 'admin',
  'os_compute_api:os-services:delete': 'admin',
  'os_compute_api:os-hosts:list': 'admin',
  'os_compute_api:os-hosts:show': 'admin',
  'os_compute_api:os-hosts:update': 'admin',
  'os_compute_api:os-hosts:reboot': 'admin',
  'os_compute_api:os-hosts:shutdown': 'admin',
  'os_compute_api:os-hosts:start': 'admin',
} as const satisfies PolicyDefaults;

export type ComputePolicy = keyof typeof COMPUTE_POLICIES;

/**
 * Nova's image proxy (GET/DELETE /images, image metadata) has no Nova policy: Nova calls Glance with
 * the caller's token and Glance's policies decide. Those compute routes name these Glance policies.
 */
export const IMAGE_PROXY_POLICIES = ['get_images', 'get_image', 'modify_image', 'delete_image'] as const;
export type ImageProxyPolicy = (typeof IMAGE_PROXY_POLICIES)[number];

/** Flavor actions (POST /flavors/{id}/action): the body key's policy (flavor_access.py). */
export const AGGREGATE_ACTION_POLICIES = {
  add_host: 'os_compute_api:os-aggregates:add_host',
  remove_host: 'os_compute_api:os-aggregates:remove_host',
  set_metadata: 'os_compute_api:os-aggregates:set_metadata',
} as const satisfies Record<string, ComputePolicy>;

export const FLAVOR_ACTION_POLICIES = {
  addTenantAccess: 'os_compute_api:os-flavor-access:add_tenant_access',
  removeTenantAccess: 'os_compute_api:os-flavor-access:remove_tenant_access',
} as const satisfies Record<string, ComputePolicy>;
