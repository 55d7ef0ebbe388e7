// Every Cinder route Jacket serves, one module per resource (add a module's routes here).
import type { Route } from '../http/router';
import { volumeVersionRoutes } from './versions';
import { blockStorageRoutes } from './blockStorage';

export const volumeRoutes: Route[] = [...volumeVersionRoutes, ...blockStorageRoutes];
