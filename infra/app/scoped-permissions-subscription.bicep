// One scoped role of the app (main.bicep, scopedRoles) at a whole governed subscription: only where the
// rules' wildcards leave no narrower bound (`infra:params` prints a warning for each).

targetScope = 'subscription'

@description('The app identity.')
param principalId string

@description('GUID of the scoped custom role (engine-role.bicep).')
param roleGuid string

@description('What the assignment is for.')
param assignmentDescription string

resource assignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(subscription().id, principalId, roleGuid)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleGuid)
    principalId: principalId
    principalType: 'ServicePrincipal'
    description: assignmentDescription
  }
}
