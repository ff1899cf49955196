// The engine's access in one governed subscription: its custom role, and the role assigner custom role
// (roleAssignments/write and /delete) limited by an ABAC condition to the roles the rules hand out,
// to service principals.

targetScope = 'subscription'

@description('The app identity.')
param principalId string

@description('GUID of the engine custom role (engine-role.bicep).')
param engineRoleGuid string

@description('GUID of the role assigner custom role (engine-role.bicep with roleAssignments/write and /delete); empty when no profile grants a role.')
param roleAssignerRoleGuid string

@description('ABAC condition from scripts/infra/permissions.ts; empty when no profile grants a role.')
param roleAssignmentCondition string

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
  name: guid(subscription().id, principalId, roleAssignerRoleGuid)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleAssignerRoleGuid)
    principalId: principalId
    principalType: 'ServicePrincipal'
    description: 'identity-autopilot engine: may assign only the roles of the rules file, only to service principals'
    condition: roleAssignmentCondition
    conditionVersion: '2.0'
  }
}
