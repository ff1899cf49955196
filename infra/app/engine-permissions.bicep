// The engine's access in one governed subscription: its custom role, and Role Based Access Control
// Administrator limited by an ABAC condition to the roles the rules hand out, to service principals.

targetScope = 'subscription'

@description('The app identity.')
param principalId string

@description('GUID of the engine custom role (engine-role.bicep).')
param engineRoleGuid string

@description('ABAC condition from scripts/infra/permissions.ts; empty when no profile grants a role.')
param roleAssignmentCondition string

// Role Based Access Control Administrator: can only write/delete role assignments, and the condition
// narrows that to the listed role definitions.
var rbacAdministratorRoleId = 'f58310d9-a9f6-439a-9e8d-f62e7b41a168'

resource engineRoleAssignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(subscription().id, principalId, engineRoleGuid)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', engineRoleGuid)
    principalId: principalId
    principalType: 'ServicePrincipal'
    description: 'identity-autopilot engine'
  }
}

resource delegatedAssignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(roleAssignmentCondition)) {
  name: guid(subscription().id, principalId, rbacAdministratorRoleId)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', rbacAdministratorRoleId)
    principalId: principalId
    principalType: 'ServicePrincipal'
    description: 'identity-autopilot engine: may assign only the roles of the rules file, only to service principals'
    condition: roleAssignmentCondition
    conditionVersion: '2.0'
  }
}
