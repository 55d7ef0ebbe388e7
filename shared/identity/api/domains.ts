// /v3/domains: Jacket has the one default domain, readable by any authenticated user.
import type { RequestContext, Route } from '../../http/router';
import { json } from '../../http/respond';
import { DEFAULT_DOMAIN } from '../model';
import { domainBody, domainOr404, identityRoute, listLinks } from './common';

async function list(ctx: RequestContext) {
  const name = ctx.query.get('name');
  const domains = name === null || name === DEFAULT_DOMAIN.name ? [domainBody(ctx.services.config)] : [];
  return json({ domains, links: listLinks(ctx.services.config, '/domains') });
}

async function show(ctx: RequestContext) {
  domainOr404(ctx.params.domain_id);
  return json({ domain: domainBody(ctx.services.config) });
}

export const domainRoutes: Route[] = [
  identityRoute('domains-list', 'GET', '/domains', 'identity:list_domains', list),
  identityRoute('domains-show', 'GET', '/domains/{domain_id}', 'identity:get_domain', show),
];
