// Every Nova route Jacket serves, one module per resource (add a module's routes here).
import type { Route } from '../http/router';
import { computeVersionRoutes } from './versions';
import { flavorRoutes } from './flavors';
import { flavorExtraSpecRoutes } from './flavorExtraSpecs';
import { flavorAccessRoutes } from './flavorAccess';
import { availabilityZoneRoutes } from './availabilityZones';
import { extensionRoutes } from './extensions';
import { keypairRoutes } from './keypairs';
import { quotaRoutes } from './quotas';
import { limitsRoutes } from './limits';
import { imageRoutes } from './images';
import { imageMetadataRoutes } from './imageMetadata';
import { serverRoutes } from './servers/servers';
import { serverActionRoutes } from './servers/actions';
import { serverDiagnosticsRoutes } from './servers/diagnostics';
import { instanceActionRoutes } from './servers/instanceActionsApi';
import { unsupportedServerRoutes } from './servers/actions/unsupported';
import { serverMetadataRoutes } from './serverMetadata';
import { serverAddressRoutes } from './serverAddresses';
import { serverPasswordRoutes } from './serverPassword';
import { virtualInterfaceRoutes } from './virtualInterfaces';
import { simpleTenantUsageRoutes } from './simpleTenantUsage';
import { hypervisorRoutes } from './hypervisors';
import { volumeAttachmentRoutes } from './volumeAttachments';

export const computeRoutes: Route[] = [
  ...hypervisorRoutes,
  ...computeVersionRoutes,
  ...flavorRoutes,
  ...flavorExtraSpecRoutes,
  ...flavorAccessRoutes,
  ...availabilityZoneRoutes,
  ...extensionRoutes,
  ...keypairRoutes,
  ...quotaRoutes,
  ...limitsRoutes,
  ...imageRoutes,
  ...imageMetadataRoutes,
  ...serverRoutes,
  ...serverActionRoutes,
  ...serverDiagnosticsRoutes,
  ...instanceActionRoutes,
  ...unsupportedServerRoutes,
  ...serverMetadataRoutes,
  ...serverAddressRoutes,
  ...serverPasswordRoutes,
  ...virtualInterfaceRoutes,
  ...simpleTenantUsageRoutes,
  ...volumeAttachmentRoutes,
];
