// Glance's metadata definitions catalog (glance/api/v2/metadef_namespaces.py), as much of it as a
// client reads: one read-only namespace (below). Horizon asks for the namespaces of a resource type
// on the Images page and in the Launch Instance wizard (python-glanceclient first reads
// /v2/schemas/metadefs/namespace to build its model); without these routes those panels failed.
// Creating or changing namespaces is not supported (the routes fall through to 404, as for any
// unknown path).
import type { RequestContext, Route } from '../../http/router';
import type { ApiResponse } from '../../http/types';
import { json } from '../../http/respond';
import { notFound } from '../../http/errors';
import { imageRoute } from './common';

const readOnly = (type: unknown, description: string, extra: Record<string, unknown> = {}) => ({ type, readOnly: true, description, ...extra });

/** GET /v2/schemas/metadefs/namespace: Glance's namespace schema (get_schema), its core properties. */
export function namespaceSchema(): Record<string, unknown> {
  return {
    name: 'namespace',
    properties: {
      namespace: { type: 'string', maxLength: 80, description: 'The unique namespace text.' },
      display_name: { type: 'string', maxLength: 80, description: 'The user friendly name for the namespace. Used by UI if available.' },
      description: { type: 'string', maxLength: 500, description: 'Provides a user friendly description of the namespace.' },
      visibility: { type: 'string', enum: ['public', 'private'], description: 'Scope of namespace accessibility.' },
      protected: { type: 'boolean', description: 'If true, namespace will not be deletable.' },
      owner: { type: 'string', maxLength: 255, description: 'Owner of the namespace.' },
      created_at: readOnly('string', 'Date and time of namespace creation', { format: 'date-time' }),
      updated_at: readOnly('string', 'Date and time of the last namespace modification', { format: 'date-time' }),
      schema: readOnly('string', 'The schema of the namespace'),
      self: readOnly('string', 'The URL of the namespace'),
      resource_type_associations: {
        type: 'array',
        items: { type: 'object', properties: { name: { type: 'string' }, prefix: { type: 'string' }, properties_target: { type: 'string' } } },
      },
      properties: { type: 'object', additionalProperties: true },
      objects: { type: 'array', items: { type: 'object', additionalProperties: true } },
      tags: { type: 'array', items: { type: 'object', properties: { name: { type: 'string' } } } },
    },
    required: ['namespace'],
    additionalProperties: false,
  };
}

/** GET /v2/schemas/metadefs/namespaces: the list body's schema (get_collection_schema). */
export function namespacesSchema(): Record<string, unknown> {
  return {
    name: 'namespaces',
    properties: {
      namespaces: { type: 'array', items: namespaceSchema() },
      first: { type: 'string' },
      next: { type: 'string' },
      schema: { type: 'string' },
    },
    links: [
      { rel: 'first', href: '{first}' },
      { rel: 'next', href: '{next}' },
      { rel: 'describedby', href: '{schema}' },
    ],
  };
}

// The one namespace Jacket serves. Horizon 27 cannot take an empty answer: for the namespaces of a
// resource type it fetches each one in a thread pool sized by their count, and a pool of zero threads
// raises (openstack_dashboard/api/glance.py metadefs_namespace_full_list), so the Images page and the
// Launch Instance wizard showed "Internal Server Error" with no namespaces. Real Glance always has
// some (glance-manage db_load_metadefs); Jacket has one, with no properties: it names the resource
// types Horizon asks about.
const NAMESPACE = 'OS::Jacket::Azure';
const CREATED = '2024-01-01T00:00:00Z';
const ASSOCIATIONS: { name: string; properties_target?: string }[] = [
  { name: 'OS::Glance::Image' },
  { name: 'OS::Nova::Flavor' },
  { name: 'OS::Nova::Server', properties_target: 'metadata' },
  { name: 'OS::Nova::Server', properties_target: 'scheduler_hints' },
  { name: 'OS::Cinder::Volume', properties_target: 'image' },
  { name: 'OS::Cinder::Volumes' },
];

function namespaceView(): Record<string, unknown> {
  return {
    namespace: NAMESPACE,
    display_name: 'Azure (Jacket)',
    description: 'Resources Jacket serves on Azure. Jacket defines no metadata keys here; a flavor names its Azure VM size in the extra spec azure:vm_size.',
    visibility: 'public',
    protected: true,
    owner: 'admin',
    resource_type_associations: ASSOCIATIONS.map((a) => ({ name: a.name, ...(a.properties_target ? { properties_target: a.properties_target } : {}), created_at: CREATED })),
    created_at: CREATED,
    updated_at: CREATED,
    self: `/v2/metadefs/namespaces/${NAMESPACE}`,
    schema: '/v2/schemas/metadefs/namespace',
  };
}

/** GET /v2/metadefs/namespaces: Jacket's namespace, filtered by resource_types and visibility. */
async function list(ctx: RequestContext) {
  const types = (ctx.query.get('resource_types') ?? '')
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t !== '');
  const visibility = ctx.query.get('visibility');
  const matches = (types.length === 0 || types.some((t) => ASSOCIATIONS.some((a) => a.name === t))) && (!visibility || visibility === 'public');
  return json({ namespaces: matches ? [namespaceView()] : [], first: '/v2/metadefs/namespaces', schema: '/v2/schemas/metadefs/namespaces' });
}

/** GET /v2/metadefs/namespaces/{namespace}: Jacket's one namespace (no properties or objects), else Glance's 404. */
async function show(ctx: RequestContext): Promise<ApiResponse> {
  if (ctx.params.namespace !== NAMESPACE) throw notFound(`Metadata definition namespace=${ctx.params.namespace} was not found.`);
  return json(namespaceView());
}

export const glanceMetadefRoutes: Route[] = [
  imageRoute('metadefs-namespaces-list', 'GET', '/v2/metadefs/namespaces', 'get_metadef_namespaces', list),
  imageRoute('metadefs-namespaces-show', 'GET', '/v2/metadefs/namespaces/{namespace}', 'get_metadef_namespace', show),
  // Glance serves its schemas to any authenticated caller, without a policy of their own.
  imageRoute('schemas-metadefs-namespace', 'GET', '/v2/schemas/metadefs/namespace', 'authenticated', async () => json(namespaceSchema())),
  imageRoute('schemas-metadefs-namespaces', 'GET', '/v2/schemas/metadefs/namespaces', 'authenticated', async () => json(namespacesSchema())),
];
