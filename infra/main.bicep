// Jacket on Azure (infra/README.md): a Flex Consumption (FC1) Function App on Node 22, its storage
// account (tables, work queue, page-blob containers, the deployment package container), Key Vault
// for the secrets, Application Insights with a workbook and alert rules, and one user-assigned
// managed identity that does everything — no account key, no connection string with a secret, no
// listKeys anywhere. Deploy into the resource group Jacket manages (networks and NSGs exist there):
//   az deployment group create -g <group> -f infra/main.bicep -p @infra/main.parameters.json
//
// Written to the Azure Verified Modules conventions: every parameter described, `tags` and `location`
// passed to every resource, names derived from one `appName`, role assignments named by guid() of
// scope + principal + role, outputs for what the next step needs.
targetScope = 'resourceGroup'

// ---------------------------------------------------------------------------------------------- parameters

@description('Region of the app, its storage and monitoring, and of the VMs and disks Jacket makes.')
param location string = resourceGroup().location

@description('Function App name, also the prefix of every other resource name and the default host name.')
@minLength(2)
@maxLength(40)
param appName string = 'jacket-${uniqueString(resourceGroup().id)}'

@description('Storage account for tables, the work queue, the page blobs and the deployment package: 3-24 lowercase letters and digits.')
@minLength(3)
@maxLength(24)
param storageAccountName string = 'ops0storage0account'

@description('Key Vault name (3-24 characters); holds the token keys and the bootstrap password.')
@minLength(3)
@maxLength(24)
param keyVaultName string = 'kv-${uniqueString(resourceGroup().id, appName)}'

@description('Node.js version of the Flex Consumption runtime: 22 (the default) or 24 where the region offers it.')
@allowed(['22', '24'])
param nodeVersion string = '22'

@description('Memory of each instance, in MB (Flex Consumption: 512, 2048 or 4096).')
@allowed([512, 2048, 4096])
param instanceMemoryMB int = 2048

@description('Most instances the app scales out to (Flex Consumption: 40-1000).')
@minValue(40)
@maxValue(1000)
param maximumInstanceCount int = 100

@description('Always-ready instances for the HTTP functions (0 = scale from zero; 1 removes the cold start of the API, billed while idle).')
@minValue(0)
param alwaysReadyHttpInstances int = 0

@secure()
@description('Comma-separated base64 token signing keys (32+ bytes each; the first signs). Stored in Key Vault; the app reads it through a Key Vault reference.')
param tokenKeys string

@description('Bootstrap admin user name.')
param bootstrapUsername string = 'admin'

@secure()
@description('Bootstrap admin password. Stored in Key Vault; the app reads it through a Key Vault reference.')
param bootstrapPassword string

@description('The operator catalog (flavors, images, networks, security groups...) as JSON (docs/configuration.md).')
param catalogJson string = '{}'

@description('Region name shown in the service catalog.')
param region string = 'RegionOne'

@description('Prefix of Jacket\'s table names (several deployments can share one account).')
param storagePrefix string = 'jacket'

@description('Name of the work queue (its poison queue is <name>-poison).')
param workQueue string = 'jacket-work'

@description('Timer schedules (NCRONTAB, 6 fields, UTC); the Functions host resolves %JACKET_*_SCHEDULE% from these app settings.')
param schedules object = {
  JACKET_SWEEP_NICS_SCHEDULE: '0 */10 * * * *'
  JACKET_SWEEP_DISKS_SCHEDULE: '0 5-59/10 * * * *'
  JACKET_SWEEP_IMAGES_SCHEDULE: '0 */15 * * * *'
  JACKET_SWEEP_BLOBS_SCHEDULE: '0 7-59/15 * * * *'
  JACKET_SWEEP_VMS_SCHEDULE: '0 2-59/10 * * * *'
  JACKET_RECONCILE_SCHEDULE: '30 */10 * * * *'
  JACKET_RECLAIM_SCHEDULE: '0 * * * * *'
  JACKET_STALE_TASKS_SCHEDULE: '0 */5 * * * *'
  JACKET_RESIZE_CONFIRM_SCHEDULE: '20 * * * * *'
  JACKET_HYPERVISORS_SCHEDULE: '40 */5 * * * *'
}

@description('Further app settings (docs/configuration.md), e.g. {"JACKET_RECLAIM_INSTANCE_INTERVAL": "3600"}.')
param extraSettings object = {}

@description('Alert when one sweep run deletes more than this many resources.')
param sweepDeleteAlertThreshold int = 20

@description('Alert when more than this percentage of API requests fail (5xx) over 15 minutes.')
param errorRateAlertPercent int = 5

@description('E-mail address the alerts go to (empty: the alerts fire in the portal only).')
param alertEmail string = ''

@description('Tags on every resource.')
param tags object = {}

// ---------------------------------------------------------------------------------------------- names

