// identity-autopilot: the Function App, its keyless storage and telemetry, the Event Grid system topic
// for the subscription's ARM events, and the app identity's least-privilege access to the governed
// subscriptions (derived from the rules file by `npm run infra:params`).
//
// The event subscription itself is created after the code is deployed (azure.yaml postdeploy hook,
// event-subscription.bicep): an AzureFunction endpoint is validated when the subscription is created.

targetScope = 'subscription'

@minLength(1)
@maxLength(64)
@description('azd environment name; names and tags every resource.')
param environmentName string

// The regions that offer Flex Consumption, as the Azure-Samples functions-quickstart-typescript-azd template
// lists them (infra/main.bicep at commit 157d2cec5f52, read 2026-12-06), less its canary region eastus2euap.
// Azure's own answer, which grows over time: `az functionapp list-flexconsumption-locations -o table`.
// The azd metadata makes `azd up` offer only these when it asks for AZURE_LOCATION.
@minLength(1)
@description('Region for every resource (the system topic is always global). Must offer Flex Consumption.')
@allowed([
  'australiaeast'
  'australiasoutheast'
  'brazilsouth'
  'canadacentral'
  'centralindia'
  'centralus'
  'eastasia'
  'eastus'
  'eastus2'
  'francecentral'
  'germanywestcentral'
  'italynorth'
  'japaneast'
  'koreacentral'
  'northcentralus'
  'northeurope'
  'norwayeast'
  'southafricanorth'
  'southcentralus'
  'southeastasia'
  'southindia'
  'spaincentral'
  'swedencentral'
  'uaenorth'
  'uksouth'
  'ukwest'
  'westcentralus'
  'westeurope'
  'westus'
  'westus2'
  'westus3'
])
@metadata({
  azd: {
    type: 'location'
  }
})
param location string

@description('Optional: the deploying user; may read dead-lettered events. azd sets it from AZURE_PRINCIPAL_ID.')
param principalId string = ''

@allowed([
  'User'
  'Group'
  'ServicePrincipal'
])
param principalType string = 'User'

@description('Optional resource group name; default rg-<environmentName>.')
param resourceGroupName string = ''

@description('Name of an existing Microsoft.Resources.Subscriptions system topic to reuse (only one can exist per subscription). Empty creates one.')
param existingSystemTopicName string = ''

@description('Resource group of existingSystemTopicName.')
param existingSystemTopicResourceGroupName string = ''

@description('Storage queues the app uses.')
param storageQueueNames string[] = []

@description('Storage tables the app uses.')
param storageTableNames string[] = []

// Flex Consumption allows 1 (Learn: azure-functions/event-driven-scaling.md; older text said 40). The
// limit applies per scale group (HTTP, Event Grid and queue triggers scale apart), and 2 is what the
// pacing benchmark (bench/README.md) ran with: several instances share one ARM budget per principal.
@description('Most instances per scale group (1-1000). Default 2, the count the ARM pacing was benchmarked with.')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int = 2

@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 2048

@description('Client id of the Entra app registration (with app roles Remediation.Apply and Remediation.Read) that protects the HTTP API through App Service authentication. Empty: no authentication is configured, and every HTTP call is refused while role checks are on.')
param apiAuthClientId string = ''

@description('Require an app role on every HTTP call (default). false: the function key alone allows every operation.')
param httpRoleChecks bool = true

@description('E-mail address that alert notifications go to (an action group). Empty: alerts fire without notifying anyone.')
param alertEmail string = ''

@description('Hours between compliance sweeps (the app setting AUTOPILOT_SWEEP_SCHEDULE, hourly by default); alerts when none finished in twice that.')
@allowed([
  1
  2
  3
  12
  24
])
param sweepPeriodHours int = 1

@description('Plan and log every remediation without writing to Azure (the app setting AUTOPILOT_DRY_RUN).')
param dryRun bool = false

@allowed([
  'report'
  'enforce'
])
@description('What the sweep does with grants the rules no longer give (the app setting AUTOPILOT_REVOCATION_MODE): enforce lets each rule\'s lifecycle.revoke decide; report lists them and removes none, whatever the rules say.')
param revocationMode string = 'enforce'

@description('Private networking: the app joins a virtual network and reaches its storage only through private endpoints (blob, queue, table); the storage account\'s public endpoint is off. The app\'s own inbound endpoint (HTTP API, Event Grid webhook) and Application Insights stay public.')
param vnetEnabled bool = false

