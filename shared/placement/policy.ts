// Placement's policies that Jacket enforces, with upstream's defaults (placement/policies/*.py, 2025.x):
// the provider APIs are ADMIN_OR_SERVICE (`role:admin or role:service`), which Jacket's rule vocabulary
// serves with 'admin' (shared/api/rules.ts). The write policies are listed so their 403 names them:
// Jacket's providers mirror Azure's capacity and only Jacket's own timer writes them, so these are
// refused for everyone, as an operator disables an API by setting its rule to "!" (docs/placement.md).
import type { PolicyDefaults } from '../api/rules';

export const PLACEMENT_POLICIES = {
  'placement:resource_providers:list': 'admin',
  'placement:resource_providers:show': 'admin',
  'placement:resource_providers:create': 'admin',
  'placement:resource_providers:update': 'admin',
  'placement:resource_providers:delete': 'admin',
  'placement:resource_providers:inventories:list': 'admin',
  'placement:resource_providers:inventories:show': 'admin',
  'placement:resource_providers:inventories:create': 'admin',
  'placement:resource_providers:inventories:update': 'admin',
  'placement:resource_providers:inventories:delete': 'admin',
  'placement:resource_providers:usages': 'admin',
  'placement:resource_providers:aggregates:list': 'admin',
  'placement:resource_providers:aggregates:update': 'admin',
  'placement:resource_providers:traits:list': 'admin',
  'placement:resource_providers:traits:update': 'admin',
  'placement:resource_providers:traits:delete': 'admin',
  'placement:resource_providers:allocations:list': 'admin',
  'placement:allocations:list': 'admin',
  'placement:allocations:manage': 'admin',
  'placement:allocation_candidates:list': 'admin',
  // usage.py TOTAL_USAGES: ADMIN_OR_PROJECT_READER_OR_SERVICE (a project reader sees their own project's)
  'placement:usages': 'project_reader_or_admin',
  'placement:allocations:update': 'admin',
  'placement:allocations:delete': 'admin',
  'placement:resource_classes:list': 'admin',
  'placement:resource_classes:show': 'admin',
  'placement:resource_classes:create': 'admin',
  'placement:resource_classes:update': 'admin',
  'placement:resource_classes:delete': 'admin',
  'placement:traits:list': 'admin',
  'placement:traits:show': 'admin',
  'placement:traits:update': 'admin',
  'placement:traits:delete': 'admin',
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
