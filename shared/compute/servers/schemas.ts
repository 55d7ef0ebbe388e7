import type { SchemaByVersion } from '../../api/validation';
import { badRequest } from '../../http/errors';
// Request schemas of the server API, equivalent to Nova's servers.create / servers.update by
// microversion (nova/api/openstack/compute/schemas/servers.py and the create extensions merged into it
// at 2.1): 2.19 adds the description.
const BOOLEAN_LIKE = [true, 'True', 'TRUE', 'true', '1', 'ON', 'On', 'on', 'YES', 'Yes', 'yes', false, 'False', 'FALSE', 'false', '0', 'OFF', 'Off', 'off', 'NO', 'No', 'no'];
/**
 * parameter_types.boolean: a JSON boolean or one of oslo's spellings of one (read with `truthy`, below).
 * The one copy for every compute schema (server actions, volume attachments); it is defined here, above
 * its first use, rather than beside `truthy`.
 */
export const booleanLike = { type: ['boolean', 'string'], enum: BOOLEAN_LIKE };
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

/**
 * parameter_types.description: null, or up to 255 printable characters of the Basic Multilingual Plane
 * (Nova's _is_printable: no Unicode category C*, and of Z* only Zs, the spaces).
 */
export const description = { type: ['string', 'null'], minLength: 0, maxLength: 255, pattern: '^(?:(?![\\p{C}\\p{Zl}\\p{Zp}])[\\u0000-\\ufffe])*$' };

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

/** A copy of a schema `{ <key>: { properties } }` without some properties of its object (2.57 drops personality). */
export const withoutProperties = (schema: object, key: string, names: string[]): object => {
  const outer = schema as { properties: Record<string, { properties: Record<string, unknown> }> };
  const inner = outer.properties[key];
  const props = Object.fromEntries(Object.entries(inner.properties).filter(([k]) => !names.includes(k)));
  return { ...outer, properties: { ...outer.properties, [key]: { ...inner, properties: props } } };
};

/** A copy of a schema `{ <key>: { properties } }` with more properties in its object. */
export const withProperties = (schema: object, key: string, extra: Record<string, unknown>): object => {
  const outer = schema as { properties: Record<string, { properties: Record<string, unknown> }> };
  const inner = outer.properties[key];
  return { ...outer, properties: { ...outer.properties, [key]: { ...inner, properties: { ...inner.properties, ...extra } } } };
};

/** parameter_types.tag: a device tag (2.32). */
const deviceTag = { type: 'string', minLength: 1, maxLength: 60, pattern: '^[^,/]*$' };

/** create_v219 with a `tag` on the items of networks (2.32-2.36) and of block_device_mapping_v2 (2.32 only). */
function withDeviceTags(networks: boolean, bdms: boolean): object {
  const base = withProperties(createServerSchema, 'server', { description }) as typeof createServerSchema;
  const server = base.properties.server;
  const props = server.properties;
  return {
    ...base,
    properties: {
      ...base.properties,
      server: {
        ...server,
        properties: {
          ...props,
          ...(networks ? { networks: { ...props.networks, items: { ...props.networks.items, properties: { ...props.networks.items.properties, tag: deviceTag } } } } : {}),
          ...(bdms ? { block_device_mapping_v2: { ...props.block_device_mapping_v2, items: { ...blockDeviceMappingV2, properties: { ...blockDeviceMappingV2.properties, tag: deviceTag } } } } : {}),
        },
      },
    },
  };
}

/**
 * create_v237: `networks` is required, and is either the list (its items without a `tag` again, and
 * with a uuid-formatted `uuid`: Nova's schema, the tag coming back at 2.42) or "auto" / "none".
 */
function createV237(): object {
  const base = withDeviceTags(false, false) as typeof createServerSchema;
  const server = base.properties.server;
  const items = server.properties.networks.items;
  return {
    ...base,
    properties: {
      ...base.properties,
      server: {
        ...server,
        required: [...server.required, 'networks'],
        properties: {
          ...server.properties,
          networks: {
            oneOf: [
              { type: 'array', items: { ...items, properties: { ...items.properties, uuid: { type: 'string', format: 'uuid' } } } },
              { type: 'string', enum: ['none', 'auto'] },
            ],
          },
        },
      },
    },
  };
}

/**
 * create_v242: create_v237 with the device `tag` back on the networks list items
 * and on block_device_mapping_v2 items (a tagged create's build then aborts, as at 2.32).
 */
function createV242(): object {
  const base = createV237() as { properties: { server: { properties: Record<string, any> } } }; // eslint-disable-line @typescript-eslint/no-explicit-any
  const server = base.properties.server;
  const [list, words] = server.properties.networks.oneOf;
  return {
    ...base,
    properties: {
      ...base.properties,
      server: {
        ...server,
        properties: {
          ...server.properties,
          networks: { oneOf: [{ ...list, items: { ...list.items, properties: { ...list.items.properties, tag: deviceTag } } }, words] },
          block_device_mapping_v2: { ...server.properties.block_device_mapping_v2, items: { ...blockDeviceMappingV2, properties: { ...blockDeviceMappingV2.properties, tag: deviceTag } } },
        },
      },
    },
  };
}

