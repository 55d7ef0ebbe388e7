// Every Neutron route Jacket serves (the v2.0 read subset under /network).
import type { Route } from '../http/router';
import { networkVersionRoutes } from './versions';
import { networkReadRoutes } from './networks';
import { securityGroupReadRoutes } from './securityGroups';
import { portReadRoutes } from './ports';
import { networkWriteRoutes } from './writes';

export const networkRoutes: Route[] = [...networkVersionRoutes, ...networkReadRoutes, ...securityGroupReadRoutes, ...portReadRoutes, ...networkWriteRoutes];
