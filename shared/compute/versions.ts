// Nova's version documents: GET /compute (list) and GET /compute/v2.1. Only v2.1 is served; the
// legacy v2.0 API is not, so it is not listed.
import type { RequestContext, Route } from '../http/router';
import type { JacketConfig } from '../config';
import { json } from '../http/respond';
import { COMPUTE } from '../api/microversion';

export function computeVersion(cfg: JacketConfig, full: boolean) {
  const v: Record<string, unknown> = {
    id: 'v2.1',
    links: [{ href: `${cfg.publicUrl}/compute/v2.1/`, rel: 'self' }],
    status: 'CURRENT',
    version: COMPUTE.max,
    min_version: COMPUTE.min,
    updated: '2013-07-23T11:33:21Z',
  };
  if (full) {
    (v.links as unknown[]).push({ href: 'http://docs.openstack.org/', rel: 'describedby', type: 'text/html' });
    v['media-types'] = [{ base: 'application/json', type: 'application/vnd.openstack.compute+json;version=2.1' }];
  }
  return v;
}

const list = async (ctx: RequestContext) => json({ versions: [computeVersion(ctx.services.config, false)] });
const show = async (ctx: RequestContext) => json({ version: computeVersion(ctx.services.config, true) });

export const computeVersionRoutes: Route[] = [
  { name: 'compute-versions', method: 'GET', path: '/compute', service: 'compute', policy: 'public', handler: list },
  { name: 'compute-version-v21', method: 'GET', path: '/compute/v2.1', service: 'compute', versioned: COMPUTE, policy: 'public', handler: show },
];
