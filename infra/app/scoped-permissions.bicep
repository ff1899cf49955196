// One scoped role of the app (main.bicep, scopedRoles) in one resource group the rules' bounds allow.

targetScope = 'resourceGroup'

@description('The app identity.')
param principalId string

@description('GUID of the scoped custom role (engine-role.bicep).')
param roleGuid string

@description('What the assignment is for.')
param assignmentDescription string

resource assignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(resourceGroup().id, principalId, roleGuid)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleGuid)
    principalId: principalId
    principalType: 'ServicePrincipal'
    description: assignmentDescription
  }
}
