// Placement's policies that Jacket enforces, with upstream's defaults (placement/policies/*.py, 2025.x):
// the provider APIs are ADMIN_OR_SERVICE (`role:admin or role:service`: Nova's own service account
// reads them), 'admin_or_service' in Jacket's rule vocabulary (shared/api/rules.ts). The write policies are listed so their 403 names them:
// Jacket's providers mirror Azure's capacity and only Jacket's own timer writes them, so these are
// refused for everyone, as an operator disables an API by setting its rule to "!" (docs/placement.md).
import type { PolicyDefaults } from '../api/rules';

export const PLACEMENT_POLICIES = {
  'placement:resource_providers:list': 'admin_or_service',
  'placement:resource_providers:show': 'admin_or_service',
  'placement:resource_providers:create': 'admin_or_service',
  'placement:resource_providers:update': 'admin_or_service',
  'placement:resource_providers:delete': 'admin_or_service',
  'placement:resource_providers:inventories:list': 'admin_or_service',
  'placement:resource_providers:inventories:show': 'admin_or_service',
  'placement:resource_providers:inventories:create': 'admin_or_service',
  'placement:resource_providers:inventories:update': 'admin_or_service',
  'placement:resource_providers:inventories:delete': 'admin_or_service',
  'placement:resource_providers:usages': 'admin_or_service',
  'placement:resource_providers:aggregates:list': 'admin_or_service',
  'placement:resource_providers:aggregates:update': 'admin_or_service',
  'placement:resource_providers:traits:list': 'admin_or_service',
  'placement:resource_providers:traits:update': 'admin_or_service',
  'placement:resource_providers:traits:delete': 'admin_or_service',
  'placement:resource_providers:allocations:list': 'admin_or_service',
  'placement:allocations:list': 'admin_or_service',
  'placement:allocations:manage': 'admin_or_service',
  'placement:allocation_candidates:list': 'admin_or_service',
  // usage.py TOTAL_USAGES: ADMIN_OR_PROJECT_READER_OR_SERVICE (a project reader sees their own project's)
  'placement:usages': 'project_reader_or_admin_or_service',
  'placement:allocations:update': 'admin_or_service',
  'placement:allocations:delete': 'admin_or_service',
  'placement:resource_classes:list': 'admin_or_service',
  'placement:resource_classes:show': 'admin_or_service',
  'placement:resource_classes:create': 'admin_or_service',
  'placement:resource_classes:update': 'admin_or_service',
  'placement:resource_classes:delete': 'admin_or_service',
  'placement:traits:list': 'admin_or_service',
  'placement:traits:show': 'admin_or_service',
  'placement:traits:update': 'admin_or_service',
  'placement:traits:delete': 'admin_or_service',
} as const satisfies PolicyDefaults;

export type PlacementPolicy = keyof typeof PLACEMENT_POLICIES;

/** The writes Jacket's Placement refuses to everyone (rule "!"), with the 403 Placement words. */
export const REFUSED_WRITES = new Set<PlacementPolicy>([
  'placement:resource_providers:create',
  'placement:resource_providers:update',
  'placement:resource_providers:delete',
  'placement:resource_providers:inventories:create',
  'placement:resource_providers:inventories:update',
  'placement:resource_providers:inventories:delete',
  'placement:resource_providers:aggregates:update',
  'placement:resource_providers:traits:update',
  'placement:resource_providers:traits:delete',
  'placement:allocations:update',
  'placement:allocations:manage',
  'placement:allocations:delete',
  'placement:resource_classes:create',
  'placement:resource_classes:update',
  'placement:resource_classes:delete',
  'placement:traits:update',
  'placement:traits:delete',
]);
