// Every Glance route Jacket serves, below /image.
import type { Route } from '../http/router';
import { glanceVersionRoutes } from './api/versions';
import { glanceImageRoutes } from './api/images';
import { glanceDataRoutes } from './api/data';
import { glanceImageActionRoutes } from './api/actions';
import { glanceMetadefRoutes } from './api/metadefs';

export const imageRoutes: Route[] = [...glanceVersionRoutes, ...glanceImageRoutes, ...glanceDataRoutes, ...glanceImageActionRoutes, ...glanceMetadefRoutes];
