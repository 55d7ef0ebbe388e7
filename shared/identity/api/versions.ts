// Keystone's version documents: GET /identity (the list) and GET /identity/v3.
import type { RequestContext, Route } from '../../http/router';
import type { JacketConfig } from '../../config';
import { json } from '../../http/respond';

function v3(cfg: JacketConfig) {
  return {
    id: 'v3.14',
    status: 'stable',
    updated: '2020-04-07T00:00:00Z',
    links: [{ rel: 'self', href: `${cfg.publicUrl}/identity/v3/` }],
    'media-types': [{ base: 'application/json', type: 'application/vnd.openstack.identity-v3+json' }],
  };
}

const list = async (ctx: RequestContext) => json({ versions: { values: [v3(ctx.services.config)] } }, 300);
const show = async (ctx: RequestContext) => json({ version: v3(ctx.services.config) });

export const identityVersionRoutes: Route[] = [
  { name: 'identity-versions', method: 'GET', path: '/identity', service: 'identity', policy: 'public', handler: list },
  { name: 'identity-version-v3', method: 'GET', path: '/identity/v3', service: 'identity', policy: 'public', handler: show },
];
