// The server action route. Action modules register themselves on import: add one import line each.
import type { Route } from '../../../http/router';
import { computeRoute } from '../../common';
import { dispatchServerAction, serverActionPolicy } from './registry';
import './power';
import './lifecycle';
import '../api/unsupported';
import './resize';
import './image';
import './password';
import './console';
import './rebuild';
import './deferredDelete';

export const serverActionRoutes: Route[] = [computeRoute('servers-action', 'POST', '/servers/{server_id}/action', serverActionPolicy, dispatchServerAction)];
