// The federated credential writer at a whole governed subscription: only when the rules create AKS
// workload identities beside their clusters in resource groups named by wildcards.

targetScope = 'subscription'

@description('The app identity.')
param principalId string

@description('GUID of the federated credential writer custom role (engine-role.bicep).')
param roleGuid string

resource writer 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(subscription().id, principalId, roleGuid)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleGuid)
    principalId: principalId
    principalType: 'ServicePrincipal'
    description: 'identity-autopilot: federated credentials of the AKS workload identities it creates in this subscription'
  }
}
