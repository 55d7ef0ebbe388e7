// Request schemas of the server API at 2.1, equivalent to Nova's servers.create / servers.update
// (nova/api/openstack/compute/schemas/servers.py and the create extensions merged into it at 2.1).
const BOOLEAN_LIKE = [true, 'True', 'TRUE', 'true', '1', 'ON', 'On', 'on', 'YES', 'Yes', 'yes', false, 'False', 'FALSE', 'false', '0', 'OFF', 'Off', 'off', 'NO', 'No', 'no'];
const booleanLike = { type: ['boolean', 'string'], enum: BOOLEAN_LIKE };
const name = { type: 'string', format: 'name', minLength: 1, maxLength: 255 };
const positiveCount = { type: ['integer', 'string'], pattern: '^[0-9]*$', minimum: 1, minLength: 1 };
const uuid = { type: 'string', format: 'uuid' };
const volumeSize = { type: ['integer', 'string'], pattern: '^[0-9]+$', minimum: 1, maximum: 2147483647 };
const deviceName = { type: 'string', minLength: 1, maxLength: 255, pattern: '^[a-zA-Z0-9._/-]*$' };

const blockDeviceMapping = {
  type: 'object',
  additionalProperties: false,
  properties: {
    virtual_name: { type: 'string', maxLength: 255 },
    volume_id: uuid,
    snapshot_id: uuid,
    volume_size: volumeSize,
    device_name: deviceName,
    delete_on_termination: booleanLike,
    no_device: {},
    connection_info: { type: 'string', maxLength: 16777215 },
  },
};

const blockDeviceMappingV2 = {
  type: 'object',
  additionalProperties: false,
  properties: {
    ...blockDeviceMapping.properties,
    source_type: { type: 'string', enum: ['volume', 'image', 'snapshot', 'blank'] },
    uuid: { type: 'string', minLength: 1, maxLength: 255, pattern: '^[a-zA-Z0-9._-]*$' },
    image_id: uuid,
    destination_type: { type: 'string', enum: ['local', 'volume'] },
    guest_format: { type: 'string', maxLength: 255 },
    device_type: { type: 'string', maxLength: 255 },
    disk_bus: { type: 'string', maxLength: 255 },
    boot_index: { type: ['integer', 'string', 'null'], pattern: '^-?[0-9]+$' },
  },
};

const schedulerHints = {
  type: 'object',
  additionalProperties: true,
  properties: {
    group: { oneOf: [uuid, { type: 'array', items: uuid }] },
    different_host: { oneOf: [uuid, { type: 'array', items: uuid }] },
    same_host: { type: ['string', 'array'], items: uuid },
    query: { type: ['string', 'object'] },
    target_cell: { type: 'string', format: 'name', minLength: 1, maxLength: 255 },
    different_cell: { type: ['string', 'array'], items: { type: 'string' } },
    build_near_host_ip: { type: 'string', oneOf: [{ format: 'ipv4' }, { format: 'ipv6' }] },
    cidr: { type: 'string', pattern: '^/[0-9a-f.:]+$' },
  },
};

/** servers.create at 2.1-2.18. */
export const createServerSchema = {
  type: 'object',
  required: ['server'],
  additionalProperties: false,
  properties: {
    server: {
      type: 'object',
      required: ['name', 'flavorRef'],
      additionalProperties: false,
      properties: {
        name,
        imageRef: { oneOf: [uuid, { type: 'string', maxLength: 0 }] },
        flavorRef: { type: ['string', 'integer'], minLength: 1 },
        adminPass: { type: 'string' },
        metadata: { type: 'object', patternProperties: { '^[a-zA-Z0-9-_:. ]{1,255}$': { type: 'string', maxLength: 255 } }, additionalProperties: false },
        networks: {
          type: 'array',
          items: {
            type: 'object',
            additionalProperties: false,
            properties: {
              fixed_ip: { type: 'string', oneOf: [{ format: 'ipv4' }, { format: 'ipv6' }] },
              port: { type: ['string', 'null'], format: 'uuid' },
              uuid: { type: 'string' },
            },
          },
        },
        'OS-DCF:diskConfig': { type: 'string', enum: ['AUTO', 'MANUAL'] },
        accessIPv4: { type: 'string', format: 'ipv4' },
        accessIPv6: { type: 'string', format: 'ipv6' },
        personality: {
          type: 'array',
          items: { type: 'object', additionalProperties: false, properties: { path: { type: 'string' }, contents: { type: 'string', format: 'base64' } } },
        },
        availability_zone: name,
        block_device_mapping: { type: 'array', items: blockDeviceMapping },
        block_device_mapping_v2: { type: 'array', items: blockDeviceMappingV2 },
        config_drive: booleanLike,
        key_name: name,
        min_count: positiveCount,
        max_count: positiveCount,
        return_reservation_id: booleanLike,
        security_groups: { type: 'array', items: { type: 'object', additionalProperties: false, properties: { name } } },
        user_data: { type: 'string', format: 'base64', maxLength: 65535 },
      },
    },
    'os:scheduler_hints': schedulerHints,
    'OS-SCH-HNT:scheduler_hints': schedulerHints,
  },
};

/** servers.update at 2.1-2.18. */
export const updateServerSchema = {
  type: 'object',
  required: ['server'],
  additionalProperties: false,
  properties: {
    server: {
      type: 'object',
      additionalProperties: false,
      properties: {
        name,
        'OS-DCF:diskConfig': { type: 'string', enum: ['AUTO', 'MANUAL'] },
        accessIPv4: { type: 'string', format: 'ipv4' },
        accessIPv6: { type: 'string', format: 'ipv6' },
      },
    },
  },
};

export interface CreateServerBody {
  server: {
    name: string;
    imageRef?: string;
    flavorRef: string | number;
    adminPass?: string;
    metadata?: Record<string, string>;
    networks?: { uuid?: string; fixed_ip?: string; port?: string | null }[];
    'OS-DCF:diskConfig'?: 'AUTO' | 'MANUAL';
    accessIPv4?: string;
    accessIPv6?: string;
    personality?: { path?: string; contents?: string }[];
    availability_zone?: string;
    block_device_mapping?: unknown[];
    block_device_mapping_v2?: unknown[];
    config_drive?: boolean | string;
    key_name?: string;
    min_count?: number | string;
    max_count?: number | string;
    return_reservation_id?: boolean | string;
    security_groups?: { name?: string }[];
    user_data?: string;
  };
}

export interface UpdateServerBody {
  server: { name?: string; 'OS-DCF:diskConfig'?: 'AUTO' | 'MANUAL'; accessIPv4?: string; accessIPv6?: string };
}

/** oslo strutils.bool_from_string for the values the schema admits. */
export const truthy = (v: boolean | string | undefined) => v === true || (typeof v === 'string' && ['true', '1', 'on', 'yes'].includes(v.toLowerCase()));

/**
 * An IPv6 address as Nova stores and shows it: nova/db/types.py IPAddress binds str(netaddr.IPAddress(v)),
 * the compressed lowercase form (RFC 5952: `2001:DB8:0:0::1` → `2001:db8::1`). Node's WHATWG URL
 * serialises an IPv6 host the same way; an address with an embedded IPv4 part keeps its dotted tail,
 * as netaddr does, and is only lowercased. The schema has validated the address already.
 */
export function canonicalIpv6(v: string): string {
  if (v === '' || v.includes('.')) return v.toLowerCase();
  try {
    return new URL(`http://[${v}]/`).hostname.slice(1, -1);
  } catch {
    return v.toLowerCase();
  }
}
