// Every Nova route Jacket serves, one module per resource (add a module's routes here).
import type { Route } from '../http/router';
import { computeVersionRoutes } from './versions';
import { flavorRoutes } from './flavors/api';
import { flavorExtraSpecRoutes } from './flavors/extraSpecs';
import { flavorAccessRoutes } from './flavors/access';
import { availabilityZoneRoutes } from './zones/api';
import { extensionRoutes } from './extensions/api';
import { keypairRoutes } from './keypairs/api';
import { serverGroupRoutes } from './serverGroups/api';
import { quotaRoutes } from './quotas/api';
import { limitsRoutes } from './quotas/limits';
import { imageRoutes } from './images/api';
import { imageMetadataRoutes } from './images/metadata';
import { serverRoutes } from './servers/api/servers';
import { serverActionRoutes } from './servers/actions';
import { serverDiagnosticsRoutes } from './servers/api/diagnostics';
import { serverTopologyRoutes } from './servers/api/topology';
import { instanceActionRoutes } from './servers/api/instanceActions';
import { unsupportedServerRoutes } from './servers/api/unsupported';
import { interfaceRoutes } from './servers/api/interfaces';
import { serverMetadataRoutes } from './servers/api/metadata';
import { serverAddressRoutes } from './servers/api/addresses';
import { serverPasswordRoutes } from './servers/api/password';
import { virtualInterfaceRoutes } from './servers/api/virtualInterfaces';
import { simpleTenantUsageRoutes } from './usage/api';
import { instanceUsageAuditLogRoutes } from './usage/auditLog';
import { hypervisorRoutes } from './hypervisors/api';
import { computeServiceRoutes } from './services/api';
import { hostRoutes } from './hosts/api';
import { aggregateRoutes } from './aggregates/api';
import { serverExternalEventRoutes } from './externalEvents/api';
import { volumeAttachmentRoutes } from './servers/api/volumeAttachments';
import { serverMigrationRoutes } from './servers/api/migrations';
import { migrationRoutes } from './migrations/api';
import { serverTagRoutes } from './servers/api/tags';
import { volumesBootRoutes } from './servers/api/volumesBoot';
import { serverShareRoutes } from './servers/api/shares';
import { consoleAuthTokenRoutes } from './consoleAuthTokens/api';
import { novaFloatingIpRoutes } from './network/floatingIps';
import { novaSecurityGroupRoutes } from './network/securityGroups';
import { fixedIpRoutes } from './network/fixedIps';

export const computeRoutes: Route[] = [
  ...hypervisorRoutes,
  ...novaFloatingIpRoutes,
  ...novaSecurityGroupRoutes,
  ...fixedIpRoutes,
  ...computeServiceRoutes,
  ...hostRoutes,
  ...aggregateRoutes,
  ...serverExternalEventRoutes,
  ...computeVersionRoutes,
  ...flavorRoutes,
  ...flavorExtraSpecRoutes,
  ...flavorAccessRoutes,
  ...availabilityZoneRoutes,
  ...extensionRoutes,
  ...keypairRoutes,
  ...serverGroupRoutes,
  ...quotaRoutes,
  ...limitsRoutes,
  ...imageRoutes,
  ...imageMetadataRoutes,
  ...serverRoutes,
  ...serverActionRoutes,
  ...volumesBootRoutes,
  ...serverDiagnosticsRoutes,
  ...serverTopologyRoutes,
  ...instanceActionRoutes,
  ...unsupportedServerRoutes,
  ...interfaceRoutes,
  ...serverMetadataRoutes,
  ...serverAddressRoutes,
  ...serverPasswordRoutes,
  ...virtualInterfaceRoutes,
  ...simpleTenantUsageRoutes,
  ...instanceUsageAuditLogRoutes,
  ...volumeAttachmentRoutes,
  ...serverMigrationRoutes,
  ...migrationRoutes,
  ...serverTagRoutes,
  ...serverShareRoutes,
  ...consoleAuthTokenRoutes,
];