/** create_v252: create_v242 with `tags` (Nova's server tags, at most 50, each 1-60 characters without '/' or ','). */
function createV252(): object {
  const base = createV242() as { properties: { server: { properties: Record<string, unknown> } } };
  const tags = { type: 'array', items: { type: 'string', minLength: 1, maxLength: 60, pattern: '^[^,/]*$' }, maxItems: 50 };
  return { ...base, properties: { ...base.properties, server: { ...base.properties.server, properties: { ...base.properties.server.properties, tags } } } };
}

/** parameter_types.trusted_certs (2.63): 1-50 distinct non-empty ids, or null (on rebuild: unset them). */
export const trustedCerts = { type: ['array', 'null'], minItems: 1, maxItems: 50, uniqueItems: true, items: { type: 'string', minLength: 1 } };

/**
 * parameter_types.fqdn: a host name (underscores allowed), 1-255 characters. One constant for every
 * schema taking it: 2.74's host / hypervisor_hostname, 2.94's hostname, evacuate's and live migrate's host.
 */
export const fqdn = { type: 'string', minLength: 1, maxLength: 255, pattern: '^[a-zA-Z0-9-._]*$' };

/** parameter_types.hostname (2.90's server hostname): 2-63 letters, digits and '-', not starting or ending with '-'. */
export const hostname = { type: 'string', minLength: 2, maxLength: 63, pattern: '^[a-zA-Z0-9]+[a-zA-Z0-9-]*[a-zA-Z0-9]+$' };

/**
 * create_v267: block_device_mapping_v2 items take `volume_type` (parameter_types.volume_type: a string
 * of at most 255 or null), the Cinder type of a volume the create makes (../bootVolume.ts checkVolumeTypes).
 */
function withBdmVolumeType(base: object): object {
  const b = base as { properties: { server: { properties: Record<string, any> } } }; // eslint-disable-line @typescript-eslint/no-explicit-any
  const server = b.properties.server;
  const bdm = server.properties.block_device_mapping_v2;
  const items = { ...bdm.items, properties: { ...bdm.items.properties, volume_type: { type: ['string', 'null'], minLength: 0, maxLength: 255 } } };
  return { ...b, properties: { ...b.properties, server: { ...server, properties: { ...server.properties, block_device_mapping_v2: { ...bdm, items } } } } };
}

/** create_v263: create_v257 with `trusted_image_certificates`. */
const createV263 = () => withProperties(withoutProperties(createV252(), 'server', ['personality']), 'server', { trusted_image_certificates: trustedCerts });

/** create_v274: create_v267 with 2.74's requested destination. */
const createV274 = () => withProperties(withBdmVolumeType(createV263()), 'server', { host: fqdn, hypervisor_hostname: fqdn });

/**
 * servers.create by microversion: create_v219 the description; create_v232 device tags on networks and
 * block_device_mapping_v2; create_v233 drops the block device's (Nova's bug, restored at 2.42);
 * create_v237 `networks` required, "auto" or "none" (and no tags); create_v242 the device tags back;
 * create_v252 the server's `tags`; create_v257 no `personality` (file injection left the API); create_v263
 * `trusted_image_certificates`; create_v267 `volume_type` on block_device_mapping_v2 items; create_v274
 * `host` and `hypervisor_hostname`; create_v290 `hostname` (parameter_types.hostname), create_v294 the
 * same as parameter_types.fqdn.
 */
export const createServerSchemas: SchemaByVersion = [
  ['2.1', createServerSchema],
  ['2.19', withProperties(createServerSchema, 'server', { description })],
  ['2.32', withDeviceTags(true, true)],
  ['2.33', withDeviceTags(true, false)],
  ['2.37', createV237()],
  ['2.42', createV242()],
  ['2.52', createV252()],
  ['2.57', withoutProperties(createV252(), 'server', ['personality'])],
  ['2.63', createV263()],
  ['2.67', withBdmVolumeType(createV263())],
  // create_v274: the requested destination, host and hypervisor_hostname (parameter_types.fqdn).
  ['2.74', createV274()],
  // create_v290: the server's hostname; create_v294: which may be an FQDN.
  ['2.90', withProperties(createV274(), 'server', { hostname })],
  ['2.94', withProperties(createV274(), 'server', { hostname: fqdn })],
];

/** servers.update by microversion (update_v219: the description; update_v290 the hostname, update_v294 an FQDN one). */
export const updateServerSchemas: SchemaByVersion = [
  ['2.1', updateServerSchema],
  ['2.19', withProperties(updateServerSchema, 'server', { description })],
  ['2.90', withProperties(updateServerSchema, 'server', { description, hostname })],
  ['2.94', withProperties(updateServerSchema, 'server', { description, hostname: fqdn })],
];

