// Every Keystone route Jacket serves.
import type { Route } from '../http/router';
import { identityVersionRoutes } from './api/versions';
import { tokenRoutes } from './api/tokens';
import { projectRoutes } from './api/projects';
import { userRoutes } from './api/users';
import { roleRoutes } from './api/roles';
import { domainRoutes } from './api/domains';
import { applicationCredentialRoutes } from './api/applicationCredentials';

export const identityRoutes: Route[] = [...identityVersionRoutes, ...tokenRoutes, ...projectRoutes, ...userRoutes, ...applicationCredentialRoutes, ...roleRoutes, ...domainRoutes];
