// The location-level reads Jacket needs (regional usage, VM sizes, marketplace image versions): ARM
// serves them under /subscriptions/{id}/providers/Microsoft.Compute/locations/..., outside any resource
// group, so this read-only role is defined and assigned on the subscription. Deployed by main.bicep.
targetScope = 'subscription'

@description('Principal (object) id of the app\'s managed identity.')
param principalId string

@description('Display name of the role.')
param roleName string

@description('Description of the role.')
param description string

@description('The read actions (infra/jacket-role.json regionalActions).')
param actions array

@description('Resource id of Jacket\'s resource group (makes the role and assignment names unique per deployment).')
param resourceGroupId string

resource role 'Microsoft.Authorization/roleDefinitions@2022-04-01' = {
  name: guid(resourceGroupId, 'jacket-regional-reads')
  properties: {
    roleName: roleName
    description: description
    type: 'CustomRole'
    permissions: [{ actions: actions, notActions: [] }]
    assignableScopes: [subscription().id]
  }
}

resource assignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(resourceGroupId, principalId, role.id)
  properties: {
    principalId: principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: role.id
  }
}
