// The one route table. functions/http.ts registers it with Azure Functions; local/host.ts serves it.
import type { RequestContext, Route } from './http/router';
import { Router } from './http/router';
import { json } from './http/respond';
import { identityRoutes } from './identity/routes';
import { computeVersion } from './compute/versions';
import { volumeVersion } from './volume/versions';
import { computeRoutes } from './compute/routes';
import { volumeRoutes } from './volume/routes';
import { imageRoutes } from './image/routes';
import { networkRoutes } from './network/routes';
import { placementRoutes } from './placement/api';

// GET /: the versions of both APIs served here, for people and tools that start at the root.
const root = async (ctx: RequestContext) => json({ versions: [computeVersion(ctx.services.config, false), volumeVersion(ctx.services.config)] }, 300);

export const routes: Route[] = [
  { name: 'root-versions', method: 'GET', path: '/', service: 'root', policy: 'public', handler: root },
  ...identityRoutes,
  ...computeRoutes,
  ...volumeRoutes,
  ...imageRoutes,
  ...networkRoutes,
  ...placementRoutes,
];

export const router = new Router(routes);