@description('Address space of the virtual network when vnetEnabled (a /23 or larger: two /24 subnets are cut from it).')
param vnetAddressPrefix string = '10.0.0.0/16'

// A parameter rather than an expression inside network.bicep so that `bicep snapshot` (test/infra/network.test.ts),
// which leaves environment() unevaluated, can be given this cloud's value; nobody needs to set it.
@description('DNS suffix of this cloud\'s storage endpoints; the private DNS zones are privatelink.<blob|queue|table>.<suffix>.')
param storageDnsSuffix string = environment().suffixes.storage

// Generated from the rules file; edit the rules and re-run `npm run infra:params`, never this file.
var appPermissions = loadJsonContent('app-permissions.parameters.json').parameters
var governedSubscriptionIds = appPermissions.governedSubscriptionIds.value
var roleAssignmentCondition = appPermissions.roleAssignmentCondition.value
var delegatesRoleAssignments = !empty(roleAssignmentCondition)

var tags = {
  'azd-env-name': environmentName
  application: 'identity-autopilot'
}
var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var createSystemTopic = empty(existingSystemTopicName)
var systemTopicName = createSystemTopic ? 'evgt-arm-${resourceToken}' : existingSystemTopicName
var deploymentContainerName = 'app-package-${take(resourceToken, 7)}'
var deadLetterContainerName = 'deadletter'
// The timer's NCRONTAB (seconds first) for sweepPeriodHours: on the hour, every that many hours.
var sweepSchedule = sweepPeriodHours == 1 ? '0 0 * * * *' : sweepPeriodHours == 24 ? '0 0 0 * * *' : '0 0 */${sweepPeriodHours} * * *'

resource rg 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: empty(resourceGroupName) ? 'rg-${environmentName}' : resourceGroupName
  location: location
  tags: tags
}

module identity 'app/identity.bicep' = {
  name: 'identity'
  scope: rg
  params: {
    name: 'id-func-${resourceToken}'
    location: location
    tags: tags
  }
}

module monitoring 'app/monitoring.bicep' = {
  name: 'monitoring'
  scope: rg
  params: {
    logAnalyticsName: 'log-${resourceToken}'
    applicationInsightsName: 'appi-${resourceToken}'
    location: location
    tags: tags
    publisherPrincipalId: identity.outputs.principalId
  }
}

module systemTopic 'app/system-topic.bicep' = {
  name: 'system-topic'
  scope: resourceGroup(createSystemTopic ? rg.name : existingSystemTopicResourceGroupName)
  params: {
    name: systemTopicName
    create: createSystemTopic
    tags: tags
  }
}

module storage 'app/storage.bicep' = {
  name: 'storage'
  scope: rg
  params: {
    name: 'st${resourceToken}'
    location: location
    tags: tags
    deploymentContainerName: deploymentContainerName
    deadLetterContainerName: deadLetterContainerName
    queueNames: storageQueueNames
    tableNames: storageTableNames
    appPrincipalId: identity.outputs.principalId
    deadLetterWriterPrincipalId: systemTopic.outputs.principalId
    readerPrincipalId: principalId
    readerPrincipalType: principalType
    privateNetworking: vnetEnabled
  }
}

module network 'app/network.bicep' = if (vnetEnabled) {
  name: 'network'
  scope: rg
  params: {
    name: 'vnet-${resourceToken}'
    location: location
    tags: tags
    addressPrefix: vnetAddressPrefix
    storageDnsSuffix: storageDnsSuffix
    storageAccountId: storage.outputs.id
  }
}

module functionApp 'app/function-app.bicep' = {
  name: 'function-app'
  scope: rg
  params: {
    name: 'func-${resourceToken}'
    planName: 'plan-${resourceToken}'
    location: location
    tags: tags
    identityId: identity.outputs.id
    identityClientId: identity.outputs.clientId
    storageBlobEndpoint: storage.outputs.blobEndpoint
    storageQueueEndpoint: storage.outputs.queueEndpoint
    storageTableEndpoint: storage.outputs.tableEndpoint
    deploymentContainerName: storage.outputs.deploymentContainerName
    applicationInsightsConnectionString: monitoring.outputs.connectionString
    maximumInstanceCount: maximumInstanceCount
    instanceMemoryMB: instanceMemoryMB
    authClientId: apiAuthClientId
    httpRoleChecks: httpRoleChecks
    sweepSchedule: sweepSchedule
    dryRun: dryRun
    revocationMode: revocationMode
    virtualNetworkSubnetId: vnetEnabled ? network!.outputs.appSubnetId : ''
  }
}

