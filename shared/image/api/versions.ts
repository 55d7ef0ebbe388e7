// Glance's version document (glance/api/versions.py): GET /image and /image/v2 answer 300 Multiple
// Choices with the versions list, GET /image/versions 200. Jacket serves the v2 API as of v2.0 core
// (no import, members, tasks or stores APIs), so that is the one version it lists.
import type { RequestContext, Route } from '../../http/router';
import { json } from '../../http/respond';

function versions(ctx: RequestContext) {
  return {
    versions: [{ id: 'v2.0', status: 'CURRENT', links: [{ rel: 'self', href: `${ctx.services.config.publicUrl}/image/v2/` }] }],
  };
}

const route = (name: string, path: string, status: number): Route => ({
  name: `image-${name}`,
  method: 'GET',
  path,
  service: 'image',
  policy: 'public',
  handler: async (ctx) => json(versions(ctx), status),
});

export const glanceVersionRoutes: Route[] = [route('versions-root', '/image', 300), route('versions-v2', '/image/v2', 300), route('versions', '/image/versions', 200)];
