// The JSON Schemas Glance serves at /v2/schemas/image and /v2/schemas/images (core API since v2.0).
// Clients build their image model from them: python-glanceclient (and so Horizon) wraps every image
// it lists or shows in a model validated against /v2/schemas/image, so the schema must describe
// exactly what Jacket's image view (./view.ts) returns — Jacket's formats and visibilities, its
// read-only attributes, string-valued extra properties — or the client rejects Jacket's own answers.
// The shape (name, properties, additionalProperties, links) is Glance's (glance/api/v2/images.py
// get_schema / get_collection_schema); the values are Jacket's.
import type { ImageStatus } from './model';

/** The formats Jacket stores (Glance's configurable disk_formats/container_formats lists). */
export const DISK_FORMATS = ['raw', 'vhd'];
export const CONTAINER_FORMATS = ['bare'];

const UUID_PATTERN = '^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$';
const STATUSES: ImageStatus[] = ['queued', 'saving', 'active', 'killed', 'deleted', 'pending_delete', 'deactivated', 'uploading', 'importing'];
const readOnly = (type: unknown, description: string, extra: Record<string, unknown> = {}) => ({ type, readOnly: true, description, ...extra });

/** The attributes of an image (Glance's base properties, restricted to what Jacket stores). */
function imageProperties(): Record<string, unknown> {
  return {
    id: { type: 'string', pattern: UUID_PATTERN, description: 'An identifier for the image' },
    name: { type: ['null', 'string'], maxLength: 255, description: 'Descriptive name for the image' },
    status: readOnly('string', 'Status of the image', { enum: STATUSES }),
    visibility: { type: 'string', enum: ['community', 'public', 'private', 'shared'], description: 'Scope of image accessibility' },
    protected: { type: 'boolean', description: 'If true, image will not be deletable.' },
    os_hidden: { type: 'boolean', description: 'If true, image will not appear in default image list response.' },
    checksum: readOnly(['null', 'string'], 'md5 hash of image contents.', { maxLength: 32 }),
    os_hash_algo: readOnly(['null', 'string'], 'Algorithm to calculate the os_hash_value', { maxLength: 64 }),
    os_hash_value: readOnly(['null', 'string'], 'Hexdigest of the image contents using the algorithm specified by the os_hash_algo', { maxLength: 128 }),
    owner: { type: ['null', 'string'], maxLength: 255, description: 'Owner of the image' },
    size: readOnly(['null', 'integer'], 'Size of image file in bytes'),
    virtual_size: readOnly(['null', 'integer'], 'Virtual size of image in bytes'),
    container_format: { type: ['null', 'string'], enum: [null, ...CONTAINER_FORMATS], description: 'Format of the container' },
    disk_format: { type: ['null', 'string'], enum: [null, ...DISK_FORMATS], description: 'Format of the disk' },
    created_at: readOnly('string', 'Date and time of image registration'),
    updated_at: readOnly('string', 'Date and time of the last image modification'),
    tags: { type: 'array', items: { type: 'string', maxLength: 255 }, description: 'List of strings related to the image' },
    direct_url: readOnly('string', 'URL to access the image file kept in external store'),
    min_ram: { type: 'integer', description: 'Amount of ram (in MB) required to boot image.' },
    min_disk: { type: 'integer', description: 'Amount of disk space (in GB) required to boot image.' },
    self: readOnly('string', 'An image self url'),
    file: readOnly('string', 'An image file url'),
    schema: readOnly('string', 'An image schema url'),
  };
}

/** GET /v2/schemas/image. */
export function imageSchema(): Record<string, unknown> {
  return {
    name: 'image',
    properties: imageProperties(),
    // Extra properties are strings, as Glance stores them (./api/images.ts refuses other types).
    additionalProperties: { type: 'string' },
    links: [
      { rel: 'self', href: '{self}' },
      { rel: 'enclosure', href: '{file}' },
      { rel: 'describedby', href: '{schema}' },
    ],
  };
}

/** GET /v2/schemas/images: the list body (images, first/next links, schema). */
export function imagesSchema(): Record<string, unknown> {
  return {
    name: 'images',
    properties: {
      images: { type: 'array', items: imageSchema() },
      schema: { type: 'string' },
      first: { type: 'string' },
      next: { type: 'string' },
    },
    links: [
      { rel: 'first', href: '{first}' },
      { rel: 'next', href: '{next}' },
      { rel: 'describedby', href: '{schema}' },
    ],
  };
}
