// One scoped role of the app (main.bicep, scopedRoles) on one Cosmos DB account a profile names
// literally: Cosmos DB SQL role assignments there and nowhere else in its resource group.

targetScope = 'resourceGroup'

@description('The app identity.')
param principalId string

@description('The Cosmos DB account (in this resource group).')
param accountName string

@description('GUID of the scoped custom role (engine-role.bicep).')
param roleGuid string

@description('What the assignment is for.')
param assignmentDescription string

resource account 'Microsoft.DocumentDB/databaseAccounts@2024-11-15' existing = {
  name: accountName
}

resource assignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(account.id, principalId, roleGuid)
  scope: account
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleGuid)
    principalId: principalId
    principalType: 'ServicePrincipal'
    description: assignmentDescription
  }
}
