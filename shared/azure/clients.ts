// The Azure Resource Manager clients Jacket's production code uses: the real @azure/arm-compute and
// @azure/arm-network clients. Only the endpoint and credential change between Azure and the local
// ARM emulator (JACKET_ARM_ENDPOINT, JACKET_AZURE_CREDENTIAL=static, JACKET_ARM_CA_CERT).
import { readFileSync } from 'node:fs';
import https from 'node:https';
import { ComputeManagementClient } from '@azure/arm-compute';
import { NetworkManagementClient } from '@azure/arm-network';
import { DefaultAzureCredential } from '@azure/identity';
import type { TokenCredential } from '@azure/core-auth';
import type { PipelinePolicy } from '@azure/core-rest-pipeline';
import type { JacketConfig } from '../config';
import { armThrottlePolicy } from '../metrics';

export interface AzureClients {
  compute: ComputeManagementClient;
  network: NetworkManagementClient;
}

/** A fixed bearer token, for the local ARM emulator only (it checks that one is sent). */
export const staticCredential: TokenCredential = {
  getToken: async () => ({ token: 'jacket-local-emulator', expiresOnTimestamp: Date.now() + 3600 * 1000 }),
};

/** Trusts an extra CA (the emulator's self-signed certificate) for ARM calls only. */
function trustPolicy(caPath: string): PipelinePolicy {
  const agent = new https.Agent({ ca: readFileSync(caPath), keepAlive: true });
  return {
    name: 'jacketTrustArmCa',
    sendRequest: (req, next) => {
      req.agent = agent;
      return next(req);
    },
  };
}

export function createAzureClients(cfg: JacketConfig): AzureClients {
  const a = cfg.azure;
  const credential = a.credential === 'static' ? staticCredential : new DefaultAzureCredential();
  const additionalPolicies: { policy: PipelinePolicy; position: 'perCall' | 'perRetry' }[] = a.armCaCertPath ? [{ policy: trustPolicy(a.armCaCertPath), position: 'perCall' as const }] : [];
  additionalPolicies.push({ policy: armThrottlePolicy(), position: 'perRetry' }); // the 429 metric (shared/metrics.ts)
  return {
    compute: new ComputeManagementClient(credential, a.subscriptionId, { endpoint: a.armEndpoint, additionalPolicies }),
    network: new NetworkManagementClient(credential, a.subscriptionId, { endpoint: a.armEndpoint, additionalPolicies }),
  };
}