var deploymentContainer = 'app-package'
var blobContainers = ['volumes', 'snapshots', 'images', 'backups', deploymentContainer]
var roles = loadJsonContent('jacket-role.json')
// Built-in roles (https://learn.microsoft.com/azure/role-based-access-control/built-in-roles).
var builtIn = {
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b' // the host's AzureWebJobsStorage needs Owner (blob leases, containers)
  storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
  keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6'
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb'
}

// ---------------------------------------------------------------------------------------------- identity

@description('The one identity of the app: storage (host and Jacket), Key Vault references, ARM, telemetry ingestion.')
resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: '${appName}-id'
  location: location
  tags: tags
}

// ---------------------------------------------------------------------------------------------- storage

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: storageAccountName
  location: location
  tags: tags
  sku: { name: 'Standard_LRS' }
  kind: 'StorageV2'
  properties: {
    minimumTlsVersion: 'TLS1_2'
    allowBlobPublicAccess: false
    supportsHttpsTrafficOnly: true
    // Entra ID only: no account key works, so none can leak.
    allowSharedKeyAccess: false
    defaultToOAuthAuthentication: true
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: storage
  name: 'default'
}

resource containers 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = [for c in blobContainers: {
  parent: blobService
  name: c
  properties: { publicAccess: 'None' }
}]

resource storageRoles 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for r in [builtIn.storageBlobDataOwner, builtIn.storageQueueDataContributor, builtIn.storageTableDataContributor]: {
  name: guid(storage.id, identity.id, r)
  scope: storage
  properties: {
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', r)
  }
}]

// ---------------------------------------------------------------------------------------------- Key Vault

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: keyVaultName
  location: location
  tags: tags
  properties: {
    tenantId: subscription().tenantId
    sku: { family: 'A', name: 'standard' }
    enableRbacAuthorization: true
    enableSoftDelete: true
    enablePurgeProtection: true
    publicNetworkAccess: 'Enabled'
  }
}

resource tokenKeysSecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
  parent: vault
  name: 'jacket-token-keys'
  properties: { value: tokenKeys }
}

resource bootstrapPasswordSecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
  parent: vault
  name: 'jacket-bootstrap-password'
  properties: { value: bootstrapPassword }
}

resource vaultRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault.id, identity.id, builtIn.keyVaultSecretsUser)
  scope: vault
  properties: {
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', builtIn.keyVaultSecretsUser)
  }
}

// ---------------------------------------------------------------------------------------------- monitoring

resource logs 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: '${appName}-logs'
  location: location
  tags: tags
  properties: {
    sku: { name: 'PerGB2018' }
    retentionInDays: 30
  }
}

resource insights 'Microsoft.Insights/components@2020-02-02' = {
  name: '${appName}-insights'
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: logs.id
    // Ingestion with Entra ID only (the identity's Monitoring Metrics Publisher role below).
    DisableLocalAuth: true
  }
}

resource insightsRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(insights.id, identity.id, builtIn.monitoringMetricsPublisher)
  scope: insights
  properties: {
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', builtIn.monitoringMetricsPublisher)
  }
}

resource workbook 'Microsoft.Insights/workbooks@2023-06-01' = {
  name: guid(resourceGroup().id, appName, 'jacket-workbook')
  location: location
  tags: tags
  kind: 'shared'
  properties: {
    displayName: 'Jacket operations'
    category: 'workbook'
    sourceId: insights.id
    serializedData: loadTextContent('workbook.json')
  }
}

module alerts 'alerts.bicep' = {
  name: '${appName}-alerts'
  params: {
    appName: appName
    location: location
    insightsId: insights.id
    sweepDeleteThreshold: sweepDeleteAlertThreshold
    errorRatePercent: errorRateAlertPercent
    email: alertEmail
    tags: tags
  }
}

// ---------------------------------------------------------------------------------------------- ARM access

// Only the actions the driver layer calls (infra/jacket-role.json, kept exact by test/unit/infra-role.test.ts),
// assignable and assigned on this resource group only.
resource driverRole 'Microsoft.Authorization/roleDefinitions@2022-04-01' = {
  name: guid(resourceGroup().id, 'jacket-driver-role')
  properties: {
    roleName: '${roles.roleName} (${resourceGroup().name})'
    description: roles.description
    type: 'CustomRole'
    permissions: [{ actions: roles.actions, notActions: [] }]
    assignableScopes: [resourceGroup().id]
  }
}

resource driverRoleAssignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(resourceGroup().id, identity.id, driverRole.id)
  properties: {
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: driverRole.id
  }
}

// The location-level reads (usages, VM sizes, image versions) live under the subscription.
module regionalReads 'regional-role.bicep' = {
  name: '${appName}-regional-reads'
  scope: subscription()
  params: {
    principalId: identity.properties.principalId
    roleName: '${roles.regionalRoleName} (${resourceGroup().name})'
    description: roles.regionalDescription
    actions: roles.regionalActions
    resourceGroupId: resourceGroup().id
  }
}

