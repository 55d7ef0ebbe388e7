// Neutron's version document (GET /network), the v2.0 resource index (GET /network/v2.0/) and the
// extensions list: only the extensions whose attributes and behaviour Jacket honours.
import type { RequestContext, Route } from '../http/router';
import { json } from '../http/respond';
import { NETWORK_PREFIX, networkRoute, neutronError } from './common';

/** alias -> [name, description, updated], as neutron-lib's api definitions state them. */
const EXTENSIONS: Record<string, [string, string, string]> = {
  'allowed-address-pairs': ['Allowed Address Pairs', 'Provides allowed address pairs', '2013-07-23T10:00:00-00:00'],
  'ext-gw-mode': ['Neutron L3 Configurable external gateway mode', 'Extension of the router abstraction for specifying whether SNAT should occur on the external gateway', '2013-03-28T10:00:00-00:00'],
  'external-net': ['Neutron external network', 'Adds external network attribute to network resource.', '2013-01-14T10:00:00-00:00'],
  'floatingip-pools': ['Floating IP Pools Extension', 'Provides a floating IP pools API.', '2018-03-21T10:00:00-00:00'],
  'filter-validation': ['Filter parameters validation', 'Provides validation on filter parameters.', '2018-07-04T10:00:00-00:00'],
  'net-mtu': ['Network MTU', 'Provides MTU attribute for a network resource.', '2015-03-25T10:00:00-00:00'],
  pagination: ['Pagination support', 'Extension that indicates that pagination is enabled.', '2016-06-12T00:00:00-00:00'],
  'port-security': ['Port Security', 'Provides port security', '2012-07-23T10:00:00-00:00'],
  quota_details: ['Quota details management support', 'Expose functions for quotas usage statistics per project', '2017-02-10T10:00:00-00:00'],
  quotas: ['Quota management support', 'Expose functions for quotas management per project', '2012-07-29T10:00:00-00:00'],
  'project-id': ['project_id field enabled', 'Extension that indicates that project_id field is enabled.', '2016-09-09T09:09:09-09:09'],
  'security-group': ['security-group', 'The security groups extension.', '2012-10-05T10:00:00-00:00'],
  router: ['Neutron L3 Router', 'Router abstraction for basic L3 forwarding between L2 Neutron networks and access to external networks via a NAT gateway.', '2012-07-20T10:00:00-00:00'],
  sorting: ['Sorting support', 'Extension that indicates that sorting is enabled.', '2016-06-12T00:00:00-00:00'],
  'standard-attr-description': ['standard-attr-description', 'Extension to add descriptions to standard attributes', '2016-02-10T10:00:00-00:00'],
};

export const EXTENSION_ALIASES = Object.keys(EXTENSIONS);

const extensionBody = (alias: string) => {
  const [name, description, updated] = EXTENSIONS[alias];
  return { name, alias, description, updated, links: [] };
};

export function networkVersion(publicUrl: string) {
  return { id: 'v2.0', status: 'CURRENT', links: [{ rel: 'self', href: `${publicUrl}${NETWORK_PREFIX}/` }] };
}

const versions = async (ctx: RequestContext) => json({ versions: [networkVersion(ctx.services.config.publicUrl)] });

async function resources(ctx: RequestContext) {
  // Neutron answers the index only at the path with its trailing slash.
  if (!ctx.req.path.endsWith('/')) throw neutronError(404, 'HTTPNotFound', 'The resource could not be found.');
  const base = `${ctx.services.config.publicUrl}${NETWORK_PREFIX}/`;
  const core: [string, string][] = [
    ['subnet', 'subnets'],
    ['network', 'networks'],
    ['port', 'ports'],
  ];
  return json({ resources: core.map(([name, collection]) => ({ name, collection, links: [{ rel: 'self', href: base + collection }] })) });
}

const listExtensions = async () => json({ extensions: EXTENSION_ALIASES.map(extensionBody) });

async function showExtension(ctx: RequestContext) {
  const alias = ctx.params.alias;
  if (!(alias in EXTENSIONS)) throw neutronError(404, 'HTTPNotFound', `Extension with alias ${alias} does not exist`);
  return json({ extension: extensionBody(alias) });
}

export const networkVersionRoutes: Route[] = [
  { name: 'network-versions', method: 'GET', path: '/network', service: 'network', policy: 'public', handler: versions },
  { name: 'network-v20', method: 'GET', path: NETWORK_PREFIX, service: 'network', policy: 'authenticated', handler: resources },
  // Extension listing is not policy-controlled in Neutron: any token will do.
  networkRoute('extensions-list', 'GET', '/extensions', 'authenticated', listExtensions),
  networkRoute('extensions-show', 'GET', '/extensions/{alias}', 'authenticated', showExtension),
];