// Alerts and the operations workbook (infra/monitoring/): Application Insights and the system topic.
module alerts 'monitoring/alerts.bicep' = {
  name: 'alerts'
  scope: rg
  params: {
    namePrefix: 'alert-${resourceToken}'
    location: location
    tags: tags
    applicationInsightsId: monitoring.outputs.applicationInsightsId
    eventGridSystemTopicIds: [
      resourceId(subscription().subscriptionId, systemTopic.outputs.resourceGroupName, 'Microsoft.EventGrid/systemTopics', systemTopic.outputs.name)
    ]
    alertEmail: alertEmail
    sweepPeriodHours: sweepPeriodHours
  }
}

module workbook 'monitoring/workbook.bicep' = {
  name: 'workbook'
  scope: rg
  params: {
    location: location
    tags: tags
    applicationInsightsId: monitoring.outputs.applicationInsightsId
  }
}

// A custom role definition is a tenant-wide object; it is created in the first governed subscription
// (its scope must be one of its assignable scopes) and assigned in each of them.
module engineRole 'app/engine-role.bicep' = {
  name: 'engine-role-${resourceToken}'
  scope: subscription(governedSubscriptionIds[0])
  params: {
    roleName: 'identity-autopilot engine (${environmentName}, ${resourceToken})'
    roleGuid: guid(tenant().tenantId, 'identity-autopilot-engine', subscription().id, environmentName)
    actions: appPermissions.engineRoleActions.value
    governedSubscriptionIds: governedSubscriptionIds
  }
}

// The role assigner: roleAssignments/write and /delete, assigned with the ABAC condition (its delete
// clause mirrors the write clause: only the rules' roles, only service principals); not created when
// no profile grants a role.
module roleAssignerRole 'app/engine-role.bicep' = if (delegatesRoleAssignments) {
  name: 'role-assigner-role-${resourceToken}'
  scope: subscription(governedSubscriptionIds[0])
  params: {
    roleName: 'identity-autopilot role assigner (${environmentName}, ${resourceToken})'
    roleGuid: guid(tenant().tenantId, 'identity-autopilot-role-assigner', subscription().id, environmentName)
    roleDescription: 'identity-autopilot: creates and removes role assignments, only under the ABAC condition of its assignment. Generated from the rules file.'
    actions: appPermissions.roleAssignerActions.value
    governedSubscriptionIds: governedSubscriptionIds
  }
}

module enginePermissions 'app/engine-permissions.bicep' = [
  for subscriptionId in governedSubscriptionIds: {
    name: 'engine-permissions-${resourceToken}-${uniqueString(subscriptionId)}'
    scope: subscription(subscriptionId)
    params: {
      principalId: identity.outputs.principalId
      engineRoleGuid: engineRole.outputs.roleGuid
      roleAssignerRoleGuid: delegatesRoleAssignments ? roleAssignerRole!.outputs.roleGuid : ''
      roleAssignmentCondition: roleAssignmentCondition
    }
  }
]

// Roles held only where the rules' bounds allow (scripts/infra/permissions.ts, scopedGrants): federated
// credentials of AKS workload identities, deleting the identities the product created, Cosmos DB SQL
// role assignments and Dapr component writes. Azure RBAC conditions cannot narrow these actions, so
// each is a custom role of its own, assigned only at the resource groups (or Cosmos DB accounts) the
// rules can reach; a whole subscription only where the rules' wildcards leave nothing narrower.
var scopedRoles = appPermissions.scopedRoles.value
module scopedRoleDefinitions 'app/engine-role.bicep' = [
  for role in scopedRoles: {
    name: 'scoped-role-${role.key}-${resourceToken}'
    scope: subscription(governedSubscriptionIds[0])
    params: {
      roleName: 'identity-autopilot ${role.roleName} (${environmentName}, ${resourceToken})'
      // 'federated-credentials' keeps the GUID of the earlier federated credential writer role.
      roleGuid: guid(tenant().tenantId, 'identity-autopilot-${role.key}', subscription().id, environmentName)
      roleDescription: role.description
      actions: role.actions
      governedSubscriptionIds: governedSubscriptionIds
    }
  }
]

