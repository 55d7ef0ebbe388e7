// Neutron's policies that Jacket enforces, with upstream's defaults (neutron/conf/policies/*.py,
// 2025.x). Reads are ADMIN_OR_PROJECT_READER (or the network/group owner's reader, or shared) ->
// 'project_reader_or_admin'; writes ADMIN_OR_PROJECT_MEMBER / ADMIN_OR_NET_OWNER_MEMBER /
// ADMIN_OR_SG_OWNER_MEMBER -> 'project_member_or_admin'. The shared/owner alternatives are the
// visibility filter (visibleTo in shared/network/common.ts). Neutron's extensions list has no policy.
import type { PolicyDefaults } from '../api/rules';

export const NETWORK_POLICIES = {
  // network.py
  get_network: 'project_reader_or_admin',
  create_network: 'project_member_or_admin',
  update_network: 'project_member_or_admin',
  delete_network: 'project_member_or_admin',
  // subnet.py
  get_subnet: 'project_reader_or_admin',
  create_subnet: 'project_member_or_admin',
  update_subnet: 'project_member_or_admin',
  delete_subnet: 'project_member_or_admin',
  // port.py
  get_port: 'project_reader_or_admin',
  create_port: 'project_member_or_admin',
  update_port: 'project_member_or_admin',
  delete_port: 'project_member_or_admin',
  // security_group.py
  get_security_group: 'project_reader_or_admin',
  create_security_group: 'project_member_or_admin',
  update_security_group: 'project_member_or_admin',
  delete_security_group: 'project_member_or_admin',
  get_security_group_rule: 'project_reader_or_admin',
  create_security_group_rule: 'project_member_or_admin',
  delete_security_group_rule: 'project_member_or_admin',
  // floatingip.py
  get_floatingip: 'project_reader_or_admin',
  create_floatingip: 'project_member_or_admin',
  update_floatingip: 'project_member_or_admin',
  delete_floatingip: 'project_member_or_admin',
  // router.py
  get_router: 'project_reader_or_admin',
  create_router: 'project_member_or_admin',
  update_router: 'project_member_or_admin',
  delete_router: 'project_member_or_admin',
  add_router_interface: 'project_member_or_admin',
  remove_router_interface: 'project_member_or_admin',
  // quotas.py (the target project is checked by the controller: a member reads only their own)
  get_quota: 'project_reader_or_admin',
  update_quota: 'admin',
  delete_quota: 'admin',
} as const satisfies PolicyDefaults;

export type NetworkPolicy = keyof typeof NETWORK_POLICIES;
