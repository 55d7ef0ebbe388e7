// Glance's policies that Jacket enforces, with upstream's defaults (glance/policies/image.py, 2025.x):
// "rule:context_is_admin or (role:reader and project_id:%(project_id)s ...)" -> 'project_reader_or_admin',
// the role:member forms -> 'project_member_or_admin', context_is_admin -> 'admin'. The visibility
// alternatives (shared, community, public images) are the visibility filter in shared/image/model.ts.
import type { PolicyDefaults } from '../api/rules';

export const IMAGE_POLICIES = {
  get_images: 'project_reader_or_admin',
  get_image: 'project_reader_or_admin',
  add_image: 'project_member_or_admin',
  modify_image: 'project_member_or_admin',
  delete_image: 'project_member_or_admin',
  upload_image: 'project_member_or_admin',
  download_image: 'project_member_or_admin',
  publicize_image: 'admin',
  communitize_image: 'project_member_or_admin',
  // deactivate/reactivate: base.ADMIN (api-ref: "restricted to administrators only")
  deactivate: 'admin',
  reactivate: 'admin',
  // Metadata definitions (glance/policies/metadef.py): reading namespaces is for readers of a project
  // or the admin. Jacket defines none (shared/image/api/metadefs.ts).
  get_metadef_namespaces: 'project_reader_or_admin',
  get_metadef_namespace: 'project_reader_or_admin',
} as const satisfies PolicyDefaults;

export type ImagePolicy = keyof typeof IMAGE_POLICIES;
