// Every Neutron route Jacket serves under /network.
import type { Route } from '../http/router';
import { networkVersionRoutes } from './versions';
import { networkReadRoutes } from './networks';
import { securityGroupReadRoutes, securityGroupWriteRoutes } from './securityGroups';
import { networkQuotaRoutes } from './quotas';
import { floatingIpRoutes } from './floatingIps';
import { routerRoutes } from './routers';
import { portReadRoutes, portWriteRoutes } from './ports';
import { networkWriteRoutes } from './writes';

export const networkRoutes: Route[] = [
  ...networkVersionRoutes,
  ...networkReadRoutes,
  ...securityGroupReadRoutes,
  ...portReadRoutes,
  ...portWriteRoutes,
  ...networkWriteRoutes,
  ...securityGroupWriteRoutes,
  ...networkQuotaRoutes,
  ...floatingIpRoutes,
  ...routerRoutes,
];