// One entry per (role, scope): index of the role in scopedRoles, and the scope id.
// any(): the scopes come from a loaded JSON file, whose literal types would make Bicep reject a segment index
// that only some rules files have (a subscription-only file has no resource-group segment).
var scopedAssignments = flatten(map(range(0, length(scopedRoles)), i => map(scopedRoles[i].scopes, s => { role: i, scope: any(s) })))
var cosmosAccountSegment = '/providers/microsoft.documentdb/databaseaccounts/'

module scopedGroupPermissions 'app/scoped-permissions.bicep' = [
  for a in filter(scopedAssignments, a => contains(toLower(a.scope), '/resourcegroups/') && !contains(toLower(a.scope), '/providers/')): {
    name: 'scoped-${a.role}-${resourceToken}-${uniqueString(a.scope)}'
    scope: resourceGroup(split(a.scope, '/')[2], split(a.scope, '/')[4])
    params: {
      principalId: identity.outputs.principalId
      roleGuid: scopedRoleDefinitions[a.role].outputs.roleGuid
      assignmentDescription: scopedRoles[a.role].description
    }
  }
]

module scopedCosmosAccountPermissions 'app/scoped-permissions-cosmos-account.bicep' = [
  for a in filter(scopedAssignments, a => contains(toLower(a.scope), cosmosAccountSegment)): {
    name: 'scoped-${a.role}-${resourceToken}-${uniqueString(a.scope)}'
    scope: resourceGroup(split(a.scope, '/')[2], split(a.scope, '/')[4])
    params: {
      principalId: identity.outputs.principalId
      accountName: last(split(a.scope, '/'))
      roleGuid: scopedRoleDefinitions[a.role].outputs.roleGuid
      assignmentDescription: scopedRoles[a.role].description
    }
  }
]

module scopedSubscriptionPermissions 'app/scoped-permissions-subscription.bicep' = [
  for a in filter(scopedAssignments, a => !contains(toLower(a.scope), '/resourcegroups/')): {
    name: 'scoped-${a.role}-${resourceToken}-${uniqueString(a.scope)}'
    scope: subscription(split(a.scope, '/')[2])
    params: {
      principalId: identity.outputs.principalId
      roleGuid: scopedRoleDefinitions[a.role].outputs.roleGuid
      assignmentDescription: scopedRoles[a.role].description
    }
  }
]

// azd stores these in the environment; the postdeploy hook and `azd down` instructions use them.
output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = rg.name
output AZURE_FUNCTION_APP_NAME string = functionApp.outputs.name
output AZURE_FUNCTION_APP_ID string = functionApp.outputs.id
output AZURE_FUNCTION_APP_CLIENT_ID string = identity.outputs.clientId
output AZURE_FUNCTION_APP_PRINCIPAL_ID string = identity.outputs.principalId
output APPLICATIONINSIGHTS_NAME string = monitoring.outputs.applicationInsightsName
output EVENTGRID_SYSTEM_TOPIC_NAME string = systemTopic.outputs.name
output EVENTGRID_SYSTEM_TOPIC_RESOURCE_GROUP string = systemTopic.outputs.resourceGroupName
output EVENTGRID_SYSTEM_TOPIC_CREATED bool = createSystemTopic
output DEADLETTER_STORAGE_ACCOUNT_ID string = storage.outputs.id
output DEADLETTER_CONTAINER_NAME string = storage.outputs.deadLetterContainerName
output AZURE_VNET_ID string = vnetEnabled ? network!.outputs.vnetId : ''
output AUTOPILOT_GOVERNED_RESOURCE_TYPES string[] = appPermissions.governedResourceTypes.value
output AUTOPILOT_GOVERNED_SUBSCRIPTION_IDS string[] = governedSubscriptionIds
output AUTOPILOT_ENGINE_ROLE_ID string = engineRole.outputs.roleGuid
// The predown hook (scripts/infra/predown.ts) deletes both custom roles; empty when no profile grants a role.
output AUTOPILOT_ROLE_ASSIGNER_ROLE_ID string = delegatesRoleAssignments ? roleAssignerRole!.outputs.roleGuid : ''
