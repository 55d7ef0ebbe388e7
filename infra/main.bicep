// Jacket on Azure: the Function App (Node 20, Functions v4), its storage account (tables, work queue,
// page-blob containers), Application Insights, and a managed identity allowed to manage the VMs,
// disks and NICs of this resource group. Deploy into the resource group Jacket manages:
//   az deployment group create -g ops_resource_group -f infra/main.bicep -p tokenKeys=... bootstrapPassword=...
targetScope = 'resourceGroup'

@description('Region of the app and of the VMs and disks it makes.')
param location string = resourceGroup().location

@description('Function App name (also the default host name).')
param appName string = 'jacket-${uniqueString(resourceGroup().id)}'

@description('Storage account for tables, queue and page blobs: 3-24 lowercase letters and digits.')
@minLength(3)
@maxLength(24)
param storageAccountName string = 'ops0storage0account'

@secure()
@description('Comma-separated base64 token signing keys (32+ bytes each); the first signs.')
param tokenKeys string

@description('Bootstrap admin user name.')
param bootstrapUsername string = 'admin'

@secure()
@description('Bootstrap admin password.')
param bootstrapPassword string

@description('The operator catalog (flavors, images, networks, security groups...) as JSON.')
param catalogJson string = '{}'

var blobContainers = ['volumes', 'snapshots', 'images', 'backups']

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: storageAccountName
  location: location
  sku: { name: 'Standard_LRS' }
  kind: 'StorageV2'
  properties: {
    minimumTlsVersion: 'TLS1_2'
    allowBlobPublicAccess: false
    supportsHttpsTrafficOnly: true
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

resource logs 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: '${appName}-logs'
  location: location
  properties: {
    sku: { name: 'PerGB2018' }
    retentionInDays: 30
  }
}

resource insights 'Microsoft.Insights/components@2020-02-02' = {
  name: '${appName}-insights'
  location: location
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: logs.id
  }
}

resource plan 'Microsoft.Web/serverfarms@2023-12-01' = {
  name: '${appName}-plan'
  location: location
  sku: { name: 'Y1', tier: 'Dynamic' }
  kind: 'functionapp'
  properties: { reserved: true }
}

var storageConnection = 'DefaultEndpointsProtocol=https;AccountName=${storage.name};AccountKey=${storage.listKeys().keys[0].value};EndpointSuffix=${environment().suffixes.storage}'

resource app 'Microsoft.Web/sites@2023-12-01' = {
  name: appName
  location: location
  kind: 'functionapp,linux'
  identity: { type: 'SystemAssigned' }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    siteConfig: {
      linuxFxVersion: 'Node|20'
      minTlsVersion: '1.2'
      ftpsState: 'Disabled'
      appSettings: [
        { name: 'FUNCTIONS_EXTENSION_VERSION', value: '~4' }
        { name: 'FUNCTIONS_WORKER_RUNTIME', value: 'node' }
        { name: 'AzureWebJobsStorage', value: storageConnection }
        { name: 'APPLICATIONINSIGHTS_CONNECTION_STRING', value: insights.properties.ConnectionString }
        { name: 'JACKET_PUBLIC_URL', value: 'https://${appName}.azurewebsites.net' }
        { name: 'JACKET_STORAGE_CONNECTION_STRING', value: storageConnection }
        { name: 'JACKET_WORK_QUEUE', value: 'jacket-work' }
        { name: 'JACKET_TOKEN_KEYS', value: tokenKeys }
        { name: 'JACKET_BOOTSTRAP_USERNAME', value: bootstrapUsername }
        { name: 'JACKET_BOOTSTRAP_PASSWORD', value: bootstrapPassword }
        { name: 'JACKET_AZURE_SUBSCRIPTION_ID', value: subscription().subscriptionId }
        { name: 'JACKET_AZURE_RESOURCE_GROUP', value: resourceGroup().name }
        { name: 'JACKET_AZURE_LOCATION', value: location }
        { name: 'JACKET_STORAGE_ACCOUNT', value: storage.name }
        { name: 'JACKET_CATALOG', value: catalogJson }
        // The Functions host resolves the timer triggers' %SETTING% schedules from app settings itself,
        // so they must be present here (Jacket's own defaults are not visible to the host).
        { name: 'JACKET_SWEEP_NICS_SCHEDULE', value: '0 */10 * * * *' }
        { name: 'JACKET_SWEEP_DISKS_SCHEDULE', value: '0 5-59/10 * * * *' }
        { name: 'JACKET_SWEEP_IMAGES_SCHEDULE', value: '0 */15 * * * *' }
        { name: 'JACKET_SWEEP_BLOBS_SCHEDULE', value: '0 7-59/15 * * * *' }
        { name: 'JACKET_SWEEP_VMS_SCHEDULE', value: '0 2-59/10 * * * *' }
        { name: 'JACKET_RECONCILE_SCHEDULE', value: '30 */10 * * * *' }
        { name: 'JACKET_RECLAIM_SCHEDULE', value: '0 * * * * *' }
        { name: 'JACKET_STALE_TASKS_SCHEDULE', value: '0 */5 * * * *' }
        { name: 'JACKET_RESIZE_CONFIRM_SCHEDULE', value: '20 * * * * *' }
        { name: 'JACKET_HYPERVISORS_SCHEDULE', value: '40 */5 * * * *' }
      ]
    }
  }
}

// Contributor on this resource group only: VMs, disks, snapshots, images, NICs and NSG reads.
var contributorRoleId = 'b24988ac-6180-42a0-ab88-20f7382dd24c'
resource appCanManageGroup 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(resourceGroup().id, app.id, contributorRoleId)
  properties: {
    principalId: app.identity.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', contributorRoleId)
  }
}

output publicUrl string = 'https://${appName}.azurewebsites.net'
output identityEndpoint string = 'https://${appName}.azurewebsites.net/identity'