// ---------------------------------------------------------------------------------------------- the app

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: '${appName}-plan'
  location: location
  tags: tags
  sku: { name: 'FC1', tier: 'FlexConsumption' }
  kind: 'functionapp'
  properties: { reserved: true }
}

@description('An app setting value the platform resolves from Key Vault with the app\'s identity.')
func kvRef(vaultName string, secret string) string => '@Microsoft.KeyVault(VaultName=${vaultName};SecretName=${secret})'

var jacketSettings = union({
  JACKET_PUBLIC_URL: 'https://${appName}.azurewebsites.net'
  JACKET_REGION: region
  JACKET_STORAGE_PREFIX: storagePrefix
  JACKET_WORK_QUEUE: workQueue
  JACKET_AUTH_MODE: 'builtin'
  JACKET_TOKEN_KEYS: kvRef(vault.name, tokenKeysSecret.name)
  JACKET_BOOTSTRAP_USERNAME: bootstrapUsername
  JACKET_BOOTSTRAP_PASSWORD: kvRef(vault.name, bootstrapPasswordSecret.name)
  JACKET_AZURE_SUBSCRIPTION_ID: subscription().subscriptionId
  JACKET_AZURE_RESOURCE_GROUP: resourceGroup().name
  JACKET_AZURE_LOCATION: location
  JACKET_AZURE_CREDENTIAL: 'default'
  JACKET_STORAGE_ACCOUNT: storage.name
  JACKET_CATALOG: catalogJson
}, schedules, extraSettings)

resource app 'Microsoft.Web/sites@2024-04-01' = {
  name: appName
  location: location
  tags: tags
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: { '${identity.id}': {} }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    keyVaultReferenceIdentity: identity.id
    functionAppConfig: {
      deployment: {
        // `az functionapp deployment source config-zip` puts the package here; the identity reads it.
        storage: {
          type: 'blobContainer'
          value: '${storage.properties.primaryEndpoints.blob}${deploymentContainer}'
          authentication: { type: 'UserAssignedIdentity', userAssignedIdentityResourceId: identity.id }
        }
      }
      scaleAndConcurrency: {
        instanceMemoryMB: instanceMemoryMB
        maximumInstanceCount: maximumInstanceCount
        alwaysReady: alwaysReadyHttpInstances > 0 ? [{ name: 'http', instanceCount: alwaysReadyHttpInstances }] : []
      }
      runtime: { name: 'node', version: nodeVersion }
    }
    siteConfig: {
      minTlsVersion: '1.2'
      // Flex Consumption takes the runtime from functionAppConfig: no FUNCTIONS_WORKER_RUNTIME /
      // FUNCTIONS_EXTENSION_VERSION settings (the platform rejects them).
      appSettings: concat(
        [
          // Identity-based connections as the Functions host reads them (<name>__accountName,
          // __credential, __clientId): the host's own storage, and JACKET_STORAGE — the queue
          // trigger's connection (functions/worker.ts) that Jacket's clients read too (shared/config.ts).
          { name: 'AzureWebJobsStorage__accountName', value: storage.name }
          { name: 'AzureWebJobsStorage__credential', value: 'managedidentity' }
          { name: 'AzureWebJobsStorage__clientId', value: identity.properties.clientId }
          { name: 'JACKET_STORAGE__accountName', value: storage.name }
          { name: 'JACKET_STORAGE__credential', value: 'managedidentity' }
          { name: 'JACKET_STORAGE__clientId', value: identity.properties.clientId }
          // DefaultAzureCredential (ARM, storage, telemetry) picks the user-assigned identity.
          { name: 'AZURE_CLIENT_ID', value: identity.properties.clientId }
          { name: 'APPLICATIONINSIGHTS_CONNECTION_STRING', value: insights.properties.ConnectionString }
          { name: 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING', value: 'ClientId=${identity.properties.clientId};Authorization=AAD' }
          // The package runs bundles (scripts/bundle.mjs): their source maps put the TypeScript file and
          // line in logged stack traces. Costs ~20-35 ms of each cold start (docs/performance.md).
          { name: 'NODE_OPTIONS', value: '--enable-source-maps' }
        ],
        map(items(jacketSettings), s => { name: s.key, value: string(s.value) })
      )
    }
  }
  dependsOn: [storageRoles, vaultRole, insightsRole, containers]
}

// ---------------------------------------------------------------------------------------------- outputs

@description('The Function App name (for `az functionapp deployment source config-zip`).')
output functionAppName string = app.name

@description('Base URL of the OpenStack APIs.')
output publicUrl string = 'https://${appName}.azurewebsites.net'

@description('Keystone v3 endpoint for clouds.yaml (auth_url).')
output identityEndpoint string = 'https://${appName}.azurewebsites.net/identity'

@description('Client id of the app\'s managed identity.')
output identityClientId string = identity.properties.clientId

@description('Key Vault holding the token keys and the bootstrap password.')
output vaultName string = vault.name
