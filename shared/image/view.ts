// Glance v2 image bodies (glance/api/v2/images.py ResponseSerializer): core attributes, then the extra
// properties at the top level; relative self/file/schema links as Glance writes them.
import type { ImageRecord } from './model';

export function imageView(img: ImageRecord): Record<string, unknown> {
  return {
    ...img.properties,
    id: img.id,
    name: img.name,
    status: img.status,
    visibility: img.visibility,
    protected: img.protected,
    os_hidden: img.os_hidden,
    checksum: img.checksum,
    os_hash_algo: img.os_hash_algo,
    os_hash_value: img.os_hash_value,
    owner: img.owner,
    size: img.size,
    virtual_size: img.virtual_size,
    min_disk: img.min_disk,
    min_ram: img.min_ram,
    container_format: img.container_format,
    disk_format: img.disk_format,
    created_at: img.created_at,
    updated_at: img.updated_at,
    tags: img.tags,
    self: `/v2/images/${img.id}`,
    file: `/v2/images/${img.id}/file`,
    schema: '/v2/schemas/image',
  };
}
