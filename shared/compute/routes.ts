// Every Nova route Jacket serves, one module per resource (add a module's routes here).
import type { Route } from '../http/router';
import { computeVersionRoutes } from './versions';

export const computeRoutes: Route[] = [
  ...computeVersionRoutes,
];