export interface CreateServerBody {
  server: {
    name: string;
    imageRef?: string;
    flavorRef: string | number;
    adminPass?: string;
    metadata?: Record<string, string>;
    /** tag: 2.32-2.36; "auto" or "none": 2.37 */
    networks?: { uuid?: string; fixed_ip?: string; port?: string | null; tag?: string }[] | 'auto' | 'none';
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
    /** 2.19 */
    description?: string | null;
    /** 2.52 */
    tags?: string[];
    /** 2.63 */
    trusted_image_certificates?: string[] | null;
    /** 2.74 */
    host?: string;
    hypervisor_hostname?: string;
    /** 2.90 (an FQDN from 2.94) */
    hostname?: string;
  };
}

export interface UpdateServerBody {
  server: { name?: string; 'OS-DCF:diskConfig'?: 'AUTO' | 'MANUAL'; accessIPv4?: string; accessIPv6?: string; description?: string | null; hostname?: string };
}

/** oslo strutils.bool_from_string for the values the schema admits. */
export const truthy = (v: boolean | string | undefined) => v === true || (typeof v === 'string' && ['true', '1', 'on', 'yes'].includes(v.toLowerCase()));

/**
 * oslo strutils.bool_from_string(v, strict=True): the query filters that refuse anything else (2.73's
 * `locked`) say so in oslo's words, as Nova's InvalidInput does.
 */
export function strictBool(v: string): boolean {
  const t = v.trim().toLowerCase();
  if (['1', 't', 'true', 'on', 'y', 'yes'].includes(t)) return true;
  if (['0', 'f', 'false', 'off', 'n', 'no'].includes(t)) return false;
  throw badRequest(`Invalid input received: Unrecognized value '${v}', acceptable values are: '0', '1', 'f', 'false', 'n', 'no', 'off', 'on', 't', 'true', 'y', 'yes'`);
}

/** The eight 16-bit words of an IPv6 address (with an optional dotted IPv4 tail), or undefined. */
function ipv6Words(v: string): number[] | undefined {
  const halves = v.split('::');
  if (halves.length > 2) return undefined;
  const groups = (h: string): number[] | undefined => {
    if (h === '') return [];
    const out: number[] = [];
    const parts = h.split(':');
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i];
      if (i === parts.length - 1 && p.includes('.')) {
        const q = p.split('.');
        if (q.length !== 4 || !q.every((x) => /^\d{1,3}$/.test(x) && Number(x) <= 255)) return undefined;
        out.push(Number(q[0]) * 256 + Number(q[1]), Number(q[2]) * 256 + Number(q[3]));
      } else if (/^[0-9a-f]{1,4}$/i.test(p)) out.push(parseInt(p, 16));
      else return undefined;
    }
    return out;
  };
  const head = groups(halves[0]);
  const tail = halves.length === 2 ? groups(halves[1]) : [];
  if (!head || !tail) return undefined;
  if (halves.length === 1) return head.length === 8 ? head : undefined;
  const fill = 8 - head.length - tail.length;
  return fill >= 1 ? [...head, ...Array<number>(fill).fill(0), ...tail] : undefined;
}

/**
 * An IPv6 address as Nova stores and shows it: the Instance object's IPV6AddressField coerces with
 * netaddr.IPAddress, whose str() is the C library's inet_ntop (glibc): lowercase hex without leading
 * zeros, the first longest run of two or more zero words as `::`, and a dotted IPv4 tail when the first
 * six words are zero (`::1.2.3.4`) or the address is IPv4-mapped (`::ffff:1.2.3.4`). So
 * `2001:DB8:0:0::1` → `2001:db8::1` and `0:0:0:0:0:FFFF:102:304` → `::ffff:1.2.3.4`. The schema has
 * validated the address already; anything this parser does not read is only lowercased.
 */
export function canonicalIpv6(v: string): string {
  const w = ipv6Words(v);
  if (!w) return v.toLowerCase();
  let best = { base: -1, len: 0 };
  for (let i = 0; i < 8;) {
    if (w[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && w[j] === 0) j++;
    if (j - i > best.len) best = { base: i, len: j - i };
    i = j;
  }
  if (best.len < 2) best = { base: -1, len: 0 };
  const dotted = best.base === 0 && (best.len === 6 || (best.len === 5 && w[5] === 0xffff));
  let out = '';
  for (let i = 0; i < 8; i++) {
    if (i >= best.base && i < best.base + best.len) {
      if (i === best.base) out += ':';
      continue;
    }
    if (i !== 0) out += ':';
    if (i === 6 && dotted) return `${out}${w[6] >> 8}.${w[6] & 255}.${w[7] >> 8}.${w[7] & 255}`;
    out += w[i].toString(16);
  }
  if (best.base !== -1 && best.base + best.len === 8) out += ':';
  return out;
}
