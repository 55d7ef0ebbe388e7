// Cinder's version documents: GET /volume and GET /volume/v3 both answer the list of versions, as
// cinder/api/versions.py does; only v3 is served.
import type { RequestContext, Route } from '../http/router';
import type { JacketConfig } from '../config';
import { json } from '../http/respond';
import { VOLUME } from '../api/microversion';

export function volumeVersion(cfg: JacketConfig) {
  return {
    id: 'v3.0',
    links: [
      { href: 'https://docs.openstack.org/', rel: 'describedby', type: 'text/html' },
      { href: `${cfg.publicUrl}/volume/v3/`, rel: 'self' },
    ],
    'media-types': [{ base: 'application/json', type: 'application/vnd.openstack.volume+json;version=3' }],
    min_version: VOLUME.min,
    status: 'CURRENT',
    updated: '2023-08-31T00:00:00Z',
    version: VOLUME.max,
  };
}

// Cinder answers the unversioned root with 300 Multiple Choices.
const list = async (ctx: RequestContext) => json({ versions: [volumeVersion(ctx.services.config)] }, 300);
const show = async (ctx: RequestContext) => json({ versions: [volumeVersion(ctx.services.config)] });

export const volumeVersionRoutes: Route[] = [
  { name: 'volume-versions', method: 'GET', path: '/volume', service: 'volume', policy: 'public', handler: list },
  { name: 'volume-version-v3', method: 'GET', path: '/volume/v3', service: 'volume', versioned: VOLUME, policy: 'public', handler: show },
];
