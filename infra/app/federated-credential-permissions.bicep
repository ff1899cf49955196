// The federated credential writer (federatedIdentityCredentials read/write only) in one resource group
// where the rules create AKS workload identities.

targetScope = 'resourceGroup'

@description('The app identity.')
param principalId string

@description('GUID of the federated credential writer custom role (engine-role.bicep).')
param roleGuid string

resource writer 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(resourceGroup().id, principalId, roleGuid)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleGuid)
    principalId: principalId
    principalType: 'ServicePrincipal'
    description: 'identity-autopilot: federated credentials of the AKS workload identities it creates here'
  }
}
